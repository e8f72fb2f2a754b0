//! The venue port is closed: a copy runs through the real runtime (`runtime::start_keys`)
//! on the in-memory contract venue of [`super::memory_venue`], injected through the venue
//! factory. The leader opens, closes part, closes; the engine restarts on the same data
//! directory and copies on; a close the leader's stream lost is repaired by
//! reconciliation. Every check reads the venue's own state, in contracts.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use copydesk::domain::{CopySettings, Side};
use copydesk::engine::Ledger;
use copydesk::exchange::Credentials;
use copydesk::runtime::config::{self, AccountConfig, CopyConfig, EngineConfig, RunConfig};
use copydesk::runtime::{start_keys, EngineOptions, KeySource, RunOptions, RuntimeHandle};
use copydesk::secrets::SecretSource;
use copydesk::store::DataDir;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;

use super::memory_venue::{MemoryMarket, NativeOrder, EXCHANGE, SYMBOL};
use super::support::eventually;

fn account(name: &str) -> AccountConfig {
    AccountConfig {
        name: name.into(),
        exchange: EXCHANGE.into(),
        endpoint: "memory".into(),
        // Never resolved: the keys are handed over in memory.
        api_key: SecretSource::Env("UNUSED".into()),
        api_secret: SecretSource::Env("UNUSED".into()),
        api_passphrase: Some(SecretSource::Env("UNUSED".into())),
    }
}

fn config() -> RunConfig {
    let settings: CopySettings =
        toml::from_str("mode = \"fixed-ratio\"\nratio = \"0.1\"").expect("settings");
    RunConfig {
        accounts: vec![account("lead"), account("me")],
        leaders: Vec::new(),
        copies: vec![CopyConfig {
            name: "swap".into(),
            leader: "lead".into(),
            follower: "me".into(),
            settings,
            profit_share_ratio: None,
        }],
        engine: EngineConfig::default(),
    }
}

/// A market with a leader and a follower, and their keys (with passphrases).
fn market() -> (MemoryMarket, HashMap<String, Credentials>) {
    let market = MemoryMarket::new();
    let keys = HashMap::from([
        (
            "lead".to_owned(),
            market.open_account("lead", dec!(100000), "lead passphrase"),
        ),
        (
            "me".to_owned(),
            market.open_account("me", dec!(100000), "my passphrase"),
        ),
    ]);
    market.set_leverage("lead", SYMBOL, 5);
    (market, keys)
}

async fn start(
    market: &MemoryMarket,
    keys: &HashMap<String, Credentials>,
    dir: &Path,
) -> RuntimeHandle {
    let data = DataDir::open(dir, "port test").expect("data dir");
    let opts = RunOptions {
        engine: EngineOptions {
            reconcile_every: Duration::from_secs(1),
            ..EngineOptions::default()
        },
        venues: Arc::new(market.factory()),
        ..RunOptions::default()
    };
    start_keys(&config(), data, opts, &KeySource::Given(keys))
        .await
        .expect("the copy starts on the in-memory venue")
}

/// The copy's start time and stored ledger, read while no engine runs.
fn stored(dir: &Path) -> (i64, Ledger) {
    let data = DataDir::open(dir, "port test reader").expect("data dir");
    let s = data.store();
    let copy = s
        .copies()
        .by_name("swap")
        .expect("copies readable")
        .expect("the copy is stored");
    let row = s
        .copy_ledgers()
        .get(copy.id)
        .expect("copy ledger readable")
        .expect("the copy has a stored ledger");
    let ledger: Ledger = serde_json::from_str(&row.ledger).expect("the ledger decodes");
    (copy.t0.expect("the copy has started"), ledger)
}

/// Waits until the follower holds `contracts` on the venue.
async fn follower_holds(market: &MemoryMarket, contracts: Decimal, what: &str) {
    eventually(what, || {
        let held = market.position("me", SYMBOL);
        async move {
            if held == contracts {
                Ok(())
            } else {
                Err(format!("the follower holds {held} contracts"))
            }
        }
    })
    .await;
}

fn is_ours(o: &NativeOrder) -> bool {
    copydesk::engine::client_id::is_ours(&o.client_id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copy_runs_on_a_contract_venue_through_open_close_restart_and_reconciliation() {
    let (market, keys) = market();
    let dir = tempfile::tempdir().expect("tempdir");
    let handle = start(&market, &keys, dir.path()).await;

    // Open: the leader buys 100 contracts (1 BTC); ratio 0.1 is 0.1 BTC, 10 contracts.
    market.trade("lead", Side::Buy, dec!(100));
    follower_holds(&market, dec!(10), "the follower opens 10 contracts").await;
    let orders = market.orders("me");
    assert_eq!(orders.len(), 1, "one order opened the copy: {orders:?}");
    assert!(
        is_ours(&orders[0]) && orders[0].side == Side::Buy && orders[0].contracts == dec!(10),
        "the open is our buy of 10 contracts (0.1 BTC at 0.01 BTC a contract): {orders:?}"
    );
    eventually("a protective stop guards the 10 contracts", || {
        let stops = market.live_stops("me");
        async move {
            match stops.as_slice() {
                [s] if s.side == Side::Sell
                    && s.contracts.is_none_or(|c| c == dec!(10))
                    && s.trigger < dec!(50000) =>
                {
                    Ok(())
                }
                other => Err(format!("live stops: {other:?}")),
            }
        }
    })
    .await;

    // Partial close: the leader sells half; the follower sells 5 contracts.
    market.trade("lead", Side::Sell, dec!(50));
    follower_holds(&market, dec!(5), "the follower closes half").await;
    let last = market.orders("me").last().cloned().expect("an order");
    assert!(
        is_ours(&last) && last.side == Side::Sell && last.contracts == dec!(5) && last.reduce_only,
        "the partial close is our reduce-only sell of 5 contracts: {last:?}"
    );

    // Close: the leader sells the rest; the follower is flat and its stop is gone.
    market.trade("lead", Side::Sell, dec!(50));
    follower_holds(&market, Decimal::ZERO, "the follower closes").await;
    eventually("the protective stop is cancelled once flat", || {
        let stops = market.live_stops("me");
        async move {
            if stops.is_empty() {
                Ok(())
            } else {
                Err(format!("live stops: {stops:?}"))
            }
        }
    })
    .await;
    assert_eq!(
        market.orders("me").len(),
        3,
        "open, partial close and close are three orders: {:?}",
        market.orders("me")
    );

    // Restart: open again, stop the engine, start it on the same data directory.
    market.trade("lead", Side::Buy, dec!(100));
    follower_holds(&market, dec!(10), "the follower opens again").await;
    handle.shutdown().await;
    let (t0, ledger) = stored(dir.path());
    let held = ledger.positions.values().map(|p| p.qty).collect::<Vec<_>>();
    assert_eq!(
        held,
        vec![dec!(0.1)],
        "the stored ledger holds 0.1 BTC: {ledger:?}"
    );
    let before_restart = market.orders("me").len();
    let handle = start(&market, &keys, dir.path()).await;
    // Copying goes on from the same position: an increase of 50 contracts adds 5.
    market.trade("lead", Side::Buy, dec!(50));
    follower_holds(&market, dec!(15), "the restarted copy copies the increase").await;
    let since: Vec<NativeOrder> = market.orders("me")[before_restart..].to_vec();
    assert!(
        matches!(since.as_slice(), [o] if is_ours(o) && o.side == Side::Buy && o.contracts == dec!(5)),
        "the restart neither closed nor reopened; the one order after it is the increase: {since:?}"
    );

    // Reconciliation: the leader closes and its stream loses the reports; a reconciliation
    // pass reads the leader's positions, confirms them and closes the follower's share.
    let before_reconcile = market.orders("me").len();
    market.trade_unreported("lead", Side::Sell, dec!(150));
    follower_holds(&market, Decimal::ZERO, "reconciliation closes the follower").await;
    let since: Vec<NativeOrder> = market.orders("me")[before_reconcile..].to_vec();
    assert!(
        matches!(since.as_slice(), [o] if is_ours(o) && o.side == Side::Sell && o.contracts == dec!(15) && o.reduce_only),
        "one reduce-only sell of 15 contracts repairs the drift: {since:?}"
    );
    handle.shutdown().await;

    let (t0_after, ledger) = stored(dir.path());
    assert_eq!(t0_after, t0, "the restart kept the copy's start time");
    assert!(
        ledger.positions.is_empty(),
        "the ledger is flat after the repair: {ledger:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_without_its_passphrase_is_refused_at_start_naming_the_account() {
    let (market, mut keys) = market();
    let me = keys.get("me").expect("my key").clone();
    keys.insert(
        "me".into(),
        Credentials::new(me.api_key(), me.expose_secret()),
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let data = DataDir::open(dir.path(), "port test").expect("data dir");
    let opts = RunOptions {
        venues: Arc::new(market.factory()),
        ..RunOptions::default()
    };
    let err = start_keys(&config(), data, opts, &KeySource::Given(&keys))
        .await
        .expect_err("a key without its passphrase must not start");
    let msg = err.to_string();
    assert!(
        msg.contains("account `me`") && msg.contains("passphrase"),
        "the refusal names the account and the passphrase: {msg}"
    );
    assert!(
        market.orders("me").is_empty(),
        "nothing was sent on the refused account"
    );
}

/// Keys named by environment variables that are set whenever the tests run under cargo,
/// so the config's resolution path runs without changing the test process's environment.
fn env_account(name: &str, key_var: &str, passphrase: bool) -> AccountConfig {
    AccountConfig {
        api_key: SecretSource::Env(key_var.into()),
        api_secret: SecretSource::Env("CARGO_PKG_VERSION".into()),
        api_passphrase: passphrase.then(|| SecretSource::Env("PATH".into())),
        ..account(name)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_passphrase_named_in_the_config_is_resolved_and_reaches_the_venue() {
    let var = |v: &str| std::env::var(v).unwrap_or_else(|_| panic!("{v} is set under cargo"));
    let market = MemoryMarket::new();
    for (name, key_var) in [("lead", "CARGO_MANIFEST_DIR"), ("me", "CARGO_PKG_NAME")] {
        market.open_account_with(
            name,
            dec!(100000),
            &var(key_var),
            &var("CARGO_PKG_VERSION"),
            &var("PATH"),
        );
    }
    let run = |with_passphrase: bool| {
        let mut c = config();
        c.accounts = vec![
            env_account("lead", "CARGO_MANIFEST_DIR", true),
            env_account("me", "CARGO_PKG_NAME", with_passphrase),
        ];
        c
    };
    let keychain = copydesk::secrets::Keychain::app();
    let opts = || RunOptions {
        venues: Arc::new(market.factory()),
        ..RunOptions::default()
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let data = DataDir::open(dir.path(), "port test").expect("data dir");
    let err = start_keys(&run(false), data, opts(), &KeySource::Config(&keychain))
        .await
        .expect_err("without api_passphrase the venue refuses the key");
    assert!(
        err.to_string().contains("account `me`"),
        "the refusal names the account: {err}"
    );
    let data = DataDir::open(dir.path(), "port test").expect("data dir");
    let handle = start_keys(&run(true), data, opts(), &KeySource::Config(&keychain))
        .await
        .expect("with api_passphrase resolved from the environment the copy starts");
    handle.shutdown().await;
}

#[test]
fn the_config_accepts_the_exchanges_its_factory_builds() {
    let text = format!(
        "[[accounts]]\nname = \"lead\"\nexchange = \"{EXCHANGE}\"\nendpoint = \"memory\"\n\
         api_key = {{ env = \"L_KEY\" }}\napi_secret = {{ env = \"L_SECRET\" }}\n\
         api_passphrase = {{ keychain = \"lead\" }}\n\n\
         [[accounts]]\nname = \"me\"\nexchange = \"{EXCHANGE}\"\nendpoint = \"memory\"\n\
         api_key = {{ env = \"M_KEY\" }}\napi_secret = {{ env = \"M_SECRET\" }}\n\n\
         [[copies]]\nname = \"swap\"\nleader = \"lead\"\nfollower = \"me\"\n\
         mode = \"fixed-ratio\"\nratio = \"0.1\"\n"
    );
    let (market, _) = market();
    let parsed = config::parse_with(&text, "copy.toml", &market.factory())
        .expect("the memory venue's factory accepts its accounts");
    assert_eq!(
        parsed.accounts[0].api_passphrase,
        Some(SecretSource::Keychain("lead".into())),
        "the passphrase source is read"
    );
    assert_eq!(
        parsed.accounts[1].api_passphrase, None,
        "the passphrase is optional"
    );
    let err =
        config::parse(&text, "copy.toml").expect_err("the default factory has no memory venue");
    assert!(
        err.to_string()
            .contains("exchange `memory-swap` is not supported; use exchange = \"binance-usdm\""),
        "the refusal names the field and the fix: {err}"
    );
}
