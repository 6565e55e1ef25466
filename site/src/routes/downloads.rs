//! Download links for the CSVs and snapshot JSON (copied into the site's `data/` folder).

use std::sync::Arc;

use leptos::prelude::*;
use observatory_model::snapshot::Snapshot;

use crate::format::bytes;

/// A download path is linked only when it is a plain relative path inside `data/`.
fn safe_path(path: &str) -> Option<String> {
    let ok = !path.is_empty()
        && !path.starts_with('/')
        && !path
            .split('/')
            .any(|seg| seg.is_empty() || seg == "." || seg == "..")
        && path
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'.' | b'-' | b'_'));
    ok.then(|| format!("data/{path}"))
}

/// Downloads page.
#[component]
pub fn DownloadsPage(snapshot: Arc<Snapshot>) -> impl IntoView {
    view! {
        <h1>"Downloads"</h1>
        <p class="lead">"The data behind every page, as published by " <code>"observatory analyze"</code> "."</p>
        <div class="scroll-x"><table class="data" id="downloads">
            <thead><tr><th scope="col">"File"</th><th scope="col">"Path"</th><th scope="col" class="num">"Size"</th></tr></thead>
            <tbody>
                {snapshot.downloads.iter().map(|d| {
                    let link = match safe_path(&d.path) {
                        Some(href) => view! { <a href=href download="">{d.label.clone()}</a> }.into_any(),
                        None => view! { <span>{d.label.clone()}</span> }.into_any(),
                    };
                    view! {
                        <tr><td>{link}</td><td><code>{d.path.clone()}</code></td><td class="num">{bytes(d.bytes)}</td></tr>
                    }
                }).collect_view()}
            </tbody>
        </table></div>
        <p class="muted small">"Licences of the underlying data are listed in the footer; attribute DB-IP when reusing locations."</p>
    }
}
