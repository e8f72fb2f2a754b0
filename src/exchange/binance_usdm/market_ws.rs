//! The public market streams: one socket on the `market` host for every symbol's mark
//! price (`!markPrice@arr@1s`), one on the `public` host for the best bid/ask
//! (`<symbol>@bookTicker`) of the symbols the runtime asks for (SUBSCRIBE frames, sent
//! again after every reconnect). Both reconnect with backoff and announce drops, so the
//! runtime knows when the prices it holds stop being current.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::Value;
use tokio::sync::{mpsc, oneshot, watch};
use tokio_tungstenite::tungstenite::Message;

use crate::domain::Price;
use crate::exchange::{MarketEvent, MarketStream};

use super::Inner;

const BACKOFF_MAX: Duration = Duration::from_secs(30);

/// A streamed mark older than this is not used to check an order's minimum notional; the
/// venue sends one every second.
pub(crate) const MARK_FRESH_MS: i64 = 5_000;

type Marks = Arc<std::sync::Mutex<std::collections::HashMap<String, (rust_decimal::Decimal, i64)>>>;

/// The marks streamed from one venue host, shared by every account on it: an order's
/// minimum-notional check uses them instead of a REST read.
fn marks_for(host: &str) -> Marks {
    static REGISTRY: std::sync::OnceLock<
        std::sync::Mutex<std::collections::HashMap<String, Marks>>,
    > = std::sync::OnceLock::new();
    let registry = REGISTRY.get_or_init(Default::default);
    let mut map = registry.lock().unwrap_or_else(|e| e.into_inner());
    map.entry(host.to_owned()).or_default().clone()
}

/// The streamed mark of a symbol on a host, when fresh.
pub(crate) fn fresh_mark(host: &str, symbol: &str, now: i64) -> Option<Price> {
    let marks = marks_for(host);
    let m = marks.lock().unwrap_or_else(|e| e.into_inner());
    m.get(symbol)
        .filter(|(_, at)| now - at <= MARK_FRESH_MS)
        .and_then(|(p, _)| Price::new(*p).ok())
}

/// Starts both sockets' tasks.
pub(crate) fn spawn(inner: &Arc<Inner>) -> MarketStream {
    let (tx, rx) = mpsc::channel(4096);
    let (watch_tx, watch_rx) = mpsc::unbounded_channel();
    let (stop_tx, stop_rx) = oneshot::channel();
    let (halt_tx, halt_rx) = watch::channel(false);
    tokio::spawn(async move {
        // Either end of the oneshot (a stop or a dropped stream) halts both tasks.
        let _ = stop_rx.await;
        let _ = halt_tx.send(true);
    });
    tokio::spawn(marks(inner.clone(), tx.clone(), halt_rx.clone()));
    tokio::spawn(books(inner.clone(), tx, watch_rx, halt_rx));
    MarketStream::new(rx, watch_tx, stop_tx)
}

#[derive(Deserialize)]
struct Combined {
    data: Value,
}

#[derive(Deserialize)]
struct RawMark {
    #[serde(rename = "s")]
    symbol: String,
    #[serde(rename = "p")]
    price: rust_decimal::Decimal,
    #[serde(rename = "E")]
    time: i64,
}

#[derive(Deserialize)]
struct RawBook {
    #[serde(rename = "s")]
    symbol: String,
    #[serde(rename = "b")]
    bid: rust_decimal::Decimal,
    #[serde(rename = "a")]
    ask: rust_decimal::Decimal,
    #[serde(rename = "E", default)]
    time: i64,
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn open(url: &str) -> Result<Socket, String> {
    match tokio::time::timeout(
        Duration::from_secs(10),
        tokio_tungstenite::connect_async_with_config(url, Some(super::ws::socket_config()), false),
    )
    .await
    {
        Ok(Ok((s, _))) => Ok(s),
        Ok(Err(e)) => Err(format!("cannot open the socket: {e}")),
        Err(_) => Err("opening the socket timed out".into()),
    }
}

fn halted(h: &watch::Receiver<bool>) -> bool {
    *h.borrow()
}

async fn pause(
    clock: &Arc<dyn crate::exchange::Clock>,
    d: Duration,
    h: &mut watch::Receiver<bool>,
) {
    tokio::select! {
        _ = clock.sleep(d) => {}
        _ = h.changed() => {}
    }
}

async fn marks(inner: Arc<Inner>, tx: mpsc::Sender<MarketEvent>, mut halt: watch::Receiver<bool>) {
    let clock = inner.raw.clock().clone();
    let url = inner
        .endpoints
        .market_stream_url("market", "!markPrice@arr@1s");
    let cache = marks_for(&inner.endpoints.limiter_key());
    let mut backoff = Duration::from_millis(500);
    while !halted(&halt) {
        let mut socket = match open(url.as_str()).await {
            Ok(s) => s,
            Err(reason) => {
                tracing::debug!(%reason, "mark-price socket");
                pause(&clock, backoff, &mut halt).await;
                backoff = (backoff * 2).min(BACKOFF_MAX);
                continue;
            }
        };
        backoff = Duration::from_millis(500);
        let _ = tx
            .send(MarketEvent::Connected {
                what: "marks",
                at: clock.now_ms(),
            })
            .await;
        let reason = loop {
            tokio::select! {
                _ = halt.changed() => { let _ = socket.close(None).await; return; }
                msg = socket.next() => match msg {
                    Some(Ok(Message::Text(t))) => {
                        let now = clock.now_ms();
                        let events = parse_marks(t.as_str(), now);
                        {
                            let mut c = cache.lock().unwrap_or_else(|e| e.into_inner());
                            for ev in &events {
                                if let MarketEvent::Mark { symbol, price, .. } = ev {
                                    c.insert(symbol.clone(), (price.get(), now));
                                }
                            }
                        }
                        for ev in events {
                            if tx.send(ev).await.is_err() { return; }
                        }
                    }
                    Some(Ok(Message::Ping(_))) => { let _ = socket.flush().await; }
                    Some(Ok(Message::Close(_))) | None => break "the venue closed the socket".to_owned(),
                    Some(Ok(_)) => {}
                    Some(Err(e)) => break format!("socket error: {e}"),
                }
            }
        };
        let _ = tx
            .send(MarketEvent::Disconnected {
                what: "marks",
                at: clock.now_ms(),
                reason,
            })
            .await;
        pause(&clock, backoff, &mut halt).await;
    }
}

async fn books(
    inner: Arc<Inner>,
    tx: mpsc::Sender<MarketEvent>,
    mut watch_rx: mpsc::UnboundedReceiver<String>,
    mut halt: watch::Receiver<bool>,
) {
    let clock = inner.raw.clock().clone();
    let url = inner.endpoints.market_stream_url("public", "");
    let mut symbols: BTreeSet<String> = BTreeSet::new();
    let mut backoff = Duration::from_millis(500);
    let mut id: u64 = 0;
    while !halted(&halt) {
        // Nothing to watch yet: wait for the first symbol before opening a socket.
        while symbols.is_empty() {
            tokio::select! {
                _ = halt.changed() => return,
                s = watch_rx.recv() => match s {
                    Some(s) => { symbols.insert(s); }
                    None => return,
                }
            }
        }
        let mut socket = match open(url.as_str()).await {
            Ok(s) => s,
            Err(reason) => {
                tracing::debug!(%reason, "book-ticker socket");
                pause(&clock, backoff, &mut halt).await;
                backoff = (backoff * 2).min(BACKOFF_MAX);
                continue;
            }
        };
        backoff = Duration::from_millis(500);
        id += 1;
        if socket
            .send(Message::Text(subscribe(&symbols, id).into()))
            .await
            .is_err()
        {
            continue;
        }
        let _ = tx
            .send(MarketEvent::Connected {
                what: "books",
                at: clock.now_ms(),
            })
            .await;
        let reason = loop {
            tokio::select! {
                _ = halt.changed() => { let _ = socket.close(None).await; return; }
                s = watch_rx.recv() => match s {
                    Some(s) => {
                        if symbols.insert(s.clone()) {
                            id += 1;
                            let one = BTreeSet::from([s]);
                            if let Err(e) = socket.send(Message::Text(subscribe(&one, id).into())).await {
                                break format!("cannot subscribe: {e}");
                            }
                        }
                    }
                    None => { let _ = socket.close(None).await; return; }
                },
                msg = socket.next() => match msg {
                    Some(Ok(Message::Text(t))) => {
                        if let Some(ev) = parse_book(t.as_str(), clock.now_ms()) {
                            if tx.send(ev).await.is_err() { return; }
                        }
                    }
                    Some(Ok(Message::Ping(_))) => { let _ = socket.flush().await; }
                    Some(Ok(Message::Close(_))) | None => break "the venue closed the socket".to_owned(),
                    Some(Ok(_)) => {}
                    Some(Err(e)) => break format!("socket error: {e}"),
                }
            }
        };
        let _ = tx
            .send(MarketEvent::Disconnected {
                what: "books",
                at: clock.now_ms(),
                reason,
            })
            .await;
        pause(&clock, backoff, &mut halt).await;
    }
}

fn subscribe(symbols: &BTreeSet<String>, id: u64) -> String {
    let params: Vec<String> = symbols
        .iter()
        .map(|s| format!("{}@bookTicker", s.to_lowercase()))
        .collect();
    serde_json::json!({"method": "SUBSCRIBE", "params": params, "id": id}).to_string()
}

/// The data of a combined-stream frame, or the frame itself when it is not wrapped.
fn payload(text: &str) -> Option<Value> {
    let v: Value = serde_json::from_str(text).ok()?;
    if v.get("data").is_some() && v.get("stream").is_some() {
        return serde_json::from_value::<Combined>(v).ok().map(|c| c.data);
    }
    Some(v)
}

fn parse_marks(text: &str, now: i64) -> Vec<MarketEvent> {
    let Some(data) = payload(text) else {
        return Vec::new();
    };
    let rows = match data {
        Value::Array(rows) => rows,
        one @ Value::Object(_) => vec![one],
        _ => return Vec::new(),
    };
    rows.into_iter()
        .filter_map(|r| serde_json::from_value::<RawMark>(r).ok())
        .filter_map(|m| {
            Some(MarketEvent::Mark {
                price: Price::new(m.price).ok()?,
                symbol: m.symbol,
                venue_ms: m.time,
                received_ms: now,
            })
        })
        .collect()
}

fn parse_book(text: &str, now: i64) -> Option<MarketEvent> {
    let data = payload(text)?;
    // Answers to SUBSCRIBE frames (`{"result":null,"id":1}`) carry no book.
    let b: RawBook = serde_json::from_value(data).ok()?;
    Some(MarketEvent::Book {
        bid: Price::new(b.bid).ok()?,
        ask: Price::new(b.ask).ok()?,
        symbol: b.symbol,
        venue_ms: b.time,
        received_ms: now,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mark_arrays_and_book_tickers_are_read_from_combined_frames() {
        let marks = r#"{"stream":"!markPrice@arr@1s","data":[{"e":"markPriceUpdate","E":5,"s":"BTCUSDT","p":"50000.10","i":"1","P":"1","r":"0","T":9}]}"#;
        let got = parse_marks(marks, 7);
        assert_eq!(got.len(), 1, "one mark per row: {got:?}");
        assert!(
            matches!(&got[0], MarketEvent::Mark { symbol, price, venue_ms: 5, received_ms: 7 }
                if symbol == "BTCUSDT" && price.get() == rust_decimal_macros::dec!(50000.10)),
            "mark read: {got:?}"
        );
        let book = r#"{"stream":"btcusdt@bookTicker","data":{"e":"bookTicker","u":1,"E":6,"T":6,"s":"BTCUSDT","b":"49999.9","B":"1","a":"50000.1","A":"2"}}"#;
        assert!(
            matches!(parse_book(book, 8), Some(MarketEvent::Book { bid, ask, .. })
                if bid.get() == rust_decimal_macros::dec!(49999.9) && ask.get() == rust_decimal_macros::dec!(50000.1)),
            "book read"
        );
        assert!(
            parse_book(r#"{"result":null,"id":1}"#, 8).is_none(),
            "a SUBSCRIBE answer is no book"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_simulator_serves_marks_for_every_symbol_and_books_on_request() {
        let sim = crate::sim::Simulator::start(crate::sim::SimConfig::default())
            .await
            .expect("simulator starts");
        sim.set_price("BTCUSDT", rust_decimal::Decimal::from(50_000))
            .expect("price set");
        let env = super::super::Environment::parse(&sim.base_url()).expect("endpoint");
        let ex = super::super::BinanceUsdm::new(&env, None, super::super::Options::default())
            .expect("adapter");
        let mut stream = crate::exchange::Exchange::market_stream(&ex)
            .await
            .expect("market stream");
        let _ = stream.watcher().send("BTCUSDT".into());
        let (mut mark, mut book, mut connected) = (false, false, false);
        let wait = async {
            while let Some(ev) = stream.next().await {
                match ev {
                    MarketEvent::Connected { .. } => connected = true,
                    MarketEvent::Mark { symbol, .. } if symbol == "BTCUSDT" => mark = true,
                    MarketEvent::Book { symbol, .. } if symbol == "BTCUSDT" => book = true,
                    _ => {}
                }
                if mark && connected {
                    // A price move publishes the book ticker.
                    let _ = sim.set_price("BTCUSDT", rust_decimal::Decimal::from(50_010));
                }
                if mark && book && connected {
                    return;
                }
            }
        };
        let _ = tokio::time::timeout(Duration::from_secs(10), wait).await;
        assert!(connected, "the market sockets announce they are open");
        assert!(mark, "the mark-price array brings BTCUSDT's mark");
        assert!(book, "the book ticker of a watched symbol arrives");
    }
}
