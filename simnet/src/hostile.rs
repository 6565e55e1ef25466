//! Planted hostile servers (issue 7): each kind misbehaves in one specific way, bounded in
//! time ([`SimnetConfig::idle_timeout`](crate::SimnetConfig) caps every session) and in
//! bytes, so a simnet never runs away even if the client never hangs up.

use std::time::Duration;

use observatory_protocol::message::{parse_request, ServerInput};
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::time::{sleep, timeout};

use crate::config::HostileKind;
use crate::json::J;

/// Bytes sent per write by the streaming kinds.
const STREAM_CHUNK: usize = 64 * 1024;
/// Most bytes the endless line sends before giving up.
const ENDLESS_LINE_MAX_BYTES: u64 = 256 * 1024 * 1024;
/// Pause between chunks of the endless line (keeps one hostile server from hogging a core).
const ENDLESS_LINE_PAUSE: Duration = Duration::from_millis(2);
/// Nesting depth of the deep-JSON reply.
pub const DEEP_JSON_DEPTH: usize = 100_000;
/// Notifications sent before each reply by the flooding kind.
pub const FLOOD_PER_REQUEST: usize = 2_000;
/// Most notifications the flooding kind sends over one session.
const FLOOD_MAX: usize = 20_000;
/// How long to wait for the client's first line before misbehaving anyway.
const FIRST_LINE_WAIT: Duration = Duration::from_secs(10);
/// Longest line read from the client by the hostile kinds.
const MAX_CLIENT_LINE: usize = 64 * 1024;
/// What the slowloris server dribbles out (a plausible `server.version` answer).
const SLOW_REPLY: &[u8] =
    b"{\"jsonrpc\":\"2.0\",\"result\":[\"ElectrumX 1.16.0\",\"1.4\"],\"id\":0}\n";

/// Runs one hostile session over an established (plain or TLS) stream.
pub(crate) async fn serve<S>(
    mut stream: S,
    kind: HostileKind,
    giant_json_bytes: u64,
    max_session: Duration,
    mut stop: watch::Receiver<bool>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    let work = async {
        match kind {
            HostileKind::NeverAnswers => drain(&mut stream).await,
            HostileKind::Slowloris => slowloris(&mut stream).await,
            HostileKind::EndlessLine => endless_line(&mut stream).await,
            HostileKind::InvalidUtf8 => {
                per_line(&mut stream, |_| {
                    b"\xff\xfe\xfd{\"id\":\xc3\x28,\"result\":\x80}\n".to_vec()
                })
                .await
            }
            HostileKind::GiantJson => giant_json(&mut stream, giant_json_bytes).await,
            HostileKind::DeepJson => {
                per_line(&mut stream, |_| {
                    let mut v = vec![b'['; DEEP_JSON_DEPTH];
                    v.extend(std::iter::repeat_n(b']', DEEP_JSON_DEPTH));
                    v.push(b'\n');
                    v
                })
                .await
            }
            HostileKind::WrongIds => per_line(&mut stream, wrong_ids).await,
            HostileKind::NotificationFlood => flood(&mut stream).await,
            // Handled before TLS by the listener; on a plain stream, behave like a dead peer.
            HostileKind::TlsCloseMidHandshake => Ok(()),
            // Served by the ElectrumX dialect with a doctored peer list, never here.
            HostileKind::HugePeers | HostileKind::PrivatePeers => drain(&mut stream).await,
        }
    };
    tokio::select! {
        _ = stop.changed() => {}
        _ = timeout(max_session, work) => {}
    }
    let _ = stream.shutdown().await;
}

/// Reads a TLS ClientHello, answers with the first bytes of a handshake record, and closes:
/// the client sees the connection die in the middle of the handshake.
pub(crate) async fn close_mid_handshake(mut stream: TcpStream) {
    let mut buf = [0u8; 2048];
    let _ = timeout(FIRST_LINE_WAIT, stream.read(&mut buf)).await;
    // Handshake record, TLS 1.2, length 0x7a, ServerHello type, then nothing more.
    let _ = stream
        .write_all(&[0x16, 0x03, 0x03, 0x00, 0x7a, 0x02, 0x00])
        .await;
    let _ = stream.shutdown().await;
}

/// Reads until EOF, never answering.
async fn drain<S: AsyncRead + Unpin>(stream: &mut S) -> std::io::Result<()> {
    let mut buf = vec![0u8; STREAM_CHUNK];
    while stream.read(&mut buf).await? > 0 {}
    Ok(())
}

/// Reads one client line (bounded); None at EOF.
async fn read_line<S: AsyncRead + Unpin>(stream: &mut S) -> std::io::Result<Option<Vec<u8>>> {
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    loop {
        if stream.read(&mut byte).await? == 0 {
            return Ok(None);
        }
        if byte[0] == b'\n' {
            return Ok(Some(line));
        }
        if line.len() < MAX_CLIENT_LINE {
            line.push(byte[0]);
        }
    }
}

/// The request id of a line, as JSON text (`0` when there is none).
fn id_of(line: &[u8]) -> Option<Value> {
    match parse_request(line) {
        Ok(ServerInput::Single(r)) => r.id,
        _ => None,
    }
}

async fn per_line<S, F>(stream: &mut S, reply: F) -> std::io::Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin,
    F: Fn(&[u8]) -> Vec<u8>,
{
    while let Some(line) = read_line(stream).await? {
        stream.write_all(&reply(&line)).await?;
    }
    Ok(())
}

async fn slowloris<S: AsyncRead + AsyncWrite + Unpin>(stream: &mut S) -> std::io::Result<()> {
    let _ = timeout(FIRST_LINE_WAIT, read_line(stream)).await;
    loop {
        for b in SLOW_REPLY {
            stream.write_all(std::slice::from_ref(b)).await?;
            stream.flush().await?;
            sleep(Duration::from_secs(1)).await;
        }
    }
}

async fn endless_line<S: AsyncRead + AsyncWrite + Unpin>(stream: &mut S) -> std::io::Result<()> {
    let _ = timeout(FIRST_LINE_WAIT, read_line(stream)).await;
    stream
        .write_all(b"{\"jsonrpc\":\"2.0\",\"id\":0,\"result\":\"")
        .await?;
    let chunk = vec![b'A'; STREAM_CHUNK];
    let mut sent = 0u64;
    while sent < ENDLESS_LINE_MAX_BYTES {
        stream.write_all(&chunk).await?;
        sent += STREAM_CHUNK as u64;
        sleep(ENDLESS_LINE_PAUSE).await;
    }
    Ok(())
}

async fn giant_json<S: AsyncRead + AsyncWrite + Unpin>(
    stream: &mut S,
    size: u64,
) -> std::io::Result<()> {
    let first = timeout(FIRST_LINE_WAIT, read_line(stream))
        .await
        .ok()
        .and_then(Result::ok)
        .flatten();
    let id = first
        .as_deref()
        .and_then(id_of)
        .map(|v| v.to_string())
        .unwrap_or_else(|| "0".into());
    // Valid JSON: a version answer whose software string is `size` bytes long.
    stream
        .write_all(format!("{{\"jsonrpc\":\"2.0\",\"id\":{id},\"result\":[\"").as_bytes())
        .await?;
    let chunk = vec![b'X'; STREAM_CHUNK];
    let mut left = size;
    while left > 0 {
        let n = left.min(STREAM_CHUNK as u64) as usize;
        stream.write_all(chunk.get(..n).unwrap_or(&chunk)).await?;
        left -= n as u64;
    }
    stream.write_all(b"\",\"1.4\"]}\n").await?;
    drain(stream).await
}

/// Four answers per request: the id as a string, a made-up id, then the right id twice.
fn wrong_ids(line: &[u8]) -> Vec<u8> {
    let id = id_of(line).unwrap_or(Value::Null);
    let as_string = Value::String(id.to_string());
    let made_up = id
        .as_u64()
        .map(|n| Value::from(n.wrapping_add(7777)))
        .unwrap_or(Value::from(7777));
    let mut out = Vec::new();
    for id in [as_string, made_up, id.clone(), id] {
        let reply = J::obj([
            ("jsonrpc", J::s("2.0")),
            (
                "result",
                J::Arr(vec![J::s("ElectrumX 1.16.0"), J::s("1.4")]),
            ),
            ("id", J::from_value(&id)),
        ]);
        out.extend(reply.write(crate::json::Style::CompactOrdered).into_bytes());
        out.push(b'\n');
    }
    out
}

async fn flood<S: AsyncRead + AsyncWrite + Unpin>(stream: &mut S) -> std::io::Result<()> {
    let note = b"{\"jsonrpc\":\"2.0\",\"method\":\"blockchain.headers.subscribe\",\"params\":[{\"hex\":\"00\",\"height\":1}]}\n";
    let mut sent = 0usize;
    while let Some(line) = read_line(stream).await? {
        if sent < FLOOD_MAX {
            let mut batch = Vec::with_capacity(note.len() * FLOOD_PER_REQUEST);
            for _ in 0..FLOOD_PER_REQUEST {
                batch.extend_from_slice(note);
            }
            stream.write_all(&batch).await?;
            sent += FLOOD_PER_REQUEST;
        }
        let id = id_of(&line).unwrap_or(Value::Null);
        let reply = J::obj([
            ("jsonrpc", J::s("2.0")),
            (
                "result",
                J::Arr(vec![J::s("ElectrumX 1.16.0"), J::s("1.4")]),
            ),
            ("id", J::from_value(&id)),
        ]);
        stream
            .write_all(format!("{}\n", reply.write(crate::json::Style::CompactOrdered)).as_bytes())
            .await?;
    }
    Ok(())
}
