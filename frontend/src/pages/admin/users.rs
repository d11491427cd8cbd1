//! Administration → Users (`/harbor/users`): the local users (`GET /users`, search by username, sort,
//! server-side pagination), "+ New User", and Harbor's row selection with an Action menu: set or revoke the
//! chosen user's administrator flag, reset their password, delete the chosen users after one confirmation.
//!
//! For system administrators; the server refuses everyone else and the table shows its message. Nobody may
//! revoke their own flag, reset their own password here (that needs the current one: the user menu's
//! "Change Password") or delete themself, and the built-in `admin` (id 1) is never deleted: the console
//! disables those actions when such a user is chosen, and the server refuses them anyway.

use berth_api::users::{PasswordReq, UserCreationReq, UserResp, UserSysAdminFlag};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api;
use crate::app::check_new_password;
use crate::auth;
use crate::components::action_menu::{ActionMenu, MenuItem, Needs};
use crate::components::dialog::{DeleteDialog, DeleteFlow, FormDialog, FormStatus, what};
use crate::components::select_table::{SelectCell, Selection};
use crate::components::table::{
    ListControls, ListTable, ListToolbar, PagedList, Sort, SortHeader, fuzzy, page_path,
};
use crate::components::toast::use_toasts;
use crate::components::when::When;
use crate::format;

/// The built-in administrator, whom the server never deletes.
pub const BUILTIN_ADMIN_ID: i64 = 1;

/// The list's API path for a page, a username filter (Harbor's fuzzy `q=username=~…`) and a sort order.
/// `q` separates terms with `,`, so commas typed in the filter are dropped.
pub fn users_path(page: u32, page_size: u32, name: &str, sort: Option<Sort>) -> String {
    page_path(
        "/users",
        page,
        page_size,
        &[("q", fuzzy("username", name)), ("sort", Sort::param(sort))],
    )
}

/// What the signed-in administrator may do to one user of the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowActions {
    /// Set or revoke the administrator flag (not one's own: an admin cannot revoke themself).
    pub toggle_admin: bool,
    /// Set a new password without the current one (not one's own: that needs the current password).
    pub reset_password: bool,
    /// Delete (not oneself, never the built-in admin).
    pub delete: bool,
}

/// The actions on user `user_id` for the signed-in user `me`.
pub fn row_actions(user_id: i64, me: Option<i64>) -> RowActions {
    let is_me = me == Some(user_id);
    RowActions {
        toggle_admin: !is_me,
        reset_password: !is_me,
        delete: !is_me && user_id != BUILTIN_ADMIN_ID,
    }
}

/// A user's key in the selection: their id.
fn key(user: &UserResp) -> String {
    user.user_id.to_string()
}

/// The label of the administrator action for a user who is (or is not) an administrator.
pub fn admin_action_label(sysadmin: bool) -> &'static str {
    if sysadmin {
        "Revoke Administrator"
    } else {
        "Set as Administrator"
    }
}

/// What the "New User" dialog holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewUserForm {
    pub username: String,
    pub email: String,
    pub realname: String,
    pub password: String,
    pub confirm: String,
    pub comment: String,
}

/// The body of `POST /users`, after the console's own checks (a username, matching passwords). The server
/// applies Harbor's rules (password policy, email, real name) and its message is shown as is.
pub fn new_user_request(form: &NewUserForm) -> Result<UserCreationReq, String> {
    let username = form.username.trim();
    if username.is_empty() {
        return Err("Enter a username.".to_owned());
    }
    check_new_password(&form.password, &form.confirm)?;
    Ok(UserCreationReq {
        username: username.to_owned(),
        password: form.password.clone(),
        email: form.email.trim().to_owned(),
        realname: form.realname.trim().to_owned(),
        comment: form.comment.trim().to_owned(),
    })
}

/// The body of an administrator's `PUT /users/{id}/password`: the new password only.
pub fn reset_password_request(new: &str, confirm: &str) -> Result<PasswordReq, String> {
    check_new_password(new, confirm)?;
    Ok(PasswordReq {
        old_password: String::new(),
        new_password: new.to_owned(),
    })
}

#[component]
pub fn UsersPage() -> impl IntoView {
    let current = auth::use_current_user();
    let me = Signal::derive(move || current.0.with(|u| u.as_ref().map(|u| u.user_id)));
    let list = ListControls::new();
    let toasts = use_toasts();

    let users = PagedList::<UserResp>::new(
        move || {
            let (page, size, name, sort) = list.get();
            Some(users_path(page, size, &name, sort))
        },
        list,
    );
    let refresh = move || users.refresh();

    let create_open = RwSignal::new(false);
    let resetting = RwSignal::new(None::<(i64, String)>);
    let reset_open = RwSignal::new(false);
    let deleting = DeleteFlow::new();
    let selection = Selection::new(users.keys(key));
    let chosen = move || users.chosen(selection, key);
    // The one chosen user and what may be done to them.
    let single = move || match chosen().as_slice() {
        [user] => Some(user.clone()),
        _ => None,
    };
    let single_actions = move || single().map(|u| row_actions(u.user_id, me.get()));
    let may_toggle = Signal::derive(move || single_actions().is_some_and(|a| a.toggle_admin));
    let may_reset = Signal::derive(move || single_actions().is_some_and(|a| a.reset_password));
    let may_delete = Signal::derive(move || {
        let chosen = chosen();
        !chosen.is_empty()
            && chosen
                .iter()
                .all(|u| row_actions(u.user_id, me.get()).delete)
    });
    let admin_label = Signal::derive(move || {
        admin_action_label(single().is_some_and(|u| u.sysadmin_flag)).to_owned()
    });

    let on_toggle_admin = Callback::new(move |()| {
        let Some(user) = single() else {
            return;
        };
        let grant = !user.sysadmin_flag;
        spawn_local(async move {
            let body = UserSysAdminFlag {
                sysadmin_flag: grant,
            };
            match api::put(&format!("/users/{}/sysadmin", user.user_id), &body).await {
                Ok(()) => {
                    toasts.success(if grant {
                        format!("{} is now an administrator", user.username)
                    } else {
                        format!("{} is no longer an administrator", user.username)
                    });
                    refresh();
                }
                Err(e) => toasts.error(e.message),
            }
        });
    });
    let on_reset = Callback::new(move |()| {
        if let Some(user) = single() {
            resetting.set(Some((user.user_id, user.username)));
            reset_open.set(true);
        }
    });
    let on_delete = Callback::new(move |()| {
        deleting.ask_all(
            chosen()
                .into_iter()
                .map(|u| (format!("/users/{}", u.user_id), u.username))
                .collect(),
        );
    });
    let on_created = Callback::new(move |name: String| {
        toasts.success(format!("Created user {name}"));
        refresh();
    });

    let rows = move || {
        users.rows("5", "No users found", move |user| {
            view! { <UserRow user=user selection=selection/> }.into_any()
        })
    };

    view! {
        <section class="page">
            <h1>"Users"</h1>
            <ListToolbar list=list fetch=users.fetch() filter="Filter users by username">
                <When when=move || current.is_sysadmin()>
                    <button type="button" data-testid="new-user" on:click=move |_| create_open.set(true)>
                        "+ New User"
                    </button>
                    <ActionMenu selection=selection>
                        <MenuItem label=admin_label selection=selection needs=Needs::One allowed=may_toggle
                            hint="Choose one user other than yourself" on_select=on_toggle_admin/>
                        <MenuItem label="Reset Password" selection=selection needs=Needs::One allowed=may_reset
                            hint="Choose one user other than yourself (yours: Change Password in the user menu)"
                            on_select=on_reset/>
                        <MenuItem label="Delete" danger=true selection=selection needs=Needs::Some allowed=may_delete
                            hint="Choose users other than yourself and admin" on_select=on_delete/>
                    </ActionMenu>
                </When>
            </ListToolbar>
            <ListTable list=list fetch=users.fetch() selection=selection rows=rows>
                <SortHeader label="Name" key="username" list=list/>
                <SortHeader label="Administrator" key="sysadmin_flag" list=list/>
                <SortHeader label="Email" key="email" list=list/>
                <SortHeader label="Registration time" key="creation_time" list=list/>
            </ListTable>
        </section>
        <NewUserDialog open=create_open on_created=on_created/>
        <ResetPasswordDialog open=reset_open user=resetting/>
        <DeleteDialog flow=deleting title="Delete User"
            message=|names, n| format!("Delete {}? This cannot be undone.", what("user", "users", names, n))
            done=|names, n| format!("Deleted {}", what("user", "users", names, n))
            on_deleted=Callback::new(move |()| refresh())/>
    }
}

#[component]
fn UserRow(user: UserResp, selection: Selection) -> impl IntoView {
    let admin = if user.sysadmin_flag { "Yes" } else { "No" };
    let name = user.username.clone();
    let label = format!("Select user {name}");
    let row_name = name.clone();
    view! {
        <tr data-user=row_name>
            <SelectCell selection=selection key=key(&user) label=label/>
            <td>{name}</td>
            <td class="user-admin">{admin}</td>
            <td>{user.email}</td>
            <td>{format::time(&user.creation_time)}</td>
        </tr>
    }
}

#[component]
fn NewUserDialog(open: RwSignal<bool>, on_created: Callback<String>) -> impl IntoView {
    let username = RwSignal::new(String::new());
    let email = RwSignal::new(String::new());
    let realname = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let comment = RwSignal::new(String::new());
    let status = FormStatus::new();
    Effect::new(move |_| {
        if open.get() {
            for field in [username, email, realname, password, confirm, comment] {
                field.set(String::new());
            }
            status.error.set(None);
        }
    });
    let submit = Callback::new(move |()| {
        let form = NewUserForm {
            username: username.get_untracked(),
            email: email.get_untracked(),
            realname: realname.get_untracked(),
            password: password.get_untracked(),
            confirm: confirm.get_untracked(),
            comment: comment.get_untracked(),
        };
        let body = match new_user_request(&form) {
            Ok(body) => body,
            Err(message) => return status.fail(message),
        };
        let name = body.username.clone();
        status.send(
            Box::pin(async move { api::post("/users", &body).await }),
            Box::new(move |()| {
                open.set(false);
                on_created.run(name);
            }),
        );
    });
    view! {
        <FormDialog open=open title="New User" status=status on_submit=submit class="form-grid"
            busy_label="Creating…">
            <label for="new-user-username">"Username"</label>
            <input id="new-user-username" type="text" required maxlength="255" autocomplete="off"
                bind:value=username/>
            <label for="new-user-email">"Email"</label>
            <input id="new-user-email" type="email" required autocomplete="off"
                bind:value=email/>
            <label for="new-user-realname">"First and last name"</label>
            <input id="new-user-realname" type="text" required maxlength="255" autocomplete="off"
                bind:value=realname/>
            <label for="new-user-password">"Password"</label>
            <input id="new-user-password" type="password" required autocomplete="new-password"
                aria-describedby="new-user-password-hint" bind:value=password/>
            <p class="hint" id="new-user-password-hint">
                "At least 8 characters, with an upper-case letter, a lower-case letter and a digit."
            </p>
            <label for="new-user-confirm">"Confirm Password"</label>
            <input id="new-user-confirm" type="password" required autocomplete="new-password"
                bind:value=confirm/>
            <label for="new-user-comment">"Comments"</label>
            <input id="new-user-comment" type="text" maxlength="30" autocomplete="off"
                bind:value=comment/>
        </FormDialog>
    }
}

/// An administrator sets a user's new password (no current password needed).
#[component]
fn ResetPasswordDialog(
    open: RwSignal<bool>,
    user: RwSignal<Option<(i64, String)>>,
) -> impl IntoView {
    let new = RwSignal::new(String::new());
    let confirm = RwSignal::new(String::new());
    let status = FormStatus::new();
    let toasts = use_toasts();
    Effect::new(move |_| {
        if open.get() {
            new.set(String::new());
            confirm.set(String::new());
            status.error.set(None);
        }
    });
    let submit = Callback::new(move |()| {
        let Some((id, name)) = user.get_untracked() else {
            return;
        };
        let body = match reset_password_request(&new.get_untracked(), &confirm.get_untracked()) {
            Ok(body) => body,
            Err(message) => return status.fail(message),
        };
        status.send(
            Box::pin(async move { api::put(&format!("/users/{id}/password"), &body).await }),
            Box::new(move |()| {
                open.set(false);
                toasts.success(format!("Password of {name} reset"));
            }),
        );
    });
    let title = Signal::derive(move || {
        user.get()
            .map(|(_, name)| format!("Reset Password of {name}"))
            .unwrap_or_else(|| "Reset Password".to_owned())
    });
    view! {
        <FormDialog open=open title=title status=status on_submit=submit>
            <label for="reset-password-new">"New Password"</label>
            <input id="reset-password-new" type="password" required autocomplete="new-password"
                bind:value=new/>
            <p class="hint">"At least 8 characters, with an upper-case letter, a lower-case letter and a digit."</p>
            <label for="reset-password-confirm">"Confirm Password"</label>
            <input id="reset-password-confirm" type="password" required autocomplete="new-password"
                bind:value=confirm/>
        </FormDialog>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form() -> NewUserForm {
        NewUserForm {
            username: " alice ".to_owned(),
            email: "alice@example.com ".to_owned(),
            realname: " Alice A".to_owned(),
            password: "Passw0rdX".to_owned(),
            confirm: "Passw0rdX".to_owned(),
            comment: String::new(),
        }
    }

    #[test]
    fn list_paths_filter_by_username_and_sort() {
        assert_eq!(users_path(1, 15, "", None), "/users?page=1&page_size=15");
        assert_eq!(
            users_path(
                3,
                50,
                " ali,ce ",
                Some(Sort {
                    key: "creation_time",
                    descending: true
                })
            ),
            "/users?page=3&page_size=50&q=username%3D~alice&sort=-creation_time"
        );
    }

    #[test]
    fn nobody_revokes_resets_or_deletes_themself_and_admin_stays() {
        let other = row_actions(5, Some(2));
        assert_eq!(
            other,
            RowActions {
                toggle_admin: true,
                reset_password: true,
                delete: true
            }
        );
        let me = row_actions(2, Some(2));
        assert!(!me.toggle_admin && !me.reset_password && !me.delete);
        let builtin = row_actions(BUILTIN_ADMIN_ID, Some(2));
        assert!(builtin.toggle_admin && !builtin.delete);
        let builtin_self = row_actions(BUILTIN_ADMIN_ID, Some(BUILTIN_ADMIN_ID));
        assert!(!builtin_self.toggle_admin && !builtin_self.delete);
    }

    #[test]
    fn admin_action_follows_the_flag() {
        assert_eq!(admin_action_label(false), "Set as Administrator");
        assert_eq!(admin_action_label(true), "Revoke Administrator");
    }

    #[test]
    fn new_users_need_a_name_and_matching_passwords() {
        let body = new_user_request(&form()).unwrap_or_default();
        assert_eq!(body.username, "alice");
        assert_eq!(body.email, "alice@example.com");
        assert_eq!(body.realname, "Alice A");
        assert_eq!(body.password, "Passw0rdX");
        let unnamed = NewUserForm {
            username: "  ".to_owned(),
            ..form()
        };
        assert_eq!(
            new_user_request(&unnamed),
            Err("Enter a username.".to_owned())
        );
        let mismatch = NewUserForm {
            confirm: "Passw0rdY".to_owned(),
            ..form()
        };
        assert!(new_user_request(&mismatch).is_err());
        // The password policy is the server's: a weak but confirmed password is sent.
        let weak = NewUserForm {
            password: "abc".to_owned(),
            confirm: "abc".to_owned(),
            ..form()
        };
        assert!(new_user_request(&weak).is_ok());
    }

    #[test]
    fn resets_send_only_the_new_password() {
        let body = reset_password_request("Passw0rdZ", "Passw0rdZ").unwrap_or_default();
        let json = serde_json::to_value(&body).unwrap_or_default();
        assert_eq!(
            json,
            serde_json::json!({"old_password": "", "new_password": "Passw0rdZ"})
        );
        assert!(reset_password_request("Passw0rdZ", "other").is_err());
        assert!(reset_password_request("", "").is_err());
    }
}
