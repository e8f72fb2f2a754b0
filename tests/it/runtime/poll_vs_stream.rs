//! The two leader sources side by side: one simulated leader that is both an account
//! leader (its user-data stream) and a public lead portfolio (its positions list, polled)
//! is followed by two copies in one `copydesk run`, one per source. For well-spaced trades
//! with moving prices (an open, an increase, a reduction, a short open, two closes) both
//! sources must produce the same signals — symbol, book, side, quantity, the leader's
//! position before (so the kind: open, increase, reduce, close) — as the engine recorded
//! them (`leader_signals`), and the two copies the same orders (`order_journal`). An open
//! and close inside one poll interval (the pages' positions list frozen meanwhile, as a
//! page cache that does not update) is copied by the stream copy, produces no signal on the
//! polled side, and is logged there as missed.

use copydesk::domain::{PositionSide, Side, SignalKind};
use copydesk::engine::NoticeKind;
use copydesk::runtime::NotifyKind;
use copydesk::sim::portfolio::portfolio_id;
use copydesk::store::{db_path, Store};
use reqwest::Method;
use rust_decimal::Decimal;
use serde_json::json;

use super::support::{
    account_env, account_toml, amount, dec, eventually, sim, write_config, Client, Engine, Sim,
};

/// What a source said about one leader order: the engine's view of a leader change.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Change {
    symbol: String,
    book: PositionSide,
    side: Side,
    qty: Decimal,
    before: Decimal,
    kind: &'static str,
}

fn kind_of(before: Decimal, signed: Decimal) -> &'static str {
    let after = before + signed;
    if before.is_zero() {
        "open"
    } else if after.is_zero() {
        "close"
    } else if (after > Decimal::ZERO) != (before > Decimal::ZERO) {
        "flip"
    } else if after.abs() > before.abs() {
        "increase"
    } else {
        "reduce"
    }
}

/// A leader's recorded fill signals, one per leader order (a streamed order may come in
/// several fills; they accumulate), in the order they were received.
fn changes(store: &Store, leader: &str) -> Vec<Change> {
    let id = store
        .leaders()
        .by_name(leader)
        .expect("leaders readable")
        .unwrap_or_else(|| panic!("leader `{leader}` stored"))
        .id;
    let mut out: Vec<(String, Change)> = Vec::new();
    for s in store.signals().since(id, 0).expect("signals readable") {
        if s.kind != "fill" {
            continue;
        }
        let kind: SignalKind =
            serde_json::from_str(s.payload.as_deref().expect("a fill's payload"))
                .expect("the payload is the signal");
        let SignalKind::Fill(f) = kind else {
            panic!("a `fill` row holds a fill: {kind:?}");
        };
        match out.last_mut() {
            Some((order, c)) if *order == f.order_id => c.qty += f.qty.get(),
            _ => out.push((
                f.order_id.clone(),
                Change {
                    symbol: s.symbol.clone(),
                    book: s.position_side,
                    side: f.side,
                    qty: f.qty.get(),
                    before: f.position_before,
                    kind: "",
                },
            )),
        }
    }
    out.into_iter()
        .map(|(_, mut c)| {
            let signed = if c.side == Side::Buy { c.qty } else { -c.qty };
            c.kind = kind_of(c.before, signed);
            c
        })
        .collect()
}

/// A copy's market orders as journalled: symbol, side, quantity, reduce-only, final state.
fn orders(store: &Store, copy: &str) -> Vec<(String, Side, Decimal, bool, String)> {
    let id = store
        .copies()
        .by_name(copy)
        .expect("copies readable")
        .unwrap_or_else(|| panic!("copy `{copy}` stored"))
        .id;
    store
        .journal()
        .for_copy(id)
        .expect("journal readable")
        .into_iter()
        .filter(|e| e.order_type.as_str() == "market")
        .map(|e| {
            (
                e.symbol,
                e.side,
                e.qty.normalize(),
                e.reduce_only,
                e.state.as_str().to_owned(),
            )
        })
        .collect()
}

async fn both_hold(sim: &Sim, followers: [&Client; 2], symbol: &str, want: &str) {
    let want = dec(&json!(want));
    eventually(&format!("both followers hold {want} {symbol}"), || async {
        let a = amount(sim, &followers[0].account_id, symbol).await;
        let b = amount(sim, &followers[1].account_id, symbol).await;
        if a == want && b == want {
            Ok(())
        } else {
            Err(format!("streamed copy holds {a}, polled copy {b}"))
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn polled_and_streamed_sources_give_the_same_signals() {
    let sim = sim().await;
    let base = sim.base();
    let lead = sim.lead_portfolio("50000").await;
    let by_stream = sim.usdt("50000").await;
    let by_poll = sim.usdt("50000").await;
    let followers = [&by_stream, &by_poll];
    for (s, p) in [
        ("BTCUSDT", "50000"),
        ("ETHUSDT", "3000"),
        ("XRPUSDT", "0.5"),
        ("SOLUSDT", "150"),
    ] {
        sim.price(s, p).await;
    }

    let pid = portfolio_id(&lead.account_id);
    let copy = |name: &str, leader: &str, follower: &str| {
        format!(
            "[[copies]]\nname = \"{name}\"\nleader = \"{leader}\"\nfollower = \"{follower}\"\n\
             mode = \"fixed-ratio\"\nratio = \"0.5\"\n[copies.risk]\nmax_leverage = 20\n\n"
        )
    };
    let text = format!(
        "[engine]\nreconcile_secs = 3600\nportfolio_requests_per_minute = 600\n\n{}{}{}\
         [[leaders]]\nname = \"whale\"\nportfolio = \"{pid}\"\nendpoint = \"{base}\"\n\n{}{}",
        account_toml("lead", &base),
        account_toml("me-stream", &base),
        account_toml("me-poll", &base),
        copy("streamed", "lead", "me-stream"),
        copy("polled", "whale", "me-poll"),
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write_config(dir.path(), &text);
    let data = dir.path().join("data");
    let mut env = account_env("lead", &lead);
    env.extend(account_env("me-stream", &by_stream));
    env.extend(account_env("me-poll", &by_poll));

    let mut engine = Engine::start(&data, &config, &env, &[]);
    engine
        .wait_kind(NotifyKind::Watching, None, Some("streamed"), "stream copy")
        .await;
    engine
        .wait_kind(
            NotifyKind::Notice,
            Some(NoticeKind::LeaderBaseline),
            Some("polled"),
            "the polled copy's baseline",
        )
        .await;

    // Well-spaced trades: each one is copied by both before the next, at a moved price.
    let steps: [(&str, &str, &str, &str, &str, &str); 6] = [
        ("ETHUSDT", "3000", "BUY", "0.5", "ETHUSDT", "0.25"),
        ("ETHUSDT", "3100", "BUY", "0.25", "ETHUSDT", "0.375"),
        ("ETHUSDT", "3050", "SELL", "0.25", "ETHUSDT", "0.25"),
        ("BTCUSDT", "50500", "SELL", "0.02", "BTCUSDT", "-0.01"),
        ("ETHUSDT", "3200", "SELL", "0.5", "ETHUSDT", "0"),
        ("BTCUSDT", "49000", "BUY", "0.02", "BTCUSDT", "0"),
    ];
    for (symbol, price, side, qty, held, want) in steps {
        sim.price(symbol, price).await;
        lead.market(symbol, side, qty)
            .await
            .ok(&format!("leader {side} {qty} {symbol}"));
        both_hold(&sim, followers, held, want).await;
    }

    // An open and close inside one poll interval: the pages' positions list does not change
    // between two polls; the stream sees both.
    sim.admin(
        Method::POST,
        "/admin/v1/portfolio",
        Some(json!({"positionsFrozen": true})),
    )
    .await
    .ok("freeze the positions list");
    lead.market("XRPUSDT", "BUY", "200")
        .await
        .ok("open inside one interval");
    eventually("the streamed copy opened XRPUSDT", || async {
        let held = amount(&sim, &by_stream.account_id, "XRPUSDT").await;
        if held == dec(&json!("100")) {
            Ok(())
        } else {
            Err(format!("holds {held}"))
        }
    })
    .await;
    sim.price("XRPUSDT", "0.505").await;
    lead.market("XRPUSDT", "SELL", "200")
        .await
        .ok("close inside the same interval");
    eventually("the streamed copy opened and closed XRPUSDT", || async {
        let o = by_stream
            .get("/fapi/v1/allOrders", &[("symbol", "XRPUSDT")])
            .await
            .ok("streamed copy's orders");
        let filled = o
            .as_array()
            .map_or(0, |a| a.iter().filter(|o| o["status"] == "FILLED").count());
        if filled == 2 {
            Ok(())
        } else {
            Err(format!("{filled} filled"))
        }
    })
    .await;
    sim.admin(
        Method::POST,
        "/admin/v1/portfolio",
        Some(json!({"positionsFrozen": false})),
    )
    .await
    .ok("the positions list moves again");
    engine
        .wait_kind(
            NotifyKind::Skip,
            Some(NoticeKind::MissedInInterval),
            Some("polled"),
            "the round trip is logged as missed on the polled side",
        )
        .await;
    // The poller is still in step after the miss.
    sim.price("SOLUSDT", "152").await;
    lead.market("SOLUSDT", "BUY", "2")
        .await
        .ok("an open after the miss");
    both_hold(&sim, followers, "SOLUSDT", "1").await;
    engine.interrupt();

    let store = Store::open_read_only(&db_path(&data)).expect("database readable");
    let streamed = changes(&store, "lead");
    let polled = changes(&store, "whale");
    let (xrp, streamed_spaced): (Vec<Change>, Vec<Change>) =
        streamed.into_iter().partition(|c| c.symbol == "XRPUSDT");
    let kinds: Vec<(&str, &str)> = streamed_spaced
        .iter()
        .map(|c| (c.symbol.as_str(), c.kind))
        .collect();
    assert_eq!(
        kinds,
        vec![
            ("ETHUSDT", "open"),
            ("ETHUSDT", "increase"),
            ("ETHUSDT", "reduce"),
            ("BTCUSDT", "open"),
            ("ETHUSDT", "close"),
            ("BTCUSDT", "close"),
            ("SOLUSDT", "open"),
        ],
        "the stream gave one signal per leader order"
    );
    assert_eq!(
        polled, streamed_spaced,
        "for well-spaced trades the polled source gives the stream's signals"
    );
    assert_eq!(
        xrp.iter().map(|c| c.kind).collect::<Vec<_>>(),
        vec!["open", "close"],
        "the stream saw the round trip"
    );
    assert!(
        polled.iter().all(|c| c.symbol != "XRPUSDT"),
        "the round trip inside one interval gives no polled signal: {polled:?}"
    );

    let by_stream_orders = orders(&store, "streamed");
    let by_poll_orders = orders(&store, "polled");
    let (xrp_orders, spaced_orders): (Vec<_>, Vec<_>) =
        by_stream_orders.into_iter().partition(|o| o.0 == "XRPUSDT");
    assert_eq!(
        xrp_orders.len(),
        2,
        "the streamed copy copied the round trip"
    );
    assert_eq!(
        by_poll_orders, spaced_orders,
        "both copies placed the same orders for the well-spaced trades"
    );
    assert_eq!(
        amount(&sim, &by_poll.account_id, "XRPUSDT").await,
        Decimal::ZERO,
        "the polled copy never held XRPUSDT"
    );

    let polled_id = store
        .copies()
        .by_name("polled")
        .expect("copies readable")
        .expect("polled copy")
        .id;
    let missed: Vec<String> = store
        .notifications()
        .recent(1_000)
        .expect("notifications readable")
        .into_iter()
        .filter(|n| n.copy_id == Some(polled_id) && n.kind == "skip")
        .map(|n| n.message)
        .collect();
    assert!(
        missed
            .iter()
            .any(|m| m.contains("XRPUSDT") && m.contains("missed")),
        "the miss is logged in the polled copy's activity: {missed:?}"
    );
}
