//! `observatory scan --probe-level full` runs every malformed case on the operator's own servers
//! and is refused, before anything is created or sent, for any target set that may hold a
//! stranger's server. The refused targets are a documentation address (192.0.2.1, reserved:
//! the policy would refuse it anyway), a `.invalid` host name and a crawl; nothing public is named.

mod support;

use std::time::Duration;

use observatory_model::probes::ProbeDetail;
use observatory_model::raw::Status;
use observatory_scanner::probes::malformed::CASES;
use support::fake_servers::{spawn_fake, Behavior};

const CHILD_LIMIT: Duration = Duration::from_secs(60);

async fn scan(out: &std::path::Path, args: Vec<String>) -> support::Finished {
    support::scan_to_end(out, args, CHILD_LIMIT).await
}

fn args(extra: &[&str], out: &std::path::Path) -> Vec<String> {
    let mut a: Vec<String> = extra.iter().map(|s| (*s).to_string()).collect();
    a.extend([
        "--probe-level".to_string(),
        "full".to_string(),
        "--out".to_string(),
        out.display().to_string(),
    ]);
    a
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_level_is_refused_unless_every_target_is_the_operators_own() {
    let refused: [&[&str]; 4] = [
        // A reserved address no allowance admits.
        &["--target", "192.0.2.1:50001:t", "--allow-loopback"],
        // A host name could resolve to anyone's server.
        &["--target", "electrum.invalid:50001:t", "--allow-loopback"],
        // An allowed loopback target, but a crawl may lead anywhere.
        &[
            "--target",
            "127.0.10.1:50001:t",
            "--allow-loopback",
            "--crawl",
        ],
        // One allowed target does not vouch for another.
        &[
            "--target",
            "127.0.10.1:50001:t",
            "--target",
            "127.0.10.2:50001:t",
            "--allow-ip",
            "127.0.10.1",
        ],
    ];
    for extra in refused {
        let out = tempfile::tempdir().expect("tempdir");
        let done = scan(out.path(), args(extra, out.path())).await;
        let log = support::log(out.path());
        assert_eq!(done.code, Some(1), "{extra:?} was accepted: {log}");
        assert!(
            log.contains("--probe-level full is only for your own servers"),
            "{extra:?}: {log}"
        );
        assert!(
            !out.path().join("raw").exists(),
            "{extra:?}: a run directory was created"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_level_runs_every_case_on_an_allowed_loopback_server() {
    let fake = spawn_fake("127.0.10.3", Behavior::good(), None).await;
    let out = tempfile::tempdir().expect("tempdir");
    let target = fake.target(false);
    let done = scan(
        out.path(),
        args(
            &["--target", &target, "--allow-ip", "127.0.10.3"],
            out.path(),
        ),
    )
    .await;
    assert_eq!(done.code, Some(0), "{}", support::log(out.path()));
    let (records, _) = support::read_records(&support::run_dir(out.path()));
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].status, Status::Success);
    let cases = records[0].probes.iter().find_map(|p| match &p.detail {
        ProbeDetail::Malformed(m) => {
            Some(m.cases.iter().map(|c| c.case.clone()).collect::<Vec<_>>())
        }
        _ => None,
    });
    let every: Vec<String> = CASES.iter().map(|c| c.name.to_string()).collect();
    assert_eq!(cases, Some(every));
}
