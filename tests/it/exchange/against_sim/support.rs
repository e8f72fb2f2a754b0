//! Helpers for the simulator runs: starting a simulator, building adapters for its
//! accounts, injecting faults through the admin API, waiting for stream events, and two
//! test clocks (one whose chosen sleeps the test releases by hand, one that moves the
//! simulator's time when the adapter waits).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use copydesk::domain::{MarginMode, PositionSide, Quantity, Side};
use copydesk::exchange::binance_usdm::{BinanceUsdm, Environment, Options, WeightLimiter};
use copydesk::exchange::{
    AccountEvent, BoxFuture, ClientOrderId, Clock, Credentials, EventStream, OrderKind,
    OrderRequest, SystemClock,
};
use copydesk::secrets::Secret;
use copydesk::sim::{AccountKeys, NewAccount, SimConfig, SimHandle, Simulator};
use rust_decimal::Decimal;
use serde_json::Value;
use tokio::sync::{watch, Semaphore};

/// Generous guard against a hang; never a performance expectation.
pub const HANG_GUARD: Duration = Duration::from_secs(20);

pub async fn start_sim(config: SimConfig) -> SimHandle {
    Simulator::start(config)
        .await
        .expect("the simulator should start on a loopback port")
}

/// A one-way account holding `usdt`.
pub fn account(sim: &SimHandle, usdt: Decimal) -> AccountKeys {
    sim.create_account(NewAccount::usdt(usdt))
}

/// An adapter for `keys` on `sim` as production builds it: system clock, the process-wide
/// limiter for the simulator's address and the shared HTTP client.
pub fn adapter(sim: &SimHandle, keys: &AccountKeys) -> BinanceUsdm {
    let env = Environment::parse(&sim.base_url()).expect("the simulator URL is an environment");
    BinanceUsdm::new(&env, Some(credentials(keys)), Options::default()).expect("adapter builds")
}

fn credentials(keys: &AccountKeys) -> Credentials {
    Credentials::new(keys.api_key.clone(), Secret::new(keys.secret_key.clone()))
}

/// An adapter with a chosen clock, limiter and options.
pub fn adapter_with(
    sim: &SimHandle,
    keys: &AccountKeys,
    clock: Arc<dyn Clock>,
    limiter: Arc<WeightLimiter>,
    mut options: Options,
) -> BinanceUsdm {
    let env = Environment::parse(&sim.base_url()).expect("the simulator URL is an environment");
    options.clock = Some(clock);
    options.limiter = Some(limiter);
    BinanceUsdm::new(&env, Some(credentials(keys)), options).expect("adapter builds")
}

pub fn system_clock() -> Arc<dyn Clock> {
    Arc::new(SystemClock)
}

/// `POST /admin/v1/faults` with `body`.
pub async fn fault(sim: &SimHandle, body: Value) {
    let resp = reqwest::Client::new()
        .post(format!("{}/admin/v1/faults", sim.base_url()))
        .json(&body)
        .send()
        .await
        .expect("the admin API should answer");
    assert_eq!(resp.status(), 200, "fault {body} should be accepted");
}

/// `GET /admin/v1/accounts/{id}`: the simulator's own view, to cross-check the adapter.
pub async fn admin_account(sim: &SimHandle, id: &str) -> Value {
    reqwest::Client::new()
        .get(format!("{}/admin/v1/accounts/{id}", sim.base_url()))
        .send()
        .await
        .expect("the admin API should answer")
        .json()
        .await
        .expect("admin account view is JSON")
}

/// A decimal from a JSON string field.
pub fn dec_of(v: &Value) -> Decimal {
    v.as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("expected a decimal string, got {v}"))
}

pub fn cid(s: &str) -> ClientOrderId {
    ClientOrderId::new(s).expect("valid client id")
}

pub fn qty(v: Decimal) -> Quantity {
    Quantity::new(v).expect("valid quantity")
}

/// A one-way market order.
pub fn market(client_id: &str, symbol: &str, side: Side, quantity: Decimal) -> OrderRequest {
    OrderRequest {
        client_id: cid(client_id),
        symbol: symbol.into(),
        side,
        position_side: PositionSide::Both,
        kind: OrderKind::Market,
        quantity: qty(quantity),
        reduce_only: false,
        margin_mode: MarginMode::Cross,
    }
}

/// The next stream event (hang-guarded).
pub async fn next_event(stream: &mut EventStream) -> AccountEvent {
    tokio::time::timeout(HANG_GUARD, stream.next())
        .await
        .expect("a stream event should arrive (hang guard)")
        .expect("the stream should still be running")
}

/// Reads events until one matches `pred`, returning it and everything skipped.
pub async fn wait_event<T>(
    stream: &mut EventStream,
    what: &str,
    mut pred: impl FnMut(&AccountEvent) -> Option<T>,
) -> (T, Vec<AccountEvent>) {
    let mut skipped = Vec::new();
    let found = tokio::time::timeout(HANG_GUARD, async {
        loop {
            let e = stream
                .next()
                .await
                .unwrap_or_else(|| panic!("stream ended while waiting for {what}"));
            if let Some(t) = pred(&e) {
                return t;
            }
            skipped.push(e);
        }
    })
    .await
    .unwrap_or_else(|_| panic!("{what} should arrive (hang guard)"));
    (found, skipped)
}

// ---------------------------------------------------------------- gated clock

/// System time, except that sleeps of the chosen lengths wait for the test to release
/// them: the stream's reconnect backoff becomes a gap the test controls, so "something
/// happened while the socket was down" needs no timing luck.
#[derive(Debug)]
pub struct GatedClock {
    gates: Mutex<HashMap<Duration, Arc<Semaphore>>>,
    /// Every gated sleep asked for so far, in order.
    asked: watch::Sender<Vec<Duration>>,
}

impl GatedClock {
    pub fn new(gated: &[Duration]) -> Arc<Self> {
        Arc::new(Self {
            gates: Mutex::new(
                gated
                    .iter()
                    .map(|d| (*d, Arc::new(Semaphore::new(0))))
                    .collect(),
            ),
            asked: watch::channel(Vec::new()).0,
        })
    }

    /// Lets one sleep of length `d` (now waiting or still to come) finish.
    pub fn release(&self, d: Duration) {
        let gate = self.gates.lock().expect("gates").get(&d).cloned();
        gate.expect("only gated lengths can be released")
            .add_permits(1);
    }

    /// Waits until `n` gated sleeps of length `d` have been asked for.
    pub async fn wait_asked(&self, d: Duration, n: usize) {
        let mut rx = self.asked.subscribe();
        tokio::time::timeout(
            HANG_GUARD,
            rx.wait_for(|v| v.iter().filter(|x| **x == d).count() >= n),
        )
        .await
        .expect("the gated sleep should be asked for (hang guard)")
        .expect("clock alive");
    }
}

impl Clock for GatedClock {
    fn now_ms(&self) -> i64 {
        SystemClock.now_ms()
    }

    fn sleep(&self, d: Duration) -> BoxFuture<'static, ()> {
        let gate = self.gates.lock().expect("gates").get(&d).cloned();
        match gate {
            Some(gate) => {
                self.asked.send_modify(|v| v.push(d));
                Box::pin(async move {
                    if let Ok(permit) = gate.acquire().await {
                        permit.forget();
                    }
                })
            }
            None => Box::pin(tokio::time::sleep(d)),
        }
    }
}

// ---------------------------------------------------------------- linked clock

/// A clock that lives in the simulator's time: it reads the simulator clock, and a sleep
/// moves the simulator's time and its server clock forward instead of waiting, so a
/// rate-limit window passes at once for both sides alike. Concurrent sleeps to the same
/// moment move time once. The server clock moves first, so a request signed just before
/// a jump arrives late (inside a long `recvWindow`) rather than early (always refused).
#[derive(Debug)]
pub struct LinkedClock {
    sim: Arc<SimHandle>,
    /// How far simulated time has been moved past wall time; held across the admin call
    /// so shifts reach the simulator in order.
    moved: Arc<tokio::sync::Mutex<i64>>,
}

impl LinkedClock {
    pub fn new(sim: Arc<SimHandle>) -> Arc<Self> {
        Arc::new(Self {
            sim,
            moved: Arc::new(tokio::sync::Mutex::new(0)),
        })
    }

    /// Total simulated time skipped by sleeps, in ms.
    pub async fn skipped_ms(&self) -> i64 {
        *self.moved.lock().await
    }
}

impl Clock for LinkedClock {
    fn now_ms(&self) -> i64 {
        self.sim.now()
    }

    fn sleep(&self, d: Duration) -> BoxFuture<'static, ()> {
        let target = self.sim.now() + i64::try_from(d.as_millis()).expect("short sleep");
        let sim = self.sim.clone();
        let moved = self.moved.clone();
        Box::pin(async move {
            let mut moved = moved.lock().await;
            let now = sim.now();
            if target > now {
                *moved += target - now;
                fault(&sim, serde_json::json!({ "clockShiftMs": *moved })).await;
                sim.advance_clock(target - now);
            }
        })
    }
}
