//! A two-column label/value table; values are always text (they may be server-supplied).

use leptos::prelude::*;

/// Rows of `(label, value)`.
#[component]
pub fn KvTable(rows: Vec<(&'static str, String)>) -> impl IntoView {
    view! {
        <table class="kv">
            <tbody>
                {rows
                    .into_iter()
                    .map(|(k, v)| view! {
                        <tr>
                            <th scope="row">{k}</th>
                            <td class="untrusted">{v}</td>
                        </tr>
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}
