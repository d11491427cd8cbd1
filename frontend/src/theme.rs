//! Light and dark themes: remembered in `localStorage`, defaulting to the system's `prefers-color-scheme`,
//! applied as `data-theme` on `<html>` (which `assets/console.css` keys its colours on). `index.html` applies
//! the remembered theme before the WASM loads, so a page never flashes the wrong colours.

use leptos::prelude::*;

/// The `localStorage` key (also read by `assets/js/theme.js`, which `index.html` loads).
const STORAGE_KEY: &str = "berth-theme";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Theme {
    Light,
    Dark,
}

impl Theme {
    pub fn parse(text: &str) -> Option<Theme> {
        match text {
            "light" => Some(Theme::Light),
            "dark" => Some(Theme::Dark),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Theme::Light => "light",
            Theme::Dark => "dark",
        }
    }

    pub fn other(self) -> Theme {
        match self {
            Theme::Light => Theme::Dark,
            Theme::Dark => Theme::Light,
        }
    }

    /// The remembered choice, else the system's preference.
    pub fn choose(stored: Option<&str>, system_prefers_dark: bool) -> Theme {
        stored
            .and_then(Theme::parse)
            .unwrap_or(if system_prefers_dark {
                Theme::Dark
            } else {
                Theme::Light
            })
    }
}

/// The theme for this browser.
pub fn initial() -> Theme {
    let window = web_sys::window();
    let stored = window
        .as_ref()
        .and_then(|w| w.local_storage().ok().flatten())
        .and_then(|s| s.get_item(STORAGE_KEY).ok().flatten());
    let prefers_dark = window
        .as_ref()
        .and_then(|w| w.match_media("(prefers-color-scheme: dark)").ok().flatten())
        .is_some_and(|m| m.matches());
    Theme::choose(stored.as_deref(), prefers_dark)
}

/// Shows `theme` and remembers it.
pub fn apply(theme: Theme) {
    let Some(window) = web_sys::window() else {
        return;
    };
    if let Some(root) = window.document().and_then(|d| d.document_element()) {
        let _ = root.set_attribute("data-theme", theme.as_str());
    }
    if let Ok(Some(storage)) = window.local_storage() {
        let _ = storage.set_item(STORAGE_KEY, theme.as_str());
    }
}

/// The theme as app-wide state: provides a signal and keeps the page in step with it.
pub fn provide() -> RwSignal<Theme> {
    let theme = RwSignal::new(initial());
    Effect::new(move |_| apply(theme.get()));
    provide_context(theme);
    theme
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_remembered_choice_beats_the_system() {
        assert_eq!(Theme::choose(Some("light"), true), Theme::Light);
        assert_eq!(Theme::choose(Some("dark"), false), Theme::Dark);
    }

    #[test]
    fn the_system_decides_otherwise() {
        assert_eq!(Theme::choose(None, true), Theme::Dark);
        assert_eq!(Theme::choose(Some("purple"), false), Theme::Light);
        assert_eq!(Theme::Dark.other(), Theme::Light);
        assert_eq!(Theme::parse(Theme::Light.as_str()), Some(Theme::Light));
    }
}
