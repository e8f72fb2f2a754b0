//! A simulated exchange that speaks the Binance USD-M wire protocol over real HTTP and
//! WebSocket: matching and margin model, admin API, faults, price feeds. Serves every
//! integration test and paper mode.
//!
//! Start it in-process with [`Simulator::start`] and a [`SimConfig`]; the returned
//! [`SimHandle`] gives the address, the admin token, demo leader keys and direct calls
//! to create accounts, move prices and advance simulated time. With
//! [`SimConfig::state_file`] its state lasts across restarts ([`state`]).
//! `docs/simulator.md` describes the wire surface, the admin API and the state file.

pub mod account;
pub mod admin;
pub mod algo;
pub mod auth;
pub mod book;
pub mod cli;
pub mod clock;
pub mod demo;
pub mod error;
pub mod events;
pub mod exchange;
pub mod faults;
pub mod feed;
pub mod limits;
pub mod market;
pub mod matching;
pub mod orders;
pub mod params;
pub mod portfolio;
pub mod quote;
pub mod rest;
pub mod risk;
pub mod server;
pub mod state;
pub mod tape;
pub mod views;
pub mod ws;

pub use account::Permissions;
pub use demo::{DemoLeader, Style};
pub use exchange::{AccountKeys, KeyType, ModelConfig, NewAccount};
pub use limits::LimitConfig;
pub use server::{PriceMode, SimConfig, SimHandle, SimPrices, Simulator};
pub use state::{state_path, SimStateError};
