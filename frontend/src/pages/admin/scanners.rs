//! Administration → Interrogation Services → Scanners (`/harbor/interrogation-services/scanners`, Harbor's
//! `config-scanner`): the scanner registrations (`GET /scanners`: name with a Default mark, endpoint,
//! health, enabled, authorization, description), "+ New Scanner" (name, description, endpoint, authorization
//! None/Basic/Bearer/API key with its credential, skip certificate verification, use the internal registry
//! address; "Test Connection" is `POST /scanners/ping`), and an Action menu on the chosen registration: set as
//! default (`PATCH /scanners/{id}`), enable or disable (`PUT /scanners/{id}`), delete.
//!
//! The built-in Berth registration is marked "Built-in": the server refuses to change or delete it (403), so
//! the menu offers neither for it; it may still be made the default. A registration's health is asked of the
//! server (`GET /scanners/{id}`, which asks the adapter) when the list does not already say it.
//!
//! Rule: what is sent is decided by [`ScannerForm`]'s pure functions, unit-tested without a browser.

use berth_api::scanners::{
    IsDefault, ScannerRegistration, ScannerRegistrationReq, ScannerRegistrationSettings,
};
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::Serialize;

use crate::api;
use crate::components::action_menu::{ActionMenu, MenuItem, Needs};
use crate::components::dialog::{DeleteDialog, DeleteFlow, FormDialog, FormStatus, what};
use crate::components::fetch::Fetch;
use crate::components::select_table::{SelectCell, Selection};
use crate::components::table::{ListControls, ListTable, ListToolbar, PagedList, page_path};
use crate::components::toast::use_toasts;

/// The authorizations an adapter may take, as `(value the API stores, label)`, in Harbor's order.
pub const AUTHS: [(&str, &str); 4] = [
    ("", "None"),
    ("Basic", "Basic"),
    ("Bearer", "Bearer"),
    ("X-ScannerAdapter-API-Key", "APIKey"),
];

/// The label of an authorization value.
pub fn auth_label(auth: &str) -> &str {
    AUTHS
        .iter()
        .find(|(v, _)| *v == auth)
        .map_or(auth, |(_, label)| label)
}

/// What the registration dialog holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScannerForm {
    pub name: String,
    pub description: String,
    pub url: String,
    /// One of [`AUTHS`]' values.
    pub auth: String,
    /// Basic's username and password.
    pub username: String,
    pub password: String,
    /// Bearer's token or the API key.
    pub token: String,
    pub skip_cert_verify: bool,
    pub use_internal_addr: bool,
}

impl ScannerForm {
    /// The credential the authorization takes (`user:password` for Basic, Harbor's format).
    pub fn credential(&self) -> String {
        match self.auth.as_str() {
            "Basic" => format!("{}:{}", self.username.trim(), self.password),
            "" => String::new(),
            _ => self.token.trim().to_owned(),
        }
    }

    fn check(&self, need_name: bool) -> Result<(), String> {
        if need_name && self.name.trim().is_empty() {
            return Err("Enter a name for the scanner.".to_owned());
        }
        let url = self.url.trim();
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err("The endpoint starts with http:// or https://.".to_owned());
        }
        match self.auth.as_str() {
            "Basic" if self.username.trim().is_empty() || self.password.is_empty() => {
                Err("Basic authorization needs a username and a password.".to_owned())
            }
            "Bearer" | "X-ScannerAdapter-API-Key" if self.token.trim().is_empty() => {
                Err("Enter the token or API key.".to_owned())
            }
            _ => Ok(()),
        }
    }

    /// The body of `POST /scanners`.
    pub fn create_request(&self) -> Result<ScannerRegistrationReq, String> {
        self.check(true)?;
        Ok(ScannerRegistrationReq {
            name: self.name.trim().to_owned(),
            description: Some(self.description.trim().to_owned()),
            url: self.url.trim().to_owned(),
            auth: Some(self.auth.clone()),
            access_credential: Some(self.credential()),
            skip_cert_verify: Some(self.skip_cert_verify),
            use_internal_addr: Some(self.use_internal_addr),
            disabled: Some(false),
        })
    }

    /// The body of `POST /scanners/ping`.
    pub fn ping_request(&self) -> Result<ScannerRegistrationSettings, String> {
        self.check(false)?;
        Ok(ScannerRegistrationSettings {
            name: self.name.trim().to_owned(),
            url: self.url.trim().to_owned(),
            auth: self.auth.clone(),
            access_credential: self.credential(),
        })
    }
}

/// The body of `PUT /scanners/{id}` that enables or disables `scanner`, keeping the rest (its stored
/// credential is kept by leaving it out).
pub fn toggle_request(scanner: &ScannerRegistration) -> ScannerRegistrationReq {
    ScannerRegistrationReq {
        name: scanner.name.clone(),
        description: Some(scanner.description.clone()),
        url: scanner.url.clone(),
        auth: Some(scanner.auth.clone()),
        access_credential: None,
        skip_cert_verify: Some(scanner.skip_cert_verify),
        use_internal_addr: Some(scanner.use_internal_addr),
        disabled: Some(!scanner.disabled),
    }
}

/// Whether a registration is Berth's own (the server refuses to change or delete it).
pub fn is_built_in(scanner: &ScannerRegistration) -> bool {
    scanner.url == berth_api::scanners::BUILT_IN_URL
}

/// The body of any scanner call, serialised as the body it wraps (one type: the console's generic HTTP client
/// is compiled once for all of them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum ScannerBody {
    Registration(ScannerRegistrationReq),
    Ping(ScannerRegistrationSettings),
    Default(IsDefault),
}

fn key(scanner: &ScannerRegistration) -> String {
    scanner.uuid.clone()
}

#[component]
pub fn ScannersPage() -> impl IntoView {
    let list = ListControls::new();
    let toasts = use_toasts();
    let scanners = PagedList::<ScannerRegistration>::new(
        move || {
            let (page, size, _, _) = list.get();
            Some(page_path("/scanners", page, size, &[]))
        },
        list,
    );
    let selection = Selection::new(scanners.keys(key));
    let dialog_open = RwSignal::new(false);
    let deleting = DeleteFlow::new();
    let chosen_one = move || match scanners.chosen(selection, key).as_slice() {
        [one] => Some(one.clone()),
        _ => None,
    };
    let external = Signal::derive(move || {
        let chosen = scanners.chosen(selection, key);
        !chosen.is_empty() && !chosen.iter().any(is_built_in)
    });
    let toggle_label = Signal::derive(move || {
        if chosen_one().is_some_and(|s| s.disabled) {
            "Enable"
        } else {
            "Disable"
        }
        .to_owned()
    });
    let send = move |path: String, body: ScannerBody, put: bool, done: String| {
        spawn_local(async move {
            let result = if put {
                api::put(&path, &body).await
            } else {
                api::patch(&path, &body).await
            };
            match result {
                Ok(()) => toasts.success(done),
                Err(e) => toasts.error(e.message),
            }
            scanners.refresh();
        });
    };
    let set_default = Callback::new(move |()| {
        if let Some(s) = chosen_one() {
            send(
                format!("/scanners/{}", s.uuid),
                ScannerBody::Default(IsDefault { is_default: true }),
                false,
                format!("{} is the default scanner", s.name),
            );
        }
    });
    let toggle = Callback::new(move |()| {
        if let Some(s) = chosen_one() {
            let done = format!(
                "{} {}",
                if s.disabled { "Enabled" } else { "Disabled" },
                s.name
            );
            send(
                format!("/scanners/{}", s.uuid),
                ScannerBody::Registration(toggle_request(&s)),
                true,
                done,
            );
        }
    });
    let on_delete = Callback::new(move |()| {
        deleting.ask_all(
            scanners
                .chosen(selection, key)
                .into_iter()
                .map(|s| (format!("/scanners/{}", s.uuid), s.name))
                .collect(),
        );
    });
    let on_new = move |_| dialog_open.set(true);
    let on_saved = Callback::new(move |message: String| {
        toasts.success(message);
        scanners.refresh();
    });
    let rows = move || {
        scanners.rows("7", "No scanners", move |scanner| {
            view! { <ScannerRow scanner=scanner selection=selection/> }.into_any()
        })
    };
    view! {
        <section class="scanners-page" aria-label="Scanners">
            <ListToolbar list=list fetch=scanners.fetch()>
                <button type="button" on:click=on_new>"+ New Scanner"</button>
                <ActionMenu selection=selection>
                    <MenuItem label="Set as Default" selection=selection needs=Needs::One
                        hint="Choose one scanner" on_select=set_default/>
                    <MenuItem label=toggle_label selection=selection needs=Needs::One allowed=external
                        hint="Choose one scanner that is not built in" on_select=toggle/>
                    <MenuItem label="Delete" danger=true selection=selection needs=Needs::Some allowed=external
                        hint="The built-in scanner cannot be deleted" on_select=on_delete/>
                </ActionMenu>
            </ListToolbar>
            <ListTable list=list fetch=scanners.fetch() selection=selection rows=rows>
                <th scope="col">"Name"</th>
                <th scope="col">"Endpoint"</th>
                <th scope="col">"Health"</th>
                <th scope="col">"Enabled"</th>
                <th scope="col">"Authorization"</th>
                <th scope="col">"Description"</th>
            </ListTable>
        </section>
        <ScannerDialog open=dialog_open on_saved=on_saved/>
        <DeleteDialog flow=deleting title="Delete Scanner"
            message=|names, n| format!("Delete {}?", what("scanner", "scanners", names, n))
            done=|names, n| format!("Deleted {}", what("scanner", "scanners", names, n))
            on_deleted=Callback::new(move |()| scanners.refresh())/>
    }
}

#[component]
fn ScannerRow(scanner: ScannerRegistration, selection: Selection) -> impl IntoView {
    let label = format!("Select scanner {}", scanner.name);
    // The list says the health of the built-in one; an adapter's is asked of the server.
    let asked = scanner.health.is_none().then(|| {
        Fetch::<ScannerRegistration>::new({
            let path = format!("/scanners/{}", scanner.uuid);
            move || Some(path.clone())
        })
    });
    let known = StoredValue::new(scanner.health.clone());
    let health = move || {
        let word = match asked {
            Some(fetch) => match fetch.get() {
                None => return ("…", ""),
                Some(answer) => answer.ok().and_then(|s| s.health),
            },
            None => known.get_value(),
        };
        match word.as_deref() {
            Some("healthy") => ("Healthy", "status-ok"),
            _ => ("Unhealthy", "status-bad"),
        }
    };
    let marks = (
        scanner
            .is_default
            .then(|| view! { <span class="badge scanner-default">"Default"</span> }),
        is_built_in(&scanner)
            .then(|| view! { <span class="badge scanner-built-in">"Built-in"</span> }),
    );
    view! {
        <tr data-scanner=scanner.name.clone()>
            <SelectCell selection=selection key=key(&scanner) label=label/>
            <td class="scanner-name">{scanner.name.clone()}" "{marks}</td>
            <td class="scanner-url">{scanner.url.clone()}</td>
            <td class="scanner-health">
                <span class=move || format!("status-dot {}", health().1) aria-hidden="true"></span>
                {move || health().0}
            </td>
            <td class="scanner-enabled">{if scanner.disabled { "No" } else { "Yes" }}</td>
            <td>{auth_label(&scanner.auth).to_owned()}</td>
            <td>{scanner.description.clone()}</td>
        </tr>
    }
}

/// "New Scanner".
#[component]
fn ScannerDialog(open: RwSignal<bool>, on_saved: Callback<String>) -> impl IntoView {
    let text = || RwSignal::new(String::new());
    let (name, description, url, auth, username, password, token) =
        (text(), text(), text(), text(), text(), text(), text());
    let skip = RwSignal::new(false);
    let internal = RwSignal::new(false);
    let status = FormStatus::new();
    let tested = RwSignal::new(None::<(bool, String)>);
    let testing = RwSignal::new(false);
    Effect::new(move |_| {
        if open.get() {
            for field in [name, description, url, auth, username, password, token] {
                field.set(String::new());
            }
            skip.set(false);
            internal.set(false);
            status.error.set(None);
            tested.set(None);
        }
    });
    let form = move || ScannerForm {
        name: name.get_untracked(),
        description: description.get_untracked(),
        url: url.get_untracked(),
        auth: auth.get_untracked(),
        username: username.get_untracked(),
        password: password.get_untracked(),
        token: token.get_untracked(),
        skip_cert_verify: skip.get_untracked(),
        use_internal_addr: internal.get_untracked(),
    };
    let test_connection = move |_| {
        let body = match form().ping_request() {
            Ok(body) => body,
            Err(message) => return tested.set(Some((false, message))),
        };
        testing.set(true);
        tested.set(None);
        spawn_local(async move {
            let result = api::post("/scanners/ping", &ScannerBody::Ping(body)).await;
            testing.set(false);
            tested.set(Some(match result {
                Ok(()) => (true, "Connection tested successfully.".to_owned()),
                Err(e) => (false, e.message),
            }));
        });
    };
    let submit = Callback::new(move |()| {
        let current = form();
        let body = match current.create_request() {
            Ok(body) => ScannerBody::Registration(body),
            Err(message) => return status.fail(message),
        };
        let name = current.name.trim().to_owned();
        status.send(
            Box::pin(async move { api::post("/scanners", &body).await }),
            Box::new(move |()| {
                open.set(false);
                on_saved.run(format!("Added scanner {name}"));
            }),
        );
    });
    let auth_options = AUTHS
        .iter()
        .map(|(value, label)| view! { <option value=*value>{*label}</option> })
        .collect_view();
    let credential_fields = move || {
        match auth.get().as_str() {
        "Basic" => view! {
            <label for="scanner_username">"Username"</label>
            <input id="scanner_username" type="text" autocomplete="off" bind:value=username/>
            <label for="scanner_password">"Password"</label>
            <input id="scanner_password" type="password" autocomplete="new-password" bind:value=password/>
        }
        .into_any(),
        "Bearer" => view! {
            <label for="scanner_token">"Token"</label>
            <input id="scanner_token" type="password" autocomplete="off" bind:value=token/>
        }
        .into_any(),
        "X-ScannerAdapter-API-Key" => view! {
            <label for="scanner_token">"API Key"</label>
            <input id="scanner_token" type="password" autocomplete="off" bind:value=token/>
        }
        .into_any(),
        _ => ().into_any(),
    }
    };
    let test_button = view! {
        <button type="button" class="secondary" disabled=move || testing.get() on:click=test_connection>
            {move || if testing.get() { "Testing…" } else { "Test Connection" }}
        </button>
    };
    view! {
        <FormDialog open=open title="New Scanner" status=status on_submit=submit class="form-grid"
            submit_label=Signal::stored("Add") extra=test_button.into_any()>
            <label for="scanner_name">"Name"</label>
            <input id="scanner_name" type="text" required autocomplete="off" bind:value=name/>
            <label for="scanner_description">"Description"</label>
            <input id="scanner_description" type="text" autocomplete="off" bind:value=description/>
            <label for="scanner_url">"Endpoint"</label>
            <input id="scanner_url" type="text" required autocomplete="off" placeholder="http(s)://"
                bind:value=url/>
            <label for="scanner_auth">"Authorization"</label>
            <select id="scanner_auth" on:change=move |ev| auth.set(event_target_value(&ev))>{auth_options}</select>
            {credential_fields}
            <span class="form-label">"Options"</span>
            <div>
                <label class="checkbox">
                    <input type="checkbox" bind:checked=skip/>"Skip certificate verification"
                </label>
                <label class="checkbox">
                    <input type="checkbox" bind:checked=internal/>"Use internal registry address"
                </label>
            </div>
            <div class="form-wide" role="status" data-testid="scanner-test-result">
                {move || tested.get().map(|(ok, message)| {
                    let (class, mark) = if ok {
                        ("endpoint-test endpoint-test-ok", "✔ ")
                    } else {
                        ("endpoint-test endpoint-test-bad", "✖ ")
                    };
                    view! { <p class=class>{mark}{message}</p> }
                })}
            </div>
        </FormDialog>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(auth: &str) -> ScannerForm {
        ScannerForm {
            name: " trivy ".to_owned(),
            description: "adapter".to_owned(),
            url: " http://127.0.0.1:8080 ".to_owned(),
            auth: auth.to_owned(),
            username: "harbor".to_owned(),
            password: "s3cret".to_owned(),
            token: " tok ".to_owned(),
            skip_cert_verify: true,
            use_internal_addr: false,
        }
    }

    #[test]
    fn new_scanners_send_harbors_registration() -> Result<(), String> {
        let body =
            serde_json::to_value(form("Basic").create_request()?).map_err(|e| e.to_string())?;
        assert_eq!(body["name"], "trivy");
        assert_eq!(body["url"], "http://127.0.0.1:8080");
        assert_eq!(body["auth"], "Basic");
        assert_eq!(body["access_credential"], "harbor:s3cret");
        assert_eq!(body["skip_certVerify"], true);
        assert_eq!(body["use_internal_addr"], false);
        assert_eq!(form("Bearer").credential(), "tok");
        assert_eq!(form("X-ScannerAdapter-API-Key").credential(), "tok");
        assert_eq!(form("").credential(), "");
        Ok(())
    }

    #[test]
    fn forms_missing_what_the_authorization_needs_are_refused() {
        let mut f = form("Basic");
        f.password.clear();
        assert!(f.create_request().is_err());
        let mut f = form("Bearer");
        f.token = " ".to_owned();
        assert!(f.ping_request().is_err());
        let mut f = form("");
        f.url = "ftp://x".to_owned();
        assert!(f.create_request().is_err());
        let mut f = form("");
        f.name.clear();
        assert!(f.create_request().is_err());
        assert!(f.ping_request().is_ok());
    }

    #[test]
    fn toggling_keeps_the_registration_and_flips_disabled() {
        let scanner = ScannerRegistration {
            uuid: "u".to_owned(),
            name: "trivy".to_owned(),
            url: "http://a".to_owned(),
            auth: "Bearer".to_owned(),
            ..ScannerRegistration::default()
        };
        let body = toggle_request(&scanner);
        assert_eq!(body.disabled, Some(true));
        assert_eq!(body.access_credential, None);
        assert_eq!(body.auth.as_deref(), Some("Bearer"));
        assert_eq!(auth_label("X-ScannerAdapter-API-Key"), "APIKey");
        assert!(!is_built_in(&scanner));
    }
}
