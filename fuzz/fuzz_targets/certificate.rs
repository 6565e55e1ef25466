//! Certificate field extraction and chain observation over arbitrary DER. The first byte
//! splits the input into a chain of up to four "certificates".
#![no_main]

use libfuzzer_sys::fuzz_target;
use observatory_scanner::tls::{certificate::describe, observe_chain};
use rustls_pki_types::CertificateDer;

fuzz_target!(|data: &[u8]| {
    let _ = describe(data, 0, 1_700_000_000);
    let Some((&split, rest)) = data.split_first() else { return };
    let size = usize::from(split).max(1) * 16;
    let chain: Vec<CertificateDer<'static>> =
        rest.chunks(size).take(4).map(|c| CertificateDer::from(c.to_vec())).collect();
    let _ = observe_chain(&chain, "electrum.example.org");
});
