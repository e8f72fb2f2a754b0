//! A trading symbol such as `BTCUSDT`, with the base and quote assets it trades.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::num::Asset;

/// A venue-neutral perpetual symbol: its name as the venue spells it, and its assets.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Symbol {
    pub name: String,
    pub base: Asset,
    pub quote: Asset,
}

impl Symbol {
    pub fn new(name: impl Into<String>, base: Asset, quote: Asset) -> Self {
        Self {
            name: name.into(),
            base,
            quote,
        }
    }
}

impl fmt::Display for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}
