//! Reconciliation's request weight (issue 11): a pass reads the follower's account,
//! configuration and positions and the open orders and algo orders of the symbols in play
//! only (1 weight per symbol and read), not the two unfiltered 40-weight order reads; and
//! its reads wait for the weight budget beside the signal loop, so a signal arriving while
//! they wait is copied at once. Counts and order of events only, no timings.

use std::collections::HashMap;
use std::time::Duration;

use copydesk::exchange::WeightUsage;
use copydesk::runtime::{EngineOptions, RunOptions, RuntimeHandle};
use copydesk::sim::{LimitConfig, SimConfig};
use reqwest::Method;
use rust_decimal_macros::dec;

use super::in_process;
use super::support::{amount, eventually, Client, Sim};

/// One copy `rw` of `lead` onto `me` running in process with the given reconciliation
/// interval.
async fn start(
    sim: &Sim,
    lead: &Client,
    me: &Client,
    every: Duration,
) -> (RuntimeHandle, tempfile::TempDir) {
    let config = in_process::one_copy(
        &sim.base(),
        "rw",
        "mode = \"fixed-ratio\"\nratio = \"0.1\"\n[risk]\nmax_leverage = 5\n",
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let opts = RunOptions {
        engine: EngineOptions {
            reconcile_every: every,
            ..EngineOptions::default()
        },
        ..RunOptions::default()
    };
    let keys = in_process::keys(&[("lead", lead), ("me", me)]);
    let handle = in_process::start(&config, dir.path(), "reconcile weight test", opts, &keys).await;
    in_process::watching(&handle, 1).await;
    (handle, dir)
}

fn weight_of(handle: &RuntimeHandle, account: &str) -> WeightUsage {
    handle
        .weights()
        .into_iter()
        .find(|(a, _)| a == account)
        .map(|(_, w)| w)
        .expect("the follower's weight")
}

/// Per path, the count and weight of the GET requests `who` made.
async fn reads_of(sim: &Sim, who: &Client, reset: bool) -> HashMap<String, (u64, u64)> {
    let method = if reset { Method::DELETE } else { Method::GET };
    let rows = sim
        .admin(method, "/admin/v1/requests", None)
        .await
        .ok("request counts");
    let mut out = HashMap::new();
    for r in rows["requests"].as_array().cloned().unwrap_or_default() {
        if r["method"] != "GET" || r["accountId"] != *who.account_id {
            continue;
        }
        out.insert(
            r["path"].as_str().unwrap_or_default().to_owned(),
            (
                r["count"].as_u64().unwrap_or(0),
                r["weight"].as_u64().unwrap_or(0),
            ),
        );
    }
    out
}

/// A follower holding one symbol, reconciled every 3 s: each pass reads the account,
/// its configuration and positions and the two order reads of that symbol — about 22
/// weight, not 100 — and never the unfiltered order reads (its stream stays up and the
/// full read at connect is minutes younger than the rule's bound).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pass_reads_the_orders_of_the_symbols_in_play_only() {
    let sim = super::support::sim().await;
    let lead = sim.usdt("100000").await;
    let me = sim.usdt("100000").await;
    sim.price("BTCUSDT", "50000").await;
    sim.price("ETHUSDT", "2500").await;
    let (handle, _dir) = start(&sim, &lead, &me, Duration::from_secs(3)).await;
    lead.market("BTCUSDT", "BUY", "0.5")
        .await
        .ok("the leader opens BTC");
    eventually("the follower copies the open", || async {
        let got = amount(&sim, &me.account_id, "BTCUSDT").await;
        (got == dec!(0.05))
            .then_some(())
            .ok_or(format!("holds {got}"))
    })
    .await;
    reads_of(&sim, &me, true).await;
    // Three passes' reads of the follower account.
    eventually("three reconciliation passes read the follower", || async {
        let n = reads_of(&sim, &me, false)
            .await
            .get("/fapi/v3/account")
            .map_or(0, |c| c.0);
        (n >= 3).then_some(()).ok_or(format!("{n} account reads"))
    })
    .await;
    let reads = reads_of(&sim, &me, false).await;
    let passes = reads["/fapi/v3/account"].0;
    let weight: u64 = reads.values().map(|c| c.1).sum();
    let table = format!("{reads:?}");
    for path in ["/fapi/v1/openOrders", "/fapi/v1/openAlgoOrders"] {
        let (count, weight) = reads.get(path).copied().unwrap_or_default();
        assert!(count >= 1, "{path} read for the symbol in play: {table}");
        assert_eq!(
            weight, count,
            "{path}: per-symbol reads of weight 1 only, no unfiltered read (40): {table}"
        );
    }
    // A pass may be under way when the count is taken: its reads count, not its pass.
    assert!(
        weight <= 25 * (passes + 1),
        "at most ~25 weight per pass with one symbol in play ({weight} for {passes} passes): {table}"
    );
    handle.shutdown().await;
}

/// The address's budget is spent (another program on it read heavily) while the
/// follower's reconciliation is due: the pass's reads wait for the next minute, and a
/// leader close arriving meanwhile is copied before that wait ends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signal_is_copied_while_reconciliation_waits_for_weight() {
    let sim = crate::sim::support::start_with(SimConfig {
        limits: LimitConfig {
            // No refusals: the engine's own pacing (80 % of the published 1,000) is tested.
            enabled: false,
            weight_per_minute: 1_000,
            ..LimitConfig::default()
        },
        ..SimConfig::default()
    })
    .await;
    let lead = sim.usdt("100000").await;
    let me = sim.usdt("100000").await;
    sim.price("BTCUSDT", "50000").await;
    let (handle, _dir) = start(&sim, &lead, &me, Duration::from_secs(2)).await;
    lead.market("BTCUSDT", "BUY", "0.5")
        .await
        .ok("the leader opens BTC");
    eventually("the follower copies the open", || async {
        let got = amount(&sim, &me.account_id, "BTCUSDT").await;
        (got == dec!(0.05))
            .then_some(())
            .ok_or(format!("holds {got}"))
    })
    .await;
    // Spend the minute's budget early in a minute, so the wait lasts well beyond what
    // the signal needs (the budget windows are calendar minutes).
    let second = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_secs()
            % 60
    };
    if second() > 20 {
        tokio::time::sleep(Duration::from_secs(61 - second())).await;
    }
    let http = reqwest::Client::new();
    for _ in 0..22 {
        // Unfiltered 24-hour tickers: 40 weight each, counted to this address.
        http.get(format!("{}/fapi/v1/ticker/24hr", sim.base()))
            .send()
            .await
            .expect("ticker read");
    }
    eventually("a reconciliation read waits for the budget", || async {
        let w = weight_of(&handle, "me");
        (w.waiting_now > 0).then_some(()).ok_or(format!("{w:?}"))
    })
    .await;
    let before = weight_of(&handle, "me");
    let mut notes = handle.subscribe();
    lead.market("BTCUSDT", "SELL", "0.5")
        .await
        .ok("the leader closes");
    eventually("the follower copies the close", || async {
        let got = amount(&sim, &me.account_id, "BTCUSDT").await;
        (got == dec!(0)).then_some(()).ok_or(format!("holds {got}"))
    })
    .await;
    let after = weight_of(&handle, "me");
    assert!(
        after.waiting_now > 0 && after.waits == before.waits,
        "the close was copied while the reconciliation's read still waited: \
         before {before:?}, after {after:?}"
    );
    // A pass asked for now reads inline at the copies' priority: it waits for the next
    // minute, and a wait over a second is a notification.
    assert!(
        handle
            .command(
                "rw",
                copydesk::runtime::Command::Reconcile("a test's request")
            )
            .await
    );
    let told = tokio::time::timeout(Duration::from_secs(90), async {
        loop {
            match notes.recv().await {
                Ok(n) if n.kind == copydesk::runtime::NotifyKind::WeightWait => break n,
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(e) => panic!("notifications ended: {e}"),
            }
        }
    })
    .await
    .expect("a weight wait over a second is announced");
    assert!(
        told.message
            .contains("request-weight budget made requests wait"),
        "{told:?}"
    );
    handle.shutdown().await;
}
