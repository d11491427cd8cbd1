//! The projects list (`/harbor/projects`): search by name, sort, server-side pagination, the caller's role and
//! quota bars, a "New Project" dialog (with Harbor's "Proxy Cache" option for system administrators: an
//! endpoint from Administration → Registries and optional include/exclude patterns), and Harbor's row
//! selection with an Action menu whose Delete removes the chosen projects after one confirmation.
//!
//! Rule: the page costs a bounded number of requests whatever it lists: the quota comes with each project
//! (`quota` on `GET /projects`), never from one request per row.

use berth_api::projects::{ProjectMetadata, ProjectReq};
use berth_api::registries::Registry;
use leptos::prelude::*;
use leptos_router::components::A;

use crate::answers::Project;
use crate::api;
use crate::auth::use_current_user;
use crate::components::action_menu::{ActionMenu, MenuItem, Needs};
use crate::components::dialog::{DeleteDialog, DeleteFlow, FormDialog, FormStatus, what};
use crate::components::quota_bar::quota_view;
use crate::components::select_table::{SelectCell, Selection};
use crate::components::table::{
    ListControls, ListTable, ListToolbar, PagedList, Sort, SortHeader, fuzzy, page_path,
};
use crate::components::toast::use_toasts;
use crate::components::when::When;
use crate::format;
use crate::pages::project::members::role_label;
use crate::pages::project::summary::{access_level, project_type};

/// Columns of the table (for the full-width loading, empty and error rows).
const COLUMNS: &str = "8";

fn key(project: &Project) -> String {
    project.project_id.to_string()
}

#[component]
pub fn ProjectsPage() -> impl IntoView {
    let list = ListControls::new();
    let toasts = use_toasts();
    let user = use_current_user();

    let projects = PagedList::<Project>::new(
        move || {
            let (page, size, name, sort) = list.get();
            Some(list_path(page, size, &name, sort))
        },
        list,
    );
    let selection = Selection::new(projects.keys(key));

    let create_open = RwSignal::new(false);
    let (current, info) = (use_current_user(), crate::system_info::use_system_info());
    let may_create = move || current.is_sysadmin() || !info.admin_only_creation();
    let deleting = DeleteFlow::new();
    let chosen = move || projects.chosen(selection, key);
    let may_delete = Signal::derive(move || {
        let chosen = chosen();
        !chosen.is_empty()
            && chosen
                .iter()
                .all(|p| may_delete_project(p, user.is_sysadmin()))
    });
    let ask_delete = Callback::new(move |()| {
        deleting.ask_all(
            chosen()
                .into_iter()
                .map(|p| (format!("/projects/{}", p.project_id), p.name))
                .collect(),
        );
    });
    let on_created = Callback::new(move |name: String| {
        toasts.success(format!("Created project {name}"));
        projects.refresh();
    });

    let rows = move || {
        projects.rows(COLUMNS, "No projects found", move |project| {
            view! { <ProjectRow project=project selection=selection/> }.into_any()
        })
    };

    view! {
        <section class="page">
            <h1>"Projects"</h1>
            <ListToolbar list=list fetch=projects.fetch() filter="Filter projects by name">
                // Harbor hides it from non-administrators when only administrators may create projects.
                <When when=may_create>
                    <button type="button" data-testid="new-project" on:click=move |_| create_open.set(true)>
                        "+ New Project"
                    </button>
                </When>
                <ActionMenu selection=selection>
                    <MenuItem label="Delete" danger=true selection=selection needs=Needs::Some allowed=may_delete
                        hint="Choose projects you administer" on_select=ask_delete/>
                </ActionMenu>
            </ListToolbar>
            <ListTable list=list fetch=projects.fetch() selection=selection rows=rows>
                <SortHeader label="Project Name" key="name" list=list/>
                <th scope="col">"Access Level"</th>
                <th scope="col">"Role"</th>
                <th scope="col">"Type"</th>
                <SortHeader label="Repositories Count" key="repo_count" list=list class="number"/>
                <th scope="col">"Quota"</th>
                <SortHeader label="Creation Time" key="creation_time" list=list/>
            </ListTable>
        </section>
        <NewProjectDialog open=create_open on_created=on_created/>
        <DeleteDialog flow=deleting title="Delete Project"
            message=|names, n| format!("Delete {}? This cannot be undone.", what("project", "projects", names, n))
            done=|names, n| format!("Deleted {}", what("project", "projects", names, n))
            on_deleted=Callback::new(move |()| projects.refresh())/>
    }
}

#[component]
fn ProjectRow(project: Project, selection: Selection) -> impl IntoView {
    let id = project.project_id;
    let name = project.name.clone();
    let access = access_level(&project);
    let kind = project_type(&project);
    let role = role_of(&project);
    let row_name = name.clone();
    view! {
        <tr data-project=row_name>
            <SelectCell selection=selection key=id.to_string() label=format!("Select project {name}")/>
            <td><A href=format!("/harbor/projects/{id}")>{name}</A></td>
            <td>{access}</td>
            <td class="project-role">{role}</td>
            <td>{kind}</td>
            <td class="number">{project.repo_count}</td>
            <td>{quota_view(project.quota)}</td>
            <td>{format::time(&project.creation_time)}</td>
        </tr>
    }
}

/// The Role column: the caller's role in the project (Harbor's `current_user_role_id`), `—` when none.
pub fn role_of(project: &Project) -> String {
    project
        .current_user_role_id
        .filter(|id| *id > 0)
        .map_or_else(|| "—".to_owned(), role_label)
}

/// Harbor's role id of a Project Admin.
const PROJECT_ADMIN: i64 = 1;

/// Whether the list offers to delete `project`: system administrators and the project's admins may (Harbor's
/// role matrix). The server decides anyway.
pub fn may_delete_project(project: &Project, sysadmin: bool) -> bool {
    sysadmin
        || project.current_user_role_id == Some(PROJECT_ADMIN)
        || project.current_user_role_ids.contains(&PROJECT_ADMIN)
}

/// Storage-limit units offered by the dialog (binary, as Harbor's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageUnit {
    MiB,
    GiB,
    TiB,
}

impl StorageUnit {
    pub const ALL: [StorageUnit; 3] = [StorageUnit::MiB, StorageUnit::GiB, StorageUnit::TiB];

    pub fn name(self) -> &'static str {
        match self {
            StorageUnit::MiB => "MiB",
            StorageUnit::GiB => "GiB",
            StorageUnit::TiB => "TiB",
        }
    }

    pub fn parse(text: &str) -> StorageUnit {
        match text {
            "MiB" => StorageUnit::MiB,
            "TiB" => StorageUnit::TiB,
            _ => StorageUnit::GiB,
        }
    }

    fn bytes(self) -> i64 {
        match self {
            StorageUnit::MiB => 1 << 20,
            StorageUnit::GiB => 1 << 30,
            StorageUnit::TiB => 1 << 40,
        }
    }
}

/// The dialog's storage limit in bytes: `-1` (or nothing) is unlimited, else a whole number of `unit`s.
pub fn storage_limit_bytes(amount: &str, unit: StorageUnit) -> Result<i64, String> {
    let amount = amount.trim();
    if amount.is_empty() || amount == "-1" {
        return Ok(-1);
    }
    amount
        .parse::<i64>()
        .ok()
        .filter(|n| *n >= 0)
        .and_then(|n| n.checked_mul(unit.bytes()))
        .ok_or_else(|| {
            "The storage limit is a whole number of units, or -1 for unlimited.".to_owned()
        })
}

/// Harbor's rule for project names: lower-case letters and digits, separated by single `.`, `_` or `-`,
/// at most 255 characters.
pub fn check_project_name(name: &str) -> Result<(), String> {
    const RULE: &str =
        "A project name has lower-case letters and digits, separated by single '.', '_' or '-'.";
    if name.is_empty() {
        return Err("Enter a project name.".to_owned());
    }
    if name.len() > 255 {
        return Err("A project name has at most 255 characters.".to_owned());
    }
    let separator = |c: char| matches!(c, '.' | '_' | '-');
    let mut previous_was_separator = true;
    for c in name.chars() {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            previous_was_separator = false;
        } else if separator(c) && !previous_was_separator {
            previous_was_separator = true;
        } else {
            return Err(RULE.to_owned());
        }
    }
    if previous_was_separator {
        return Err(RULE.to_owned());
    }
    Ok(())
}

/// The list's API path for a page, a name filter (Harbor's fuzzy `q=name=~…`) and a sort order.
pub fn list_path(page: u32, page_size: u32, name: &str, sort: Option<Sort>) -> String {
    page_path(
        "/projects",
        page,
        page_size,
        &[("q", fuzzy("name", name)), ("sort", Sort::param(sort))],
    )
}

/// The body of `POST /projects`.
pub fn project_request(name: &str, public: bool, storage_limit: i64) -> ProjectReq {
    ProjectReq {
        project_name: Some(name.to_owned()),
        metadata: Some(ProjectMetadata {
            public: Some(public.to_string()),
            ..ProjectMetadata::default()
        }),
        storage_limit: Some(storage_limit),
        ..ProjectReq::default()
    }
}

/// The proxy-cache part of the "New Project" dialog: the endpoint to cache and the optional patterns
/// (Berth's `proxy_include` / `proxy_exclude` metadata, comma-separated doublestar globs).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProxyChoice {
    pub registry_id: Option<i64>,
    pub include: String,
    pub exclude: String,
}

/// The body of `POST /projects` for a project that may be a proxy cache: `registry_id` and the non-empty
/// patterns join [`project_request`]'s body.
pub fn new_project_request(
    name: &str,
    public: bool,
    storage_limit: i64,
    proxy: Option<&ProxyChoice>,
) -> Result<ProjectReq, String> {
    let mut body = project_request(name, public, storage_limit);
    let Some(proxy) = proxy else {
        return Ok(body);
    };
    body.registry_id = Some(
        proxy
            .registry_id
            .ok_or_else(|| "Choose the registry endpoint to cache.".to_owned())?,
    );
    let pattern = |value: &str| Some(value.trim().to_owned()).filter(|v| !v.is_empty());
    if let Some(metadata) = body.metadata.as_mut() {
        metadata.proxy_include = pattern(&proxy.include);
        metadata.proxy_exclude = pattern(&proxy.exclude);
    }
    Ok(body)
}

#[component]
fn NewProjectDialog(open: RwSignal<bool>, on_created: Callback<String>) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let public = RwSignal::new(false);
    let amount = RwSignal::new("-1".to_owned());
    let unit = RwSignal::new(StorageUnit::GiB);
    let status = FormStatus::new();
    let error = status.error;
    let sysadmin = use_current_user().is_sysadmin();
    let proxy_on = RwSignal::new(false);
    let endpoint = RwSignal::new(None::<i64>);
    let include = RwSignal::new(String::new());
    let exclude = RwSignal::new(String::new());
    Effect::new(move |_| {
        if open.get() {
            name.set(String::new());
            public.set(false);
            proxy_on.set(false);
            endpoint.set(None);
            include.set(String::new());
            exclude.set(String::new());
            amount.set("-1".to_owned());
            unit.set(StorageUnit::GiB);
            error.set(None);
        }
    });
    // An explanation goes away as soon as the user edits what it was about.
    Effect::new(move |_| {
        name.track();
        amount.track();
        error.set(None);
    });
    let submit = Callback::new(move |()| {
        let project = name.get_untracked().trim().to_owned();
        let checked = check_project_name(&project)
            .and_then(|()| storage_limit_bytes(&amount.get_untracked(), unit.get_untracked()));
        let limit = match checked {
            Ok(limit) => limit,
            Err(message) => return status.fail(message),
        };
        let choice = ProxyChoice {
            registry_id: endpoint.get_untracked(),
            include: include.get_untracked(),
            exclude: exclude.get_untracked(),
        };
        let body = match new_project_request(
            &project,
            public.get_untracked(),
            limit,
            proxy_on.get_untracked().then_some(&choice),
        ) {
            Ok(body) => body,
            Err(message) => return status.fail(message),
        };
        status.send(
            Box::pin(async move { api::post("/projects", &body).await }),
            Box::new(move |()| {
                open.set(false);
                on_created.run(project);
            }),
        );
    });
    view! {
        <FormDialog open=open title="New Project" status=status on_submit=submit class="form-grid"
            busy_label="Creating…">
            <label for="create_project_name">"Project Name"</label>
            <input id="create_project_name" type="text" required maxlength="255" autocomplete="off"
                bind:value=name/>
            <span class="form-label" id="access-level-label">"Access Level"</span>
            <label class="checkbox">
                <input id="create_project_public" type="checkbox" bind:checked=public
                    aria-describedby="access-level-hint"/>
                "Public"
            </label>
            <p class="hint form-wide" id="access-level-hint">
                "Anyone may pull from a public project; members may push."
            </p>
            <label for="create_project_quota">"Project quota limits"</label>
            <div class="inline">
                <input id="create_project_quota" type="number" min="-1" step="1" class="short"
                    bind:value=amount aria-describedby="quota-hint"/>
                <select aria-label="Storage unit" on:change=move |ev| unit.set(StorageUnit::parse(&event_target_value(&ev)))>
                    {StorageUnit::ALL
                        .iter()
                        .map(|u| {
                            let u = *u;
                            view! { <option value=u.name() selected=move || unit.get() == u>{u.name()}</option> }
                        })
                        .collect_view()}
                </select>
            </div>
            <p class="hint form-wide" id="quota-hint">"-1 for unlimited."</p>
            // Harbor offers proxy caches to system administrators only.
            {sysadmin.then(|| view! { <ProxyCacheFields on=proxy_on endpoint=endpoint include=include exclude=exclude/> })}
        </FormDialog>
    }
}

/// The "Proxy Cache" switch of the "New Project" dialog and, when on, the endpoint and patterns.
#[component]
fn ProxyCacheFields(
    on: RwSignal<bool>,
    endpoint: RwSignal<Option<i64>>,
    include: RwSignal<String>,
    exclude: RwSignal<String>,
) -> impl IntoView {
    // The registries page's list machinery (compiled once for both), for the first 100 endpoints.
    let endpoints = PagedList::<Registry>::new(
        move || {
            on.get()
                .then(|| "/registries?page=1&page_size=100".to_owned())
        },
        ListControls::new(),
    );
    let options = move || match endpoints.current() {
        None => view! { <option value="" disabled>"Loading…"</option> }.into_any(),
        Some(Err(e)) => view! { <option value="" disabled>{e.message}</option> }.into_any(),
        Some(Ok(list)) => {
            let choose = view! { <option value="" selected=move || endpoint.get().is_none()>"Choose an endpoint"</option> };
            let rows = list
                .items
                .into_iter()
                .map(|r| {
                    let id = r.id;
                    view! {
                        <option value=id.to_string() selected=move || endpoint.get() == Some(id)>
                            {format!("{}-{}", r.name, r.url)}
                        </option>
                    }
                })
                .collect_view();
            view! { {choose} {rows} }.into_any()
        }
    };
    view! {
        <span class="form-label">"Proxy Cache"</span>
        <label class="checkbox">
            <input id="create_project_proxy" type="checkbox" bind:checked=on aria-describedby="proxy-cache-hint"/>
            "Proxy Cache"
        </label>
        <p class="hint form-wide" id="proxy-cache-hint">
            "A proxy cache pulls images from the endpoint on first request and keeps them; nobody may push to it."
        </p>
        <div class="proxy-cache-fields" hidden=move || !on.get()>
            <label for="create_project_endpoint">"Endpoint"</label>
            <select id="create_project_endpoint"
                on:change=move |ev| endpoint.set(event_target_value(&ev).parse::<i64>().ok())>
                {options}
            </select>
            <label for="create_project_proxy_include">"Include"</label>
            <input id="create_project_proxy_include" type="text" autocomplete="off" placeholder="library/**"
                bind:value=include aria-describedby="proxy-patterns-hint"/>
            <label for="create_project_proxy_exclude">"Exclude"</label>
            <input id="create_project_proxy_exclude" type="text" autocomplete="off"
                bind:value=exclude aria-describedby="proxy-patterns-hint"/>
            <p class="hint form-wide" id="proxy-patterns-hint">
                "Optional: repositories to cache or refuse, as comma-separated patterns (** matches across /)."
            </p>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_admins_are_offered_to_delete_a_project() -> Result<(), serde_json::Error> {
        let mut project: Project = serde_json::from_value(
            serde_json::json!({"project_id": 3, "name": "team", "owner_id": 1,
                "creation_time": "2026-01-01T00:00:00Z", "update_time": "2026-01-01T00:00:00Z",
                "owner_name": "admin", "togglable": true, "deleted": false, "repo_count": 0, "metadata": {}}),
        )?;
        assert!(!may_delete_project(&project, false));
        assert!(may_delete_project(&project, true));
        project.current_user_role_id = Some(3);
        project.current_user_role_ids = vec![3];
        assert!(!may_delete_project(&project, false));
        project.current_user_role_ids = vec![3, 1];
        assert!(may_delete_project(&project, false));
        project.current_user_role_id = Some(1);
        assert!(may_delete_project(&project, false));
        Ok(())
    }

    #[test]
    fn the_role_column_names_harbors_roles() -> Result<(), serde_json::Error> {
        let mut project: Project = serde_json::from_value(
            serde_json::json!({"project_id": 3, "name": "team", "owner_id": 1,
                "creation_time": "2026-01-01T00:00:00Z", "update_time": "2026-01-01T00:00:00Z",
                "owner_name": "admin", "togglable": true, "deleted": false, "repo_count": 0, "metadata": {},
                "quota": {"hard": {"storage": -1}, "used": {"storage": 5}}}),
        )?;
        assert_eq!(role_of(&project), "—");
        assert_eq!(project.quota.as_ref().map(|q| q.used.storage), Some(5));
        project.current_user_role_id = Some(4);
        assert_eq!(role_of(&project), "Maintainer");
        project.current_user_role_id = Some(0);
        assert_eq!(role_of(&project), "—");
        Ok(())
    }

    #[test]
    fn list_paths_carry_page_filter_and_sort() {
        assert_eq!(list_path(1, 15, "", None), "/projects?page=1&page_size=15");
        assert_eq!(
            list_path(
                2,
                25,
                " team ",
                Some(Sort {
                    key: "name",
                    descending: true
                })
            ),
            "/projects?page=2&page_size=25&q=name%3D~team&sort=-name"
        );
    }

    #[test]
    fn storage_limits_convert_units_and_keep_unlimited() {
        assert_eq!(storage_limit_bytes("-1", StorageUnit::GiB), Ok(-1));
        assert_eq!(storage_limit_bytes("", StorageUnit::GiB), Ok(-1));
        assert_eq!(
            storage_limit_bytes("10", StorageUnit::MiB),
            Ok(10 * 1024 * 1024)
        );
        assert_eq!(storage_limit_bytes(" 2 ", StorageUnit::TiB), Ok(2 << 40));
        assert!(storage_limit_bytes("1.5", StorageUnit::GiB).is_err());
        assert!(storage_limit_bytes("-5", StorageUnit::GiB).is_err());
        assert!(storage_limit_bytes("99999999999", StorageUnit::TiB).is_err());
    }

    #[test]
    fn project_names_follow_harbors_rule() {
        for good in ["team", "a", "team-1", "my.project_x", "0day"] {
            assert_eq!(check_project_name(good), Ok(()), "{good}");
        }
        for bad in [
            "",
            "Team",
            "-team",
            "team-",
            "a--b",
            "a b",
            "ä",
            &"a".repeat(256),
        ] {
            assert!(check_project_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn new_projects_send_public_as_harbor_does() {
        let body = project_request("team", true, 1024);
        let json = serde_json::to_value(&body).unwrap_or_default();
        assert_eq!(
            json,
            serde_json::json!({"project_name": "team", "metadata": {"public": "true"}, "storage_limit": 1024})
        );
    }

    #[test]
    fn proxy_cache_projects_send_the_endpoint_and_only_given_patterns() -> Result<(), String> {
        assert_eq!(
            new_project_request("team", false, -1, None)?,
            project_request("team", false, -1)
        );
        let proxy = ProxyChoice {
            registry_id: Some(4),
            include: " library/** ".to_owned(),
            exclude: String::new(),
        };
        let body = new_project_request("hub", true, -1, Some(&proxy))?;
        assert_eq!(
            serde_json::to_value(&body).map_err(|e| e.to_string())?,
            serde_json::json!({"project_name": "hub", "registry_id": 4, "storage_limit": -1,
                "metadata": {"public": "true", "proxy_include": "library/**"}})
        );
        let unchosen = ProxyChoice::default();
        assert!(new_project_request("hub", true, -1, Some(&unchosen)).is_err());
        Ok(())
    }
}
