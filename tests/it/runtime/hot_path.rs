//! The hot path spends no REST reads and the weight budget holds (issue 11): a leader
//! trading back and forth every 250 ms for a minute, with a leverage change among its
//! signals, copied by three copies on one address (two of them on one follower account),
//! with reconciliation at its default interval. The simulator counts every REST request
//! per path and account: the follower accounts see order and set-up writes and stop
//! placements on the signal path, reads only from reconciliation, and one snapshot per
//! follower account per pass however many copies it has; the weight of the whole minute
//! stays under the engine's budget, so its limiter never waits. Counts only, no timings.

use std::collections::BTreeMap;
use std::time::Duration;

use copydesk::sim::SimConfig;
use reqwest::Method;
use rust_decimal_macros::dec;

use super::support::{account_env, account_toml, amount, eventually, write_config, Engine};

/// Signals the leader sends, one every 250 ms: a minute.
const SIGNALS: usize = 240;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_minute_of_signals_costs_writes_only_and_never_waits_for_weight() {
    // The venue's real limits (2,400 a minute per address): the engine paces to 80 % of it.
    let sim = crate::sim::support::start_with(SimConfig::default()).await;
    let base = sim.base();
    sim.price("BTCUSDT", "50000").await;
    sim.price("ETHUSDT", "2500").await;
    let names = ["lead", "lead-eth", "me", "you"];
    let mut clients = BTreeMap::new();
    let mut text = String::new();
    let mut env = Vec::new();
    for n in names {
        let c = sim.usdt("1000000").await;
        text.push_str(&account_toml(n, &base));
        env.extend(account_env(n, &c));
        clients.insert(n, c);
    }
    for (name, leader, follower) in [
        ("btc-to-me", "lead", "me"),
        ("eth-to-me", "lead-eth", "me"),
        ("btc-to-you", "lead", "you"),
    ] {
        text.push_str(&format!(
            "[[copies]]\nname = \"{name}\"\nleader = \"{leader}\"\nfollower = \"{follower}\"\n\
             mode = \"fixed-ratio\"\nratio = \"0.1\"\n\n"
        ));
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write_config(dir.path(), &text);
    let mut engine = Engine::start(&dir.path().join("data"), &config, &env, &[]);
    for copy in ["btc-to-me", "eth-to-me", "btc-to-you"] {
        engine
            .wait_line(&format!("copy `{copy}` is watching"), "start")
            .await;
    }
    // The venue sends mark prices every second; the first signal comes after one.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    // Start-up reads are done: count from here.
    sim.admin(Method::DELETE, "/admin/v1/requests", None)
        .await
        .ok("reset the request count");
    let counted_from = std::time::Instant::now();

    let (lead, lead_eth) = (&clients["lead"], &clients["lead-eth"]);
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    for i in 0..SIGNALS {
        tick.tick().await;
        if i == SIGNALS / 2 {
            lead.post(
                "/fapi/v1/leverage",
                &[("symbol", "BTCUSDT"), ("leverage", "10")],
            )
            .await
            .ok("the leader changes its BTC leverage");
        }
        let side = if i.is_multiple_of(2) { "BUY" } else { "SELL" };
        lead.market("BTCUSDT", side, "0.5")
            .await
            .ok("the leader trades BTC");
        if i.is_multiple_of(40) {
            let side = if i.is_multiple_of(80) { "BUY" } else { "SELL" };
            lead_eth
                .market("ETHUSDT", side, "1")
                .await
                .ok("the other leader trades ETH");
        }
    }
    for who in ["me", "you"] {
        let acct = clients[who].account_id.clone();
        eventually(&format!("{who} ends flat on BTC like the leader"), || {
            let (sim, acct) = (&sim, acct.clone());
            async move {
                let got = amount(sim, &acct, "BTCUSDT").await;
                (got == dec!(0)).then_some(()).ok_or(format!("holds {got}"))
            }
        })
        .await;
    }
    let rows = sim
        .admin(Method::GET, "/admin/v1/requests", None)
        .await
        .ok("request counts");
    // Reconciliation passes (every 30 s by default) that fit in the counted stretch: the
    // minute of signals runs longer than 60 s on a loaded machine, and a stretch over 60 s
    // can hold three passes (at its start, 30 s in, 60 s in).
    let passes = counted_from.elapsed().as_secs() / 30 + 1;
    let rows = rows["requests"].as_array().cloned().unwrap_or_default();
    let count = |method: &str, path: &str, who: &str| -> u64 {
        let id = &clients[who].account_id;
        rows.iter()
            .filter(|r| r["method"] == method && r["path"] == path && r["accountId"] == **id)
            .map(|r| r["count"].as_u64().unwrap_or(0))
            .sum()
    };
    let table: Vec<String> = rows
        .iter()
        .map(|r| {
            format!(
                "{} {} {} ×{} (weight {})",
                r["method"], r["path"], r["accountId"], r["count"], r["weight"]
            )
        })
        .collect();
    let table = table.join("\n");

    for who in ["me", "you"] {
        let orders = count("POST", "/fapi/v1/order", who);
        assert!(
            orders >= SIGNALS as u64,
            "{who}: every BTC signal is copied with one order ({orders} orders):\n{table}"
        );
        assert!(
            count("POST", "/fapi/v1/leverage", who) >= 1,
            "{who}: the leverage change is copied:\n{table}"
        );
        assert_eq!(
            count("GET", "/fapi/v1/order", who),
            0,
            "{who}: no order lookups on the signal path:\n{table}"
        );
    }
    let me_id = &clients["me"].account_id;
    let you_id = &clients["you"].account_id;
    let follower_ids = [me_id.as_str(), you_id.as_str()];
    // Reads of the follower accounts: only the snapshot reconciliation takes (and the
    // funding records it collects), each at most once per pass of the default 30 s
    // interval (`passes` above).
    let snapshot_paths = [
        "/fapi/v3/account",
        "/fapi/v1/accountConfig",
        "/fapi/v1/symbolConfig",
        "/fapi/v3/positionRisk",
        "/fapi/v1/openOrders",
        "/fapi/v1/openAlgoOrders",
    ];
    for r in &rows {
        let acct = r["accountId"].as_str().unwrap_or_default();
        let path = r["path"].as_str().unwrap_or_default();
        if r["method"] != "GET" || !follower_ids.contains(&acct) {
            continue;
        }
        assert!(
            snapshot_paths.contains(&path) || path == "/fapi/v1/income",
            "a follower read outside reconciliation: {r}\n{table}"
        );
    }
    let weight_of = |path: &str, who: &str| -> u64 {
        let id = &clients[who].account_id;
        rows.iter()
            .filter(|r| r["method"] == "GET" && r["path"] == path && r["accountId"] == **id)
            .map(|r| r["weight"].as_u64().unwrap_or(0))
            .sum()
    };
    for path in snapshot_paths {
        for (who, symbols) in [("me", 2), ("you", 1)] {
            let n = count("GET", path, who);
            // The order reads are per symbol in play (BTC and ETH on `me`, BTC on `you`),
            // weight 1 each: the unfiltered ones (40) only at connect and every 10 min.
            let per_pass = if path.contains("rders") {
                assert_eq!(
                    weight_of(path, who),
                    n,
                    "{who}: {path} read per symbol only (weight 1), never unfiltered:\n{table}"
                );
                symbols
            } else {
                1
            };
            assert!(
                n <= passes * per_pass,
                "{who}: {path} read {n} times; at most once per symbol and pass \
                 ({passes} passes fit in the counted stretch):\n{table}"
            );
        }
    }
    let (me_reads, you_reads) = (
        count("GET", "/fapi/v3/account", "me"),
        count("GET", "/fapi/v3/account", "you"),
    );
    assert!(
        me_reads >= 1,
        "a reconciliation ran within the minute and read the follower:\n{table}"
    );
    // Unshared, `me`'s two copies would each read it every pass (twice `you`'s count). The
    // passes of the two accounts fall at different phases of the measured minute, so `me`
    // may see one pass more than `you`, never a second snapshot per pass.
    assert!(
        me_reads <= you_reads + 1,
        "`me` has two copies but is read once per pass like `you` with one \
         (one snapshot per follower account): me {me_reads}, you {you_reads}\n{table}"
    );
    // The slippage guard's best bid/ask comes from the book-ticker stream; a symbol's first
    // signals on an account may read it before the stream has it (the simulator's book does
    // not move, so its stream sends nothing; a read is kept once the book socket is up) —
    // at most twice per account and symbol (me: BTC, ETH; you: BTC), never once per signal
    // (it was 243 reads, one per signal, before reads were kept).
    let book_reads: u64 = rows
        .iter()
        .filter(|r| r["path"] == "/fapi/v1/ticker/bookTicker")
        .map(|r| r["count"].as_u64().unwrap_or(0))
        .sum();
    assert!(
        book_reads <= 6,
        "book-ticker reads ({book_reads}): at most two per account and symbol:\n{table}"
    );
    assert!(
        rows.iter().all(|r| r["path"] != "/fapi/v1/premiumIndex"),
        "no mark-price reads: prices come from the market streams:\n{table}"
    );
    let weight: u64 = rows.iter().map(|r| r["weight"].as_u64().unwrap_or(0)).sum();
    assert!(
        weight < 1_920,
        "the minute's weight on this address ({weight}) stays under the engine's budget \
         (80 % of 2,400), so its limiter never waits:\n{table}"
    );
    engine.interrupt();
    let out = engine.output();
    assert!(
        !out.contains("weight_wait"),
        "no request waited for the weight budget:\n{out}"
    );
}
