//! Shared test helpers: fixtures, a hand-moved clock, and a loopback stand-in for the venue.

use std::path::PathBuf;

/// Reads `tests/fixtures/binance-usdm/<name>.json`.
pub fn fixture(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/binance-usdm")
        .join(format!("{name}.json"));
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("fixture {} should exist: {e}", path.display()))
}
