//! The overview: totals, implementation mix, headline centralization numbers, HSS levels.

use std::sync::Arc;

use leptos::prelude::*;
use observatory_model::snapshot::Snapshot;

use crate::components::{bar_chart::BarChart, level_badge::LevelBadge, stat::Stat};
use crate::format::{or_dash, percent, thousands, timestamp};
use crate::shape::{bars, dimension, headline, level_counts, unmeasured_count, MAX_BARS};

/// Note under a coefficient the snapshot cannot give (no location/ASN data).
const NO_DATA: &str = "no data in this snapshot (GeoIP databases missing at analysis time?)";

/// Overview page.
#[component]
pub fn OverviewPage(snapshot: Arc<Snapshot>) -> impl IntoView {
    let t = snapshot.totals.clone();
    let h = headline(&snapshot);
    let implementations = dimension(&snapshot, "implementation").map(|d| bars(d, MAX_BARS));
    let levels = level_counts(&snapshot);
    // Servers that never answered have no level (they were not measured, so not "low").
    let unmeasured = unmeasured_count(&snapshot);
    view! {
        <section class="hero">
            <h1>"The public Electrum server network"</h1>
            <p class="lead">
                "Who runs the servers that Bitcoin light wallets trust with their addresses, where they run, with what "
                "software and certificates, how concentrated they are, and which behave like surveillance honeypots."
            </p>
            <p class="meta">
                "Scan " {timestamp(&snapshot.scan_started)} " – " {timestamp(&snapshot.scan_finished)}
                {format!(", {} round(s); run ", snapshot.rounds)} <code>{snapshot.run_id.clone()}</code>
            </p>
        </section>

        <h2>"Totals"</h2>
        <div class="stats">
            <Stat label="servers" value=thousands(t.servers) note=format!("{} reachable", thousands(t.reachable_servers)) />
            <Stat label="endpoints" value=thousands(t.endpoints) note=format!("{} reachable", thousands(t.reachable_endpoints)) />
            <Stat label="TLS endpoints" value=thousands(t.tls_endpoints) note=format!("{} plain TCP", thousands(t.tcp_endpoints)) />
            <Stat label="onion endpoints" value=thousands(t.onion_endpoints) />
            <Stat label="distinct IPs" value=thousands(t.distinct_ips) />
        </div>

        <h2>"Centralization at a glance"</h2>
        <div class="stats">
            <Stat
                label="Nakamoto coefficient by ASN"
                value=or_dash(h.nakamoto_asn)
                note=h.top_asn_share.map_or(NO_DATA.into(), |s| format!("networks hold a majority; largest {}", percent(s)))
            />
            <Stat
                label="Nakamoto coefficient by country"
                value=or_dash(h.nakamoto_country)
                note=h.top_country_share.map_or(NO_DATA.into(), |s| format!("countries hold a majority; largest {}", percent(s)))
            />
        </div>
        <p><a href="#/centralization">"All dimensions and indices →"</a></p>

        <div class="two-col">
            <section>
                <h2>"Implementation mix"</h2>
                {match implementations {
                    Some(b) if !b.is_empty() => view! { <BarChart bars=b caption="Servers by implementation" /> }.into_any(),
                    _ => view! { <p class="muted">"No implementation data in this snapshot."</p> }.into_any(),
                }}
            </section>
            <section>
                <h2>"Honeypot Suspicion Score levels"</h2>
                <table class="levels">
                    <tbody>
                        {levels
                            .into_iter()
                            .map(|(level, n)| view! {
                                <tr><th scope="row"><LevelBadge level /></th><td class="num">{thousands(n)}</td></tr>
                            })
                            .collect_view()}
                        {(unmeasured > 0).then(|| view! {
                            <tr><th scope="row">"not measured"</th><td class="num">{thousands(unmeasured)}</td></tr>
                        })}
                    </tbody>
                </table>
                <p class="muted small">
                    {format!("medium from {} points, high from {} points. ", snapshot.hss.medium_threshold, snapshot.hss.high_threshold)}
                    <a href="#/ranking">"See the ranking →"</a>
                </p>
                <h3>"Endpoint outcomes"</h3>
                <table class="kv">
                    <tbody>
                        {t.by_status
                            .iter()
                            .map(|(status, n)| view! { <tr><th scope="row">{status.clone()}</th><td class="num">{thousands(*n)}</td></tr> })
                            .collect_view()}
                    </tbody>
                </table>
            </section>
        </div>
    }
}
