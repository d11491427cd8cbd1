//! The state of a form over `GET`/`PUT /configurations`, shared by Configuration → Authentication and
//! Configuration → System: the settings as the server returned them, the values as typed, what changed, and
//! Save (only the changed keys) and Cancel (back to what is stored).

use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::{Map, Value};

use super::auth_config::{FormValues, Settings, form_values};
use crate::api;
use crate::components::fetch::Fetch;
use crate::components::toast::use_toasts;

/// The body of `PUT /configurations` for what was typed, or why it cannot be sent.
pub type Changes = Result<Map<String, Value>, String>;

/// One configuration form.
#[derive(Clone, Copy)]
pub struct ConfigForm {
    loaded: Fetch<Settings>,
    /// What the server returned (`None` until it answered).
    pub settings: RwSignal<Option<Settings>>,
    /// The values as typed, by key.
    pub values: RwSignal<FormValues>,
    pub error: RwSignal<Option<String>>,
    pub busy: RwSignal<bool>,
    changes: Memo<Option<Changes>>,
}

impl ConfigForm {
    /// Loads the settings; `changes_of` says which of the typed values to send.
    pub fn new(changes_of: fn(&Settings, &FormValues) -> Changes) -> Self {
        let loaded = Fetch::<Settings>::at("/configurations");
        let settings = RwSignal::new(None::<Settings>);
        let values = RwSignal::new(FormValues::new());
        let error = RwSignal::new(None::<String>);
        // Each answer (the first, and after a save) resets the form.
        Effect::new(move |_| match loaded.get() {
            Some(Ok(s)) => {
                values.set(form_values(&s));
                settings.set(Some(s));
            }
            Some(Err(e)) => error.set(Some(e.message)),
            None => {}
        });
        let changes = Memo::new(move |_| {
            settings.with(|s| s.as_ref().map(|s| values.with(|v| changes_of(s, v))))
        });
        ConfigForm {
            loaded,
            settings,
            values,
            error,
            busy: RwSignal::new(false),
            changes,
        }
    }

    /// Whether there is nothing to save (or to cancel).
    pub fn unchanged(&self) -> bool {
        self.changes.with(|c| match c {
            Some(Ok(body)) => body.is_empty(),
            Some(Err(_)) => false,
            None => true,
        })
    }

    /// Sends the changed keys; on success says so, loads the settings again and calls `on_saved`.
    pub fn save(&self, on_saved: impl Fn() + 'static) {
        let body = match self.changes.get_untracked() {
            Some(Ok(body)) if !body.is_empty() => body,
            Some(Err(message)) => {
                self.error.set(Some(message));
                return;
            }
            _ => return,
        };
        let (busy, error, loaded) = (self.busy, self.error, self.loaded);
        let toasts = use_toasts();
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            let result = api::put("/configurations", &body).await;
            busy.set(false);
            match result {
                Ok(()) => {
                    toasts.success("Configuration saved");
                    loaded.refetch();
                    on_saved();
                }
                Err(e) => error.set(Some(e.message)),
            }
        });
    }

    /// Puts back what is stored.
    pub fn reset(&self) {
        self.error.set(None);
        if let Some(s) = self.settings.get_untracked() {
            self.values.set(form_values(&s));
        }
    }
}
