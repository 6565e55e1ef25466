//! The fuzz corpora in every test run: each file of each seed corpus (`fuzz/corpus/<target>/`),
//! each committed crash regression (`fuzz/regressions/<target>/`) and each local crash
//! artifact `cargo fuzz` left (`fuzz/artifacts/<target>/`, git-ignored) goes through the very
//! function its fuzz target calls ([`harness::TARGETS`], the fuzz crate's library, included
//! here by path), and none may panic.

#[path = "../../fuzz/src/lib.rs"]
mod harness;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

/// Regular files directly in `dir` (none when it does not exist), sorted.
fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    out.sort();
    out
}

/// A new fuzz target must come with a body in the harness (and so with a replay here).
#[test]
fn every_fuzz_target_has_a_replayed_body() {
    let binaries: BTreeSet<String> = files(&fuzz_dir().join("fuzz_targets"))
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .collect();
    let bodies: BTreeSet<String> = harness::TARGETS
        .iter()
        .map(|(name, _)| name.to_string())
        .collect();
    assert_eq!(binaries, bodies);
    let manifest = std::fs::read_to_string(fuzz_dir().join("Cargo.toml")).expect("fuzz/Cargo.toml");
    for name in &bodies {
        assert!(
            manifest.contains(&format!("path = \"fuzz_targets/{name}.rs\"")),
            "{name} is not a [[bin]] of fuzz/Cargo.toml"
        );
    }
}

#[test]
fn seed_corpora_and_crash_regressions_replay_without_panic() {
    let root = fuzz_dir();
    let mut panicked = Vec::new();
    let mut replayed = 0;
    for (name, body) in harness::TARGETS {
        let seeds = files(&root.join("corpus").join(name));
        assert!(!seeds.is_empty(), "{name}: empty seed corpus");
        let regressions = files(&root.join("regressions").join(name));
        let artifacts = files(&root.join("artifacts").join(name));
        for file in seeds.iter().chain(&regressions).chain(&artifacts) {
            let data = std::fs::read(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            if std::panic::catch_unwind(|| body(&data)).is_err() {
                panicked.push(file.display().to_string());
            }
            replayed += 1;
        }
    }
    eprintln!("replayed {replayed} corpus and regression files");
    assert!(panicked.is_empty(), "fuzz bodies panicked on: {panicked:?}");
}
