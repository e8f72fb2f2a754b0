//! Several copies in one engine: one follower copying two leaders holds each symbol for
//! one copy only (the other copy's open is skipped with a notice), and one leader feeding
//! two followers is copied onto both.

use copydesk::engine::NoticeKind;
use copydesk::runtime::NotifyKind;
use rust_decimal_macros::dec;

use super::support::{account_env, account_toml, amount, eventually, sim, write_config, Engine};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_follower_two_leaders_and_one_leader_two_followers() {
    let sim = sim().await;
    let base = sim.base();
    sim.price("BTCUSDT", "50000").await;
    sim.price("ETHUSDT", "2500").await;
    let names = ["lead-one", "lead-two", "me", "other-me"];
    let mut clients = Vec::new();
    let mut text = String::new();
    let mut env = Vec::new();
    for n in names {
        let c = sim.usdt("100000").await;
        text.push_str(&account_toml(n, &base));
        env.extend(account_env(n, &c));
        clients.push(c);
    }
    for (name, leader, follower) in [
        ("one-to-me", "lead-one", "me"),
        ("two-to-me", "lead-two", "me"),
        ("one-to-other", "lead-one", "other-me"),
    ] {
        text.push_str(&format!(
            "[[copies]]\nname = \"{name}\"\nleader = \"{leader}\"\nfollower = \"{follower}\"\n\
             mode = \"fixed-ratio\"\nratio = \"0.1\"\n\n"
        ));
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write_config(dir.path(), &text);
    let mut engine = Engine::start(&dir.path().join("data"), &config, &env, &[]);
    for copy in ["one-to-me", "two-to-me", "one-to-other"] {
        engine
            .wait_kind(NotifyKind::Watching, None, Some(copy), "start")
            .await;
    }
    let (one, two, me, other) = (&clients[0], &clients[1], &clients[2], &clients[3]);
    one.market("BTCUSDT", "BUY", "0.5")
        .await
        .ok("leader one opens BTC");
    for (who, acct) in [("me", &me.account_id), ("other-me", &other.account_id)] {
        eventually(&format!("{who} copies leader one's BTC"), || async {
            let got = amount(&sim, acct, "BTCUSDT").await;
            (got == dec!(0.050))
                .then_some(())
                .ok_or(format!("holds {got}"))
        })
        .await;
    }
    two.market("BTCUSDT", "BUY", "0.3")
        .await
        .ok("leader two opens BTC");
    engine
        .wait_kind(
            NotifyKind::Skip,
            Some(NoticeKind::HeldByOtherCopy),
            Some("two-to-me"),
            "the second copy's BTC open is skipped with a notice",
        )
        .await;
    two.market("ETHUSDT", "BUY", "1")
        .await
        .ok("leader two opens ETH");
    eventually("me copies leader two's ETH", || async {
        let got = amount(&sim, &me.account_id, "ETHUSDT").await;
        (got == dec!(0.100))
            .then_some(())
            .ok_or(format!("holds {got}"))
    })
    .await;
    assert_eq!(
        amount(&sim, &me.account_id, "BTCUSDT").await,
        dec!(0.050),
        "BTC on `me` stays with the copy that holds it"
    );
}
