//! Where a copy's leader signals come from, behind one interface: an **account leader**
//! (an exchange account whose read-only key the user holds, followed live through its
//! user-data stream) or a **public lead portfolio** (its positions list polled and diffed
//! by `leader_poll`, within the request budget every public leader followed shares).
//!
//! Owns the leader half of a copy's start (what the set-up checks read of the leader: its
//! open positions, equity and position mode) and the feed the supervisor reads: stream
//! events for an account leader, poll reports for a portfolio. Both end in the same
//! `LeaderSignal`s, planned, risk-gated and journalled by the same supervisor path.
//!
//! The baseline rule (docs/leaders.md): at every (re)start the first good read of the
//! positions list is the baseline. Positions open in it produce no signal; a new copy takes
//! them only through its start plan (`copy_ongoing_positions`), as for an account leader;
//! a restart never copies them again. Only changes after the baseline are signals.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use rust_decimal::Decimal;
use tokio::sync::{mpsc, watch};

use crate::domain::{MarginMode, PositionMode, PositionSide};
use crate::engine::PositionKey;
use crate::exchange::lead_portfolio::{PortfolioClient, PortfolioPosition, BINANCE_MARKET};
use crate::exchange::lead_portfolio::{SourceError, BINANCE_PAGES};
use crate::exchange::{AccountEvent, Clock, EventStream};

use super::leader_poll::{Copyable, PollBudget, PollNote, PollOutcome, PortfolioPoller};
use super::start::AccountSpec;

/// The stored endpoint word for Binance's real copy-trading pages.
pub const BINANCE_ENDPOINT: &str = "binance";

/// A public lead portfolio to follow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortfolioSpec {
    /// The leader's name in the database (`leaders.name`).
    pub name: String,
    /// The venue's portfolio id (digits).
    pub portfolio_id: String,
    /// What the leader row stores: `binance`, `paper` or a base URL.
    pub endpoint: String,
    /// Where to connect when it differs from `endpoint` (the embedded simulator's URL).
    pub connect: Option<String>,
}

impl PortfolioSpec {
    /// The pages' client: Binance's pages for `binance`, else one base URL serving both
    /// the pages and the market API (a simulator).
    pub fn client(&self) -> Result<PortfolioClient, SourceError> {
        match self.connect.as_deref().unwrap_or(&self.endpoint) {
            BINANCE_ENDPOINT => PortfolioClient::with_market(BINANCE_PAGES, BINANCE_MARKET),
            url => PortfolioClient::new(url),
        }
    }
}

/// A copy's leader: an account or a public portfolio.
#[derive(Debug, Clone)]
pub enum LeaderSpec {
    Account(AccountSpec),
    Portfolio(PortfolioSpec),
}

impl LeaderSpec {
    /// The leader's name (the account name, or the portfolio leader's name).
    pub fn name(&self) -> &str {
        match self {
            LeaderSpec::Account(a) => &a.name,
            LeaderSpec::Portfolio(p) => &p.name,
        }
    }

    pub fn account(&self) -> Option<&AccountSpec> {
        match self {
            LeaderSpec::Account(a) => Some(a),
            LeaderSpec::Portfolio(_) => None,
        }
    }
}

/// One open leader book as the start of a copy sees it (from an account snapshot or a
/// portfolio's positions list).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LeaderBook {
    pub symbol: String,
    pub position_side: PositionSide,
    pub qty: Decimal,
    pub entry_price: Option<Decimal>,
    pub leverage: u32,
    pub margin_mode: MarginMode,
}

/// What a copy's start reads of its leader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LeaderView {
    pub books: Vec<LeaderBook>,
    /// The leader's equity (account value, or a portfolio's margin balance) when known.
    pub equity: Option<Decimal>,
    pub position_mode: PositionMode,
}

impl LeaderView {
    pub fn of_account(s: &crate::exchange::AccountSnapshot) -> Self {
        Self {
            books: s
                .positions
                .iter()
                .filter(|p| !p.signed_quantity.is_zero())
                .map(|p| LeaderBook {
                    symbol: p.symbol.clone(),
                    position_side: p.position_side,
                    qty: p.signed_quantity,
                    entry_price: p.entry_price.map(|x| x.get()),
                    leverage: p.leverage,
                    margin_mode: p.margin_mode,
                })
                .collect(),
            equity: Some(s.equity),
            position_mode: s.position_mode,
        }
    }

    /// The view of a portfolio after its baseline read (`rows`: its open rows).
    pub fn of_portfolio(rows: &[PortfolioPosition], equity: Option<Decimal>) -> Self {
        Self {
            books: rows.iter().map(book_of_row).collect(),
            equity,
            position_mode: portfolio_mode(rows),
        }
    }
}

fn book_of_row(p: &PortfolioPosition) -> LeaderBook {
    LeaderBook {
        symbol: p.symbol.clone(),
        position_side: p.position_side,
        qty: p.amount,
        entry_price: Some(p.entry_price),
        leverage: p.leverage,
        margin_mode: if p.isolated {
            MarginMode::Isolated
        } else {
            MarginMode::Cross
        },
    }
}

/// A portfolio's position mode as its rows show it: hedge when any row is LONG/SHORT.
fn portfolio_mode(rows: &[PortfolioPosition]) -> PositionMode {
    if rows.iter().any(|p| p.position_side != PositionSide::Both) {
        PositionMode::Hedge
    } else {
        PositionMode::OneWay
    }
}

/// One poll as the supervisor receives it.
#[derive(Debug, Clone)]
pub struct PollReport {
    pub outcome: PollOutcome,
    /// Open books of the last good read (kept through failed reads); `None` before one.
    pub positions: Option<BTreeMap<PositionKey, Decimal>>,
    pub copyable: Copyable,
    /// The wait before the next poll (the shared budget's interval, longer after a 429).
    pub next_wait: Duration,
    /// Local time (µs) the poll's answer was read.
    pub read_us: i64,
}

/// Open books by key.
pub(crate) fn books(rows: &[PortfolioPosition]) -> BTreeMap<PositionKey, Decimal> {
    rows.iter()
        .filter(|p| !p.amount.is_zero())
        .map(|p| {
            (
                PositionKey::new(p.symbol.clone(), p.position_side),
                p.amount,
            )
        })
        .collect()
}

/// What a copy reads its leader from while it runs.
#[derive(Debug)]
pub enum LeaderFeed {
    Stream(EventStream),
    /// The leader account's stream, shared by every copy of the leader (`leader_hub`).
    Shared(super::leader_hub::LeaderSubscription),
    Polled(mpsc::Receiver<PollReport>),
}

/// One item of a leader feed.
#[derive(Debug)]
pub enum LeaderItem {
    /// A leader event, with its ticket for the group sync when the leader's stream is
    /// shared (`leader_hub`).
    Event(AccountEvent, super::leader_hub::Handed),
    Poll(Box<PollReport>),
}

impl LeaderFeed {
    pub async fn next(&mut self) -> Option<LeaderItem> {
        match self {
            LeaderFeed::Stream(s) => s
                .next()
                .await
                .map(|e| LeaderItem::Event(e, Default::default())),
            LeaderFeed::Shared(s) => s.next().await.map(|(e, h)| LeaderItem::Event(e, h)),
            LeaderFeed::Polled(r) => r.recv().await.map(|p| LeaderItem::Poll(Box::new(p))),
        }
    }
}

/// The polling task of one followed portfolio: polls at the budget's interval (after a
/// first wait, the baseline having been read at the start) and sends each outcome to the
/// copy's supervisor. Ends when the supervisor drops its end or the engine stops.
pub(crate) fn spawn_poller(
    mut poller: PortfolioPoller,
    budget: Arc<PollBudget>,
    clock: Arc<dyn Clock>,
    mut stop: watch::Receiver<bool>,
) -> mpsc::Receiver<PollReport> {
    let (tx, rx) = mpsc::channel(8);
    tokio::spawn(async move {
        loop {
            let wait = poller.next_wait(&budget);
            tokio::select! {
                _ = clock.sleep(wait) => {}
                _ = stop.wait_for(|s| *s) => break,
                _ = tx.closed() => break,
            }
            let outcome = poller.poll(clock.now_ms()).await;
            let report = PollReport {
                outcome,
                positions: poller.open_rows().map(|r| books(&r)),
                copyable: poller.copyable().clone(),
                next_wait: poller.next_wait(&budget),
                read_us: crate::exchange::clock::wall_us(),
            };
            if tx.send(report).await.is_err() {
                break;
            }
        }
        tracing::debug!(portfolio = poller.id(), "lead portfolio poller ended");
    });
    rx
}

/// What the user is told about a poll note, and whether it means the leader cannot be
/// read now (a hold until a good read).
pub(crate) fn describe(note: &PollNote) -> (String, bool) {
    match note {
        PollNote::Baseline { open } => (
            format!("lead portfolio read: {open} position(s) already open are the baseline and are not copied; changes from now on are"),
            false,
        ),
        PollNote::Hidden => (
            "the lead portfolio hides its positions: nothing can be copied; positions are kept as last read (not read as closed)".to_owned(),
            true,
        ),
        PollNote::FormatChanged(w) => (
            format!("the lead portfolio's answer changed its format ({w}); nothing is guessed from it and positions are kept as last read"),
            true,
        ),
        PollNote::RateLimited { retry_after_s } => (
            format!("the lead-portfolio source refused: too many requests (HTTP 429); polling backs off (retry after {retry_after_s} s) and positions are kept as last read"),
            true,
        ),
        PollNote::GeoBlocked => (
            "the lead-portfolio source is geo-blocked from this address (HTTP 403); positions are kept as last read (not read as closed)".to_owned(),
            true,
        ),
        PollNote::ReadFailed(e) => (
            format!("the lead portfolio could not be read ({e}); positions are kept as last read"),
            true,
        ),
        PollNote::EmptyRead => (
            "the lead portfolio's positions list came back empty although positions are shown; not read as closed, checked again at the next poll".to_owned(),
            true,
        ),
        PollNote::RowMissing { symbol, side } => (
            format!("the lead portfolio's row {symbol} {side:?} is missing from the list; its position is kept as last read"),
            false,
        ),
        PollNote::Missed {
            symbol,
            realized_change,
            ..
        } => (
            format!("{symbol}: the leader opened and closed inside one poll interval (realized PnL moved {realized_change}); nothing to copy, logged as missed"),
            false,
        ),
    }
}

/// The copy delay a polled leader implies, for the leader list: the interval each public
/// leader is polled at when `followed` share the budget (`~4 s, polled`).
pub fn polled_delay(per_minute: u32, followed: usize) -> (Duration, String) {
    let every = super::leader_poll::poll_interval(per_minute, followed.max(1));
    let secs = (every.as_millis() + 500) / 1000;
    (every, format!("~{secs} s, polled"))
}
