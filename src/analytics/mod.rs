//! Leader figures (ROI, PnL, Sharpe, drawdown, win rate) and what-if replay.
//! Owns computations over histories; performs no I/O.

pub mod leader;
