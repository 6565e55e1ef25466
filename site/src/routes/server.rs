//! One server: every measured attribute, certificate, probes, fired indicators, history.
//! Every value here may be server-supplied: all of it is rendered as text.

use std::sync::Arc;

use leptos::prelude::*;
use observatory_model::snapshot::{CertView, Server, Snapshot};

use crate::components::{kv_table::KvTable, level_badge::LevelBadge};
use crate::format::{fixed, millis, or_dash, percent, timestamp};
use crate::route::Route;
use crate::shape::{indicator_name, place_name, server_by_id};

fn yes_no(b: bool) -> String {
    if b {
        "yes".into()
    } else {
        "no".into()
    }
}

fn overview_rows(s: &Server) -> Vec<(&'static str, String)> {
    let loc = s.location.clone().unwrap_or_default();
    vec![
        ("Host names", s.hosts.join(", ")),
        (
            "IP addresses",
            if s.ips.is_empty() {
                "–".into()
            } else {
                s.ips.join(", ")
            },
        ),
        ("Onion service", yes_no(s.onion)),
        ("Reachable (latest round)", yes_no(s.reachable)),
        (
            "Location",
            if s.location.is_some() {
                place_name(loc.city.as_deref(), loc.country.as_deref())
            } else {
                "–".into()
            },
        ),
        ("Continent", or_dash(loc.continent)),
        (
            "ASN",
            s.asn.map_or_else(|| "–".into(), |a| format!("AS{a}")),
        ),
        ("AS organization", or_dash(s.as_org.clone())),
        ("Hosting provider", or_dash(s.provider.clone())),
        (
            "Implementation",
            format!(
                "{} {} (confidence {})",
                s.implementation,
                s.implementation_version.clone().unwrap_or_default(),
                percent(s.implementation_confidence)
            ),
        ),
        (
            "Claimed vs observed mismatch",
            yes_no(s.implementation_mismatch),
        ),
        (
            "server.version software",
            or_dash(s.server_software.clone()),
        ),
        ("Protocol negotiated", or_dash(s.protocol.clone())),
        (
            "Protocol range",
            s.protocol_range
                .clone()
                .map_or_else(|| "–".into(), |(a, b)| format!("{a} – {b}")),
        ),
        ("Donation address", or_dash(s.donation_address.clone())),
        ("Genesis hash", or_dash(s.genesis_hash.clone())),
        ("Tip height", or_dash(s.tip_height)),
        ("Blocks behind network tip", or_dash(s.tip_lag)),
        ("Pruning limit", or_dash(s.pruning)),
        ("Peers advertised", s.peers_advertised.to_string()),
        ("Behaviour hash", or_dash(s.behavior_hash.clone())),
        ("Uptime", s.uptime.map_or_else(|| "–".into(), percent)),
        ("Rounds observed", s.rounds_observed.to_string()),
        (
            "RTT median / p95",
            format!("{} / {}", millis(s.rtt_median_ms), millis(s.rtt_p95_ms)),
        ),
        (
            "RTT coefficient of variation",
            s.rtt_cv.map_or_else(|| "–".into(), |v| fixed(v, 2)),
        ),
        (
            "Privacy flags",
            if s.privacy_flags.is_empty() {
                "none".into()
            } else {
                s.privacy_flags.join(", ")
            },
        ),
    ]
}

fn cert_rows(c: &CertView) -> Vec<(&'static str, String)> {
    vec![
        ("Subject", or_dash(c.subject.clone())),
        ("Issuer", or_dash(c.issuer.clone())),
        (
            "Subject alternative names",
            if c.san.is_empty() {
                "–".into()
            } else {
                c.san.join(", ")
            },
        ),
        (
            "Valid from",
            c.not_before
                .as_deref()
                .map_or_else(|| "–".into(), timestamp),
        ),
        (
            "Valid until",
            c.not_after.as_deref().map_or_else(|| "–".into(), timestamp),
        ),
        ("Serial", or_dash(c.serial.clone())),
        ("X.509 version", or_dash(c.version)),
        ("Key", or_dash(c.key.clone())),
        (
            "Signature algorithm",
            or_dash(c.signature_algorithm.clone()),
        ),
        ("Self-signed", yes_no(c.self_signed)),
        ("Expired at scan time", yes_no(c.expired)),
        ("Valid in the web PKI", yes_no(c.webpki_valid)),
        ("Name matches host", yes_no(c.name_matches)),
        (
            "TLS version / cipher",
            format!(
                "{} / {}",
                or_dash(c.tls_version.clone()),
                or_dash(c.cipher_suite.clone())
            ),
        ),
        ("Chain length", c.chain_len.to_string()),
        (
            "Same certificate on other servers",
            c.shared_with.to_string(),
        ),
        ("Leaf SHA-256", c.sha256.clone()),
        ("SPKI SHA-256", or_dash(c.spki_sha256.clone())),
    ]
}

/// Server page.
#[component]
pub fn ServerPage(snapshot: Arc<Snapshot>, id: String) -> impl IntoView {
    let Some(s) = server_by_id(&snapshot, &id).cloned() else {
        return view! {
            <section>
                <h1>"Server not found"</h1>
                <p>"No server with id " <code>{id}</code> " in this snapshot. " <a href="#/ranking">"Back to the ranking"</a></p>
            </section>
        }
        .into_any();
    };
    let fired = s
        .hss
        .fired
        .iter()
        .map(|f| {
            let name = indicator_name(&snapshot, &f.id).to_owned();
            view! {
                <tr>
                    <th scope="row">{name}<div class="muted small"><code>{f.id.clone()}</code></div></th>
                    <td class="num">{fixed(f.points, 1)}</td>
                    <td>{f.evidence.clone()}</td>
                </tr>
            }
        })
        .collect_view();
    let endpoints = s
        .endpoints
        .iter()
        .map(|e| {
            view! {
                <tr>
                    <td class="host">{e.key.clone()}</td>
                    <td>{if e.transport == "s" { "TLS" } else { "TCP" }}</td>
                    <td>{or_dash(e.ip.clone())}</td>
                    <td>{e.status.clone()}</td>
                    <td class="num">{millis(e.connect_ms)}</td>
                    <td class="num">{millis(e.tls_ms)}</td>
                    <td class="untrusted">{or_dash(e.error.clone())}</td>
                    <td class="small">{e.provenance.join(", ")}</td>
                </tr>
            }
        })
        .collect_view();
    let probes = s
        .probes
        .iter()
        .map(|p| view! {
            <article class="card probe">
                <h3>{p.name.clone()} " " <span class="muted small">{p.status.clone()}</span></h3>
                <dl>{p.facts.iter().map(|(k, v)| view! { <dt>{k.clone()}</dt><dd class="untrusted">{v.clone()}</dd> }).collect_view()}</dl>
            </article>
        })
        .collect_view();
    let history = (s.history.len() > 1).then(|| {
        let rows = s
            .history
            .iter()
            .map(|h| view! {
                <tr>
                    <td>{timestamp(&h.at)}</td>
                    <td><code>{h.run_id.clone()}</code> {format!(" round {}", h.round)}</td>
                    <td>{yes_no(h.reachable)}</td>
                    <td class="num">{or_dash(h.height)}</td>
                    <td class="num">{millis(h.rtt_ms)}</td>
                </tr>
            })
            .collect_view();
        view! {
            <h2 id="history">"History"</h2>
            <div class="scroll-x"><table class="data" id="history-table">
                <thead><tr><th scope="col">"When"</th><th scope="col">"Run"</th><th scope="col">"Reachable"</th><th scope="col" class="num">"Height"</th><th scope="col" class="num">"RTT"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table></div>
        }
    });
    let cl = s.clusters.clone();
    let cluster_line = format!(
        "KMeans type {} · DBSCAN group {} · operator group {}",
        or_dash(cl.kmeans),
        cl.dbscan
            .map_or_else(|| "none (noise)".into(), |d| d.to_string()),
        or_dash(cl.operator)
    );
    view! {
        <p class="crumbs"><a href="#/ranking">"← HSS ranking"</a></p>
        <h1 class="server-title">
            <span class="untrusted" id="server-host">{s.host.clone()}</span>
        </h1>
        <div class="score-line">
            <LevelBadge level=s.hss.level />
            <span class="score-big">{fixed(s.hss.score, 1)}</span>
            <span class="muted">" / 100 Honeypot Suspicion Score"</span>
        </div>

        <h2>"Banner"</h2>
        <pre class="banner untrusted" id="server-banner">{s.banner.clone().unwrap_or_else(|| "(no banner)".into())}</pre>
        <p class="muted small">"Shown exactly as the server sent it; text from servers is never interpreted."</p>

        <h2>"Fired indicators"</h2>
        {if s.hss.fired.is_empty() {
            view! { <p class="muted">"No indicator fired."</p> }.into_any()
        } else {
            view! {
                <div class="scroll-x"><table class="data">
                    <thead><tr><th scope="col">"Indicator"</th><th scope="col" class="num">"Points"</th><th scope="col">"Evidence"</th></tr></thead>
                    <tbody>{fired}</tbody>
                </table></div>
            }.into_any()
        }}

        <h2>"Attributes"</h2>
        <KvTable rows=overview_rows(&s) />

        <h2>"Implementation evidence"</h2>
        <ul>{s.implementation_evidence.iter().map(|e| view! { <li class="untrusted">{e.clone()}</li> }).collect_view()}</ul>

        <h2>"Endpoints"</h2>
        <div class="scroll-x"><table class="data">
            <thead><tr>
                <th scope="col">"Endpoint"</th><th scope="col">"Transport"</th><th scope="col">"IP"</th><th scope="col">"Status"</th>
                <th scope="col" class="num">"Connect"</th><th scope="col" class="num">"TLS"</th><th scope="col">"Error"</th><th scope="col">"Learned from"</th>
            </tr></thead>
            <tbody>{endpoints}</tbody>
        </table></div>

        <h2>"Certificate"</h2>
        {match &s.cert {
            Some(c) => view! { <KvTable rows=cert_rows(c) /> }.into_any(),
            None => view! { <p class="muted">"No TLS endpoint, or no certificate captured."</p> }.into_any(),
        }}

        <h2>"Probes"</h2>
        <div class="card-grid">{probes}</div>

        <h2>"Clusters"</h2>
        <p>{cluster_line} " " <a href="#/clusters">"Clusters page →"</a></p>
        {history}
        <p class="muted small">{format!("Server id: {}", s.id)} " · " <a href=Route::Ranking.href()>"Ranking"</a></p>
    }
    .into_any()
}
