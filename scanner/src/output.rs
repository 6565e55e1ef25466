//! Where records go: the [`Sink`] trait and the on-disk [`RunDir`].
//!
//! `DIR/raw/<run-id>/endpoints.jsonl` gets one [`EndpointRecord`] per line, appended and
//! flushed as each endpoint finishes, so a killed scan keeps everything it reported.
//! `manifest.json` is written at the start and rewritten at the end, atomically (write a
//! temporary file, then rename). [`RunDir::resume`] reopens a run: it reads the records
//! already there, cuts a truncated last line (what a kill mid-write leaves), and appends.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use observatory_model::raw::{EndpointRecord, RunManifest};
use thiserror::Error;

pub use observatory_model::raw::{ENDPOINTS_FILE, MANIFEST_FILE};

/// Receives a run's manifest and records as they are produced.
pub trait Sink: Send {
    /// Called once before any record, with the initial manifest.
    fn begin(&mut self, manifest: &RunManifest) -> io::Result<()>;
    /// Called once per finished endpoint and round, as soon as it finishes.
    fn record(&mut self, record: &EndpointRecord) -> io::Result<()>;
    /// Called once at the end with the final manifest.
    fn end(&mut self, manifest: &RunManifest) -> io::Result<()>;
    /// A hint: `n` more endpoints are now planned (crawl discoveries, later rounds).
    fn planned(&mut self, _n: u64) {}
}

/// Collects records in memory (tests, library users).
#[derive(Debug, Default)]
pub struct MemorySink {
    /// Records received, in order.
    pub records: Vec<EndpointRecord>,
    /// The last manifest received.
    pub manifest: Option<RunManifest>,
}

impl Sink for MemorySink {
    fn begin(&mut self, manifest: &RunManifest) -> io::Result<()> {
        self.manifest = Some(manifest.clone());
        Ok(())
    }
    fn record(&mut self, record: &EndpointRecord) -> io::Result<()> {
        self.records.push(record.clone());
        Ok(())
    }
    fn end(&mut self, manifest: &RunManifest) -> io::Result<()> {
        self.manifest = Some(manifest.clone());
        Ok(())
    }
}

/// A run directory could not be opened or read.
#[derive(Debug, Error)]
pub enum OutputError {
    /// File system error, with the path.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// The manifest is not readable JSON.
    #[error("{path}: bad manifest: {why}")]
    Manifest {
        /// The path.
        path: PathBuf,
        /// What is wrong.
        why: String,
    },
}

fn io_at(path: &Path) -> impl FnOnce(io::Error) -> OutputError + '_ {
    move |source| OutputError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// `DIR/raw/<run-id>/` on disk.
#[derive(Debug)]
pub struct RunDir {
    dir: PathBuf,
    records: File,
}

/// What a resumed run already holds.
#[derive(Debug)]
pub struct Resumed {
    /// The manifest found (its run id and arguments are reused).
    pub manifest: RunManifest,
    /// Records already complete on disk.
    pub records: Vec<EndpointRecord>,
    /// Lines that could not be parsed (a truncated last line is cut and counted here).
    pub bad_lines: u64,
}

impl RunDir {
    /// Creates `out/raw/<run_id>/` and an empty records file.
    pub fn create(out: &Path, run_id: &str) -> Result<Self, OutputError> {
        let dir = out.join("raw").join(run_id);
        fs::create_dir_all(&dir).map_err(io_at(&dir))?;
        let path = dir.join(ENDPOINTS_FILE);
        let records = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(io_at(&path))?;
        Ok(RunDir { dir, records })
    }

    /// Reopens an existing run directory for appending.
    pub fn resume(dir: &Path) -> Result<(Self, Resumed), OutputError> {
        let mpath = dir.join(MANIFEST_FILE);
        let text = fs::read_to_string(&mpath).map_err(io_at(&mpath))?;
        let manifest: RunManifest =
            serde_json::from_str(&text).map_err(|e| OutputError::Manifest {
                path: mpath.clone(),
                why: e.to_string(),
            })?;
        let path = dir.join(ENDPOINTS_FILE);
        let mut file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(&path)
            .map_err(io_at(&path))?;
        let (records, bad_lines, good_len) = read_records(&mut file).map_err(io_at(&path))?;
        // Cut whatever follows the last complete line, so new records start on a fresh line.
        file.set_len(good_len).map_err(io_at(&path))?;
        file.seek(SeekFrom::End(0)).map_err(io_at(&path))?;
        Ok((
            RunDir {
                dir: dir.to_path_buf(),
                records: file,
            },
            Resumed {
                manifest,
                records,
                bad_lines,
            },
        ))
    }

    /// The run directory.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    fn write_manifest(&self, manifest: &RunManifest) -> io::Result<()> {
        let tmp = self.dir.join(format!("{MANIFEST_FILE}.tmp"));
        let mut f = File::create(&tmp)?;
        serde_json::to_writer_pretty(&mut f, manifest)?;
        f.write_all(b"\n")?;
        f.sync_all()?;
        fs::rename(&tmp, self.dir.join(MANIFEST_FILE))
    }
}

/// Reads complete records; returns them, the number of unreadable lines, and the length of
/// the file up to the end of its last newline-terminated line.
pub fn read_records(file: &mut File) -> io::Result<(Vec<EndpointRecord>, u64, u64)> {
    file.seek(SeekFrom::Start(0))?;
    let mut reader = BufReader::new(&mut *file);
    let (mut records, mut bad, mut good_len) = (Vec::new(), 0u64, 0u64);
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = reader.read_until(b'\n', &mut line)?;
        if n == 0 {
            break;
        }
        if line.last() != Some(&b'\n') {
            bad += 1; // truncated tail: cut by the caller
            break;
        }
        good_len += n as u64;
        match serde_json::from_slice::<EndpointRecord>(&line) {
            Ok(r) => records.push(r),
            Err(_) => bad += 1,
        }
    }
    Ok((records, bad, good_len))
}

impl Sink for RunDir {
    fn begin(&mut self, manifest: &RunManifest) -> io::Result<()> {
        self.write_manifest(manifest)
    }

    fn record(&mut self, record: &EndpointRecord) -> io::Result<()> {
        let mut line = serde_json::to_vec(record)?;
        line.push(b'\n');
        // One write per record on an append-mode file: a kill leaves at most one partial line.
        self.records.write_all(&line)?;
        self.records.flush()
    }

    fn end(&mut self, manifest: &RunManifest) -> io::Result<()> {
        self.records.sync_all()?;
        self.write_manifest(manifest)
    }
}

/// Counts records by status name (for the manifest).
pub fn count_by_status<'a>(
    records: impl IntoIterator<Item = &'a EndpointRecord>,
) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    for r in records {
        *counts.entry(r.status.as_str().to_string()).or_insert(0) += 1;
    }
    counts
}

/// A new run id: `YYYYMMDDTHHMMSSZ-<6 hex>`.
pub fn new_run_id() -> String {
    let now = time::OffsetDateTime::now_utc();
    let fmt = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    let stamp = now
        .format(&fmt)
        .unwrap_or_else(|_| now.unix_timestamp().to_string());
    format!("{stamp}-{:06x}", rand::random::<u32>() & 0x00ff_ffff)
}

#[cfg(test)]
mod tests {
    use super::*;
    use observatory_model::raw::{Endpoint, Status, Transport, RAW_SCHEMA_VERSION};

    fn record(i: u16) -> EndpointRecord {
        let ep = Endpoint {
            host: "127.0.0.1".into(),
            port: 50000 + i,
            transport: Transport::Tcp,
        };
        let mut r = EndpointRecord::new("run", 0, "local", ep, 1);
        r.status = Status::ConnectionRefused;
        r
    }

    fn manifest() -> RunManifest {
        RunManifest {
            schema_version: RAW_SCHEMA_VERSION,
            run_id: "run".into(),
            software_version: "test".into(),
            args: vec![],
            vantage: "local".into(),
            started_ms: 1,
            finished_ms: None,
            rounds: 1,
            endpoints: 3,
            counts_by_status: BTreeMap::new(),
            complete: false,
        }
    }

    #[test]
    fn resume_cuts_a_truncated_last_line() {
        let tmp = tempfile::tempdir().unwrap();
        let mut run = RunDir::create(tmp.path(), "run").unwrap();
        run.begin(&manifest()).unwrap();
        run.record(&record(1)).unwrap();
        run.record(&record(2)).unwrap();
        let path = run.path().join(ENDPOINTS_FILE);
        let dir = run.path().to_path_buf();
        drop(run);
        // Simulate a kill in the middle of writing the third record.
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"{\"schema_version\":1,\"run_id\":\"ru")
            .unwrap();
        drop(f);
        let (mut run, resumed) = RunDir::resume(&dir).unwrap();
        assert_eq!(resumed.records.len(), 2);
        assert_eq!(resumed.bad_lines, 1);
        run.record(&record(3)).unwrap();
        drop(run);
        let text = fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 3);
        assert!(text
            .lines()
            .all(|l| serde_json::from_str::<EndpointRecord>(l).is_ok()));
        assert_eq!(
            count_by_status(&resumed.records).get("connection-refused"),
            Some(&2)
        );
    }

    #[test]
    fn run_ids_look_right() {
        let id = new_run_id();
        assert_eq!(id.len(), "20260101T000000Z-abcdef".len(), "{id}");
        assert!(id.contains('T') && id.contains("Z-"));
    }
}
