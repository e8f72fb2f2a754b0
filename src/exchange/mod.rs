//! The `Exchange` port (venue-neutral trait and types), the venue factory that builds a
//! port from an account's `exchange` name, and one module per venue.
//!
//! The runtime holds venues as `Arc<dyn Exchange>` and nothing else, so the trait is
//! object-safe (every method returns a boxed future) and covers every read the runtime
//! makes. The port speaks base units and the venue's own symbol names (see [`types`]).
//! Adapters depend inward on `domain` and on this module; nothing here but the factory
//! names an adapter.

pub mod binance_usdm;
pub mod clock;
pub mod credentials;
pub mod error;
pub mod events;
pub mod factory;
pub mod lead_portfolio;
pub mod market;
pub mod types;

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use rust_decimal::Decimal;
use tokio::sync::{mpsc, oneshot};

use crate::domain::{MarginMode, PositionMode, PositionSide};

pub use clock::{Clock, SystemClock};
pub use credentials::Credentials;
pub use error::{ErrorClass, ExchangeError};
pub use events::AccountEvent;
pub use factory::{DefaultVenues, VenueError, VenueFactory, VenueOptions, VenueRequest};
pub use market::{MarketEvent, MarketStream, WeightUsage};
pub use types::*;

/// A boxed, sendable future: what the port's methods return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Shorthand for the port's results.
pub type ExResult<T> = Result<T, ExchangeError>;

/// One account on one venue.
pub trait Exchange: Send + Sync + fmt::Debug {
    /// Short venue name for logs and the UI, e.g. `binance-usdm`.
    fn venue(&self) -> &'static str;

    /// Signed size of every open position, alone: the light read periodic reconciliation
    /// makes of the leader (on Binance weight 5, where [`Exchange::account`] costs 100).
    fn positions(&self) -> BoxFuture<'_, ExResult<Vec<PositionAmount>>>;

    /// A symbol's mark price (and best bid and ask where the same read has them), for
    /// sizing and the price checks of a plan.
    fn quote<'a>(&'a self, symbol: &'a str) -> BoxFuture<'a, ExResult<Quote>>;

    /// Measures the venue's clock against the local one and returns the offset (venue
    /// minus local, ms); later calls of [`Exchange::server_offset_ms`] return it.
    fn sync_time(&self) -> BoxFuture<'_, ExResult<Millis>>;

    /// The venue's clock minus the local one, as last measured (0 before any measurement).
    fn server_offset_ms(&self) -> Millis;

    /// Balances, positions with their margin, per-symbol leverage and margin mode, open
    /// orders and account modes, read together for reconciliation.
    fn account(&self) -> BoxFuture<'_, ExResult<AccountSnapshot>>;

    /// Every symbol's trading rules, plus those that stopped trading since the last call.
    fn symbol_rules(&self) -> BoxFuture<'_, ExResult<RulesUpdate>>;

    /// Places a market or limit order after rounding it to the symbol's rules and checking
    /// the minimums (market orders against the mark price; reduce-only exempt from the
    /// minimum notional).
    fn place_order<'a>(&'a self, order: &'a OrderRequest) -> BoxFuture<'a, ExResult<Placement>>;

    /// Cancels a regular order by client id.
    fn cancel_order<'a>(
        &'a self,
        symbol: &'a str,
        client_id: &'a str,
    ) -> BoxFuture<'a, ExResult<CancelOutcome>>;

    /// Looks a regular order up by client id; `None` when the venue does not know it.
    fn query_order<'a>(
        &'a self,
        symbol: &'a str,
        client_id: &'a str,
    ) -> BoxFuture<'a, ExResult<Option<OrderReport>>>;

    /// Places a conditional (trigger) order.
    fn place_conditional<'a>(
        &'a self,
        order: &'a ConditionalOrderRequest,
    ) -> BoxFuture<'a, ExResult<ConditionalPlacement>>;

    /// Cancels a conditional order by client id; `None` when it is not open.
    fn cancel_conditional<'a>(
        &'a self,
        symbol: &'a str,
        client_id: &'a str,
    ) -> BoxFuture<'a, ExResult<Option<ConditionalReport>>>;

    /// Cancels a conditional order by client id without reading it first (one request
    /// instead of two, for the hot path); false when it was not open.
    fn cancel_conditional_blind<'a>(
        &'a self,
        symbol: &'a str,
        client_id: &'a str,
    ) -> BoxFuture<'a, ExResult<bool>>;

    /// Looks a conditional order up by client id; `None` when the venue does not know it.
    fn query_conditional<'a>(
        &'a self,
        symbol: &'a str,
        client_id: &'a str,
    ) -> BoxFuture<'a, ExResult<Option<ConditionalReport>>>;

    /// Sets a symbol's leverage; returns the leverage now in force.
    fn set_leverage<'a>(&'a self, symbol: &'a str, leverage: u32) -> BoxFuture<'a, ExResult<u32>>;

    /// Sets a symbol's margin mode.
    fn set_margin_mode<'a>(
        &'a self,
        symbol: &'a str,
        mode: MarginMode,
    ) -> BoxFuture<'a, ExResult<SettingOutcome>>;

    /// Adds margin to, or removes it from, an isolated position (`amount` in the margin
    /// asset, positive).
    fn adjust_isolated_margin<'a>(
        &'a self,
        symbol: &'a str,
        position_side: PositionSide,
        change: MarginChange,
        amount: Decimal,
    ) -> BoxFuture<'a, ExResult<()>>;

    /// The account's position mode.
    fn position_mode(&self) -> BoxFuture<'_, ExResult<PositionMode>>;

    /// Switches between one-way and hedge mode.
    fn set_position_mode(&self, mode: PositionMode) -> BoxFuture<'_, ExResult<SettingOutcome>>;

    /// Whether multi-assets margin is on.
    fn multi_assets_mode(&self) -> BoxFuture<'_, ExResult<bool>>;

    /// Switches multi-assets margin on or off.
    fn set_multi_assets_mode(&self, enabled: bool) -> BoxFuture<'_, ExResult<SettingOutcome>>;

    /// The account's fills.
    fn user_trades<'a>(&'a self, query: &'a TradeQuery) -> BoxFuture<'a, ExResult<Vec<UserTrade>>>;

    /// The account's cash flows (funding, fees, realized PnL, transfers).
    fn income<'a>(&'a self, query: &'a IncomeQuery) -> BoxFuture<'a, ExResult<Vec<IncomeRecord>>>;

    /// Starts the private event stream. It reconnects by itself and sends
    /// [`events::Resynced`] with a fresh snapshot after every connect.
    fn subscribe(&self) -> BoxFuture<'_, ExResult<EventStream>>;

    /// From now on this handle's snapshots (its stream's resyncs included) leave out the
    /// account's open orders and conditional orders: a leader's, whose resting orders the
    /// engine never reads (it copies fills and positions). On Binance that spares the two
    /// unfiltered order reads, 80 of a snapshot's 100 weight. Adapters whose snapshot costs
    /// the same either way keep the default, which changes nothing.
    fn positions_only(&self) {}

    /// A snapshot for reconciliation, read at low priority on the address's weight budget
    /// (it stands aside while a copy's request waits). With `orders_of`, the open orders
    /// and conditional orders are read for those symbols only (and the snapshot lists no
    /// others); without, for the whole account. On Binance the per-symbol order reads
    /// cost 1 weight each against 40 for an unfiltered one. Adapters without a cheaper
    /// form keep the default: the full snapshot.
    fn reconcile_read<'a>(
        &'a self,
        orders_of: Option<&'a [String]>,
    ) -> BoxFuture<'a, ExResult<AccountSnapshot>> {
        let _ = orders_of;
        self.account()
    }

    /// Checks what the key may do, for the given role.
    fn check_key(&self, role: KeyRole) -> BoxFuture<'_, ExResult<KeyCheck>>;

    /// Starts the public market streams: every symbol's mark price, and the best bid/ask
    /// of the symbols asked for through [`MarketStream::watcher`]. They reconnect by
    /// themselves and say so with `Disconnected` / `Connected`.
    fn market_stream(&self) -> BoxFuture<'_, ExResult<MarketStream>>;

    /// Where this account's public market data comes from, as a key: accounts whose keys
    /// are equal read the same market streams, so one stream may serve them all. `None`
    /// (the default): the account's market data is its own, and it gets its own stream.
    fn market_source(&self) -> Option<String> {
        None
    }

    /// What the request-weight budget this account shares with the others on its address
    /// has used and made wait.
    fn weight(&self) -> WeightUsage;

    /// [`Exchange::weight`] when a request waited more than a second for the shared budget
    /// since any account on the address last claimed it, else `None`: whichever account
    /// asks first tells the user of a wait, once for the whole address.
    fn claim_weight_wait(&self) -> Option<WeightUsage>;

    /// A symbol's best bid and ask read now (`None` where the venue has no such read), for
    /// the price checks of a plan when the book stream has none yet.
    fn book_ticker<'a>(
        &'a self,
        symbol: &'a str,
    ) -> BoxFuture<'a, ExResult<Option<(crate::domain::Price, crate::domain::Price)>>> {
        let _ = symbol;
        Box::pin(async { Ok(None) })
    }

    /// A symbol's leverage and margin mode read now (`None` where the venue has no such
    /// read): what a flat account switched without an event.
    fn symbol_setting<'a>(
        &'a self,
        symbol: &'a str,
    ) -> BoxFuture<'a, ExResult<Option<crate::exchange::SymbolSetting>>> {
        let _ = symbol;
        Box::pin(async { Ok(None) })
    }
}

/// A running private stream. Dropping it stops the stream task.
#[derive(Debug)]
pub struct EventStream {
    events: mpsc::Receiver<AccountEvent>,
    stop: Option<oneshot::Sender<()>>,
}

impl EventStream {
    /// Wraps the receiving end of a stream task and the switch that stops it.
    pub fn new(events: mpsc::Receiver<AccountEvent>, stop: oneshot::Sender<()>) -> Self {
        Self {
            events,
            stop: Some(stop),
        }
    }

    /// The next event; `None` once the stream has stopped.
    pub async fn next(&mut self) -> Option<AccountEvent> {
        self.events.recv().await
    }

    /// Stops the stream task.
    pub fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            // The task may already have ended; nothing to do then.
            let _ = stop.send(());
        }
    }
}

impl Drop for EventStream {
    fn drop(&mut self) {
        self.stop();
    }
}
