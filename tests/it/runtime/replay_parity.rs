//! The what-if replay against live copying of the same trades: a lead-portfolio leader
//! trades on the simulator while `copydesk run` copies it (moving prices, one increase below
//! the minimum, a total stop loss hit), then the replay reads the leader's order history,
//! klines and rules over HTTP and must end with the same follower position, the same skip,
//! the same stop and the same PnL within fee rounding.

use copydesk::analytics::replay::ReplayReport;
use copydesk::domain::{CopyMode, CopySettings, RiskSettings, StopAction, TotalStopLoss};
use copydesk::engine::NoticeKind;
use copydesk::exchange::lead_portfolio::PortfolioClient;
use copydesk::runtime::leaders::{replay_portfolio, ReplayRequest};
use copydesk::sim::portfolio::portfolio_id;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use super::support::{
    account_env, account_toml, amount, dec as d, eventually, sim, write_config, Engine,
};

const STEP_MS: i64 = 120_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replay_and_live_copy_end_the_same() {
    let sim = sim().await;
    let base = sim.base();
    let lead = sim.lead_portfolio("10000").await;
    let me = sim.usdt("10000").await;
    sim.price("BTCUSDT", "50000").await;
    lead.post(
        "/fapi/v1/leverage",
        &[("symbol", "BTCUSDT"), ("leverage", "5")],
    )
    .await
    .ok("leader leverage");
    let text = format!(
        "[engine]\nreconcile_secs = 1\n\n{}{}[[copies]]\nname = \"live\"\nleader = \"lead\"\n\
         follower = \"me\"\nmode = \"smart-sync\"\ninvestment = \"1000\"\n[copies.risk]\n\
         max_leverage = 5\ntotal_stop_loss = \"20\"\nstop_action = \"close-all\"\n\
         offline_protection = false\nmax_signal_age_secs = 600\n",
        account_toml("lead", &base),
        account_toml("me", &base)
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write_config(dir.path(), &text);
    let mut env = account_env("lead", &lead);
    env.extend(account_env("me", &me));
    let mut engine = Engine::start(&dir.path().join("data"), &config, &env, &[]);
    engine.wait_line("is watching", "start").await;
    let start_ms = sim.handle.now();

    // 1. Leader opens 0.1 BTC at 5x on 10,000 equity: the copy takes 0.010.
    lead.market("BTCUSDT", "BUY", "0.1")
        .await
        .ok("leader opens");
    eventually("the follower holds 0.010", || async {
        let got = amount(&sim, &me.account_id, "BTCUSDT").await;
        (got == dec!(0.010))
            .then_some(())
            .ok_or(format!("holds {got}"))
    })
    .await;
    sim.advance(STEP_MS).await;
    // 2. An increase of 0.002 calls for 0.0002: below the minimum, skipped.
    lead.market("BTCUSDT", "BUY", "0.002")
        .await
        .ok("leader adds a little");
    engine.wait_line("skip:below-minimum ", "the skip").await;
    sim.advance(STEP_MS).await;
    // 3. BTC falls 2,500: the copy loses 25, past its stop of 20, and closes.
    sim.price("BTCUSDT", "47500").await;
    engine.wait_line("copy stopped", "the stop").await;
    eventually("the copy's position is closed", || async {
        let got = amount(&sim, &me.account_id, "BTCUSDT").await;
        got.is_zero().then_some(()).ok_or(format!("holds {got}"))
    })
    .await;
    sim.advance(STEP_MS).await;
    // 4. The leader closes after the stop: nothing to copy.
    lead.market("BTCUSDT", "SELL", "0.102")
        .await
        .ok("leader closes");
    sim.advance(STEP_MS).await;
    engine.interrupt();
    let live_pnl = d(&me.usdt_balance().await["balance"]) - dec!(10000);
    let live_skips = engine
        .output()
        .lines()
        .filter(|l| l.contains("skip:below-minimum "))
        .count();

    let client = PortfolioClient::new(&base).expect("client");
    let r: ReplayReport = replay_portfolio(
        &client,
        &ReplayRequest {
            portfolio_id: portfolio_id(&lead.account_id),
            settings: CopySettings {
                mode: CopyMode::SmartSync,
                investment: Some(dec!(1000)),
                amount_per_order: None,
                ratio: None,
                copy_ongoing_positions: false,
                preset: Default::default(),
                start: Default::default(),
                risk: RiskSettings {
                    max_leverage: 5,
                    total_stop_loss: Some(TotalStopLoss::Amount(dec!(20))),
                    stop_action: StopAction::CloseAll,
                    offline_protection: false,
                    max_signal_age_secs: 600,
                    ..RiskSettings::default()
                },
            },
            follower_wallet: Some(dec!(10000)),
            days: 1,
            now_ms: sim.handle.now(),
            followed: 0,
            kline_interval: "1m".into(),
            // The simulator's BTC half-spread: 0.5 on 50,000.
            slippage_bps: dec!(0.1),
        },
    )
    .await
    .expect("the replay reads the source");
    assert_eq!(r.leader_orders, 3, "three leader orders in the period");
    assert!(
        r.positions.is_empty(),
        "flat at the end, as live: {:?}",
        r.positions
    );
    assert_eq!(
        amount(&sim, &me.account_id, "BTCUSDT").await,
        Decimal::ZERO,
        "live is flat"
    );
    let below = r
        .skipped
        .iter()
        .filter(|s| s.kind == NoticeKind::BelowMinimum)
        .count();
    assert_eq!(
        (below, live_skips),
        (1, 1),
        "one below-minimum skip each: {:?}",
        r.skipped
    );
    let stop = r.stop.as_ref().expect("the replay hits the stop loss");
    assert_eq!(stop.kind, NoticeKind::StopLoss, "a stop loss");
    assert!(stop.time_ms > start_ms + 2 * STEP_MS, "after the fall");
    assert_eq!(
        r.fills.len(),
        2,
        "the open and the stop's close: {:?}",
        r.fills
    );
    assert!(
        (r.pnl - live_pnl).abs() <= dec!(0.05),
        "replay PnL {} and live PnL {live_pnl} agree within fee and spread rounding",
        r.pnl
    );
}
