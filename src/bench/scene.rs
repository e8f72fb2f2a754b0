//! One benchmark setting: a simulator (in this process or a child one) with leader and
//! follower accounts, the engine running the given copies, and the leader trading over the
//! venue's REST API.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rust_decimal::Decimal;
use serde_json::{json, Value};

use crate::domain::{
    Asset, CopyMode, CopySettings, LeaderFill, LeaderSignal, MarginMode, PositionMode,
    PositionSide, Preset, Price, Quantity, RiskSettings, Side, SignalKind, StartActions, Symbol,
    SymbolFilters,
};
use crate::engine::{
    Balance, CopyContext, CopyState, FollowerSnapshot, Ledger, MarketInfo, PlanInput,
};
use crate::exchange::{ClientOrderId, Credentials, Exchange, OrderKind, OrderRequest, WeightUsage};
use crate::exchange::{DefaultVenues, VenueFactory, VenueOptions, VenueRequest};
use crate::runtime::config::{AccountConfig, CopyConfig, EngineConfig, RunConfig};
use crate::runtime::{start_keys, KeySource, RunOptions, RuntimeHandle};
use crate::secrets::SecretSource;
use crate::sim::{SimConfig, SimHandle, Simulator};
use crate::store::table::latency::LatencyRow;
use crate::store::{db_path, DataDir, Store};

/// A directory of its own under the system's temporary directory, removed when dropped.
#[derive(Debug)]
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new() -> Result<Scratch, String> {
        let p = std::env::temp_dir().join(format!(
            "copydesk-bench-{}-{}",
            std::process::id(),
            crate::exchange::clock::wall_us()
        ));
        std::fs::create_dir_all(&p).map_err(|e| format!("cannot create {}: {e}", p.display()))?;
        Ok(Scratch(p))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        // Only benchmark data lives here; a leftover is harmless.
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Where the simulator of a setting runs.
enum SimHost {
    /// In this process (its work counts in this process's CPU and memory).
    InProcess(SimHandle),
    /// A `copydesk sim` child process: this process then holds the engine (and the
    /// bench's own small driver) alone.
    Child {
        child: tokio::process::Child,
        base: String,
    },
}

impl SimHost {
    fn base_url(&self) -> String {
        match self {
            SimHost::InProcess(h) => h.base_url(),
            SimHost::Child { base, .. } => base.clone(),
        }
    }

    /// The child's process id (none in process).
    fn pid(&self) -> Option<u32> {
        match self {
            SimHost::InProcess(_) => None,
            SimHost::Child { child, .. } => child.id(),
        }
    }

    async fn shutdown(self) {
        match self {
            SimHost::InProcess(h) => {
                let _ = tokio::time::timeout(Duration::from_secs(5), h.shutdown()).await;
            }
            SimHost::Child { mut child, .. } => {
                // A bench simulator keeps no state: stopping it hard loses nothing.
                let _ = child.kill().await;
            }
        }
    }

    /// Starts `copydesk sim` (this very binary) on a free loopback port with the venue's
    /// real limits and reads the address it announces.
    async fn child() -> Result<SimHost, String> {
        use tokio::io::AsyncBufReadExt;
        let exe = std::env::current_exe().map_err(|e| format!("cannot find this binary: {e}"))?;
        let mut child = tokio::process::Command::new(&exe)
            .args(["sim", "--listen", "127.0.0.1:0"])
            .env_remove("COPYDESK_SIM_ADMIN_TOKEN")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot start `{} sim`: {e}", exe.display()))?;
        let out = child
            .stdout
            .take()
            .ok_or("the simulator's output is not piped")?;
        let mut lines = tokio::io::BufReader::new(out).lines();
        let announce = "copydesk sim listening on ";
        let wait = async {
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(at) = line.find(announce) {
                    return Some(line[at + announce.len()..].trim().to_owned());
                }
            }
            None
        };
        let base = tokio::time::timeout(Duration::from_secs(30), wait)
            .await
            .ok()
            .flatten()
            .ok_or("`copydesk sim` did not announce its address within 30 s")?;
        // Its later output is not read: drain it so the child never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(SimHost::Child { child, base })
    }
}

/// How a setting is built.
#[derive(Debug, Clone, Copy, Default)]
pub struct SceneOptions {
    /// Run the simulator as a child process (`copydesk sim`) instead of in this process.
    pub separate_sim: bool,
    /// The engine's reconciliation interval (its default when `None`).
    pub reconcile_every: Option<Duration>,
}

/// A running setting.
pub struct Scene {
    sim: SimHost,
    handle: Option<RuntimeHandle>,
    leaders: Vec<Arc<dyn Exchange>>,
    follower: Arc<dyn Exchange>,
    follower_ids: Vec<String>,
    data: PathBuf,
    _dir: Scratch,
    http: reqwest::Client,
}

impl std::fmt::Debug for Scene {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scene")
            .field("base", &self.sim.base_url())
            .field("followers", &self.follower_ids.len())
            .finish_non_exhaustive()
    }
}

/// A port on the simulator, built by the venue factory as the runtime builds it.
fn connect(endpoint: &str, credentials: Option<Credentials>) -> Result<Arc<dyn Exchange>, String> {
    DefaultVenues
        .connect(VenueRequest {
            account: "bench",
            exchange: "binance-usdm",
            endpoint,
            credentials,
            options: VenueOptions::default(),
        })
        .map_err(|e| e.to_string())
}

fn account(name: &str, endpoint: &str) -> AccountConfig {
    // Never resolved: the keys are handed over in memory.
    let unused = SecretSource::Env("COPYDESK_BENCH_UNUSED".into());
    AccountConfig {
        name: name.to_owned(),
        exchange: "binance-usdm".into(),
        endpoint: endpoint.to_owned(),
        api_key: unused.clone(),
        api_secret: unused,
        api_passphrase: None,
    }
}

fn settings() -> CopySettings {
    CopySettings {
        mode: CopyMode::FixedRatio,
        investment: None,
        amount_per_order: None,
        ratio: Some(Decimal::new(1, 1)),
        copy_ongoing_positions: false,
        preset: Preset::None,
        start: StartActions::default(),
        risk: RiskSettings::default(),
    }
}

impl Scene {
    /// `leaders` leader accounts, `followers` follower accounts and the copies
    /// (leader index, follower index), on a simulator with the venue's real limits.
    pub async fn start(
        leaders: usize,
        copies: &[(usize, usize)],
        followers: usize,
    ) -> Result<Scene, String> {
        Self::start_with(leaders, copies, followers, SceneOptions::default()).await
    }

    /// As [`Scene::start`], with the simulator in a child process, as a venue runs apart
    /// from the engine.
    pub async fn start_apart(
        leaders: usize,
        copies: &[(usize, usize)],
        followers: usize,
    ) -> Result<Scene, String> {
        let apart = SceneOptions {
            separate_sim: true,
            reconcile_every: None,
        };
        Self::start_with(leaders, copies, followers, apart).await
    }

    /// As [`Scene::start`], built as `o` says.
    pub async fn start_with(
        leaders: usize,
        copies: &[(usize, usize)],
        followers: usize,
        o: SceneOptions,
    ) -> Result<Scene, String> {
        let sim = if o.separate_sim {
            SimHost::child().await?
        } else {
            SimHost::InProcess(
                Simulator::start(SimConfig::default())
                    .await
                    .map_err(|e| format!("cannot start the simulator: {e}"))?,
            )
        };
        let base = sim.base_url();
        let http = reqwest::Client::new();
        admin_post(
            &http,
            &base,
            "/admin/v1/prices",
            json!({"symbol": "BTCUSDT", "price": "50000"}),
        )
        .await?;
        let mut keys: HashMap<String, Credentials> = HashMap::new();
        let mut accounts = Vec::new();
        let mut leader_ex = Vec::new();
        for i in 0..leaders {
            let (_, c) = new_account(&http, &base, "10000000").await?;
            leader_ex.push(connect(&base, Some(c.clone()))?);
            keys.insert(format!("lead{i}"), c);
            accounts.push(account(&format!("lead{i}"), &base));
        }
        let mut follower_ids = Vec::new();
        let mut first_follower = None;
        for i in 0..followers {
            let (id, c) = new_account(&http, &base, "1000000").await?;
            if first_follower.is_none() {
                first_follower = Some(c.clone());
            }
            follower_ids.push(id);
            keys.insert(format!("me{i}"), c);
            accounts.push(account(&format!("me{i}"), &base));
        }
        let config = RunConfig {
            accounts,
            leaders: Vec::new(),
            copies: copies
                .iter()
                .enumerate()
                .map(|(n, (l, f))| CopyConfig {
                    name: format!("copy{n}"),
                    leader: format!("lead{l}"),
                    follower: format!("me{f}"),
                    settings: settings(),
                    profit_share_ratio: None,
                })
                .collect(),
            engine: EngineConfig::default(),
        };
        let dir = Scratch::new()?;
        let data_path = dir.0.join("data");
        std::fs::create_dir_all(&data_path).map_err(|e| e.to_string())?;
        let data = DataDir::open(&data_path, "copydesk bench").map_err(|e| e.to_string())?;
        let mut run = RunOptions::default();
        if let Some(every) = o.reconcile_every {
            run.engine.reconcile_every = every;
        }
        let handle = start_keys(&config, data, run, &KeySource::Given(&keys))
            .await
            .map_err(|e| e.to_string())?;
        // Copies are watching once each has announced it; the market streams' first marks
        // arrive within a second.
        let mut rx = handle.subscribe();
        let mut watching = 0;
        // Start-up reads of many copies wait for the venue's weight budget (about 130
        // weight per follower account against 1,920 a minute): allow for it.
        let per_copy = u64::try_from(copies.len()).unwrap_or(u64::MAX);
        let deadline = Instant::now() + Duration::from_secs(120 + 15 * per_copy);
        while watching < copies.len() && Instant::now() < deadline {
            if let Ok(Ok(n)) = tokio::time::timeout(Duration::from_secs(5), rx.recv()).await {
                if n.kind == crate::runtime::NotifyKind::Watching {
                    watching += 1;
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(1_500)).await;
        let follower = connect(&base, first_follower)?;
        Ok(Scene {
            sim,
            handle: Some(handle),
            leaders: leader_ex,
            follower,
            follower_ids,
            data: data_path,
            _dir: dir,
            http,
        })
    }

    /// The simulator's process id when it runs in a child process.
    pub fn sim_pid(&self) -> Option<u32> {
        self.sim.pid()
    }

    /// The first leader trades `n` times, back and forth, one order every `every`.
    pub async fn trade(&self, n: usize, every: Duration) -> Result<(), String> {
        let mut tick = tokio::time::interval(every);
        for i in 0..n {
            tick.tick().await;
            self.leader_order(i).await?;
        }
        Ok(())
    }

    async fn leader_order(&self, i: usize) -> Result<(), String> {
        let order = leader_request(i)?;
        self.leaders[0]
            .place_order(&order)
            .await
            .map(|_| ())
            .map_err(|e| format!("leader order: {e}"))
    }

    /// One leader order whose answer is not awaited (its acknowledgement may stall).
    pub fn trade_in_background(&self) {
        let leader = self.leaders[0].clone();
        tokio::spawn(async move {
            if let Ok(order) = leader_request(0) {
                let _ = leader.place_order(&order).await;
            }
        });
    }

    /// The latency rows, once `n` of them are there (with fills, when asked) or nothing
    /// has changed for ten seconds.
    pub async fn wait_latency(&self, n: usize, fills: bool) -> Vec<LatencyRow> {
        let mut last = (0, 0);
        let mut since = Instant::now();
        loop {
            let rows = self.latency();
            let filled = rows.iter().filter(|r| r.follower_fill_ms.is_some()).count();
            if rows.len() >= n && (!fills || filled >= n) {
                return rows;
            }
            if (rows.len(), filled) != last {
                last = (rows.len(), filled);
                since = Instant::now();
            } else if since.elapsed() > Duration::from_secs(10) {
                return rows;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    fn latency(&self) -> Vec<LatencyRow> {
        Store::open_read_only(&db_path(&self.data))
            .and_then(|s| s.latency().all())
            .unwrap_or_default()
    }

    /// Waits until start-up is over: every request the limiter held back has been let
    /// through and none waited for `quiet`, up to `max`. Returns how long it took and
    /// whether it settled.
    pub async fn settle(&self, quiet: Duration, max: Duration) -> (Duration, bool) {
        let t = Instant::now();
        let mut last = self.weight().waits;
        let mut since = Instant::now();
        while t.elapsed() < max {
            tokio::time::sleep(Duration::from_millis(500)).await;
            let w = self.weight();
            if w.waits != last {
                last = w.waits;
                since = Instant::now();
            } else if since.elapsed() >= quiet {
                return (t.elapsed(), true);
            }
        }
        (t.elapsed(), false)
    }

    /// What the process-wide weight limiter of this venue address has counted.
    pub fn weight(&self) -> WeightUsage {
        self.follower.weight()
    }

    async fn admin(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, String> {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.sim.base_url()));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.map_err(|e| e.to_string())?;
        resp.json().await.map_err(|e| e.to_string())
    }

    /// The engine's commit and sync counters (`store::group_commit`).
    pub fn commit_counts(&self) -> crate::store::group_commit::CommitCounts {
        self.durability().map(|d| d.counts()).unwrap_or_default()
    }

    /// The engine's durability state: its counters, and its record of the disk's syncs.
    pub fn durability(&self) -> Option<std::sync::Arc<crate::store::group_commit::Durability>> {
        self.handle
            .as_ref()
            .and_then(|h| h.store().lock().ok().map(|g| g.store().durability()))
    }

    /// Keeps a record of every disk sync the engine makes from now on.
    pub fn record_syncs(&self) {
        if let Some(d) = self.durability() {
            d.record_syncs(true);
        }
    }

    /// The disk syncs recorded since [`Scene::record_syncs`].
    pub fn syncs(&self) -> Vec<crate::store::group_commit::SyncRecord> {
        self.durability()
            .map(|d| d.take_syncs())
            .unwrap_or_default()
    }

    pub async fn reset_requests(&self) -> Result<(), String> {
        self.admin(reqwest::Method::DELETE, "/admin/v1/requests", None)
            .await
            .map(|_| ())
    }

    /// Weight the follower accounts spent since the last reset, and their orders.
    pub async fn follower_weight_and_orders(&self) -> Result<(u64, u64), String> {
        let v = self
            .admin(reqwest::Method::GET, "/admin/v1/requests", None)
            .await?;
        let mut weight = 0;
        let mut orders = 0;
        for r in v["requests"].as_array().into_iter().flatten() {
            let acct = r["accountId"].as_str().unwrap_or_default();
            if !self.follower_ids.iter().any(|f| f == acct) {
                continue;
            }
            weight += r["weight"].as_u64().unwrap_or(0);
            if r["method"] == "POST" && r["path"] == "/fapi/v1/order" {
                orders += r["count"].as_u64().unwrap_or(0);
            }
        }
        Ok((weight, orders))
    }

    /// Every acknowledgement from now on stalls for ten minutes.
    pub async fn stall_acks(&self) -> Result<(), String> {
        self.admin(
            reqwest::Method::POST,
            "/admin/v1/faults",
            Some(json!({"ackDelayMs": 600_000})),
        )
        .await
        .map(|_| ())
    }

    /// Waits until the copy's order is journaled (sent, its answer pending).
    pub async fn wait_sent(&self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            let sent = Store::open_read_only(&db_path(&self.data))
                .and_then(|s| s.journal().unfinished())
                .map(|rows| !rows.is_empty())
                .unwrap_or(false);
            if sent {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Err("the copy's order was never journaled".into())
    }

    /// Stops the engine, then the simulator; returns how long the engine took to stop.
    pub async fn stop(mut self) -> Option<Duration> {
        let took = match self.handle.take() {
            Some(h) => {
                let t = Instant::now();
                h.shutdown().await;
                Some(t.elapsed())
            }
            None => None,
        };
        self.sim.shutdown().await;
        took
    }
}

/// One admin POST to the simulator; its JSON answer.
async fn admin_post(
    http: &reqwest::Client,
    base: &str,
    path: &str,
    body: Value,
) -> Result<Value, String> {
    let resp = http
        .post(format!("{base}{path}"))
        .json(&body)
        .send()
        .await
        .map_err(|e| format!("simulator {path}: {e}"))?;
    resp.json()
        .await
        .map_err(|e| format!("simulator {path}: {e}"))
}

/// A new simulator account holding `usdt`: its id and key.
async fn new_account(
    http: &reqwest::Client,
    base: &str,
    usdt: &str,
) -> Result<(String, Credentials), String> {
    let v = admin_post(
        http,
        base,
        "/admin/v1/accounts",
        json!({"balances": {"USDT": usdt}}),
    )
    .await?;
    let field = |k: &str| {
        v[k].as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("the simulator's new account has no `{k}`: {v}"))
    };
    Ok((
        field("accountId")?,
        Credentials::new(field("apiKey")?, field("secretKey")?),
    ))
}

fn leader_request(i: usize) -> Result<OrderRequest, String> {
    Ok(OrderRequest {
        client_id: ClientOrderId::new(&format!(
            "lead{}{i:08}",
            crate::exchange::clock::wall_us() % 1_000_000
        ))
        .map_err(|e| e.to_string())?,
        symbol: "BTCUSDT".into(),
        side: if i.is_multiple_of(2) {
            Side::Buy
        } else {
            Side::Sell
        },
        position_side: PositionSide::Both,
        kind: OrderKind::Market,
        quantity: Quantity::new(super::LEADER_QTY).map_err(|e| e.to_string())?,
        reduce_only: false,
        margin_mode: MarginMode::Cross,
    })
}

/// A copy row to hang journal rows on.
pub fn seed_copy(store: &mut Store) -> Result<i64, String> {
    let now = crate::exchange::clock::wall_us() / 1000;
    store
        .transaction(|tx| {
            crate::store::table::accounts::Accounts::on(tx).upsert("me", None, None, now)?;
            let leader = crate::store::table::leaders::Leaders::on(tx).insert(
                &crate::store::table::leaders::NewLeader {
                    name: "lead",
                    source: crate::store::table::leaders::LeaderSource::Account,
                    account: None,
                    portfolio_id: None,
                    endpoint: None,
                    created_at: now,
                },
            )?;
            crate::store::table::copies::Copies::on(tx).insert(
                &crate::store::table::copies::NewCopy {
                    name: "bench",
                    leader_id: leader,
                    follower: "me",
                    mode: crate::store::table::copies::CopyMode::FixedRatio,
                    created_at: now,
                },
            )
        })
        .map_err(|e| e.to_string())
}

/// The commit the engine makes before a send: a journal row and its sent mark, the
/// ledger and the plan in flight.
pub fn commit_one(store: &mut Store, copy: i64, id: &str) -> Result<(), String> {
    let now = crate::exchange::clock::wall_us() / 1000;
    store
        .transaction(|tx| {
            let j = crate::store::table::journal::Journal::on(tx);
            j.record_planned(&crate::store::table::journal::PlannedOrder {
                client_order_id: id,
                copy_id: copy,
                signal_id: None,
                leg: 0,
                symbol: "BTCUSDT",
                side: Side::Buy,
                position_side: PositionSide::Both,
                order_type: crate::store::table::journal::OrderType::Market,
                qty: Decimal::new(5, 2),
                price: None,
                reduce_only: false,
                at: now,
            })?;
            j.mark_sent(id, now)?;
            crate::store::table::copy_ledger::CopyLedgers::on(tx).save(
                copy,
                "{\"positions\":{}}",
                Some("{\"before\":{},\"orders\":[]}"),
                now,
            )
        })
        .map_err(|e| e.to_string())
}

/// Example A of copy-rules.md as a planner input: leader equity 10,000 opens 0.1 BTC at
/// 50,000 with 5x; the copy invests 1,000 with Smart Sync.
pub fn plan_input() -> PlanInput {
    let d = |s: &str| s.parse::<Decimal>().unwrap_or_default();
    let usdt = Asset::new("USDT").unwrap_or_else(|_| Asset::usdt());
    let btc = Asset::new("BTC").unwrap_or_else(|_| Asset::usdt());
    let price = Price::new(d("50000")).unwrap_or_else(|_| Price::new(Decimal::ONE).expect("1 > 0"));
    let market = MarketInfo {
        symbol: Symbol::new("BTCUSDT", btc, usdt.clone()),
        filters: SymbolFilters {
            tick_size: d("0.1"),
            step_size: d("0.001"),
            market_step_size: d("0.001"),
            min_qty: d("0.001"),
            max_qty: d("1000"),
            market_min_qty: d("0.001"),
            market_max_qty: d("120"),
            min_notional: d("100"),
        },
        mark_price: price,
        current_price: price,
    };
    let mut balances = std::collections::BTreeMap::new();
    balances.insert(
        usdt,
        Balance {
            wallet: d("10000"),
            available: d("10000"),
        },
    );
    let t0 = 1_700_000_000_000;
    PlanInput {
        copy: CopyContext {
            id: "bench-copy".into(),
            settings: CopySettings {
                mode: CopyMode::SmartSync,
                investment: Some(d("1000")),
                ratio: None,
                ..settings()
            },
            state: CopyState::Running,
            t0_ms: t0,
            ledger: Ledger::default(),
            held: None,
        },
        signal: LeaderSignal {
            id: "sig-1".into(),
            symbol: market.symbol.clone(),
            position_side: PositionSide::Both,
            event_time_ms: t0 + 1_000,
            kind: SignalKind::Fill(LeaderFill {
                order_id: "order-1".into(),
                side: Side::Buy,
                qty: Quantity::new(d("0.1")).unwrap_or(Quantity::ZERO),
                price,
                position_before: Decimal::ZERO,
                order_final: true,
                leverage: 5,
                margin_mode: MarginMode::Cross,
                equity_before: Some(d("10000")),
            }),
        },
        follower: FollowerSnapshot {
            position_mode: PositionMode::OneWay,
            multi_assets_mode: false,
            account_value: d("10000"),
            balances,
            positions: Vec::new(),
            symbol_configs: Default::default(),
            open_orders: Vec::new(),
            held_by_other_copies: Default::default(),
        },
        market,
        now_ms: t0 + 1_050,
        server_offset_ms: 0,
    }
}
