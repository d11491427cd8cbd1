//! An artifact's page (Harbor's `/harbor/projects/{id}/repositories/{repo}/artifacts-tab/artifacts/{digest}`):
//! its tags (Harbor's Tags view: Add Tag, `POST …/artifacts/{digest}/tags`, and Remove Tag for the chosen tags,
//! `DELETE …/tags/{tag}`, which leaves the artifact and its other tags alone), an overview (digest, type,
//! media type, size, platform, push and pull times, annotations), the build history (Harbor's
//! `build_history` addition) and the layers (Berth's `layers` addition, from the manifest), or an index's
//! platforms with links to theirs.
//!
//! Under the overview, the artifact's vulnerabilities ([`super::vulnerabilities`]) and its SBOM
//! ([`super::sbom`]).
//!
//! Rule: the page reads the artifact once and each part from the link the artifact gives
//! (`addition_links`), so an artifact without a history or layers asks for none.

use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use super::artifacts::{
    PullCommand, RepositoryBreadcrumb, artifact_href, artifact_path, browser_host, image_platform,
    is_zero_time, kind_label, lock_icon, platform_label, pull_command, repository_from_param,
    short_digest,
};
use super::sbom::SbomSection;
use super::use_project;
use super::vulnerabilities::VulnerabilitiesSection;
use crate::answers::{Artifact, Tag};
use crate::api::{self, encode_component};
use crate::components::action_menu::{ActionMenu, MenuItem, Needs};
use crate::components::copy_button::CopyButton;
use crate::components::dialog::{DeleteDialog, DeleteFlow, FormStatus, what};
use crate::components::fetch::Fetch;
use crate::components::select_table::{SelectCell, Selection};
use crate::components::table::{
    ListControls, ListTable, ListToolbar, PagedList, Sort, SortHeader, page_path, scroll_box,
};
use crate::components::toast::{ErrorBanner, answered, use_toasts};
use crate::format;

#[component]
pub fn ArtifactPage() -> impl IntoView {
    let params = use_params_map();
    let ctx = use_project();
    let repository = Memo::new(move |_| {
        params.with(|p| repository_from_param(&p.get("repo").unwrap_or_default()))
    });
    let digest = Memo::new(move |_| params.with(|p| p.get("digest").unwrap_or_default()));
    let project_name = Memo::new(move |_| ctx.name());
    // `…/artifacts/{digest}` of the REST API, once the project is known.
    let base = Memo::new(move |_| {
        project_name
            .get()
            .map(|project| artifact_path(&project, &repository.get(), &digest.get()))
    });
    let artifact = Fetch::<Artifact>::new(move || {
        base.get().map(|path| {
            format!("{path}?with_tag=false&with_scan_overview=true&with_sbom_overview=true")
        })
    });
    let fetched = artifact;
    let loaded = Signal::derive(move || artifact.ok());

    let body = move || {
        answered(artifact.get(), |artifact| {
            let links = &artifact.addition_links;
            let link = |l: &Option<crate::answers::Link>| l.as_ref().map(|l| l.href.clone());
            let (history, layers) = (link(&links.build_history), link(&links.layers));
            let platforms = platform_rows(
                &artifact,
                &ctx.id.get_untracked(),
                &repository.get_untracked(),
            );
            let scan_base = base.get_untracked().unwrap_or_default();
            let reload = Callback::new(move |()| fetched.refetch());
            let vulnerabilities = view! {
                <VulnerabilitiesSection artifact=artifact.clone() base=scan_base.clone() reload=reload/>
                <SbomSection artifact=artifact.clone() base=scan_base reload=reload/>
            };
            let annotations: Vec<(String, String)> = artifact
                .annotations
                .clone()
                .unwrap_or_default()
                .into_iter()
                .collect();
            view! {
                <section class="artifact-section" aria-label="Overview">
                    <h3>"Overview"</h3>
                    {facts(overview(&artifact))}
                    {(!annotations.is_empty()).then(|| view! { <h4>"Annotations"</h4> {facts(annotations)} })}
                </section>
                {vulnerabilities}
                {history.map(|href| view! {
                    <AdditionSection title="Build History" class="build-history" headers=&["Created", "Command"]
                        href=href rows_of=history_rows empty="No build history"/>
                })}
                {layers.map(|href| view! {
                    <AdditionSection title="Layers" class="layers" headers=&["#", "Digest", "Media Type", "Size"]
                        href=href rows_of=layer_rows empty="No layers"/>
                })}
                {(!platforms.is_empty()).then(|| view! {
                    <section class="artifact-section" aria-label="Platforms">
                        <h3>"Platforms"</h3>
                        {table("artifact-platforms", &["Platform", "Digest"], platforms, "")}
                    </section>
                })}
            }
            .into_any()
        })
    };

    view! {
        <section class="artifacts artifact-page">
            <RepositoryBreadcrumb project_name=project_name repository=repository digest=digest/>
            <h2 class="artifacts-title">
                <code title=move || digest.get()>{move || short_digest(&digest.get())}</code>
                " "
                <CopyButton text=Signal::derive(move || digest.get()) label="Copy digest"/>
            </h2>
            {move || base.get().map(|base| view! {
                <TagList base=base artifact=loaded repository=repository.get_untracked()/>
            })}
            {body}
        </section>
    }
}

/// Harbor's Tags view of the artifact at `base` (its REST path): the tags, Add Tag and Remove Tag.
#[component]
fn TagList(
    base: String,
    #[prop(into)] artifact: Signal<Option<Artifact>>,
    repository: String,
) -> impl IntoView {
    let ctx = use_project();
    let toasts = use_toasts();
    let list = ListControls::new();
    let list_base = base.clone();
    let tags = PagedList::<Tag>::new(
        move || {
            let (page, size, _, sort) = list.get();
            Some(tags_path(&list_base, page, size, sort))
        },
        list,
    );
    let selection = Selection::new(tags.keys(|t| t.name.clone()));

    // Nobody pushes to a proxy cache, so nobody tags there either (Harbor hides Add Tag there too).
    let can_add = move || ctx.can("tag", "create") && !ctx.is_proxy();
    let can_remove = Signal::derive(move || ctx.can("tag", "delete"));

    let adding = RwSignal::new(false);
    let name = RwSignal::new(String::new());
    let status = FormStatus::new();
    let add_base = base.clone();
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        let tag = name.get_untracked().trim().to_owned();
        if let Err(message) = check_tag_name(&tag) {
            return status.fail(message);
        }
        let path = format!("{add_base}/tags");
        // Harbor's `Tag`, of which only the name counts (a `Value`: its serialiser is in the .wasm already).
        let body = serde_json::json!({ "name": tag });
        status.send(
            Box::pin(async move { api::post(&path, &body).await }),
            Box::new(move |()| {
                adding.set(false);
                name.set(String::new());
                toasts.success(format!("Added tag {tag}"));
                tags.refresh();
            }),
        );
    };

    let removing = DeleteFlow::new();
    let remove_base = base.clone();
    let on_remove = Callback::new(move |()| {
        removing.ask_all(
            tags.chosen(selection, |t| t.name.clone())
                .into_iter()
                .map(|t| (tag_path(&remove_base, &t.name), t.name))
                .collect(),
        );
    });

    let host = browser_host();
    let rows = move || {
        let full_name = artifact.with(|a| {
            a.as_ref()
                .map(|a| a.repository_name.clone())
                .unwrap_or_else(|| format!("{}/{repository}", ctx.name().unwrap_or_default()))
        });
        let host = host.clone();
        tags.rows(
            "4",
            "No tags: pull this artifact by its digest",
            move |tag| {
                let command = pull_command(&host, &full_name, Some(&tag.name), "");
                let label = format!("Select tag {}", tag.name);
                let row_name = tag.name.clone();
                let pull_time =
                    (!is_zero_time(&tag.pull_time)).then(|| format::time(&tag.pull_time));
                view! {
                    <tr data-tag=row_name>
                        <SelectCell selection=selection key=tag.name.clone() label=label/>
                        <td class="tag-name">
                            <span class="tag-chip">{tag.name}{tag.immutable.then(lock_icon)}</span>
                            <PullCommand command=command/>
                        </td>
                        <td class="time">{pull_time}</td>
                        <td class="time">{format::time(&tag.push_time)}</td>
                    </tr>
                }
                .into_any()
            },
        )
    };

    view! {
        <section class="artifact-section" aria-labelledby="artifact-tags">
            <h3 id="artifact-tags">"Tags"</h3>
            <ListToolbar list=list fetch=tags.fetch()>
                <button type="button" class="secondary" hidden=move || !can_add()
                    aria-expanded=move || adding.get().to_string()
                    on:click=move |_| {
                        status.error.set(None);
                        adding.update(|a| *a = !*a);
                    }>
                    "+ Add Tag"
                </button>
                <ActionMenu selection=selection shown=can_remove>
                    <MenuItem label="Remove Tag" danger=true selection=selection needs=Needs::Some
                        on_select=on_remove/>
                </ActionMenu>
            </ListToolbar>
            <form class="add-tag" hidden=move || !adding.get() on:submit=submit novalidate>
                <label for="add-tag-name">"Tag name"</label>
                <input id="add-tag-name" type="text" required maxlength="128" autocomplete="off"
                    bind:value=name/>
                <button type="button" class="secondary" on:click=move |_| adding.set(false)>"Cancel"</button>
                <button type="submit" disabled=move || status.busy.get()>"OK"</button>
                <ErrorBanner error=status.error/>
            </form>
            <ListTable list=list fetch=tags.fetch() selection=selection class="tag-list" rows=rows>
                <SortHeader label="Name" key="name" list=list/>
                <SortHeader label="Pull Time" key="pull_time" list=list/>
                <SortHeader label="Push Time" key="push_time" list=list/>
            </ListTable>
        </section>
        <DeleteDialog flow=removing title="Remove Tag" confirm_label="Remove"
            message=|names, n| format!(
                "Remove {}? The artifact stays, with its other tags and its digest.",
                what("tag", "tags", names, n)
            )
            done=|names, n| format!("Removed {}", what("tag", "tags", names, n))
            on_deleted=Callback::new(move |()| tags.refresh())/>
    }
}

/// A cell of the page's read-only tables (one renderer for all of them keeps the .wasm small).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    Text(String),
    /// Monospace text: a command, a media type.
    Code(String),
    /// A digest: short, whole in its title, with a copy button.
    Digest(String),
    /// A digest that opens that artifact's page.
    DigestLink {
        digest: String,
        href: String,
    },
    /// A number or a size, right-aligned.
    Number(String),
}

/// A row of a read-only table: its key (the row's `data-key`) and its cells.
pub type Row = (String, Vec<Cell>);

fn cell_view(cell: Cell) -> AnyView {
    match cell {
        Cell::Text(text) => view! { <td>{text}</td> }.into_any(),
        Cell::Code(text) => view! { <td><code class="artifact-code">{text}</code></td> }.into_any(),
        Cell::Digest(digest) => {
            let short = short_digest(&digest);
            view! {
                <td class="artifact-digest">
                    <code title=digest.clone()>{short}</code>
                    <CopyButton text=digest label="Copy digest"/>
                </td>
            }
            .into_any()
        }
        Cell::DigestLink { digest, href } => {
            let short = short_digest(&digest);
            view! { <td class="artifact-digest"><A href=href attr:title=digest><code>{short}</code></A></td> }
                .into_any()
        }
        Cell::Number(text) => view! { <td class="number">{text}</td> }.into_any(),
    }
}

/// A read-only table of `rows` under `headers`; `empty` when there are none.
fn table(
    class: &'static str,
    headers: &'static [&'static str],
    rows: Vec<Row>,
    empty: &'static str,
) -> AnyView {
    let columns = headers.len().to_string();
    let body = if rows.is_empty() {
        view! { <tr><td colspan=columns class="empty">{empty}</td></tr> }.into_any()
    } else {
        rows.into_iter()
            .map(|(key, cells)| view! { <tr data-key=key>{cells.into_iter().map(cell_view).collect_view()}</tr> })
            .collect_view()
            .into_any()
    };
    scroll_box(
        view! {
            <table class=format!("list {class}")>
                <thead>
                    <tr>{headers.iter().map(|h| view! { <th scope="col">{*h}</th> }).collect_view()}</tr>
                </thead>
                <tbody>{body}</tbody>
            </table>
        }
        .into_any(),
    )
}

/// `label: value` pairs as a definition list (the Overview, the annotations).
fn facts(rows: Vec<(String, String)>) -> AnyView {
    view! {
        <dl class="artifact-overview">
            {rows.into_iter().map(|(label, value)| view! { <dt>{label}</dt><dd>{value}</dd> }).collect_view()}
        </dl>
    }
    .into_any()
}

/// An addition of the artifact (`href`, from its `addition_links`), read as JSON and shown as a table by
/// `rows_of`.
#[component]
fn AdditionSection(
    title: &'static str,
    class: &'static str,
    headers: &'static [&'static str],
    href: String,
    rows_of: fn(&serde_json::Value) -> Vec<Row>,
    empty: &'static str,
) -> impl IntoView {
    let addition = Fetch::<serde_json::Value>::new(move || Some(api_path(&href)));
    let content = move || {
        answered(addition.get(), |value| {
            table(class, headers, rows_of(&value), empty)
        })
    };
    view! {
        <section class="artifact-section" aria-label=title>
            <h3>{title}</h3>
            {content}
        </section>
    }
}

/// The Build History's rows: when each step was made, and its command.
pub fn history_rows(history: &serde_json::Value) -> Vec<Row> {
    history_steps(history)
        .into_iter()
        .enumerate()
        .map(|(i, (created, command))| {
            let created = created.map(|c| format::time(&c)).unwrap_or_default();
            (
                i.to_string(),
                vec![Cell::Text(created), Cell::Code(command)],
            )
        })
        .collect()
}

/// The Layers' rows (Berth's `layers` addition: the manifest's descriptors): position, digest, media type
/// and size.
pub fn layer_rows(layers: &serde_json::Value) -> Vec<Row> {
    let empty = Vec::new();
    layers
        .as_array()
        .unwrap_or(&empty)
        .iter()
        .enumerate()
        .map(|(i, layer)| {
            let text = |key: &str| {
                layer
                    .get(key)
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_owned()
            };
            let size = layer
                .get("size")
                .and_then(serde_json::Value::as_i64)
                .unwrap_or_default();
            let digest = text("digest");
            (
                digest.clone(),
                vec![
                    Cell::Number((i + 1).to_string()),
                    Cell::Digest(digest),
                    Cell::Code(text("mediaType")),
                    Cell::Number(format::bytes(size)),
                ],
            )
        })
        .collect()
}

/// An index's platforms, each linking to its own page.
pub fn platform_rows(artifact: &Artifact, project_id: &str, repository: &str) -> Vec<Row> {
    artifact
        .references
        .iter()
        .flatten()
        .map(|child| {
            let label = child
                .platform
                .as_ref()
                .map(|p| platform_label(&p.os, &p.architecture, p.variant.as_deref()))
                .unwrap_or_else(|| "unknown platform".to_owned());
            let digest = child.child_digest.clone();
            let href = artifact_href(project_id, repository, &digest);
            (
                digest.clone(),
                vec![Cell::Text(label), Cell::DigestLink { digest, href }],
            )
        })
        .collect()
}

/// The Overview's rows, as `(label, value)`.
pub fn overview(artifact: &Artifact) -> Vec<(String, String)> {
    let attr = |key: &str| artifact.extra_attrs.text(key).map(str::to_owned);
    let mut rows: Vec<(&str, String)> = vec![
        ("Digest", artifact.digest.clone()),
        ("Type", kind_label(artifact)),
        ("Media Type", artifact.manifest_media_type.clone()),
    ];
    if artifact.media_type != artifact.manifest_media_type && !artifact.media_type.is_empty() {
        rows.push(("Config Media Type", artifact.media_type.clone()));
    }
    rows.push(("Size", format::bytes(artifact.size)));
    if let Some(platform) = image_platform(artifact) {
        rows.push(("Platform", platform));
    }
    if let Some(author) = attr("author") {
        rows.push(("Author", author));
    }
    if let Some(created) = attr("created") {
        rows.push(("Created", format::time(&created)));
    }
    rows.push(("Push Time", format::time(&artifact.push_time)));
    rows.push((
        "Pull Time",
        if is_zero_time(&artifact.pull_time) {
            "Never".to_owned()
        } else {
            format::time(&artifact.pull_time)
        },
    ));
    rows.push(("Pulls", artifact.pull_count.to_string()));
    rows.into_iter()
        .map(|(label, value)| (label.to_owned(), value))
        .collect()
}

/// The steps of a `build_history` answer (an image config's `history`): when each was made and the command
/// (`created_by`, or the comment when there is none).
pub fn history_steps(history: &serde_json::Value) -> Vec<(Option<String>, String)> {
    let text = |step: &serde_json::Value, key: &str| {
        step.get(key)
            .and_then(|v| v.as_str())
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    history
        .as_array()
        .map(|steps| {
            steps
                .iter()
                .map(|step| {
                    let command = text(step, "created_by")
                        .or_else(|| text(step, "comment"))
                        .unwrap_or_default();
                    (text(step, "created"), command)
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The API path of an addition link (`/api/v2.0/…`, as the server writes them) for [`api::get`], which adds the
/// base itself.
pub fn api_path(href: &str) -> String {
    href.strip_prefix(api::BASE).unwrap_or(href).to_owned()
}

/// One page of the artifact's tags, newest push first unless sorted.
pub fn tags_path(base: &str, page: u32, page_size: u32, sort: Option<Sort>) -> String {
    let sort = sort.unwrap_or(Sort {
        key: "push_time",
        descending: true,
    });
    page_path(
        &format!("{base}/tags"),
        page,
        page_size,
        &[
            ("with_immutable_status", "true".to_owned()),
            ("sort", Sort::param(Some(sort))),
        ],
    )
}

/// The path that removes tag `name` from the artifact at `base`.
pub fn tag_path(base: &str, name: &str) -> String {
    format!("{base}/tags/{}", encode_component(name))
}

/// Harbor's rule for a tag (the OCI distribution spec's): a letter, digit or `_`, then up to 127 letters,
/// digits, `_`, `.` or `-`.
pub fn check_tag_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    match chars.next() {
        None => Err("Enter a tag name.".to_owned()),
        Some(first) if !word(first) => {
            Err("A tag starts with a letter, a digit or '_'.".to_owned())
        }
        Some(_) if name.len() > 128 => Err("A tag has at most 128 characters.".to_owned()),
        Some(_) if !chars.all(|c| word(c) || c == '.' || c == '-') => {
            Err("A tag has only letters, digits, '_', '.' and '-'.".to_owned())
        }
        Some(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answers::ExtraAttrs;

    const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn tag_names_follow_the_distribution_spec() {
        for good in ["latest", "v1.2.3", "_x", "1", &"a".repeat(128)] {
            assert_eq!(check_tag_name(good), Ok(()), "{good}");
        }
        for bad in ["", ".v1", "-v1", "a b", "a/b", "ä", &"a".repeat(129)] {
            assert!(check_tag_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn tag_paths_hang_under_the_artifact() {
        let base = "/projects/p/repositories/a%252Fb/artifacts/sha256%3Aab";
        assert_eq!(
            tags_path(base, 2, 15, None),
            format!("{base}/tags?page=2&page_size=15&with_immutable_status=true&sort=-push_time")
        );
        assert_eq!(tag_path(base, "v1.0"), format!("{base}/tags/v1.0"));
        assert_eq!(
            api_path("/api/v2.0/projects/p/repositories/r/artifacts/x/additions/layers"),
            "/projects/p/repositories/r/artifacts/x/additions/layers"
        );
        assert_eq!(api_path("/elsewhere"), "/elsewhere");
    }

    #[test]
    fn history_steps_read_command_and_time() {
        let history = serde_json::json!([
            {"created": "2026-01-01T00:00:00Z", "created_by": "/bin/sh -c #(nop) ADD file"},
            {"comment": "buildkit.dockerfile.v0", "empty_layer": true},
            {}
        ]);
        assert_eq!(
            history_steps(&history),
            [
                (
                    Some("2026-01-01T00:00:00Z".to_owned()),
                    "/bin/sh -c #(nop) ADD file".to_owned()
                ),
                (None, "buildkit.dockerfile.v0".to_owned()),
                (None, String::new()),
            ]
        );
        assert!(history_steps(&serde_json::json!({"not": "a list"})).is_empty());
    }

    #[test]
    fn the_overview_names_what_harbor_shows() {
        let extra = ExtraAttrs {
            os: serde_json::json!("linux"),
            architecture: serde_json::json!("amd64"),
            author: serde_json::json!("me"),
            ..ExtraAttrs::default()
        };
        let artifact = Artifact {
            kind: "IMAGE".to_owned(),
            media_type: "application/vnd.oci.image.config.v1+json".to_owned(),
            manifest_media_type: "application/vnd.oci.image.manifest.v1+json".to_owned(),
            repository_name: "p/app".to_owned(),
            digest: DIGEST.to_owned(),
            size: 2048,
            push_time: "2026-01-01T00:00:00Z".to_owned(),
            pull_time: "0001-01-01T00:00:00.000Z".to_owned(),
            pull_count: 3,
            extra_attrs: extra,
            annotations: None,
            references: None,
            tags: None,
            addition_links: Default::default(),
            scan_overview: None,
            sbom_overview: None,
            labels: Vec::new(),
        };
        let rows = overview(&artifact);
        let get = |label: &str| {
            rows.iter()
                .find(|(l, _)| *l == label)
                .map(|(_, v)| v.clone())
        };
        assert_eq!(get("Digest").as_deref(), Some(DIGEST));
        assert_eq!(get("Type").as_deref(), Some("Image"));
        assert_eq!(
            get("Config Media Type").as_deref(),
            Some("application/vnd.oci.image.config.v1+json")
        );
        assert_eq!(get("Size").as_deref(), Some("2.00 KiB"));
        assert_eq!(get("Platform").as_deref(), Some("linux/amd64"));
        assert_eq!(get("Author").as_deref(), Some("me"));
        assert_eq!(get("Pull Time").as_deref(), Some("Never"));
        assert_eq!(get("Pulls").as_deref(), Some("3"));
    }
}
