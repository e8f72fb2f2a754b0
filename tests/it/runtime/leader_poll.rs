//! The public lead-portfolio polling source against the simulator over HTTP: well-spaced
//! trades become the same fills the leader made; an open and close inside one interval
//! produce nothing and are reported as missed; hidden positions, a changed format, an empty
//! read, a geo block, a 429 and an unreachable source are each never read as flat (the
//! open position stays, and no close signal appears).

use copydesk::domain::{PositionSide, Side, SignalKind};
use copydesk::exchange::lead_portfolio::PortfolioClient;
use copydesk::runtime::leader_poll::{Copyable, PollBudget, PollNote, PortfolioPoller};
use copydesk::sim::portfolio::portfolio_id;
use copydesk::sim::SimConfig;
use reqwest::Method;
use rust_decimal::Decimal;
use serde_json::json;

use crate::sim::support::{dec, start_with, Client, Sim};

async fn setup() -> (Sim, Client, PortfolioPoller) {
    let sim = start_with(SimConfig::default()).await;
    let leader = sim.lead_portfolio("20000").await;
    let client = PortfolioClient::new(&sim.base()).expect("client");
    let poller = PortfolioPoller::new(
        client,
        &portfolio_id(&leader.account_id),
        &PollBudget::new(20),
    );
    (sim, leader, poller)
}

fn fill(s: &copydesk::domain::LeaderSignal) -> &copydesk::domain::LeaderFill {
    match &s.kind {
        SignalKind::Fill(f) => f,
        other => panic!("expected a fill signal, got {other:?}"),
    }
}

#[tokio::test]
async fn well_spaced_trades_become_the_leaders_fills() {
    let (sim, leader, mut poller) = setup().await;
    let first = poller.poll(1_000).await;
    assert!(first.signals.is_empty(), "the first read is a baseline");
    assert_eq!(
        first.notes,
        vec![PollNote::Baseline { open: 0 }],
        "nothing open"
    );
    assert_eq!(poller.copyable(), &Copyable::Yes, "copyable");

    sim.price("ETHUSDT", "3000").await;
    leader.market("ETHUSDT", "BUY", "0.5").await.ok("open");
    let open = poller.poll(2_000).await;
    assert_eq!(open.signals.len(), 1, "one open: {:?}", open.notes);
    let s = &open.signals[0];
    let f = fill(s);
    assert_eq!(s.event_time_ms, 2_000, "event time is the poll that saw it");
    assert_eq!(s.position_side, PositionSide::Both, "one-way book");
    assert_eq!(
        (f.side, f.qty.get()),
        (Side::Buy, dec(&json!("0.5"))),
        "buy 0.5"
    );
    assert_eq!(f.position_before, Decimal::ZERO, "from flat");
    let pos = leader.position("ETHUSDT").await;
    assert_eq!(
        f.price.get(),
        dec(&pos["entryPrice"]),
        "an open's price is the entry"
    );
    assert!(
        f.equity_before.is_some(),
        "margin balance as the leader's equity"
    );

    sim.price("ETHUSDT", "3100").await;
    leader.market("ETHUSDT", "BUY", "0.25").await.ok("increase");
    let inc = poller.poll(3_000).await;
    assert_eq!(inc.signals.len(), 1, "one increase");
    let f = fill(&inc.signals[0]);
    assert_eq!(f.qty.get(), dec(&json!("0.25")), "the increase");
    assert_eq!(f.position_before, dec(&json!("0.5")), "from 0.5");
    let trades = leader
        .get("/fapi/v1/userTrades", &[("symbol", "ETHUSDT")])
        .await
        .ok("trades");
    let last_px = dec(&trades.as_array().and_then(|t| t.last()).expect("a trade")["price"]);
    assert!(
        (f.price.get() - last_px).abs() <= dec(&json!("0.05")),
        "an increase's price is implied by the entry change: the fill price {last_px} up to the \
         entry's rounding, got {}",
        f.price.get()
    );

    sim.price("ETHUSDT", "3050").await;
    leader.market("ETHUSDT", "SELL", "0.75").await.ok("close");
    let close = poller.poll(4_000).await;
    assert_eq!(close.signals.len(), 1, "one close");
    let f = fill(&close.signals[0]);
    assert_eq!(
        (f.side, f.qty.get()),
        (Side::Sell, dec(&json!("0.75"))),
        "sell all"
    );
    assert_eq!(f.position_before, dec(&json!("0.75")), "from 0.75");
    assert_eq!(
        f.price.get(),
        dec(&json!("3050")),
        "a close's price is the mark"
    );
    assert!(
        poller.poll(5_000).await.signals.is_empty(),
        "nothing changed, nothing sent"
    );
}

#[tokio::test]
async fn an_open_and_close_inside_one_interval_is_missed_and_reported() {
    let (sim, leader, mut poller) = setup().await;
    poller.poll(1_000).await;
    sim.price("BTCUSDT", "50000").await;
    leader.market("BTCUSDT", "BUY", "0.1").await.ok("open");
    sim.price("BTCUSDT", "50500").await;
    leader.market("BTCUSDT", "SELL", "0.1").await.ok("close");
    let out = poller.poll(2_000).await;
    assert!(
        out.signals.is_empty(),
        "no signal for a round trip inside one interval"
    );
    assert!(
        out.notes
            .iter()
            .any(|n| matches!(n, PollNote::Missed { symbol, .. } if symbol == "BTCUSDT")),
        "the miss is reported: {:?}",
        out.notes
    );
}

/// Opens a position and takes it in as the baseline, so a bad read could look like a close.
async fn with_open_position() -> (Sim, Client, PortfolioPoller) {
    let (sim, leader, mut poller) = setup().await;
    leader.market("ETHUSDT", "BUY", "1").await.ok("open");
    let base = poller.poll(1_000).await;
    assert_eq!(
        base.notes,
        vec![PollNote::Baseline { open: 1 }],
        "one open position"
    );
    (sim, leader, poller)
}

#[tokio::test]
async fn hidden_positions_are_not_copyable_and_not_flat() {
    let (sim, leader, mut poller) = with_open_position().await;
    sim.admin(
        Method::POST,
        &format!("/admin/v1/portfolio/{}", leader.account_id),
        Some(json!({"positionShow": false})),
    )
    .await
    .ok("hide");
    // The detail is cached as "shown": the list comes back empty, which is not flat.
    let empty = poller.poll(2_000).await;
    assert!(empty.signals.is_empty(), "an empty list is not a close");
    assert_eq!(
        empty.notes,
        vec![PollNote::EmptyRead],
        "reported as an empty read"
    );
    let hidden = poller.poll(3_000).await;
    assert!(
        hidden.signals.is_empty(),
        "hidden positions are not a close"
    );
    assert_eq!(hidden.notes, vec![PollNote::Hidden], "reported as hidden");
    assert!(
        matches!(poller.copyable(), Copyable::No(r) if r.contains("hides its positions")),
        "not copyable, with the reason: {:?}",
        poller.copyable()
    );
    sim.admin(
        Method::POST,
        &format!("/admin/v1/portfolio/{}", leader.account_id),
        Some(json!({"positionShow": true})),
    )
    .await
    .ok("show again");
    let back = poller.poll(4_000).await;
    assert!(
        back.signals.is_empty(),
        "the position is still there: no signal"
    );
    assert_eq!(poller.copyable(), &Copyable::Yes, "copyable again");
}

#[tokio::test]
async fn a_changed_format_is_reported_and_never_read_as_flat() {
    let (sim, leader, mut poller) = with_open_position().await;
    sim.admin(
        Method::POST,
        "/admin/v1/portfolio",
        Some(json!({"formatChanged": true})),
    )
    .await
    .ok("change format");
    leader
        .market("ETHUSDT", "BUY", "1")
        .await
        .ok("increase while unreadable");
    let out = poller.poll(2_000).await;
    assert!(
        out.signals.is_empty(),
        "nothing is guessed from a changed format"
    );
    assert!(
        matches!(&out.notes[..], [PollNote::FormatChanged(w)] if w.contains("positionAmount")),
        "the missing field is named: {:?}",
        out.notes
    );
    assert!(
        matches!(poller.copyable(), Copyable::No(r) if r.contains("format changed")),
        "not copyable while the format is unknown"
    );
    sim.admin(
        Method::POST,
        "/admin/v1/portfolio",
        Some(json!({"formatChanged": false})),
    )
    .await
    .ok("format back");
    let after = poller.poll(3_000).await;
    assert_eq!(
        after.signals.len(),
        1,
        "the increase shows once readable again"
    );
    assert_eq!(
        fill(&after.signals[0]).position_before,
        dec(&json!("1")),
        "from the kept position"
    );
}

#[tokio::test]
async fn a_geo_block_and_a_429_are_failed_reads_not_flat() {
    let (sim, leader, mut poller) = with_open_position().await;
    sim.admin(
        Method::POST,
        "/admin/v1/portfolio",
        Some(json!({"geoBlocked": true})),
    )
    .await
    .ok("geo block");
    leader
        .market("ETHUSDT", "SELL", "1")
        .await
        .ok("close while blocked");
    let blocked = poller.poll(2_000).await;
    assert!(blocked.signals.is_empty(), "a 403 is not a close");
    assert_eq!(
        blocked.notes,
        vec![PollNote::GeoBlocked],
        "reported as geo-blocked"
    );

    sim.admin(
        Method::POST,
        "/admin/v1/portfolio",
        Some(json!({"geoBlocked": false, "perMinute": 1})),
    )
    .await
    .ok("a budget of one a minute");
    // Another reader from this address uses the minute's one request.
    let other = PortfolioClient::new(&sim.base()).expect("client");
    other
        .detail(&portfolio_id(&leader.account_id))
        .await
        .expect("the other reader's request");
    let budget = PollBudget::new(20);
    let normal = poller.next_wait(&budget);
    let limited = poller.poll(3_000).await;
    assert!(limited.signals.is_empty(), "a 429 is not a close");
    assert!(
        matches!(limited.notes[..], [PollNote::RateLimited { retry_after_s }] if retry_after_s >= 1),
        "reported as rate limited: {:?}",
        limited.notes
    );
    assert!(
        poller.next_wait(&budget) > normal,
        "the interval backs off after a 429"
    );
    sim.admin(
        Method::POST,
        "/admin/v1/portfolio",
        Some(json!({"perMinute": 0})),
    )
    .await
    .ok("lift the budget");
    let closed = poller.poll(4_000).await.signals;
    assert_eq!(
        closed.len(),
        1,
        "the close shows once the source reads again"
    );
    assert_eq!(fill(&closed[0]).side, Side::Sell, "a close");
    assert_eq!(
        fill(&closed[0]).position_before,
        dec(&json!("1")),
        "of the kept position"
    );
    assert!(poller.poll(5_000).await.signals.is_empty(), "and only once");
    assert_eq!(
        poller.next_wait(&budget),
        normal,
        "the interval is back to normal"
    );
}

#[tokio::test]
async fn a_source_that_cannot_be_reached_is_a_failed_read_not_flat() {
    let (sim, _leader, mut poller) = with_open_position().await;
    sim.handle.shutdown().await;
    let out = poller.poll(2_000).await;
    assert!(
        out.signals.is_empty(),
        "an unreachable source is not a close"
    );
    assert!(
        matches!(&out.notes[..], [PollNote::ReadFailed(_)]),
        "reported as a failed read: {:?}",
        out.notes
    );
    assert!(
        matches!(poller.copyable(), Copyable::Unknown(_)),
        "copyable is unknown, not yes: {:?}",
        poller.copyable()
    );
    let kept = poller.open_rows().expect("the last good read is kept");
    assert_eq!(
        kept.iter()
            .map(|p| (p.symbol.as_str(), p.amount))
            .collect::<Vec<_>>(),
        vec![("ETHUSDT", dec(&json!("1")))],
        "the open position is kept as last read"
    );
}
