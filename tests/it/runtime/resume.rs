//! The engine's own clock jumps (the machine slept): with the clock injected into an
//! in-process runtime, a jump triggers a reconciliation that is announced, and copying
//! goes on afterwards.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use copydesk::exchange::{BoxFuture, Clock, Credentials, SystemClock};
use copydesk::runtime::config::{CopyConfig, EngineConfig, RunConfig};
use copydesk::runtime::{start_keys, EngineOptions, KeySource, NotifyKind, RunOptions};
use copydesk::store::DataDir;
use rust_decimal_macros::dec;

use super::in_process::account;
use super::support::{amount, eventually, sim};

/// Wall time plus a jump the test sets.
#[derive(Debug, Default)]
struct JumpClock {
    jump_ms: AtomicI64,
}

impl Clock for JumpClock {
    fn now_ms(&self) -> i64 {
        SystemClock.now_ms() + self.jump_ms.load(Ordering::SeqCst)
    }
    fn sleep(&self, d: Duration) -> BoxFuture<'static, ()> {
        SystemClock.sleep(d)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_clock_jump_reconciles_and_copying_goes_on() {
    let sim = sim().await;
    let base = sim.base();
    let lead = sim.usdt("100000").await;
    let me = sim.usdt("100000").await;
    sim.price("BTCUSDT", "50000").await;
    let mut settings: copydesk::domain::CopySettings =
        toml::from_str("mode = \"fixed-ratio\"\nratio = \"0.1\"").expect("settings");
    settings.risk.max_leverage = 5;
    let config = RunConfig {
        accounts: vec![account("lead", &base), account("me", &base)],
        leaders: Vec::new(),
        copies: vec![CopyConfig {
            name: "sleeper".into(),
            leader: "lead".into(),
            follower: "me".into(),
            settings,
            profit_share_ratio: None,
        }],
        engine: EngineConfig::default(),
    };
    let keys = std::collections::HashMap::from([
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
    let data = DataDir::open(dir.path(), "resume test").expect("data dir");
    let clock = Arc::new(JumpClock::default());
    let opts = RunOptions {
        clock: clock.clone(),
        engine: EngineOptions::default(),
        ..RunOptions::default()
    };
    let handle = start_keys(&config, data, opts, &KeySource::Given(&keys))
        .await
        .expect("runtime starts");
    let mut rx = handle.subscribe();
    let mut wait_for = async |kind: NotifyKind| {
        let guard = tokio::time::timeout(Duration::from_secs(60), async {
            loop {
                match rx.recv().await {
                    Ok(n) if n.kind == kind => return,
                    // Missed notifications under load are fine; keep waiting for the one.
                    Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                    Err(e) => {
                        panic!("notification channel closed while waiting for `{kind}`: {e}")
                    }
                }
            }
        });
        guard
            .await
            .unwrap_or_else(|_| panic!("`{kind}` should be notified within 60 s"));
    };
    wait_for(NotifyKind::Watching).await;
    clock.jump_ms.fetch_add(120_000, Ordering::SeqCst);
    // The start-up pass is notified before `watching` and periodic passes are not, so the
    // next `reconciled` is the one after the jump.
    wait_for(NotifyKind::Reconciled).await;
    lead.market("BTCUSDT", "BUY", "0.5")
        .await
        .ok("leader opens after the resume");
    eventually("copying goes on after the resume", || async {
        let got = amount(&sim, &me.account_id, "BTCUSDT").await;
        (got == dec!(0.050))
            .then_some(())
            .ok_or(format!("holds {got}"))
    })
    .await;
    handle.shutdown().await;
}
