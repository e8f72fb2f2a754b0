//! Integration tests of the core, in one crate to keep link time low. Each module tests one
//! part against real sockets, files and processes.

mod api;
mod cli;
mod engine;
mod exchange;
mod leader_add;
mod leader_figures;
mod leaders;
mod measure_figures;
mod paper_copy;
mod paper_portfolio;
mod portfolio_app;
mod portfolio_find;
mod runtime;
mod secrets;
mod sim;
mod statements;
mod store;
