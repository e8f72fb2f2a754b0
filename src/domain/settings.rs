//! Copy settings: the sizing mode with its amount, start actions and risk limits of one
//! copy, as the user writes them in a config file or the setup wizard, and their
//! validation. Every refusal names the field and says how to fix it. Decimals are read
//! as strings or integers, never floats.

use std::fmt;

use rust_decimal::Decimal;
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::decimal::{self, parse_decimal};
use super::num::Asset;
use super::trading::PositionMode;

/// Smallest Smart Sync investment, in USDT.
pub const MIN_SMART_SYNC_INVESTMENT: Decimal = Decimal::ONE_HUNDRED;

/// How a copy sizes the follower's positions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CopyMode {
    /// Proportional to the leader's allocation, from a reserved investment.
    SmartSync,
    /// A fixed USDT margin per copied leader position.
    FixedAmount,
    /// Follower quantity = leader quantity × ratio.
    FixedRatio,
}

/// A named bundle of settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Preset {
    #[default]
    None,
    /// Clean slate, reset figures, single-asset mode, fixed amount, max leverage 5,
    /// USDT/USDC only, independent trades closed.
    StrictMirror,
}

/// What happens to the copy's open positions when it stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StopAction {
    /// Close every copied position at market, reduce-only.
    #[default]
    CloseAll,
    /// Leave them open and stop managing them.
    Keep,
}

/// What an open or increase does when the price moved past the slippage cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SlippageAction {
    #[default]
    Skip,
    /// Send an immediate-or-cancel limit order at the cap price.
    IocLimit,
}

/// A total stop loss: an amount of USDT, or a percentage of the investment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TotalStopLoss {
    Amount(Decimal),
    PercentOfInvestment(Decimal),
}

impl TotalStopLoss {
    /// The loss, in USDT, at which the copy stops.
    pub fn amount(self, investment: Option<Decimal>) -> Option<Decimal> {
        match self {
            TotalStopLoss::Amount(a) => Some(a),
            TotalStopLoss::PercentOfInvestment(p) => {
                investment.map(|inv| inv * p / Decimal::ONE_HUNDRED)
            }
        }
    }
}

impl fmt::Display for TotalStopLoss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TotalStopLoss::Amount(a) => write!(f, "{a}"),
            TotalStopLoss::PercentOfInvestment(p) => write!(f, "{p}%"),
        }
    }
}

impl Serialize for TotalStopLoss {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TotalStopLoss {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(StopLossVisitor)
    }
}

struct StopLossVisitor;

impl Visitor<'_> for StopLossVisitor {
    type Value = TotalStopLoss;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an amount like \"200\" or a percentage like \"20%\"")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<TotalStopLoss, E> {
        match v.trim().strip_suffix('%') {
            Some(p) => parse_decimal(p)
                .map(TotalStopLoss::PercentOfInvestment)
                .map_err(E::custom),
            None => parse_decimal(v)
                .map(TotalStopLoss::Amount)
                .map_err(E::custom),
        }
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<TotalStopLoss, E> {
        Ok(TotalStopLoss::Amount(Decimal::from(v)))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<TotalStopLoss, E> {
        Ok(TotalStopLoss::Amount(Decimal::from(v)))
    }
}

/// Optional actions at the copy's start; all off unless the preset turns them on.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StartActions {
    /// Close every follower position and cancel every open order, conditional included.
    pub clean_slate: bool,
    /// Start the copy's figures from zero at `t0`.
    pub reset_figures: bool,
    /// Switch the follower to single-asset margin mode.
    pub single_asset_mode: bool,
}

/// The risk gate's limits for one copy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RiskSettings {
    pub max_leverage: u32,
    pub allowed_quote_assets: Vec<Asset>,
    pub symbol_allowlist: Vec<String>,
    pub symbol_blocklist: Vec<String>,
    #[serde(with = "decimal::option")]
    pub max_position_notional: Option<Decimal>,
    /// `None`: 0.5 % on BTC and ETH pairs, 1.5 % on others.
    #[serde(with = "decimal::option")]
    pub max_slippage_pct: Option<Decimal>,
    pub slippage_action: SlippageAction,
    pub max_signal_age_secs: u64,
    pub total_stop_loss: Option<TotalStopLoss>,
    #[serde(with = "decimal::option")]
    pub take_profit_total: Option<Decimal>,
    pub stop_action: StopAction,
    pub offline_protection: bool,
    pub close_independent_trades: bool,
    /// How far the minimum-size bump may raise the margin, as a multiple of the sized one.
    #[serde(with = "decimal")]
    pub min_bump_factor: Decimal,
    #[serde(with = "decimal::option")]
    pub max_follower_account_value: Option<Decimal>,
    #[serde(with = "decimal::option")]
    pub min_leader_account_value: Option<Decimal>,
}

impl Default for RiskSettings {
    fn default() -> Self {
        Self {
            max_leverage: 5,
            allowed_quote_assets: vec![Asset::usdt(), Asset::usdc()],
            symbol_allowlist: Vec::new(),
            symbol_blocklist: Vec::new(),
            max_position_notional: None,
            max_slippage_pct: None,
            slippage_action: SlippageAction::Skip,
            max_signal_age_secs: 60,
            total_stop_loss: None,
            take_profit_total: None,
            stop_action: StopAction::CloseAll,
            offline_protection: true,
            close_independent_trades: false,
            min_bump_factor: Decimal::TWO,
            max_follower_account_value: None,
            min_leader_account_value: None,
        }
    }
}

impl RiskSettings {
    /// The slippage cap in percent for a symbol's base asset.
    pub fn slippage_pct_for(&self, base: &Asset) -> Decimal {
        self.max_slippage_pct.unwrap_or_else(|| {
            if matches!(base.as_str(), "BTC" | "ETH") {
                Decimal::new(5, 1)
            } else {
                Decimal::new(15, 1)
            }
        })
    }
}

/// Everything the user chose for one copy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CopySettings {
    pub mode: CopyMode,
    #[serde(with = "decimal::option", default)]
    pub investment: Option<Decimal>,
    #[serde(with = "decimal::option", default)]
    pub amount_per_order: Option<Decimal>,
    #[serde(with = "decimal::option", default)]
    pub ratio: Option<Decimal>,
    #[serde(default)]
    pub copy_ongoing_positions: bool,
    #[serde(default)]
    pub preset: Preset,
    #[serde(default)]
    pub start: StartActions,
    #[serde(default)]
    pub risk: RiskSettings,
}

/// One refused setting: the field, what is wrong, and the fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{field}`: {problem}; {fix}")]
pub struct SettingsError {
    pub field: &'static str,
    pub problem: String,
    pub fix: String,
}

/// Every refused setting of one copy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"))]
pub struct SettingsErrors(pub Vec<SettingsError>);

impl SettingsErrors {
    /// True when a refusal names `field`.
    pub fn names(&self, field: &str) -> bool {
        self.0.iter().any(|e| e.field == field)
    }
}

fn refuse(
    field: &'static str,
    problem: impl Into<String>,
    fix: impl Into<String>,
) -> SettingsError {
    SettingsError {
        field,
        problem: problem.into(),
        fix: fix.into(),
    }
}

/// What setup has read from both accounts, for the checks that need them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetupContext {
    pub follower_can_trade_futures: bool,
    /// Follower account value (wallet + unrealized PnL) in USDT terms.
    pub follower_account_value: Decimal,
    /// Follower available balance, less what other copies of the account reserve.
    pub follower_free_balance: Decimal,
    pub follower_position_mode: PositionMode,
    pub leader_position_mode: PositionMode,
    /// `None` when the leader source publishes no equity.
    pub leader_account_value: Option<Decimal>,
}

impl CopySettings {
    /// The settings with the preset applied: what the engine actually runs with.
    pub fn effective(&self) -> CopySettings {
        let mut s = self.clone();
        if s.preset == Preset::StrictMirror {
            s.start = StartActions {
                clean_slate: true,
                reset_figures: true,
                single_asset_mode: true,
            };
            s.risk.max_leverage = s.risk.max_leverage.min(5);
            s.risk
                .allowed_quote_assets
                .retain(|a| matches!(a.as_str(), "USDT" | "USDC"));
            s.risk.close_independent_trades = true;
        }
        s
    }

    /// Checks the settings on their own, before any account is read.
    pub fn validate(&self) -> Result<(), SettingsErrors> {
        let mut errs = Vec::new();
        let positive = |v: Option<Decimal>| v.map(|d| d > Decimal::ZERO);
        match self.mode {
            CopyMode::SmartSync => match self.investment {
                None => errs.push(refuse(
                    "investment",
                    "smart-sync needs an investment",
                    "add `investment = \"100\"` or more (USDT reserved for this copy)",
                )),
                Some(v) if v < MIN_SMART_SYNC_INVESTMENT => errs.push(refuse(
                    "investment",
                    format!("{v} is below the smart-sync minimum of 100 USDT"),
                    "set `investment` to at least \"100\"",
                )),
                Some(_) => {}
            },
            CopyMode::FixedAmount => {
                if positive(self.amount_per_order) != Some(true) {
                    errs.push(refuse(
                        "amount_per_order",
                        "fixed-amount needs a positive amount per order",
                        "add `amount_per_order = \"50\"` (USDT margin per copied position)",
                    ));
                }
            }
            CopyMode::FixedRatio => {
                if positive(self.ratio) != Some(true) {
                    errs.push(refuse(
                        "ratio",
                        "fixed-ratio needs a positive ratio",
                        "add `ratio = \"0.1\"` (follower quantity per leader quantity)",
                    ));
                }
            }
        }
        let foreign = [
            ("investment", self.investment, CopyMode::SmartSync),
            (
                "amount_per_order",
                self.amount_per_order,
                CopyMode::FixedAmount,
            ),
            ("ratio", self.ratio, CopyMode::FixedRatio),
        ];
        for (field, value, owner) in foreign {
            if value.is_some() && owner != self.mode {
                errs.push(refuse(
                    field,
                    format!("`{field}` is not used by mode {:?}", self.mode),
                    format!("remove `{field}`, or set the mode that uses it"),
                ));
            }
        }
        if self.preset == Preset::StrictMirror && self.mode != CopyMode::FixedAmount {
            errs.push(refuse(
                "preset",
                "strict-mirror copies with a fixed amount per order",
                "set `mode = \"fixed-amount\"` with `amount_per_order`, or `preset = \"none\"`",
            ));
        }
        let r = &self.risk;
        if !(1..=125).contains(&r.max_leverage) {
            errs.push(refuse(
                "risk.max_leverage",
                format!("{} is outside 1–125", r.max_leverage),
                "set `max_leverage` between 1 and 125 (default 5)",
            ));
        }
        match r.total_stop_loss {
            Some(TotalStopLoss::PercentOfInvestment(p)) => {
                if self.mode != CopyMode::SmartSync {
                    errs.push(refuse(
                        "risk.total_stop_loss",
                        "a percentage stop loss needs an investment, which only smart-sync has",
                        "write an amount like \"200\", or use mode smart-sync",
                    ));
                }
                if p <= Decimal::ZERO || p > Decimal::ONE_HUNDRED {
                    errs.push(refuse(
                        "risk.total_stop_loss",
                        format!("{p}% is outside 0–100 %"),
                        "write a percentage above 0 and at most 100, like \"20%\"",
                    ));
                }
            }
            Some(TotalStopLoss::Amount(a)) if a <= Decimal::ZERO => errs.push(refuse(
                "risk.total_stop_loss",
                format!("{a} is not a positive amount"),
                "write the loss in USDT as a positive amount, like \"200\"",
            )),
            _ => {}
        }
        if let Some(tp) = r.take_profit_total {
            if tp <= Decimal::ZERO {
                errs.push(refuse(
                    "risk.take_profit_total",
                    format!("{tp} is not a positive amount"),
                    "write the profit in USDT as a positive amount, like \"300\"",
                ));
            }
        }
        if let Some(p) = r.max_slippage_pct {
            if p < Decimal::new(1, 1) || p > Decimal::from(3) {
                errs.push(refuse(
                    "risk.max_slippage_pct",
                    format!("{p} is outside 0.1–3 %"),
                    "set `max_slippage_pct` between \"0.1\" and \"3\", or remove it for the default",
                ));
            }
        }
        if r.min_bump_factor < Decimal::ONE {
            errs.push(refuse(
                "risk.min_bump_factor",
                format!("{} is below 1", r.min_bump_factor),
                "set `min_bump_factor` to 1 or more (default 2)",
            ));
        }
        if let Some(n) = r.max_position_notional {
            if n <= Decimal::ZERO {
                errs.push(refuse(
                    "risk.max_position_notional",
                    format!("{n} is not a positive amount"),
                    "set a positive USDT notional, or remove it",
                ));
            }
        }
        if r.max_signal_age_secs == 0 {
            errs.push(refuse(
                "risk.max_signal_age_secs",
                "0 would refuse every open",
                "set `max_signal_age_secs` to 1 or more (default 60)",
            ));
        }
        if errs.is_empty() {
            Ok(())
        } else {
            Err(SettingsErrors(errs))
        }
    }

    /// Checks a change to a running copy: amounts may change (they apply to positions
    /// opened afterwards); the mode may not.
    pub fn check_change(&self, new: &CopySettings) -> Result<(), SettingsErrors> {
        if new.mode != self.mode {
            return Err(SettingsErrors(vec![refuse(
                "mode",
                "a running copy cannot switch its mode",
                "stop this copy and start a new one with the other mode",
            )]));
        }
        new.validate()
    }

    /// Checks the settings against both accounts at setup; nothing starts unless it passes.
    pub fn check_setup(&self, ctx: &SetupContext) -> Result<(), SettingsErrors> {
        let mut errs = match self.validate() {
            Ok(()) => Vec::new(),
            Err(SettingsErrors(e)) => e,
        };
        if !ctx.follower_can_trade_futures {
            errs.push(refuse(
                "follower",
                "the follower's API key cannot trade futures",
                "enable futures trading on the key, or use another key",
            ));
        }
        if self.mode == CopyMode::SmartSync {
            if let Some(inv) = self.investment {
                if inv > ctx.follower_free_balance {
                    errs.push(refuse(
                        "investment",
                        format!(
                            "{inv} USDT is more than the follower's free balance of {}",
                            ctx.follower_free_balance
                        ),
                        "lower `investment` or add funds to the follower account",
                    ));
                }
            }
            if ctx.leader_account_value.is_none() {
                errs.push(refuse(
                    "mode",
                    "this leader source publishes no equity, which smart-sync sizes from",
                    "use mode fixed-amount or fixed-ratio for this leader",
                ));
            }
        }
        if let Some(amount) = self.amount_per_order {
            if amount > ctx.follower_account_value {
                errs.push(refuse(
                    "amount_per_order",
                    format!(
                        "{amount} USDT exceeds the follower's account value of {}",
                        ctx.follower_account_value
                    ),
                    "lower `amount_per_order` or add funds to the follower account",
                ));
            }
        }
        if let Some(max) = self.risk.max_follower_account_value {
            if ctx.follower_account_value > max {
                errs.push(refuse(
                    "risk.max_follower_account_value",
                    format!(
                        "the follower account is worth {}, more than {max}",
                        ctx.follower_account_value
                    ),
                    "use a smaller follower account or raise the limit",
                ));
            }
        }
        if let (Some(min), Some(value)) =
            (self.risk.min_leader_account_value, ctx.leader_account_value)
        {
            if value < min {
                errs.push(refuse(
                    "risk.min_leader_account_value",
                    format!("the leader account is worth {value}, less than {min}"),
                    "choose another leader or lower the limit",
                ));
            }
        }
        if ctx.leader_position_mode == PositionMode::Hedge
            && ctx.follower_position_mode == PositionMode::OneWay
        {
            errs.push(refuse(
                "follower.position_mode",
                "the leader trades in hedge mode and the follower is in one-way mode",
                "switch the follower to hedge mode (possible only with no open positions or orders)",
            ));
        }
        if errs.is_empty() {
            Ok(())
        } else {
            Err(SettingsErrors(errs))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    const SMART: &str = r#"
mode = "smart-sync"
investment = "1000"
copy_ongoing_positions = false
preset = "none"
[risk]
max_leverage = 5
total_stop_loss = "20%"
stop_action = "close-all"
max_signal_age_secs = 60
"#;

    fn parse(toml_text: &str) -> Result<CopySettings, toml::de::Error> {
        toml::from_str(toml_text)
    }

    #[test]
    fn the_config_shape_parses_with_defaults() {
        let s = parse(SMART).expect("the documented shape parses");
        assert_eq!(s.mode, CopyMode::SmartSync, "mode");
        assert_eq!(s.investment, Some(dec!(1000)), "investment as a string");
        assert_eq!(
            s.risk.total_stop_loss,
            Some(TotalStopLoss::PercentOfInvestment(dec!(20))),
            "\"20%\" is a percentage"
        );
        assert_eq!(
            s.risk.min_bump_factor,
            dec!(2),
            "min_bump_factor defaults to 2"
        );
        assert!(
            s.risk.offline_protection,
            "offline protection is on by default"
        );
        assert_eq!(s.validate(), Ok(()), "the documented example is valid");
        let json: CopySettings = serde_json::from_str(
            r#"{"mode":"fixed-amount","amount_per_order":50,"risk":{"total_stop_loss":200}}"#,
        )
        .expect("JSON with integers parses");
        assert_eq!(
            json.risk.total_stop_loss,
            Some(TotalStopLoss::Amount(dec!(200)))
        );
    }

    #[test]
    fn floats_and_unknown_keys_are_refused() {
        let err = parse("mode = \"smart-sync\"\ninvestment = 1000.5\n").expect_err("float refused");
        assert!(
            err.to_string().contains("investment"),
            "names the field: {err}"
        );
        let err =
            parse("mode = \"smart-sync\"\ninvestmnet = \"1000\"\n").expect_err("typo refused");
        assert!(
            err.to_string().contains("investmnet"),
            "names the unknown key: {err}"
        );
        let err =
            parse("mode = \"smart-sync\"\n[risk]\nmax_levrage = 5\n").expect_err("typo refused");
        assert!(
            err.to_string().contains("max_levrage"),
            "names the unknown key: {err}"
        );
    }

    #[test]
    fn validation_names_the_field_and_the_fix() {
        type Case = (&'static str, &'static str, &'static str);
        let cases: [Case; 7] = [
            (
                "mode = \"smart-sync\"\ninvestment = \"500\"\n[risk]\nmax_slippage_pct = \"5\"\n",
                "risk.max_slippage_pct",
                "between \"0.1\" and \"3\"",
            ),
            ("mode = \"smart-sync\"\ninvestment = \"99\"\n", "investment", "at least \"100\""),
            ("mode = \"smart-sync\"\n", "investment", "add `investment"),
            ("mode = \"fixed-amount\"\n", "amount_per_order", "add `amount_per_order"),
            ("mode = \"fixed-ratio\"\nratio = \"0\"\n", "ratio", "add `ratio"),
            (
                "mode = \"fixed-amount\"\namount_per_order = \"50\"\n[risk]\ntotal_stop_loss = \"20%\"\n",
                "risk.total_stop_loss",
                "only smart-sync",
            ),
            (
                "mode = \"smart-sync\"\ninvestment = \"500\"\npreset = \"strict-mirror\"\n",
                "preset",
                "fixed-amount",
            ),
        ];
        for (text, field, words) in cases {
            let s = parse(text).expect("parses; validation is what refuses");
            let errs = s.validate().expect_err("invalid settings are refused");
            assert!(errs.names(field), "{field} should be named: {errs}");
            assert!(
                errs.to_string().contains(words),
                "the message should say `{words}`: {errs}"
            );
        }
    }

    #[test]
    fn setup_checks_amounts_against_the_accounts() {
        let s = parse("mode = \"fixed-amount\"\namount_per_order = \"50\"\n[risk]\nmax_follower_account_value = \"1000\"\nmin_leader_account_value = \"20\"\n")
            .expect("parses");
        let ctx = SetupContext {
            follower_can_trade_futures: true,
            follower_account_value: dec!(40),
            follower_free_balance: dec!(40),
            follower_position_mode: PositionMode::OneWay,
            leader_position_mode: PositionMode::Hedge,
            leader_account_value: Some(dec!(10)),
        };
        let errs = s.check_setup(&ctx).expect_err("three problems");
        assert!(
            errs.names("amount_per_order"),
            "50 exceeds account value 40: {errs}"
        );
        assert!(
            errs.names("risk.min_leader_account_value"),
            "leader 10 < 20: {errs}"
        );
        assert!(
            errs.names("follower.position_mode"),
            "hedge leader needs hedge follower: {errs}"
        );
        let ok = SetupContext {
            follower_account_value: dec!(900),
            follower_free_balance: dec!(900),
            follower_position_mode: PositionMode::Hedge,
            leader_account_value: Some(dec!(20)),
            ..ctx
        };
        assert_eq!(
            s.check_setup(&ok),
            Ok(()),
            "fits: 50 ≤ 900 ≤ 1000, leader 20 ≥ 20"
        );
    }

    #[test]
    fn a_running_copy_changes_amounts_but_not_its_mode() {
        let old = parse(SMART).expect("parses");
        let more = CopySettings {
            investment: Some(dec!(2000)),
            ..old.clone()
        };
        assert_eq!(old.check_change(&more), Ok(()), "the investment may change");
        let other = parse("mode = \"fixed-amount\"\namount_per_order = \"50\"\n").expect("parses");
        let errs = old.check_change(&other).expect_err("mode switch refused");
        assert!(
            errs.names("mode") && errs.to_string().contains("stop this copy"),
            "{errs}"
        );
    }

    #[test]
    fn strict_mirror_turns_on_its_settings() {
        let s = parse("mode = \"fixed-amount\"\namount_per_order = \"50\"\npreset = \"strict-mirror\"\n[risk]\nmax_leverage = 10\n")
            .expect("parses")
            .effective();
        assert!(
            s.start.clean_slate && s.start.reset_figures && s.start.single_asset_mode,
            "start actions on"
        );
        assert_eq!(s.risk.max_leverage, 5, "max leverage 5");
        assert!(s.risk.close_independent_trades, "independent trades closed");
    }
}
