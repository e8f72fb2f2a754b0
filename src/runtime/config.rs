//! The run configuration (`copy.toml`, documented in `docs/config.md`): accounts and the
//! copies between them. Parsing refuses unknown keys, missing fields and floats where a
//! decimal string belongs, naming the line and the fix; the settings of each copy are
//! validated here too, so a bad file is refused before anything connects. Secrets are
//! never in the file: each account names where its key comes from.

use std::collections::BTreeSet;
use std::path::Path;

use rust_decimal::Decimal;
use serde::Deserialize;

use crate::domain::{decimal, CopyMode, CopySettings, Preset, RiskSettings, StartActions};
use crate::exchange::{DefaultVenues, VenueFactory};
use crate::secrets::SecretSource;

/// A parsed and checked configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunConfig {
    pub accounts: Vec<AccountConfig>,
    /// Public lead portfolios a copy's `leader` may name instead of an account.
    pub leaders: Vec<PortfolioLeaderConfig>,
    pub copies: Vec<CopyConfig>,
    pub engine: EngineConfig,
}

/// Optional `[engine]` timing keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EngineConfig {
    /// The venue's receive window in ms: a lost order is resent only after it (default 5000).
    pub recv_window_ms: u32,
    /// Seconds between periodic reconciliations (default 30).
    pub reconcile_secs: u32,
    /// Requests a minute the public lead-portfolio source allows per address, shared by
    /// every public leader followed (default 20, as reported for Binance's pages).
    pub portfolio_requests_per_minute: u32,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            recv_window_ms: 5_000,
            reconcile_secs: 30,
            portfolio_requests_per_minute: crate::runtime::leader_poll::DEFAULT_PER_MINUTE,
        }
    }
}

/// A public lead portfolio to follow (`[[leaders]]`): polled, no key needed.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortfolioLeaderConfig {
    pub name: String,
    /// The portfolio id (digits), as in the address of its copy-trading page.
    pub portfolio: String,
    /// `binance` (Binance's copy-trading pages) or a base URL such as a simulator's.
    pub endpoint: String,
}

/// One exchange account.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountConfig {
    pub name: String,
    /// The venue, which picks the adapter (see `exchange::factory`); `binance-usdm` for now.
    pub exchange: String,
    /// `mainnet`, `demo` or a base URL such as the simulator's.
    pub endpoint: String,
    pub api_key: SecretSource,
    pub api_secret: SecretSource,
    /// The key's passphrase, on venues that have one.
    #[serde(default)]
    pub api_passphrase: Option<SecretSource>,
}

/// One copy: a leader account, a follower account and the copy settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyConfig {
    pub name: String,
    pub leader: String,
    pub follower: String,
    pub settings: CopySettings,
    /// `profit_share_ratio` (copy-rules §7): set on the copy when the file is applied;
    /// absent, the copy keeps the ratio it has (set in the app, or none).
    pub profit_share_ratio: Option<Decimal>,
}

/// The largest profit-share ratio a copy may carry (30 %), as the facade checks it.
pub const MAX_PROFIT_SHARE_RATIO: Decimal = crate::engine::figures::MAX_PROFIT_SHARE_RATIO;

/// A refused configuration: where, what, and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}{}: {message}", line.map(|l| format!(", line {l}")).unwrap_or_default())]
pub struct ConfigError {
    pub path: String,
    pub line: Option<usize>,
    pub message: String,
}

// The settings fields are repeated here because serde cannot combine `flatten` with
// `deny_unknown_fields`; `into_settings` maps them one to one.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CopyEntry {
    name: String,
    leader: String,
    follower: String,
    mode: CopyMode,
    #[serde(with = "decimal::option", default)]
    investment: Option<Decimal>,
    #[serde(with = "decimal::option", default)]
    amount_per_order: Option<Decimal>,
    #[serde(with = "decimal::option", default)]
    ratio: Option<Decimal>,
    #[serde(default)]
    copy_ongoing_positions: bool,
    #[serde(default)]
    preset: Preset,
    #[serde(default)]
    start: StartActions,
    #[serde(default)]
    risk: RiskSettings,
    #[serde(with = "decimal::option", default)]
    profit_share_ratio: Option<Decimal>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    accounts: Vec<toml::Spanned<AccountConfig>>,
    #[serde(default)]
    leaders: Vec<toml::Spanned<PortfolioLeaderConfig>>,
    #[serde(default)]
    copies: Vec<toml::Spanned<CopyEntry>>,
    #[serde(default)]
    engine: EngineConfig,
}

impl CopyEntry {
    fn into_config(self) -> CopyConfig {
        CopyConfig {
            name: self.name,
            leader: self.leader,
            follower: self.follower,
            settings: CopySettings {
                mode: self.mode,
                investment: self.investment,
                amount_per_order: self.amount_per_order,
                ratio: self.ratio,
                copy_ongoing_positions: self.copy_ongoing_positions,
                preset: self.preset,
                start: self.start,
                risk: self.risk,
            },
            profit_share_ratio: self.profit_share_ratio,
        }
    }
}

/// The 1-based line of a byte offset.
fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset)
        .map_or(1, |before| before.matches('\n').count() + 1)
}

/// Reads and checks a configuration file.
pub fn load(path: &Path) -> Result<RunConfig, ConfigError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        path: shown.clone(),
        line: None,
        message: format!("cannot read the config file: {e}; check the path given to --config"),
    })?;
    parse(&text, &shown)
}

/// Parses and checks configuration text against the crate's venues; `path` only labels
/// errors.
pub fn parse(text: &str, path: &str) -> Result<RunConfig, ConfigError> {
    parse_with(text, path, &DefaultVenues)
}

/// As [`parse`], with each account's `exchange` and `endpoint` checked by `venues`.
pub fn parse_with(
    text: &str,
    path: &str,
    venues: &dyn VenueFactory,
) -> Result<RunConfig, ConfigError> {
    let err = |line: Option<usize>, message: String| ConfigError {
        path: path.to_owned(),
        line,
        message,
    };
    let raw: RawConfig = toml::from_str(text).map_err(|e| {
        let line = e.span().map(|s| line_of(text, s.start));
        err(
            line,
            format!(
                "{}; see docs/config.md for every key and its form (amounts are strings like \"1000\")",
                e.message()
            ),
        )
    })?;
    if raw.copies.is_empty() {
        return Err(err(
            None,
            "no [[copies]] entry; add one naming a leader and a follower account".into(),
        ));
    }
    let mut names = BTreeSet::new();
    let mut accounts = Vec::new();
    for a in raw.accounts {
        let line = line_of(text, a.span().start);
        let a = a.into_inner();
        if let Err(e) = venues.check(&a.exchange, &a.endpoint) {
            return Err(err(Some(line), format!("account `{}`: {e}", a.name)));
        }
        if !names.insert(a.name.clone()) {
            return Err(err(
                Some(line),
                format!(
                    "account `{}` is defined twice; give each account its own name",
                    a.name
                ),
            ));
        }
        accounts.push(a);
    }
    let mut leaders = Vec::new();
    for l in raw.leaders {
        let line = line_of(text, l.span().start);
        let l = l.into_inner();
        if l.portfolio.is_empty() || !l.portfolio.chars().all(|c| c.is_ascii_digit()) {
            return Err(err(
                Some(line),
                format!(
                    "leader `{}`: portfolio = \"{}\" is not a portfolio id; use the digits from the address of its copy-trading page",
                    l.name, l.portfolio
                ),
            ));
        }
        let endpoint_ok = l.endpoint == crate::runtime::leader_source::BINANCE_ENDPOINT
            || l.endpoint.starts_with("http://")
            || l.endpoint.starts_with("https://");
        if !endpoint_ok {
            return Err(err(
                Some(line),
                format!(
                    "leader `{}`: endpoint = \"{}\" is neither \"binance\" nor a base URL (http://… or https://…)",
                    l.name, l.endpoint
                ),
            ));
        }
        if !names.insert(l.name.clone()) {
            return Err(err(
                Some(line),
                format!(
                    "leader `{}` has the name of another account or leader; give it its own name",
                    l.name
                ),
            ));
        }
        leaders.push(l);
    }
    let mut copies = Vec::new();
    let mut copy_names = BTreeSet::new();
    for c in raw.copies {
        let line = line_of(text, c.span().start);
        let c = c.into_inner().into_config();
        let is_leader = |n: &String| leaders.iter().any(|l| &l.name == n);
        if !names.contains(&c.leader) {
            return Err(err(
                Some(line),
                format!(
                    "copy `{}`: leader = \"{}\" names no [[accounts]] or [[leaders]] entry; add one or fix the name",
                    c.name, c.leader
                ),
            ));
        }
        if !names.contains(&c.follower) || is_leader(&c.follower) {
            return Err(err(
                Some(line),
                format!(
                    "copy `{}`: follower = \"{}\" names no [[accounts]] entry; add one or fix the name",
                    c.name, c.follower
                ),
            ));
        }
        if c.leader == c.follower {
            return Err(err(
                Some(line),
                format!(
                    "copy `{}`: leader and follower are the same account; a copy needs two accounts",
                    c.name
                ),
            ));
        }
        if !copy_names.insert(c.name.clone()) {
            return Err(err(
                Some(line),
                format!(
                    "copy `{}` is defined twice; give each copy its own name",
                    c.name
                ),
            ));
        }
        if let Err(e) = c.settings.validate() {
            return Err(err(Some(line), format!("copy `{}`: {e}", c.name)));
        }
        if let Some(r) = c.profit_share_ratio {
            if r <= Decimal::ZERO || r > MAX_PROFIT_SHARE_RATIO {
                return Err(err(
                    Some(line),
                    format!(
                        "copy `{}`: profit_share_ratio = \"{r}\" is outside the allowed range; set a ratio above 0 and at most 0.3 (30 %), like \"0.1\", or remove the key",
                        c.name
                    ),
                ));
            }
        }
        copies.push(c);
    }
    if raw.engine.reconcile_secs == 0
        || raw.engine.recv_window_ms == 0
        || raw.engine.portfolio_requests_per_minute == 0
    {
        return Err(err(
            None,
            "[engine]: recv_window_ms, reconcile_secs and portfolio_requests_per_minute must be above 0; remove them to use the defaults".into(),
        ));
    }
    Ok(RunConfig {
        accounts,
        leaders,
        copies,
        engine: raw.engine,
    })
}

impl RunConfig {
    /// The account of a name (checked to exist at parse time).
    pub fn account(&self, name: &str) -> Option<&AccountConfig> {
        self.accounts.iter().find(|a| a.name == name)
    }

    /// The public portfolio leader of a name (checked to exist at parse time).
    pub fn portfolio_leader(&self, name: &str) -> Option<&PortfolioLeaderConfig> {
        self.leaders.iter().find(|l| l.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[[accounts]]
name = "lead"
exchange = "binance-usdm"
endpoint = "http://127.0.0.1:8900"
api_key = { env = "LEAD_KEY" }
api_secret = { env = "LEAD_SECRET" }

[[accounts]]
name = "me"
exchange = "binance-usdm"
endpoint = "http://127.0.0.1:8900"
api_key = { env = "ME_KEY" }
api_secret = { env = "ME_SECRET" }

[[copies]]
name = "follow-lead"
leader = "lead"
follower = "me"
mode = "smart-sync"
investment = "1000"
copy_ongoing_positions = false
preset = "none"
[copies.risk]
max_leverage = 5
total_stop_loss = "200"
stop_action = "close-all"
max_signal_age_secs = 60
"#;

    fn refused(text: &str) -> ConfigError {
        parse(text, "copy.toml").expect_err("config should be refused")
    }

    #[test]
    fn the_documented_example_parses() {
        let c = parse(GOOD, "copy.toml").expect("the example of docs/config.md parses");
        assert_eq!(c.copies.len(), 1, "one copy");
        assert_eq!(
            c.copies[0].settings.investment,
            Some(Decimal::from(1000)),
            "investment read exactly"
        );
    }

    #[test]
    fn unknown_keys_name_their_line() {
        let e = refused(&GOOD.replace("max_leverage = 5", "max_leverag = 5"));
        assert_eq!(e.line, Some(25), "line of the unknown key: {e}");
        assert!(e.message.contains("max_leverag"), "names the key: {e}");
    }

    #[test]
    fn a_float_amount_is_refused_with_the_fix() {
        let e = refused(&GOOD.replace("investment = \"1000\"", "investment = 1000.5"));
        assert_eq!(e.line, Some(21), "line of the float: {e}");
        assert!(e.message.contains("string"), "says to write a string: {e}");
    }

    #[test]
    fn a_missing_field_and_a_mode_without_its_amount_are_refused() {
        let e = refused(&GOOD.replace("follower = \"me\"\n", ""));
        assert!(
            e.message.contains("follower"),
            "names the missing field: {e}"
        );
        let e = refused(&GOOD.replace("mode = \"smart-sync\"", "mode = \"fixed-amount\""));
        assert!(
            e.message.contains("amount_per_order"),
            "fixed-amount needs amount_per_order: {e}"
        );
        assert_eq!(e.line, Some(16), "points at the copy: {e}");
    }

    #[test]
    fn a_percent_stop_loss_outside_smart_sync_is_refused() {
        let text = GOOD
            .replace("mode = \"smart-sync\"", "mode = \"fixed-ratio\"")
            .replace("investment = \"1000\"", "ratio = \"0.1\"")
            .replace("total_stop_loss = \"200\"", "total_stop_loss = \"20%\"");
        let e = refused(&text);
        assert!(
            e.message.contains("total_stop_loss"),
            "names the field: {e}"
        );
    }

    #[test]
    fn a_copy_may_follow_a_public_portfolio_leader() {
        let text = GOOD.replace(
            "[[copies]]",
            "[[leaders]]\nname = \"whale\"\nportfolio = \"3800000000000000001\"\nendpoint = \"binance\"\n\n[[copies]]",
        );
        let c = parse(
            &text.replace("leader = \"lead\"", "leader = \"whale\""),
            "copy.toml",
        )
        .expect("a [[leaders]] portfolio is a copy's leader");
        assert_eq!(
            c.portfolio_leader("whale").map(|l| l.portfolio.as_str()),
            Some("3800000000000000001"),
            "the portfolio id is kept"
        );
        let e =
            refused(&text.replace("portfolio = \"3800000000000000001\"", "portfolio = \"abc\""));
        assert!(
            e.message.contains("portfolio id"),
            "a bad id names the fix: {e}"
        );
        let e = refused(&text.replace("endpoint = \"binance\"\n\n", "endpoint = \"mainnet\"\n\n"));
        assert!(
            e.message.contains("binance"),
            "a bad endpoint names the choices: {e}"
        );
        let e = refused(&text.replace("follower = \"me\"", "follower = \"whale\""));
        assert!(
            e.message.contains("follower"),
            "a portfolio cannot follow: {e}"
        );
    }

    #[test]
    fn a_profit_share_ratio_is_read_and_checked_with_its_key() {
        let ok = parse(
            &GOOD.replace(
                "copy_ongoing_positions = false",
                "copy_ongoing_positions = false\nprofit_share_ratio = \"0.1\"",
            ),
            "copy.toml",
        )
        .expect("0.1 is allowed");
        assert_eq!(ok.copies[0].profit_share_ratio, Some(Decimal::new(1, 1)));
        for bad in ["\"0.5\"", "\"0\"", "\"-0.1\""] {
            let e = refused(&GOOD.replace(
                "copy_ongoing_positions = false",
                &format!("copy_ongoing_positions = false\nprofit_share_ratio = {bad}"),
            ));
            assert!(
                e.message.contains("profit_share_ratio") && e.message.contains("at most 0.3"),
                "names the key and the fix for {bad}: {e}"
            );
            assert!(e.line.is_some(), "names the line: {e}");
        }
        let e = refused(&GOOD.replace(
            "copy_ongoing_positions = false",
            "copy_ongoing_positions = false\nprofit_share_ratio = 0.1",
        ));
        assert!(e.message.contains("string"), "a float is refused: {e}");
    }

    #[test]
    fn unknown_account_names_are_refused() {
        let e = refused(&GOOD.replace("leader = \"lead\"", "leader = \"nobody\""));
        assert!(e.message.contains("nobody"), "names the account: {e}");
    }
}
