//! A leader's figures over 7, 30 or 90 days (copy-rules.md section 7): PnL, ROI, Sharpe
//! and Sortino ratios of daily returns annualised with √365 (risk-free rate 0), maximum
//! drawdown of the daily equity curve, win rate and trade count; and the default ranking
//! by Sharpe ratio. Pure functions over histories the caller supplies.

use rust_decimal::{Decimal, MathematicalOps};
use serde::{Deserialize, Serialize};

use crate::domain::decimal;
use crate::engine::figures::{max_drawdown, Drawdown};

/// The look-back windows the app shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Window {
    Days7,
    Days30,
    Days90,
}

impl Window {
    pub fn days(self) -> usize {
        match self {
            Window::Days7 => 7,
            Window::Days30 => 30,
            Window::Days90 => 90,
        }
    }
}

/// A leader's figures over one window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaderFigures {
    #[serde(with = "decimal")]
    pub pnl: Decimal,
    #[serde(with = "decimal::option")]
    pub roi_pct: Option<Decimal>,
    /// `None` with fewer than two daily returns or no variation.
    #[serde(with = "decimal::option")]
    pub sharpe: Option<Decimal>,
    #[serde(with = "decimal::option")]
    pub sortino: Option<Decimal>,
    pub max_drawdown: Drawdown,
    #[serde(with = "decimal::option")]
    pub win_rate_pct: Option<Decimal>,
    pub trade_count: usize,
}

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

/// Figures over the last `window` days. `daily_equity` holds one point per day, oldest
/// first, ending today (the point before the window is used as its start when present);
/// `closed_trades` holds the PnL of each trade closed in the window.
pub fn leader_figures(
    daily_equity: &[Decimal],
    closed_trades: &[Decimal],
    window: Window,
) -> LeaderFigures {
    let keep = (window.days() + 1).min(daily_equity.len());
    let curve = &daily_equity[daily_equity.len() - keep..];
    let returns = daily_returns(curve);
    let (start, end) = match (curve.first(), curve.last()) {
        (Some(s), Some(e)) => (*s, *e),
        _ => (Decimal::ZERO, Decimal::ZERO),
    };
    let pnl = end - start;
    let wins = closed_trades.iter().filter(|p| **p > Decimal::ZERO).count();
    LeaderFigures {
        pnl,
        roi_pct: (start > Decimal::ZERO).then(|| pnl / start * Decimal::ONE_HUNDRED),
        sharpe: sharpe(&returns),
        sortino: sortino(&returns),
        max_drawdown: max_drawdown(curve),
        win_rate_pct: (!closed_trades.is_empty()).then(|| {
            Decimal::from(wins) / Decimal::from(closed_trades.len()) * Decimal::ONE_HUNDRED
        }),
        trade_count: closed_trades.len(),
    }
}

/// Sorts leaders best first by Sharpe ratio; leaders without one go last, by id.
pub fn rank_by_sharpe(leaders: &mut [(String, LeaderFigures)]) {
    leaders.sort_by(|(ia, a), (ib, b)| match (a.sharpe, b.sharpe) {
        (Some(x), Some(y)) => y.cmp(&x).then_with(|| ia.cmp(ib)),
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
    fn window_figures_and_ranking() {
        let equity: Vec<Decimal> = (0..100).map(|d| dec!(1000) + Decimal::from(d)).collect();
        let f = leader_figures(
            &equity,
            &[dec!(5), dec!(-2), dec!(7), dec!(1)],
            Window::Days7,
        );
        assert_eq!(f.pnl, dec!(7), "seven days of +1");
        assert_eq!(f.trade_count, 4, "four trades");
        assert_eq!(f.win_rate_pct, Some(dec!(75)), "three of four won");
        assert_eq!(
            f.max_drawdown.amount,
            Decimal::ZERO,
            "a rising curve has no drawdown"
        );
        let mut leaders = vec![
            (
                "flat".to_owned(),
                leader_figures(&[dec!(1), dec!(1)], &[], Window::Days30),
            ),
            ("steady".to_owned(), f.clone()),
            (
                "choppy".to_owned(),
                leader_figures(
                    &[dec!(100), dec!(110), dec!(99), dec!(120)],
                    &[],
                    Window::Days30,
                ),
            ),
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
