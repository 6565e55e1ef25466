//! Crash safety: `kill -9` an `observatory scan` child mid-run, check that every record it
//! already wrote is intact, then `--resume` the run and check that only the rest is scanned.

mod support;

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use support::fake_servers::{spawn_fake, Behavior, Fake, Quirk};

/// Endpoints in the run.
const ENDPOINTS: usize = 12;
/// Records on disk before the kill.
const KILL_AFTER: usize = 4;
/// Each fake pauses this long before every reply, so the run lasts long enough to be killed
/// mid-way (about 1.5 s per endpoint, two at a time).
const REPLY_PAUSE: Duration = Duration::from_millis(150);
/// Longest either child may run.
const CHILD_LIMIT: Duration = Duration::from_secs(90);

fn args(out: &std::path::Path, fakes: &[Fake]) -> Vec<String> {
    let mut args: Vec<String> = [
        "--no-probes",
        "--concurrency",
        "2",
        "--endpoint-timeout",
        "30s",
        "--out",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.push(out.display().to_string());
    for f in fakes {
        args.extend([
            "--target".to_string(),
            f.target(false),
            "--allow-ip".to_string(),
            f.addr.ip().to_string(),
        ]);
    }
    args
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_keeps_written_records_and_resume_scans_only_the_rest() {
    let mut fakes = Vec::new();
    for i in 1..=ENDPOINTS {
        fakes.push(
            spawn_fake(
                &format!("127.0.2.{i}"),
                Behavior::quirky(Quirk::Slow(REPLY_PAUSE)),
                None,
            )
            .await,
        );
    }
    let out = tempfile::tempdir().expect("tempdir");
    let base = args(out.path(), &fakes);

    // Run, and kill -9 once KILL_AFTER records are on disk.
    let mut child = support::spawn_scan(out.path(), &base);
    let started = Instant::now();
    let run = loop {
        assert!(
            started.elapsed() < CHILD_LIMIT,
            "no progress:\n{}",
            support::log(out.path())
        );
        assert!(
            child.try_wait().expect("try_wait").is_none(),
            "the scan ended before it could be killed"
        );
        if out.path().join("raw").exists() {
            let run = support::run_dir(out.path());
            if support::read_records(&run).0.len() >= KILL_AFTER {
                break run;
            }
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    child.kill().expect("SIGKILL"); // std's kill is SIGKILL on Unix
    child.wait().expect("reap");

    // Every complete line parses (read_records panics otherwise); the manifest says incomplete.
    let (before, prefix) = support::read_records(&run);
    assert!(
        before.len() >= KILL_AFTER && before.len() < ENDPOINTS,
        "{} records",
        before.len()
    );
    assert!(!support::manifest(&run).complete);
    let done: HashSet<String> = before.iter().map(|r| r.endpoint.key()).collect();
    assert_eq!(done.len(), before.len(), "no endpoint twice");
    let accepts_at_kill: HashMap<String, usize> = fakes
        .iter()
        .map(|f| (f.target(false), f.accepted()))
        .collect();

    // Resume with nothing but the run directory: the recorded options are reused.
    let resume = vec!["--resume".to_string(), run.display().to_string()];
    let child = support::spawn_scan(out.path(), &resume);
    let finished = tokio::task::spawn_blocking({
        let out = out.path().to_path_buf();
        move || support::wait_measured(child, &out, CHILD_LIMIT)
    })
    .await
    .expect("wait");
    assert_eq!(
        finished.code,
        Some(0),
        "resume failed:\n{}",
        support::log(out.path())
    );

    let (after, bytes) = support::read_records(&run);
    assert!(
        bytes.starts_with(&prefix),
        "records written before the kill were changed"
    );
    assert_eq!(after.len(), ENDPOINTS);
    let keys: HashSet<String> = after.iter().map(|r| r.endpoint.key()).collect();
    assert_eq!(keys.len(), ENDPOINTS, "each endpoint exactly once");
    assert!(
        after
            .iter()
            .all(|r| r.status == observatory_model::raw::Status::Success),
        "{after:?}"
    );
    for f in &fakes {
        let key = f.target(false);
        let (then, now) = (accepts_at_kill[&key], f.accepted());
        if done.contains(&key) {
            assert_eq!(
                now, then,
                "{key} was recorded before the kill but scanned again"
            );
        } else {
            assert!(now > then, "{key} was not scanned by the resume");
        }
    }
    let manifest = support::manifest(&run);
    assert!(manifest.complete);
    assert_eq!(manifest.run_id, after[0].run_id);
    assert_eq!(
        manifest.counts_by_status.values().sum::<u64>(),
        ENDPOINTS as u64
    );
}
