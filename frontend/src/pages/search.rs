//! Search results (`/harbor/search?q=`, Harbor's global search): what the top bar's search box found through
//! `GET /search?q=`, among the projects the caller can see: projects and repositories whose names contain the
//! term, and for a digest (`sha256:` and 12 or more hex digits) or a label name the artifacts that have it,
//! each linking to its page.
//!
//! Rule: the request and the address are made by the pure functions below ([`search_path`], [`results_href`]),
//! unit-tested without a browser; the links are the project pages' own. The page is loaded lazily, so the box in the top bar costs the first load
//! only a form.

use berth_api::search::SearchRepository;
use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

use crate::answers::Project;
use crate::api::encode_component;
use crate::components::fetch::Fetch;
use crate::components::toast::answered;
use crate::pages::project::artifacts::{artifact_link, short_digest};
use crate::pages::project::repositories::artifacts_href;
use crate::pages::project::summary::access_level;

/// The longest search term the server takes, in characters (its `MAX_QUERY`).
pub const MAX_TERM: usize = 256;

/// What the page reads of `GET /search`: Harbor's `Search` with the console's lighter `Project`.
#[derive(Debug, Clone, serde::Deserialize)]
struct Found {
    #[serde(default)]
    project: Vec<Project>,
    #[serde(default)]
    repository: Vec<SearchRepository>,
}

/// `GET /search?q=` for what was typed, trimmed; `None` when nothing was.
pub fn search_path(term: &str) -> Option<String> {
    let term = term.trim();
    (!term.is_empty()).then(|| format!("/search?q={}", encode_component(term)))
}

/// The console's address of the results for `term`.
pub fn results_href(term: &str) -> String {
    format!("/harbor/search?q={}", encode_component(term.trim()))
}

#[component]
pub fn SearchPage() -> impl IntoView {
    let query = use_query_map();
    let term = Memo::new(move |_| query.with(|q| q.get("q").unwrap_or_default()));
    let found = Fetch::<Found>::new(move || search_path(&term.get()));
    let results = move || {
        if search_path(&term.get()).is_none() {
            return view! {
                <p class="empty">"Type a project or repository name, a label or a digest in the search box."</p>
            }
            .into_any();
        }
        answered(found.get(), |found| {
            view! {
                <ProjectResults projects=found.project/>
                <RepositoryResults repositories=found.repository/>
            }
            .into_any()
        })
    };
    view! {
        <div class="page search-page">
            <h1>"Search results"</h1>
            <p class="hint search-term" data-testid="search-term">
                {move || format!("for “{}”", term.get().trim())}
            </p>
            {results}
        </div>
    }
}

#[component]
fn ProjectResults(projects: Vec<Project>) -> impl IntoView {
    let count = projects.len();
    view! {
        <section class="search-section" aria-labelledby="search-projects">
            <h2 id="search-projects">{format!("Projects ({count})")}</h2>
            {if projects.is_empty() {
                view! { <p class="empty">"No project matches."</p> }.into_any()
            } else {
                view! {
                    <table class="list compact">
                        <thead><tr>
                            <th scope="col">"Project Name"</th>
                            <th scope="col">"Access Level"</th>
                            <th scope="col" class="number">"Repositories Count"</th>
                        </tr></thead>
                        <tbody>
                            {projects.into_iter().map(|p| {
                                let access = access_level(&p);
                                view! {
                                    <tr>
                                        <td><A href=format!("/harbor/projects/{}/repositories", p.project_id)>
                                            {p.name}
                                        </A></td>
                                        <td>{access}</td>
                                        <td class="number">{p.repo_count}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
        </section>
    }
}

#[component]
fn RepositoryResults(repositories: Vec<SearchRepository>) -> impl IntoView {
    let count = repositories.len();
    view! {
        <section class="search-section" aria-labelledby="search-repositories">
            <h2 id="search-repositories">{format!("Repositories ({count})")}</h2>
            {if repositories.is_empty() {
                view! { <p class="empty">"No repository matches."</p> }.into_any()
            } else {
                view! {
                    <table class="list compact">
                        <thead><tr>
                            <th scope="col">"Name"</th>
                            <th scope="col">"Artifacts found"</th>
                            <th scope="col" class="number">"Artifacts"</th>
                            <th scope="col" class="number">"Pulls"</th>
                        </tr></thead>
                        <tbody>
                            {repositories.into_iter().map(repository_row).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
        </section>
    }
}

/// One repository found, with the artifacts that matched a digest or carry the label searched for.
fn repository_row(r: SearchRepository) -> impl IntoView {
    let artifacts = r
        .artifacts
        .iter()
        .map(|a| {
            let href = artifact_link(r.project_id, &r.repository_name, &a.digest);
            let tags = if a.tags.is_empty() {
                String::new()
            } else {
                format!(" ({})", a.tags.join(", "))
            };
            view! {
                <li><a href=href title=a.digest.clone()>{short_digest(&a.digest)}</a>{tags}</li>
            }
        })
        .collect_view();
    view! {
        <tr>
            <td><A href=artifacts_href(r.project_id, &r.project_name, &r.repository_name)>{r.repository_name.clone()}</A></td>
            <td><ul>{artifacts}</ul></td>
            <td class="number">{r.artifact_count}</td>
            <td class="number">{r.pull_count}</td>
        </tr>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_search_asks_for_the_trimmed_term_encoded() {
        assert_eq!(search_path("  "), None);
        assert_eq!(search_path(""), None);
        assert_eq!(
            search_path(" sha256:0123456789ab "),
            Some("/search?q=sha256%3A0123456789ab".to_owned())
        );
        assert_eq!(
            search_path("a&b=c #d"),
            Some("/search?q=a%26b%3Dc%20%23d".to_owned())
        );
        assert_eq!(results_href(" web "), "/harbor/search?q=web");
    }

    #[test]
    fn the_page_reads_the_servers_search_answer() {
        let search = berth_api::search::Search {
            project: vec![],
            repository: vec![SearchRepository {
                project_id: 2,
                project_name: "app".to_owned(),
                project_public: false,
                repository_name: "app/web".to_owned(),
                pull_count: 5,
                artifact_count: 2,
                artifacts: vec![berth_api::search::SearchArtifact {
                    digest: "sha256:ab".to_owned(),
                    tags: vec!["v1".to_owned()],
                }],
            }],
        };
        let found: Found = serde_json::from_value(serde_json::to_value(&search).unwrap()).unwrap();
        assert_eq!(found.repository, search.repository);
    }
}
