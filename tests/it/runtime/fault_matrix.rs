//! The fault matrix (issue 12): a scripted leader session (opens, an increase, partial and
//! full closes, a flip, a margin add) runs while faults drawn from a fixed seed hit the
//! follower's side of the venue (refused orders and stops, 503 "send status unknown",
//! delayed acks, dropped and stalled user streams, stalled market streams, latency, 429
//! then 418 with `Retry-After`, `-1021` clock skew, an expired listen key); then the faults
//! lift and the session ends fault-free. Every assertion reads the simulator's
//! own account, order, algo-order and income state; the engine's printed lines are read
//! only to check that each long gap in protection was announced `unprotected`.
//!
//! Checked for every seed:
//! - never backwards, never oversized: at every sample the follower holds, per symbol, the
//!   leader's side and at most `ratio ×` its size (reconciliation never opens, so a lost
//!   open may leave it smaller, copy-rules §5);
//! - after the faults lift, every follower position gets a resting venue-side stop, and
//!   every resting stop belongs to a position;
//! - every gap in protection longer than the normal fill → stop window under the drawn
//!   delays (see [`STOP_WINDOW_SLACK`]) was notified `unprotected` naming its symbol (seed 3
//!   found a second symbol's refused stop never named while another symbol's gap was
//!   already announced);
//! - the leader's margin add is copied as a follower margin transfer (asserted in seed 1);
//! - the leader's fault-free closes bring the follower exactly flat (its target);
//! - nothing was sent twice: the follower's client order ids are unique, and its traded
//!   volume per symbol is at most `ratio ×` the leader's;
//! - the copy's PnL (`copydesk status`) equals the follower account's realized PnL −
//!   commissions + funding on the copy's symbols (its income records), both read again
//!   until they agree: trades copied late, after the follower was first seen flat, count
//!   on both sides (seed 203).
//!
//! Seeds 1–3 run in `make test`; `FAULT_MATRIX_SEEDS=N` runs N more seeds in the ignored
//! `long_run` test (docs/what-happens-when.md).

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use copydesk::runtime::NotifyKind;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde_json::{json, Value};

use super::support::{dec as jdec, follower_requests, head, Engine, Pair};

/// The copy under test: the whole follower account at a tenth of the leader.
/// Leverage up to 50x, the leader's on ETHUSDT: a follower isolated at 50x has a margin
/// level of about 500 % (2 % margin against ETH's 0.4 % maintenance rate), under the
/// 1,000 % above which margin sync adds nothing, so the leader's margin add is copied as a
/// transfer.
const COPY: &str = "[[copies]]\nname = \"matrix\"\nleader = \"lead\"\nfollower = \"me\"\n\
    mode = \"fixed-ratio\"\nratio = \"0.1\"\n[copies.risk]\nmax_leverage = 50\n";
const RATIO: Decimal = dec!(0.1);
/// Reconciliation every 2 s: short, so repairs come within the test.
const ENGINE: &str = "[engine]\nreconcile_secs = 2\n\n";
const SYMBOLS: [&str; 2] = ["BTCUSDT", "ETHUSDT"];
/// The normal window between a fill and its protective stop resting: the engine places
/// the stop as soon as the fill's answer is in, so the window is the open's and the stop's
/// round trips (each the drawn ack delay plus twice the drawn latency) plus this slack for
/// scheduling and the sampler's 150 ms. A position seen without a resting stop for longer
/// than its window must have been announced `unprotected` (docs/what-happens-when.md).
const STOP_WINDOW_SLACK: Duration = Duration::from_millis(1_500);
/// Generous hang guard of every wait by condition.
const DEADLINE: Duration = Duration::from_secs(90);

/// One leader action of the script.
enum Step {
    Trade(&'static str, &'static str, &'static str),
    AddMargin(&'static str, &'static str),
}

/// Opens, an increase, a partial close, a margin add, a flip, a full close, a re-open.
const SCRIPT: [Step; 8] = [
    Step::Trade("BTCUSDT", "BUY", "0.5"),
    Step::Trade("ETHUSDT", "SELL", "2"),
    Step::Trade("BTCUSDT", "BUY", "0.3"),
    Step::Trade("BTCUSDT", "SELL", "0.4"),
    Step::AddMargin("ETHUSDT", "20"),
    Step::Trade("ETHUSDT", "BUY", "4"),
    Step::Trade("BTCUSDT", "SELL", "0.4"),
    Step::Trade("BTCUSDT", "BUY", "0.2"),
];

/// A fault drawn for one step.
struct Drawn {
    name: String,
    /// Set before the step.
    body: Value,
    /// Set right after the leader's step (a ban after a rate limit).
    then: Option<Value>,
    /// Close the follower's listen key before the step: the venue sends
    /// `listenKeyExpired` on the engine's socket.
    expire_listen_key: bool,
}

impl Drawn {
    fn body(name: impl Into<String>, body: Value) -> Drawn {
        Drawn {
            name: name.into(),
            body,
            then: None,
            expire_listen_key: false,
        }
    }
}

/// Faults drawn for the follower's side. Not drawn: a revoked key, which stops the copy
/// by design (nothing can be traded with a refused key) and so ends the session; it has
/// its own test (`runtime::venue_faults::a_key_revoked…`).
fn draw_fault(rng: &mut ChaCha8Rng, me_key: &str) -> Drawn {
    let unknown = "Timeout waiting for response from backend server. Send status unknown; \
                   execution status unknown.";
    match rng.random_range(0..13u32) {
        0 => Drawn::body("none", json!({})),
        1 => {
            let n = rng.random_range(1..=3u32);
            Drawn::body(
                format!("reject {n} orders"),
                json!({"rejectNext": {"count": n, "status": 400, "code": -1008,
                    "msg": "Server is currently overloaded with other requests. Please try again in a few minutes.",
                    "path": "/fapi/v1/order", "method": "POST", "apiKey": me_key}}),
            )
        }
        2 => Drawn::body(
            "503 on the next order",
            json!({"rejectNext": {"count": 1, "status": 503, "code": -1007, "msg": unknown,
                "path": "/fapi/v1/order", "method": "POST", "apiKey": me_key}}),
        ),
        3 => {
            let n = rng.random_range(1..=3u32);
            Drawn::body(
                format!("reject {n} stops"),
                json!({"rejectNext": {"count": n, "status": 400, "code": -1008,
                    "msg": "Server is currently overloaded with other requests. Please try again in a few minutes.",
                    "path": "/fapi/v1/algoOrder", "method": "POST", "apiKey": me_key}}),
            )
        }
        4 => Drawn::body(
            "503 on the next stop",
            json!({"rejectNext": {"count": 1, "status": 503, "code": -1007, "msg": unknown,
                "path": "/fapi/v1/algoOrder", "method": "POST", "apiKey": me_key}}),
        ),
        5 => {
            let ms = [200u64, 1_500, 4_000][rng.random_range(0..3usize)];
            Drawn::body(format!("acks {ms} ms late"), json!({"ackDelayMs": ms}))
        }
        6 => Drawn::body("drop user streams", json!({"dropUserStreams": true})),
        7 => Drawn::body("stall user streams", json!({"stallUserStreams": true})),
        8 => Drawn::body("stall market streams", json!({"stallMarketStreams": true})),
        9 => {
            let ms = rng.random_range(50..400u64);
            Drawn::body(format!("latency {ms} ms"), json!({"latencyMs": ms}))
        }
        10 => Drawn {
            // HTTP 429 on the next follower order, then 418 (the address banned) on the
            // one after the leader's step, each with the venue's `Retry-After`.
            name: "429 then 418".into(),
            body: json!({"rejectNext": {"count": 1, "status": 429, "code": -1003,
                "msg": "Too many requests; current limit is 2400 requests per minute.",
                "path": "/fapi/v1/order", "method": "POST", "apiKey": me_key, "retryAfterS": 1}}),
            then: Some(
                json!({"rejectNext": {"count": 1, "status": 418, "code": -1003,
                "msg": "Way too many requests; IP banned.",
                "path": "/fapi/v1/order", "method": "POST", "apiKey": me_key, "retryAfterS": 2}}),
            ),
            expire_listen_key: false,
        },
        // The venue's clock 10 s ahead: every signed request is outside the receive
        // window (-1021) until the engine resyncs its clock.
        11 => Drawn::body("clock skew +10 s (-1021)", json!({"clockShiftMs": 10_000})),
        _ => Drawn {
            name: "listen key expired".into(),
            body: json!({}),
            then: None,
            expire_listen_key: true,
        },
    }
}

/// What the sampler saw of the follower while the session ran.
#[derive(Default)]
struct Watch {
    /// Symbol → when its current gap (a position without a resting stop) began, and the
    /// normal fill → stop window then.
    open_gaps: BTreeMap<String, (Instant, Duration)>,
    /// Symbol, length and normal window of each gap that ended.
    gaps: Vec<(String, Duration, Duration)>,
    /// The normal fill → stop window under the delays drawn now (see [`STOP_WINDOW_SLACK`]).
    window: Duration,
    /// Broken invariants (backwards or oversized positions), with the sample.
    violations: Vec<String>,
    /// Symbol and side (true: long) → the largest leader position seen on it so far.
    leader_max: BTreeMap<(String, bool), Decimal>,
    /// When the faults lifted, and the longest any position went without a stop after it.
    lift: Option<Instant>,
    after_lift: Duration,
}

/// Signed position amounts per symbol of an admin account view.
fn amounts(view: &Value) -> BTreeMap<String, Decimal> {
    let mut out = BTreeMap::new();
    for p in view["positions"].as_array().into_iter().flatten() {
        let amt = jdec(&p["positionAmt"]);
        if !amt.is_zero() {
            if let Some(s) = p["symbol"].as_str() {
                *out.entry(s.to_owned()).or_default() += amt;
            }
        }
    }
    out
}

/// Symbols with a resting algo order of an admin account view.
fn stop_symbols(view: &Value) -> Vec<String> {
    view["openAlgoOrders"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|o| o["symbol"].as_str().map(str::to_owned))
        .collect()
}

impl Watch {
    /// The normal fill → stop window under `ack` delay and `latency` per request: the
    /// open's and the stop's round trips, a mark read, and the slack.
    fn set_delays(&mut self, ack: u64, latency: u64) {
        self.window = Duration::from_millis(2 * ack + 6 * latency) + STOP_WINDOW_SLACK;
    }

    /// Reads both accounts once and records gaps and invariant breaks.
    async fn sample(&mut self, p: &Pair) {
        let me = p.sim.admin_account(&p.me.account_id).await;
        let lead = p.sim.admin_account(&p.lead.account_id).await;
        let mine = amounts(&me);
        let theirs = amounts(&lead);
        let stops = stop_symbols(&me);
        let now = Instant::now();
        for s in SYMBOLS {
            let f = mine.get(s).copied().unwrap_or_default();
            let l = theirs.get(s).copied().unwrap_or_default();
            if !l.is_zero() {
                let m = self
                    .leader_max
                    .entry((s.to_owned(), l.is_sign_positive()))
                    .or_default();
                *m = (*m).max(l.abs());
            }
            // The follower lags the leader (a reduce or a flip shows after the leader's), so
            // the bound is the leader's largest position on the follower's side so far: a
            // follower beyond it traded backwards or twice.
            let bound = self
                .leader_max
                .get(&(s.to_owned(), f.is_sign_positive()))
                .copied()
                .unwrap_or_default()
                * RATIO;
            if !f.is_zero() && f.abs() > bound {
                self.violations
                    .push(format!("{s}: follower {f} beyond {bound} (leader now {l})"));
            }
            let bare = !f.is_zero() && !stops.iter().any(|x| x == s);
            match (bare, self.open_gaps.get(s).copied()) {
                (true, None) => {
                    self.open_gaps.insert(s.to_owned(), (now, self.window));
                }
                (true, Some((t0, w))) => {
                    // The window is the longest of the delays drawn while the gap lasts.
                    self.open_gaps
                        .insert(s.to_owned(), (t0, w.max(self.window)));
                }
                (false, Some((t0, w))) => {
                    self.open_gaps.remove(s);
                    self.gaps.push((s.to_owned(), now - t0, w));
                    if let Some(lift) = self.lift {
                        self.after_lift = self.after_lift.max(now - t0.max(lift));
                    }
                }
                _ => {}
            }
        }
    }

    /// Samples for `d`.
    async fn dwell(&mut self, p: &Pair, d: Duration) {
        let end = Instant::now() + d;
        while Instant::now() < end {
            self.sample(p).await;
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    }

    /// Samples until `check` holds on the follower's admin view; panics after [`DEADLINE`].
    async fn until(
        &mut self,
        p: &Pair,
        engine: &mut Engine,
        what: &str,
        check: impl Fn(&Value, &Value) -> Result<(), String>,
    ) -> Duration {
        let t0 = Instant::now();
        loop {
            self.sample(p).await;
            let me = p.sim.admin_account(&p.me.account_id).await;
            let lead = p.sim.admin_account(&p.lead.account_id).await;
            match check(&me, &lead) {
                Ok(()) => return t0.elapsed(),
                Err(e) => {
                    if let Ok(Some(status)) = engine.child.try_wait() {
                        panic!("{what}: the engine exited ({status}): {e}");
                    }
                    assert!(
                        t0.elapsed() < DEADLINE,
                        "{what}: not within {DEADLINE:?}: {e}"
                    );
                }
            }
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    }
}

/// Closes the follower's listen key (the one the engine streams on: the venue returns
/// the active key), as the venue does when it expires: `listenKeyExpired` on the socket.
async fn expire_listen_key(p: &Pair) {
    let key = p.me.listen_key().await;
    p.me.http
        .delete(format!("{}/fapi/v1/listenKey?listenKey={key}", p.me.base))
        .header("X-MBX-APIKEY", &p.me.key)
        .send()
        .await
        .expect("listenKey closed");
}

async fn fault(p: &Pair, body: Value) {
    p.sim
        .admin(reqwest::Method::POST, "/admin/v1/faults", Some(body))
        .await
        .ok("fault set");
}

async fn leader_step(p: &Pair, step: &Step) {
    match step {
        // A wide receive window: the leader's own requests ride out a drawn clock skew.
        Step::Trade(symbol, side, qty) => {
            p.lead
                .post(
                    "/fapi/v1/order",
                    &[
                        ("symbol", symbol),
                        ("side", side),
                        ("type", "MARKET"),
                        ("quantity", qty),
                        ("recvWindow", "60000"),
                    ],
                )
                .await
                .ok("the leader trades");
        }
        Step::AddMargin(symbol, amount) => {
            p.lead
                .post(
                    "/fapi/v1/positionMargin",
                    &[
                        ("symbol", symbol),
                        ("amount", amount),
                        ("type", "1"),
                        ("recvWindow", "60000"),
                    ],
                )
                .await
                .ok("the leader adds margin");
        }
    }
}

/// All orders an account sent on a symbol, as the venue holds them.
async fn all_orders(c: &super::support::Client, symbol: &str) -> Vec<Value> {
    c.get(
        "/fapi/v1/allOrders",
        &[("symbol", symbol), ("limit", "1000")],
    )
    .await
    .ok("all orders")
    .as_array()
    .cloned()
    .unwrap_or_default()
}

/// Executed quantity summed over an account's orders on a symbol.
fn volume(orders: &[Value]) -> Decimal {
    orders.iter().map(|o| jdec(&o["executedQty"])).sum()
}

/// The copy's figures from `copydesk status --json`.
fn figures(p: &Pair) -> Result<Value, String> {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_copydesk"))
        .arg("--data-dir")
        .arg(p.data())
        .args(["status", "--json"])
        .output()
        .map_err(|e| e.to_string())?;
    let v: Value = serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())?;
    Ok(v["copies"][0]["figures"].clone())
}

fn num(v: &Value) -> Decimal {
    v.as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or(Decimal::MIN)
}

/// Realized PnL + commission + funding income of the follower on the copy's symbols.
async fn account_pnl(p: &Pair) -> Decimal {
    let income =
        p.me.get("/fapi/v1/income", &[("limit", "1000")])
            .await
            .ok("the follower's income");
    income
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| {
            SYMBOLS.contains(&r["symbol"].as_str().unwrap_or(""))
                && matches!(
                    r["incomeType"].as_str(),
                    Some("REALIZED_PNL" | "COMMISSION" | "FUNDING_FEE")
                )
        })
        .map(|r| jdec(&r["income"]))
        .sum()
}

/// Waits until the copy's PnL (`copydesk status`) equals the follower account's realized −
/// fees + funding, reading both again each time, and returns it. Read once, the account's
/// side went stale in seed 203: the follower was flat when the leader closed, the account
/// read, and only then did the engine copy the leader's open that had waited behind a
/// 5 s lookup of an order of unknown outcome, and then the close (a Buy and a Sell 0.02
/// BTCUSDT the copy counted and the stale read did not).
async fn pnl_agrees(p: &Pair, context: &str) -> Decimal {
    let t0 = Instant::now();
    loop {
        let want = account_pnl(p).await;
        let f = figures(p).unwrap_or(Value::Null);
        let got = num(&f["realizedPnl"]) - num(&f["fees"])
            + num(&f["funding"])
            + num(&f["unrealizedPnl"]);
        if got == want {
            return want;
        }
        assert!(
            t0.elapsed() < DEADLINE,
            "{context}: the copy's PnL should equal the account's realized − fees + funding {want}: copy PnL {got} from {f}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// Runs the session under the faults drawn from `seed` and checks the outcome. Returns
/// how many isolated margin transfers the follower asked of the venue.
async fn run_seed(seed: u64) -> u64 {
    let started = Instant::now();
    let p = Pair::new("100000", ENGINE, COPY).await;
    p.sim.price("ETHUSDT", "3000").await;
    // The leader trades ETHUSDT isolated, so its margin add has something to copy.
    p.lead
        .post(
            "/fapi/v1/marginType",
            &[("symbol", "ETHUSDT"), ("marginType", "ISOLATED")],
        )
        .await
        .ok("leader isolated on ETHUSDT");
    p.leader_leverage("ETHUSDT", "50").await;
    let mut engine = p.start().await;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut watch = Watch::default();
    watch.set_delays(0, 0);
    let (mut ack, mut latency) = (0u64, 0u64);
    let mut drawn = Vec::new();

    for step in &SCRIPT {
        let d = draw_fault(&mut rng, &p.me.key);
        drawn.push(d.name.clone());
        ack = d.body["ackDelayMs"].as_u64().unwrap_or(ack);
        latency = d.body["latencyMs"].as_u64().unwrap_or(latency);
        watch.set_delays(ack, latency);
        if d.expire_listen_key {
            expire_listen_key(&p).await;
        }
        fault(&p, d.body).await;
        let before = rng.random_range(0..800u64);
        watch.dwell(&p, Duration::from_millis(before)).await;
        leader_step(&p, step).await;
        if let Some(then) = d.then {
            fault(&p, then).await;
        }
        let after = rng.random_range(300..2_500u64);
        watch.dwell(&p, Duration::from_millis(after)).await;
        // Stalls are lifted by their own switch; the rest stays until the clear below.
        if rng.random_bool(0.5) {
            fault(
                &p,
                json!({"clear": true, "stallUserStreams": false, "stallMarketStreams": false}),
            )
            .await;
            (ack, latency) = (0, 0);
        }
    }
    fault(
        &p,
        json!({"clear": true, "stallUserStreams": false, "stallMarketStreams": false}),
    )
    .await;
    watch.lift = Some(Instant::now());
    let context = format!("seed {seed}, faults {drawn:?}");

    // After the lift: every position gets its stop, and no stop outlives its position.
    let covered = watch
        .until(
            &p,
            &mut engine,
            "every follower position has a resting stop",
            |me, lead| {
                let mine = amounts(me);
                let theirs = amounts(lead);
                let off: Vec<_> = mine
                    .iter()
                    .filter(|(s, f)| {
                        let l = theirs.get(*s).copied().unwrap_or_default();
                        l.is_zero()
                            || f.is_sign_positive() != l.is_sign_positive()
                            || f.abs() > (l * RATIO).abs()
                    })
                    .collect();
                let stops = stop_symbols(me);
                let bare: Vec<_> = mine.keys().filter(|s| !stops.contains(s)).collect();
                let orphan: Vec<_> = stops.iter().filter(|s| !mine.contains_key(*s)).collect();
                let doubled = stops.len() > stops.iter().collect::<HashSet<_>>().len();
                (bare.is_empty() && orphan.is_empty() && !doubled && off.is_empty())
                    .then_some(())
                    .ok_or(format!(
                        "{context}: positions {mine:?} (beyond the leader's {theirs:?}: {off:?}), \
                     stops {stops:?} (bare {bare:?}, orphan {orphan:?})"
                    ))
            },
        )
        .await;
    eprintln!(
        "seed {seed}: settled {covered:?} after the faults lifted; longest stop gap after the lift {:?}",
        watch.after_lift
    );

    // The leader closes everything, fault-free: the follower's target is flat.
    let lead_now = amounts(&p.sim.admin_account(&p.lead.account_id).await);
    for (symbol, amt) in &lead_now {
        let side = if amt.is_sign_positive() {
            "SELL"
        } else {
            "BUY"
        };
        p.lead
            .market(symbol, side, &amt.abs().to_string())
            .await
            .ok("the leader closes");
    }
    watch
        .until(
            &p,
            &mut engine,
            "the follower ends flat with no stop",
            |me, _| {
                let mine = amounts(me);
                let stops = stop_symbols(me);
                (mine.is_empty() && stops.is_empty())
                    .then_some(())
                    .ok_or(format!("{context}: positions {mine:?}, stops {stops:?}"))
            },
        )
        .await;

    assert!(
        watch.violations.is_empty(),
        "{context}: the follower was backwards or oversized: {:?}",
        watch.violations
    );
    let output = engine.output();
    let notified = head(NotifyKind::Unprotected, None, Some("matrix"));
    for (symbol, gap, window) in &watch.gaps {
        eprintln!("seed {seed}: {symbol} without a stop for {gap:?} (normal window {window:?})");
        if gap > window {
            assert!(
                output
                    .lines()
                    .any(|l| l.contains(&notified) && l.contains(symbol.as_str())),
                "{context}: {symbol} went {gap:?} without a stop, longer than the normal \
                 fill → stop window {window:?}, and no `unprotected` named it:\n{output}"
            );
        }
    }
    // The copy's PnL is the follower account's, both read again until they agree: the
    // engine may still be copying leader trades queued behind a slow send (seed 203).
    let _ = pnl_agrees(&p, &context).await;
    // What it copied late leaves the follower flat again, with no stop.
    watch
        .until(
            &p,
            &mut engine,
            "the follower is still flat after the copy's PnL agrees",
            |me, _| {
                let mine = amounts(me);
                let stops = stop_symbols(me);
                (mine.is_empty() && stops.is_empty())
                    .then_some(())
                    .ok_or(format!("{context}: positions {mine:?}, stops {stops:?}"))
            },
        )
        .await;
    let transfers = follower_requests(&p, "POST", "/fapi/v1/positionMargin").await;
    eprintln!("seed {seed}: {transfers} follower margin transfer(s)");

    // Nothing was sent twice.
    for symbol in SYMBOLS {
        let mine = all_orders(&p.me, symbol).await;
        let theirs = all_orders(&p.lead, symbol).await;
        let ids: Vec<&str> = mine
            .iter()
            .filter_map(|o| o["clientOrderId"].as_str())
            .collect();
        let unique: HashSet<&str> = ids.iter().copied().collect();
        assert_eq!(
            ids.len(),
            unique.len(),
            "{context}: a client order id was used twice on {symbol}: {ids:?}"
        );
        let (v_me, v_lead) = (volume(&mine), volume(&theirs));
        assert!(
            v_me <= v_lead * RATIO,
            "{context}: the follower traded {v_me} {symbol}, more than {RATIO} × the leader's {v_lead}: {mine:#?}"
        );
    }
    engine.interrupt();
    eprintln!(
        "seed {seed}: passed in {:?} under {drawn:?}",
        started.elapsed()
    );
    transfers
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_1() {
    // Its margin add falls under a 200 ms ack delay: the leader's add is copied as a
    // transfer of the follower's isolated margin.
    assert!(
        run_seed(1).await >= 1,
        "seed 1: the leader's margin add should be copied as a follower margin transfer"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_2() {
    let _ = run_seed(2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_3() {
    let _ = run_seed(3).await;
}

/// `FAULT_MATRIX_SEEDS=N cargo test --test it runtime::fault_matrix::long_run -- --ignored`
/// runs seeds 100 … 100 + N − 1 one after another (`FAULT_MATRIX_FIRST` moves the start).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "long run: FAULT_MATRIX_SEEDS=N, see docs/what-happens-when.md"]
async fn long_run() {
    let n: u64 = std::env::var("FAULT_MATRIX_SEEDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let first: u64 = std::env::var("FAULT_MATRIX_FIRST")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    for seed in first..first + n {
        let _ = run_seed(seed).await;
    }
}

/// Seeds 101 and 104 found a real defect, now fixed (`runtime/fill_catchup.rs`): a
/// reconciliation's repair close fills while the follower's user stream is down (dropped at
/// the last step), and the copy's figures stored fills only from that stream, so the fill
/// never reached the copy's PnL (copy −1.829995 against the account's −2.15: the missing
/// 0.320005 was that close's fee 0.300005 and realized −0.02). Seed 104: a close's fill
/// event is held by a stalled follower stream that is then dropped (copy −2.52000625
/// against −3.17, the missing 0.65 being that Sell 0.025 BTCUSDT's fee 0.625 and realized
/// −0.025). Reconciliation now reads the venue's trade history for orders the journal says
/// filled whose fills are not all stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_101_fill_while_the_follower_stream_is_down() {
    let _ = run_seed(101).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_104_fill_event_lost_with_a_dropped_stream() {
    let _ = run_seed(104).await;
}

/// Seed 203's last open finding (1 run in 13), made deterministic: the follower's ETHUSDT
/// copy is refused 503 "send status unknown" and the send path looks it up for its whole
/// window while the leader opens and closes BTCUSDT. The follower is flat when the
/// leader's close is in, so an account PnL read then misses the round trip the engine
/// copies afterwards (the open, then the close); the copy's PnL must equal the account's
/// once both are read after it, each fill counted once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_203_open_copied_after_the_leader_closed() {
    let p = Pair::new("100000", ENGINE, COPY).await;
    p.sim.price("ETHUSDT", "3000").await;
    let mut engine = p.start().await;
    engine
        .wait_line("copy `matrix` is watching", "the copy starts")
        .await;
    fault(
        &p,
        json!({"rejectNext": {"count": 1, "status": 503, "code": -1007,
            "msg": "Timeout waiting for response from backend server. Send status unknown; execution status unknown.",
            "path": "/fapi/v1/order", "method": "POST", "apiKey": p.me.key}}),
    )
    .await;
    p.lead
        .market("ETHUSDT", "SELL", "2")
        .await
        .ok("the leader opens ETHUSDT");
    engine
        .wait_line(
            "order unconfirmed; looking it up",
            "the follower's ETHUSDT copy is refused 503",
        )
        .await;
    for side in ["BUY", "SELL"] {
        p.lead
            .market("BTCUSDT", side, "0.2")
            .await
            .ok("the leader opens and closes BTCUSDT");
    }
    // What the check read before seed 203: the follower is flat, the account's PnL is
    // that of no trade (the ETHUSDT copy never arrived, the BTCUSDT signals wait).
    let me = p.sim.admin_account(&p.me.account_id).await;
    assert!(
        amounts(&me).is_empty(),
        "the follower should still be flat while the engine looks its order up: {me}"
    );
    let early = account_pnl(&p).await;
    // The engine then copies both BTCUSDT trades, late.
    let t0 = Instant::now();
    loop {
        let filled = all_orders(&p.me, "BTCUSDT")
            .await
            .iter()
            .filter(|o| o["status"] == "FILLED")
            .count();
        if filled == 2 {
            break;
        }
        assert!(
            t0.elapsed() < DEADLINE,
            "the follower should copy the leader's BTCUSDT open and close: {filled} filled"
        );
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    let want = pnl_agrees(&p, "seed 203, open copied after the leader closed").await;
    eprintln!("seed 203 sequence: account PnL {early} when the follower was first flat, {want} after the late round trip");
    assert!(
        want < early,
        "the late round trip's fees should count in the account's PnL after it ({want}) and not in the early read ({early})"
    );
    engine.interrupt();
}
