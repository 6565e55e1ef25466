//! Fuzz target `frame_message`: the body is [`observatory_fuzz::frame_message`] (documented there), which
//! `scanner/tests/fuzz_corpus.rs` also replays over the seed corpus and the regressions.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| observatory_fuzz::frame_message(data));
