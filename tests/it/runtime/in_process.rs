//! Set-up of engines run inside the test's process (`start_keys`), for tests that need the
//! runtime handle itself (its store, its notifications, `shutdown`): config entries whose
//! keys are given directly, a one-copy config, the keys of simulator clients, and waiting
//! until copies watch their leaders.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use copydesk::exchange::Credentials;
use copydesk::runtime::config::{AccountConfig, CopyConfig, EngineConfig, RunConfig};
use copydesk::runtime::{start_keys, KeySource, NotifyKind, RunOptions, RuntimeHandle};
use copydesk::secrets::SecretSource;
use copydesk::store::DataDir;

use super::support::Client;

/// An account entry of an in-process run: its key is given with the run's keys, so the
/// sources named here are never read.
pub fn account(name: &str, base: &str) -> AccountConfig {
    AccountConfig {
        name: name.into(),
        exchange: "binance-usdm".into(),
        endpoint: base.into(),
        api_key: SecretSource::Env("UNUSED".into()),
        api_secret: SecretSource::Env("UNUSED".into()),
        api_passphrase: None,
    }
}

/// Accounts `lead` and `me` on `base`, and one copy `name` of `lead` onto `me` with the
/// settings written in TOML.
pub fn one_copy(base: &str, name: &str, settings: &str) -> RunConfig {
    RunConfig {
        accounts: vec![account("lead", base), account("me", base)],
        leaders: Vec::new(),
        copies: vec![CopyConfig {
            name: name.into(),
            leader: "lead".into(),
            follower: "me".into(),
            settings: toml::from_str(settings).expect("copy settings"),
            profit_share_ratio: None,
        }],
        engine: EngineConfig::default(),
    }
}

/// The keys of simulator accounts, by the account names a config gives them.
pub fn keys(clients: &[(&str, &Client)]) -> HashMap<String, Credentials> {
    clients
        .iter()
        .map(|(name, c)| {
            (
                (*name).to_owned(),
                Credentials::new(c.key.clone(), c.secret.clone()),
            )
        })
        .collect()
}

/// Starts an engine on the data directory `dir` (locked for `program`).
pub async fn start(
    config: &RunConfig,
    dir: &Path,
    program: &str,
    opts: RunOptions,
    keys: &HashMap<String, Credentials>,
) -> RuntimeHandle {
    let data = DataDir::open(dir, program).expect("data dir");
    start_keys(config, data, opts, &KeySource::Given(keys))
        .await
        .expect("the engine starts")
}

/// Waits until `copies` copies report that they watch their leaders (a minute at most).
pub async fn watching(handle: &RuntimeHandle, copies: usize) {
    let mut rx = handle.subscribe();
    let mut seen = 0;
    while seen < copies {
        let n = tokio::time::timeout(Duration::from_secs(60), rx.recv())
            .await
            .expect("the copies start within 60 s")
            .expect("notification");
        if n.kind == NotifyKind::Watching {
            seen += 1;
        }
    }
}
