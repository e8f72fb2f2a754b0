//! Low-priority reads on the shared weight limiter: an account leader's history (its
//! `userTrades` per symbol in 7-day windows, read for its figures) uses at most half of
//! the budget and stands aside while a copy's request waits, so it never delays a copy.
//! The limiter runs on a hand-moved clock: "waiting" is a state the tests read, never a
//! measured time.

use std::sync::Arc;
use std::time::Duration;

use copydesk::exchange::binance_usdm::{HttpConfig, Options, WeightLimiter};
use copydesk::exchange::{Clock, Exchange};
use copydesk::runtime::leaders::account_history;
use copydesk::sim::{LimitConfig, SimConfig};
use rust_decimal_macros::dec;

use super::super::support::ManualClock;
use super::support::{account, adapter_with, market, start_sim, system_clock};

/// Published by the simulator: budget 400 (80 %), of which background reads get 200.
const LIMIT: u32 = 500;
/// A minute boundary (a multiple of 60,000 ms), so the first window is whole.
const T0: i64 = 1_800_000_000_000;

/// Waits (hang guard only) until `f` holds.
async fn until(what: &str, f: impl Fn() -> bool) {
    for _ in 0..2_000 {
        if f() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    panic!("{what} should come about");
}

#[tokio::test]
async fn a_history_read_stands_aside_and_a_copys_order_goes_without_waiting() {
    let sim = start_sim(SimConfig {
        // Published but not enforced: the simulator's minute is real time, the limiter's
        // is moved by hand.
        limits: LimitConfig {
            enabled: false,
            weight_per_minute: LIMIT,
            ..LimitConfig::default()
        },
        ..SimConfig::default()
    })
    .await;
    sim.set_price("BTCUSDT", dec!(50000)).expect("price set");
    let clock = ManualClock::new(T0);
    let limiter_clock: Arc<dyn Clock> = clock.clone();
    let limiter = Arc::new(WeightLimiter::new(LIMIT, limiter_clock));
    let background = Options {
        http: HttpConfig {
            background: true,
            ..HttpConfig::default()
        },
        ..Options::default()
    };
    let leader = adapter_with(
        &sim,
        &account(&sim, dec!(10000)),
        system_clock(),
        limiter.clone(),
        background,
    );
    let follower = adapter_with(
        &sim,
        &account(&sim, dec!(10000)),
        system_clock(),
        limiter.clone(),
        Options::default(),
    );
    // The copy is set up (rules read, clock synced) before the history read starts.
    follower.symbol_rules().await.expect("rules");
    follower.account().await.expect("account");
    let setup = limiter.usage().used;

    // 91 days of one symbol: 13 windows of `userTrades` at weight 5 is 65, more than the
    // 50 background reads may take in one minute.
    let now = sim.now();
    let history =
        tokio::spawn(
            async move { account_history(&leader, &["BTCUSDT".to_owned()], 91, now).await },
        );
    until("the history read waits for the next window", || {
        limiter.background_waiting() == 1 || history.is_finished()
    })
    .await;
    assert!(
        !history.is_finished(),
        "the history read should wait, not end: {:?}, {:?}",
        limiter.usage(),
        history.await
    );
    let used = limiter.usage().used;
    assert!(
        used <= 200,
        "background reads stop at half the budget of 400: {used} used ({setup} before them)"
    );

    // The copy's order goes at once: the limiter never made a copy request wait.
    follower
        .place_order(&market(
            "cdbg01",
            "BTCUSDT",
            copydesk::domain::Side::Buy,
            dec!(0.01),
        ))
        .await
        .expect("the copy's order is placed while the history read waits");
    assert_eq!(
        limiter.usage().waits,
        0,
        "no copy request waited on the limiter"
    );
    assert!(
        !history.is_finished() && limiter.background_waiting() == 1,
        "the history read is still standing aside after the copy's order"
    );

    // Later windows let the history read finish.
    for _ in 0..200 {
        if history.is_finished() {
            break;
        }
        clock.advance(Duration::from_secs(60));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let h = tokio::time::timeout(Duration::from_secs(30), history)
        .await
        .expect("the history read ends (hang guard)")
        .expect("joins")
        .expect("the history read completes in later windows");
    assert!(h.events.is_empty(), "a fresh account has no history: {h:?}");
    assert!(limiter.background_waits() >= 1, "the history read waited");
    assert_eq!(limiter.usage().waits, 0, "and no copy request ever did");
}

#[tokio::test]
async fn a_background_read_never_goes_before_a_waiting_copy_request() {
    let clock = ManualClock::new(T0);
    let c: Arc<dyn Clock> = clock.clone();
    let limiter = Arc::new(WeightLimiter::new(LIMIT, c));
    // 160 of the budget's 400 used: a copy request of 280 must wait for the next window,
    // while a background read of 5 would still fit in its share of 200.
    limiter.acquire(160).await.expect("books");
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let fg = {
        let (l, tx) = (limiter.clone(), tx.clone());
        tokio::spawn(async move {
            l.acquire(280).await.expect("foreground books");
            tx.send("copy").expect("sent");
        })
    };
    until("the copy request waits", || !clock.sleeps().is_empty()).await;
    let bg = {
        let (l, tx) = (limiter.clone(), tx.clone());
        tokio::spawn(async move {
            l.acquire_background(5).await.expect("background books");
            tx.send("history").expect("sent");
        })
    };
    until("the history read waits", || {
        limiter.background_waiting() == 1
    })
    .await;
    assert_eq!(
        limiter.usage().used,
        160,
        "the history read took nothing while a copy request waited"
    );
    // Its short look-again passes while the copy request still waits: it stays aside.
    clock.advance(Duration::from_millis(100));
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert!(
        !bg.is_finished() && limiter.usage().used == 160,
        "still aside while the copy request waits"
    );
    for _ in 0..20 {
        if fg.is_finished() && bg.is_finished() {
            break;
        }
        clock.advance(Duration::from_secs(60));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let order = [rx.recv().await, rx.recv().await];
    assert_eq!(
        order,
        [Some("copy"), Some("history")],
        "a background read yields to a copy request that was waiting"
    );
}

/// Reconciliation's reads that waited for a window do not take the copies' weight at its
/// start: a copy whose requests took 300 of the budget's 400 in the last minute gets them
/// again in this one without waiting, while four background reads of 50 (their share of
/// 200 would hold them all) take what is left, one at a window's start, the rest later.
#[tokio::test]
async fn background_reads_leave_the_weight_the_copies_took_in_the_last_window() {
    let clock = ManualClock::new(T0);
    let c: Arc<dyn Clock> = clock.clone();
    let limiter = Arc::new(WeightLimiter::new(LIMIT, c));
    // The last minute: the copies' stop cancels and lookups took 300.
    for _ in 0..30 {
        limiter.acquire(10).await.expect("books");
    }
    clock.advance(Duration::from_secs(60));
    let reads: Vec<_> = (0..4)
        .map(|_| {
            let l = limiter.clone();
            tokio::spawn(async move { l.acquire_background(50).await.expect("background books") })
        })
        .collect();
    until("the reads not let in wait", || {
        limiter.background_waiting() == 3
    })
    .await;
    assert_eq!(
        limiter.usage().used,
        50,
        "one read goes at the window's start; the rest would take the copies' weight"
    );
    // This minute the copies need as much as in the last: none of it waits.
    for _ in 0..30 {
        limiter.acquire(10).await.expect("books");
    }
    assert_eq!(limiter.usage().waits, 0, "no copy request waited");
    for _ in 0..20 {
        if reads.iter().all(|r| r.is_finished()) {
            break;
        }
        clock.advance(Duration::from_secs(60));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for r in reads {
        r.await
            .expect("every background read ends in a later window");
    }
    assert_eq!(limiter.usage().waits, 0);
}
