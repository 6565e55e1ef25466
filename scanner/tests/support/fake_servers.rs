//! Tiny hostile and well-behaved Electrum-ish servers written for the tests, each on its own
//! 127.0.0.N address (so the scanner's one-connection-per-IP rule does not serialize them).
//!
//! Shared by `scanner/tests` (in-process scans) and `cli/tests` (the `observatory` binary as a
//! child process, included with `#[path]`), so it depends only on tokio, serde_json, rustls,
//! tokio-rustls and rcgen. Every server is bounded: it stops writing when the client leaves
//! or after a fixed amount ([`MAX_HOSTILE_BYTES`]), and dies with the test's runtime.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// Most bytes a hostile server writes to one connection (the scanner gives up far earlier).
pub const MAX_HOSTILE_BYTES: usize = 128 * 1024 * 1024;
/// Size of the "100 MB of valid JSON" reply.
pub const HUGE_JSON_BYTES: usize = 100 * 1024 * 1024;
/// Nesting depth of the deeply nested reply.
pub const NESTING_DEPTH: usize = 100_000;
/// Notifications sent before every reply by the flooding server.
pub const FLOOD_NOTIFICATIONS: usize = 5_000;
/// Entries in each gigantic `get_history` answer (about 100 bytes each).
pub const HUGE_HISTORY_ENTRIES: usize = 30_000;
/// DNS names in the 16 KB-SAN certificate (about 20 bytes each).
pub const SAN_NAMES: usize = 800;
/// Certificates in the huge chain.
pub const HUGE_CHAIN_CERTS: usize = 120;

/// A twist on the well-behaved server's answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quirk {
    /// Answers correctly.
    None,
    /// Every reply carries `id + 1000`.
    WrongIds,
    /// Every reply is sent twice.
    DuplicateIds,
    /// Every reply carries its id as a string (`"3"` for 3).
    StringIds,
    /// [`FLOOD_NOTIFICATIONS`] notifications before every reply.
    NotificationFlood,
    /// `blockchain.scripthash.get_history` answers hold [`HUGE_HISTORY_ENTRIES`] entries.
    HugeHistories,
    /// Answers every request after a pause (keeps an endpoint busy, for kill tests).
    Slow(Duration),
}

/// What a fake server does with a connection.
#[derive(Debug, Clone)]
pub enum Behavior {
    /// Nothing listens: connections are refused.
    Refuse,
    /// Accepts and never sends a byte.
    Silent,
    /// Reads the first request, sends half a reply line, closes.
    CloseMidLine,
    /// Reads the first request, then sends its reply one byte per second.
    Slowloris,
    /// Sends bytes without a newline, forever (up to [`MAX_HOSTILE_BYTES`]).
    EndlessLine,
    /// Answers `server.version` with 100 MB of valid JSON.
    HugeJson,
    /// Answers `server.version` with a result nested [`NESTING_DEPTH`] arrays deep.
    DeepNesting,
    /// Answers `server.version` with invalid UTF-8 inside the software string.
    InvalidUtf8,
    /// Answers like a minimal Electrum server; `peers` is its `server.peers.subscribe`
    /// answer and `hosts` its `server.features` hosts map.
    Good {
        /// `server.peers.subscribe` result.
        peers: Value,
        /// `server.features` `hosts`.
        hosts: Value,
        /// How it deviates.
        quirk: Quirk,
    },
}

impl Behavior {
    /// A good server with no peers.
    pub fn good() -> Self {
        Behavior::quirky(Quirk::None)
    }

    /// A good server with no peers and one quirk.
    pub fn quirky(quirk: Quirk) -> Self {
        Behavior::Good {
            peers: json!([]),
            hosts: json!({}),
            quirk,
        }
    }

    /// A good server advertising `peers` (`server.peers.subscribe`) and `hosts` (features).
    pub fn with_peers(peers: Value, hosts: Value) -> Self {
        Behavior::Good {
            peers,
            hosts,
            quirk: Quirk::None,
        }
    }
}

/// How the TLS side of a fake presents itself.
#[derive(Debug, Clone)]
pub enum TlsSetup {
    /// Completes a handshake with this chain (first = leaf, signed by `key`); the chain is
    /// sent verbatim, so it may be expired, malformed or huge.
    Chain {
        /// DER certificates, leaf first.
        chain: Vec<Vec<u8>>,
        /// PKCS#8 DER key of the leaf (or of the key the handshake is signed with).
        key: Vec<u8>,
    },
    /// Reads the ClientHello and closes the connection.
    CloseMidHandshake,
}

/// When a connection was accepted and when the server saw it end (None: still open).
pub type Lifetime = (Instant, Option<Instant>);

/// A running fake server.
#[derive(Debug, Clone)]
pub struct Fake {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Connections it accepted so far.
    pub accepts: Arc<AtomicUsize>,
    /// Source address of every accepted connection (proves a SOCKS5 proxy was in the path).
    pub sources: Arc<Mutex<Vec<SocketAddr>>>,
    /// Every accepted connection's lifetime, in accept order.
    pub lifetimes: Arc<Mutex<Vec<Lifetime>>>,
    /// Bytes written to clients as Electrum lines (the well-behaved server's replies, before TLS).
    pub written: Arc<AtomicUsize>,
}

impl Fake {
    /// Connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.accepts.load(Ordering::SeqCst)
    }

    /// Source addresses of the connections accepted so far.
    pub fn sources(&self) -> Vec<SocketAddr> {
        self.sources.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Every connection's lifetime so far.
    pub fn lifetimes(&self) -> Vec<Lifetime> {
        self.lifetimes.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Bytes of Electrum lines written to clients so far.
    pub fn written(&self) -> usize {
        self.written.load(Ordering::SeqCst)
    }

    /// The scanner target (`ip:port:t`, or `:s` for TLS fakes).
    pub fn target(&self, tls: bool) -> String {
        format!(
            "{}:{}:{}",
            self.addr.ip(),
            self.addr.port(),
            if tls { 's' } else { 't' }
        )
    }
}

/// The most connections open at once among `lifetimes` (of one server, or of several on one
/// host). A connection is open from its accept until the server saw its end; a client that
/// closes one connection and opens the next can be accepted a moment before the server task
/// reads the first one's end, so an overlap shorter than `slack` does not count.
pub fn max_concurrent(lifetimes: &[Lifetime], slack: Duration) -> usize {
    lifetimes
        .iter()
        .map(|(start, _)| {
            lifetimes
                .iter()
                .filter(|(s, e)| s == start || (s <= start && e.is_none_or(|e| e > *start + slack)))
                .count()
        })
        .max()
        .unwrap_or(0)
}

/// Starts a plain-TCP fake on `ip` (a 127.0.0.0/8 address) and returns its address.
pub async fn spawn(ip: &str, behavior: Behavior) -> SocketAddr {
    spawn_fake(ip, behavior, None).await.addr
}

/// Starts a fake on `ip`, behind TLS when `tls` is given.
pub async fn spawn_fake(ip: &str, behavior: Behavior, tls: Option<TlsSetup>) -> Fake {
    let listener = TcpListener::bind((ip, 0)).await.expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    let accepts = Arc::new(AtomicUsize::new(0));
    let sources = Arc::new(Mutex::new(Vec::new()));
    let lifetimes: Arc<Mutex<Vec<Lifetime>>> = Arc::new(Mutex::new(Vec::new()));
    let written = Arc::new(AtomicUsize::new(0));
    let fake = Fake {
        addr,
        accepts: accepts.clone(),
        sources: sources.clone(),
        lifetimes: lifetimes.clone(),
        written: written.clone(),
    };
    if matches!(behavior, Behavior::Refuse) {
        drop(listener);
        return fake;
    }
    let acceptor = match &tls {
        Some(TlsSetup::Chain { chain, key }) => Some(acceptor(chain, key)),
        _ => None,
    };
    let close_mid_handshake = matches!(tls, Some(TlsSetup::CloseMidHandshake));
    let (counter, seen) = (accepts, sources);
    tokio::spawn(async move {
        while let Ok((sock, from)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            if let Ok(mut seen) = seen.lock() {
                seen.push(from);
            }
            let index = lifetimes
                .lock()
                .map(|mut l| {
                    l.push((Instant::now(), None));
                    l.len() - 1
                })
                .ok();
            let lifetimes = lifetimes.clone();
            let written = written.clone();
            let behavior = behavior.clone();
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                // Marks the connection's end however the task finishes.
                let _end = EndOnDrop(lifetimes, index);
                if close_mid_handshake {
                    let mut sock = sock;
                    let mut hello = [0u8; 512];
                    let _ = sock.read(&mut hello).await;
                    // Half a ServerHello record header, then gone.
                    let _ = sock.write_all(&[0x16, 0x03, 0x03]).await;
                    return;
                }
                match acceptor {
                    Some(acceptor) => {
                        if let Ok(stream) = acceptor.accept(sock).await {
                            serve(stream, behavior, &written).await;
                        }
                    }
                    None => serve(sock, behavior, &written).await,
                }
            });
        }
    });
    fake
}

/// Sets a connection's end time when its task ends.
struct EndOnDrop(Arc<Mutex<Vec<Lifetime>>>, Option<usize>);

impl Drop for EndOnDrop {
    fn drop(&mut self) {
        if let (Ok(mut l), Some(i)) = (self.0.lock(), self.1) {
            if let Some(entry) = l.get_mut(i) {
                entry.1 = Some(Instant::now());
            }
        }
    }
}

/// Sends the chain as given, whatever it contains (rustls' own builder would check it).
#[derive(Debug)]
struct VerbatimChain(Arc<CertifiedKey>);

impl ResolvesServerCert for VerbatimChain {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }
}

fn acceptor(chain: &[Vec<u8>], key: &[u8]) -> tokio_rustls::TlsAcceptor {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.to_vec()));
    let signing = provider
        .key_provider
        .load_private_key(key)
        .expect("test key");
    let certs = chain
        .iter()
        .map(|c| CertificateDer::from(c.clone()))
        .collect();
    let certified = Arc::new(CertifiedKey::new(certs, signing));
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(VerbatimChain(certified)));
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}

/// Certificates for the TLS fakes, made with rcgen.
pub mod certs {
    use super::{TlsSetup, HUGE_CHAIN_CERTS, SAN_NAMES};

    fn make(params: rcgen::CertificateParams) -> TlsSetup {
        let key = rcgen::KeyPair::generate().expect("key");
        let cert = params.self_signed(&key).expect("self-sign");
        TlsSetup::Chain {
            chain: vec![cert.der().to_vec()],
            key: key.serialize_der(),
        }
    }

    fn params(names: &[&str]) -> rcgen::CertificateParams {
        let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        rcgen::CertificateParams::new(names).expect("params")
    }

    /// A self-signed certificate valid now.
    pub fn valid() -> TlsSetup {
        make(params(&["fake.example"]))
    }

    /// Expired in 2001.
    pub fn expired() -> TlsSetup {
        let mut p = params(&["expired.example"]);
        p.not_before = rcgen::date_time_ymd(2000, 1, 1);
        p.not_after = rcgen::date_time_ymd(2001, 1, 1);
        make(p)
    }

    /// Valid from 2090.
    pub fn not_yet_valid() -> TlsSetup {
        let mut p = params(&["future.example"]);
        p.not_before = rcgen::date_time_ymd(2090, 1, 1);
        p.not_after = rcgen::date_time_ymd(2095, 1, 1);
        make(p)
    }

    /// [`SAN_NAMES`] DNS names (about 16 KB of SAN).
    pub fn huge_san() -> TlsSetup {
        let names: Vec<String> = (0..SAN_NAMES)
            .map(|i| format!("n{i:05}.san-flood.example"))
            .collect();
        make(rcgen::CertificateParams::new(names).expect("params"))
    }

    /// Bytes that are not DER, presented with a real key.
    pub fn malformed_der() -> TlsSetup {
        let TlsSetup::Chain { key, .. } = valid() else {
            unreachable!()
        };
        let mut garbage = vec![0x30, 0x82, 0x7f, 0xff, 0x02, 0x01];
        garbage.extend(std::iter::repeat_n(0xa5, 300));
        TlsSetup::Chain {
            chain: vec![garbage],
            key,
        }
    }

    /// A valid certificate (A) presented with another key (B) that signs the handshake: the
    /// server cannot prove it holds A's key, as a man in the middle replaying A could not.
    pub fn wrong_key() -> TlsSetup {
        let TlsSetup::Chain { chain, .. } = valid() else {
            unreachable!()
        };
        let TlsSetup::Chain { key, .. } = valid() else {
            unreachable!()
        };
        TlsSetup::Chain { chain, key }
    }

    /// A valid leaf followed by [`HUGE_CHAIN_CERTS`] - 1 more certificates.
    pub fn huge_chain() -> TlsSetup {
        let TlsSetup::Chain { mut chain, key } = valid() else {
            unreachable!()
        };
        let TlsSetup::Chain { chain: extra, .. } = make(params(&["intermediate.example"])) else {
            unreachable!()
        };
        for _ in 1..HUGE_CHAIN_CERTS {
            chain.push(extra[0].clone());
        }
        TlsSetup::Chain { chain, key }
    }
}

async fn write_bounded<S: AsyncWrite + Unpin>(sock: &mut S, chunk: &[u8], total: usize) -> bool {
    let mut sent = 0;
    while sent < total {
        let n = chunk.len().min(total - sent);
        if sock.write_all(&chunk[..n]).await.is_err() {
            return false;
        }
        sent += n;
    }
    true
}

/// The id of a request line (0 when unreadable).
fn request_id(line: &str) -> Value {
    serde_json::from_str::<Value>(line)
        .ok()
        .and_then(|v| v.get("id").cloned())
        .unwrap_or(json!(0))
}

async fn serve<S: AsyncRead + AsyncWrite + Unpin + Send>(
    sock: S,
    behavior: Behavior,
    written: &AtomicUsize,
) {
    let mut reader = BufReader::new(sock);
    let mut line = String::new();
    match behavior {
        Behavior::Refuse => {}
        Behavior::Silent => {
            let mut buf = [0u8; 1024];
            // Read and discard until the client gives up.
            while matches!(reader.read(&mut buf).await, Ok(n) if n > 0) {}
        }
        Behavior::CloseMidLine => {
            let _ = reader.read_line(&mut line).await;
            let _ = reader
                .get_mut()
                .write_all(b"{\"jsonrpc\":\"2.0\",\"id\":1,\"res")
                .await;
        }
        Behavior::Slowloris => {
            let _ = reader.read_line(&mut line).await;
            let reply = format!(
                "{{\"jsonrpc\":\"2.0\",\"id\":{},\"result\":[\"Slow 1.0\",\"1.4\"]}}\n",
                request_id(&line)
            );
            for b in reply.bytes() {
                if reader.get_mut().write_all(&[b]).await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
        Behavior::EndlessLine => {
            let _ = reader.read_line(&mut line).await;
            write_bounded(reader.get_mut(), &[b'x'; 64 * 1024], MAX_HOSTILE_BYTES).await;
        }
        Behavior::HugeJson => {
            let _ = reader.read_line(&mut line).await;
            let head = format!(
                "{{\"jsonrpc\":\"2.0\",\"id\":{},\"result\":[\"",
                request_id(&line)
            );
            let sock = reader.get_mut();
            if sock.write_all(head.as_bytes()).await.is_ok()
                && write_bounded(sock, &[b'a'; 64 * 1024], HUGE_JSON_BYTES).await
            {
                let _ = sock.write_all(b"\",\"1.4\"]}\n").await;
            }
        }
        Behavior::DeepNesting => {
            let _ = reader.read_line(&mut line).await;
            let mut reply = format!(
                "{{\"jsonrpc\":\"2.0\",\"id\":{},\"result\":",
                request_id(&line)
            )
            .into_bytes();
            reply.extend(std::iter::repeat_n(b'[', NESTING_DEPTH));
            reply.extend(std::iter::repeat_n(b']', NESTING_DEPTH));
            reply.extend_from_slice(b"}\n");
            let _ = reader.get_mut().write_all(&reply).await;
            let mut buf = [0u8; 1024];
            while matches!(reader.read(&mut buf).await, Ok(n) if n > 0) {}
        }
        Behavior::InvalidUtf8 => {
            let _ = reader.read_line(&mut line).await;
            let mut reply = format!(
                "{{\"jsonrpc\":\"2.0\",\"id\":{},\"result\":[\"Bad",
                request_id(&line)
            )
            .into_bytes();
            reply.extend_from_slice(&[0xff, 0xfe, 0xc3, 0x28]);
            reply.extend_from_slice(b" 1.0\",\"1.4\"]}\n");
            let _ = reader.get_mut().write_all(&reply).await;
            let mut buf = [0u8; 1024];
            while matches!(reader.read(&mut buf).await, Ok(n) if n > 0) {}
        }
        Behavior::Good {
            peers,
            hosts,
            quirk,
        } => loop {
            line.clear();
            match reader.read_line(&mut line).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
            if let Quirk::Slow(pause) = quirk {
                tokio::time::sleep(pause).await;
            }
            let reply = match serde_json::from_str::<Value>(&line) {
                Ok(Value::Array(items)) => Value::Array(
                    items
                        .iter()
                        .map(|r| answer(r, &peers, &hosts, quirk))
                        .collect(),
                ),
                Ok(req) => answer(&req, &peers, &hosts, quirk),
                Err(_) => {
                    json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32700, "message": "invalid JSON"}})
                }
            };
            let mut out = Vec::new();
            if quirk == Quirk::NotificationFlood {
                let note = b"{\"jsonrpc\":\"2.0\",\"method\":\"blockchain.headers.subscribe\",\"params\":[{\"height\":1,\"hex\":\"00\"}]}\n";
                for _ in 0..FLOOD_NOTIFICATIONS {
                    out.extend_from_slice(note);
                }
            }
            let mut text = reply.to_string().into_bytes();
            text.push(b'\n');
            out.extend_from_slice(&text);
            if quirk == Quirk::DuplicateIds {
                out.extend_from_slice(&text);
            }
            if reader.get_mut().write_all(&out).await.is_err() {
                return;
            }
            written.fetch_add(out.len(), Ordering::SeqCst);
        },
    }
}

fn huge_history() -> Value {
    let entries: Vec<Value> = (0..HUGE_HISTORY_ENTRIES)
        .map(|i| json!({"tx_hash": format!("{i:064x}"), "height": i}))
        .collect();
    Value::Array(entries)
}

fn answer(req: &Value, peers: &Value, hosts: &Value, quirk: Quirk) -> Value {
    let id = req.get("id").cloned().unwrap_or(Value::Null);
    let id = match (quirk, id.as_u64()) {
        (Quirk::WrongIds, Some(n)) => json!(n + 1000),
        (Quirk::StringIds, Some(n)) => json!(n.to_string()),
        _ => id,
    };
    let result = match req.get("method").and_then(Value::as_str).unwrap_or("") {
        "server.version" => json!(["TinyFake 0.1", "1.4"]),
        "server.banner" => json!("tiny banner"),
        "server.donation_address" => json!(""),
        "server.features" => json!({
            "genesis_hash": "000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f",
            "hosts": hosts, "server_version": "TinyFake 0.1", "protocol_min": "1.4", "protocol_max": "1.4",
            "pruning": null, "hash_function": "sha256"
        }),
        "server.peers.subscribe" => peers.clone(),
        "blockchain.headers.subscribe" => json!({"height": 1, "hex": "00".repeat(80)}),
        "blockchain.relayfee" => json!(0.00001),
        "blockchain.estimatefee" => json!(0.0002),
        "mempool.get_fee_histogram" => json!([]),
        "blockchain.scripthash.get_history" if quirk == Quirk::HugeHistories => huge_history(),
        _ => Value::Null,
    };
    json!({"jsonrpc": "2.0", "id": id, "result": result})
}
