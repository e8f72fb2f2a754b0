//! Pure copy decisions: sizing, signal → planned actions, risk gate, reconciliation diff,
//! client order ids, offline-protection stops and per-copy figures. No I/O, no clocks:
//! every input is an argument, and the same input always gives the same plan.

pub mod client_id;
pub mod protection;
pub mod risk;
pub mod signal;
pub mod sizing;
pub mod types;

pub use client_id::client_id;
pub use protection::plan_protection;
pub use signal::{plan, PlanInput};
pub use types::*;
