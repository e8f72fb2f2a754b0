//! Exactly once under crashes: while a leader trades in bursts, the engine (`copydesk run`
//! as a child) is killed at seeded random points — by SIGKILL, or by itself at a failpoint
//! after the journal write, after the send or after the fill — and restarted, 50+ times,
//! with the simulator delaying acknowledgements. Afterwards the simulator must show one
//! order per client id, the follower's traded volume must equal the journal's filled
//! volume, and the follower's position must sit exactly on its target.

use copydesk::runtime::NotifyKind;
use std::collections::HashMap;
use std::time::Duration;

use copydesk::domain::filters::floor_to_step;
use copydesk::store::{db_path, Store};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde_json::json;

use super::support::{
    account_env, account_toml, amount, dec as d, eventually, head, sim, write_config, Engine,
};

const KILLS: usize = 52;
const SEED: u64 = 7;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_engine_anywhere_never_doubles_an_order() {
    let sim = sim().await;
    let base = sim.base();
    let lead = sim.usdt("1000000").await;
    let me = sim.usdt("100000").await;
    sim.price("BTCUSDT", "50000").await;
    let text = format!(
        "[engine]\nrecv_window_ms = 500\nreconcile_secs = 30\n\n{}{}\
         [[copies]]\nname = \"crash\"\nleader = \"lead\"\nfollower = \"me\"\n\
         mode = \"fixed-ratio\"\nratio = \"0.1\"\n[copies.risk]\nmax_leverage = 5\n",
        account_toml("lead", &base),
        account_toml("me", &base)
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write_config(dir.path(), &text);
    let data = dir.path().join("data");
    let mut env = account_env("lead", &lead);
    env.extend(account_env("me", &me));
    sim.admin(
        reqwest::Method::POST,
        "/admin/v1/faults",
        Some(json!({"ackDelayMs": 80})),
    )
    .await
    .ok("ack delay fault");

    // The first open is copied by a steady engine: an open lost while the engine is down
    // is skipped for good by design, which would leave nothing to test.
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
    engine.kill();

    let mut rng = ChaCha8Rng::seed_from_u64(SEED);
    let mut leader_qty = dec!(0.5);
    let mut self_aborts = 0;
    for round in 0..KILLS {
        let failpoint = match rng.random_range(0..4) {
            0 => None,
            1 => Some(format!("after_journal:{}", rng.random_range(1..=3))),
            2 => Some(format!("after_send:{}", rng.random_range(1..=3))),
            _ => Some(format!("after_fill:{}", rng.random_range(1..=3))),
        };
        let extra: Vec<(&str, &str)> = failpoint
            .as_deref()
            .map(|f| vec![("COPYDESK_FAILPOINT", f)])
            .unwrap_or_default();
        let mut engine = Engine::start(&data, &config, &env, &extra);
        if !engine
            .wait_line_or_exit(
                &head(NotifyKind::Watching, None, None),
                &format!("restart {round}"),
            )
            .await
        {
            // The failpoint fired while recovering: a crash during recovery, also covered.
            self_aborts += 1;
            continue;
        }
        // A burst of increases and partial closes; the leader never goes flat.
        for _ in 0..3 {
            let step = Decimal::from(rng.random_range(1..=8)) * dec!(0.01);
            let sell = rng.random_bool(0.5) && leader_qty - step >= dec!(0.1);
            let side = if sell { "SELL" } else { "BUY" };
            lead.market("BTCUSDT", side, &step.to_string())
                .await
                .ok("leader trades");
            leader_qty += if sell { -step } else { step };
            if rng.random_bool(0.5) {
                tokio::time::sleep(Duration::from_millis(rng.random_range(0..40))).await;
            }
        }
        tokio::time::sleep(Duration::from_millis(rng.random_range(0..150))).await;
        if let Ok(Some(_)) = engine.child.try_wait() {
            self_aborts += 1;
        }
        engine.kill();
    }

    // A last, undisturbed run repairs what the crashes left and settles.
    let mut engine = Engine::start(&data, &config, &env, &[]);
    engine
        .wait_kind(NotifyKind::Watching, None, None, "final start")
        .await;
    let target = floor_to_step(leader_qty * dec!(0.1), dec!(0.001));
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
        "every client id should reach the venue at most once; doubled: {doubled:?}"
    );
    let store = Store::open_read_only(&db_path(&data)).expect("database readable");
    let journal = store.journal().for_copy(1).expect("journal rows");
    let planned: Decimal = journal
        .iter()
        .filter(|e| e.order_type.as_str() == "market")
        .map(|e| e.filled_qty)
        .sum();
    let unfinished = store.journal().unfinished().expect("unfinished rows");
    assert!(
        unfinished.iter().all(|e| e.order_type.as_str() != "market"),
        "no market order should be left unfinished: {unfinished:?}"
    );
    assert_eq!(
        traded, planned,
        "the follower's traded volume should equal the journal's filled volume"
    );
    assert!(
        orders.len() > KILLS,
        "the bursts should have produced many follower orders, got {}",
        orders.len()
    );
    eprintln!(
        "crash test: {KILLS} kills ({self_aborts} at failpoints), {} follower orders, traded {traded}",
        orders.len()
    );
}
