//! The facade every shell calls: one [`App`] owns the data directory (its lock), the
//! keychain, the one engine and, in paper mode, the embedded simulator. The Tauri commands
//! and the CLI's subcommands are one-line calls into it. DTOs (`dto`) cross IPC as JSON
//! with camelCase names and decimals as strings; errors cross as one serialisable
//! [`ApiError`] `{code, message, field}`. The contract is `FACADE.md` at the repo's root.
//!
//! Modules: `accounts` (keys), `account_leaders` (adding a leader with its read-only
//! key), `paper` (the embedded simulator), `leaders` (list, detail, figures; the figures
//! cache kept in the data directory is `figures_file`), `settings`
//! (validation, preview), `copies` (create, pause, resume, stop, modify, panic),
//! `paper_feed` (a paper copy of a leader on another venue: the simulator's prices follow
//! that venue's), `portfolio_leaders` (public lead portfolios as leaders),
//! `portfolio_find` (a public portfolio the user types in, read before it can be chosen),
//! `status`, `events`, `export`, `venue` (accounts → venues), `dto`,
//! `keys` (the CLI's one-shot key commands), `repair` (rebuild a copy's unreadable
//! ledger), `statements` (a copy's profit-share ratio and statements, with their DTOs)
//! and `every` (pause, resume or reconcile every copy at once; unguarded positions).

mod account_leaders;
mod accounts;
mod copies;
pub mod dto;
mod error;
pub mod events;
mod every;
mod export;
mod figures_file;
pub mod keys;
mod leaders;
mod paper;
mod paper_feed;
mod portfolio_find;
mod portfolio_leaders;
mod portfolios;
mod repair;
pub mod settings;
pub mod statements;
pub mod status;
#[cfg(test)]
mod ts_bindings;
mod venue;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::sync::{broadcast, Mutex};
use tokio::task::JoinHandle;

pub use crate::paths;
pub use dto::*;
pub use error::{camel_path, ApiError, ErrorCode};
pub use every::unguarded;
pub use export::{export_dir, ACTIVITY_MAX, ACTIVITY_PAGE};
pub use paper::{demo_account, PaperOptions, PAPER_ACCOUNT, PAPER_USDT};
pub use portfolios::{public_leaders, replay_public};
pub use repair::{repair_copy, AdoptedDto, LeftAloneDto, RepairDto};
pub use statements::{ProfitShareDto, StatementDto, StatementKindDto, StatementOutcomeDto};

use crate::exchange::{Clock, SystemClock};
use crate::runtime::{EngineOptions, RunConfig, RunOptions, RuntimeHandle};
use crate::secrets::Keychain;
use crate::store::{db_path, DataDir, Store};

/// How to open the app.
#[derive(Debug, Clone)]
pub struct AppOptions {
    pub data_dir: PathBuf,
    pub keychain: Keychain,
    pub clock: Arc<dyn Clock>,
    pub engine: EngineOptions,
    pub paper: PaperOptions,
    /// Who holds the data directory's lock, as another engine's refusal names it.
    pub program: String,
}

impl AppOptions {
    /// The defaults: the app's keychain, the system clock, paper mode on.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            keychain: Keychain::app(),
            clock: Arc::new(SystemClock),
            engine: EngineOptions::default(),
            paper: PaperOptions::default(),
            program: "CopyDesk".into(),
        }
    }
}

/// The app: one per data directory and process.
#[derive(Debug)]
pub struct App {
    pub(crate) data_dir: PathBuf,
    pub(crate) keychain: Keychain,
    pub(crate) engine: RuntimeHandle,
    pub(crate) paper: Mutex<Option<paper::PaperSim>>,
    pub(crate) paper_opts: PaperOptions,
    pub(crate) events: broadcast::Sender<EventDto>,
    /// Subscribed before anything started, for the first reader of [`App::events`].
    from_open: std::sync::Mutex<Option<broadcast::Receiver<EventDto>>>,
    /// The `copy.toml` of `copydesk run`: its accounts' keys serve stored copies too.
    pub(crate) config: Option<RunConfig>,
    /// Leader figures as last read (`leaders`).
    pub(crate) leader_cache: leaders::FiguresCache,
    /// Public portfolio lists as last read (`portfolio_leaders`).
    pub(crate) portfolio_cache: portfolio_leaders::PortfolioCache,
    forward: JoinHandle<()>,
    /// Draws up profit-share statements as their settlements come due.
    statements_timer: JoinHandle<()>,
}

/// Facts about this build and where it keeps its data (before any engine opens).
pub fn app_info(data_dir: &Path) -> AppInfo {
    AppInfo {
        name: "CopyDesk".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        mode: "paper".into(),
        data_dir: data_dir.display().to_string(),
        paper: PaperDto::default(),
    }
}

/// Status of a data directory without its lock: works while another engine holds it.
pub fn status_read_only(data_dir: &Path) -> Result<StatusDto, ApiError> {
    let path = db_path(data_dir);
    if !path.exists() {
        return Ok(StatusDto {
            copies: Vec::new(),
            recent: Vec::new(),
            weight: Vec::new(),
        });
    }
    let mut status = status::read(&Store::open_read_only(&path)?)?;
    // The weight a running engine beside this reader publishes (none when none runs).
    let published = crate::runtime::weight_file::read(data_dir, crate::store::now_ms())
        .map_err(|message| ApiError::new(ErrorCode::Storage, message))?;
    status.weight = published
        .map(|p| {
            p.accounts
                .into_iter()
                .map(|a| WeightDto {
                    venue: a.account,
                    used: a.used,
                    limit: a.limit,
                    waits: a.waits,
                    longest_wait_ms: a.longest_wait_ms,
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(status)
}

/// A copy's stored profit-share statements without the data directory's lock (the
/// running engine draws them up; this only reads).
pub fn profit_share_read_only(data_dir: &Path, copy: &str) -> Result<ProfitShareDto, ApiError> {
    let store = Store::open_read_only(&db_path(data_dir))?;
    statements::read(&store, copy, crate::store::now_ms())
}

/// Sets (or with `None`, empty or `off`, turns off) a copy's profit-share ratio while no
/// engine runs (`copydesk statements COPY --set-ratio R`): the ratio is checked first (its
/// field named), then the data directory's lock is taken, which is refused, naming the
/// holder, while the app or `copydesk run` holds it (set it there, or in `copy.toml`).
pub fn set_profit_share_offline(
    data_dir: &Path,
    copy: &str,
    ratio: Option<&str>,
) -> Result<ProfitShareDto, ApiError> {
    let ratio = ratio.filter(|r| !r.trim().eq_ignore_ascii_case("off"));
    let parsed = statements::parse_ratio(ratio)?;
    if !db_path(data_dir).exists() {
        return Err(ApiError::not_found(format!(
            "no copy named `{copy}`: {} holds no CopyDesk data",
            data_dir.display()
        )));
    }
    let mut data = DataDir::open(data_dir, "copydesk statements --set-ratio")?;
    statements::set_stored(data.store_mut(), copy, parsed, crate::store::now_ms())
}

/// Stored accounts of a data directory without its lock (masked hints only).
pub fn accounts_read_only(data_dir: &Path) -> Result<Vec<AccountDto>, ApiError> {
    let path = db_path(data_dir);
    if !path.exists() {
        return Ok(Vec::new());
    }
    let store = Store::open_read_only(&path)?;
    Ok(store.accounts().list()?.iter().map(accounts::dto).collect())
}

impl App {
    /// Takes the data directory's lock, opens the database, starts paper mode when asked,
    /// and resumes every stored copy that was running or paused (as a restart).
    pub async fn open(opts: AppOptions) -> Result<App, ApiError> {
        Self::open_inner(opts, None).await
    }

    /// As [`App::open`] for `copydesk run`: the config's copies are created or updated
    /// and started first (a refusal fails the open), then the other stored copies resume.
    pub async fn open_with_config(opts: AppOptions, config: RunConfig) -> Result<App, ApiError> {
        Self::open_inner(opts, Some(config)).await
    }

    async fn open_inner(opts: AppOptions, config: Option<RunConfig>) -> Result<App, ApiError> {
        // Created private (0700) when missing; DataDir::open tightens an older one.
        crate::store::private::create_dir(&opts.data_dir)?;
        let data = DataDir::open(&opts.data_dir, &opts.program)?;
        let engine = RuntimeHandle::new(
            data,
            RunOptions {
                clock: opts.clock.clone(),
                engine: opts.engine,
                venues: Arc::new(crate::exchange::DefaultVenues),
            },
        );
        let (events, from_open) = broadcast::channel(4096);
        let forward = {
            let mut rx = engine.subscribe();
            let tx = events.clone();
            tokio::spawn(async move {
                loop {
                    match rx.recv().await {
                        Ok(n) => {
                            let _ = tx.send(events::event_of(&n));
                        }
                        Err(broadcast::error::RecvError::Lagged(_)) => continue,
                        Err(broadcast::error::RecvError::Closed) => break,
                    }
                }
            })
        };
        let statements_timer = statements_timer(&engine);
        let (leader_cache, cache_error) =
            leaders::FiguresCache::with_file(figures_file::path(&opts.data_dir));
        if let Some(e) = cache_error {
            tracing::warn!(error = %e, "leader figures cache not read; the leaders are read again");
            let _ = events.send(EventDto {
                ts_ms: engine.clock().now_ms(),
                copy: None,
                level: EventLevel::Warning,
                kind: crate::runtime::NotifyKind::LeaderFigures,
                notice: None,
                message: format!(
                    "the saved leader figures were not read ({e}); the leaders' histories are read again and the file rewritten"
                ),
                detail: None,
            });
        }
        let app = App {
            data_dir: opts.data_dir.clone(),
            keychain: opts.keychain,
            engine,
            paper: Mutex::new(None),
            paper_opts: opts.paper.clone(),
            events,
            from_open: std::sync::Mutex::new(Some(from_open)),
            config,
            leader_cache,
            portfolio_cache: portfolio_leaders::PortfolioCache::default(),
            forward,
            statements_timer,
        };
        if opts.paper.start {
            app.start_paper().await?;
        }
        if let Some(config) = &app.config {
            let specs = crate::runtime::start::resolve_keys(
                config,
                &crate::runtime::KeySource::Config(&app.keychain),
            )?;
            app.engine.add(specs).await?;
            app.apply_config_ratios(config)?;
        }
        // Before any copy resumes: the Mondays that passed while no engine ran are settled
        // on what was stored when it stopped.
        app.catch_up_statements();
        app.resume_stored().await?;
        Ok(app)
    }

    /// Draws up every profit-share statement due by now. A failure (an unusable stored
    /// ratio) is reported as an error event and named again when that copy's statements
    /// are listed; it does not keep the other copies from running.
    fn catch_up_statements(&self) {
        let now = self.engine.clock().now_ms();
        if let Err(e) = self.with_store(|s| statements::catch_up_all(s, now)) {
            tracing::error!(error = %e, "profit-share statements not drawn up");
            self.engine.notify(
                None,
                crate::runtime::NotifyLevel::Error,
                crate::runtime::NotifyKind::Error,
                format!("profit-share statements not drawn up: {}", e.message),
            );
        }
    }

    /// Facts about this build, its data directory and paper mode.
    pub async fn info(&self) -> AppInfo {
        // A leader's read-only key trades nothing: only a key that can follow makes it live.
        let leader_only = self.leader_only_accounts().unwrap_or_default();
        let live = self.accounts().await.is_ok_and(|a| {
            a.iter()
                .any(|a| !a.paper && a.key_hint.is_some() && !leader_only.contains(&a.name))
        });
        AppInfo {
            mode: if live { "live" } else { "paper" }.into(),
            paper: self.paper().await,
            ..app_info(&self.data_dir)
        }
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// Events, typed: the first call gets every event since the open (paper mode's start,
    /// the resumed copies' start-up); later calls get those from now on.
    pub fn events(&self) -> broadcast::Receiver<EventDto> {
        self.from_open
            .lock()
            .ok()
            .and_then(|mut first| first.take())
            .unwrap_or_else(|| self.events.subscribe())
    }

    /// Names of the copies the engine runs now.
    pub fn running(&self) -> Vec<String> {
        self.engine.copies()
    }

    /// Runs a closure on the engine's database connection.
    pub(crate) fn with_store<T>(
        &self,
        f: impl FnOnce(&mut Store) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let store = self.engine.store();
        let mut guard = store
            .lock()
            .map_err(|_| ApiError::internal("the database lock is poisoned"))?;
        f(guard.store_mut())
    }

    /// Paper mode's state.
    pub async fn paper(&self) -> PaperDto {
        let guard = self.paper.lock().await;
        let Some(sim) = guard.as_ref() else {
            return PaperDto::default();
        };
        let balance = match sim.keys.get(PAPER_ACCOUNT) {
            Some(c) => {
                let spec = crate::runtime::AccountSpec {
                    name: PAPER_ACCOUNT.into(),
                    exchange: "binance-usdm".into(),
                    endpoint: paper::PAPER_ENDPOINT.into(),
                    connect: Some(sim.handle.base_url()),
                    credentials: c.clone(),
                };
                match venue::exchange(&spec, &self.engine) {
                    Ok(ex) => ex.account().await.ok().map(|s| s.equity),
                    Err(_) => None,
                }
            }
            None => None,
        };
        sim.dto(balance)
    }

    /// Starts the embedded simulator (once) with demo leaders and a funded paper account.
    pub async fn start_paper(&self) -> Result<PaperDto, ApiError> {
        {
            let mut guard = self.paper.lock().await;
            if guard.is_none() {
                let now = self.engine.clock().now_ms();
                let store = self.engine.store();
                // The database is locked only for the account rows, after the start.
                let sim = {
                    let dir = self.data_dir.clone();
                    let opts = self.paper_opts.clone();
                    let started = paper::start_sim(&dir, &opts).await?;
                    let g = store
                        .lock()
                        .map_err(|_| ApiError::internal("the database lock is poisoned"))?;
                    paper::record_accounts(g.store(), &started, now)?;
                    started
                };
                *guard = Some(sim);
            }
        }
        Ok(self.paper().await)
    }

    /// The simulator's base URL and admin token (tests drive paper mode through it).
    pub async fn paper_admin(&self) -> Option<(String, Option<String>)> {
        self.paper.lock().await.as_ref().map(|s| {
            (
                s.handle.base_url(),
                s.handle.admin_token().map(str::to_owned),
            )
        })
    }

    /// Stops every copy (state stays in the database), saves paper state and stops the
    /// simulator.
    pub async fn shutdown(self) {
        let App {
            engine,
            paper,
            forward,
            statements_timer,
            ..
        } = self;
        // Awaited after the abort: while it draws statements up the timer holds the
        // database (and with it the directory's lock) until its task is really gone.
        statements_timer.abort();
        let _ = statements_timer.await;
        engine.shutdown().await;
        forward.abort();
        if let Some(mut sim) = paper.into_inner() {
            sim.feeds.clear();
            if let Err(e) = paper::save_hook(&sim) {
                tracing::error!(error = %e, "paper state not saved");
            }
            sim.handle.shutdown().await;
        }
    }
}

/// Every hour, and at each Monday 00:00 UTC, draws up the statements that came due
/// (a weekly settlement, or a copy that stopped).
fn statements_timer(engine: &RuntimeHandle) -> JoinHandle<()> {
    const HOUR_MS: i64 = 3_600_000;
    let clock = engine.clock();
    // Weak: the timer never keeps the database (and the directory's lock) alive by itself.
    let store = Arc::downgrade(&engine.store());
    tokio::spawn(async move {
        loop {
            let now = clock.now_ms();
            let wait = (crate::engine::figures::next_settlement_ms(now) - now).clamp(1, HOUR_MS);
            clock
                .sleep(std::time::Duration::from_millis(wait.unsigned_abs()))
                .await;
            let now = clock.now_ms();
            let Some(store) = store.upgrade() else {
                return;
            };
            let result = match store.lock() {
                Ok(mut guard) => statements::catch_up_all(guard.store_mut(), now),
                Err(_) => Err(ApiError::internal("the database lock is poisoned")),
            };
            if let Err(e) = result {
                tracing::error!(error = %e, "profit-share statements not drawn up");
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_info_reports_this_build() {
        let info = app_info(std::path::Path::new("/tmp/cd"));
        assert_eq!(info.version, env!("CARGO_PKG_VERSION"));
        let json = serde_json::to_value(&info).expect("serialises");
        assert_eq!(json["dataDir"], "/tmp/cd", "camelCase field for the UI");
    }
}
