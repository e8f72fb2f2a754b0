//! Tokio tasks that drive the engine: one supervisor per copy, the journal (outbox),
//! stream reconnect and resync, the injected clock, notifications out.
//!
//! [`start`] checks every copy of a [`config::RunConfig`] against its accounts before any
//! of them starts (a bad setting is refused with the field and the fix), sets `t0` once,
//! runs the start actions, and spawns one supervisor per copy. The returned
//! [`RuntimeHandle`] is what the app and the CLI hold: notifications, pause, resume, panic,
//! and a clean shutdown that keeps all state in the database.

pub mod cli;
pub mod config;
pub mod demo;
mod exec;
pub mod failpoint;
mod figures;
mod follower;
mod follower_events;
pub mod hold;
pub mod leader;
pub mod ledger;
pub mod leader_poll;
pub mod leaders;
pub mod notify;
mod protection;
mod reconcile;
mod recovery;
pub mod repair;
pub mod status;
pub mod supervisor;
mod venue;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use rust_decimal::Decimal;
use tokio::sync::{broadcast, mpsc, watch};
use tokio::task::JoinHandle;

use crate::domain::CopySettings;
use crate::engine::{self, CopyContext, CopyState, Ledger, StartInput};
use crate::exchange::binance_usdm::{BinanceUsdm, Environment, Options};
use crate::exchange::{Clock, Credentials, EventStream, SystemClock};
use crate::secrets::{Keychain, SecretPart};
use crate::store::table::copies::{CopyState as StoredState, NewCopy};
use crate::store::table::leader_t0::T0Position;
use crate::store::table::leaders::{LeaderSource, NewLeader};
use crate::store::DataDir;

pub use config::{ConfigError, RunConfig};
pub use notify::{Notification, Notifier, NotifyKind, NotifyLevel, SharedStore};
pub use supervisor::{Command, EngineOptions};

use supervisor::{CopyRunner, HoldBoard, Registry, RunnerParts, Venue};

/// Why the runtime could not start.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("{0}")]
    Config(#[from] ConfigError),
    #[error("copy `{copy}`: {message}")]
    Setup { copy: String, message: String },
    #[error("account `{account}`: {message}")]
    Account { account: String, message: String },
    #[error("database: {0}")]
    Store(#[from] crate::store::StoreError),
}

/// How to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    pub clock: Arc<dyn Clock>,
    pub engine: EngineOptions,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            clock: Arc::new(SystemClock),
            engine: EngineOptions::default(),
        }
    }
}

/// Running copies.
#[derive(Debug)]
pub struct RuntimeHandle {
    notifier: Notifier,
    /// Subscribed before any copy started, so the first reader misses nothing of the start.
    from_start: std::sync::Mutex<Option<broadcast::Receiver<Notification>>>,
    commands: HashMap<String, mpsc::Sender<Command>>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    holds: HoldBoard,
    refused: Vec<Refused>,
}

/// A stored copy the engine would not run, and why (with the way to recover).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub copy: String,
    pub reason: String,
}

impl RuntimeHandle {
    /// Notifications: the first call gets every one since the start (the start-up
    /// reconciliation, a copy starting paused, …); later calls get those from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Notification> {
        self.from_start
            .lock()
            .ok()
            .and_then(|mut first| first.take())
            .unwrap_or_else(|| self.notifier.subscribe())
    }

    /// The engine holds of each running copy that has any (copy-rules §1.10).
    pub fn holds(&self) -> BTreeMap<String, Vec<hold::Hold>> {
        self.holds.lock().map(|b| b.clone()).unwrap_or_default()
    }

    /// Copies that were not started because their stored state could not be read.
    pub fn refused(&self) -> &[Refused] {
        &self.refused
    }

    /// Names of the running copies.
    pub fn copies(&self) -> Vec<String> {
        self.commands.keys().cloned().collect()
    }

    /// Sends a command to one copy; false when no such copy runs.
    pub async fn command(&self, copy: &str, c: Command) -> bool {
        match self.commands.get(copy) {
            Some(tx) => tx.send(c).await.is_ok(),
            None => false,
        }
    }

    /// The kill switch: every copy stops with `close-all`.
    pub async fn panic(&self) {
        for tx in self.commands.values() {
            let _ = tx.send(Command::Panic).await;
        }
    }

    /// Stops every supervisor after its current step; state stays in the database.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
    }
}

pub(crate) fn account_venue(
    config: &RunConfig,
    name: &str,
    keys: &KeySource<'_>,
    clock: &Arc<dyn Clock>,
    recv_window_ms: i64,
) -> Result<Venue, RuntimeError> {
    let err = |message: String| RuntimeError::Account {
        account: name.to_owned(),
        message,
    };
    let a = config
        .account(name)
        .ok_or_else(|| err("not in the config; add an [[accounts]] entry".into()))?;
    let credentials = match keys {
        KeySource::Given(map) => map
            .get(name)
            .cloned()
            .ok_or_else(|| err("no key was given for this account".into()))?,
        KeySource::Config(keychain) => {
            let key = a
                .api_key
                .resolve(name, SecretPart::ApiKey, keychain)
                .map_err(|e| err(e.to_string()))?;
            let secret = a
                .api_secret
                .resolve(name, SecretPart::ApiSecret, keychain)
                .map_err(|e| err(e.to_string()))?;
            Credentials::new(key.expose(), secret.expose())
        }
    };
    let env = Environment::parse(&a.endpoint).map_err(|e| err(e.to_string()))?;
    let bin = BinanceUsdm::new(
        &env,
        Some(credentials),
        Options {
            clock: Some(clock.clone()),
            // The resend rule waits out the same window the venue applies.
            http: crate::exchange::binance_usdm::HttpConfig {
                recv_window_ms: u64::try_from(recv_window_ms).unwrap_or(5_000),
                ..Default::default()
            },
            ..Options::default()
        },
    )
    .map_err(|e| err(e.to_string()))?;
    Ok(Venue {
        ex: Arc::new(bin.clone()),
        bin,
    })
}

/// Tells the user a stored copy was not started, and why; the reason names the row and
/// the recovery.
fn refuse(
    notifier: &Notifier,
    clock: &dyn Clock,
    copy_id: i64,
    copy: &str,
    reason: String,
) -> Refused {
    tracing::error!(copy, "{reason}");
    notifier.send(
        Some(copy_id),
        Notification {
            ts_ms: clock.now_ms(),
            copy: Some(copy.to_owned()),
            level: NotifyLevel::Error,
            kind: NotifyKind::Error,
            notice: None,
            message: format!("copy not started: {reason}"),
        },
    );
    Refused {
        copy: copy.to_owned(),
        reason,
    }
}

/// Opens an account's stream and waits for its first snapshot.
async fn first_snapshot(
    venue: &Venue,
    name: &str,
) -> Result<(EventStream, crate::exchange::AccountSnapshot), String> {
    let mut stream = venue
        .ex
        .subscribe()
        .await
        .map_err(|e| format!("its stream could not be opened: {e}"))?;
    let wait = async {
        while let Some(ev) = stream.next().await {
            match ev {
                crate::exchange::AccountEvent::Resynced(r) => return Ok(r.snapshot),
                crate::exchange::AccountEvent::Failed(f) => return Err(f.error.to_string()),
                _ => continue,
            }
        }
        Err("its stream closed before the first snapshot".to_owned())
    };
    match tokio::time::timeout(std::time::Duration::from_secs(60), wait).await {
        Ok(Ok(snap)) => Ok((stream, snap)),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(format!("no snapshot of `{name}` within 60 s")),
    }
}

/// Checks every copy against its accounts, then starts them all.
pub async fn start(
    config: &RunConfig,
    data: DataDir,
    opts: RunOptions,
) -> Result<RuntimeHandle, RuntimeError> {
    start_with(config, data, opts, &Keychain::app()).await
}

/// Where account keys come from.
#[derive(Debug)]
pub enum KeySource<'a> {
    /// Each account's `api_key` / `api_secret` source (environment or keychain).
    Config(&'a Keychain),
    /// Keys held in memory by the caller (the paper-mode demo's simulator accounts).
    Given(&'a HashMap<String, Credentials>),
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

/// As [`start`], with the source of the keys given.
pub async fn start_keys(
    config: &RunConfig,
    data: DataDir,
    opts: RunOptions,
    keys: &KeySource<'_>,
) -> Result<RuntimeHandle, RuntimeError> {
    let store: SharedStore = Arc::new(Mutex::new(data));
    let notifier = Notifier::new(store.clone());
    let from_start = notifier.subscribe();
    let registry: Registry = Arc::new(Mutex::new(BTreeMap::new()));
    let hold_board: HoldBoard = Arc::new(Mutex::new(BTreeMap::new()));
    let mut refused = Vec::new();
    let clock = opts.clock.clone();
    let mut prepared = Vec::new();
    let mut reserved: HashMap<String, Decimal> = HashMap::new();
    // Everything is checked before anything starts.
    for c in &config.copies {
        let leader = account_venue(config, &c.leader, keys, &clock, opts.engine.recv_window_ms)?;
        let follower = account_venue(
            config,
            &c.follower,
            keys,
            &clock,
            opts.engine.recv_window_ms,
        )?;
        let setup = |message: String| RuntimeError::Setup {
            copy: c.name.clone(),
            message,
        };
        let rules = follower
            .ex
            .symbol_rules()
            .await
            .map_err(|e| setup(format!("cannot read the follower's symbols: {e}")))?;
        let rules: BTreeMap<_, _> = rules
            .rules
            .into_iter()
            .map(|r| (r.symbol.name.clone(), r))
            .collect();
        // The streams' first snapshots serve as the setup reads, which halves the weight a
        // start spends of the venue's per-address budget.
        let (leader_stream, lsnap) = first_snapshot(&leader, &c.leader).await.map_err(|m| {
            setup(format!(
                "cannot read the leader account `{}`: {m}",
                c.leader
            ))
        })?;
        let (follower_stream, fsnap) = first_snapshot(&follower, &c.follower).await.map_err(|m| {
            setup(format!(
                "cannot read the follower account `{}`: {m}; check its key can read and trade futures",
                c.follower
            ))
        })?;
        let used = reserved.entry(c.follower.clone()).or_default();
        let ctx = crate::domain::settings::SetupContext {
            follower_can_trade_futures: true,
            follower_account_value: fsnap.equity,
            follower_free_balance: fsnap.available - *used,
            follower_position_mode: fsnap.position_mode,
            leader_position_mode: lsnap.position_mode,
            leader_account_value: Some(lsnap.equity),
        };
        c.settings
            .check_setup(&ctx)
            .map_err(|e| setup(e.to_string()))?;
        *used += c.settings.investment.unwrap_or_default();
        prepared.push((
            c,
            leader,
            follower,
            rules,
            lsnap,
            fsnap,
            leader_stream,
            follower_stream,
        ));
    }
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut commands = HashMap::new();
    let mut tasks = Vec::new();
    for (c, leader, follower, rules, lsnap, fsnap, leader_stream, follower_stream) in prepared {
        let (copy_id, leader_id, mut ctx, start_plan) = {
            let setup = |message: String| RuntimeError::Setup {
                copy: c.name.clone(),
                message,
            };
            let offset = {
                let _ = follower.bin.raw().sync_time().await;
                follower.bin.raw().time_offset_ms()
            };
            let now = clock.now_ms();
            let mut guard = store
                .lock()
                .map_err(|_| setup("the database lock is poisoned".into()))?;
            let s = guard.store_mut();
            let row = s.copies().by_name(&c.name)?;
            let copy_id = match row {
                Some(r) => {
                    if r.follower != c.follower {
                        return Err(setup(format!(
                            "this copy already exists with follower `{}`; give the new copy another name",
                            r.follower
                        )));
                    }
                    r.id
                }
                None => s.transaction(|tx| {
                    let accounts = crate::store::table::accounts::Accounts::on(tx);
                    for name in [&c.leader, &c.follower] {
                        let a = config.account(name);
                        accounts.upsert(
                            name,
                            a.map(|a| a.exchange.as_str()),
                            a.map(|a| a.endpoint.as_str()),
                            now,
                        )?;
                    }
                    let leaders = crate::store::table::leaders::Leaders::on(tx);
                    let leader_id = match leaders.by_name(&c.leader)? {
                        Some(l) => l.id,
                        None => leaders.insert(&NewLeader {
                            name: &c.leader,
                            source: LeaderSource::Account,
                            account: Some(&c.leader),
                            portfolio_id: None,
                            created_at: now,
                        })?,
                    };
                    crate::store::table::copies::Copies::on(tx).insert(&NewCopy {
                        name: &c.name,
                        leader_id,
                        follower: &c.follower,
                        mode: match c.settings.mode {
                            crate::domain::CopyMode::SmartSync => {
                                crate::store::table::copies::CopyMode::SmartSync
                            }
                            crate::domain::CopyMode::FixedAmount => {
                                crate::store::table::copies::CopyMode::FixedAmount
                            }
                            crate::domain::CopyMode::FixedRatio => {
                                crate::store::table::copies::CopyMode::FixedRatio
                            }
                        },
                        created_at: now,
                    })
                })?,
            };
            let row = s
                .copies()
                .get(copy_id)?
                .ok_or_else(|| setup("the copy vanished from the database".into()))?;
            if row.state == StoredState::Stopped {
                return Err(setup(format!(
                    "this copy was stopped ({}); a stopped copy does not restart: give it a new name to start again",
                    row.stop_reason.unwrap_or_default()
                )));
            }
            let current: Option<crate::store::table::copy_settings::SettingsVersion<CopySettings>> =
                match s.copy_settings().current(copy_id) {
                    Ok(v) => v,
                    Err(e) => {
                        drop(guard);
                        let reason = format!(
                            "the stored settings of copy `{}` (table copy_settings, copy_id {copy_id}, latest row) cannot be read: {e}; the copy was not started and its positions are left as they are. Recover by giving the copy a new name in the config (the positions it held count as your own until you close them), or restore the database from the `backups` folder",
                            c.name
                        );
                        refused.push(refuse(&notifier, &*clock, copy_id, &c.name, reason));
                        continue;
                    }
                };
            match current {
                Some(v) if v.settings != c.settings => {
                    v.settings
                        .check_change(&c.settings)
                        .map_err(|e| setup(e.to_string()))?;
                    s.copy_settings().record(
                        copy_id,
                        &c.settings,
                        now,
                        Some("changed in the config"),
                    )?;
                }
                Some(_) => {}
                None => {
                    s.copy_settings()
                        .record(copy_id, &c.settings, now, Some("from the config"))?;
                }
            }
            // The user's pause survives a restart; a created copy starts below.
            let state = match row.state {
                StoredState::Paused => CopyState::Paused,
                StoredState::Created | StoredState::Running => CopyState::Running,
                StoredState::Stopped => {
                    return Err(setup(
                        "this copy is stopped; a stopped copy does not restart".into(),
                    ))
                }
            };
            match row.t0 {
                Some(t0) => {
                    // Unreadable stored state stops this copy only, never becomes an empty
                    // ledger (that would forget the positions it holds).
                    let ledger: Ledger = match ledger::load(s, copy_id, &c.name) {
                        Ok(l) => l,
                        Err(e) => {
                            drop(guard);
                            refused.push(refuse(
                                &notifier,
                                &*clock,
                                copy_id,
                                &c.name,
                                e.to_string(),
                            ));
                            continue;
                        }
                    };
                    let ctx = CopyContext {
                        id: c.name.clone(),
                        settings: c.settings.clone(),
                        state,
                        t0_ms: t0,
                        ledger,
                    };
                    (copy_id, row.leader_id, ctx, None)
                }
                None => {
                    let t0 = now + offset;
                    let t0_positions: Vec<T0Position> = lsnap
                        .positions
                        .iter()
                        .filter(|p| !p.signed_quantity.is_zero())
                        .map(|p| T0Position {
                            symbol: p.symbol.clone(),
                            position_side: p.position_side,
                            qty: p.signed_quantity,
                            entry_price: p.entry_price.map(|x| x.get()),
                            leverage: Some(Decimal::from(p.leverage)),
                        })
                        .collect();
                    s.transaction(|tx| {
                        crate::store::table::copies::Copies::on(tx).start(copy_id, t0)?;
                        crate::store::table::leader_t0::LeaderT0::on(tx)
                            .record(copy_id, &t0_positions)
                    })?;
                    let ctx = CopyContext {
                        id: c.name.clone(),
                        settings: c.settings.clone(),
                        state: CopyState::Running,
                        t0_ms: t0,
                        ledger: Ledger::default(),
                    };
                    let leader_positions = lsnap
                        .positions
                        .iter()
                        .filter(|p| !p.signed_quantity.is_zero())
                        .filter_map(|p| {
                            Some(engine::LeaderPosition {
                                symbol: rules.get(&p.symbol)?.symbol.clone(),
                                position_side: p.position_side,
                                qty: p.signed_quantity,
                                leverage: p.leverage,
                                margin_mode: p.margin_mode,
                            })
                        })
                        .collect::<Vec<_>>();
                    (
                        copy_id,
                        row.leader_id,
                        ctx,
                        Some((leader_positions, lsnap.equity, offset)),
                    )
                }
            }
        };
        // Another CopyDesk's resting orders (our prefix, not in our journal) pause the copy
        // before its start plan runs, so the plan opens nothing (copy-rules §6).
        let foreign = store
            .lock()
            .map(|g| follower_events::foreign_orders(g.store(), &fsnap))
            .unwrap_or_default();
        if !foreign.is_empty() && ctx.state == CopyState::Running {
            ctx.state = CopyState::Paused;
            if let Ok(mut g) = store.lock() {
                let _ = g
                    .store_mut()
                    .copies()
                    .set_state(copy_id, StoredState::Paused);
            }
        }
        let start_plan = match start_plan {
            Some((leader_positions, equity, offset)) => {
                let mut market = BTreeMap::new();
                let symbols: std::collections::BTreeSet<String> = leader_positions
                    .iter()
                    .map(|p| p.symbol.name.clone())
                    .chain(fsnap.positions.iter().map(|p| p.symbol.clone()))
                    .collect();
                for sym in symbols {
                    if let Some(r) = rules.get(&sym) {
                        if let Ok(m) = follower::market(&follower.bin, r).await {
                            market.insert(sym, m);
                        }
                    }
                }
                Some(engine::plan_start(&StartInput {
                    copy: ctx.clone(),
                    follower: follower::to_follower(&fsnap, Default::default()),
                    leader_positions,
                    leader_equity: Some(equity),
                    market,
                    now_ms: clock.now_ms(),
                    server_offset_ms: offset,
                }))
            }
            None => None,
        };
        let mut runner = CopyRunner::new(RunnerParts {
            copy_id,
            leader_id,
            name: c.name.clone(),
            ctx,
            leader,
            follower,
            follower_account: c.follower.clone(),
            store: store.clone(),
            notifier: notifier.clone(),
            clock: clock.clone(),
            rules,
            opts: opts.engine,
            registry: registry.clone(),
            hold_board: hold_board.clone(),
        });
        if !foreign.is_empty() {
            runner.say(
                NotifyLevel::Error,
                NotifyKind::Paused,
                follower_events::foreign_message(&foreign),
            );
        }
        runner.tracker.reset(&lsnap);
        runner.cached = Some(fsnap);
        let (tx, rx) = mpsc::channel(16);
        commands.insert(c.name.clone(), tx);
        let stop = stop_rx.clone();
        let name = c.name.clone();
        runner.say(
            NotifyLevel::Info,
            NotifyKind::Started,
            format!("copy `{name}` running: {} → {}", c.leader, c.follower),
        );
        tasks.push(tokio::spawn(async move {
            if let Some(plan) = start_plan {
                runner.execute(plan, None).await;
            }
            runner.run(leader_stream, follower_stream, rx, stop).await;
        }));
    }
    Ok(RuntimeHandle {
        notifier,
        from_start: std::sync::Mutex::new(Some(from_start)),
        commands,
        stop: stop_tx,
        tasks,
        holds: hold_board,
        refused,
    })
}
