//! Fetching: one generic [`fetch_json`] plus the loaders the pages use.
//!
//! Paths are relative to the document base (`<base data-trunk-public-url>`),
//! so the same build works at `/` and under `/electrum-observatory/`.

use std::sync::Arc;

use observatory_model::snapshot::{Snapshot, SnapshotIndex};
use serde::de::DeserializeOwned;

use crate::shape::check_schema;
use crate::topo::{decode_countries, Country};

/// Where the snapshot index lives, relative to the site root.
pub const INDEX_URL: &str = "data/snapshots/index.json";
/// Folder of the snapshot files.
pub const SNAPSHOT_DIR: &str = "data/snapshots/";
/// The world outlines shipped with the site.
pub const GEO_URL: &str = "data/geo/countries-110m.json";
/// Folder of the documentation pages.
pub const DOCS_DIR: &str = "data/docs/";

/// Why something could not be loaded; shown to the reader as text.
#[derive(Debug, Clone, thiserror::Error)]
pub enum LoadError {
    /// Network failure or blocked request.
    #[error("could not fetch {url}: {message}")]
    Network {
        /// What was fetched.
        url: String,
        /// Browser's message.
        message: String,
    },
    /// The server answered with an error status (404 = not published yet).
    #[error("{url} answered HTTP {status}")]
    Status {
        /// What was fetched.
        url: String,
        /// HTTP status.
        status: u16,
    },
    /// Not the JSON we expect.
    #[error("{url} is not a valid file of this kind: {message}")]
    Parse {
        /// What was fetched.
        url: String,
        /// Parser message.
        message: String,
    },
    /// A schema version this build does not render.
    #[error("{0}")]
    Schema(String),
    /// The index lists no snapshot.
    #[error("no snapshot has been published yet (the index is empty)")]
    Empty,
}

/// Fetches `url` as text.
pub async fn fetch_text(url: &str) -> Result<String, LoadError> {
    let response = gloo_net::http::Request::get(url)
        .send()
        .await
        .map_err(|e| LoadError::Network {
            url: url.to_owned(),
            message: e.to_string(),
        })?;
    if !response.ok() {
        return Err(LoadError::Status {
            url: url.to_owned(),
            status: response.status(),
        });
    }
    response.text().await.map_err(|e| LoadError::Network {
        url: url.to_owned(),
        message: e.to_string(),
    })
}

/// Fetches and deserializes one JSON document.
pub async fn fetch_json<T: DeserializeOwned>(url: &str) -> Result<T, LoadError> {
    let text = fetch_text(url).await?;
    serde_json::from_str(&text).map_err(|e| LoadError::Parse {
        url: url.to_owned(),
        message: e.to_string(),
    })
}

/// The newest snapshot listed in the index, after checking both schema versions.
pub async fn load_latest() -> Result<Arc<Snapshot>, LoadError> {
    let index: SnapshotIndex = fetch_json(INDEX_URL).await?;
    check_schema(index.schema_version).map_err(LoadError::Schema)?;
    let latest = index.snapshots.last().ok_or(LoadError::Empty)?;
    // The file name comes from our own index; still refuse anything that would leave the folder.
    if latest.file.contains('/') || latest.file.contains("..") {
        return Err(LoadError::Parse {
            url: INDEX_URL.into(),
            message: "bad snapshot file name".into(),
        });
    }
    let url = format!("{SNAPSHOT_DIR}{}", latest.file);
    // Check the version before the full parse so a newer format gets the clear message.
    let text = fetch_text(&url).await?;
    #[derive(serde::Deserialize)]
    struct Version {
        schema_version: u32,
    }
    let version: Version = serde_json::from_str(&text).map_err(|e| LoadError::Parse {
        url: url.clone(),
        message: e.to_string(),
    })?;
    check_schema(version.schema_version).map_err(LoadError::Schema)?;
    let snapshot: Snapshot = serde_json::from_str(&text).map_err(|e| LoadError::Parse {
        url,
        message: e.to_string(),
    })?;
    Ok(Arc::new(snapshot))
}

/// The world's country outlines.
pub async fn load_countries() -> Result<Arc<Vec<Country>>, LoadError> {
    let text = fetch_text(GEO_URL).await?;
    decode_countries(&text, "countries")
        .map(Arc::new)
        .map_err(|e| LoadError::Parse {
            url: GEO_URL.into(),
            message: e.to_string(),
        })
}
