//! The options of a select over one of the model's fixed lists (status, TLP, answer status),
//! with the current value kept selected as it changes here or elsewhere.

use leptos::prelude::*;

/// `<option>`s for every item of `all`, valued by `key`, shown by `label`, the one equal to
/// `selected` selected.
pub fn options<T>(
    all: impl IntoIterator<Item = T>,
    key: fn(T) -> &'static str,
    label: fn(T) -> &'static str,
    selected: Memo<T>,
) -> impl IntoView
where
    T: Copy + PartialEq + Send + Sync + 'static,
{
    all.into_iter()
        .map(|item| {
            view! {
                <option value=key(item) prop:selected=move || selected.get() == item>
                    {label(item)}
                </option>
            }
        })
        .collect_view()
}
