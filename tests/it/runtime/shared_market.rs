//! One market-data stream per venue endpoint (issue 11, idle cost): follower accounts on
//! one venue share its mark-price socket and its book-ticker socket, in process. The
//! simulator lists the market sockets open and the streams each is subscribed to
//! (`GET /admin/v1/market-sockets`), so the test sees one mark socket and one book socket
//! for two follower accounts — the second account's copy started while the first runs — a
//! price move reaching both accounts' states, and a symbol first traded by the later copy
//! subscribed on the same book socket without dropping the first one's.

use copydesk::runtime::config::{CopyConfig, EngineConfig, RunConfig};
use copydesk::runtime::start::resolve_keys;
use copydesk::runtime::{
    HeldPrices, KeySource, Notification, NotifyKind, RunOptions, RuntimeHandle,
};
use copydesk::store::DataDir;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde_json::Value;
use tokio::sync::broadcast;

use super::in_process::{account, keys};
use super::support::{amount, dec as dec_of, eventually, sim, Sim};

const MARKS: &str = "!markPrice@arr@1s";

fn copy(name: &str, leader: &str, follower: &str) -> CopyConfig {
    CopyConfig {
        name: name.into(),
        leader: leader.into(),
        follower: follower.into(),
        settings: toml::from_str(
            "mode = \"fixed-ratio\"\nratio = \"0.1\"\n[risk]\nmax_leverage = 5\n",
        )
        .expect("settings"),
        profit_share_ratio: None,
    }
}

/// Waits until `copy` watches its leader.
async fn watching(rx: &mut broadcast::Receiver<Notification>, copy: &str) {
    loop {
        let n = tokio::time::timeout(std::time::Duration::from_secs(60), rx.recv())
            .await
            .unwrap_or_else(|_| panic!("copy `{copy}` should watch its leader within 60 s"))
            .expect("notification");
        if n.kind == NotifyKind::Watching && n.copy.as_deref() == Some(copy) {
            return;
        }
    }
}

/// The streams of each market socket open on the simulator.
async fn market_sockets(sim: &Sim) -> Vec<Vec<String>> {
    let body = sim
        .admin(reqwest::Method::GET, "/admin/v1/market-sockets", None)
        .await
        .ok("market sockets listed");
    body["sockets"]
        .as_array()
        .expect("sockets array")
        .iter()
        .map(|s| {
            s["streams"]
                .as_array()
                .expect("streams array")
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .collect()
}

fn book_stream(symbol: &str) -> String {
    format!("{}@bookTicker", symbol.to_lowercase())
}

fn held(engine: &RuntimeHandle, account: &str, symbol: &str) -> HeldPrices {
    engine
        .held_prices(account, symbol)
        .unwrap_or_else(|| panic!("the engine uses follower account `{account}`"))
}

async fn holds(sim: &Sim, follower: &str, symbol: &str, want: Decimal) {
    eventually("the follower copies the signal", || async {
        let got = amount(sim, follower, symbol).await;
        (got == want).then_some(()).ok_or(format!("holds {got}"))
    })
    .await;
}

/// Sets a price; the best bid and ask the simulator now quotes.
async fn move_price(sim: &Sim, symbol: &str, price: &str) -> (Decimal, Decimal) {
    let r = sim
        .admin(
            reqwest::Method::POST,
            "/admin/v1/prices",
            Some(serde_json::json!({"symbol": symbol, "price": price})),
        )
        .await
        .ok("price set");
    (dec_of(&r["bidPrice"]), dec_of(&r["askPrice"]))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follower_accounts_on_one_venue_share_one_market_stream() {
    let sim = sim().await;
    let base = sim.base();
    sim.price("BTCUSDT", "50000").await;
    sim.price("ETHUSDT", "3000").await;
    let lead_a = sim.usdt("1000000").await;
    let lead_b = sim.usdt("1000000").await;
    let one = sim.usdt("100000").await;
    let two = sim.usdt("100000").await;
    let keys = keys(&[
        ("lead-a", &lead_a),
        ("lead-b", &lead_b),
        ("one", &one),
        ("two", &two),
    ]);
    let config = RunConfig {
        accounts: ["lead-a", "lead-b", "one", "two"]
            .into_iter()
            .map(|n| account(n, &base))
            .collect(),
        leaders: Vec::new(),
        copies: vec![
            copy("first", "lead-a", "one"),
            copy("second", "lead-b", "two"),
        ],
        engine: EngineConfig::default(),
    };
    let mut specs = resolve_keys(&config, &KeySource::Given(&keys)).expect("keys");
    let second = specs.pop().expect("second copy");
    let dir = tempfile::tempdir().expect("tempdir");
    let data = DataDir::open(dir.path(), "shared market test").expect("data dir");
    let engine = RuntimeHandle::new(data, RunOptions::default());
    let mut rx = engine.subscribe();

    // The first copy trades BTCUSDT: its account asks for that symbol's book.
    engine.add(specs).await.expect("the first copy starts");
    watching(&mut rx, "first").await;
    lead_a
        .market("BTCUSDT", "BUY", "0.5")
        .await
        .ok("leader A opens BTCUSDT");
    holds(&sim, &one.account_id, "BTCUSDT", dec!(0.050)).await;

    // A copy on a second follower account, started while the first runs, trades ETHUSDT.
    engine
        .add(vec![second])
        .await
        .expect("the second copy starts");
    watching(&mut rx, "second").await;
    lead_b
        .market("ETHUSDT", "BUY", "0.5")
        .await
        .ok("leader B opens ETHUSDT");
    holds(&sim, &two.account_id, "ETHUSDT", dec!(0.050)).await;
    eventually("one book socket carries both accounts' symbols", || async {
        let books: Vec<Vec<String>> = market_sockets(&sim)
            .await
            .into_iter()
            .filter(|s| s.iter().any(|n| n.ends_with("@bookTicker")))
            .collect();
        let both = books.len() == 1
            && books[0].contains(&book_stream("BTCUSDT"))
            && books[0].contains(&book_stream("ETHUSDT"));
        both.then_some(()).ok_or(format!("book sockets {books:?}"))
    })
    .await;
    let sockets = market_sockets(&sim).await;
    let marks = sockets
        .iter()
        .filter(|s| s.iter().any(|n| n == MARKS))
        .count();
    assert_eq!(
        marks, 1,
        "two follower accounts on one venue open one mark-price socket: {sockets:?}"
    );
    assert_eq!(
        sockets.len(),
        2,
        "one mark socket and one book socket in all: {sockets:?}"
    );

    // A price move reaches both accounts' states through the one stream.
    let (btc_bid, btc_ask) = move_price(&sim, "BTCUSDT", "51000").await;
    let (eth_bid, eth_ask) = move_price(&sim, "ETHUSDT", "3100").await;
    eventually("both accounts hold the new marks and books", || async {
        let (a, b) = (
            held(&engine, "one", "BTCUSDT"),
            held(&engine, "two", "BTCUSDT"),
        );
        let eth = held(&engine, "two", "ETHUSDT");
        let ok = a.mark == Some(dec!(51000))
            && b.mark == Some(dec!(51000))
            && a.book == Some((btc_bid, btc_ask))
            && eth.mark == Some(dec!(3100))
            && eth.book == Some((eth_bid, eth_ask));
        ok.then_some(()).ok_or(format!(
            "one BTCUSDT {a:?}, two BTCUSDT {b:?}, two ETHUSDT {eth:?}"
        ))
    })
    .await;
    engine.shutdown().await;
}
