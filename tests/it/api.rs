//! Integration tests of the facade (`copydesk::api::App`): paper mode on the embedded
//! simulator over loopback, real SQLite files in temporary data directories, and the real
//! OS keychain for accounts (skipped with a notice when no keychain answers, except in CI).

use std::time::{Duration, Instant};

use copydesk::api::{
    self, App, AppOptions, CopyModeDto, CopySettingsDto, CopyStateDto, ErrorCode, EventDto,
    EventKind, FindingStatus, KeyCheckKind, NewAccountRequest, NewCopyRequest, PaperOptions,
    PositionModeDto, StopActionDto,
};
use copydesk::paths::APP_IDENTIFIER;
use copydesk::secrets::Keychain;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde_json::Value;
use tokio::sync::broadcast;

use crate::sim::support::Client;

const TOKEN: &str = "api-test-admin-token";

/// A keychain service of this test's own; paper tests never touch it.
fn keychain(test: &str) -> Keychain {
    Keychain::with_service(format!(
        "{APP_IDENTIFIER}.it.api.{test}.{}",
        std::process::id()
    ))
}

fn paper_opts(dir: &std::path::Path, test: &str) -> AppOptions {
    let mut o = AppOptions::new(dir);
    o.keychain = keychain(test);
    o.paper = PaperOptions {
        start: true,
        admin_token: Some(TOKEN.into()),
        demo_speed: 1,
    };
    o
}

/// Fixed-ratio settings: the follower takes `ratio` × the leader's quantity.
fn ratio(r: &str) -> CopySettingsDto {
    let mut s = api::settings::to_dto(&copydesk::domain::CopySettings {
        mode: copydesk::domain::CopyMode::FixedRatio,
        investment: None,
        amount_per_order: None,
        ratio: Some(r.parse().expect("ratio")),
        copy_ongoing_positions: false,
        preset: copydesk::domain::Preset::None,
        start: Default::default(),
        risk: Default::default(),
    });
    s.mode = CopyModeDto::FixedRatio;
    s
}

/// A REST client trading as demo leader `style` on the app's embedded simulator.
async fn demo_leader(app: &App, style: &str) -> Client {
    let (base, token) = app.paper_admin().await.expect("paper mode runs");
    let http = reqwest::Client::new();
    let list: Value = http
        .get(format!("{base}/admin/v1/demo-leaders"))
        .header("X-Admin-Token", token.expect("admin token"))
        .send()
        .await
        .expect("admin API answers")
        .json()
        .await
        .expect("demo leaders as JSON");
    let l = list
        .as_array()
        .and_then(|a| a.iter().find(|l| l["style"] == style))
        .unwrap_or_else(|| panic!("a {style} demo leader: {list}"));
    Client {
        base,
        http,
        account_id: l["accountId"].as_str().expect("accountId").into(),
        key: l["apiKey"].as_str().expect("apiKey").into(),
        secret: l["secretKey"].as_str().expect("secretKey").into(),
    }
}

/// Waits for an event matching `pred`, collecting every event seen into `seen`.
async fn wait_event(
    rx: &mut broadcast::Receiver<EventDto>,
    seen: &mut Vec<EventDto>,
    what: &str,
    pred: impl Fn(&EventDto) -> bool,
) -> EventDto {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(e) = seen.iter().find(|e| pred(e)) {
            return e.clone();
        }
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(
            !left.is_zero(),
            "{what} should happen within 60 s: {seen:#?}"
        );
        match tokio::time::timeout(left, rx.recv()).await {
            Ok(Ok(e)) => seen.push(e),
            Ok(Err(broadcast::error::RecvError::Lagged(_))) => {}
            Ok(Err(e)) => panic!("{what}: the event stream ended: {e}"),
            Err(_) => {}
        }
    }
}

fn is(kind: EventKind, copy: &str) -> impl Fn(&EventDto) -> bool + '_ {
    move |e| e.kind == kind && e.copy.as_deref() == Some(copy)
}

/// Polls the app's status until the copy holds `symbol` with `qty` on the follower side.
async fn wait_position(app: &App, copy: &str, symbol: &str, qty: Decimal) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let s = app.status().await.expect("status reads");
        let c = s
            .copies
            .iter()
            .find(|c| c.copy.name == copy)
            .expect("the copy is listed");
        let got = c
            .positions
            .iter()
            .find(|p| p.symbol == symbol)
            .map(|p| p.follower_qty.parse::<Decimal>().expect("decimal string"));
        if got == Some(qty) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "copy {copy} should hold {qty} {symbol} within 60 s, holds {got:?}: {c:#?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Creates a paper copy of `leader` and waits until it watches the leader.
async fn start_paper_copy(
    app: &App,
    rx: &mut broadcast::Receiver<EventDto>,
    seen: &mut Vec<EventDto>,
    name: &str,
    leader: &str,
    settings: CopySettingsDto,
) {
    app.create_copy(NewCopyRequest {
        name: name.into(),
        leader: leader.into(),
        follower: "paper".into(),
        settings,
    })
    .await
    .expect("the copy starts");
    wait_event(rx, seen, "the copy watches", is(EventKind::Watching, name)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paper_copy_copies_a_demo_leader_and_a_second_copy_does_not_restart_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = App::open(paper_opts(dir.path(), "paper"))
        .await
        .expect("the app opens in paper mode");
    let mut rx = app.events();
    let mut seen = Vec::new();
    let paper = app.paper().await;
    assert!(paper.running, "paper mode runs: {paper:?}");
    assert_eq!(
        paper.balance.as_deref(),
        Some("10000"),
        "the paper account is funded: {paper:?}"
    );
    let leaders = app.leaders().await.expect("leaders list");
    assert!(
        leaders.iter().any(|l| l.id == "demo-swing" && l.copyable),
        "the swing demo leader is listed and copyable: {leaders:#?}"
    );
    let accounts = app.accounts().await.expect("accounts list");
    assert!(
        accounts.iter().any(|a| a.name == "paper" && a.paper),
        "the paper account is listed and labelled paper: {accounts:#?}"
    );

    let first = app
        .create_copy(NewCopyRequest {
            name: "first".into(),
            leader: "demo-swing".into(),
            follower: "paper".into(),
            settings: ratio("0.5"),
        })
        .await
        .expect("the first paper copy starts");
    assert!(
        first.paper,
        "a copy onto the paper account is labelled paper"
    );
    assert_eq!(first.state, CopyStateDto::Running);
    wait_event(
        &mut rx,
        &mut seen,
        "the first copy watches",
        is(EventKind::Watching, "first"),
    )
    .await;

    // A second copy joins while the first runs.
    app.create_copy(NewCopyRequest {
        name: "second".into(),
        leader: "demo-high-leverage".into(),
        follower: "paper".into(),
        settings: ratio("0.5"),
    })
    .await
    .expect("the second paper copy starts beside the first");
    wait_event(
        &mut rx,
        &mut seen,
        "the second copy watches",
        is(EventKind::Watching, "second"),
    )
    .await;
    let mut running = app.running();
    running.sort();
    assert_eq!(running, ["first", "second"], "both copies run");

    // The first copy's leader trades on a symbol its strategy never touches.
    let lead = demo_leader(&app, "swing").await;
    lead.market("BTCUSDT", "BUY", "0.01")
        .await
        .ok("the demo leader opens");
    // Its strategy's own trade (one at the simulator's first tick, which under load may
    // come after the copy started) is copied too: wait for the BTCUSDT fill.
    let fill = wait_event(&mut rx, &mut seen, "the first copy fills", |e| {
        is(EventKind::Fill, "first")(e)
            && matches!(&e.detail, Some(copydesk::runtime::notify::NotifyDetail::Fill { symbol, .. }) if symbol == "BTCUSDT")
    })
    .await;
    assert_eq!(
        fill.detail,
        Some(copydesk::runtime::notify::NotifyDetail::Fill {
            symbol: "BTCUSDT".into(),
            side: copydesk::domain::Side::Buy,
            qty: dec!(0.005),
            price: match &fill.detail {
                Some(copydesk::runtime::notify::NotifyDetail::Fill { price, .. }) => *price,
                _ => Decimal::ZERO,
            },
        }),
        "the fill event carries its typed facts for the desktop notification: {fill:#?}"
    );
    wait_position(&app, "first", "BTCUSDT", dec!(0.005)).await;
    let started_first = seen
        .iter()
        .filter(|e| is(EventKind::Started, "first")(e))
        .count();
    assert_eq!(
        started_first, 1,
        "adding the second copy did not restart the first: {seen:#?}"
    );
    let status = app.status().await.expect("status");
    let c = status
        .copies
        .iter()
        .find(|c| c.copy.name == "first")
        .expect("first listed");
    assert_eq!(
        c.positions[0].leader_qty, "0.01",
        "leader beside follower: {c:#?}"
    );
    assert_eq!(c.positions[0].ratio, "0.5", "the ratio k: {c:#?}");
    assert!(
        c.fills
            .iter()
            .any(|f| f.symbol == "BTCUSDT" && f.delay_ms.is_some()),
        "the fill is linked to the leader's, with its delay: {c:#?}"
    );
    // The fill is the first copy's alone: the second copy on the same follower account
    // neither stores it (its figures would count another copy's fees and PnL) nor reports
    // it. The second copy's own leader trades next: once the second copy reports that fill,
    // it has handled the follower's earlier events, the first copy's fill among them.
    let lead2 = demo_leader(&app, "high-leverage").await;
    lead2
        .market("XRPUSDT", "BUY", "100")
        .await
        .ok("the second copy's leader opens");
    wait_event(&mut rx, &mut seen, "the second copy fills", |e| {
        is(EventKind::Fill, "second")(e) && e.message.contains("XRPUSDT")
    })
    .await;
    let after = app.status().await.expect("status");
    let second = after
        .copies
        .iter()
        .find(|c| c.copy.name == "second")
        .expect("second listed");
    assert!(
        !second.fills.is_empty() && second.fills.iter().all(|f| f.symbol != "BTCUSDT"),
        "the second copy stores its own fills only, not the first copy's BTCUSDT: {second:#?}"
    );
    assert!(
        !seen
            .iter()
            .any(|e| is(EventKind::Fill, "second")(e) && e.message.contains("BTCUSDT")),
        "the second copy reported the first copy's fill: {seen:#?}"
    );
    let json = serde_json::to_value(&status).expect("status serialises");
    assert!(
        json["copies"][0]["copy"]["t0Ms"].is_number(),
        "camelCase status: {json}"
    );
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stored_copies_resume_at_open_as_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = App::open(paper_opts(dir.path(), "resume"))
        .await
        .expect("the app opens");
    let mut rx = app.events();
    let mut seen = Vec::new();
    for (name, leader) in [("kept", "demo-swing"), ("resting", "demo-scalper")] {
        app.create_copy(NewCopyRequest {
            name: name.into(),
            leader: leader.into(),
            follower: "paper".into(),
            settings: ratio("0.5"),
        })
        .await
        .expect("a copy starts");
        wait_event(
            &mut rx,
            &mut seen,
            "the copy watches",
            is(EventKind::Watching, name),
        )
        .await;
    }
    app.pause("resting").await.expect("pause is accepted");
    wait_event(
        &mut rx,
        &mut seen,
        "the pause",
        is(EventKind::Paused, "resting"),
    )
    .await;
    let t0 = app.copy("kept").await.expect("copy").t0_ms;
    assert!(t0.is_some(), "a started copy has t0");

    // Another engine cannot open the same data directory meanwhile.
    let mut other = paper_opts(dir.path(), "resume-2");
    other.paper.start = false;
    let locked = App::open(other)
        .await
        .expect_err("the data directory is locked");
    assert_eq!(locked.code, ErrorCode::Locked, "{locked:?}");
    app.shutdown().await;

    let app = App::open(paper_opts(dir.path(), "resume"))
        .await
        .expect("the app reopens");
    let mut running = app.running();
    running.sort();
    assert_eq!(
        running,
        ["kept", "resting"],
        "both stored copies resumed at open"
    );
    let kept = app.copy("kept").await.expect("copy");
    assert_eq!(kept.t0_ms, t0, "a resume is a restart: t0 does not move");
    assert_eq!(kept.state, CopyStateDto::Running);
    assert_eq!(
        app.copy("resting").await.expect("copy").state,
        CopyStateDto::Paused,
        "the paused copy resumes paused"
    );
    app.stop("kept", api::StopActionDto::Keep)
        .await
        .expect("stop is accepted");
    let mut rx = app.events();
    let mut seen = Vec::new();
    let stop = wait_event(
        &mut rx,
        &mut seen,
        "the stop",
        is(EventKind::Stopped, "kept"),
    )
    .await;
    assert_eq!(
        stop.detail,
        Some(copydesk::runtime::notify::NotifyDetail::Stop {
            cause: copydesk::runtime::notify::StopCause::User
        }),
        "the stop event says the user stopped it"
    );
    app.shutdown().await;

    let app = App::open(paper_opts(dir.path(), "resume"))
        .await
        .expect("the app reopens");
    assert_eq!(
        app.running(),
        ["resting"],
        "a stopped copy is not resumed; the paused one is"
    );
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_settings_and_accounts_are_refused_with_their_field() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut opts = paper_opts(dir.path(), "refusals");
    opts.paper.start = false;
    let app = App::open(opts).await.expect("the app opens");
    let mut s = ratio("0.5");
    s.risk.max_leverage = 0;
    let e = app.validate_settings(&s).expect_err("leverage 0 refused");
    assert_eq!(e.field.as_deref(), Some("risk.maxLeverage"), "{e:?}");
    let mut s = ratio("0.5");
    s.mode = CopyModeDto::SmartSync;
    s.ratio = None;
    s.investment = Some("50".into());
    let e = app
        .create_copy(NewCopyRequest {
            name: "small".into(),
            leader: "x".into(),
            follower: "y".into(),
            settings: s,
        })
        .await
        .expect_err("an investment below 100 is refused");
    assert_eq!(e.code, ErrorCode::InvalidInput);
    assert_eq!(e.field.as_deref(), Some("settings.investment"), "{e:?}");
    let req =
        |name: &str, exchange: &str, env: api::Environment, endpoint: Option<&str>, key: &str| {
            NewAccountRequest {
                name: name.into(),
                exchange: exchange.into(),
                environment: env,
                endpoint: endpoint.map(str::to_owned),
                api_key: key.into(),
                api_secret: "s3cr3t-value-0123456789".into(),
                passphrase: None,
            }
        };
    use api::Environment::{Custom, Mainnet, Paper};
    for (r, field) in [
        (
            req(
                "bad name",
                "binance-usdm",
                Mainnet,
                None,
                "k3y-0123456789abcdef",
            ),
            "name",
        ),
        (
            req("ok", "okx-swap", Mainnet, None, "k3y-0123456789abcdef"),
            "exchange",
        ),
        (
            req("ok", "binance-usdm", Custom, None, "k3y-0123456789abcdef"),
            "endpoint",
        ),
        (
            req("ok", "binance-usdm", Paper, None, "k3y-0123456789abcdef"),
            "environment",
        ),
        (
            req("ok", "binance-usdm", Mainnet, None, "has space"),
            "apiKey",
        ),
    ] {
        let e = app.add_account(r).await.expect_err("refused");
        assert_eq!(e.field.as_deref(), Some(field), "{e:?}");
        assert!(
            !e.message.contains("s3cr3t"),
            "no secret in the message: {e:?}"
        );
    }
    app.shutdown().await;
}

/// The keychain under a service of this test's own, or `None` with a notice when no
/// keychain answers outside CI.
fn real_keychain(test: &str) -> Option<Keychain> {
    let kc = keychain(test);
    match kc.check() {
        Ok(()) => Some(kc),
        Err(e) => {
            assert!(
                std::env::var("CI").map_or(true, |v| v != "true"),
                "CI=true but the OS keychain is not reachable ({e})"
            );
            eprintln!("NOTICE: keychain test skipped, no OS keychain reachable: {e}");
            None
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_live_in_the_keychain_and_their_copies_resume() {
    let Some(kc) = real_keychain("accounts") else {
        return;
    };
    let sim = crate::runtime::support::sim().await;
    let base = sim.base();
    let lead = sim.usdt("10000").await;
    let me = sim.usdt("10000").await;
    sim.price("BTCUSDT", "50000").await;
    let dir = tempfile::tempdir().expect("tempdir");
    let opts = || {
        let mut o = AppOptions::new(dir.path());
        o.keychain = kc.clone();
        o.paper.start = false;
        o
    };
    let app = App::open(opts()).await.expect("the app opens");
    let mut replies = Vec::new();
    for (name, c) in [("lead", &lead), ("me", &me)] {
        let a = app
            .add_account(NewAccountRequest {
                name: name.into(),
                exchange: "binance-usdm".into(),
                environment: api::Environment::Custom,
                endpoint: Some(base.clone()),
                api_key: c.key.clone(),
                api_secret: c.secret.clone(),
                passphrase: None,
            })
            .await
            .expect("the account is added");
        assert!(!a.paper, "a real account is not paper");
        replies.push(serde_json::to_string(&a).expect("serialises"));
    }
    let list = app.accounts().await.expect("accounts list");
    let me_row = list.iter().find(|a| a.name == "me").expect("me listed");
    assert_eq!(me_row.environment, api::Environment::Custom);
    let hint = me_row.key_hint.clone().expect("a masked hint");
    assert!(
        hint.contains('…') && !me.key.contains(&hint),
        "masked: {hint}"
    );
    replies.push(serde_json::to_string(&list).expect("serialises"));
    let check = app.check_key("me").await.expect("the key check runs");
    assert!(
        check
            .findings
            .iter()
            .any(|f| f.check == api::KeyCheckKind::Valid && f.status == api::FindingStatus::Pass),
        "the simulator accepts the key: {check:#?}"
    );
    replies.push(serde_json::to_string(&check).expect("serialises"));

    app.create_copy(NewCopyRequest {
        name: "real".into(),
        leader: "lead".into(),
        follower: "me".into(),
        settings: ratio("0.5"),
    })
    .await
    .expect("a copy between keychain accounts starts");
    let mut rx = app.events();
    let mut seen = Vec::new();
    wait_event(
        &mut rx,
        &mut seen,
        "the copy watches",
        is(EventKind::Watching, "real"),
    )
    .await;
    replies.push(serde_json::to_string(&app.status().await.expect("status")).expect("json"));
    app.shutdown().await;

    // Reopened: the copy resumes with its keys from the keychain and copies on.
    let app = App::open(opts()).await.expect("the app reopens");
    assert_eq!(app.running(), ["real"], "the stored copy resumed");
    let mut rx = app.events();
    let mut seen = Vec::new();
    wait_event(
        &mut rx,
        &mut seen,
        "the resumed copy watches",
        is(EventKind::Watching, "real"),
    )
    .await;
    lead.market("BTCUSDT", "BUY", "0.02")
        .await
        .ok("the leader opens");
    wait_position(&app, "real", "BTCUSDT", dec!(0.01)).await;
    let removed = app.remove_account("me").await.expect_err("in use");
    assert_eq!(removed.code, ErrorCode::Conflict, "{removed:?}");
    replies.push(serde_json::to_string(&app.status().await.expect("status")).expect("json"));
    app.stop("real", api::StopActionDto::CloseAll)
        .await
        .expect("stop");
    wait_event(
        &mut rx,
        &mut seen,
        "the stop",
        is(EventKind::Stopped, "real"),
    )
    .await;
    app.shutdown().await;

    let app = App::open(opts()).await.expect("the app reopens");
    for name in ["lead", "me"] {
        app.remove_account(name).await.expect("the key is removed");
    }
    let list = app.accounts().await.expect("accounts list");
    assert!(
        list.iter().all(|a| a.key_hint.is_none()),
        "no hints after removal: {list:#?}"
    );
    assert!(
        kc.get(&Keychain::entry_name(
            "me",
            copydesk::secrets::SecretPart::ApiSecret
        ))
        .expect("keychain reads")
        .is_none(),
        "the secret left the keychain"
    );
    app.shutdown().await;
    for r in &replies {
        for secret in [&lead.key, &lead.secret, &me.key, &me.secret] {
            assert!(
                !r.contains(secret.as_str()),
                "no key material in a DTO: {r}"
            );
        }
    }
}

/// The paper account's signed position amount on `symbol`, from the simulator's admin API.
async fn paper_amount(app: &App, symbol: &str) -> Decimal {
    paper_view(app).await["positions"]
        .as_array()
        .and_then(|ps| ps.iter().find(|p| p["symbol"] == symbol))
        .map_or(Decimal::ZERO, |p| {
            crate::sim::support::dec(&p["positionAmt"])
        })
}

/// The paper account as the simulator's admin API shows it.
async fn paper_view(app: &App) -> Value {
    let (base, token) = app.paper_admin().await.expect("paper mode runs");
    let token = token.expect("admin token");
    let http = reqwest::Client::new();
    let get = |path: String| {
        let req = http
            .get(format!("{base}{path}"))
            .header("X-Admin-Token", token.clone());
        async move {
            req.send()
                .await
                .expect("admin API answers")
                .json::<Value>()
                .await
                .expect("JSON")
        }
    };
    let list = get("/admin/v1/accounts".into()).await;
    let id = list
        .as_array()
        .and_then(|a| a.iter().find(|a| a["label"] == "paper"))
        .and_then(|a| a["accountId"].as_str())
        .unwrap_or_else(|| panic!("the paper account is on the simulator: {list}"))
        .to_owned();
    get(format!("/admin/v1/accounts/{id}")).await
}

/// Polls until `check` holds (hang guard 60 s).
async fn until<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match check().await {
            Ok(()) => return,
            Err(e) => assert!(
                Instant::now() < deadline,
                "{what} should hold within 60 s: {e}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_position_is_closed_and_another_unlinked() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = App::open(paper_opts(dir.path(), "release"))
        .await
        .expect("the app opens");
    let mut rx = app.events();
    let mut seen = Vec::new();
    start_paper_copy(&app, &mut rx, &mut seen, "one", "demo-swing", ratio("0.5")).await;
    let lead = demo_leader(&app, "swing").await;
    lead.market("BTCUSDT", "BUY", "0.01")
        .await
        .ok("leader opens BTC");
    lead.market("BNBUSDT", "BUY", "1")
        .await
        .ok("leader opens BNB");
    wait_position(&app, "one", "BTCUSDT", dec!(0.005)).await;
    wait_position(&app, "one", "BNBUSDT", dec!(0.5)).await;

    let e = app
        .close_position("one", "BTCUSDT", "sideways")
        .await
        .expect_err("a bad side is refused");
    assert_eq!(e.field.as_deref(), Some("side"), "{e:?}");
    app.close_position("one", "BTCUSDT", "long")
        .await
        .expect("close is accepted");
    app.unlink_position("one", "BNBUSDT", "long")
        .await
        .expect("unlink is accepted");
    until("BTC closed and BNB unlinked", || async {
        let s = app.status().await.map_err(|e| e.message)?;
        // Only these two: the swing leader's own strategy may open ETHUSDT meanwhile.
        let held: Vec<String> = s.copies[0]
            .positions
            .iter()
            .map(|p| p.symbol.clone())
            .filter(|s| s == "BTCUSDT" || s == "BNBUSDT")
            .collect();
        let btc = paper_amount(&app, "BTCUSDT").await;
        (held.is_empty() && btc.is_zero())
            .then_some(())
            .ok_or(format!("copy holds {held:?}, paper BTC {btc}"))
    })
    .await;
    assert_eq!(
        paper_amount(&app, "BNBUSDT").await,
        dec!(0.5),
        "the unlinked position stays open as the user's own"
    );
    // The close's fill says it was the copy's own order, not a copy of the leader (whose
    // trade it did not follow: no delay or slippage against one); the open was a copy.
    let fill_of = |side: copydesk::domain::Side| {
        move |e: &EventDto| {
            is(EventKind::Fill, "one")(e)
                && matches!(&e.detail, Some(copydesk::runtime::notify::NotifyDetail::Fill { symbol, side: s, .. }) if symbol == "BTCUSDT" && *s == side)
        }
    };
    let open = wait_event(
        &mut rx,
        &mut seen,
        "the BTC open's fill",
        fill_of(copydesk::domain::Side::Buy),
    )
    .await;
    assert!(open.message.starts_with("copied: "), "{open:?}");
    let close = wait_event(
        &mut rx,
        &mut seen,
        "the BTC close's fill",
        fill_of(copydesk::domain::Side::Sell),
    )
    .await;
    assert!(
        close.message.starts_with("filled: ")
            && close.message.contains("not a copy of a leader trade"),
        "{close:?}"
    );
    // The leader adds to both; then opens LINK, which the copy copies: by then (signals
    // are handled in event order) the adds have been declined.
    lead.market("BTCUSDT", "BUY", "0.01")
        .await
        .ok("leader adds BTC");
    lead.market("BNBUSDT", "BUY", "1")
        .await
        .ok("leader adds BNB");
    lead.market("LINKUSDT", "BUY", "20")
        .await
        .ok("leader opens LINK");
    wait_position(&app, "one", "LINKUSDT", dec!(10)).await;
    assert!(
        paper_amount(&app, "BTCUSDT").await.is_zero(),
        "after a close, the leader's changes are declined until it is flat"
    );
    assert_eq!(
        paper_amount(&app, "BNBUSDT").await,
        dec!(0.5),
        "an unlinked position is not managed any more"
    );
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sizing_preview_runs_the_leaders_recent_opens_through_sizing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = App::open(paper_opts(dir.path(), "preview"))
        .await
        .expect("the app opens");
    let preview = |r: &str| {
        app.preview(api::PreviewRequest {
            leader: "demo-swing".into(),
            follower: "paper".into(),
            settings: ratio(r),
        })
    };
    let half = preview("0.5").await.expect("the preview runs");
    let open = half
        .last_open
        .clone()
        .expect("the demo leader has recent opens");
    assert!(
        half.considered_opens > 0 && half.considered_opens <= 100,
        "up to 100 opens are sized: {half:#?}"
    );
    let leader_qty: Decimal = open.qty.parse().expect("decimal");
    let mine: Decimal = half
        .follower_qty
        .as_deref()
        .expect("half of a demo open is tradable")
        .parse()
        .expect("decimal");
    assert!(
        mine > Decimal::ZERO && mine <= leader_qty * dec!(0.5),
        "the follower's quantity is half the leader's, rounded down: {half:#?}"
    );
    assert!(
        half.sentence.contains("would be") && half.sentence.contains(&open.qty),
        "the sentence names both quantities: {}",
        half.sentence
    );
    assert_eq!(
        half.follower_open_positions,
        Some(0),
        "a fresh paper account is flat"
    );
    let tiny = preview("0.00001").await.expect("the preview runs");
    assert_eq!(
        tiny.skipped_below_min, tiny.considered_opens,
        "every open is below the minimum at a ratio of 0.00001: {tiny:#?}"
    );
    assert!(tiny.follower_qty.is_none(), "{tiny:#?}");
    assert!(tiny.sentence.contains("skipped"), "{}", tiny.sentence);
    app.shutdown().await;
}

/// The simulator's paper-labelled accounts as `(accountId, apiKey)`.
async fn paper_accounts(app: &App) -> Vec<(String, String)> {
    let (base, token) = app.paper_admin().await.expect("paper mode runs");
    let list: Value = reqwest::Client::new()
        .get(format!("{base}/admin/v1/accounts"))
        .header("X-Admin-Token", token.expect("admin token"))
        .send()
        .await
        .expect("admin API answers")
        .json()
        .await
        .expect("JSON");
    list.as_array()
        .expect("an account list")
        .iter()
        .filter(|a| a["label"] == "paper")
        .map(|a| {
            (
                a["accountId"].as_str().expect("accountId").to_owned(),
                a["apiKey"].as_str().expect("apiKey").to_owned(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paper_copy_survives_an_app_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = App::open(paper_opts(dir.path(), "paper-restart"))
        .await
        .expect("the app opens in paper mode");
    let mut rx = app.events();
    let mut seen = Vec::new();
    app.create_copy(NewCopyRequest {
        name: "lasting".into(),
        leader: "demo-swing".into(),
        follower: "paper".into(),
        settings: ratio("0.5"),
    })
    .await
    .expect("the paper copy starts");
    wait_event(
        &mut rx,
        &mut seen,
        "the copy watches",
        is(EventKind::Watching, "lasting"),
    )
    .await;
    let before = paper_accounts(&app).await;
    assert_eq!(before.len(), 1, "one paper account: {before:?}");
    let lead = demo_leader(&app, "swing").await;
    lead.market("BTCUSDT", "BUY", "0.01")
        .await
        .ok("the demo leader opens");
    wait_position(&app, "lasting", "BTCUSDT", dec!(0.005)).await;
    // The ledger is written before the order lands (journal first): wait for the venue.
    until("the paper account holds the copied position", || {
        let app = &app;
        async move {
            match paper_amount(app, "BTCUSDT").await {
                a if a == dec!(0.005) => Ok(()),
                a => Err(format!("the paper account holds {a} BTCUSDT")),
            }
        }
    })
    .await;
    let leader_key = lead.key.clone();
    app.shutdown().await;

    let app = App::open(paper_opts(dir.path(), "paper-restart"))
        .await
        .expect("the app reopens on the same data directory");
    assert_eq!(
        paper_accounts(&app).await,
        before,
        "the same paper account (same id and key) after the restart, and no new one"
    );
    assert_eq!(
        paper_amount(&app, "BTCUSDT").await,
        dec!(0.005),
        "the paper account still holds the copied position on the simulator"
    );
    assert_eq!(app.running(), ["lasting"], "the copy resumed at open");
    wait_position(&app, "lasting", "BTCUSDT", dec!(0.005)).await;

    // The copy keeps copying: the leader (restored with its position) closes.
    let mut rx = app.events();
    let mut seen = Vec::new();
    wait_event(
        &mut rx,
        &mut seen,
        "the resumed copy watches",
        is(EventKind::Watching, "lasting"),
    )
    .await;
    let lead = demo_leader(&app, "swing").await;
    assert_eq!(lead.key, leader_key, "the demo leader is the restored one");
    lead.market("BTCUSDT", "SELL", "0.01")
        .await
        .ok("the restored demo leader closes");
    until("the follower is flat after the leader closes", || {
        let app = &app;
        async move {
            match paper_amount(app, "BTCUSDT").await {
                a if a.is_zero() => Ok(()),
                a => Err(format!("the paper account holds {a} BTCUSDT")),
            }
        }
    })
    .await;
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copy_whose_ledger_cannot_be_read_is_refused_alone_and_status_says_why() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = App::open(paper_opts(dir.path(), "refused"))
        .await
        .expect("the app opens");
    let mut rx = app.events();
    let mut seen = Vec::new();
    for (name, leader) in [("broken", "demo-swing"), ("fine", "demo-scalper")] {
        // One copy per symbol on a follower account: the scalper trades on its own, so
        // `fine` keeps out of BTCUSDT, the book `broken` must take.
        let mut settings = ratio("0.5");
        if name == "fine" {
            settings.risk.symbol_blocklist = vec!["BTCUSDT".into()];
        }
        app.create_copy(NewCopyRequest {
            name: name.into(),
            leader: leader.into(),
            follower: "paper".into(),
            settings,
        })
        .await
        .expect("a copy starts");
        wait_event(
            &mut rx,
            &mut seen,
            "the copy watches",
            is(EventKind::Watching, name),
        )
        .await;
    }
    let lead = demo_leader(&app, "swing").await;
    lead.market("BTCUSDT", "BUY", "0.01")
        .await
        .ok("the demo leader opens");
    wait_position(&app, "broken", "BTCUSDT", dec!(0.005)).await;
    app.shutdown().await;

    // The fault: the stored ledger of `broken` becomes bytes no ledger decodes.
    {
        let store = copydesk::store::Store::open(&copydesk::store::db_path(dir.path()))
            .expect("database opens");
        let n = store
            .conn()
            .execute(
                "UPDATE copy_ledger SET ledger = '{\"positions\": [truncated' \
                 WHERE copy_id = (SELECT id FROM copies WHERE name = 'broken')",
                [],
            )
            .expect("corrupted");
        assert_eq!(n, 1, "one ledger row corrupted");
    }

    let app = App::open(paper_opts(dir.path(), "refused"))
        .await
        .expect("one unreadable copy does not fail the open");
    assert_eq!(app.running(), ["fine"], "only the readable copy runs");
    let broken = app
        .copy("broken")
        .await
        .expect("the refused copy is listed");
    assert_eq!(broken.state, CopyStateDto::Stopped, "{broken:#?}");
    let reason = broken.reason.clone().unwrap_or_default();
    for needle in ["table copy_ledger", "copydesk copies repair broken"] {
        assert!(
            reason.contains(needle),
            "the reason names the row and the recovery (`{needle}`): {broken:#?}"
        );
    }
    assert!(
        broken
            .holds
            .iter()
            .any(|h| h.kind == api::HoldKind::UnreadableState),
        "{broken:#?}"
    );
    let status = app.status().await.expect("status still reads");
    let c = status
        .copies
        .iter()
        .find(|c| c.copy.name == "broken")
        .expect("listed");
    assert!(
        c.positions.is_empty() && c.copy.state == CopyStateDto::Stopped,
        "positions unknown, never a made-up ledger: {c:#?}"
    );
    let fine = app.copy("fine").await.expect("copy");
    assert_eq!(fine.state, CopyStateDto::Running, "{fine:#?}");
    app.shutdown().await;
}

/// The position-mode finding of a key check.
fn mode_finding(check: &api::KeyCheckDto) -> &api::KeyFindingDto {
    check
        .findings
        .iter()
        .find(|f| f.check == KeyCheckKind::PositionMode)
        .unwrap_or_else(|| panic!("a position-mode finding: {check:#?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_one_way_account_is_offered_hedge_and_switched() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = App::open(paper_opts(dir.path(), "posmode"))
        .await
        .expect("the app opens in paper mode");
    assert_eq!(paper_view(&app).await["positionMode"], "one-way");
    let check = app.check_key("paper").await.expect("the key check runs");
    assert_eq!(check.position_mode, Some(PositionModeDto::OneWay));
    assert_eq!(
        check.switch_position_mode,
        Some(PositionModeDto::Hedge),
        "a one-way account is offered hedge (a hedge-mode leader needs it): {check:#?}"
    );
    let f = mode_finding(&check);
    assert_eq!(f.status, FindingStatus::Warn, "{f:?}");
    assert!(
        f.fix.as_deref().is_some_and(|x| x.contains("hedge")),
        "{f:?}"
    );
    assert!(
        check.ok,
        "a position mode to switch does not fail the check"
    );

    let now = app
        .set_position_mode("paper", PositionModeDto::Hedge)
        .await
        .expect("an account with nothing open switches");
    assert_eq!(now, PositionModeDto::Hedge);
    assert_eq!(
        paper_view(&app).await["positionMode"],
        "hedge",
        "the simulator's account is in hedge mode"
    );
    let check = app.check_key("paper").await.expect("the key check runs");
    assert_eq!(check.position_mode, Some(PositionModeDto::Hedge));
    assert_eq!(check.switch_position_mode, None, "{check:#?}");
    assert_eq!(mode_finding(&check).status, FindingStatus::Pass);
    // Asking again for the mode in force is no error.
    app.set_position_mode("paper", PositionModeDto::Hedge)
        .await
        .expect("switching to the mode in force is a no-op");
    let e = app
        .set_position_mode("nobody", PositionModeDto::Hedge)
        .await
        .expect_err("an unknown account is refused");
    assert_eq!(e.code, ErrorCode::NotFound, "{e:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_switch_is_refused_while_a_copy_runs_or_a_position_is_open() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = App::open(paper_opts(dir.path(), "posmode-open"))
        .await
        .expect("the app opens in paper mode");
    let mut rx = app.events();
    let mut seen = Vec::new();
    start_paper_copy(&app, &mut rx, &mut seen, "held", "demo-swing", ratio("0.5")).await;
    let lead = demo_leader(&app, "swing").await;
    lead.market("BTCUSDT", "BUY", "0.01")
        .await
        .ok("leader opens BTC");
    wait_position(&app, "held", "BTCUSDT", dec!(0.005)).await;
    // The ledger is written before the order lands: wait for the venue too.
    until("the paper account holds BTC", || async {
        let btc = paper_amount(&app, "BTCUSDT").await;
        (btc == dec!(0.005))
            .then_some(())
            .ok_or(format!("paper BTC {btc}"))
    })
    .await;

    let e = app
        .set_position_mode("paper", PositionModeDto::Hedge)
        .await
        .expect_err("a switch under a running copy is refused");
    assert_eq!(e.code, ErrorCode::Conflict, "{e:?}");
    assert!(
        e.message.contains("running copy `held`") && e.message.contains("stop that copy"),
        "the refusal names the copy and what to do: {e:?}"
    );

    app.stop("held", StopActionDto::Keep)
        .await
        .expect("the copy stops and keeps its position");
    until("the copy has stopped", || async {
        let s = app.status().await.map_err(|e| e.message)?;
        let c = s
            .copies
            .iter()
            .find(|c| c.copy.name == "held")
            .ok_or("the copy is listed")?;
        (c.copy.state == CopyStateDto::Stopped)
            .then_some(())
            .ok_or(format!("copy state {:?}", c.copy.state))
    })
    .await;
    assert_eq!(
        paper_amount(&app, "BTCUSDT").await,
        dec!(0.005),
        "a stop with keep leaves the position open"
    );
    // The supervisor winds down just after the state is stored: the switch is refused
    // throughout, first for the copy, then by the venue for the open position.
    let deadline = Instant::now() + Duration::from_secs(60);
    let e = loop {
        let e = app
            .set_position_mode("paper", PositionModeDto::Hedge)
            .await
            .expect_err("the venue refuses a switch with an open position");
        if !e.message.contains("running copy") {
            break e;
        }
        assert!(
            Instant::now() < deadline,
            "the stopped copy should wind down within 60 s: {e:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(e.code, ErrorCode::Conflict, "{e:?}");
    assert!(
        e.message.contains("open positions") && e.message.contains("close them"),
        "the refusal says why and what to do: {e:?}"
    );
    assert_eq!(
        paper_view(&app).await["positionMode"],
        "one-way",
        "the account stays in one-way mode"
    );
}

/// Sets `symbol`'s price (and mark) on the app's embedded simulator.
async fn set_price(app: &App, symbol: &str, price: &str) {
    let (base, token) = app.paper_admin().await.expect("paper mode runs");
    let r = reqwest::Client::new()
        .post(format!("{base}/admin/v1/prices"))
        .header("X-Admin-Token", token.expect("admin token"))
        .json(&serde_json::json!({"symbol": symbol, "price": price}))
        .send()
        .await
        .expect("admin API answers");
    assert!(r.status().is_success(), "price set: {}", r.status());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_shows_entry_drift_confirmed_stop_and_drawdown_of_a_copy_moving_against_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut opts = paper_opts(dir.path(), "figures");
    // A figure point at every reconciliation, so the move below is stored promptly.
    opts.engine.reconcile_every = Duration::from_secs(1);
    let app = App::open(opts).await.expect("the app opens");
    let mut rx = app.events();
    let mut seen = Vec::new();
    set_price(&app, "BTCUSDT", "50000").await;
    // The swing leader's own strategy opens ETHUSDT at once: kept out, so the copy's
    // figures are the BTC position's alone.
    let mut settings = ratio("0.5");
    settings.risk.symbol_blocklist = vec!["ETHUSDT".into()];
    start_paper_copy(&app, &mut rx, &mut seen, "dd", "demo-swing", settings).await;
    // A point while flat: the curve's first peak is the copy's equity before the open.
    until("a figure point while flat", || async {
        let s = app.status().await.map_err(|e| e.message)?;
        let f = &s.copies[0].figures;
        (f.max_drawdown.as_deref() == Some("0"))
            .then_some(())
            .ok_or(format!("{f:#?}"))
    })
    .await;
    let lead = demo_leader(&app, "swing").await;
    lead.market("BTCUSDT", "BUY", "0.01")
        .await
        .ok("leader opens BTC");
    wait_position(&app, "dd", "BTCUSDT", dec!(0.005)).await;

    // Bought at the ask, 50,000.5 (mark 50,000); the stop accepted by the venue; the fill
    // stored (it arrives on the follower's stream).
    until("the stop confirmed and the fill stored", || async {
        let s = app.status().await.map_err(|e| e.message)?;
        let c = &s.copies[0];
        let p = c
            .positions
            .iter()
            .find(|p| p.symbol == "BTCUSDT")
            .ok_or("no BTC position")?;
        let filled = c.fills.iter().any(|f| f.symbol == "BTCUSDT");
        let marked = c
            .figures
            .unrealized_pnl
            .as_deref()
            .and_then(|u| u.parse::<Decimal>().ok())
            == Some(dec!(-0.0025));
        // Taker fee 0.05% of 0.005 × 50,000.5 = 0.12500125.
        let fee = c
            .figures
            .fees
            .as_deref()
            .and_then(|u| u.parse::<Decimal>().ok())
            == Some(dec!(0.12500125));
        (p.stop_confirmed && filled && marked && fee)
            .then_some(())
            .ok_or(format!("{c:#?}"))
    })
    .await;
    // The confirmation is announced, so screens showing "not confirmed yet" re-read.
    let protected = wait_event(
        &mut rx,
        &mut seen,
        "the stop's confirmation",
        is(EventKind::Protected, "dd"),
    )
    .await;
    assert!(
        protected.message.contains("BTCUSDT at 42000.5"),
        "names the symbol and the stop price: {protected:?}"
    );
    let s = app.status().await.expect("status reads");
    let c = &s.copies[0];
    let p = c
        .positions
        .iter()
        .find(|p| p.symbol == "BTCUSDT")
        .expect("BTC is held");
    let fills: Vec<_> = c.fills.iter().filter(|f| f.symbol == "BTCUSDT").collect();
    assert_eq!(fills.len(), 1, "one opening fill: {c:#?}");
    let fill_price = fills[0].price.clone();
    assert_eq!(
        fill_price, "50000.5",
        "the market order fills at the ask: {c:#?}"
    );
    assert_eq!(
        p.entry_price.as_deref(),
        Some(fill_price.as_str()),
        "the entry is the fill's price: {p:#?}"
    );
    assert_eq!(p.drift, None, "0.005 = 0.01 × 0.5 holds no drift: {p:#?}");
    assert!(
        p.stop_price.is_some(),
        "a confirmed stop has a price: {p:#?}"
    );
    assert_eq!(
        c.figures.max_drawdown.as_deref(),
        Some("0.12750125"),
        "the spread paid, 0.005 × (50,000.5 − 50,000) = 0.0025, and the fee: {:#?}",
        c.figures
    );

    // Mark 49,800: unrealized 0.005 × (49,800 − 50,000.5) = −1.0025, less the fee, from the
    // flat peak of 0: 1.12750125 (no fill, so fees stay as they were); well above the
    // protective stop at 42,000.5.
    set_price(&app, "BTCUSDT", "49800").await;
    until("the fall is in the drawdown", || async {
        let s = app.status().await.map_err(|e| e.message)?;
        let f = &s.copies[0].figures;
        (f.max_drawdown.as_deref() == Some("1.12750125"))
            .then_some(())
            .ok_or(format!("{f:#?}"))
    })
    .await;
    // The chart's series: the flat start, then the copy's PnL after costs at the fall.
    let pnl = app.copy_pnl("dd").await.expect("the PnL series reads");
    assert_eq!(pnl.copy, "dd");
    assert_eq!(
        pnl.points.first().map(|p| p.value.as_str()),
        Some("0"),
        "the series starts flat: {pnl:#?}"
    );
    assert!(
        pnl.points.iter().any(|p| p.value == "-1.12750125"),
        "the fall (−1.0025 unrealized − 0.12500125 fee) is a point of the series: {pnl:#?}"
    );
    assert!(
        pnl.points.windows(2).all(|w| w[0].ts_ms <= w[1].ts_ms),
        "oldest first: {pnl:#?}"
    );
    let err = app
        .copy_pnl("no-such-copy")
        .await
        .expect_err("an unknown copy has no series");
    assert_eq!(err.code, ErrorCode::NotFound, "{err:?}");
    // Prices and quantities with the venue's precision: BTCUSDT ticks 0.1 and steps 0.001.
    let s = app.status().await.expect("status reads");
    let btc = s.copies[0]
        .precision
        .iter()
        .find(|p| p.symbol == "BTCUSDT")
        .unwrap_or_else(|| panic!("BTCUSDT's precision is in the status: {:#?}", s.copies[0]));
    assert_eq!((btc.price_dp, btc.qty_dp), (1, 3), "{btc:?}");
    // The Activity screen's read: the open decision and the fill with its delay.
    let activity = app.activity(Some("dd")).await.expect("activity reads");
    assert_eq!(activity.len(), 1, "one copy asked for: {activity:#?}");
    assert!(
        activity[0]
            .fills
            .iter()
            .any(|f| f.symbol == "BTCUSDT" && f.delay_ms.is_some()),
        "the copied fill with its delay versus the leader's: {activity:#?}"
    );
    assert!(
        activity[0]
            .decisions
            .iter()
            .any(|d| d.symbol.as_deref() == Some("BTCUSDT")),
        "the decision on BTCUSDT with its reason: {activity:#?}"
    );
    // Paged: a page of one is the newest decision and the newest fill, and a larger
    // page lists what the first one left out.
    let one = app
        .activity_page(Some("dd"), 1)
        .await
        .expect("a page of one reads");
    assert!(
        one[0].decisions.len() == 1 && one[0].fills.len() <= 1,
        "one of each at most: {one:#?}"
    );
    assert_eq!(
        one[0].decisions[0], activity[0].decisions[0],
        "the page holds the newest decision"
    );
    assert!(
        activity[0].decisions.len() > 1,
        "the full list has more than the page of one: {activity:#?}"
    );
    let err = app
        .activity(Some("no-such-copy"))
        .await
        .expect_err("an unknown copy has no activity");
    assert_eq!(err.code, ErrorCode::NotFound, "{err:?}");
    set_price(&app, "BTCUSDT", "50100").await;
    until("a recovery keeps the deepest fall", || async {
        let s = app.status().await.map_err(|e| e.message)?;
        let c = &s.copies[0];
        let up = c
            .figures
            .unrealized_pnl
            .as_deref()
            .and_then(|u| u.parse::<Decimal>().ok())
            .is_some_and(|u| u > Decimal::ZERO);
        (up && c.figures.max_drawdown.as_deref() == Some("1.12750125"))
            .then_some(())
            .ok_or(format!("{:#?}", c.figures))
    })
    .await;

    // Paused, the leader's increase is skipped: the Activity screen lists it as a skip on
    // BTCUSDT (the symbol from the leader signal it answers) with the engine's reason.
    app.pause("dd").await.expect("pause is accepted");
    wait_event(&mut rx, &mut seen, "the pause", is(EventKind::Paused, "dd")).await;
    lead.market("BTCUSDT", "BUY", "0.01")
        .await
        .ok("leader adds to BTC");
    until("the skipped increase in the activity", || async {
        let a = app.activity(Some("dd")).await.map_err(|e| e.message)?;
        a[0].decisions
            .iter()
            .any(|d| d.kind == "skip" && d.symbol.as_deref() == Some("BTCUSDT"))
            .then_some(())
            .ok_or(format!("{a:#?}"))
    })
    .await;
    let activity = app.activity(Some("dd")).await.expect("activity reads");
    let skip = activity[0]
        .decisions
        .iter()
        .find(|d| d.kind == "skip" && d.symbol.as_deref() == Some("BTCUSDT"))
        .expect("the skip is listed");
    assert_eq!(
        skip.notice,
        Some(copydesk::engine::NoticeKind::CopyPaused),
        "{skip:#?}"
    );
    assert!(
        skip.reason.contains("paused"),
        "the reason says why: {skip:#?}"
    );
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pause_all_resume_all_and_close_everything_act_on_every_copy_and_unguarded_lists_positions_without_a_stop(
) {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = App::open(paper_opts(dir.path(), "every"))
        .await
        .expect("the app opens");
    let mut rx = app.events();
    let mut seen = Vec::new();
    let mut bare = ratio("0.5");
    bare.risk.offline_protection = false;
    for (name, leader, settings) in [
        ("guarded", "demo-scalper", ratio("0.5")),
        ("bare", "demo-swing", bare),
    ] {
        app.create_copy(NewCopyRequest {
            name: name.into(),
            leader: leader.into(),
            follower: "paper".into(),
            settings,
        })
        .await
        .expect("a copy starts");
        wait_event(
            &mut rx,
            &mut seen,
            "the copy watches",
            is(EventKind::Watching, name),
        )
        .await;
    }
    assert_eq!(app.live_copies(), 2);

    let mut paused = app.pause_all().await;
    paused.sort();
    assert_eq!(paused, ["bare", "guarded"], "both copies are told to pause");
    for name in ["bare", "guarded"] {
        wait_event(&mut rx, &mut seen, "paused", is(EventKind::Paused, name)).await;
    }
    assert_eq!(app.resume_all().await.len(), 2);
    for name in ["bare", "guarded"] {
        wait_event(&mut rx, &mut seen, "resumed", is(EventKind::Resumed, name)).await;
    }
    assert_eq!(app.reconcile_all("resume from sleep").await.len(), 2);
    for name in ["bare", "guarded"] {
        wait_event(&mut rx, &mut seen, "reconciled after the wake", |e| {
            is(EventKind::Reconciled, name)(e) && e.message.contains("resume from sleep")
        })
        .await;
    }

    // The swing leader opens ADAUSDT (no demo leader trades it on its own): the bare copy
    // holds it with no exchange-side stop, and says why. (The demo leaders also trade on
    // their own, so the bare copy may hold more by now; each of those says the same.)
    let lead = demo_leader(&app, "swing").await;
    lead.market("ADAUSDT", "BUY", "100")
        .await
        .ok("the demo leader opens");
    wait_position(&app, "bare", "ADAUSDT", dec!(50)).await;
    // (The scalper leader trades on its own: the guarded copy's stops may be on their way.)
    let unguarded = app.unguarded().await.expect("status reads");
    let bare: Vec<_> = unguarded.iter().filter(|u| u.copy == "bare").collect();
    assert!(
        bare.iter()
            .any(|u| u.symbol == "ADAUSDT" && u.side == "long" && u.qty == "50"),
        "the bare copy's ADAUSDT position lacks a stop: {unguarded:#?}"
    );
    assert!(
        bare.iter().all(|u| u.why
            == "offline protection is off for this copy, so no stop is placed on the exchange"),
        "each of the bare copy's positions says why it has no stop: {unguarded:#?}"
    );

    app.close_everything(Duration::from_secs(60))
        .await
        .expect("every copy stops");
    assert_eq!(app.live_copies(), 0, "no copy runs after close everything");
    let status = app.status().await.expect("status");
    for c in &status.copies {
        assert_eq!(c.copy.state, CopyStateDto::Stopped, "{}", c.copy.name);
        assert!(
            c.positions.is_empty(),
            "{} holds nothing: {c:#?}",
            c.copy.name
        );
    }
    app.shutdown().await;
}

/// A reconciliation the app asks for (after a wake from sleep) whose first leader read is
/// not yet confirmed by the stream still tells the user it happened: the pass that confirms
/// the read reports under the wake's reason. (It was silent: the confirming pass ran as a
/// routine one, so "reconciled after resume from sleep" never came.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wake_reconciliation_is_reported_even_when_its_first_leader_read_waits_for_confirmation()
{
    let dir = tempfile::tempdir().expect("tempdir");
    let app = App::open(paper_opts(dir.path(), "wake"))
        .await
        .expect("the app opens");
    let mut rx = app.events();
    let mut seen = Vec::new();
    app.create_copy(NewCopyRequest {
        name: "wake".into(),
        leader: "demo-swing".into(),
        follower: "paper".into(),
        settings: ratio("0.5"),
    })
    .await
    .expect("a copy starts");
    wait_event(
        &mut rx,
        &mut seen,
        "the copy watches",
        is(EventKind::Watching, "wake"),
    )
    .await;
    // The user-data streams hold their events back: the leader's next trade is on the
    // venue (a REST read sees it) but not yet on the stream, so the first read of the
    // asked-for pass is not confirmed and a second read follows.
    let (base, token) = app.paper_admin().await.expect("paper mode runs");
    let faults = |body: Value| {
        let req = reqwest::Client::new()
            .post(format!("{base}/admin/v1/faults"))
            .header("X-Admin-Token", token.clone().expect("admin token"))
            .json(&body);
        async move {
            let r = req.send().await.expect("admin API answers");
            assert!(r.status().is_success(), "fault accepted: {}", r.status());
        }
    };
    faults(serde_json::json!({"stallUserStreams": true})).await;
    let lead = demo_leader(&app, "swing").await;
    lead.market("ADAUSDT", "BUY", "100")
        .await
        .ok("the demo leader opens");
    assert_eq!(app.reconcile_all("resume from sleep").await.len(), 1);
    wait_event(&mut rx, &mut seen, "reconciled after the wake", |e| {
        is(EventKind::Reconciled, "wake")(e) && e.message.contains("resume from sleep")
    })
    .await;
    faults(serde_json::json!({"stallUserStreams": false})).await;
    app.shutdown().await;
}

/// Issue 12 item 11, through the app: the full key check runs when a copy starts, so a
/// follower key that can withdraw is refused by `create_copy` before anything starts,
/// with the account and the fix named.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_refuses_a_copy_whose_follower_key_can_withdraw() {
    let Some(kc) = real_keychain("withdraw-key") else {
        return;
    };
    let sim = crate::runtime::support::sim().await;
    let base = sim.base();
    let lead = sim.usdt("10000").await;
    let me = sim
        .account(serde_json::json!({"balances": {"USDT": "10000"},
            "permissions": {"withdrawals": true}}))
        .await;
    sim.price("BTCUSDT", "50000").await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut o = AppOptions::new(dir.path());
    o.keychain = kc.clone();
    o.paper.start = false;
    let app = App::open(o).await.expect("the app opens");
    for (name, c) in [("lead", &lead), ("me", &me)] {
        app.add_account(NewAccountRequest {
            name: name.into(),
            exchange: "binance-usdm".into(),
            environment: api::Environment::Custom,
            endpoint: Some(base.clone()),
            api_key: c.key.clone(),
            api_secret: c.secret.clone(),
            passphrase: None,
        })
        .await
        .expect("the account is added");
    }
    let e = app
        .create_copy(NewCopyRequest {
            name: "risky".into(),
            leader: "lead".into(),
            follower: "me".into(),
            settings: ratio("0.5"),
        })
        .await
        .expect_err("a follower key that can withdraw is refused");
    assert!(
        e.message.contains("`me`") && e.message.contains("withdraw"),
        "the refusal names the account and the permission: {e:?}"
    );
    assert!(app.running().is_empty(), "nothing started");
    app.shutdown().await;
}
