//! HSS ranking: sortable, filterable, searchable; every row links to its server page.

use std::collections::HashMap;
use std::sync::Arc;

use leptos::prelude::*;
use observatory_model::snapshot::{Level, Snapshot};

use crate::components::level_badge::LevelBadge;
use crate::format::{fixed, or_dash, thousands};
use crate::route::Route;
use crate::shape::{country_code, rank, RankQuery, SortKey};

/// Rows rendered before "show all" (keeps the first render fast on large snapshots).
const PAGE_ROWS: usize = 200;

/// Ranking page.
#[component]
pub fn RankingPage(snapshot: Arc<Snapshot>) -> impl IntoView {
    let query = RwSignal::new(RankQuery::default());
    let show_all = RwSignal::new(false);
    let snap = snapshot.clone();
    let index: Arc<HashMap<String, usize>> = Arc::new(
        snapshot
            .servers
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id.clone(), i))
            .collect(),
    );
    let rows = Memo::new(move |_| {
        query.with(|q| {
            rank(&snap.servers, q)
                .into_iter()
                .filter_map(|s| index.get(&s.id).copied())
                .collect::<Vec<_>>()
        })
    });

    let header = move |key: SortKey| {
        let sort_state = move || {
            query.with(|q| match (q.sort == key, q.descending) {
                (true, true) => "descending",
                (true, false) => "ascending",
                _ => "none",
            })
        };
        let arrow = move || match sort_state() {
            "descending" => " ▼",
            "ascending" => " ▲",
            _ => "",
        };
        view! {
            <th scope="col" aria-sort=sort_state class:num=matches!(key, SortKey::Score)>
                <button type="button" class="sort" on:click=move |_| query.update(|q| {
                    if q.sort == key {
                        q.descending = !q.descending;
                    } else {
                        q.sort = key;
                        q.descending = key.default_descending();
                    }
                })>{key.label()}{arrow}</button>
            </th>
        }
    };

    let snap_rows = snapshot.clone();
    let body = move || {
        let ids = rows.get();
        let limit = if show_all.get() {
            ids.len()
        } else {
            PAGE_ROWS.min(ids.len())
        };
        ids.iter()
            .take(limit)
            .enumerate()
            .filter_map(|(rank_no, &i)| snap_rows.servers.get(i).map(|s| (rank_no, s)))
            .map(|(rank_no, s)| {
                let href = Route::Server(s.id.clone()).href();
                view! {
                    <tr>
                        <td class="num muted">{rank_no + 1}</td>
                        <td><LevelBadge level=s.hss.level /></td>
                        <td class="num score">{fixed(s.hss.score, 1)}</td>
                        <td class="host"><a href=href>{s.host.clone()}</a>{(!s.reachable).then(|| view! { <span class="muted small">" (unreachable)"</span> })}</td>
                        <td>{s.asn.map(|a| format!("AS{a}")).unwrap_or_else(|| "–".into())} <span class="muted small">{s.as_org.clone()}</span></td>
                        <td>{or_dash(country_code(s))}</td>
                        <td>{s.implementation.clone()}</td>
                    </tr>
                }
            })
            .collect_view()
    };

    let level_option =
        |value: &'static str, label: &'static str| view! { <option value=value>{label}</option> };
    let total = snapshot.servers.len();
    view! {
        <h1>"Honeypot Suspicion Score ranking"</h1>
        <p class="lead">
            "Servers ranked by HSS (0–100): points from behavioural indicators that fit logging or surveillance "
            "better than honest service. A high score is a reason to look closer, not proof. "
            <a href="#/docs/honeypot-indicators">"How indicators are scored"</a>
        </p>
        <form class="filters" on:submit=|ev| ev.prevent_default() role="search">
            <label>"Search "
                <input type="search" id="ranking-search" placeholder="host, IP, ASN, country, software"
                    prop:value=move || query.with(|q| q.search.clone())
                    on:input=move |ev| query.update(|q| q.search = event_target_value(&ev)) />
            </label>
            <label>"Level "
                <select id="ranking-level" on:change=move |ev| {
                    let level = match event_target_value(&ev).as_str() {
                        "high" => Some(Level::High),
                        "medium" => Some(Level::Medium),
                        "low" => Some(Level::Low),
                        _ => None,
                    };
                    query.update(|q| q.level = level);
                }>
                    {level_option("", "all")}
                    {level_option("high", "high")}
                    {level_option("medium", "medium")}
                    {level_option("low", "low")}
                </select>
            </label>
            <label class="check">
                <input type="checkbox" on:change=move |ev| query.update(|q| q.reachable_only = event_target_checked(&ev)) />
                " reachable only"
            </label>
        </form>
        <p class="muted small" aria-live="polite">
            {move || format!("{} of {} servers", thousands(rows.with(|r| r.len() as u64)), thousands(total as u64))}
        </p>
        <div class="scroll-x">
            <table class="data ranking" id="ranking">
                <thead>
                    <tr>
                        <th scope="col" class="num">"#"</th>
                        <th scope="col">"Level"</th>
                        {header(SortKey::Score)}
                        {header(SortKey::Host)}
                        {header(SortKey::Asn)}
                        {header(SortKey::Country)}
                        {header(SortKey::Implementation)}
                    </tr>
                </thead>
                <tbody>{body}</tbody>
            </table>
        </div>
        {move || {
            let n = rows.with(|r| r.len());
            (!show_all.get() && n > PAGE_ROWS).then(|| view! {
                <button type="button" class="more" on:click=move |_| show_all.set(true)>
                    {format!("Show all {} rows", thousands(n as u64))}
                </button>
            })
        }}
    }
}
