//! Tiny hostile and well-behaved Electrum-ish servers written for the tests, each on its own
//! 127.0.0.N address (so the scanner's one-connection-per-IP rule does not serialize them).

use std::net::SocketAddr;

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// What a fake server does with a connection.
#[derive(Debug, Clone)]
pub enum Behavior {
    /// Nothing listens: connections are refused.
    Refuse,
    /// Accepts and never sends a byte.
    Silent,
    /// Reads the first request, sends half a reply line, closes.
    CloseMidLine,
    /// Answers like a minimal Electrum server; `peers` is its `server.peers.subscribe`
    /// answer and `hosts` its `server.features` hosts map.
    Good {
        /// `server.peers.subscribe` result.
        peers: Value,
        /// `server.features` `hosts`.
        hosts: Value,
    },
}

impl Behavior {
    /// A good server with no peers.
    pub fn good() -> Self {
        Behavior::Good { peers: json!([]), hosts: json!({}) }
    }
}

/// Starts a fake on `ip` (a 127.0.0.0/8 address) and returns its address.
pub async fn spawn(ip: &str, behavior: Behavior) -> SocketAddr {
    let listener = TcpListener::bind((ip, 0)).await.expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    if matches!(behavior, Behavior::Refuse) {
        drop(listener);
        return addr;
    }
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            tokio::spawn(serve(sock, behavior.clone()));
        }
    });
    addr
}

async fn serve(sock: TcpStream, behavior: Behavior) {
    match behavior {
        Behavior::Refuse => {}
        Behavior::Silent => {
            let mut sock = sock;
            let mut buf = [0u8; 1024];
            // Read and discard until the client gives up.
            while matches!(sock.read(&mut buf).await, Ok(n) if n > 0) {}
        }
        Behavior::CloseMidLine => {
            let mut reader = BufReader::new(sock);
            let mut line = String::new();
            let _ = reader.read_line(&mut line).await;
            let _ = reader.get_mut().write_all(b"{\"jsonrpc\":\"2.0\",\"id\":1,\"res").await;
        }
        Behavior::Good { peers, hosts } => {
            let mut reader = BufReader::new(sock);
            let mut line = String::new();
            loop {
                line.clear();
                match reader.read_line(&mut line).await {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {}
                }
                let reply = match serde_json::from_str::<Value>(&line) {
                    Ok(Value::Array(items)) => Value::Array(items.iter().map(|r| answer(r, &peers, &hosts)).collect()),
                    Ok(req) => answer(&req, &peers, &hosts),
                    Err(_) => json!({"jsonrpc": "2.0", "id": null, "error": {"code": -32700, "message": "invalid JSON"}}),
                };
                let mut out = reply.to_string().into_bytes();
                out.push(b'\n');
                if reader.get_mut().write_all(&out).await.is_err() {
                    return;
                }
            }
        }
    }
}

fn answer(req: &Value, peers: &Value, hosts: &Value) -> Value {
    let id = req.get("id").cloned().unwrap_or(Value::Null);
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
        _ => Value::Null,
    };
    json!({"jsonrpc": "2.0", "id": id, "result": result})
}
