//! `copydesk leaders` and `copydesk replay` as a user runs them, against a simulator with
//! demo leaders over HTTP.

use copydesk::sim::portfolio::portfolio_id;
use copydesk::sim::SimConfig;
use serde_json::Value;

use crate::sim::support::start_with;

async fn copydesk(args: &[&str]) -> (bool, String, String) {
    let data = tempfile::tempdir().expect("tempdir");
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_copydesk"))
        .args(args)
        .env("COPYDESK_DATA_DIR", data.path())
        .output()
        .await
        .expect("copydesk runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn leaders_lists_the_demo_portfolios_with_their_figures() {
    let sim = start_with(SimConfig {
        demo_leaders: 2,
        seed: 4,
        ..SimConfig::default()
    })
    .await;
    let base = sim.base();
    let (ok, out, err) = copydesk(&["leaders", "--endpoint", &base, "--json"]).await;
    assert!(ok, "leaders exits 0: {err}");
    let v: Value = serde_json::from_str(&out).expect("JSON list");
    let list = v.as_array().expect("array");
    assert_eq!(list.len(), 2, "both demo leaders: {v}");
    let ids: Vec<String> = sim
        .handle
        .demo_leaders()
        .iter()
        .map(|l| portfolio_id(&l.account_id))
        .collect();
    for l in list {
        assert!(
            ids.iter().any(|id| l["id"] == *id),
            "a demo leader's id: {l}"
        );
        let days: Vec<u64> = l["figures"]
            .as_array()
            .expect("figures")
            .iter()
            .filter_map(|f| f["days"].as_u64())
            .collect();
        assert_eq!(days, vec![7, 30, 90], "three windows: {l}");
        assert!(
            l["figures"][1]["roiPct"].is_string(),
            "ROI as a decimal string: {l}"
        );
        assert!(
            l["expectedDelay"]
                .as_str()
                .is_some_and(|d| d.contains("polled")),
            "the polling delay is shown: {l}"
        );
    }
    let (ok, text, err) = copydesk(&["leaders", "--endpoint", &base]).await;
    assert!(ok, "text mode exits 0: {err}");
    assert!(
        text.contains("ROI 7d") && text.contains("Demo"),
        "a readable list: {text}"
    );
}

#[tokio::test]
async fn replay_prints_the_what_if_summary() {
    let sim = start_with(SimConfig {
        demo_leaders: 1,
        seed: 4,
        ..SimConfig::default()
    })
    .await;
    let base = sim.base();
    let id = portfolio_id(&sim.handle.demo_leaders()[0].account_id);
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("copy.toml");
    let account = |name: &str| {
        format!(
            "[[accounts]]\nname = \"{name}\"\nexchange = \"binance-usdm\"\nendpoint = \"{base}\"\n\
             api_key = {{ env = \"UNUSED_KEY\" }}\napi_secret = {{ env = \"UNUSED_SECRET\" }}\n\n"
        )
    };
    std::fs::write(
        &config,
        format!(
            "{}{}[[copies]]\nname = \"try\"\nleader = \"lead\"\nfollower = \"me\"\n\
             mode = \"smart-sync\"\ninvestment = \"1000\"\n[copies.risk]\nmax_leverage = 5\n",
            account("lead"),
            account("me")
        ),
    )
    .expect("config written");
    let cfg = config.display().to_string();
    let args = [
        "replay",
        "--leader",
        &id,
        "--config",
        &cfg,
        "--days",
        "2",
        "--endpoint",
        &base,
    ];
    let mut json_args = args.to_vec();
    json_args.push("--json");
    let (ok, out, err) = copydesk(&json_args).await;
    assert!(ok, "replay exits 0: {err}");
    let v: Value = serde_json::from_str(&out).expect("JSON report");
    assert!(
        v["leaderOrders"].as_u64().is_some_and(|n| n > 10),
        "a scalper's two days of orders: {}",
        v["leaderOrders"]
    );
    assert!(
        v["fills"].as_array().is_some_and(|f| !f.is_empty()),
        "the copy trades"
    );
    assert_eq!(
        v["equityCurve"].as_array().map(Vec::len),
        Some(49),
        "hourly over two days, both ends included"
    );
    assert!(
        v["approximations"].as_array().is_some_and(|a| a.len() >= 5),
        "the approximations are stated"
    );
    let (ok, text, err) = copydesk(&args).await;
    assert!(ok, "text mode exits 0: {err}");
    assert!(
        text.contains("what-if") && text.contains("PnL") && text.contains("approximations"),
        "a readable summary: {text}"
    );
    let (ok, _, err) = copydesk(&[
        "replay",
        "--leader",
        &id,
        "--config",
        &cfg,
        "--days",
        "91",
        "--endpoint",
        &base,
    ])
    .await;
    assert!(
        !ok && err.contains("days must be between 1 and 90"),
        "a bad --days is named: {err}"
    );
}

#[tokio::test]
async fn an_account_leaders_history_gives_the_same_trade_figures_as_its_pages() {
    use copydesk::analytics::figures::report;
    use copydesk::analytics::history::PricePath;
    use copydesk::exchange::binance_usdm::{BinanceUsdm, Environment, Options};
    use copydesk::exchange::Credentials;
    use copydesk::runtime::leaders::account_history;
    use copydesk::secrets::Secret;

    let sim = start_with(SimConfig {
        demo_leaders: 1,
        seed: 6,
        ..SimConfig::default()
    })
    .await;
    let l = &sim.handle.demo_leaders()[0];
    let env = Environment::parse(&sim.base()).expect("loopback endpoint");
    let ex = BinanceUsdm::new(
        &env,
        Some(Credentials::new(
            l.api_key.clone(),
            Secret::new(l.secret_key.clone()),
        )),
        Options::default(),
    )
    .expect("adapter");
    let now = sim.handle.now();
    let h = account_history(&ex, &["BTCUSDT".to_owned()], 91, now)
        .await
        .expect("history read through the port");
    let r = report(&h, &PricePath::default());
    let f30 = r.figures.iter().find(|f| f.days == 30).expect("30 days");
    let perf: Value = sim
        .http
        .get(format!(
            "{}/bapi/futures/v1/public/future/copy-trade/lead-portfolio/performance",
            sim.base()
        ))
        .query(&[
            ("portfolioId", portfolio_id(&l.account_id)),
            ("timeRange", "30D".to_owned()),
        ])
        .send()
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    assert!(
        f30.trades > 50,
        "a scalper's month of trades: {}",
        f30.trades
    );
    assert_eq!(
        perf["data"]["totalOrder"].as_u64(),
        Some(f30.trades as u64),
        "same closed trades as the pages"
    );
    assert_eq!(
        perf["data"]["avgHoldingTime"].as_i64(),
        f30.avg_hold_ms,
        "same average hold"
    );
    let win = copydesk::exchange::lead_portfolio::decimal(&perf["data"]["winRate"]);
    assert_eq!(
        win,
        f30.win_rate_pct.map(|w| w.round_dp(8).normalize()),
        "same win rate"
    );
}
