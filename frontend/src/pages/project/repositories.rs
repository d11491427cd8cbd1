//! The project's Repositories tab (`/harbor/projects/{id}/repositories`): the repositories of
//! `GET /projects/{name}/repositories` with search by name, sort and server-side pagination, links to each
//! repository's artifacts, Harbor's row selection with an Action menu whose Delete removes the chosen
//! repositories after one confirmation, and the "Push Command" panel for those who may push (not in a
//! proxy-cache project, which nobody pushes to: its Summary shows the pull command).

use berth_api::repositories::Repository;
use leptos::prelude::*;
use leptos_router::components::A;

use super::use_project;
use crate::api::encode_component;
use crate::components::action_menu::{ActionMenu, MenuItem, Needs};
use crate::components::dialog::{DeleteDialog, DeleteFlow, what};
use crate::components::push_commands::PushCommands;
use crate::components::select_table::{SelectCell, Selection};
use crate::components::table::{
    ListControls, ListStatus, ListTable, ListToolbar, PagedList, Sort, SortHeader, fuzzy,
    page_path, status_row,
};
use crate::format;

/// The list's API path for project `project`, a page, a name filter (Harbor's fuzzy `q=name=~…`) and a sort.
pub fn list_path(
    project: &str,
    page: u32,
    page_size: u32,
    name: &str,
    sort: Option<Sort>,
) -> String {
    page_path(
        &format!("/projects/{}/repositories", encode_component(project)),
        page,
        page_size,
        &[("q", fuzzy("name", name)), ("sort", Sort::param(sort))],
    )
}

/// A repository's name within its project: the API's `name` is `project/repo`, Harbor's paths use `repo`.
pub fn relative_name<'a>(full_name: &'a str, project: &str) -> &'a str {
    full_name
        .strip_prefix(project)
        .and_then(|rest| rest.strip_prefix('/'))
        .or_else(|| full_name.split_once('/').map(|(_, rest)| rest))
        .unwrap_or(full_name)
}

/// The console's address of a repository's artifacts (Harbor's `…/repositories/{repo}/artifacts-tab`, the
/// relative name percent-encoded, so `a/b` is one path segment).
pub fn artifacts_href(project_id: i64, project: &str, full_name: &str) -> String {
    format!(
        "/harbor/projects/{project_id}/repositories/{}/artifacts-tab",
        encode_component(relative_name(full_name, project))
    )
}

/// The API path that deletes a repository: the relative name encoded twice, as Harbor asks (`a%252Fb`).
pub fn delete_path(project: &str, full_name: &str) -> String {
    format!(
        "/projects/{}/repositories/{}",
        encode_component(project),
        encode_component(&encode_component(relative_name(full_name, project)))
    )
}

#[component]
pub fn RepositoriesTab() -> impl IntoView {
    let ctx = use_project();
    let list = ListControls::new();
    let push_open = RwSignal::new(false);
    let project_name = Signal::derive(move || ctx.name().unwrap_or_default());

    // Unknown until the project is loaded: its name is in the path.
    let query = move || {
        let project = project_name.get();
        (!project.is_empty()).then(|| {
            let (page, size, name, sort) = list.get();
            list_path(&project, page, size, &name, sort)
        })
    };
    let repositories = PagedList::<Repository>::new(query, list);

    let selection = Selection::new(repositories.keys(|r| r.id.to_string()));
    let deleting = DeleteFlow::new();
    let ask_delete = Callback::new(move |()| {
        let project = project_name.get_untracked();
        deleting.ask_all(
            repositories
                .chosen(selection, |r| r.id.to_string())
                .into_iter()
                .map(|r| (delete_path(&project, &r.name), r.name))
                .collect(),
        );
    });

    let can_push = move || ctx.can("repository", "push") && !ctx.is_proxy();
    let can_delete = Signal::derive(move || ctx.can("repository", "delete"));
    let rows = move || {
        match repositories.current() {
        None => status_row("5", ListStatus::Loading),
        Some(Err(e)) => status_row("5", ListStatus::Failed(e.message)),
        Some(Ok(list)) if list.items.is_empty() => view! {
            <tr>
                <td colspan="5" class="empty">
                    <p class="repositories-empty">"No repositories found"</p>
                    {ctx.is_proxy().then(|| view! {
                        <p class="hint">"Pull an image through this project to cache its repository here (see the Summary)."</p>
                    })}
                    {can_push().then(|| view! {
                        <p class="hint">
                            "Push an image to this project to create a repository; "
                            <button type="button" class="link" on:click=move |_| push_open.set(true)>
                                "show the push commands"
                            </button>
                            "."
                        </p>
                    })}
                </td>
            </tr>
        }
        .into_any(),
        Some(Ok(list)) => {
            let project = project_name.get_untracked();
            list.items
                .into_iter()
                .map(|repository| {
                    view! { <RepositoryRow repository=repository project=project.clone() selection=selection/> }
                })
                .collect_view()
                .into_any()
        }
    }
    };

    view! {
        <div class="project-repositories">
        <ListToolbar list=list fetch=repositories.fetch() filter="Filter repositories by name">
            <ActionMenu selection=selection shown=can_delete>
                <MenuItem label="Delete" danger=true selection=selection needs=Needs::Some
                    on_select=ask_delete/>
            </ActionMenu>
            {move || can_push().then(|| view! {
                <button type="button" class="secondary" aria-expanded=move || push_open.get().to_string()
                    aria-controls="push-command-panel"
                    on:click=move |_| push_open.update(|o| *o = !*o)>
                    "Push Command"
                </button>
            })}
        </ListToolbar>
        {move || (push_open.get() && can_push()).then(|| view! {
            <section id="push-command-panel" class="project-card push-panel" aria-label="Push Command">
                <div class="push-panel-header">
                    <h2>"Push Command"</h2>
                    <button type="button" class="icon secondary" aria-label="Close the push commands"
                        on:click=move |_| push_open.set(false)>"×"</button>
                </div>
                <PushCommands project=project_name/>
            </section>
        })}
        <ListTable list=list fetch=repositories.fetch() selection=selection rows=rows>
            <SortHeader label="Name" key="name" list=list/>
            <SortHeader label="Artifacts" key="artifact_count" list=list class="number"/>
            <SortHeader label="Pulls" key="pull_count" list=list class="number"/>
            <SortHeader label="Last Modified Time" key="update_time" list=list/>
        </ListTable>
        </div>
        <DeleteDialog flow=deleting title="Delete Repository"
            message=|names, n| format!(
                "Delete {} and all {} artifacts? This cannot be undone.",
                what("repository", "repositories", names, n),
                if n == 1 { "its" } else { "their" }
            )
            done=|names, n| format!("Deleted {}", what("repository", "repositories", names, n))
            on_deleted=Callback::new(move |()| repositories.refresh())/>
    }
}

#[component]
fn RepositoryRow(repository: Repository, project: String, selection: Selection) -> impl IntoView {
    let href = artifacts_href(repository.project_id, &project, &repository.name);
    let name = repository.name.clone();
    view! {
        <tr data-repository=name.clone()>
            <SelectCell selection=selection key=repository.id.to_string() label=format!("Select repository {name}")/>
            <td><A href=href>{repository.name}</A></td>
            <td class="number">{repository.artifact_count}</td>
            <td class="number">{repository.pull_count}</td>
            <td>{format::time(&repository.update_time)}</td>
        </tr>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_paths_name_the_project_and_carry_page_filter_and_sort() {
        assert_eq!(
            list_path("team", 1, 15, "", None),
            "/projects/team/repositories?page=1&page_size=15"
        );
        assert_eq!(
            list_path(
                "team",
                3,
                25,
                " web ",
                Some(Sort {
                    key: "pull_count",
                    descending: true
                })
            ),
            "/projects/team/repositories?page=3&page_size=25&q=name%3D~web&sort=-pull_count"
        );
    }

    #[test]
    fn relative_names_drop_the_project_prefix_only() {
        assert_eq!(relative_name("team/web", "team"), "web");
        assert_eq!(relative_name("team/apps/web", "team"), "apps/web");
        // A project whose name starts another's is not a prefix of it.
        assert_eq!(relative_name("teamx/web", "team"), "web");
        assert_eq!(relative_name("web", "team"), "web");
    }

    #[test]
    fn artifact_links_use_harbors_path_with_one_segment() {
        assert_eq!(
            artifacts_href(4, "team", "team/web"),
            "/harbor/projects/4/repositories/web/artifacts-tab"
        );
        assert_eq!(
            artifacts_href(4, "team", "team/apps/web"),
            "/harbor/projects/4/repositories/apps%2Fweb/artifacts-tab"
        );
    }

    #[test]
    fn delete_paths_encode_slashes_twice() {
        assert_eq!(
            delete_path("team", "team/web"),
            "/projects/team/repositories/web"
        );
        assert_eq!(
            delete_path("team", "team/apps/web"),
            "/projects/team/repositories/apps%252Fweb"
        );
    }
}
