//! CopyDesk core: copies a lead trader's futures trades onto the user's own exchange
//! account. This crate has no dependency on the desktop shell; the Tauri app and the
//! `copydesk` CLI both drive it through [`api`].
//!
//! Layout (see `docs/architecture.md`):
//! - [`domain`]: money and quantity newtypes, symbols and their filters.
//! - [`engine`]: pure copy decisions, no I/O.
//! - [`runtime`]: tokio tasks that drive the engine against venues.
//! - [`exchange`]: the venue port and one adapter per venue.
//! - [`sim`]: a simulated Binance USD-M exchange over real HTTP and WebSocket.
//! - [`store`]: the SQLite database.
//! - [`secrets`]: OS keychain access and the redacting [`secrets::Secret`] type.
//! - [`analytics`]: leader figures and what-if replay.
//! - [`api`]: the facade every shell calls.
//! - [`logging`]: tracing set-up shared by the app and the CLI.
//! - [`paths`]: where data lives and the app identifier (the lowest floor that needs them).

pub mod analytics;
pub mod api;
pub mod domain;
pub mod engine;
pub mod exchange;
pub mod logging;
pub mod paths;
pub mod runtime;
pub mod secrets;
pub mod sim;
pub mod store;
