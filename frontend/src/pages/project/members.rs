//! The project's Members tab (`/harbor/projects/{id}/members`): the members (`GET /projects/{id}/members`,
//! paginated on the server, filtered by `entityname`), "+ User" and "+ Group" dialogs, and Harbor's row
//! selection with an Action menu: change the chosen member's role, or remove the chosen members after one
//! confirmation, for those the project's role matrix allows (`member` create / update / delete). Roles are
//! Harbor's, with its ids.

use berth_api::members::{ProjectMember, ProjectMemberEntity, RoleRequest, UserEntity, UserGroup};
use berth_api::usergroups::UserGroupSearchItem;
use berth_api::users::UserSearchRespItem;
use leptos::prelude::*;

use super::use_project;
use crate::api::{self, query_string};
use crate::components::action_menu::{ActionMenu, MenuItem, Needs};
use crate::components::dialog::{DeleteDialog, DeleteFlow, FormDialog, FormStatus, next_id, what};
use crate::components::fetch::Fetch;
use crate::components::select_table::{SelectCell, Selection};
use crate::components::table::{ListControls, ListTable, ListToolbar, PagedList, page_path};
use crate::components::toast::{loading_note, use_toasts};
use crate::components::when::When;

/// Harbor's project roles as `(role_id, label)`, strongest first (the order of Harbor's dialogs).
pub const ROLES: [(i64, &str); 5] = [
    (1, "Project Admin"),
    (4, "Maintainer"),
    (2, "Developer"),
    (3, "Guest"),
    (5, "Limited Guest"),
];

/// The role a new member gets unless another is chosen.
pub const DEFAULT_ROLE: i64 = 2;

/// The label of a role id.
pub fn role_label(role_id: i64) -> String {
    ROLES.iter().find(|(id, _)| *id == role_id).map_or_else(
        || format!("Role {role_id}"),
        |(_, label)| (*label).to_owned(),
    )
}

/// The Member Type column: Harbor's `entity_type` `u` or `g`.
pub fn member_type_label(entity_type: &str) -> &str {
    match entity_type {
        "u" => "User",
        "g" => "Group",
        other => other,
    }
}

/// The list's API path for a page and a name part.
pub fn members_path(project_id: i64, page: u32, page_size: u32, name: &str) -> String {
    page_path(
        &format!("/projects/{project_id}/members"),
        page,
        page_size,
        &[("entityname", name.trim().to_owned())],
    )
}

/// The body of `POST /projects/{id}/members` adding a user by name.
pub fn user_member_request(username: &str, role_id: i64) -> Result<ProjectMember, String> {
    let username = username.trim();
    if username.is_empty() {
        return Err("Enter a user name.".to_owned());
    }
    Ok(ProjectMember {
        role_id,
        member_user: Some(UserEntity {
            user_id: None,
            username: Some(username.to_owned()),
        }),
        member_group: None,
    })
}

/// The body of `POST /projects/{id}/members` adding a group by name: by id when exactly one of the search's
/// hits has that name (groups of different types may share a name), else by name for the server to find.
pub fn group_member_request(
    name: &str,
    hits: &[UserGroupSearchItem],
    role_id: i64,
) -> Result<ProjectMember, String> {
    let name = name.trim();
    if name.is_empty() {
        return Err("Enter a group name.".to_owned());
    }
    let mut same_name = hits.iter().filter(|g| g.group_name == name);
    let group = match (same_name.next(), same_name.next()) {
        (Some(only), None) => UserGroup {
            id: Some(only.id),
            ..UserGroup::default()
        },
        _ => UserGroup {
            group_name: Some(name.to_owned()),
            ..UserGroup::default()
        },
    };
    Ok(ProjectMember {
        role_id,
        member_user: None,
        member_group: Some(group),
    })
}

#[component]
pub fn MembersTab() -> impl IntoView {
    let ctx = use_project();
    let project_id = Memo::new(move |_| ctx.project.with(|p| p.as_ref().map(|p| p.project_id)));
    move || match project_id.get() {
        None => loading_note(),
        Some(id) => view! { <MemberList project_id=id/> }.into_any(),
    }
}

#[component]
fn MemberList(project_id: i64) -> impl IntoView {
    let ctx = use_project();
    let can_create = move || ctx.can("member", "create");
    let can_update = Signal::derive(move || ctx.can("member", "update"));
    let can_delete = Signal::derive(move || ctx.can("member", "delete"));
    let list = ListControls::new();
    let toasts = use_toasts();
    let members = PagedList::<ProjectMemberEntity>::new(
        move || {
            let (page, size, name, _) = list.get();
            Some(members_path(project_id, page, size, &name))
        },
        list,
    );
    let refresh = move || members.refresh();

    let user_open = RwSignal::new(false);
    let group_open = RwSignal::new(false);
    let on_added = Callback::new(move |name: String| {
        toasts.success(format!("Added member {name}"));
        refresh();
    });

    let selection = Selection::new(members.keys(key));
    let chosen = move || members.chosen(selection, key);
    let target = RwSignal::new(None::<ProjectMemberEntity>);
    let role_open = RwSignal::new(false);
    let on_role = Callback::new(move |()| {
        if let [member] = chosen().as_slice() {
            target.set(Some(member.clone()));
            role_open.set(true);
        }
    });
    let on_role_changed = Callback::new(move |(name, role): (String, i64)| {
        toasts.success(format!("{name} is now {}", role_label(role)));
        refresh();
    });

    let removing = DeleteFlow::new();
    let on_remove = Callback::new(move |()| {
        removing.ask_all(
            chosen()
                .into_iter()
                .map(|m| {
                    (
                        format!("/projects/{project_id}/members/{}", m.id),
                        m.entity_name,
                    )
                })
                .collect(),
        );
    });

    let rows = move || {
        members.rows("4", "No members found", move |member| {
            view! { <MemberRow member=member selection=selection/> }.into_any()
        })
    };

    view! {
        <div class="members">
            <ListToolbar list=list fetch=members.fetch() filter="Filter members by name">
                <When when=can_create>
                    <button type="button" on:click=move |_| user_open.set(true)>"+ User"</button>
                    <button type="button" on:click=move |_| group_open.set(true)>"+ Group"</button>
                </When>
                <ActionMenu selection=selection
                    shown=Signal::derive(move || can_update.get() || can_delete.get())>
                    <MenuItem label="Change Role" selection=selection needs=Needs::One allowed=can_update
                        hint="Choose one member (your role may not change roles)" on_select=on_role/>
                    <MenuItem label="Remove" danger=true selection=selection needs=Needs::Some
                        allowed=can_delete hint="Your role does not remove members" on_select=on_remove/>
                </ActionMenu>
            </ListToolbar>
            <ListTable list=list fetch=members.fetch() selection=selection class="member-list" rows=rows>
                <th scope="col">"Name"</th>
                <th scope="col">"Member Type"</th>
                <th scope="col">"Role"</th>
            </ListTable>
        </div>
        <AddMemberDialog open=user_open project_id=project_id group=false on_added=on_added/>
        <AddMemberDialog open=group_open project_id=project_id group=true on_added=on_added/>
        <ChangeRoleDialog open=role_open project_id=project_id member=target on_changed=on_role_changed/>
        <DeleteDialog flow=removing title="Remove Member" confirm_label="Remove"
            message=|names, _| format!("Remove {names} from this project?")
            done=|names, n| format!("Removed {}", what("member", "members", names, n))
            on_deleted=Callback::new(move |()| refresh())/>
    }
}

#[component]
fn MemberRow(member: ProjectMemberEntity, selection: Selection) -> impl IntoView {
    let name = member.entity_name.clone();
    let kind = member_type_label(&member.entity_type).to_owned();
    let role = role_label(member.role_id);
    let label = format!("Select member {name}");
    let row_name = name.clone();
    view! {
        <tr data-member=row_name>
            <SelectCell selection=selection key=key(&member) label=label/>
            <td>{name}</td>
            <td>{kind}</td>
            <td class="member-role">{role}</td>
        </tr>
    }
}

/// A member's key in the selection: its membership id.
fn key(member: &ProjectMemberEntity) -> String {
    member.id.to_string()
}

/// Harbor's role radio buttons.
#[component]
fn RoleChoice(role: RwSignal<i64>) -> impl IntoView {
    let group = format!("member-role-{}", next_id());
    view! {
        <fieldset class="member-roles">
            <legend>"Role"</legend>
            {ROLES
                .iter()
                .map(|(id, label)| {
                    let id = *id;
                    view! {
                        <label class="checkbox">
                            <input type="radio" name=group.clone() value=id.to_string()
                                prop:checked=move || role.get() == id
                                on:change=move |_| role.set(id)/>
                            {*label}
                        </label>
                    }
                })
                .collect_view()}
        </fieldset>
    }
}

/// "+ User" (`group` false: a user by name, suggested by `GET /users/search`) or "+ Group" (a user group by
/// name, suggested by `GET /usergroups/search`), with a role.
#[component]
fn AddMemberDialog(
    open: RwSignal<bool>,
    project_id: i64,
    group: bool,
    on_added: Callback<String>,
) -> impl IntoView {
    let uid = next_id();
    let input_id = format!("member-name-{uid}");
    let list_id = format!("member-suggestions-{uid}");
    let name = RwSignal::new(String::new());
    let role = RwSignal::new(DEFAULT_ROLE);
    let status = FormStatus::new();
    let error = status.error;
    Effect::new(move |_| {
        if open.get() {
            name.set(String::new());
            role.set(DEFAULT_ROLE);
            error.set(None);
        }
    });
    Effect::new(move |_| {
        name.track();
        error.set(None);
    });
    // Suggestions for what is typed; users come as `UserSearchRespItem`, groups as `UserGroupSearchItem`.
    let users = Fetch::<Vec<UserSearchRespItem>>::new(move || {
        let typed = name.get().trim().to_owned();
        (!group && !typed.is_empty()).then(|| {
            format!(
                "/users/search{}",
                query_string(&[("username", typed), ("page_size", "10".to_owned())])
            )
        })
    });
    let groups = Fetch::<Vec<UserGroupSearchItem>>::new(move || {
        let typed = name.get().trim().to_owned();
        (group && !typed.is_empty()).then(|| {
            format!(
                "/usergroups/search{}",
                query_string(&[("groupname", typed), ("page_size", "10".to_owned())])
            )
        })
    });
    let suggestions = move || -> Vec<String> {
        if group {
            groups
                .ok()
                .unwrap_or_default()
                .into_iter()
                .map(|g| g.group_name)
                .collect()
        } else {
            users
                .ok()
                .unwrap_or_default()
                .into_iter()
                .map(|u| u.username)
                .collect()
        }
    };
    let submit = Callback::new(move |()| {
        let typed = name.get_untracked().trim().to_owned();
        let body = if group {
            let hits = untrack(|| groups.ok()).unwrap_or_default();
            group_member_request(&typed, &hits, role.get_untracked())
        } else {
            user_member_request(&typed, role.get_untracked())
        };
        let body = match body {
            Ok(body) => body,
            Err(message) => return status.fail(message),
        };
        status.send(
            Box::pin(
                async move { api::post(&format!("/projects/{project_id}/members"), &body).await },
            ),
            Box::new(move |()| {
                open.set(false);
                on_added.run(typed);
            }),
        );
    });
    let (title, label, hint) = if group {
        (
            "New Group Member",
            "Group Name",
            "A group known to Berth (an LDAP, HTTP or OIDC group).",
        )
    } else {
        ("New Member", "Name", "The user name of an existing user.")
    };
    let input_for = input_id.clone();
    let list_for = list_id.clone();
    view! {
        <FormDialog open=open title=title status=status on_submit=submit busy_label="Adding…">
            <label for=input_for>{label}</label>
            <input id=input_id type="text" required autocomplete="off" list=list_for bind:value=name/>
            <datalist id=list_id>
                {move || suggestions()
                    .into_iter()
                    .map(|s| view! { <option value=s></option> })
                    .collect_view()}
            </datalist>
            <p class="hint">{hint}</p>
            <RoleChoice role=role/>
        </FormDialog>
    }
}

/// Changes `member`'s role (`PUT /projects/{id}/members/{mid}` with `role_id`).
#[component]
fn ChangeRoleDialog(
    open: RwSignal<bool>,
    project_id: i64,
    member: RwSignal<Option<ProjectMemberEntity>>,
    on_changed: Callback<(String, i64)>,
) -> impl IntoView {
    let role = RwSignal::new(DEFAULT_ROLE);
    let status = FormStatus::new();
    Effect::new(move |_| {
        if open.get() {
            role.set(member.with_untracked(|m| m.as_ref().map_or(DEFAULT_ROLE, |m| m.role_id)));
            status.error.set(None);
        }
    });
    let title = Signal::derive(move || {
        member.with(|m| {
            m.as_ref().map_or_else(
                || "Change Role".to_owned(),
                |m| format!("Change Role of {}", m.entity_name),
            )
        })
    });
    let submit = Callback::new(move |()| {
        let Some(target) = member.get_untracked() else {
            return;
        };
        let role_id = role.get_untracked();
        let path = format!("/projects/{project_id}/members/{}", target.id);
        status.send(
            Box::pin(async move { api::put(&path, &RoleRequest { role_id }).await }),
            Box::new(move |()| {
                open.set(false);
                on_changed.run((target.entity_name, role_id));
            }),
        );
    });
    view! {
        <FormDialog open=open title=title status=status on_submit=submit>
            <RoleChoice role=role/>
        </FormDialog>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_use_harbors_ids_and_labels() {
        assert_eq!(role_label(1), "Project Admin");
        assert_eq!(role_label(2), "Developer");
        assert_eq!(role_label(3), "Guest");
        assert_eq!(role_label(4), "Maintainer");
        assert_eq!(role_label(5), "Limited Guest");
        assert_eq!(role_label(9), "Role 9");
        let order: Vec<i64> = ROLES.iter().map(|(id, _)| *id).collect();
        assert_eq!(order, [1, 4, 2, 3, 5]);
    }

    #[test]
    fn member_types_are_user_or_group() {
        assert_eq!(member_type_label("u"), "User");
        assert_eq!(member_type_label("g"), "Group");
    }

    #[test]
    fn list_paths_carry_the_page_and_the_name_part() {
        assert_eq!(
            members_path(3, 1, 15, ""),
            "/projects/3/members?page=1&page_size=15"
        );
        assert_eq!(
            members_path(3, 2, 25, " dev "),
            "/projects/3/members?page=2&page_size=25&entityname=dev"
        );
    }

    #[test]
    fn users_are_added_by_name_with_a_role() {
        let body = user_member_request(" dev1 ", 3);
        let json = serde_json::to_value(body.unwrap_or_default()).unwrap_or_default();
        assert_eq!(
            json,
            serde_json::json!({"role_id": 3, "member_user": {"username": "dev1"}})
        );
        assert!(user_member_request("  ", 2).is_err());
    }

    #[test]
    fn groups_are_added_by_id_when_the_name_is_unambiguous() {
        let hit = |id, name: &str, group_type| UserGroupSearchItem {
            id,
            group_name: name.to_owned(),
            group_type,
        };
        let hits = [hit(4, "qa", 2), hit(5, "qa-team", 2)];
        let body = group_member_request("qa", &hits, 2).unwrap_or_default();
        assert_eq!(
            body.member_group,
            Some(UserGroup {
                id: Some(4),
                ..UserGroup::default()
            })
        );
        // Two groups of that name (of different types): the server decides by name.
        let twins = [hit(4, "qa", 1), hit(6, "qa", 2)];
        let body = group_member_request("qa", &twins, 2).unwrap_or_default();
        assert_eq!(
            body.member_group.and_then(|g| g.group_name),
            Some("qa".to_owned())
        );
        let body = group_member_request("unknown", &hits, 5).unwrap_or_default();
        assert_eq!(body.role_id, 5);
        assert!(body.member_user.is_none());
        assert!(group_member_request("", &hits, 2).is_err());
    }
}
