//! A copy whose leader is a public lead portfolio, end to end: `copydesk run` with a
//! `[[leaders]]` portfolio in `copy.toml` polls the simulator's copy-trading pages over
//! HTTP and mirrors the leader's open, increase and close on the follower; a position open
//! before the start is the baseline and is never copied; a restart resumes the copy without
//! copying again what was open when it restarted; a 429 and a geo-blocked 403 from the
//! portfolio endpoint are announced (typed notices, a hold) and never read as flat.

use copydesk::engine::NoticeKind;
use copydesk::runtime::NotifyKind;
use copydesk::sim::portfolio::portfolio_id;
use reqwest::Method;
use rust_decimal::Decimal;
use serde_json::json;

use super::support::{
    account_env, account_toml, amount, dec, eventually, sim, write_config, Engine,
};

async fn wait_amount(sim: &crate::sim::support::Sim, account: &str, symbol: &str, want: &str) {
    let want = dec(&json!(want));
    eventually(&format!("the follower holds {want} {symbol}"), || async {
        let got = amount(sim, account, symbol).await;
        if got == want {
            Ok(())
        } else {
            Err(format!("holds {got}"))
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copy_follows_a_public_portfolio_through_restart_429_and_403() {
    let sim = sim().await;
    let base = sim.base();
    let lead = sim.lead_portfolio("50000").await;
    let me = sim.usdt("50000").await;
    sim.price("BTCUSDT", "50000").await;
    sim.price("ETHUSDT", "3000").await;
    sim.price("XRPUSDT", "0.5").await;
    lead.market("BTCUSDT", "BUY", "0.1")
        .await
        .ok("a position open before the copy starts");

    let pid = portfolio_id(&lead.account_id);
    let text = format!(
        "[engine]\nreconcile_secs = 3600\nportfolio_requests_per_minute = 600\n\n{}\
         [[leaders]]\nname = \"whale\"\nportfolio = \"{pid}\"\nendpoint = \"{base}\"\n\n\
         [[copies]]\nname = \"pf\"\nleader = \"whale\"\nfollower = \"me\"\n\
         mode = \"fixed-ratio\"\nratio = \"1\"\n[copies.risk]\nmax_leverage = 20\n",
        account_toml("me", &base)
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write_config(dir.path(), &text);
    let data = dir.path().join("data");
    let env = account_env("me", &me);
    let pf = Some("pf");

    let mut engine = Engine::start(&data, &config, &env, &[]);
    engine
        .wait_kind(NotifyKind::Watching, None, pf, "start")
        .await;
    engine
        .wait_kind(
            NotifyKind::Notice,
            Some(NoticeKind::LeaderBaseline),
            pf,
            "the baseline is announced",
        )
        .await;

    // Open, increase, close: each mirrored from the positions list.
    lead.market("ETHUSDT", "BUY", "0.5").await.ok("open");
    wait_amount(&sim, &me.account_id, "ETHUSDT", "0.5").await;
    lead.market("ETHUSDT", "BUY", "0.25").await.ok("increase");
    wait_amount(&sim, &me.account_id, "ETHUSDT", "0.75").await;
    lead.market("ETHUSDT", "SELL", "0.75").await.ok("close");
    wait_amount(&sim, &me.account_id, "ETHUSDT", "0").await;
    assert_eq!(
        amount(&sim, &me.account_id, "BTCUSDT").await,
        Decimal::ZERO,
        "the BTCUSDT position open before the start is the baseline: never copied"
    );

    // A geo-blocked 403: announced, the copy held, the leader's close not read as flat.
    lead.market("ETHUSDT", "BUY", "1").await.ok("open again");
    wait_amount(&sim, &me.account_id, "ETHUSDT", "1").await;
    sim.admin(
        Method::POST,
        "/admin/v1/portfolio",
        Some(json!({"geoBlocked": true})),
    )
    .await
    .ok("geo block");
    engine
        .wait_kind(
            NotifyKind::Notice,
            Some(NoticeKind::LeaderGeoBlocked),
            pf,
            "the 403 is shown",
        )
        .await;
    engine
        .wait_kind(NotifyKind::Held, None, pf, "the copy is held")
        .await;
    assert_eq!(
        amount(&sim, &me.account_id, "ETHUSDT").await,
        dec(&json!("1")),
        "a 403 is not a close"
    );
    sim.admin(
        Method::POST,
        "/admin/v1/portfolio",
        Some(json!({"geoBlocked": false})),
    )
    .await
    .ok("unblock");
    engine
        .wait_kind(
            NotifyKind::Released,
            None,
            pf,
            "the hold lifts on a good read",
        )
        .await;

    // A 429: announced, polling backs off, and what changed meanwhile is copied after.
    sim.admin(
        Method::POST,
        "/admin/v1/portfolio",
        Some(json!({"perMinute": 1, "retryAfterS": 1})),
    )
    .await
    .ok("a budget of one request a minute");
    engine
        .wait_kind(
            NotifyKind::Notice,
            Some(NoticeKind::LeaderRateLimited),
            pf,
            "the 429 is shown",
        )
        .await;
    lead.market("ETHUSDT", "BUY", "0.5")
        .await
        .ok("an increase while refused");
    assert_eq!(
        amount(&sim, &me.account_id, "ETHUSDT").await,
        dec(&json!("1")),
        "a 429 is not a close, and the increase is not seen yet"
    );
    sim.admin(
        Method::POST,
        "/admin/v1/portfolio",
        Some(json!({"perMinute": 0, "retryAfterS": 0})),
    )
    .await
    .ok("lift the budget");
    wait_amount(&sim, &me.account_id, "ETHUSDT", "1.5").await;

    // A restart: a position the leader opened while the engine was down is in the new
    // baseline and is never copied; a copied position's increase made meanwhile is repaired
    // by the start-up reconciliation (copy-rules §5, as for an account leader); nothing is
    // copied twice.
    engine.interrupt();
    lead.market("XRPUSDT", "BUY", "100")
        .await
        .ok("an open while the engine is down");
    lead.market("ETHUSDT", "BUY", "0.5")
        .await
        .ok("an increase while the engine is down");
    let mut engine = Engine::start(&data, &config, &env, &[]);
    engine
        .wait_kind(NotifyKind::Watching, None, pf, "restart")
        .await;
    engine
        .wait_kind(
            NotifyKind::Notice,
            Some(NoticeKind::LeaderBaseline),
            pf,
            "the restart's baseline",
        )
        .await;
    lead.market("SOLUSDT", "BUY", "1")
        .await
        .ok("a new open after the restart");
    wait_amount(&sim, &me.account_id, "SOLUSDT", "1").await;
    assert_eq!(
        amount(&sim, &me.account_id, "ETHUSDT").await,
        dec(&json!("2")),
        "the copied ETHUSDT is at the leader's 2 (repaired once at start-up), not copied again"
    );
    assert_eq!(
        amount(&sim, &me.account_id, "XRPUSDT").await,
        Decimal::ZERO,
        "the XRPUSDT opened while the engine was down is in the restart's baseline: not copied"
    );
    assert_eq!(
        amount(&sim, &me.account_id, "BTCUSDT").await,
        Decimal::ZERO,
        "still no BTCUSDT"
    );
    lead.market("ETHUSDT", "SELL", "2")
        .await
        .ok("the leader closes");
    wait_amount(&sim, &me.account_id, "ETHUSDT", "0").await;
    engine.interrupt();
}
