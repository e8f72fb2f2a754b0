//! An Ed25519 API key against the simulator, which keeps only the public half and checks
//! every signature with it: the adapter picks Ed25519 from the PEM secret and signs REST
//! calls the simulator accepts, streams with the same key, and a key check passes.

use copydesk::domain::Side;
use copydesk::exchange::{AccountEvent, Exchange, KeyRole, KeyVerdict, OrderStatus, Placement};
use copydesk::sim::{NewAccount, SimConfig};
use rust_decimal_macros::dec;

use super::support::{adapter, market, next_event, start_sim, wait_event};

#[tokio::test]
async fn an_ed25519_key_signs_requests_the_simulator_verifies() {
    let sim = start_sim(SimConfig::default()).await;
    sim.set_price("BTCUSDT", dec!(50000)).expect("price set");
    let keys = sim.create_account(NewAccount::usdt(dec!(10000)).ed25519());
    assert!(
        keys.secret_key.starts_with("-----BEGIN PRIVATE KEY-----"),
        "an Ed25519 account's secret is its PKCS#8 PEM private key"
    );
    let ex = adapter(&sim, &keys);

    let mut stream = ex.subscribe().await.expect("subscribe");
    assert!(
        matches!(next_event(&mut stream).await, AccountEvent::Resynced(_)),
        "the signed snapshot calls behind the first resync succeed"
    );
    let placed = ex
        .place_order(&market("cded01", "BTCUSDT", Side::Buy, dec!(0.01)))
        .await
        .expect("an Ed25519-signed order is accepted");
    assert!(
        matches!(placed, Placement::Acknowledged(ref r) if r.status == OrderStatus::Filled),
        "the order fills: {placed:?}"
    );
    wait_event(&mut stream, "the fill on the stream", |e| match e {
        AccountEvent::Order(o) if o.order.client_id == "cded01" => Some(()),
        _ => None,
    })
    .await;
    let check = ex.check_key(KeyRole::Follower).await.expect("key check");
    assert_eq!(
        check.verdict,
        KeyVerdict::Accepted,
        "the signed apiRestrictions call succeeds: {check:?}"
    );

    // Another Ed25519 key signing for this account's API key is refused.
    let other = sim.create_account(NewAccount::usdt(dec!(1)).ed25519());
    let forged = copydesk::sim::AccountKeys {
        secret_key: other.secret_key.clone(),
        ..keys.clone()
    };
    let err = adapter(&sim, &forged)
        .account()
        .await
        .expect_err("a signature by another key must be refused");
    assert_eq!(
        err.venue_code(),
        Some(-1022),
        "refused as a bad signature: {err:?}"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn the_admin_api_creates_ed25519_keys_and_refuses_unknown_key_types() {
    let sim = start_sim(SimConfig::default()).await;
    let http = reqwest::Client::new();
    let url = format!("{}/admin/v1/accounts", sim.base_url());
    let created: serde_json::Value = http
        .post(&url)
        .json(&serde_json::json!({"balances": {"USDT": "100"}, "keyType": "ed25519"}))
        .send()
        .await
        .expect("admin answers")
        .json()
        .await
        .expect("JSON");
    let keys = copydesk::sim::AccountKeys {
        account_id: created["accountId"].as_str().expect("id").to_owned(),
        api_key: created["apiKey"].as_str().expect("key").to_owned(),
        secret_key: created["secretKey"].as_str().expect("secret").to_owned(),
    };
    let snap = adapter(&sim, &keys)
        .account()
        .await
        .expect("the admin-made Ed25519 key signs accepted requests");
    assert_eq!(snap.equity, dec!(100), "the account holds its 100 USDT");
    let refused = http
        .post(&url)
        .json(&serde_json::json!({"keyType": "rsa"}))
        .send()
        .await
        .expect("admin answers");
    assert_eq!(refused.status(), 400, "an unknown key type is refused");
    let body: serde_json::Value = refused.json().await.expect("JSON");
    assert_eq!(body["code"], -1102, "with the bad-parameter code: {body}");
    sim.shutdown().await;
}

#[tokio::test]
async fn an_ed25519_key_and_a_labelled_paper_account_survive_a_restored_simulator() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = copydesk::sim::state_path(dir.path());
    let config = || SimConfig {
        state_file: Some(file.clone()),
        ..SimConfig::default()
    };
    let sim = start_sim(config()).await;
    let keys = sim.create_account(NewAccount::usdt(dec!(10000)).ed25519());
    let paper = sim.create_account(NewAccount {
        label: "paper".into(),
        ..NewAccount::usdt(dec!(500))
    });
    sim.shutdown().await;

    let sim = start_sim(config()).await;
    sim.set_price("BTCUSDT", dec!(50000)).expect("price set");
    let found = sim
        .account_by_label("paper")
        .expect("the paper account is found by its label after the restart");
    assert_eq!(
        (found.account_id, found.api_key, found.secret_key),
        (paper.account_id, paper.api_key, paper.secret_key),
        "the same id, key and secret come back, so nothing needs the keychain"
    );
    // The simulator kept only the public key; the client's PEM still signs for it.
    let ex = adapter(&sim, &keys);
    let placed = ex
        .place_order(&market("cded02", "BTCUSDT", Side::Buy, dec!(0.01)))
        .await
        .expect("the restored simulator verifies the same Ed25519 key");
    assert!(
        matches!(placed, Placement::Acknowledged(ref r) if r.status == OrderStatus::Filled),
        "the order fills: {placed:?}"
    );
    sim.shutdown().await;
}
