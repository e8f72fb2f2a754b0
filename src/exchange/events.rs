//! Normalised account events from a venue's private stream: one struct per event, wrapped
//! in [`AccountEvent`]. Every event carries the venue's event time and the local time it
//! was received, so the runtime can order events and measure their age.

use rust_decimal::Decimal;

use crate::domain::{Asset, MarginMode, Money, PositionSide, Price, Quantity};

use super::error::ExchangeError;
use super::types::{AccountSnapshot, ConditionalReport, Millis, OrderReport};

/// When an event happened and when we got it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventTimes {
    /// The venue's event time.
    pub venue: Millis,
    /// The venue's transaction (matching-engine) time, where it sends one.
    pub transaction: Option<Millis>,
    /// Local wall-clock time when the message was read from the socket.
    pub received: Millis,
    /// The same moment in microseconds on the wall clock, for latency figures.
    pub received_us: i64,
}

/// What happened to an order in this event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Execution {
    New,
    /// A fill; the report holds the cumulative state after it.
    Trade(Fill),
    Canceled,
    Expired,
    /// A liquidation execution by the venue (`x = CALCULATED` on Binance), with its fill.
    Liquidation(Fill),
    /// The order was modified.
    Amended,
    Other(String),
}

impl Execution {
    /// The fill this event carries: a trade, or the venue's liquidation of a position.
    pub fn fill(&self) -> Option<&Fill> {
        match self {
            Execution::Trade(f) | Execution::Liquidation(f) => Some(f),
            Execution::New
            | Execution::Canceled
            | Execution::Expired
            | Execution::Amended
            | Execution::Other(_) => None,
        }
    }
}

/// One fill, as carried by an order update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fill {
    pub trade_id: String,
    pub quantity: Quantity,
    pub price: Price,
    /// Commission of this fill; `None` when the venue left the asset out.
    pub commission: Option<Money>,
    pub realized_pnl: Decimal,
    pub maker: bool,
}

/// A regular order changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderUpdate {
    pub times: EventTimes,
    pub execution: Execution,
    pub order: OrderReport,
}

/// A conditional order changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConditionalUpdate {
    pub times: EventTimes,
    pub order: ConditionalReport,
    /// The venue's reason text, for rejections.
    pub reason: Option<String>,
}

/// Why balances or positions changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BalanceReason {
    Order,
    FundingFee,
    Deposit,
    Withdraw,
    MarginTransfer,
    MarginTypeChange,
    Liquidation,
    Other(String),
}

/// New state of one balance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BalanceChange {
    pub asset: Asset,
    pub wallet_balance: Decimal,
    pub cross_wallet_balance: Decimal,
    /// Change excluding PnL and commission.
    pub change: Decimal,
}

/// New state of one position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PositionChange {
    pub symbol: String,
    pub position_side: PositionSide,
    /// Positive long, negative short; zero when closed.
    pub signed_quantity: Decimal,
    pub entry_price: Option<Price>,
    pub unrealized_pnl: Decimal,
    pub margin_mode: MarginMode,
    /// Isolated wallet; zero for cross positions.
    pub isolated_margin: Decimal,
}

/// Balances and/or positions changed. Only what changed is listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BalancePositionUpdate {
    pub times: EventTimes,
    pub reason: BalanceReason,
    pub balances: Vec<BalanceChange>,
    pub positions: Vec<PositionChange>,
}

/// A symbol's leverage changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeverageChanged {
    pub times: EventTimes,
    pub symbol: String,
    pub leverage: u32,
}

/// Multi-assets margin was switched on or off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MultiAssetsChanged {
    pub times: EventTimes,
    pub enabled: bool,
}

/// One position named in a margin call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarginCallPosition {
    pub symbol: String,
    pub position_side: PositionSide,
    pub signed_quantity: Decimal,
    pub margin_mode: MarginMode,
    pub mark_price: Option<Price>,
    pub unrealized_pnl: Decimal,
    pub maintenance_margin: Decimal,
}

/// The venue warns that margin is running out. Advisory: liquidation may be under way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarginCall {
    pub times: EventTimes,
    pub cross_wallet_balance: Option<Decimal>,
    pub positions: Vec<MarginCallPosition>,
}

/// A conditional order fired but the order it placed was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TriggerRejected {
    pub times: EventTimes,
    pub symbol: String,
    pub venue_order_id: String,
    pub reason: String,
}

/// The stream lost its connection; events may have been missed until the next
/// [`Resynced`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disconnected {
    pub at: Millis,
    pub reason: String,
}

/// The stream is (re)connected and this snapshot was taken after the socket opened, so
/// snapshot plus the events that follow cover everything. Sent after every connect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resynced {
    pub at: Millis,
    pub snapshot: AccountSnapshot,
}

/// The stream stopped for good (e.g. the key was revoked); the runtime must pause the
/// copies that depend on it and tell the user.
#[derive(Debug, Clone)]
pub struct StreamFailed {
    pub at: Millis,
    pub error: ExchangeError,
}

/// Everything a private stream reports.
#[derive(Debug, Clone)]
pub enum AccountEvent {
    Order(OrderUpdate),
    Conditional(ConditionalUpdate),
    BalancePosition(BalancePositionUpdate),
    Leverage(LeverageChanged),
    MultiAssets(MultiAssetsChanged),
    MarginCall(MarginCall),
    TriggerRejected(TriggerRejected),
    Disconnected(Disconnected),
    Resynced(Resynced),
    Failed(StreamFailed),
}
