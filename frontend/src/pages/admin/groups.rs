//! Administration → Groups (`/harbor/groups`): user groups (`GET /usergroups`, search by name, server-side
//! pagination), "+ New Group" (LDAP, HTTP or OIDC; an LDAP group needs its DN; in LDAP mode the dialog
//! searches the directory, `GET /ldap/groups/search`, and imports a hit with its DN), and Harbor's row
//! selection with an Action menu: rename the chosen group ("Edit"), delete the chosen groups after one
//! confirmation. For system administrators; the server refuses everyone else and the table shows its message.

use berth_api::system::GeneralInfo;
use berth_api::usergroups::{HTTP_GROUP, LDAP_GROUP, OIDC_GROUP, UserGroup};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::{self, query_string};
use crate::auth;
use crate::components::action_menu::{ActionMenu, MenuItem, Needs};
use crate::components::dialog::{DeleteDialog, DeleteFlow, FormDialog, FormStatus, what};
use crate::components::fetch::Fetch;
use crate::components::select_table::{SelectCell, Selection};
use crate::components::table::{ListControls, ListTable, ListToolbar, PagedList, page_path};
use crate::components::toast::{error_banner, use_toasts};
use crate::components::when::When;

/// The group types, as `(group_type, label)`, in Harbor's order.
pub const GROUP_TYPES: [(i64, &str); 3] = [
    (LDAP_GROUP, "LDAP"),
    (HTTP_GROUP, "HTTP"),
    (OIDC_GROUP, "OIDC"),
];

/// The label of a group type (`"Unknown"` for anything else).
pub fn group_type_name(group_type: Option<i64>) -> &'static str {
    GROUP_TYPES
        .iter()
        .find(|(t, _)| Some(*t) == group_type)
        .map_or("Unknown", |(_, name)| name)
}

/// The type a new group gets unless the user picks another: the one matching the authentication mode
/// (`ldap_auth`, `http_auth`, `oidc_auth`), else HTTP, which needs nothing but a name.
pub fn default_group_type(auth_mode: &str) -> i64 {
    match auth_mode {
        "ldap_auth" => LDAP_GROUP,
        "oidc_auth" => OIDC_GROUP,
        _ => HTTP_GROUP,
    }
}

/// The list's API path for a page and a name filter (Berth's `group_name`, a substring).
pub fn groups_path(page: u32, page_size: u32, name: &str) -> String {
    page_path(
        "/usergroups",
        page,
        page_size,
        &[("group_name", name.trim().to_owned())],
    )
}

/// The body of `POST /usergroups` after the console's own checks: a name, a known type, and a DN for an
/// LDAP group (only LDAP groups carry one).
pub fn new_group_request(name: &str, group_type: i64, ldap_dn: &str) -> Result<UserGroup, String> {
    let name = name.trim();
    if name.is_empty() {
        return Err("Enter a group name.".to_owned());
    }
    if !GROUP_TYPES.iter().any(|(t, _)| *t == group_type) {
        return Err("Choose the group's type.".to_owned());
    }
    let ldap_group_dn = if group_type == LDAP_GROUP {
        let dn = ldap_dn.trim();
        if dn.is_empty() {
            return Err("An LDAP group needs its LDAP group DN.".to_owned());
        }
        Some(dn.to_owned())
    } else {
        None
    };
    Ok(UserGroup {
        id: None,
        group_name: Some(name.to_owned()),
        group_type: Some(group_type),
        ldap_group_dn,
    })
}

/// `GET /ldap/groups/search` for what the admin typed: a DN (it has an `=`) by `groupdn`, else a name by
/// `groupname`. `None` for nothing typed.
pub fn ldap_group_search_path(typed: &str) -> Option<String> {
    let typed = typed.trim();
    if typed.is_empty() {
        return None;
    }
    let key = if typed.contains('=') {
        "groupdn"
    } else {
        "groupname"
    };
    Some(format!(
        "/ldap/groups/search{}",
        query_string(&[(key, typed.to_owned())])
    ))
}

/// The body of `PUT /usergroups/{id}`: only the name changes.
pub fn rename_request(name: &str) -> Result<UserGroup, String> {
    let name = name.trim();
    if name.is_empty() {
        return Err("Enter a group name.".to_owned());
    }
    Ok(UserGroup {
        group_name: Some(name.to_owned()),
        ..UserGroup::default()
    })
}

#[component]
pub fn GroupsPage() -> impl IntoView {
    let current = auth::use_current_user();
    let list = ListControls::new();
    let toasts = use_toasts();

    let groups = PagedList::<UserGroup>::new(
        move || {
            let (page, size, name, _) = list.get();
            Some(groups_path(page, size, &name))
        },
        list,
    );
    let refresh = move || groups.refresh();

    let create_open = RwSignal::new(false);
    let editing = RwSignal::new(None::<(i64, String)>);
    let edit_open = RwSignal::new(false);
    let deleting = DeleteFlow::new();

    let selection = Selection::new(groups.keys(key));
    let chosen = move || groups.chosen(selection, key);
    let on_edit = Callback::new(move |()| {
        if let [group] = chosen().as_slice() {
            editing.set(Some(target_of(group)));
            edit_open.set(true);
        }
    });
    let on_delete = Callback::new(move |()| {
        deleting.ask_all(
            chosen()
                .iter()
                .map(|g| {
                    let (id, name) = target_of(g);
                    (format!("/usergroups/{id}"), name)
                })
                .collect(),
        );
    });
    let on_saved = Callback::new(move |message: String| {
        toasts.success(message);
        refresh();
    });

    let rows = move || {
        groups.rows("4", "No groups found", move |group| {
            view! { <GroupRow group=group selection=selection/> }.into_any()
        })
    };

    view! {
        <section class="page">
            <h1>"Groups"</h1>
            <ListToolbar list=list fetch=groups.fetch() filter="Filter groups by name">
                <When when=move || current.is_sysadmin()>
                    <button type="button" data-testid="new-group" on:click=move |_| create_open.set(true)>
                        "+ New Group"
                    </button>
                    <ActionMenu selection=selection>
                        <MenuItem label="Edit" selection=selection needs=Needs::One hint="Choose one group"
                            on_select=on_edit/>
                        <MenuItem label="Delete" danger=true selection=selection needs=Needs::Some
                            on_select=on_delete/>
                    </ActionMenu>
                </When>
            </ListToolbar>
            <ListTable list=list fetch=groups.fetch() selection=selection rows=rows>
                <th scope="col">"Name"</th>
                <th scope="col">"Type"</th>
                <th scope="col">"LDAP DN"</th>
            </ListTable>
        </section>
        <NewGroupDialog open=create_open on_saved=on_saved/>
        <EditGroupDialog open=edit_open group=editing on_saved=on_saved/>
        <DeleteDialog flow=deleting title="Delete Group"
            message=|names, n| format!(
                "Delete {}? {} project memberships go with {}.",
                what("group", "groups", names, n),
                if n == 1 { "Its" } else { "Their" },
                if n == 1 { "it" } else { "them" }
            )
            done=|names, n| format!("Deleted {}", what("group", "groups", names, n))
            on_deleted=Callback::new(move |()| refresh())/>
    }
}

/// A group's key in the selection: its id.
fn key(group: &UserGroup) -> String {
    group.id.unwrap_or_default().to_string()
}

/// A group's id and name.
fn target_of(group: &UserGroup) -> (i64, String) {
    (
        group.id.unwrap_or_default(),
        group.group_name.clone().unwrap_or_default(),
    )
}

#[component]
fn GroupRow(group: UserGroup, selection: Selection) -> impl IntoView {
    let name = group.group_name.clone().unwrap_or_default();
    let label = format!("Select group {name}");
    let row_name = name.clone();
    view! {
        <tr data-group=row_name>
            <SelectCell selection=selection key=key(&group) label=label/>
            <td>{name}</td>
            <td>{group_type_name(group.group_type)}</td>
            <td class="group-dn">{group.ldap_group_dn.unwrap_or_default()}</td>
        </tr>
    }
}

#[component]
fn NewGroupDialog(open: RwSignal<bool>, on_saved: Callback<String>) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let group_type = RwSignal::new(HTTP_GROUP);
    let dn = RwSignal::new(String::new());
    let status = FormStatus::new();
    let busy = status.busy;
    let info = Fetch::<GeneralInfo>::at("/systeminfo");
    let mode = Memo::new(move |_| info.ok().map(|i| i.auth_mode).unwrap_or_default());
    // LDAP directory search, in LDAP mode: what was typed, and the hits (or why not).
    let search_text = RwSignal::new(String::new());
    let hits = RwSignal::new(None::<Result<Vec<UserGroup>, String>>);
    let searching = RwSignal::new(false);
    Effect::new(move |_| {
        if open.get() {
            name.set(String::new());
            dn.set(String::new());
            status.error.set(None);
            search_text.set(String::new());
            hits.set(None);
            group_type.set(default_group_type(&mode.get_untracked()));
        }
    });
    let create = move |typed: Result<UserGroup, String>, verb: &'static str| {
        let body = match typed {
            Ok(body) => body,
            Err(message) => return status.fail(message),
        };
        let created = body.group_name.clone().unwrap_or_default();
        status.send(
            Box::pin(async move { api::post("/usergroups", &body).await }),
            Box::new(move |()| {
                open.set(false);
                on_saved.run(format!("{verb} group {created}"));
            }),
        );
    };
    let submit = Callback::new(move |()| {
        create(
            new_group_request(
                &name.get_untracked(),
                group_type.get_untracked(),
                &dn.get_untracked(),
            ),
            "Created",
        );
    });
    let search = move || {
        let Some(path) = ldap_group_search_path(&search_text.get_untracked()) else {
            return;
        };
        searching.set(true);
        spawn_local(async move {
            let found = api::get::<Vec<UserGroup>>(&path).await;
            searching.set(false);
            hits.set(Some(found.map_err(|e| e.message)));
        });
    };
    let import = move |group: UserGroup| {
        create(
            new_group_request(
                group.group_name.as_deref().unwrap_or_default(),
                LDAP_GROUP,
                group.ldap_group_dn.as_deref().unwrap_or_default(),
            ),
            "Imported",
        );
    };
    let hit_list = move || {
        hits.get().map(|found| match found {
            Err(message) => error_banner(message),
            Ok(groups) if groups.is_empty() => {
                view! { <p class="empty">"No LDAP groups found"</p> }.into_any()
            }
            Ok(groups) => view! {
                <ul class="ldap-hits" aria-label="LDAP groups">
                    {groups
                        .into_iter()
                        .map(|group| {
                            let name = group.group_name.clone().unwrap_or_default();
                            let label = format!("Import group {name}");
                            let dn = group.ldap_group_dn.clone().unwrap_or_default();
                            let row = name.clone();
                            view! {
                                <li data-ldap-group=row>
                                    <span>{name}<br/><span class="group-dn">{dn}</span></span>
                                    <button type="button" class="small" aria-label=label
                                        disabled=move || busy.get()
                                        on:click=move |_| import(group.clone())>"Import"</button>
                                </li>
                            }
                        })
                        .collect_view()}
                </ul>
            }
            .into_any(),
        })
    };
    view! {
        <FormDialog open=open title="New Group" status=status on_submit=submit class="form-grid">
            <label for="new-group-name">"Name"</label>
            <input id="new-group-name" type="text" required maxlength="255" autocomplete="off"
                bind:value=name/>
            <label for="new-group-type">"Type"</label>
            <select id="new-group-type" on:change=move |ev| {
                if let Ok(t) = event_target_value(&ev).parse::<i64>() {
                    group_type.set(t);
                }
            }>
                {GROUP_TYPES
                    .iter()
                    .map(|&(t, label)| {
                        view! { <option value=t.to_string() selected=move || group_type.get() == t>{label}</option> }
                    })
                    .collect_view()}
            </select>
            <When when=move || group_type.get() == LDAP_GROUP && mode.get() == "ldap_auth">
                <label for="ldap-group-search">"Search LDAP"</label>
                <div class="ldap-search">
                    <input id="ldap-group-search" type="search" autocomplete="off"
                        placeholder="Group name or DN" bind:value=search_text
                        on:keydown=move |ev| {
                            if ev.key() == "Enter" {
                                ev.prevent_default();
                                search();
                            }
                        }/>
                    <button type="button" class="secondary" disabled=move || searching.get()
                        on:click=move |_| search()>"SEARCH"</button>
                </div>
                <div class="form-wide">{hit_list}</div>
            </When>
            <When when=move || group_type.get() == LDAP_GROUP>
                <label for="new-group-dn">"LDAP Group DN"</label>
                <input id="new-group-dn" type="text" required autocomplete="off"
                    placeholder="cn=developers,ou=groups,dc=example,dc=com" bind:value=dn/>
            </When>
        </FormDialog>
    }
}

#[component]
fn EditGroupDialog(
    open: RwSignal<bool>,
    group: RwSignal<Option<(i64, String)>>,
    on_saved: Callback<String>,
) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let status = FormStatus::new();
    Effect::new(move |_| {
        if open.get() {
            name.set(group.get_untracked().map(|(_, n)| n).unwrap_or_default());
            status.error.set(None);
        }
    });
    let submit = Callback::new(move |()| {
        let Some((id, _)) = group.get_untracked() else {
            return;
        };
        let body = match rename_request(&name.get_untracked()) {
            Ok(body) => body,
            Err(message) => return status.fail(message),
        };
        let renamed = body.group_name.clone().unwrap_or_default();
        status.send(
            Box::pin(async move { api::put(&format!("/usergroups/{id}"), &body).await }),
            Box::new(move |()| {
                open.set(false);
                on_saved.run(format!("Renamed group to {renamed}"));
            }),
        );
    });
    view! {
        <FormDialog open=open title="Edit Group" status=status on_submit=submit>
            <label for="edit-group-name">"Name"</label>
            <input id="edit-group-name" type="text" required maxlength="255" autocomplete="off"
                bind:value=name/>
            <p class="hint">"Only the name of a group can be changed."</p>
        </FormDialog>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_types_have_harbors_names() {
        assert_eq!(group_type_name(Some(1)), "LDAP");
        assert_eq!(group_type_name(Some(2)), "HTTP");
        assert_eq!(group_type_name(Some(3)), "OIDC");
        assert_eq!(group_type_name(Some(4)), "Unknown");
        assert_eq!(group_type_name(None), "Unknown");
    }

    #[test]
    fn new_groups_default_to_the_auth_modes_type() {
        assert_eq!(default_group_type("ldap_auth"), LDAP_GROUP);
        assert_eq!(default_group_type("oidc_auth"), OIDC_GROUP);
        assert_eq!(default_group_type("http_auth"), HTTP_GROUP);
        assert_eq!(default_group_type("db_auth"), HTTP_GROUP);
    }

    #[test]
    fn list_paths_filter_by_name() {
        assert_eq!(groups_path(1, 15, ""), "/usergroups?page=1&page_size=15");
        assert_eq!(
            groups_path(2, 25, " dev ops "),
            "/usergroups?page=2&page_size=25&group_name=dev%20ops"
        );
    }

    #[test]
    fn only_ldap_groups_carry_a_dn() {
        let http = new_group_request(" devs ", HTTP_GROUP, "cn=ignored").unwrap_or_default();
        assert_eq!(
            serde_json::to_value(&http).unwrap_or_default(),
            serde_json::json!({"group_name": "devs", "group_type": 2})
        );
        let ldap = new_group_request("devs", LDAP_GROUP, " cn=devs,dc=x ").unwrap_or_default();
        assert_eq!(ldap.ldap_group_dn.as_deref(), Some("cn=devs,dc=x"));
        assert!(new_group_request("devs", LDAP_GROUP, "  ").is_err());
        assert!(new_group_request(" ", OIDC_GROUP, "").is_err());
        assert!(new_group_request("devs", 7, "").is_err());
    }

    #[test]
    fn ldap_searches_go_by_name_or_by_dn() {
        assert_eq!(
            ldap_group_search_path(" dev ").as_deref(),
            Some("/ldap/groups/search?groupname=dev")
        );
        assert_eq!(
            ldap_group_search_path("cn=dev,ou=groups").as_deref(),
            Some("/ldap/groups/search?groupdn=cn%3Ddev%2Cou%3Dgroups")
        );
        assert_eq!(ldap_group_search_path("  "), None);
    }

    #[test]
    fn renames_send_only_the_name() {
        let body = rename_request(" ops ").unwrap_or_default();
        assert_eq!(
            serde_json::to_value(&body).unwrap_or_default(),
            serde_json::json!({"group_name": "ops"})
        );
        assert!(rename_request("").is_err());
    }
}
