//! A latency histogram of plain atomics: `observe` is three relaxed `fetch_add`s, no lock (the client
//! crate's own histogram takes a mutex per observation, which the request path must not pay for).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use prometheus_client::encoding::{EncodeMetric, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::{MetricType, TypedMetric};

/// Upper bounds of the buckets, in seconds: from a cached manifest (about a millisecond) to a large
/// blob upload or a long job.
pub const BOUNDS_SECONDS: [f64; 15] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0, 60.0, 300.0, 3600.0,
];

/// The same bounds in nanoseconds, compared against without floating point.
const BOUNDS_NANOS: [u64; 15] = [
    1_000_000,
    2_500_000,
    5_000_000,
    10_000_000,
    25_000_000,
    50_000_000,
    100_000_000,
    250_000_000,
    500_000_000,
    1_000_000_000,
    2_500_000_000,
    10_000_000_000,
    60_000_000_000,
    300_000_000_000,
    3_600_000_000_000,
];

/// A histogram of durations; clones share the counts.
#[derive(Debug, Clone, Default)]
pub struct Histogram(Arc<Inner>);

#[derive(Debug, Default)]
struct Inner {
    /// Observations per bucket (not cumulative); the last one is `+Inf`.
    buckets: [AtomicU64; BOUNDS_NANOS.len() + 1],
    count: AtomicU64,
    sum_nanos: AtomicU64,
}

impl Histogram {
    /// Records one duration.
    pub fn observe(&self, elapsed: Duration) {
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        let bucket = BOUNDS_NANOS.partition_point(|bound| *bound < nanos);
        if let Some(slot) = self.0.buckets.get(bucket) {
            slot.fetch_add(1, Ordering::Relaxed);
        }
        self.0.count.fetch_add(1, Ordering::Relaxed);
        self.0.sum_nanos.fetch_add(nanos, Ordering::Relaxed);
    }

    /// Observations so far.
    pub fn count(&self) -> u64 {
        self.0.count.load(Ordering::Relaxed)
    }
}

impl TypedMetric for Histogram {
    const TYPE: MetricType = MetricType::Histogram;
}

impl EncodeMetric for Histogram {
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        let mut buckets = [(0.0, 0u64); BOUNDS_NANOS.len() + 1];
        for (i, slot) in buckets.iter_mut().enumerate() {
            let bound = BOUNDS_SECONDS.get(i).copied().unwrap_or(f64::INFINITY);
            let n = self
                .0
                .buckets
                .get(i)
                .map_or(0, |b| b.load(Ordering::Relaxed));
            *slot = (bound, n);
        }
        // The count is the sum of the buckets read, so a scrape racing an observation stays consistent.
        let count = buckets.iter().map(|(_, n)| n).sum();
        #[expect(
            clippy::cast_precision_loss,
            reason = "seconds as f64: nanosecond precision is kept up to 104 days of summed latency"
        )]
        let sum = self.0.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9;
        encoder.encode_histogram::<NoLabelSet>(sum, count, &buckets, None)
    }

    fn metric_type(&self) -> MetricType {
        Self::TYPE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_agree() {
        for (s, n) in BOUNDS_SECONDS.iter().zip(BOUNDS_NANOS) {
            assert!((s * 1e9 - n as f64).abs() < 1.0, "{s} vs {n}");
        }
    }

    #[test]
    fn observations_land_in_their_bucket() {
        let h = Histogram::default();
        h.observe(Duration::from_micros(500));
        h.observe(Duration::from_millis(1));
        h.observe(Duration::from_millis(3));
        h.observe(Duration::from_secs(7200));
        let counts: Vec<u64> =
            h.0.buckets
                .iter()
                .map(|b| b.load(Ordering::Relaxed))
                .collect();
        assert_eq!(
            counts.first(),
            Some(&2),
            "0.5 ms and exactly 1 ms are <= 0.001"
        );
        assert_eq!(counts.get(2), Some(&1), "3 ms is <= 0.005");
        assert_eq!(counts.last(), Some(&1), "two hours is +Inf");
        assert_eq!(h.count(), 4);
    }
}
