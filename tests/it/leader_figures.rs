//! Leader figures in paper mode through the facade: the embedded simulator's demo leaders
//! are listed with their 7/30/90-day figures on the very first list (read from the
//! simulator in-process, not from their histories over REST), the same figures its
//! lead-portfolio pages serve; and they stay there after a restart.

use copydesk::api::{self, App, AppOptions, LeaderSourceDto, PaperOptions};
use copydesk::paths::APP_IDENTIFIER;
use copydesk::secrets::Keychain;

const TOKEN: &str = "leader-figures-admin-token";

fn paper_opts(dir: &std::path::Path) -> AppOptions {
    let mut o = AppOptions::new(dir);
    // Paper keys live in memory: this keychain is never written.
    o.keychain = Keychain::with_service(format!(
        "{APP_IDENTIFIER}.it.leader-figures.{}",
        std::process::id()
    ));
    o.paper = PaperOptions {
        start: true,
        admin_token: Some(TOKEN.into()),
        demo_speed: 1,
    };
    o
}

fn dec(s: Option<&str>) -> Option<rust_decimal::Decimal> {
    s.map(|s| s.parse().expect("a decimal"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_leaders_have_their_figures_on_the_first_list_as_their_pages_serve_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = App::open(paper_opts(dir.path()))
        .await
        .expect("the app opens in paper mode");
    let first = app.leaders().await.expect("leaders list");
    let demo: Vec<_> = first
        .iter()
        .filter(|l| l.source == LeaderSourceDto::Demo)
        .collect();
    assert_eq!(demo.len(), 4, "the four demo leaders: {first:#?}");
    for l in &demo {
        assert!(
            !l.figures_pending && l.copyable,
            "{} has its figures on the first list, nothing left to read: {l:#?}",
            l.id
        );
        let days: Vec<u32> = l.figures.iter().map(|f| f.days).collect();
        assert_eq!(days, [7, 30, 90], "{}: {l:#?}", l.id);
        assert!(
            l.figures.iter().any(|f| f.trades > 0),
            "{} has 90 days of trades: {l:#?}",
            l.id
        );
        assert!(l.equity.is_some(), "{}: {l:#?}", l.id);
    }

    // The same figures as the simulator's lead-portfolio pages (the list, over HTTP).
    let (endpoint, _) = app.paper_admin().await.expect("paper mode runs");
    let pages = api::public_leaders(Some(&endpoint))
        .await
        .expect("the simulator's lead portfolios");
    for l in &demo {
        let page = pages
            .iter()
            .find(|p| p.name == l.name)
            .unwrap_or_else(|| panic!("{} is a lead portfolio: {pages:#?}", l.name));
        for f in &l.figures {
            let pf = page
                .figures
                .iter()
                .find(|p| p.days == f.days)
                .unwrap_or_else(|| panic!("{}-day figures on the page: {page:#?}", f.days));
            assert_eq!(
                (Some(u64::from(f.trades)), dec(f.win_rate.as_deref())),
                (pf.trades, pf.win_rate_pct.map(|w| w.round_dp(4))),
                "{} over {} days: the app's closed trades and win rate are its page's",
                l.id,
                f.days
            );
            // The page is read a moment later: an open position's price may have moved.
            let (app_roi, page_roi) = (dec(f.roi.as_deref()), pf.roi_pct);
            assert!(
                match (app_roi, page_roi) {
                    (Some(a), Some(p)) => (a - p).abs() < rust_decimal_macros::dec!(0.5),
                    (a, p) => a == p,
                },
                "{} over {} days: ROI {app_roi:?} in the app, {page_roi:?} on its page",
                l.id,
                f.days
            );
        }
    }

    // The detail (figures, curve, positions) answers from the same read.
    let d = app.leader(&demo[0].id).await.expect("the detail");
    assert_eq!(d.equity_curve.len(), 91, "one point a day for 90 days");
    app.shutdown().await;

    // After a restart the demo leaders are listed with their figures at once again.
    let app = App::open(paper_opts(dir.path()))
        .await
        .expect("the app opens again");
    let again = app.leaders().await.expect("leaders list");
    assert!(
        again
            .iter()
            .filter(|l| l.source == LeaderSourceDto::Demo)
            .all(|l| !l.figures_pending && l.figures.len() == 3),
        "{again:#?}"
    );
    app.shutdown().await;
}
