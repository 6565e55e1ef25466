//! One Electrum session: a [`Connection`] plus request ids, pipelining and bookkeeping.
//!
//! Requests are written as they are issued ([`Session::send`]) and replies are matched by
//! `id` as they arrive ([`Session::wait`]), so several requests can be in flight on the one
//! persistent connection. Server-initiated notifications are recorded apart and never
//! taken for replies. Every request is logged with its round-trip time; the session
//! enforces the per-request deadline, the per-endpoint deadline, the request budget
//! (shared with the probes' extra connections) and the notification and bad-line caps,
//! and backs off after rate-limit errors. Whatever the server sends, the session ends as
//! data ([`Closure`]), never as a panic.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use observatory_model::raw::{Notification, RequestLog, RpcError, WireFacts};
use observatory_model::UnixMillis;
use observatory_protocol::frame::ByteTally;
use observatory_protocol::message::{
    classify, encode_batch, encode_request, truncate, Incoming, Reply,
};
use serde_json::Value;
use tokio::time::Instant;

use crate::connection::{Connection, ReadError, WriteError};
use crate::limits::{
    MAX_BAD_LINES, MAX_NOTIFICATIONS, MAX_NOTIFICATIONS_KEPT, MAX_NOTIFICATION_PARAMS_BYTES,
    MAX_RAW_LINE_TEXT, MAX_REQUEST_LOG, RATE_LIMIT_BACKOFF, RATE_LIMIT_CODES,
};
use crate::rpc::{CallOutcome, RawOutcome, Rpc};

/// Wall-clock now in Unix milliseconds.
pub fn now_ms() -> UnixMillis {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Requests still allowed on one endpoint, shared by all its connections.
#[derive(Debug, Clone)]
pub struct Budget(Arc<AtomicU32>);

impl Budget {
    /// A budget of `n` requests.
    pub fn new(n: u32) -> Self {
        Budget(Arc::new(AtomicU32::new(n)))
    }

    /// Takes `n` requests from the budget; false (and nothing taken) when fewer are left.
    pub fn take(&self, n: u32) -> bool {
        self.0
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                left.checked_sub(n)
            })
            .is_ok()
    }

    /// Requests left.
    pub fn left(&self) -> u32 {
        self.0.load(Ordering::SeqCst)
    }
}

/// Deadlines, budget and byte tally of a session (the last two shared by every connection
/// of one endpoint visit).
#[derive(Debug, Clone)]
pub struct SessionParams {
    /// Deadline for each reply.
    pub request_timeout: Duration,
    /// The endpoint's overall deadline (nothing is awaited past it).
    pub endpoint_deadline: Instant,
    /// The endpoint's request budget.
    pub budget: Budget,
    /// Bytes received from the endpoint over all its connections (the framing's byte cap
    /// applies to this total).
    pub received: ByteTally,
}

/// How a session ended (the first cause is kept).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Closure {
    /// The peer closed the connection or reset it.
    Peer(String),
    /// The endpoint deadline passed.
    Deadline,
    /// A hard limit was crossed (line length, session bytes, notifications).
    Limit(String),
    /// The server sent too many lines that are not JSON-RPC.
    Protocol(String),
    /// The scanner closed the connection ([`Session::close`]).
    Local,
}

impl Closure {
    /// Human-readable reason.
    pub fn reason(&self) -> String {
        match self {
            Closure::Peer(s) => format!("closed by peer: {s}"),
            Closure::Deadline => "endpoint deadline passed".to_string(),
            Closure::Limit(s) => format!("limit exceeded: {s}"),
            Closure::Protocol(s) => format!("protocol error: {s}"),
            Closure::Local => "closed by the scanner".to_string(),
        }
    }
}

#[derive(Debug)]
struct InFlight {
    sent: Instant,
    log_index: Option<usize>,
    /// We stopped waiting; a late reply only gets its RTT logged.
    timed_out: bool,
}

#[derive(Debug)]
struct Arrived {
    reply: Reply,
    rtt_ms: f64,
}

/// An Electrum session on one connection.
#[derive(Debug)]
pub struct Session {
    conn: Connection,
    params: SessionParams,
    opened: Instant,
    next_id: u64,
    in_flight: HashMap<u64, InFlight>,
    arrived: HashMap<u64, Arrived>,
    closed: Option<Closure>,
    /// We closed the connection ourselves.
    shut: bool,
    backoff_until: Option<Instant>,
    backoffs: u32,
    bad_lines: u64,
    last_bad_line: Option<String>,
    notifications_seen: u64,
    log: Vec<RequestLog>,
    notifications: Vec<Notification>,
}

impl Session {
    /// Starts a session on a connected, framed stream. Nothing is sent yet.
    pub fn new(conn: Connection, params: SessionParams) -> Self {
        Session {
            conn,
            params,
            opened: Instant::now(),
            next_id: 0,
            in_flight: HashMap::new(),
            arrived: HashMap::new(),
            closed: None,
            shut: false,
            backoff_until: None,
            backoffs: 0,
            bad_lines: 0,
            last_bad_line: None,
            notifications_seen: 0,
            log: Vec::new(),
            notifications: Vec::new(),
        }
    }

    /// Why the session ended, if it did.
    pub fn closure(&self) -> Option<&Closure> {
        self.closed.as_ref()
    }

    /// The last line that was not JSON-RPC (lossy text, truncated), if any.
    pub fn last_bad_line(&self) -> Option<&str> {
        self.last_bad_line.as_deref()
    }

    /// Number of lines that were not JSON-RPC.
    pub fn bad_lines(&self) -> u64 {
        self.bad_lines
    }

    /// Replies whose id matched no request sent (wrong, duplicate or other-type ids).
    pub fn unmatched_replies(&self) -> u64 {
        self.conn.wire().unmatched_replies
    }

    /// Number of rate-limit errors seen (each caused a pause).
    pub fn rate_limited(&self) -> u32 {
        self.backoffs
    }

    /// Takes the session's records: request log, notifications, wire facts.
    pub fn into_records(self) -> (Vec<RequestLog>, Vec<Notification>, WireFacts) {
        let wire = self.conn.wire().clone();
        (self.log, self.notifications, wire)
    }

    /// Orderly close, bounded by a short deadline; later requests find the session closed.
    pub async fn close(&mut self) {
        if self.shut {
            return;
        }
        self.shut = true;
        self.close_with(Closure::Local);
        let deadline = Instant::now() + Duration::from_millis(500);
        self.conn
            .shutdown(deadline.min(self.params.endpoint_deadline.max(Instant::now())))
            .await;
    }

    /// True once [`Session::close`] ran (the scanner hung up, whatever the server did).
    pub fn shut_down(&self) -> bool {
        self.shut
    }

    fn close_with(&mut self, why: Closure) {
        if self.closed.is_none() {
            self.closed = Some(why);
        }
    }

    fn alloc_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    fn log_request(&mut self, id: u64, method: &str, sent: Instant) -> Option<usize> {
        if self.log.len() >= MAX_REQUEST_LOG {
            return None;
        }
        self.log.push(RequestLog {
            id,
            method: truncate(method, 128),
            sent_offset_ms: ms(sent.saturating_duration_since(self.opened)),
            rtt_ms: None,
            outcome: "pending".to_string(),
            reply_bytes: None,
        });
        Some(self.log.len() - 1)
    }

    fn set_log(
        &mut self,
        index: Option<usize>,
        outcome: &str,
        rtt_ms: Option<f64>,
        bytes: Option<u64>,
    ) {
        if let Some(entry) = index.and_then(|i| self.log.get_mut(i)) {
            entry.outcome = outcome.to_string();
            entry.rtt_ms = rtt_ms;
            if bytes.is_some() {
                entry.reply_bytes = bytes;
            }
        }
    }

    /// Waits out a rate-limit pause before sending, bounded by the endpoint deadline.
    async fn respect_backoff(&mut self) {
        if let Some(until) = self.backoff_until.take() {
            tokio::time::sleep_until(until.min(self.params.endpoint_deadline)).await;
        }
    }

    async fn write(&mut self, bytes: &[u8]) -> Result<(), CallOutcome> {
        if let Some(c) = &self.closed {
            return Err(CallOutcome::Closed { reason: c.reason() });
        }
        let deadline =
            (Instant::now() + self.params.request_timeout).min(self.params.endpoint_deadline);
        match self.conn.write_line(bytes, deadline).await {
            Ok(()) => Ok(()),
            Err(WriteError::Timeout) => {
                // A peer that does not drain its socket cannot be talked to any more.
                self.close_with(if Instant::now() >= self.params.endpoint_deadline {
                    Closure::Deadline
                } else {
                    Closure::Peer("write timed out".into())
                });
                Err(CallOutcome::Timeout)
            }
            Err(WriteError::Io(e)) => {
                self.close_with(Closure::Peer(e.to_string()));
                Err(CallOutcome::Closed {
                    reason: e.to_string(),
                })
            }
        }
    }

    /// Sends one request without waiting (pipelining). Returns its id, or the outcome that
    /// stands in for the reply (over budget, closed).
    pub async fn send(&mut self, method: &str, params: Value) -> Result<u64, CallOutcome> {
        if let Some(c) = &self.closed {
            return Err(CallOutcome::Closed { reason: c.reason() });
        }
        if !self.params.budget.take(1) {
            return Err(CallOutcome::OverBudget);
        }
        self.respect_backoff().await;
        let id = self.alloc_id();
        let line = encode_request(id, method, &params);
        let sent = Instant::now();
        let log_index = self.log_request(id, method, sent);
        if let Err(outcome) = self.write(&line).await {
            self.set_log(log_index, outcome_name(&outcome), None, None);
            return Err(outcome);
        }
        self.in_flight.insert(
            id,
            InFlight {
                sent,
                log_index,
                timed_out: false,
            },
        );
        Ok(id)
    }

    /// Waits for the reply to request `id` (sent by [`Session::send`]).
    pub async fn wait(&mut self, id: u64) -> CallOutcome {
        let Some(sent) = self.in_flight.get(&id).map(|f| f.sent) else {
            return CallOutcome::Closed {
                reason: format!("request {id} was never sent"),
            };
        };
        let deadline = (sent + self.params.request_timeout).min(self.params.endpoint_deadline);
        loop {
            if let Some(arrived) = self.arrived.remove(&id) {
                let log_index = self.in_flight.remove(&id).and_then(|f| f.log_index);
                let outcome = match arrived.reply.error_parts() {
                    Some((code, message)) => {
                        if code.is_some_and(|c| RATE_LIMIT_CODES.contains(&c)) {
                            self.note_rate_limit();
                        }
                        CallOutcome::Error {
                            error: RpcError { code, message },
                            rtt_ms: arrived.rtt_ms,
                        }
                    }
                    None => CallOutcome::Result {
                        value: arrived.reply.result.unwrap_or(Value::Null),
                        rtt_ms: arrived.rtt_ms,
                    },
                };
                self.set_log(
                    log_index,
                    outcome_name(&outcome),
                    Some(arrived.rtt_ms),
                    None,
                );
                return outcome;
            }
            if let Some(c) = &self.closed {
                let outcome = CallOutcome::Closed { reason: c.reason() };
                self.finish_unanswered(id, &outcome);
                return outcome;
            }
            match self.conn.read_line(deadline).await {
                Ok(line) => self.dispatch(&line.bytes, line.wire_len as u64),
                Err(ReadError::Timeout) => {
                    if Instant::now() >= self.params.endpoint_deadline {
                        self.close_with(Closure::Deadline);
                    }
                    let outcome = CallOutcome::Timeout;
                    self.finish_unanswered(id, &outcome);
                    return outcome;
                }
                Err(ReadError::Closed) => {
                    self.close_with(Closure::Peer("connection closed".into()))
                }
                Err(ReadError::Io(e)) => self.close_with(Closure::Peer(e.to_string())),
                Err(ReadError::Limit(e)) => self.close_with(Closure::Limit(e.to_string())),
            }
        }
    }

    fn finish_unanswered(&mut self, id: u64, outcome: &CallOutcome) {
        // A timed-out request stays known so that a late reply is not counted as unmatched.
        let log_index = match outcome {
            CallOutcome::Timeout => self.in_flight.get_mut(&id).and_then(|f| {
                f.timed_out = true;
                f.log_index
            }),
            _ => self.in_flight.remove(&id).and_then(|f| f.log_index),
        };
        self.set_log(log_index, outcome_name(outcome), None, None);
    }

    fn note_rate_limit(&mut self) {
        let factor = 1u32 << self.backoffs.min(4);
        self.backoffs = self.backoffs.saturating_add(1);
        self.backoff_until = Some(Instant::now() + RATE_LIMIT_BACKOFF * factor);
    }

    /// Sorts one received line into replies, notifications or junk.
    fn dispatch(&mut self, line: &[u8], wire_len: u64) {
        match classify(line) {
            Ok(incoming) => self.dispatch_incoming(incoming, wire_len),
            Err(e) => {
                self.bad_lines += 1;
                self.last_bad_line = Some(format!(
                    "{e}: {}",
                    truncate(&String::from_utf8_lossy(line), 256)
                ));
                if self.bad_lines > MAX_BAD_LINES {
                    self.close_with(Closure::Protocol(format!(
                        "more than {MAX_BAD_LINES} lines that are not JSON-RPC"
                    )));
                }
            }
        }
    }

    fn dispatch_incoming(&mut self, incoming: Incoming, wire_len: u64) {
        match incoming {
            Incoming::Reply(reply) => self.accept_reply(reply, wire_len),
            Incoming::Notification(n) => self.accept_notification(n),
            Incoming::Batch(items) => {
                for item in items {
                    match item {
                        Incoming::Reply(reply) => self.accept_reply(reply, wire_len),
                        Incoming::Notification(n) => self.accept_notification(n),
                        Incoming::Batch(_) | Incoming::Invalid(_) => {
                            self.conn.wire_mut().unmatched_replies += 1
                        }
                    }
                }
            }
            Incoming::Invalid(_) => self.conn.wire_mut().unmatched_replies += 1,
        }
    }

    fn accept_reply(&mut self, reply: Reply, wire_len: u64) {
        let jsonrpc_2 = reply.jsonrpc_2;
        let wire = self.conn.wire_mut();
        wire.jsonrpc_2 = Some(wire.jsonrpc_2.unwrap_or(true) && jsonrpc_2);
        let Some(id) = reply.id else {
            wire.unmatched_replies += 1;
            return;
        };
        let Some(flight) = self.in_flight.get(&id) else {
            wire.unmatched_replies += 1;
            return;
        };
        if self.arrived.contains_key(&id) {
            // A duplicate reply: the first one stands.
            wire.unmatched_replies += 1;
            return;
        }
        let rtt_ms = ms(flight.sent.elapsed());
        let (log_index, timed_out) = (flight.log_index, flight.timed_out);
        if let Some(entry) = log_index.and_then(|i| self.log.get_mut(i)) {
            entry.reply_bytes = Some(wire_len);
            if timed_out {
                entry.rtt_ms = Some(rtt_ms);
            }
        }
        if timed_out {
            // Late reply to a request we stopped waiting for: logged above, then dropped.
            self.in_flight.remove(&id);
            return;
        }
        self.arrived.insert(id, Arrived { reply, rtt_ms });
    }

    fn accept_notification(&mut self, n: observatory_protocol::message::Notification) {
        self.notifications_seen += 1;
        if self.notifications_seen > MAX_NOTIFICATIONS {
            self.close_with(Closure::Limit(format!(
                "more than {MAX_NOTIFICATIONS} notifications"
            )));
            return;
        }
        if self.notifications.len() < MAX_NOTIFICATIONS_KEPT {
            let text = n.params.to_string();
            let params = if text.len() > MAX_NOTIFICATION_PARAMS_BYTES {
                Value::String(truncate(&text, MAX_NOTIFICATION_PARAMS_BYTES))
            } else {
                n.params
            };
            self.notifications.push(Notification {
                at_ms: now_ms(),
                method: truncate(&n.method, 128),
                params,
            });
        }
    }
}

fn outcome_name(outcome: &CallOutcome) -> &'static str {
    match outcome {
        CallOutcome::Result { .. } => "result",
        CallOutcome::Error { .. } => "error",
        CallOutcome::Timeout => "timeout",
        CallOutcome::Closed { .. } => "closed",
        CallOutcome::OverBudget => "over-budget",
    }
}

impl Rpc for Session {
    async fn call(&mut self, method: &str, params: Value) -> CallOutcome {
        match self.send(method, params).await {
            Ok(id) => self.wait(id).await,
            Err(outcome) => outcome,
        }
    }

    async fn pipeline(&mut self, calls: Vec<(String, Value)>) -> Vec<CallOutcome> {
        let mut sent = Vec::with_capacity(calls.len());
        for (method, params) in calls {
            sent.push(self.send(&method, params).await);
        }
        let mut outcomes = Vec::with_capacity(sent.len());
        for s in sent {
            outcomes.push(match s {
                Ok(id) => self.wait(id).await,
                Err(outcome) => outcome,
            });
        }
        outcomes
    }

    async fn batch(&mut self, calls: Vec<(String, Value)>) -> (Vec<CallOutcome>, f64) {
        let started = Instant::now();
        let n = calls.len();
        if let Some(c) = &self.closed {
            let reason = c.reason();
            return (
                (0..n)
                    .map(|_| CallOutcome::Closed {
                        reason: reason.clone(),
                    })
                    .collect(),
                0.0,
            );
        }
        if !self
            .params
            .budget
            .take(u32::try_from(n).unwrap_or(u32::MAX))
        {
            return ((0..n).map(|_| CallOutcome::OverBudget).collect(), 0.0);
        }
        self.respect_backoff().await;
        let mut items = Vec::with_capacity(n);
        let mut ids = Vec::with_capacity(n);
        let sent = Instant::now();
        for (method, params) in calls {
            let id = self.alloc_id();
            let log_index = self.log_request(id, &method, sent);
            ids.push((id, log_index));
            items.push((id, method, params));
        }
        let refs: Vec<(u64, &str, Value)> = items
            .iter()
            .map(|(id, m, p)| (*id, m.as_str(), p.clone()))
            .collect();
        let line = encode_batch(&refs);
        if let Err(outcome) = self.write(&line).await {
            for (_, log_index) in &ids {
                self.set_log(*log_index, outcome_name(&outcome), None, None);
            }
            return (
                (0..n).map(|_| outcome.clone()).collect(),
                ms(started.elapsed()),
            );
        }
        for (id, log_index) in &ids {
            self.in_flight.insert(
                *id,
                InFlight {
                    sent,
                    log_index: *log_index,
                    timed_out: false,
                },
            );
        }
        let mut outcomes = Vec::with_capacity(n);
        for (id, _) in ids {
            outcomes.push(self.wait(id).await);
        }
        (outcomes, ms(started.elapsed()))
    }

    async fn send_raw(&mut self, line: &[u8]) -> RawOutcome {
        if self.closed.is_some() {
            return RawOutcome::Closed { after_ms: 0.0 };
        }
        if !self.params.budget.take(1) {
            return RawOutcome::OverBudget;
        }
        self.respect_backoff().await;
        let mut bytes = line.to_vec();
        bytes.push(b'\n');
        let sent = Instant::now();
        let log_index = self.log_request(0, "(raw line)", sent);
        if self.write(&bytes).await.is_err() {
            self.set_log(log_index, "closed", None, None);
            return RawOutcome::Closed {
                after_ms: ms(sent.elapsed()),
            };
        }
        let deadline = (sent + self.params.request_timeout).min(self.params.endpoint_deadline);
        match self.conn.read_line(deadline).await {
            Ok(l) => {
                let rtt_ms = ms(sent.elapsed());
                self.set_log(log_index, "line", Some(rtt_ms), Some(l.wire_len as u64));
                let text = truncate(&String::from_utf8_lossy(&l.bytes), MAX_RAW_LINE_TEXT);
                RawOutcome::Line { text, rtt_ms }
            }
            Err(ReadError::Timeout) => {
                if Instant::now() >= self.params.endpoint_deadline {
                    self.close_with(Closure::Deadline);
                }
                self.set_log(log_index, "timeout", None, None);
                RawOutcome::Silence
            }
            Err(e) => {
                self.close_with(match e {
                    ReadError::Limit(l) => Closure::Limit(l.to_string()),
                    other => Closure::Peer(other.to_string()),
                });
                self.set_log(log_index, "closed", None, None);
                RawOutcome::Closed {
                    after_ms: ms(sent.elapsed()),
                }
            }
        }
    }

    fn budget_left(&self) -> u32 {
        self.params.budget.left()
    }

    fn is_closed(&self) -> bool {
        self.closed.is_some()
    }

    async fn close(&mut self) {
        Session::close(self).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use observatory_protocol::frame::Limits;
    use serde_json::json;
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, DuplexStream};

    fn session(limits: Limits, budget: u32) -> (Session, DuplexStream) {
        let (client, server) = tokio::io::duplex(64 * 1024);
        let params = SessionParams {
            request_timeout: Duration::from_millis(300),
            endpoint_deadline: Instant::now() + Duration::from_secs(5),
            budget: Budget::new(budget),
            received: ByteTally::new(),
        };
        (
            Session::new(Connection::new(Box::new(client), limits), params),
            server,
        )
    }

    #[tokio::test]
    async fn pipelined_replies_are_matched_by_id_around_notifications() {
        let (mut s, server) = session(Limits::default(), 10);
        let a = s.send("server.banner", json!([])).await.unwrap();
        let b = s.send("server.donation_address", json!([])).await.unwrap();
        let mut server = BufReader::new(server);
        let mut line = String::new();
        server.read_line(&mut line).await.unwrap();
        server.read_line(&mut line).await.unwrap();
        // Replies out of order, with notifications (and a stray reply) in between.
        let script = format!(
            "{{\"jsonrpc\":\"2.0\",\"method\":\"blockchain.headers.subscribe\",\"params\":[{{\"height\":1}}]}}\n\
             {{\"jsonrpc\":\"2.0\",\"id\":{b},\"result\":\"addr\"}}\n\
             {{\"jsonrpc\":\"2.0\",\"id\":999,\"result\":\"stray\"}}\n\
             {{\"jsonrpc\":\"2.0\",\"method\":\"server.ping\",\"params\":[]}}\n\
             {{\"jsonrpc\":\"2.0\",\"id\":{a},\"result\":\"banner\"}}\n"
        );
        server.get_mut().write_all(script.as_bytes()).await.unwrap();
        assert!(
            matches!(s.wait(a).await, CallOutcome::Result { value, .. } if value == json!("banner"))
        );
        assert!(
            matches!(s.wait(b).await, CallOutcome::Result { value, .. } if value == json!("addr"))
        );
        let (log, notes, wire) = s.into_records();
        assert_eq!(notes.len(), 2);
        assert_eq!(notes[0].method, "blockchain.headers.subscribe");
        assert_eq!(wire.unmatched_replies, 1);
        assert_eq!(wire.jsonrpc_2, Some(true));
        assert!(log
            .iter()
            .all(|l| l.outcome == "result" && l.rtt_ms.is_some()));
    }

    #[tokio::test]
    async fn batch_answer_as_an_array_is_distributed() {
        let (mut s, mut server) = session(Limits::default(), 10);
        let task = tokio::spawn(async move {
            let mut r = BufReader::new(&mut server);
            let mut line = String::new();
            r.read_line(&mut line).await.unwrap();
            let v: Value = serde_json::from_str(&line).unwrap();
            let ids: Vec<u64> = v
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x["id"].as_u64().unwrap())
                .collect();
            let reply = format!("[{{\"id\":{},\"result\":2}},{{\"id\":{},\"error\":{{\"code\":1,\"message\":\"no\"}}}}]\n", ids[1], ids[0]);
            server.write_all(reply.as_bytes()).await.unwrap();
            server
        });
        let (outcomes, _) = s
            .batch(vec![("a".into(), json!([])), ("b".into(), json!([]))])
            .await;
        let _server = task.await.unwrap();
        assert!(matches!(&outcomes[0], CallOutcome::Error { error, .. } if error.code == Some(1)));
        assert!(matches!(&outcomes[1], CallOutcome::Result { value, .. } if *value == json!(2)));
    }

    #[tokio::test]
    async fn line_cap_closes_the_session_as_a_limit() {
        let (mut s, mut server) = session(
            Limits {
                max_line: 32,
                max_total: 1024,
            },
            10,
        );
        let id = s.send("server.banner", json!([])).await.unwrap();
        server.write_all(&[b'a'; 100]).await.unwrap();
        assert!(matches!(s.wait(id).await, CallOutcome::Closed { .. }));
        assert!(matches!(s.closure(), Some(Closure::Limit(_))));
    }

    #[tokio::test]
    async fn session_byte_cap_closes_the_session_as_a_limit() {
        let (mut s, mut server) = session(
            Limits {
                max_line: 64,
                max_total: 200,
            },
            10,
        );
        let id = s.send("server.banner", json!([])).await.unwrap();
        for _ in 0..20 {
            server
                .write_all(b"{\"method\":\"x\",\"params\":[]}\n")
                .await
                .unwrap();
        }
        assert!(matches!(s.wait(id).await, CallOutcome::Closed { .. }));
        assert!(matches!(s.closure(), Some(Closure::Limit(_))));
    }

    #[tokio::test]
    async fn notification_flood_is_capped() {
        let (mut s, mut server) = session(Limits::default(), 10);
        let id = s.send("server.banner", json!([])).await.unwrap();
        let flood = "{\"method\":\"n\",\"params\":[]}\n".repeat(MAX_NOTIFICATIONS as usize + 5);
        let writer = tokio::spawn(async move {
            let _ = server.write_all(flood.as_bytes()).await;
            server
        });
        assert!(matches!(s.wait(id).await, CallOutcome::Closed { .. }));
        assert!(matches!(s.closure(), Some(Closure::Limit(_))));
        drop(writer);
        let (_, notes, _) = s.into_records();
        assert_eq!(notes.len(), MAX_NOTIFICATIONS_KEPT);
    }

    #[tokio::test]
    async fn silence_is_a_timeout_and_a_late_reply_is_not_unmatched() {
        let (mut s, mut server) = session(Limits::default(), 10);
        let id = s.send("server.banner", json!([])).await.unwrap();
        assert_eq!(s.wait(id).await, CallOutcome::Timeout);
        server
            .write_all(format!("{{\"id\":{id},\"result\":1}}\n").as_bytes())
            .await
            .unwrap();
        let id2 = s.send("server.ping", json!([])).await.unwrap();
        server
            .write_all(format!("{{\"id\":{id2},\"result\":null}}\n").as_bytes())
            .await
            .unwrap();
        assert!(matches!(s.wait(id2).await, CallOutcome::Result { .. }));
        let (_, _, wire) = s.into_records();
        assert_eq!(wire.unmatched_replies, 0);
    }

    #[tokio::test]
    async fn pipelined_requests_are_all_sent_before_any_reply_is_read() {
        let (mut s, server) = session(Limits::default(), 10);
        let task = tokio::spawn(async move {
            let mut r = BufReader::new(server);
            let mut ids = Vec::new();
            // All three requests arrive before the server answers anything.
            for _ in 0..3 {
                let mut line = String::new();
                r.read_line(&mut line).await.unwrap();
                ids.push(
                    serde_json::from_str::<Value>(&line).unwrap()["id"]
                        .as_u64()
                        .unwrap(),
                );
            }
            // Answered in reverse order, one with an error.
            let reply = format!(
                "{{\"id\":{},\"result\":3}}\n{{\"id\":{},\"error\":{{\"code\":-101,\"message\":\"excessive\"}}}}\n{{\"id\":{},\"result\":1}}\n",
                ids[2], ids[1], ids[0]
            );
            r.get_mut().write_all(reply.as_bytes()).await.unwrap();
            r
        });
        let calls = (0..3)
            .map(|_| ("server.ping".to_string(), json!([])))
            .collect();
        let outs = s.pipeline(calls).await;
        let _server = task.await.unwrap();
        assert!(matches!(&outs[0], CallOutcome::Result { value, .. } if *value == json!(1)));
        assert!(matches!(&outs[1], CallOutcome::Error { error, .. } if error.code == Some(-101)));
        assert!(matches!(&outs[2], CallOutcome::Result { value, .. } if *value == json!(3)));
        assert_eq!(s.rate_limited(), 1);
        assert_eq!(s.budget_left(), 7);
    }

    #[tokio::test]
    async fn a_closed_session_sends_nothing_more() {
        let (mut s, _server) = session(Limits::default(), 10);
        Rpc::close(&mut s).await;
        assert!(s.is_closed() && s.shut_down());
        assert!(matches!(
            s.call("server.ping", json!([])).await,
            CallOutcome::Closed { .. }
        ));
        assert_eq!(s.budget_left(), 10);
    }

    #[tokio::test]
    async fn budget_is_enforced() {
        let (mut s, _server) = session(Limits::default(), 1);
        assert!(s.send("a", json!([])).await.is_ok());
        assert_eq!(s.send("b", json!([])).await, Err(CallOutcome::OverBudget));
        assert_eq!(s.send_raw(b"{}").await, RawOutcome::OverBudget);
        assert_eq!(s.budget_left(), 0);
    }

    #[tokio::test]
    async fn garbage_lines_are_counted_and_then_close() {
        let (mut s, mut server) = session(Limits::default(), 10);
        let id = s.send("server.banner", json!([])).await.unwrap();
        server
            .write_all("<html>\n".repeat(MAX_BAD_LINES as usize + 1).as_bytes())
            .await
            .unwrap();
        assert!(matches!(s.wait(id).await, CallOutcome::Closed { .. }));
        assert!(matches!(s.closure(), Some(Closure::Protocol(_))));
        assert!(s.last_bad_line().is_some_and(|l| l.contains("<html>")));
    }

    #[tokio::test]
    async fn send_raw_returns_the_next_line() {
        let (mut s, mut server) = session(Limits::default(), 10);
        server
            .write_all(b"{\"error\":{\"code\":-32700,\"message\":\"parse\"},\"id\":null}\n")
            .await
            .unwrap();
        match s.send_raw(b"{not json").await {
            RawOutcome::Line { text, .. } => assert!(text.contains("-32700")),
            other => panic!("{other:?}"),
        }
        drop(server);
        assert!(matches!(s.send_raw(b"{}").await, RawOutcome::Closed { .. }));
    }
}
