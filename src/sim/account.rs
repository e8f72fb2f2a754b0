//! One simulated account: wallets, per-symbol settings, positions, orders, trades and
//! income, and the margin arithmetic over them (unrealized PnL, initial and maintenance
//! margin, available balance, liquidation price). Pure state and arithmetic: no I/O.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::clock::Millis;
use super::market::Market;
use crate::domain::{PositionSide, Side};

/// One of the fixed words the model keeps (time in force, algo order type, income type).
/// An alias, so deriving `Deserialize` does not try to borrow it from the input; the
/// state file reads it through [`super::state::known`].
pub type Fixed = &'static str;

/// What the simulator keeps to check an API key's signatures: the HMAC secret, or the
/// public half of an Ed25519 key (the private half stays with the client, as on the
/// venue). Its `Debug` is redacted so an HMAC secret never reaches a log.
#[derive(Clone, PartialEq, Eq)]
pub enum SecretKey {
    Hmac(String),
    Ed25519(ed25519_dalek::VerifyingKey),
}

impl SecretKey {
    /// An HMAC secret.
    pub fn new(s: String) -> Self {
        Self::Hmac(s)
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretKey::Hmac(_) => f.write_str("SecretKey(***)"),
            SecretKey::Ed25519(_) => f.write_str("SecretKey(ed25519 public key)"),
        }
    }
}

/// What an account's API key may do, as `apiRestrictions` reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Permissions {
    pub futures: bool,
    /// Futures trading (orders, leverage, margin); false leaves a read-only futures key,
    /// refused with -2015 on every change.
    #[serde(default = "yes")]
    pub trading: bool,
    pub withdrawals: bool,
    pub ip_restricted: bool,
    pub reading: bool,
    /// Expiry of the trading authority, ms; 0 = none.
    pub expires_at: Millis,
}

fn yes() -> bool {
    true
}

impl Default for Permissions {
    fn default() -> Self {
        Self {
            futures: true,
            trading: true,
            withdrawals: false,
            ip_restricted: true,
            reading: true,
            expires_at: 0,
        }
    }
}

/// Per-symbol settings (`symbolConfig`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SymbolConfig {
    pub leverage: u32,
    pub isolated: bool,
}

impl Default for SymbolConfig {
    fn default() -> Self {
        Self {
            leverage: 20,
            isolated: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    pub symbol: String,
    pub side: PositionSide,
    /// Signed amount: negative is short.
    pub amt: Decimal,
    pub entry: Decimal,
    pub isolated: bool,
    pub isolated_wallet: Decimal,
    /// Accumulated realized PnL before fees (`cr`).
    pub realized: Decimal,
    pub update_time: Millis,
}

impl Position {
    pub fn new(symbol: &str, side: PositionSide, isolated: bool) -> Self {
        Self {
            symbol: symbol.to_owned(),
            side,
            amt: Decimal::ZERO,
            entry: Decimal::ZERO,
            isolated,
            isolated_wallet: Decimal::ZERO,
            realized: Decimal::ZERO,
            update_time: 0,
        }
    }

    pub fn upnl(&self, mark: Decimal) -> Decimal {
        self.amt * (mark - self.entry)
    }

    pub fn notional(&self, mark: Decimal) -> Decimal {
        self.amt * mark
    }

    pub fn initial_margin(&self, mark: Decimal, leverage: u32) -> Decimal {
        (self.amt.abs() * mark) / Decimal::from(leverage.max(1))
    }

    pub fn maint_margin(&self, mark: Decimal, m: &Market) -> Decimal {
        let notional = self.amt.abs() * mark;
        let b = m.bracket_for(notional);
        (notional * b.mmr - b.cum).max(Decimal::ZERO)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderType {
    Limit,
    Market,
    Liquidation,
}

impl OrderType {
    pub fn as_str(self) -> &'static str {
        match self {
            OrderType::Limit => "LIMIT",
            OrderType::Market => "MARKET",
            OrderType::Liquidation => "LIQUIDATION",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderStatus {
    New,
    PartiallyFilled,
    Filled,
    Canceled,
    Expired,
}

impl OrderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::New => "NEW",
            OrderStatus::PartiallyFilled => "PARTIALLY_FILLED",
            OrderStatus::Filled => "FILLED",
            OrderStatus::Canceled => "CANCELED",
            OrderStatus::Expired => "EXPIRED",
        }
    }

    pub fn is_open(self) -> bool {
        matches!(self, OrderStatus::New | OrderStatus::PartiallyFilled)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Order {
    pub id: u64,
    pub client_id: String,
    pub symbol: String,
    pub side: Side,
    pub position_side: PositionSide,
    pub kind: OrderType,
    #[serde(with = "super::state::known")]
    pub tif: Fixed,
    pub price: Decimal,
    pub orig_qty: Decimal,
    pub executed_qty: Decimal,
    pub cum_quote: Decimal,
    pub status: OrderStatus,
    pub reduce_only: bool,
    pub close_position: bool,
    pub time: Millis,
    pub update_time: Millis,
    pub expire_reason: u8,
}

impl Order {
    pub fn avg_price(&self) -> Decimal {
        if self.executed_qty.is_zero() {
            Decimal::ZERO
        } else {
            self.cum_quote / self.executed_qty
        }
    }

    pub fn remaining(&self) -> Decimal {
        self.orig_qty - self.executed_qty
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AlgoStatus {
    New,
    Triggered,
    Finished,
    Canceled,
    Expired,
}

impl AlgoStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AlgoStatus::New => "NEW",
            AlgoStatus::Triggered => "TRIGGERED",
            AlgoStatus::Finished => "FINISHED",
            AlgoStatus::Canceled => "CANCELED",
            AlgoStatus::Expired => "EXPIRED",
        }
    }
}

/// A conditional order held by the algo service until its trigger fires.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AlgoOrder {
    pub id: u64,
    pub client_id: String,
    pub symbol: String,
    pub side: Side,
    pub position_side: PositionSide,
    /// STOP_MARKET, TAKE_PROFIT_MARKET, STOP or TAKE_PROFIT.
    #[serde(with = "super::state::known")]
    pub order_type: Fixed,
    #[serde(with = "super::state::known")]
    pub tif: Fixed,
    pub qty: Decimal,
    pub price: Decimal,
    pub trigger_price: Decimal,
    pub mark_price_working: bool,
    pub close_position: bool,
    pub reduce_only: bool,
    pub price_protect: bool,
    pub status: AlgoStatus,
    pub create_time: Millis,
    pub update_time: Millis,
    pub trigger_time: Millis,
    pub actual_order_id: Option<u64>,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Trade {
    pub id: u64,
    pub order_id: u64,
    pub symbol: String,
    pub side: Side,
    pub position_side: PositionSide,
    pub price: Decimal,
    pub qty: Decimal,
    pub commission: Decimal,
    pub commission_asset: String,
    pub realized_pnl: Decimal,
    pub maker: bool,
    pub time: Millis,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Income {
    pub symbol: String,
    #[serde(with = "super::state::known")]
    pub income_type: Fixed,
    pub income: Decimal,
    pub asset: String,
    pub info: String,
    pub time: Millis,
    pub tran_id: u64,
    pub trade_id: String,
}

#[derive(Debug, Clone)]
pub struct ListenKey {
    pub key: String,
    pub expires_at: Millis,
}

/// One account of the simulator. Serialised only into the simulator's own state file
/// ([`super::state`]); the listenKey and the open-order index are not kept there.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Account {
    /// Fees are paid in BNB from the account's BNB wallet when it holds enough, at the
    /// BNBUSDT mark (the venue's "BNB burn"); otherwise in the margin asset.
    #[serde(default)]
    pub bnb_fees: bool,
    pub id: String,
    pub label: String,
    pub api_key: String,
    #[serde(with = "super::state::secret")]
    pub secret: SecretKey,
    pub permissions: Permissions,
    pub created_at: Millis,
    pub lead_portfolio: bool,
    pub dual_side: bool,
    pub multi_assets: bool,
    pub wallets: BTreeMap<String, Decimal>,
    pub symbol_cfg: HashMap<String, SymbolConfig>,
    #[serde(with = "super::state::positions")]
    pub positions: HashMap<(String, PositionSide), Position>,
    /// Every order, open or not. Insert through [`Account::insert_order`] and call
    /// [`Account::sync_open`] after a status change, so the open index stays right.
    pub orders: BTreeMap<u64, Order>,
    /// Ids of open orders, so margin and duplicate checks do not scan the history.
    #[serde(skip)]
    pub open_ids: std::collections::BTreeSet<u64>,
    pub algo_orders: BTreeMap<u64, AlgoOrder>,
    pub trades: Vec<Trade>,
    pub income: Vec<Income>,
    /// Not kept across restarts: clients create a new one.
    #[serde(skip)]
    pub listen_key: Option<ListenKey>,
    /// Margin calls already sent and not yet cleared (`cross:<assets>`, `iso:<sym>:<side>`).
    pub margin_calls: std::collections::HashSet<String>,
    pub update_time: Millis,
}

/// The prices margin arithmetic needs: symbol → mark.
pub type Marks = HashMap<String, Decimal>;

/// Figures of one margin asset (or, in Multi-Assets mode, of the USD pool).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AssetFigures {
    pub wallet: Decimal,
    pub cross_wallet: Decimal,
    pub unrealized: Decimal,
    pub cross_unrealized: Decimal,
    pub position_initial_margin: Decimal,
    pub cross_position_initial_margin: Decimal,
    pub open_order_margin: Decimal,
    pub maint_margin: Decimal,
    pub cross_maint_margin: Decimal,
    pub available: Decimal,
    pub max_withdraw: Decimal,
}

impl AssetFigures {
    pub fn margin_balance(&self) -> Decimal {
        self.wallet + self.unrealized
    }
    pub fn initial_margin(&self) -> Decimal {
        self.position_initial_margin + self.open_order_margin
    }
}

/// Assets pooled together in Multi-Assets mode (valued 1:1 in USD).
pub const POOLED: [&str; 2] = ["USDT", "USDC"];

impl Account {
    pub fn config(&self, symbol: &str) -> SymbolConfig {
        self.symbol_cfg.get(symbol).copied().unwrap_or_default()
    }

    pub fn wallet(&self, asset: &str) -> Decimal {
        self.wallets.get(asset).copied().unwrap_or(Decimal::ZERO)
    }

    pub fn credit(&mut self, asset: &str, amount: Decimal) {
        *self
            .wallets
            .entry(asset.to_owned())
            .or_insert(Decimal::ZERO) += amount;
    }

    pub fn position(&self, symbol: &str, side: PositionSide) -> Option<&Position> {
        self.positions.get(&(symbol.to_owned(), side))
    }

    pub fn open_orders(&self) -> impl Iterator<Item = &Order> {
        self.open_ids.iter().filter_map(|id| self.orders.get(id))
    }

    pub fn insert_order(&mut self, order: Order) {
        let id = order.id;
        self.orders.insert(id, order);
        self.sync_open(id);
    }

    /// Rebuilds the open index from the orders (after a restore).
    pub fn rebuild_open_index(&mut self) {
        self.open_ids = self
            .orders
            .values()
            .filter(|o| o.status.is_open())
            .map(|o| o.id)
            .collect();
    }

    /// Brings the open index in line with the order's status.
    pub fn sync_open(&mut self, id: u64) {
        if self.orders.get(&id).is_some_and(|o| o.status.is_open()) {
            self.open_ids.insert(id);
        } else {
            self.open_ids.remove(&id);
        }
    }

    pub fn has_open_orders(&self, symbol: Option<&str>) -> bool {
        self.open_orders()
            .any(|o| symbol.is_none_or(|s| o.symbol == s))
            || self
                .algo_orders
                .values()
                .any(|a| a.status == AlgoStatus::New && symbol.is_none_or(|s| a.symbol == s))
    }

    pub fn has_position(&self, symbol: Option<&str>) -> bool {
        self.positions
            .values()
            .any(|p| !p.amt.is_zero() && symbol.is_none_or(|s| p.symbol == s))
    }

    /// Quantity of `order`'s remainder that would open or increase exposure; closing
    /// parts reserve no margin.
    pub fn opening_qty(&self, symbol: &str, side: Side, ps: PositionSide, qty: Decimal) -> Decimal {
        match ps {
            PositionSide::Long if side == Side::Sell => Decimal::ZERO,
            PositionSide::Short if side == Side::Buy => Decimal::ZERO,
            PositionSide::Long | PositionSide::Short => qty,
            PositionSide::Both => {
                let amt = self.position(symbol, ps).map_or(Decimal::ZERO, |p| p.amt);
                let closing = match side {
                    Side::Buy if amt < Decimal::ZERO => amt.abs(),
                    Side::Sell if amt > Decimal::ZERO => amt,
                    _ => Decimal::ZERO,
                };
                (qty - closing).max(Decimal::ZERO)
            }
        }
    }

    /// Which assets share margin with `asset` under the account's mode.
    pub fn margin_group(&self, asset: &str) -> Vec<String> {
        if self.multi_assets && POOLED.contains(&asset) {
            POOLED.iter().map(|s| (*s).to_owned()).collect()
        } else {
            vec![asset.to_owned()]
        }
    }

    /// Figures of one asset alone.
    pub fn figures(
        &self,
        asset: &str,
        markets: &HashMap<String, Market>,
        marks: &Marks,
    ) -> AssetFigures {
        let mut f = AssetFigures {
            wallet: self.wallet(asset),
            ..AssetFigures::default()
        };
        let mut isolated_wallets = Decimal::ZERO;
        for p in self.positions.values() {
            let Some(m) = markets.get(&p.symbol) else {
                continue;
            };
            if m.margin_asset != asset || p.amt.is_zero() {
                continue;
            }
            let mark = marks.get(&p.symbol).copied().unwrap_or(p.entry);
            let lev = self.config(&p.symbol).leverage;
            let up = p.upnl(mark);
            let im = p.initial_margin(mark, lev);
            let mm = p.maint_margin(mark, m);
            f.unrealized += up;
            f.maint_margin += mm;
            if p.isolated {
                isolated_wallets += p.isolated_wallet;
                f.position_initial_margin += p.isolated_wallet;
            } else {
                f.cross_unrealized += up;
                f.position_initial_margin += im;
                f.cross_position_initial_margin += im;
                f.cross_maint_margin += mm;
            }
        }
        for o in self.open_orders() {
            let Some(m) = markets.get(&o.symbol) else {
                continue;
            };
            if m.margin_asset != asset || o.reduce_only {
                continue;
            }
            let open = self.opening_qty(&o.symbol, o.side, o.position_side, o.remaining());
            let lev = self.config(&o.symbol).leverage;
            f.open_order_margin += open * o.price / Decimal::from(lev.max(1));
        }
        f.cross_wallet = f.wallet - isolated_wallets;
        let avail = f.cross_wallet + f.cross_unrealized
            - f.cross_position_initial_margin
            - f.open_order_margin;
        f.available = avail;
        f.max_withdraw = avail.min(f.cross_wallet).max(Decimal::ZERO);
        f
    }

    /// Figures summed over the margin group of `asset`.
    pub fn group_figures(
        &self,
        asset: &str,
        markets: &HashMap<String, Market>,
        marks: &Marks,
    ) -> AssetFigures {
        let mut total = AssetFigures::default();
        for a in self.margin_group(asset) {
            let f = self.figures(&a, markets, marks);
            total.wallet += f.wallet;
            total.cross_wallet += f.cross_wallet;
            total.unrealized += f.unrealized;
            total.cross_unrealized += f.cross_unrealized;
            total.position_initial_margin += f.position_initial_margin;
            total.cross_position_initial_margin += f.cross_position_initial_margin;
            total.open_order_margin += f.open_order_margin;
            total.maint_margin += f.maint_margin;
            total.cross_maint_margin += f.cross_maint_margin;
            total.available += f.available;
            total.max_withdraw += f.max_withdraw;
        }
        total
    }

    /// Liquidation price of a position, or zero when none applies. For a cross position
    /// the rest of the cross account (wallet, other PnL and maintenance) stands behind it.
    pub fn liquidation_price(
        &self,
        p: &Position,
        markets: &HashMap<String, Market>,
        marks: &Marks,
    ) -> Decimal {
        let Some(m) = markets.get(&p.symbol) else {
            return Decimal::ZERO;
        };
        if p.amt.is_zero() {
            return Decimal::ZERO;
        }
        let mark = marks.get(&p.symbol).copied().unwrap_or(p.entry);
        let b = m.bracket_for(p.amt.abs() * mark);
        let collateral = if p.isolated {
            p.isolated_wallet
        } else {
            let g = self.group_figures(m.margin_asset, markets, marks);
            let own_up = p.upnl(mark);
            let own_mm = p.maint_margin(mark, m);
            g.cross_wallet + (g.cross_unrealized - own_up) - (g.cross_maint_margin - own_mm)
        };
        let denom = p.amt - p.amt.abs() * b.mmr;
        if denom.is_zero() {
            return Decimal::ZERO;
        }
        let price = (p.amt * p.entry - collateral - b.cum) / denom;
        price.max(Decimal::ZERO)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn order(id: u64, status: OrderStatus) -> Order {
        Order {
            id,
            client_id: format!("c{id}"),
            symbol: "BTCUSDT".into(),
            side: Side::Buy,
            position_side: PositionSide::Both,
            kind: OrderType::Limit,
            tif: "GTC",
            price: dec!(45000),
            orig_qty: dec!(0.01),
            executed_qty: Decimal::ZERO,
            cum_quote: Decimal::ZERO,
            status,
            reduce_only: false,
            close_position: false,
            time: 0,
            update_time: 0,
            expire_reason: 0,
        }
    }

    #[test]
    fn the_open_index_follows_status_changes() {
        let mut a = Account {
            bnb_fees: false,
            id: "a".into(),
            label: String::new(),
            api_key: "k".into(),
            secret: SecretKey::new("TOPSECRET".into()),
            permissions: Permissions::default(),
            created_at: 0,
            lead_portfolio: false,
            dual_side: false,
            multi_assets: false,
            wallets: BTreeMap::new(),
            symbol_cfg: HashMap::new(),
            positions: HashMap::new(),
            orders: BTreeMap::new(),
            open_ids: Default::default(),
            algo_orders: BTreeMap::new(),
            trades: Vec::new(),
            income: Vec::new(),
            listen_key: None,
            margin_calls: Default::default(),
            update_time: 0,
        };
        a.insert_order(order(1, OrderStatus::New));
        a.insert_order(order(2, OrderStatus::Filled));
        let open: Vec<u64> = a.open_orders().map(|o| o.id).collect();
        assert_eq!(open, vec![1], "only the NEW order is open");
        if let Some(o) = a.orders.get_mut(&1) {
            o.status = OrderStatus::Canceled;
        }
        a.sync_open(1);
        assert_eq!(
            a.open_orders().count(),
            0,
            "a cancelled order leaves the index"
        );
        assert!(
            !format!("{a:?}").contains("SecretKey(s)"),
            "Debug never shows the secret"
        );
    }
}
