//! A paper copy of a leader on another venue ("mock copy") through the facade: one
//! simulator stands for the real venue (a trading leader, prices moved by hand), the app's
//! embedded simulator follows its prices (`api::paper_feed`), and the paper follower fills
//! at the venue's prices with the delay and skip figures a live copy shows. The leader's
//! key lives in the real OS keychain (skipped with a notice when none answers, except in
//! CI).

use std::time::{Duration, Instant};

use copydesk::api::{
    self, App, AppOptions, CopyModeDto, CopySettingsDto, ErrorCode, EventKind, NewAccountRequest,
    NewCopyRequest, PaperOptions,
};
use copydesk::paths::APP_IDENTIFIER;
use copydesk::secrets::Keychain;
use rust_decimal::Decimal;
use serde_json::Value;

use crate::sim::support::{dec, Client, Sim};

fn real_keychain(test: &str) -> Option<Keychain> {
    let kc = Keychain::with_service(format!(
        "{APP_IDENTIFIER}.it.paper_copy.{test}.{}",
        std::process::id()
    ));
    match kc.check() {
        Ok(()) => Some(kc),
        Err(e) => {
            assert!(
                std::env::var("CI").map_or(true, |v| v != "true"),
                "CI=true but the OS keychain is not reachable ({e})"
            );
            eprintln!("NOTICE: paper copy test skipped, no OS keychain reachable: {e}");
            None
        }
    }
}

pub(crate) fn ratio(r: &str) -> CopySettingsDto {
    let mut s = api::settings::to_dto(&copydesk::domain::CopySettings {
        mode: copydesk::domain::CopyMode::FixedRatio,
        investment: None,
        amount_per_order: None,
        ratio: Some(r.parse().expect("ratio")),
        copy_ongoing_positions: false,
        preset: copydesk::domain::Preset::None,
        start: Default::default(),
        risk: Default::default(),
    });
    s.mode = CopyModeDto::FixedRatio;
    s
}

async fn open(dir: &std::path::Path, kc: &Keychain) -> App {
    let mut o = AppOptions::new(dir);
    o.keychain = kc.clone();
    o.paper = PaperOptions {
        start: true,
        admin_token: Some("paper-copy-admin".into()),
        demo_speed: 1,
    };
    App::open(o).await.expect("the app opens in paper mode")
}

async fn add(app: &App, name: &str, endpoint: &str, c: &Client) {
    app.add_account(NewAccountRequest {
        name: name.into(),
        exchange: "binance-usdm".into(),
        environment: api::Environment::Custom,
        endpoint: Some(endpoint.into()),
        api_key: c.key.clone(),
        api_secret: c.secret.clone(),
        passphrase: None,
    })
    .await
    .expect("the leader account is added");
}

/// Best bid and ask of `symbol` on the simulator at `base`, from its public REST API.
pub(crate) async fn book(base: &str, symbol: &str) -> (Decimal, Decimal) {
    let v: Value = reqwest::get(format!("{base}/fapi/v1/ticker/bookTicker?symbol={symbol}"))
        .await
        .expect("bookTicker answers")
        .json()
        .await
        .expect("bookTicker as JSON");
    (dec(&v["bidPrice"]), dec(&v["askPrice"]))
}

/// Polls until `check` holds (60 s at most).
pub(crate) async fn until<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(60);
    while !check().await {
        assert!(Instant::now() < deadline, "{what} within 60 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Moves the venue's price and waits until the paper simulator quotes the venue's book.
pub(crate) async fn move_venue(venue: &Sim, paper: &str, price: &str) -> (Decimal, Decimal) {
    venue.price("BTCUSDT", price).await;
    let there = book(&venue.base(), "BTCUSDT").await;
    until(
        "the paper simulator quotes the venue's new book",
        || async { book(paper, "BTCUSDT").await == there },
    )
    .await;
    there
}

pub(crate) async fn copy_status(app: &App, copy: &str) -> api::CopyStatusDto {
    app.status()
        .await
        .expect("status reads")
        .copies
        .into_iter()
        .find(|c| c.copy.name == copy)
        .expect("the copy is listed")
}

pub(crate) async fn follower_qty(app: &App, copy: &str) -> Option<Decimal> {
    copy_status(app, copy)
        .await
        .positions
        .iter()
        .find(|p| p.symbol == "BTCUSDT")
        .map(|p| p.follower_qty.parse().expect("decimal"))
}

/// A decision skipping a signal below the symbol's minimum.
pub(crate) fn below_minimum(d: &api::DecisionDto) -> bool {
    // A skip the planner reports as a notice is listed as a `skip` with its typed reason.
    d.kind == "skip" && d.notice == Some(copydesk::engine::NoticeKind::BelowMinimum)
}

/// The copy's first fill on `side`, once status lists it.
pub(crate) async fn fill(app: &App, copy: &str, side: &str) -> api::FillDto {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let status = copy_status(app, copy).await;
        if let Some(f) = status
            .fills
            .iter()
            .find(|f| f.side.eq_ignore_ascii_case(side))
        {
            return f.clone();
        }
        assert!(
            Instant::now() < deadline,
            "the paper {side} is listed within 60 s: {status:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A paper copy of `leader`, whose venue (`http://127.0.0.1:9`) cannot be reached, is
/// refused on the `leader` field, naming the venue and why its prices are needed; nothing
/// starts.
pub(crate) async fn refused_unreachable(app: &App, leader: &str) {
    let e = app
        .create_copy(NewCopyRequest {
            name: "far-copy".into(),
            leader: leader.into(),
            follower: "paper".into(),
            settings: ratio("0.5"),
        })
        .await
        .expect_err("a paper copy of a leader whose venue cannot be read is refused");
    assert_eq!(
        (e.code, e.field.as_deref()),
        (ErrorCode::Exchange, Some("leader")),
        "{e:?}"
    );
    assert!(
        e.message.contains("`http://127.0.0.1:9`") && e.message.contains("prices"),
        "the message names the venue and why its prices are needed: {e:?}"
    );
    assert!(
        app.running().is_empty(),
        "the refused copy did not start: {:?}",
        app.running()
    );
}

/// Starts the paper copy `mock` of `leader` (who trades as `lead` on `venue`), then runs
/// one round of the leader's trades there while the venue's price moves: an open, an
/// increase too small for the follower, a close. Every paper fill must be within the
/// venue's spread at the time, and the small increase skipped as below the minimum.
/// Returns the copy's status after the round.
pub(crate) async fn mock_round(
    app: &App,
    leader: &str,
    venue: &Sim,
    paper: &str,
    lead: &Client,
) -> api::CopyStatusDto {
    let mut rx = app.events();
    app.create_copy(NewCopyRequest {
        name: "mock".into(),
        leader: leader.into(),
        follower: "paper".into(),
        settings: ratio("0.5"),
    })
    .await
    .expect("a paper copy of the venue's leader starts");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "the copy watches within 60 s");
        if let Ok(Ok(ev)) = tokio::time::timeout(left, rx.recv()).await {
            if ev.kind == EventKind::Watching && ev.copy.as_deref() == Some("mock") {
                break;
            }
        }
    }
    assert_eq!(
        book(paper, "BTCUSDT").await,
        book(&venue.base(), "BTCUSDT").await,
        "at the start the paper simulator stands at the venue's price"
    );

    // 1. The price moves on the venue; the leader opens there.
    let (bid, ask) = move_venue(venue, paper, "61500").await;
    lead.market("BTCUSDT", "BUY", "0.04")
        .await
        .ok("the leader opens");
    until("the paper follower holds 0.02 BTCUSDT", || async {
        follower_qty(app, "mock").await == Some(Decimal::new(2, 2))
    })
    .await;
    let buy = fill(app, "mock", "buy").await;
    let px: Decimal = buy.price.parse().expect("decimal");
    assert!(
        bid <= px && px <= ask,
        "the paper buy filled at {px}, within the venue's spread {bid}…{ask}"
    );

    // 2. The price moves again; an increase too small for the follower (0.001 BTC, about
    //    62 USDT against a minimum notional of 100) is skipped.
    move_venue(venue, paper, "61800").await;
    lead.market("BTCUSDT", "BUY", "0.002")
        .await
        .ok("the leader adds a little");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let s = copy_status(app, "mock").await;
        if s.decisions.iter().any(below_minimum) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the below-minimum skip is recorded within 60 s: {:#?}",
            s.decisions
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // 3. The price moves down; the leader closes, and so does the follower at the bid.
    let (bid, ask) = move_venue(venue, paper, "61100").await;
    lead.market("BTCUSDT", "SELL", "0.042")
        .await
        .ok("the leader closes");
    until("the paper follower is flat", || async {
        follower_qty(app, "mock").await.is_none_or(|q| q.is_zero())
    })
    .await;
    let sell = fill(app, "mock", "sell").await;
    let px: Decimal = sell.price.parse().expect("decimal");
    assert!(
        bid <= px && px <= ask,
        "the paper sell filled at {px}, within the venue's spread {bid}…{ask}"
    );
    copy_status(app, "mock").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paper_copy_of_a_leader_on_another_venue_fills_at_that_venues_prices() {
    let Some(kc) = real_keychain("venue") else {
        return;
    };
    // The "real venue": a leader trading there, prices far from the paper simulator's.
    let venue = crate::runtime::support::sim().await;
    let lead = venue.usdt("100000").await;
    venue.price("BTCUSDT", "61234.5").await;
    let dir = tempfile::tempdir().expect("tempdir");
    let app = open(dir.path(), &kc).await;
    let (paper, _) = app.paper_admin().await.expect("paper mode runs");
    add(&app, "lead", &venue.base(), &lead).await;
    // A leader whose venue cannot be reached is refused on the leader field, naming why.
    add(&app, "far", "http://127.0.0.1:9", &lead).await;
    refused_unreachable(&app, "far").await;

    let done = mock_round(&app, "lead", &venue, &paper, &lead).await;

    // The delay and skip figures a live copy shows.
    assert!(
        done.fills.iter().all(|f| f.delay_ms.is_some()),
        "each paper fill is linked to the leader's, with its delay: {done:#?}"
    );
    let latency = done
        .latency
        .clone()
        .unwrap_or_else(|| panic!("latency figures are shown: {done:#?}"));
    assert!(
        latency.orders >= 2 && latency.fill_delay_p50_ms.is_some(),
        "two copied orders with their fill delay: {latency:#?}"
    );
    assert_eq!(
        done.decisions.iter().filter(|d| below_minimum(d)).count(),
        1,
        "one below-minimum skip: {:#?}",
        done.decisions
    );
    assert!(
        done.copy.paper,
        "the copy is labelled paper: {:#?}",
        done.copy
    );
    app.shutdown().await;

    // Reopened, the stored paper copy resumes and the prices follow the venue again.
    let app = open(dir.path(), &kc).await;
    assert_eq!(app.running(), ["mock"], "the stored paper copy resumed");
    let (paper, _) = app.paper_admin().await.expect("paper mode runs");
    move_venue(&venue, &paper, "62000").await;

    // The venue goes away: the user is told the paper prices stand still.
    let mut rx = app.events();
    let base = venue.base();
    venue.handle.shutdown().await;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(
            !left.is_zero(),
            "the dropped venue stream is told within 60 s"
        );
        if let Ok(Ok(ev)) = tokio::time::timeout(left, rx.recv()).await {
            if ev.kind == EventKind::Disconnected && ev.copy.is_none() {
                assert!(
                    ev.message.contains("paper prices stand still")
                        && ev.message.contains(&format!("`{base}`")),
                    "the notice names the venue and what it means: {ev:?}"
                );
                break;
            }
        }
    }
    app.shutdown().await;
}
