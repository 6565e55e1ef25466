//! Support for tests that run `observatory scan` as a child process: start it, measure its
//! peak resident memory (its own VmHWM at exit, and `/proc` polling), kill it, and read its run directory.
//! The fake servers and the real-ElectrumX harness are the scanner tests' own (included by path).

#![allow(dead_code)]

#[path = "../../../scanner/tests/support/fake_servers.rs"]
pub mod fake_servers;

#[path = "../../../scanner/tests/support/electrumx.rs"]
pub mod electrumx;

#[path = "../../../scanner/tests/support/tools.rs"]
pub mod tools;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use observatory_model::raw::{EndpointRecord, RunManifest};

/// How a finished child went.
#[derive(Debug)]
pub struct Finished {
    /// Exit code (None when killed by a signal).
    pub code: Option<i32>,
    /// Peak resident set size of the child, bytes: the larger of what it logged at exit
    /// (`peak_rss_kib`, read from its own `/proc/self/status` VmHWM after the scan) and
    /// what polling its `/proc/<pid>/status` saw while it ran.
    pub peak_rss: u64,
    /// Wall time from spawn to exit.
    pub elapsed: Duration,
}

/// `observatory scan ARGS` with logs to a file in `out` (stderr would fill a pipe nobody reads).
pub fn spawn_scan(out: &Path, args: &[String]) -> Child {
    let log = std::fs::File::create(out.join("scan.log")).expect("log file");
    Command::new(env!("CARGO_BIN_EXE_observatory"))
        .arg("--log")
        .arg("info")
        .arg("scan")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("spawn observatory scan")
}

/// VmHWM of a live process, bytes.
fn vm_hwm(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// The `peak_rss_kib=N` the scan logs when it ends, bytes.
fn logged_peak(out: &Path) -> Option<u64> {
    let text = std::fs::read_to_string(out.join("scan.log")).ok()?;
    let at = text.rfind("peak_rss_kib=")?;
    let digits: String = text[at + "peak_rss_kib=".len()..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse::<u64>().ok().map(|k| k * 1024)
}

/// Waits for `child` (at most `limit`, then kills it and panics), sampling its peak RSS.
pub fn wait_measured(mut child: Child, out: &Path, limit: Duration) -> Finished {
    let started = Instant::now();
    let mut polled = 0;
    loop {
        if let Some(hwm) = vm_hwm(child.id()) {
            polled = polled.max(hwm);
        }
        if let Some(status) = child.try_wait().expect("wait") {
            let peak_rss = polled.max(logged_peak(out).unwrap_or(0));
            return Finished {
                code: status.code(),
                peak_rss,
                elapsed: started.elapsed(),
            };
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "observatory scan did not finish within {limit:?}:\n{}",
                log(out)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Runs `observatory scan ARGS` to its end (at most `limit`) off the async workers, so the
/// fake servers of the calling test keep serving meanwhile.
pub async fn scan_to_end(out: &Path, args: Vec<String>, limit: Duration) -> Finished {
    let out = out.to_path_buf();
    tokio::task::spawn_blocking(move || wait_measured(spawn_scan(&out, &args), &out, limit))
        .await
        .expect("scan thread")
}

/// The single run directory under `out/raw/`.
pub fn run_dir(out: &Path) -> PathBuf {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(out.join("raw"))
        .expect("raw dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    dirs.remove(0)
}

/// Complete lines of `endpoints.jsonl` (each must parse) and the byte length they span; a
/// trailing partial line (what a kill mid-write leaves) is ignored.
pub fn read_records(run: &Path) -> (Vec<EndpointRecord>, Vec<u8>) {
    let bytes = std::fs::read(run.join("endpoints.jsonl")).unwrap_or_default();
    let complete = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    let records = bytes[..complete]
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| serde_json::from_slice(l).unwrap_or_else(|e| panic!("corrupt record line: {e}")))
        .collect();
    (records, bytes[..complete].to_vec())
}

/// The run's manifest.
pub fn manifest(run: &Path) -> RunManifest {
    serde_json::from_slice(&std::fs::read(run.join("manifest.json")).expect("manifest"))
        .expect("manifest json")
}

/// The child's log, for failure messages.
pub fn log(out: &Path) -> String {
    let text = std::fs::read_to_string(out.join("scan.log")).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}
