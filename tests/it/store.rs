//! The SQLite store on real files in temp directories: exact decimals, the journal's
//! states, migrations, refusal of files that are not ours, the data-directory lock across
//! processes, export, and a SIGKILL in the middle of journal writes.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use copydesk::domain::{PositionSide, Side};
use copydesk::store::table::audit::NewDecision;
use copydesk::store::table::copies::{CopyMode, CopyState, NewCopy};
use copydesk::store::table::figures::FigurePoint;
use copydesk::store::table::fills::Fill;
use copydesk::store::table::journal::{Journal, OrderState, OrderType, PlannedOrder};
use copydesk::store::table::leader_t0::T0Position;
use copydesk::store::table::leaders::{LeaderSource, NewLeader};
use copydesk::store::table::notifications::Level;
use copydesk::store::table::signals::NewSignal;
use copydesk::store::{DataDirLock, Migration, Store, StoreError, MIGRATIONS};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

fn db_in(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("copydesk.sqlite3")
}

/// An account, a leader and a copy: what most rows hang off.
fn seed(store: &Store, copy: &str) -> i64 {
    store
        .accounts()
        .upsert("me", Some("binance-usdm"), Some("demo"), 1)
        .expect("account upserts");
    store
        .accounts()
        .upsert("lead", Some("binance-usdm"), Some("demo"), 1)
        .expect("account upserts");
    let leader_id = match store.leaders().by_name("lead").expect("query") {
        Some(l) => l.id,
        None => store
            .leaders()
            .insert(&NewLeader {
                name: "lead",
                source: LeaderSource::Account,
                account: Some("lead"),
                portfolio_id: None,
                endpoint: None,
                created_at: 1,
            })
            .expect("leader inserts"),
    };
    store
        .copies()
        .insert(&NewCopy {
            name: copy,
            leader_id,
            follower: "me",
            mode: CopyMode::SmartSync,
            created_at: 2,
        })
        .expect("copy inserts")
}

fn planned(coid: &str, copy_id: i64, qty: Decimal) -> PlannedOrder<'_> {
    PlannedOrder {
        client_order_id: coid,
        copy_id,
        signal_id: None,
        leg: 0,
        symbol: "BTCUSDT",
        side: Side::Buy,
        position_side: PositionSide::Both,
        order_type: OrderType::Market,
        qty,
        price: Some(dec!(50000.10)),
        reduce_only: false,
        at: 10,
    }
}

#[test]
fn decimals_are_text_and_read_back_exactly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&db_in(&dir)).expect("new database opens");
    let copy = seed(&store, "c1");
    store
        .journal()
        .record_planned(&planned("cd-dec", copy, dec!(0.010)))
        .expect("planned");
    let e = store
        .journal()
        .get("cd-dec")
        .expect("query")
        .expect("row exists");
    assert_eq!(e.qty.to_string(), "0.010", "quantity keeps its scale");
    assert_eq!(e.price, Some(dec!(50000.10)), "price reads back exactly");
    let ty: String = store
        .conn()
        .query_row(
            "SELECT typeof(qty) FROM order_journal WHERE client_order_id = 'cd-dec'",
            [],
            |r| r.get(0),
        )
        .expect("typeof query");
    assert_eq!(ty, "text", "decimals must be stored as TEXT, never REAL");

    let tiny = Decimal::new(1, 28);
    let big = Decimal::from_i128_with_scale(79_228_162_514_264_337_593_543_950_335, 0);
    let p = FigurePoint {
        copy_id: copy,
        ts: 5,
        realized_pnl: dec!(-12.345678901234567890),
        unrealized_pnl: tiny,
        fees: dec!(0.00000001),
        funding: Decimal::ZERO,
        equity: big,
        roi: dec!(-0.0123),
    };
    store.figures().record(&p).expect("figure recorded");
    assert_eq!(
        store.figures().latest(copy).expect("query"),
        Some(p),
        "every decimal field must round-trip without loss"
    );
    store
        .conn()
        .execute(
            "UPDATE copy_figures SET fees = '1,5' WHERE copy_id = ?1",
            [copy],
        )
        .expect("raw update");
    assert!(
        store.figures().latest(copy).is_err(),
        "a column that is not decimal text must be an error, not a guess"
    );
}

/// Moves `coid` to `to` through the journal's own mark for that state.
fn mark(j: &Journal<'_>, coid: &str, to: OrderState) -> Result<(), StoreError> {
    match to {
        OrderState::Planned => unreachable!("nothing moves an order back to planned"),
        OrderState::Sent => j.mark_sent(coid, 50),
        OrderState::Acked => j.mark_acked(coid, "v-9", 50),
        OrderState::PartiallyFilled => j.mark_partially_filled(coid, dec!(0.5), 50),
        OrderState::Filled => j.mark_filled(coid, dec!(1), 50),
        OrderState::Canceled => j.mark_canceled(coid, 50),
        OrderState::Rejected => j.mark_rejected(coid, "-2019", 50),
        OrderState::Unknown => j.mark_unknown(coid, 50),
    }
}

#[test]
fn journal_moves_each_state_only_where_the_order_can_go() {
    use OrderState::*;
    assert_eq!(
        OrderState::ALL,
        [
            Planned,
            Sent,
            Acked,
            PartiallyFilled,
            Filled,
            Canceled,
            Rejected,
            Unknown
        ],
        "the columns below follow this order"
    );
    // From each state (rows), whether each target (columns, in the order of `ALL` without
    // `planned`) is reached. Terminal states move nowhere.
    let expected: [(OrderState, [bool; 7]); 8] = [
        //           sent   acked  partial filled canceled rejected unknown
        (Planned, [true, true, true, true, true, true, true]),
        (Sent, [false, true, true, true, true, true, true]),
        (Acked, [false, false, true, true, true, false, false]),
        (
            PartiallyFilled,
            [false, false, true, true, true, false, false],
        ),
        (Filled, [false; 7]),
        (Canceled, [false; 7]),
        (Rejected, [false; 7]),
        (Unknown, [true, true, true, true, true, true, false]),
    ];
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&db_in(&dir)).expect("opens");
    let copy = seed(&store, "c1");
    let j = store.journal();
    for (from, row) in expected {
        for (to, allowed) in OrderState::ALL[1..].iter().copied().zip(row) {
            let id = format!("cd-{from}-{to}");
            j.record_planned(&planned(&id, copy, dec!(1)))
                .expect("planned");
            store
                .conn()
                .execute(
                    "UPDATE order_journal SET state = ?2 WHERE client_order_id = ?1",
                    rusqlite::params![id, from.as_str()],
                )
                .expect("put in its state");
            let moved = mark(&j, &id, to);
            let now = j.get(&id).expect("query").expect("row").state;
            if allowed {
                assert!(moved.is_ok(), "{from} → {to} is allowed: {moved:?}");
                assert_eq!(now, to, "{from} → {to} moved the row");
            } else {
                assert!(
                    matches!(moved, Err(StoreError::InvalidTransition { .. })),
                    "{from} → {to} is refused: {moved:?}"
                );
                assert_eq!(now, from, "{from} → {to} left the row as it was");
            }
        }
    }
}

#[test]
fn a_venue_answer_is_one_mark_and_keeps_the_venue_id() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&db_in(&dir)).expect("opens");
    let copy = seed(&store, "c1");
    let j = store.journal();
    for id in [
        "cd-fill", "cd-part", "cd-cxl", "cd-rej", "cd-ack", "cd-late",
    ] {
        j.record_sent(&planned(id, copy, dec!(1))).expect("sent");
    }
    let sent = j.get("cd-fill").expect("query").expect("row");
    assert_eq!(
        sent.state,
        OrderState::Sent,
        "written as sent before its send"
    );
    let dup = j.record_sent(&planned("cd-fill", copy, dec!(2)));
    assert!(
        matches!(dup, Err(StoreError::Conflict { .. })),
        "a sent client order id is not written twice: {dup:?}"
    );

    let answers = [
        ("cd-fill", OrderState::Filled, dec!(1), None),
        ("cd-part", OrderState::PartiallyFilled, dec!(0.3), None),
        ("cd-cxl", OrderState::Canceled, dec!(0.6), None),
        (
            "cd-rej",
            OrderState::Rejected,
            dec!(0),
            Some("-2019 margin"),
        ),
        ("cd-ack", OrderState::Acked, dec!(0), None),
    ];
    for (id, to, filled, error) in answers {
        j.mark_answered(id, &format!("v-{id}"), to, filled, error, 20)
            .expect("answered");
        let e = j.get(id).expect("query").expect("row");
        assert_eq!(e.state, to, "{id}: the state the answer reports");
        assert_eq!(
            e.venue_order_id,
            Some(format!("v-{id}")),
            "{id}: venue id kept"
        );
        assert_eq!(e.filled_qty, filled, "{id}: cumulative fill");
        assert_eq!(e.error.as_deref(), error, "{id}: the refusal's reason");
    }

    // The stream recorded the fill before the send's answer came back: the answer still
    // leaves the venue id, and does not move the row back.
    j.mark_filled("cd-late", dec!(1), 15)
        .expect("filled from the stream");
    let late = j.mark_answered("cd-late", "v-late", OrderState::Acked, dec!(0), None, 20);
    assert!(
        matches!(late, Err(StoreError::InvalidTransition { .. })),
        "an ack after the fill is refused: {late:?}"
    );
    assert_eq!(
        j.get("cd-late").expect("query").expect("row").state,
        OrderState::Filled,
        "still filled"
    );
    let bad = j.mark_answered("cd-ack", "v-x", OrderState::Unknown, dec!(0), None, 30);
    assert!(
        matches!(&bad, Err(StoreError::Invalid { field: "state", .. })),
        "unknown is not an answer: {bad:?}"
    );
}

#[test]
fn journal_moves_forward_and_lists_unfinished() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&db_in(&dir)).expect("opens");
    let copy = seed(&store, "c1");
    let j = store.journal();
    for id in ["cd-a", "cd-b", "cd-c", "cd-d"] {
        j.record_planned(&planned(id, copy, dec!(1)))
            .expect("planned");
    }
    let dup = j.record_planned(&planned("cd-a", copy, dec!(2)));
    assert!(
        matches!(dup, Err(StoreError::Conflict { .. })),
        "a client order id must never be planned twice: {dup:?}"
    );
    j.mark_sent("cd-a", 11).expect("sent");
    j.mark_acked("cd-a", "v-1", 12).expect("acked");
    j.mark_partially_filled("cd-a", dec!(0.4), 13)
        .expect("partial");
    j.mark_filled("cd-a", dec!(1), 14).expect("filled");
    j.mark_sent("cd-b", 11).expect("sent");
    j.mark_rejected("cd-b", "-2019 margin is insufficient", 12)
        .expect("rejected");
    j.mark_sent("cd-c", 11).expect("sent");
    j.mark_unknown("cd-c", 12).expect("unknown");

    let a = j.get("cd-a").expect("query").expect("row");
    assert_eq!(a.state, OrderState::Filled, "a is filled");
    assert_eq!(
        a.venue_order_id.as_deref(),
        Some("v-1"),
        "ack kept the venue id"
    );
    assert_eq!(a.filled_qty, dec!(1), "cumulative filled qty recorded");
    assert_eq!(a.updated_at, 14, "updated_at follows the last change");

    let again = j.mark_sent("cd-a", 20);
    assert!(
        matches!(again, Err(StoreError::InvalidTransition { .. })),
        "a filled order must not move again: {again:?}"
    );
    let missing = j.mark_sent("cd-zz", 20);
    assert!(
        matches!(missing, Err(StoreError::NotFound { .. })),
        "an unknown id is reported as not found: {missing:?}"
    );
    let unfinished: Vec<String> = j
        .unfinished()
        .expect("query")
        .into_iter()
        .map(|e| e.client_order_id)
        .collect();
    assert_eq!(
        unfinished,
        vec!["cd-c".to_string(), "cd-d".to_string()],
        "only the unknown and the planned order are unfinished"
    );
    assert_eq!(
        j.for_copy(copy).expect("query").len(),
        4,
        "all four orders belong to the copy"
    );
}

#[test]
fn copies_keep_t0_and_settings_history() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = Store::open(&db_in(&dir)).expect("opens");
    let copy = seed(&store, "follow-lead");
    store
        .transaction(|tx| {
            copydesk::store::table::copies::Copies::on(tx).start(copy, 1_000)?;
            copydesk::store::table::leader_t0::LeaderT0::on(tx).record(
                copy,
                &[T0Position {
                    symbol: "ETHUSDT".into(),
                    position_side: PositionSide::Both,
                    qty: dec!(-1.500),
                    entry_price: Some(dec!(2500.5)),
                    leverage: Some(dec!(10)),
                }],
            )
        })
        .expect("start and snapshot commit together");
    let c = store.copies().get(copy).expect("query").expect("row");
    assert_eq!(c.t0, Some(1_000), "t0 recorded");
    assert_eq!(c.state, CopyState::Running, "a started copy runs");
    assert!(
        store.copies().start(copy, 2_000).is_err(),
        "a restart must not move t0"
    );
    assert_eq!(
        store.leader_t0().list(copy).expect("query")[0].qty,
        dec!(-1.500),
        "t0 positions keep sign and scale"
    );

    store
        .copy_settings()
        .record(
            copy,
            &serde_json::json!({"investment": "1000"}),
            1_000,
            None,
        )
        .expect("v1");
    store
        .copy_settings()
        .record(
            copy,
            &serde_json::json!({"investment": "1500"}),
            5_000,
            Some("raised"),
        )
        .expect("v2");
    let cur = store
        .copy_settings()
        .current::<serde_json::Value>(copy)
        .expect("query")
        .expect("a version exists");
    assert_eq!(
        cur.settings["investment"], "1500",
        "current is the latest version"
    );
    assert_eq!(
        store
            .copy_settings()
            .history::<serde_json::Value>(copy)
            .expect("query")
            .len(),
        2,
        "history keeps both versions"
    );

    store
        .copies()
        .set_state(copy, CopyState::Paused)
        .expect("paused");
    store
        .copies()
        .stop(copy, 3_000, "total stop loss")
        .expect("stopped");
    assert!(
        store.copies().set_state(copy, CopyState::Running).is_err(),
        "a stopped copy stays stopped"
    );
}

/// Migration 4 keeps every copy's ledger row (renamed `copy_state` → `copy_ledger`) and
/// drops the never-written `copy_positions`.
#[test]
fn migration_4_keeps_each_ledger_under_its_one_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = db_in(&dir);
    {
        let store = Store::open_with(&path, &MIGRATIONS[..3]).expect("a version 3 database");
        let copy = seed(&store, "old");
        store
            .conn()
            .execute(
                "INSERT INTO copy_state (copy_id, ledger, in_flight, updated_at) VALUES (?1, '{\"positions\":[]}', NULL, 7)",
                [copy],
            )
            .expect("a v3 ledger row");
    }
    let store = Store::open(&path).expect("upgrades");
    assert_eq!(store.version(), 8, "upgraded to the latest schema");
    let copy = store
        .copies()
        .by_name("old")
        .expect("query")
        .expect("copy kept")
        .id;
    let row = store
        .copy_ledgers()
        .get(copy)
        .expect("reads")
        .expect("the v3 ledger row survives the rename");
    assert_eq!(
        (row.ledger.as_str(), row.updated_at),
        ("{\"positions\":[]}", 7),
        "the row is carried over unchanged"
    );
    let tables: Vec<String> = {
        let mut st = store
            .conn()
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('copy_state', 'copy_positions', 'copy_ledger')")
            .expect("prepare");
        st.query_map([], |r| r.get(0))
            .expect("query")
            .map(|r| r.expect("row"))
            .collect()
    };
    assert_eq!(
        tables,
        vec!["copy_ledger".to_owned()],
        "one ledger table, under one name"
    );
}

#[test]
fn signals_and_fills_are_stored_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&db_in(&dir)).expect("opens");
    let copy = seed(&store, "c1");
    let leader = store
        .leaders()
        .by_name("lead")
        .expect("query")
        .expect("leader")
        .id;
    let payload = serde_json::json!({"e": "ORDER_TRADE_UPDATE"});
    let s = NewSignal {
        leader_id: leader,
        venue_ref: "o1:t1",
        kind: "open",
        symbol: "BTCUSDT",
        position_side: PositionSide::Both,
        qty: Some(dec!(0.200)),
        price: Some(dec!(50000)),
        leverage: Some(dec!(5)),
        margin: Some(dec!(2000)),
        ts_event: 100,
        ts_recv: 120,
        payload: Some(&payload),
    };
    let first = store.signals().record(&s).expect("stored");
    assert!(first.is_some(), "a new signal gets an id");
    assert_eq!(
        store.signals().record(&s).expect("query"),
        None,
        "a repeat is recognised"
    );
    let got = store.signals().since(leader, 0).expect("query");
    assert_eq!(got.len(), 1, "stored once");
    assert_eq!(got[0].qty, Some(dec!(0.200)), "signal qty exact");

    let f = Fill {
        copy_id: copy,
        client_order_id: Some("cd-x".into()),
        venue_trade_id: "t-9".into(),
        symbol: "BTCUSDT".into(),
        side: Side::Sell,
        qty: dec!(0.010),
        price: dec!(50123.4),
        fee: dec!(0.20049360),
        fee_asset: "USDT".into(),
        realized_pnl: dec!(-1.5),
        ts: 200,
    };
    assert!(
        store.fills().record(&f).expect("stored").is_some(),
        "new fill stored"
    );
    assert!(
        store.fills().record(&f).expect("query").is_none(),
        "duplicate trade ignored"
    );
    assert_eq!(
        store.fills().for_copy(copy).expect("query")[0].1,
        f,
        "fill reads back exactly"
    );

    let n = store
        .notifications()
        .push(
            300,
            Some(copy),
            Level::Warning,
            "skip",
            "below minimum notional",
        )
        .expect("pushed");
    assert_eq!(
        store.notifications().unread().expect("query").len(),
        1,
        "one unread"
    );
    store.notifications().mark_read(n).expect("read");
    assert!(
        store.notifications().unread().expect("query").is_empty(),
        "none unread"
    );

    let detail = serde_json::json!({"r": "0.1", "qty": "0.010"});
    store
        .audit()
        .record(&NewDecision {
            ts: 150,
            copy_id: Some(copy),
            signal_id: first,
            action: "open",
            reason: "smart sync: r = 10%, margin 100 USDT at 5x",
            detail: Some(&detail),
        })
        .expect("decision recorded");
    let d = store.audit().for_signal(first.expect("id")).expect("query");
    assert_eq!(
        d[0].reason, "smart sync: r = 10%, margin 100 USDT at 5x",
        "reason kept"
    );
}

/// A migration only tests use: it adds a column and a table, as a real v2 might.
const TEST_V2: Migration = Migration {
    version: 9,
    name: "test: fill notes",
    statements: &["ALTER TABLE fills ADD COLUMN note TEXT;
                   CREATE TABLE test_extra (id INTEGER PRIMARY KEY) STRICT;"],
};

fn with_v2() -> Vec<Migration> {
    let mut list = MIGRATIONS.to_vec();
    list.push(TEST_V2);
    list
}

#[test]
fn first_version_migrates_with_data_intact_after_a_backup() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = db_in(&dir);
    {
        let store = Store::open(&path).expect("v1 opens");
        assert_eq!(store.version(), 8, "this build ships schema v8");
        let copy = seed(&store, "c1");
        store
            .journal()
            .record_planned(&planned("cd-keep", copy, dec!(0.123)))
            .expect("planned");
    }
    let list = with_v2();
    let store = Store::open_with(&path, &list).expect("upgrades to v2");
    assert_eq!(store.version(), 9, "now at the test's v9");
    let e = store
        .journal()
        .get("cd-keep")
        .expect("query")
        .expect("row survived");
    assert_eq!(e.qty.to_string(), "0.123", "data intact after the upgrade");
    let backup = store
        .backup_taken()
        .expect("a backup is taken before migrating")
        .to_path_buf();
    drop(store);
    let old = Store::open_read_only(&backup).expect("backup is a v1 database");
    assert_eq!(old.version(), 8, "backup holds the pre-upgrade version");
    assert!(
        old.journal().get("cd-keep").expect("query").is_some(),
        "backup holds the data"
    );
    let again = Store::open_with(&path, &list).expect("reopens at v2");
    assert!(
        again.backup_taken().is_none(),
        "no backup when nothing migrates"
    );
}

#[test]
fn a_failing_migration_rolls_back_and_keeps_the_data() {
    const BROKEN_V2: Migration = Migration {
        version: 9,
        name: "test: broken",
        statements: &["CREATE TABLE half_done (id INTEGER) STRICT;
                       ALTER TABLE no_such_table ADD COLUMN x TEXT;"],
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let path = db_in(&dir);
    {
        let store = Store::open(&path).expect("v1 opens");
        let copy = seed(&store, "c1");
        store
            .journal()
            .record_planned(&planned("cd-keep", copy, dec!(1)))
            .expect("planned");
    }
    let mut list = MIGRATIONS.to_vec();
    list.push(BROKEN_V2);
    let err = Store::open_with(&path, &list).expect_err("broken step fails");
    assert!(
        matches!(err, StoreError::Migration { version: 9, .. }),
        "reported as a failed upgrade to v3: {err}"
    );
    assert!(
        err.to_string().contains("backups"),
        "message names the backup: {err}"
    );
    let store = Store::open(&path).expect("still a sound v1 database");
    assert_eq!(
        store.version(),
        8,
        "version unchanged after the failed step"
    );
    assert!(
        store.journal().get("cd-keep").expect("query").is_some(),
        "data kept after the failed step"
    );
    let half: i64 = store
        .conn()
        .query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE name = 'half_done'",
            [],
            |r| r.get(0),
        )
        .expect("query");
    assert_eq!(
        half, 0,
        "the failed step's first statement was rolled back too"
    );
}

#[test]
fn newer_database_is_refused_and_left_byte_identical() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = db_in(&dir);
    drop(Store::open_with(&path, &with_v2()).expect("v2 database created"));
    let before = std::fs::read(&path).expect("read");
    let err = Store::open(&path).expect_err("v1 build must refuse a v2 database");
    assert!(
        matches!(
            err,
            StoreError::TooNew {
                found: 9,
                supported: 8,
                ..
            }
        ),
        "refused as too new: {err}"
    );
    assert!(
        err.to_string().contains("left untouched"),
        "message says it was not touched: {err}"
    );
    let ro = Store::open_read_only(&path).expect_err("read-only open refuses it too");
    assert!(matches!(ro, StoreError::TooNew { .. }), "{ro}");
    assert_eq!(
        std::fs::read(&path).expect("read"),
        before,
        "file bytes must be identical"
    );
}

#[test]
fn non_sqlite_file_is_reported_not_overwritten() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = db_in(&dir);
    let junk = b"these are my notes, not a database\n".repeat(100);
    std::fs::write(&path, &junk).expect("write");
    let err = Store::open(&path).expect_err("not SQLite");
    assert!(
        matches!(err, StoreError::NotSqlite { .. }),
        "reported as not SQLite: {err}"
    );
    assert!(
        err.to_string().contains("move it away"),
        "message gives the fix: {err}"
    );
    assert_eq!(
        std::fs::read(&path).expect("read"),
        junk,
        "the file is not overwritten"
    );
}

#[test]
fn corrupt_database_is_reported_not_overwritten() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = db_in(&dir);
    {
        let store = Store::open(&path).expect("opens");
        let copy = seed(&store, "c1");
        for i in 0..200 {
            store
                .journal()
                .record_planned(&planned(&format!("cd-{i}"), copy, dec!(1)))
                .expect("planned");
        }
    }
    let mut bytes = std::fs::read(&path).expect("read");
    assert!(bytes.len() > 3 * 4096, "database spans several pages");
    // Keep page 1 (header and schema), smash the b-tree pages after it.
    for b in bytes.iter_mut().skip(4096) {
        *b = 0xA5;
    }
    std::fs::write(&path, &bytes).expect("write");
    let err = Store::open(&path).expect_err("damage detected");
    assert!(
        matches!(err, StoreError::Corrupt { .. }),
        "reported as damaged: {err}"
    );
    assert!(
        err.to_string().contains("backups"),
        "message points at the backups: {err}"
    );
    assert_eq!(
        std::fs::read(&path).expect("read"),
        bytes,
        "the damaged file is not overwritten"
    );
}

#[test]
fn another_programs_database_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = db_in(&dir);
    {
        let conn = rusqlite::Connection::open(&path).expect("open");
        conn.execute_batch("CREATE TABLE photos (id INTEGER PRIMARY KEY);")
            .expect("create");
    }
    let before = std::fs::read(&path).expect("read");
    let err = Store::open(&path).expect_err("foreign database refused");
    assert!(
        matches!(err, StoreError::Foreign { .. }),
        "reported as foreign: {err}"
    );
    assert_eq!(
        std::fs::read(&path).expect("read"),
        before,
        "left untouched"
    );
}

#[test]
fn second_engine_on_one_data_dir_is_refused_naming_the_holder() {
    let dir = tempfile::tempdir().expect("tempdir");
    let first = DataDirLock::acquire(dir.path(), "copydesk-app").expect("first lock");
    let err = DataDirLock::acquire(dir.path(), "copydesk run").expect_err("second refused");
    let msg = err.to_string();
    assert!(
        msg.contains(&format!("pid {}", std::process::id())) && msg.contains("copydesk-app"),
        "the refusal names the holder's pid and program: {msg}"
    );
    assert!(msg.contains("since 20"), "and when it started: {msg}");

    // A second process is refused as well.
    let out = Command::new(env!("CARGO_BIN_EXE_copydesk"))
        .args(["keys", "remove", "someone", "--data-dir"])
        .arg(dir.path())
        .stdin(Stdio::null())
        .output()
        .expect("cli runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "second process must fail while the lock is held"
    );
    assert!(
        stderr.contains("another CopyDesk engine") && stderr.contains("copydesk-app"),
        "second process names the holder: {stderr}"
    );

    drop(first);
    DataDirLock::acquire(dir.path(), "copydesk run").expect("free again once the holder is gone");
}

#[test]
fn export_writes_json_and_csv_with_exact_decimals() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let store = Store::open(&copydesk::store::db_path(dir.path())).expect("opens");
        let copy = seed(&store, "with, comma");
        store
            .fills()
            .record(&Fill {
                copy_id: copy,
                client_order_id: None,
                venue_trade_id: "t1".into(),
                symbol: "BTCUSDT".into(),
                side: Side::Buy,
                qty: dec!(0.010),
                price: dec!(50000.1),
                fee: dec!(0.2),
                fee_asset: "USDT".into(),
                realized_pnl: dec!(0),
                ts: 1,
            })
            .expect("fill");
        store
            .figures()
            .record(&FigurePoint {
                copy_id: copy,
                ts: 2,
                realized_pnl: dec!(1.50),
                unrealized_pnl: dec!(-0.25),
                fees: dec!(0.2),
                funding: dec!(0),
                equity: dec!(1001.05),
                roi: dec!(0.00105),
            })
            .expect("figure");
    }
    let out = dir.path().join("out");
    let run = Command::new(env!("CARGO_BIN_EXE_copydesk"))
        .args(["export", "--data-dir"])
        .arg(dir.path())
        .arg("--out")
        .arg(&out)
        .output()
        .expect("cli runs");
    assert!(run.status.success(), "export succeeds: {run:?}");
    let fills: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("fills.json")).expect("fills.json"))
            .expect("valid JSON");
    assert_eq!(
        fills[0]["qty"], "0.010",
        "decimals exported as exact strings"
    );
    let csv = std::fs::read_to_string(out.join("copies.csv")).expect("copies.csv");
    assert!(
        csv.contains("\"with, comma\""),
        "CSV quotes a name with a comma: {csv}"
    );
    let figures = std::fs::read_to_string(out.join("figures.csv")).expect("figures.csv");
    assert!(
        figures.contains("1.50,-0.25"),
        "figures CSV keeps decimals exact: {figures}"
    );
}

const CRASH_CHILD_ENV: &str = "COPYDESK_IT_CRASH_CHILD_DB";
const ACKS_BEFORE_KILL: usize = 400;
const CHILD_MAX_ROWS: u64 = 50_000;

/// Retries while another connection holds the write lock longer than the busy timeout:
/// a busy write wrote nothing, so trying again is safe.
fn retry_busy<T>(mut f: impl FnMut() -> Result<T, StoreError>) -> Result<T, StoreError> {
    loop {
        match f() {
            Err(StoreError::Sqlite(e))
                if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy) => {}
            other => return other,
        }
    }
}

/// The child half: two connections write as fast as they can, journal rows on this thread
/// and fills on another, and print each id only after its transaction committed.
fn crash_child(db: &Path) {
    use std::io::Write;
    let say = |line: String| {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{line}").expect("stdout");
        out.flush().expect("flush");
    };
    let fills_db = db.to_path_buf();
    std::thread::spawn(move || {
        let run = || -> Result<(), StoreError> {
            let store = retry_busy(|| Store::open(&fills_db))?;
            let copy = retry_busy(|| store.copies().by_name("crash"))?
                .map(|c| c.id)
                .unwrap_or_default();
            for i in 0..CHILD_MAX_ROWS {
                let fill = Fill {
                    copy_id: copy,
                    client_order_id: None,
                    venue_trade_id: format!("t{i}"),
                    symbol: "BTCUSDT".into(),
                    side: Side::Buy,
                    qty: dec!(0.001),
                    price: dec!(50000.1),
                    fee: dec!(0.02),
                    fee_asset: "USDT".into(),
                    realized_pnl: dec!(0),
                    ts: 1,
                };
                retry_busy(|| store.fills().record(&fill))?;
                say(format!("FILL {}", fill.venue_trade_id));
            }
            Ok(())
        };
        if let Err(e) = run() {
            say(format!("CHILDERR fills: {e}"));
        }
    });
    let run = || -> Result<(), StoreError> {
        let store = retry_busy(|| Store::open(db))?;
        let copy = retry_busy(|| store.copies().by_name("crash"))?
            .map(|c| c.id)
            .unwrap_or_default();
        // Bounded, so a parent that never reaches its kill condition sees the stream end
        // and fails instead of waiting forever.
        for i in 0..CHILD_MAX_ROWS {
            let coid = format!("cd{i:030}");
            retry_busy(|| {
                store
                    .journal()
                    .record_planned(&planned(&coid, copy, dec!(0.001)))
            })?;
            if i % 2 == 0 {
                retry_busy(|| store.journal().mark_sent(&coid, 11))?;
            }
            say(format!("ACK {coid}"));
        }
        Ok(())
    };
    if let Err(e) = run() {
        say(format!("CHILDERR journal: {e}"));
    }
}

#[test]
fn journal_survives_sigkill_with_every_acknowledged_row() {
    if let Some(db) = std::env::var_os(CRASH_CHILD_ENV) {
        crash_child(Path::new(&db));
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let path = db_in(&dir);
    seed(&Store::open(&path).expect("opens"), "crash");

    let mut child = Command::new(std::env::current_exe().expect("test binary path"))
        .args([
            "store::journal_survives_sigkill_with_every_acknowledged_row",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CRASH_CHILD_ENV, &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("child starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut acked = Vec::new();
    let mut fills = Vec::new();
    let mut killed = false;
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("child output is text");
        if let Some(id) = line.strip_prefix("ACK ") {
            acked.push(id.to_owned());
        } else if let Some(id) = line.strip_prefix("FILL ") {
            fills.push(id.to_owned());
        } else if let Some(e) = line.strip_prefix("CHILDERR ") {
            let _ = child.kill();
            panic!("a writer in the child failed before the kill: {e}");
        }
        // How far the fills writer got is up to SQLite's lock scheduling; the kill waits
        // only for the journal, the part whose acknowledged rows matter most.
        if !killed && acked.len() >= ACKS_BEFORE_KILL {
            child.kill().expect("SIGKILL the child");
            killed = true;
        }
    }
    let status = child.wait().expect("child reaped");
    assert!(
        killed,
        "the child must have acknowledged {ACKS_BEFORE_KILL} rows before dying"
    );
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(
            status.signal(),
            Some(9),
            "the child died by SIGKILL, mid-stream"
        );
    }
    #[cfg(not(unix))]
    assert!(!status.success(), "the child was killed");

    let store = Store::open(&path).expect("the database opens after the crash");
    assert_eq!(
        store.integrity_check().expect("integrity check runs"),
        vec!["ok".to_string()],
        "PRAGMA integrity_check must pass after SIGKILL"
    );
    let missing: Vec<&String> = acked
        .iter()
        .filter(|id| store.journal().get(id).ok().flatten().is_none())
        .collect();
    assert!(
        missing.is_empty(),
        "every acknowledged row must survive; {} of {} missing, e.g. {:?}",
        missing.len(),
        acked.len(),
        missing.first()
    );
    assert!(
        store.journal().count().expect("count") >= acked.len() as u64,
        "the journal holds at least the acknowledged rows"
    );
    let stored: std::collections::HashSet<String> = store
        .fills()
        .all()
        .expect("fills readable")
        .into_iter()
        .map(|(_, f)| f.venue_trade_id)
        .collect();
    let lost = fills.iter().filter(|t| !stored.contains(*t)).count();
    assert_eq!(
        lost, 0,
        "every acknowledged fill of the second writer must survive too"
    );
}

#[test]
fn accounts_keep_the_key_hint_across_upserts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&db_in(&dir)).expect("opens");
    let accounts = store.accounts();
    accounts
        .set_key_hint("me", Some("abcd…wxyz"), 1)
        .expect("hint set on a new account");
    accounts
        .upsert("me", Some("binance-usdm"), Some("demo"), 2)
        .expect("venue set");
    let me = accounts.get("me").expect("query").expect("row");
    assert_eq!(
        me.key_hint.as_deref(),
        Some("abcd…wxyz"),
        "upsert keeps the hint"
    );
    assert_eq!(
        me.exchange.as_deref(),
        Some("binance-usdm"),
        "upsert sets the venue"
    );
    accounts
        .upsert("lead", None, None, 3)
        .expect("second account");
    let names: Vec<String> = accounts
        .with_keys()
        .expect("query")
        .into_iter()
        .map(|a| a.name)
        .collect();
    assert_eq!(
        names,
        vec!["me".to_string()],
        "only accounts with a key are indexed"
    );
    let err = accounts
        .upsert("", None, None, 4)
        .expect_err("empty name refused");
    assert!(
        err.to_string().contains("account name"),
        "names the field: {err}"
    );
}

#[test]
fn export_reads_while_an_engine_holds_the_data_dir() {
    let dir = tempfile::tempdir().expect("tempdir");
    let engine = copydesk::store::DataDir::open(dir.path(), "copydesk-app").expect("engine opens");
    seed(engine.store(), "live");
    let out = dir.path().join("out");
    let run = Command::new(env!("CARGO_BIN_EXE_copydesk"))
        .args(["export", "--data-dir"])
        .arg(dir.path())
        .arg("--out")
        .arg(&out)
        .output()
        .expect("cli runs");
    assert!(
        run.status.success(),
        "export must work while an engine runs: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let copies = std::fs::read_to_string(out.join("copies.csv")).expect("copies.csv");
    assert!(
        copies.contains("live"),
        "export sees the engine's committed rows: {copies}"
    );
    drop(engine);
}

#[test]
fn export_without_a_database_says_where_it_looked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = Command::new(env!("CARGO_BIN_EXE_copydesk"))
        .args(["export", "--data-dir"])
        .arg(dir.path())
        .output()
        .expect("cli runs");
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(!run.status.success(), "export fails without a database");
    assert!(
        err.contains("no CopyDesk database") && err.contains("--data-dir"),
        "the message names the problem and the fix: {err}"
    );
}

#[test]
fn unusable_data_dir_is_named_with_the_fix() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, b"x").expect("write");
    let err = Store::open(&file.join("copydesk.sqlite3")).expect_err("cannot use a file as a dir");
    let msg = err.to_string();
    assert!(
        msg.contains("not-a-dir") && msg.contains("--data-dir"),
        "the message names the place and the fix: {msg}"
    );
    let err = copydesk::store::DataDir::open(&file, "copydesk run").expect_err("nor as data dir");
    assert!(
        err.to_string().contains("not-a-dir"),
        "names the place: {err}"
    );
}

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .permissions()
        .mode()
        & 0o777
}

#[cfg(unix)]
#[test]
fn a_new_data_directory_is_private_to_its_user() {
    let root = tempfile::tempdir().expect("tempdir");
    let dir = root.path().join("data");
    let mut engine = copydesk::store::DataDir::open(&dir, "copydesk run").expect("engine opens");
    // A write so the WAL file exists too.
    engine
        .store_mut()
        .accounts()
        .upsert("me", Some("binance-usdm"), Some("demo"), 1)
        .expect("a row");
    assert_eq!(mode(&dir), 0o700, "the data directory is 0700");
    for f in [
        "copydesk.sqlite3",
        "copydesk.sqlite3-wal",
        "copydesk.sqlite3-shm",
        "engine.lock",
    ] {
        assert_eq!(mode(&dir.join(f)), 0o600, "{f} is 0600");
    }
    let _log = copydesk::logging::init(&dir).expect("logging starts");
    let logs: Vec<PathBuf> = std::fs::read_dir(dir.join("logs"))
        .expect("logs folder")
        .map(|e| e.expect("entry").path())
        .collect();
    assert!(!logs.is_empty(), "today's log file exists");
    assert_eq!(mode(&dir.join("logs")), 0o700, "the logs folder is 0700");
    for l in &logs {
        assert_eq!(mode(l), 0o600, "{} is 0600", l.display());
    }
}

#[cfg(unix)]
#[test]
fn a_world_readable_data_directory_is_tightened_at_start() {
    use std::os::unix::fs::PermissionsExt;
    let root = tempfile::tempdir().expect("tempdir");
    let dir = root.path().join("data");
    drop(copydesk::store::DataDir::open(&dir, "copydesk run").expect("first start"));
    // As an older build left it: everything readable by everyone.
    let set = |p: &Path, m: u32| {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).expect("chmod")
    };
    std::fs::create_dir_all(dir.join("logs")).expect("logs");
    std::fs::write(dir.join("logs/copydesk.log.2026-01-01"), "old log").expect("old log");
    set(&dir, 0o755);
    set(&dir.join("logs"), 0o755);
    set(&dir.join("logs/copydesk.log.2026-01-01"), 0o644);
    set(&dir.join("copydesk.sqlite3"), 0o644);
    set(&dir.join("engine.lock"), 0o666);
    let _engine = copydesk::store::DataDir::open(&dir, "copydesk run").expect("second start");
    assert_eq!(mode(&dir), 0o700, "the directory was tightened");
    assert_eq!(
        mode(&dir.join("logs")),
        0o700,
        "the logs folder was tightened"
    );
    for f in [
        "copydesk.sqlite3",
        "engine.lock",
        "logs/copydesk.log.2026-01-01",
    ] {
        assert_eq!(mode(&dir.join(f)), 0o600, "{f} was tightened to 0600");
    }
    assert_eq!(
        std::fs::read_to_string(dir.join("logs/copydesk.log.2026-01-01")).expect("read"),
        "old log",
        "tightening changes modes, not contents"
    );
}

#[cfg(unix)]
#[test]
fn a_readable_directory_shared_with_other_files_is_refused_and_left_alone() {
    use std::os::unix::fs::PermissionsExt;
    // As `--data-dir /tmp` or a home directory would be: other files, readable by others.
    let root = tempfile::tempdir().expect("tempdir");
    let dir = root.path().join("shared");
    std::fs::create_dir(&dir).expect("dir");
    std::fs::write(dir.join("notes.txt"), "the user's own file").expect("a foreign file");
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    std::fs::set_permissions(
        dir.join("notes.txt"),
        std::fs::Permissions::from_mode(0o644),
    )
    .expect("chmod");
    let err = copydesk::store::DataDir::open(&dir, "copydesk run")
        .expect_err("a shared, readable directory is not taken over");
    let msg = err.to_string();
    assert!(
        matches!(err, StoreError::SharedDataDir { .. })
            && msg.contains("notes.txt")
            && msg.contains("--data-dir"),
        "the refusal names a foreign file and the fix: {msg}"
    );
    assert_eq!(mode(&dir), 0o755, "the directory's mode is left alone");
    assert_eq!(
        mode(&dir.join("notes.txt")),
        0o644,
        "the user's file is left alone"
    );
    assert!(
        !dir.join("engine.lock").exists() && !dir.join("copydesk.sqlite3").exists(),
        "nothing was written into it"
    );
}

/// `commits` relaxed commits of about two pages of new rows each.
fn fill_the_log(store: &mut Store, commits: usize) {
    store
        .conn()
        .execute_batch("CREATE TABLE pad (x BLOB) STRICT;")
        .expect("a table to fill");
    for _ in 0..commits {
        store
            .relaxed(|s| {
                s.conn()
                    .execute("INSERT INTO pad (x) VALUES (zeroblob(6000))", [])?;
                Ok(())
            })
            .expect("relaxed commit");
    }
}

#[test]
fn the_engines_commits_leave_checkpoints_to_its_checkpointer() {
    use copydesk::store::checkpoint::CHECKPOINT_AFTER;
    let dir = tempfile::tempdir().expect("tempdir");
    let path = db_in(&dir);
    let mut store = Store::open(&path).expect("opens");
    let mut checkpointer = store.checkpointer().expect("a checkpointer");
    assert!(!checkpointer.due(), "nothing committed yet");
    // Each commit writes three pages or more: 400 of them overflow SQLite's own
    // threshold (1,000 pages), at which a commit would checkpoint the log itself.
    let commits = 400;
    fill_the_log(&mut store, commits);
    assert!(
        checkpointer.due(),
        "{commits} commits are more than {CHECKPOINT_AFTER}: a checkpoint is due"
    );
    let done = checkpointer.run().expect("checkpoints");
    assert!(
        done.log >= 1200,
        "no commit checkpointed the log: it holds every commit's pages ({done:?})"
    );
    assert_eq!(
        done.copied, done.log,
        "all of the log is now in the database file"
    );
    assert!(!checkpointer.due(), "nothing due right after a checkpoint");
    assert_eq!(store.durability().counts().checkpoints, 1, "counted");
    let rows: i64 = store
        .conn()
        .query_row("SELECT COUNT(*) FROM pad", [], |r| r.get(0))
        .expect("count");
    assert_eq!(rows, 400_i64, "every row still reads after the checkpoint");
}
