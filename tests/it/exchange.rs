//! Tests of the exchange port and the Binance USD-M adapter: payload parsing over the
//! fixtures, the adapter against the project's simulator (`against_sim`: every port
//! method, stream recovery, limits, skew, key checks), and against a scripted loopback
//! venue (`http`, `stream`, `secrets`) for what the simulator cannot produce on demand:
//! lost answers, unknown outcomes, exact `429`/`418` headers, hand-moved clocks.

mod support;

mod against_sim;
mod http;
mod parse;
mod secrets;
mod stream;
