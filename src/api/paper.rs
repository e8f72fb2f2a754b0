//! Paper mode: the embedded simulator (random loopback port, its own admin token) with demo
//! leaders and a funded paper account. Paper keys live only in memory here, never in the
//! keychain; the venue factory (`venue`) routes accounts whose endpoint is `paper` to this
//! simulator. Paper accounts are stored like any other account (endpoint `paper`), so paper
//! copies sit beside real ones and are always labelled.
//!
//! Paper state lasts across restarts: [`restore_hook`] names the simulator's state file in
//! the data directory (`paper/sim-state.json`), so the simulator restores its accounts,
//! keys, balances, positions, orders and demo leaders from it (and saves to it once a
//! second when something changed, and at its shutdown); the funded paper account is found
//! again by its label before a new one is made; [`save_hook`] saves at the app's shutdown.
//! A state file that cannot be read refuses paper mode with a storage error naming the
//! file and the fix, never a silent fresh simulator.

use std::collections::HashMap;
use std::path::Path;

use rust_decimal::Decimal;

use crate::exchange::Credentials;
use crate::sim::{
    state_path, DemoLeader, NewAccount, SimConfig, SimHandle, SimStateError, Simulator,
};
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
    /// Price feeds by the endpoint of the venue they follow (paper copies of a leader on
    /// another venue, `paper_feed`).
    pub feeds: HashMap<String, super::paper_feed::PriceFeed>,
}

/// A demo leader's account name: `demo-<style>`.
pub fn demo_account(l: &DemoLeader) -> String {
    format!("demo-{}", l.style.as_str())
}

/// Paper state in the data directory: the simulator restores from (and saves to) its
/// state file there.
fn restore_hook(dir: &Path, config: SimConfig) -> SimConfig {
    SimConfig {
        state_file: Some(state_path(dir)),
        ..config
    }
}

/// Saves the simulator's paper state into its state file now (blocking file I/O, a
/// fraction of a second; called once at shutdown).
pub(crate) fn save_hook(sim: &PaperSim) -> Result<(), ApiError> {
    sim.handle
        .save()
        .map_err(|e| ApiError::new(ErrorCode::Storage, format!("paper state not saved: {e}")))
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
        // Saved paper state that cannot be read is the user's data: a storage error that
        // names the file and the fix.
        if e.get_ref()
            .is_some_and(|i| i.downcast_ref::<SimStateError>().is_some())
        {
            return ApiError::new(ErrorCode::Storage, e.to_string());
        }
        ApiError::new(
            ErrorCode::Internal,
            format!("cannot start the paper-mode simulator on loopback: {e}"),
        )
    })?;
    // The restored paper account keeps its balance and positions; a new one only when
    // there is none yet.
    let paper = match handle.account_by_label(PAPER_ACCOUNT) {
        Some(k) => k,
        None => handle.create_account(NewAccount {
            label: PAPER_ACCOUNT.into(),
            ..NewAccount::usdt(Decimal::from(PAPER_USDT))
        }),
    };
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
    Ok(PaperSim {
        handle,
        keys,
        demo,
        feeds: HashMap::new(),
    })
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
