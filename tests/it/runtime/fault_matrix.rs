//! The fault matrix (issue 12): a scripted leader session (opens, an increase, partial and
//! full closes, a flip, a margin add) runs while faults drawn from a fixed seed hit the
//! follower's side of the venue (refused orders and stops, 503 "send status unknown",
//! delayed acks, dropped and stalled user streams, stalled market streams, latency); then
//! the faults lift and the session ends fault-free. Every assertion reads the simulator's
//! own account, order, algo-order and income state; the engine's printed lines are read
//! only to check that each long gap in protection was announced `unprotected`.
//!
//! Checked for every seed:
//! - never backwards, never oversized: at every sample the follower holds, per symbol, the
//!   leader's side and at most `ratio ×` its size (reconciliation never opens, so a lost
//!   open may leave it smaller, copy-rules §5);
//! - after the faults lift, every follower position gets a resting venue-side stop, every
//!   resting stop belongs to a position, and a gap that lasted longer than [`LONG_GAP`] was
//!   notified `unprotected`;
//! - the leader's fault-free closes bring the follower exactly flat (its target);
//! - nothing was sent twice: the follower's client order ids are unique, and its traded
//!   volume per symbol is at most `ratio ×` the leader's;
//! - the copy's PnL (`copydesk status`) equals the follower account's realized PnL −
//!   commissions + funding on the copy's symbols (its income records).
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

use super::support::{dec as jdec, head, Engine, Pair};

/// The copy under test: the whole follower account at a tenth of the leader.
const COPY: &str = "[[copies]]\nname = \"matrix\"\nleader = \"lead\"\nfollower = \"me\"\n\
    mode = \"fixed-ratio\"\nratio = \"0.1\"\n";
const RATIO: Decimal = dec!(0.1);
/// Reconciliation every 2 s: short, so repairs come within the test.
const ENGINE: &str = "[engine]\nreconcile_secs = 2\n\n";
const SYMBOLS: [&str; 2] = ["BTCUSDT", "ETHUSDT"];
/// A position seen without a resting stop for longer than this must have been announced.
const LONG_GAP: Duration = Duration::from_secs(10);
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
fn draw_fault(rng: &mut ChaCha8Rng, me_key: &str) -> (String, Value) {
    let unknown = "Timeout waiting for response from backend server. Send status unknown; \
                   execution status unknown.";
    match rng.random_range(0..10u32) {
        0 => ("none".into(), json!({})),
        1 => {
            let n = rng.random_range(1..=3u32);
            (
                format!("reject {n} orders"),
                json!({"rejectNext": {"count": n, "status": 400, "code": -1008,
                    "msg": "Server is currently overloaded with other requests. Please try again in a few minutes.",
                    "path": "/fapi/v1/order", "method": "POST", "apiKey": me_key}}),
            )
        }
        2 => (
            "503 on the next order".into(),
            json!({"rejectNext": {"count": 1, "status": 503, "code": -1007, "msg": unknown,
                "path": "/fapi/v1/order", "method": "POST", "apiKey": me_key}}),
        ),
        3 => {
            let n = rng.random_range(1..=3u32);
            (
                format!("reject {n} stops"),
                json!({"rejectNext": {"count": n, "status": 400, "code": -1008,
                    "msg": "Server is currently overloaded with other requests. Please try again in a few minutes.",
                    "path": "/fapi/v1/algoOrder", "method": "POST", "apiKey": me_key}}),
            )
        }
        4 => (
            "503 on the next stop".into(),
            json!({"rejectNext": {"count": 1, "status": 503, "code": -1007, "msg": unknown,
                "path": "/fapi/v1/algoOrder", "method": "POST", "apiKey": me_key}}),
        ),
        5 => {
            let ms = [200u64, 1_500, 4_000][rng.random_range(0..3usize)];
            (format!("acks {ms} ms late"), json!({"ackDelayMs": ms}))
        }
        6 => ("drop user streams".into(), json!({"dropUserStreams": true})),
        7 => (
            "stall user streams".into(),
            json!({"stallUserStreams": true}),
        ),
        8 => (
            "stall market streams".into(),
            json!({"stallMarketStreams": true}),
        ),
        _ => {
            let ms = rng.random_range(50..400u64);
            (format!("latency {ms} ms"), json!({"latencyMs": ms}))
        }
    }
}

/// What the sampler saw of the follower while the session ran.
#[derive(Default)]
struct Watch {
    /// Symbol → when its current gap (a position without a resting stop) began.
    open_gaps: BTreeMap<String, Instant>,
    /// Symbol and length of each gap that ended.
    gaps: Vec<(String, Duration)>,
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
                    self.open_gaps.insert(s.to_owned(), now);
                }
                (false, Some(t0)) => {
                    self.open_gaps.remove(s);
                    self.gaps.push((s.to_owned(), now - t0));
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

async fn fault(p: &Pair, body: Value) {
    p.sim
        .admin(reqwest::Method::POST, "/admin/v1/faults", Some(body))
        .await
        .ok("fault set");
}

async fn leader_step(p: &Pair, step: &Step) {
    match step {
        Step::Trade(symbol, side, qty) => {
            p.lead
                .market(symbol, side, qty)
                .await
                .ok("the leader trades");
        }
        Step::AddMargin(symbol, amount) => {
            p.lead
                .post(
                    "/fapi/v1/positionMargin",
                    &[("symbol", symbol), ("amount", amount), ("type", "1")],
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

/// Runs the session under the faults drawn from `seed` and checks the outcome.
async fn run_seed(seed: u64) {
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
    let mut engine = p.start().await;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut watch = Watch::default();
    let mut drawn = Vec::new();

    for step in &SCRIPT {
        let (name, body) = draw_fault(&mut rng, &p.me.key);
        drawn.push(name);
        fault(&p, body).await;
        let before = rng.random_range(0..800u64);
        watch.dwell(&p, Duration::from_millis(before)).await;
        leader_step(&p, step).await;
        let after = rng.random_range(300..2_500u64);
        watch.dwell(&p, Duration::from_millis(after)).await;
        // Stalls are lifted by their own switch; the rest stays until the clear below.
        if rng.random_bool(0.5) {
            fault(
                &p,
                json!({"clear": true, "stallUserStreams": false, "stallMarketStreams": false}),
            )
            .await;
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
    for (symbol, gap) in &watch.gaps {
        if *gap > LONG_GAP {
            assert!(
                output
                    .lines()
                    .any(|l| l.contains(&notified) && l.contains(symbol.as_str())),
                "{context}: {symbol} went {gap:?} without a stop and no `unprotected` named it:\n{output}"
            );
        }
    }

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

    // The copy's PnL is the follower account's.
    let want = account_pnl(&p).await;
    let mut last = String::new();
    let t0 = Instant::now();
    loop {
        let f = figures(&p).unwrap_or(Value::Null);
        let got = num(&f["realizedPnl"]) - num(&f["fees"])
            + num(&f["funding"])
            + num(&f["unrealizedPnl"]);
        if got == want {
            break;
        }
        last = format!("copy PnL {got} from {f}");
        assert!(
            t0.elapsed() < DEADLINE,
            "{context}: the copy's PnL should equal the account's realized − fees + funding {want}: {last}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let _ = last;
    engine.interrupt();
    eprintln!(
        "seed {seed}: passed in {:?} under {drawn:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_1() {
    run_seed(1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_2() {
    run_seed(2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_3() {
    run_seed(3).await;
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
        run_seed(seed).await;
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
    run_seed(101).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_104_fill_event_lost_with_a_dropped_stream() {
    run_seed(104).await;
}
