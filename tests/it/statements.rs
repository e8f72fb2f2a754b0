//! Profit-share statements through the facade (copy-rules §7), on real SQLite files in a
//! temporary data directory: the ratio set on a copy, statements drawn up at each open for
//! the Mondays that passed while no engine ran, never twice, and an unreadable stored
//! statement reported as an error rather than an empty list.
//!
//! What an engine stores while it runs (fills, funding, figure points) is written straight
//! into the database between the app's sessions: the same rows, with the times they would
//! have had, while no app is open.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use copydesk::api::{
    self, App, AppOptions, ErrorCode, ProfitShareDto, StatementKindDto, StatementOutcomeDto,
};
use copydesk::domain::Side;
use copydesk::exchange::{BoxFuture, Clock, SystemClock};
use copydesk::paths::APP_IDENTIFIER;
use copydesk::secrets::Keychain;
use copydesk::store::table::copies::{CopyMode, NewCopy};
use copydesk::store::table::copy_funding::FundingRow;
use copydesk::store::table::figures::FigurePoint;
use copydesk::store::table::fills::Fill;
use copydesk::store::table::leaders::{LeaderSource, NewLeader};
use copydesk::store::{db_path, Store};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

const DAY: i64 = 86_400_000;
/// Monday 2026-11-02 00:00 UTC.
const MON: i64 = 1_793_577_600_000;
const COPY: &str = "shared";

/// A clock the test sets; sleeps are real (the app's statement timer only waits).
#[derive(Debug)]
struct SetClock(AtomicI64);

impl Clock for SetClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
    fn sleep(&self, d: Duration) -> BoxFuture<'static, ()> {
        SystemClock.sleep(d)
    }
}

async fn open_at(dir: &std::path::Path, now: i64) -> App {
    let mut o = AppOptions::new(dir);
    o.keychain = Keychain::with_service(format!(
        "{APP_IDENTIFIER}.it.statements.{}",
        std::process::id()
    ));
    o.paper.start = false;
    o.clock = Arc::new(SetClock(AtomicI64::new(now)));
    App::open(o).await.expect("the app opens")
}

/// What an earlier engine left: a running fixed-ratio copy of a public portfolio (it
/// cannot resume here, which changes nothing for its statements), started at `MON`.
fn seed(dir: &std::path::Path) -> i64 {
    let store = Store::open(&db_path(dir)).expect("database");
    store
        .accounts()
        .upsert("me", Some("binance-usdm"), Some("demo"), 1)
        .expect("account");
    let leader = store
        .leaders()
        .insert(&NewLeader {
            name: "portfolio",
            source: LeaderSource::Public,
            account: None,
            portfolio_id: Some("p1"),
            endpoint: None,
            created_at: 1,
        })
        .expect("leader");
    let id = store
        .copies()
        .insert(&NewCopy {
            name: COPY,
            leader_id: leader,
            follower: "me",
            mode: CopyMode::FixedRatio,
            created_at: MON,
        })
        .expect("copy");
    let settings: copydesk::domain::CopySettings =
        toml::from_str("mode = \"fixed-ratio\"\nratio = \"0.1\"").expect("settings");
    store
        .copy_settings()
        .record(id, &settings, MON, None)
        .expect("settings");
    store.copies().start(id, MON).expect("started");
    id
}

fn fill(store: &Store, copy: i64, n: u32, ts: i64, realized: Decimal, fee: Decimal) {
    store
        .fills()
        .record(&Fill {
            copy_id: copy,
            client_order_id: None,
            venue_trade_id: format!("t{n}"),
            symbol: "BTCUSDT".into(),
            side: Side::Sell,
            qty: dec!(0.01),
            price: dec!(50000),
            fee,
            fee_asset: "USDT".into(),
            realized_pnl: realized,
            ts,
        })
        .expect("fill");
}

/// A figure point as the runtime records it; `deposit` is money moved into the account,
/// which shows in its equity but is no profit.
fn point(
    store: &Store,
    copy: i64,
    ts: i64,
    realized: Decimal,
    unrealized: Decimal,
    deposit: Decimal,
) {
    store
        .figures()
        .record(&FigurePoint {
            copy_id: copy,
            ts,
            realized_pnl: realized,
            unrealized_pnl: unrealized,
            fees: Decimal::ZERO,
            funding: Decimal::ZERO,
            equity: deposit + realized + unrealized,
            roi: Decimal::ZERO,
        })
        .expect("figure point");
}

fn owed(p: &ProfitShareDto) -> Vec<(StatementOutcomeDto, String)> {
    p.statements
        .iter()
        .map(|s| (s.outcome, s.owed.clone()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statements_are_caught_up_at_open_for_weeks_the_app_was_closed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let copy = seed(dir.path());

    // Session 1, Tuesday: the user sets the ratio; a bad one is refused on its field.
    let app = open_at(dir.path(), MON + DAY).await;
    let e = app
        .set_profit_share(COPY, Some("0.5"))
        .expect_err("50 % is above the limit");
    assert_eq!(
        (e.code, e.field.as_deref()),
        (ErrorCode::InvalidInput, Some("profitShareRatio")),
        "the error is on the ratio field: {e:?}"
    );
    assert!(
        e.message.contains("0.3"),
        "the message gives the limit: {}",
        e.message
    );
    let p = app
        .set_profit_share(COPY, Some("0.25"))
        .expect("25 % is allowed");
    assert_eq!(p.ratio.as_deref(), Some("0.25"), "the ratio is stored");
    assert_eq!(
        p.next_settlement_ms,
        Some(MON + 7 * DAY),
        "next Monday 00:00 UTC"
    );
    assert!(p.statements.is_empty(), "nothing is due yet");
    app.shutdown().await;

    // What the engine stored over three weeks of running (the app was closed since).
    {
        let s = Store::open(&db_path(dir.path())).expect("database");
        fill(&s, copy, 1, MON + 2 * DAY, dec!(430), dec!(12));
        s.copy_funding()
            .record(&FundingRow {
                copy_id: copy,
                venue_id: "f1".into(),
                symbol: "BTCUSDT".into(),
                amount: dec!(-8),
                asset: "USDT".into(),
                ts: MON + 3 * DAY,
            })
            .expect("funding");
        point(&s, copy, MON + 6 * DAY, dec!(430), dec!(-10), dec!(0));
        fill(&s, copy, 2, MON + 9 * DAY, dec!(0), dec!(2));
        point(&s, copy, MON + 13 * DAY, dec!(430), dec!(-168), dec!(0));
        fill(&s, copy, 3, MON + 16 * DAY, dec!(70), dec!(0));
        point(&s, copy, MON + 20 * DAY, dec!(500), dec!(-128), dec!(0));
    }

    // Session 2, day 22: three Mondays passed with no engine; the open draws them up.
    let app = open_at(dir.path(), MON + 22 * DAY).await;
    let stored = api::profit_share_read_only(dir.path(), COPY)
        .expect("the stored statements read while the app runs");
    assert_eq!(
        owed(&stored),
        vec![
            (StatementOutcomeDto::Settled, "100".to_owned()),
            (StatementOutcomeDto::Nothing, "0".to_owned()),
            (StatementOutcomeDto::Nothing, "0".to_owned()),
        ],
        "the open drew up weeks 1–3: (410 − 10) × 0.25 = 100, then a losing week and a \
         recovery below the level paid on owe nothing"
    );
    assert!(
        stored.statements.iter().all(|s| s.caught_up),
        "each is marked as caught up after the fact"
    );
    assert_eq!(
        stored.statements[1].pnl, "240",
        "408 − 168 after the losing week"
    );
    assert_eq!(
        stored.statements[2].pnl, "350",
        "recovered, below the 400 paid on"
    );
    let p = app
        .set_profit_share(COPY, Some("0.3"))
        .expect("30 % from now on");
    assert_eq!(p.statements.len(), 3, "the change draws up nothing new");
    app.shutdown().await;

    // Week 4 while running again, with a 5,000 USDT deposit that shows in equity only.
    {
        let s = Store::open(&db_path(dir.path())).expect("database");
        fill(&s, copy, 4, MON + 23 * DAY, dec!(330), dec!(8));
        point(&s, copy, MON + 24 * DAY, dec!(830), dec!(50), dec!(5000));
        point(&s, copy, MON + 27 * DAY, dec!(830), dec!(200), dec!(5000));
    }

    // Session 3, day 30: one more Monday passed while closed.
    let app = open_at(dir.path(), MON + 30 * DAY).await;
    let stored = api::profit_share_read_only(dir.path(), COPY).expect("readable");
    assert_eq!(
        stored.statements.len(),
        4,
        "week 4 was drawn up at the open"
    );
    let w4 = &stored.statements[3];
    assert_eq!(w4.kind, StatementKindDto::Weekly, "a weekly settlement");
    assert_eq!(
        (w4.ratio.as_str(), w4.pnl.as_str(), w4.already_paid.as_str()),
        ("0.3", "1000", "100"),
        "800 realized net + 200 unrealized at the new 30 %, 100 paid before; the deposit \
         is not profit"
    );
    assert_eq!(
        (w4.outcome, w4.owed.as_str()),
        (StatementOutcomeDto::Settled, "200"),
        "(800 + 200) × 0.3 − 100 = 200"
    );
    assert_eq!(
        w4.computed_at_ms,
        MON + 30 * DAY,
        "drawn up at the open, after its period"
    );
    let listed = app.profit_share(COPY).expect("listed");
    assert_eq!(listed.total_paid, "300", "100 + 200 settled");
    assert_eq!(
        listed.statements, stored.statements,
        "the facade lists the stored ones"
    );
    app.shutdown().await;

    // The CLI prints the same statements from the stored data.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_copydesk"))
        .args(["statements", COPY, "--data-dir"])
        .arg(dir.path())
        .output()
        .expect("copydesk runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "statements exits 0: {out:?}");
    assert!(
        text.contains("ratio 0.3, 300 USDT paid so far")
            && text.contains("2026-11-23 00:00Z → 2026-11-30 00:00Z: owed 200 USDT")
            && text.contains("[caught up]"),
        "the CLI lists the statements: {text}"
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_copydesk"))
        .args(["statements", COPY, "--json", "--data-dir"])
        .arg(dir.path())
        .output()
        .expect("copydesk runs");
    let json: ProfitShareDto = serde_json::from_slice(&out.stdout).expect("ProfitShareDto JSON");
    assert_eq!(
        (json.statements, json.total_paid),
        (listed.statements.clone(), listed.total_paid.clone()),
        "the JSON is the facade's DTO"
    );

    // Opening again at the same time adds nothing.
    let app = open_at(dir.path(), MON + 30 * DAY).await;
    assert_eq!(
        app.profit_share(COPY).expect("listed").statements.len(),
        4,
        "no statement is drawn up twice"
    );
    app.shutdown().await;

    // A stored statement that cannot be read is an error, never an empty list.
    {
        let s = Store::open(&db_path(dir.path())).expect("database");
        s.conn()
            .execute(
                "UPDATE profit_share_statements SET owed = 'lots' WHERE period_end = ?1",
                [MON + 7 * DAY],
            )
            .expect("damage one amount");
    }
    let app = open_at(dir.path(), MON + 30 * DAY).await;
    let e = app
        .profit_share(COPY)
        .expect_err("an unreadable amount is reported");
    assert_eq!(e.code, ErrorCode::Storage, "a storage error: {e:?}");
    assert!(
        api::profit_share_read_only(dir.path(), COPY).is_err(),
        "the read-only view refuses it too"
    );
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copy_stopped_while_the_app_was_closed_gets_its_stop_statement_and_no_more() {
    let dir = tempfile::tempdir().expect("tempdir");
    let copy = seed(dir.path());
    let app = open_at(dir.path(), MON + DAY).await;
    app.set_profit_share(COPY, Some("0.25")).expect("ratio set");
    app.shutdown().await;
    {
        // The engine ran a week and a half, then `copydesk run` stopped the copy.
        let s = Store::open(&db_path(dir.path())).expect("database");
        fill(&s, copy, 1, MON + 2 * DAY, dec!(430), dec!(12));
        point(&s, copy, MON + 6 * DAY, dec!(430), dec!(-10), dec!(0));
        fill(&s, copy, 2, MON + 9 * DAY, dec!(200), dec!(0));
        point(&s, copy, MON + 9 * DAY, dec!(630), dec!(0), dec!(0));
        s.copies()
            .stop(copy, MON + 10 * DAY, "stopped by the user")
            .expect("stopped");
    }
    let app = open_at(dir.path(), MON + 40 * DAY).await;
    let p = app.profit_share(COPY).expect("listed");
    let kinds: Vec<_> = p
        .statements
        .iter()
        .map(|s| (s.kind, s.period_end_ms, s.owed.clone()))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (StatementKindDto::Weekly, MON + 7 * DAY, "102".to_owned()),
            (StatementKindDto::Stop, MON + 10 * DAY, "52.5".to_owned()),
        ],
        "week 1: (418 − 10) × 0.25 = 102; at the stop: (618 + 0) × 0.25 − 102 = 52.5; no \
         Mondays after the stop"
    );
    assert_eq!(
        p.next_settlement_ms, None,
        "a stopped copy has no next settlement"
    );
    app.shutdown().await;
}

/// The app in paper mode (the embedded simulator with its demo leaders).
async fn open_paper(dir: &std::path::Path) -> App {
    let mut o = AppOptions::new(dir);
    o.keychain = Keychain::with_service(format!(
        "{APP_IDENTIFIER}.it.statements.paper.{}",
        std::process::id()
    ));
    o.paper = api::PaperOptions {
        start: true,
        admin_token: Some("statements-admin-token".into()),
        demo_speed: 1,
    };
    App::open(o).await.expect("the app opens in paper mode")
}

fn fixed_ratio(profit_share: Option<&str>) -> api::CopySettingsDto {
    let settings: copydesk::domain::CopySettings =
        toml::from_str("mode = \"fixed-ratio\"\nratio = \"0.5\"").expect("settings");
    let mut s = api::settings::to_dto(&settings);
    s.profit_share_ratio = profit_share.map(str::to_owned);
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copy_is_created_with_its_ratio_and_a_bad_one_is_refused_on_its_field() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = open_paper(dir.path()).await;
    // Checked with the settings, on its own field, before anything is created.
    for bad in ["0.31", "0", "ten"] {
        let e = app
            .validate_settings(&fixed_ratio(Some(bad)))
            .expect_err("refused");
        assert_eq!(e.code, ErrorCode::InvalidInput, "{e:?}");
        assert_eq!(e.field.as_deref(), Some("profitShareRatio"), "{bad}: {e:?}");
        let e = app
            .create_copy(api::NewCopyRequest {
                name: "refused".into(),
                leader: "demo-swing".into(),
                follower: "paper".into(),
                settings: fixed_ratio(Some(bad)),
            })
            .await
            .expect_err("a copy with a bad ratio is not created");
        assert_eq!(
            e.field.as_deref(),
            Some("settings.profitShareRatio"),
            "{bad}: {e:?}"
        );
    }
    assert!(
        app.profit_share("refused").is_err(),
        "the refused copy does not exist"
    );
    app.create_copy(api::NewCopyRequest {
        name: "shared".into(),
        leader: "demo-swing".into(),
        follower: "paper".into(),
        settings: fixed_ratio(Some(" 0.15 ")),
    })
    .await
    .expect("the copy starts");
    let share = app.profit_share("shared").expect("profit share reads");
    assert_eq!(share.ratio.as_deref(), Some("0.15"), "{share:?}");
    assert!(
        share.next_settlement_ms.is_some(),
        "a weekly settlement is due: {share:?}"
    );
    // Without a ratio, profit share is off.
    app.create_copy(api::NewCopyRequest {
        name: "plain".into(),
        leader: "demo-swing".into(),
        follower: "paper".into(),
        settings: fixed_ratio(None),
    })
    .await
    .expect("the copy starts");
    assert_eq!(app.profit_share("plain").expect("reads").ratio, None);
    app.shutdown().await;
}

fn copydesk(dir: &std::path::Path) -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_copydesk"));
    c.arg("--data-dir").arg(dir);
    c
}

#[test]
fn the_cli_sets_a_ratio_and_refuses_a_bad_one_naming_the_flag_or_the_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    seed(dir.path());
    let out = copydesk(dir.path())
        .args(["statements", COPY, "--set-ratio", "0.5"])
        .output()
        .expect("runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a bad ratio fails: {out:?}");
    assert!(
        err.contains("--set-ratio") && err.contains("at most 0.3"),
        "names the flag and the fix: {err}"
    );
    let out = copydesk(dir.path())
        .args(["statements", COPY, "--set-ratio", "0.2", "--json"])
        .output()
        .expect("runs");
    assert!(out.status.success(), "a good ratio is set: {out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["ratio"], "0.2", "{v}");
    let out = copydesk(dir.path())
        .args(["statements", COPY, "--json"])
        .output()
        .expect("runs");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["ratio"], "0.2", "stored: {v}");
    let out = copydesk(dir.path())
        .args(["statements", COPY, "--set-ratio", "off", "--json"])
        .output()
        .expect("runs");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["ratio"], serde_json::Value::Null, "turned off: {v}");

    // In copy.toml: a bad ratio stops `run` before anything starts, naming key and line.
    let config = dir.path().join("copy.toml");
    std::fs::write(
        &config,
        "[[accounts]]\nname = \"lead\"\nexchange = \"binance-usdm\"\nendpoint = \"demo\"\n\
         api_key = { env = \"NO_SUCH_LEAD_KEY\" }\napi_secret = { env = \"NO_SUCH_LEAD_SECRET\" }\n\
         [[accounts]]\nname = \"me\"\nexchange = \"binance-usdm\"\nendpoint = \"demo\"\n\
         api_key = { env = \"NO_SUCH_ME_KEY\" }\napi_secret = { env = \"NO_SUCH_ME_SECRET\" }\n\
         [[copies]]\nname = \"toml-copy\"\nleader = \"lead\"\nfollower = \"me\"\n\
         mode = \"fixed-ratio\"\nratio = \"0.1\"\nprofit_share_ratio = \"0.45\"\n",
    )
    .expect("config written");
    let out = copydesk(dir.path())
        .arg("run")
        .arg("--config")
        .arg(&config)
        .output()
        .expect("runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "a bad ratio in copy.toml fails: {out:?}"
    );
    assert!(
        err.contains("profit_share_ratio")
            && err.contains("at most 0.3")
            && err.contains(", line "),
        "names the key, its line and the fix: {err}"
    );
}
