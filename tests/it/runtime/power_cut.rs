//! A power cut under group commit (issue 11): the engine (`copydesk run` as a child) aborts
//! at a failpoint after the send or after the fill, and first cuts the database's WAL back
//! to what the last group sync made durable (`COPYDESK_POWER_CUT=1`): everything written
//! after the send that the writer had not synced yet is gone, as after a power loss. The
//! journal commit before the send was durable, so a restart's recovery finds the order by
//! its client id: the follower ends on its target, no client id reaches the venue twice,
//! and the journal's filled volume equals what the follower traded.

use std::collections::HashMap;
use std::time::Duration;

use copydesk::runtime::NotifyKind;
use copydesk::store::{db_path, Store};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use super::support::{
    account_env, account_toml, amount, dec as d, eventually, head, sim, write_config, Engine,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_power_cut_loses_only_what_recovery_restores() {
    let sim = sim().await;
    let base = sim.base();
    let lead = sim.usdt("1000000").await;
    let me = sim.usdt("100000").await;
    sim.price("BTCUSDT", "50000").await;
    let text = format!(
        "[engine]\nrecv_window_ms = 500\nreconcile_secs = 30\n\n{}{}\
         [[copies]]\nname = \"cut\"\nleader = \"lead\"\nfollower = \"me\"\n\
         mode = \"fixed-ratio\"\nratio = \"0.1\"\n[copies.risk]\nmax_leverage = 5\n",
        account_toml("lead", &base),
        account_toml("me", &base)
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write_config(dir.path(), &text);
    let data = dir.path().join("data");
    let mut env = account_env("lead", &lead);
    env.extend(account_env("me", &me));

    // A first open copied by a steady engine.
    let mut engine = Engine::start(&data, &config, &env, &[]);
    engine
        .wait_kind(NotifyKind::Watching, None, None, "first start")
        .await;
    lead.market("BTCUSDT", "BUY", "0.5")
        .await
        .ok("leader opens");
    eventually("the open is copied (0.050)", || async {
        let got = amount(&sim, &me.account_id, "BTCUSDT").await;
        (got == dec!(0.050))
            .then_some(())
            .ok_or(format!("follower holds {got}"))
    })
    .await;
    engine.interrupt();

    let mut leader_qty = dec!(0.5);
    let mut left = Vec::new();
    for point in ["after_send:1", "after_fill:1"] {
        let mut engine = Engine::start(
            &data,
            &config,
            &env,
            &[("COPYDESK_FAILPOINT", point), ("COPYDESK_POWER_CUT", "1")],
        );
        assert!(
            engine
                .wait_line_or_exit(
                    &head(NotifyKind::Watching, None, None),
                    &format!("start before the cut at {point}")
                )
                .await,
            "the engine starts:\n{}",
            engine.output()
        );
        lead.market("BTCUSDT", "BUY", "0.1").await.ok("leader adds");
        leader_qty += dec!(0.1);
        // The failpoint aborts the engine once the order is out (or filled).
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while !matches!(engine.child.try_wait(), Ok(Some(_))) {
            assert!(
                std::time::Instant::now() < deadline,
                "the engine should cut the power at {point} within 60 s:\n{}",
                engine.output()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // What the cut left of the newest order: at most `sent` when the outcome mark was
        // not synced yet.
        let store =
            Store::open_read_only(&db_path(&data)).expect("database readable after the cut");
        let rows = store.journal().for_copy(1).expect("journal rows");
        let newest = rows
            .iter()
            .filter(|e| e.order_type.as_str() == "market")
            .max_by_key(|e| e.id)
            .map(|e| format!("{} {:?}", e.client_order_id, e.state));
        left.push(format!("{point}: newest order {newest:?}"));
    }

    // An undisturbed restart recovers what the cuts took.
    let mut engine = Engine::start(&data, &config, &env, &[]);
    engine
        .wait_kind(NotifyKind::Watching, None, None, "final start")
        .await;
    let target = leader_qty * dec!(0.1);
    eventually(
        &format!("the follower ends on its target {target}"),
        || async {
            let got = amount(&sim, &me.account_id, "BTCUSDT").await;
            (got == target)
                .then_some(())
                .ok_or(format!("follower holds {got}"))
        },
    )
    .await;
    // Past the receive window: a wrong resend would have reached the venue by now.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    engine.interrupt();

    let orders = me
        .get(
            "/fapi/v1/allOrders",
            &[("symbol", "BTCUSDT"), ("limit", "1000")],
        )
        .await
        .ok("follower orders");
    let orders = orders.as_array().expect("order list");
    let mut per_id: HashMap<String, usize> = HashMap::new();
    let mut traded = Decimal::ZERO;
    for o in orders {
        let id = o["clientOrderId"].as_str().unwrap_or_default().to_owned();
        *per_id.entry(id).or_default() += 1;
        traded += d(&o["executedQty"]);
    }
    let doubled: Vec<_> = per_id.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        doubled.is_empty(),
        "every client id reaches the venue at most once; doubled: {doubled:?} ({left:?})"
    );
    assert_eq!(
        amount(&sim, &me.account_id, "BTCUSDT").await,
        target,
        "the follower stays on its target ({left:?})"
    );
    let store = Store::open_read_only(&db_path(&data)).expect("database readable");
    let journal = store.journal().for_copy(1).expect("journal rows");
    let filled: Decimal = journal
        .iter()
        .filter(|e| e.order_type.as_str() == "market")
        .map(|e| e.filled_qty)
        .sum();
    assert_eq!(
        traded, filled,
        "the journal's filled volume equals the follower's traded volume ({left:?})"
    );
    let unfinished = store.journal().unfinished().expect("unfinished rows");
    assert!(
        unfinished.iter().all(|e| e.order_type.as_str() != "market"),
        "no market order is left unfinished: {unfinished:?}"
    );
    eprintln!("power cut test: {left:?}; {} follower orders", orders.len());
}
