//! The Binance adapter against the project's own simulator over loopback: every port
//! method with the model's real numbers, the user-data stream through forced disconnects
//! and listen-key expiry, the shared weight limiter under a burst, clock-skew recovery,
//! every key-permission case and secret hygiene. Only what the simulator cannot produce
//! (timeouts, unknown outcomes, exact ban headers) stays on the scripted venue.

mod support;

mod background;
mod ed25519;
mod events;
mod hedge;
mod keys;
mod limits;
mod port;
mod secrets;
mod stream;
mod unconfirmed;
