//! `copies repair` of a copy whose leader is a public lead portfolio: the leader's books
//! come from the portfolio's positions list (no leader account to read). A portfolio that
//! hides its positions makes the repair fail saying so, writing nothing (never read as
//! flat, which would leave the copied position to the user); once the positions show, the
//! repair adopts the copied position, and the repaired copy follows the portfolio's close.

use copydesk::runtime::NotifyKind;
use copydesk::sim::portfolio::portfolio_id;
use copydesk::store::{db_path, Store};
use reqwest::Method;
use rust_decimal_macros::dec;
use serde_json::json;

use super::integrity::{repair, stored_ledger};
use super::support::{account_env, account_toml, amount, eventually, sim, write_config, Engine};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repair_reads_a_portfolio_leaders_positions_list() {
    let sim = sim().await;
    let base = sim.base();
    sim.price("ETHUSDT", "3000").await;
    let lead = sim.lead_portfolio("50000").await;
    let me = sim.usdt("50000").await;
    let pid = portfolio_id(&lead.account_id);
    let text = format!(
        "[engine]\nportfolio_requests_per_minute = 600\n\n{}\
         [[leaders]]\nname = \"whale\"\nportfolio = \"{pid}\"\nendpoint = \"{base}\"\n\n\
         [[copies]]\nname = \"pf\"\nleader = \"whale\"\nfollower = \"me\"\n\
         mode = \"fixed-ratio\"\nratio = \"0.5\"\n",
        account_toml("me", &base)
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write_config(dir.path(), &text);
    let data = dir.path().join("data");
    let env = account_env("me", &me);

    let mut engine = Engine::start(&data, &config, &env, &[]);
    engine
        .wait_kind(NotifyKind::Watching, None, Some("pf"), "start")
        .await;
    lead.market("ETHUSDT", "BUY", "1")
        .await
        .ok("the portfolio opens");
    eventually("the follower copies the open", || async {
        let got = amount(&sim, &me.account_id, "ETHUSDT").await;
        (got == dec!(0.5))
            .then_some(())
            .ok_or(format!("holds {got}"))
    })
    .await;
    eventually("the copy's ledger holds the position", || async {
        let l = stored_ledger(&data, "pf");
        l.contains("ETHUSDT").then_some(()).ok_or(l)
    })
    .await;
    engine.interrupt();
    {
        let store = Store::open(&db_path(&data)).expect("database opens");
        store
            .conn()
            .execute(
                "UPDATE copy_ledger SET ledger = '{\"positions\": [truncated' \
                 WHERE copy_id = (SELECT id FROM copies WHERE name = 'pf')",
                [],
            )
            .expect("corrupted");
    }

    // Hidden positions: the repair cannot know the leader's books and writes nothing.
    sim.admin(
        Method::POST,
        &format!("/admin/v1/portfolio/{}", lead.account_id),
        Some(json!({"positionShow": false})),
    )
    .await
    .ok("hide");
    let (ok, out) = repair(&data, &config, "pf", true, &env);
    assert!(!ok, "a hidden portfolio fails the repair:\n{out}");
    assert!(
        out.contains("hides its positions") && out.contains(&pid),
        "says which portfolio and why:\n{out}"
    );
    assert!(
        stored_ledger(&data, "pf").contains("truncated"),
        "nothing was written"
    );

    // Shown again: the copied position is adopted from the journal, the venue and the
    // portfolio's positions list.
    sim.admin(
        Method::POST,
        &format!("/admin/v1/portfolio/{}", lead.account_id),
        Some(json!({"positionShow": true})),
    )
    .await
    .ok("show");
    let (ok, shown) = repair(&data, &config, "pf", true, &env);
    assert!(ok, "the repair runs:\n{shown}");
    assert!(
        shown.contains("adopt ETHUSDT long 0.5") && shown.contains("written"),
        "adopts the copied position:\n{shown}"
    );
    assert!(
        stored_ledger(&data, "pf").contains("ETHUSDT"),
        "the rebuilt ledger holds it"
    );

    // The repaired copy follows the portfolio's close.
    let mut engine = Engine::start(&data, &config, &env, &[]);
    engine
        .wait_kind(
            NotifyKind::Watching,
            None,
            Some("pf"),
            "the repaired copy runs",
        )
        .await;
    lead.market("ETHUSDT", "SELL", "1")
        .await
        .ok("the portfolio closes");
    eventually("the follower closes with the portfolio", || async {
        let got = amount(&sim, &me.account_id, "ETHUSDT").await;
        got.is_zero().then_some(()).ok_or(format!("holds {got}"))
    })
    .await;
    engine.interrupt();
}
