//! A paper copy of a public lead portfolio on another venue ("mock copy" of a portfolio)
//! through the facade: one simulator stands for the real venue (its copy-trading pages
//! list a lead portfolio that trades there, prices moved by hand), the app's embedded
//! simulator follows that venue's market streams (`api::paper_feed`), and the paper
//! follower fills at the venue's prices, within its spread, with the delay and skip
//! figures a live copy shows. A reopened app resumes the copy and its price feed. A
//! portfolio whose venue cannot be read is refused on the `leader` field.

use copydesk::api::{App, AppOptions, PaperOptions};
use copydesk::paths::APP_IDENTIFIER;
use copydesk::secrets::Keychain;
use copydesk::sim::portfolio::portfolio_id;

use crate::paper_copy::{below_minimum, book, mock_round, move_venue, refused_unreachable};

async fn open(dir: &std::path::Path) -> App {
    let mut o = AppOptions::new(dir);
    // No key is kept: a portfolio leader has none, the paper account's is in memory.
    o.keychain = Keychain::with_service(format!(
        "{APP_IDENTIFIER}.it.paper_portfolio.{}",
        std::process::id()
    ));
    // One poll a second, so the test does not wait out the real budget's 4 s.
    o.engine.portfolio_per_minute = 600;
    o.paper = PaperOptions {
        start: true,
        admin_token: Some("paper-portfolio-admin".into()),
        demo_speed: 1,
    };
    App::open(o).await.expect("the app opens in paper mode")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paper_copy_of_a_portfolio_on_another_venue_fills_at_that_venues_prices() {
    // The "real venue": a lead portfolio trading there, prices far from the paper
    // simulator's.
    let venue = crate::runtime::support::sim().await;
    let lead = venue.lead_portfolio("100000").await;
    venue.price("BTCUSDT", "61234.5").await;
    let leader = format!(
        "portfolio:{}:{}",
        venue.base(),
        portfolio_id(&lead.account_id)
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let app = open(dir.path()).await;
    let (paper, _) = app.paper_admin().await.expect("paper mode runs");
    assert_ne!(
        book(&paper, "BTCUSDT").await,
        book(&venue.base(), "BTCUSDT").await,
        "before the copy the paper simulator has its own prices"
    );

    // A portfolio whose venue cannot be read is refused on the leader field, naming why.
    refused_unreachable(&app, "portfolio:http://127.0.0.1:9:3800000000000000001").await;

    let done = mock_round(&app, &leader, &venue, &paper, &lead).await;
    assert!(
        done.fills.iter().all(|f| f.delay_ms.is_some()),
        "each paper fill is linked to the leader's, with its delay: {done:#?}"
    );
    assert_eq!(
        done.decisions.iter().filter(|d| below_minimum(d)).count(),
        1,
        "one below-minimum skip: {:#?}",
        done.decisions
    );
    assert!(done.copy.paper, "the copy is labelled paper");
    app.shutdown().await;

    // Reopened, the stored paper copy resumes and the prices follow the venue again.
    let app = open(dir.path()).await;
    assert_eq!(app.running(), ["mock"], "the stored paper copy resumed");
    let (paper, _) = app.paper_admin().await.expect("paper mode runs");
    move_venue(&venue, &paper, "62000").await;
    app.shutdown().await;
}
