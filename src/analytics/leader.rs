//! The ratios of copy-rules.md section 7: Sharpe and Sortino of daily returns annualised
//! with √365 (risk-free rate 0), and the default ranking of leaders by Sharpe ratio.

use rust_decimal::{Decimal, MathematicalOps};

/// Daily returns of an equity curve; a day after a non-positive equity is skipped.
pub fn daily_returns(equity: &[Decimal]) -> Vec<Decimal> {
    equity
        .windows(2)
        .filter(|w| w[0] > Decimal::ZERO)
        .map(|w| w[1] / w[0] - Decimal::ONE)
        .collect()
}

fn mean(xs: &[Decimal]) -> Option<Decimal> {
    (!xs.is_empty()).then(|| xs.iter().sum::<Decimal>() / Decimal::from(xs.len()))
}

fn annualise(ratio: Decimal) -> Option<Decimal> {
    Decimal::from(365).sqrt().map(|s| ratio * s)
}

/// Mean of daily returns over their sample standard deviation, × √365.
pub fn sharpe(returns: &[Decimal]) -> Option<Decimal> {
    if returns.len() < 2 {
        return None;
    }
    let m = mean(returns)?;
    let n1 = Decimal::from(returns.len() - 1);
    let var = returns.iter().map(|r| (r - m) * (r - m)).sum::<Decimal>() / n1;
    let sd = var.sqrt()?;
    if sd.is_zero() {
        return None;
    }
    annualise(m / sd)
}

/// Like [`sharpe`], over the downside deviation: the root of the summed squared negative
/// returns over n − 1 (the same sample convention).
pub fn sortino(returns: &[Decimal]) -> Option<Decimal> {
    if returns.len() < 2 {
        return None;
    }
    let m = mean(returns)?;
    let n1 = Decimal::from(returns.len() - 1);
    let down = returns
        .iter()
        .map(|r| r.min(&Decimal::ZERO))
        .map(|r| r * r)
        .sum::<Decimal>()
        / n1;
    let dd = down.sqrt()?;
    if dd.is_zero() {
        return None;
    }
    annualise(m / dd)
}

/// Sorts leaders best first by Sharpe ratio; leaders without one go last, by id.
pub fn rank_by_sharpe(leaders: &mut [(String, Option<Decimal>)]) {
    leaders.sort_by(|(ia, a), (ib, b)| match (a, b) {
        (Some(x), Some(y)) => y.cmp(x).then_with(|| ia.cmp(ib)),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => ia.cmp(ib),
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn sharpe_is_mean_over_sample_sd_times_root_365() {
        // Returns 1 %, 3 %: mean 2 %, sample sd √0.0002 ≈ 0.014142; 2/1.4142 × 19.105 ≈ 27.02.
        let s = sharpe(&[dec!(0.01), dec!(0.03)]).expect("defined");
        assert_eq!(s.round_dp(2), dec!(27.02), "Sharpe of 1 % and 3 % days");
        assert_eq!(sharpe(&[dec!(0.01)]), None, "one return has no deviation");
        assert_eq!(
            sharpe(&[dec!(0.01), dec!(0.01)]),
            None,
            "no variation, no ratio"
        );
    }

    #[test]
    fn sortino_uses_only_the_downside() {
        // Returns 3 %, −1 %: mean 1 %, downside √(0.0001 / 1) = 1 % → 1 × √365 ≈ 19.10.
        let s = sortino(&[dec!(0.03), dec!(-0.01)]).expect("defined");
        assert_eq!(s.round_dp(2), dec!(19.10), "Sortino of 3 % and −1 % days");
        assert_eq!(
            sortino(&[dec!(0.01), dec!(0.02)]),
            None,
            "no losing day, no downside"
        );
    }

    #[test]
    fn ranking_puts_higher_sharpe_first_and_undefined_last() {
        let mut leaders = vec![
            ("flat".to_owned(), None),
            ("steady".to_owned(), Some(dec!(3))),
            ("choppy".to_owned(), Some(dec!(1.5))),
        ];
        rank_by_sharpe(&mut leaders);
        let order: Vec<&str> = leaders.iter().map(|(id, _)| id.as_str()).collect();
        assert_eq!(
            order,
            vec!["steady", "choppy", "flat"],
            "higher Sharpe first, undefined last"
        );
    }
}
