//! The Electrum Observatory report site (Leptos, client-side rendering).
//!
//! The site fetches `data/snapshots/index.json`, checks the schema version,
//! fetches the newest [`Snapshot`](observatory_model::snapshot::Snapshot) and
//! renders every view from it; there is no server code.
//!
//! Pure modules (native and wasm32, unit-tested natively):
//! - [`shape`]: what each chart and table gets from a snapshot;
//! - [`topo`] + [`projection`]: the world map's outlines and projection;
//! - [`route`]: hash routing (`#/server/<id>`), so deep links work on any static host;
//! - [`markdown`]: the safe subset of markdown used for `docs/` pages;
//! - [`format`]: number formatting.
//!
//! wasm32 only: `api` (fetching), `app` (router and layout), `routes` (one
//! file per page), `components` (one file per component), `charts`
//! (plotters-canvas drawing). Every server-supplied string is rendered as a
//! text node; nothing from the data is ever inserted as HTML or made a link.
//!
//! ```
//! use observatory_site::route::Route;
//! assert_eq!(Route::parse("#/server/electrum.example"), Route::Server("electrum.example".into()));
//! ```

pub mod format;
pub mod markdown;
pub mod projection;
pub mod route;
pub mod shape;
pub mod topo;

#[cfg(not(target_arch = "wasm32"))]
pub mod fixture;

#[cfg(target_arch = "wasm32")]
pub mod api;
#[cfg(target_arch = "wasm32")]
pub mod app;
#[cfg(target_arch = "wasm32")]
pub mod charts;
#[cfg(target_arch = "wasm32")]
pub mod components;
#[cfg(target_arch = "wasm32")]
pub mod routes;
