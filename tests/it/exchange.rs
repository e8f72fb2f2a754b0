//! Tests of the exchange port and the Binance USD-M adapter: payload parsing over the
//! fixtures, the HTTP client against a loopback server that checks what it receives, the
//! user-data stream against a loopback WebSocket server, and secret hygiene.
//!
//! The loopback venue in `support` stands in for the simulator, which is written in
//! parallel; the tests talk to it only through a base URL, so pointing them at the
//! simulator later means swapping the server they start.

mod support;

mod http;
mod parse;
mod secrets;
mod stream;
