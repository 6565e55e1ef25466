//! `server.peers.subscribe` results: arbitrary JSON through the peers parser, then the crawl
//! leads a record holding them would produce.
#![no_main]

use libfuzzer_sys::fuzz_target;
use observatory_scanner::discovery::parse_peers;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else { return };
    if let Some((peers, raw)) = parse_peers(&value) {
        // The raw copy is bounded like the parsed list.
        assert!(raw.as_array().map_or(0, Vec::len) >= peers.len());
    }
});
