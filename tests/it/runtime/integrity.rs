//! Stored state that cannot be read or written fails loudly (issue "fail loudly"): a copy
//! whose stored ledger is corrupt is refused with the row and the recovery named while the
//! other copies run, and `copies repair` rebuilds it; a failed journal write puts the copy
//! on an engine hold (`held`) that lifts itself (`released`) once writes succeed again.
//! Faults are real: bytes written into the SQLite file, triggers that make SQLite refuse.

use std::process::{Command, Stdio};

use copydesk::runtime::NotifyKind;
use copydesk::store::{db_path, Store};
use rust_decimal_macros::dec;

use super::support::{
    account_env, account_toml, amount, eventually, head, sim, write_config, Engine, Pair,
};

/// Runs `copydesk copies repair NAME` and returns (success, stdout + stderr).
pub(super) fn repair(
    data: &std::path::Path,
    config: &std::path::Path,
    name: &str,
    yes: bool,
    env: &[(String, String)],
) -> (bool, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_copydesk"));
    cmd.arg("--data-dir")
        .arg(data)
        .args(["copies", "repair", name, "--config"])
        .arg(config)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if yes {
        cmd.arg("--yes");
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("copydesk runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

pub(super) fn stored_ledger(data: &std::path::Path, copy: &str) -> String {
    let store = Store::open_read_only(&db_path(data)).expect("database opens");
    let id = store
        .copies()
        .by_name(copy)
        .expect("query")
        .expect("copy stored")
        .id;
    store
        .copy_ledgers()
        .get(id)
        .expect("row reads")
        .expect("a ledger row")
        .ledger
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_ledger_stops_only_its_copy_and_repair_restores_it() {
    let sim = sim().await;
    let base = sim.base();
    sim.price("BTCUSDT", "50000").await;
    let lead = sim.usdt("100000").await;
    let me = sim.usdt("100000").await;
    let other = sim.usdt("100000").await;
    let mut text = String::new();
    let mut env = Vec::new();
    for (n, c) in [("lead", &lead), ("me", &me), ("other", &other)] {
        text.push_str(&account_toml(n, &base));
        env.extend(account_env(n, c));
    }
    for (name, follower) in [("broken", "me"), ("fine", "other")] {
        text.push_str(&format!(
            "[[copies]]\nname = \"{name}\"\nleader = \"lead\"\nfollower = \"{follower}\"\n\
             mode = \"fixed-ratio\"\nratio = \"0.1\"\n\n"
        ));
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write_config(dir.path(), &text);
    let data = dir.path().join("data");

    let mut engine = Engine::start(&data, &config, &env, &[]);
    for copy in ["broken", "fine"] {
        engine
            .wait_kind(NotifyKind::Watching, None, Some(copy), "first start")
            .await;
    }
    lead.market("BTCUSDT", "BUY", "0.5")
        .await
        .ok("leader opens");
    for (who, acct) in [("me", &me.account_id), ("other", &other.account_id)] {
        eventually(&format!("{who} copies the open"), || async {
            let got = amount(&sim, acct, "BTCUSDT").await;
            (got == dec!(0.050))
                .then_some(())
                .ok_or(format!("holds {got}"))
        })
        .await;
    }
    eventually("the copy's ledger holds the position", || async {
        let l = stored_ledger(&data, "broken");
        l.contains("BTCUSDT").then_some(()).ok_or(l)
    })
    .await;
    engine.interrupt();

    // The fault: the stored ledger of `broken` becomes bytes no ledger decodes.
    {
        let store = Store::open(&db_path(&data)).expect("database opens");
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

    let mut engine = Engine::start(&data, &config, &env, &[]);
    engine
        .wait_kind(
            NotifyKind::Error,
            None,
            Some("broken"),
            "the broken copy is refused",
        )
        .await;
    engine
        .wait_kind(
            NotifyKind::Watching,
            None,
            Some("fine"),
            "the other copy runs",
        )
        .await;
    let out = engine.output();
    let refusal = out
        .lines()
        .find(|l| l.contains(&head(NotifyKind::Error, None, Some("broken"))))
        .expect("a refusal line");
    for needle in ["table copy_ledger", "copydesk copies repair broken"] {
        assert!(
            refusal.contains(needle),
            "the refusal names the row and the recovery (`{needle}`): {refusal}"
        );
    }
    assert!(
        !out.contains(&head(NotifyKind::Watching, None, Some("broken"))),
        "the copy with an unreadable ledger must not run:\n{out}"
    );
    lead.market("BTCUSDT", "BUY", "0.5").await.ok("leader adds");
    eventually("the other copy keeps copying", || async {
        let got = amount(&sim, &other.account_id, "BTCUSDT").await;
        (got == dec!(0.100))
            .then_some(())
            .ok_or(format!("holds {got}"))
    })
    .await;
    assert_eq!(
        amount(&sim, &me.account_id, "BTCUSDT").await,
        dec!(0.050),
        "the refused copy trades nothing"
    );
    engine.interrupt();

    // Repair shows what it would adopt and writes nothing without --yes.
    let (ok, shown) = repair(&data, &config, "broken", false, &env);
    assert!(ok, "repair previews:\n{shown}");
    assert!(
        shown.contains("adopt BTCUSDT long 0.050"),
        "the preview lists the position it would adopt:\n{shown}"
    );
    assert!(
        shown.contains("nothing written"),
        "a preview writes nothing:\n{shown}"
    );
    assert!(
        !shown.contains("protective stop none"),
        "the stop resting on the venue is adopted with the position, not doubled:\n{shown}"
    );
    assert!(
        stored_ledger(&data, "broken").contains("truncated"),
        "the preview left the stored row as it was"
    );
    let (ok, applied) = repair(&data, &config, "broken", true, &env);
    assert!(
        ok && applied.contains("written"),
        "repair --yes writes:\n{applied}"
    );

    // The repaired copy runs again and manages the adopted position: the leader's close
    // closes it.
    let mut engine = Engine::start(&data, &config, &env, &[]);
    engine
        .wait_kind(
            NotifyKind::Watching,
            None,
            Some("broken"),
            "the repaired copy runs",
        )
        .await;
    lead.market("BTCUSDT", "SELL", "1")
        .await
        .ok("leader closes");
    for (who, acct) in [("me", &me.account_id), ("other", &other.account_id)] {
        eventually(&format!("{who} closes with the leader"), || async {
            let got = amount(&sim, acct, "BTCUSDT").await;
            got.is_zero().then_some(()).ok_or(format!("holds {got}"))
        })
        .await;
    }
    engine.interrupt();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_journal_write_holds_the_copy_until_writes_succeed() {
    let pair = Pair::new(
        "100000",
        "",
        "[[copies]]\nname = \"held\"\nleader = \"lead\"\nfollower = \"me\"\n\
         mode = \"fixed-ratio\"\nratio = \"0.1\"\n",
    )
    .await;
    pair.sim.price("ETHUSDT", "2500").await;
    let mut engine = pair.start().await;
    let store = Store::open(&db_path(&pair.data())).expect("a second connection");
    // The fault: SQLite refuses every journal insert and ledger write, as a full disk would.
    store
        .conn()
        .execute_batch(
            "CREATE TRIGGER fail_journal BEFORE INSERT ON order_journal
                 BEGIN SELECT RAISE(ABORT, 'injected: disk full'); END;
             CREATE TRIGGER fail_ledger_update BEFORE UPDATE ON copy_ledger
                 BEGIN SELECT RAISE(ABORT, 'injected: disk full'); END;
             CREATE TRIGGER fail_ledger_insert BEFORE INSERT ON copy_ledger
                 BEGIN SELECT RAISE(ABORT, 'injected: disk full'); END;",
        )
        .expect("triggers installed");
    pair.lead
        .market("BTCUSDT", "BUY", "0.5")
        .await
        .ok("leader opens");
    engine
        .wait_kind(
            NotifyKind::Held,
            None,
            Some("held"),
            "the failed write holds the copy",
        )
        .await;
    assert!(
        engine.output().contains("journal_write"),
        "the hold names its kind:\n{}",
        engine.output()
    );
    assert_eq!(
        amount(&pair.sim, &pair.me.account_id, "BTCUSDT").await,
        dec!(0),
        "nothing is sent that the journal did not record"
    );
    store
        .conn()
        .execute_batch(
            "DROP TRIGGER fail_journal; DROP TRIGGER fail_ledger_update; DROP TRIGGER fail_ledger_insert;",
        )
        .expect("triggers removed");
    engine
        .wait_kind(
            NotifyKind::Released,
            None,
            Some("held"),
            "the hold lifts once writes succeed",
        )
        .await;
    pair.lead
        .market("ETHUSDT", "BUY", "1")
        .await
        .ok("leader opens ETH");
    eventually("opens are copied again after the release", || async {
        let got = amount(&pair.sim, &pair.me.account_id, "ETHUSDT").await;
        (got == dec!(0.100))
            .then_some(())
            .ok_or(format!("holds {got}"))
    })
    .await;
    engine.interrupt();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_protective_stop_holds_the_copy_until_one_rests() {
    let pair = Pair::new(
        "100000",
        "[engine]\nreconcile_secs = 2\n\n",
        "[[copies]]\nname = \"guarded\"\nleader = \"lead\"\nfollower = \"me\"\n\
         mode = \"fixed-ratio\"\nratio = \"0.1\"\n",
    )
    .await;
    pair.sim.price("ETHUSDT", "2500").await;
    let mut engine = pair.start().await;
    let faults = |refuse: bool| {
        pair.sim.admin(
            reqwest::Method::POST,
            "/admin/v1/faults",
            Some(serde_json::json!({ "refuseConditionals": refuse })),
        )
    };
    // The fault: the venue refuses every protective stop, as for a mark already past it.
    faults(true).await.ok("conditional orders refused");
    pair.lead
        .market("BTCUSDT", "BUY", "0.5")
        .await
        .ok("leader opens");
    engine
        .wait_kind(
            NotifyKind::Held,
            None,
            Some("guarded"),
            "a position without its stop holds the copy",
        )
        .await;
    assert!(
        engine.output().contains("(unprotected)"),
        "the hold names its kind:\n{}",
        engine.output()
    );
    assert_eq!(
        amount(&pair.sim, &pair.me.account_id, "BTCUSDT").await,
        dec!(0.050),
        "the open itself was copied"
    );
    pair.lead
        .market("ETHUSDT", "BUY", "1")
        .await
        .ok("leader opens ETH during the hold");
    engine
        .wait_kind(
            NotifyKind::Skip,
            Some(copydesk::engine::NoticeKind::CopyPaused),
            Some("guarded"),
            "an open during the hold is skipped and listed",
        )
        .await;
    faults(false).await.ok("conditional orders accepted again");
    engine
        .wait_kind(
            NotifyKind::Released,
            None,
            Some("guarded"),
            "the next pass places the stop and lifts the hold",
        )
        .await;
    pair.lead
        .market("BTCUSDT", "BUY", "0.5")
        .await
        .ok("leader adds");
    eventually("increases are copied again after the release", || async {
        let got = amount(&pair.sim, &pair.me.account_id, "BTCUSDT").await;
        (got == dec!(0.100))
            .then_some(())
            .ok_or(format!("holds {got}"))
    })
    .await;
    assert_eq!(
        amount(&pair.sim, &pair.me.account_id, "ETHUSDT").await,
        dec!(0),
        "what was skipped during the hold is not copied later"
    );
    engine.interrupt();
}
