//! Leader figures (ROI, PnL, Sharpe, drawdown, win rate, hold time, leverage) and the
//! what-if replay. Owns computations over histories; performs no I/O.

pub mod figures;
pub mod history;
pub mod replay;
