//! The world map: countries (TopoJSON decoded in Rust), servers as points or
//! per-country bubbles coloured by HSS level, drawn with plotters-canvas.
//! Hover shows a tooltip; click (or the keyboard-reachable list below the map)
//! selects a marker and lists its servers with links to their pages.

use std::collections::HashMap;
use std::sync::Arc;

use leptos::prelude::*;
use observatory_model::snapshot::{Level, Snapshot};

use crate::api::load_countries;
use crate::charts::{map, pixel_ratio, rgb};
use crate::components::level_badge::LevelBadge;
use crate::format::fixed;
use crate::projection::Viewport;
use crate::route::Route;
use crate::shape::{country_bubbles, level_color, map_points, map_status};

/// Logical canvas size (CSS keeps the aspect ratio, so nothing shifts while loading).
const WIDTH: f64 = 1000.0;
const HEIGHT: f64 = 500.0;
/// Extra hit radius around a marker, CSS pixels, so small dots are easy to point at.
const HIT_SLOP: f64 = 4.0;
/// Servers listed in a tooltip before "and N more".
const TOOLTIP_SERVERS: usize = 5;

/// Markers as points (co-located servers merged) or one bubble per country.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapMode {
    /// One dot per location.
    Points,
    /// One count-sized bubble per country.
    Bubbles,
}

/// A marker before projection.
#[derive(Debug, Clone, PartialEq)]
struct Spot {
    lon: f64,
    lat: f64,
    level: Level,
    title: String,
    servers: Vec<String>,
    /// Marker radius in CSS pixels.
    radius: f64,
}

fn spots(snapshot: &Snapshot, mode: MapMode) -> Vec<Spot> {
    match mode {
        MapMode::Points => map_points(&snapshot.servers)
            .into_iter()
            .map(|p| Spot {
                radius: 4.0 + 1.5 * ((p.servers.len() as f64) - 1.0).sqrt(),
                lon: p.lon,
                lat: p.lat,
                level: p.level,
                title: p.place,
                servers: p.servers,
            })
            .collect(),
        MapMode::Bubbles => country_bubbles(&snapshot.servers)
            .into_iter()
            .map(|b| Spot {
                radius: 3.0 + 4.0 * (b.count as f64).sqrt(),
                lon: b.lon,
                lat: b.lat,
                level: b.level,
                title: b.country,
                servers: b.servers,
            })
            .collect(),
    }
}

/// The interactive map.
#[component]
pub fn WorldMap(snapshot: Arc<Snapshot>) -> impl IntoView {
    let countries = LocalResource::new(load_countries);
    let mode = RwSignal::new(MapMode::Points);
    let hovered: RwSignal<Option<(usize, f64, f64)>> = RwSignal::new(None);
    let selected: RwSignal<Option<usize>> = RwSignal::new(None);
    let canvas_ref = NodeRef::<leptos::html::Canvas>::new();
    let scale = pixel_ratio();
    let vp = Viewport::fit(WIDTH * scale, HEIGHT * scale, 8.0 * scale);

    let snap = snapshot.clone();
    let markers = Memo::new(move |_| spots(&snap, mode.get()));
    let by_id: Arc<HashMap<String, usize>> = Arc::new(
        snapshot
            .servers
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id.clone(), i))
            .collect(),
    );
    let (status, set_status) = signal(String::from("Loading the map…"));

    Effect::new(move |_| {
        let Some(canvas) = canvas_ref.get() else {
            return;
        };
        let spots = markers.get();
        let emphasized = (hovered.get().map(|h| h.0), selected.get());
        // A missing outline file still leaves the markers worth drawing; its
        // error stays in the status line next to the marker count.
        let (outlines, outlines_error) = match countries.get() {
            Some(Ok(c)) => (c, None),
            Some(Err(e)) => (Arc::new(Vec::new()), Some(e.to_string())),
            None => return,
        };
        let drawn: Vec<map::Marker> = spots
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let (x, y) = vp.project(s.lon, s.lat);
                map::Marker {
                    x,
                    y,
                    radius: s.radius * scale,
                    color: rgb(level_color(s.level)),
                    emphasized: emphasized.0 == Some(i) || emphasized.1 == Some(i),
                }
            })
            .collect();
        let located: usize = spots.iter().map(|s| s.servers.len()).sum();
        let result = map::draw(canvas, &outlines, &drawn, &vp, scale.round() as u32);
        set_status.set(map_status(
            outlines_error.as_deref(),
            result
                .as_ref()
                .map(|()| (spots.len(), located))
                .map_err(String::as_str),
        ));
    });

    // Nearest marker under the pointer, in CSS pixels of the displayed canvas.
    let hit = move |ev: &leptos::ev::MouseEvent| -> Option<(usize, f64, f64)> {
        let canvas = canvas_ref.get_untracked()?;
        let css_w = f64::from(canvas.client_width()).max(1.0);
        let k = f64::from(canvas.width()) / css_w;
        let (mx, my) = (f64::from(ev.offset_x()), f64::from(ev.offset_y()));
        markers.with_untracked(|spots| {
            spots
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    let (x, y) = vp.project(s.lon, s.lat);
                    let d = ((x / k - mx).powi(2) + (y / k - my).powi(2)).sqrt();
                    (i, d, s.radius * scale / k + HIT_SLOP)
                })
                .filter(|(_, d, r)| d <= r)
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .map(|(i, _, _)| (i, mx, my))
        })
    };

    let snap_tip = snapshot.clone();
    let tooltip = move || {
        let (i, x, y) = hovered.get()?;
        let spot = markers.with(|m| m.get(i).cloned())?;
        let hosts: Vec<String> = spot
            .servers
            .iter()
            .take(TOOLTIP_SERVERS)
            .filter_map(|id| {
                snap_tip
                    .servers
                    .iter()
                    .find(|s| &s.id == id)
                    .map(|s| s.host.clone())
            })
            .collect();
        let more = spot.servers.len().saturating_sub(TOOLTIP_SERVERS);
        let style = format!("left: {x:.0}px; top: {y:.0}px");
        Some(view! {
            <div class="map-tooltip" style=style role="tooltip">
                <strong>{spot.title}</strong>
                <div>{format!("{} server(s), highest level {}", spot.servers.len(), spot.level.as_str())}</div>
                <ul>{hosts.into_iter().map(|h| view! { <li>{h}</li> }).collect_view()}</ul>
                {(more > 0).then(|| view! { <div class="muted">{format!("and {more} more — click to list")}</div> })}
            </div>
        })
    };

    let snap_sel = snapshot.clone();
    let by_id_sel = by_id.clone();
    let selection = move || {
        let i = selected.get()?;
        let spot = markers.with(|m| m.get(i).cloned())?;
        let rows = spot
            .servers
            .iter()
            .filter_map(|id| by_id_sel.get(id).and_then(|&k| snap_sel.servers.get(k)))
            .map(|s| {
                view! {
                    <li>
                        <LevelBadge level=s.hss.level />
                        " " <a href=Route::Server(s.id.clone()).href()>{s.host.clone()}</a>
                        <span class="muted">{format!(" score {}", fixed(s.hss.score, 1))}</span>
                    </li>
                }
            })
            .collect_view();
        Some(view! {
            <section class="map-selection" aria-live="polite">
                <h2>{spot.title} <span class="muted">{format!(" — {} server(s)", spot.servers.len())}</span></h2>
                <ul class="server-list">{rows}</ul>
                <button type="button" on:click=move |_| selected.set(None)>"Clear selection"</button>
            </section>
        })
    };

    let mode_button = move |m: MapMode, label: &'static str| {
        view! {
            <button
                type="button"
                aria-pressed=move || if mode.get() == m { "true" } else { "false" }
                on:click=move |_| {
                    mode.set(m);
                    hovered.set(None);
                    selected.set(None);
                }
            >{label}</button>
        }
    };

    let snap_list = snapshot.clone();
    view! {
        <div class="map-controls" role="group" aria-label="Marker style">
            {mode_button(MapMode::Points, "Servers")}
            {mode_button(MapMode::Bubbles, "Per-country bubbles")}
            <span class="legend">
                {[Level::High, Level::Medium, Level::Low]
                    .into_iter()
                    .map(|l| view! { <span class="legend-item"><span class="dot" style=format!("background:{}", level_color(l))></span>{l.as_str()}</span> })
                    .collect_view()}
            </span>
        </div>
        <div class="map-frame">
            <canvas
                id="world-map"
                node_ref=canvas_ref
                width=(WIDTH * scale).round().to_string()
                height=(HEIGHT * scale).round().to_string()
                role="img"
                aria-label="World map of Electrum servers coloured by HSS level; the list below gives the same data"
                on:mousemove=move |ev| hovered.set(hit(&ev))
                on:mouseleave=move |_| hovered.set(None)
                on:click=move |ev| selected.set(hit(&ev).map(|h| h.0))
            ></canvas>
            {tooltip}
        </div>
        <p class="muted small" id="map-status">{status}</p>
        {selection}
        <details class="map-list">
            <summary>"Markers as a list"</summary>
            <ul>
                {move || {
                    markers
                        .get()
                        .into_iter()
                        .enumerate()
                        .map(|(i, s)| {
                            // Where the marker is drawn, in canvas pixels: the same
                            // facts the canvas shows, for tools that cannot see it.
                            let (x, y) = vp.project(s.lon, s.lat);
                            view! {
                            <li
                                class="map-marker"
                                data-x=format!("{x:.1}")
                                data-y=format!("{y:.1}")
                                data-r=format!("{:.1}", s.radius * scale)
                                data-level=s.level.as_str()
                                data-servers=s.servers.len().to_string()
                            >
                                <button type="button" class="linkish" on:click=move |_| selected.set(Some(i))>
                                    {s.title}
                                </button>
                                {format!(" — {} server(s), highest level {}", s.servers.len(), s.level.as_str())}
                            </li>
                            }
                        })
                        .collect_view()
                }}
            </ul>
        </details>
        <p class="muted small">{format!("{} of {} servers have a location (onion services have none).",
            snap_list.servers.iter().filter(|s| s.location.as_ref().is_some_and(|l| l.lat.is_some())).count(),
            snap_list.servers.len())}</p>
    }
}
