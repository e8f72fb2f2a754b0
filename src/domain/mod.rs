//! The vocabulary every other module speaks: decimal newtypes for prices, quantities and
//! money, assets and symbols with their trading filters, the small enums of futures
//! trading, leader signals and copy settings. Pure values only: no I/O, no clocks, no floats.

pub mod copy_state;
pub mod decimal;
pub mod filters;
pub mod num;
pub mod settings;
pub mod signal;
pub mod symbol;
pub mod trading;

pub use copy_state::CopyState;
pub use decimal::DecimalError;
pub use filters::{FilterViolation, Rounding, SymbolFilters};
pub use num::{Asset, Money, Price, Quantity};
pub use settings::{
    CopyMode, CopySettings, Preset, RiskSettings, SettingsError, SettingsErrors, SetupContext,
    SlippageAction, StartActions, StopAction, TotalStopLoss,
};
pub use signal::{LeaderFill, LeaderSignal, SignalKind};
pub use symbol::Symbol;
pub use trading::{MarginMode, PositionMode, PositionSide, Side};
