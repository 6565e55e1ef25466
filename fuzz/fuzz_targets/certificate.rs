//! Fuzz target `certificate`: the body is [`observatory_fuzz::certificate`] (documented there), which
//! `scanner/tests/fuzz_corpus.rs` also replays over the seed corpus and the regressions.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| observatory_fuzz::certificate(data));
