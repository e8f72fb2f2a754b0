//! Request weight in the read-only status (issue 11): `copydesk status` run beside a
//! running engine has no engine to ask, so the engine publishes each follower account's
//! weight in the data directory (`runtime::weight_file`) and the read-only status shows
//! it; once the engine stops, nothing is shown. The same start shows the leader's
//! snapshot leaving out the two unfiltered order reads (a leader's resting orders are
//! never read).

use std::collections::HashMap;
use std::time::Duration;

use copydesk::exchange::Credentials;
use copydesk::runtime::config::{CopyConfig, EngineConfig, RunConfig};
use copydesk::runtime::{start_keys, EngineOptions, KeySource, RunOptions};
use copydesk::store::DataDir;

use super::in_process::account;
use super::support::{eventually, sim};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_beside_a_running_engine_shows_its_request_weight() {
    let sim = sim().await;
    let base = sim.base();
    let lead = sim.usdt("100000").await;
    let me = sim.usdt("100000").await;
    sim.price("BTCUSDT", "50000").await;
    let config = RunConfig {
        accounts: vec![account("lead", &base), account("me", &base)],
        leaders: Vec::new(),
        copies: vec![CopyConfig {
            name: "w".into(),
            leader: "lead".into(),
            follower: "me".into(),
            settings: toml::from_str(
                "mode = \"fixed-ratio\"\nratio = \"0.1\"\n[risk]\nmax_leverage = 5\n",
            )
            .expect("settings"),
            profit_share_ratio: None,
        }],
        engine: EngineConfig::default(),
    };
    let keys = HashMap::from([
        (
            "lead".to_owned(),
            Credentials::new(lead.key.clone(), lead.secret.clone()),
        ),
        (
            "me".to_owned(),
            Credentials::new(me.key.clone(), me.secret.clone()),
        ),
    ]);
    let dir = tempfile::tempdir().expect("tempdir");
    let data = DataDir::open(dir.path(), "weight status test").expect("data dir");
    let opts = RunOptions {
        engine: EngineOptions {
            reconcile_every: Duration::from_secs(3600),
            ..EngineOptions::default()
        },
        ..RunOptions::default()
    };
    let handle = start_keys(&config, data, opts, &KeySource::Given(&keys))
        .await
        .expect("runtime starts");
    // The start-up snapshot of `me` spent weight: the read-only status shows it.
    eventually(
        "the read-only status shows the follower's weight",
        || async {
            let s = copydesk::api::status_read_only(dir.path()).map_err(|e| e.to_string())?;
            match s.weight.iter().find(|w| w.venue == "me") {
                Some(w) if w.used > 0 && w.limit > 0 => Ok(()),
                _ => Err(format!("weight shown: {:?}", s.weight)),
            }
        },
    )
    .await;
    // Start-up reads: the follower's snapshot reads its open orders and algo orders; the
    // leader's does not.
    let rows = sim
        .admin(reqwest::Method::GET, "/admin/v1/requests", None)
        .await
        .ok("request counts");
    let rows = rows["requests"].as_array().cloned().unwrap_or_default();
    let count = |path: &str, id: &str| -> u64 {
        rows.iter()
            .filter(|r| r["method"] == "GET" && r["path"] == path && r["accountId"] == id)
            .map(|r| r["count"].as_u64().unwrap_or(0))
            .sum()
    };
    for path in ["/fapi/v1/openOrders", "/fapi/v1/openAlgoOrders"] {
        assert_eq!(
            count(path, &lead.account_id),
            0,
            "the leader's {path}: {rows:?}"
        );
        assert!(
            count(path, &me.account_id) >= 1,
            "the follower's {path}: {rows:?}"
        );
    }
    assert!(count("/fapi/v3/positionRisk", &lead.account_id) >= 1);
    handle.shutdown().await;
    let s = copydesk::api::status_read_only(dir.path()).expect("status");
    assert!(
        s.weight.is_empty(),
        "a stopped engine's weight is not shown: {:?}",
        s.weight
    );
}
