//! Per-copy figures (realized and unrealized PnL, fees, funding, ROI on investment, max
//! drawdown) and the profit-share statement of copy-rules.md section 7. Statements are
//! records only: nothing here moves funds.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::domain::decimal;

use super::sizing::show;

/// One money event of a copy, from the follower's fills and funding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CopyEvent {
    Fill {
        #[serde(with = "decimal")]
        realized_pnl: Decimal,
        /// Commission paid, positive.
        #[serde(with = "decimal")]
        commission: Decimal,
    },
    /// Funding received (positive) or paid (negative).
    Funding {
        #[serde(with = "decimal")]
        amount: Decimal,
    },
}

/// A copy's money figures since `t0` (or its last reset).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct CopyFigures {
    #[serde(with = "decimal")]
    pub realized: Decimal,
    #[serde(with = "decimal")]
    pub fees: Decimal,
    #[serde(with = "decimal")]
    pub funding: Decimal,
    #[serde(with = "decimal")]
    pub unrealized: Decimal,
}

impl CopyFigures {
    /// Sums the events, with the unrealized PnL at mark of the open positions.
    pub fn from_events<'a>(
        events: impl IntoIterator<Item = &'a CopyEvent>,
        unrealized: Decimal,
    ) -> Self {
        let mut f = CopyFigures {
            unrealized,
            ..Self::default()
        };
        for e in events {
            f.add(e);
        }
        f
    }

    /// Counts one more event (a running total keeps adding as rows come).
    pub fn add(&mut self, e: &CopyEvent) {
        match e {
            CopyEvent::Fill {
                realized_pnl,
                commission,
            } => {
                self.realized += realized_pnl;
                self.fees += commission;
            }
            CopyEvent::Funding { amount } => self.funding += amount,
        }
    }

    /// PnL as the stop rules count it: realized − fees + funding + unrealized.
    pub fn pnl(&self) -> Decimal {
        super::risk::copy_pnl(self.realized, self.fees, self.funding, self.unrealized)
    }

    /// ROI on the investment in percent; `None` without a positive investment.
    pub fn roi_pct(&self, investment: Decimal) -> Option<Decimal> {
        (investment > Decimal::ZERO).then(|| self.pnl() / investment * Decimal::ONE_HUNDRED)
    }
}

/// The deepest fall of an equity curve from a previous peak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Drawdown {
    #[serde(with = "decimal")]
    pub amount: Decimal,
    /// Percent of the peak it fell from (zero when that peak was not positive).
    #[serde(with = "decimal")]
    pub pct: Decimal,
}

/// Max drawdown of an equity curve (e.g. investment + copy PnL, one point per day).
pub fn max_drawdown(equity: &[Decimal]) -> Drawdown {
    let mut peak: Option<Decimal> = None;
    let mut worst = Drawdown::default();
    for &v in equity {
        let p = peak.map_or(v, |p| p.max(v));
        peak = Some(p);
        let fall = p - v;
        let pct = if p > Decimal::ZERO {
            fall / p * Decimal::ONE_HUNDRED
        } else {
            Decimal::ZERO
        };
        if fall > worst.amount {
            worst = Drawdown { amount: fall, pct };
        }
    }
    worst
}

/// Highest profit-share ratio of a private arrangement.
pub const MAX_PROFIT_SHARE_RATIO: Decimal = Decimal::from_parts(3, 0, 0, false, 1);
/// Futures settle only while unrealized PnL is above this.
pub const MIN_UNREALIZED_FOR_SETTLEMENT: Decimal = Decimal::from_parts(20_000, 0, 0, true, 0);

/// What a profit-share statement is computed from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfitShareInput {
    #[serde(with = "decimal")]
    pub realized: Decimal,
    #[serde(with = "decimal")]
    pub unrealized: Decimal,
    #[serde(with = "decimal")]
    pub ratio: Decimal,
    #[serde(with = "decimal")]
    pub already_paid: Decimal,
    #[serde(with = "decimal")]
    pub available_balance: Decimal,
}

/// A profit-share statement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Statement {
    /// `amount` is owed now.
    Settle {
        #[serde(with = "decimal")]
        amount: Decimal,
        text: String,
    },
    /// Nothing is owed.
    Nothing { text: String },
    /// Owed but not settled now.
    Postponed {
        #[serde(with = "decimal")]
        amount: Decimal,
        text: String,
    },
}

/// A ratio outside 0–30 %.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`profit_share_ratio`: {0} is outside 0–0.3; set a ratio of at most 0.3 (30 %)")]
pub struct RatioError(pub Decimal);

/// `owed = max((realized + unrealized) × ratio − already paid, 0)`; futures settle only
/// while unrealized is above −20,000 USDT, and not while the available balance is short.
pub fn profit_share(i: &ProfitShareInput) -> Result<Statement, RatioError> {
    if i.ratio < Decimal::ZERO || i.ratio > MAX_PROFIT_SHARE_RATIO {
        return Err(RatioError(i.ratio));
    }
    let gross = (i.realized + i.unrealized) * i.ratio;
    let owed = (gross - i.already_paid).max(Decimal::ZERO);
    let basis = format!(
        "({} realized + {} unrealized) × {} − {} already paid = {}",
        show(i.realized),
        show(i.unrealized),
        show(i.ratio),
        show(i.already_paid),
        show(gross - i.already_paid)
    );
    if owed.is_zero() {
        return Ok(Statement::Nothing {
            text: format!("nothing owed: {basis}"),
        });
    }
    if i.unrealized <= MIN_UNREALIZED_FOR_SETTLEMENT {
        return Ok(Statement::Postponed {
            amount: owed,
            text: format!(
                "postponed: unrealized PnL {} is not above -20000; {basis}",
                show(i.unrealized)
            ),
        });
    }
    if i.available_balance < owed {
        return Ok(Statement::Postponed {
            amount: owed,
            text: format!(
                "postponed: available balance {} is below the {} owed; {basis}",
                show(i.available_balance),
                show(owed)
            ),
        });
    }
    Ok(Statement::Settle {
        amount: owed,
        text: format!("owed {}: {basis}", show(owed)),
    })
}

const DAY_MS: i64 = 86_400_000;

/// The next weekly settlement, Monday 00:00 UTC, strictly after `now_ms`.
pub fn next_settlement_ms(now_ms: i64) -> i64 {
    let day = now_ms.div_euclid(DAY_MS);
    // 1970-01-01 was a Thursday: day 4 is the first Monday.
    let since_monday = (day - 4).rem_euclid(7);
    (day - since_monday + 7) * DAY_MS
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn figures_sum_fills_fees_and_funding() {
        let events = [
            CopyEvent::Fill {
                realized_pnl: dec!(50),
                commission: dec!(1.2),
            },
            CopyEvent::Fill {
                realized_pnl: dec!(-20),
                commission: dec!(0.8),
            },
            CopyEvent::Funding { amount: dec!(-0.5) },
        ];
        let f = CopyFigures::from_events(&events, dec!(12.5));
        assert_eq!(f.realized, dec!(30), "realized sums fills");
        assert_eq!(f.fees, dec!(2.0), "fees sum commissions");
        assert_eq!(f.pnl(), dec!(40.0), "30 − 2 − 0.5 + 12.5 = 40");
        assert_eq!(f.roi_pct(dec!(1000)), Some(dec!(4)), "40 on 1,000 is 4 %");
        assert_eq!(f.roi_pct(Decimal::ZERO), None, "no investment, no ROI");
    }

    #[test]
    fn drawdown_is_the_deepest_fall_from_a_peak() {
        let d = max_drawdown(&[dec!(1000), dec!(1200), dec!(900), dec!(1100), dec!(950)]);
        assert_eq!(d.amount, dec!(300), "1,200 → 900 is the deepest fall");
        assert_eq!(d.pct, dec!(25), "300 of 1,200 is 25 %");
    }

    #[test]
    fn profit_share_follows_the_formula_and_its_limits() {
        let base = ProfitShareInput {
            realized: dec!(800),
            unrealized: dec!(200),
            ratio: dec!(0.3),
            already_paid: dec!(100),
            available_balance: dec!(1000),
        };
        match profit_share(&base) {
            Ok(Statement::Settle { amount, text }) => {
                assert_eq!(amount, dec!(200), "(800 + 200) × 0.3 − 100 = 200");
                assert!(
                    text.contains("already paid"),
                    "the text shows the formula: {text}"
                );
            }
            other => panic!("a settlement of 200 is expected, got {other:?}"),
        }
        let paid_up = ProfitShareInput {
            already_paid: dec!(400),
            ..base.clone()
        };
        assert!(
            matches!(profit_share(&paid_up), Ok(Statement::Nothing { .. })),
            "never negative"
        );
        let deep = ProfitShareInput {
            realized: dec!(30000),
            unrealized: dec!(-20000),
            ..base.clone()
        };
        match profit_share(&deep) {
            Ok(Statement::Postponed { text, .. }) => {
                assert!(text.contains("-20000"), "names the cause: {text}")
            }
            other => panic!("postponed at -20,000 unrealized, got {other:?}"),
        }
        let short = ProfitShareInput {
            available_balance: dec!(150),
            ..base.clone()
        };
        match profit_share(&short) {
            Ok(Statement::Postponed { text, .. }) => assert!(
                text.contains("available balance 150"),
                "names the cause: {text}"
            ),
            other => panic!("postponed for a short balance, got {other:?}"),
        }
        let greedy = ProfitShareInput {
            ratio: dec!(0.31),
            ..base
        };
        assert!(
            profit_share(&greedy).is_err(),
            "a ratio above 30 % is refused"
        );
    }

    #[test]
    fn settlement_is_next_monday_midnight_utc() {
        // 2026-11-22 is a Sunday; the next Monday 00:00 UTC is 2026-11-23.
        let sunday_noon = 1_795_348_800_000; // 2026-11-22T12:00:00Z
        assert_eq!(
            next_settlement_ms(sunday_noon),
            1_795_392_000_000,
            "Monday 2026-11-23 00:00Z"
        );
        assert_eq!(
            next_settlement_ms(1_795_392_000_000),
            1_795_392_000_000 + 7 * DAY_MS,
            "exactly at Monday 00:00 the next is a week later"
        );
    }
}
