//! The project's Webhooks tab (`/harbor/projects/{id}/webhook`): its webhook policies
//! (`GET /projects/{p}/webhook/policies`) with Harbor's actions for project admins (`notification-policy`
//! create / update / delete): "+ New Webhook", and on the chosen policy Edit, Enable or Disable, Delete. A
//! policy's name opens its executions (one per event sent to a target) with each delivery's status, attempts,
//! the receiver's status code and a link to the task's log.
//!
//! The API never returns a target's auth header: editing with the field left blank keeps the stored one.

use berth_api::webhooks::{
    Execution, FORMAT_CLOUDEVENTS, FORMAT_DEFAULT, NOTIFY_HTTP, NOTIFY_SLACK,
    SupportedWebhookEventTypes, Task, WebhookPolicy, WebhookTarget,
};
use leptos::prelude::*;

use super::use_project;
use crate::api::{self, encode_component};
use crate::components::action_menu::{ActionMenu, MenuItem, Needs};
use crate::components::dialog::{DeleteDialog, DeleteFlow, FormDialog, FormStatus, what};
use crate::components::fetch::Fetch;
use crate::components::select_table::{SelectCell, Selection};
use crate::components::table::{ListControls, ListTable, ListToolbar, PagedList, page_path};
use crate::components::toast::use_toasts;
use crate::components::when::When;
use crate::format::time;

/// What the policy dialog holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyForm {
    pub name: String,
    pub description: String,
    pub notify_type: String,
    pub payload_format: String,
    pub address: String,
    pub auth_header: String,
    pub verify_cert: bool,
    pub event_types: Vec<String>,
    pub enabled: bool,
}

impl Default for PolicyForm {
    fn default() -> Self {
        PolicyForm {
            name: String::new(),
            description: String::new(),
            notify_type: NOTIFY_HTTP.to_owned(),
            payload_format: FORMAT_DEFAULT.to_owned(),
            address: String::new(),
            auth_header: String::new(),
            verify_cert: true,
            event_types: Vec::new(),
            enabled: true,
        }
    }
}

impl PolicyForm {
    /// The form for editing `policy` (its first target; the auth header is unknown: blank keeps it).
    pub fn of(policy: &WebhookPolicy) -> Self {
        let target = policy.targets.first().cloned().unwrap_or_default();
        PolicyForm {
            name: policy.name.clone(),
            description: policy.description.clone(),
            notify_type: target.notify_type,
            payload_format: if target.payload_format.is_empty() {
                FORMAT_DEFAULT.to_owned()
            } else {
                target.payload_format
            },
            address: target.address,
            auth_header: String::new(),
            verify_cert: !target.skip_cert_verify,
            event_types: policy.event_types.clone(),
            enabled: policy.enabled,
        }
    }

    /// The body of `POST` or `PUT …/webhook/policies`: one target; Slack takes no payload format; a blank
    /// auth header is left out.
    pub fn request(&self) -> Result<WebhookPolicy, String> {
        if self.name.trim().is_empty() {
            return Err("Enter a name for the webhook.".to_owned());
        }
        let address = self.address.trim();
        if !(address.starts_with("http://") || address.starts_with("https://")) {
            return Err("The endpoint URL starts with http:// or https://.".to_owned());
        }
        if self.event_types.is_empty() {
            return Err("Choose at least one event type.".to_owned());
        }
        let slack = self.notify_type == NOTIFY_SLACK;
        Ok(WebhookPolicy {
            name: self.name.trim().to_owned(),
            description: self.description.trim().to_owned(),
            targets: vec![WebhookTarget {
                notify_type: self.notify_type.clone(),
                address: address.to_owned(),
                auth_header: (!self.auth_header.trim().is_empty())
                    .then(|| self.auth_header.trim().to_owned()),
                skip_cert_verify: !self.verify_cert,
                payload_format: if slack {
                    String::new()
                } else {
                    self.payload_format.clone()
                },
            }],
            event_types: self.event_types.clone(),
            enabled: self.enabled,
            ..WebhookPolicy::default()
        })
    }
}

/// `/projects/{p}/webhook` for the project named `name`.
fn base(name: &str) -> String {
    format!("/projects/{}/webhook", encode_component(name))
}

/// A policy's key in the selection: its id.
fn key(policy: &WebhookPolicy) -> String {
    policy.id.to_string()
}

#[component]
pub fn WebhooksTab() -> impl IntoView {
    let ctx = use_project();
    let toasts = use_toasts();
    let list = ListControls::new();
    let policies = PagedList::<WebhookPolicy>::new(
        move || {
            let (page, size, _, _) = list.get();
            ctx.name()
                .map(|p| page_path(&format!("{}/policies", base(&p)), page, size, &[]))
        },
        list,
    );
    let may_write = Memo::new(move |_| ctx.can("notification-policy", "create"));
    let dialog_open = RwSignal::new(false);
    let fields = PolicyFields::new();
    let editing = RwSignal::new(None::<i64>);
    let deleting = DeleteFlow::new();
    let viewing = RwSignal::new(None::<(i64, String)>);
    let selection = Selection::new(policies.keys(key));

    let on_new = move |_| {
        fields.load(PolicyForm::default());
        editing.set(None);
        dialog_open.set(true);
    };
    let on_edit = Callback::new(move |()| {
        if let [policy] = policies.chosen(selection, key).as_slice() {
            fields.load(PolicyForm::of(policy));
            editing.set(Some(policy.id));
            dialog_open.set(true);
        }
    });
    let toggle = Callback::new(move |()| {
        let Some(project) = ctx.name() else {
            return;
        };
        if let [policy] = policies.chosen(selection, key).as_slice() {
            let mut body = policy.clone();
            body.enabled = !body.enabled;
            let path = format!("{}/policies/{}", base(&project), policy.id);
            let verb = if body.enabled { "Enabled" } else { "Disabled" };
            let name = policy.name.clone();
            leptos::task::spawn_local(async move {
                match api::put(&path, &body).await {
                    Ok(()) => {
                        toasts.success(format!("{verb} webhook {name}"));
                        policies.refresh();
                    }
                    Err(e) => toasts.error(e.message),
                }
            });
        }
    });
    let on_delete = Callback::new(move |()| {
        let Some(project) = ctx.name() else {
            return;
        };
        deleting.ask_all(
            policies
                .chosen(selection, key)
                .into_iter()
                .map(|p| (format!("{}/policies/{}", base(&project), p.id), p.name))
                .collect(),
        );
    });
    let on_saved = Callback::new(move |message: String| {
        toasts.success(message);
        policies.refresh();
    });
    let rows = move || {
        policies.rows("7", "No webhooks yet", move |policy| {
            view! { <PolicyRow policy=policy selection=selection viewing=viewing/> }.into_any()
        })
    };
    view! {
        <section class="webhooks-tab" aria-label="Webhooks">
            <ListToolbar list=list fetch=policies.fetch() filter="">
                <When when=move || may_write.get()>
                    <button type="button" data-testid="new-webhook" on:click=on_new>"+ New Webhook"</button>
                    <ActionMenu selection=selection>
                        <MenuItem label="Edit" selection=selection needs=Needs::One hint="Choose one webhook"
                            on_select=on_edit/>
                        <MenuItem label="Enable / Disable" selection=selection needs=Needs::One
                            hint="Choose one webhook" on_select=toggle/>
                        <MenuItem label="Delete" danger=true selection=selection needs=Needs::Some
                            on_select=on_delete/>
                    </ActionMenu>
                </When>
            </ListToolbar>
            <ListTable list=list fetch=policies.fetch() selection=selection rows=rows>
                <th scope="col">"Name"</th>
                <th scope="col">"Enabled"</th>
                <th scope="col">"Notify Type"</th>
                <th scope="col">"Target"</th>
                <th scope="col">"Event Types"</th>
                <th scope="col">"Creator"</th>
                <th scope="col">"Creation Time"</th>
            </ListTable>
            {move || viewing.get().zip(ctx.name()).map(|((id, name), project)| view! {
                <Executions project=project policy_id=id policy_name=name/>
            })}
        </section>
        <PolicyDialog open=dialog_open fields=fields editing=editing on_saved=on_saved/>
        <DeleteDialog flow=deleting title="Delete Webhook"
            message=|names, n| format!("Delete {}?", what("webhook", "webhooks", names, n))
            done=|names, n| format!("Deleted {}", what("webhook", "webhooks", names, n))
            on_deleted=Callback::new(move |()| {
                viewing.set(None);
                policies.refresh();
            })/>
    }
}

#[component]
fn PolicyRow(
    policy: WebhookPolicy,
    selection: Selection,
    viewing: RwSignal<Option<(i64, String)>>,
) -> impl IntoView {
    let target = policy.targets.first().cloned().unwrap_or_default();
    let label = format!("Select webhook {}", policy.name);
    let (id, name) = (policy.id, policy.name.clone());
    let open = move |_| viewing.set(Some((id, name.clone())));
    view! {
        <tr data-webhook=policy.name.clone()>
            <SelectCell selection=selection key=key(&policy) label=label/>
            <td><button type="button" class="link" on:click=open>{policy.name.clone()}</button></td>
            <td>{if policy.enabled { "Enabled" } else { "Disabled" }}</td>
            <td>{target.notify_type}</td>
            <td class="webhook-address">{target.address}</td>
            <td>{policy.event_types.join(", ")}</td>
            <td>{policy.creator}</td>
            <td>{time(&policy.creation_time)}</td>
        </tr>
    }
}

/// The executions of one policy, newest first, each with its delivery's outcome and log.
#[component]
fn Executions(project: String, policy_id: i64, policy_name: String) -> impl IntoView {
    let path = format!("{}/policies/{policy_id}/executions", base(&project));
    let list = ListControls::new();
    let list_path = path.clone();
    let executions = PagedList::<Execution>::new(
        move || {
            let (page, size, _, _) = list.get();
            Some(page_path(&list_path, page, size, &[]))
        },
        list,
    );
    let rows = move || {
        let path = path.clone();
        executions.rows("6", "No events sent yet", move |execution| {
            view! { <ExecutionRow execution=execution base=path.clone()/> }.into_any()
        })
    };
    view! {
        <section class="webhook-executions" aria-label="Executions">
            <h3>"Executions of " {policy_name}</h3>
            <ListToolbar list=list fetch=executions.fetch() filter="">""</ListToolbar>
            <ListTable list=list fetch=executions.fetch() rows=rows>
                <th scope="col">"ID"</th>
                <th scope="col">"Event Type"</th>
                <th scope="col">"Status"</th>
                <th scope="col">"Response"</th>
                <th scope="col">"Start Time"</th>
                <th scope="col">"Log"</th>
            </ListTable>
        </section>
    }
}

#[component]
fn ExecutionRow(execution: Execution, base: String) -> impl IntoView {
    let tasks_path = format!("{base}/{}/tasks", execution.id);
    let task = Fetch::<Vec<Task>>::new(move || Some(tasks_path.clone()));
    let response = move || {
        task.ok()
            .and_then(|tasks| tasks.into_iter().next())
            .map(|t| {
                let code = t
                    .extra_attrs
                    .get("status_code")
                    .and_then(serde_json::Value::as_i64);
                match code {
                    Some(code) => {
                        format!("{code} ({} attempt{})", t.run_count, plural(t.run_count))
                    }
                    None => format!("— ({} attempt{})", t.run_count, plural(t.run_count)),
                }
            })
            .unwrap_or_default()
    };
    let event = execution
        .extra_attrs
        .get("event_type")
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_owned();
    let log = format!("/api/v2.0{base}/{id}/tasks/{id}/log", id = execution.id);
    view! {
        <tr data-execution=execution.id.to_string()>
            <td>{execution.id}</td>
            <td>{event}</td>
            <td class="execution-status">{execution.status.clone()}</td>
            <td class="webhook-response">{response}</td>
            <td>{time(&execution.start_time)}</td>
            <td><a href=log target="_blank" rel="noopener">"Log"</a></td>
        </tr>
    }
}

fn plural(n: i32) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// The dialog's fields, one signal each.
#[derive(Debug, Clone, Copy)]
struct PolicyFields {
    name: RwSignal<String>,
    description: RwSignal<String>,
    notify_type: RwSignal<String>,
    payload_format: RwSignal<String>,
    address: RwSignal<String>,
    auth_header: RwSignal<String>,
    verify: RwSignal<bool>,
    event_types: RwSignal<Vec<String>>,
    enabled: RwSignal<bool>,
}

impl PolicyFields {
    fn new() -> Self {
        let text = || RwSignal::new(String::new());
        PolicyFields {
            name: text(),
            description: text(),
            notify_type: text(),
            payload_format: text(),
            address: text(),
            auth_header: text(),
            verify: RwSignal::new(true),
            event_types: RwSignal::new(Vec::new()),
            enabled: RwSignal::new(true),
        }
    }

    fn load(&self, form: PolicyForm) {
        self.name.set(form.name);
        self.description.set(form.description);
        self.notify_type.set(form.notify_type);
        self.payload_format.set(form.payload_format);
        self.address.set(form.address);
        self.auth_header.set(form.auth_header);
        self.verify.set(form.verify_cert);
        self.event_types.set(form.event_types);
        self.enabled.set(form.enabled);
    }

    fn form(&self) -> PolicyForm {
        PolicyForm {
            name: self.name.get_untracked(),
            description: self.description.get_untracked(),
            notify_type: self.notify_type.get_untracked(),
            payload_format: self.payload_format.get_untracked(),
            address: self.address.get_untracked(),
            auth_header: self.auth_header.get_untracked(),
            verify_cert: self.verify.get_untracked(),
            event_types: self.event_types.get_untracked(),
            enabled: self.enabled.get_untracked(),
        }
    }
}

/// "Add Webhook", or "Edit Webhook" when `editing` holds the policy's id.
#[component]
fn PolicyDialog(
    open: RwSignal<bool>,
    fields: PolicyFields,
    editing: RwSignal<Option<i64>>,
    on_saved: Callback<String>,
) -> impl IntoView {
    let ctx = use_project();
    let PolicyFields {
        name,
        description,
        notify_type,
        payload_format,
        address,
        auth_header,
        verify,
        event_types,
        enabled: _,
    } = fields;
    let status = FormStatus::new();
    let supported = Fetch::<SupportedWebhookEventTypes>::new(move || {
        open.get()
            .then(|| ctx.name().map(|p| format!("{}/events", base(&p))))
            .flatten()
    });
    Effect::new(move |_| {
        if open.get() {
            status.error.set(None);
        }
    });
    let title = Signal::derive(move || {
        if editing.get().is_some() {
            "Edit Webhook"
        } else {
            "Add Webhook"
        }
        .to_owned()
    });
    let event_boxes = move || {
        supported
            .ok()
            .map(|s| s.event_type)
            .unwrap_or_default()
            .into_iter()
            .map(|event| {
                let id = format!("webhook_event_{}", event.to_lowercase());
                let checked_event = event.clone();
                let toggled_event = event.clone();
                let checked = move || event_types.with(|e| e.contains(&checked_event));
                let toggle = move |_| {
                    event_types.update(|e| {
                        if let Some(i) = e.iter().position(|x| *x == toggled_event) {
                            e.remove(i);
                        } else {
                            e.push(toggled_event.clone());
                        }
                    });
                };
                let for_id = id.clone();
                view! {
                    <label class="checkbox" for=for_id>
                        <input id=id type="checkbox" prop:checked=checked on:change=toggle/>
                        {event}
                    </label>
                }
            })
            .collect_view()
    };
    let submit = Callback::new(move |()| {
        let Some(project) = ctx.name() else {
            return;
        };
        let form = fields.form();
        let body = match form.request() {
            Ok(body) => body,
            Err(message) => return status.fail(message),
        };
        let id = editing.get_untracked();
        let saved_name = body.name.clone();
        status.send(
            Box::pin(async move {
                match id {
                    Some(id) => api::put(&format!("{}/policies/{id}", base(&project)), &body).await,
                    None => api::post(&format!("{}/policies", base(&project)), &body).await,
                }
            }),
            Box::new(move |()| {
                open.set(false);
                on_saved.run(if id.is_some() {
                    format!("Saved webhook {saved_name}")
                } else {
                    format!("Created webhook {saved_name}")
                });
            }),
        );
    });
    let header_hint = move || {
        editing.get().is_some().then(
            || view! { <p class="hint form-wide">"Leave blank to keep the stored header."</p> },
        )
    };
    let is_http = move || notify_type.with(|t| t != NOTIFY_SLACK);
    view! {
        <FormDialog open=open title=title status=status on_submit=submit class="form-grid">
            <label for="webhook_name">"Name"</label>
            <input id="webhook_name" type="text" required autocomplete="off" bind:value=name/>
            <label for="webhook_description">"Description"</label>
            <input id="webhook_description" type="text" autocomplete="off" bind:value=description/>
            <label for="webhook_notify_type">"Notify Type"</label>
            <select id="webhook_notify_type" on:change=move |ev| notify_type.set(event_target_value(&ev))>
                <option value=NOTIFY_HTTP selected=move || notify_type.with(|t| t == NOTIFY_HTTP)>"http"</option>
                <option value=NOTIFY_SLACK selected=move || notify_type.with(|t| t == NOTIFY_SLACK)>"slack"</option>
            </select>
            <When when=is_http>
                <label for="webhook_payload_format">"Payload Format"</label>
                <select id="webhook_payload_format"
                    on:change=move |ev| payload_format.set(event_target_value(&ev))>
                    <option value=FORMAT_DEFAULT
                        selected=move || payload_format.with(|f| f == FORMAT_DEFAULT)>"Default"</option>
                    <option value=FORMAT_CLOUDEVENTS
                        selected=move || payload_format.with(|f| f == FORMAT_CLOUDEVENTS)>"CloudEvents"</option>
                </select>
            </When>
            <span class="form-label">"Event Type"</span>
            <div class="webhook-events">{event_boxes}</div>
            <label for="webhook_address">"Endpoint URL"</label>
            <input id="webhook_address" type="text" required autocomplete="off" placeholder="https://"
                bind:value=address/>
            <When when=is_http>
                <label for="webhook_auth_header">"Auth Header"</label>
                <input id="webhook_auth_header" type="password" autocomplete="new-password"
                    bind:value=auth_header/>
                {header_hint}
            </When>
            <span class="form-label">"Verify Remote Certificate"</span>
            <label class="checkbox">
                <input id="webhook_verify_cert" type="checkbox" bind:checked=verify/>
                "Verify Remote Certificate"
            </label>
        </FormDialog>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> PolicyForm {
        PolicyForm {
            name: " ci ".to_owned(),
            address: " https://ci.example/hook ".to_owned(),
            auth_header: "Bearer t".to_owned(),
            event_types: vec!["PUSH_ARTIFACT".to_owned()],
            ..PolicyForm::default()
        }
    }

    #[test]
    fn new_webhooks_send_harbors_policy_shape() -> Result<(), String> {
        let body = serde_json::to_value(form().request()?).map_err(|e| e.to_string())?;
        assert_eq!(body["name"], "ci");
        assert_eq!(body["enabled"], true);
        assert_eq!(body["event_types"], serde_json::json!(["PUSH_ARTIFACT"]));
        assert_eq!(
            body["targets"],
            serde_json::json!([{"type": "http", "address": "https://ci.example/hook",
                "auth_header": "Bearer t", "skip_cert_verify": false, "payload_format": "Default"}])
        );
        let slack = PolicyForm {
            notify_type: "slack".to_owned(),
            payload_format: "CloudEvents".to_owned(),
            auth_header: String::new(),
            ..form()
        };
        let body = serde_json::to_value(slack.request()?).map_err(|e| e.to_string())?;
        assert_eq!(
            body["targets"],
            serde_json::json!([{"type": "slack", "address": "https://ci.example/hook",
                "skip_cert_verify": false}])
        );
        Ok(())
    }

    #[test]
    fn the_form_needs_a_name_an_http_url_and_an_event() {
        for bad in [
            PolicyForm {
                name: " ".to_owned(),
                ..form()
            },
            PolicyForm {
                address: "ci.example".to_owned(),
                ..form()
            },
            PolicyForm {
                event_types: Vec::new(),
                ..form()
            },
        ] {
            assert!(bad.request().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn editing_starts_from_the_policy_without_its_header() -> Result<(), serde_json::Error> {
        let policy: WebhookPolicy = serde_json::from_value(serde_json::json!({
            "id": 3, "name": "ci", "enabled": false, "event_types": ["PULL_ARTIFACT"],
            "targets": [{"type": "http", "address": "http://x.example/h", "skip_cert_verify": true,
                         "payload_format": "CloudEvents"}]}))?;
        let form = PolicyForm::of(&policy);
        assert_eq!(form.payload_format, "CloudEvents");
        assert_eq!(form.auth_header, "");
        assert!(!form.verify_cert);
        assert!(!form.enabled);
        assert_eq!(form.event_types, ["PULL_ARTIFACT"]);
        Ok(())
    }
}
