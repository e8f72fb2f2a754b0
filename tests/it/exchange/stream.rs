//! The user-data stream against the loopback venue's WebSocket: resync after every
//! connect, events with receive times, ping/pong, reconnect with backoff, listen-key
//! expiry and keepalive, the 24-hour limit, and a revoked key. Time is a hand-moved
//! clock; real time only bounds waits as hang guards.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::Message as AxMessage;
use axum::http::Method;
use copydesk::exchange::events::Execution;
use copydesk::exchange::{AccountEvent, Clock, EventStream, Exchange, ExchangeError};
use rust_decimal_macros::dec;

use super::support::{fixture, FakeVenue, ManualClock, Scripted, ToClient, WsConn};

const START: i64 = 1_700_000_000_000;

async fn next_event(stream: &mut EventStream) -> AccountEvent {
    tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .expect("an event should arrive (hang guard)")
        .expect("the stream should still be open")
}

async fn expect_resynced(stream: &mut EventStream) {
    let ev = next_event(stream).await;
    assert!(
        matches!(&ev, AccountEvent::Resynced(r) if r.snapshot.equity == dec!(103.12345678)),
        "after every connect the stream sends a fresh snapshot, got {ev:?}"
    );
}

async fn expect_disconnected(stream: &mut EventStream) -> String {
    match next_event(stream).await {
        AccountEvent::Disconnected(d) => d.reason,
        other => panic!("a lost connection should be reported, got {other:?}"),
    }
}

async fn setup() -> (Arc<ManualClock>, FakeVenue, EventStream, WsConn) {
    let clock = ManualClock::new(START);
    let venue = FakeVenue::start_with(clock.clone(), 0).await;
    let ex = venue.adapter(clock.clone(), None);
    let mut stream = ex.subscribe().await.expect("subscribe");
    let conn = venue.next_ws().await;
    expect_resynced(&mut stream).await;
    (clock, venue, stream, conn)
}

async fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    tokio::time::timeout(Duration::from_secs(10), async {
        while !cond() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("{what} (hang guard)"));
}

#[tokio::test]
async fn events_arrive_after_the_resync_with_receive_time_and_pings_are_answered() {
    let (clock, venue, mut stream, mut conn) = setup().await;
    assert_eq!(
        conn.listen_key, "key0",
        "the socket uses the created listen key"
    );
    assert_eq!(
        venue.requests_to(&Method::POST, "/fapi/v1/listenKey")[0].signature_ok,
        None,
        "listen key calls carry the key header only, no signature"
    );
    clock.advance(Duration::from_millis(250));
    conn.to_client
        .send(ToClient::Text(fixture("ws_order_trade_update_trade")))
        .expect("venue sends");
    match next_event(&mut stream).await {
        AccountEvent::Order(u) => {
            assert!(matches!(u.execution, Execution::Trade(_)), "a fill");
            assert_eq!(u.times.venue, 1700000000110, "venue time E");
            assert_eq!(
                u.times.received,
                START + 250,
                "local receive time from the clock"
            );
        }
        other => panic!("order update expected, got {other:?}"),
    }
    conn.to_client
        .send(ToClient::Ping(b"hi".to_vec()))
        .expect("venue pings");
    let pong = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match conn.from_client.recv().await {
                Some(AxMessage::Pong(p)) => return p,
                Some(_) => continue,
                None => panic!("socket closed before the pong"),
            }
        }
    })
    .await
    .expect("a pong should come back (hang guard)");
    assert_eq!(&pong[..], b"hi", "pong echoes the ping payload");
}

#[tokio::test]
async fn a_forced_disconnect_reconnects_with_backoff_and_resyncs() {
    let (clock, venue, mut stream, conn) = setup().await;
    // While the socket is down the account changes; only the resync can tell.
    let changed = fixture("http_account").replace(
        "\"totalMarginBalance\": \"103.12345678\"",
        "\"totalMarginBalance\": \"250.5\"",
    );
    assert!(changed.contains("250.5"), "the fixture edit must apply");
    venue.script(Method::GET, "/fapi/v3/account", Scripted::ok(changed));
    conn.to_client.send(ToClient::Close).expect("venue closes");
    let reason = expect_disconnected(&mut stream).await;
    assert!(
        reason.contains("closed"),
        "reason says the venue closed: {reason}"
    );
    let d = clock
        .wait_for_sleep(0, |d| d < Duration::from_secs(60))
        .await;
    assert_eq!(
        d,
        Duration::from_secs(1),
        "a connection that died young backs off 1 s first"
    );
    clock.advance(d);
    let conn2 = venue.next_ws().await;
    match next_event(&mut stream).await {
        AccountEvent::Resynced(r) => assert_eq!(
            r.snapshot.equity,
            dec!(250.5),
            "the resync snapshot carries what changed while disconnected"
        ),
        other => panic!("a reconnect must be followed by a resync, got {other:?}"),
    }
    assert_eq!(
        conn2.listen_key, "key1",
        "a listen key is requested for every connection"
    );
    assert_eq!(
        venue.requests_to(&Method::GET, "/fapi/v3/account").len(),
        2,
        "one snapshot per connect"
    );
}

#[tokio::test]
async fn repeated_failures_back_off_exponentially() {
    let clock = ManualClock::new(START);
    let venue = FakeVenue::start_with(clock.clone(), 0).await;
    venue
        .state
        .refuse_ws
        .store(3, std::sync::atomic::Ordering::SeqCst);
    let ex = venue.adapter(clock.clone(), None);
    let mut stream = ex.subscribe().await.expect("subscribe");
    // No session gets far enough to start timers, so the only sleeps are backoffs.
    for (i, want) in [1u64, 2, 4].into_iter().enumerate() {
        let reason = expect_disconnected(&mut stream).await;
        assert!(reason.contains("socket"), "{reason}");
        let d = clock.wait_for_sleep(i, |_| true).await;
        assert_eq!(
            d,
            Duration::from_secs(want),
            "backoff doubles on each failure"
        );
        clock.advance(d);
    }
    let _conn = venue.next_ws().await;
    expect_resynced(&mut stream).await;
}

#[tokio::test]
async fn listen_key_expiry_brings_a_new_key_at_once_for_a_healthy_session() {
    let (clock, venue, mut stream, conn) = setup().await;
    clock.advance(Duration::from_secs(61));
    conn.to_client
        .send(ToClient::Text(fixture("ws_listen_key_expired_int")))
        .expect("venue sends expiry");
    let reason = expect_disconnected(&mut stream).await;
    assert!(reason.contains("expired"), "{reason}");
    let conn2 = venue.next_ws().await;
    assert_eq!(conn2.listen_key, "key1", "a new listen key after expiry");
    expect_resynced(&mut stream).await;
    assert!(
        clock.sleeps().iter().all(|d| *d >= Duration::from_secs(60)),
        "no backoff after a healthy session: {:?}",
        clock.sleeps()
    );
}

#[tokio::test]
async fn keepalive_is_sent_and_an_unknown_key_reconnects() {
    let (clock, venue, mut stream, _conn) = setup().await;
    clock.advance(Duration::from_secs(30 * 60));
    wait_until("a keepalive should be sent after 30 minutes", || {
        venue.requests_to(&Method::PUT, "/fapi/v1/listenKey").len() == 1
    })
    .await;
    venue.script(
        Method::PUT,
        "/fapi/v1/listenKey",
        Scripted::error(400, -1125, "This listenKey does not exist."),
    );
    clock.advance(Duration::from_secs(30 * 60));
    let reason = expect_disconnected(&mut stream).await;
    assert!(reason.contains("listen key"), "{reason}");
    let conn2 = venue.next_ws().await;
    assert_eq!(conn2.listen_key, "key1", "a new listen key after -1125");
    expect_resynced(&mut stream).await;
}

#[tokio::test]
async fn the_connection_is_renewed_before_24_hours() {
    let (clock, venue, mut stream, _conn) = setup().await;
    clock.advance(Duration::from_secs(23 * 3600 + 30 * 60));
    let reason = expect_disconnected(&mut stream).await;
    assert!(reason.contains("maximum age"), "{reason}");
    let _conn2 = venue.next_ws().await;
    expect_resynced(&mut stream).await;
}

#[tokio::test]
async fn a_revoked_key_stops_the_stream_with_a_fatal_error() {
    let clock = ManualClock::new(START);
    let venue = FakeVenue::start_with(clock.clone(), 0).await;
    venue.script(
        Method::POST,
        "/fapi/v1/listenKey",
        Scripted::error(
            401,
            -2015,
            "Invalid API-key, IP, or permissions for action.",
        ),
    );
    let ex = venue.adapter(clock.clone(), None);
    let mut stream = ex.subscribe().await.expect("subscribe");
    match next_event(&mut stream).await {
        AccountEvent::Failed(f) => assert!(
            matches!(f.error, ExchangeError::KeyRejected { code: -2015, .. }),
            "the runtime must see a -2015 key rejection to pause copies: {:?}",
            f.error
        ),
        other => panic!("a failed stream must say so, got {other:?}"),
    }
    let end = tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .expect("hang guard");
    assert!(end.is_none(), "the stream ends after a fatal error");
    assert_eq!(clock.now_ms(), START, "no time was needed");
}

#[tokio::test]
async fn dropping_the_stream_closes_the_socket() {
    let (_clock, _venue, stream, mut conn) = setup().await;
    drop(stream);
    let closed = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match conn.from_client.recv().await {
                Some(AxMessage::Close(_)) | None => return true,
                Some(_) => continue,
            }
        }
    })
    .await
    .expect("the socket should close (hang guard)");
    assert!(closed, "dropping the stream closes the socket");
}
