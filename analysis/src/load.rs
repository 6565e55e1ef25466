//! Reading `DIR/raw/<run-id>/{manifest.json,endpoints.jsonl}`.
//!
//! Loading is forgiving by design: a scan that was killed leaves a truncated
//! last line and possibly no manifest; a disk error can corrupt a line. Each
//! bad line or file becomes a [`LoadWarning`] (counted in the report) and is
//! skipped; nothing is fatal and nothing is dropped silently.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use observatory_model::raw::{EndpointRecord, RunManifest, RAW_SCHEMA_VERSION};

use crate::error::{Error, Result};

/// A line longer than this is treated as corrupt: the scanner caps every server
/// string, so a real record is far smaller, and we must not buffer unbounded input.
pub const MAX_LINE_BYTES: usize = 32 * 1024 * 1024;

pub use observatory_model::raw::{ENDPOINTS_FILE, MANIFEST_FILE};

/// One problem found while loading.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LoadWarning {
    /// File concerned.
    pub file: String,
    /// 1-based line number, when it is about a line.
    pub line: Option<u64>,
    /// What was wrong.
    pub problem: String,
}

/// One run as read from disk.
#[derive(Debug, Clone, Default)]
pub struct RunData {
    /// Directory name (the run id).
    pub run_id: String,
    /// The manifest, when present and readable.
    pub manifest: Option<RunManifest>,
    /// Records that parsed.
    pub records: Vec<EndpointRecord>,
}

/// Everything loaded from `DIR/raw`.
#[derive(Debug, Clone, Default)]
pub struct LoadedData {
    /// Runs, ordered by start time (manifest start, else earliest record), then id.
    pub runs: Vec<RunData>,
    /// Problems met.
    pub warnings: Vec<LoadWarning>,
    /// Lines skipped because they did not parse (subset of warnings).
    pub corrupt_lines: u64,
    /// Files skipped or partly unreadable (manifests, unreadable record files).
    pub corrupt_files: u64,
}

impl LoadedData {
    /// Every record of every run, in run order.
    pub fn records(&self) -> impl Iterator<Item = &EndpointRecord> {
        self.runs.iter().flat_map(|r| r.records.iter())
    }

    /// Builds loaded data from in-memory runs (tests, benchmarks).
    pub fn from_runs(mut runs: Vec<RunData>) -> Self {
        sort_runs(&mut runs);
        LoadedData {
            runs,
            ..Default::default()
        }
    }
}

/// Loads every run under `data_dir/raw`. Fails only when the directory cannot be listed
/// or holds no run at all.
pub fn load_dir(data_dir: &Path) -> Result<LoadedData> {
    let raw = data_dir.join("raw");
    let entries = std::fs::read_dir(&raw).map_err(|e| Error::io("list", &raw, e))?;
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    let mut out = LoadedData::default();
    for dir in dirs {
        let run_id = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let endpoints = dir.join(ENDPOINTS_FILE);
        if !endpoints.exists() {
            out.warnings.push(LoadWarning {
                file: display(&dir),
                line: None,
                problem: format!("no {ENDPOINTS_FILE}; run skipped"),
            });
            out.corrupt_files += 1;
            continue;
        }
        let mut run = RunData {
            run_id,
            ..Default::default()
        };
        run.manifest = read_manifest(&dir.join(MANIFEST_FILE), &mut out);
        read_records(&endpoints, &mut run.records, &mut out);
        out.runs.push(run);
    }
    if out.runs.is_empty() {
        return Err(Error::NoRuns(raw));
    }
    sort_runs(&mut out.runs);
    Ok(out)
}

fn sort_runs(runs: &mut [RunData]) {
    runs.sort_by(|a, b| {
        run_start(a)
            .cmp(&run_start(b))
            .then_with(|| a.run_id.cmp(&b.run_id))
    });
}

/// When a run started: its manifest, else its earliest record.
pub fn run_start(run: &RunData) -> u64 {
    run.manifest
        .as_ref()
        .map(|m| m.started_ms)
        .or_else(|| run.records.iter().map(|r| r.started_ms).min())
        .unwrap_or(0)
}

fn display(p: &Path) -> String {
    p.display().to_string()
}

fn read_manifest(path: &Path, out: &mut LoadedData) -> Option<RunManifest> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            out.warnings.push(LoadWarning {
                file: display(path),
                line: None,
                problem: format!("manifest unreadable: {e}"),
            });
            out.corrupt_files += 1;
            return None;
        }
    };
    match serde_json::from_slice::<RunManifest>(&bytes) {
        Ok(m) => {
            if m.schema_version != RAW_SCHEMA_VERSION {
                out.warnings.push(LoadWarning {
                    file: display(path),
                    line: None,
                    problem: format!(
                        "manifest schema_version {} (expected {RAW_SCHEMA_VERSION}); used as is",
                        m.schema_version
                    ),
                });
            }
            Some(m)
        }
        Err(e) => {
            out.warnings.push(LoadWarning {
                file: display(path),
                line: None,
                problem: format!("manifest does not parse: {e}"),
            });
            out.corrupt_files += 1;
            None
        }
    }
}

fn read_records(path: &Path, records: &mut Vec<EndpointRecord>, out: &mut LoadedData) {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) => {
            out.warnings.push(LoadWarning {
                file: display(path),
                line: None,
                problem: format!("unreadable: {e}"),
            });
            out.corrupt_files += 1;
            return;
        }
    };
    let mut reader = BufReader::new(file);
    let mut buf = Vec::new();
    let mut line_no = 0u64;
    loop {
        buf.clear();
        let n = match read_bounded_line(&mut reader, &mut buf) {
            Ok(n) => n,
            Err(e) => {
                out.warnings.push(LoadWarning {
                    file: display(path),
                    line: Some(line_no + 1),
                    problem: format!("read error: {e}; rest of file skipped"),
                });
                out.corrupt_files += 1;
                return;
            }
        };
        if n == LineRead::Eof {
            return;
        }
        line_no += 1;
        let mut bad = |problem: String| {
            out.warnings.push(LoadWarning {
                file: display(path),
                line: Some(line_no),
                problem,
            });
            out.corrupt_lines += 1;
        };
        if n == LineRead::TooLong {
            bad(format!("line longer than {MAX_LINE_BYTES} bytes; skipped"));
            continue;
        }
        let text = trim_ascii(&buf);
        if text.is_empty() {
            continue;
        }
        match serde_json::from_slice::<EndpointRecord>(text) {
            Ok(r) if r.schema_version != RAW_SCHEMA_VERSION => bad(format!(
                "record schema_version {} (expected {RAW_SCHEMA_VERSION}); skipped",
                r.schema_version
            )),
            Ok(r) => records.push(r),
            Err(e) => bad(format!("does not parse ({e}); skipped")),
        }
    }
}

#[derive(Debug, PartialEq)]
enum LineRead {
    Eof,
    Line,
    TooLong,
}

/// Reads one `\n`-terminated line into `buf`, keeping at most [`MAX_LINE_BYTES`];
/// the rest of an over-long line is consumed and discarded.
fn read_bounded_line(reader: &mut impl BufRead, buf: &mut Vec<u8>) -> std::io::Result<LineRead> {
    let mut any = false;
    let mut too_long = false;
    loop {
        let chunk = reader.fill_buf()?;
        if chunk.is_empty() {
            return Ok(if !any {
                LineRead::Eof
            } else if too_long {
                LineRead::TooLong
            } else {
                LineRead::Line
            });
        }
        any = true;
        let (take, done) = match chunk.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (chunk.len(), false),
        };
        if !too_long {
            let room = MAX_LINE_BYTES.saturating_sub(buf.len());
            if take > room {
                too_long = true;
                buf.clear();
            } else {
                buf.extend_from_slice(chunk.get(..take).unwrap_or_default());
            }
        }
        reader.consume(take);
        if done {
            return Ok(if too_long {
                LineRead::TooLong
            } else {
                LineRead::Line
            });
        }
    }
}

fn trim_ascii(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(start, |i| i + 1);
    b.get(start..end).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use observatory_model::raw::{Endpoint, Transport};

    fn rec(host: &str) -> EndpointRecord {
        EndpointRecord::new(
            "r1",
            0,
            "local",
            Endpoint {
                host: host.into(),
                port: 50001,
                transport: Transport::Tcp,
            },
            1_000,
        )
    }

    #[test]
    fn corrupt_and_truncated_lines_are_counted_not_fatal() {
        let dir = tempfile::tempdir().unwrap();
        let run = dir.path().join("raw/r1");
        std::fs::create_dir_all(&run).unwrap();
        let good = serde_json::to_string(&rec("a.example")).unwrap();
        let good2 = serde_json::to_string(&rec("b.example")).unwrap();
        let truncated = &good2[..good2.len() / 2];
        let body =
            format!("{good}\nnot json at all\n\n{{\"schema_version\":1}}\n{good2}\n{truncated}");
        std::fs::write(run.join(ENDPOINTS_FILE), body).unwrap();
        std::fs::write(run.join(MANIFEST_FILE), "{broken").unwrap();
        let data = load_dir(dir.path()).unwrap();
        assert_eq!(data.records().count(), 2);
        assert_eq!(data.corrupt_lines, 3, "{:?}", data.warnings);
        assert_eq!(data.corrupt_files, 1);
        assert_eq!(data.warnings.len(), 4);
        assert_eq!(
            data.warnings
                .iter()
                .filter_map(|w| w.line)
                .collect::<Vec<_>>(),
            vec![2, 4, 6]
        );
    }

    #[test]
    fn no_runs_is_an_error_and_missing_jsonl_a_warning() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("raw/empty")).unwrap();
        assert!(matches!(load_dir(dir.path()), Err(Error::NoRuns(_))));
        assert!(load_dir(&dir.path().join("nope")).is_err());
    }

    #[test]
    fn bounded_line_reader_discards_overlong_lines() {
        let mut input = vec![b'x'; MAX_LINE_BYTES + 10];
        input.extend_from_slice(b"\nok\n");
        let mut r = std::io::Cursor::new(input);
        let mut buf = Vec::new();
        assert_eq!(
            read_bounded_line(&mut r, &mut buf).unwrap(),
            LineRead::TooLong
        );
        buf.clear();
        assert_eq!(read_bounded_line(&mut r, &mut buf).unwrap(), LineRead::Line);
        assert_eq!(buf, b"ok\n");
        buf.clear();
        assert_eq!(read_bounded_line(&mut r, &mut buf).unwrap(), LineRead::Eof);
    }
}
