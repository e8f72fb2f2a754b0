//! Starting and stopping the simulator: configuration, the shared state every handler
//! sees, the HTTP/WebSocket router, and the background task that moves simulated time
//! (funding, listenKey expiry, the random walk, periodic mark prices).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::clock::{Millis, SimClock};
use super::demo::{self, DemoLeader};
use super::error::WireResult;
use super::exchange::{random_token, AccountKeys, ModelConfig, NewAccount, SimVenue};
use super::faults::Faults;
use super::limits::{LimitConfig, Limiter};
use super::state::{self, SavedState, SimStateError};
use super::{admin, portfolio, rest, ws};

/// How prices move on their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PriceMode {
    /// Only through the admin API.
    #[default]
    Static,
    /// A seeded random walk, one step per `walk_interval`.
    Walk,
}

/// Everything that configures a simulator. `Debug` hides the admin token.
#[derive(Clone)]
pub struct SimConfig {
    pub listen: SocketAddr,
    pub prices: PriceMode,
    pub seed: u64,
    pub demo_leaders: usize,
    /// `None` leaves the admin API open.
    pub admin_token: Option<String>,
    pub limits: LimitConfig,
    pub model: ModelConfig,
    pub walk_interval: Duration,
    /// Demo leaders trade this many times faster than their styles' live intervals (1 is
    /// the normal pace; `copydesk demo` uses a faster one so copies show within a minute).
    pub demo_speed: u32,
    /// Where the simulator's state lasts ([`super::state`]): restored at start when the
    /// file exists, saved once a second when something changed and at shutdown. `None`
    /// keeps nothing.
    pub state_file: Option<PathBuf>,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            prices: PriceMode::Static,
            seed: 1,
            demo_leaders: 0,
            admin_token: None,
            limits: LimitConfig::default(),
            model: ModelConfig::default(),
            walk_interval: Duration::from_secs(1),
            demo_speed: 1,
            state_file: None,
        }
    }
}

impl std::fmt::Debug for SimConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimConfig")
            .field("listen", &self.listen)
            .field("prices", &self.prices)
            .field("seed", &self.seed)
            .field("demo_leaders", &self.demo_leaders)
            .field("admin_token", &self.admin_token.as_ref().map(|_| "***"))
            .field("limits", &self.limits)
            .field("model", &self.model)
            .field("walk_interval", &self.walk_interval)
            .field("demo_speed", &self.demo_speed)
            .field("state_file", &self.state_file)
            .finish()
    }
}

impl SimConfig {
    /// Paper mode: a random loopback port and a random admin token.
    pub fn embedded() -> Self {
        Self {
            admin_token: Some(random_token(32)),
            ..Self::default()
        }
    }
}

/// State shared by every handler. `Debug` shows no secrets.
pub struct Shared {
    pub exchange: Mutex<SimVenue>,
    pub clock: Arc<SimClock>,
    pub limiter: Limiter,
    pub faults: Faults,
    pub admin_token: Option<String>,
    pub demo: Vec<DemoLeader>,
    /// Where the state is saved, if anywhere.
    pub state_file: Option<PathBuf>,
    /// What the last write to `state_file` wrote and what it cost.
    pub saved: Mutex<SaveRecord>,
    /// Turns true when the simulator stops; long-lived sockets watch it.
    pub stop: watch::Receiver<bool>,
    /// The market sockets open now and their streams.
    pub market_sockets: super::events::MarketSockets,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("admin_token", &self.admin_token.as_ref().map(|_| "***"))
            .field("demo_leaders", &self.demo.len())
            .finish_non_exhaustive()
    }
}

impl Shared {
    pub fn ex(&self) -> MutexGuard<'_, SimVenue> {
        // A panic elsewhere must not take the whole simulator down with it.
        self.exchange.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The state as it is now, with its revision (the exchange lock is held only to copy).
    fn capture(&self) -> (u64, SavedState) {
        let ex = self.ex();
        (ex.revision, SavedState::capture(&ex, &self.demo))
    }

    /// Saves to the state file unless nothing changed since the last save (or `force`).
    /// Unforced saves keep to at most a tenth of the time: after a save that took `d`, the
    /// next waits at least `9 × d`, so a large history never keeps the exchange busy.
    fn save_if_changed(&self, force: bool) -> Result<(), SimStateError> {
        let Some(path) = &self.state_file else {
            return Ok(());
        };
        let mut saved = self.saved.lock().unwrap_or_else(|e| e.into_inner());
        if !force {
            if saved.revision == Some(self.ex().revision) {
                return Ok(());
            }
            if saved.at.is_some_and(|at| at.elapsed() < saved.took * 9) {
                return Ok(());
            }
        }
        let started = std::time::Instant::now();
        let (rev, snapshot) = self.capture();
        state::write_atomic(path, &snapshot.to_bytes())?;
        saved.revision = Some(rev);
        saved.took = started.elapsed();
        saved.at = Some(std::time::Instant::now());
        Ok(())
    }
}

/// The last write of the state file.
#[derive(Debug, Default)]
pub struct SaveRecord {
    /// The exchange revision it wrote.
    pub revision: Option<u64>,
    /// When it finished and how long it took.
    pub at: Option<std::time::Instant>,
    pub took: Duration,
}

/// Entry point.
#[derive(Debug)]
pub struct Simulator;

/// A running simulator.
#[derive(Debug)]
pub struct SimHandle {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: watch::Sender<bool>,
    server: JoinHandle<()>,
    ticker: JoinHandle<()>,
}

impl Simulator {
    /// Binds, builds the model (and demo leaders) and serves until [`SimHandle::shutdown`].
    ///
    /// With a `state_file` that exists, the saved state is restored first (same accounts,
    /// keys, positions and demo leaders on whatever port this start gets); a file that
    /// cannot be read or decoded fails the start with an `InvalidData` error (wrapping a
    /// [`SimStateError`]) that names the file and the fix.
    pub async fn start(config: SimConfig) -> std::io::Result<SimHandle> {
        let clock = Arc::new(SimClock::new());
        let mut exchange = SimVenue::new(clock.clone(), config.model.clone());
        let mut demo = Vec::new();
        let mut restored = false;
        if let Some(path) = config.state_file.as_deref().filter(|p| p.exists()) {
            demo = state::load(path, &mut exchange)?;
            restored = true;
            tracing::info!(file = %path.display(), accounts = exchange.accounts.len(), "simulator state restored");
        }
        let first = demo.len();
        demo.extend(demo::create_leaders_from(
            &mut exchange,
            first,
            config.demo_leaders,
            config.seed,
        ));
        let (stop, stop_rx) = watch::channel(false);
        let shared = Arc::new(Shared {
            exchange: Mutex::new(exchange),
            clock,
            limiter: Limiter::new(config.limits.clone()),
            faults: Faults::new(),
            admin_token: config.admin_token.clone(),
            demo,
            state_file: config.state_file.clone(),
            saved: Mutex::new(SaveRecord::default()),
            stop: stop_rx.clone(),
            market_sockets: Default::default(),
        });
        if restored {
            // What was just read is what the file holds.
            let rev = shared.ex().revision;
            shared
                .saved
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .revision = Some(rev);
        }
        let listener = TcpListener::bind(config.listen).await?;
        let addr = listener.local_addr()?;
        let app: Router = Router::new()
            .merge(admin::router())
            .merge(ws::router())
            .merge(rest::router())
            .merge(portfolio::router())
            .with_state(shared.clone());
        let mut server_stop = stop_rx.clone();
        let server = tokio::spawn(async move {
            let svc = app.into_make_service_with_connect_info::<SocketAddr>();
            let res = axum::serve(listener, svc)
                .with_graceful_shutdown(async move { stopped(&mut server_stop).await })
                .await;
            if let Err(e) = res {
                tracing::error!(error = %e, "simulator server stopped with an error");
            }
        });
        let ticker = tokio::spawn(run_ticker(shared.clone(), config, stop_rx));
        tracing::info!(%addr, "simulator listening");
        Ok(SimHandle {
            addr,
            shared,
            stop,
            server,
            ticker,
        })
    }
}

async fn run_ticker(shared: Arc<Shared>, config: SimConfig, mut stop: watch::Receiver<bool>) {
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    let mut walk = tokio::time::interval(config.walk_interval);
    let mut marks = tokio::time::interval(Duration::from_secs(1));
    let mut save = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            _ = stopped(&mut stop) => return,
            _ = save.tick(), if shared.state_file.is_some() => {
                let s = shared.clone();
                match tokio::task::spawn_blocking(move || s.save_if_changed(false)).await {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => tracing::error!(error = %e, "simulator state not saved"),
                    Err(e) => tracing::error!(error = %e, "simulator state save task failed"),
                }
            }
            _ = tick.tick() => {
                let mut ex = shared.ex();
                ex.tick();
                demo::drive(&mut ex, &shared.demo, &mut rng, config.demo_speed);
            }
            _ = walk.tick(), if config.prices == PriceMode::Walk => shared.ex().walk_prices(&mut rng),
            _ = marks.tick() => {
                let mut ex = shared.ex();
                let symbols = ex.symbols.clone();
                for s in &symbols {
                    ex.publish_mark(s);
                }
                ex.publish_all_marks();
            }
        }
    }
}

impl SimHandle {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, the REST base URL.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `ws://127.0.0.1:PORT`; user data is at `/private/ws?listenKey=…`.
    pub fn ws_url(&self) -> String {
        format!("ws://{}", self.addr)
    }

    pub fn admin_token(&self) -> Option<&str> {
        self.shared.admin_token.as_deref()
    }

    /// Keys of the demo leader accounts.
    pub fn demo_leaders(&self) -> Vec<DemoLeader> {
        self.shared.demo.clone()
    }

    /// A lead account's 7/30/90-day figures and equity curve with its margin balance now,
    /// in-process (the same figures its lead-portfolio pages serve); `None` for an account
    /// that is not a lead portfolio.
    pub fn lead_figures(
        &self,
        account_id: &str,
    ) -> Option<(crate::analytics::figures::Report, Decimal)> {
        super::portfolio::lead_figures(&self.shared.ex(), account_id)
    }

    /// Whether a lead account's positions are hidden (`positionShow: false`), in-process.
    pub fn positions_hidden(&self, account_id: &str) -> bool {
        self.shared.ex().portfolio.hidden.contains(account_id)
    }

    /// Creates an account in-process (the same as `POST /admin/v1/accounts`).
    pub fn create_account(&self, req: NewAccount) -> AccountKeys {
        self.shared.ex().create_account(req)
    }

    /// Moves a symbol's price (the same as `POST /admin/v1/prices`).
    pub fn set_price(&self, symbol: &str, price: Decimal) -> WireResult<()> {
        self.shared.ex().set_price(symbol, price)
    }

    /// Sets a symbol's best bid and ask (the same as a followed venue's book ticker).
    pub fn set_quote(&self, symbol: &str, bid: Decimal, ask: Decimal) -> WireResult<()> {
        self.shared.ex().set_quote(symbol, bid, ask)
    }

    /// A handle that moves this simulator's prices from another task (a price feed).
    pub fn prices(&self) -> SimPrices {
        SimPrices {
            shared: self.shared.clone(),
        }
    }

    /// The symbols this simulator lists.
    pub fn symbols(&self) -> Vec<String> {
        self.shared.ex().symbols.clone()
    }

    /// Advances simulated time and runs what falls due (the same as `POST /admin/v1/clock`).
    pub fn advance_clock(&self, ms: Millis) -> Millis {
        let now = self.shared.clock.advance(ms);
        self.shared.ex().tick();
        now
    }

    /// Simulated time now.
    pub fn now(&self) -> Millis {
        self.shared.clock.now()
    }

    /// Writes the state file now (atomically); nothing to do without one.
    pub fn save(&self) -> Result<(), SimStateError> {
        self.shared.save_if_changed(true)
    }

    /// Writes the state to `path` (atomically), whatever the configured file.
    pub fn save_to(&self, path: &Path) -> Result<(), SimStateError> {
        let (_, snapshot) = self.shared.capture();
        state::write_atomic(path, &snapshot.to_bytes())
    }

    /// Where the state is saved, if anywhere.
    pub fn state_file(&self) -> Option<&Path> {
        self.shared.state_file.as_deref()
    }

    /// The keys of an account: its id, API key and, for an HMAC key, the secret
    /// (an Ed25519 account's private key was handed out at creation and is not kept).
    pub fn account_keys(&self, account_id: &str) -> Option<AccountKeys> {
        let ex = self.shared.ex();
        ex.accounts.get(account_id).map(keys_of)
    }

    /// The keys of the first account (by id) with `label`.
    pub fn account_by_label(&self, label: &str) -> Option<AccountKeys> {
        let ex = self.shared.ex();
        let mut found: Vec<&super::account::Account> =
            ex.accounts.values().filter(|a| a.label == label).collect();
        found.sort_by_key(|a| {
            a.id.trim_start_matches("acc-")
                .parse::<u64>()
                .unwrap_or(u64::MAX)
        });
        found.first().map(|a| keys_of(a))
    }

    /// Stops serving, waits for the tasks to end, then saves the state (a failure is
    /// logged: the last periodic save stays on disk).
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        let _ = self.server.await;
        let _ = self.ticker.await;
        if let Err(e) = self.shared.save_if_changed(true) {
            tracing::error!(error = %e, "simulator state not saved at shutdown");
        }
    }
}

/// Moves a running simulator's prices from outside: what a price feed that follows another
/// venue holds. Cloning is cheap; it keeps the model alive, not the server.
#[derive(Debug, Clone)]
pub struct SimPrices {
    shared: Arc<Shared>,
}

impl SimPrices {
    /// Sets a symbol's best bid and ask.
    pub fn set_quote(&self, symbol: &str, bid: Decimal, ask: Decimal) -> WireResult<()> {
        self.shared.ex().set_quote(symbol, bid, ask)
    }

    /// Sets a symbol's mark price apart from its book.
    pub fn set_mark(&self, symbol: &str, mark: Decimal) -> WireResult<()> {
        self.shared.ex().set_mark(symbol, mark)
    }

    /// Moves a symbol's mid (and mark) to `price`, keeping its spread.
    pub fn set_price(&self, symbol: &str, price: Decimal) -> WireResult<()> {
        self.shared.ex().set_price(symbol, price)
    }
}

fn keys_of(a: &super::account::Account) -> AccountKeys {
    AccountKeys {
        account_id: a.id.clone(),
        api_key: a.api_key.clone(),
        secret_key: match &a.secret {
            super::account::SecretKey::Hmac(s) => s.clone(),
            super::account::SecretKey::Ed25519(_) => String::new(),
        },
    }
}

/// Resolves once the simulator is told to stop (or its handle is gone).
pub async fn stopped(rx: &mut watch::Receiver<bool>) {
    let _ = rx.wait_for(|s| *s).await.map(|_| ());
}
