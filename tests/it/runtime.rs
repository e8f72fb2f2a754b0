//! Integration tests of `runtime`: the real `copydesk` binary runs as a child process
//! against a simulator hosted in the test process, over loopback HTTP and WebSocket; the
//! tests trade the leader through the simulator's REST API and read the follower back
//! from its admin API.

pub(crate) mod in_process;
pub(crate) mod support;

mod backwards;
mod controls;
mod crash;
mod demo;
mod disconnect;
mod dropped_signal;
mod examples;
mod fault_matrix;
mod fees;
mod funding;
mod group_commit;
mod guard;
mod hedge;
mod hot_path;
mod integrity;
mod key_check;
mod leader_equity;
mod leader_poll;
mod liquidation;
mod lost_fills;
mod margin_mode;
mod marks;
mod memory_venue;
mod order_end;
mod outside_fills;
mod poll_vs_stream;
mod port;
mod portfolio_copy;
mod portfolio_repair;
mod power_cut;
mod protection;
mod reconcile_weight;
mod refusals;
mod replay_parity;
mod reset;
mod resume;
mod resync;
mod setup_actions;
mod several;
mod shared_leader;
mod shared_market;
mod shutdown;
mod slippage;
mod stops;
mod unknown;
mod venue_faults;
mod weight_status;
