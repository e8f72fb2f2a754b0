//! Public lead portfolios through the facade, in paper mode: the leader list shows the
//! embedded simulator's lead portfolios marked as such, with the copy delay polling implies
//! and a hidden one as not copyable with its reason; a copy created with a portfolio leader
//! id follows the portfolio's trades onto the paper account, and resumes after the app is
//! closed and opened again (its leader is stored with its endpoint).

use std::time::{Duration, Instant};

use copydesk::api::{
    self, App, AppOptions, CopyModeDto, CopySettingsDto, EventDto, EventKind, LeaderDto,
    LeaderSourceDto, NewCopyRequest, PaperOptions, PreviewRequest,
};
use copydesk::paths::APP_IDENTIFIER;
use copydesk::secrets::Keychain;
use copydesk::sim::portfolio::portfolio_id;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde_json::{json, Value};
use tokio::sync::broadcast;

use crate::sim::support::Client;

const TOKEN: &str = "portfolio-app-admin-token";

fn paper_opts(dir: &std::path::Path) -> AppOptions {
    let mut o = AppOptions::new(dir);
    o.keychain = Keychain::with_service(format!(
        "{APP_IDENTIFIER}.it.portfolio.{}",
        std::process::id()
    ));
    o.paper = PaperOptions {
        start: true,
        admin_token: Some(TOKEN.into()),
        demo_speed: 1,
    };
    o
}

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

/// The embedded simulator's admin API: base URL and a request helper.
async fn admin(app: &App, path: &str, body: Value) -> Value {
    let (base, token) = app.paper_admin().await.expect("paper mode runs");
    reqwest::Client::new()
        .post(format!("{base}{path}"))
        .header("X-Admin-Token", token.expect("admin token"))
        .json(&body)
        .send()
        .await
        .expect("admin API answers")
        .json()
        .await
        .expect("JSON")
}

/// A client trading as demo leader `style`.
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

/// The leader list once the portfolio source's list has been read (not pending).
async fn listed(app: &App) -> Vec<LeaderDto> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let all = app.leaders().await.expect("leaders list");
        let portfolios: Vec<&LeaderDto> = all
            .iter()
            .filter(|l| l.source == LeaderSourceDto::Portfolio)
            .collect();
        if !portfolios.is_empty() && portfolios.iter().all(|l| !l.figures_pending) {
            return all;
        }
        assert!(
            Instant::now() < deadline,
            "the portfolio list should be read within 60 s: {all:#?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn wait_event(
    rx: &mut broadcast::Receiver<EventDto>,
    seen: &mut Vec<EventDto>,
    what: &str,
    pred: impl Fn(&EventDto) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if seen.iter().any(&pred) {
            return;
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

async fn wait_position(app: &App, copy: &str, symbol: &str, qty: Decimal) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let s = app.status().await.expect("status reads");
        let got = s
            .copies
            .iter()
            .find(|c| c.copy.name == copy)
            .and_then(|c| c.positions.iter().find(|p| p.symbol == symbol))
            .map(|p| p.follower_qty.parse::<Decimal>().expect("decimal string"))
            .unwrap_or_default();
        if got == qty {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "copy {copy} should hold {qty} {symbol} within 60 s, holds {got}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paper_mode_lists_lead_portfolios_and_copies_one_across_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = App::open(paper_opts(dir.path()))
        .await
        .expect("the app opens in paper mode");
    let swing = demo_leader(&app, "swing").await;
    let steady = demo_leader(&app, "scalper").await;
    admin(
        &app,
        &format!("/admin/v1/portfolio/{}", steady.account_id),
        json!({"positionShow": false}),
    )
    .await;

    let leaders = listed(&app).await;
    let swing_id = format!("portfolio:paper:{}", portfolio_id(&swing.account_id));
    let pf = leaders
        .iter()
        .find(|l| l.id == swing_id)
        .unwrap_or_else(|| panic!("the swing demo leader's portfolio is listed: {leaders:#?}"));
    assert_eq!(
        pf.source,
        LeaderSourceDto::Portfolio,
        "marked as a public portfolio"
    );
    assert!(pf.copyable, "a shown portfolio is copyable: {pf:#?}");
    assert_eq!(
        pf.expected_delay, "~4 s, polled",
        "one followed portfolio at 20 a minute (80 % used, a detail every 10 polls) is polled every 4.1 s"
    );
    assert!(
        pf.delay_note
            .as_deref()
            .is_some_and(|n| n.contains("20 requests a minute") && n.contains("4.1 s")),
        "the note says how the interval is set: {:?}",
        pf.delay_note
    );
    assert!(
        pf.figures.iter().any(|f| f.days == 30),
        "the source's 30-day figures are shown: {pf:#?}"
    );
    let hidden_id = format!("portfolio:paper:{}", portfolio_id(&steady.account_id));
    let hidden = leaders
        .iter()
        .find(|l| l.id == hidden_id)
        .expect("the hidden portfolio is listed");
    assert!(
        !hidden.copyable
            && hidden
                .not_copyable_reason
                .as_deref()
                .is_some_and(|r| r.contains("hides its positions")),
        "a portfolio that hides its positions is not copyable, with the reason: {hidden:#?}"
    );
    assert!(
        leaders
            .iter()
            .any(|l| l.source == LeaderSourceDto::Demo && l.expected_delay.contains("ms")),
        "account leaders keep their millisecond delay beside it"
    );
    let refused = app
        .create_copy(NewCopyRequest {
            name: "hidden".into(),
            leader: hidden_id.clone(),
            follower: "paper".into(),
            settings: ratio("1"),
        })
        .await
        .expect_err("a hidden portfolio cannot be copied");
    assert!(
        refused.message.contains("hides its positions"),
        "the refusal says why: {refused:?}"
    );

    let preview = app
        .preview(PreviewRequest {
            leader: swing_id.clone(),
            follower: "paper".into(),
            settings: ratio("1"),
        })
        .await
        .expect("a paper portfolio has a sizing preview (from the simulator account behind it)");
    assert!(
        !preview.sentence.is_empty(),
        "the preview says what it found"
    );

    let mut rx = app.events();
    let mut seen = Vec::new();
    let copy = app
        .create_copy(NewCopyRequest {
            name: "pf".into(),
            leader: swing_id.clone(),
            follower: "paper".into(),
            settings: ratio("1"),
        })
        .await
        .expect("a copy of a public portfolio starts");
    let suffix = format!(" (portfolio {})", portfolio_id(&swing.account_id));
    assert!(
        copy.leader.starts_with("Demo swing") && copy.leader.ends_with(&suffix),
        "the copy names its leader by the portfolio's nickname and id: {}",
        copy.leader
    );
    wait_event(&mut rx, &mut seen, "the copy watches", |e| {
        e.kind == EventKind::Watching && e.copy.as_deref() == Some("pf")
    })
    .await;
    // A symbol the swing leader's own strategy never trades.
    swing
        .market("DOGEUSDT", "BUY", "1000")
        .await
        .ok("the portfolio's leader opens");
    wait_position(&app, "pf", "DOGEUSDT", dec!(1000)).await;
    app.shutdown().await;

    let app = App::open(paper_opts(dir.path()))
        .await
        .expect("the app opens again");
    assert!(
        app.running().contains(&"pf".to_owned()),
        "the portfolio copy resumed: {:?}",
        app.running()
    );
    let swing = demo_leader(&app, "swing").await;
    swing
        .market("DOGEUSDT", "SELL", "1000")
        .await
        .ok("the portfolio's leader closes");
    wait_position(&app, "pf", "DOGEUSDT", Decimal::ZERO).await;
    app.shutdown().await;
}
