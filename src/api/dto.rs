//! The DTOs that cross IPC and the CLI's `--json`: camelCase, decimals as strings, times as
//! milliseconds since the epoch in fields ending in `Ms`. Every one derives ts-rs and is
//! exported by `ts_bindings`. The contract is `FACADE.md`; changing a name here changes
//! what the UI codes against.

use serde::{Deserialize, Serialize};

#[cfg(test)]
use ts_rs::TS;

/// What the app shows in its title and about box.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct AppInfo {
    pub name: String,
    pub version: String,
    /// `paper` until the user connects a real account, then `live`.
    pub mode: String,
    pub data_dir: String,
    pub paper: PaperDto,
}

/// The embedded simulator of paper mode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct PaperDto {
    pub running: bool,
    /// The simulator's loopback URL.
    pub endpoint: Option<String>,
    /// The funded paper account's name.
    pub account: Option<String>,
    /// Its USDT balance.
    pub balance: Option<String>,
}

/// Where an account lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    Paper,
    Demo,
    Mainnet,
    Custom,
}

/// An exchange account, never with its key or secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct AccountDto {
    pub name: String,
    pub exchange: String,
    pub environment: Environment,
    /// The URL of a custom endpoint.
    pub endpoint: Option<String>,
    /// `abcd…wxyz`, when a key is stored.
    pub key_hint: Option<String>,
    pub paper: bool,
    #[cfg_attr(test, ts(type = "number"))]
    pub created_at_ms: i64,
}

/// A new account with its key. `Debug` hides the key material.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct NewAccountRequest {
    pub name: String,
    pub exchange: String,
    pub environment: Environment,
    /// Required for `custom`: the base URL.
    pub endpoint: Option<String>,
    pub api_key: String,
    pub api_secret: String,
    pub passphrase: Option<String>,
}

impl std::fmt::Debug for NewAccountRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewAccountRequest")
            .field("name", &self.name)
            .field("exchange", &self.exchange)
            .field("environment", &self.environment)
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

/// Which property of a key a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub enum KeyCheckKind {
    Valid,
    Futures,
    Trade,
    Withdrawals,
    IpRestriction,
    Expiry,
    Balances,
    PositionMode,
}

/// The verdict of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "lowercase")]
pub enum FindingStatus {
    Pass,
    Warn,
    Fail,
    Unknown,
}

/// One finding of a key check, with what to change on the exchange.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct KeyFindingDto {
    pub check: KeyCheckKind,
    pub status: FindingStatus,
    pub message: String,
    pub fix: Option<String>,
}

/// One asset's balance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct BalanceDto {
    pub asset: String,
    pub wallet: String,
    pub available: String,
}

/// A live check of an account's key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct KeyCheckDto {
    pub account: String,
    pub ok: bool,
    pub findings: Vec<KeyFindingDto>,
    pub balances: Vec<BalanceDto>,
    /// The account's position mode, when the account could be read.
    pub position_mode: Option<PositionModeDto>,
    /// The position mode the check offers to switch to (copy-rules §1.1: a hedge-mode
    /// leader needs a hedge-mode follower, so a one-way account is offered hedge), if any.
    pub switch_position_mode: Option<PositionModeDto>,
}

/// An account leader added from its key: the key check (as a leader key) and, when it
/// passed, the new leader's id. Nothing is stored when the check failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct LeaderAddedDto {
    pub check: KeyCheckDto,
    pub leader_id: Option<String>,
}

/// An account's position mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "kebab-case")]
pub enum PositionModeDto {
    OneWay,
    Hedge,
}

impl From<crate::domain::PositionMode> for PositionModeDto {
    fn from(m: crate::domain::PositionMode) -> Self {
        match m {
            crate::domain::PositionMode::OneWay => Self::OneWay,
            crate::domain::PositionMode::Hedge => Self::Hedge,
        }
    }
}

impl From<PositionModeDto> for crate::domain::PositionMode {
    fn from(m: PositionModeDto) -> Self {
        match m {
            PositionModeDto::OneWay => Self::OneWay,
            PositionModeDto::Hedge => Self::Hedge,
        }
    }
}

/// Leader figures over one window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct FiguresDto {
    pub days: u32,
    pub roi: Option<String>,
    pub pnl: Option<String>,
    pub max_drawdown: Option<String>,
    pub sharpe: Option<String>,
    pub sortino: Option<String>,
    pub win_rate: Option<String>,
    pub trades: u32,
    /// Average hold time of the window's closed trades, in ms.
    #[cfg_attr(test, ts(type = "number | null"))]
    pub avg_hold_ms: Option<i64>,
    /// Average and largest effective leverage of the window's trades (docs/figures.md).
    pub avg_leverage: Option<String>,
    pub max_leverage: Option<String>,
    pub trades_per_day: String,
    /// The most traded symbol and its share of the window's trades, percent.
    pub top_symbol: Option<String>,
    pub top_symbol_share: Option<String>,
}

/// Where a leader comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "lowercase")]
pub enum LeaderSourceDto {
    Demo,
    Account,
    Portfolio,
}

/// A leader in the list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct LeaderDto {
    pub id: String,
    pub name: String,
    pub source: LeaderSourceDto,
    pub style: Option<String>,
    pub figures: Vec<FiguresDto>,
    pub copyable: bool,
    pub not_copyable_reason: Option<String>,
    /// E.g. `~2 ms, stream`.
    pub expected_delay: String,
    pub equity: Option<String>,
    /// The leader's history is still being read: its figures follow (list it again).
    pub figures_pending: bool,
    /// For a public portfolio: how its poll interval (the copy delay) is set, e.g. "polled
    /// every 4.1 s: about 20 requests a minute per address, shared by every public leader
    /// followed". Absent for streamed leaders.
    #[cfg_attr(test, ts(optional))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_note: Option<String>,
}

/// One point of an equity curve.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct EquityPointDto {
    #[cfg_attr(test, ts(type = "number"))]
    pub ts_ms: i64,
    pub value: String,
}

/// A leader's open position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct LeaderPositionDto {
    pub symbol: String,
    pub side: String,
    pub qty: String,
    pub entry_price: Option<String>,
    pub leverage: u32,
    pub margin_mode: String,
}

/// A leader with its curve and positions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct LeaderDetailDto {
    pub leader: LeaderDto,
    pub equity_curve: Vec<EquityPointDto>,
    pub positions: Vec<LeaderPositionDto>,
}

/// Sizing mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "kebab-case")]
pub enum CopyModeDto {
    SmartSync,
    FixedAmount,
    FixedRatio,
}

/// A named bundle of settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "kebab-case")]
pub enum PresetDto {
    None,
    StrictMirror,
}

/// What a stop does with the copy's positions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "kebab-case")]
pub enum StopActionDto {
    CloseAll,
    Keep,
}

/// What an open past the slippage cap does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "kebab-case")]
pub enum SlippageActionDto {
    Skip,
    IocLimit,
}

/// Start actions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct StartActionsDto {
    pub clean_slate: bool,
    pub reset_figures: bool,
    pub single_asset_mode: bool,
}

/// How a total stop loss is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "lowercase")]
pub enum StopLossKind {
    Percent,
    Amount,
}

/// A total stop loss.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct TotalStopLossDto {
    pub kind: StopLossKind,
    pub value: String,
}

/// Risk limits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct RiskDto {
    pub max_leverage: u32,
    pub allowed_quote_assets: Vec<String>,
    pub symbol_allowlist: Vec<String>,
    pub symbol_blocklist: Vec<String>,
    pub max_position_notional: Option<String>,
    pub max_slippage_pct: Option<String>,
    pub slippage_action: SlippageActionDto,
    #[cfg_attr(test, ts(type = "number"))]
    pub max_signal_age_secs: u64,
    pub total_stop_loss: Option<TotalStopLossDto>,
    pub take_profit_total: Option<String>,
    pub stop_action: StopActionDto,
    pub offline_protection: bool,
    pub close_independent_trades: bool,
    pub max_follower_account_value: Option<String>,
}

/// Everything the user chose for one copy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct CopySettingsDto {
    pub mode: CopyModeDto,
    pub investment: Option<String>,
    pub amount_per_order: Option<String>,
    pub ratio: Option<String>,
    pub copy_ongoing_positions: bool,
    pub preset: PresetDto,
    pub start: StartActionsDto,
    pub risk: RiskDto,
    /// The profit-share ratio to start the copy with (copy-rules §7), optional: above 0
    /// and at most 0.3; absent or empty: off. Checked with the settings (its field is
    /// `profitShareRatio`) and stored beside them by `create_copy`; a copy's settings as
    /// read back leave it out (its ratio is `profit_share`'s, changed by
    /// `profit_share_set`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(test, ts(optional))]
    pub profit_share_ratio: Option<String>,
}

/// A sizing preview request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct PreviewRequest {
    pub leader: String,
    pub follower: String,
    pub settings: CopySettingsDto,
}

/// The leader's last open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct LastOpenDto {
    pub symbol: String,
    pub qty: String,
    pub price: String,
    pub leverage: u32,
    /// Margin of the open as a percentage of the leader's equity.
    pub margin_pct: Option<String>,
}

/// What the settings would do with the leader's recent opens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct PreviewDto {
    pub last_open: Option<LastOpenDto>,
    pub follower_qty: Option<String>,
    pub sentence: String,
    pub considered_opens: u32,
    pub skipped_below_min: u32,
    /// The follower's open positions now (for start-action sentences), when it could be read.
    pub follower_open_positions: Option<u32>,
    /// The follower's open orders now, conditional ones included, when it could be read.
    pub follower_open_orders: Option<u32>,
}

/// A new copy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct NewCopyRequest {
    pub name: String,
    /// A leader id from `leaders()`.
    pub leader: String,
    /// The follower account's name.
    pub follower: String,
    pub settings: CopySettingsDto,
}

/// New amounts for a running copy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct ModifyRequest {
    pub settings: CopySettingsDto,
}

/// A copy's state as the user sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "lowercase")]
pub enum CopyStateDto {
    Running,
    Paused,
    Held,
    Stopping,
    Stopped,
}

/// An engine hold on a copy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct HoldDto {
    pub kind: HoldKind,
    pub reason: String,
}

/// One copy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct CopyDto {
    pub name: String,
    pub leader: String,
    pub follower: String,
    pub paper: bool,
    pub settings: CopySettingsDto,
    pub state: CopyStateDto,
    pub reason: Option<String>,
    pub holds: Vec<HoldDto>,
    #[cfg_attr(test, ts(type = "number | null"))]
    pub t0_ms: Option<i64>,
}

/// A copied position, leader beside follower.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct PositionDto {
    pub symbol: String,
    pub side: String,
    pub leader_qty: String,
    pub follower_qty: String,
    /// Follower quantity per leader quantity (`k`).
    pub ratio: String,
    pub entry_price: Option<String>,
    pub margin: String,
    pub leverage: u32,
    pub stop_price: Option<String>,
    pub stop_confirmed: bool,
    pub drift: Option<String>,
}

/// A copy's figures.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct CopyFiguresDto {
    pub realized_pnl: Option<String>,
    pub unrealized_pnl: Option<String>,
    pub fees: Option<String>,
    pub funding: Option<String>,
    pub roi: Option<String>,
    pub max_drawdown: Option<String>,
}

/// One decision of the engine, with its reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct DecisionDto {
    #[cfg_attr(test, ts(type = "number"))]
    pub ts_ms: i64,
    /// The engine's action (`place-order`, `set-leverage`, `place-protective-stop`, …), or
    /// `skip` for a leader change the engine did not copy (its reason in `notice`).
    pub kind: String,
    pub symbol: Option<String>,
    pub reason: String,
    /// The engine's typed reason for a `skip` or a `notice`, else `null`.
    pub notice: Option<crate::engine::NoticeKind>,
}

/// One follower fill.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct FillDto {
    #[cfg_attr(test, ts(type = "number"))]
    pub ts_ms: i64,
    pub symbol: String,
    pub side: String,
    pub qty: String,
    pub price: String,
    #[cfg_attr(test, ts(type = "number | null"))]
    pub delay_ms: Option<i64>,
    pub slippage_pct: Option<String>,
}

/// One copy with everything the status screen shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct CopyStatusDto {
    pub copy: CopyDto,
    pub figures: CopyFiguresDto,
    pub positions: Vec<PositionDto>,
    pub decisions: Vec<DecisionDto>,
    pub fills: Vec<FillDto>,
    pub orders_journaled: u32,
    /// Where the time went for the copy's recent orders; `null` before the first.
    pub latency: Option<LatencyDto>,
    /// How many decimals the follower venue's symbols carry (empty when no engine has
    /// read the venue's rules, e.g. a read-only status: show the strings as they are).
    pub precision: Vec<SymbolPrecisionDto>,
    /// Orders whose outcome is unknown (the venue's answer was lost and a lookup has not
    /// found them yet); the engine looks each up at every reconciliation until resolved.
    pub unknown_orders: Vec<UnknownOrderDto>,
}

/// How many decimals a symbol's prices and quantities carry on the follower's venue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct SymbolPrecisionDto {
    pub symbol: String,
    pub price_dp: u32,
    pub qty_dp: u32,
}

/// A copy's PnL over time (realized − fees + funding + unrealized at mark), one point per
/// stored figure point since the figures' baseline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct CopyPnlDto {
    pub copy: String,
    pub points: Vec<EquityPointDto>,
}

/// One copy's decisions and fills for the Activity screen, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct CopyActivityDto {
    pub copy: String,
    pub decisions: Vec<DecisionDto>,
    pub fills: Vec<FillDto>,
}

/// An order of the copy whose outcome is not known yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct UnknownOrderDto {
    pub client_order_id: String,
    pub symbol: String,
    /// `buy` or `sell`.
    pub side: String,
    pub qty: String,
    /// When its outcome became unknown (local ms).
    #[cfg_attr(test, ts(type = "number"))]
    pub since_ms: i64,
}

/// Latency of a copy's last (up to) 100 copied orders, from their recorded timestamps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct LatencyDto {
    pub orders: u32,
    /// Leader event read → order handed to the venue's HTTP client, in µs.
    #[cfg_attr(test, ts(type = "number"))]
    pub engine_p50_us: i64,
    #[cfg_attr(test, ts(type = "number"))]
    pub engine_max_us: i64,
    /// Leader fill → follower fill on the venue's clock, in ms.
    #[cfg_attr(test, ts(type = "number | null"))]
    pub fill_delay_p50_ms: Option<i64>,
    #[cfg_attr(test, ts(type = "number | null"))]
    pub fill_delay_max_ms: Option<i64>,
}

/// Request weight used of a venue's budget.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct WeightDto {
    pub venue: String,
    pub used: u32,
    pub limit: u32,
    /// Requests of the copies the budget made wait since the engine started, and the
    /// longest of those waits (a wait over a second is also a notification).
    #[cfg_attr(test, ts(type = "number"))]
    pub waits: u64,
    #[cfg_attr(test, ts(type = "number"))]
    pub longest_wait_ms: u64,
}

/// Everything `status` shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct StatusDto {
    pub copies: Vec<CopyStatusDto>,
    pub recent: Vec<EventDto>,
    pub weight: Vec<WeightDto>,
}

/// How loud an event is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "lowercase")]
pub enum EventLevel {
    Info,
    Warning,
    Error,
}

/// What an event is about: the runtime's typed kind (`rejected` is the venue refusing one
/// of our orders; `notice` is an engine notice that is not a skip).
pub use crate::runtime::NotifyKind as EventKind;

/// Why the engine holds a copy (the runtime's typed kind).
pub use crate::runtime::hold::HoldKind;

/// One event: a notification or a state change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct EventDto {
    #[cfg_attr(test, ts(type = "number"))]
    pub ts_ms: i64,
    pub copy: Option<String>,
    pub level: EventLevel,
    pub kind: EventKind,
    /// The engine's reason for a `skip` or a `notice` (e.g. `held-by-other-copy`), else
    /// `null`.
    pub notice: Option<crate::engine::NoticeKind>,
    pub message: String,
    /// Typed facts of a fill (symbol, side, quantity, price) or a stop (its cause);
    /// absent for the other kinds.
    #[cfg_attr(test, ts(optional))]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<crate::runtime::notify::NotifyDetail>,
}

/// What `export` wrote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct ExportDto {
    pub dir: String,
    pub files: Vec<String>,
    pub copies: u32,
    pub fills: u32,
    pub figures: u32,
}

/// A copied position that no confirmed exchange-side stop guards, and why: what the quit
/// dialog lists before the user suspends copying.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct UnguardedDto {
    pub copy: String,
    pub symbol: String,
    pub side: String,
    pub qty: String,
    pub why: String,
}

/// Where a typed-in public lead portfolio is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "lowercase")]
pub enum PortfolioSourceDto {
    /// Binance's copy-trading pages.
    Binance,
    /// Another base URL serving the same pages (a simulator, a proxy): needs `endpoint`.
    Custom,
}

/// A public lead portfolio the user typed in: its id, or the address of its page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct FindPortfolioRequest {
    pub source: PortfolioSourceDto,
    /// Required for `custom`: the base URL.
    pub endpoint: Option<String>,
    /// The portfolio id (digits), or its page's address ending in `/lead-details/<id>`.
    pub portfolio: String,
}
