//! The Binance USD-M futures adapter: implements the [`Exchange`] port on top of a raw
//! client in Binance's shapes (`http`, `parse`), a mapper to domain types (`map`), symbol
//! rules and rounding (`filters`), the shared weight limiter (`limiter`), the user-data
//! stream (`ws`) and the key check (`keycheck`).

pub mod env;
pub mod filters;
pub mod http;
pub mod keycheck;
pub mod limiter;
pub mod map;
mod market_ws;
pub mod parse;
pub mod sign;
pub mod ws;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};

use reqwest::Method;
use rust_decimal::Decimal;
use serde::de::DeserializeOwned;

use crate::domain::{MarginMode, PositionMode, PositionSide, Price, Side};
use crate::exchange::{
    AccountSnapshot, BoxFuture, CancelOutcome, Clock, ConditionalKind, ConditionalOrderRequest,
    ConditionalPlacement, ConditionalReport, ConditionalSize, Credentials, EventStream, ExResult,
    Exchange, ExchangeError, IncomeQuery, IncomeRecord, KeyCheck, KeyRole, MarginChange, Millis,
    OrderKind, OrderReport, OrderRequest, Placement, PositionAmount, Quote, RulesUpdate,
    SettingOutcome, SymbolRules, SystemClock, TimeInForce, TradeQuery, TradingStatus, TriggerPrice,
    UserTrade,
};

pub use env::{Endpoints, Environment};
pub use http::HttpConfig;
pub use limiter::WeightLimiter;
pub use ws::StreamConfig;

use filters::format_decimal;
use http::{Call, RawClient, Security};
use parse::{
    decode, CodeMsg, ExchangeInfo, LeverageSet, MultiAssets, PremiumIndex, RawAccount,
    RawAccountConfig, RawAlgoOrder, RawIncome, RawOrder, RawPositionRisk, RawSymbolConfig,
    RawUserTrade,
};

/// Options beyond the environment and the key.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub http: HttpConfig,
    pub stream: StreamConfig,
    /// The weight limiter; by default the process-wide one for the REST host.
    pub limiter: Option<Arc<WeightLimiter>>,
    /// The time source; by default the system clock.
    pub clock: Option<Arc<dyn Clock>>,
    /// The HTTP client; by default one client shared by the whole process.
    pub http_client: Option<reqwest::Client>,
}

/// One account on Binance USD-M futures.
#[derive(Debug, Clone)]
pub struct BinanceUsdm {
    inner: Arc<Inner>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) raw: RawClient,
    pub(crate) endpoints: Endpoints,
    pub(crate) stream: StreamConfig,
    rules: Mutex<RulesCache>,
    /// Snapshots leave out open orders and algo orders (`Exchange::positions_only`).
    positions_only: std::sync::atomic::AtomicBool,
}

#[derive(Debug, Default)]
struct RulesCache {
    by_symbol: HashMap<String, SymbolRules>,
    trading: HashSet<String>,
}

const VENUE: &str = "binance-usdm";

/// Which open orders and algo orders a snapshot reads.
#[derive(Debug, Clone, Copy)]
pub(crate) enum OrderReads<'a> {
    /// None (a leader's snapshot: 20 weight).
    None,
    /// Every symbol's, unfiltered (40 weight each of the two reads).
    All,
    /// These symbols' only (1 weight per symbol and read).
    Symbols(&'a [String]),
}

impl BinanceUsdm {
    /// An adapter for `environment` with the given key (or none, for public data only).
    pub fn new(
        environment: &Environment,
        credentials: Option<Credentials>,
        options: Options,
    ) -> ExResult<Self> {
        let endpoints = environment.endpoints()?;
        let clock = options.clock.unwrap_or_else(|| Arc::new(SystemClock));
        let limiter = options
            .limiter
            .unwrap_or_else(|| WeightLimiter::shared_for(&endpoints.limiter_key()));
        let http = match options.http_client {
            Some(c) => c,
            None => shared_http_client()?,
        };
        let raw = RawClient::new(
            http,
            endpoints.rest.clone(),
            credentials,
            limiter,
            clock,
            options.http,
        )?;
        Ok(Self {
            inner: Arc::new(Inner {
                raw,
                endpoints,
                stream: options.stream,
                rules: Mutex::new(RulesCache::default()),
                positions_only: std::sync::atomic::AtomicBool::new(false),
            }),
        })
    }

    /// The raw client, for callers that need an endpoint the port does not cover.
    pub fn raw(&self) -> &RawClient {
        &self.inner.raw
    }

    /// The mark price of a symbol.
    pub async fn mark_price(&self, symbol: &str) -> ExResult<Option<Price>> {
        self.inner.mark_price(symbol).await
    }
}

impl Inner {
    /// One read of open orders or open algo orders (`path`): of one symbol (weight 1), or
    /// of every symbol (weight 40).
    async fn open_orders_read<T: DeserializeOwned>(
        &self,
        path: &'static str,
        symbol: Option<&str>,
        background: bool,
    ) -> ExResult<Vec<T>> {
        let call = match symbol {
            Some(symbol) => {
                Call::new(Method::GET, path, Security::Signed, 1).param("symbol", symbol)
            }
            None => Call::new(Method::GET, path, Security::Signed, 40),
        };
        self.get(call.in_background(background)).await
    }

    async fn get<T: DeserializeOwned>(&self, call: Call) -> ExResult<T> {
        let label = call.label();
        let body = self.raw.send(&call).await?;
        decode(&label, &body)
    }

    async fn mark_price(&self, symbol: &str) -> ExResult<Option<Price>> {
        let p: PremiumIndex = self
            .get(
                Call::new(Method::GET, "/fapi/v1/premiumIndex", Security::Public, 1)
                    .param("symbol", symbol),
            )
            .await?;
        Ok(Price::new(p.mark_price).ok())
    }

    /// Every open position's size, from `positionRisk` alone (weight 5).
    async fn position_amounts(&self) -> ExResult<Vec<PositionAmount>> {
        const WHAT: &str = "GET /fapi/v3/positionRisk";
        let rows: Vec<RawPositionRisk> = self
            .get(Call::new(
                Method::GET,
                "/fapi/v3/positionRisk",
                Security::Signed,
                5,
            ))
            .await?;
        rows.into_iter()
            .filter(|r| !r.position_amt.is_zero())
            .map(|r| {
                Ok(PositionAmount {
                    position_side: map::position_side(WHAT, "positionSide", &r.position_side)?,
                    symbol: r.symbol,
                    signed_quantity: r.position_amt,
                })
            })
            .collect()
    }

    async fn quote(&self, symbol: &str) -> ExResult<Quote> {
        let mark = self
            .mark_price(symbol)
            .await?
            .ok_or_else(|| ExchangeError::Invalid {
                field: "markPrice",
                reason: format!("no mark price for {symbol}"),
            })?;
        Ok(Quote {
            symbol: symbol.to_owned(),
            mark_price: mark,
            best_bid: None,
            best_ask: None,
        })
    }

    async fn refresh_rules(&self) -> ExResult<RulesUpdate> {
        let info: ExchangeInfo = self
            .get(Call::new(
                Method::GET,
                "/fapi/v1/exchangeInfo",
                Security::Public,
                1,
            ))
            .await?;
        let published = |kind: &str, interval: &str, num: u32| {
            info.rate_limits
                .iter()
                .find(|l| {
                    l.rate_limit_type == kind && l.interval == interval && l.interval_num == num
                })
                .map(|l| l.limit)
        };
        if let Some(limit) = published("REQUEST_WEIGHT", "MINUTE", 1) {
            self.raw.limiter().set_limit(limit);
        }
        // Order limits are per account; a venue (or simulator) may publish lower ones than
        // the defaults the pacing starts from.
        self.raw.set_order_limits(
            published("ORDERS", "SECOND", 10),
            published("ORDERS", "MINUTE", 1),
        );
        let rules = filters::rules_from_exchange_info(info);
        let mut cache = lock(&self.rules);
        let now_trading: HashSet<String> = rules
            .iter()
            .filter(|r| r.status == TradingStatus::Trading)
            .map(|r| r.symbol.name.clone())
            .collect();
        let mut stopped: Vec<String> = cache.trading.difference(&now_trading).cloned().collect();
        stopped.sort();
        for s in &stopped {
            tracing::warn!(symbol = %s, "symbol stopped trading");
        }
        cache.trading = now_trading;
        cache.by_symbol = rules
            .iter()
            .map(|r| (r.symbol.name.clone(), r.clone()))
            .collect();
        Ok(RulesUpdate {
            rules,
            stopped_trading: stopped,
        })
    }

    async fn rules_for(&self, symbol: &str) -> ExResult<SymbolRules> {
        if let Some(r) = lock(&self.rules).by_symbol.get(symbol) {
            return Ok(r.clone());
        }
        self.refresh_rules().await?;
        lock(&self.rules)
            .by_symbol
            .get(symbol)
            .cloned()
            .ok_or_else(|| ExchangeError::Invalid {
                field: "symbol",
                reason: format!("{symbol} is not listed"),
            })
    }

    pub(crate) async fn snapshot(&self) -> ExResult<AccountSnapshot> {
        let positions_only = self
            .positions_only
            .load(std::sync::atomic::Ordering::Relaxed);
        let orders = if positions_only {
            OrderReads::None
        } else {
            OrderReads::All
        };
        self.snapshot_with(orders, false).await
    }

    /// A snapshot whose order reads are `orders`; `background` books its weight at low
    /// priority.
    pub(crate) async fn snapshot_with(
        &self,
        orders: OrderReads<'_>,
        background: bool,
    ) -> ExResult<AccountSnapshot> {
        const ACCOUNT: &str = "GET /fapi/v3/account";
        let account: RawAccount = self
            .get(
                Call::new(Method::GET, "/fapi/v3/account", Security::Signed, 5)
                    .in_background(background),
            )
            .await?;
        let config: RawAccountConfig = self
            .get(
                Call::new(Method::GET, "/fapi/v1/accountConfig", Security::Signed, 5)
                    .in_background(background),
            )
            .await?;
        let settings: Vec<RawSymbolConfig> = self
            .get(
                Call::new(Method::GET, "/fapi/v1/symbolConfig", Security::Signed, 5)
                    .in_background(background),
            )
            .await?;
        let settings = settings
            .into_iter()
            .map(|c| map::symbol_setting("GET /fapi/v1/symbolConfig", c))
            .collect::<ExResult<Vec<_>>>()?;
        let risks: Vec<RawPositionRisk> = self
            .get(
                Call::new(Method::GET, "/fapi/v3/positionRisk", Security::Signed, 5)
                    .in_background(background),
            )
            .await?;
        let positions = risks
            .into_iter()
            .filter(|p| !p.position_amt.is_zero())
            .map(|p| map::position("GET /fapi/v3/positionRisk", p, &settings))
            .collect::<ExResult<Vec<_>>>()?;
        let (orders, algos): (Vec<RawOrder>, Vec<RawAlgoOrder>) = match orders {
            OrderReads::None => (Vec::new(), Vec::new()),
            OrderReads::All => (
                self.open_orders_read("/fapi/v1/openOrders", None, background)
                    .await?,
                self.open_orders_read("/fapi/v1/openAlgoOrders", None, background)
                    .await?,
            ),
            OrderReads::Symbols(symbols) => {
                let (mut orders, mut algos) = (Vec::new(), Vec::new());
                for symbol in symbols {
                    let symbol = Some(symbol.as_str());
                    orders.extend(
                        self.open_orders_read::<RawOrder>(
                            "/fapi/v1/openOrders",
                            symbol,
                            background,
                        )
                        .await?,
                    );
                    algos.extend(
                        self.open_orders_read::<RawAlgoOrder>(
                            "/fapi/v1/openAlgoOrders",
                            symbol,
                            background,
                        )
                        .await?,
                    );
                }
                (orders, algos)
            }
        };
        let open_orders = orders
            .into_iter()
            .map(|o| map::order("GET /fapi/v1/openOrders", o))
            .collect::<ExResult<Vec<_>>>()?;
        let open_conditionals = algos
            .into_iter()
            .map(|o| map::algo_order("GET /fapi/v1/openAlgoOrders", o))
            .collect::<ExResult<Vec<_>>>()?;
        let balances = account
            .assets
            .into_iter()
            .map(|a| map::balance(ACCOUNT, a))
            .collect::<ExResult<Vec<_>>>()?;
        Ok(AccountSnapshot {
            balances,
            equity: account.total_margin_balance,
            available: account.available_balance,
            positions,
            symbol_settings: settings,
            open_orders,
            open_conditionals,
            position_mode: if config.dual_side_position {
                PositionMode::Hedge
            } else {
                PositionMode::OneWay
            },
            multi_assets: config.multi_assets_margin,
            taken_at: self.raw.clock().now_ms(),
        })
    }

    async fn place_order(&self, req: &OrderRequest) -> ExResult<Placement> {
        let rules = self.rules_for(&req.symbol).await?;
        let hedge_close = matches!(
            (req.position_side, req.side),
            (PositionSide::Long, Side::Sell) | (PositionSide::Short, Side::Buy)
        );
        let reduces = req.reduce_only || hedge_close;
        let (limit, tif) = match req.kind {
            OrderKind::Market => (None, None),
            OrderKind::Limit {
                price,
                time_in_force,
            } => (Some(price), Some(time_in_force)),
        };
        // A market order's minimum notional is checked at the mark: the streamed one when
        // this host's market stream runs, else one REST read.
        let mark = match limit {
            None => match market_ws::fresh_mark(
                &self.endpoints.limiter_key(),
                &req.symbol,
                self.raw.clock().now_ms(),
            ) {
                Some(m) => Some(m),
                None => self.mark_price(&req.symbol).await?,
            },
            Some(_) => None,
        };
        let prepared = filters::prepare(&rules, req.side, req.quantity, limit, mark, reduces)?;
        let mut call = Call::new(Method::POST, "/fapi/v1/order", Security::Signed, 0)
            .param("symbol", req.symbol.as_str())
            .param("side", side_word(req.side))
            .param("positionSide", position_side_word(req.position_side))
            .param(
                "type",
                match req.kind {
                    OrderKind::Market => "MARKET",
                    OrderKind::Limit { .. } => "LIMIT",
                },
            )
            .param("quantity", format_decimal(prepared.quantity))
            .opt_param("price", prepared.price.map(format_decimal))
            .opt_param("timeInForce", tif.map(tif_word));
        // The venue refuses `reduceOnly` in hedge mode, even as false.
        if req.position_side == PositionSide::Both && req.reduce_only {
            call = call.param("reduceOnly", "true");
        }
        let call = call
            .param("newClientOrderId", req.client_id.as_str())
            .param("newOrderRespType", "RESULT")
            .placing_order();
        Ok(
            match self
                .send_placement::<RawOrder, _>(&call, "POST /fapi/v1/order", map::order)
                .await?
            {
                Ok(report) => Placement::Acknowledged(report),
                Err(reason) => Placement::Unconfirmed {
                    client_id: req.client_id.clone(),
                    reason,
                },
            },
        )
    }

    async fn place_conditional(
        &self,
        req: &ConditionalOrderRequest,
    ) -> ExResult<ConditionalPlacement> {
        let rules = self.rules_for(&req.symbol).await?;
        if let TradingStatus::Halted(status) = &rules.status {
            return Err(ExchangeError::Invalid {
                field: "symbol",
                reason: format!("{} is not trading (status {status})", req.symbol),
            });
        }
        let trigger = filters::round_trigger(&rules, req.trigger_price)?;
        let mut call = Call::new(Method::POST, "/fapi/v1/algoOrder", Security::Signed, 0)
            .param("algoType", "CONDITIONAL")
            .param("symbol", req.symbol.as_str())
            .param("side", side_word(req.side))
            .param("positionSide", position_side_word(req.position_side))
            .param(
                "type",
                match req.kind {
                    ConditionalKind::StopMarket => "STOP_MARKET",
                    ConditionalKind::TakeProfitMarket => "TAKE_PROFIT_MARKET",
                },
            )
            .param("triggerPrice", format_decimal(trigger))
            .param(
                "workingType",
                match req.trigger_by {
                    TriggerPrice::Mark => "MARK_PRICE",
                    TriggerPrice::Last => "CONTRACT_PRICE",
                },
            );
        match req.size {
            ConditionalSize::ClosePosition => call = call.param("closePosition", "true"),
            ConditionalSize::Quantity { quantity } => {
                let q = rules.filters.floor_qty(quantity, true);
                if q.is_zero() {
                    return Err(ExchangeError::Filter {
                        symbol: req.symbol.clone(),
                        violation: crate::domain::FilterViolation::Zero {
                            step: rules.filters.market_step_size,
                        },
                    });
                }
                call = call.param("quantity", format_decimal(q.get()));
                if req.position_side == PositionSide::Both {
                    call = call.param("reduceOnly", "true");
                }
            }
        }
        let call = call
            .param("clientAlgoId", req.client_id.as_str())
            .param("newOrderRespType", "RESULT")
            .placing_order();
        Ok(
            match self
                .send_placement::<RawAlgoOrder, _>(
                    &call,
                    "POST /fapi/v1/algoOrder",
                    map::algo_order,
                )
                .await?
            {
                Ok(report) => ConditionalPlacement::Acknowledged(report),
                Err(reason) => ConditionalPlacement::Unconfirmed {
                    client_id: req.client_id.clone(),
                    reason,
                },
            },
        )
    }

    /// Sends a call that places an order. The outer error is a definite refusal; the inner
    /// `Err(reason)` means the order may exist — no answer, an unknown outcome, or an
    /// accepted order whose answer could not be read — so it must be looked up by client
    /// id, never sent again as if refused.
    async fn send_placement<R: serde::de::DeserializeOwned, T>(
        &self,
        call: &Call,
        what: &'static str,
        map: impl FnOnce(&str, R) -> ExResult<T>,
    ) -> ExResult<Result<T, String>> {
        let body = match self.raw.send(call).await {
            Ok(body) => body,
            Err(e) => return unconfirmed_or(e).map(Err),
        };
        Ok(decode::<R>(what, &body)
            .and_then(|raw| map(what, raw))
            .map_err(|e| format!("accepted, but the answer could not be read: {e}")))
    }

    async fn setting(&self, call: Call, already_set: i64) -> ExResult<SettingOutcome> {
        match self.get::<CodeMsg>(call).await {
            Ok(_) => Ok(SettingOutcome::Changed),
            Err(ExchangeError::Rejected { code, .. }) if code == already_set => {
                Ok(SettingOutcome::AlreadySet)
            }
            Err(e) => Err(e),
        }
    }
}

/// A placement whose answer was lost is not an error: it is `Unconfirmed`. Everything
/// else stays an error.
fn unconfirmed_or(e: ExchangeError) -> ExResult<String> {
    match e {
        ExchangeError::Timeout { .. }
        | ExchangeError::Unavailable {
            outcome_unknown: true,
            ..
        } => Ok(e.to_string()),
        other => Err(other),
    }
}

/// One HTTP client for the whole process, so every account reuses its connection pool.
fn shared_http_client() -> ExResult<reqwest::Client> {
    static CLIENT: OnceLock<Result<reqwest::Client, String>> = OnceLock::new();
    CLIENT
        .get_or_init(|| {
            reqwest::Client::builder()
                .build()
                .map_err(|e| e.to_string())
        })
        .clone()
        .map_err(|detail| ExchangeError::Network {
            detail: format!("cannot build the HTTP client: {detail}"),
        })
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

fn side_word(s: Side) -> &'static str {
    match s {
        Side::Buy => "BUY",
        Side::Sell => "SELL",
    }
}

fn position_side_word(p: PositionSide) -> &'static str {
    match p {
        PositionSide::Both => "BOTH",
        PositionSide::Long => "LONG",
        PositionSide::Short => "SHORT",
    }
}

fn tif_word(t: TimeInForce) -> &'static str {
    match t {
        TimeInForce::GoodTillCancel => "GTC",
        TimeInForce::ImmediateOrCancel => "IOC",
        TimeInForce::FillOrKill => "FOK",
        TimeInForce::PostOnly => "GTX",
    }
}

impl Exchange for BinanceUsdm {
    fn venue(&self) -> &'static str {
        VENUE
    }

    fn positions(&self) -> BoxFuture<'_, ExResult<Vec<PositionAmount>>> {
        Box::pin(self.inner.position_amounts())
    }

    fn quote<'a>(&'a self, symbol: &'a str) -> BoxFuture<'a, ExResult<Quote>> {
        Box::pin(self.inner.quote(symbol))
    }

    fn book_ticker<'a>(
        &'a self,
        symbol: &'a str,
    ) -> BoxFuture<'a, ExResult<Option<(Price, Price)>>> {
        Box::pin(async move {
            let t: parse::BookTickerRest = self
                .inner
                .get(
                    Call::new(
                        Method::GET,
                        "/fapi/v1/ticker/bookTicker",
                        Security::Public,
                        2,
                    )
                    .param("symbol", symbol),
                )
                .await?;
            Ok(Price::new(t.bid_price)
                .ok()
                .zip(Price::new(t.ask_price).ok()))
        })
    }

    fn symbol_setting<'a>(
        &'a self,
        symbol: &'a str,
    ) -> BoxFuture<'a, ExResult<Option<crate::exchange::SymbolSetting>>> {
        Box::pin(async move {
            let rows: Vec<RawSymbolConfig> = self
                .inner
                .get(
                    Call::new(Method::GET, "/fapi/v1/symbolConfig", Security::Signed, 5)
                        .param("symbol", symbol),
                )
                .await?;
            rows.into_iter()
                .find(|r| r.symbol == symbol)
                .map(|r| map::symbol_setting("GET /fapi/v1/symbolConfig", r))
                .transpose()
        })
    }

    fn sync_time(&self) -> BoxFuture<'_, ExResult<Millis>> {
        Box::pin(async move {
            self.inner.raw.sync_time().await?;
            Ok(self.inner.raw.time_offset_ms())
        })
    }

    fn server_offset_ms(&self) -> Millis {
        self.inner.raw.time_offset_ms()
    }

    fn account(&self) -> BoxFuture<'_, ExResult<AccountSnapshot>> {
        Box::pin(self.inner.snapshot())
    }

    fn symbol_rules(&self) -> BoxFuture<'_, ExResult<RulesUpdate>> {
        Box::pin(self.inner.refresh_rules())
    }

    fn place_order<'a>(&'a self, order: &'a OrderRequest) -> BoxFuture<'a, ExResult<Placement>> {
        Box::pin(self.inner.place_order(order))
    }

    fn cancel_order<'a>(
        &'a self,
        symbol: &'a str,
        client_id: &'a str,
    ) -> BoxFuture<'a, ExResult<CancelOutcome>> {
        Box::pin(async move {
            let call = Call::new(Method::DELETE, "/fapi/v1/order", Security::Signed, 1)
                .param("symbol", symbol)
                .param("origClientOrderId", client_id);
            match self.inner.get::<RawOrder>(call).await {
                Ok(o) => Ok(CancelOutcome::Canceled(map::order(
                    "DELETE /fapi/v1/order",
                    o,
                )?)),
                Err(ExchangeError::Rejected { code: -2011, .. }) => Ok(CancelOutcome::NotOpen),
                Err(e) => Err(e),
            }
        })
    }

    fn query_order<'a>(
        &'a self,
        symbol: &'a str,
        client_id: &'a str,
    ) -> BoxFuture<'a, ExResult<Option<OrderReport>>> {
        Box::pin(async move {
            let call = Call::new(Method::GET, "/fapi/v1/order", Security::Signed, 1)
                .param("symbol", symbol)
                .param("origClientOrderId", client_id);
            match self.inner.get::<RawOrder>(call).await {
                Ok(o) => Ok(Some(map::order("GET /fapi/v1/order", o)?)),
                Err(ExchangeError::Rejected { code: -2013, .. }) => Ok(None),
                Err(e) => Err(e),
            }
        })
    }

    fn place_conditional<'a>(
        &'a self,
        order: &'a ConditionalOrderRequest,
    ) -> BoxFuture<'a, ExResult<ConditionalPlacement>> {
        Box::pin(self.inner.place_conditional(order))
    }

    fn cancel_conditional<'a>(
        &'a self,
        symbol: &'a str,
        client_id: &'a str,
    ) -> BoxFuture<'a, ExResult<Option<ConditionalReport>>> {
        Box::pin(async move {
            // The cancel answer carries only ids, so the order is read first to report its
            // final state.
            let Some(mut current) = self.query_conditional(symbol, client_id).await? else {
                return Ok(None);
            };
            let call = Call::new(Method::DELETE, "/fapi/v1/algoOrder", Security::Signed, 1)
                .param("clientAlgoId", client_id);
            match self.inner.get::<CodeMsg>(call).await {
                Ok(_) => {
                    current.status = crate::exchange::ConditionalStatus::Canceled;
                    Ok(Some(current))
                }
                Err(ExchangeError::Rejected {
                    code: -2011 | -2013,
                    ..
                }) => Ok(None),
                Err(e) => Err(e),
            }
        })
    }

    fn cancel_conditional_blind<'a>(
        &'a self,
        _symbol: &'a str,
        client_id: &'a str,
    ) -> BoxFuture<'a, ExResult<bool>> {
        Box::pin(async move {
            let call = Call::new(Method::DELETE, "/fapi/v1/algoOrder", Security::Signed, 1)
                .param("clientAlgoId", client_id);
            match self.inner.get::<CodeMsg>(call).await {
                Ok(_) => Ok(true),
                Err(ExchangeError::Rejected {
                    code: -2011 | -2013,
                    ..
                }) => Ok(false),
                Err(e) => Err(e),
            }
        })
    }

    fn query_conditional<'a>(
        &'a self,
        _symbol: &'a str,
        client_id: &'a str,
    ) -> BoxFuture<'a, ExResult<Option<ConditionalReport>>> {
        Box::pin(async move {
            let call = Call::new(Method::GET, "/fapi/v1/algoOrder", Security::Signed, 1)
                .param("clientAlgoId", client_id);
            match self.inner.get::<RawAlgoOrder>(call).await {
                Ok(o) => Ok(Some(map::algo_order("GET /fapi/v1/algoOrder", o)?)),
                Err(ExchangeError::Rejected {
                    code: -2013 | -2011,
                    ..
                }) => Ok(None),
                Err(e) => Err(e),
            }
        })
    }

    fn set_leverage<'a>(&'a self, symbol: &'a str, leverage: u32) -> BoxFuture<'a, ExResult<u32>> {
        Box::pin(async move {
            if !(1..=125).contains(&leverage) {
                return Err(ExchangeError::Invalid {
                    field: "leverage",
                    reason: format!("{leverage} is outside 1 to 125"),
                });
            }
            let r: LeverageSet = self
                .inner
                .get(
                    Call::new(Method::POST, "/fapi/v1/leverage", Security::Signed, 1)
                        .param("symbol", symbol)
                        .param("leverage", leverage.to_string()),
                )
                .await?;
            Ok(r.leverage)
        })
    }

    fn set_margin_mode<'a>(
        &'a self,
        symbol: &'a str,
        mode: MarginMode,
    ) -> BoxFuture<'a, ExResult<SettingOutcome>> {
        Box::pin(async move {
            let word = match mode {
                MarginMode::Isolated => "ISOLATED",
                MarginMode::Cross => "CROSSED",
            };
            let call = Call::new(Method::POST, "/fapi/v1/marginType", Security::Signed, 1)
                .param("symbol", symbol)
                .param("marginType", word);
            self.inner.setting(call, -4046).await
        })
    }

    fn adjust_isolated_margin<'a>(
        &'a self,
        symbol: &'a str,
        position_side: PositionSide,
        change: MarginChange,
        amount: Decimal,
    ) -> BoxFuture<'a, ExResult<()>> {
        Box::pin(async move {
            if amount <= Decimal::ZERO {
                return Err(ExchangeError::Invalid {
                    field: "amount",
                    reason: format!("{amount} must be greater than zero"),
                });
            }
            let mut call = Call::new(Method::POST, "/fapi/v1/positionMargin", Security::Signed, 1)
                .param("symbol", symbol)
                .param("amount", format_decimal(amount))
                .param(
                    "type",
                    match change {
                        MarginChange::Add => "1",
                        MarginChange::Reduce => "2",
                    },
                );
            if position_side != PositionSide::Both {
                call = call.param("positionSide", position_side_word(position_side));
            }
            // The answer echoes the amount as a JSON float; only its code is read.
            let _: CodeMsg = self.inner.get(call).await?;
            Ok(())
        })
    }

    fn position_mode(&self) -> BoxFuture<'_, ExResult<PositionMode>> {
        Box::pin(async move {
            let r: parse::DualSide = self
                .inner
                .get(Call::new(
                    Method::GET,
                    "/fapi/v1/positionSide/dual",
                    Security::Signed,
                    30,
                ))
                .await?;
            Ok(if r.dual_side_position {
                PositionMode::Hedge
            } else {
                PositionMode::OneWay
            })
        })
    }

    fn set_position_mode(&self, mode: PositionMode) -> BoxFuture<'_, ExResult<SettingOutcome>> {
        Box::pin(async move {
            let call = Call::new(
                Method::POST,
                "/fapi/v1/positionSide/dual",
                Security::Signed,
                1,
            )
            .param(
                "dualSidePosition",
                match mode {
                    PositionMode::Hedge => "true",
                    PositionMode::OneWay => "false",
                },
            );
            self.inner.setting(call, -4059).await
        })
    }

    fn multi_assets_mode(&self) -> BoxFuture<'_, ExResult<bool>> {
        Box::pin(async move {
            let r: MultiAssets = self
                .inner
                .get(Call::new(
                    Method::GET,
                    "/fapi/v1/multiAssetsMargin",
                    Security::Signed,
                    30,
                ))
                .await?;
            Ok(r.multi_assets_margin)
        })
    }

    fn set_multi_assets_mode(&self, enabled: bool) -> BoxFuture<'_, ExResult<SettingOutcome>> {
        Box::pin(async move {
            let call = Call::new(
                Method::POST,
                "/fapi/v1/multiAssetsMargin",
                Security::Signed,
                1,
            )
            .param("multiAssetsMargin", if enabled { "true" } else { "false" });
            self.inner.setting(call, -4171).await
        })
    }

    fn user_trades<'a>(&'a self, q: &'a TradeQuery) -> BoxFuture<'a, ExResult<Vec<UserTrade>>> {
        Box::pin(async move {
            const W: &str = "GET /fapi/v1/userTrades";
            let call = Call::new(Method::GET, "/fapi/v1/userTrades", Security::Signed, 5)
                .param("symbol", q.symbol.as_str())
                .opt_param("startTime", q.start.map(|v| v.to_string()))
                .opt_param("endTime", q.end.map(|v| v.to_string()))
                .opt_param("fromId", q.from_id.map(|v| v.to_string()))
                .opt_param("limit", q.limit.map(|v| v.min(1000).to_string()));
            let raw: Vec<RawUserTrade> = self.inner.get(call).await?;
            raw.into_iter().map(|t| map::user_trade(W, t)).collect()
        })
    }

    fn income<'a>(&'a self, q: &'a IncomeQuery) -> BoxFuture<'a, ExResult<Vec<IncomeRecord>>> {
        Box::pin(async move {
            const W: &str = "GET /fapi/v1/income";
            let call = Call::new(Method::GET, "/fapi/v1/income", Security::Signed, 30)
                .opt_param("symbol", q.symbol.clone())
                .opt_param(
                    "incomeType",
                    q.kind.as_ref().map(|k| map::income_kind_word(k).to_owned()),
                )
                .opt_param("startTime", q.start.map(|v| v.to_string()))
                .opt_param("endTime", q.end.map(|v| v.to_string()))
                .opt_param("limit", q.limit.map(|v| v.min(1000).to_string()));
            let raw: Vec<RawIncome> = self.inner.get(call).await?;
            raw.into_iter().map(|i| map::income(W, i)).collect()
        })
    }

    fn subscribe(&self) -> BoxFuture<'_, ExResult<EventStream>> {
        Box::pin(async move { Ok(ws::spawn(self.inner.clone())) })
    }

    fn positions_only(&self) {
        self.inner
            .positions_only
            .store(true, std::sync::atomic::Ordering::Relaxed);
    }

    fn reconcile_read<'a>(
        &'a self,
        orders_of: Option<&'a [String]>,
    ) -> BoxFuture<'a, ExResult<AccountSnapshot>> {
        let orders = match orders_of {
            Some(symbols) => OrderReads::Symbols(symbols),
            None => OrderReads::All,
        };
        Box::pin(self.inner.snapshot_with(orders, true))
    }

    fn check_key(&self, role: KeyRole) -> BoxFuture<'_, ExResult<KeyCheck>> {
        Box::pin(keycheck::check(&self.inner, role))
    }

    fn market_stream(&self) -> BoxFuture<'_, ExResult<crate::exchange::MarketStream>> {
        Box::pin(async move { Ok(market_ws::spawn(&self.inner)) })
    }

    fn market_source(&self) -> Option<String> {
        // Market streams are public: every account on one WebSocket host reads the same.
        Some(format!("binance-usdm {}", self.inner.endpoints.ws))
    }

    fn weight(&self) -> crate::exchange::WeightUsage {
        self.inner.raw.limiter().usage()
    }

    fn claim_weight_wait(&self) -> Option<crate::exchange::WeightUsage> {
        self.inner.raw.limiter().claim_long_waits()
    }
}
