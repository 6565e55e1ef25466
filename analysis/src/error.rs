//! The analysis crate's error type.
//!
//! Corrupt input lines and unreadable optional databases are *not* errors:
//! they become warnings in the [`crate::Summary`]. Errors are reserved for
//! what makes the run impossible (no data directory, a failed write).

use std::path::PathBuf;

/// Result alias for the crate.
pub type Result<T> = std::result::Result<T, Error>;

/// What can stop an analysis run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An I/O operation on a path failed.
    #[error("{op} {path}: {source}")]
    Io {
        /// What we were doing (`read`, `write`, `rename`, …).
        op: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// JSON serialization of our own output failed.
    #[error("serialize {what}: {source}")]
    Json {
        /// What was being serialized.
        what: &'static str,
        /// The underlying error.
        source: serde_json::Error,
    },
    /// A GeoIP / ASN database given explicitly could not be opened.
    #[error("open database {path}: {reason}")]
    Database {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The raw data directory holds no run at all.
    #[error("no raw scan runs under {0} (expected DIR/raw/<run-id>/endpoints.jsonl)")]
    NoRuns(PathBuf),
    /// Fetching a database from the npm registry failed.
    #[error("fetch {what}: {reason}")]
    Fetch {
        /// Package or URL.
        what: String,
        /// Why.
        reason: String,
    },
}

impl Error {
    /// Wraps an I/O error with its operation and path.
    pub fn io(op: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            op,
            path: path.into(),
            source,
        }
    }
}
