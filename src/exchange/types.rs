//! Venue-neutral values the port exchanges with the runtime: order requests, order reports,
//! account snapshots, symbol rules, trades, income and key-check results. Nothing here knows
//! a venue's wire format; adapters map into these types with explicit `match`es.
//!
//! Quantities are in base units (coins), on every venue. A venue that trades in contracts
//! (OKX, Bitget, Gate: one contract of `BTC-USDT-SWAP` is 0.01 BTC) converts inside its
//! adapter, both ways: order quantities, fills, positions and the filters it publishes
//! (a lot of 1 contract becomes a step of 0.01 BTC). [`SymbolRules::contract_size`] says
//! what one contract is, for display and for adapters; the runtime never multiplies by it.
//! Symbols are spelled as the venue spells them (`BTCUSDT`, `BTC-USDT-SWAP`); the runtime
//! treats them as opaque names and reads the assets from [`Symbol`]. Times are
//! milliseconds since the Unix epoch.

use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::domain::{
    Asset, MarginMode, Money, PositionMode, PositionSide, Price, Quantity, Side, Symbol,
    SymbolFilters,
};

/// Milliseconds since the Unix epoch.
pub type Millis = i64;

/// A client order id every supported venue accepts: 1 to 32 ASCII letters and digits
/// (OKX allows 32 alphanumerics, Binance 36 of a wider set, BingX lower-cases ids, so the
/// engine's ids are lower-case already).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct ClientOrderId(String);

impl ClientOrderId {
    /// Checks the length and character set.
    pub fn new(id: &str) -> Result<Self, InvalidClientOrderId> {
        let ok = (1..=32).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric());
        if ok {
            Ok(Self(id.to_owned()))
        } else {
            Err(InvalidClientOrderId(id.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ClientOrderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ClientOrderId({})", self.0)
    }
}

impl fmt::Display for ClientOrderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for ClientOrderId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        ClientOrderId::new(&s).map_err(serde::de::Error::custom)
    }
}

/// A client order id that is not 1–32 ASCII letters and digits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("client order id `{0}` must be 1 to 32 ASCII letters and digits")]
pub struct InvalidClientOrderId(pub String);

/// Time in force of a limit order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeInForce {
    GoodTillCancel,
    ImmediateOrCancel,
    FillOrKill,
    PostOnly,
}

/// What kind of regular order to place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OrderKind {
    Market,
    Limit {
        price: Price,
        time_in_force: TimeInForce,
    },
}

/// A regular (market or limit) order as the engine wants it. The adapter rounds the
/// quantity down to the venue's step and the price to its tick, and checks the minimums,
/// before anything is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRequest {
    pub client_id: ClientOrderId,
    /// The symbol as the venue spells it ([`Symbol::name`]).
    pub symbol: String,
    pub side: Side,
    /// `Both` in one-way mode; `Long`/`Short` in hedge mode.
    pub position_side: PositionSide,
    pub kind: OrderKind,
    pub quantity: Quantity,
    /// The order may only shrink a position. In hedge mode the venue infers this from the
    /// side and position side, so adapters that cannot send the flag there leave it out.
    pub reduce_only: bool,
    /// Venues that take the margin mode per order (OKX) use it; Binance keeps it per
    /// symbol, set beforehand with [`super::Exchange::set_margin_mode`].
    pub margin_mode: MarginMode,
}

/// Which price a conditional order watches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TriggerPrice {
    Mark,
    Last,
}

/// The kinds of conditional order the copier uses: protective stops and take-profits that
/// become market orders when they trigger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConditionalKind {
    StopMarket,
    TakeProfitMarket,
}

/// How much a conditional order closes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ConditionalSize {
    /// Exactly this quantity, reduce-only.
    Quantity { quantity: Quantity },
    /// Whatever the position holds when the order triggers.
    ClosePosition,
}

/// A conditional (trigger) order: on Binance this goes to the algo service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConditionalOrderRequest {
    pub client_id: ClientOrderId,
    pub symbol: String,
    pub side: Side,
    pub position_side: PositionSide,
    pub kind: ConditionalKind,
    pub trigger_price: Price,
    pub trigger_by: TriggerPrice,
    pub size: ConditionalSize,
    pub margin_mode: MarginMode,
}

/// Lifecycle of a regular order. `Sent` is ours alone: the request left but the venue has
/// not acknowledged it, so the order must be looked up by client id before anything is
/// sent again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Sent,
    New,
    PartiallyFilled,
    Filled,
    Canceled,
    Rejected,
    Expired,
}

impl OrderStatus {
    /// No further fills can happen.
    pub fn is_final(self) -> bool {
        match self {
            OrderStatus::Filled
            | OrderStatus::Canceled
            | OrderStatus::Rejected
            | OrderStatus::Expired => true,
            OrderStatus::Sent | OrderStatus::New | OrderStatus::PartiallyFilled => false,
        }
    }
}

/// Order type as reported back (venues report types the copier never sends, such as a
/// liquidation).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportedOrderType {
    Market,
    Limit,
    StopMarket,
    TakeProfitMarket,
    Stop,
    TakeProfit,
    TrailingStopMarket,
    Liquidation,
    Other(String),
}

/// Who created an order, as far as the venue says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderOrigin {
    /// A client (us, the user, another tool): check the client id to tell which.
    Client,
    Liquidation,
    AutoDeleverage,
    Settlement,
}

/// The venue's view of one regular order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderReport {
    /// Kept as the venue sent it: orders made by hand or by the venue carry ids that are
    /// not [`ClientOrderId`]s.
    pub client_id: String,
    pub venue_order_id: String,
    pub symbol: String,
    pub side: Side,
    pub position_side: PositionSide,
    pub order_type: ReportedOrderType,
    pub status: OrderStatus,
    pub origin: OrderOrigin,
    /// `None` for market orders.
    pub price: Option<Price>,
    pub quantity: Quantity,
    pub filled_quantity: Quantity,
    /// `None` until something filled.
    pub average_price: Option<Price>,
    pub reduce_only: bool,
    pub updated_at: Millis,
}

/// What a placement came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// The venue answered with the order.
    Acknowledged(OrderReport),
    /// The request was sent but no answer came (timeout, or the venue said the outcome is
    /// unknown). The order may exist: look it up by client id before sending again.
    Unconfirmed {
        client_id: ClientOrderId,
        reason: String,
    },
}

/// What a cancel came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CancelOutcome {
    Canceled(OrderReport),
    /// The venue knows no open order with that id: it filled, was cancelled, or never
    /// existed. Query it to tell which.
    NotOpen,
}

/// Status of a conditional order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConditionalStatus {
    Sent,
    New,
    Triggering,
    /// Fired: a regular order now exists (see `triggered_order_id`).
    Triggered,
    Finished,
    Canceled,
    Rejected,
    Expired,
}

/// The venue's view of one conditional order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConditionalReport {
    pub client_id: String,
    pub venue_id: String,
    pub symbol: String,
    pub side: Side,
    pub position_side: PositionSide,
    pub order_type: ReportedOrderType,
    pub status: ConditionalStatus,
    pub trigger_price: Option<Price>,
    /// `None` for close-position orders.
    pub quantity: Option<Quantity>,
    pub close_position: bool,
    pub reduce_only: bool,
    /// The regular order the trigger placed, once it fired.
    pub triggered_order_id: Option<String>,
    pub updated_at: Millis,
}

/// What a conditional placement came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConditionalPlacement {
    Acknowledged(ConditionalReport),
    Unconfirmed {
        client_id: ClientOrderId,
        reason: String,
    },
}

/// Whether a settings change did anything. "Already set" is success, not an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SettingOutcome {
    Changed,
    AlreadySet,
}

/// Direction of an isolated-margin transfer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MarginChange {
    Add,
    Reduce,
}

/// Balance of one margin asset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Balance {
    pub asset: Asset,
    pub wallet_balance: Decimal,
    pub unrealized_pnl: Decimal,
    /// Wallet balance plus unrealized PnL.
    pub margin_balance: Decimal,
    pub available_balance: Decimal,
    pub updated_at: Millis,
}

/// One position as the venue reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PositionSnapshot {
    pub symbol: String,
    pub position_side: PositionSide,
    /// Positive long, negative short, in base units.
    pub signed_quantity: Decimal,
    pub entry_price: Option<Price>,
    pub mark_price: Option<Price>,
    pub unrealized_pnl: Decimal,
    pub liquidation_price: Option<Price>,
    pub margin_mode: MarginMode,
    pub leverage: u32,
    /// Initial margin the position holds (cross) or its isolated wallet (isolated).
    pub margin: Decimal,
    pub maintenance_margin: Decimal,
    pub notional: Decimal,
    pub margin_asset: Asset,
    pub updated_at: Millis,
}

/// Leverage and margin mode configured for a symbol, whether or not a position is open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SymbolSetting {
    pub symbol: String,
    pub leverage: u32,
    pub margin_mode: MarginMode,
}

/// Everything reconciliation needs about an account at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountSnapshot {
    pub balances: Vec<Balance>,
    /// Total margin balance in the account's valuation asset (USD-valued in Binance's
    /// Multi-Assets mode).
    pub equity: Decimal,
    pub available: Decimal,
    pub positions: Vec<PositionSnapshot>,
    pub symbol_settings: Vec<SymbolSetting>,
    pub open_orders: Vec<OrderReport>,
    pub open_conditionals: Vec<ConditionalReport>,
    pub position_mode: PositionMode,
    pub multi_assets: bool,
    /// Local time when the snapshot was complete.
    pub taken_at: Millis,
}

/// Whether a symbol accepts orders now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", content = "venue_status", rename_all = "snake_case")]
pub enum TradingStatus {
    Trading,
    /// Listed but not trading; the venue's own status word is kept.
    Halted(String),
}

/// A symbol's trading rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SymbolRules {
    pub symbol: Symbol,
    pub margin_asset: Asset,
    pub status: TradingStatus,
    pub filters: SymbolFilters,
    /// Lowest and highest accepted prices (zero: no bound).
    pub min_price: Decimal,
    pub max_price: Decimal,
    /// Base units one contract stands for: 1 where the venue trades in base units
    /// (Binance USD-M), 0.01 for OKX's `BTC-USDT-SWAP`. Quantities and filters above are
    /// already in base units; this is for showing contracts and for adapters.
    pub contract_size: Decimal,
}

/// One open position's size, from the venue's light positions-only read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PositionAmount {
    pub symbol: String,
    pub position_side: PositionSide,
    /// Positive long, negative short, in base units; never zero.
    pub signed_quantity: Decimal,
}

/// A symbol's prices now, as one read returns them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quote {
    pub symbol: String,
    pub mark_price: Price,
    /// Best bid and ask, when the venue's quote read carries them (Binance's premium
    /// index does not, and a second read is not worth its weight for the copier).
    pub best_bid: Option<Price>,
    pub best_ask: Option<Price>,
}

/// All symbol rules, plus the symbols that stopped trading since the previous fetch by the
/// same adapter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RulesUpdate {
    pub rules: Vec<SymbolRules>,
    /// Trading at the previous fetch, and now halted or gone.
    pub stopped_trading: Vec<String>,
}

/// Filter for trade history.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TradeQuery {
    pub symbol: String,
    pub start: Option<Millis>,
    pub end: Option<Millis>,
    pub from_id: Option<u64>,
    pub limit: Option<u32>,
}

/// One fill of the account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserTrade {
    pub trade_id: String,
    pub venue_order_id: String,
    pub symbol: String,
    pub side: Side,
    pub position_side: PositionSide,
    pub price: Price,
    pub quantity: Quantity,
    pub quote_quantity: Decimal,
    /// The fee paid, positive (a maker rebate would be negative), as the venue reports it
    /// and as the stream's fill carries it.
    pub commission: Money,
    pub realized_pnl: Decimal,
    pub maker: bool,
    pub time: Millis,
}

/// Kind of an income (cash-flow) record.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncomeKind {
    Transfer,
    RealizedPnl,
    FundingFee,
    Commission,
    InsuranceClear,
    Other(String),
}

/// Filter for income history.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IncomeQuery {
    pub symbol: Option<String>,
    pub kind: Option<IncomeKind>,
    pub start: Option<Millis>,
    pub end: Option<Millis>,
    pub limit: Option<u32>,
}

/// One cash-flow record (funding, fees, realized PnL, transfers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncomeRecord {
    /// Empty for account-wide records such as transfers.
    pub symbol: Option<String>,
    pub kind: IncomeKind,
    pub amount: Money,
    pub time: Millis,
    pub venue_id: String,
    pub trade_id: Option<String>,
}

/// What a key is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyRole {
    /// Read-only access to the lead trader's account.
    Leader,
    /// Trades on the user's own account.
    Follower,
}

/// One thing a key check found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "finding", rename_all = "snake_case")]
pub enum KeyFinding {
    /// Refused: a copier never needs to withdraw.
    WithdrawalsEnabled,
    /// Refused for a follower: the key cannot trade futures.
    FuturesDisabled,
    /// Refused: the key cannot even read.
    ReadingDisabled,
    /// Warning: anyone holding the key can use it from anywhere.
    NoIpRestriction,
    /// Warning: trading permission ends soon.
    ExpiresSoon { at: Millis },
    /// Warning: a leader key that can trade; a read-only key is enough.
    LeaderKeyCanTrade,
    /// The venue refused the key outright (bad key, IP not allowed, no permission).
    KeyRejected { code: Option<i64>, message: String },
    /// Where the key's flags cannot be read: a test order was accepted, so the key can
    /// trade futures (the other permissions stay unverified).
    TradingProven,
    /// Where the key's flags cannot be read: the venue refused a test order, so the key
    /// cannot trade futures.
    TestOrderRefused { code: Option<i64>, message: String },
}

impl KeyFinding {
    /// Whether this finding refuses the key (the others are warnings).
    pub fn refuses(&self) -> bool {
        match self {
            KeyFinding::WithdrawalsEnabled
            | KeyFinding::FuturesDisabled
            | KeyFinding::ReadingDisabled
            | KeyFinding::KeyRejected { .. }
            | KeyFinding::TestOrderRefused { .. } => true,
            KeyFinding::TradingProven
            | KeyFinding::NoIpRestriction
            | KeyFinding::ExpiresSoon { .. }
            | KeyFinding::LeaderKeyCanTrade => false,
        }
    }
}

/// Overall result of a key check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyVerdict {
    /// Usable; warnings may still be listed.
    Accepted,
    /// Not usable; the findings say why.
    Refused,
    /// The venue cannot tell the key's permissions (e.g. a demo host without the wallet
    /// API): the user must confirm them by hand.
    CannotVerify,
}

/// Result of checking an API key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyCheck {
    pub verdict: KeyVerdict,
    pub findings: Vec<KeyFinding>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_order_id_accepts_the_engine_format_only() {
        let ok = "cd0123456789abcdefghijklmnopqrst";
        assert_eq!(ok.len(), 32, "engine ids are 32 characters");
        assert!(ClientOrderId::new(ok).is_ok(), "engine id must be accepted");
        assert!(
            ClientOrderId::new(&format!("{ok}x")).is_err(),
            "33 characters must be refused"
        );
        assert!(
            ClientOrderId::new("copy-0001").is_err(),
            "a dash is not alphanumeric and must be refused"
        );
        assert!(ClientOrderId::new("").is_err(), "empty must be refused");
    }
}
