//! Leader figures (ROI, PnL, Sharpe, drawdown, win rate, hold time, leverage), the
//! what-if replay and the periods of profit-share statements. Owns computations over
//! histories; performs no I/O.

pub mod figures;
pub mod history;
pub mod replay;
pub mod statements;
