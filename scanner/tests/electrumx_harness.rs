//! The ElectrumX harness itself works: both versions start and answer `server.version`,
//! and the certificate is the X.509 v1 the HOWTO recipe makes.

mod support;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

use support::electrumx::{openssl_field, Config, ElectrumX, ExVersion};

fn version_over_tcp(port: u16) -> serde_json::Value {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"server.version\",\"params\":[\"electrum/4.5.8\",[\"1.4\",\"1.6\"]]}\n")
        .unwrap();
    let mut line = String::new();
    BufReader::new(s).read_line(&mut line).unwrap();
    serde_json::from_str(line.trim()).unwrap()
}

#[test]
fn both_electrumx_versions_start_and_answer() {
    for version in [ExVersion::V2_0_0, ExVersion::V1_16_0] {
        let Some(ex) = ElectrumX::start(Config {
            version,
            ..Config::default()
        }) else {
            return;
        };
        let reply = version_over_tcp(ex.tcp_port);
        assert_eq!(
            reply["result"][0],
            format!("ElectrumX {}", version.as_str()),
            "{reply}"
        );
        assert_eq!(
            ex.chain.genesis_hash,
            "0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206"
        );
        assert!(openssl_field(&ex.cert_path, "-text").contains("Version: 1 (0x0)"));
    }
}
