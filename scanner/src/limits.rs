//! Every limit and default the scanner applies, as named constants.
//!
//! Two families: *politeness* (how much we ask of a server; see `docs/scanner.md` for how
//! these compare with ElectrumX's default cost limits) and *safety* (how much a hostile
//! server can make us hold or do). Framing caps (line length, bytes per session) live in
//! `observatory_protocol::frame` beside the code that enforces them.

use std::time::Duration;

/// Default number of endpoints scanned at once (`--concurrency`).
pub const DEFAULT_CONCURRENCY: usize = 64;

/// Default wall-clock budget for one endpoint, connect to last probe (`--endpoint-timeout`).
pub const DEFAULT_ENDPOINT_TIMEOUT: Duration = Duration::from_secs(45);

/// Default TCP (or SOCKS5) connect deadline (`--connect-timeout`).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Deadline for one request's reply (always also capped by the endpoint deadline).
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Deadline for the TLS handshake.
pub const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Deadline for resolving one host name (A and AAAA).
pub const DNS_TIMEOUT: Duration = Duration::from_secs(10);

/// Most requests sent to one endpoint over all its connections (metadata + probes).
/// ElectrumX charges roughly 1 cost unit per cheap request against a default soft limit of
/// 1000 (`COST_SOFT_LIMIT`), so 200 keeps a full scan far below the point where it throttles.
pub const REQUEST_BUDGET: u32 = 200;

/// Notifications kept in the record per endpoint (later ones are counted, not kept).
pub const MAX_NOTIFICATIONS_KEPT: usize = 50;

/// Notifications tolerated per session before it is closed as `limit-exceeded`.
pub const MAX_NOTIFICATIONS: u64 = 1_000;

/// Lines that are not JSON-RPC tolerated per session before it is closed as `protocol-error`.
pub const MAX_BAD_LINES: u64 = 20;

/// Longest notification `params` kept, bytes of JSON (longer ones are replaced by a truncated string).
pub const MAX_NOTIFICATION_PARAMS_BYTES: usize = 1_024;

/// Longest server string kept (banner, donation address, version string), bytes.
pub const MAX_SERVER_STRING: usize = 8 * 1_024;

/// Longest `server.features` object kept raw, bytes of JSON.
pub const MAX_RAW_FEATURES_BYTES: usize = 64 * 1_024;

/// Peers parsed (and kept raw) from one `server.peers.subscribe` answer: a server advertising
/// 100,000 peers gets its first 1,000 looked at, so one answer cannot amplify a crawl.
pub const MAX_PEERS_PARSED: usize = 1_000;

/// Feature strings kept per peer.
pub const MAX_PEER_FEATURES: usize = 16;

/// Longest host name accepted from a peer list or `features.hosts` (DNS allows 253).
pub const MAX_HOST_LEN: usize = 255;

/// `server.features` `hosts` entries parsed.
pub const MAX_FEATURE_HOSTS: usize = 64;

/// Top-level `server.features` keys kept in the parsed key list.
pub const MAX_FEATURE_KEYS: usize = 128;

/// Certificates parsed from one presented chain.
pub const MAX_CHAIN_CERTS: usize = 10;

/// SAN entries kept per certificate (the count of all of them is kept too).
pub const MAX_SAN_ENTRIES: usize = 64;

/// Longest certificate text field kept (subject, issuer, one SAN entry), bytes.
pub const MAX_CERT_FIELD: usize = 1_024;

/// Longest raw line returned to a probe by `send_raw`, bytes.
pub const MAX_RAW_LINE_TEXT: usize = 4_096;

/// Requests kept in the per-endpoint request log (the budget caps it anyway).
pub const MAX_REQUEST_LOG: usize = REQUEST_BUDGET as usize + 16;

/// `blockchain.estimatefee` targets asked (blocks).
pub const ESTIMATEFEE_TARGETS: [u32; 3] = [2, 6, 25];

/// JSON-RPC error codes that mean "slow down" (aiorpcx: -101 excessive resource usage,
/// -102 server busy).
pub const RATE_LIMIT_CODES: [i64; 2] = [-101, -102];

/// First pause after a rate-limit error; doubles on each further one (bounded by the deadline).
pub const RATE_LIMIT_BACKOFF: Duration = Duration::from_secs(2);

/// Default crawl depth (`--max-depth`): seeds are depth 0.
pub const DEFAULT_MAX_DEPTH: u32 = 2;

/// Default most endpoints per round (`--max-servers`), seeds included.
pub const DEFAULT_MAX_SERVERS: usize = 5_000;

/// Open-file limit the scanner asks for at start (each endpoint holds one or two sockets).
pub const NOFILE_TARGET: u64 = 65_536;

/// Client name and protocol range sent in `server.version`, as the Electrum client does.
pub const CLIENT_NAME: &str = "electrum/4.5.8";

/// Lowest protocol version asked for.
pub const PROTOCOL_MIN: &str = "1.4";

/// Highest protocol version asked for.
pub const PROTOCOL_MAX: &str = "1.6";
