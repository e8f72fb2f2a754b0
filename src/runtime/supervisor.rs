//! One supervisor task per copy: it follows the leader's and the follower's streams,
//! turns leader events into signals and plans them at once in event order, runs the plans
//! through the journal, and obeys pause, resume, stop and panic. It reconciles at start,
//! periodically, after every reconnect and after a clock jump (`reconcile`), keeps
//! offline-protection stops current (`protection`) and reads the follower's stream
//! (`follower_events`).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rust_decimal::Decimal;
use tokio::sync::{mpsc, watch};

use crate::domain::{SignalKind, StopAction};
use crate::engine::{self, CopyContext, CopyState, MarketInfo, PlanInput, PositionKey};
use crate::exchange::binance_usdm::BinanceUsdm;
use crate::exchange::{AccountEvent, AccountSnapshot, Clock, EventStream, Exchange, SymbolRules};
use crate::store::{Store, StoreError};

use super::follower::{market, to_follower};
use super::leader::LeaderTracker;
use super::notify::{Notification, Notifier, NotifyLevel, SharedStore};

/// Books each copy holds, per follower account, so copies of one follower stay apart.
pub type Registry = Arc<Mutex<BTreeMap<String, BTreeMap<i64, BTreeSet<PositionKey>>>>>;

/// What the app or the CLI may ask of a running copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Pause,
    Resume,
    /// Stop with `close-all` (the kill switch).
    Panic,
    /// Stop with the given stop action, at the user's request.
    Stop(StopAction),
    /// New settings (amounts) from now on; checked against the current ones first.
    Modify(Box<crate::domain::CopySettings>),
    /// Close or unlink one copied position (`symbol`, `direction`).
    Release {
        symbol: String,
        direction: engine::Direction,
        how: engine::PositionRelease,
    },
}

/// Timing knobs of the runtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EngineOptions {
    /// The venue's receive window: a lost order may still arrive within it.
    pub recv_window_ms: i64,
    /// Time between periodic reconciliations.
    pub reconcile_every: Duration,
}

impl Default for EngineOptions {
    fn default() -> Self {
        Self {
            recv_window_ms: 5_000,
            reconcile_every: Duration::from_secs(30),
        }
    }
}

/// An account on its venue: the port, and the adapter for calls the port lacks.
#[derive(Debug, Clone)]
pub struct Venue {
    pub ex: Arc<dyn Exchange>,
    pub bin: BinanceUsdm,
}

/// A local clock step bigger than this between two one-second ticks means the machine
/// slept (or the clock was set): reconcile as after a resume.
const JUMP_MS: i64 = 10_000;

/// How long a follower snapshot serves planning when no event says it changed; unrealized
/// PnL moves with the price even when nothing else does.
const CACHE_MS: i64 = 15_000;

/// Time between two mark checks of a copy that holds positions and has a total stop loss
/// or take profit. Each check is one account read (weight 5 of the venue's 2,400 a minute),
/// so a copy spends at most 100 a minute on it; see [`super::figures`] for why a read and
/// not the mark-price stream.
pub(crate) const MARK_CHECK_MS: i64 = 3_000;

/// The state of one running copy.
pub struct CopyRunner {
    pub(crate) copy_id: i64,
    pub(crate) leader_id: i64,
    /// The stored leader signal the plan being run answers, for the journal.
    pub(crate) signal_row: Option<i64>,
    pub(crate) name: String,
    pub(crate) ctx: CopyContext,
    pub(crate) leader: Venue,
    pub(crate) follower: Venue,
    pub(crate) follower_account: String,
    pub(crate) store: SharedStore,
    pub(crate) notifier: Notifier,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) tracker: LeaderTracker,
    pub(crate) rules: BTreeMap<String, SymbolRules>,
    pub(crate) opts: EngineOptions,
    pub(crate) registry: Registry,
    /// Leader fill price and event time per client id, for fill notifications.
    pub(crate) leader_refs: HashMap<String, (Decimal, i64)>,
    pub(crate) opens_paused: bool,
    pub(crate) stop_requested: Option<(StopAction, String)>,
    pub(crate) server_offset_ms: i64,
    /// The follower as last read; `None` once our orders or the venue changed it.
    pub(crate) cached: Option<AccountSnapshot>,
    /// Local time of the next reconciliation.
    pub(crate) next_reconcile_ms: i64,
    /// Local time of the next mark check of the PnL stops.
    pub(crate) next_mark_check_ms: i64,
    /// A leader snapshot the stream did not confirm, waiting for a second read.
    pub(crate) unconfirmed: Option<BTreeMap<PositionKey, Decimal>>,
    pub(crate) pass: u64,
}

impl std::fmt::Debug for CopyRunner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CopyRunner")
            .field("copy_id", &self.copy_id)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// Everything a supervisor is built from.
#[derive(Debug)]
pub struct RunnerParts {
    pub copy_id: i64,
    pub leader_id: i64,
    pub name: String,
    pub ctx: CopyContext,
    pub leader: Venue,
    pub follower: Venue,
    pub follower_account: String,
    pub store: SharedStore,
    pub notifier: Notifier,
    pub clock: Arc<dyn Clock>,
    pub rules: BTreeMap<String, SymbolRules>,
    pub opts: EngineOptions,
    pub registry: Registry,
}

impl CopyRunner {
    pub fn new(p: RunnerParts) -> Self {
        Self {
            copy_id: p.copy_id,
            leader_id: p.leader_id,
            signal_row: None,
            name: p.name,
            ctx: p.ctx,
            leader: p.leader,
            follower: p.follower,
            follower_account: p.follower_account,
            store: p.store,
            notifier: p.notifier,
            clock: p.clock,
            tracker: LeaderTracker::default(),
            rules: p.rules,
            opts: p.opts,
            registry: p.registry,
            leader_refs: HashMap::new(),
            opens_paused: false,
            stop_requested: None,
            server_offset_ms: 0,
            cached: None,
            next_reconcile_ms: 0,
            next_mark_check_ms: 0,
            unconfirmed: None,
            pass: 0,
        }
    }

    /// Runs a closure on the database.
    pub(crate) fn with_store<T>(
        &self,
        f: impl FnOnce(&mut Store) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut guard = self.store.lock().map_err(|_| StoreError::Invalid {
            field: "store",
            message: "the database lock is poisoned".into(),
        })?;
        f(guard.store_mut())
    }

    /// Sends a notification about this copy.
    pub(crate) fn say(&self, level: NotifyLevel, kind: &str, message: String) {
        self.notifier.send(
            Some(self.copy_id),
            Notification {
                ts_ms: self.clock.now_ms(),
                copy: Some(self.name.clone()),
                level,
                kind: kind.to_owned(),
                message,
            },
        );
    }

    /// Publishes the follower books this copy holds.
    pub(crate) fn publish_held(&self) {
        let held: BTreeSet<PositionKey> = self
            .ctx
            .ledger
            .positions
            .values()
            .map(|p| p.follower_key())
            .collect();
        if let Ok(mut r) = self.registry.lock() {
            r.entry(self.follower_account.clone())
                .or_default()
                .insert(self.copy_id, held);
        }
    }

    pub(crate) fn held_by_others(&self) -> BTreeSet<PositionKey> {
        let Ok(r) = self.registry.lock() else {
            return BTreeSet::new();
        };
        r.get(&self.follower_account)
            .map(|m| {
                m.iter()
                    .filter(|(id, _)| **id != self.copy_id)
                    .flat_map(|(_, s)| s.iter().cloned())
                    .collect()
            })
            .unwrap_or_default()
    }

    pub(crate) async fn sync_time(&mut self) {
        if self.follower.bin.raw().sync_time().await.is_ok() {
            self.server_offset_ms = self.follower.bin.raw().time_offset_ms();
        }
    }

    /// The follower snapshot: the cached one while nothing has changed the account since,
    /// else a fresh read.
    pub(crate) async fn follower_snapshot(&mut self) -> Option<AccountSnapshot> {
        if let Some(s) = &self.cached {
            if self.clock.now_ms() - s.taken_at < CACHE_MS {
                return Some(s.clone());
            }
        }
        self.fresh_snapshot().await
    }

    pub(crate) async fn fresh_snapshot(&mut self) -> Option<AccountSnapshot> {
        for _ in 0..3 {
            match self.follower.ex.account().await {
                Ok(s) => {
                    self.cached = Some(s.clone());
                    return Some(s);
                }
                Err(e) => {
                    tracing::warn!(error = %e, "follower snapshot failed; retrying");
                    self.clock.sleep(Duration::from_millis(300)).await;
                }
            }
        }
        None
    }

    pub(crate) async fn market_of(&self, name: &str) -> Option<MarketInfo> {
        let rules = self.rules.get(name)?;
        market(&self.follower.bin, rules).await.ok()
    }

    /// Current market info of every symbol the copy's ledger holds (symbols whose prices
    /// cannot be read now are left out).
    pub(crate) async fn ledger_markets(&self) -> BTreeMap<String, MarketInfo> {
        let names: BTreeSet<String> = self
            .ctx
            .ledger
            .positions
            .values()
            .map(|p| p.symbol.name.clone())
            .collect();
        let mut markets = BTreeMap::new();
        for n in names {
            if let Some(m) = self.market_of(&n).await {
                markets.insert(n, m);
            }
        }
        markets
    }

    /// Plans and runs one leader signal.
    pub(crate) async fn on_signal(&mut self, signal: crate::domain::LeaderSignal) {
        // Margin sync reads the margin level, which moves with the price: read it fresh.
        if matches!(signal.kind, SignalKind::IsolatedMargin { .. }) {
            self.cached = None;
        }
        let Some(snap) = self.follower_snapshot().await else {
            self.say(
                NotifyLevel::Error,
                "error",
                format!(
                    "{} signal not copied: the follower account could not be read",
                    signal.symbol
                ),
            );
            return;
        };
        let Some(market) = self.market_of(&signal.symbol.name).await else {
            self.say(
                NotifyLevel::Warning,
                "skip",
                format!(
                    "{} signal not copied: no market data for the symbol",
                    signal.symbol
                ),
            );
            return;
        };
        let mut ctx = self.ctx.clone();
        if self.opens_paused && ctx.state == CopyState::Running {
            ctx.state = CopyState::Paused;
        }
        let leader_ref = match &signal.kind {
            SignalKind::Fill(f) => Some((f.price.get(), signal.event_time_ms)),
            _ => None,
        };
        let input = PlanInput {
            copy: ctx,
            signal,
            follower: to_follower(&snap, self.held_by_others()),
            market: market.clone(),
            now_ms: self.clock.now_ms(),
            server_offset_ms: self.server_offset_ms,
        };
        let plan = engine::plan(&input);
        let placed = plan.orders().next().is_some();
        self.signal_row = self.store_signal(&input.signal);
        self.execute(plan, leader_ref).await;
        self.signal_row = None;
        if placed {
            self.protect().await;
        }
        self.handle_stop_request().await;
    }

    /// Stores a leader signal (once per leader) and returns its row, when new.
    fn store_signal(&self, sig: &crate::domain::LeaderSignal) -> Option<i64> {
        let (kind, qty, price, leverage, margin) = match &sig.kind {
            SignalKind::Fill(f) => (
                "fill",
                Some(f.qty.get()),
                Some(f.price.get()),
                Some(Decimal::from(f.leverage)),
                None,
            ),
            SignalKind::LeverageChange { leverage } => {
                ("leverage", None, None, Some(Decimal::from(*leverage)), None)
            }
            SignalKind::MarginModeChange { .. } => ("margin-mode", None, None, None, None),
            SignalKind::IsolatedMargin { change, .. } => {
                ("isolated-margin", None, None, None, Some(*change))
            }
        };
        let payload = serde_json::to_value(&sig.kind).ok();
        let row = crate::store::table::signals::NewSignal {
            leader_id: self.leader_id,
            venue_ref: &sig.id,
            kind,
            symbol: &sig.symbol.name,
            position_side: sig.position_side,
            qty,
            price,
            leverage,
            margin,
            ts_event: sig.event_time_ms,
            ts_recv: self.clock.now_ms(),
            payload: payload.as_ref(),
        };
        self.with_store(|s| s.signals().record(&row)).ok().flatten()
    }

    /// Stops the copy with `stop_action`, once.
    pub(crate) async fn stop_copy(&mut self, action: StopAction, why: &str) {
        let Some(snap) = self.follower_snapshot().await else {
            return;
        };
        let f = to_follower(&snap, self.held_by_others());
        let stop_id = format!("stop:{}", self.clock.now_ms());
        let plan = engine::plan_stop(&self.ctx, &f, action, &stop_id, why);
        self.execute(plan, None).await;
        self.ctx.state = CopyState::Stopped;
        let now = self.clock.now_ms();
        let id = self.copy_id;
        let _ = self.with_store(|s| s.copies().stop(id, now, why));
        self.say(
            NotifyLevel::Warning,
            "stopped",
            format!("copy stopped: {why}"),
        );
    }

    pub(crate) async fn handle_stop_request(&mut self) {
        if let Some((action, why)) = self.stop_requested.take() {
            if self.ctx.state != CopyState::Stopped {
                self.stop_copy(action, &why).await;
            }
        }
    }

    pub(crate) fn set_state(&mut self, state: CopyState) {
        self.ctx.state = state;
        let store_state = match state {
            CopyState::Paused => crate::store::table::copies::CopyState::Paused,
            _ => crate::store::table::copies::CopyState::Running,
        };
        let id = self.copy_id;
        let _ = self.with_store(|s| s.copies().set_state(id, store_state));
    }

    /// Takes new settings from now on, when the change is allowed; the version is stored.
    pub(crate) fn modify(&mut self, settings: crate::domain::CopySettings) {
        if let Err(e) = self.ctx.settings.check_change(&settings) {
            self.say(
                NotifyLevel::Warning,
                "notice",
                format!("settings not changed: {e}"),
            );
            return;
        }
        let (id, now) = (self.copy_id, self.clock.now_ms());
        match self.with_store(|s| {
            s.copy_settings()
                .record(id, &settings, now, Some("modified by the user"))
        }) {
            Ok(_) => {
                self.ctx.settings = settings;
                self.say(
                    NotifyLevel::Info,
                    "notice",
                    "settings changed; they apply from the next signal".into(),
                );
            }
            Err(e) => self.say(
                NotifyLevel::Error,
                "error",
                format!("settings not changed: the database refused them: {e}"),
            ),
        }
    }

    /// Closes or unlinks one copied position at the user's request.
    pub(crate) async fn release(
        &mut self,
        symbol: &str,
        direction: engine::Direction,
        how: engine::PositionRelease,
    ) {
        let Some(snap) = self.fresh_snapshot().await else {
            self.say(
                NotifyLevel::Error,
                "error",
                format!("{symbol} not released: the follower account could not be read"),
            );
            return;
        };
        let f = to_follower(&snap, self.held_by_others());
        let id = format!("release:{}", self.clock.now_ms());
        let Some(plan) = engine::plan_release(&self.ctx, &f, symbol, direction, how, &id) else {
            self.say(
                NotifyLevel::Warning,
                "notice",
                format!("{symbol} {direction:?}: this copy holds no such position"),
            );
            return;
        };
        self.execute(plan, None).await;
        self.cached = None;
        self.publish_held();
        self.say(
            NotifyLevel::Info,
            "notice",
            match how {
                engine::PositionRelease::Close => format!(
                    "{symbol} closed by the user; the leader's changes on it are declined until it is flat"
                ),
                engine::PositionRelease::Unlink => format!(
                    "{symbol} unlinked: it stays open as your own; the copy no longer manages it"
                ),
            },
        );
    }

    async fn on_leader(&mut self, ev: AccountEvent) {
        match &ev {
            AccountEvent::Disconnected(d) => {
                self.say(
                    NotifyLevel::Warning,
                    "disconnected",
                    format!("leader stream disconnected ({}); reconnecting", d.reason),
                );
                return;
            }
            AccountEvent::Failed(f) => {
                self.opens_paused = true;
                self.say(
                    NotifyLevel::Error,
                    "error",
                    format!("leader stream stopped for good: {}; opens paused", f.error),
                );
                return;
            }
            _ => {}
        }
        let resync = matches!(ev, AccountEvent::Resynced(_));
        let rules = self.rules.clone();
        let lookup = move |n: &str| rules.get(n).map(|r| r.symbol.clone());
        let signals = self.tracker.apply(&ev, &lookup);
        for s in signals {
            self.on_signal(s).await;
        }
        if resync {
            self.reconcile("leader reconnect").await;
        }
    }

    /// The supervisor loop; returns when `stop` turns true.
    pub async fn run(
        mut self,
        mut leader_stream: EventStream,
        mut follower_stream: EventStream,
        mut commands: mpsc::Receiver<Command>,
        mut stop: watch::Receiver<bool>,
    ) {
        self.publish_held();
        self.sync_time().await;
        super::recovery::recover(&mut self).await;
        self.reconcile("start-up").await;
        // Read before announcing: a clock jump right after "watching" must count as one.
        let mut last_tick = self.clock.now_ms();
        self.say(
            NotifyLevel::Info,
            "watching",
            format!("copy `{}` is watching the leader", self.name),
        );
        loop {
            if self.ctx.state == CopyState::Stopped {
                // A stopped copy manages nothing any more; its state stays in the database.
                break;
            }
            tokio::select! {
                biased;
                _ = stop.changed() => break,
                c = commands.recv() => match c {
                    Some(Command::Pause) => {
                        self.set_state(CopyState::Paused);
                        self.say(NotifyLevel::Info, "paused", "copy paused: closes still mirrored, no opens".into());
                    }
                    Some(Command::Resume) => {
                        self.set_state(CopyState::Running);
                        self.say(NotifyLevel::Info, "resumed", "copy resumed".into());
                    }
                    Some(Command::Panic) => self.stop_copy(StopAction::CloseAll, "panic (kill switch)").await,
                    Some(Command::Stop(action)) => self.stop_copy(action, "stopped by the user").await,
                    Some(Command::Modify(settings)) => self.modify(*settings),
                    Some(Command::Release { symbol, direction, how }) => self.release(&symbol, direction, how).await,
                    None => {}
                },
                ev = leader_stream.next() => match ev {
                    Some(ev) => self.on_leader(ev).await,
                    None => {
                        self.say(NotifyLevel::Error, "error", "leader stream ended; copying stops".into());
                        break;
                    }
                },
                ev = follower_stream.next() => match ev {
                    Some(ev) => self.on_follower(ev).await,
                    None => {
                        self.say(NotifyLevel::Error, "error", "follower stream ended; copying stops".into());
                        break;
                    }
                },
                _ = self.clock.sleep(Duration::from_millis(500)) => {
                    let now = self.clock.now_ms();
                    if now - last_tick > JUMP_MS {
                        self.reconcile("resume after a clock jump").await;
                    } else if now >= self.next_reconcile_ms {
                        self.reconcile("periodic").await;
                    } else if now >= self.next_mark_check_ms {
                        self.mark_check().await;
                    }
                    last_tick = self.clock.now_ms();
                }
            }
        }
    }
}

pub(crate) fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}
