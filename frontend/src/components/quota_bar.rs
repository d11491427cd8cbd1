//! Quota usage as a bar: used / limit, coloured by how full it is (Harbor's thresholds).

use berth_api::projects::ProjectSummaryQuota;
use leptos::prelude::*;

use crate::format;

/// How full a quota is, which picks the bar's colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Fine,
    Warning,
    Danger,
}

impl Level {
    /// Harbor warns from 70 % and alarms from 90 %.
    pub fn of(percent: f64) -> Level {
        if percent >= 90.0 {
            Level::Danger
        } else if percent >= 70.0 {
            Level::Warning
        } else {
            Level::Fine
        }
    }

    pub fn class(self) -> &'static str {
        match self {
            Level::Fine => "quota-fine",
            Level::Warning => "quota-warning",
            Level::Danger => "quota-danger",
        }
    }
}

/// Percentage of `hard` used, capped at 100; `None` when the quota is unlimited (`hard` ≤ 0 means -1 in
/// Harbor's terms, or a zero limit that nothing can fill).
pub fn percent(used: i64, hard: i64) -> Option<f64> {
    if hard < 0 {
        return None;
    }
    if hard == 0 {
        return Some(if used > 0 { 100.0 } else { 0.0 });
    }
    Some((used.max(0) as f64 / hard as f64 * 100.0).min(100.0))
}

/// `"1.50 GiB of 10.00 GiB"`, or `"1.50 GiB of unlimited"`.
pub fn label(used: i64, hard: i64) -> String {
    if hard < 0 {
        format!("{} of unlimited", format::bytes(used))
    } else {
        format!("{} of {}", format::bytes(used), format::bytes(hard))
    }
}

/// A project's storage quota as a bar, or `—` when the answer has none (the caller may not read it).
pub fn quota_view(quota: Option<ProjectSummaryQuota>) -> AnyView {
    match quota {
        Some(quota) => {
            view! { <QuotaBar used=quota.used.storage hard=quota.hard.storage/> }.into_any()
        }
        None => view! { <span class="muted">"—"</span> }.into_any(),
    }
}

/// A bar for `used` of `hard` bytes.
#[component]
pub fn QuotaBar(used: i64, hard: i64) -> impl IntoView {
    let text = label(used, hard);
    let (width, class) = match percent(used, hard) {
        Some(p) => (format!("{p:.1}%"), Level::of(p).class()),
        None => ("0%".to_owned(), Level::Fine.class()),
    };
    let value = percent(used, hard).map(|p| format!("{p:.0}"));
    view! {
        <div class="quota">
            <div class="quota-track" role="meter" aria-label="Storage used" aria-valuemin="0" aria-valuemax="100"
                aria-valuenow=value aria-valuetext=text.clone()>
                <div class=format!("quota-fill {class}") style:width=width></div>
            </div>
            <span class="quota-text">{text}</span>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_are_capped_and_unlimited_has_none() {
        assert_eq!(percent(0, 100), Some(0.0));
        assert_eq!(percent(25, 100), Some(25.0));
        assert_eq!(percent(300, 100), Some(100.0));
        assert_eq!(percent(5, -1), None);
        assert_eq!(percent(0, 0), Some(0.0));
        assert_eq!(percent(1, 0), Some(100.0));
    }

    #[test]
    fn levels_follow_harbors_thresholds() {
        assert_eq!(Level::of(69.9), Level::Fine);
        assert_eq!(Level::of(70.0), Level::Warning);
        assert_eq!(Level::of(95.0), Level::Danger);
    }

    #[test]
    fn labels_name_both_amounts() {
        assert_eq!(label(1024, 1024 * 1024), "1.00 KiB of 1.00 MiB");
        assert_eq!(label(0, -1), "0 B of unlimited");
    }
}
