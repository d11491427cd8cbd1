//! Administration → Registries (`/harbor/registries`): the registry endpoints proxy-cache projects pull
//! through (`GET /registries`, search by name, server-side pagination), "+ New Endpoint", Harbor's row
//! selection with an Action menu: edit the chosen endpoint, delete the chosen endpoints after one
//! confirmation (the server refuses while a proxy-cache project uses an endpoint, and says so for each), and
//! "Test Connection" (`POST /registries/ping`) in the dialog.
//!
//! For system administrators; the server refuses everyone else and the table shows its message. The API
//! never returns an endpoint's secret (it shows `*****`): editing with the Access Secret left blank sends
//! none, which keeps the stored one.

use berth_api::registries::{Registry, RegistryCredential, RegistryPing, RegistryUpdate};
use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::Serialize;

use crate::api;
use crate::components::action_menu::{ActionMenu, MenuItem, Needs};
use crate::components::dialog::{DeleteDialog, DeleteFlow, FormDialog, FormStatus, what};
use crate::components::select_table::{SelectCell, Selection};
use crate::components::table::{ListControls, ListTable, ListToolbar, PagedList, fuzzy, page_path};
use crate::components::toast::use_toasts;

/// The providers Berth can proxy, as `(type, label)`, in Harbor's order (`GET /replication/adapters` lists
/// the same types).
pub const PROVIDERS: [(&str, &str); 5] = [
    ("docker-hub", "Docker Hub"),
    ("docker-registry", "Docker Registry"),
    ("harbor", "Harbor"),
    ("github-ghcr", "Github GHCR"),
    ("quay", "Quay"),
];

/// The label of a provider type (the type itself when unknown).
pub fn provider_label(kind: &str) -> &str {
    PROVIDERS
        .iter()
        .find(|(k, _)| *k == kind)
        .map_or(kind, |(_, label)| label)
}

/// The endpoint URL a provider's public registry has (empty where there is none to assume).
pub fn default_url(kind: &str) -> &'static str {
    match kind {
        "docker-hub" => "https://hub.docker.com",
        "github-ghcr" => "https://ghcr.io",
        "quay" => "https://quay.io",
        _ => "",
    }
}

/// The URL after the provider changed from `old` to `new`: the new default, unless the user typed one.
pub fn url_for_provider(current: &str, old: &str, new: &str) -> String {
    if current.trim().is_empty() || current == default_url(old) {
        default_url(new).to_owned()
    } else {
        current.to_owned()
    }
}

/// `"Healthy"`, `"Unhealthy"` or `"Unknown"`, and the status dot's class.
pub fn status_label(status: &str) -> (&'static str, &'static str) {
    match status {
        "healthy" => ("Healthy", "status-ok"),
        "unhealthy" => ("Unhealthy", "status-bad"),
        _ => ("Unknown", ""),
    }
}

/// The list's API path for a page and a name filter (Harbor's fuzzy `q=name=~…`; `,` separates terms).
pub fn registries_path(page: u32, page_size: u32, name: &str) -> String {
    page_path(
        "/registries",
        page,
        page_size,
        &[("q", fuzzy("name", name))],
    )
}

/// What the endpoint dialog holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointForm {
    pub kind: String,
    pub name: String,
    pub description: String,
    pub url: String,
    pub access_key: String,
    pub access_secret: String,
    pub verify_cert: bool,
}

impl Default for EndpointForm {
    fn default() -> Self {
        EndpointForm {
            kind: PROVIDERS[0].0.to_owned(),
            name: String::new(),
            description: String::new(),
            url: default_url(PROVIDERS[0].0).to_owned(),
            access_key: String::new(),
            access_secret: String::new(),
            verify_cert: true,
        }
    }
}

impl EndpointForm {
    /// The form for editing `registry` (its secret is unknown: blank means unchanged).
    pub fn of(registry: &Registry) -> Self {
        EndpointForm {
            kind: registry.registry_type.clone(),
            name: registry.name.clone(),
            description: registry.description.clone(),
            url: registry.url.clone(),
            access_key: registry
                .credential
                .as_ref()
                .and_then(|c| c.access_key.clone())
                .unwrap_or_default(),
            access_secret: String::new(),
            verify_cert: !registry.insecure,
        }
    }

    fn secret(&self) -> Option<String> {
        (!self.access_secret.is_empty()).then(|| self.access_secret.clone())
    }

    fn has_credential(&self) -> bool {
        !self.access_key.trim().is_empty() || !self.access_secret.is_empty()
    }

    fn check(&self) -> Result<(), String> {
        if self.name.trim().is_empty() {
            return Err("Enter a name for the endpoint.".to_owned());
        }
        let url = self.url.trim();
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err("The endpoint URL starts with http:// or https://.".to_owned());
        }
        Ok(())
    }

    /// The body of `POST /registries`: no credential when neither an ID nor a secret was given (anonymous).
    pub fn create_request(&self) -> Result<Registry, String> {
        self.check()?;
        Ok(Registry {
            name: self.name.trim().to_owned(),
            registry_type: self.kind.clone(),
            url: self.url.trim().to_owned(),
            description: self.description.trim().to_owned(),
            insecure: !self.verify_cert,
            credential: self.has_credential().then(|| RegistryCredential {
                credential_type: Some(BASIC.to_owned()),
                access_key: Some(self.access_key.trim().to_owned()),
                access_secret: self.secret(),
            }),
            ..Registry::default()
        })
    }

    /// The body of `PUT /registries/{id}`: a blank secret is left out, so the stored one stays; a blank
    /// Access ID makes the endpoint anonymous.
    pub fn update_request(&self) -> Result<RegistryUpdate, String> {
        self.check()?;
        Ok(RegistryUpdate {
            name: Some(self.name.trim().to_owned()),
            description: Some(self.description.trim().to_owned()),
            url: Some(self.url.trim().to_owned()),
            credential_type: Some(BASIC.to_owned()),
            access_key: Some(self.access_key.trim().to_owned()),
            access_secret: self.secret(),
            insecure: Some(!self.verify_cert),
            ca_certificate: None,
        })
    }

    /// The body of `POST /registries/ping` for the form: with `id` when editing a saved endpoint (the server
    /// keeps what is left out, such as a blank secret), else type, URL and credential.
    pub fn ping_request(&self, id: Option<i64>) -> RegistryPing {
        let url = self.url.trim();
        let credential = id.is_some() || self.has_credential();
        RegistryPing {
            id,
            registry_type: id.is_none().then(|| self.kind.clone()),
            url: (!url.is_empty()).then(|| url.to_owned()),
            credential_type: credential.then(|| BASIC.to_owned()),
            access_key: credential.then(|| self.access_key.trim().to_owned()),
            access_secret: self.secret(),
            insecure: Some(!self.verify_cert),
            ca_certificate: None,
        }
    }
}

/// The only credential type Berth supports.
const BASIC: &str = "basic";

/// The body of any endpoint call, serialised as the body it wraps. One type for all of them, so the console's
/// generic HTTP client is compiled once for them (the wasm size budget).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum EndpointBody {
    Create(Registry),
    Update(RegistryUpdate),
    Ping(RegistryPing),
}

/// Tests an endpoint; `Ok` with a sentence to show either way (the server's message when it failed).
pub async fn ping(body: RegistryPing) -> Result<String, String> {
    api::post("/registries/ping", &EndpointBody::Ping(body))
        .await
        .map(|()| "Connection tested successfully.".to_owned())
        .map_err(|e| e.message)
}

#[component]
pub fn RegistriesPage() -> impl IntoView {
    let list = ListControls::new();
    let toasts = use_toasts();

    let registries = PagedList::<Registry>::new(
        move || {
            let (page, size, name, _) = list.get();
            Some(registries_path(page, size, &name))
        },
        list,
    );

    let dialog_open = RwSignal::new(false);
    let fields = EndpointFields::new();
    let editing = RwSignal::new(None::<i64>);
    let deleting = DeleteFlow::new();

    let on_new = move |_| {
        fields.load(EndpointForm::default());
        editing.set(None);
        dialog_open.set(true);
    };
    let selection = Selection::new(registries.keys(key));
    let on_edit = Callback::new(move |()| {
        if let [registry] = registries.chosen(selection, key).as_slice() {
            fields.load(EndpointForm::of(registry));
            editing.set(Some(registry.id));
            dialog_open.set(true);
        }
    });
    let on_delete = Callback::new(move |()| {
        deleting.ask_all(
            registries
                .chosen(selection, key)
                .into_iter()
                .map(|r| (format!("/registries/{}", r.id), r.name))
                .collect(),
        );
    });
    let on_saved = Callback::new(move |message: String| {
        toasts.success(message);
        registries.refresh();
    });

    let rows = move || {
        registries.rows("8", "No registry endpoints found", move |registry| {
            view! { <RegistryRow registry=registry selection=selection/> }.into_any()
        })
    };

    view! {
        <section class="page registries-page">
            <h1>"Registries"</h1>
            <ListToolbar list=list fetch=registries.fetch() filter="Filter endpoints by name">
                <button type="button" data-testid="new-endpoint" on:click=on_new>"+ New Endpoint"</button>
                <ActionMenu selection=selection>
                    <MenuItem label="Edit" selection=selection needs=Needs::One hint="Choose one endpoint"
                        on_select=on_edit/>
                    <MenuItem label="Delete" danger=true selection=selection needs=Needs::Some
                        on_select=on_delete/>
                </ActionMenu>
            </ListToolbar>
            <ListTable list=list fetch=registries.fetch() selection=selection rows=rows>
                <th scope="col">"Name"</th>
                <th scope="col">"Status"</th>
                <th scope="col">"Endpoint URL"</th>
                <th scope="col">"Provider"</th>
                <th scope="col">"Verify Remote Cert"</th>
                <th scope="col">"Description"</th>
                <th scope="col">"Rate limit"</th>
            </ListTable>
        </section>
        <EndpointDialog open=dialog_open fields=fields editing=editing on_saved=on_saved/>
        <DeleteDialog flow=deleting title="Delete Endpoint"
            message=|names, n| format!("Delete {}?", what("registry endpoint", "registry endpoints", names, n))
            done=|names, n| format!("Deleted {}", what("endpoint", "endpoints", names, n))
            on_deleted=Callback::new(move |()| registries.refresh())/>
    }
}

/// An endpoint's key in the selection: its id.
fn key(registry: &Registry) -> String {
    registry.id.to_string()
}

#[component]
fn RegistryRow(registry: Registry, selection: Selection) -> impl IntoView {
    let (status, status_class) = status_label(&registry.status);
    let name = registry.name.clone();
    let label = format!("Select endpoint {name}");
    let row_name = name.clone();
    view! {
        <tr data-registry=row_name>
            <SelectCell selection=selection key=key(&registry) label=label/>
            <td>{name}</td>
            <td class="registry-status">
                <span class=format!("status-dot {status_class}") aria-hidden="true"></span>{status}
            </td>
            <td class="registry-url">{registry.url}</td>
            <td>{provider_label(&registry.registry_type).to_owned()}</td>
            <td>{if registry.insecure { "No" } else { "Yes" }}</td>
            <td>{registry.description}</td>
            <td>{registry.ratelimit_remaining.unwrap_or_else(|| "—".to_owned())}</td>
        </tr>
    }
}

/// The endpoint dialog's fields, one signal each (`bind:` on plain string and flag signals is the console's
/// cheapest binding).
#[derive(Debug, Clone, Copy)]
struct EndpointFields {
    kind: RwSignal<String>,
    name: RwSignal<String>,
    description: RwSignal<String>,
    url: RwSignal<String>,
    key: RwSignal<String>,
    secret: RwSignal<String>,
    verify: RwSignal<bool>,
}

impl EndpointFields {
    fn new() -> Self {
        let text = || RwSignal::new(String::new());
        EndpointFields {
            kind: text(),
            name: text(),
            description: text(),
            url: text(),
            key: text(),
            secret: text(),
            verify: RwSignal::new(true),
        }
    }

    fn load(&self, form: EndpointForm) {
        self.kind.set(form.kind);
        self.name.set(form.name);
        self.description.set(form.description);
        self.url.set(form.url);
        self.key.set(form.access_key);
        self.secret.set(form.access_secret);
        self.verify.set(form.verify_cert);
    }

    fn form(&self) -> EndpointForm {
        EndpointForm {
            kind: self.kind.get_untracked(),
            name: self.name.get_untracked(),
            description: self.description.get_untracked(),
            url: self.url.get_untracked(),
            access_key: self.key.get_untracked(),
            access_secret: self.secret.get_untracked(),
            verify_cert: self.verify.get_untracked(),
        }
    }
}

/// "New Registry Endpoint", or "Edit Endpoint" when `editing` holds the endpoint's id.
#[component]
fn EndpointDialog(
    open: RwSignal<bool>,
    fields: EndpointFields,
    editing: RwSignal<Option<i64>>,
    on_saved: Callback<String>,
) -> impl IntoView {
    let EndpointFields {
        kind,
        name,
        description,
        url,
        key,
        secret,
        verify,
    } = fields;
    let status = FormStatus::new();
    // The last connection test: whether it succeeded, and what to say.
    let tested = RwSignal::new(None::<(bool, String)>);
    let testing = RwSignal::new(false);
    Effect::new(move |_| {
        if open.get() {
            status.error.set(None);
            tested.set(None);
        }
    });
    let edit_id = move || editing.get();
    let title = Signal::derive(move || {
        if edit_id().is_some() {
            "Edit Endpoint"
        } else {
            "New Registry Endpoint"
        }
        .to_owned()
    });
    let set_provider = move |ev: leptos::ev::Event| {
        let new = event_target_value(&ev);
        url.set(url_for_provider(
            &url.get_untracked(),
            &kind.get_untracked(),
            &new,
        ));
        kind.set(new);
    };
    let provider_options = PROVIDERS
        .iter()
        .map(|(k, label)| view! { <option value=*k selected=move || kind.with(|v| v == k)>{*label}</option> })
        .collect_view();

    let test_connection = move |_| {
        let body = fields.form().ping_request(editing.get_untracked());
        testing.set(true);
        tested.set(None);
        spawn_local(async move {
            let result = ping(body).await;
            testing.set(false);
            tested.set(Some(match result {
                Ok(message) => (true, message),
                Err(message) => (false, message),
            }));
        });
    };
    let submit = Callback::new(move |()| {
        let current = fields.form();
        let id = editing.get_untracked();
        let name = current.name.trim().to_owned();
        let request = match id {
            Some(_) => current.update_request().map(EndpointBody::Update),
            None => current.create_request().map(EndpointBody::Create),
        };
        let body = match request {
            Ok(body) => body,
            Err(message) => return status.fail(message),
        };
        status.send(
            Box::pin(async move {
                match id {
                    Some(id) => api::put(&format!("/registries/{id}"), &body).await,
                    None => api::post("/registries", &body).await,
                }
            }),
            Box::new(move |()| {
                open.set(false);
                on_saved.run(if id.is_some() {
                    format!("Saved endpoint {name}")
                } else {
                    format!("Created endpoint {name}")
                });
            }),
        );
    });
    let test_button = view! {
        <button type="button" class="secondary endpoint-test-button" disabled=move || testing.get()
            on:click=test_connection>
            {move || if testing.get() { "Testing…" } else { "Test Connection" }}
        </button>
    };
    let secret_hint = move || {
        edit_id()
            .is_some()
            .then(|| view! { <p class="hint form-wide" id="endpoint-secret-hint">"Leave blank to keep the stored secret."</p> })
    };
    view! {
        <FormDialog open=open title=title status=status on_submit=submit class="form-grid"
            extra=test_button.into_any()>
            <label for="endpoint_provider">"Provider"</label>
            <select id="endpoint_provider" on:change=set_provider disabled=move || edit_id().is_some()>
                {provider_options}
            </select>
            <label for="endpoint_name">"Name"</label>
            <input id="endpoint_name" type="text" required autocomplete="off" bind:value=name/>
            <label for="endpoint_description">"Description"</label>
            <input id="endpoint_description" type="text" autocomplete="off" bind:value=description/>
            <label for="endpoint_url">"Endpoint URL"</label>
            <input id="endpoint_url" type="text" required autocomplete="off" placeholder="https://"
                bind:value=url/>
            <label for="endpoint_access_key">"Access ID"</label>
            <input id="endpoint_access_key" type="text" autocomplete="off" bind:value=key/>
            <label for="endpoint_access_secret">"Access Secret"</label>
            <input id="endpoint_access_secret" type="password" autocomplete="new-password" bind:value=secret/>
            {secret_hint}
            <span class="form-label">"Verify Remote Cert"</span>
            <label class="checkbox">
                <input id="endpoint_verify_cert" type="checkbox" bind:checked=verify/>
                "Verify Remote Cert"
            </label>
            <div class="form-wide" role="status" data-testid="endpoint-test-result">
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

    fn form() -> EndpointForm {
        EndpointForm {
            kind: "docker-registry".to_owned(),
            name: " mirror ".to_owned(),
            description: "local".to_owned(),
            url: " http://127.0.0.1:5000 ".to_owned(),
            access_key: "bot".to_owned(),
            access_secret: "s3cret".to_owned(),
            verify_cert: false,
        }
    }

    #[test]
    fn urls_default_per_provider_unless_typed() {
        assert_eq!(EndpointForm::default().url, "https://hub.docker.com");
        assert_eq!(default_url("docker-registry"), "");
        assert_eq!(
            url_for_provider("https://hub.docker.com", "docker-hub", "quay"),
            "https://quay.io"
        );
        assert_eq!(
            url_for_provider("", "docker-registry", "github-ghcr"),
            "https://ghcr.io"
        );
        assert_eq!(
            url_for_provider("https://hub.docker.com", "docker-hub", "harbor"),
            ""
        );
        assert_eq!(
            url_for_provider("https://mine.example", "docker-registry", "quay"),
            "https://mine.example"
        );
    }

    #[test]
    fn new_endpoints_send_harbors_registry_shape() -> Result<(), String> {
        let body = serde_json::to_value(form().create_request()?).map_err(|e| e.to_string())?;
        assert_eq!(body["name"], "mirror");
        assert_eq!(body["type"], "docker-registry");
        assert_eq!(body["url"], "http://127.0.0.1:5000");
        assert_eq!(body["description"], "local");
        assert_eq!(body["insecure"], true);
        assert_eq!(
            body["credential"],
            serde_json::json!({"type": "basic", "access_key": "bot", "access_secret": "s3cret"})
        );
        let anonymous = EndpointForm {
            access_key: String::new(),
            access_secret: String::new(),
            ..form()
        };
        let body = serde_json::to_value(anonymous.create_request()?).map_err(|e| e.to_string())?;
        assert!(body.get("credential").is_none());
        Ok(())
    }

    #[test]
    fn a_blank_secret_leaves_the_stored_one_unchanged() -> Result<(), String> {
        let blank = EndpointForm {
            access_secret: String::new(),
            ..form()
        };
        let body = serde_json::to_value(blank.update_request()?).map_err(|e| e.to_string())?;
        assert_eq!(
            body,
            serde_json::json!({"name": "mirror", "description": "local", "url": "http://127.0.0.1:5000",
                "credential_type": "basic", "access_key": "bot", "insecure": true})
        );
        let body = serde_json::to_value(form().update_request()?).map_err(|e| e.to_string())?;
        assert_eq!(body["access_secret"], "s3cret");
        Ok(())
    }

    #[test]
    fn forms_need_a_name_and_an_http_url() {
        let no_name = EndpointForm {
            name: "  ".to_owned(),
            ..form()
        };
        assert!(no_name.create_request().is_err());
        let bad_url = EndpointForm {
            url: "registry:5000".to_owned(),
            ..form()
        };
        assert!(bad_url.create_request().is_err());
        assert!(bad_url.update_request().is_err());
    }

    #[test]
    fn pings_name_a_saved_endpoint_by_id_and_a_new_one_by_type() {
        let new = serde_json::to_value(form().ping_request(None)).unwrap_or_default();
        assert_eq!(
            new,
            serde_json::json!({"type": "docker-registry", "url": "http://127.0.0.1:5000", "insecure": true,
                "credential_type": "basic", "access_key": "bot", "access_secret": "s3cret"})
        );
        let anonymous = EndpointForm {
            access_key: String::new(),
            access_secret: String::new(),
            ..form()
        };
        let body = serde_json::to_value(anonymous.ping_request(None)).unwrap_or_default();
        assert!(body.get("access_key").is_none());
        let saved = EndpointForm {
            access_secret: String::new(),
            ..form()
        };
        let body = serde_json::to_value(saved.ping_request(Some(7))).unwrap_or_default();
        assert_eq!(
            body,
            serde_json::json!({"id": 7, "url": "http://127.0.0.1:5000", "insecure": true,
                "credential_type": "basic", "access_key": "bot"})
        );
    }

    #[test]
    fn editing_starts_from_the_endpoint_without_its_secret() -> Result<(), serde_json::Error> {
        let registry: Registry = serde_json::from_value(serde_json::json!({
            "id": 2, "name": "hub", "url": "https://hub.docker.com", "type": "docker-hub", "insecure": true,
            "description": "cache", "status": "healthy",
            "credential": {"type": "basic", "access_key": "me", "access_secret": "*****"},
            "ratelimit_remaining": "97/100", "creation_time": "2026-01-01T00:00:00Z"}))?;
        let form = EndpointForm::of(&registry);
        assert_eq!(form.kind, "docker-hub");
        assert_eq!(form.access_key, "me");
        assert_eq!(form.access_secret, "");
        assert!(!form.verify_cert);
        assert_eq!(status_label(&registry.status).0, "Healthy");
        assert_eq!(status_label("unhealthy").0, "Unhealthy");
        assert_eq!(status_label("unknown").0, "Unknown");
        assert_eq!(provider_label("github-ghcr"), "Github GHCR");
        assert_eq!(provider_label("other"), "other");
        Ok(())
    }

    #[test]
    fn list_paths_filter_by_name() {
        assert_eq!(
            registries_path(1, 15, ""),
            "/registries?page=1&page_size=15"
        );
        assert_eq!(
            registries_path(2, 25, " hub,x "),
            "/registries?page=2&page_size=25&q=name%3D~hubx"
        );
    }
}
