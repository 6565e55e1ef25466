//! The page footer: snapshot identity and data attribution (required by DB-IP's CC-BY-4.0).

use std::sync::Arc;

use leptos::prelude::*;
use observatory_model::snapshot::Snapshot;

use crate::format::timestamp;

/// Attribution links are our constants, but only `https://` ones are made clickable.
fn safe_link(url: &str) -> Option<String> {
    (url.starts_with("https://") && !url.contains(['"', '<', '>', ' '])).then(|| url.to_owned())
}

/// Footer with attribution.
#[component]
pub fn Footer(snapshot: Arc<Snapshot>) -> impl IntoView {
    view! {
        <footer class="site-footer">
            <div class="wrap">
                <p>
                    "Snapshot " <code>{snapshot.run_id.clone()}</code> ", generated "
                    {timestamp(&snapshot.generated_at)} " by observatory " {snapshot.software_version.clone()} "."
                </p>
                <ul class="attribution">
                    {snapshot
                        .attribution
                        .iter()
                        .map(|a| {
                            let source = match safe_link(&a.url) {
                                Some(href) => view! { <a href=href rel="noopener noreferrer">{a.source.clone()}</a> }.into_any(),
                                None => view! { <span>{a.source.clone()}</span> }.into_any(),
                            };
                            view! { <li>{a.what.clone()} ": " {source} " (" {a.licence.clone()} ")"</li> }
                        })
                        .collect_view()}
                </ul>
                <p class="muted">
                    "Server-supplied text (banners, host names, certificate fields) is shown verbatim and is not endorsed."
                </p>
            </div>
        </footer>
    }
}
