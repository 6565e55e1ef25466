//! Line framing + JSON-RPC classification over arbitrary bytes, split at arbitrary points.
#![no_main]

use libfuzzer_sys::fuzz_target;
use observatory_protocol::frame::{LineBuffer, Limits};
use observatory_protocol::message::classify;

fuzz_target!(|data: &[u8]| {
    // First byte picks the read size so that lines are split across reads in many ways.
    let Some((&split, rest)) = data.split_first() else { return };
    let chunk = usize::from(split).max(1);
    let mut buf = LineBuffer::new(Limits { max_line: 4096, max_total: 1 << 20 });
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
});
