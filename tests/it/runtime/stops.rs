//! Protective stops that are not in place (issue 12, item 1): a stop is in place only when
//! the venue confirmed it or a lookup by its client id finds it; a stop the venue lost, or
//! that someone cancelled behind the engine's back, is placed again (with backoff between
//! tries, and at every reconciliation), and every gap is shown as `unprotected` and
//! notified. Assertions read the simulator's own algo orders.

use copydesk::engine::NoticeKind;
use copydesk::runtime::NotifyKind;
use copydesk::store::{db_path, Store};
use rust_decimal_macros::dec;
use serde_json::{json, Value};

use super::support::{amount, eventually, follower_requests, Pair, Sim};

const COPY: &str = "[[copies]]\nname = \"guarded\"\nleader = \"lead\"\nfollower = \"me\"\n\
    mode = \"fixed-ratio\"\nratio = \"0.1\"\n";

/// The follower's resting algo orders, as the simulator holds them.
async fn algo_orders(sim: &Sim, account: &str) -> Vec<Value> {
    sim.admin_account(account).await["openAlgoOrders"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// The venue answers the next `count` algo-order requests of `method` (`POST` places,
/// `DELETE` cancels) with HTTP `status`, error `code` and `msg`.
async fn refuse_algo_orders(
    p: &Pair,
    method: &str,
    count: u32,
    (status, code, msg): (u16, i64, &str),
) {
    p.sim
        .admin(
            reqwest::Method::POST,
            "/admin/v1/faults",
            Some(
                json!({"rejectNext": {"count": count, "status": status, "code": code,
                "msg": msg, "path": "/fapi/v1/algoOrder", "method": method}}),
            ),
        )
        .await
        .ok("algo orders are refused");
}

/// Waits until the follower holds `qty` BTC with exactly one resting stop; returns its id.
async fn one_stop(p: &Pair, qty: rust_decimal::Decimal, what: &str) -> String {
    eventually(what, || async {
        let got = amount(&p.sim, &p.me.account_id, "BTCUSDT").await;
        let algos = algo_orders(&p.sim, &p.me.account_id).await;
        (got == qty && algos.len() == 1)
            .then_some(())
            .ok_or(format!("holds {got} with {} algo orders", algos.len()))
    })
    .await;
    algo_orders(&p.sim, &p.me.account_id).await[0]["clientAlgoId"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_cancelled_behind_the_engines_back_is_placed_again_at_the_next_reconciliation() {
    let p = Pair::new("100000", "[engine]\nreconcile_secs = 2\n\n", COPY).await;
    let mut engine = p.start().await;
    p.lead
        .market("BTCUSDT", "BUY", "0.5")
        .await
        .ok("leader opens");
    let first = one_stop(&p, dec!(0.050), "the copy opens with its stop").await;
    // Someone (the user on the venue's site, a venue clean-up) cancels the stop.
    p.me.delete(
        "/fapi/v1/algoOrder",
        &[("symbol", "BTCUSDT"), ("clientAlgoId", &first)],
    )
    .await
    .ok("the stop is cancelled outside the engine");
    assert!(
        algo_orders(&p.sim, &p.me.account_id).await.is_empty(),
        "the venue holds no stop for the position now"
    );
    engine
        .wait_kind(
            NotifyKind::Unprotected,
            None,
            Some("guarded"),
            "the missing stop is announced",
        )
        .await;
    one_stop(
        &p,
        dec!(0.050),
        "the next reconciliation places the stop again",
    )
    .await;
    engine
        .wait_kind(
            NotifyKind::Protected,
            None,
            Some("guarded"),
            "the end of the gap is announced",
        )
        .await;
    engine.interrupt();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_whose_placement_is_unconfirmed_and_not_found_is_placed_again_with_backoff() {
    // Reconciliation an hour apart: only the retry with backoff can place the stop.
    let p = Pair::new("100000", "[engine]\nreconcile_secs = 3600\n\n", COPY).await;
    let mut engine = p.start().await;
    // The fault: the stop's placement answers 503 "send status unknown" and never lands.
    let unknown = "Timeout waiting for response from backend server. Send status unknown; \
        execution status unknown.";
    refuse_algo_orders(&p, "POST", 1, (503, -1007, unknown)).await;
    p.lead
        .market("BTCUSDT", "BUY", "0.5")
        .await
        .ok("leader opens");
    engine
        .wait_kind(
            NotifyKind::Unprotected,
            None,
            Some("guarded"),
            "a stop whose placement was not confirmed is not counted as placed",
        )
        .await;
    assert!(
        engine.output().contains("(unprotected)"),
        "the copy is held unprotected, with the reason:\n{}",
        engine.output()
    );
    one_stop(&p, dec!(0.050), "the retry places the stop").await;
    engine
        .wait_kind(
            NotifyKind::Protected,
            None,
            Some("guarded"),
            "the end of the gap is announced",
        )
        .await;
    engine.interrupt();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_skip_while_held_unprotected_says_why_not_that_the_copy_is_paused() {
    // Reconciliation an hour apart, and the venue refuses every stop for a while: the copy
    // stays held `unprotected` while the leader adds.
    let p = Pair::new("100000", "[engine]\nreconcile_secs = 3600\n\n", COPY).await;
    let mut engine = p.start().await;
    refuse_algo_orders(&p, "POST", 100, (400, -4045, "Reach max stop order limit.")).await;
    p.lead
        .market("BTCUSDT", "BUY", "0.5")
        .await
        .ok("leader opens");
    engine
        .wait_kind(
            NotifyKind::Held,
            None,
            Some("guarded"),
            "the refused stop holds the copy",
        )
        .await;
    p.lead
        .market("BTCUSDT", "BUY", "0.5")
        .await
        .ok("leader adds while the copy is held");
    engine
        .wait_kind(
            NotifyKind::Skip,
            Some(NoticeKind::CopyPaused),
            Some("guarded"),
            "the increase is skipped",
        )
        .await;
    engine.interrupt();
    let out = engine.output();
    let head = super::support::head(
        NotifyKind::Skip,
        Some(NoticeKind::CopyPaused),
        Some("guarded"),
    );
    let skip = out.lines().find(|l| l.contains(&head)).unwrap_or_default();
    assert!(
        skip.contains("holding opens because a position has no exchange-side stop"),
        "the skip names the hold and its cause: {skip}\n{out}"
    );
    assert!(
        !skip.contains("the copy is paused"),
        "a hold is not the user's pause: {skip}"
    );
    assert_eq!(
        amount(&p.sim, &p.me.account_id, "BTCUSDT").await,
        dec!(0.050),
        "the increase was not copied"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_whose_cancel_the_venue_refused_is_cancelled_at_the_next_reconciliation() {
    let p = Pair::new("100000", "[engine]\nreconcile_secs = 2\n\n", COPY).await;
    let mut engine = p.start().await;
    p.lead
        .market("BTCUSDT", "BUY", "0.5")
        .await
        .ok("leader opens");
    one_stop(&p, dec!(0.050), "the copy opens with its stop").await;
    // The venue refuses the stop's cancel when the position ends (a 400 the client does
    // not retry), a few times over.
    refuse_algo_orders(
        &p,
        "DELETE",
        3,
        (
            400,
            -1000,
            "An unknown error occured while processing the request.",
        ),
    )
    .await;
    p.lead
        .market("BTCUSDT", "SELL", "0.5")
        .await
        .ok("leader closes");
    eventually("the follower is flat", || async {
        let got = amount(&p.sim, &p.me.account_id, "BTCUSDT").await;
        got.is_zero().then_some(()).ok_or(format!("holds {got}"))
    })
    .await;
    engine
        .wait_kind(
            NotifyKind::Error,
            None,
            Some("guarded"),
            "the refused cancel is said",
        )
        .await;
    assert!(
        engine.output().contains("the venue refused it"),
        "the stop's cancel was refused:\n{}",
        engine.output()
    );
    // Left resting, the stop would close part of the next position at its old price; the
    // next reconciliation finds it named by no position of the copy and cancels it.
    eventually("the stray stop is cancelled", || async {
        let algos = algo_orders(&p.sim, &p.me.account_id).await;
        algos
            .is_empty()
            .then_some(())
            .ok_or(format!("{} algo orders rest: {algos:?}", algos.len()))
    })
    .await;
    engine.interrupt();
}

/// The journal state of the order `client_id`, read from the engine's database.
fn journal_state(p: &Pair, client_id: &str) -> String {
    let store = Store::open_read_only(&db_path(&p.data())).expect("database readable");
    let row = store.journal().get(client_id).expect("journal readable");
    row.map(|r| r.state.as_str().to_owned()).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_stop_leaves_the_unfinished_rows_and_a_stop_reusing_its_id_is_recorded_again() {
    let p = Pair::new("100000", "[engine]\nreconcile_secs = 3600\n\n", COPY).await;
    let mut engine = p.start().await;
    let flat = || async {
        eventually("the stop is cancelled with the position", || async {
            let got = amount(&p.sim, &p.me.account_id, "BTCUSDT").await;
            let algos = algo_orders(&p.sim, &p.me.account_id).await;
            (got.is_zero() && algos.is_empty())
                .then_some(())
                .ok_or(format!("holds {got} with {} algo orders", algos.len()))
        })
        .await;
    };
    p.lead
        .market("BTCUSDT", "BUY", "0.5")
        .await
        .ok("leader opens");
    let first = one_stop(&p, dec!(0.050), "the copy opens with its stop").await;
    p.lead
        .market("BTCUSDT", "SELL", "0.5")
        .await
        .ok("leader closes");
    flat().await;
    eventually("the stop's row ends canceled", || async {
        let state = journal_state(&p, &first);
        (state == "canceled").then_some(()).ok_or(state)
    })
    .await;
    // The same size at the same price: the new stop's id is the cancelled one's.
    p.lead
        .market("BTCUSDT", "BUY", "0.5")
        .await
        .ok("leader opens again");
    let again = one_stop(&p, dec!(0.050), "the copy opens again with its stop").await;
    assert_eq!(again, first, "the stop id is derived from the stop");
    eventually("the reused id's row is acked again", || async {
        let state = journal_state(&p, &again);
        (state == "acked").then_some(()).ok_or(state)
    })
    .await;
    engine.interrupt();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_whose_cancel_is_already_queued_is_not_placed() {
    let p = Pair::new("100000", "[engine]\nreconcile_secs = 3600\n\n", COPY).await;
    let mut engine = p.start().await;
    let holds = |qty: rust_decimal::Decimal| {
        let p = &p;
        async move {
            eventually("the copy follows the leader", || async {
                let got = amount(&p.sim, &p.me.account_id, "BTCUSDT").await;
                (got == qty).then_some(()).ok_or(format!("holds {got}"))
            })
            .await;
        }
    };
    let slow = |ms: u64| {
        p.sim.admin(
            reqwest::Method::POST,
            "/admin/v1/faults",
            Some(json!({"slowPath": {"path": "/fapi/v1/algoOrder", "ms": ms}})),
        )
    };
    p.sim
        .admin(reqwest::Method::DELETE, "/admin/v1/requests", None)
        .await
        .ok("request counts reset");
    // The venue answers algo orders slower than the leader trades: while the first
    // stop's placement is on its way, the position closes, opens and closes again.
    slow(1500).await.ok("algo orders slowed");
    for (side, qty) in [
        ("BUY", dec!(0.050)),
        ("SELL", dec!(0)),
        ("BUY", dec!(0.050)),
        ("SELL", dec!(0)),
    ] {
        p.lead
            .market("BTCUSDT", side, "0.5")
            .await
            .ok("leader trades");
        holds(qty).await;
    }
    slow(0).await.ok("algo orders at speed again");
    // The last open keeps its stop.
    p.lead
        .market("BTCUSDT", "BUY", "0.5")
        .await
        .ok("leader opens again");
    one_stop(&p, dec!(0.050), "the last open has its stop").await;
    // Three opens and two closes: at most the first placement and its cancel went out
    // before the backlog, then the last open's placement; the second open's stop, whose
    // cancel was queued behind it, was never sent, nor was that cancel.
    let (placed, cancelled) = (
        follower_requests(&p, "POST", "/fapi/v1/algoOrder").await,
        follower_requests(&p, "DELETE", "/fapi/v1/algoOrder").await,
    );
    assert!(
        placed <= 2 && cancelled <= 1,
        "placements {placed} (at most 2), cancels {cancelled} (at most 1)"
    );
    engine.interrupt();
}
