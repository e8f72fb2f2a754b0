//! `copydesk demo`: paper mode with no account and no key. It starts the simulator
//! in-process (random loopback port, admin token) with demo leaders trading faster than
//! their live pace, funds a paper follower, starts a Smart Sync copy of the scalper demo
//! leader in a throwaway data directory, and prints fills, skips and the follower's
//! figures until Ctrl-C.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use rust_decimal::Decimal;

use crate::domain::{CopyMode, CopySettings, Preset, RiskSettings, StartActions};
use crate::exchange::{Credentials, VenueOptions, VenueRequest};
use crate::secrets::SecretSource;
use crate::sim::{NewAccount, SimConfig, Simulator, Style};
use crate::store::DataDir;

use super::config::{AccountConfig, CopyConfig, EngineConfig, RunConfig};
use super::{cli, start_keys, KeySource, RunOptions};

/// How much faster than their normal pace the demo leaders trade (the scalper then acts
/// every 5 seconds instead of every 30).
const DEMO_SPEED: u32 = 6;
/// The paper follower's starting balance, in USDT.
const PAPER_USDT: i64 = 10_000;
/// The demo copy's investment, in USDT.
const INVESTMENT: i64 = 1_000;

#[allow(clippy::print_stdout)]
fn out(s: &str) {
    println!("{s}");
}

fn account(name: &str, endpoint: &str) -> AccountConfig {
    // Never resolved: the demo hands its simulator keys over in memory.
    let unused = SecretSource::Env("COPYDESK_DEMO_UNUSED".into());
    AccountConfig {
        name: name.to_owned(),
        exchange: "binance-usdm".into(),
        endpoint: endpoint.to_owned(),
        api_key: unused.clone(),
        api_secret: unused,
        api_passphrase: None,
    }
}

/// A throwaway data directory, so paper copies never mix with real ones.
fn scratch_dir() -> PathBuf {
    std::env::temp_dir().join(format!("copydesk-demo-{}", std::process::id()))
}

/// Runs the demo until Ctrl-C.
pub fn run() -> Result<String, String> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    let dir = scratch_dir();
    let result = rt.block_on(demo(dir.clone()));
    // The scratch directory holds only paper state; a leftover is harmless.
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn demo(dir: PathBuf) -> Result<String, String> {
    let sim = Simulator::start(SimConfig {
        demo_leaders: 4,
        demo_speed: DEMO_SPEED,
        ..SimConfig::embedded()
    })
    .await
    .map_err(|e| format!("cannot start the simulator: {e}"))?;
    let leader = sim
        .demo_leaders()
        .into_iter()
        .find(|l| l.style == Style::Scalper)
        .ok_or("the simulator started without a scalper demo leader")?;
    let paper = sim.create_account(NewAccount::usdt(Decimal::from(PAPER_USDT)));
    let base = sim.base_url();
    let config = RunConfig {
        accounts: vec![account("demo-leader", &base), account("paper", &base)],
        copies: vec![CopyConfig {
            name: "demo".into(),
            leader: "demo-leader".into(),
            follower: "paper".into(),
            settings: CopySettings {
                mode: CopyMode::SmartSync,
                investment: Some(Decimal::from(INVESTMENT)),
                amount_per_order: None,
                ratio: None,
                copy_ongoing_positions: false,
                preset: Preset::None,
                start: StartActions::default(),
                risk: RiskSettings::default(),
            },
        }],
        engine: EngineConfig::default(),
    };
    let keys: HashMap<String, Credentials> = HashMap::from([
        (
            "demo-leader".to_owned(),
            Credentials::new(leader.api_key.clone(), leader.secret_key.clone()),
        ),
        (
            "paper".to_owned(),
            Credentials::new(paper.api_key.clone(), paper.secret_key.clone()),
        ),
    ]);
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let data = DataDir::open(&dir, "copydesk demo").map_err(|e| e.to_string())?;
    out(&format!(
        "demo: paper follower with {PAPER_USDT} USDT copies {} (Smart Sync, investment {INVESTMENT} USDT) on an in-process simulator at {base}; Ctrl-C stops",
        leader.label
    ));
    let opts = RunOptions::default();
    let follower = opts
        .venues
        .connect(VenueRequest {
            account: "paper",
            exchange: "binance-usdm",
            endpoint: &base,
            credentials: keys.get("paper").cloned(),
            options: VenueOptions::default(),
        })
        .map_err(|e| e.to_string())?;
    let handle = start_keys(&config, data, opts, &KeySource::Given(&keys))
        .await
        .map_err(|e| e.to_string())?;
    let mut rx = handle.subscribe();
    let mut figures = tokio::time::interval(Duration::from_secs(10));
    let stop = cli::interrupted();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => break,
            n = rx.recv() => match n {
                Ok(n) => out(&cli::line(&n)),
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(_) => break,
            },
            _ = figures.tick() => {
                if let Ok(s) = follower.account().await {
                    let upnl: Decimal = s.positions.iter().map(|p| p.unrealized_pnl).sum();
                    let held: Vec<String> = s
                        .positions
                        .iter()
                        .map(|p| format!("{} {}", p.signed_quantity, p.symbol))
                        .collect();
                    out(&format!(
                        "figures demo: paper equity {} USDT (start {PAPER_USDT}), unrealized {}, positions: {}",
                        s.equity.round_dp(2),
                        upnl.round_dp(2),
                        if held.is_empty() { "none".to_owned() } else { held.join(", ") }
                    ));
                }
            }
        }
    }
    handle.shutdown().await;
    sim.shutdown().await;
    Ok("demo stopped".to_owned())
}
