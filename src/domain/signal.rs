//! Leader signals: one change on the leader's account that a copy must react to, in the
//! venue-neutral shape the engine plans from. Sources (a live stream, a polled public
//! portfolio) map their events into these; the engine never sees venue payloads.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::decimal;
use super::num::{Price, Quantity};
use super::symbol::Symbol;
use super::trading::{MarginMode, PositionSide, Side};

/// One leader change, stamped with the leader venue's event time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaderSignal {
    /// Unique and stable id of the leader event (e.g. the venue's trade id). Client order
    /// ids are derived from it, so the same event must always carry the same id.
    pub id: String,
    pub symbol: Symbol,
    /// The leader's book: `Both` for a one-way leader, `Long`/`Short` for a hedge leader.
    pub position_side: PositionSide,
    /// Venue event time, milliseconds since the Unix epoch.
    pub event_time_ms: i64,
    pub kind: SignalKind,
}

/// What changed on the leader.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SignalKind {
    /// A fill of a leader order.
    Fill(LeaderFill),
    /// The leader's leverage on the symbol changed.
    LeverageChange { leverage: u32 },
    /// The leader's margin mode on the symbol changed.
    MarginModeChange { margin_mode: MarginMode },
    /// Margin added (positive) or removed (negative) on an isolated position, not by an
    /// order and not by funding.
    IsolatedMargin {
        #[serde(with = "decimal")]
        change: Decimal,
        /// The leader's isolated margin on that position just before the change.
        #[serde(with = "decimal")]
        isolated_margin_before: Decimal,
    },
}

/// A fill of a leader order, with what the engine must know to size the copy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaderFill {
    /// The leader order this fill belongs to; fills of one order accumulate.
    pub order_id: String,
    pub side: Side,
    /// Quantity of this fill, in base units.
    pub qty: Quantity,
    /// Fill price: the sizing price and the slippage reference.
    pub price: Price,
    /// The leader's position on this book just before the fill, signed: long positive,
    /// short negative (also in hedge mode).
    #[serde(with = "decimal")]
    pub position_before: Decimal,
    /// True when this fill completes the leader order (no more fills will follow).
    pub order_final: bool,
    /// The leader's leverage on the symbol when the fill happened.
    pub leverage: u32,
    pub margin_mode: MarginMode,
    /// Leader equity (wallet + unrealized PnL at mark over USDT and USDC) as of the last
    /// account event before this fill; `None` when the source publishes none.
    #[serde(with = "decimal::option", default)]
    pub equity_before: Option<Decimal>,
}

impl LeaderFill {
    /// The signed change this fill makes to the leader's position.
    pub fn signed_qty(&self) -> Decimal {
        match self.side {
            Side::Buy => self.qty.get(),
            Side::Sell => -self.qty.get(),
        }
    }

    /// The leader's position on this book just after the fill, signed.
    pub fn position_after(&self) -> Decimal {
        self.position_before + self.signed_qty()
    }
}
