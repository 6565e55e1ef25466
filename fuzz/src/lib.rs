//! The fuzz targets' bodies, one function per target (named like its binary in
//! `fuzz_targets/` and its seed corpus in `corpus/`), listed in [`TARGETS`].
//!
//! The libFuzzer binaries call these functions, and `scanner/tests/fuzz_corpus.rs` includes
//! this file by path and replays every seed-corpus and regression file through them in
//! every test run, so the corpora are exercised by exactly the code that fuzzes. Each body
//! must not panic on any input; that is what the fuzzer and the replay check.
//!
//! Dependencies: the observatory crates, `serde_json` and `rustls-pki-types` only (the
//! scanner's own dependencies, so the scanner's tests can compile this file).

use observatory_model::raw::{Endpoint, Transport};
use observatory_protocol::frame::{Limits, LineBuffer};
use observatory_protocol::message::classify;
use observatory_scanner::discovery::{linked_hosts, parse_features, parse_peers};
use observatory_scanner::tls::{certificate::describe, observe_chain};
use rustls_pki_types::CertificateDer;

/// A target's body: any bytes in, no panic.
pub type Body = fn(&[u8]);

/// Every target: (name, body).
pub const TARGETS: &[(&str, Body)] = &[
    ("frame_message", frame_message),
    ("peers", peers),
    ("features", features),
    ("certificate", certificate),
];

/// Line framing + JSON-RPC classification over arbitrary bytes, split at arbitrary points.
pub fn frame_message(data: &[u8]) {
    // First byte picks the read size so that lines are split across reads in many ways.
    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(split).max(1);
    let mut buf = LineBuffer::new(Limits {
        max_line: 4096,
        max_total: 1 << 20,
    });
    for piece in rest.chunks(chunk) {
        if buf.extend(piece).is_err() {
            return;
        }
        loop {
            match buf.next_line() {
                Ok(Some(line)) => {
                    let _ = classify(&line.bytes);
                }
                Ok(None) => break,
                Err(_) => return,
            }
        }
    }
}

/// `server.peers.subscribe` results: arbitrary JSON through the peers parser.
pub fn peers(data: &[u8]) {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    if let Some((peers, raw)) = parse_peers(&value) {
        // The raw copy is bounded like the parsed list.
        assert!(raw.as_array().map_or(0, Vec::len) >= peers.len());
    }
}

/// `server.features` results: arbitrary JSON through the features parser and the
/// clearnet↔onion link extraction.
pub fn features(data: &[u8]) {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    if let Some(features) = parse_features(&value) {
        let endpoint = Endpoint {
            host: "127.0.0.1".into(),
            port: 50002,
            transport: Transport::Tls,
        };
        let _ = linked_hosts(&endpoint, &features);
    }
}

/// Certificate field extraction and chain observation over arbitrary DER. The first byte
/// splits the input into a chain of up to four "certificates".
pub fn certificate(data: &[u8]) {
    let _ = describe(data, 0, 1_700_000_000);
    let Some((&split, rest)) = data.split_first() else {
        return;
    };
    let size = usize::from(split).max(1) * 16;
    let chain: Vec<CertificateDer<'static>> = rest
        .chunks(size)
        .take(4)
        .map(|c| CertificateDer::from(c.to_vec()))
        .collect();
    let _ = observe_chain(&chain, "electrum.example.org");
}
