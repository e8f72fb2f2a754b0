//! Profit share through the facade (copy-rules §7): a copy's ratio (validated here, the
//! message on the `profitShareRatio` field) and its statements, brought up to date before
//! they are listed. Statements are records in the app: no funds move. The DTOs live here,
//! beside the calls that return them, and are exported by `ts_bindings` like `dto`'s.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

#[cfg(test)]
use ts_rs::TS;

use crate::domain::decimal::parse_decimal;
use crate::engine::figures::{next_settlement_ms, MAX_PROFIT_SHARE_RATIO};
use crate::runtime::statements::{catch_up, catch_up_copy, StatementsError};
use crate::store::table::copies::CopyRow;
use crate::store::table::statements::{StatementKind, StatementOutcome, StatementRow};
use crate::store::Store;

use super::{ApiError, ErrorCode};

/// The field a ratio error is about.
pub const RATIO_FIELD: &str = "profitShareRatio";

/// Why a statement was drawn up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "lowercase")]
pub enum StatementKindDto {
    /// Monday 00:00 UTC.
    Weekly,
    /// The copy stopped.
    Stop,
}

/// What a statement concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "lowercase")]
pub enum StatementOutcomeDto {
    /// `owed` is due to the leader now.
    Settled,
    /// Nothing is owed (a loss, or PnL below what was already paid on).
    Nothing,
    /// `owed` is due but carried to the next settlement (deep unrealized loss or a short
    /// balance); nothing counts as paid.
    Postponed,
}

/// One profit-share statement. Totals are the copy's as of `periodEndMs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct StatementDto {
    pub kind: StatementKindDto,
    #[cfg_attr(test, ts(type = "number"))]
    pub period_start_ms: i64,
    #[cfg_attr(test, ts(type = "number"))]
    pub period_end_ms: i64,
    pub ratio: String,
    pub realized_pnl: String,
    pub fees: String,
    pub funding: String,
    pub unrealized_pnl: String,
    /// realized − fees + funding + unrealized: what the ratio applies to.
    pub pnl: String,
    pub already_paid: String,
    pub owed: String,
    pub outcome: StatementOutcomeDto,
    /// The formula with its numbers, and the cause when postponed.
    pub text: String,
    #[cfg_attr(test, ts(type = "number"))]
    pub computed_at_ms: i64,
    /// Drawn up after its period ended because no engine ran then (caught up at an open).
    pub caught_up: bool,
}

/// A copy's profit share: its ratio and its statements, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(TS))]
#[serde(rename_all = "camelCase")]
pub struct ProfitShareDto {
    pub copy: String,
    /// `null`: profit share is off for this copy.
    pub ratio: Option<String>,
    /// The next weekly settlement while the ratio is on and the copy not stopped.
    #[cfg_attr(test, ts(type = "number | null"))]
    pub next_settlement_ms: Option<i64>,
    /// Sum of the settled statements.
    pub total_paid: String,
    pub statements: Vec<StatementDto>,
}

/// A statement drawn up more than this after its period's end counts as caught up.
const CAUGHT_UP_AFTER_MS: i64 = 60_000;

/// Parses and checks a ratio as the user typed it: empty or absent turns profit share
/// off; otherwise a decimal above 0 and at most 0.3 (30 %).
pub fn parse_ratio(input: Option<&str>) -> Result<Option<Decimal>, ApiError> {
    let Some(text) = input.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let ratio = parse_decimal(text).map_err(|e| {
        ApiError::field(
            RATIO_FIELD,
            format!(
                "`{text}` is not a ratio ({e}); write a decimal like \"0.1\" for 10 %, or leave it empty to turn profit share off"
            ),
        )
    })?;
    if ratio <= Decimal::ZERO || ratio > MAX_PROFIT_SHARE_RATIO {
        return Err(ApiError::field(
            RATIO_FIELD,
            format!(
                "{ratio} is outside the allowed range; set a ratio above 0 and at most 0.3 (30 %), or leave it empty to turn profit share off"
            ),
        ));
    }
    Ok(Some(ratio))
}

fn api_error(e: StatementsError) -> ApiError {
    match e {
        StatementsError::Store(s) => s.into(),
        e @ StatementsError::Ratio { .. } => ApiError::new(ErrorCode::Storage, e.to_string()),
    }
}

/// Draws up every statement due by `now` (at open, and on the engine's timer).
pub(crate) fn catch_up_all(store: &mut Store, now: i64) -> Result<usize, ApiError> {
    catch_up(store, now).map_err(api_error)
}

fn named(store: &Store, copy: &str) -> Result<CopyRow, ApiError> {
    store
        .copies()
        .by_name(copy)?
        .ok_or_else(|| ApiError::not_found(format!("no copy named `{copy}`")))
}

/// A decimal as the UI shows it: no trailing zeros (`100`, not `100.00`).
fn show(d: Decimal) -> String {
    d.normalize().to_string()
}

fn dto(s: &StatementRow) -> StatementDto {
    let pnl = s.realized - s.fees + s.funding + s.unrealized;
    StatementDto {
        kind: match s.kind {
            StatementKind::Weekly => StatementKindDto::Weekly,
            StatementKind::Stop => StatementKindDto::Stop,
        },
        period_start_ms: s.period_start,
        period_end_ms: s.period_end,
        ratio: show(s.ratio),
        realized_pnl: show(s.realized),
        fees: show(s.fees),
        funding: show(s.funding),
        unrealized_pnl: show(s.unrealized),
        pnl: show(pnl),
        already_paid: show(s.already_paid),
        owed: show(s.owed),
        outcome: match s.outcome {
            StatementOutcome::Settled => StatementOutcomeDto::Settled,
            StatementOutcome::Nothing => StatementOutcomeDto::Nothing,
            StatementOutcome::Postponed => StatementOutcomeDto::Postponed,
        },
        text: s.text.clone(),
        computed_at_ms: s.computed_at,
        caught_up: s.computed_at - s.period_end > CAUGHT_UP_AFTER_MS,
    }
}

/// A copy's profit share as stored (no catch-up: read-only callers use it too).
pub fn read(store: &Store, copy: &str, now: i64) -> Result<ProfitShareDto, ApiError> {
    let row = named(store, copy)?;
    let ratio = store.profit_share().current(row.id)?;
    let statements = store.statements().for_copy(row.id)?;
    let total_paid: Decimal = statements
        .iter()
        .filter(|s| s.outcome == StatementOutcome::Settled)
        .map(|s| s.owed)
        .sum();
    Ok(ProfitShareDto {
        copy: row.name.clone(),
        ratio: ratio.map(show),
        next_settlement_ms: ratio
            .filter(|_| row.stopped_at.is_none())
            .map(|_| next_settlement_ms(now)),
        total_paid: show(total_paid),
        statements: statements.iter().map(dto).collect(),
    })
}

/// Sets a checked ratio (or `None`: off) on a stored copy from `now`, after the statements
/// due under the old one are drawn up.
pub(crate) fn set_stored(
    store: &mut Store,
    copy: &str,
    ratio: Option<Decimal>,
    now: i64,
) -> Result<ProfitShareDto, ApiError> {
    let row = named(store, copy)?;
    // Statements due under the old ratio are drawn up before it changes.
    catch_up_copy(store, row.id, now).map_err(api_error)?;
    store.profit_share().set(row.id, ratio, now)?;
    read(store, copy, now)
}

impl super::App {
    /// Sets (or with `None` / empty, turns off) a copy's profit-share ratio from now on.
    /// Statements due before the change keep the ratio that was in force.
    pub fn set_profit_share(
        &self,
        copy: &str,
        ratio: Option<&str>,
    ) -> Result<ProfitShareDto, ApiError> {
        let ratio = parse_ratio(ratio)?;
        let now = self.engine.clock().now_ms();
        self.with_store(|s| set_stored(s, copy, ratio, now))
    }

    /// The `profit_share_ratio` of each copy of a `copy.toml` (checked when it was
    /// parsed): set where it differs from the copy's ratio, after the statements due
    /// under the old one are drawn up. A copy whose entry has none keeps its ratio.
    pub(crate) fn apply_config_ratios(
        &self,
        config: &crate::runtime::RunConfig,
    ) -> Result<(), ApiError> {
        let now = self.engine.clock().now_ms();
        self.with_store(|s| {
            for c in &config.copies {
                let Some(ratio) = c.profit_share_ratio else {
                    continue;
                };
                let row = named(s, &c.name)?;
                if s.profit_share().current(row.id)? == Some(ratio) {
                    continue;
                }
                catch_up_copy(s, row.id, now).map_err(api_error)?;
                s.profit_share().set(row.id, Some(ratio), now)?;
            }
            Ok(())
        })
    }

    /// A copy's profit share, with every statement due by now drawn up first.
    pub fn profit_share(&self, copy: &str) -> Result<ProfitShareDto, ApiError> {
        let now = self.engine.clock().now_ms();
        self.with_store(|s| {
            let row = named(s, copy)?;
            catch_up_copy(s, row.id, now).map_err(api_error)?;
            read(s, copy, now)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ratio_is_checked_with_a_message_on_its_field() {
        assert_eq!(
            parse_ratio(Some("0.3")).expect("30 % is allowed"),
            Some(Decimal::new(3, 1))
        );
        assert_eq!(parse_ratio(Some(" ")).expect("empty is off"), None);
        assert_eq!(parse_ratio(None).expect("absent is off"), None);
        for bad in ["0.31", "0", "-0.1", "ten", "1e-1x"] {
            let e = parse_ratio(Some(bad)).expect_err("refused");
            assert_eq!(
                e.field.as_deref(),
                Some(RATIO_FIELD),
                "the error names the field for `{bad}`"
            );
            assert_eq!(e.code, ErrorCode::InvalidInput, "invalid input: {bad}");
            assert!(
                e.message.contains("0.3") || e.message.contains("decimal"),
                "the message says the fix for `{bad}`: {}",
                e.message
            );
        }
    }
}
