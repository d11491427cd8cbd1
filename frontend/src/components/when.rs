//! [`When`]: Leptos' `Show` without its generics.
//!
//! Rule: pages show or hide a part with `<When>`, not `<When>`. `Show` is generic over its condition and its
//! children, so each use instantiates the whole render path of an `Either<children, fallback>` again; `When`
//! takes the condition as a `Signal<bool>` and the children erased, so every use shares one copy
//! (docs/benchmarks.md, "Console").

use leptos::prelude::*;

/// Shows `children` while `when` holds, else `fallback` (nothing by default). The condition is memoised, so
/// the part is only rebuilt when it flips.
#[component]
pub fn When(
    #[prop(into)] when: Signal<bool>,
    children: ChildrenFn,
    #[prop(optional, into)] fallback: ViewFn,
) -> impl IntoView {
    let shown = Memo::new(move |_| when.get());
    move || {
        if shown.get() {
            children()
        } else {
            fallback.run()
        }
    }
}
