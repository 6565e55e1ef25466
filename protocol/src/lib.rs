//! Electrum protocol pieces with no I/O, kept apart like mini-redis:
//!
//! * [`frame`]: newline framing over a byte buffer with hard caps
//!   ([`frame::LineBuffer`]): `check` for a complete line, then take it.
//! * [`message`]: one line of bytes → a classified [`message::Incoming`]
//!   (reply by id, notification, batch), and request encoding.
//! * [`scripthash`]: Electrum scripthash of a scriptPubKey.
//!
//! The async connection that moves bytes lives in the scanner (client) and the
//! simnet (server); both use these types so that there is one framing and one
//! parser, which the fuzz targets exercise.
//!
//! ```
//! use observatory_protocol::frame::{LineBuffer, Limits};
//! use observatory_protocol::message::{classify, Incoming};
//! let mut buf = LineBuffer::new(Limits::default());
//! buf.extend(b"{\"jsonrpc\":\"2.0\",\"id\":1,\"result\":[\"ElectrumX 1.16.0\",\"1.4\"]}\n").unwrap();
//! let line = buf.next_line().unwrap().unwrap();
//! match classify(&line.bytes).unwrap() {
//!     Incoming::Reply(r) => assert_eq!(r.id, Some(1)),
//!     other => panic!("{other:?}"),
//! }
//! ```

pub mod frame;
pub mod message;
pub mod scripthash;
