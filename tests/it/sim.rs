//! Integration tests of `sim` (see the module for what it owns): real HTTP and WebSocket
//! clients against a simulator started in-process on a loopback port.

mod shape;
pub(crate) mod support;

mod admin;
mod concurrency;
mod limits;
mod model;
mod portfolio;
mod process;
mod rejections;
mod shapes;
mod signing;
mod state;
mod streams;
