//! WebSocket surface: the user-data stream (`/private/ws?listenKey=…`,
//! `/private/ws/<key>`, `/private/stream?streams=<key>`, legacy `/ws/<key>`) with the
//! `events=` allow-list, listenKey expiry and the 24-hour socket limit; and market streams
//! (`/market/…`, `/public/…`, legacy `/ws` and `/stream`) with SUBSCRIBE frames and
//! combined-stream wrapping.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};
use tokio::sync::broadcast::error::RecvError;

use super::clock::Millis;
use super::server::Shared;

const SOCKET_LIFETIME_MS: Millis = 24 * 60 * 60 * 1000;
/// Binance pings every 3 minutes; clients must answer with a pong.
const PING_EVERY: Duration = Duration::from_secs(180);
/// Read buffer of each socket. The library's default (128 KiB) is zero-filled up to its
/// capacity before every read of the socket, and a socket is read each time its task
/// wakes, for every event it sends too: at 50 streams that zeroing was a fifth of the
/// simulator's CPU. Clients send small control frames; a larger one is read in several
/// reads.
const READ_BUFFER: usize = 4 * 1024;

pub fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/private/ws", get(private_query))
        .route("/private/ws/{key}", get(private_path))
        .route("/private/stream", get(private_stream))
        .route("/ws/{name}", get(legacy_path))
        .route("/ws", get(market_bare))
        .route("/market/ws", get(market_bare))
        .route("/public/ws", get(market_bare))
        .route("/market/ws/{name}", get(market_path))
        .route("/public/ws/{name}", get(market_path))
        .route("/stream", get(market_combined))
        .route("/market/stream", get(market_combined))
        .route("/public/stream", get(market_combined))
}

type Q = Query<HashMap<String, String>>;

fn events_filter(q: &HashMap<String, String>) -> Option<BTreeSet<String>> {
    q.get("events").map(|e| {
        e.split('/')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    })
}

async fn private_query(
    ws: WebSocketUpgrade,
    State(s): State<Arc<Shared>>,
    Query(q): Q,
) -> Response {
    let key = q.get("listenKey").cloned().unwrap_or_default();
    user_socket(ws, s, key, events_filter(&q), false)
}

async fn private_path(
    ws: WebSocketUpgrade,
    State(s): State<Arc<Shared>>,
    Path(key): Path<String>,
    Query(q): Q,
) -> Response {
    user_socket(ws, s, key, events_filter(&q), false)
}

async fn private_stream(
    ws: WebSocketUpgrade,
    State(s): State<Arc<Shared>>,
    Query(q): Q,
) -> Response {
    let key = q
        .get("streams")
        .or_else(|| q.get("listenKey"))
        .cloned()
        .unwrap_or_default();
    user_socket(ws, s, key, events_filter(&q), true)
}

/// `/ws/<x>`: a live listenKey opens the user stream, anything else is a market stream.
async fn legacy_path(
    ws: WebSocketUpgrade,
    State(s): State<Arc<Shared>>,
    Path(name): Path<String>,
    Query(q): Q,
) -> Response {
    if s.ex().listen_key_account(&name).is_some() {
        return user_socket(ws, s, name, events_filter(&q), false);
    }
    market_socket(ws, s, split_streams(&name), false)
}

async fn market_bare(ws: WebSocketUpgrade, State(s): State<Arc<Shared>>) -> Response {
    market_socket(ws, s, BTreeSet::new(), false)
}

async fn market_path(
    ws: WebSocketUpgrade,
    State(s): State<Arc<Shared>>,
    Path(name): Path<String>,
) -> Response {
    market_socket(ws, s, split_streams(&name), false)
}

async fn market_combined(
    ws: WebSocketUpgrade,
    State(s): State<Arc<Shared>>,
    Query(q): Q,
) -> Response {
    let streams = q
        .get("streams")
        .map(|v| split_streams(v))
        .unwrap_or_default();
    market_socket(ws, s, streams, true)
}

fn split_streams(v: &str) -> BTreeSet<String> {
    v.split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn user_socket(
    ws: WebSocketUpgrade,
    shared: Arc<Shared>,
    key: String,
    filter: Option<BTreeSet<String>>,
    combined: bool,
) -> Response {
    let (account, rx) = {
        let mut ex = shared.ex();
        let Some(account) = ex.listen_key_account(&key) else {
            return (
                StatusCode::BAD_REQUEST,
                axum::Json(json!({"code": -1125, "msg": "This listenKey does not exist."})),
            )
                .into_response();
        };
        let rx = ex.buses.subscribe_user(&account);
        (account, rx)
    };
    ws.read_buffer_size(READ_BUFFER)
        .on_upgrade(move |socket| run_user(socket, shared, account, key, rx, filter, combined))
}

async fn run_user(
    mut socket: WebSocket,
    shared: Arc<Shared>,
    account: String,
    key: String,
    mut rx: tokio::sync::broadcast::Receiver<Arc<super::events::UserEvent>>,
    filter: Option<BTreeSet<String>>,
    combined: bool,
) {
    let opened_at = shared.clock.now();
    let mut drop_rx = shared.faults.drop_signal();
    let mut stop = shared.stop.clone();
    let mut check = tokio::time::interval(Duration::from_millis(200));
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + PING_EVERY, PING_EVERY);
    // Events are always taken off the bus (so a stalled socket never lags out of it) and
    // held here while the socket is stalled.
    let mut pending: VecDeque<Arc<super::events::UserEvent>> = VecDeque::new();
    tracing::debug!(%account, "user-data socket open");
    'socket: loop {
        tokio::select! {
            _ = super::server::stopped(&mut stop) => break,
            _ = ping.tick() => {
                if socket.send(Message::Ping(Vec::new().into())).await.is_err() {
                    break;
                }
            }
            _ = drop_rx.changed() => break,
            _ = check.tick() => {
                if shared.clock.now() - opened_at >= SOCKET_LIFETIME_MS {
                    break;
                }
            }
            msg = socket.recv() => match msg {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            },
            ev = rx.recv() => match ev {
                Ok(ev) => pending.push_back(ev),
                Err(RecvError::Lagged(_)) | Err(RecvError::Closed) => break,
            },
        }
        if shared.faults.stalled(&key) {
            continue;
        }
        while let Some(ev) = pending.pop_front() {
            // Another key's expiry (after a key was replaced) is not this socket's business.
            if ev.closes_stream
                && ev.payload.get("listenKey").and_then(Value::as_str) != Some(key.as_str())
            {
                continue;
            }
            if filter.as_ref().is_none_or(|f| f.contains(ev.name)) {
                let body = if combined {
                    json!({"stream": key, "data": ev.payload})
                } else {
                    ev.payload.clone()
                };
                if socket
                    .send(Message::Text(body.to_string().into()))
                    .await
                    .is_err()
                {
                    break 'socket;
                }
            }
            if ev.closes_stream {
                break 'socket;
            }
        }
    }
    let _ = socket.send(Message::Close(None)).await;
}

fn market_socket(
    ws: WebSocketUpgrade,
    shared: Arc<Shared>,
    streams: BTreeSet<String>,
    combined: bool,
) -> Response {
    ws.read_buffer_size(READ_BUFFER)
        .on_upgrade(move |socket| run_market(socket, shared, streams, combined))
}

/// Answers a control frame; returns the reply.
fn control(frame: &str, streams: &mut BTreeSet<String>, combined: &mut bool) -> Value {
    let Ok(v) = serde_json::from_str::<Value>(frame) else {
        return json!({"code": 3, "msg": "Invalid JSON: expected value"});
    };
    let id = v.get("id").cloned().unwrap_or(Value::Null);
    let params: Vec<Value> = v
        .get("params")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let names = || params.iter().filter_map(Value::as_str).map(str::to_owned);
    match v.get("method").and_then(Value::as_str) {
        Some("SUBSCRIBE") => {
            streams.extend(names());
            json!({"result": null, "id": id})
        }
        Some("UNSUBSCRIBE") => {
            for n in names() {
                streams.remove(&n);
            }
            json!({"result": null, "id": id})
        }
        Some("LIST_SUBSCRIPTIONS") => {
            json!({"result": streams.iter().collect::<Vec<_>>(), "id": id})
        }
        Some("SET_PROPERTY") => {
            if let Some(b) = params.get(1).and_then(Value::as_bool) {
                *combined = b;
            }
            json!({"result": null, "id": id})
        }
        Some("GET_PROPERTY") => json!({"result": *combined, "id": id}),
        _ => json!({"code": 2, "msg": "Invalid request: unknown method", "id": id}),
    }
}

async fn run_market(
    mut socket: WebSocket,
    shared: Arc<Shared>,
    mut streams: BTreeSet<String>,
    mut combined: bool,
) {
    let mut rx = shared.ex().buses.subscribe_market();
    let id = shared.market_sockets.opened(&streams);
    serve_market(
        &mut socket,
        &shared,
        &mut rx,
        id,
        &mut streams,
        &mut combined,
    )
    .await;
    shared.market_sockets.closed(id);
}

async fn serve_market(
    socket: &mut WebSocket,
    shared: &Shared,
    rx: &mut tokio::sync::broadcast::Receiver<Arc<super::events::MarketEvent>>,
    id: u64,
    streams: &mut BTreeSet<String>,
    combined: &mut bool,
) {
    let mut stop = shared.stop.clone();
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + PING_EVERY, PING_EVERY);
    loop {
        tokio::select! {
            _ = super::server::stopped(&mut stop) => break,
            _ = ping.tick() => {
                if socket.send(Message::Ping(Vec::new().into())).await.is_err() {
                    break;
                }
            }
            msg = socket.recv() => match msg {
                Some(Ok(Message::Text(t))) => {
                    let reply = control(t.as_str(), streams, combined);
                    shared.market_sockets.set(id, streams);
                    if socket.send(Message::Text(reply.to_string().into())).await.is_err() {
                        break;
                    }
                }
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                Some(Ok(_)) => {}
            },
            ev = rx.recv() => match ev {
                Ok(ev) => {
                    // A stalled market socket drops what it would send: marks are sent
                    // again every second, so what matters is that none arrives.
                    if !streams.contains(&ev.stream) || shared.faults.market_stalled() {
                        continue;
                    }
                    let body = if *combined {
                        json!({"stream": ev.stream, "data": ev.payload})
                    } else {
                        ev.payload.clone()
                    };
                    if socket.send(Message::Text(body.to_string().into())).await.is_err() {
                        break;
                    }
                }
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => break,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_frames() {
        let mut s = BTreeSet::new();
        let mut c = false;
        let r = control(
            r#"{"method":"SUBSCRIBE","params":["btcusdt@aggTrade"],"id":1}"#,
            &mut s,
            &mut c,
        );
        assert_eq!(
            r,
            json!({"result": null, "id": 1}),
            "subscribe acknowledged"
        );
        let r = control(r#"{"method":"LIST_SUBSCRIPTIONS","id":3}"#, &mut s, &mut c);
        assert_eq!(
            r,
            json!({"result": ["btcusdt@aggTrade"], "id": 3}),
            "list shows the stream"
        );
        let r = control("not json", &mut s, &mut c);
        assert_eq!(r["code"], json!(3), "bad JSON answered with code 3");
    }
}
