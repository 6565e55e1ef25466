//! `observatory scan --exclude FILE`: the operator's opt-out entries join the embedded list;
//! a listed server is recorded as refused and never dialled, and a malformed list stops the
//! scan before anything is created or sent.

mod support;

use std::time::Duration;

use observatory_model::raw::Status;
use support::fake_servers::{spawn_fake, Behavior};

const CHILD_LIMIT: Duration = Duration::from_secs(60);

async fn scan(out: &std::path::Path, args: Vec<String>) -> support::Finished {
    support::scan_to_end(out, args, CHILD_LIMIT).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn excluded_servers_are_refused_and_never_dialled() {
    let listed = spawn_fake("127.0.11.1", Behavior::good(), None).await;
    let kept = spawn_fake("127.0.11.2", Behavior::good(), None).await;
    let out = tempfile::tempdir().expect("tempdir");
    let list = out.path().join("opt-out.txt");
    std::fs::write(&list, "# asked not to be scanned\n127.0.11.0/31\n").unwrap();
    let args: Vec<String> = [
        "--target",
        &listed.target(false),
        "--target",
        &kept.target(false),
        "--allow-loopback",
        "--no-probes",
        "--exclude",
        &list.display().to_string(),
        "--out",
        &out.path().display().to_string(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let done = scan(out.path(), args).await;
    assert_eq!(done.code, Some(0), "{}", support::log(out.path()));
    let (records, _) = support::read_records(&support::run_dir(out.path()));
    let status_of = |key: &str| {
        records
            .iter()
            .find(|r| r.endpoint.key() == key)
            .map(|r| (r.status, r.error.clone()))
    };
    let (status, error) = status_of(&listed.target(false)).expect("listed endpoint recorded");
    assert_eq!(status, Status::RefusedByPolicy);
    let error = error.unwrap_or_default();
    assert!(
        error.contains("opt-out list") && error.contains("127.0.11.0/31"),
        "{error}"
    );
    assert_eq!(listed.accepted(), 0, "the listed server was dialled");
    assert_eq!(
        status_of(&kept.target(false)).map(|s| s.0),
        Some(Status::Success)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_list_stops_the_scan_before_it_starts() {
    let out = tempfile::tempdir().expect("tempdir");
    let list = out.path().join("bad.txt");
    std::fs::write(&list, "ok.example\n10.0.0.0/40\n").unwrap();
    let args: Vec<String> = [
        "--target",
        "127.0.11.3:50001:t",
        "--allow-loopback",
        "--exclude",
        &list.display().to_string(),
        "--out",
        &out.path().display().to_string(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let done = scan(out.path(), args).await;
    let log = support::log(out.path());
    assert_eq!(done.code, Some(1), "{log}");
    assert!(log.contains("bad.txt:2: bad prefix length"), "{log}");
    assert!(
        !out.path().join("raw").exists(),
        "a run directory was created"
    );
}
