//! Labels: the coloured chips artifacts show, and the list of labels with "+ New Label", Edit and Delete that
//! Administration → Labels (the global labels, `GET /labels?scope=g`) and a project's Labels tab
//! (`GET /labels?scope=p&project_id=N`) share. The server decides who may change what (global labels: system
//! administrators; a project's: its admins and maintainers); the page passes what the user may do so the
//! buttons appear only when they would work.

use berth_api::labels::{GLOBAL, Label, PROJECT};
use leptos::prelude::*;

use crate::api;
use crate::components::action_menu::{ActionMenu, MenuItem, Needs};
use crate::components::dialog::{DeleteDialog, DeleteFlow, FormDialog, FormStatus, what};
use crate::components::select_table::{SelectCell, Selection};
use crate::components::table::{ListControls, ListTable, ListToolbar, PagedList, page_path};
use crate::components::toast::use_toasts;
use crate::components::when::When;
use crate::format;

/// Which labels a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelScope {
    Global,
    Project(i64),
}

/// The colour a new label starts with (Harbor's portal's first).
pub const DEFAULT_COLOR: &str = "#0095D3";
/// The longest name the server takes.
pub const MAX_NAME: usize = 128;

/// The list's API path: one page of the scope's labels, filtered by a part of the name.
pub fn labels_path(scope: LabelScope, page: u32, page_size: u32, name: &str) -> String {
    let mut params = match scope {
        LabelScope::Global => vec![("scope", GLOBAL.to_owned())],
        LabelScope::Project(id) => vec![
            ("scope", PROJECT.to_owned()),
            ("project_id", id.to_string()),
        ],
    };
    params.push(("name", name.trim().to_owned()));
    page_path("/labels", page, page_size, &params)
}

/// The body of `POST /labels` (or `PUT /labels/{id}`) after the console's own checks.
pub fn label_request(
    scope: LabelScope,
    name: &str,
    description: &str,
    color: &str,
) -> Result<Label, String> {
    let name = name.trim();
    if name.is_empty() {
        return Err("Enter a label name.".to_owned());
    }
    if name.chars().count() > MAX_NAME {
        return Err(format!("A label name is at most {MAX_NAME} characters."));
    }
    let (scope, project_id) = match scope {
        LabelScope::Global => (GLOBAL, 0),
        LabelScope::Project(id) => (PROJECT, id),
    };
    Ok(Label {
        name: name.to_owned(),
        description: description.trim().to_owned(),
        color: color.trim().to_owned(),
        scope: scope.to_owned(),
        project_id,
        ..Label::default()
    })
}

/// The text colour that reads best on a chip of `color` (`#rgb` or `#rrggbb`): black or white, whichever
/// contrasts more by WCAG 2's relative luminance (one of them always reaches 4.5:1); `None` (the theme's own
/// colours) when there is no valid colour.
pub fn chip_text_color(color: &str) -> Option<&'static str> {
    let hex = color.strip_prefix('#')?;
    let width = match hex.len() {
        3 => 1,
        6 => 2,
        _ => return None,
    };
    let channel = |i: usize| -> Option<f64> {
        let part = hex.get(i * width..(i + 1) * width)?;
        let value = u8::from_str_radix(part, 16).ok()?;
        let value = if width == 1 { value * 17 } else { value };
        // sRGB to linear light (WCAG 2.x, "relative luminance").
        let c = f64::from(value) / 255.0;
        Some(if c <= 0.040_45 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        })
    };
    let luminance = 0.2126 * channel(0)? + 0.7152 * channel(1)? + 0.0722 * channel(2)?;
    let on_white = 1.05 / (luminance + 0.05);
    let on_black = (luminance + 0.05) / 0.05;
    Some(if on_black >= on_white {
        "#000000"
    } else {
        "#ffffff"
    })
}

/// A label as a chip in its colour.
#[component]
pub fn LabelChip(
    name: String,
    color: String,
    #[prop(optional)] description: String,
) -> impl IntoView {
    // Colours go through the CSSOM (`style:`), which the Content-Security-Policy allows, unlike a `style`
    // attribute. A label without a valid colour keeps the stylesheet's.
    let text = chip_text_color(&color);
    let background = text.map(|_| color.clone());
    let border = background.clone();
    let title = (!description.is_empty()).then_some(description);
    let data = name.clone();
    view! {
        <span class="label-chip" style:background=background style:border-color=border style:color=text
            title=title data-label=data>{name}</span>
    }
}

/// The labels of `scope`, with the actions the user may take.
#[component]
pub fn LabelList(
    scope: LabelScope,
    #[prop(into)] can_create: Signal<bool>,
    #[prop(into)] can_update: Signal<bool>,
    #[prop(into)] can_delete: Signal<bool>,
) -> impl IntoView {
    let list = ListControls::new();
    let toasts = use_toasts();
    let labels = PagedList::<Label>::new(
        move || {
            let (page, size, name, _) = list.get();
            Some(labels_path(scope, page, size, &name))
        },
        list,
    );
    let open = RwSignal::new(false);
    let editing = RwSignal::new(None::<Label>);
    let deleting = DeleteFlow::new();
    let selection = Selection::new(labels.keys(key));
    let chosen = move || labels.chosen(selection, key);
    let on_new = move |_| {
        editing.set(None);
        open.set(true);
    };
    let on_edit = Callback::new(move |()| {
        if let [label] = chosen().as_slice() {
            editing.set(Some(label.clone()));
            open.set(true);
        }
    });
    let on_delete = Callback::new(move |()| {
        deleting.ask_all(
            chosen()
                .into_iter()
                .map(|l| (format!("/labels/{}", l.id), l.name))
                .collect(),
        );
    });
    let on_saved = Callback::new(move |message: String| {
        toasts.success(message);
        labels.refresh();
    });
    let menu_shown = Signal::derive(move || can_update.get() || can_delete.get());
    let rows = move || {
        labels.rows("4", "No labels found", move |label| {
            view! { <LabelRow label=label selection=selection/> }.into_any()
        })
    };
    view! {
        <div class="labels">
            <ListToolbar list=list fetch=labels.fetch() filter="Filter labels by name">
                <When when=move || can_create.get()>
                    <button type="button" data-testid="new-label" on:click=on_new>"+ New Label"</button>
                </When>
                <ActionMenu selection=selection shown=menu_shown>
                    <MenuItem label="Edit" selection=selection needs=Needs::One hint="Choose one label"
                        allowed=can_update on_select=on_edit/>
                    <MenuItem label="Delete" danger=true selection=selection needs=Needs::Some
                        allowed=can_delete on_select=on_delete/>
                </ActionMenu>
            </ListToolbar>
            <ListTable list=list fetch=labels.fetch() selection=selection class="label-list" rows=rows>
                <th scope="col">"Label"</th>
                <th scope="col">"Description"</th>
                <th scope="col">"Creation Time"</th>
            </ListTable>
        </div>
        <LabelDialog open=open scope=scope editing=editing on_saved=on_saved/>
        <DeleteDialog flow=deleting title="Delete Label"
            message=|names, n| format!(
                "Delete {}? {} taken off every artifact that carries {}.",
                what("label", "labels", names, n),
                if n == 1 { "It is" } else { "They are" },
                if n == 1 { "it" } else { "them" }
            )
            done=|names, n| format!("Deleted {}", what("label", "labels", names, n))
            on_deleted=Callback::new(move |()| labels.refresh())/>
    }
}

/// A label's key in the selection: its id.
fn key(label: &Label) -> String {
    label.id.to_string()
}

#[component]
fn LabelRow(label: Label, selection: Selection) -> impl IntoView {
    let select = format!("Select label {}", label.name);
    let name = label.name.clone();
    view! {
        <tr data-label-row=name>
            <SelectCell selection=selection key=key(&label) label=select/>
            <td><LabelChip name=label.name.clone() color=label.color.clone()/></td>
            <td class="label-description">{label.description.clone()}</td>
            <td class="time">{format::time(&label.creation_time)}</td>
        </tr>
    }
}

/// New Label, or Edit Label when `editing` holds one.
#[component]
fn LabelDialog(
    open: RwSignal<bool>,
    scope: LabelScope,
    editing: RwSignal<Option<Label>>,
    on_saved: Callback<String>,
) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let color = RwSignal::new(DEFAULT_COLOR.to_owned());
    let status = FormStatus::new();
    Effect::new(move |_| {
        if open.get() {
            let current = editing.get_untracked();
            name.set(current.as_ref().map(|l| l.name.clone()).unwrap_or_default());
            description.set(
                current
                    .as_ref()
                    .map(|l| l.description.clone())
                    .unwrap_or_default(),
            );
            color.set(
                current
                    .as_ref()
                    .map(|l| l.color.clone())
                    .filter(|c| c.len() == 7)
                    .unwrap_or_else(|| DEFAULT_COLOR.to_owned()),
            );
            status.error.set(None);
        }
    });
    let title = Signal::derive(move || {
        if editing.with(Option::is_some) {
            "Edit Label".to_owned()
        } else {
            "New Label".to_owned()
        }
    });
    let submit = Callback::new(move |()| {
        let body = match label_request(
            scope,
            &name.get_untracked(),
            &description.get_untracked(),
            &color.get_untracked(),
        ) {
            Ok(body) => body,
            Err(message) => return status.fail(message),
        };
        let saved = body.name.clone();
        match editing.get_untracked() {
            Some(label) => status.send(
                Box::pin(async move { api::put(&format!("/labels/{}", label.id), &body).await }),
                Box::new(move |()| {
                    open.set(false);
                    on_saved.run(format!("Saved label {saved}"));
                }),
            ),
            None => status.send(
                Box::pin(async move { api::post("/labels", &body).await }),
                Box::new(move |()| {
                    open.set(false);
                    on_saved.run(format!("Created label {saved}"));
                }),
            ),
        }
    });
    view! {
        <FormDialog open=open title=title status=status on_submit=submit class="form-grid">
            <label for="label-name">"Name"</label>
            <input id="label-name" type="text" required maxlength="128" autocomplete="off" bind:value=name/>
            <label for="label-color">"Color"</label>
            <input id="label-color" type="color" bind:value=color/>
            <label for="label-description">"Description"</label>
            <input id="label-description" type="text" maxlength="1024" autocomplete="off"
                bind:value=description/>
            <span class="form-wide label-preview">
                {move || view! { <LabelChip name=name.get() color=color.get()/> }}
            </span>
        </FormDialog>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_paths_name_the_scope() {
        assert_eq!(
            labels_path(LabelScope::Global, 1, 15, " rel "),
            "/labels?page=1&page_size=15&scope=g&name=rel"
        );
        assert_eq!(
            labels_path(LabelScope::Project(7), 2, 25, ""),
            "/labels?page=2&page_size=25&scope=p&project_id=7"
        );
    }

    #[test]
    fn requests_are_checked_and_scoped() {
        let global = label_request(LabelScope::Global, " qa ", " d ", "#0095D3");
        assert_eq!(
            global.map(|l| (l.name, l.description, l.scope, l.project_id)),
            Ok(("qa".to_owned(), "d".to_owned(), "g".to_owned(), 0))
        );
        let project = label_request(LabelScope::Project(3), "qa", "", "");
        assert_eq!(
            project.map(|l| (l.scope, l.project_id)),
            Ok(("p".to_owned(), 3))
        );
        assert!(label_request(LabelScope::Global, "  ", "", "").is_err());
        assert!(label_request(LabelScope::Global, &"x".repeat(129), "", "").is_err());
    }

    #[test]
    fn chip_text_reads_on_its_colour() {
        assert_eq!(chip_text_color("#ffffff"), Some("#000000"));
        assert_eq!(chip_text_color("#FF0"), Some("#000000"));
        // Harbor's default blue: black reads at 6.3:1, white only at 3.3:1.
        assert_eq!(chip_text_color("#0095D3"), Some("#000000"));
        assert_eq!(chip_text_color("#005f88"), Some("#ffffff"));
        assert_eq!(chip_text_color("#000"), Some("#ffffff"));
        assert_eq!(chip_text_color(""), None);
        assert_eq!(chip_text_color("#12"), None);
        assert_eq!(chip_text_color("red"), None);
    }
}
