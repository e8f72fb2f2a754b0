//! Paper mode: the embedded simulator (random loopback port, its own admin token) with demo
//! leaders and a funded paper account. Paper keys live only in memory here, never in the
//! keychain; the venue factory (`venue`) routes accounts whose endpoint is `paper` to this
//! simulator. Paper accounts are stored like any other account (endpoint `paper`), so paper
//! copies sit beside real ones and are always labelled.
//!
//! Saving and restoring the simulator's state in the data directory is the job of
//! [`restore_hook`] and [`save_hook`]: until the simulator has a save/restore API they do
//! nothing, so each start is a fresh simulator (new balances, no positions).

use std::collections::HashMap;
use std::path::Path;

use rust_decimal::Decimal;

use crate::exchange::Credentials;
use crate::sim::{DemoLeader, NewAccount, SimConfig, SimHandle, Simulator};
use crate::store::Store;

use super::dto::PaperDto;
use super::{ApiError, ErrorCode};

/// The endpoint stored for paper accounts.
pub const PAPER_ENDPOINT: &str = "paper";
/// The funded paper follower's account name.
pub const PAPER_ACCOUNT: &str = "paper";
/// The paper follower's starting balance, in USDT.
pub const PAPER_USDT: i64 = 10_000;
/// Demo leaders the embedded simulator runs (one of each style).
pub const DEMO_LEADERS: usize = 4;

/// How paper mode starts.
#[derive(Debug, Clone)]
pub struct PaperOptions {
    /// Start the embedded simulator at open.
    pub start: bool,
    /// The simulator's admin token (tests drive the simulator through its admin API);
    /// random when `None`.
    pub admin_token: Option<String>,
    /// How many times faster than their live pace the demo leaders trade.
    pub demo_speed: u32,
}

impl Default for PaperOptions {
    fn default() -> Self {
        Self {
            start: true,
            admin_token: None,
            demo_speed: 1,
        }
    }
}

/// The running embedded simulator and the keys of its accounts.
#[derive(Debug)]
pub(crate) struct PaperSim {
    pub handle: SimHandle,
    /// Account name → keys, for the paper account and the demo leaders.
    pub keys: HashMap<String, Credentials>,
    /// Demo leaders by account name.
    pub demo: Vec<(String, DemoLeader)>,
}

/// A demo leader's account name: `demo-<style>`.
pub fn demo_account(l: &DemoLeader) -> String {
    format!("demo-{}", l.style.as_str())
}

/// Hook for restoring saved paper state from the data directory into the simulator's
/// config (the simulator's state file). A no-op until the simulator can restore state.
fn restore_hook(_dir: &Path, config: SimConfig) -> SimConfig {
    config
}

/// Hook for saving the simulator's paper state into the data directory at shutdown. A
/// no-op until the simulator can save state.
pub(crate) fn save_hook(_dir: &Path, _sim: &PaperSim) -> Result<(), ApiError> {
    Ok(())
}

/// Starts the simulator with demo leaders and a funded paper account.
pub(crate) async fn start_sim(dir: &Path, opts: &PaperOptions) -> Result<PaperSim, ApiError> {
    let mut config = SimConfig {
        demo_leaders: DEMO_LEADERS,
        demo_speed: opts.demo_speed.max(1),
        ..SimConfig::embedded()
    };
    if let Some(t) = &opts.admin_token {
        config.admin_token = Some(t.clone());
    }
    let config = restore_hook(dir, config);
    let handle = Simulator::start(config).await.map_err(|e| {
        ApiError::new(
            ErrorCode::Internal,
            format!("cannot start the paper-mode simulator on loopback: {e}"),
        )
    })?;
    let paper = handle.create_account(NewAccount {
        label: PAPER_ACCOUNT.into(),
        ..NewAccount::usdt(Decimal::from(PAPER_USDT))
    });
    let mut keys = HashMap::from([(
        PAPER_ACCOUNT.to_owned(),
        Credentials::new(paper.api_key.clone(), paper.secret_key.clone()),
    )]);
    let mut demo = Vec::new();
    for l in handle.demo_leaders() {
        let name = demo_account(&l);
        keys.insert(
            name.clone(),
            Credentials::new(l.api_key.clone(), l.secret_key.clone()),
        );
        demo.push((name, l));
    }
    Ok(PaperSim { handle, keys, demo })
}

/// Records the simulator's accounts in the database (endpoint `paper`, no key hint).
pub(crate) fn record_accounts(store: &Store, sim: &PaperSim, now: i64) -> Result<(), ApiError> {
    let accounts = store.accounts();
    for name in sim.keys.keys() {
        accounts.upsert(name, Some("binance-usdm"), Some(PAPER_ENDPOINT), now)?;
    }
    Ok(())
}

impl PaperSim {
    /// What the app shows about paper mode.
    pub fn dto(&self, balance: Option<Decimal>) -> PaperDto {
        PaperDto {
            running: true,
            endpoint: Some(self.handle.base_url()),
            account: Some(PAPER_ACCOUNT.into()),
            balance: balance.map(|b| b.round_dp(2).normalize().to_string()),
        }
    }
}
