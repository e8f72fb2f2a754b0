//! The REST side of the Binance adapter against the loopback venue: signing checked
//! server-side, every port method, pre-send filters, rate limits, bans, clock skew,
//! timeouts, error classes and key checks.

use std::sync::Arc;
use std::time::Duration;

use axum::http::Method;
use copydesk::domain::{MarginMode, PositionMode, PositionSide, Quantity, Side};
use copydesk::exchange::binance_usdm::keycheck::judge;
use copydesk::exchange::binance_usdm::parse::ApiRestrictions;
use copydesk::exchange::binance_usdm::{HttpConfig, Options, WeightLimiter};
use copydesk::exchange::{
    ClientOrderId, ErrorClass, Exchange, ExchangeError, IncomeQuery, KeyFinding, KeyRole,
    KeyVerdict, OrderKind, OrderRequest, OrderStatus, Placement, TimeInForce,
};
use rust_decimal_macros::dec;

use super::support::{FakeVenue, ManualClock, Scripted, API_KEY};

const START: i64 = 1_700_000_000_000;

fn cid(s: &str) -> ClientOrderId {
    ClientOrderId::new(s).expect("valid client id")
}

fn market(qty: rust_decimal::Decimal) -> OrderRequest {
    OrderRequest {
        client_id: cid("cd0000000000000000000000000000a1"),
        symbol: "BLZUSDT".into(),
        side: Side::Buy,
        position_side: PositionSide::Both,
        kind: OrderKind::Market,
        quantity: Quantity::new(qty).expect("valid quantity"),
        reduce_only: false,
        margin_mode: MarginMode::Cross,
    }
}

#[tokio::test]
async fn signed_order_is_accepted_by_a_server_checking_the_hmac() {
    let venue = FakeVenue::start().await;
    let ex = venue.adapter(ManualClock::new(START), None);
    let mut order = market(dec!(0));
    order.kind = OrderKind::Limit {
        price: "0.12345".parse().expect("price"),
        time_in_force: TimeInForce::GoodTillCancel,
    };
    order.side = Side::Sell;
    order.quantity = Quantity::new(dec!(100.7)).expect("qty");
    let placed = ex.place_order(&order).await.expect("order accepted");
    let Placement::Acknowledged(report) = placed else {
        panic!("an answered order must be acknowledged, got {placed:?}")
    };
    assert_eq!(report.status, OrderStatus::New, "limit order rests");
    let sent = venue.requests_to(&Method::POST, "/fapi/v1/order");
    assert_eq!(sent.len(), 1, "exactly one order sent");
    let r = &sent[0];
    assert_eq!(r.signature_ok, Some(true), "server-side HMAC must match");
    assert_eq!(r.api_key.as_deref(), Some(API_KEY), "key header sent");
    assert!(r.query.is_empty(), "POST parameters travel in the body");
    assert!(
        r.body
            .rsplit('&')
            .next()
            .is_some_and(|p| p.starts_with("signature=")),
        "signature must be the last parameter: {}",
        r.body
    );
    let p = r.params();
    assert_eq!(p["quantity"], "100", "quantity floored to the step of 1");
    assert_eq!(
        p["price"], "0.1235",
        "sell price rounded up to the 0.0001 tick"
    );
    assert_eq!(p["timeInForce"], "GTC", "limit orders carry GTC");
    assert_eq!(p["positionSide"], "BOTH", "one-way orders say BOTH");
    assert_eq!(p["recvWindow"], "5000", "recvWindow sent");
    assert!(!p.contains_key("reduceOnly"), "reduceOnly only when asked");
}

#[tokio::test]
async fn orders_below_the_minimums_are_never_sent() {
    let venue = FakeVenue::start().await;
    let ex = venue.adapter(ManualClock::new(START), None);
    *venue.state.mark_price.lock().expect("lock") = "0.1".into();
    // 20 × 0.1 = 2 USDT < MIN_NOTIONAL 5.
    let err = ex
        .place_order(&market(dec!(20)))
        .await
        .expect_err("below notional");
    assert!(
        matches!(err, ExchangeError::Filter { .. }),
        "filter error, got {err:?}"
    );
    assert_eq!(
        err.class(),
        ErrorClass::Rejected,
        "a filter refusal is a rejection, not retryable"
    );
    let err = ex
        .place_order(&market(dec!(0.5)))
        .await
        .expect_err("rounds to zero");
    assert!(matches!(err, ExchangeError::Filter { .. }), "{err:?}");
    let mut closing = market(dec!(20));
    closing.reduce_only = true;
    ex.place_order(&closing)
        .await
        .expect("reduce-only is exempt from min notional");
    let sent = venue.requests_to(&Method::POST, "/fapi/v1/order");
    assert_eq!(
        sent.len(),
        1,
        "only the reduce-only order reached the venue"
    );
    assert_eq!(
        sent[0].params()["reduceOnly"],
        "true",
        "one-way closes carry reduceOnly"
    );
}

#[tokio::test]
async fn rate_limit_429_pauses_until_retry_after() {
    let venue = FakeVenue::start().await;
    let clock = ManualClock::new(START);
    let ex = venue.adapter(clock.clone(), None);
    ex.position_mode()
        .await
        .expect("first call syncs time and succeeds");
    venue.script(
        Method::GET,
        "/fapi/v1/positionSide/dual",
        Scripted::error(429, -1003, "Too many requests.").header("retry-after", "7"),
    );
    let err = ex.position_mode().await.expect_err("429 surfaces");
    assert_eq!(
        err,
        ExchangeError::RateLimited {
            code: Some(-1003),
            retry_after: Some(Duration::from_secs(7))
        },
        "429 keeps the code and Retry-After"
    );
    assert_eq!(err.class(), ErrorClass::Transient, "a 429 is retryable");
    let before = venue.requests().len();
    let skip = clock.sleeps().len();
    let ex2 = ex.clone();
    let next = tokio::spawn(async move { ex2.position_mode().await });
    let waited = clock.wait_for_sleep(skip, |_| true).await;
    assert_eq!(
        waited,
        Duration::from_secs(7),
        "the next call waits out Retry-After"
    );
    assert_eq!(
        venue.requests().len(),
        before,
        "nothing is sent while paused"
    );
    clock.advance(Duration::from_secs(7));
    let mode = tokio::time::timeout(Duration::from_secs(10), next)
        .await
        .expect("hang guard")
        .expect("task")
        .expect("call succeeds after the pause");
    assert_eq!(
        mode,
        PositionMode::Hedge,
        "the paused call returns the venue's answer"
    );
}

#[tokio::test]
async fn ban_418_stops_all_requests_until_it_lifts() {
    let venue = FakeVenue::start().await;
    let clock = ManualClock::new(START);
    let limiter = Arc::new(WeightLimiter::new(2400, clock.clone()));
    let a = venue.adapter(clock.clone(), Some(limiter.clone()));
    let b = venue.adapter(clock.clone(), Some(limiter));
    a.position_mode().await.expect("works before the ban");
    venue.script(
        Method::GET,
        "/fapi/v1/positionSide/dual",
        Scripted::error(418, -1003, "Way too many requests; IP banned.")
            .header("retry-after", "120"),
    );
    let err = a.position_mode().await.expect_err("418 surfaces");
    assert_eq!(
        err,
        ExchangeError::Banned {
            retry_after: Duration::from_secs(120)
        },
        "418 becomes a ban of Retry-After seconds"
    );
    let before = venue.requests().len();
    let err = b
        .multi_assets_mode()
        .await
        .expect_err("another account on the same IP is banned too");
    assert!(matches!(err, ExchangeError::Banned { .. }), "{err:?}");
    assert_eq!(
        venue.requests().len(),
        before,
        "nothing reaches the venue during a ban"
    );
    clock.advance(Duration::from_secs(121));
    b.multi_assets_mode()
        .await
        .expect("requests resume after the ban");
}

#[tokio::test]
async fn persistent_skew_gives_up_after_one_retry() {
    let venue = FakeVenue::start().await;
    let ex = venue.adapter(ManualClock::new(START), None);
    ex.position_mode().await.expect("synced");
    for _ in 0..2 {
        venue.script(
            Method::GET,
            "/fapi/v1/positionSide/dual",
            Scripted::error(
                400,
                -1021,
                "Timestamp for this request is outside of the recvWindow.",
            ),
        );
    }
    let err = ex.position_mode().await.expect_err("still skewed");
    assert!(
        matches!(err, ExchangeError::ClockSkew { code: -1021, .. }),
        "{err:?}"
    );
    assert_eq!(err.class(), ErrorClass::Transient, "skew is retryable");
    assert_eq!(
        venue
            .requests_to(&Method::GET, "/fapi/v1/positionSide/dual")
            .len(),
        3,
        "one success, then exactly two attempts"
    );
}

#[tokio::test]
async fn timeouts_leave_placements_unconfirmed() {
    let venue = FakeVenue::start().await;
    let options = Options {
        http: HttpConfig {
            timeout: Duration::from_millis(1500),
            ..HttpConfig::default()
        },
        ..Options::default()
    };
    let ex = venue.adapter_with(ManualClock::new(START), None, options);
    ex.symbol_rules().await.expect("rules");
    venue.script(
        Method::POST,
        "/fapi/v1/order",
        Scripted::ok("{}").delayed(Duration::from_secs(10)),
    );
    let mut order = market(dec!(100));
    order.kind = OrderKind::Limit {
        price: "0.1".parse().expect("price"),
        time_in_force: TimeInForce::GoodTillCancel,
    };
    let placed = ex
        .place_order(&order)
        .await
        .expect("a timeout is not an error for a placement");
    assert!(
        matches!(&placed, Placement::Unconfirmed { client_id, .. } if client_id == &order.client_id),
        "sent but unanswered is its own state, got {placed:?}"
    );
    venue.script(
        Method::GET,
        "/fapi/v1/income",
        Scripted::ok("[]").delayed(Duration::from_secs(10)),
    );
    let err = ex
        .income(&IncomeQuery::default())
        .await
        .expect_err("read timed out");
    assert_eq!(
        err,
        ExchangeError::Timeout {
            after: Duration::from_millis(1500)
        },
        "a read that times out reports the deadline"
    );
    assert_eq!(err.class(), ErrorClass::Transient, "a timeout is retryable");
}

#[tokio::test]
async fn errors_are_classified_with_the_venue_code() {
    let venue = FakeVenue::start().await;
    let ex = venue.adapter(ManualClock::new(START), None);
    let cases = [
        (
            Scripted::error(400, -2019, "Margin is insufficient."),
            ErrorClass::Rejected,
            Some(-2019),
        ),
        (
            Scripted::error(
                401,
                -2015,
                "Invalid API-key, IP, or permissions for action.",
            ),
            ErrorClass::Fatal,
            Some(-2015),
        ),
        (
            Scripted::error(401, -2014, "API-key format invalid."),
            ErrorClass::Fatal,
            Some(-2014),
        ),
        (
            Scripted::error(400, -1022, "Signature for this request is not valid."),
            ErrorClass::Fatal,
            Some(-1022),
        ),
        (
            Scripted::error(503, -1008, "Request throttled by system-level protection."),
            ErrorClass::Transient,
            Some(-1008),
        ),
        (
            Scripted {
                status: 502,
                body: String::new(),
                headers: vec![],
                delay: None,
            },
            ErrorClass::Transient,
            None,
        ),
    ];
    ex.position_mode().await.expect("synced");
    for (answer, class, code) in cases {
        venue.script(Method::GET, "/fapi/v1/multiAssetsMargin", answer.clone());
        let err = ex.multi_assets_mode().await.expect_err("scripted failure");
        assert_eq!(err.class(), class, "class for {answer:?}: {err}");
        assert_eq!(err.venue_code(), code, "code kept for {answer:?}");
    }
    venue.script(
        Method::GET,
        "/fapi/v1/multiAssetsMargin",
        Scripted::error(
            401,
            -2015,
            "Invalid API-key, IP, or permissions for action.",
        ),
    );
    let err = ex.multi_assets_mode().await.expect_err("-2015");
    assert!(
        matches!(err, ExchangeError::KeyRejected { code: -2015, .. }),
        "-2015 is a distinguishable key rejection the runtime can pause on: {err:?}"
    );
    ex.symbol_rules().await.expect("rules");
    venue.script(
        Method::POST,
        "/fapi/v1/order",
        Scripted::error(
            503,
            -1,
            "Unknown error, please check your request or try again later.",
        ),
    );
    *venue.state.mark_price.lock().expect("lock") = "1".into();
    let placed = ex
        .place_order(&market(dec!(10)))
        .await
        .expect("unknown outcome is not an error");
    assert!(
        matches!(placed, Placement::Unconfirmed { .. }),
        "503 unknown → unconfirmed: {placed:?}"
    );
}

#[tokio::test]
async fn weight_header_near_the_limit_delays_the_next_call() {
    let clock = ManualClock::new(START);
    // The venue counts weight on the same clock, so its header and our window agree.
    let venue = FakeVenue::start_with(clock.clone(), 0).await;
    let ex = venue.adapter(
        clock.clone(),
        Some(Arc::new(WeightLimiter::new(100, clock.clone()))),
    );
    ex.position_mode().await.expect("synced");
    venue.script(
        Method::GET,
        "/fapi/v1/multiAssetsMargin",
        Scripted::ok(r#"{"multiAssetsMargin":false}"#).header("x-mbx-used-weight-1m", "79"),
    );
    ex.multi_assets_mode().await.expect("answered");
    let skip = clock.sleeps().len();
    let before = venue.requests().len();
    let ex2 = ex.clone();
    let next = tokio::spawn(async move { ex2.position_mode().await });
    let waited = clock.wait_for_sleep(skip, |_| true).await;
    assert!(
        waited <= Duration::from_secs(60),
        "waits at most to the next minute"
    );
    assert_eq!(
        venue.requests().len(),
        before,
        "throttled before the limit, not sent"
    );
    clock.advance(waited);
    tokio::time::timeout(Duration::from_secs(10), next)
        .await
        .expect("hang guard")
        .expect("task")
        .expect("sent in the next minute");
}

#[tokio::test]
async fn key_check_cannot_verify_where_the_host_has_no_wallet_api() {
    // The simulator serves apiRestrictions, so hosts without it are scripted here.
    let venue = FakeVenue::start().await;
    let ex = venue.adapter(ManualClock::new(START), None);
    let path = "/sapi/v1/account/apiRestrictions";

    // A bare 404, as from a host without the route.
    let c = ex.check_key(KeyRole::Leader).await.expect("check");
    assert_eq!(
        (c.verdict, c.findings.len()),
        (KeyVerdict::CannotVerify, 0),
        "a bare 404 means the permissions cannot be verified"
    );
    // The venue's own "invalid path" answer.
    venue.script(
        Method::GET,
        path,
        Scripted::error(
            404,
            -5000,
            "Path /sapi/v1/account/apiRestrictions, Method GET is invalid",
        ),
    );
    let c = ex.check_key(KeyRole::Follower).await.expect("check");
    assert_eq!(
        c.verdict,
        KeyVerdict::CannotVerify,
        "the venue's invalid-path code (-5000) also means cannot verify: {c:?}"
    );
    assert!(
        c.findings.is_empty(),
        "a host without test orders proves nothing either: {c:?}"
    );
    // Where the host takes test orders, a follower key proves it can trade; the rest stays
    // unverified.
    venue.script(Method::POST, "/fapi/v1/order/test", Scripted::ok("{}"));
    let c = ex.check_key(KeyRole::Follower).await.expect("check");
    assert_eq!(
        (c.verdict, c.findings.clone()),
        (KeyVerdict::CannotVerify, vec![KeyFinding::TradingProven]),
        "an accepted test order proves trading, nothing more: {c:?}"
    );
    venue.script(
        Method::POST,
        "/fapi/v1/order/test",
        Scripted::error(
            401,
            -2015,
            "Invalid API-key, IP, or permissions for action.",
        ),
    );
    let c = ex.check_key(KeyRole::Follower).await.expect("check");
    assert_eq!(
        c.verdict,
        KeyVerdict::Refused,
        "a refused test order refuses a follower key: {c:?}"
    );
    // A key the futures API refuses, on a host that cannot say why.
    venue.script(
        Method::GET,
        "/fapi/v1/accountConfig",
        Scripted::error(
            401,
            -2015,
            "Invalid API-key, IP, or permissions for action.",
        ),
    );
    let c = ex.check_key(KeyRole::Leader).await.expect("check");
    assert_eq!(
        c.verdict,
        KeyVerdict::Refused,
        "a key the venue refuses is refused"
    );
    assert!(
        matches!(
            c.findings.as_slice(),
            [KeyFinding::KeyRejected {
                code: Some(-2015),
                ..
            }]
        ),
        "the refusal keeps the venue's code: {c:?}"
    );
    for r in venue.requests_to(&Method::GET, path) {
        assert_eq!(r.signature_ok, Some(true), "apiRestrictions is signed");
    }
}
#[test]
fn leader_keys_warn_when_they_can_trade() {
    let r = ApiRestrictions {
        ip_restrict: true,
        enable_reading: true,
        enable_withdrawals: false,
        enable_futures: false,
        enable_spot_and_margin_trading: false,
        trading_authority_expiration_time: None,
    };
    assert_eq!(
        judge(&r, KeyRole::Leader, START).verdict,
        KeyVerdict::Accepted,
        "read-only leader key is fine"
    );
    let trading = ApiRestrictions {
        enable_futures: true,
        ..r.clone()
    };
    let c = judge(&trading, KeyRole::Leader, START);
    assert_eq!(
        c.verdict,
        KeyVerdict::Accepted,
        "a trading leader key only warns"
    );
    assert!(c.findings.contains(&KeyFinding::LeaderKeyCanTrade), "{c:?}");
    let no_read = ApiRestrictions {
        enable_reading: false,
        ..r
    };
    assert_eq!(
        judge(&no_read, KeyRole::Leader, START).verdict,
        KeyVerdict::Refused,
        "a key that cannot read is refused"
    );
}

#[tokio::test]
async fn symbols_that_stop_trading_are_reported_once() {
    let venue = FakeVenue::start().await;
    let ex = venue.adapter(ManualClock::new(START), None);
    let first = ex.symbol_rules().await.expect("rules");
    assert!(first.stopped_trading.is_empty(), "nothing stopped yet");
    let settling =
        super::support::fixture("http_exchange_info").replace("\"TRADING\"", "\"SETTLING\"");
    venue.script(
        Method::GET,
        "/fapi/v1/exchangeInfo",
        Scripted::ok(settling.clone()),
    );
    let second = ex.symbol_rules().await.expect("rules");
    assert_eq!(
        second.stopped_trading,
        vec!["BLZUSDT".to_string()],
        "the halt is reported"
    );
    venue.script(Method::GET, "/fapi/v1/exchangeInfo", Scripted::ok(settling));
    let third = ex.symbol_rules().await.expect("rules");
    assert!(
        third.stopped_trading.is_empty(),
        "a halt is reported once, not on every fetch"
    );
    let err = ex
        .place_order(&market(dec!(100)))
        .await
        .expect_err("halted symbol");
    assert!(
        matches!(
            err,
            ExchangeError::Invalid {
                field: "symbol",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        venue
            .requests_to(&Method::POST, "/fapi/v1/order")
            .is_empty(),
        "no order is sent for a halted symbol"
    );
}

#[test]
fn accounts_on_one_host_share_one_limiter() {
    let a = WeightLimiter::shared_for("fapi.example:443");
    let b = WeightLimiter::shared_for("fapi.example:443");
    let c = WeightLimiter::shared_for("other.example:443");
    assert!(Arc::ptr_eq(&a, &b), "same host, same limiter");
    assert!(!Arc::ptr_eq(&a, &c), "another host has its own budget");
    assert_eq!(a.budget(), 1920, "80 % of the 2400 weight per minute");
}

#[tokio::test]
async fn an_accepted_order_with_an_unreadable_answer_is_unconfirmed() {
    let venue = FakeVenue::start().await;
    let ex = venue.adapter(ManualClock::new(START), None);
    *venue.state.mark_price.lock().expect("lock") = "1".into();
    venue.script(
        Method::POST,
        "/fapi/v1/order",
        Scripted::ok(r#"{"orderId":"garbled"}"#),
    );
    let placed = ex
        .place_order(&market(dec!(10)))
        .await
        .expect("not an error");
    assert!(
        matches!(&placed, Placement::Unconfirmed { reason, .. } if reason.contains("accepted")),
        "the order may exist, so it must be looked up, not resent: {placed:?}"
    );
}

#[tokio::test]
async fn orders_are_paced_below_the_account_order_limit() {
    let clock = ManualClock::new(START);
    let venue = FakeVenue::start_with(clock.clone(), 0).await;
    let options = Options {
        http: HttpConfig {
            orders_per_10s: 10,
            ..HttpConfig::default()
        },
        ..Options::default()
    };
    let ex = venue.adapter_with(clock.clone(), None, options);
    *venue.state.mark_price.lock().expect("lock") = "1".into();
    ex.symbol_rules().await.expect("rules");
    let burst = {
        let ex = ex.clone();
        tokio::spawn(async move {
            for _ in 0..9 {
                ex.place_order(&market(dec!(10)))
                    .await
                    .expect("order placed");
            }
        })
    };
    clock
        .wait_for_sleep(0, |d| d <= Duration::from_secs(10))
        .await;
    assert_eq!(
        venue.requests_to(&Method::POST, "/fapi/v1/order").len(),
        8,
        "8 orders (80 % of 10 per 10 s) go out, the 9th waits"
    );
    clock.advance(Duration::from_secs(10));
    tokio::time::timeout(Duration::from_secs(10), burst)
        .await
        .expect("hang guard")
        .expect("the 9th order goes out in the next window");
    assert_eq!(
        venue.requests_to(&Method::POST, "/fapi/v1/order").len(),
        9,
        "all orders sent in the end"
    );
}
