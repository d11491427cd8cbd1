//! The project's Policy tab (`/harbor/projects/{id}/tag-strategy`, Harbor's path): one tab, one section per
//! policy. Tag Immutability lists the project's rules (`GET /projects/{id}/immutabletagrules`), adds and edits
//! them in Harbor's dialog (repositories matching or excluding, tags matching or excluding), enables, disables
//! and deletes them, as the role's `immutable-tag` permissions allow. Tag Retention comes first, as in Harbor's
//! portal ([`super::retention`]), for roles with `tag-retention` `read`.
//!
//! As in Harbor's portal, a comma-separated list typed in the dialog is stored as one doublestar pattern with
//! alternatives (`app,web` → `{app,web}`) and shown back as the list.

use leptos::prelude::*;
use leptos::task::spawn_local;
use serde_json::{Value, json};

use super::retention::RetentionSection;
use super::use_project;
use crate::answers::ImmutableRule;
use crate::api;
use crate::components::dialog::{DeleteDialog, DeleteFlow, FormDialog, FormStatus, next_id};
use crate::components::table::{ListControls, ListTable, ListToolbar, PagedList, page_path};
use crate::components::toast::{loading_note, use_toasts};

/// How many rules a project may have (the server refuses more).
pub const MAX_RULES: usize = 15;

/// The doublestar pattern of a comma-separated list: one item as it is, several as `{a,b}`; empty if none.
pub fn pattern_of(list: &str) -> String {
    let items: Vec<&str> = list
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    match items.as_slice() {
        [] => String::new(),
        [one] => (*one).to_owned(),
        many => format!("{{{}}}", many.join(",")),
    }
}

/// The list a pattern is shown as: `{a,b}` → `a,b` (a pattern with other braces stays as it is).
pub fn list_of(pattern: &str) -> String {
    match pattern.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
        Some(inner) if !inner.contains(['{', '}']) => inner.to_owned(),
        _ => pattern.to_owned(),
    }
}

/// Harbor's `ImmutableRule` body for `POST`/`PUT` (`id` 0 for a new rule).
pub fn rule_body(id: i64, disabled: bool, repository: (&str, &str), tags: (&str, &str)) -> Value {
    json!({
        "id": id, "disabled": disabled, "priority": 0, "action": "immutable",
        "template": "immutable_template", "params": {},
        "tag_selectors": [{"kind": "doublestar", "decoration": tags.0, "pattern": tags.1,
                           "extras": "{\"untagged\":false}"}],
        "scope_selectors": {"repository": [{"kind": "doublestar", "decoration": repository.0,
                                            "pattern": repository.1}]}
    })
}

/// A rule's selectors: `(repository decoration, pattern, tag decoration, pattern)`.
fn selectors(rule: &ImmutableRule) -> (String, String, String, String) {
    let repository = rule
        .scope_selectors
        .repository
        .first()
        .cloned()
        .unwrap_or_default();
    let tag = rule.tag_selectors.first().cloned().unwrap_or_default();
    (
        repository.decoration,
        repository.pattern,
        tag.decoration,
        tag.pattern,
    )
}

/// `matching` or `excluding`, as the dialog and the list say it.
pub fn verb(decoration: &str) -> &'static str {
    if decoration.ends_with("xcludes") {
        "excluding"
    } else {
        "matching"
    }
}

#[component]
pub fn PolicyTab() -> impl IntoView {
    let ctx = use_project();
    let project_id = Memo::new(move |_| ctx.project.with(|p| p.as_ref().map(|p| p.project_id)));
    move || match project_id.get() {
        None => loading_note(),
        Some(id) => view! {
            {ctx.can("tag-retention", "read").then(|| view! {
                <section class="policy-section" aria-labelledby="tag-retention">
                    <h2 id="tag-retention">"Tag Retention"</h2>
                    <RetentionSection project_id=id/>
                </section>
            })}
            <section class="policy-section" aria-labelledby="tag-immutability">
                <h2 id="tag-immutability">"Tag Immutability"</h2>
                <ImmutabilityRules project_id=id/>
            </section>
        }
        .into_any(),
    }
}

#[component]
fn ImmutabilityRules(project_id: i64) -> impl IntoView {
    let ctx = use_project();
    let toasts = use_toasts();
    let can_create = move || ctx.can("immutable-tag", "create");
    let can_update = move || ctx.can("immutable-tag", "update");
    let can_delete = move || ctx.can("immutable-tag", "delete");
    let base = format!("/projects/{project_id}/immutabletagrules");
    let list = ListControls::new();
    let list_base = base.clone();
    let rules = PagedList::<ImmutableRule>::new(
        move || {
            let (page, size, _, _) = list.get();
            Some(page_path(&list_base, page, size, &[]))
        },
        list,
    );
    let open = RwSignal::new(false);
    let editing = RwSignal::new(None::<ImmutableRule>);
    let full = move || rules.fetch().total() as usize >= MAX_RULES;
    let removing = DeleteFlow::new();
    let on_saved = Callback::new(move |message: String| {
        toasts.success(message);
        rules.refresh();
    });

    let row_base = base.clone();
    let rows = move || {
        let base = row_base.clone();
        rules.rows("4", "No immutability rules: every tag may be pushed over and deleted", move |rule| {
            let (repo_decoration, repo_pattern, tag_decoration, tag_pattern) = selectors(&rule);
            let path = format!("{base}/{}", rule.id);
            let name = format!("rule {}", rule.id);
            let disabled = rule.disabled;
            let toggle_path = path.clone();
            let toggle = move |_| {
                let body = rule_body(
                    rule.id,
                    !disabled,
                    (&repo_decoration, &repo_pattern),
                    (&tag_decoration, &tag_pattern),
                );
                let path = toggle_path.clone();
                spawn_local(async move {
                    match api::put(&path, &body).await {
                        Ok(()) => on_saved.run(if disabled { "Rule enabled" } else { "Rule disabled" }.to_owned()),
                        Err(e) => toasts.error(e.message),
                    }
                });
            };
            let edited = rule.clone();
            let delete_name = name.clone();
            let (repos, tags) = shown(&rule);
            view! {
                <tr data-rule=rule.id class:rule-disabled=disabled>
                    <td class="rule-text">
                        "For the repositories " {repos.0} " " <code>{repos.1}</code>
                        ", tags " {tags.0} " " <code>{tags.1}</code>
                    </td>
                    <td class="rule-status">{if disabled { "Disabled" } else { "Enabled" }}</td>
                    <td class="actions">
                        <button type="button" class="secondary" hidden=move || !can_update()
                            on:click=move |_| {
                                editing.set(Some(edited.clone()));
                                open.set(true);
                            }>"Edit"</button>
                        <button type="button" class="secondary" hidden=move || !can_update()
                            on:click=toggle>{if disabled { "Enable" } else { "Disable" }}</button>
                        <button type="button" class="secondary danger" hidden=move || !can_delete()
                            on:click=move |_| removing.ask(path.clone(), delete_name.clone())>"Delete"</button>
                    </td>
                </tr>
            }
            .into_any()
        })
    };

    view! {
        <p class="hint">
            "A tag an enabled rule selects cannot be pushed over with another image, nor deleted with its \
             artifact or repository. Up to 15 rules; a tag is immutable when any rule selects it."
        </p>
        <ListToolbar list=list fetch=rules.fetch()>
            <button type="button" hidden=move || !can_create() disabled=full
                title=move || if full() { "A project has at most 15 rules" } else { "" }
                on:click=move |_| {
                    editing.set(None);
                    open.set(true);
                }>"+ Add Rule"</button>
        </ListToolbar>
        <ListTable list=list fetch=rules.fetch() class="immutable-rules" rows=rows>
            <th scope="col">"Rule"</th>
            <th scope="col">"Status"</th>
            <th scope="col">"Actions"</th>
        </ListTable>
        <RuleDialog open=open base=base editing=editing on_saved=on_saved/>
        <DeleteDialog flow=removing title="Delete Rule"
            message=|names, _| format!("Delete the immutability {names}? Its tags can then be changed.")
            done=|names, _| format!("Deleted {names}")
            on_deleted=Callback::new(move |()| rules.refresh())/>
    }
}

/// What a rule's line shows: `(verb, list)` for its repositories and for its tags.
fn shown(rule: &ImmutableRule) -> ((&'static str, String), (&'static str, String)) {
    let (repo_decoration, repo_pattern, tag_decoration, tag_pattern) = selectors(rule);
    (
        (verb(&repo_decoration), list_of(&repo_pattern)),
        (verb(&tag_decoration), list_of(&tag_pattern)),
    )
}

/// One selector of the dialog: its label, a `matching`/`excluding` choice and the comma-separated list.
#[component]
pub fn SelectorField(
    label: &'static str,
    placeholder: &'static str,
    excluded: RwSignal<bool>,
    value: RwSignal<String>,
) -> impl IntoView {
    let id = format!("rule-selector-{}", next_id());
    let how = format!("{label} matching or excluding");
    view! {
        <label for=id.clone()>{label}</label>
        <div class="rule-selector">
            <select aria-label=how on:change=move |ev| excluded.set(event_target_value(&ev) == "excluding")>
                <option value="matching" selected=move || !excluded.get()>"matching"</option>
                <option value="excluding" selected=move || excluded.get()>"excluding"</option>
            </select>
            <input id=id type="text" autocomplete="off" bind:value=value placeholder=placeholder/>
        </div>
    }
}

/// Harbor's Add/Edit Tag Immutability Rule dialog: `editing` holds the rule to edit, or `None` to add one.
#[component]
fn RuleDialog(
    open: RwSignal<bool>,
    base: String,
    editing: RwSignal<Option<ImmutableRule>>,
    on_saved: Callback<String>,
) -> impl IntoView {
    let repo_excluded = RwSignal::new(false);
    let repositories = RwSignal::new(String::new());
    let tag_excluded = RwSignal::new(false);
    let tags = RwSignal::new(String::new());
    let status = FormStatus::new();
    Effect::new(move |_| {
        if open.get() {
            let (rd, rp, td, tp) = editing
                .get_untracked()
                .as_ref()
                .map(selectors)
                .unwrap_or_else(|| {
                    (
                        "repoMatches".into(),
                        "**".into(),
                        "matches".into(),
                        String::new(),
                    )
                });
            repo_excluded.set(rd == "repoExcludes");
            repositories.set(list_of(&rp));
            tag_excluded.set(td == "excludes");
            tags.set(list_of(&tp));
            status.error.set(None);
        }
    });
    let title = Signal::derive(move || {
        if editing.with(Option::is_some) {
            "Edit Tag Immutability Rule".to_owned()
        } else {
            "Add Tag Immutability Rule".to_owned()
        }
    });
    let submit = Callback::new(move |()| {
        let repo_pattern = pattern_of(&repositories.get_untracked());
        let tag_pattern = pattern_of(&tags.get_untracked());
        if repo_pattern.is_empty() || tag_pattern.is_empty() {
            return status.fail("Enter the repositories and the tags (** for all).".to_owned());
        }
        let repo_decoration = if repo_excluded.get_untracked() {
            "repoExcludes"
        } else {
            "repoMatches"
        };
        let tag_decoration = if tag_excluded.get_untracked() {
            "excludes"
        } else {
            "matches"
        };
        let existing = editing.get_untracked();
        let (id, disabled) = existing.as_ref().map_or((0, false), |r| (r.id, r.disabled));
        let body = rule_body(
            id,
            disabled,
            (repo_decoration, &repo_pattern),
            (tag_decoration, &tag_pattern),
        );
        let (path, added) = match existing {
            Some(rule) => (format!("{base}/{}", rule.id), false),
            None => (base.clone(), true),
        };
        status.send(
            Box::pin(async move {
                if added {
                    api::post(&path, &body).await
                } else {
                    api::put(&path, &body).await
                }
            }),
            Box::new(move |()| {
                open.set(false);
                on_saved.run(if added { "Rule added" } else { "Rule saved" }.to_owned());
            }),
        );
    });
    view! {
        <FormDialog open=open title=title status=status on_submit=submit class="form-grid">
            <SelectorField label="For the repositories" excluded=repo_excluded value=repositories
                placeholder="Enter multiple comma separated repos, repo*, or **"/>
            <SelectorField label="Tags" excluded=tag_excluded value=tags
                placeholder="Enter multiple comma separated tags, tag*, or **"/>
        </FormDialog>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_become_patterns_and_back() {
        assert_eq!(pattern_of(" app "), "app");
        assert_eq!(pattern_of("app, web ,"), "{app,web}");
        assert_eq!(pattern_of(" , "), "");
        assert_eq!(list_of("{app,web}"), "app,web");
        assert_eq!(list_of("v*"), "v*");
        assert_eq!(list_of("{a,b}-{c,d}"), "{a,b}-{c,d}");
        assert_eq!(list_of(&pattern_of("a,b")), "a,b");
    }

    #[test]
    fn bodies_are_harbors_rules() {
        let body = rule_body(3, true, ("repoExcludes", "tmp/**"), ("matches", "v*"));
        let rule: ImmutableRule = serde_json::from_value(body).unwrap_or_default();
        assert_eq!(rule.id, 3);
        assert!(rule.disabled);
        assert_eq!(
            selectors(&rule),
            (
                "repoExcludes".to_owned(),
                "tmp/**".to_owned(),
                "matches".to_owned(),
                "v*".to_owned()
            )
        );
        assert_eq!(verb("repoExcludes"), "excluding");
        assert_eq!(verb("matches"), "matching");
    }
}
