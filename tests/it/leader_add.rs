//! Adding an account leader from its read-only key through the facade, against the
//! simulator over loopback with the real OS keychain (skipped with a notice when none
//! answers, except in CI): a read-only key passes, a trading key passes with a warning, a
//! key that can withdraw is refused and nothing of it is kept; the added leader is listed
//! with its figures and copied. No reply and no database file holds a key or secret.

use std::time::{Duration, Instant};

use copydesk::api::{
    self, App, AppOptions, CopyModeDto, ErrorCode, FindingStatus, KeyCheckKind, LeaderSourceDto,
    NewAccountRequest, NewCopyRequest,
};
use copydesk::paths::APP_IDENTIFIER;
use copydesk::secrets::{Keychain, SecretPart};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde_json::json;

use crate::sim::support::{Client, Sim};

fn real_keychain(test: &str) -> Option<Keychain> {
    let kc = Keychain::with_service(format!(
        "{APP_IDENTIFIER}.it.leader-add.{test}.{}",
        std::process::id()
    ));
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

fn request(name: &str, base: &str, c: &Client) -> NewAccountRequest {
    NewAccountRequest {
        name: name.into(),
        exchange: "binance-usdm".into(),
        environment: api::Environment::Custom,
        endpoint: Some(base.to_owned()),
        api_key: c.key.clone(),
        api_secret: c.secret.clone(),
        passphrase: None,
    }
}

/// Edits an account's key permissions, as its owner would on the exchange.
async fn permissions(sim: &Sim, c: &Client, p: serde_json::Value) {
    sim.admin(
        reqwest::Method::POST,
        &format!("/admin/v1/accounts/{}/permissions", c.account_id),
        Some(p),
    )
    .await
    .ok("permissions set");
}

async fn open(dir: &std::path::Path, kc: &Keychain) -> App {
    let mut o = AppOptions::new(dir);
    o.keychain = kc.clone();
    o.paper.start = false;
    App::open(o).await.expect("the app opens")
}

fn finding(check: &api::KeyCheckDto, kind: KeyCheckKind) -> &api::KeyFindingDto {
    check
        .findings
        .iter()
        .find(|f| f.check == kind)
        .unwrap_or_else(|| panic!("a {kind:?} finding: {check:#?}"))
}

/// Every file of the data directory, as bytes (the database and its journal).
fn data_files(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for e in walk(dir) {
        if let Ok(b) = std::fs::read(&e) {
            out.push((e.display().to_string(), b));
        }
    }
    out
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_leader_key_is_added_listed_with_figures_and_copied() {
    let Some(kc) = real_keychain("readonly") else {
        return;
    };
    let sim = crate::runtime::support::sim().await;
    let base = sim.base();
    sim.price("BTCUSDT", "50000").await;
    let lead = sim.usdt("5000").await;
    let me = sim.usdt("10000").await;
    // The leader's history: one winning round trip; then its owner makes the key
    // read-only for CopyDesk.
    lead.market("BTCUSDT", "BUY", "0.1")
        .await
        .ok("the leader opens");
    sim.price("BTCUSDT", "51000").await;
    lead.market("BTCUSDT", "SELL", "0.1")
        .await
        .ok("the leader closes");
    permissions(&sim, &lead, json!({"trading": false})).await;
    lead.market("BTCUSDT", "BUY", "0.1").await.assert_error(
        -2015,
        401,
        "a read-only key cannot trade",
    );

    let dir = tempfile::tempdir().expect("tempdir");
    let app = open(dir.path(), &kc).await;
    let mut replies = Vec::new();
    let added = app
        .add_leader(request("lead", &base, &lead))
        .await
        .expect("a read-only leader key is added");
    replies.push(serde_json::to_string(&added).expect("json"));
    assert!(added.check.ok, "{:#?}", added.check);
    assert_eq!(added.leader_id.as_deref(), Some("lead"));
    let trade = finding(&added.check, KeyCheckKind::Trade);
    assert_eq!(
        (trade.status, trade.message.as_str()),
        (FindingStatus::Pass, "the key is read-only"),
        "{trade:?}"
    );
    let balances = finding(&added.check, KeyCheckKind::Balances);
    assert!(
        balances.message.starts_with("futures equity 5,0") && balances.message.contains(" USDT"),
        "the balance is written as the app writes amounts (5,0xx USDT): {}",
        balances.message
    );
    assert_eq!(
        app.info().await.mode,
        "paper",
        "a leader's read-only key does not make the app live"
    );

    // The list answers at once; the leader's history is read in the background.
    let first = app.leaders().await.expect("leaders list");
    let l = first
        .iter()
        .find(|l| l.id == "lead")
        .unwrap_or_else(|| panic!("the added leader is listed: {first:#?}"));
    assert!(
        l.figures_pending && l.figures.is_empty() && l.copyable,
        "listed at once, figures to follow: {l:#?}"
    );
    let leaders = listed(&app, "lead").await;
    replies.push(serde_json::to_string(&leaders).expect("json"));
    let l = leaders
        .iter()
        .find(|l| l.id == "lead")
        .expect("still listed");
    assert_eq!(l.source, LeaderSourceDto::Account);
    assert!(l.copyable, "{l:#?}");
    let f7 = l
        .figures
        .iter()
        .find(|f| f.days == 7)
        .expect("7-day figures");
    assert_eq!(f7.trades, 1, "its one round trip: {f7:#?}");
    assert_eq!(f7.win_rate.as_deref(), Some("100"), "{f7:#?}");
    let pnl: Decimal = f7.pnl.as_deref().expect("pnl").parse().expect("decimal");
    assert!(
        pnl > dec!(90) && pnl < dec!(100),
        "100 USDT less fees: {pnl}"
    );
    let detail = app.leader("lead").await.expect("the leader's detail");
    replies.push(serde_json::to_string(&detail).expect("json"));
    assert_eq!(detail.equity_curve.len(), 91, "one point a day for 90 days");

    app.add_account(request("me", &base, &me))
        .await
        .expect("the follower is added");
    let mut settings = api::settings::to_dto(&copydesk::domain::CopySettings {
        mode: copydesk::domain::CopyMode::FixedRatio,
        investment: None,
        amount_per_order: None,
        ratio: Some(dec!(0.5)),
        copy_ongoing_positions: false,
        preset: copydesk::domain::Preset::None,
        start: Default::default(),
        risk: Default::default(),
    });
    settings.mode = CopyModeDto::FixedRatio;
    app.create_copy(NewCopyRequest {
        name: "ro".into(),
        leader: "lead".into(),
        follower: "me".into(),
        settings,
    })
    .await
    .expect("a copy of the read-only leader starts");
    // The owner trades with a key of their own; the simulator keeps one key per account,
    // so its read-only flag is lifted while the owner trades.
    permissions(&sim, &lead, json!({"trading": true})).await;
    wait_watching(&app, "ro").await;
    lead.market("BTCUSDT", "BUY", "0.02")
        .await
        .ok("the leader opens");
    permissions(&sim, &lead, json!({"trading": false})).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let p = me.position("BTCUSDT").await;
        let amt = p["positionAmt"]
            .as_str()
            .and_then(|s| s.parse::<Decimal>().ok());
        if amt == Some(dec!(0.01)) {
            break;
        }
        assert!(Instant::now() < deadline, "the copy follows: {p}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    replies.push(serde_json::to_string(&app.status().await.expect("status")).expect("json"));
    app.shutdown().await;

    for r in &replies {
        assert!(
            !r.contains(&lead.key) && !r.contains(&lead.secret) && !r.contains(&me.secret),
            "no key material in a reply: {r}"
        );
    }
    for (path, bytes) in data_files(dir.path()) {
        assert!(
            !contains(&bytes, &lead.secret) && !contains(&bytes, &lead.key),
            "no key material in {path}"
        );
    }
    for part in [SecretPart::ApiKey, SecretPart::ApiSecret] {
        assert!(
            kc.get(&Keychain::entry_name("lead", part))
                .expect("keychain reads")
                .is_some(),
            "the leader's {part:?} is in the keychain"
        );
    }
}

/// Lists the leaders until `id` has its figures (its history read in the background).
async fn listed(app: &App, id: &str) -> Vec<api::LeaderDto> {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let leaders = app.leaders().await.expect("leaders list");
        if leaders.iter().any(|l| l.id == id && !l.figures_pending) {
            return leaders;
        }
        assert!(
            Instant::now() < deadline,
            "{id}'s figures arrive: {leaders:#?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn wait_watching(app: &App, copy: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let s = app.status().await.expect("status");
        if s.copies
            .iter()
            .any(|c| c.copy.name == copy && c.copy.t0_ms.is_some())
        {
            return;
        }
        assert!(Instant::now() < deadline, "the copy starts: {s:#?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trading_leader_key_warns_and_a_withdrawing_one_is_refused_and_not_kept() {
    let Some(kc) = real_keychain("perms") else {
        return;
    };
    let sim = crate::runtime::support::sim().await;
    let base = sim.base();
    let trader = sim.usdt("1000").await;
    let withdrawer = sim
        .account(json!({"balances": {"USDT": "1000"}, "permissions": {"withdrawals": true}}))
        .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let app = open(dir.path(), &kc).await;

    let added = app
        .add_leader(request("trader", &base, &trader))
        .await
        .expect("the check runs");
    assert!(
        added.check.ok,
        "a trading key is accepted: {:#?}",
        added.check
    );
    let t = finding(&added.check, KeyCheckKind::Trade);
    assert_eq!(t.status, FindingStatus::Warn, "{t:?}");
    assert!(
        t.message.contains("a read-only key is enough")
            && t.fix
                .as_deref()
                .is_some_and(|f| f.contains("Enable Reading")),
        "says a read-only key is enough and how to make one: {t:?}"
    );

    let refused = app
        .add_leader(request("withdrawer", &base, &withdrawer))
        .await
        .expect("the check runs");
    assert!(!refused.check.ok, "{:#?}", refused.check);
    assert_eq!(refused.leader_id, None, "no leader for a refused key");
    let w = finding(&refused.check, KeyCheckKind::Withdrawals);
    assert_eq!(w.status, FindingStatus::Fail, "{w:?}");
    assert!(
        w.fix
            .as_deref()
            .is_some_and(|f| f.contains("Enable Withdrawals")),
        "says what to untick: {w:?}"
    );
    assert!(
        kc.get(&Keychain::entry_name("withdrawer", SecretPart::ApiSecret))
            .expect("keychain reads")
            .is_none(),
        "a refused key never reaches the keychain"
    );
    let accounts = app.accounts().await.expect("accounts");
    assert!(
        accounts.iter().all(|a| a.name != "withdrawer"),
        "nor the database: {accounts:#?}"
    );
    let leaders = listed(&app, "trader").await;
    assert!(
        leaders.iter().all(|l| l.id != "withdrawer") && leaders.iter().any(|l| l.id == "trader"),
        "{leaders:#?}"
    );

    let mut bad = request("bad", &base, &trader);
    bad.api_secret = String::new();
    let e = app.add_leader(bad).await.expect_err("an empty secret");
    assert_eq!(e.field.as_deref(), Some("apiSecret"), "{e:?}");
    let mut bad = request("bad", &base, &trader);
    bad.endpoint = None;
    let e = app.add_leader(bad).await.expect_err("no endpoint");
    assert_eq!(e.field.as_deref(), Some("endpoint"), "{e:?}");
    let e = app
        .add_leader(request("trader", &base, &trader))
        .await
        .expect_err("a taken name");
    assert_eq!(
        (e.code, e.field.as_deref()),
        (ErrorCode::Conflict, Some("name")),
        "{e:?}"
    );
    let mut wrong = request("wrong", &base, &trader);
    wrong.api_secret = "0".repeat(64);
    let r = app.add_leader(wrong).await.expect("the check runs");
    assert!(
        !r.check.ok && finding(&r.check, KeyCheckKind::Valid).status == FindingStatus::Fail,
        "a key the venue refuses: {:#?}",
        r.check
    );
    for r in [&added, &refused] {
        let text = serde_json::to_string(r).expect("json");
        for s in [&trader.secret, &withdrawer.secret, &withdrawer.key] {
            assert!(!text.contains(s.as_str()), "no key material: {text}");
        }
    }
    app.remove_account("trader").await.expect("removed");
    app.shutdown().await;
}

/// `copydesk leaders add`: the same check and storage from the command line, the key and
/// secret on stdin, never echoed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_adds_a_read_only_leader_and_refuses_one_that_can_withdraw() {
    if real_keychain("cli").is_none() {
        return;
    }
    let sim = crate::runtime::support::sim().await;
    let base = sim.base();
    let ro = sim
        .account(json!({"balances": {"USDT": "2500"}, "permissions": {"trading": false}}))
        .await;
    let withdrawer = sim
        .account(json!({"balances": {"USDT": "100"}, "permissions": {"withdrawals": true}}))
        .await;
    let dir = tempfile::tempdir().expect("tempdir");
    let name = format!("cli-lead-{}", std::process::id());
    let run = |name: String, c: &Client| {
        let (dir, base) = (dir.path().to_owned(), base.clone());
        let input = format!("{}\n{}\n", c.key, c.secret);
        async move {
            tokio::task::spawn_blocking(move || {
                use std::io::Write;
                let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_copydesk"))
                    .args(["--data-dir", &dir.display().to_string()])
                    .args(["leaders", "add", &name, "--endpoint", &base])
                    .stdin(std::process::Stdio::piped())
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .expect("copydesk runs");
                child
                    .stdin
                    .take()
                    .expect("stdin")
                    .write_all(input.as_bytes())
                    .expect("key and secret written");
                child.wait_with_output().expect("copydesk ends")
            })
            .await
            .expect("joins")
        }
    };
    let out = run(name.clone(), &ro).await;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains(&format!("added account leader `{name}`"))
            && text.contains("the key is read-only")
            && text.contains("futures equity 2,500 USDT"),
        "{text}"
    );
    let out = run(format!("{name}-w"), &withdrawer).await;
    let refused = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success(), "{refused}");
    assert!(
        refused.contains("Enable Withdrawals") && refused.contains("nothing was stored"),
        "{refused}"
    );
    for t in [&text, &refused] {
        assert!(
            !t.contains(&ro.secret) && !t.contains(&withdrawer.secret),
            "no secret echoed: {t}"
        );
    }
    let kc = Keychain::app();
    assert!(
        kc.get(&Keychain::entry_name(
            &format!("{name}-w"),
            SecretPart::ApiSecret
        ))
        .expect("keychain reads")
        .is_none(),
        "the refused key is not kept"
    );
    for part in [SecretPart::ApiKey, SecretPart::ApiSecret] {
        let _ = kc.delete(&Keychain::entry_name(&name, part));
    }
}

/// An account leader's figures: listed as pending at first, then the facade's
/// `leader_figures` event says they are in (the app lists again on it, no polling); the
/// next start lists them at once from the data directory, without reading the history.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_account_leaders_figures_arrive_by_event_and_are_there_at_the_next_start() {
    let Some(kc) = real_keychain("figures-event") else {
        return;
    };
    let sim = crate::runtime::support::sim().await;
    let base = sim.base();
    sim.price("BTCUSDT", "50000").await;
    let lead = sim.usdt("5000").await;
    lead.market("BTCUSDT", "BUY", "0.1")
        .await
        .ok("the leader opens");
    sim.price("BTCUSDT", "51000").await;
    lead.market("BTCUSDT", "SELL", "0.1")
        .await
        .ok("the leader closes");
    permissions(&sim, &lead, json!({"trading": false})).await;

    let dir = tempfile::tempdir().expect("tempdir");
    let app = open(dir.path(), &kc).await;
    let mut rx = app.events();
    app.add_leader(request("fund", &base, &lead))
        .await
        .expect("the leader is added");
    let first = app.leaders().await.expect("leaders list");
    assert!(
        first.iter().any(|l| l.id == "fund" && l.figures_pending),
        "listed at once, figures to follow: {first:#?}"
    );
    let deadline = Instant::now() + Duration::from_secs(120);
    let event = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, rx.recv()).await {
            Ok(Ok(e)) if e.kind == api::EventKind::LeaderFigures => break e,
            Ok(Ok(_)) | Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => {}
            other => panic!("the leader_figures event arrives: {other:?}"),
        }
    };
    assert_eq!(
        (event.level, event.copy.as_deref()),
        (api::EventLevel::Info, None),
        "{event:?}"
    );
    assert!(
        event.message.contains("`fund`"),
        "names the leader: {event:?}"
    );
    // On the event, one list has the figures: nothing is pending any more.
    let after = app.leaders().await.expect("leaders list");
    let l = after.iter().find(|l| l.id == "fund").expect("still listed");
    assert!(!l.figures_pending && l.copyable, "{l:#?}");
    assert_eq!(
        l.figures.iter().find(|f| f.days == 7).map(|f| f.trades),
        Some(1),
        "its one round trip: {l:#?}"
    );
    app.shutdown().await;

    // The next start: the saved figures are listed at once. The leader's key is now
    // refused by the venue, so a list that read the history again could not show them.
    permissions(&sim, &lead, json!({"futures": false})).await;
    let app = open(dir.path(), &kc).await;
    let again = app.leaders().await.expect("leaders list");
    let l = again
        .iter()
        .find(|l| l.id == "fund")
        .expect("listed after the restart");
    assert!(
        !l.figures_pending && l.copyable && l.figures.len() == 3,
        "the saved figures are listed at once: {l:#?}"
    );
    assert_eq!(
        l.figures.iter().find(|f| f.days == 7).map(|f| f.trades),
        Some(1),
        "{l:#?}"
    );
    app.shutdown().await;
    for (path, bytes) in data_files(dir.path()) {
        assert!(
            !contains(&bytes, &lead.secret) && !contains(&bytes, &lead.key),
            "no key material in {path}"
        );
    }
}
