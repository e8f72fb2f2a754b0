//! The planner's inputs and outputs: the copy (settings, state, ledger), the follower's
//! snapshot, market data, and the actions a plan returns. Venue-neutral; the runtime maps
//! its exchange types to and from these.

use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::domain::{
    decimal, Asset, CopySettings, MarginMode, PositionMode, PositionSide, Price, Quantity, Side,
    StopAction, Symbol, SymbolFilters,
};

/// Whether a copy acts on signals: the domain's run state (a held copy is planned as
/// paused).
pub use crate::domain::CopyState;

/// Long or short.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Long,
    Short,
}

impl Direction {
    /// The direction of a signed position, `None` when flat.
    pub fn of(signed: Decimal) -> Option<Direction> {
        if signed > Decimal::ZERO {
            Some(Direction::Long)
        } else if signed < Decimal::ZERO {
            Some(Direction::Short)
        } else {
            None
        }
    }

    /// The order side that grows a position of this direction.
    pub fn opening_side(self) -> Side {
        match self {
            Direction::Long => Side::Buy,
            Direction::Short => Side::Sell,
        }
    }

    /// `qty` signed by this direction.
    pub fn signed(self, qty: Decimal) -> Decimal {
        match self {
            Direction::Long => qty,
            Direction::Short => -qty,
        }
    }
}

/// One book of one symbol: `Both` in one-way mode, `Long`/`Short` in hedge mode.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PositionKey {
    pub symbol: String,
    pub side: PositionSide,
}

impl PositionKey {
    pub fn new(symbol: impl Into<String>, side: PositionSide) -> Self {
        Self {
            symbol: symbol.into(),
            side,
        }
    }
}

/// A follower position this copy opened, keyed in the ledger by the leader's book.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerPosition {
    pub symbol: Symbol,
    /// The follower's book that holds it.
    pub follower_side: PositionSide,
    pub direction: Direction,
    /// Follower quantity / leader quantity, fixed at the open.
    #[serde(with = "decimal")]
    pub k: Decimal,
    /// Quantity our orders hold.
    #[serde(with = "decimal")]
    pub qty: Decimal,
    /// Follower quantity that the risk gate declined, or that went away without an order
    /// of ours; reconciliation never restores it.
    #[serde(with = "decimal")]
    pub declined: Decimal,
    /// The leader's quantity on this book as last seen.
    #[serde(with = "decimal")]
    pub leader_qty: Decimal,
    /// Margin this position takes from the copy's funds.
    #[serde(with = "decimal")]
    pub margin: Decimal,
    pub leverage: u32,
    pub margin_mode: MarginMode,
    /// Event time of the last leader signal applied to this position.
    pub last_event_ms: i64,
    /// The offline-protection stop currently on the exchange.
    pub stop: Option<ProtectiveStop>,
}

impl LedgerPosition {
    /// The follower's key of this position.
    pub fn follower_key(&self) -> PositionKey {
        PositionKey::new(self.symbol.name.clone(), self.follower_side)
    }
}

/// An exchange-side stop the engine placed for a position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProtectiveStop {
    pub client_id: String,
    #[serde(with = "decimal")]
    pub stop_price: Decimal,
    #[serde(with = "decimal")]
    pub qty: Decimal,
    /// True once the venue accepted the stop. The planner records a stop before it is
    /// sent (the ledger is written before the plan runs), so a stored stop without this is
    /// one whose answer was not seen: sent but unanswered, or written by a version that did
    /// not record the answer (read as unconfirmed).
    #[serde(default)]
    pub confirmed: bool,
}

/// Fills of one leader order whose copied quantity is still below the symbol's minimum.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingFills {
    pub leader_key: PositionKey,
    /// True when these fills open the position (false: they increase a copied one).
    pub opening: bool,
    /// Leader quantity of the fills so far.
    #[serde(with = "decimal")]
    pub leader_qty: Decimal,
    /// Follower quantity they call for, not yet rounded.
    #[serde(with = "decimal")]
    pub raw_qty: Decimal,
    /// Follower margin they call for.
    #[serde(with = "decimal")]
    pub margin: Decimal,
}

/// Maps cross JSON as lists of `[key, value]` pairs, because JSON object keys must be
/// strings and ledger keys are structs.
pub(crate) mod entries {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<K: Serialize, V: Serialize, S: Serializer>(
        map: &BTreeMap<K, V>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.collect_seq(map.iter())
    }

    pub fn deserialize<'de, K, V, D>(d: D) -> Result<BTreeMap<K, V>, D::Error>
    where
        K: Deserialize<'de> + Ord,
        V: Deserialize<'de>,
        D: Deserializer<'de>,
    {
        Ok(Vec::<(K, V)>::deserialize(d)?.into_iter().collect())
    }
}

/// What the engine knows of one copy between signals; persisted by the runtime.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Ledger {
    /// Copied positions, keyed by the leader's book.
    #[serde(with = "entries")]
    pub positions: BTreeMap<PositionKey, LedgerPosition>,
    /// Accumulating fills, keyed by leader order id.
    #[serde(with = "entries")]
    pub pending: BTreeMap<String, PendingFills>,
    /// Leader books this copy does not follow (open at `t0`, skipped, or lost); cleared
    /// when the leader's book goes flat.
    pub not_copied: BTreeSet<PositionKey>,
    /// Set while the copy is stopping with `close-all` (copy-rules §1.10): its closes are
    /// retried until every position is flat or the user keeps what remains. Stored with
    /// the ledger, so a restart goes on stopping.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopping: Option<Stopping>,
}

/// Why and since when a copy is stopping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stopping {
    pub reason: String,
    /// Local time the stop was asked for, milliseconds since the Unix epoch.
    pub since_ms: i64,
}

impl Ledger {
    /// Margin in use by the copy's positions.
    pub fn margin_in_use(&self) -> Decimal {
        self.positions.values().map(|p| p.margin).sum()
    }

    /// Corrects the ledger after an order of a plan filled only `filled` of its quantity
    /// (zero when it failed), so reconciliation does not mistake the gap for a hand close.
    /// `before` is the ledger the plan started from: a failed full close brings its
    /// position back from there.
    pub fn apply_order_result(&mut self, before: &Ledger, order: &OrderPlan, filled: Decimal) {
        let unfilled = (order.qty.get() - filled).max(Decimal::ZERO);
        if unfilled.is_zero() {
            return;
        }
        if !self.positions.contains_key(&order.leader_key) && order.intent.is_closing() {
            if let Some(prev) = before.positions.get(&order.leader_key) {
                let mut back = prev.clone();
                if prev.qty > Decimal::ZERO {
                    back.margin = prev.margin * (unfilled / prev.qty).min(Decimal::ONE);
                }
                back.qty = unfilled;
                self.positions.insert(order.leader_key.clone(), back);
            }
            return;
        }
        let Some(pos) = self.positions.get_mut(&order.leader_key) else {
            return;
        };
        if order.intent.is_closing() {
            pos.qty += unfilled;
        } else {
            if pos.qty > Decimal::ZERO {
                let share = (unfilled / pos.qty).min(Decimal::ONE);
                pos.margin -= pos.margin * share;
            }
            pos.qty = (pos.qty - unfilled).max(Decimal::ZERO);
            pos.declined += unfilled;
        }
    }
}

/// One copy as the planner sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CopyContext {
    /// Stable id of the copy (part of every client order id).
    pub id: String,
    pub settings: CopySettings,
    pub state: CopyState,
    /// Start time, milliseconds since the Unix epoch.
    pub t0_ms: i64,
    pub ledger: Ledger,
    /// Why opens are held when the engine, not the user, holds them (`state` is then
    /// `Paused`): the planner words its skips with it instead of "the copy is paused".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held: Option<String>,
}

/// Balance of one margin asset on the follower.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Balance {
    #[serde(with = "decimal")]
    pub wallet: Decimal,
    #[serde(with = "decimal")]
    pub available: Decimal,
}

/// One follower position as the venue reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowerPosition {
    pub key: PositionKey,
    /// Signed: long positive, short negative.
    #[serde(with = "decimal")]
    pub qty: Decimal,
    #[serde(with = "decimal")]
    pub entry_price: Decimal,
    pub margin_mode: MarginMode,
    #[serde(with = "decimal")]
    pub isolated_margin: Decimal,
    #[serde(with = "decimal")]
    pub unrealized_pnl: Decimal,
    #[serde(with = "decimal")]
    pub maint_margin: Decimal,
    /// The most margin the venue lets us remove from this isolated position.
    #[serde(with = "decimal")]
    pub max_removable_margin: Decimal,
}

/// A leverage and margin mode setting of one follower symbol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SymbolConfig {
    pub leverage: u32,
    pub margin_mode: MarginMode,
}

/// An open order on the follower (for clean slate and strict mirror).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowerOrder {
    pub symbol: String,
    pub client_id: String,
    pub conditional: bool,
}

/// The follower account as last read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowerSnapshot {
    pub position_mode: PositionMode,
    pub multi_assets_mode: bool,
    /// Account value in USDT terms (wallet + unrealized PnL).
    #[serde(with = "decimal")]
    pub account_value: Decimal,
    pub balances: BTreeMap<Asset, Balance>,
    pub positions: Vec<FollowerPosition>,
    pub symbol_configs: BTreeMap<String, SymbolConfig>,
    pub open_orders: Vec<FollowerOrder>,
    /// Follower books held by other copies of this follower account.
    pub held_by_other_copies: BTreeSet<PositionKey>,
}

impl FollowerSnapshot {
    /// The follower position on a book, if any.
    pub fn position(&self, key: &PositionKey) -> Option<&FollowerPosition> {
        self.positions.iter().find(|p| &p.key == key)
    }

    /// Quantity held on a book in a direction (zero when flat or the other way).
    pub fn qty_in(&self, key: &PositionKey, direction: Direction) -> Decimal {
        self.position(key)
            .map(|p| match direction {
                Direction::Long => p.qty.max(Decimal::ZERO),
                Direction::Short => (-p.qty).max(Decimal::ZERO),
            })
            .unwrap_or(Decimal::ZERO)
    }

    /// Available balance of a margin asset.
    pub fn available(&self, asset: &Asset) -> Decimal {
        self.balances
            .get(asset)
            .map(|b| b.available)
            .unwrap_or(Decimal::ZERO)
    }

    /// True when another copy of this account holds any book of `symbol`.
    pub fn symbol_held_by_other(&self, symbol: &str) -> bool {
        self.held_by_other_copies.iter().any(|k| k.symbol == symbol)
    }
}

/// A symbol's filters and prices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarketInfo {
    pub symbol: Symbol,
    pub filters: SymbolFilters,
    pub mark_price: Price,
    /// Best price an order would get now (last trade or touch).
    pub current_price: Price,
}

/// How an order executes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OrderType {
    Market,
    /// Immediate-or-cancel limit at `price`.
    IocLimit {
        #[serde(with = "decimal")]
        price: Decimal,
    },
}

/// Why an order is sent, for the ledger and the journal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OrderIntent {
    Open,
    Increase,
    Reduce,
    Close,
}

impl OrderIntent {
    /// True for orders that only shrink a position.
    pub fn is_closing(self) -> bool {
        matches!(self, OrderIntent::Reduce | OrderIntent::Close)
    }
}

/// An order ready for the venue. A closing order in hedge mode carries the position's
/// side and `reduce_only = false`, because Binance rejects `reduceOnly` there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderPlan {
    pub client_id: String,
    pub symbol: Symbol,
    pub side: Side,
    pub position_side: PositionSide,
    pub qty: Quantity,
    pub order_type: OrderType,
    pub reduce_only: bool,
    pub intent: OrderIntent,
    /// The leader's book this order copies.
    pub leader_key: PositionKey,
}

impl OrderPlan {
    /// A market order that shrinks a position of `direction` on `position_side`:
    /// `reduceOnly` in one-way mode, the position's side alone in hedge mode.
    #[allow(clippy::too_many_arguments)]
    pub fn closing(
        client_id: String,
        symbol: Symbol,
        direction: Direction,
        position_side: PositionSide,
        qty: Decimal,
        mode: PositionMode,
        intent: OrderIntent,
        leader_key: PositionKey,
    ) -> OrderPlan {
        OrderPlan {
            client_id,
            symbol,
            side: direction.opening_side().opposite(),
            position_side,
            qty: Quantity::new(qty).unwrap_or(Quantity::ZERO),
            order_type: OrderType::Market,
            reduce_only: mode == PositionMode::OneWay,
            intent,
            leader_key,
        }
    }
}

/// The kind of a notice, for the UI to pick an icon and for tests to match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "kebab-case")]
pub enum NoticeKind {
    CopyPaused,
    CopyStopped,
    BeforeStart,
    OutOfOrder,
    TooOld,
    Slippage,
    QuoteNotAllowed,
    SymbolFiltered,
    HeldByOtherCopy,
    MarginAssetMissing,
    MultiAssetsWithIsolated,
    PositionModeMismatch,
    NoLeaderEquity,
    BelowMinimum,
    Pending,
    InsufficientFunds,
    AmountAboveAccountValue,
    PositionCapped,
    NotCopied,
    MarginModeDeferred,
    MarginSyncSkipped,
    ClosedOutside,
    LostOpen,
    DoubtfulSnapshot,
    LeaderFlatUnconfirmed,
    MissingMarketData,
    StopLoss,
    TakeProfit,
    /// An open or increase not sent because its symbol's set-up (leverage, margin mode)
    /// was refused.
    SetupFailed,
    /// A key permission the venue cannot show (demo environment): "cannot verify".
    KeyUnverified,
    /// A copied position the venue holds in another margin mode than the leader's.
    WrongMarginMode,
    /// A public lead portfolio's source refused for too many requests (HTTP 429).
    LeaderRateLimited,
    /// A public lead portfolio's source is geo-blocked from this address (HTTP 403).
    LeaderGeoBlocked,
    /// A public lead portfolio hides its positions: nothing can be copied.
    LeaderHidden,
    /// A public lead portfolio's answer changed its format; nothing is guessed from it.
    LeaderFormatChanged,
    /// A public lead portfolio could not be read (network, refusal, an empty list).
    LeaderReadFailed,
    /// A public lead portfolio opened and closed inside one poll interval: missed.
    MissedInInterval,
    /// A public lead portfolio's first good read: positions open in it are not copied.
    LeaderBaseline,
    /// A leader fill reconciliation had already matched the copy to (it read the leader
    /// after the fill, before the fill's event arrived): nothing is sent again.
    AlreadyReconciled,
}

/// One thing the runtime must do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ActionKind {
    PlaceOrder(OrderPlan),
    /// Cancel orders the start's clean slate or strict mirror removes.
    CancelOrder {
        symbol: String,
        client_id: String,
    },
    SetLeverage {
        symbol: String,
        leverage: u32,
    },
    SetMarginMode {
        symbol: String,
        margin_mode: MarginMode,
    },
    SetMultiAssetsMode {
        enabled: bool,
    },
    /// Positive adds margin, negative removes it.
    AdjustIsolatedMargin {
        symbol: String,
        position_side: PositionSide,
        #[serde(with = "decimal")]
        amount: Decimal,
    },
    /// A conditional reduce-only market order at `stop_price`.
    PlaceProtectiveStop {
        client_id: String,
        symbol: String,
        side: Side,
        position_side: PositionSide,
        #[serde(with = "decimal")]
        stop_price: Decimal,
        qty: Quantity,
    },
    CancelProtectiveStop {
        client_id: String,
        symbol: String,
    },
    ResetFigures,
    /// Stop opening until a valid leader snapshot is read again.
    PauseOpens,
    StopCopy {
        stop_action: StopAction,
    },
    Notice(NoticeKind),
}

/// An action and why, naming the numbers used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Action {
    pub kind: ActionKind,
    pub reason: String,
}

/// The planner's answer: actions in the order to run them, and the copy's ledger as it
/// will be once they succeed (the runtime persists it with the journal rows).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub actions: Vec<Action>,
    pub ledger: Ledger,
}

impl Plan {
    /// The orders of the plan.
    pub fn orders(&self) -> impl Iterator<Item = &OrderPlan> {
        self.actions.iter().filter_map(|a| match &a.kind {
            ActionKind::PlaceOrder(o) => Some(o),
            _ => None,
        })
    }

    /// The notices of the plan, with their text.
    pub fn notices(&self) -> impl Iterator<Item = (NoticeKind, &str)> {
        self.actions.iter().filter_map(|a| match a.kind {
            ActionKind::Notice(k) => Some((k, a.reason.as_str())),
            _ => None,
        })
    }

    /// The text of the first notice of a kind.
    pub fn notice(&self, kind: NoticeKind) -> Option<&str> {
        self.notices().find(|(k, _)| *k == kind).map(|(_, t)| t)
    }
}

/// Accumulates actions while planning.
#[derive(Debug, Default)]
pub(crate) struct Out {
    pub actions: Vec<Action>,
}

impl Out {
    pub fn push(&mut self, kind: ActionKind, reason: impl Into<String>) {
        self.actions.push(Action {
            kind,
            reason: reason.into(),
        });
    }

    pub fn notice(&mut self, kind: NoticeKind, text: impl Into<String>) {
        self.push(ActionKind::Notice(kind), text);
    }
}
