//! A dropped leader signal is never silent (issue 12 item 4): the leader closes while the
//! follower's stream is down and every read of the follower account fails, so the close
//! cannot be planned. The user is told that the signal was not copied and that a
//! reconciliation follows; once the follower can be read again, that reconciliation
//! closes the position. Assertions read the simulator's positions.

use copydesk::runtime::NotifyKind;
use reqwest::Method;
use rust_decimal_macros::dec;
use serde_json::json;

use super::support::{amount, eventually, Pair};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_close_signal_that_cannot_be_planned_is_said_and_repaired_by_reconciliation() {
    let p = Pair::new(
        "100000",
        "[engine]\nreconcile_secs = 2\n\n",
        "[[copies]]\nname = \"drop\"\nleader = \"lead\"\nfollower = \"me\"\n\
         mode = \"fixed-ratio\"\nratio = \"0.1\"\n[copies.risk]\noffline_protection = false\n",
    )
    .await;
    let mut engine = p.start().await;
    let fault = |body| p.sim.admin(Method::POST, "/admin/v1/faults", Some(body));
    p.lead
        .market("BTCUSDT", "BUY", "0.5")
        .await
        .ok("leader opens");
    let (sim, me) = (&p.sim, &p.me);
    eventually("the open is copied", || async {
        let got = amount(sim, &me.account_id, "BTCUSDT").await;
        (got == dec!(0.05))
            .then_some(())
            .ok_or(format!("follower holds {got}"))
    })
    .await;
    // Every request signed with the follower's key is refused (its stream cannot
    // reconnect, its account cannot be read), and its stream is dropped.
    fault(json!({"rejectNext": {"count": 1_000_000, "status": 503, "code": -1008,
        "msg": "Server is currently overloaded with other requests. Please try again in a few minutes.",
        "apiKey": me.key}}))
    .await
    .ok("the follower's requests fail");
    fault(json!({"dropUserStreams": true}))
        .await
        .ok("streams dropped");
    engine
        .wait_kind(
            NotifyKind::Disconnected,
            None,
            Some("drop"),
            "the follower's stream is down",
        )
        .await;
    // The drop took the leader's stream too: the leader's close must come as a stream
    // event, so it waits until that stream is back (the follower's stays down).
    engine
        .wait_line("leader stream reconnected", "the leader's stream is back")
        .await;
    p.lead
        .market("BTCUSDT", "SELL", "0.5")
        .await
        .ok("leader closes");
    engine
        .wait_kind(
            NotifyKind::Error,
            None,
            Some("drop"),
            "the dropped close is said",
        )
        .await;
    let out = engine.output();
    assert!(
        out.lines().any(|l| l.contains("signal not copied")
            && l.contains("could not be read")
            && l.contains("a reconciliation follows")),
        "the notice says the signal was not copied, why, and what follows:\n{out}"
    );
    assert_eq!(
        amount(sim, &me.account_id, "BTCUSDT").await,
        dec!(0.05),
        "nothing could be closed while the follower cannot be read"
    );
    fault(json!({"clear": true})).await.ok("faults lifted");
    eventually("reconciliation closes the follower", || async {
        let got = amount(sim, &me.account_id, "BTCUSDT").await;
        got.is_zero()
            .then_some(())
            .ok_or(format!("follower holds {got}"))
    })
    .await;
    engine.interrupt();
}
