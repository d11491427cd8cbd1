//! How numbers and times read on the page: sizes in binary units (as Harbor shows them), times in the
//! browser's locale.

/// Binary units, as Harbor's portal uses them.
const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

/// `1536` → `"1.50 KiB"`; whole bytes below 1 KiB; negative sizes (Harbor's "unlimited") → `"∞"`.
pub fn bytes(size: i64) -> String {
    if size < 0 {
        return "∞".to_owned();
    }
    let mut value = size as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{size} B")
    } else {
        format!("{value:.2} {}", UNITS[unit])
    }
}

/// An RFC 3339 time from the API in the browser's locale; the raw text if the browser cannot read it.
pub fn time(rfc3339: &str) -> String {
    #[cfg(target_arch = "wasm32")]
    {
        let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_str(rfc3339));
        if !date.get_time().is_nan() {
            return String::from(
                date.to_locale_string("default", &wasm_bindgen::JsValue::UNDEFINED),
            );
        }
    }
    short_time(rfc3339)
}

/// `text` with its first letter upper-cased (`"project exists"` → `"Project exists"`), as `char::to_uppercase`
/// does it. In the browser a non-ASCII first letter goes to JavaScript's `toUpperCase` (the same Unicode case
/// mapping), so the .wasm does without core's case tables (32 KB with their code).
pub fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    let Some(first) = chars.next() else {
        return String::new();
    };
    let mut out = String::with_capacity(text.len());
    if first.is_ascii() {
        out.push(first.to_ascii_uppercase());
    } else {
        #[cfg(target_arch = "wasm32")]
        out.push_str(&String::from(js_sys::JsString::from(first).to_upper_case()));
        #[cfg(not(target_arch = "wasm32"))]
        out.extend(first.to_uppercase());
    }
    out.push_str(chars.as_str());
    out
}

/// `2026-11-22T18:15:38.123Z` → `2026-11-22 18:15`: the fallback when the browser cannot help.
pub fn short_time(rfc3339: &str) -> String {
    let text = rfc3339.replacen('T', " ", 1);
    text.chars().take(16).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_use_binary_units() {
        assert_eq!(bytes(0), "0 B");
        assert_eq!(bytes(1023), "1023 B");
        assert_eq!(bytes(1536), "1.50 KiB");
        assert_eq!(bytes(10 * 1024 * 1024), "10.00 MiB");
        assert_eq!(bytes(5 * 1024 * 1024 * 1024 * 1024), "5.00 TiB");
        assert_eq!(bytes(-1), "∞");
    }

    #[test]
    fn capitalise_upper_cases_the_first_letter_only() {
        assert_eq!(capitalise("project team exists"), "Project team exists");
        assert_eq!(capitalise("Already"), "Already");
        assert_eq!(capitalise("élan vital"), "Élan vital");
        assert_eq!(capitalise("ßa"), "SSa");
        assert_eq!(capitalise("1 error"), "1 error");
        assert_eq!(capitalise(""), "");
    }

    #[test]
    fn times_fall_back_to_minutes() {
        assert_eq!(short_time("2026-11-22T18:15:38Z"), "2026-11-22 18:15");
        assert_eq!(short_time("soon"), "soon");
    }
}
