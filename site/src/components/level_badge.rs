//! The coloured HSS level pill.

use leptos::prelude::*;
use observatory_model::snapshot::Level;

/// `high` / `medium` / `low`, coloured by level (text carries the meaning too).
#[component]
pub fn LevelBadge(level: Level) -> impl IntoView {
    view! { <span class=format!("badge level-{}", level.as_str())>{level.as_str()}</span> }
}
