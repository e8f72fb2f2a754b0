//! Pure copy decisions: sizing, signal → planned actions, risk gate, reconciliation diff,
//! client order ids, offline-protection stops, lifecycle (start, stop, panic) and
//! per-copy figures. No I/O, no clocks: every input is an argument, and the same input
//! always gives the same plan.

pub mod client_id;
pub mod figures;
pub mod lifecycle;
pub mod protection;
pub mod reconcile;
pub mod risk;
pub mod signal;
pub mod sizing;
pub mod types;

#[cfg(test)]
mod props;

pub use client_id::client_id;
pub use lifecycle::{
    plan_panic, plan_pnl_check, plan_release, plan_start, plan_stop, LeaderPosition,
    PositionRelease, StartInput,
};
pub use protection::plan_protection;
pub use reconcile::{reconcile, LeaderSnapshot, ReconcileInput, SnapshotStatus};
pub use signal::{plan, PlanInput};
pub use types::*;
