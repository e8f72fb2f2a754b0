//! The worked examples A–D of copy-rules.md, end to end: leaders trade on the simulator
//! through its REST API, `copydesk run` (four copies in one process) copies them, and the
//! followers' positions are read back from the simulator's admin API.

use rust_decimal_macros::dec;

use super::support::{
    account_env, account_toml, amount, dec as d, eventually, position, sim, write_config, Engine,
};

fn copy_toml(name: &str, leader: &str, follower: &str, sizing: &str) -> String {
    format!(
        "[[copies]]\nname = \"{name}\"\nleader = \"{leader}\"\nfollower = \"{follower}\"\n{sizing}\n\
         [copies.risk]\nmax_leverage = 5\nmax_signal_age_secs = 60\n\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn examples_a_to_d_copy_end_to_end() {
    let sim = sim().await;
    let base = sim.base();
    let names = [
        "lead-a", "me-a", "lead-b", "me-b", "lead-c", "me-c", "lead-d", "me-d",
    ];
    let mut clients = Vec::new();
    for _ in names {
        clients.push(sim.usdt("10000").await);
    }
    let mut text = String::from("[engine]\nreconcile_secs = 30\n\n");
    let mut env = Vec::new();
    for (n, c) in names.iter().zip(&clients) {
        text.push_str(&account_toml(n, &base));
        env.extend(account_env(n, c));
    }
    let smart = "mode = \"smart-sync\"\ninvestment = \"1000\"";
    text.push_str(&copy_toml("example-a", "lead-a", "me-a", smart));
    text.push_str(&copy_toml("example-b", "lead-b", "me-b", smart));
    text.push_str(&copy_toml(
        "example-c",
        "lead-c",
        "me-c",
        "mode = \"fixed-amount\"\namount_per_order = \"50\"",
    ));
    // Offline protection is off for D: its stop (80 % of the margin) would otherwise close
    // the position before the margin level falls to 1,000 %, where margin adds start.
    text.push_str(&copy_toml("example-d", "lead-d", "me-d", smart).replace(
        "max_signal_age_secs = 60\n",
        "max_signal_age_secs = 60\noffline_protection = false\n",
    ));
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write_config(dir.path(), &text);
    sim.price("BTCUSDT", "50000").await;
    sim.price("ETHUSDT", "2500").await;
    let (lead_a, me_a, lead_b, me_b, lead_c, me_c, lead_d, me_d) = (
        &clients[0],
        &clients[1],
        &clients[2],
        &clients[3],
        &clients[4],
        &clients[5],
        &clients[6],
        &clients[7],
    );
    // Leader settings are made before the engine starts, so its start snapshot has them.
    for (c, sym, lev) in [
        (lead_a, "BTCUSDT", "5"),
        (lead_b, "BTCUSDT", "20"),
        (lead_c, "ETHUSDT", "10"),
        (lead_d, "BTCUSDT", "5"),
    ] {
        c.post("/fapi/v1/leverage", &[("symbol", sym), ("leverage", lev)])
            .await
            .ok("leader leverage");
    }
    lead_d
        .post(
            "/fapi/v1/marginType",
            &[("symbol", "BTCUSDT"), ("marginType", "ISOLATED")],
        )
        .await
        .ok("leader D isolated");
    let data = dir.path().join("data");
    let mut engine = Engine::start(&data, &config, &env, &[]);
    for copy in ["example-a", "example-b", "example-c", "example-d"] {
        engine
            .wait_line(&format!("copy `{copy}` is watching"), "start")
            .await;
    }

    // A: equity 10,000, margin 1,000 at 5x (0.1 BTC at 50,000) → 0.010 BTC.
    lead_a
        .market("BTCUSDT", "BUY", "0.1")
        .await
        .ok("leader A opens");
    // B: the same margin at 20x (0.4 BTC) → still 100 margin at 5x → 0.010 BTC.
    lead_b
        .market("BTCUSDT", "BUY", "0.4")
        .await
        .ok("leader B opens");
    // C: leader shorts ETH at 10x; 50 USDT at 5x at 2,500 → 0.100 ETH short.
    lead_c
        .market("ETHUSDT", "SELL", "1")
        .await
        .ok("leader C opens");
    // D: isolated 1,000 margin at 5x.
    lead_d
        .market("BTCUSDT", "BUY", "0.1")
        .await
        .ok("leader D opens");

    for (who, acct, sym, want) in [
        ("A", &me_a.account_id, "BTCUSDT", dec!(0.010)),
        ("B", &me_b.account_id, "BTCUSDT", dec!(0.010)),
        ("C", &me_c.account_id, "ETHUSDT", dec!(-0.100)),
        ("D", &me_d.account_id, "BTCUSDT", dec!(0.010)),
    ] {
        eventually(
            &format!("example {who}: follower holds {want} {sym}"),
            || async {
                let got = amount(&sim, acct, sym).await;
                if got == want {
                    Ok(())
                } else {
                    Err(format!("holds {got}"))
                }
            },
        )
        .await;
    }
    let pb = position(&sim, &me_b.account_id, "BTCUSDT")
        .await
        .expect("B position");
    assert_eq!(
        pb["leverage"].as_str(),
        Some("5"),
        "example B: follower leverage capped at 5: {pb}"
    );
    let pc = position(&sim, &me_c.account_id, "ETHUSDT")
        .await
        .expect("C position");
    assert_eq!(
        pc["leverage"].as_str(),
        Some("5"),
        "example C: follower leverage 5: {pc}"
    );
    let pd = position(&sim, &me_d.account_id, "BTCUSDT")
        .await
        .expect("D position");
    assert_eq!(
        pd["marginType"].as_str().map(str::to_lowercase).as_deref(),
        Some("isolated"),
        "example D: follower isolated like the leader: {pd}"
    );

    // A full close of the leader closes the follower.
    lead_a
        .market("BTCUSDT", "SELL", "0.1")
        .await
        .ok("leader A closes");
    eventually(
        "example A: follower flat after the leader's full close",
        || async {
            let got = amount(&sim, &me_a.account_id, "BTCUSDT").await;
            if got.is_zero() {
                Ok(())
            } else {
                Err(format!("holds {got}"))
            }
        },
    )
    .await;
    engine
        .wait_line("fill example-a", "fill notifications are printed")
        .await;
    // Status reads the same data directory while the engine runs (read-only, no lock).
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_copydesk"))
        .arg("--data-dir")
        .arg(&data)
        .args(["status", "--json"])
        .output()
        .expect("status runs");
    assert!(
        out.status.success(),
        "status succeeds: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("status prints JSON");
    let copies = v["copies"].as_array().expect("copies list");
    assert_eq!(copies.len(), 4, "status lists the four copies: {v}");
    let b = copies
        .iter()
        .find(|c| c["copy"]["name"] == "example-b")
        .expect("example-b listed");
    assert_eq!(
        d(&b["positions"][0]["followerQty"]),
        dec!(0.010),
        "status shows B's copied 0.010: {b}"
    );

    // D: leader adds 500 → follower adds 50; leader reduces 300 → follower reduces 30.
    // Margin is added only below a 1,000 % margin level, so the price first falls to where
    // the follower's level is about 900 %; it comes back before the reduce, so the venue
    // lets the 30 go. Fills at 50,000.5 (half the spread) make both wallets 0.001 % above
    // 100 and 1,000, hence the 0.01 tolerance.
    let iw0 = d(&pd["isolatedWallet"]);
    sim.price("BTCUSDT", "41500").await;
    lead_d
        .post(
            "/fapi/v1/positionMargin",
            &[("symbol", "BTCUSDT"), ("amount", "500"), ("type", "1")],
        )
        .await
        .ok("leader D adds margin");
    eventually(
        "example D: follower isolated wallet grows by 50",
        || async {
            let p = position(&sim, &me_d.account_id, "BTCUSDT")
                .await
                .ok_or("no position")?;
            let iw = d(&p["isolatedWallet"]);
            if (iw - iw0 - dec!(50)).abs() <= dec!(0.01) {
                Ok(())
            } else {
                Err(format!("grew by {}", iw - iw0))
            }
        },
    )
    .await;
    sim.price("BTCUSDT", "50000").await;
    lead_d
        .post(
            "/fapi/v1/positionMargin",
            &[("symbol", "BTCUSDT"), ("amount", "300"), ("type", "2")],
        )
        .await
        .ok("leader D reduces margin");
    eventually(
        "example D: follower isolated wallet ends 20 above its start (+50 − 30)",
        || async {
            let p = position(&sim, &me_d.account_id, "BTCUSDT")
                .await
                .ok_or("no position")?;
            let iw = d(&p["isolatedWallet"]);
            if (iw - iw0 - dec!(20)).abs() <= dec!(0.01) {
                Ok(())
            } else {
                Err(format!("net change {}", iw - iw0))
            }
        },
    )
    .await;

    engine.interrupt();
    // Each copied order is journaled against the leader signal it answers.
    let store = copydesk::store::Store::open_read_only(&copydesk::store::db_path(&data))
        .expect("database readable");
    let journal = store.journal().for_copy(1).expect("journal of example-a");
    let opened = journal
        .iter()
        .find(|e| e.order_type.as_str() == "market")
        .expect("example-a journaled its open");
    let signal = opened
        .signal_id
        .and_then(|id| store.signals().get(id).expect("signal query"))
        .expect("the open links to its stored leader signal");
    assert_eq!(
        signal.kind, "fill",
        "the signal is the leader's fill: {signal:?}"
    );
    drop(store);
    let secrets: Vec<&str> = clients.iter().map(|c| c.secret.as_str()).collect();
    let needles = crate::secrets::leak::needles(&secrets);
    let mut hits = crate::secrets::leak::scan_dirs(&[dir.path()], &needles);
    hits.extend(crate::secrets::leak::scan_bytes(
        "engine output",
        engine.output().as_bytes(),
        &needles,
    ));
    assert!(
        hits.is_empty(),
        "no API secret may reach the output, logs, config or database: {hits:?}"
    );
    assert!(
        engine.output().contains("stopped; state kept"),
        "clean stop message:\n{}",
        engine.output()
    );
}
