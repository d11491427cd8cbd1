//! A repository's artifacts (`/harbor/projects/{id}/repositories/{repo}/artifacts-tab`, `{repo}` being the
//! repository's name inside the project, percent-encoded): one server-side page of
//! `GET /projects/{project}/repositories/{repo}/artifacts`, sortable, newest push first; short digests with
//! copy buttons (each digest links to the artifact's page, [`super::artifact`]), tag chips, platform, size,
//! push and pull times, pull counts (Berth's `pull_count`), a copy button for the pull command, an index's
//! platforms on demand, and Harbor's row selection with an Action menu whose Delete removes the chosen
//! artifacts after one confirmation. "Scan" (Harbor's toolbar button, for those whose role may scan) asks for a
//! vulnerability scan of each chosen artifact, "Generate SBOM" for an SBOM of each (`scan_type: sbom`), and the
//! Action menu's "Stop Scan" and "Stop SBOM Generation" stop them. The SBOM column (Harbor's) says where each
//! artifact's SBOM is, with "SBOM details" (its page) and "Download SBOM" once there is one. While any artifact
//! on the page is queued or being scanned or having its SBOM generated, the page is read again every two
//! seconds, so its Vulnerabilities and SBOM columns turn into the result by themselves. Each artifact's labels
//! show as chips (`with_label=true`); the toolbar's label filter lists only the artifacts carrying the chosen
//! label (`q=labels=(id)`), and the Action menu's "Labels" puts the project's and the global labels on the
//! chosen artifact or takes them off (for roles with `artifact-label`).
//!
//! Rule: loading the list costs one request whatever the repository holds; an index's children are fetched
//! only when the user expands it.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use super::use_project;
use berth_api::labels::Label;

use crate::answers::{Artifact, ArtifactLabel, Reference};
use crate::api::{self, encode_component};
use crate::components::action_menu::{ActionMenu, MenuItem, Needs};
use crate::components::copy_button::CopyButton;
use crate::components::dialog::Dialog;
use crate::components::dialog::{DeleteDialog, DeleteFlow, what};
use crate::components::fetch::Fetch;
use crate::components::labels::LabelChip;
use crate::components::sbom_bar::{SbomBar, SbomState};
use crate::components::select_table::{SelectCell, Selection};
use crate::components::table::{
    ListControls, ListStatus, ListTable, ListToolbar, PagedList, Sort, SortHeader, page_path,
    status_row,
};
use crate::components::toast::use_toasts;
use crate::components::vulnerability_bar::{ScanState, VulnerabilityBar};
use crate::format;

/// The list's order until the user picks another (Harbor's portal: newest push first).
pub const DEFAULT_SORT: Sort = Sort {
    key: "push_time",
    descending: true,
};
/// Tag chips shown in a row before the rest are summed up as `…+N`.
pub const TAG_CHIPS: usize = 3;
/// Columns of the table (for the full-width loading, empty and error rows).
const COLUMNS: &str = "12";
/// The most labels of each scope the filter and the Labels dialog offer (one page of the server's largest).
pub const LABELS_OFFERED: u32 = 100;

#[component]
pub fn ArtifactsPage() -> impl IntoView {
    let params = use_params_map();
    let ctx = use_project();
    let repository = Memo::new(move |_| {
        params.with(|p| repository_from_param(&p.get("repo").unwrap_or_default()))
    });
    let project_name = Memo::new(move |_| ctx.name());
    let can_delete = Signal::derive(move || ctx.can("artifact", "delete"));

    let list = ListControls::sorted(Some(DEFAULT_SORT));

    // Another repository (the route stays mounted when only `:repo` changes) starts on its first page.
    Effect::new(move |previous: Option<String>| {
        let current = repository.get();
        if previous.is_some_and(|p| p != current) {
            list.page.set(1);
        }
        current
    });

    // The labels this project's artifacts may carry: the global ones and the project's own.
    let project_id = Memo::new(move |_| ctx.project.with(|p| p.as_ref().map(|p| p.project_id)));
    let global_labels = Fetch::<Vec<Label>>::new(move || {
        Some(format!(
            "/labels?scope=g&page_size={LABELS_OFFERED}&sort=name"
        ))
    });
    let project_labels = Fetch::<Vec<Label>>::new(move || {
        project_id.get().map(|id| {
            format!("/labels?scope=p&project_id={id}&page_size={LABELS_OFFERED}&sort=name")
        })
    });
    let offered = Signal::derive(move || {
        let mut all = global_labels.ok().unwrap_or_default();
        all.extend(project_labels.ok().unwrap_or_default());
        all
    });
    let label_filter = RwSignal::new(None::<i64>);

    let query = Memo::new(move |_| {
        project_name.get().map(|project| {
            let (page, size, _, sort) = list.get();
            artifacts_path(
                &project,
                &repository.get(),
                page,
                size,
                sort,
                label_filter.get(),
            )
        })
    });
    let artifacts = PagedList::<Artifact>::new(move || query.get(), list);

    let selection = Selection::new(artifacts.keys(|a| a.digest.clone()));
    let deleting = DeleteFlow::new();
    let ask_delete = Callback::new(move |()| {
        let Some(project) = project_name.get_untracked() else {
            return;
        };
        let repository = repository.get_untracked();
        deleting.ask_all(
            artifacts
                .chosen(selection, |a| a.digest.clone())
                .into_iter()
                .map(|a| (artifact_path(&project, &repository, &a.digest), a.digest))
                .collect(),
        );
    });

    let toasts = use_toasts();
    let can_scan = move || ctx.can("scan", "create");
    let can_stop = Signal::derive(move || ctx.can("scan", "stop"));
    let requesting = RwSignal::new(false);
    // Sends `POST {artifact}/{action}` (`scan` or `scan/stop`) with `{"scan_type": kind}` for each chosen artifact.
    let send_chosen = move |action: &'static str, kind: Kind| {
        let Some(project) = project_name.get_untracked() else {
            return;
        };
        let repository = repository.get_untracked();
        let paths: Vec<String> = artifacts
            .chosen(selection, |a| a.digest.clone())
            .into_iter()
            .map(|a| {
                format!(
                    "{}/{action}",
                    artifact_path(&project, &repository, &a.digest)
                )
            })
            .collect();
        requesting.set(true);
        spawn_local(async move {
            let asked = paths.len();
            let body = serde_json::json!({ "scan_type": kind.scan_type() });
            let mut refused = Vec::new();
            for path in paths {
                if let Err(e) = api::post(&path, &body).await {
                    refused.push(e.message);
                }
            }
            requesting.set(false);
            match refused.first() {
                None => toasts.success(done_message(kind, action.ends_with("stop"), asked)),
                Some(first) => toasts.error(first.clone()),
            }
            artifacts.refresh();
        });
    };
    let scan_chosen = move |_| send_chosen("scan", Kind::Scan);
    let sbom_chosen = move |_| send_chosen("scan", Kind::Sbom);
    let stop_scan = Callback::new(move |()| send_chosen("scan/stop", Kind::Scan));
    let stop_sbom = Callback::new(move |()| send_chosen("scan/stop", Kind::Sbom));
    let can_label = Signal::derive(move || ctx.can("artifact-label", "create"));
    let labelling = RwSignal::new(None::<(String, Vec<ArtifactLabel>)>);
    let labels_open = RwSignal::new(false);
    let edit_labels = Callback::new(move |()| {
        let Some(project) = project_name.get_untracked() else {
            return;
        };
        if let [artifact] = artifacts.chosen(selection, |a| a.digest.clone()).as_slice() {
            let path = artifact_path(&project, &repository.get_untracked(), &artifact.digest);
            labelling.set(Some((path, artifact.labels.clone())));
            labels_open.set(true);
        }
    });
    let menu_shown = Signal::derive(move || can_delete.get() || can_stop.get() || can_label.get());
    // While a scan or an SBOM generation is queued or running on this page, read the page again every two
    // seconds.
    Effect::new(move |_| {
        let running = artifacts.items().iter().any(|a| {
            matches!(
                ScanState::of(a.scan_overview.as_ref()),
                ScanState::Queued | ScanState::Scanning
            ) || SbomState::of(a.sbom_overview.as_ref()).running()
        });
        if running {
            set_timeout(
                move || artifacts.refresh(),
                std::time::Duration::from_secs(2),
            );
        }
    });

    let rows = move || {
        if query.get().is_none() {
            return status_row(COLUMNS, ListStatus::Loading);
        }
        let host = browser_host();
        let project = project_name.get_untracked().unwrap_or_default();
        let repository = repository.get_untracked();
        let project_id = ctx.id.get_untracked();
        artifacts.rows(COLUMNS, "No artifacts found", move |artifact| {
            view! {
                <ArtifactRow
                    artifact=artifact
                    project=project.clone()
                    repository=repository.clone()
                    host=host.clone()
                    project_id=project_id.clone()
                    selection=selection
                />
            }
            .into_any()
        })
    };

    view! {
        <section class="artifacts">
            <RepositoryBreadcrumb project_name=project_name repository=repository/>
            <h2 class="artifacts-title">{move || repository.get()}</h2>
            <ListToolbar list=list fetch=artifacts.fetch()>
                <button type="button" class="secondary" hidden=move || !can_scan()
                    disabled=move || requesting.get() || selection.count() == 0
                    on:click=scan_chosen>"Scan"</button>
                <button type="button" class="secondary" hidden=move || !can_scan()
                    disabled=move || requesting.get() || selection.count() == 0
                    on:click=sbom_chosen>"Generate SBOM"</button>
                <ActionMenu selection=selection shown=menu_shown>
                    <MenuItem label="Labels" selection=selection needs=Needs::One hint="Choose one artifact"
                        allowed=can_label on_select=edit_labels/>
                    <MenuItem label="Stop Scan" selection=selection needs=Needs::Some allowed=can_stop
                        on_select=stop_scan/>
                    <MenuItem label="Stop SBOM Generation" selection=selection needs=Needs::Some
                        allowed=can_stop on_select=stop_sbom/>
                    <MenuItem label="Delete" danger=true selection=selection needs=Needs::Some
                        allowed=can_delete on_select=ask_delete/>
                </ActionMenu>
                <select class="label-filter" aria-label="Filter by label"
                    on:change=move |ev| {
                        label_filter.set(event_target_value(&ev).parse().ok());
                        list.page.set(1);
                    }>
                    <option value="" selected=move || label_filter.get().is_none()>"All labels"</option>
                    {move || {
                        offered
                            .get()
                            .into_iter()
                            .map(|label| {
                                let id = label.id;
                                view! {
                                    <option value=id.to_string()
                                        selected=move || label_filter.get() == Some(id)>{label.name}</option>
                                }
                            })
                            .collect_view()
                    }}
                </select>
            </ListToolbar>
            <ListTable list=list fetch=artifacts.fetch() selection=selection class="artifacts-list" rows=rows>
                <th scope="col">"Artifacts"</th>
                <th scope="col">"Tags"</th>
                <th scope="col">"Labels"</th>
                <th scope="col">"Type"</th>
                <th scope="col">"Vulnerabilities"</th>
                <th scope="col">"SBOM"</th>
                <SortHeader label="Size" key="size" list=list class="number"/>
                <SortHeader label="Push Time" key="push_time" list=list/>
                <SortHeader label="Pull Time" key="pull_time" list=list/>
                <SortHeader label="Pulls" key="pull_count" list=list class="number"/>
                <th scope="col"><span class="visually-hidden">"Actions"</span></th>
            </ListTable>
        </section>
        <DeleteDialog flow=deleting title="Delete Artifact"
            message=|names, n| format!(
                "Delete {}? {} tags go with {}. This cannot be undone.",
                what("artifact", "artifacts", names, n),
                if n == 1 { "Its" } else { "Their" },
                if n == 1 { "it" } else { "them" }
            )
            done=|names, n| if n == 1 {
                format!("Deleted artifact {}", short_digest(names))
            } else {
                format!("Deleted {n} artifacts")
            }
            on_deleted=Callback::new(move |()| artifacts.refresh())/>
        <ArtifactLabelsDialog open=labels_open artifact=labelling offered=offered
            on_changed=Callback::new(move |()| artifacts.refresh())/>
    }
}

/// The Action menu's Labels: every label the artifact may carry, each a switch that puts it on
/// (`POST …/labels`) or takes it off (`DELETE …/labels/{id}`) at once.
#[component]
fn ArtifactLabelsDialog(
    open: RwSignal<bool>,
    /// The artifact's REST path and the labels it carries.
    artifact: RwSignal<Option<(String, Vec<ArtifactLabel>)>>,
    offered: Signal<Vec<Label>>,
    on_changed: Callback<()>,
) -> impl IntoView {
    let carried = RwSignal::new(Vec::<i64>::new());
    let busy = RwSignal::new(false);
    let toasts = use_toasts();
    Effect::new(move |_| {
        if open.get() {
            carried.set(
                artifact
                    .get_untracked()
                    .map(|(_, labels)| labels.iter().map(|l| l.id).collect())
                    .unwrap_or_default(),
            );
        }
    });
    let toggle = move |label: Label| {
        let Some((path, _)) = artifact.get_untracked() else {
            return;
        };
        let on = carried.with_untracked(|c| c.contains(&label.id));
        busy.set(true);
        spawn_local(async move {
            let done = if on {
                api::delete(&format!("{path}/labels/{}", label.id)).await
            } else {
                api::post(
                    &format!("{path}/labels"),
                    &serde_json::json!({ "id": label.id }),
                )
                .await
            };
            busy.set(false);
            match done {
                Ok(()) => {
                    carried.update(|c| {
                        if on {
                            c.retain(|id| *id != label.id);
                        } else {
                            c.push(label.id);
                        }
                    });
                    toasts.success(if on {
                        format!("Removed label {}", label.name)
                    } else {
                        format!("Added label {}", label.name)
                    });
                    on_changed.run(());
                }
                Err(e) => toasts.error(e.message),
            }
        });
    };
    let items = move || {
        let labels = offered.get();
        if labels.is_empty() {
            return view! {
                <p class="empty">"No labels yet: create them under Administration → Labels or in the project's Labels tab."</p>
            }
            .into_any();
        }
        view! {
            <ul class="label-picker" aria-label="Labels">
                {labels
                    .into_iter()
                    .map(|label| {
                        let id = label.id;
                        let name = label.name.clone();
                        let check = format!("Label {name}");
                        let chip = view! { <LabelChip name=name.clone() color=label.color.clone()/> };
                        let scope = if label.scope == "g" { "global" } else { "project" };
                        view! {
                            <li>
                                <label>
                                    <input type="checkbox" aria-label=check
                                        prop:checked=move || carried.with(|c| c.contains(&id))
                                        disabled=move || busy.get()
                                        on:change=move |_| toggle(label.clone())/>
                                    {chip}
                                    <span class="muted">{scope}</span>
                                </label>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        }
        .into_any()
    };
    view! {
        <Dialog open=open title="Labels">
            <div class="dialog-body">{items}</div>
            <footer class="dialog-footer">
                <button type="button" on:click=move |_| open.set(false)>"Done"</button>
            </footer>
        </Dialog>
    }
}

/// The way back from a repository's pages (Harbor's breadcrumb): Projects › the project › the repository and,
/// on an artifact's page, › its short digest (the repository a link then).
#[component]
pub(super) fn RepositoryBreadcrumb(
    project_name: Memo<Option<String>>,
    repository: Memo<String>,
    /// The artifact's digest, on an artifact's page.
    #[prop(optional)]
    digest: Option<Memo<String>>,
) -> impl IntoView {
    let ctx = use_project();
    let project_link = move || format!("/harbor/projects/{}/repositories", ctx.id.get());
    let repository_link = move || {
        format!(
            "/harbor/projects/{}/repositories/{}/artifacts-tab",
            ctx.id.get(),
            encode_component(&repository.get())
        )
    };
    let separator = || view! { <span class="breadcrumb-separator" aria-hidden="true">" › "</span> };
    let (label, last) = match digest {
        None => (
            "Repository breadcrumb",
            view! { <span aria-current="page">{move || repository.get()}</span> }.into_any(),
        ),
        Some(digest) => (
            "Artifact breadcrumb",
            view! {
                <A href=repository_link exact=true>{move || repository.get()}</A>
                {separator()}
                <span aria-current="page">{move || short_digest(&digest.get())}</span>
            }
            .into_any(),
        ),
    };
    view! {
        <nav class="breadcrumb" aria-label=label>
            <A href="/harbor/projects" exact=true>"Projects"</A>
            {separator()}
            <A href=project_link exact=true>{move || project_name.get().unwrap_or_else(|| "…".to_owned())}</A>
            {separator()}
            {last}
        </nav>
    }
}

/// One artifact, and (for an index, once expanded) a row per platform under it.
#[component]
fn ArtifactRow(
    artifact: Artifact,
    project: String,
    repository: String,
    host: String,
    project_id: String,
    selection: Selection,
) -> impl IntoView {
    let expanded = RwSignal::new(false);
    let digest = artifact.digest.clone();
    let children: Vec<Reference> = artifact.references.clone().unwrap_or_default();
    let is_index = !children.is_empty();
    let tag_names: Vec<String> = artifact
        .tags
        .iter()
        .flatten()
        .map(|t| t.name.clone())
        .collect();
    let command = pull_command(
        &host,
        &artifact.repository_name,
        tag_names.first().map(String::as_str),
        &digest,
    );
    let locked: Vec<String> = artifact
        .tags
        .iter()
        .flatten()
        .filter(|t| t.immutable)
        .map(|t| t.name.clone())
        .collect();
    let chips = TagChips::of(&tag_names, TAG_CHIPS);
    let labels = artifact.labels.clone();
    let kind = kind_label(&artifact);
    let platform = if is_index {
        Some(platforms_summary(children.len()))
    } else {
        image_platform(&artifact)
    };
    let pull_time = (!is_zero_time(&artifact.pull_time)).then(|| format::time(&artifact.pull_time));
    let scan = ScanState::of(artifact.scan_overview.as_ref());
    let sbom = SbomState::of(artifact.sbom_overview.as_ref());
    let rest_path = artifact_path(&project, &repository, &digest);
    let toggle = is_index.then(|| {
        let label = format!("Show the {} platforms of {}", children.len(), short_digest(&digest));
        view! {
            <button type="button" class="icon expand" aria-label=label
                aria-expanded=move || expanded.get().to_string()
                on:click=move |_| expanded.update(|e| *e = !*e)>
                <span class="expand-arrow" class:expand-open=move || expanded.get() aria-hidden="true">"▸"</span>
            </button>
        }
        .into_any()
    });
    let child_rows = {
        let project = project.clone();
        let repository = repository.clone();
        let host = host.clone();
        let project_id = project_id.clone();
        let full_name = artifact.repository_name.clone();
        move || {
            expanded.get().then(|| {
                children
                    .iter()
                    .cloned()
                    .map(|reference| {
                        view! {
                            <ChildRow
                                reference=reference
                                project=project.clone()
                                repository=repository.clone()
                                full_name=full_name.clone()
                                host=host.clone()
                                project_id=project_id.clone()
                            />
                        }
                    })
                    .collect_view()
            })
        }
    };
    let full_digest = digest.clone();
    let href = artifact_href(&project_id, &repository, &digest);
    let details = href.clone();
    let short = short_digest(&digest);
    let label = format!("Select artifact {short}");
    view! {
        <tr class="artifact-row" data-digest=digest.clone()>
            <SelectCell selection=selection key=digest.clone() label=label/>
            <td class="artifact-digest">
                {toggle.unwrap_or_else(|| view! { <span class="expand-spacer" aria-hidden="true"></span> }.into_any())}
                <A href=href attr:title=full_digest.clone()><code>{short}</code></A>
                <CopyButton text=full_digest label="Copy digest"/>
            </td>
            <td class="artifact-tags">
                {chips
                    .shown
                    .into_iter()
                    .map(|name| {
                        let lock = locked.contains(&name).then(lock_icon);
                        view! { <span class="tag-chip">{name}{lock}</span> }
                    })
                    .collect_view()}
                {(chips.hidden > 0)
                    .then(|| {
                        view! {
                            <span class="tag-chip tag-more" title=chips.hidden_names.join(", ")>
                                {format!("…+{}", chips.hidden)}
                            </span>
                        }
                    })}
            </td>
            <td class="artifact-labels">
                {labels
                    .into_iter()
                    .map(|l| view! { <LabelChip name=l.name color=l.color description=l.description/> })
                    .collect_view()}
            </td>
            <td>
                <span class="artifact-kind">{kind}</span>
                {platform.map(|p| view! { <span class="artifact-platform muted">{p}</span> })}
            </td>
            <td class="artifact-vulnerabilities"><VulnerabilityBar state=scan/></td>
            <td class="artifact-sbom"><SbomBar state=sbom artifact_path=rest_path details=details/></td>
            <td class="number">{format::bytes(artifact.size)}</td>
            <td class="time">{format::time(&artifact.push_time)}</td>
            <td class="time">{pull_time}</td>
            <td class="number artifact-pulls">{artifact.pull_count}</td>
            <td class="actions">
                <PullCommand command=command/>
            </td>
        </tr>
        {child_rows}
    }
}

/// A child manifest of an expanded index: its platform and digest from the index, its size and pulls from
/// `GET …/artifacts/{digest}` (fetched when the row appears).
#[component]
fn ChildRow(
    reference: Reference,
    project: String,
    repository: String,
    full_name: String,
    host: String,
    project_id: String,
) -> impl IntoView {
    let digest = reference.child_digest.clone();
    let href = artifact_href(&project_id, &repository, &digest);
    let short = short_digest(&digest);
    let rest_path = artifact_path(&project, &repository, &digest);
    let path =
        format!("{rest_path}?with_tag=false&with_scan_overview=true&with_sbom_overview=true");
    let child = Fetch::<Artifact>::new(move || Some(path.clone()));
    let platform = reference
        .platform
        .as_ref()
        .map(|p| platform_label(&p.os, &p.architecture, p.variant.as_deref()))
        .unwrap_or_else(|| "unknown platform".to_owned());
    let command = pull_command(&host, &full_name, None, &digest);
    let size = move || match child.get() {
        None => "…".to_owned(),
        Some(Ok(a)) => format::bytes(a.size),
        Some(Err(_)) => "—".to_owned(),
    };
    let pull_time = move || match child.get() {
        Some(Ok(a)) if !is_zero_time(&a.pull_time) => format::time(&a.pull_time),
        _ => String::new(),
    };
    let pulls = move || match child.get() {
        Some(Ok(a)) => a.pull_count.to_string(),
        _ => String::new(),
    };
    let vulnerabilities = move || match child.get() {
        Some(Ok(a)) => {
            view! { <VulnerabilityBar state=ScanState::of(a.scan_overview.as_ref())/> }.into_any()
        }
        _ => ().into_any(),
    };
    let sbom = move || match child.get() {
        Some(Ok(a)) => view! {
            <SbomBar state=SbomState::of(a.sbom_overview.as_ref()) artifact_path=rest_path.clone()/>
        }
        .into_any(),
        _ => ().into_any(),
    };
    view! {
        <tr class="artifact-child" data-child=digest.clone()>
            <td class="select"></td>
            <td class="artifact-digest child-digest">
                <span class="child-marker" aria-hidden="true">"↳"</span>
                <A href=href attr:title=digest.clone()><code>{short}</code></A>
                <CopyButton text=digest.clone() label="Copy digest"/>
            </td>
            <td></td>
            <td></td>
            <td><span class="artifact-platform">{platform}</span></td>
            <td class="artifact-vulnerabilities">{vulnerabilities}</td>
            <td class="artifact-sbom">{sbom}</td>
            <td class="number">{size}</td>
            <td></td>
            <td class="time">{pull_time}</td>
            <td class="number artifact-pulls">{pulls}</td>
            <td class="actions">
                <PullCommand command=command/>
            </td>
        </tr>
    }
}

/// Copies a `docker pull` command; the command is also the control's title and `data-pull-command`.
#[component]
pub(super) fn PullCommand(command: String) -> impl IntoView {
    let title = command.clone();
    let data = command.clone();
    view! {
        <span class="pull-command" data-pull-command=data title=title>
            <span class="pull-command-label" aria-hidden="true">"Pull"</span>
            <CopyButton text=command label="Copy pull command"/>
        </span>
    }
}

/// `host:port` of the page, which is the registry's too (the console is served by the registry).
pub(super) fn browser_host() -> String {
    web_sys::window()
        .and_then(|w| w.location().host().ok())
        .unwrap_or_default()
}

/// The repository's name inside the project from the route's `:repo`. The router decodes a parameter once,
/// so `library%2Fnginx` arrives as `library/nginx`; a link encoded twice (`%252F`, as in Harbor's API paths)
/// arrives as `library%2Fnginx` and is decoded here. A repository name never holds `%`, so decoding again
/// is safe.
pub fn repository_from_param(param: &str) -> String {
    let mut name = param.to_owned();
    // At most twice more: `%252F` → `%2F` → `/`.
    for _ in 0..2 {
        if !name.contains('%') {
            break;
        }
        name = percent_decode(&name);
    }
    name.trim_matches('/').to_owned()
}

/// Decodes `%XX` escapes (UTF-8); a malformed escape is kept as written.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(value) = text
                .get(i + 1..i + 3)
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
        {
            out.push(value);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A repository's name inside its project as a path segment of the REST API: Harbor wants `/` encoded twice
/// (`a/b` → `a%252Fb`); Berth takes it once or twice.
pub fn encode_repository(relative: &str) -> String {
    relative
        .split('/')
        .map(encode_component)
        .collect::<Vec<_>>()
        .join("%252F")
}

/// `/projects/{project}/repositories/{repository}/artifacts` with tags and labels, one page, in `sort` order
/// ([`DEFAULT_SORT`] when none is chosen), only those carrying `label` when given.
pub fn artifacts_path(
    project: &str,
    repository: &str,
    page: u32,
    page_size: u32,
    sort: Option<Sort>,
    label: Option<i64>,
) -> String {
    page_path(
        &format!(
            "/projects/{}/repositories/{}/artifacts",
            encode_component(project),
            encode_repository(repository)
        ),
        page,
        page_size,
        &[
            ("with_tag", "true".to_owned()),
            ("with_immutable_status", "true".to_owned()),
            ("with_scan_overview", "true".to_owned()),
            ("with_sbom_overview", "true".to_owned()),
            ("with_label", "true".to_owned()),
            ("sort", Sort::param(Some(sort.unwrap_or(DEFAULT_SORT)))),
            (
                "q",
                label.map(|id| format!("labels=({id})")).unwrap_or_default(),
            ),
        ],
    )
}

/// The console's address of an artifact's page (Harbor's
/// `/harbor/projects/{id}/repositories/{repo}/artifacts-tab/artifacts/{digest}`, the repository's name inside
/// the project percent-encoded as one segment).
pub fn artifact_href(project_id: &str, repository: &str, digest: &str) -> String {
    format!(
        "/harbor/projects/{}/repositories/{}/artifacts-tab/artifacts/{}",
        encode_component(project_id),
        encode_component(repository),
        encode_component(digest)
    )
}

/// The console's page of the artifact `digest` of `repository` (its full name, `project/repo`).
pub fn artifact_link(project_id: i64, repository: &str, digest: &str) -> String {
    let inside = repository
        .split_once('/')
        .map_or(repository, |(_, rest)| rest);
    artifact_href(&project_id.to_string(), inside, digest)
}

/// `/projects/{project}/repositories/{repository}/artifacts/{reference}` (a digest or a tag).
pub fn artifact_path(project: &str, repository: &str, reference: &str) -> String {
    format!(
        "/projects/{}/repositories/{}/artifacts/{}",
        encode_component(project),
        encode_repository(repository),
        encode_component(reference)
    )
}

/// What a request of the list's toolbar or Action menu is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A vulnerability scan.
    Scan,
    /// An SBOM generation.
    Sbom,
}

impl Kind {
    /// The `scan_type` of the request's body.
    pub fn scan_type(self) -> &'static str {
        match self {
            Kind::Scan => "vulnerability",
            Kind::Sbom => "sbom",
        }
    }
}

/// The toast once `count` artifacts were asked to start (or `stop`) a scan or SBOM generation.
pub fn done_message(kind: Kind, stop: bool, count: usize) -> String {
    let what = match kind {
        Kind::Scan => "Scan",
        Kind::Sbom => "SBOM generation",
    };
    match (stop, count) {
        (false, 1) => format!("{what} requested"),
        (true, 1) => format!("{what} stopped"),
        (false, _) if kind == Kind::Scan => format!("Scans of {count} artifacts requested"),
        (false, _) => format!("{what} of {count} artifacts requested"),
        (true, _) => format!("{what} of {count} artifacts stopped"),
    }
}

/// `sha256:0123456789ab…` → `sha256:01234567`: the algorithm and the first 8 hex digits.
pub fn short_digest(digest: &str) -> String {
    match digest.split_once(':') {
        Some((algorithm, hex)) => {
            format!("{algorithm}:{}", hex.chars().take(8).collect::<String>())
        }
        None => digest.chars().take(8).collect(),
    }
}

/// What `docker pull` needs: `host/project/repo:tag` for a tagged artifact, `host/project/repo@digest`
/// otherwise.
pub fn pull_command(host: &str, full_name: &str, tag: Option<&str>, digest: &str) -> String {
    let registry = if host.is_empty() {
        full_name.to_owned()
    } else {
        format!("{host}/{full_name}")
    };
    match tag {
        Some(tag) if !tag.is_empty() => format!("docker pull {registry}:{tag}"),
        _ => format!("docker pull {registry}@{digest}"),
    }
}

/// Whether an API time means "never" (Harbor's zero time `0001-01-01T00:00:00Z`, Berth's
/// `0001-01-01T00:00:00.000Z`, or nothing).
pub fn is_zero_time(time: &str) -> bool {
    let time = time.trim();
    time.is_empty() || time.starts_with("0001-01-01")
}

/// The lock beside a tag an immutable tag rule protects (drawn by the stylesheet, `.tag-lock`).
pub fn lock_icon() -> impl IntoView {
    view! {
        <span class="tag-lock" role="img" aria-label="Immutable"
            title="Immutable: a tag immutability rule protects this tag"></span>
    }
}

/// A row's tags as chips: the first few, and how many (and which) are left for the `…+N` chip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagChips {
    pub shown: Vec<String>,
    pub hidden: usize,
    pub hidden_names: Vec<String>,
}

impl TagChips {
    /// Up to `max` chips; the `…+N` chip replaces the rest, never a single tag (that would take as much room).
    pub fn of(names: &[String], max: usize) -> TagChips {
        let shown_count = if names.len() <= max + 1 {
            names.len()
        } else {
            max
        };
        TagChips {
            shown: names[..shown_count].to_vec(),
            hidden: names.len() - shown_count,
            hidden_names: names[shown_count..].to_vec(),
        }
    }
}

/// `linux/arm64/v8`; `variant` only when there is one.
pub fn platform_label(os: &str, architecture: &str, variant: Option<&str>) -> String {
    let os = if os.is_empty() { "unknown" } else { os };
    let architecture = if architecture.is_empty() {
        "unknown"
    } else {
        architecture
    };
    match variant.filter(|v| !v.is_empty()) {
        Some(variant) => format!("{os}/{architecture}/{variant}"),
        None => format!("{os}/{architecture}"),
    }
}

/// An image's platform from its config (`extra_attrs.os`, `architecture`, `variant`), if it has one.
pub fn image_platform(artifact: &Artifact) -> Option<String> {
    let attrs = &artifact.extra_attrs;
    let architecture = attrs.text("architecture")?;
    Some(platform_label(
        attrs.text("os").unwrap_or_default(),
        architecture,
        attrs.text("variant"),
    ))
}

/// `Image`, `Image index`, `Chart`, `CNAB` or `Unknown`.
pub fn kind_label(artifact: &Artifact) -> String {
    let is_index = artifact.references.as_ref().is_some_and(|r| !r.is_empty())
        || artifact.manifest_media_type.contains("image.index")
        || artifact.manifest_media_type.contains("manifest.list");
    if is_index {
        return "Image index".to_owned();
    }
    match artifact.kind.as_str() {
        "IMAGE" => "Image".to_owned(),
        "CHART" => "Chart".to_owned(),
        "CNAB" => "CNAB".to_owned(),
        _ => "Unknown".to_owned(),
    }
}

/// `1 platform`, `2 platforms`.
pub fn platforms_summary(count: usize) -> String {
    if count == 1 {
        "1 platform".to_owned()
    } else {
        format!("{count} platforms")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answers::{ExtraAttrs, Platform};

    const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    fn artifact(kind: &str, media_type: &str, references: Option<Vec<Reference>>) -> Artifact {
        Artifact {
            kind: kind.to_owned(),
            media_type: String::new(),
            manifest_media_type: media_type.to_owned(),
            repository_name: "proj/app".to_owned(),
            digest: DIGEST.to_owned(),
            size: 0,
            push_time: String::new(),
            pull_time: String::new(),
            pull_count: 0,
            extra_attrs: ExtraAttrs::default(),
            annotations: None,
            references,
            tags: None,
            addition_links: Default::default(),
            scan_overview: None,
            sbom_overview: None,
            labels: Vec::new(),
        }
    }

    #[test]
    fn short_digests_keep_the_algorithm_and_eight_hex_digits() {
        assert_eq!(short_digest(DIGEST), "sha256:01234567");
        assert_eq!(short_digest("sha512:abc"), "sha512:abc");
        assert_eq!(short_digest("0123456789"), "01234567");
    }

    #[test]
    fn pull_commands_use_the_first_tag_else_the_digest() {
        assert_eq!(
            pull_command("127.0.0.1:5000", "proj/app", Some("v1"), DIGEST),
            "docker pull 127.0.0.1:5000/proj/app:v1"
        );
        assert_eq!(
            pull_command("reg.example.com", "proj/a/b", None, DIGEST),
            format!("docker pull reg.example.com/proj/a/b@{DIGEST}")
        );
        assert_eq!(
            pull_command("reg.example.com", "proj/app", Some(""), DIGEST),
            format!("docker pull reg.example.com/proj/app@{DIGEST}")
        );
        assert_eq!(
            pull_command("", "proj/app", Some("v1"), DIGEST),
            "docker pull proj/app:v1"
        );
    }

    #[test]
    fn toasts_say_what_was_asked_of_how_many() {
        assert_eq!(done_message(Kind::Scan, false, 1), "Scan requested");
        assert_eq!(
            done_message(Kind::Scan, false, 3),
            "Scans of 3 artifacts requested"
        );
        assert_eq!(
            done_message(Kind::Sbom, false, 1),
            "SBOM generation requested"
        );
        assert_eq!(
            done_message(Kind::Sbom, false, 2),
            "SBOM generation of 2 artifacts requested"
        );
        assert_eq!(done_message(Kind::Sbom, true, 1), "SBOM generation stopped");
        assert_eq!(
            done_message(Kind::Scan, true, 2),
            "Scan of 2 artifacts stopped"
        );
        assert_eq!(Kind::Sbom.scan_type(), "sbom");
        assert_eq!(Kind::Scan.scan_type(), "vulnerability");
    }

    #[test]
    fn zero_times_mean_never() {
        assert!(is_zero_time("0001-01-01T00:00:00Z"));
        assert!(is_zero_time("0001-01-01T00:00:00.000Z"));
        assert!(is_zero_time(""));
        assert!(!is_zero_time("2026-11-22T18:15:38.123Z"));
    }

    #[test]
    fn tag_chips_sum_up_what_does_not_fit() {
        let none = TagChips::of(&[], 3);
        assert!(none.shown.is_empty());
        assert_eq!(none.hidden, 0);
        let four = TagChips::of(&names(&["a", "b", "c", "d"]), 3);
        assert_eq!(four.shown, names(&["a", "b", "c", "d"]), "+1 saves nothing");
        assert_eq!(four.hidden, 0);
        let six = TagChips::of(&names(&["a", "b", "c", "d", "e", "f"]), 3);
        assert_eq!(six.shown, names(&["a", "b", "c"]));
        assert_eq!(six.hidden, 3);
        assert_eq!(six.hidden_names, names(&["d", "e", "f"]));
    }

    #[test]
    fn api_paths_encode_the_repository_twice_and_default_to_newest_first() {
        assert_eq!(
            artifacts_path("proj", "app", 1, 15, None, None),
            "/projects/proj/repositories/app/artifacts?page=1&page_size=15&with_tag=true&with_immutable_status=true&with_scan_overview=true&with_sbom_overview=true&with_label=true&sort=-push_time"
        );
        assert_eq!(
            artifacts_path("proj", "app", 1, 15, None, Some(7)),
            "/projects/proj/repositories/app/artifacts?page=1&page_size=15&with_tag=true&with_immutable_status=true&with_scan_overview=true&with_sbom_overview=true&with_label=true&sort=-push_time&q=labels%3D%287%29"
        );
        assert_eq!(
            artifacts_path(
                "proj",
                "a/b",
                2,
                25,
                Some(Sort {
                    key: "pull_count",
                    descending: false
                }),
                None
            ),
            "/projects/proj/repositories/a%252Fb/artifacts?page=2&page_size=25&with_tag=true&with_immutable_status=true&with_scan_overview=true&with_sbom_overview=true&with_label=true&sort=pull_count"
        );
        assert_eq!(
            artifact_path("proj", "a/b", DIGEST),
            format!(
                "/projects/proj/repositories/a%252Fb/artifacts/sha256%3A{}",
                &DIGEST[7..]
            )
        );
        assert_eq!(
            artifact_path("proj", "app", "v1.0"),
            "/projects/proj/repositories/app/artifacts/v1.0"
        );
    }

    #[test]
    fn artifact_pages_use_harbors_path() {
        assert_eq!(
            artifact_href("4", "apps/web", DIGEST),
            format!(
                "/harbor/projects/4/repositories/apps%2Fweb/artifacts-tab/artifacts/sha256%3A{}",
                &DIGEST[7..]
            )
        );
    }

    #[test]
    fn route_parameters_are_decoded_once_or_twice() {
        assert_eq!(repository_from_param("nginx"), "nginx");
        assert_eq!(repository_from_param("library/nginx"), "library/nginx");
        assert_eq!(repository_from_param("library%2Fnginx"), "library/nginx");
        assert_eq!(repository_from_param("a%252Fb%252Fc"), "a/b/c");
        assert_eq!(repository_from_param("bad%zz"), "bad%zz");
    }

    #[test]
    fn platforms_read_os_architecture_and_variant() {
        assert_eq!(platform_label("linux", "amd64", None), "linux/amd64");
        assert_eq!(
            platform_label("linux", "arm64", Some("v8")),
            "linux/arm64/v8"
        );
        assert_eq!(platform_label("linux", "arm", Some("")), "linux/arm");
        assert_eq!(platform_label("", "", None), "unknown/unknown");

        let mut image = artifact("IMAGE", "application/vnd.oci.image.manifest.v1+json", None);
        assert_eq!(image_platform(&image), None);
        image.extra_attrs.os = serde_json::json!("linux");
        image.extra_attrs.architecture = serde_json::json!("arm64");
        assert_eq!(image_platform(&image).as_deref(), Some("linux/arm64"));
        assert_eq!(kind_label(&image), "Image");
    }

    #[test]
    fn indexes_are_told_apart_from_images() {
        let child = Reference {
            child_digest: DIGEST.to_owned(),
            platform: Some(Platform {
                architecture: "amd64".to_owned(),
                os: "linux".to_owned(),
                ..Platform::default()
            }),
        };
        let index = artifact(
            "IMAGE",
            "application/vnd.oci.image.index.v1+json",
            Some(vec![child]),
        );
        assert_eq!(kind_label(&index), "Image index");
        let list = artifact(
            "IMAGE",
            "application/vnd.docker.distribution.manifest.list.v2+json",
            Some(Vec::new()),
        );
        assert_eq!(kind_label(&list), "Image index");
        assert_eq!(kind_label(&artifact("CHART", "x", None)), "Chart");
        assert_eq!(kind_label(&artifact("", "x", None)), "Unknown");
        assert_eq!(platforms_summary(1), "1 platform");
        assert_eq!(platforms_summary(2), "2 platforms");
    }
}
