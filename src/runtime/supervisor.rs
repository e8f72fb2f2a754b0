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
use crate::exchange::{AccountEvent, AccountSnapshot, Clock, EventStream, Exchange, SymbolRules};
use crate::store::{Store, StoreError};

use super::account_state::{SharedAccount, MARK_STALE_MS};
use super::follower::{market, to_follower};
use super::hold::{Change, Hold, HoldKind, Holds};
use super::leader::LeaderTracker;
use super::leader_source::{LeaderFeed, LeaderItem};
use super::notify::{
    Notification, Notifier, NotifyDetail, NotifyKind, NotifyLevel, SharedStore, StopCause,
};

/// Books each copy holds, per follower account, so copies of one follower stay apart.
pub type Registry = Arc<Mutex<BTreeMap<String, BTreeMap<i64, BTreeSet<PositionKey>>>>>;

/// The engine holds of every running copy, by copy name, for status readers.
pub type HoldBoard = Arc<Mutex<BTreeMap<String, Vec<Hold>>>>;

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
    /// Reconcile now (after the machine woke from sleep), giving the reason.
    Reconcile(&'static str),
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
    /// Requests a minute the public lead-portfolio source allows per address, shared by
    /// every public leader followed (the poll interval follows from it).
    pub portfolio_per_minute: u32,
}

impl Default for EngineOptions {
    fn default() -> Self {
        Self {
            recv_window_ms: 5_000,
            reconcile_every: Duration::from_secs(30),
            portfolio_per_minute: super::leader_poll::DEFAULT_PER_MINUTE,
        }
    }
}

/// An account on its venue: the port, and nothing of the adapter behind it.
#[derive(Debug, Clone)]
pub struct Venue {
    pub ex: Arc<dyn Exchange>,
}

/// The copy's leader as the supervisor reads it: an account (streamed, and read over REST
/// for reconciliation) or a public lead portfolio (polled; its last good read stands for
/// its positions).
#[derive(Debug, Clone)]
pub enum LeaderSide {
    Account(Venue),
    Portfolio(PolledLeader),
}

/// What a copy knows of its polled leader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolledLeader {
    pub portfolio_id: String,
    /// Open books of the last good read; `None` until one (a restart whose first read
    /// failed).
    pub positions: Option<BTreeMap<PositionKey, Decimal>>,
    /// The last poll read the positions (no failure, not hidden, not empty).
    pub readable: bool,
    /// The last problem announced, so a lasting one is told once.
    pub problem: Option<String>,
}

impl LeaderSide {
    pub(crate) fn portfolio(id: &str, view: &super::leader_source::LeaderView, read: bool) -> Self {
        LeaderSide::Portfolio(PolledLeader {
            portfolio_id: id.to_owned(),
            positions: read.then(|| {
                view.books
                    .iter()
                    .map(|b| (PositionKey::new(b.symbol.clone(), b.position_side), b.qty))
                    .collect()
            }),
            readable: read,
            problem: None,
        })
    }

    /// The leader's venue, for an account leader.
    pub fn venue(&self) -> Option<&Venue> {
        match self {
            LeaderSide::Account(v) => Some(v),
            LeaderSide::Portfolio(_) => None,
        }
    }
}

/// A tick that comes more than this later than planned on the local clock means the
/// machine slept (or the clock was set forward): reconcile as after a resume.
const JUMP_MS: i64 = 10_000;

/// The shortest wait between two ticks: what is due is done at most this late.
const TICK_MS: i64 = 500;

/// The longest wait between two ticks of a copy with nothing due: how late a long weight
/// wait is announced, a rate limit another copy met becomes this copy's hold, and a clock
/// jump is noticed (well inside [`JUMP_MS`]). Everything with a time of its own
/// (reconciliation, mark checks, retries) wakes the copy at that time instead.
const IDLE_TICK_MS: i64 = 5_000;

/// Time between two mark checks of a copy that holds positions and has a total stop loss
/// or take profit. Each check reads the follower state the streams keep (no REST read while
/// they are up).
pub(crate) const MARK_CHECK_MS: i64 = 3_000;

/// The state of one running copy.
pub struct CopyRunner {
    pub(crate) copy_id: i64,
    pub(crate) leader_id: i64,
    /// The stored leader signal the plan being run answers, for the journal.
    pub(crate) signal_row: Option<i64>,
    pub(crate) name: String,
    pub(crate) ctx: CopyContext,
    pub(crate) leader: LeaderSide,
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
    /// The engine's holds (copy-rules §1.10): while any is on, the copy plans as paused.
    pub(crate) holds: Holds,
    pub(crate) hold_board: HoldBoard,
    pub(crate) stop_requested: Option<(StopAction, String)>,
    /// Why the copy is being stopped, for the `stopped` announcement: the stop rule whose
    /// notice a plan announced (stop loss, take profit), or panic / the user.
    pub(crate) stop_cause_seen: Option<StopCause>,
    pub(crate) server_offset_ms: i64,
    /// The follower account as its streams keep it, shared with its other copies.
    pub(crate) account: Arc<SharedAccount>,
    /// Local time (µs) the leader event being planned was read from its socket.
    pub(crate) leader_recv_us: Option<i64>,
    /// This copy's ticket for the group sync of the leader event it is planning
    /// (`store::group_commit`), until its journal commit before the send.
    pub(crate) ticket: Option<crate::store::group_commit::Ticket>,
    /// The engine's commit lane for the journal commit before a send (`None`: each plan
    /// commits on its own).
    pub(crate) lane: Option<super::commit_lane::CommitLane>,
    /// Local time (µs) the current plan was ready.
    pub(crate) planned_us: i64,
    /// How many leader events this copy has in hand, queued or being handled, when its
    /// leader's stream is shared (`leader_hub`); and whether it is handling one now.
    pub(crate) leader_in_hand: Option<Arc<std::sync::atomic::AtomicUsize>>,
    pub(crate) handling_leader: bool,
    /// The writes made after a send, committed together at the end of the event.
    pub(crate) after_send: super::after_send::AfterSend,
    /// Running totals of the copy's fills and funding, for its figures.
    pub(crate) figure_sums: std::sync::Mutex<super::figure_sums::FigureSums>,
    /// Local time (µs) the current plan's commit returned.
    pub(crate) committed_us: i64,
    /// The order the plan's commit already marked as sent.
    pub(crate) sent_in_plan: Option<String>,
    /// The latest venue time an answer to one of this copy's orders carried: a figures
    /// reset starts after it, whatever the clock offset's estimate says.
    pub(crate) last_answer_ms: i64,
    /// The final report of the order `finish` settled last.
    pub(crate) last_report: Option<crate::exchange::OrderReport>,
    /// The stop worker's queue while the supervisor loop runs.
    pub(crate) stops: Option<mpsc::UnboundedSender<super::protection::StopJob>>,
    /// What the stop worker could not do (and confirmed), read as soon as it reports.
    pub(crate) stop_faults: super::protection::StopFaults,
    /// Local time of the next reconciliation.
    pub(crate) next_reconcile_ms: i64,
    /// Local time of the next mark check of the PnL stops.
    pub(crate) next_mark_check_ms: i64,
    /// A leader snapshot the stream did not confirm, waiting for a second read.
    pub(crate) unconfirmed: Option<BTreeMap<PositionKey, Decimal>>,
    /// The reason of an asked-for pass (a wake, a resume) that could not finish yet: the
    /// pass that does finish reports under it, so the user is told it happened.
    pub(crate) deferred_why: Option<String>,
    pub(crate) pass: u64,
    /// When to try protection again while a position has no confirmed stop.
    pub(crate) stop_retry: super::backoff::Backoff,
    /// Symbols named `unprotected` in the current gap in protection (see `protection`).
    pub(crate) unprotected_named: std::collections::BTreeSet<String>,
    /// When to try the closes of a stopping copy again.
    pub(crate) stopping_retry: super::backoff::Backoff,
    /// Why the venue refused or did not confirm orders of the plan being run, for the
    /// messages of a stop that could not close everything.
    pub(crate) refusals: Vec<String>,
    /// Books whose close could not be executed: the direction of what remains and the
    /// failed attempts; after the second, opens on the symbol pause until it is gone.
    pub(crate) blocked: BTreeMap<PositionKey, (engine::Direction, u32)>,
    /// When to retry the failed closes (by a reconciliation).
    pub(crate) close_retry: super::backoff::Backoff,
    /// Copied positions already reported as held in the wrong margin mode.
    pub(crate) wrong_mode_reported: BTreeSet<PositionKey>,
    /// Regular orders this copy's protective stops placed when they fired (venue order
    /// id → the stop's client id), to attribute their fills.
    pub(crate) stop_triggers: BTreeMap<String, String>,
    /// Quantity of each ledger position that fills of orders not ours closed and that was
    /// announced since the last reconciliation, which then repairs the ledger quietly.
    pub(crate) outside_announced: BTreeMap<PositionKey, Decimal>,
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
    pub leader: LeaderSide,
    pub follower: Venue,
    pub follower_account: String,
    pub store: SharedStore,
    pub notifier: Notifier,
    pub clock: Arc<dyn Clock>,
    pub rules: BTreeMap<String, SymbolRules>,
    pub opts: EngineOptions,
    pub registry: Registry,
    pub hold_board: HoldBoard,
    pub account: Arc<SharedAccount>,
    pub(crate) lane: Option<super::commit_lane::CommitLane>,
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
            holds: Holds::default(),
            hold_board: p.hold_board,
            stop_requested: None,
            stop_cause_seen: None,
            server_offset_ms: 0,
            account: p.account,
            leader_recv_us: None,
            ticket: None,
            lane: p.lane,
            planned_us: 0,
            leader_in_hand: None,
            handling_leader: false,
            after_send: Default::default(),
            figure_sums: Default::default(),
            committed_us: 0,
            sent_in_plan: None,
            last_answer_ms: i64::MIN,
            stops: None,
            stop_faults: Default::default(),
            last_report: None,
            next_reconcile_ms: 0,
            next_mark_check_ms: 0,
            unconfirmed: None,
            deferred_why: None,
            pass: 0,
            stop_retry: Default::default(),
            unprotected_named: Default::default(),
            stopping_retry: Default::default(),
            refusals: Vec::new(),
            blocked: BTreeMap::new(),
            close_retry: Default::default(),
            wrong_mode_reported: BTreeSet::new(),
            stop_triggers: BTreeMap::new(),
            outside_announced: BTreeMap::new(),
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
    pub(crate) fn say(&self, level: NotifyLevel, kind: NotifyKind, message: String) {
        self.tell(level, kind, None, message);
    }

    /// Sends a notification that carries the engine's reason.
    pub(crate) fn tell(
        &self,
        level: NotifyLevel,
        kind: NotifyKind,
        notice: Option<crate::engine::NoticeKind>,
        message: String,
    ) {
        self.send_notification(level, kind, notice, None, message);
    }

    /// Sends a notification with its typed facts (a fill, a stop).
    pub(crate) fn say_detail(
        &self,
        level: NotifyLevel,
        kind: NotifyKind,
        detail: super::notify::NotifyDetail,
        message: String,
    ) {
        self.send_notification(level, kind, None, Some(detail), message);
    }

    /// As [`Self::say_detail`], for the notices every copied order makes (its fill, its
    /// stop confirmed): the row is written with the turn's other writes after the send,
    /// in their one commit, and the notification goes out once that commit is made
    /// ([`CopyRunner::keep_notification`]).
    pub(crate) fn say_kept(
        &mut self,
        level: NotifyLevel,
        kind: NotifyKind,
        detail: Option<super::notify::NotifyDetail>,
        message: String,
    ) {
        let n = self.notification(level, kind, None, detail, message);
        self.keep_notification(n);
    }

    fn send_notification(
        &self,
        level: NotifyLevel,
        kind: NotifyKind,
        notice: Option<crate::engine::NoticeKind>,
        detail: Option<super::notify::NotifyDetail>,
        message: String,
    ) {
        let n = self.notification(level, kind, notice, detail, message);
        self.notifier.send(Some(self.copy_id), n);
    }

    fn notification(
        &self,
        level: NotifyLevel,
        kind: NotifyKind,
        notice: Option<crate::engine::NoticeKind>,
        detail: Option<super::notify::NotifyDetail>,
        message: String,
    ) -> Notification {
        Notification {
            ts_ms: self.clock.now_ms(),
            copy: Some(self.name.clone()),
            level,
            kind,
            notice,
            message,
            detail,
        }
    }

    /// Puts the copy on an engine hold (announced once, with its reason).
    pub(crate) fn hold(&mut self, kind: HoldKind, reason: String) {
        if self.holds.set(kind, reason.clone(), self.clock.now_ms()) == Change::Started {
            self.say_detail(
                NotifyLevel::Warning,
                NotifyKind::Held,
                NotifyDetail::Hold { kind },
                format!(
                    "copy held ({}): {reason}; opens are skipped, closes still mirrored",
                    kind.as_str()
                ),
            );
            self.publish_holds();
        }
    }

    /// Lifts an engine hold once its cause cleared (announced once).
    pub(crate) fn release(&mut self, kind: HoldKind) {
        if self.holds.lift(kind) == Change::Lifted {
            self.say(
                NotifyLevel::Info,
                NotifyKind::Released,
                format!(
                    "hold lifted ({}): copying opens again{}",
                    kind.as_str(),
                    if self.holds.is_held() {
                        " once the other holds lift"
                    } else {
                        ""
                    }
                ),
            );
            self.publish_holds();
        }
    }

    pub(crate) fn publish_holds(&self) {
        if let Ok(mut b) = self.hold_board.lock() {
            let list = self.holds.list();
            if list.is_empty() {
                b.remove(&self.name);
            } else {
                b.insert(self.name.clone(), list);
            }
        }
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
        if let Ok(offset) = self.follower.ex.sync_time().await {
            self.server_offset_ms = offset;
        }
    }

    /// The follower now, from the state its streams keep; a REST read only while that
    /// state cannot serve (the stream is down), logged as such.
    pub(crate) async fn follower_snapshot(&mut self) -> Option<AccountSnapshot> {
        let now = self.clock.now_ms();
        let why = match self.account.lock().view(now) {
            Ok(s) => return Some(s),
            Err(why) => why,
        };
        tracing::warn!(copy = %self.name, %why, "reading the follower account over REST on the signal path");
        self.snapshot_within(0).await
    }

    /// A snapshot for reconciliation: one REST read per follower account per half
    /// reconciliation interval, shared by all its copies; within that, the stream state,
    /// unless a fill of ours is still waiting for the stream's report (then a read).
    pub(crate) async fn fresh_snapshot(&mut self) -> Option<AccountSnapshot> {
        self.snapshot_within(ms(self.opts.reconcile_every) / 2)
            .await
    }

    async fn snapshot_within(&mut self, max_age_ms: i64) -> Option<AccountSnapshot> {
        let account = self.account.clone();
        if max_age_ms > 0 {
            // Reconciliation: the symbols in play (`reconcile_reads`), at low priority;
            // a retry after a failure reads every symbol's orders.
            let mut scope = self.orders_scope();
            for _ in 0..3 {
                let ex = self.follower.ex.clone();
                let read = super::reconcile_reads::read_follower(
                    &*ex,
                    &account,
                    &*self.clock,
                    scope.take(),
                    max_age_ms,
                )
                .await;
                match read {
                    Ok(false) => return account.lock().view(self.clock.now_ms()).ok(),
                    Ok(true) => return account.lock().estimate(self.clock.now_ms()),
                    Err(e) => {
                        let name = self.follower_account.clone();
                        if self.key_refused(&name, &e) {
                            return None;
                        }
                        tracing::warn!(error = %e, "follower snapshot failed; retrying");
                        self.clock.sleep(Duration::from_millis(300)).await;
                    }
                }
            }
            return None;
        }
        // Copies that ask together wait for one read instead of making one each.
        let _reading = account.reading.lock().await;
        for _ in 0..3 {
            let started = self.clock.now_ms();
            match self.follower.ex.account().await {
                Ok(s) => {
                    let mut st = account.lock();
                    st.refreshed(s, started);
                    return st.estimate(self.clock.now_ms());
                }
                Err(e) => {
                    let account = self.follower_account.clone();
                    if self.key_refused(&account, &e) {
                        return None;
                    }
                    tracing::warn!(error = %e, "follower snapshot failed; retrying");
                    self.clock.sleep(Duration::from_millis(300)).await;
                }
            }
        }
        None
    }

    /// A symbol's rules and prices: the mark and best bid/ask from the market streams;
    /// a REST read of the mark (weight 1) only when the stream has none within
    /// [`MARK_STALE_MS`], logged as such.
    pub(crate) async fn market_of(&self, name: &str) -> Option<MarketInfo> {
        let rules = self.rules.get(name)?;
        let now = self.clock.now_ms();
        let (mark, current, gap) = {
            let mut st = self.account.lock();
            st.want_book(name);
            let mark = st.mark(name, now);
            let gap = if mark.is_none() {
                st.mark_gap(name, now)
            } else {
                String::new()
            };
            (mark, st.current(name, now), gap)
        };
        match mark.and_then(|m| crate::domain::Price::new(m).ok()) {
            Some(mark) => Some(MarketInfo {
                symbol: rules.symbol.clone(),
                filters: rules.filters.clone(),
                mark_price: mark,
                current_price: current
                    .and_then(|c| crate::domain::Price::new(c).ok())
                    .unwrap_or(mark),
            }),
            None => {
                tracing::warn!(
                    copy = %self.name,
                    symbol = name,
                    stale_after_ms = MARK_STALE_MS,
                    %gap,
                    "no current mark price from the market stream; reading it over REST"
                );
                market(&*self.follower.ex, rules).await.ok()
            }
        }
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
    pub(crate) async fn on_signal(&mut self, mut signal: crate::domain::LeaderSignal) {
        if self.is_stopping() {
            self.skip_while_stopping(&signal.symbol.name);
            return;
        }
        // A rate limit another copy on this address met holds this one too; an idle copy
        // looks only every few seconds, a signal looks now.
        self.check_rate_limit();
        self.confirm_leader_mode(&mut signal).await;
        let equity_note = self.current_equity(&mut signal).await;
        // Margin sync needs the venue's maintenance margin, which no stream carries: the
        // one signal kind that reads the account (see docs/streams.md).
        let snap = if matches!(signal.kind, SignalKind::IsolatedMargin { .. }) {
            self.snapshot_within(0).await
        } else {
            self.follower_snapshot().await
        };
        let Some(snap) = snap else {
            self.say(
                NotifyLevel::Error,
                NotifyKind::Error,
                format!(
                    "{} signal not copied: the follower account could not be read; a reconciliation follows to repair what it changed",
                    signal.symbol
                ),
            );
            self.reconcile_soon();
            return;
        };
        let mut market = match self.market_of(&signal.symbol.name).await {
            Some(m) => m,
            // A close needs no price (closes pass no price check): it runs at the leader's
            // fill price as the reference rather than being dropped.
            None => match self.closing_reference(&signal) {
                Some(m) => m,
                None => {
                    self.say(
                        NotifyLevel::Warning,
                        NotifyKind::Skip,
                        format!(
                            "{} signal not copied: no market data for the symbol; a reconciliation follows to repair what it changed",
                            signal.symbol
                        ),
                    );
                    self.reconcile_soon();
                    return;
                }
            },
        };
        if let SignalKind::Fill(f) = &signal.kind {
            self.executable_side(f, &mut market).await;
        }
        let mut ctx = self.ctx.clone();
        if ctx.state == CopyState::Running {
            // An engine hold is not the user's pause: the skip says which it is.
            let held = self.holds.opens_held_because().or_else(|| {
                self.symbol_blocked(&signal.symbol.name).then(|| {
                    format!(
                        "the copy is holding opens on {} because a close on it could not be executed; they resume once it is closed",
                        signal.symbol.name
                    )
                })
            });
            if held.is_some() {
                ctx.state = CopyState::Paused;
                ctx.held = held;
            }
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
        self.planned_us = crate::exchange::clock::wall_us();
        let placed = plan.orders().next().is_some();
        self.execute_signal(plan, leader_ref, Some(&input.signal))
            .await;
        if let Some(note) = equity_note {
            self.log_equity(&note, self.signal_row);
        }
        self.signal_row = None;
        self.leader_recv_us = None;
        if placed {
            self.protect().await;
        }
        self.handle_stop_request().await;
    }

    /// Market info for a leader fill that shrinks its position, priced at the fill, when
    /// no market price could be read: the close must not be dropped for want of a price.
    fn closing_reference(&self, signal: &crate::domain::LeaderSignal) -> Option<MarketInfo> {
        let SignalKind::Fill(f) = &signal.kind else {
            return None;
        };
        let before = f.position_before;
        let after = f.position_after();
        // A flip opens too, and an open needs a real price: it waits for reconciliation.
        let shrinks = !before.is_zero()
            && (after.is_zero()
                || (after.is_sign_negative() == before.is_sign_negative()
                    && after.abs() < before.abs()));
        if !shrinks {
            return None;
        }
        let rules = self.rules.get(&signal.symbol.name)?;
        tracing::warn!(copy = %self.name, symbol = %signal.symbol.name, "no market price; the close runs with the leader's fill price as reference");
        Some(MarketInfo {
            symbol: rules.symbol.clone(),
            filters: rules.filters.clone(),
            mark_price: f.price,
            current_price: f.price,
        })
    }

    /// Brings the next reconciliation forward (a signal could not be planned).
    pub(crate) fn reconcile_soon(&mut self) {
        let soon = self.clock.now_ms() + 1_000;
        self.next_reconcile_ms = self.next_reconcile_ms.min(soon);
    }

    /// Stores that the copy stopped. A failure is an error the user sees: a stop that is
    /// not stored would let a restart run the copy again.
    pub(crate) fn store_stop(&self, now: i64, why: &str) {
        let id = self.copy_id;
        if let Err(e) = self.with_store(|s| s.copies().stop(id, now, why)) {
            self.say(
                NotifyLevel::Error,
                NotifyKind::Error,
                format!("the stop could not be stored ({e}): a restart would run this copy again; stop it again once the database accepts writes"),
            );
        }
    }

    pub(crate) async fn handle_stop_request(&mut self) {
        if let Some((action, why)) = self.stop_requested.take() {
            if self.ctx.state != CopyState::Stopped && !self.is_stopping() {
                self.stop_copy(action, &why).await;
            }
        }
    }

    /// Moves a running copy to `Running` or `Paused` (the user's pause) and stores it. A
    /// stop goes through [`CopyRunner::stop_copy`]; a created copy is never planned.
    pub(crate) fn set_state(&mut self, state: CopyState) {
        match state {
            CopyState::Running | CopyState::Paused => {}
            CopyState::Created | CopyState::Stopped => {
                tracing::error!(copy = %self.name, to = %state, "a running copy cannot move to this state here");
                return;
            }
        }
        self.ctx.state = state;
        let id = self.copy_id;
        if let Err(e) = self.with_store(|s| s.copies().set_state(id, state)) {
            self.say(
                NotifyLevel::Error,
                NotifyKind::Error,
                format!("the copy's state `{state}` could not be stored: {e}; it applies until the engine stops"),
            );
        }
    }

    /// Takes new settings from now on, when the change is allowed; the version is stored.
    pub(crate) fn modify(&mut self, settings: crate::domain::CopySettings) {
        if let Err(e) = self.ctx.settings.check_change(&settings) {
            self.say(
                NotifyLevel::Warning,
                NotifyKind::Notice,
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
                    NotifyKind::Notice,
                    "settings changed; they apply from the next signal".into(),
                );
            }
            Err(e) => self.say(
                NotifyLevel::Error,
                NotifyKind::Error,
                format!("settings not changed: the database refused them: {e}"),
            ),
        }
    }

    /// Closes or unlinks one copied position at the user's request.
    pub(crate) async fn release_position(
        &mut self,
        symbol: &str,
        direction: engine::Direction,
        how: engine::PositionRelease,
    ) {
        let Some(snap) = self.fresh_snapshot().await else {
            self.say(
                NotifyLevel::Error,
                NotifyKind::Error,
                format!("{symbol} not released: the follower account could not be read"),
            );
            return;
        };
        let f = to_follower(&snap, self.held_by_others());
        let id = format!("release:{}", self.clock.now_ms());
        let Some(plan) = engine::plan_release(&self.ctx, &f, symbol, direction, how, &id) else {
            self.say(
                NotifyLevel::Warning,
                NotifyKind::Notice,
                format!("{symbol} {direction:?}: this copy holds no such position"),
            );
            return;
        };
        self.execute(plan, None).await;
        self.publish_held();
        self.say(
            NotifyLevel::Info,
            NotifyKind::Notice,
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
        self.leader_recv_us = match &ev {
            AccountEvent::Order(u) => Some(u.times.received_us),
            AccountEvent::BalancePosition(u) => Some(u.times.received_us),
            AccountEvent::Leverage(u) => Some(u.times.received_us),
            _ => None,
        };
        match &ev {
            AccountEvent::Disconnected(d) => {
                self.say_detail(
                    NotifyLevel::Warning,
                    NotifyKind::Disconnected,
                    NotifyDetail::Stream {
                        stream: super::notify::StreamRole::Leader,
                    },
                    format!("leader stream disconnected ({}); reconnecting", d.reason),
                );
                return;
            }
            AccountEvent::Resynced(_) => self.say_detail(
                NotifyLevel::Info,
                NotifyKind::Reconnected,
                NotifyDetail::Stream {
                    stream: super::notify::StreamRole::Leader,
                },
                "leader stream reconnected".into(),
            ),
            AccountEvent::Failed(f) => {
                if self.key_refused("the leader", &f.error) {
                    return;
                }
                self.say(
                    NotifyLevel::Error,
                    NotifyKind::Error,
                    format!("leader stream stopped for good: {}", f.error),
                );
                self.hold(
                    HoldKind::LeaderUnreadable,
                    format!("the leader's stream stopped: {}", f.error),
                );
                return;
            }
            _ => {}
        }
        let resync = matches!(ev, AccountEvent::Resynced(_));
        // The tracker and the rules are separate fields: borrowed, not copied per event.
        let rules = &self.rules;
        let lookup = |n: &str| rules.get(n).map(|r| r.symbol.clone());
        let mut signals = self.tracker.apply(&ev, &lookup);
        signals.extend(self.pending_order_end(&ev));
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
        mut leader_feed: LeaderFeed,
        mut follower_stream: EventStream,
        mut commands: mpsc::Receiver<Command>,
        mut stop: watch::Receiver<bool>,
    ) {
        self.publish_held();
        if let LeaderFeed::Shared(sub) = &leader_feed {
            self.leader_in_hand = Some(sub.in_hand());
        }
        let (stops, worker) = self.stop_worker().spawn();
        self.stops = Some(stops);
        let mut stopping = stop.clone();
        // A stop abandons the step in progress, whatever it waits on (the weight budget, a
        // stalled socket, a slow venue): every order of it is in the journal, sent or
        // not, and the next start's recovery finishes it.
        tokio::select! {
            _ = self.supervise(&mut leader_feed, &mut follower_stream, &mut commands, &mut stop) => {}
            _ = stopping.wait_for(|s| *s) => {
                tracing::info!(copy = %self.name, "stopping now; the step in progress is left to recovery");
            }
        }
        // What the step wrote after its sends before it ended or was left.
        self.commit_after_send();
        // The worker finishes the stops it was given, then ends. One the venue does not
        // answer in time is abandoned like the step in progress (its journal row stays for
        // the next start's recovery) and awaited, so that nothing of this copy outlives
        // the engine holding the database and the data directory's lock.
        self.stops = None;
        let mut worker = worker;
        if tokio::time::timeout(super::protection::DRAIN, &mut worker)
            .await
            .is_err()
        {
            tracing::warn!(copy = %self.name, "stop worker did not finish in time; its job is left to recovery");
            worker.abort();
            let _ = worker.await;
        }
    }

    async fn supervise(
        &mut self,
        leader_feed: &mut LeaderFeed,
        follower_stream: &mut EventStream,
        commands: &mut mpsc::Receiver<Command>,
        stop: &mut watch::Receiver<bool>,
    ) {
        self.sync_time().await;
        super::recovery::recover(self).await;
        self.reconcile("start-up").await;
        // Read before announcing: a clock jump right after "watching" must count as one.
        // `tick_at`: local time the pending tick is planned for.
        let mut tick_at = self.clock.now_ms() + TICK_MS;
        let mut tick = self.clock.sleep(Duration::from_millis(TICK_MS as u64));
        let faults = self.stop_faults.clone();
        // A periodic pass's reads, under way beside this loop (`reconcile_reads`).
        let mut reads: Option<super::reconcile_reads::Reads> = None;
        self.say(
            NotifyLevel::Info,
            NotifyKind::Watching,
            format!("copy `{}` is watching the leader", self.name),
        );
        loop {
            // What the last turn (or recovery before the loop) wrote after its sends, in
            // one commit (with the other copies' handed over meanwhile) before waiting for
            // the next event.
            self.flush_after_send().await;
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
                        self.say(NotifyLevel::Info, NotifyKind::Paused, "copy paused: closes still mirrored, no opens".into());
                    }
                    Some(Command::Resume) => {
                        self.set_state(CopyState::Running);
                        self.say(NotifyLevel::Info, NotifyKind::Resumed, "copy resumed".into());
                    }
                    Some(Command::Panic) => {
                        self.stop_cause_seen = Some(StopCause::Panic);
                        self.stop_copy(StopAction::CloseAll, "panic (kill switch)").await
                    }
                    Some(Command::Stop(action)) => {
                        self.stop_cause_seen = Some(StopCause::User);
                        self.stop_copy(action, "stopped by the user").await
                    }
                    Some(Command::Reconcile(why)) => self.reconcile(why).await,
                    Some(Command::Modify(settings)) => self.modify(*settings),
                    Some(Command::Release { symbol, direction, how }) => self.release_position(&symbol, direction, how).await,
                    None => {}
                },
                // The follower's own events first: the next signal plans from the account
                // as its stream last reported it.
                ev = follower_stream.next() => match ev {
                    Some(ev) => self.on_follower(ev).await,
                    None => {
                        self.say(NotifyLevel::Error, NotifyKind::Error, "follower stream ended; copying stops".into());
                        break;
                    }
                },
                item = leader_feed.next() => match item {
                    Some(LeaderItem::Event(ev, mut handed)) => {
                        // Given back at this copy's journal commit before the send
                        // (`exec`), or here when the event led to none; `handed` says
                        // the copy is done with the event when it is dropped.
                        self.ticket = handed.take_ticket();
                        self.handling_leader = true;
                        self.on_leader(ev).await;
                        self.handling_leader = false;
                        self.ticket = None;
                        drop(handed);
                    }
                    Some(LeaderItem::Poll(report)) => self.on_poll(*report).await,
                    None => {
                        self.say(NotifyLevel::Error, NotifyKind::Error, "leader stream ended; copying stops".into());
                        break;
                    }
                },
                done = super::reconcile_reads::done(&mut reads), if reads.is_some() => {
                    reads = None;
                    self.reconcile_with("periodic", done).await;
                }
                // The stop worker confirmed or could not place a stop.
                _ = faults.reported() => self.take_stop_faults(),
                // A tick when something is due ([`CopyRunner::next_tick`]), and at least
                // every [`IDLE_TICK_MS`], however busy the streams are: the planned sleep
                // is only ever moved earlier (one made anew each turn would never end
                // while events keep coming).
                _ = &mut tick => {
                    self.check_weight();
                    self.check_rate_limit();
                    self.take_stop_faults();
                    if self.holds.has(HoldKind::JournalWrite) {
                        self.probe_journal();
                    }
                    let now = self.clock.now_ms();
                    if now - tick_at > JUMP_MS {
                        self.reconcile("resume after a clock jump").await;
                    } else if now >= self.next_reconcile_ms {
                        if reads.is_none() {
                            reads = Some(self.prefetch());
                        }
                    } else if now >= self.next_mark_check_ms {
                        self.mark_check().await;
                    }
                    self.retry_protection().await;
                    self.retry_stopping().await;
                    self.retry_failed_closes().await;
                    let now = self.clock.now_ms();
                    tick_at = self.next_tick(now, reads.is_some());
                    tick = self.clock.sleep(Duration::from_millis((tick_at - now) as u64));
                    continue;
                }
            }
            // What an event did may be due sooner than the planned tick (a retry it
            // scheduled, a position a mark check now watches, a hold to probe).
            let now = self.clock.now_ms();
            let due = self.next_tick(now, reads.is_some());
            if due < tick_at {
                tick_at = due;
                tick = self.clock.sleep(Duration::from_millis((due - now) as u64));
            }
        }
    }

    /// Local time of the next tick: the earliest of what is due (the periodic
    /// reconciliation unless its reads are under way, the mark check of a copy whose PnL
    /// stops watch positions, the retries of protection, of a stopping copy's closes and
    /// of failed closes, the probes of a journal or rate-limit hold), within
    /// [`TICK_MS`]..=[`IDLE_TICK_MS`] from `now`.
    pub(crate) fn next_tick(&self, now: i64, reads_under_way: bool) -> i64 {
        let mut due = now + IDLE_TICK_MS;
        if !reads_under_way {
            due = due.min(self.next_reconcile_ms);
        }
        let r = &self.ctx.settings.risk;
        let pnl_stops = r.total_stop_loss.is_some() || r.take_profit_total.is_some();
        if pnl_stops && !self.ctx.ledger.positions.is_empty() {
            due = due.min(self.next_mark_check_ms);
        }
        // Runs after every event: no allocation.
        let retries = [
            self.stop_retry.next_ms(),
            self.is_stopping()
                .then(|| self.stopping_retry.next_ms())
                .flatten(),
            (!self.blocked.is_empty())
                .then(|| self.close_retry.next_ms())
                .flatten(),
        ];
        for at in retries.into_iter().flatten() {
            due = due.min(at);
        }
        if self.holds.has(HoldKind::JournalWrite) || self.holds.has(HoldKind::RateLimit) {
            due = now;
        }
        due.max(now + TICK_MS)
    }
}

impl CopyRunner {
    /// A request that waited more than a second for the venue's weight budget is a
    /// notification, once per wait for the whole address (the copy that claims it first
    /// tells it; the budget is shared by every copy on the address).
    pub(crate) fn check_weight(&mut self) {
        if let Some(w) = self.follower.ex.claim_weight_wait() {
            self.say(
                NotifyLevel::Warning,
                NotifyKind::WeightWait,
                format!(
                    "the venue's request-weight budget made requests wait (longest {} ms; \
                     {} of {} used this minute); orders of every copy on this address are \
                     delayed while it lasts",
                    w.longest_wait_ms, w.used, w.limit
                ),
            );
        }
    }
}

pub(crate) fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Stores a leader signal of leader `leader_id`, received at `ts_recv` (local ms): its row
/// id, or the id of the row already stored for it.
pub(crate) fn store_signal(
    conn: &rusqlite::Connection,
    leader_id: i64,
    ts_recv: i64,
    sig: &crate::domain::LeaderSignal,
) -> Result<Option<i64>, StoreError> {
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
        leader_id,
        venue_ref: &sig.id,
        kind,
        symbol: &sig.symbol.name,
        position_side: sig.position_side,
        qty,
        price,
        leverage,
        margin,
        ts_event: sig.event_time_ms,
        ts_recv,
        payload: payload.as_ref(),
    };
    crate::store::table::signals::Signals::on(conn).record(&row)
}
