//! A chart of pulls per day, as inline SVG: one bar per day, a "nice" axis maximum, a few date labels.
//!
//! The geometry (scaling, axis, labels) is plain functions over [`DailyPulls`], tested on the host; the
//! component is markup over them. The SVG is one image for assistive technology (`role="img"` with a label
//! giving the total); each day carries a `<title>`, so hovering a bar shows its date and count.

use berth_api::projects::DailyPulls;
use leptos::prelude::*;

/// Where things go in the chart's coordinate system (the SVG's `viewBox`; the browser scales it).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Layout {
    pub width: f64,
    pub height: f64,
    /// Room for the count labels on the left.
    pub left: f64,
    pub right: f64,
    pub top: f64,
    /// Room for the date labels below.
    pub bottom: f64,
}

impl Layout {
    /// The chart's layout on the page.
    pub const DEFAULT: Layout = Layout {
        width: 600.0,
        height: 160.0,
        left: 36.0,
        // Half a date label, so the newest day's label is not cut off.
        right: 22.0,
        top: 10.0,
        bottom: 22.0,
    };

    fn plot_width(&self) -> f64 {
        (self.width - self.left - self.right).max(0.0)
    }

    fn plot_height(&self) -> f64 {
        (self.height - self.top - self.bottom).max(0.0)
    }

    /// The y coordinate of the base line (count 0).
    pub fn baseline(&self) -> f64 {
        self.height - self.bottom
    }

    /// The y coordinate of `count` on an axis going up to `axis_max`.
    pub fn y_of(&self, count: i64, axis_max: i64) -> f64 {
        let fraction = if axis_max > 0 {
            (count.max(0) as f64 / axis_max as f64).min(1.0)
        } else {
            0.0
        };
        self.baseline() - fraction * self.plot_height()
    }

    /// The width of one day's slot when `days` days are shown.
    fn slot_width(&self, days: usize) -> f64 {
        self.plot_width() / days.max(1) as f64
    }
}

/// One day's bar, in chart coordinates.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub x: f64,
    pub y: f64,
    pub width: f64,
    pub height: f64,
    /// The day's whole column (the hover target, also for days without pulls).
    pub slot_x: f64,
    pub slot_width: f64,
    /// What a hover shows: `"2026-11-22: 3 pulls"`.
    pub title: String,
}

/// A bar with any pulls is at least this tall, so a single pull next to many still shows.
const MIN_BAR_HEIGHT: f64 = 1.0;
/// The share of its slot a bar fills.
const BAR_FILL: f64 = 0.7;

/// The smallest "nice" number (1, 2 or 5 times a power of ten) at or above `max`; at least 1, so an empty
/// chart still has an axis.
pub fn axis_max(max: i64) -> i64 {
    if max <= 1 {
        return 1;
    }
    let mut power: i64 = 1;
    loop {
        for step in [1, 2, 5] {
            let candidate = step * power;
            if candidate >= max {
                return candidate;
            }
        }
        match power.checked_mul(10) {
            Some(next) => power = next,
            None => return max,
        }
    }
}

/// The counts labelled on the axis: 0, the middle when it is a whole number, and the maximum.
pub fn ticks(axis_max: i64) -> Vec<i64> {
    if axis_max <= 0 {
        return vec![0];
    }
    if axis_max % 2 == 0 {
        vec![0, axis_max / 2, axis_max]
    } else {
        vec![0, axis_max]
    }
}

/// Pulls over all `days`.
pub fn total(days: &[DailyPulls]) -> i64 {
    days.iter().map(|d| d.count.max(0)).sum()
}

/// `"1 pull"`, `"3 pulls"`.
pub fn pulls(count: i64) -> String {
    if count == 1 {
        "1 pull".to_owned()
    } else {
        format!("{count} pulls")
    }
}

/// What the chart says to a screen reader: `"Pulls per day over the last 30 days: 12 in total"`.
pub fn aria_label(days: &[DailyPulls]) -> String {
    let span = match days.len() {
        1 => "the last day".to_owned(),
        n => format!("the last {n} days"),
    };
    format!("Pulls per day over {span}: {} in total", total(days))
}

/// What hovering a day shows: `"2026-11-22: 3 pulls"`.
pub fn bar_title(day: &DailyPulls) -> String {
    format!("{}: {}", day.date, pulls(day.count))
}

/// The bars of `days` (oldest first) on an axis going up to `axis_max`.
pub fn bars(days: &[DailyPulls], axis_max: i64, layout: &Layout) -> Vec<Bar> {
    let slot_width = layout.slot_width(days.len());
    let width = slot_width * BAR_FILL;
    days.iter()
        .enumerate()
        .map(|(i, day)| {
            let slot_x = layout.left + slot_width * i as f64;
            let mut y = layout.y_of(day.count, axis_max);
            if day.count > 0 {
                y = y.min(layout.baseline() - MIN_BAR_HEIGHT);
            }
            Bar {
                x: slot_x + (slot_width - width) / 2.0,
                y,
                width,
                height: layout.baseline() - y,
                slot_x,
                slot_width,
                title: bar_title(day),
            }
        })
        .collect()
}

/// `"2026-11-22"` → `"Nov 22"`; any other text is kept as is.
pub fn short_date(date: &str) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let mut parts = date.splitn(3, '-');
    let (Some(_year), Some(month), Some(day)) = (parts.next(), parts.next(), parts.next()) else {
        return date.to_owned();
    };
    match (month.parse::<usize>(), day.parse::<u32>()) {
        (Ok(m @ 1..=12), Ok(d @ 1..=31)) => format!("{} {d}", MONTHS[m - 1]),
        _ => date.to_owned(),
    }
}

/// The date labels under the chart as `(x of the label's centre, text)`: the newest day and every
/// `every`-th day before it, oldest first.
pub fn date_labels(days: &[DailyPulls], every: usize, layout: &Layout) -> Vec<(f64, String)> {
    let slot_width = layout.slot_width(days.len());
    let every = every.max(1);
    let mut labels: Vec<(f64, String)> = days
        .iter()
        .enumerate()
        .rev()
        .step_by(every)
        .map(|(i, day)| {
            (
                layout.left + slot_width * (i as f64 + 0.5),
                short_date(&day.date),
            )
        })
        .collect();
    labels.reverse();
    labels
}

/// A coordinate as the SVG gets it (one decimal).
fn coordinate(value: f64) -> String {
    format!("{value:.1}")
}

/// Pulls per day as bars. `days` is oldest first, as the summary API sends it.
#[component]
pub fn PullsChart(days: Vec<DailyPulls>) -> impl IntoView {
    let layout = Layout::DEFAULT;
    let label = aria_label(&days);
    let top = axis_max(days.iter().map(|d| d.count).max().unwrap_or(0));
    let view_box = format!(
        "0 0 {} {}",
        coordinate(layout.width),
        coordinate(layout.height)
    );
    let grid = ticks(top)
        .into_iter()
        .map(|tick| {
            let y = coordinate(layout.y_of(tick, top));
            view! {
                <g class="pulls-tick">
                    <line x1=coordinate(layout.left) x2=coordinate(layout.width - layout.right)
                        y1=y.clone() y2=y.clone()/>
                    <text x=coordinate(layout.left - 6.0) y=y text-anchor="end" dominant-baseline="middle">
                        {tick.to_string()}
                    </text>
                </g>
            }
        })
        .collect_view();
    let columns = bars(&days, top, &layout)
        .into_iter()
        .map(|bar| {
            view! {
                <g class="pulls-day">
                    <title>{bar.title}</title>
                    <rect class="pulls-slot" x=coordinate(bar.slot_x) y=coordinate(layout.top)
                        width=coordinate(bar.slot_width) height=coordinate(layout.baseline() - layout.top)/>
                    <rect class="pulls-bar" x=coordinate(bar.x) y=coordinate(bar.y)
                        width=coordinate(bar.width) height=coordinate(bar.height)/>
                </g>
            }
        })
        .collect_view();
    let dates = date_labels(&days, 7, &layout)
        .into_iter()
        .map(|(x, text)| {
            view! {
                <text class="pulls-date" x=coordinate(x) y=coordinate(layout.height - 6.0) text-anchor="middle">
                    {text}
                </text>
            }
        })
        .collect_view();
    view! {
        <svg class="pulls-chart" role="img" aria-label=label viewBox=view_box xmlns="http://www.w3.org/2000/svg">
            {grid}
            {columns}
            {dates}
        </svg>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(date: &str, count: i64) -> DailyPulls {
        DailyPulls {
            date: date.to_owned(),
            count,
        }
    }

    fn month(counts: &[i64]) -> Vec<DailyPulls> {
        counts
            .iter()
            .enumerate()
            .map(|(i, c)| day(&format!("2026-11-{:02}", i + 1), *c))
            .collect()
    }

    #[test]
    fn axis_maximum_rounds_up_to_one_two_or_five() {
        assert_eq!(axis_max(0), 1);
        assert_eq!(axis_max(1), 1);
        assert_eq!(axis_max(2), 2);
        assert_eq!(axis_max(3), 5);
        assert_eq!(axis_max(7), 10);
        assert_eq!(axis_max(10), 10);
        assert_eq!(axis_max(12), 20);
        assert_eq!(axis_max(21), 50);
        assert_eq!(axis_max(51), 100);
        assert_eq!(axis_max(150), 200);
        assert_eq!(axis_max(4_999_999), 5_000_000);
        // Beyond the largest nice number that fits, the maximum itself.
        assert_eq!(axis_max(i64::MAX), i64::MAX);
    }

    #[test]
    fn ticks_include_the_middle_only_when_whole() {
        assert_eq!(ticks(1), vec![0, 1]);
        assert_eq!(ticks(5), vec![0, 5]);
        assert_eq!(ticks(10), vec![0, 5, 10]);
        assert_eq!(ticks(200), vec![0, 100, 200]);
    }

    #[test]
    fn bars_scale_to_the_axis_and_share_the_width() {
        let layout = Layout {
            width: 110.0,
            height: 120.0,
            left: 10.0,
            right: 0.0,
            top: 10.0,
            bottom: 10.0,
        };
        let days = [
            day("2026-11-01", 0),
            day("2026-11-02", 5),
            day("2026-11-03", 10),
            day("2026-11-04", 2),
        ];
        let bars = bars(&days, 10, &layout);
        assert_eq!(bars.len(), 4);
        // Four slots of 25 over a plot 100 wide; bars fill 70 % of theirs, centred.
        assert_eq!(bars[1].slot_x, 35.0);
        assert_eq!(bars[1].slot_width, 25.0);
        assert!((bars[1].width - 17.5).abs() < 1e-9);
        assert!((bars[1].x - 38.75).abs() < 1e-9);
        // The plot is 100 high with its base line at y = 110.
        assert_eq!(bars[0].height, 0.0);
        assert_eq!(bars[0].y, 110.0);
        assert_eq!(bars[1].height, 50.0);
        assert_eq!(bars[2].height, 100.0);
        assert_eq!(bars[2].y, 10.0);
        assert_eq!(bars[3].height, 20.0);
        assert_eq!(bars[3].title, "2026-11-04: 2 pulls");
    }

    #[test]
    fn a_single_pull_stays_visible_beside_many() {
        let days = [day("2026-11-01", 1), day("2026-11-02", 10_000)];
        let layout = Layout::DEFAULT;
        let bars = bars(&days, axis_max(10_000), &layout);
        assert!(bars[0].height >= MIN_BAR_HEIGHT);
        assert_eq!(bars[0].y + bars[0].height, layout.baseline());
    }

    #[test]
    fn labels_sum_the_days_and_count_them() {
        let days = month(&[0, 3, 0, 9]);
        assert_eq!(total(&days), 12);
        assert_eq!(
            aria_label(&days),
            "Pulls per day over the last 4 days: 12 in total"
        );
        let thirty = month(&[0; 30]);
        assert_eq!(
            aria_label(&thirty),
            "Pulls per day over the last 30 days: 0 in total"
        );
        assert_eq!(bar_title(&day("2026-11-22", 1)), "2026-11-22: 1 pull");
        assert_eq!(bar_title(&day("2026-11-22", 0)), "2026-11-22: 0 pulls");
    }

    #[test]
    fn dates_read_as_month_and_day() {
        assert_eq!(short_date("2026-11-02"), "Nov 2");
        assert_eq!(short_date("2026-01-31"), "Jan 31");
        assert_eq!(short_date("2026-13-01"), "2026-13-01");
        assert_eq!(short_date("yesterday"), "yesterday");
    }

    #[test]
    fn date_labels_count_back_from_the_newest_day() {
        let layout = Layout {
            width: 300.0,
            height: 100.0,
            left: 0.0,
            right: 0.0,
            top: 0.0,
            bottom: 0.0,
        };
        let days = month(&[0; 30]);
        let labels = date_labels(&days, 7, &layout);
        let texts: Vec<&str> = labels.iter().map(|(_, t)| t.as_str()).collect();
        assert_eq!(texts, ["Nov 2", "Nov 9", "Nov 16", "Nov 23", "Nov 30"]);
        // Centred under their bars: slot 10 wide, the newest day is slot 29.
        assert_eq!(labels[4].0, 295.0);
        assert_eq!(labels[0].0, 15.0);
        assert!(date_labels(&[], 7, &layout).is_empty());
    }
}
