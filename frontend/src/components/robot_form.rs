//! Robot accounts, shared by a project's Robot Accounts tab and Administration → Robot Accounts: the list
//! ([`RobotList`], with Harbor's row selection and Action menu: edit, enable or disable, refresh the secret,
//! delete the chosen robots after one confirmation), the create/edit dialog ([`RobotDialog`]: name, description, expiration and a resource ×
//! action permission matrix), and the dialog that shows a secret once ([`RobotSecretDialog`]).
//!
//! The mapping between the dialog and Harbor's `RobotCreate` is plain functions ([`robot_request`],
//! [`update_request`], [`form_of`]) with unit tests. A project robot holds permissions in its project only;
//! a system robot holds the same project permissions in the projects it covers, or in all of them
//! (`namespace: "*"`). Berth's `POST /robots` accepts `kind: "project"` permissions only.

use std::collections::BTreeSet;

use berth_api::robots::{Access, Robot, RobotCreate, RobotCreated, RobotPermission, RobotSec};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::answers::Project;
use crate::api::{self, query_string};
use crate::components::action_menu::{ActionMenu, MenuItem, Needs};
use crate::components::copy_button::CopyButton;
use crate::components::dialog::{
    ConfirmDialog, DeleteDialog, DeleteFlow, Dialog, FormDialog, FormStatus, next_id, what,
};
use crate::components::fetch::Fetch;
use crate::components::select_table::{SelectCell, Selection};
use crate::components::table::{
    ListControls, ListTable, ListToolbar, PagedList, Sort, SortHeader, fuzzy, page_path,
};
use crate::components::toast::use_toasts;
use crate::components::when::When;
use crate::format;

/// Every robot's name starts with this (Harbor's `robot$`).
pub const PREFIX: &str = "robot$";

/// The project permissions the dialog offers: `(resource, label, actions)`. These are the pairs of Harbor's
/// robot permissions that Berth's policy gives a meaning (`server/src/auth/policy.rs`: `Resource` and
/// `Operation`) and that a project admin holds, so the server grants them (it refuses what the creator lacks).
pub const PERMISSION_ROWS: &[(&str, &str, &[&str])] = &[
    (
        "repository",
        "Repository",
        &["list", "pull", "push", "delete"],
    ),
    ("artifact", "Artifact", &["read", "list", "delete"]),
    ("tag", "Tag", &["list", "create", "delete"]),
    ("metadata", "Configuration", &["read"]),
    ("quota", "Quota", &["read"]),
    ("log", "Log", &["list"]),
];

/// The matrix's columns, in order.
pub const ACTION_COLUMNS: [&str; 6] = ["list", "read", "pull", "push", "create", "delete"];

/// What a new robot is given until the user changes it.
pub const DEFAULT_GRANTS: &[(&str, &str)] = &[("repository", "pull")];

/// The default expiration offered, in days (Harbor's default robot token duration).
pub const DEFAULT_DAYS: i64 = 30;

/// One granted `(resource, action)`.
pub type Grant = (String, String);

/// Where a robot's permissions apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RobotScope {
    /// A project robot of this project.
    Project { id: i64, name: String },
    /// A system robot.
    System,
}

impl RobotScope {
    /// The project of a project robot.
    pub fn project(&self) -> Option<&str> {
        match self {
            RobotScope::Project { name, .. } => Some(name),
            RobotScope::System => None,
        }
    }

    /// Harbor's `level`.
    pub fn level(&self) -> &'static str {
        match self {
            RobotScope::Project { .. } => "project",
            RobotScope::System => "system",
        }
    }

    /// What the full name looks like before the chosen part: `robot$team+` or `robot$`.
    pub fn name_prefix(&self) -> String {
        match self {
            RobotScope::Project { name, .. } => format!("{PREFIX}{name}+"),
            RobotScope::System => PREFIX.to_owned(),
        }
    }
}

/// Which projects a system robot covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Coverage {
    /// Every project, present and future (`namespace: "*"`).
    AllProjects,
    /// These projects, by name.
    Projects(Vec<String>),
}

/// When a robot expires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    Never,
    Days(i64),
}

impl Expiry {
    /// Harbor's `duration`: days, or -1 for never.
    pub fn duration(self) -> i64 {
        match self {
            Expiry::Never => -1,
            Expiry::Days(days) => days,
        }
    }
}

/// What the dialog holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RobotForm {
    /// The chosen part of the name, without `robot$` (and the project).
    pub name: String,
    pub description: String,
    pub expiry: Expiry,
    /// For a system robot; a project robot always covers its project only.
    pub coverage: Coverage,
    /// Granted pairs; may hold pairs the matrix does not offer (kept as they were when editing).
    pub granted: BTreeSet<Grant>,
}

impl Default for RobotForm {
    fn default() -> Self {
        RobotForm {
            name: String::new(),
            description: String::new(),
            expiry: Expiry::Days(DEFAULT_DAYS),
            coverage: Coverage::Projects(Vec::new()),
            granted: DEFAULT_GRANTS
                .iter()
                .map(|(r, a)| ((*r).to_owned(), (*a).to_owned()))
                .collect(),
        }
    }
}

/// Whether the matrix offers `(resource, action)`.
pub fn offered(resource: &str, action: &str) -> bool {
    PERMISSION_ROWS
        .iter()
        .any(|(r, _, actions)| *r == resource && actions.contains(&action))
}

/// Every pair the matrix offers, in its order.
pub fn all_offered() -> Vec<Grant> {
    PERMISSION_ROWS
        .iter()
        .flat_map(|(r, _, actions)| actions.iter().map(|a| ((*r).to_owned(), (*a).to_owned())))
        .collect()
}

/// Harbor's rule for a robot name, an OCI path component: lower-case letters and digits, separated by `.`,
/// `_`, `__` or dashes; at most 128 characters.
pub fn check_robot_name(name: &str) -> Result<(), String> {
    const RULE: &str =
        "A robot name has lower-case letters and digits, separated by '.', '_', '__' or dashes.";
    if name.is_empty() {
        return Err("Enter a name.".to_owned());
    }
    if name.len() > 128 {
        return Err("A robot name has at most 128 characters.".to_owned());
    }
    let mut separator = String::new();
    let mut seen_alnum = false;
    for c in name.chars() {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            let allowed = separator.is_empty()
                || separator == "."
                || separator == "_"
                || separator == "__"
                || separator.chars().all(|s| s == '-');
            if !allowed {
                return Err(RULE.to_owned());
            }
            separator.clear();
            seen_alnum = true;
        } else if matches!(c, '.' | '_' | '-') && seen_alnum {
            separator.push(c);
        } else {
            return Err(RULE.to_owned());
        }
    }
    if separator.is_empty() {
        Ok(())
    } else {
        Err(RULE.to_owned())
    }
}

/// The dialog's expiration: never, or a whole number of days (at least 1).
pub fn parse_expiry(never: bool, days: &str) -> Result<Expiry, String> {
    if never {
        return Ok(Expiry::Never);
    }
    match days.trim().parse::<i64>() {
        Ok(days) if (1..=36_500).contains(&days) => Ok(Expiry::Days(days)),
        _ => Err("The expiration is a whole number of days (1 to 36500), or Never.".to_owned()),
    }
}

/// Harbor's permission list for `namespaces`, each granted the same pairs: the matrix's order first, then
/// any other pairs in name order.
pub fn robot_permissions(namespaces: &[String], granted: &BTreeSet<Grant>) -> Vec<RobotPermission> {
    let mut access: Vec<Access> = all_offered()
        .into_iter()
        .filter(|g| granted.contains(g))
        .chain(granted.iter().filter(|(r, a)| !offered(r, a)).cloned())
        .map(|(resource, action)| Access {
            resource,
            action,
            effect: None,
        })
        .collect();
    access.dedup();
    namespaces
        .iter()
        .map(|namespace| RobotPermission {
            kind: "project".to_owned(),
            namespace: namespace.clone(),
            access: access.clone(),
        })
        .collect()
}

/// The namespaces the form's permissions apply to, or why there are none.
fn namespaces(form: &RobotForm, scope: &RobotScope) -> Result<Vec<String>, String> {
    match (scope, &form.coverage) {
        (RobotScope::Project { name, .. }, _) => Ok(vec![name.clone()]),
        (RobotScope::System, Coverage::AllProjects) => Ok(vec!["*".to_owned()]),
        (RobotScope::System, Coverage::Projects(names)) if names.is_empty() => {
            Err("Choose at least one project, or all projects.".to_owned())
        }
        (RobotScope::System, Coverage::Projects(names)) => Ok(names.clone()),
    }
}

/// The body of `POST /robots` for the form, or why it cannot be sent.
pub fn robot_request(form: &RobotForm, scope: &RobotScope) -> Result<RobotCreate, String> {
    let name = form.name.trim();
    check_robot_name(name)?;
    if form.granted.is_empty() {
        return Err("Choose at least one permission.".to_owned());
    }
    let namespaces = namespaces(form, scope)?;
    Ok(RobotCreate {
        name: name.to_owned(),
        description: form.description.trim().to_owned(),
        secret: None,
        level: scope.level().to_owned(),
        disable: false,
        duration: form.expiry.duration(),
        permissions: robot_permissions(&namespaces, &form.granted),
    })
}

/// The body of `PUT /robots/{id}` that saves the form over `robot` (Harbor sends the whole robot; the name
/// and level stay; the expiry is recomputed by the server only when the duration changed).
pub fn update_request(
    robot: &Robot,
    form: &RobotForm,
    scope: &RobotScope,
) -> Result<RobotCreate, String> {
    if form.granted.is_empty() {
        return Err("Choose at least one permission.".to_owned());
    }
    let namespaces = namespaces(form, scope)?;
    Ok(RobotCreate {
        name: robot.name.clone(),
        description: form.description.trim().to_owned(),
        secret: None,
        level: robot.level.clone(),
        disable: robot.disable,
        duration: form.expiry.duration(),
        permissions: robot_permissions(&namespaces, &form.granted),
    })
}

/// The body of `PUT /robots/{id}` that enables or disables `robot`, leaving everything else as it is.
pub fn toggled_request(robot: &Robot, disable: bool) -> RobotCreate {
    RobotCreate {
        name: robot.name.clone(),
        description: robot.description.clone(),
        secret: None,
        level: robot.level.clone(),
        disable,
        duration: robot.duration,
        permissions: robot.permissions.clone(),
    }
}

/// The name without `robot$` and, for a project robot, without `project+`.
pub fn short_name(full: &str) -> &str {
    let name = full.strip_prefix(PREFIX).unwrap_or(full);
    name.split_once('+').map_or(name, |(_, rest)| rest)
}

/// The form for editing `robot`: its permissions read back (`effect: deny` entries grant nothing, and are
/// left out).
pub fn form_of(robot: &Robot) -> RobotForm {
    let live = |p: &&RobotPermission| p.kind == "project";
    let granted: BTreeSet<Grant> = robot
        .permissions
        .iter()
        .filter(live)
        .flat_map(|p| p.access.iter())
        .filter(|a| a.effect.as_deref() != Some("deny"))
        .map(|a| (a.resource.clone(), a.action.clone()))
        .collect();
    let namespaces: Vec<String> = robot
        .permissions
        .iter()
        .filter(live)
        .map(|p| p.namespace.clone())
        .collect();
    let coverage = if namespaces.iter().any(|n| n == "*") {
        Coverage::AllProjects
    } else {
        let mut names = namespaces;
        names.sort();
        names.dedup();
        Coverage::Projects(names)
    };
    RobotForm {
        name: short_name(&robot.name).to_owned(),
        description: robot.description.clone(),
        expiry: if robot.duration < 0 {
            Expiry::Never
        } else {
            Expiry::Days(robot.duration)
        },
        coverage,
        granted,
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The Permissions column: `3 permissions`, and for a system robot where they apply.
pub fn permission_summary(robot: &Robot) -> String {
    let form = form_of(robot);
    let count = plural(form.granted.len(), "permission", "permissions");
    if robot.level != "system" {
        return count;
    }
    match form.coverage {
        Coverage::AllProjects => format!("{count} in all projects"),
        Coverage::Projects(names) => {
            format!("{count} in {}", plural(names.len(), "project", "projects"))
        }
    }
}

/// The "Expires in" column, from `expires_at` (unix seconds, -1 never) and the time now.
pub fn expires_in(expires_at: i64, now: i64) -> String {
    if expires_at < 0 {
        return "Never".to_owned();
    }
    let left = expires_at - now;
    if left <= 0 {
        return "Expired".to_owned();
    }
    let days = left / 86_400;
    let hours = left % 86_400 / 3_600;
    let minutes = (left % 3_600 + 59) / 60;
    if days > 0 {
        format!("{days}d {hours}h")
    } else if hours > 0 {
        format!("{hours}h {minutes}m")
    } else {
        format!("{}m", minutes.max(1))
    }
}

/// Whether `robot` has expired at `now`.
pub fn is_expired(robot: &Robot, now: i64) -> bool {
    robot.expires_at >= 0 && robot.expires_at <= now
}

/// The time now, in unix seconds.
pub fn now_secs() -> i64 {
    #[cfg(target_arch = "wasm32")]
    {
        (js_sys::Date::now() / 1000.0) as i64
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64)
    }
}

/// The list's API path: the scope's robots (Harbor's `q=Level=project,ProjectID=N` or `q=Level=system`),
/// a name part, a page and a sort order.
pub fn robot_list_path(
    scope: &RobotScope,
    page: u32,
    page_size: u32,
    name: &str,
    sort: Option<Sort>,
) -> String {
    let level = match scope {
        RobotScope::Project { id, .. } => format!("Level=project,ProjectID={id}"),
        RobotScope::System => "Level=system".to_owned(),
    };
    let q = match fuzzy("name", name) {
        name if name.is_empty() => level,
        name => format!("{level},{name}"),
    };
    page_path(
        "/robots",
        page,
        page_size,
        &[("q", q), ("sort", Sort::param(sort))],
    )
}

/// The "Export to file" link: a JSON file with the name and the secret, as Harbor's portal exports it.
pub fn export_href(name: &str, secret: &str) -> String {
    let json = serde_json::json!({ "name": name, "secret": secret }).to_string();
    format!(
        "data:application/json;charset=utf-8,{}",
        api::encode_component(&json)
    )
}

/// A secret to show once: the dialog's title, the robot's full name and the secret.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShownSecret {
    pub title: String,
    pub name: String,
    pub secret: String,
}

/// The robots of `scope`, with Harbor's actions as far as the user may take them.
#[component]
pub fn RobotList(
    scope: RobotScope,
    #[prop(into)] can_create: Signal<bool>,
    #[prop(into)] can_update: Signal<bool>,
    #[prop(into)] can_delete: Signal<bool>,
) -> impl IntoView {
    let list = ListControls::new();
    let toasts = use_toasts();
    let list_scope = scope.clone();
    let robots = PagedList::<Robot>::new(
        move || {
            let (page, size, name, sort) = list.get();
            Some(robot_list_path(&list_scope, page, size, &name, sort))
        },
        list,
    );
    let refresh = move || robots.refresh();

    // The create/edit dialog and the secret dialog.
    let dialog_open = RwSignal::new(false);
    let editing = RwSignal::new(None::<Robot>);
    let secret_open = RwSignal::new(false);
    let shown = RwSignal::new(ShownSecret::default());
    let show_secret = move |secret: ShownSecret| {
        shown.set(secret);
        secret_open.set(true);
    };
    let on_created = Callback::new(move |created: RobotCreated| {
        toasts.success(format!("Created robot account {}", created.name));
        show_secret(ShownSecret {
            title: "Robot account created".to_owned(),
            name: created.name,
            secret: created.secret,
        });
        refresh();
    });
    let on_saved = Callback::new(move |name: String| {
        toasts.success(format!("Saved robot account {name}"));
        refresh();
    });
    let selection = Selection::new(robots.keys(robot_key));
    // The one chosen robot, for the actions that take one.
    let single = move || match robots.chosen(selection, robot_key).as_slice() {
        [robot] => Some(robot.clone()),
        _ => None,
    };
    let on_edit = Callback::new(move |()| {
        if let Some(robot) = single() {
            editing.set(Some(robot));
            dialog_open.set(true);
        }
    });

    let on_toggle = Callback::new(move |()| {
        let Some(robot) = single() else {
            return;
        };
        let disable = !robot.disable;
        let body = toggled_request(&robot, disable);
        spawn_local(async move {
            match api::put(&format!("/robots/{}", robot.id), &body).await {
                Ok(()) => {
                    let done = if disable { "Disabled" } else { "Enabled" };
                    toasts.success(format!("{done} robot account {}", robot.name));
                    refresh();
                }
                Err(e) => toasts.error(e.message),
            }
        });
    });

    // Refreshing the secret and deleting ask first.
    let target = RwSignal::new(None::<Robot>);
    let refresh_open = RwSignal::new(false);
    let confirming = FormStatus::new();
    let on_refresh = Callback::new(move |()| {
        if let Some(robot) = single() {
            target.set(Some(robot));
            confirming.error.set(None);
            refresh_open.set(true);
        }
    });
    let deleting = DeleteFlow::new();
    let on_delete = Callback::new(move |()| {
        deleting.ask_all(
            robots
                .chosen(selection, robot_key)
                .into_iter()
                .map(|r| (format!("/robots/{}", r.id), r.name))
                .collect(),
        );
    });
    let confirm_refresh = Callback::new(move |()| {
        let Some(robot) = target.get_untracked() else {
            return;
        };
        let path = format!("/robots/{}", robot.id);
        confirming.send(
            Box::pin(async move { api::patch_json(&path, &RobotSec::default()).await }),
            Box::new(move |answer: RobotSec| match answer.secret {
                Some(secret) => {
                    refresh_open.set(false);
                    show_secret(ShownSecret {
                        title: "Secret refreshed".to_owned(),
                        name: robot.name,
                        secret,
                    });
                }
                None => confirming.fail("The server did not return the new secret.".to_owned()),
            }),
        );
    });
    let target_name =
        move || target.with(|t| t.as_ref().map(|r| r.name.clone()).unwrap_or_default());

    // What the chosen robot allows: editing needs an editable robot, as in Harbor.
    let may_update =
        Signal::derive(move || can_update.get() && single().is_some_and(|r| r.editable));
    let toggle_label = Signal::derive(move || {
        if single().is_some_and(|r| r.disable) {
            "Enable".to_owned()
        } else {
            "Disable".to_owned()
        }
    });
    let rows = move || {
        let now = now_secs();
        robots.rows("7", "No robot accounts", move |robot| {
            view! { <RobotRow robot=robot now=now selection=selection/> }.into_any()
        })
    };

    view! {
        <div class="robots">
            <ListToolbar list=list fetch=robots.fetch() filter="Filter robot accounts by name">
                <When when=move || can_create.get()>
                    <button type="button" on:click=move |_| {
                        editing.set(None);
                        dialog_open.set(true);
                    }>"+ New Robot Account"</button>
                </When>
                <ActionMenu selection=selection
                    shown=Signal::derive(move || can_update.get() || can_delete.get())>
                    <MenuItem label="Edit" selection=selection needs=Needs::One allowed=may_update
                        hint="Choose one robot account you may edit" on_select=on_edit/>
                    <MenuItem label=toggle_label selection=selection needs=Needs::One allowed=may_update
                        hint="Choose one robot account you may edit" on_select=on_toggle/>
                    <MenuItem label="Refresh Secret" selection=selection needs=Needs::One allowed=may_update
                        hint="Choose one robot account you may edit" on_select=on_refresh/>
                    <MenuItem label="Delete" danger=true selection=selection needs=Needs::Some
                        allowed=can_delete hint="Your role does not delete robot accounts" on_select=on_delete/>
                </ActionMenu>
            </ListToolbar>
            <ListTable list=list fetch=robots.fetch() selection=selection class="robot-list" rows=rows>
                <SortHeader label="Name" key="name" list=list/>
                <th scope="col">"Status"</th>
                <th scope="col">"Permissions"</th>
                <SortHeader label="Creation Time" key="creation_time" list=list/>
                <th scope="col">"Expires in"</th>
                <th scope="col">"Description"</th>
            </ListTable>
        </div>
        <RobotDialog open=dialog_open scope=scope editing=editing on_created=on_created on_saved=on_saved/>
        <RobotSecretDialog open=secret_open shown=shown/>
        <ConfirmDialog
            open=refresh_open
            title="Refresh Secret"
            message=Signal::derive(move || format!(
                "Give robot account {} a new secret? The current secret stops working at once.",
                target_name()
            ))
            confirm_label="Refresh"
            busy=confirming.busy
            error=confirming.error
            on_confirm=confirm_refresh
        />
        <DeleteDialog flow=deleting title="Delete Robot Account"
            message=|names, n| format!(
                "Delete {}? This cannot be undone.",
                what("robot account", "robot accounts", names, n)
            )
            done=|names, n| format!("Deleted {}", what("robot account", "robot accounts", names, n))
            on_deleted=Callback::new(move |()| refresh())/>
    }
}

/// A robot's key in the selection: its id.
fn robot_key(robot: &Robot) -> String {
    robot.id.to_string()
}

#[component]
fn RobotRow(robot: Robot, now: i64, selection: Selection) -> impl IntoView {
    let name = robot.name.clone();
    let status = if robot.disable { "Disabled" } else { "Enabled" };
    let expired = is_expired(&robot, now);
    let expires = expires_in(robot.expires_at, now);
    let permissions = permission_summary(&robot);
    let created = format::time(&robot.creation_time);
    let label = format!("Select {name}");
    let row_name = name.clone();
    view! {
        <tr data-robot=row_name>
            <SelectCell selection=selection key=robot_key(&robot) label=label/>
            <td class="robot-name">{name}</td>
            <td>
                <span class="robot-status" class:robot-disabled=robot.disable>{status}</span>
            </td>
            <td class="robot-permissions-cell">{permissions}</td>
            <td>{created}</td>
            <td class:robot-expired=expired>{expires}</td>
            <td class="robot-description">{robot.description}</td>
        </tr>
    }
}

/// The robot-account dialog: creates a robot of `scope` (then `on_created` gets the name and the secret),
/// or saves `editing` (then `on_saved` gets its name).
#[component]
pub fn RobotDialog(
    open: RwSignal<bool>,
    scope: RobotScope,
    /// The robot to edit; `None` to create one.
    #[prop(into)]
    editing: Signal<Option<Robot>>,
    on_created: Callback<RobotCreated>,
    on_saved: Callback<String>,
) -> impl IntoView {
    let uid = next_id();
    let id = move |what: &str| format!("robot-{what}-{uid}");
    let name = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let never = RwSignal::new(false);
    let days = RwSignal::new(DEFAULT_DAYS.to_string());
    let all_projects = RwSignal::new(false);
    let projects = RwSignal::new(Vec::<String>::new());
    let granted = RwSignal::new(BTreeSet::<Grant>::new());
    let status = FormStatus::new();
    let error = status.error;
    let system = scope == RobotScope::System;
    Effect::new(move |_| {
        if !open.get() {
            return;
        }
        let form = editing
            .with_untracked(|e| e.as_ref().map(form_of))
            .unwrap_or_default();
        name.set(form.name);
        description.set(form.description);
        match form.expiry {
            Expiry::Never => {
                never.set(true);
                days.set(DEFAULT_DAYS.to_string());
            }
            Expiry::Days(d) => {
                never.set(false);
                days.set(d.to_string());
            }
        }
        match form.coverage {
            Coverage::AllProjects => {
                all_projects.set(true);
                projects.set(Vec::new());
            }
            Coverage::Projects(names) => {
                all_projects.set(false);
                projects.set(names);
            }
        }
        granted.set(form.granted);
        error.set(None);
    });
    // An explanation goes away as soon as the user edits what it was about.
    Effect::new(move |_| {
        name.track();
        days.track();
        never.track();
        all_projects.track();
        projects.track();
        granted.track();
        error.set(None);
    });
    let is_edit = move || editing.with(|e| e.is_some());
    let title = Signal::derive(move || {
        if is_edit() {
            "Edit Robot Account".to_owned()
        } else {
            "New Robot Account".to_owned()
        }
    });
    let submit_scope = scope.clone();
    let submit = Callback::new(move |()| {
        let expiry = match parse_expiry(never.get_untracked(), &days.get_untracked()) {
            Ok(expiry) => expiry,
            Err(message) => return status.fail(message),
        };
        let form = RobotForm {
            name: name.get_untracked(),
            description: description.get_untracked(),
            expiry,
            coverage: if all_projects.get_untracked() {
                Coverage::AllProjects
            } else {
                Coverage::Projects(projects.get_untracked())
            },
            granted: granted.get_untracked(),
        };
        let edited = editing.get_untracked();
        let body = match &edited {
            Some(robot) => update_request(robot, &form, &submit_scope),
            None => robot_request(&form, &submit_scope),
        };
        let body = match body {
            Ok(body) => body,
            Err(message) => return status.fail(message),
        };
        let saved = edited.as_ref().map(|robot| (robot.id, robot.name.clone()));
        status.send(
            // A new robot's answer carries its secret; a saved one's nothing.
            Box::pin(async move {
                match edited {
                    Some(robot) => api::put(&format!("/robots/{}", robot.id), &body)
                        .await
                        .map(|()| None),
                    None => api::post_json("/robots", &body).await.map(Some),
                }
            }),
            Box::new(move |created: Option<RobotCreated>| {
                open.set(false);
                match (created, saved) {
                    (Some(created), _) => on_created.run(created),
                    (None, Some((_, name))) => on_saved.run(name),
                    (None, None) => {}
                }
            }),
        );
    });
    let prefix = scope.name_prefix();
    let submit_label = Signal::derive(move || if is_edit() { "Save" } else { "Add" });
    view! {
        <FormDialog open=open title=title status=status on_submit=submit class="form-grid robot-form"
            submit_label=submit_label busy_label="Saving…">
            <label for=id("name")>"Name"</label>
            <div class="robot-name-input">
                <span class="robot-prefix" id=id("prefix")>{prefix}</span>
                <input id=id("name") type="text" required maxlength="128" autocomplete="off"
                    aria-describedby=id("prefix") disabled=is_edit bind:value=name/>
            </div>
            <label for=id("description")>"Description"</label>
            <textarea id=id("description") rows="2" bind:value=description></textarea>
            <label for=id("days")>"Expiration time"</label>
            <div class="inline">
                <input id=id("days") type="number" min="1" step="1" class="short"
                    disabled=move || never.get() bind:value=days/>
                <span class="muted">"days"</span>
                <label class="checkbox">
                    <input id=id("never") type="checkbox" bind:checked=never/>
                    "Never expires"
                </label>
            </div>
            {system.then(|| view! {
                <span class="form-label">"Projects"</span>
                <ProjectPicker all=all_projects selected=projects/>
            })}
            <span class="form-label" id=id("perms")>"Permissions"</span>
            <PermissionMatrix granted=granted labelled_by=id("perms")/>
        </FormDialog>
    }
}

/// The resource × action checkbox matrix over `granted`.
#[component]
fn PermissionMatrix(granted: RwSignal<BTreeSet<Grant>>, labelled_by: String) -> impl IntoView {
    let others = move || granted.with(|g| g.iter().filter(|(r, a)| !offered(r, a)).count());
    view! {
        <div class="robot-permissions form-wide">
            <div class="inline">
                <button type="button" class="secondary small"
                    on:click=move |_| granted.update(|g| g.extend(all_offered()))>"Select all"</button>
                <button type="button" class="secondary small"
                    on:click=move |_| granted.update(|g| g.retain(|(r, a)| !offered(r, a)))>"Clear"</button>
            </div>
            <table class="robot-matrix" aria-labelledby=labelled_by>
                <thead>
                    <tr>
                        <th scope="col">"Resource"</th>
                        {ACTION_COLUMNS.iter().map(|a| view! { <th scope="col">{*a}</th> }).collect_view()}
                    </tr>
                </thead>
                <tbody>
                    {PERMISSION_ROWS
                        .iter()
                        .map(|(resource, label, actions)| {
                            let cells = ACTION_COLUMNS
                                .iter()
                                .map(|action| {
                                    if !actions.contains(action) {
                                        return view! { <td></td> }.into_any();
                                    }
                                    let grant = ((*resource).to_owned(), (*action).to_owned());
                                    let checked = {
                                        let grant = grant.clone();
                                        move || granted.with(|g| g.contains(&grant))
                                    };
                                    view! {
                                        <td>
                                            <label class="matrix-cell">
                                                <input type="checkbox" prop:checked=checked
                                                    on:change=move |ev| {
                                                        let on = event_target_checked(&ev);
                                                        let grant = grant.clone();
                                                        granted.update(|g| {
                                                            if on {
                                                                g.insert(grant);
                                                            } else {
                                                                g.remove(&grant);
                                                            }
                                                        });
                                                    }/>
                                                <span class="visually-hidden">{format!("{label}: {action}")}</span>
                                            </label>
                                        </td>
                                    }
                                    .into_any()
                                })
                                .collect_view();
                            view! { <tr><th scope="row">{*label}</th>{cells}</tr> }
                        })
                        .collect_view()}
                </tbody>
            </table>
            <When when=move || { others() > 0 }>
                <p class="hint">{move || format!(
                    "Also keeps {} set through the API.",
                    plural(others(), "other permission", "other permissions")
                )}</p>
            </When>
        </div>
    }
}

/// A system robot's projects: all of them, or those ticked in a list filtered by name on the server.
#[component]
fn ProjectPicker(all: RwSignal<bool>, selected: RwSignal<Vec<String>>) -> impl IntoView {
    let uid = next_id();
    let all_id = format!("robot-all-projects-{uid}");
    let all_for = all_id.clone();
    let filter = RwSignal::new(String::new());
    let found = Fetch::<Vec<Project>>::new(move || {
        let name = filter.get();
        let q = if name.trim().is_empty() {
            String::new()
        } else {
            format!("name=~{}", name.trim())
        };
        Some(format!(
            "/projects{}",
            query_string(&[("page_size", "50".to_owned()), ("q", q)])
        ))
    });
    let list = move || match found.get() {
        None => view! { <li class="loading">"Loading…"</li> }.into_any(),
        Some(Err(e)) => {
            view! { <li class="banner banner-error" role="alert">{e.message}</li> }.into_any()
        }
        Some(Ok(projects)) if projects.is_empty() => {
            view! { <li class="empty">"No projects found"</li> }.into_any()
        }
        Some(Ok(projects)) => projects
            .into_iter()
            .map(|project| {
                let name = project.name;
                let checked = {
                    let name = name.clone();
                    move || selected.with(|s| s.contains(&name))
                };
                let toggled = name.clone();
                view! {
                    <li>
                        <label class="checkbox">
                            <input type="checkbox" prop:checked=checked on:change=move |ev| {
                                let on = event_target_checked(&ev);
                                let name = toggled.clone();
                                selected.update(|s| {
                                    s.retain(|n| *n != name);
                                    if on {
                                        s.push(name);
                                        s.sort();
                                    }
                                });
                            }/>
                            {name}
                        </label>
                    </li>
                }
            })
            .collect_view()
            .into_any(),
    };
    view! {
        <div class="robot-projects">
            <label class="checkbox" for=all_for>
                <input id=all_id type="checkbox" bind:checked=all/>
                "All projects (also those created later)"
            </label>
            <When when=move || !all.get()>
                <input type="search" class="search" placeholder="Filter projects by name"
                    aria-label="Filter projects by name"
                    prop:value=move || filter.get()
                    on:input=move |ev| filter.set(event_target_value(&ev))/>
                <ul class="robot-project-list" aria-label="Projects">{list}</ul>
                <p class="hint">{move || selected.with(|s| if s.is_empty() {
                    "No project chosen".to_owned()
                } else {
                    format!("Chosen: {}", s.join(", "))
                })}</p>
            </When>
        </div>
    }
}

/// Shows a robot's name and secret once, with copy buttons and an export to a file.
#[component]
pub fn RobotSecretDialog(open: RwSignal<bool>, shown: RwSignal<ShownSecret>) -> impl IntoView {
    let uid = next_id();
    let name_id = format!("robot-created-name-{uid}");
    let secret_id = format!("robot-created-secret-{uid}");
    let name = Signal::derive(move || shown.with(|s| s.name.clone()));
    let secret = Signal::derive(move || shown.with(|s| s.secret.clone()));
    let title = Signal::derive(move || shown.with(|s| s.title.clone()));
    let href = move || shown.with(|s| export_href(&s.name, &s.secret));
    let file_name = move || shown.with(|s| format!("{}.json", s.name));
    view! {
        <Dialog open=open title=title>
            <div class="dialog-body form-grid robot-secret">
                <label for=name_id.clone()>"Name"</label>
                <div class="inline">
                    <input id=name_id type="text" readonly prop:value=move || name.get()/>
                    <CopyButton text=name label="Copy name"/>
                </div>
                <label for=secret_id.clone()>"Secret"</label>
                <div class="inline">
                    <input id=secret_id type="text" readonly class="robot-secret-value"
                        prop:value=move || secret.get()/>
                    <CopyButton text=secret label="Copy secret"/>
                </div>
                <p class="banner robot-secret-warning form-wide" role="note">
                    "Copy the secret now: it is shown only once and cannot be retrieved later."
                </p>
            </div>
            <footer class="dialog-footer">
                <a class="button-link secondary" href=href download=file_name>"Export to File"</a>
                <button type="button" on:click=move |_| open.set(false)>"Close"</button>
            </footer>
        </Dialog>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project() -> RobotScope {
        RobotScope::Project {
            id: 7,
            name: "team".to_owned(),
        }
    }

    fn grants(pairs: &[(&str, &str)]) -> BTreeSet<Grant> {
        pairs
            .iter()
            .map(|(r, a)| ((*r).to_owned(), (*a).to_owned()))
            .collect()
    }

    fn form(name: &str, pairs: &[(&str, &str)]) -> RobotForm {
        RobotForm {
            name: name.to_owned(),
            granted: grants(pairs),
            ..RobotForm::default()
        }
    }

    fn robot(name: &str, level: &str, permissions: Vec<RobotPermission>) -> Robot {
        Robot {
            id: 3,
            name: name.to_owned(),
            description: "ci".to_owned(),
            level: level.to_owned(),
            duration: 30,
            editable: true,
            disable: false,
            expires_at: 1_000_000,
            permissions,
            creator_type: "local".to_owned(),
            creator_ref: 1,
            creation_time: "2026-11-22T18:15:38Z".to_owned(),
            update_time: "2026-11-22T18:15:38Z".to_owned(),
        }
    }

    #[test]
    fn a_project_robot_gets_its_project_and_the_ticked_pairs_in_matrix_order() {
        let body = robot_request(
            &form(
                " builder ",
                &[
                    ("tag", "create"),
                    ("repository", "push"),
                    ("repository", "pull"),
                ],
            ),
            &project(),
        );
        let json = serde_json::to_value(body.unwrap_or_default()).unwrap_or_default();
        assert_eq!(
            json,
            serde_json::json!({
                "name": "builder",
                "description": "",
                "level": "project",
                "disable": false,
                "duration": 30,
                "permissions": [{
                    "kind": "project",
                    "namespace": "team",
                    "access": [
                        {"resource": "repository", "action": "pull"},
                        {"resource": "repository", "action": "push"},
                        {"resource": "tag", "action": "create"},
                    ],
                }],
            })
        );
    }

    #[test]
    fn a_system_robot_covers_chosen_projects_or_all_of_them() {
        let mut f = form("ci", &[("repository", "pull")]);
        f.expiry = Expiry::Never;
        f.coverage = Coverage::Projects(vec!["a".to_owned(), "b".to_owned()]);
        let body = robot_request(&f, &RobotScope::System).unwrap_or_default();
        assert_eq!(body.level, "system");
        assert_eq!(body.duration, -1);
        let namespaces: Vec<&str> = body
            .permissions
            .iter()
            .map(|p| p.namespace.as_str())
            .collect();
        assert_eq!(namespaces, ["a", "b"]);
        assert!(body.permissions.iter().all(|p| p.access.len() == 1));

        f.coverage = Coverage::AllProjects;
        let body = robot_request(&f, &RobotScope::System).unwrap_or_default();
        assert_eq!(body.permissions.len(), 1);
        assert_eq!(body.permissions[0].namespace, "*");

        f.coverage = Coverage::Projects(Vec::new());
        assert!(robot_request(&f, &RobotScope::System).is_err());
    }

    #[test]
    fn a_request_needs_a_valid_name_and_a_permission() {
        assert!(robot_request(&form("Bad Name", &[("repository", "pull")]), &project()).is_err());
        assert_eq!(
            robot_request(&form("ok", &[]), &project()),
            Err("Choose at least one permission.".to_owned())
        );
    }

    #[test]
    fn robot_names_follow_the_oci_component_rule() {
        for good in [
            "a", "ci", "ci-bot", "ci--bot", "ci.bot", "ci_bot", "ci__bot", "x1",
        ] {
            assert_eq!(check_robot_name(good), Ok(()), "{good}");
        }
        for bad in [
            "", "CI", "-ci", "ci-", "ci..bot", "ci___bot", "ci._bot", "a b", "ci$", "ci+x",
        ] {
            assert!(check_robot_name(bad).is_err(), "{bad}");
        }
        assert!(check_robot_name(&"a".repeat(129)).is_err());
    }

    #[test]
    fn expiry_is_days_or_never() {
        assert_eq!(parse_expiry(false, " 30 "), Ok(Expiry::Days(30)));
        assert_eq!(parse_expiry(true, "junk"), Ok(Expiry::Never));
        assert_eq!(Expiry::Never.duration(), -1);
        for bad in ["0", "-1", "1.5", "", "40000"] {
            assert!(parse_expiry(false, bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_robot_reads_back_into_the_form_and_saves_unchanged() {
        let sent = robot_request(
            &form("builder", &[("repository", "pull"), ("artifact", "delete")]),
            &project(),
        )
        .unwrap_or_default();
        let stored = robot("robot$team+builder", "project", sent.permissions.clone());
        let back = form_of(&stored);
        assert_eq!(back.name, "builder");
        assert_eq!(back.description, "ci");
        assert_eq!(back.expiry, Expiry::Days(30));
        assert_eq!(
            back.granted,
            grants(&[("repository", "pull"), ("artifact", "delete")])
        );
        let update = update_request(&stored, &back, &project()).unwrap_or_default();
        assert_eq!(update.name, "robot$team+builder");
        assert_eq!(update.duration, 30);
        assert_eq!(update.permissions, sent.permissions);
    }

    #[test]
    fn reading_back_keeps_unknown_pairs_and_drops_denied_ones() {
        let permissions = vec![RobotPermission {
            kind: "project".to_owned(),
            namespace: "*".to_owned(),
            access: vec![
                Access {
                    resource: "scan".to_owned(),
                    action: "create".to_owned(),
                    effect: None,
                },
                Access {
                    resource: "repository".to_owned(),
                    action: "push".to_owned(),
                    effect: Some("deny".to_owned()),
                },
            ],
        }];
        let stored = robot("robot$ci", "system", permissions);
        let back = form_of(&stored);
        assert_eq!(back.name, "ci");
        assert_eq!(back.coverage, Coverage::AllProjects);
        assert_eq!(back.granted, grants(&[("scan", "create")]));
        let update = update_request(&stored, &back, &RobotScope::System).unwrap_or_default();
        assert_eq!(update.permissions[0].namespace, "*");
        assert_eq!(update.permissions[0].access[0].resource, "scan");
        assert_eq!(permission_summary(&stored), "1 permission in all projects");
    }

    #[test]
    fn toggling_sends_the_whole_robot_with_only_disable_changed() {
        let stored = robot(
            "robot$team+builder",
            "project",
            robot_permissions(&["team".to_owned()], &grants(&[("repository", "pull")])),
        );
        let body = toggled_request(&stored, true);
        assert!(body.disable);
        assert_eq!(body.name, stored.name);
        assert_eq!(body.description, stored.description);
        assert_eq!(body.duration, stored.duration);
        assert_eq!(body.level, "project");
        assert_eq!(body.permissions, stored.permissions);
        assert!(body.secret.is_none());
    }

    #[test]
    fn expiry_text_counts_down_to_expired() {
        let now = 1_000_000;
        assert_eq!(expires_in(-1, now), "Never");
        assert_eq!(expires_in(now, now), "Expired");
        assert_eq!(expires_in(now - 5, now), "Expired");
        assert_eq!(expires_in(now + 30 * 86_400, now), "30d 0h");
        assert_eq!(expires_in(now + 86_400 + 7_200 + 59, now), "1d 2h");
        assert_eq!(expires_in(now + 3 * 3_600 + 61, now), "3h 2m");
        assert_eq!(expires_in(now + 10, now), "1m");
    }

    #[test]
    fn summaries_count_permissions_and_projects() {
        let one = robot(
            "robot$team+a",
            "project",
            robot_permissions(
                &["team".to_owned()],
                &grants(&[("repository", "pull"), ("repository", "push")]),
            ),
        );
        assert_eq!(permission_summary(&one), "2 permissions");
        let two = robot(
            "robot$b",
            "system",
            robot_permissions(
                &["a".to_owned(), "b".to_owned()],
                &grants(&[("repository", "pull")]),
            ),
        );
        assert_eq!(permission_summary(&two), "1 permission in 2 projects");
    }

    #[test]
    fn names_show_the_prefix_harbor_adds() {
        assert_eq!(project().name_prefix(), "robot$team+");
        assert_eq!(RobotScope::System.name_prefix(), "robot$");
        assert_eq!(short_name("robot$team+builder"), "builder");
        assert_eq!(short_name("robot$ci"), "ci");
    }

    #[test]
    fn list_paths_filter_by_level_project_and_name() {
        assert_eq!(
            robot_list_path(&project(), 1, 15, "", None),
            "/robots?page=1&page_size=15&q=Level%3Dproject%2CProjectID%3D7"
        );
        assert_eq!(
            robot_list_path(
                &RobotScope::System,
                2,
                25,
                " ci ",
                Some(Sort {
                    key: "name",
                    descending: true
                })
            ),
            "/robots?page=2&page_size=25&q=Level%3Dsystem%2Cname%3D~ci&sort=-name"
        );
        // A `,` would start another term of the query language.
        assert_eq!(
            robot_list_path(&RobotScope::System, 1, 15, "a,b", None),
            "/robots?page=1&page_size=15&q=Level%3Dsystem%2Cname%3D~ab"
        );
    }

    #[test]
    fn the_export_is_a_json_data_url() {
        let href = export_href("robot$ci", "s3cr&t");
        assert!(href.starts_with("data:application/json;charset=utf-8,"));
        assert!(href.contains("robot%24ci"));
        assert!(href.contains("s3cr%26t"));
    }
}
