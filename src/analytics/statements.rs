//! Profit-share statements (copy-rules §7): which settlements of one copy are due by a
//! given time, and what each one says. Owns the periods (Monday 00:00 UTC, and the copy's
//! stop) and the running total already paid; the formula itself is
//! [`engine::figures::profit_share`]. Pure: the caller reads the copy's stored fills,
//! funding and figure points and stores what comes back.
//!
//! The formula is cumulative: `owed = max(PnL × ratio − already paid, 0)` over the copy's
//! whole PnL, so it works as a high-water mark: after a losing week nothing is owed until
//! the PnL climbs back above the level that was last paid on.

use rust_decimal::Decimal;

use crate::engine::figures::{
    next_settlement_ms, profit_share, ProfitShareInput, RatioError, Statement,
};

const WEEK_MS: i64 = 7 * 86_400_000;

/// One version of the ratio: `None` turns profit share off from `valid_from`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RatioAt {
    pub valid_from: i64,
    pub ratio: Option<Decimal>,
}

/// One fill of the copy: realized PnL and commission (positive when paid).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FillAt {
    pub ts: i64,
    pub realized: Decimal,
    pub fee: Decimal,
}

/// A money amount at a time: a funding payment (received positive) or the copy's
/// unrealized PnL at mark as a figure point recorded it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AmountAt {
    pub ts: i64,
    pub amount: Decimal,
}

/// Why a statement was drawn up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settlement {
    /// Monday 00:00 UTC.
    Weekly,
    /// The copy stopped.
    Stop,
}

/// What a statement concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Settled,
    Nothing,
    Postponed,
}

/// A statement already stored: where the next period starts and what was paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Done {
    pub kind: Settlement,
    pub period_end: i64,
    pub outcome: Outcome,
    pub owed: Decimal,
}

/// A statement that is due. Totals are the copy's as of `period_end`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    pub kind: Settlement,
    pub period_start: i64,
    pub period_end: i64,
    pub ratio: Decimal,
    pub realized: Decimal,
    pub fees: Decimal,
    pub funding: Decimal,
    pub unrealized: Decimal,
    pub already_paid: Decimal,
    /// Settled now (`Settled`), carried to the next settlement (`Postponed`), or zero.
    pub owed: Decimal,
    pub outcome: Outcome,
    pub text: String,
}

/// Everything stored about one copy that its statements depend on.
#[derive(Debug, Clone, Default)]
pub struct CopyHistory {
    /// Fills and funding at or before this venue time count for nothing (the figures
    /// reset of copy-rules §1); `None`: everything counts.
    pub figures_since: Option<i64>,
    /// The investment (Smart Sync), zero for the other modes.
    pub investment: Decimal,
    pub ratios: Vec<RatioAt>,
    pub fills: Vec<FillAt>,
    pub funding: Vec<AmountAt>,
    /// Unrealized PnL at mark, from the copy's figure points, in time order.
    pub unrealized: Vec<AmountAt>,
    /// When the copy stopped, if it did.
    pub stopped_at: Option<i64>,
}

impl CopyHistory {
    fn counts(&self, ts: i64) -> bool {
        self.figures_since.is_none_or(|s| ts > s)
    }

    fn ratio_at(&self, t: i64) -> Option<Decimal> {
        self.ratios
            .iter()
            .rfind(|r| r.valid_from <= t)
            .and_then(|r| r.ratio)
            .filter(|r| *r > Decimal::ZERO)
    }

    /// The first moment a positive ratio was in force.
    fn start(&self) -> Option<i64> {
        self.ratios
            .iter()
            .find(|r| r.ratio.is_some_and(|r| r > Decimal::ZERO))
            .map(|r| r.valid_from)
    }

    /// The statement at `t`, or `None` while profit share is off at `t`.
    fn statement_at(
        &self,
        t: i64,
        kind: Settlement,
        period_start: i64,
        already_paid: Decimal,
    ) -> Result<Option<Due>, RatioError> {
        let Some(ratio) = self.ratio_at(t) else {
            return Ok(None);
        };
        let upto = |ts: i64| ts <= t && self.counts(ts);
        let (mut realized, mut fees) = (Decimal::ZERO, Decimal::ZERO);
        for f in self.fills.iter().filter(|f| upto(f.ts)) {
            realized += f.realized;
            fees += f.fee;
        }
        let funding: Decimal = self
            .funding
            .iter()
            .filter(|f| upto(f.ts))
            .map(|f| f.amount)
            .sum();
        // The last figure point at or before the settlement: while the app was closed
        // that is the mark when it closed (no later one exists).
        let unrealized = self
            .unrealized
            .iter()
            .rfind(|u| upto(u.ts))
            .map_or(Decimal::ZERO, |u| u.amount);
        let net = realized - fees + funding;
        let statement = profit_share(&ProfitShareInput {
            realized: net,
            unrealized,
            ratio,
            already_paid,
            // The copy's equity stands in for the available balance: the account's
            // balance at a past Monday is not stored.
            available_balance: self.investment + net + unrealized,
        })?;
        let (outcome, owed, text) = match statement {
            Statement::Settle { amount, text } => (Outcome::Settled, amount, text),
            Statement::Nothing { text } => (Outcome::Nothing, Decimal::ZERO, text),
            Statement::Postponed { amount, text } => (Outcome::Postponed, amount, text),
        };
        Ok(Some(Due {
            kind,
            period_start,
            period_end: t,
            ratio,
            realized,
            fees,
            funding,
            unrealized,
            already_paid,
            owed,
            outcome,
            text,
        }))
    }
}

/// The statements due by `now` that `done` (the copy's stored statements, oldest first)
/// does not hold yet: every Monday 00:00 UTC after the last one (or after profit share
/// was first on) up to `now` or the copy's stop, then one at the stop. Each one's
/// "already paid" is the sum of the settled statements before it.
pub fn due(history: &CopyHistory, done: &[Done], now: i64) -> Result<Vec<Due>, RatioError> {
    let Some(start) = history.start() else {
        return Ok(Vec::new());
    };
    let until = history.stopped_at.map_or(now, |s| s.min(now));
    let mut paid: Decimal = done
        .iter()
        .filter(|d| d.outcome == Outcome::Settled)
        .map(|d| d.owed)
        .sum();
    let mut last_end = done.last().map_or(start, |d| d.period_end.max(start));
    let mut out = Vec::new();
    let mut t = next_settlement_ms(last_end);
    while t <= until {
        if let Some(s) = history.statement_at(t, Settlement::Weekly, last_end, paid)? {
            if s.outcome == Outcome::Settled {
                paid += s.owed;
            }
            last_end = t;
            out.push(s);
        }
        t += WEEK_MS;
    }
    let stopped = done.iter().any(|d| d.kind == Settlement::Stop);
    if let Some(stop) = history.stopped_at.filter(|s| *s <= now && *s >= start) {
        if !stopped {
            if let Some(s) = history.statement_at(stop, Settlement::Stop, last_end, paid)? {
                out.push(s);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    const DAY: i64 = 86_400_000;
    /// Monday 2026-11-02 00:00 UTC.
    const MON: i64 = 1_793_577_600_000;

    fn fill(ts: i64, realized: Decimal, fee: Decimal) -> FillAt {
        FillAt { ts, realized, fee }
    }
    fn at(ts: i64, amount: Decimal) -> AmountAt {
        AmountAt { ts, amount }
    }
    fn done_of(d: &[Due]) -> Vec<Done> {
        d.iter()
            .map(|d| Done {
                kind: d.kind,
                period_end: d.period_end,
                outcome: d.outcome,
                owed: d.owed,
            })
            .collect()
    }

    /// Four weeks of one copy: a winning week, a losing one, a recovery that stays below
    /// the level paid on, and a new high after the ratio went from 25 % to 30 %.
    fn four_weeks() -> CopyHistory {
        CopyHistory {
            figures_since: None,
            investment: Decimal::ZERO,
            ratios: vec![
                RatioAt {
                    valid_from: MON + DAY,
                    ratio: Some(dec!(0.25)),
                },
                RatioAt {
                    valid_from: MON + 22 * DAY,
                    ratio: Some(dec!(0.3)),
                },
            ],
            fills: vec![
                // Week 1: 430 realized, 12 fees.
                fill(MON + 2 * DAY, dec!(430), dec!(12)),
                // Week 2: only a fee.
                fill(MON + 9 * DAY, dec!(0), dec!(2)),
                // Week 3: 70 more realized.
                fill(MON + 16 * DAY, dec!(70), dec!(0)),
                // Week 4: 330 more realized, 8 fees.
                fill(MON + 23 * DAY, dec!(330), dec!(8)),
            ],
            funding: vec![at(MON + 3 * DAY, dec!(-8))],
            unrealized: vec![
                at(MON + 6 * DAY, dec!(-10)),
                at(MON + 13 * DAY, dec!(-168)),
                at(MON + 20 * DAY, dec!(-128)),
                at(MON + 27 * DAY, dec!(200)),
            ],
            stopped_at: None,
        }
    }

    #[test]
    fn weekly_statements_follow_the_high_water_mark() {
        let h = four_weeks();
        let d = due(&h, &[], MON + 28 * DAY + 1).expect("valid ratios");
        assert_eq!(
            d.len(),
            4,
            "one statement per Monday after the ratio was set"
        );
        // Week 1: 430 − 12 − 8 = 410 realized net, −10 unrealized: 400 × 0.25 = 100.
        assert_eq!(
            d[0].period_start,
            MON + DAY,
            "the first period starts at the ratio"
        );
        assert_eq!(d[0].period_end, MON + 7 * DAY, "ends Monday 00:00 UTC");
        assert_eq!(
            (d[0].outcome, d[0].owed),
            (Outcome::Settled, dec!(100)),
            "(410 − 10) × 0.25 − 0 = 100"
        );
        // Week 2 loses: 408 − 168 = 240 → 60 − 100 < 0.
        assert_eq!(
            (d[1].outcome, d[1].owed, d[1].already_paid),
            (Outcome::Nothing, dec!(0), dec!(100)),
            "a losing week owes nothing: 240 × 0.25 − 100 < 0"
        );
        // Week 3 recovers to 350, still below the 400 paid on.
        assert_eq!(
            (d[2].outcome, d[2].owed),
            (Outcome::Nothing, dec!(0)),
            "a recovery below the high-water mark owes nothing: 350 × 0.25 − 100 < 0"
        );
        // Week 4: 800 realized net + 200 unrealized at 30 %: (800 + 200) × 0.3 − 100 = 200.
        assert_eq!(
            d[3].ratio,
            dec!(0.3),
            "the ratio in force at the period's end"
        );
        assert_eq!(
            d[3].realized - d[3].fees + d[3].funding,
            dec!(800),
            "realized net of fees and funding"
        );
        assert_eq!(
            (d[3].outcome, d[3].owed, d[3].already_paid),
            (Outcome::Settled, dec!(200), dec!(100)),
            "(800 + 200) × 0.3 − 100 = 200"
        );
        assert!(
            d[3].text.contains("already paid"),
            "the statement shows its formula: {}",
            d[3].text
        );
    }

    #[test]
    fn catch_up_adds_only_what_is_missing() {
        let h = four_weeks();
        let first = due(&h, &[], MON + 15 * DAY).expect("valid");
        assert_eq!(first.len(), 2, "two Mondays passed by day 15");
        let rest = due(&h, &done_of(&first), MON + 28 * DAY).expect("valid");
        assert_eq!(rest.len(), 2, "the two later Mondays only");
        assert_eq!(
            rest[0].period_start,
            MON + 14 * DAY,
            "continues the last period"
        );
        assert_eq!(rest[1].owed, dec!(200), "paid so far carries over");
        let mut all = done_of(&first);
        all.extend(done_of(&rest));
        assert!(
            due(&h, &all, MON + 28 * DAY).expect("valid").is_empty(),
            "nothing is due twice"
        );
    }

    #[test]
    fn a_stop_settles_and_ends_the_statements() {
        let h = CopyHistory {
            stopped_at: Some(MON + 10 * DAY),
            ..four_weeks()
        };
        let d = due(&h, &[], MON + 40 * DAY).expect("valid");
        assert_eq!(d.len(), 2, "one weekly, then the stop; none after");
        assert_eq!(d[1].kind, Settlement::Stop, "the stop statement");
        assert_eq!(d[1].period_end, MON + 10 * DAY, "at the stop");
        assert_eq!(
            d[1].outcome,
            Outcome::Nothing,
            "(408 − 10) × 0.25 − 100 < 0"
        );
        assert!(
            due(&h, &done_of(&d), MON + 50 * DAY)
                .expect("valid")
                .is_empty(),
            "a stopped copy gets nothing more"
        );
    }

    #[test]
    fn no_ratio_no_statements_and_a_reset_counts_from_its_baseline() {
        let off = CopyHistory {
            ratios: vec![RatioAt {
                valid_from: MON,
                ratio: None,
            }],
            ..four_weeks()
        };
        assert!(
            due(&off, &[], MON + 30 * DAY).expect("valid").is_empty(),
            "no ratio, no statements"
        );
        let reset = CopyHistory {
            figures_since: Some(MON + 2 * DAY),
            ..four_weeks()
        };
        let d = due(&reset, &[], MON + 8 * DAY).expect("valid");
        assert_eq!(
            (d[0].realized, d[0].funding),
            (dec!(0), dec!(-8)),
            "the fill at the baseline is left out, the later funding counts"
        );
    }

    #[test]
    fn a_stored_ratio_above_the_limit_is_an_error() {
        let h = CopyHistory {
            ratios: vec![RatioAt {
                valid_from: MON,
                ratio: Some(dec!(0.5)),
            }],
            ..four_weeks()
        };
        assert!(
            due(&h, &[], MON + 8 * DAY).is_err(),
            "a ratio above 30 % read from the store is refused, not used"
        );
    }

    #[test]
    fn deep_unrealized_loss_postpones_and_the_amount_carries_over() {
        // Smart Sync with 100 invested; unrealized −20,000 or worse postpones too.
        let h = CopyHistory {
            investment: dec!(100),
            ratios: vec![RatioAt {
                valid_from: MON,
                ratio: Some(dec!(0.3)),
            }],
            fills: vec![fill(MON + DAY, dec!(30000), dec!(0))],
            funding: vec![],
            unrealized: vec![
                at(MON + 2 * DAY, dec!(-20000)),
                at(MON + 9 * DAY, dec!(-100)),
            ],
            ..CopyHistory::default()
        };
        let d = due(&h, &[], MON + 15 * DAY).expect("valid");
        assert_eq!(
            (d[0].outcome, d[0].owed),
            (Outcome::Postponed, dec!(3000)),
            "(30000 − 20000) × 0.3 = 3000, postponed at −20,000 unrealized"
        );
        assert_eq!(
            (d[1].outcome, d[1].owed, d[1].already_paid),
            (Outcome::Settled, dec!(8970), dec!(0)),
            "nothing was paid, so the next week owes (30000 − 100) × 0.3 = 8970"
        );
    }
}
