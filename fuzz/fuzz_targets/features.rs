//! `server.features` results: arbitrary JSON through the features parser and the
//! clearnet↔onion link extraction.
#![no_main]

use libfuzzer_sys::fuzz_target;
use observatory_model::raw::{Endpoint, Transport};
use observatory_scanner::discovery::{linked_hosts, parse_features};

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else { return };
    if let Some(features) = parse_features(&value) {
        let endpoint = Endpoint { host: "127.0.0.1".into(), port: 50002, transport: Transport::Tls };
        let _ = linked_hosts(&endpoint, &features);
    }
});
