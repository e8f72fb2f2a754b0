//! Copy settings across the facade: the DTO ↔ domain conversions (every decimal parsed
//! from its string with the field named), validation that answers with the first refused
//! field as a camelCase path, and the sizing preview (the leader's last 100 opens run
//! through the planner's sizing rule and fit).

use rust_decimal::Decimal;

use crate::domain::decimal::parse_decimal;
use crate::domain::num::Asset;
use crate::domain::{
    CopyMode, CopySettings, Preset, RiskSettings, SlippageAction, StartActions, StopAction,
    TotalStopLoss,
};
use crate::engine::sizing::{fit, size_open, FitLimits};
use crate::exchange::{Exchange, TradeQuery};

use super::dto::{
    CopyModeDto, CopySettingsDto, LastOpenDto, PresetDto, PreviewDto, RiskDto, SlippageActionDto,
    StartActionsDto, StopActionDto, StopLossKind, TotalStopLossDto,
};
use super::error::camel_path;
use super::ApiError;

fn dec(field: &str, v: &Option<String>) -> Result<Option<Decimal>, ApiError> {
    match v.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => parse_decimal(s).map(Some).map_err(|_| {
            ApiError::field(
                field,
                format!(
                    "`{field}`: `{s}` is not a number; write a decimal like \"100\" or \"0.5\""
                ),
            )
        }),
    }
}

fn assets(field: &str, v: &[String]) -> Result<Vec<Asset>, ApiError> {
    v.iter()
        .map(|a| {
            Asset::new(a.trim()).map_err(|_| {
                ApiError::field(
                    field,
                    format!("`{field}`: `{a}` is not an asset code; use codes like \"USDT\""),
                )
            })
        })
        .collect()
}

/// The domain settings of a DTO; a value that does not parse is refused with its field.
pub fn to_domain(s: &CopySettingsDto) -> Result<CopySettings, ApiError> {
    let r = &s.risk;
    let total_stop_loss = match &r.total_stop_loss {
        None => None,
        Some(t) => {
            let v = dec("risk.totalStopLoss", &Some(t.value.clone()))?.ok_or_else(|| {
                ApiError::field(
                    "risk.totalStopLoss",
                    "`risk.totalStopLoss`: empty; write an amount like \"200\" or clear the stop",
                )
            })?;
            Some(match t.kind {
                StopLossKind::Amount => TotalStopLoss::Amount(v),
                StopLossKind::Percent => TotalStopLoss::PercentOfInvestment(v),
            })
        }
    };
    let defaults = RiskSettings::default();
    Ok(CopySettings {
        mode: match s.mode {
            CopyModeDto::SmartSync => CopyMode::SmartSync,
            CopyModeDto::FixedAmount => CopyMode::FixedAmount,
            CopyModeDto::FixedRatio => CopyMode::FixedRatio,
        },
        investment: dec("investment", &s.investment)?,
        amount_per_order: dec("amountPerOrder", &s.amount_per_order)?,
        ratio: dec("ratio", &s.ratio)?,
        copy_ongoing_positions: s.copy_ongoing_positions,
        preset: match s.preset {
            PresetDto::None => Preset::None,
            PresetDto::StrictMirror => Preset::StrictMirror,
        },
        start: StartActions {
            clean_slate: s.start.clean_slate,
            reset_figures: s.start.reset_figures,
            single_asset_mode: s.start.single_asset_mode,
        },
        risk: RiskSettings {
            max_leverage: r.max_leverage,
            allowed_quote_assets: assets("risk.allowedQuoteAssets", &r.allowed_quote_assets)?,
            symbol_allowlist: r.symbol_allowlist.clone(),
            symbol_blocklist: r.symbol_blocklist.clone(),
            max_position_notional: dec("risk.maxPositionNotional", &r.max_position_notional)?,
            max_slippage_pct: dec("risk.maxSlippagePct", &r.max_slippage_pct)?,
            slippage_action: match r.slippage_action {
                SlippageActionDto::Skip => SlippageAction::Skip,
                SlippageActionDto::IocLimit => SlippageAction::IocLimit,
            },
            max_signal_age_secs: r.max_signal_age_secs,
            total_stop_loss,
            take_profit_total: dec("risk.takeProfitTotal", &r.take_profit_total)?,
            stop_action: match r.stop_action {
                StopActionDto::CloseAll => StopAction::CloseAll,
                StopActionDto::Keep => StopAction::Keep,
            },
            offline_protection: r.offline_protection,
            close_independent_trades: r.close_independent_trades,
            max_follower_account_value: dec(
                "risk.maxFollowerAccountValue",
                &r.max_follower_account_value,
            )?,
            ..defaults
        },
    })
}

fn show(d: Option<Decimal>) -> Option<String> {
    d.map(|d| d.normalize().to_string())
}

/// The DTO of domain settings.
pub fn to_dto(s: &CopySettings) -> CopySettingsDto {
    let r = &s.risk;
    CopySettingsDto {
        mode: match s.mode {
            CopyMode::SmartSync => CopyModeDto::SmartSync,
            CopyMode::FixedAmount => CopyModeDto::FixedAmount,
            CopyMode::FixedRatio => CopyModeDto::FixedRatio,
        },
        investment: show(s.investment),
        amount_per_order: show(s.amount_per_order),
        ratio: show(s.ratio),
        copy_ongoing_positions: s.copy_ongoing_positions,
        preset: match s.preset {
            Preset::None => PresetDto::None,
            Preset::StrictMirror => PresetDto::StrictMirror,
        },
        start: StartActionsDto {
            clean_slate: s.start.clean_slate,
            reset_figures: s.start.reset_figures,
            single_asset_mode: s.start.single_asset_mode,
        },
        risk: RiskDto {
            max_leverage: r.max_leverage,
            allowed_quote_assets: r
                .allowed_quote_assets
                .iter()
                .map(|a| a.as_str().to_owned())
                .collect(),
            symbol_allowlist: r.symbol_allowlist.clone(),
            symbol_blocklist: r.symbol_blocklist.clone(),
            max_position_notional: show(r.max_position_notional),
            max_slippage_pct: show(r.max_slippage_pct),
            slippage_action: match r.slippage_action {
                SlippageAction::Skip => SlippageActionDto::Skip,
                SlippageAction::IocLimit => SlippageActionDto::IocLimit,
            },
            max_signal_age_secs: r.max_signal_age_secs,
            total_stop_loss: r.total_stop_loss.map(|t| match t {
                TotalStopLoss::Amount(a) => TotalStopLossDto {
                    kind: StopLossKind::Amount,
                    value: a.normalize().to_string(),
                },
                TotalStopLoss::PercentOfInvestment(p) => TotalStopLossDto {
                    kind: StopLossKind::Percent,
                    value: p.normalize().to_string(),
                },
            }),
            take_profit_total: show(r.take_profit_total),
            stop_action: match r.stop_action {
                StopAction::CloseAll => StopActionDto::CloseAll,
                StopAction::Keep => StopActionDto::Keep,
            },
            offline_protection: r.offline_protection,
            close_independent_trades: r.close_independent_trades,
            max_follower_account_value: show(r.max_follower_account_value),
        },
        profit_share_ratio: None,
    }
}

/// Parses and validates settings; the first refusal names its field as a camelCase path.
/// The profit-share ratio that may come with them is checked too (`profitShareRatio`).
pub fn validate(s: &CopySettingsDto) -> Result<CopySettings, ApiError> {
    let settings = to_domain(s)?;
    super::statements::parse_ratio(s.profit_share_ratio.as_deref())?;
    settings.validate().map_err(|errs| {
        let first = errs.0.first();
        let field = first.map(|e| camel_path(e.field));
        ApiError {
            field,
            ..ApiError::invalid(errs.to_string())
        }
    })?;
    Ok(settings)
}

/// How many of the leader's recent opens the preview sizes.
pub const PREVIEW_OPENS: usize = 100;

/// Runs the leader's last opens through the sizing rule and fit: the last open's follower
/// quantity, and how many would be skipped as below the minimum size.
pub(crate) async fn preview(
    leader: &dyn Exchange,
    follower_equity: Option<Decimal>,
    settings: &CopySettings,
) -> Result<PreviewDto, ApiError> {
    let snap = leader.account().await?;
    let rules = leader.symbol_rules().await?;
    let mut symbols: Vec<String> = snap
        .positions
        .iter()
        .map(|p| p.symbol.clone())
        .chain(
            ["BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT"]
                .iter()
                .map(|s| (*s).to_owned()),
        )
        .collect();
    symbols.sort();
    symbols.dedup();
    let mut opens = Vec::new();
    for sym in symbols {
        if !rules.rules.iter().any(|r| r.symbol.name == sym) {
            continue;
        }
        let trades = leader
            .user_trades(&TradeQuery {
                symbol: sym.clone(),
                limit: Some(1000),
                ..TradeQuery::default()
            })
            .await?;
        // An opening fill realises nothing; closes and reductions do.
        opens.extend(trades.into_iter().filter(|t| t.realized_pnl.is_zero()));
    }
    opens.sort_by_key(|t| std::cmp::Reverse(t.time));
    opens.truncate(PREVIEW_OPENS);
    let leverage_of = |sym: &str| {
        snap.symbol_settings
            .iter()
            .find(|s| s.symbol == sym)
            .map_or(1, |s| s.leverage)
    };
    let mut skipped = 0u32;
    let mut last: Option<(LastOpenDto, Option<Decimal>, String)> = None;
    for (i, t) in opens.iter().enumerate() {
        let Some(rule) = rules.rules.iter().find(|r| r.symbol.name == t.symbol) else {
            continue;
        };
        let lev = leverage_of(&t.symbol);
        let sized = size_open(settings, t.quantity.get(), t.price, lev, Some(snap.equity));
        let fitted = sized.as_ref().ok().map(|m| {
            fit(
                m.raw_qty,
                m.margin,
                m.leverage,
                t.price,
                &rule.filters,
                &FitLimits {
                    free_funds: settings
                        .investment
                        .or(follower_equity)
                        .unwrap_or(Decimal::MAX),
                    free_what: "the preview's funds".into(),
                    existing_qty: Decimal::ZERO,
                    max_position_notional: settings.risk.max_position_notional,
                    bump_factor: Some(settings.risk.min_bump_factor),
                },
            )
        });
        let qty = match &fitted {
            Some(Ok(f)) if !f.qty.is_zero() => Some(f.qty),
            Some(Ok(_)) | Some(Err(_)) | None => {
                skipped += 1;
                None
            }
        };
        if i == 0 {
            let margin = t.quantity.get() * t.price.get() / Decimal::from(lev.max(1));
            let why = match (&sized, &fitted) {
                (Err(s), _) | (Ok(_), Some(Err(s))) => s.text.clone(),
                (Ok(_), Some(Ok(_)) | None) => String::new(),
            };
            last = Some((
                LastOpenDto {
                    symbol: t.symbol.clone(),
                    qty: t.quantity.get().normalize().to_string(),
                    price: t.price.get().normalize().to_string(),
                    leverage: lev,
                    margin_pct: (snap.equity > Decimal::ZERO).then(|| {
                        (margin / snap.equity * Decimal::ONE_HUNDRED)
                            .round_dp(2)
                            .normalize()
                            .to_string()
                    }),
                },
                qty,
                why,
            ));
        }
    }
    let considered = u32::try_from(opens.len()).unwrap_or(u32::MAX);
    Ok(match last {
        None => PreviewDto {
            last_open: None,
            follower_qty: None,
            sentence: "the leader has no recent opens to size".into(),
            considered_opens: 0,
            skipped_below_min: 0,
            follower_open_positions: None,
            follower_open_orders: None,
        },
        Some((open, qty, why)) => {
            let base = open
                .symbol
                .trim_end_matches("USDT")
                .trim_end_matches("USDC");
            let sentence = match qty {
                Some(q) => format!(
                    "the leader's last open of {} {base} at {}x would be {} {base} for you",
                    open.qty,
                    open.leverage,
                    q.normalize()
                ),
                None => format!(
                    "the leader's last open of {} {base} at {}x would be skipped for you: {why}",
                    open.qty, open.leverage
                ),
            };
            PreviewDto {
                last_open: Some(open),
                follower_qty: qty.map(|q| q.normalize().to_string()),
                sentence,
                considered_opens: considered,
                skipped_below_min: skipped,
                follower_open_positions: None,
                follower_open_orders: None,
            }
        }
    })
}

impl super::App {
    /// Checks copy settings on their own; the first refused field is named.
    pub fn validate_settings(&self, s: &CopySettingsDto) -> Result<(), ApiError> {
        validate(s).map(|_| ())
    }

    /// What the settings would make of the leader's recent opens.
    pub async fn preview(&self, req: super::dto::PreviewRequest) -> Result<PreviewDto, ApiError> {
        let settings = validate(&req.settings).map_err(|e| ApiError {
            field: e.field.map(|f| format!("settings.{f}")),
            ..e
        })?;
        let leader = self
            .preview_account(&req.leader)
            .await
            .map_err(|e| ApiError {
                field: Some("leader".into()),
                ..e
            })?;
        let Some(leader) = leader else {
            return Ok(PreviewDto {
                last_open: None,
                follower_qty: None,
                sentence: "no preview for this public portfolio yet (it would need the portfolio's order history); the copy itself sizes each change as it is seen".into(),
                considered_opens: 0,
                skipped_below_min: 0,
                follower_open_positions: None,
                follower_open_orders: None,
            });
        };
        let leader = super::venue::exchange(&leader, &self.engine)?;
        let follower = match self.account_spec(&req.follower).await {
            Ok(spec) => match super::venue::exchange(&spec, &self.engine) {
                Ok(ex) => ex.account().await.ok(),
                Err(_) => None,
            },
            Err(_) => None,
        };
        let mut dto = preview(
            leader.as_ref(),
            follower.as_ref().map(|s| s.equity),
            &settings,
        )
        .await?;
        let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        dto.follower_open_positions = follower.as_ref().map(|s| {
            count(
                s.positions
                    .iter()
                    .filter(|p| !p.signed_quantity.is_zero())
                    .count(),
            )
        });
        dto.follower_open_orders = follower
            .as_ref()
            .map(|s| count(s.open_orders.len() + s.open_conditionals.len()));
        Ok(dto)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ErrorCode;

    fn dto() -> CopySettingsDto {
        to_dto(&CopySettings {
            mode: CopyMode::SmartSync,
            investment: Some(Decimal::from(1000)),
            amount_per_order: None,
            ratio: None,
            copy_ongoing_positions: false,
            preset: Preset::None,
            start: StartActions::default(),
            risk: RiskSettings::default(),
        })
    }

    #[test]
    fn settings_round_trip_through_the_dto() {
        let d = dto();
        let back = to_dto(&validate(&d).expect("valid settings pass"));
        assert_eq!(back, d, "DTO → domain → DTO is the identity");
        let json = serde_json::to_value(&d).expect("serialises");
        assert_eq!(json["risk"]["maxLeverage"], 5, "camelCase: {json}");
        assert_eq!(json["investment"], "1000", "decimals as strings: {json}");
    }

    #[test]
    fn refusals_name_the_field_as_a_camel_case_path() {
        let mut d = dto();
        d.risk.max_leverage = 0;
        let e = validate(&d).expect_err("leverage 0 refused");
        assert_eq!(e.code, ErrorCode::InvalidInput);
        assert_eq!(e.field.as_deref(), Some("risk.maxLeverage"), "{e:?}");

        let mut d = dto();
        d.investment = Some("50".into());
        let e = validate(&d).expect_err("investment below 100 refused");
        assert_eq!(e.field.as_deref(), Some("investment"), "{e:?}");

        let mut d = dto();
        d.risk.max_slippage_pct = Some("lots".into());
        let e = validate(&d).expect_err("a non-number refused");
        assert_eq!(e.field.as_deref(), Some("risk.maxSlippagePct"), "{e:?}");

        let mut d = dto();
        d.profit_share_ratio = Some("0.5".into());
        let e = validate(&d).expect_err("a ratio above 0.3 refused");
        assert_eq!(e.field.as_deref(), Some("profitShareRatio"), "{e:?}");
        assert!(e.message.contains("at most 0.3"), "the fix: {}", e.message);
        d.profit_share_ratio = Some("0.3".into());
        validate(&d).expect("0.3 is allowed");
        d.profit_share_ratio = Some(String::new());
        validate(&d).expect("empty is off");
    }
}
