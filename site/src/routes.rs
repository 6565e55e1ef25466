//! One module per page.

pub mod centralization;
pub mod clusters;
pub mod doc;
pub mod downloads;
pub mod map;
pub mod not_found;
pub mod overview;
pub mod privacy;
pub mod ranking;
pub mod server;
