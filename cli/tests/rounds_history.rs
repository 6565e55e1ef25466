//! `observatory scan --rounds 3 --interval 2s` yields per-endpoint uptime in history.json, its
//! rounds start at least the interval apart (and, the targets being the operator's own servers
//! allowed by `--allow-ip` alone, not the 5 minutes kept for public servers, even with probes
//! on), and a later scan with `--history DIR` merges the earlier run with its own.

mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;
use support::fake_servers::{spawn_fake, Behavior};

const CHILD_LIMIT: Duration = Duration::from_secs(90);
/// `--interval` of the probed multi-round scan.
const INTERVAL: Duration = Duration::from_secs(2);
/// Records carry whole milliseconds of wall time, and a round's first record starts a moment
/// after the round itself: the measured gap may fall short of the interval by this much.
const CLOCK_SLACK_MS: u64 = 5;

fn history(out: &std::path::Path) -> Value {
    serde_json::from_slice(&std::fs::read(out.join("history.json")).expect("history.json"))
        .expect("json")
}

async fn scan(out: &std::path::Path, args: Vec<String>) -> support::Finished {
    support::scan_to_end(out, args, CHILD_LIMIT).await
}

fn endpoint<'a>(h: &'a Value, key: &str) -> &'a Value {
    h["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["endpoint"] == key)
        .unwrap_or_else(|| panic!("{key}: {h}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rounds_give_uptime_and_history_merges_runs() {
    let up = spawn_fake("127.0.3.1", Behavior::good(), None).await;
    let down = spawn_fake("127.0.3.2", Behavior::Refuse, None).await;
    let first = tempfile::tempdir().expect("tempdir");
    let second = tempfile::tempdir().expect("tempdir");
    let base: Vec<String> = vec![
        "--target".into(),
        up.target(false),
        "--target".into(),
        down.target(false),
        "--allow-ip".into(),
        "127.0.3.1".into(),
        "--allow-ip".into(),
        "127.0.3.2".into(),
    ];

    // Probes on: the rounds are spaced as asked because --allow-ip names the operator's own
    // servers (a scan taken for a public one would wait 300 s between rounds and hit CHILD_LIMIT).
    let mut args = base.clone();
    args.extend(["--rounds", "3", "--interval", "2s", "--out"].map(String::from));
    args.push(first.path().display().to_string());
    let done = scan(first.path(), args).await;
    assert_eq!(done.code, Some(0), "{}", support::log(first.path()));
    let (records, _) = support::read_records(&support::run_dir(first.path()));
    assert_eq!(records.len(), 6);
    let good_record = records
        .iter()
        .find(|r| r.endpoint.key() == up.target(false))
        .expect("record");
    assert!(!good_record.probes.is_empty(), "probes ran");
    let mut round_starts: BTreeMap<u32, u64> = BTreeMap::new();
    for r in &records {
        let first = round_starts.entry(r.round).or_insert(r.started_ms);
        *first = (*first).min(r.started_ms);
    }
    let starts: Vec<u64> = round_starts.values().copied().collect();
    assert_eq!(starts.len(), 3, "{round_starts:?}");
    for pair in starts.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(
            gap + CLOCK_SLACK_MS >= INTERVAL.as_millis() as u64,
            "rounds {gap} ms apart, interval {INTERVAL:?}: {starts:?}"
        );
        assert!(
            gap < 60_000,
            "rounds {gap} ms apart: spaced as for public servers"
        );
    }
    let h = history(first.path());
    assert_eq!(h["rounds"], 3);
    let good = endpoint(&h, &up.target(false));
    assert_eq!(
        (good["observations"].as_u64(), good["uptime"].as_f64()),
        (Some(3), Some(1.0))
    );
    assert_eq!(good["rtt"]["n"], 3);
    assert_eq!(good["tip_lags"], serde_json::json!([0, 0, 0]));
    let bad = endpoint(&h, &down.target(false));
    assert_eq!(
        (bad["observations"].as_u64(), bad["uptime"].as_f64()),
        (Some(3), Some(0.0))
    );
    assert_eq!(bad["statuses"]["connection-refused"], 3);

    // A second scan elsewhere, merging the first run's directory.
    let mut args = base.clone();
    args.push("--no-probes".into());
    args.extend([
        "--history".to_string(),
        first.path().display().to_string(),
        "--out".to_string(),
    ]);
    args.push(second.path().display().to_string());
    let done = scan(second.path(), args).await;
    assert_eq!(done.code, Some(0), "{}", support::log(second.path()));
    let h = history(second.path());
    assert_eq!(h["runs"].as_array().map(Vec::len), Some(2));
    assert_eq!(h["rounds"], 4);
    assert_eq!(endpoint(&h, &up.target(false))["observations"], 4);
    assert_eq!(endpoint(&h, &down.target(false))["up"], 0);
}
