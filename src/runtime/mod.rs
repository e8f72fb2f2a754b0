//! Tokio tasks that drive the engine: one supervisor per copy, the journal (outbox),
//! stream reconnect and resync, the injected clock, notifications out.
//!
//! One [`RuntimeHandle`] is the engine of a data directory: it starts with no copies
//! ([`RuntimeHandle::new`]), adds copies while others run ([`RuntimeHandle::add`], the
//! named steps of [`start`]: resolve keys → check set-up → persist → plan → spawn), and is
//! what the app and the CLI hold: notifications, pause, resume, stop, modify, panic, and a
//! clean shutdown that keeps all state in the database. A copy whose row already has a `t0`
//! is resumed as a restart (copy-rules §1.9): no new `t0`, no start actions.

mod account_state;
mod after_send;
mod backoff;
mod blocked;
mod burst;
pub use burst::CALM_MAX;
mod commit_lane;
pub use commit_lane::LaneCounts;
pub mod config;
mod exec;
mod executable;
pub mod failpoint;
mod fees;
mod figure_sums;
mod figures;
mod fill_catchup;
mod follower;
mod follower_events;
pub mod hold;
mod key_gate;
pub mod leader;
mod leader_equity;
mod leader_hub;
mod leader_mode;
mod leader_order_end;
pub mod leader_poll;
mod leader_polled;
pub mod leader_source;
pub mod leaders;
pub mod ledger;
mod market_hub;
pub mod notify;
mod outside_fills;
mod protection;
mod reconcile;
mod reconcile_reads;
mod recovery;
pub mod repair;
pub mod start;
pub mod statements;
mod stopping;
pub mod supervisor;
mod unknown;
mod venue;
mod venue_faults;
pub mod weight_file;
mod writer;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use rust_decimal::Decimal;
use tokio::sync::{broadcast, mpsc, watch};
use tokio::task::JoinHandle;

use crate::exchange::{Clock, Credentials, DefaultVenues, SystemClock, VenueFactory};
use crate::secrets::Keychain;
use crate::store::DataDir;

pub use config::{ConfigError, RunConfig};
pub use notify::{Notification, Notifier, NotifyKind, NotifyLevel, SharedStore};
pub use start::{AccountSpec, CopySpec, StoredCopy};
pub use supervisor::{Command, EngineOptions};

use supervisor::{HoldBoard, Registry};

/// Why the runtime could not start a copy.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("{0}")]
    Config(#[from] ConfigError),
    #[error("copy `{copy}`: {message}")]
    Setup { copy: String, message: String },
    #[error("account `{account}`: {message}")]
    Account { account: String, message: String },
    #[error("copy `{copy}` is already running; pause, resume or modify it instead")]
    AlreadyRunning { copy: String },
    #[error("database: {0}")]
    Store(#[from] crate::store::StoreError),
    /// The copy's stored ledger cannot be read: that copy is refused (see
    /// [`RuntimeHandle::refused`]), the others run.
    #[error("{0}")]
    Ledger(#[from] ledger::LedgerError),
}

/// A stored copy the engine would not run, and why (with the way to recover).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub copy: String,
    pub reason: String,
}

/// How to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub clock: Arc<dyn Clock>,
    pub engine: EngineOptions,
    /// Builds each account's venue from its `exchange` field ([`DefaultVenues`] unless a
    /// test or the app routes some accounts elsewhere).
    pub venues: Arc<dyn VenueFactory>,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            clock: Arc::new(SystemClock),
            engine: EngineOptions::default(),
            venues: Arc::new(DefaultVenues),
        }
    }
}

/// A running copy's supervisor, as the handle sees it.
#[derive(Debug)]
struct Running {
    commands: mpsc::Sender<Command>,
    follower: String,
    investment: Decimal,
}

/// The engine of one data directory: the copies it runs and the channels to them.
#[derive(Debug)]
pub struct RuntimeHandle {
    pub(crate) store: SharedStore,
    pub(crate) notifier: Notifier,
    /// Subscribed before any copy started, so the first reader misses nothing of the start.
    from_start: Mutex<Option<broadcast::Receiver<Notification>>>,
    pub(crate) registry: Registry,
    pub(crate) opts: RunOptions,
    running: Mutex<BTreeMap<String, Running>>,
    /// One add at a time: set-up checks see what the copies added before them reserve.
    adding: tokio::sync::Mutex<()>,
    stop: watch::Sender<bool>,
    stop_rx: watch::Receiver<bool>,
    tasks: Mutex<Vec<JoinHandle<()>>>,
    /// The engine holds of each running copy (copy-rules §1.10).
    pub(crate) holds: HoldBoard,
    /// Stored copies not run because their stored state cannot be read.
    refused: Mutex<Vec<Refused>>,
    /// One state per follower account, kept by its streams and shared by its copies
    /// (copies added later join the state and market feed of an account in use).
    accounts: Arc<Mutex<HashMap<String, FollowerAccount>>>,
    /// Display precision of each follower account's symbols, from the venue's rules read
    /// at each copy's start: (account, symbol) → precision.
    precision: Mutex<BTreeMap<(String, String), SymbolPrecision>>,
    /// Whether the writer task (`writer::run`) runs: started with the first copy.
    writer: std::sync::atomic::AtomicBool,
    /// The commit lane of the copies' journal commits before a send, started with the
    /// writer.
    lane: std::sync::OnceLock<commit_lane::CommitLane>,
    /// The request budget of the public lead-portfolio source, shared by every public
    /// leader this engine follows.
    pub(crate) poll_budget: Arc<leader_poll::PollBudget>,
    /// One stream per leader account, shared by every copy of that leader.
    leaders: leader_hub::LeaderHub,
    /// One market-data stream per venue endpoint, shared by every follower account on it.
    markets: market_hub::MarketHub,
}

/// How many decimals a symbol's prices and quantities carry on its venue (from its tick
/// and step sizes), so screens show them as the venue does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SymbolPrecision {
    pub price_dp: u32,
    pub qty_dp: u32,
}

impl SymbolPrecision {
    /// The decimals of the tick size and the step size (`0.10` → 1, `1` → 0).
    pub fn of(filters: &crate::domain::SymbolFilters) -> Self {
        Self {
            price_dp: filters.tick_size.normalize().scale(),
            qty_dp: filters.step_size.normalize().scale(),
        }
    }
}

/// What [`RuntimeHandle::held_prices`] reports for one symbol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeldPrices {
    pub mark: Option<Decimal>,
    /// Best bid and ask.
    pub book: Option<(Decimal, Decimal)>,
}

/// A follower account in use: its shared state and its venue (whose weight it reports).
#[derive(Debug)]
struct FollowerAccount {
    state: Arc<account_state::SharedAccount>,
    venue: Arc<dyn crate::exchange::Exchange>,
}

impl RuntimeHandle {
    /// An engine with no copies yet, holding the open data directory.
    pub fn new(data: DataDir, opts: RunOptions) -> Self {
        let durability = data.store().durability();
        let store: SharedStore = Arc::new(Mutex::new(data));
        let notifier = Notifier::new(store.clone());
        let from_start = notifier.subscribe();
        let (stop, stop_rx) = watch::channel(false);
        Self {
            store,
            notifier,
            from_start: Mutex::new(Some(from_start)),
            registry: Arc::new(Mutex::new(BTreeMap::new())),
            running: Mutex::new(BTreeMap::new()),
            adding: tokio::sync::Mutex::new(()),
            stop,
            stop_rx,
            tasks: Mutex::new(Vec::new()),
            holds: Arc::new(Mutex::new(BTreeMap::new())),
            refused: Mutex::new(Vec::new()),
            accounts: Arc::new(Mutex::new(HashMap::new())),
            precision: Mutex::new(BTreeMap::new()),
            writer: std::sync::atomic::AtomicBool::new(false),
            lane: std::sync::OnceLock::new(),
            poll_budget: leader_poll::PollBudget::new(opts.engine.portfolio_per_minute),
            leaders: leader_hub::LeaderHub::new(durability),
            markets: market_hub::MarketHub::default(),
            opts,
        }
    }

    /// Starts the writer that makes the copies' writes after a send durable in batches
    /// (once; at the first add, inside the runtime).
    fn start_writer(&self) {
        if self.writer.swap(true, std::sync::atomic::Ordering::SeqCst) {
            return;
        }
        let Ok((durability, checkpointer)) = self.store.lock().map(|g| {
            let checkpointer = g
                .store()
                .checkpointer()
                .map_err(|e| tracing::warn!(error = %e, "no checkpointer; SQLite checkpoints inside the commits"))
                .ok();
            (g.store().durability(), checkpointer)
        }) else {
            return;
        };
        if failpoint::power_cut_armed() {
            let d = durability.clone();
            failpoint::before_abort(move || {
                if let Err(e) = d.power_cut() {
                    tracing::error!(error = %e, "simulated power cut failed");
                }
            });
        }
        let (lane, lane_task) = commit_lane::CommitLane::start(
            self.store.clone(),
            durability.clone(),
            self.stop_rx.clone(),
        );
        let _ = self.lane.set(lane);
        let task = tokio::spawn(writer::run(durability, checkpointer, self.stop_rx.clone()));
        // The request weight, for `status` read beside this engine (`weight_file`).
        let dir = self.store.lock().map(|g| g.dir().to_path_buf());
        let accounts = self.accounts.clone();
        let published = dir.ok().map(|dir| {
            tokio::spawn(weight_file::publish(
                dir,
                move || weights_of(&accounts),
                self.stop_rx.clone(),
            ))
        });
        if let Ok(mut t) = self.tasks.lock() {
            t.push(task);
            t.push(lane_task);
            t.extend(published);
        }
    }

    /// The request budget every public lead portfolio this engine follows shares: how
    /// many are followed, and the poll interval that follows from it.
    pub fn poll_budget(&self) -> Arc<leader_poll::PollBudget> {
        self.poll_budget.clone()
    }

    /// The database this engine writes (one writer connection per process).
    pub fn store(&self) -> SharedStore {
        self.store.clone()
    }

    /// The engine's clock.
    pub fn clock(&self) -> Arc<dyn Clock> {
        self.opts.clock.clone()
    }

    /// The venue factory every account of this engine connects through.
    pub fn venues(&self) -> Arc<dyn VenueFactory> {
        self.opts.venues.clone()
    }

    /// The shared state of a follower account: the one in use, or a new one that joins
    /// its venue's market feed (started now when it is the first account on that venue).
    fn follower_account(
        &self,
        name: &str,
        venue: &Arc<dyn crate::exchange::Exchange>,
    ) -> Arc<account_state::SharedAccount> {
        let Ok(mut accounts) = self.accounts.lock() else {
            return Arc::new(account_state::SharedAccount::default());
        };
        if let Some(a) = accounts.get(name) {
            return a.state.clone();
        }
        let a = Arc::new(account_state::SharedAccount::default());
        let feed = self.markets.join(venue, a.clone(), self.stop_rx.clone());
        if let Ok(mut t) = self.tasks.lock() {
            t.extend(feed);
        }
        accounts.insert(
            name.to_owned(),
            FollowerAccount {
                state: a.clone(),
                venue: venue.clone(),
            },
        );
        a
    }

    /// What the commit lane of the copies' journal commits before a send committed so far
    /// (`None` before the first copy started it).
    pub fn commit_lane_counts(&self) -> Option<LaneCounts> {
        self.lane.get().map(commit_lane::CommitLane::counts)
    }

    /// The prices the engine holds for a follower account's symbol from its market
    /// stream, what a signal on that symbol is priced from: the mark while current, the
    /// best bid and ask while the book socket is connected. `None` for an account no copy
    /// in this engine uses.
    pub fn held_prices(&self, account: &str, symbol: &str) -> Option<HeldPrices> {
        let state = self.accounts.lock().ok()?.get(account)?.state.clone();
        let now = self.opts.clock.now_ms();
        let st = state.lock();
        Some(HeldPrices {
            mark: st.mark(symbol, now),
            book: st.book(symbol),
        })
    }

    /// The request weight each follower account in use has spent of its venue's budget.
    pub fn weights(&self) -> Vec<(String, crate::exchange::WeightUsage)> {
        weights_of(&self.accounts)
    }

    /// Notifications: the first call gets every one since the engine was made (the
    /// start-up reconciliation, a copy starting paused, …); later calls get those from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Notification> {
        self.from_start
            .lock()
            .ok()
            .and_then(|mut first| first.take())
            .unwrap_or_else(|| self.notifier.subscribe())
    }

    /// Sends a notification that concerns no running supervisor (e.g. a stored copy that
    /// could not be resumed).
    pub fn notify(
        &self,
        copy: Option<&str>,
        level: NotifyLevel,
        kind: NotifyKind,
        message: String,
    ) {
        let copy_id = copy.and_then(|c| {
            self.store
                .lock()
                .ok()
                .and_then(|g| g.store().copies().by_name(c).ok().flatten())
                .map(|r| r.id)
        });
        self.notifier.send(
            copy_id,
            Notification {
                ts_ms: self.opts.clock.now_ms(),
                copy: copy.map(str::to_owned),
                level,
                kind,
                notice: None,
                message,
                detail: None,
            },
        );
    }

    /// The engine holds of each running copy that has any (copy-rules §1.10).
    pub fn holds(&self) -> BTreeMap<String, Vec<hold::Hold>> {
        self.holds.lock().map(|b| b.clone()).unwrap_or_default()
    }

    /// Stored copies that were not started because their stored state could not be read,
    /// each with the reason and the recovery. A copy leaves the list when it starts.
    pub fn refused(&self) -> Vec<Refused> {
        self.refused.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// Records and announces a stored copy that was not started; the reason names the row
    /// and the recovery.
    fn refuse(&self, copy: &str, reason: String) {
        tracing::error!(copy, "{reason}");
        self.notify(
            Some(copy),
            NotifyLevel::Error,
            NotifyKind::Error,
            format!("copy not started: {reason}"),
        );
        if let Ok(mut r) = self.refused.lock() {
            r.retain(|x| x.copy != copy);
            r.push(Refused {
                copy: copy.to_owned(),
                reason,
            });
        }
    }

    /// The display precision of a follower account's symbols, as far as a copy on that
    /// account has read them in this engine (empty before any start).
    pub fn precision(&self, account: &str) -> BTreeMap<String, SymbolPrecision> {
        self.precision
            .lock()
            .map(|p| {
                p.iter()
                    .filter(|((a, _), _)| a == account)
                    .map(|((_, sym), v)| (sym.clone(), *v))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Names of the running copies.
    pub fn copies(&self) -> Vec<String> {
        self.running
            .lock()
            .map(|r| r.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// True when the copy's supervisor is running.
    pub fn is_running(&self, copy: &str) -> bool {
        self.running
            .lock()
            .is_ok_and(|r| r.get(copy).is_some_and(|c| !c.commands.is_closed()))
    }

    /// Sends a command to one copy; false when no such copy runs.
    pub async fn command(&self, copy: &str, c: Command) -> bool {
        let tx = self
            .running
            .lock()
            .ok()
            .and_then(|r| r.get(copy).map(|c| c.commands.clone()));
        match tx {
            Some(tx) => tx.send(c).await.is_ok(),
            None => false,
        }
    }

    /// Sends `c` to every running copy; the names of those that took it.
    pub async fn command_all(&self, c: impl Fn() -> Command) -> Vec<String> {
        let all: Vec<(String, mpsc::Sender<Command>)> = self
            .running
            .lock()
            .map(|r| {
                r.iter()
                    .map(|(name, c)| (name.clone(), c.commands.clone()))
                    .collect()
            })
            .unwrap_or_default();
        let mut took = Vec::new();
        for (name, tx) in all {
            if tx.send(c()).await.is_ok() {
                took.push(name);
            }
        }
        took
    }

    /// The kill switch: every copy stops with `close-all`.
    pub async fn panic(&self) {
        let all: Vec<mpsc::Sender<Command>> = self
            .running
            .lock()
            .map(|r| r.values().map(|c| c.commands.clone()).collect())
            .unwrap_or_default();
        for tx in all {
            let _ = tx.send(Command::Panic).await;
        }
    }

    /// Checks every copy against its accounts, then starts them all; copies already
    /// running are not touched. Nothing starts when one of them is refused.
    pub async fn add(&self, specs: Vec<CopySpec>) -> Result<Vec<String>, RuntimeError> {
        let _one_at_a_time = self.adding.lock().await;
        self.start_writer();
        for s in &specs {
            if self.is_running(&s.name) {
                return Err(RuntimeError::AlreadyRunning {
                    copy: s.name.clone(),
                });
            }
        }
        let mut reserved: HashMap<String, Decimal> = HashMap::new();
        if let Ok(r) = self.running.lock() {
            for c in r.values().filter(|c| !c.commands.is_closed()) {
                *reserved.entry(c.follower.clone()).or_default() += c.investment;
            }
        }
        let mut checked = Vec::new();
        for spec in specs {
            let restart = self
                .store
                .lock()
                .ok()
                .and_then(|g| g.store().copies().by_name(&spec.name).ok().flatten())
                .is_some_and(|r| r.t0.is_some());
            let extras = start::SetupExtras {
                restart,
                budget: &self.poll_budget,
                leaders: &self.leaders,
                stop: &self.stop_rx,
            };
            checked.push(start::check_setup(spec, &self.opts, &mut reserved, extras).await?);
        }
        let mut names = Vec::new();
        for c in checked {
            // A copy whose stored ledger cannot be read is refused alone (never started
            // with an empty ledger); the others start.
            let persisted = match start::persist_copy(&self.store, &c, self.opts.clock.now_ms()) {
                Ok(p) => p,
                Err(RuntimeError::Ledger(e)) => {
                    self.refuse(&c.spec.name, e.to_string());
                    continue;
                }
                Err(e) => return Err(e),
            };
            if let Ok(mut r) = self.refused.lock() {
                r.retain(|x| x.copy != c.spec.name);
            }
            if let Ok(mut p) = self.precision.lock() {
                for (symbol, precision) in c.precisions() {
                    p.insert((c.spec.follower.name.clone(), symbol), precision);
                }
            }
            let account = self.follower_account(&c.spec.follower.name, &c.follower.ex);
            account.lock().resynced(c.fsnap.clone());
            let plan = start::plan_start(&c, &persisted, &self.opts).await;
            let (name, follower, investment) = (
                c.spec.name.clone(),
                c.spec.follower.name.clone(),
                c.spec.settings.investment.unwrap_or_default(),
            );
            let (tx, task) = start::spawn_supervisor(self, c, persisted, plan, account);
            if let Ok(mut t) = self.tasks.lock() {
                t.push(task);
            }
            if let Ok(mut r) = self.running.lock() {
                r.insert(
                    name.clone(),
                    Running {
                        commands: tx,
                        follower,
                        investment,
                    },
                );
            }
            names.push(name);
        }
        Ok(names)
    }

    /// Stored copies that were running or paused when the engine last stopped: what
    /// [`RuntimeHandle::add`] resumes at open, as a restart. A copy whose stored settings
    /// cannot be read is refused (see [`RuntimeHandle::refused`]) and left out.
    pub fn stored_to_resume(&self) -> Result<Vec<StoredCopy>, RuntimeError> {
        let (copies, refused) = {
            let guard = self.store.lock().map_err(|_| RuntimeError::Setup {
                copy: "-".into(),
                message: "the database lock is poisoned".into(),
            })?;
            start::stored_to_resume(guard.store())?
        };
        for r in refused {
            self.refuse(&r.copy, r.reason);
        }
        Ok(copies)
    }

    /// Stops every supervisor after its current step; state stays in the database.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let tasks = self
            .tasks
            .lock()
            .map(|mut t| std::mem::take(&mut *t))
            .unwrap_or_default();
        for t in tasks {
            let _ = t.await;
        }
        // What the copies wrote after the writer's last batch.
        let durability = self.store.lock().map(|g| g.store().durability());
        if let Ok(d) = durability {
            if let Err(e) = d.sync_all().await {
                tracing::error!(error = %e, "the database's write-ahead log could not be synced at shutdown");
            }
        }
    }
}

/// The request weight of each follower account in `accounts`, by name.
fn weights_of(
    accounts: &Mutex<HashMap<String, FollowerAccount>>,
) -> Vec<(String, crate::exchange::WeightUsage)> {
    accounts
        .lock()
        .map(|a| {
            let mut w: Vec<_> = a
                .iter()
                .map(|(name, f)| (name.clone(), f.venue.weight()))
                .collect();
            w.sort_by(|x, y| x.0.cmp(&y.0));
            w
        })
        .unwrap_or_default()
}

/// Where account keys come from.
#[derive(Debug)]
pub enum KeySource<'a> {
    /// Each account's `api_key` / `api_secret` source (environment or keychain).
    Config(&'a Keychain),
    /// Keys held in memory by the caller (paper accounts on the embedded simulator).
    Given(&'a HashMap<String, Credentials>),
}

/// Starts every copy of a config on a new engine, keys from the config's sources.
pub async fn start(
    config: &RunConfig,
    data: DataDir,
    opts: RunOptions,
) -> Result<RuntimeHandle, RuntimeError> {
    start_with(config, data, opts, &Keychain::app()).await
}

/// As [`start`], with the keychain given.
pub async fn start_with(
    config: &RunConfig,
    data: DataDir,
    opts: RunOptions,
    keychain: &Keychain,
) -> Result<RuntimeHandle, RuntimeError> {
    start_keys(config, data, opts, &KeySource::Config(keychain)).await
}

/// As [`start`], with the source of the keys given: resolve the keys of every copy's
/// accounts, then [`RuntimeHandle::add`] them all (check → persist → plan → spawn).
pub async fn start_keys(
    config: &RunConfig,
    data: DataDir,
    opts: RunOptions,
    keys: &KeySource<'_>,
) -> Result<RuntimeHandle, RuntimeError> {
    let specs = start::resolve_keys(config, keys)?;
    let engine = RuntimeHandle::new(data, opts);
    engine.add(specs).await?;
    Ok(engine)
}
