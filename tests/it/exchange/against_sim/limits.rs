//! Rate limits and clock skew against the simulator: several accounts sharing one limiter
//! push more weight than the simulator allows per minute and are throttled into the next
//! window instead of being refused or banned; a server clock shifted either way is
//! recovered from with one resync.

use std::sync::Arc;
use std::time::Duration;

use copydesk::exchange::binance_usdm::{HttpConfig, Options, WeightLimiter};
use copydesk::exchange::{Clock, Exchange, IncomeQuery, TradeQuery};
use copydesk::sim::{LimitConfig, SimConfig};
use rust_decimal_macros::dec;
use serde_json::json;

use super::support::{account, adapter, adapter_with, fault, start_sim, LinkedClock};

/// Large enough that the limiter's 20 % margin (200) exceeds what other accounts can have
/// in flight when a window turns (three requests of at most 40), small enough to need
/// several windows.
const LIMIT: u32 = 1000;

#[tokio::test]
async fn a_burst_across_accounts_is_throttled_by_the_shared_limiter_never_refused() {
    let sim = Arc::new(
        start_sim(SimConfig {
            limits: LimitConfig {
                weight_per_minute: LIMIT,
                // One violation already bans: any 429 would surface as a failure below.
                violations_before_ban: 0,
                ..LimitConfig::default()
            },
            ..SimConfig::default()
        })
        .await,
    );
    let clock = LinkedClock::new(sim.clone());
    let dyn_clock: Arc<dyn Clock> = clock.clone();
    // The limiter starts at the venue's usual 2,400 and learns the real limit from
    // exchangeInfo, as it would in production.
    let limiter = Arc::new(WeightLimiter::new(2400, dyn_clock.clone()));
    // Simulated minutes pass in an instant, so a request signed before a jump arrives
    // minutes "late": a long receive window accepts it. Resyncing only once keeps the
    // offset from catching the server clock halfway through a jump.
    let options = Options {
        http: HttpConfig {
            recv_window_ms: 3_600_000,
            time_resync_every: Duration::from_secs(86_400),
            ..HttpConfig::default()
        },
        ..Options::default()
    };
    let accounts: Vec<_> = (0..4)
        .map(|_| {
            let keys = account(&sim, dec!(1000));
            adapter_with(
                &sim,
                &keys,
                dyn_clock.clone(),
                limiter.clone(),
                options.clone(),
            )
        })
        .collect();
    let first_window = sim.now() / 60_000;
    accounts[0].symbol_rules().await.expect("exchangeInfo");
    assert_eq!(
        limiter.budget(),
        LIMIT * 8 / 10,
        "the shared limiter adopts the simulator's published limit, keeping a margin"
    );

    // Each account, six times: a snapshot (100 weight), income (30) and trades (5): 810
    // per account, 3,240 in all, four times the limiter's budget of one minute.
    let mut tasks = Vec::new();
    for ex in accounts {
        tasks.push(tokio::spawn(async move {
            for _ in 0..6 {
                ex.account().await?;
                ex.income(&IncomeQuery::default()).await?;
                ex.user_trades(&TradeQuery {
                    symbol: "BTCUSDT".into(),
                    ..TradeQuery::default()
                })
                .await?;
            }
            Ok::<_, copydesk::exchange::ExchangeError>(())
        }));
    }
    for t in tasks {
        tokio::time::timeout(Duration::from_secs(60), t)
            .await
            .expect("the burst should finish (hang guard)")
            .expect("task")
            .expect("every call of the burst succeeds: no 429, no 418");
    }
    let windows = sim.now() / 60_000 - first_window + 1;
    assert!(
        windows >= 5,
        "3,240 weight at 800 a minute needs at least five windows; the limiter waited \
         them out (spanned {windows}, skipped {} ms)",
        clock.skipped_ms().await
    );
}

#[tokio::test]
async fn a_server_clock_shifted_either_way_is_recovered_with_one_resync() {
    let sim = start_sim(SimConfig::default()).await;
    let keys = account(&sim, dec!(1000));
    let ex = adapter(&sim, &keys);
    ex.account().await.expect("first call syncs the time");
    let before = ex.raw().time_offset_ms();
    assert!(before.abs() < 1_000, "no skew yet: offset {before} ms");

    for shift in [-4_000i64, 9_000] {
        fault(&sim, json!({ "clockShiftMs": shift })).await;
        ex.income(&IncomeQuery::default())
            .await
            .unwrap_or_else(|e| panic!("a {shift} ms shift must be recovered from: {e}"));
        let offset = ex.raw().time_offset_ms();
        assert!(
            (offset - shift).abs() < 1_000,
            "after -1021 the offset follows the server clock: shift {shift}, offset {offset}"
        );
    }
}

#[tokio::test]
async fn orders_are_paced_below_the_order_limit_the_simulator_publishes() {
    let sim = Arc::new(
        start_sim(SimConfig {
            limits: LimitConfig {
                orders_per_10s: 5,
                ..LimitConfig::default()
            },
            ..SimConfig::default()
        })
        .await,
    );
    sim.set_price("BTCUSDT", dec!(50000)).expect("price set");
    let clock = LinkedClock::new(sim.clone());
    let dyn_clock: Arc<dyn Clock> = clock.clone();
    let keys = account(&sim, dec!(10000));
    let options = Options {
        http: HttpConfig {
            recv_window_ms: 3_600_000,
            time_resync_every: Duration::from_secs(86_400),
            ..HttpConfig::default()
        },
        ..Options::default()
    };
    let ex = adapter_with(
        &sim,
        &keys,
        dyn_clock.clone(),
        Arc::new(WeightLimiter::new(2400, dyn_clock)),
        options,
    );
    ex.symbol_rules().await.expect("exchangeInfo read");
    let first_window = sim.now() / 10_000;
    for i in 0..12 {
        let mut order = super::support::market(
            &format!("cdpace{i:02}"),
            "BTCUSDT",
            copydesk::domain::Side::Buy,
            dec!(0.003),
        );
        order.kind = copydesk::exchange::OrderKind::Limit {
            price: copydesk::domain::Price::new(dec!(40000)).expect("price"),
            time_in_force: copydesk::exchange::TimeInForce::GoodTillCancel,
        };
        ex.place_order(&order)
            .await
            .unwrap_or_else(|e| panic!("order {i} must be paced, not refused (-1015): {e}"));
    }
    let windows = sim.now() / 10_000 - first_window + 1;
    assert!(
        windows >= 3,
        "12 orders at 4 per 10 seconds (80 % of the published 5) span at least three \
         windows; spanned {windows}"
    );
}

#[tokio::test]
async fn one_account_over_its_order_limit_holds_only_its_own_orders() {
    let sim = Arc::new(start_sim(SimConfig::default()).await);
    sim.set_price("BTCUSDT", dec!(50000)).expect("price set");
    let clock = LinkedClock::new(sim.clone());
    let dyn_clock: Arc<dyn Clock> = clock.clone();
    let limiter = Arc::new(WeightLimiter::new(2400, dyn_clock.clone()));
    let options = Options {
        http: HttpConfig {
            recv_window_ms: 3_600_000,
            time_resync_every: Duration::from_secs(86_400),
            ..HttpConfig::default()
        },
        ..Options::default()
    };
    let (a, b) = (account(&sim, dec!(10000)), account(&sim, dec!(10000)));
    let a = adapter_with(
        &sim,
        &a,
        dyn_clock.clone(),
        limiter.clone(),
        options.clone(),
    );
    let b = adapter_with(&sim, &b, dyn_clock, limiter, options);
    a.symbol_rules().await.expect("rules");
    b.account().await.expect("time synced");
    let mut order = super::support::market(
        "cdcount01",
        "BTCUSDT",
        copydesk::domain::Side::Buy,
        dec!(0.003),
    );
    order.kind = copydesk::exchange::OrderKind::Limit {
        price: copydesk::domain::Price::new(dec!(40000)).expect("price"),
        time_in_force: copydesk::exchange::TimeInForce::GoodTillCancel,
    };

    fault(
        &sim,
        json!({"rejectNext": {"count": 1, "code": -1015, "status": 429,
            "msg": "Too many new orders; current limit is 300 orders per 10 seconds."}}),
    )
    .await;
    let refused = a.place_order(&order).await.expect_err("the injected -1015");
    assert_eq!(
        refused.venue_code(),
        Some(-1015),
        "refused for its order count: {refused:?}"
    );

    b.account().await.expect("another account's reads go on");
    assert_eq!(
        clock.skipped_ms().await,
        0,
        "the other account did not wait: one account's order count pauses no one else"
    );
    a.place_order(&order)
        .await
        .expect("the order goes once its account's window has turned");
    assert!(
        clock.skipped_ms().await > 0,
        "the refused account's next order waited for the next order window"
    );
}

/// A request that waits more than a second for the address's budget is told to the user
/// once, not once per account on the address: the first account to claim the wait gets
/// it, the others nothing until the next such wait. (Each copy used to keep its own
/// count, so ten copies sent ten identical notifications of one wait.)
#[tokio::test]
async fn a_long_wait_of_the_shared_budget_is_claimed_once_for_the_address() {
    let sim = start_sim(SimConfig::default()).await;
    // A minute boundary, so the first window is whole; the clock moves by hand.
    let clock = super::super::support::ManualClock::new(1_800_000_000_000);
    let dyn_clock: Arc<dyn Clock> = clock.clone();
    let limiter = Arc::new(WeightLimiter::new(500, dyn_clock.clone()));
    let [a, b] = [0, 1].map(|_| {
        adapter_with(
            &sim,
            &account(&sim, dec!(10000)),
            dyn_clock.clone(),
            limiter.clone(),
            Options::default(),
        )
    });
    assert!(
        a.claim_weight_wait().is_none() && b.claim_weight_wait().is_none(),
        "nothing waited yet"
    );
    // The window's budget (400 of 500) is spent: the next request waits for the next
    // minute, 60 s on the hand-moved clock.
    let long_wait = || async {
        limiter.acquire(400).await.expect("books the window");
        let waiting = {
            let l = limiter.clone();
            tokio::spawn(async move { l.acquire(10).await })
        };
        for _ in 0..2_000 {
            if limiter.usage().waiting_now == 1 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(limiter.usage().waiting_now, 1, "the request waits");
        clock.advance(Duration::from_secs(60));
        tokio::time::timeout(Duration::from_secs(10), waiting)
            .await
            .expect("the wait ends with the window (hang guard)")
            .expect("joins")
            .expect("books in the next window");
        clock.advance(Duration::from_secs(60));
    };
    long_wait().await;
    let told = a
        .claim_weight_wait()
        .expect("the first account to ask is told");
    assert_eq!(told.long_waits, 1, "{told:?}");
    assert!(told.longest_wait_ms >= 60_000, "{told:?}");
    assert!(
        b.claim_weight_wait().is_none() && a.claim_weight_wait().is_none(),
        "the same wait is not told again, by either account"
    );
    long_wait().await;
    assert!(
        b.claim_weight_wait().is_some(),
        "the next wait is told, by whichever account asks first"
    );
    assert!(a.claim_weight_wait().is_none(), "and once");
}
