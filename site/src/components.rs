//! Reusable components, one per file.

pub mod bar_chart;
pub mod doc_view;
pub mod error_panel;
pub mod footer;
pub mod heatmap;
pub mod kv_table;
pub mod level_badge;
pub mod loading;
pub mod nav;
pub mod pca_scatter;
pub mod simulated_banner;
pub mod stat;
pub mod world_map;
