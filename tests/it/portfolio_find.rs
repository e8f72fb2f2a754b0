//! Typing in a public lead portfolio in live mode (no embedded simulator), through the
//! facade: a simulator stands for the copy-trading pages (a custom source). The id — or
//! the portfolio's page address — is read through the source before it can be chosen, and
//! then listed by `leaders()` with the polled delay; hidden positions make it not copyable
//! with the reason; bad input names its field and says the fix; an unknown id, a
//! geo-blocked 403 and a 429 are errors saying what happened.

use copydesk::api::{
    App, AppOptions, ErrorCode, FindPortfolioRequest, LeaderSourceDto, PaperOptions,
    PortfolioSourceDto,
};
use copydesk::paths::APP_IDENTIFIER;
use copydesk::secrets::Keychain;
use copydesk::sim::portfolio::portfolio_id;
use reqwest::Method;
use serde_json::json;

async fn open(dir: &std::path::Path) -> App {
    let mut o = AppOptions::new(dir);
    o.keychain = Keychain::with_service(format!(
        "{APP_IDENTIFIER}.it.portfolio_find.{}",
        std::process::id()
    ));
    o.paper = PaperOptions {
        start: false,
        ..PaperOptions::default()
    };
    App::open(o).await.expect("the app opens in live mode")
}

fn custom(endpoint: &str, portfolio: &str) -> FindPortfolioRequest {
    FindPortfolioRequest {
        source: PortfolioSourceDto::Custom,
        endpoint: Some(endpoint.to_owned()),
        portfolio: portfolio.to_owned(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_typed_in_portfolio_is_read_before_it_can_be_chosen() {
    let pages = crate::runtime::support::sim().await;
    let base = pages.base();
    let lead = pages.lead_portfolio("20000").await;
    pages.price("ETHUSDT", "3000").await;
    lead.market("ETHUSDT", "BUY", "1").await.ok("a trade");
    let pid = portfolio_id(&lead.account_id);
    let dir = tempfile::tempdir().expect("tempdir");
    let app = open(dir.path()).await;
    assert!(
        app.leaders()
            .await
            .expect("leaders")
            .iter()
            .all(|l| l.source != LeaderSourceDto::Portfolio),
        "live mode lists no public portfolio before one is typed in"
    );

    // Bad input: the field named, the fix said; nothing is read.
    let e = app
        .find_portfolio(custom(&base, "38x1"))
        .await
        .expect_err("not digits");
    assert_eq!(e.field.as_deref(), Some("portfolio"), "{e:?}");
    assert!(e.message.contains("digits only"), "{e:?}");
    let e = app
        .find_portfolio(custom("127.0.0.1:1", &pid))
        .await
        .expect_err("no scheme");
    assert_eq!(e.field.as_deref(), Some("endpoint"), "{e:?}");
    assert!(e.message.contains("e.g. http://"), "says the fix: {e:?}");
    let e = app
        .find_portfolio(custom(&base, "3800000000000009999"))
        .await
        .expect_err("unknown portfolio");
    assert_eq!(
        (e.code, e.field.as_deref()),
        (ErrorCode::NotFound, Some("portfolio")),
        "{e:?}"
    );
    assert!(
        e.message.contains("3800000000000009999") && e.message.contains("lead-details/"),
        "names the id and where to find it: {e:?}"
    );

    // Found by its page address: listed, copyable, with the polled delay and its figures.
    let page = format!("https://www.binance.com/en/copy-trading/lead-details/{pid}?timeRange=30D");
    let found = app
        .find_portfolio(custom(&base, &page))
        .await
        .expect("the portfolio is read");
    let id = format!("portfolio:{base}:{pid}");
    assert_eq!(found.id, id, "its leader id carries the source");
    assert!(found.copyable, "copyable: {found:?}");
    assert_eq!(found.source, LeaderSourceDto::Portfolio);
    assert!(
        found.expected_delay.ends_with("s, polled"),
        "{}",
        found.expected_delay
    );
    assert!(
        found.figures.iter().any(|f| f.days == 30),
        "its 30-day figures: {found:?}"
    );
    let listed = app.leaders().await.expect("leaders");
    assert!(
        listed.iter().any(|l| l.id == id && l.copyable),
        "listed from then on: {listed:#?}"
    );
    let detail = app.leader(&id).await.expect("its detail reads");
    assert_eq!(detail.positions.len(), 1, "its open position: {detail:?}");

    // Hidden positions: listed, not copyable, with the reason.
    pages
        .admin(
            Method::POST,
            &format!("/admin/v1/portfolio/{}", lead.account_id),
            Some(json!({"positionShow": false})),
        )
        .await
        .ok("hide");
    let hidden = app
        .find_portfolio(custom(&base, &pid))
        .await
        .expect("a hidden portfolio is read");
    assert!(!hidden.copyable, "not copyable: {hidden:?}");
    assert!(
        hidden
            .not_copyable_reason
            .as_deref()
            .is_some_and(|r| r.contains("hides its positions")),
        "with the reason: {hidden:?}"
    );
    pages
        .admin(
            Method::POST,
            &format!("/admin/v1/portfolio/{}", lead.account_id),
            Some(json!({"positionShow": true})),
        )
        .await
        .ok("show");

    // A geo-blocked 403 and a 429: errors saying so.
    pages
        .admin(
            Method::POST,
            "/admin/v1/portfolio",
            Some(json!({"geoBlocked": true})),
        )
        .await
        .ok("geo block");
    let e = app
        .find_portfolio(custom(&base, &pid))
        .await
        .expect_err("geo-blocked");
    assert!(
        e.message.contains("HTTP 403") && e.message.contains("account leader"),
        "says what happened and what to do: {e:?}"
    );
    pages
        .admin(
            Method::POST,
            "/admin/v1/portfolio",
            Some(json!({"geoBlocked": false, "perMinute": 1, "retryAfterS": 7})),
        )
        .await
        .ok("a budget of one a minute");
    let _ = app.find_portfolio(custom(&base, &pid)).await;
    let e = app
        .find_portfolio(custom(&base, &pid))
        .await
        .expect_err("rate limited");
    assert!(
        e.message.contains("HTTP 429") && e.message.contains("7 s"),
        "says what happened and when to try again: {e:?}"
    );
    app.shutdown().await;
}
