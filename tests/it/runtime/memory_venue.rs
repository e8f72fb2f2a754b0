//! A second venue behind the `Exchange` port, in memory: no Binance code, no HTTP. It
//! differs from Binance where the next venues will, so a Binance assumption left in the
//! runtime shows up as a failing test:
//!
//! - its native quantities are contracts (one `BTC-USDT-SWAP` contract is 0.01 BTC); the
//!   port speaks base units, so this adapter converts both ways, as an OKX adapter would;
//! - its symbols are spelled `BTC-USDT-SWAP`;
//! - its keys carry a passphrase, checked when the factory connects an account;
//! - its quote has a best bid and ask.
//!
//! Fills are scripted: every market order fills at once, in full, at the mark price. A
//! leader's own trades are made with [`MemoryMarket::trade`] (the stream reports them) or
//! [`MemoryMarket::trade_unreported`] (the stream drops them, so only a reconciliation
//! can notice). Tests read the venue's own state in contracts: positions, orders, stops.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use copydesk::domain::{
    Asset, MarginMode, Money, PositionMode, PositionSide, Price, Quantity, Side, Symbol,
    SymbolFilters,
};
use copydesk::exchange::events::{
    BalanceChange, BalancePositionUpdate, BalanceReason, EventTimes, Execution, Fill, OrderUpdate,
    PositionChange, Resynced,
};
use copydesk::exchange::{
    AccountEvent, AccountSnapshot, Balance, BoxFuture, CancelOutcome, Clock, ConditionalKind,
    ConditionalOrderRequest, ConditionalPlacement, ConditionalReport, ConditionalSize,
    ConditionalStatus, Credentials, EventStream, ExResult, Exchange, ExchangeError, IncomeKind,
    IncomeQuery, IncomeRecord, KeyCheck, KeyRole, KeyVerdict, MarginChange, MarketEvent,
    MarketStream, Millis, OrderKind, OrderOrigin, OrderReport, OrderRequest, OrderStatus,
    Placement, PositionAmount, PositionSnapshot, Quote, ReportedOrderType, RulesUpdate,
    SettingOutcome, SymbolRules, SymbolSetting, SystemClock, TradeQuery, TradingStatus, UserTrade,
    VenueError, VenueFactory, VenueRequest, WeightUsage,
};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use tokio::sync::{mpsc, oneshot};

/// The `exchange` name accounts on this venue carry.
pub const EXCHANGE: &str = "memory-swap";
/// The one listed symbol.
pub const SYMBOL: &str = "BTC-USDT-SWAP";
/// BTC per contract.
pub const CONTRACT: Decimal = dec!(0.01);
const TICK: Decimal = dec!(0.1);
const FEE_RATE: Decimal = dec!(0.0005);

/// An order as this venue keeps it: in contracts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NativeOrder {
    pub id: u64,
    pub client_id: String,
    pub symbol: String,
    pub side: Side,
    pub contracts: Decimal,
    pub price: Decimal,
    pub reduce_only: bool,
}

/// A trigger order as this venue keeps it: in contracts (`None`: the whole position).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NativeStop {
    pub id: u64,
    pub client_id: String,
    pub symbol: String,
    pub side: Side,
    pub contracts: Option<Decimal>,
    pub trigger: Decimal,
    pub live: bool,
}

#[derive(Debug, Clone)]
struct Trade {
    id: u64,
    order_id: u64,
    symbol: String,
    side: Side,
    contracts: Decimal,
    price: Decimal,
    fee: Decimal,
    realized: Decimal,
    time: Millis,
}

#[derive(Debug, Default)]
struct Account {
    api_key: String,
    secret: String,
    passphrase: String,
    usdt: Decimal,
    /// Signed contracts and average entry price per symbol (one-way mode).
    positions: BTreeMap<String, (Decimal, Decimal)>,
    leverage: BTreeMap<String, u32>,
    margin_mode: BTreeMap<String, MarginMode>,
    orders: Vec<NativeOrder>,
    stops: Vec<NativeStop>,
    trades: Vec<Trade>,
    subscribers: Vec<mpsc::Sender<AccountEvent>>,
}

#[derive(Debug)]
struct World {
    accounts: BTreeMap<String, Account>,
    marks: BTreeMap<String, Decimal>,
    market_subscribers: Vec<mpsc::Sender<MarketEvent>>,
    next_id: u64,
}

/// The venue's whole state, shared by every port the factory builds on it.
#[derive(Debug, Clone)]
pub struct MemoryMarket(Arc<Mutex<World>>);

fn now() -> Millis {
    SystemClock.now_ms()
}

fn base(contracts: Decimal) -> Decimal {
    contracts * CONTRACT
}

fn qty(v: Decimal) -> Quantity {
    Quantity::new(v.abs()).expect("a non-negative quantity")
}

fn price(v: Decimal) -> Price {
    Price::new(v).expect("a positive price")
}

fn sign(v: Decimal) -> Decimal {
    if v.is_sign_negative() {
        -Decimal::ONE
    } else {
        Decimal::ONE
    }
}

fn usdt() -> Asset {
    Asset::usdt()
}

impl MemoryMarket {
    /// `BTC-USDT-SWAP` marked at 50,000.
    pub fn new() -> Self {
        Self(Arc::new(Mutex::new(World {
            accounts: BTreeMap::new(),
            marks: BTreeMap::from([(SYMBOL.to_owned(), dec!(50000))]),
            market_subscribers: Vec::new(),
            next_id: 1,
        })))
    }

    fn world(&self) -> MutexGuard<'_, World> {
        self.0.lock().expect("memory venue lock")
    }

    /// Opens an account funded with `usdt` and returns its key, secret and passphrase.
    pub fn open_account(&self, name: &str, usdt: Decimal, passphrase: &str) -> Credentials {
        let key = format!("{name}-key");
        let secret = format!("{name}-secret");
        self.open_account_with(name, usdt, &key, &secret, passphrase);
        Credentials::new(key, secret).with_passphrase(passphrase)
    }

    /// Opens an account with the given key, secret and passphrase.
    pub fn open_account_with(
        &self,
        name: &str,
        usdt: Decimal,
        key: &str,
        secret: &str,
        passphrase: &str,
    ) {
        self.world().accounts.insert(
            name.to_owned(),
            Account {
                api_key: key.to_owned(),
                secret: secret.to_owned(),
                passphrase: passphrase.to_owned(),
                usdt,
                ..Account::default()
            },
        );
    }

    /// Sets an account's leverage on a symbol.
    pub fn set_leverage(&self, name: &str, symbol: &str, leverage: u32) {
        let mut w = self.world();
        let a = w.accounts.get_mut(name).expect("account");
        a.leverage.insert(symbol.to_owned(), leverage);
    }

    /// A market order of the account's own (a leader's trade), reported on its stream.
    pub fn trade(&self, name: &str, side: Side, contracts: Decimal) {
        let mut w = self.world();
        let id = w.take_id();
        fill(
            &mut w,
            name,
            &format!("own{id}"),
            SYMBOL,
            side,
            contracts,
            false,
        )
        .expect("the leader's trade fills");
    }

    /// As [`MemoryMarket::trade`], but the stream loses the reports.
    pub fn trade_unreported(&self, name: &str, side: Side, contracts: Decimal) {
        let mut w = self.world();
        let subscribers = std::mem::take(&mut w.account(name).subscribers);
        let id = w.take_id();
        let r = fill(
            &mut w,
            name,
            &format!("own{id}"),
            SYMBOL,
            side,
            contracts,
            false,
        );
        w.account(name).subscribers = subscribers;
        r.expect("the leader's trade fills");
    }

    /// Signed contracts the account holds on a symbol.
    pub fn position(&self, name: &str, symbol: &str) -> Decimal {
        self.world()
            .accounts
            .get(name)
            .and_then(|a| a.positions.get(symbol))
            .map_or(Decimal::ZERO, |p| p.0)
    }

    /// Every order the account placed through the port (in contracts), oldest first.
    pub fn orders(&self, name: &str) -> Vec<NativeOrder> {
        self.world()
            .accounts
            .get(name)
            .map(|a| {
                a.orders
                    .iter()
                    .filter(|o| !o.client_id.starts_with("own"))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The account's trigger orders still waiting.
    pub fn live_stops(&self, name: &str) -> Vec<NativeStop> {
        self.world()
            .accounts
            .get(name)
            .map(|a| a.stops.iter().filter(|s| s.live).cloned().collect())
            .unwrap_or_default()
    }

    /// A factory that connects accounts of this venue (`exchange = "memory-swap"`).
    pub fn factory(&self) -> MemoryVenues {
        MemoryVenues {
            market: self.clone(),
        }
    }
}

impl World {
    fn take_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    fn account(&mut self, name: &str) -> &mut Account {
        self.accounts.get_mut(name).expect("account exists")
    }

    fn mark(&self, symbol: &str) -> ExResult<Decimal> {
        self.marks
            .get(symbol)
            .copied()
            .ok_or_else(|| ExchangeError::Rejected {
                code: 51001,
                message: format!("instrument {symbol} does not exist"),
            })
    }

    fn snapshot(&self, name: &str) -> AccountSnapshot {
        let a = &self.accounts[name];
        let at = now();
        let mut positions = Vec::new();
        let mut upnl_total = Decimal::ZERO;
        let mut margin_total = Decimal::ZERO;
        for (symbol, (contracts, entry)) in &a.positions {
            if contracts.is_zero() {
                continue;
            }
            let mark = self.marks[symbol];
            let size = base(*contracts);
            let leverage = a.leverage.get(symbol).copied().unwrap_or(5);
            let notional = size * mark;
            let upnl = (mark - entry) * size;
            let margin = notional.abs() / Decimal::from(leverage);
            upnl_total += upnl;
            margin_total += margin;
            positions.push(PositionSnapshot {
                symbol: symbol.clone(),
                position_side: PositionSide::Both,
                signed_quantity: size,
                entry_price: Some(price(*entry)),
                mark_price: Some(price(mark)),
                unrealized_pnl: upnl,
                liquidation_price: None,
                margin_mode: a
                    .margin_mode
                    .get(symbol)
                    .copied()
                    .unwrap_or(MarginMode::Cross),
                leverage,
                margin,
                maintenance_margin: notional.abs() * dec!(0.004),
                notional,
                margin_asset: usdt(),
                updated_at: at,
            });
        }
        let equity = a.usdt + upnl_total;
        AccountSnapshot {
            balances: vec![Balance {
                asset: usdt(),
                wallet_balance: a.usdt,
                unrealized_pnl: upnl_total,
                margin_balance: equity,
                available_balance: equity - margin_total,
                updated_at: at,
            }],
            equity,
            available: equity - margin_total,
            positions,
            symbol_settings: self
                .marks
                .keys()
                .map(|s| SymbolSetting {
                    symbol: s.clone(),
                    leverage: a.leverage.get(s).copied().unwrap_or(5),
                    margin_mode: a.margin_mode.get(s).copied().unwrap_or(MarginMode::Cross),
                })
                .collect(),
            open_orders: Vec::new(),
            open_conditionals: a.stops.iter().filter(|s| s.live).map(stop_report).collect(),
            position_mode: PositionMode::OneWay,
            multi_assets: false,
            taken_at: at,
        }
    }
}

fn emit(a: &mut Account, ev: &AccountEvent) {
    a.subscribers.retain(|s| {
        !matches!(
            s.try_send(ev.clone()),
            Err(mpsc::error::TrySendError::Closed(_))
        )
    });
}

fn order_report(o: &NativeOrder) -> OrderReport {
    OrderReport {
        client_id: o.client_id.clone(),
        venue_order_id: o.id.to_string(),
        symbol: o.symbol.clone(),
        side: o.side,
        position_side: PositionSide::Both,
        order_type: ReportedOrderType::Market,
        status: OrderStatus::Filled,
        origin: OrderOrigin::Client,
        price: None,
        quantity: qty(base(o.contracts)),
        filled_quantity: qty(base(o.contracts)),
        average_price: Some(price(o.price)),
        reduce_only: o.reduce_only,
        updated_at: now(),
    }
}

fn stop_report(s: &NativeStop) -> ConditionalReport {
    ConditionalReport {
        client_id: s.client_id.clone(),
        venue_id: s.id.to_string(),
        symbol: s.symbol.clone(),
        side: s.side,
        position_side: PositionSide::Both,
        order_type: ReportedOrderType::StopMarket,
        status: if s.live {
            ConditionalStatus::New
        } else {
            ConditionalStatus::Canceled
        },
        trigger_price: Some(price(s.trigger)),
        quantity: s.contracts.map(|c| qty(base(c))),
        close_position: s.contracts.is_none(),
        reduce_only: true,
        triggered_order_id: None,
        updated_at: now(),
    }
}

/// Fills a market order at the mark, in full, and reports it on the account's stream.
fn fill(
    w: &mut World,
    name: &str,
    client_id: &str,
    symbol: &str,
    side: Side,
    contracts: Decimal,
    reduce_only: bool,
) -> ExResult<NativeOrder> {
    let mark = w.mark(symbol)?;
    let id = w.take_id();
    let a = w.account(name);
    if a.orders.iter().any(|o| o.client_id == client_id) {
        return Err(ExchangeError::Rejected {
            code: 51016,
            message: format!("duplicate client order id {client_id}"),
        });
    }
    let (held, entry) = a.positions.get(symbol).copied().unwrap_or_default();
    let signed = match side {
        Side::Buy => contracts,
        Side::Sell => -contracts,
    };
    let signed = if reduce_only {
        if held.is_zero() || held.is_sign_positive() == signed.is_sign_positive() {
            return Err(ExchangeError::Rejected {
                code: 51169,
                message: "reduce-only order would not reduce the position".into(),
            });
        }
        sign(signed) * signed.abs().min(held.abs())
    } else {
        signed
    };
    let after = held + signed;
    let closed = if held.is_zero() || held.is_sign_positive() == signed.is_sign_positive() {
        Decimal::ZERO
    } else {
        signed.abs().min(held.abs())
    };
    let realized = (mark - entry) * base(closed) * sign(held);
    let new_entry = if after.is_zero() {
        Decimal::ZERO
    } else if closed.is_zero() {
        (entry * held.abs() + mark * signed.abs()) / after.abs()
    } else if after.is_sign_positive() == held.is_sign_positive() {
        entry
    } else {
        mark
    };
    let fee = (base(signed) * mark).abs() * FEE_RATE;
    a.usdt += realized - fee;
    if after.is_zero() {
        a.positions.remove(symbol);
    } else {
        a.positions.insert(symbol.to_owned(), (after, new_entry));
    }
    let order = NativeOrder {
        id,
        client_id: client_id.to_owned(),
        symbol: symbol.to_owned(),
        side,
        contracts: signed.abs(),
        price: mark,
        reduce_only,
    };
    let at = now();
    a.orders.push(order.clone());
    a.trades.push(Trade {
        id,
        order_id: id,
        symbol: symbol.to_owned(),
        side,
        contracts: signed.abs(),
        price: mark,
        fee,
        realized,
        time: at,
    });
    let times = EventTimes {
        venue: at,
        transaction: Some(at),
        received: at,
        received_us: at * 1_000,
    };
    let report = order_report(&order);
    emit(
        a,
        &AccountEvent::Order(OrderUpdate {
            times,
            execution: Execution::New,
            order: OrderReport {
                status: OrderStatus::New,
                filled_quantity: qty(Decimal::ZERO),
                average_price: None,
                ..report.clone()
            },
        }),
    );
    emit(
        a,
        &AccountEvent::Order(OrderUpdate {
            times,
            execution: Execution::Trade(Fill {
                trade_id: id.to_string(),
                quantity: qty(base(signed)),
                price: price(mark),
                commission: Some(Money::new(fee, usdt())),
                realized_pnl: realized,
                maker: false,
            }),
            order: report,
        }),
    );
    let wallet = a.usdt;
    emit(
        a,
        &AccountEvent::BalancePosition(BalancePositionUpdate {
            times,
            reason: BalanceReason::Order,
            balances: vec![BalanceChange {
                asset: usdt(),
                wallet_balance: wallet,
                cross_wallet_balance: wallet,
                change: Decimal::ZERO,
            }],
            positions: vec![PositionChange {
                symbol: symbol.to_owned(),
                position_side: PositionSide::Both,
                signed_quantity: base(after),
                entry_price: (!after.is_zero()).then(|| price(new_entry)),
                unrealized_pnl: (mark - new_entry) * base(after),
                margin_mode: MarginMode::Cross,
                isolated_margin: Decimal::ZERO,
            }],
        }),
    );
    Ok(order)
}

/// Base units to whole contracts; refuses what is not a whole number of them.
fn to_contracts(q: Quantity) -> ExResult<Decimal> {
    let c = q.get() / CONTRACT;
    if c.is_zero() || c.fract() != Decimal::ZERO {
        return Err(ExchangeError::Rejected {
            code: 51121,
            message: format!("{} BTC is not a whole number of contracts", q.get()),
        });
    }
    Ok(c.normalize())
}

/// Connects accounts of a [`MemoryMarket`] by key, secret and passphrase.
#[derive(Debug, Clone)]
pub struct MemoryVenues {
    market: MemoryMarket,
}

impl VenueFactory for MemoryVenues {
    fn check(&self, exchange: &str, endpoint: &str) -> Result<(), VenueError> {
        if exchange != EXCHANGE {
            return Err(VenueError::UnknownExchange {
                exchange: exchange.to_owned(),
                supported: format!("\"{EXCHANGE}\""),
            });
        }
        if endpoint != "memory" {
            return Err(VenueError::BadEndpoint {
                reason: format!("`{endpoint}` is not this venue"),
                hint: "\"memory\"".into(),
            });
        }
        Ok(())
    }

    fn connect(&self, request: VenueRequest<'_>) -> Result<Arc<dyn Exchange>, VenueError> {
        self.check(request.exchange, request.endpoint)?;
        let refused = |message: &str| {
            VenueError::Adapter(ExchangeError::BadKey {
                code: 50113,
                message: message.to_owned(),
            })
        };
        let c = request
            .credentials
            .ok_or_else(|| refused("this venue needs a key"))?;
        let w = self.market.world();
        let (name, a) = w
            .accounts
            .iter()
            .find(|(_, a)| a.api_key == c.api_key())
            .ok_or_else(|| refused("unknown API key"))?;
        if a.secret != c.expose_secret() {
            return Err(refused("bad signature"));
        }
        if Some(a.passphrase.as_str()) != c.expose_passphrase() {
            return Err(refused("wrong or missing API passphrase"));
        }
        Ok(Arc::new(MemoryVenue {
            market: self.market.clone(),
            account: name.clone(),
        }))
    }
}

/// One account of the in-memory venue, behind the port.
#[derive(Debug)]
pub struct MemoryVenue {
    market: MemoryMarket,
    account: String,
}

impl MemoryVenue {
    fn with<T>(&self, f: impl FnOnce(&mut World, &str) -> ExResult<T>) -> ExResult<T> {
        let mut w = self.market.world();
        f(&mut w, &self.account)
    }

    fn ready<T: Send + 'static>(v: ExResult<T>) -> BoxFuture<'static, ExResult<T>> {
        Box::pin(async move { v })
    }
}

impl Exchange for MemoryVenue {
    fn venue(&self) -> &'static str {
        EXCHANGE
    }

    fn positions(&self) -> BoxFuture<'_, ExResult<Vec<PositionAmount>>> {
        Self::ready(self.with(|w, name| {
            Ok(w.account(name)
                .positions
                .iter()
                .filter(|(_, p)| !p.0.is_zero())
                .map(|(s, p)| PositionAmount {
                    symbol: s.clone(),
                    position_side: PositionSide::Both,
                    signed_quantity: base(p.0),
                })
                .collect())
        }))
    }

    fn quote<'a>(&'a self, symbol: &'a str) -> BoxFuture<'a, ExResult<Quote>> {
        Self::ready(self.with(|w, _| {
            let mark = w.mark(symbol)?;
            Ok(Quote {
                symbol: symbol.to_owned(),
                mark_price: price(mark),
                best_bid: Some(price(mark - TICK)),
                best_ask: Some(price(mark + TICK)),
            })
        }))
    }

    fn sync_time(&self) -> BoxFuture<'_, ExResult<Millis>> {
        Self::ready(Ok(0))
    }

    fn server_offset_ms(&self) -> Millis {
        0
    }

    fn account(&self) -> BoxFuture<'_, ExResult<AccountSnapshot>> {
        Self::ready(self.with(|w, name| Ok(w.snapshot(name))))
    }

    fn symbol_rules(&self) -> BoxFuture<'_, ExResult<RulesUpdate>> {
        let btc = Asset::new("BTC").expect("asset");
        Self::ready(Ok(RulesUpdate {
            rules: vec![SymbolRules {
                symbol: Symbol::new(SYMBOL, btc, usdt()),
                margin_asset: usdt(),
                status: TradingStatus::Trading,
                // Native lot: 1 contract, up to 10,000; published in base units.
                filters: SymbolFilters {
                    tick_size: TICK,
                    step_size: CONTRACT,
                    market_step_size: CONTRACT,
                    min_qty: CONTRACT,
                    max_qty: dec!(10000) * CONTRACT,
                    market_min_qty: CONTRACT,
                    market_max_qty: dec!(10000) * CONTRACT,
                    min_notional: Decimal::ZERO,
                },
                min_price: Decimal::ZERO,
                max_price: Decimal::ZERO,
                contract_size: CONTRACT,
            }],
            stopped_trading: Vec::new(),
        }))
    }

    fn place_order<'a>(&'a self, order: &'a OrderRequest) -> BoxFuture<'a, ExResult<Placement>> {
        Self::ready(self.with(|w, name| {
            if order.kind != OrderKind::Market {
                return Err(ExchangeError::Rejected {
                    code: 51000,
                    message: "this venue takes market orders only".into(),
                });
            }
            let contracts = to_contracts(order.quantity)?;
            let o = fill(
                w,
                name,
                order.client_id.as_str(),
                &order.symbol,
                order.side,
                contracts,
                order.reduce_only,
            )?;
            // Stamped when the answer is made, a moment after the fill's events (whose
            // time is the fill's): the engine takes a fill's time from the stream.
            let mut ack = order_report(&o);
            ack.updated_at += 1;
            Ok(Placement::Acknowledged(ack))
        }))
    }

    fn cancel_order<'a>(
        &'a self,
        _symbol: &'a str,
        _client_id: &'a str,
    ) -> BoxFuture<'a, ExResult<CancelOutcome>> {
        // Market orders fill at once: nothing is ever open.
        Self::ready(Ok(CancelOutcome::NotOpen))
    }

    fn query_order<'a>(
        &'a self,
        _symbol: &'a str,
        client_id: &'a str,
    ) -> BoxFuture<'a, ExResult<Option<OrderReport>>> {
        Self::ready(self.with(|w, name| {
            Ok(w.account(name)
                .orders
                .iter()
                .find(|o| o.client_id == client_id)
                .map(order_report))
        }))
    }

    fn place_conditional<'a>(
        &'a self,
        order: &'a ConditionalOrderRequest,
    ) -> BoxFuture<'a, ExResult<ConditionalPlacement>> {
        Self::ready(self.with(|w, name| {
            if order.kind != ConditionalKind::StopMarket {
                return Err(ExchangeError::Rejected {
                    code: 51000,
                    message: "this venue takes stop-market triggers only".into(),
                });
            }
            let contracts = match order.size {
                ConditionalSize::Quantity { quantity } => Some(to_contracts(quantity)?),
                ConditionalSize::ClosePosition => None,
            };
            let id = w.take_id();
            let stop = NativeStop {
                id,
                client_id: order.client_id.as_str().to_owned(),
                symbol: order.symbol.clone(),
                side: order.side,
                contracts,
                trigger: order.trigger_price.get(),
                live: true,
            };
            w.account(name).stops.push(stop.clone());
            Ok(ConditionalPlacement::Acknowledged(stop_report(&stop)))
        }))
    }

    fn cancel_conditional<'a>(
        &'a self,
        _symbol: &'a str,
        client_id: &'a str,
    ) -> BoxFuture<'a, ExResult<Option<ConditionalReport>>> {
        Self::ready(self.with(|w, name| {
            Ok(w.account(name)
                .stops
                .iter_mut()
                .find(|s| s.client_id == client_id && s.live)
                .map(|s| {
                    s.live = false;
                    stop_report(s)
                }))
        }))
    }

    fn query_conditional<'a>(
        &'a self,
        _symbol: &'a str,
        client_id: &'a str,
    ) -> BoxFuture<'a, ExResult<Option<ConditionalReport>>> {
        Self::ready(self.with(|w, name| {
            Ok(w.account(name)
                .stops
                .iter()
                .find(|s| s.client_id == client_id)
                .map(stop_report))
        }))
    }

    fn set_leverage<'a>(&'a self, symbol: &'a str, leverage: u32) -> BoxFuture<'a, ExResult<u32>> {
        Self::ready(self.with(|w, name| {
            w.account(name).leverage.insert(symbol.to_owned(), leverage);
            Ok(leverage)
        }))
    }

    fn set_margin_mode<'a>(
        &'a self,
        symbol: &'a str,
        mode: MarginMode,
    ) -> BoxFuture<'a, ExResult<SettingOutcome>> {
        Self::ready(self.with(|w, name| {
            let before = w
                .account(name)
                .margin_mode
                .insert(symbol.to_owned(), mode)
                .unwrap_or(MarginMode::Cross);
            Ok(if before == mode {
                SettingOutcome::AlreadySet
            } else {
                SettingOutcome::Changed
            })
        }))
    }

    fn adjust_isolated_margin<'a>(
        &'a self,
        _symbol: &'a str,
        _position_side: PositionSide,
        _change: MarginChange,
        _amount: Decimal,
    ) -> BoxFuture<'a, ExResult<()>> {
        Self::ready(Ok(()))
    }

    fn position_mode(&self) -> BoxFuture<'_, ExResult<PositionMode>> {
        Self::ready(Ok(PositionMode::OneWay))
    }

    fn set_position_mode(&self, mode: PositionMode) -> BoxFuture<'_, ExResult<SettingOutcome>> {
        Self::ready(match mode {
            PositionMode::OneWay => Ok(SettingOutcome::AlreadySet),
            PositionMode::Hedge => Err(ExchangeError::Rejected {
                code: 51000,
                message: "this venue runs one-way mode only".into(),
            }),
        })
    }

    fn multi_assets_mode(&self) -> BoxFuture<'_, ExResult<bool>> {
        Self::ready(Ok(false))
    }

    fn set_multi_assets_mode(&self, enabled: bool) -> BoxFuture<'_, ExResult<SettingOutcome>> {
        Self::ready(if enabled {
            Err(ExchangeError::Rejected {
                code: 51000,
                message: "this venue has no multi-assets margin".into(),
            })
        } else {
            Ok(SettingOutcome::AlreadySet)
        })
    }

    fn user_trades<'a>(&'a self, query: &'a TradeQuery) -> BoxFuture<'a, ExResult<Vec<UserTrade>>> {
        Self::ready(self.with(|w, name| {
            Ok(w.account(name)
                .trades
                .iter()
                .filter(|t| t.symbol == query.symbol)
                .filter(|t| query.start.is_none_or(|s| t.time >= s))
                .filter(|t| query.end.is_none_or(|e| t.time <= e))
                .filter(|t| query.from_id.is_none_or(|f| t.id >= f))
                .map(|t| UserTrade {
                    trade_id: t.id.to_string(),
                    venue_order_id: t.order_id.to_string(),
                    symbol: t.symbol.clone(),
                    side: t.side,
                    position_side: PositionSide::Both,
                    price: price(t.price),
                    quantity: qty(base(t.contracts)),
                    quote_quantity: base(t.contracts) * t.price,
                    commission: Money::new(t.fee, usdt()),
                    realized_pnl: t.realized,
                    maker: false,
                    time: t.time,
                })
                .collect())
        }))
    }

    fn income<'a>(&'a self, query: &'a IncomeQuery) -> BoxFuture<'a, ExResult<Vec<IncomeRecord>>> {
        Self::ready(self.with(|w, name| {
            let mut out = Vec::new();
            for t in &w.account(name).trades {
                for (kind, amount) in [
                    (IncomeKind::RealizedPnl, t.realized),
                    (IncomeKind::Commission, -t.fee),
                ] {
                    if amount.is_zero() || query.kind.as_ref().is_some_and(|k| *k != kind) {
                        continue;
                    }
                    if query.symbol.as_ref().is_some_and(|s| *s != t.symbol)
                        || query.start.is_some_and(|s| t.time < s)
                        || query.end.is_some_and(|e| t.time > e)
                    {
                        continue;
                    }
                    out.push(IncomeRecord {
                        symbol: Some(t.symbol.clone()),
                        kind,
                        amount: Money::new(amount, usdt()),
                        time: t.time,
                        venue_id: format!("{}-{}", t.id, out.len()),
                        trade_id: Some(t.id.to_string()),
                    });
                }
            }
            Ok(out)
        }))
    }

    fn subscribe(&self) -> BoxFuture<'_, ExResult<EventStream>> {
        Self::ready(self.with(|w, name| {
            let (tx, rx) = mpsc::channel(4096);
            let (stop, _ignored) = oneshot::channel();
            let snapshot = w.snapshot(name);
            tx.try_send(AccountEvent::Resynced(Resynced {
                at: now(),
                snapshot,
            }))
            .map_err(|_| ExchangeError::Network {
                detail: "stream buffer".into(),
            })?;
            w.account(name).subscribers.push(tx);
            Ok(EventStream::new(rx, stop))
        }))
    }

    fn cancel_conditional_blind<'a>(
        &'a self,
        symbol: &'a str,
        client_id: &'a str,
    ) -> BoxFuture<'a, ExResult<bool>> {
        Box::pin(async move { Ok(self.cancel_conditional(symbol, client_id).await?.is_some()) })
    }

    fn market_stream(&self) -> BoxFuture<'_, ExResult<MarketStream>> {
        Self::ready(self.with(|w, _| {
            let (tx, rx) = mpsc::channel(1024);
            let (watch, _books_not_modelled) = mpsc::unbounded_channel();
            let (stop, _ignored) = oneshot::channel();
            let at = now();
            let _ = tx.try_send(MarketEvent::Connected { what: "marks", at });
            for (symbol, mark) in &w.marks {
                let _ = tx.try_send(MarketEvent::Mark {
                    symbol: symbol.clone(),
                    price: price(*mark),
                    venue_ms: at,
                    received_ms: at,
                });
            }
            // Kept so the stream stays open; marks older than the runtime's limit are
            // read with `quote` instead.
            w.market_subscribers.push(tx);
            Ok(MarketStream::new(rx, watch, stop))
        }))
    }

    fn weight(&self) -> WeightUsage {
        WeightUsage::default()
    }

    fn claim_weight_wait(&self) -> Option<WeightUsage> {
        None
    }

    fn check_key(&self, _role: KeyRole) -> BoxFuture<'_, ExResult<KeyCheck>> {
        Self::ready(Ok(KeyCheck {
            verdict: KeyVerdict::Accepted,
            findings: Vec::new(),
        }))
    }
}
