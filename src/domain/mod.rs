//! The vocabulary every other module speaks: decimal newtypes for prices, quantities and
//! money, assets and symbols with their trading filters, and the small enums of futures
//! trading. Pure values only: no I/O, no clocks, no floats.

pub mod decimal;
pub mod filters;
pub mod num;
pub mod symbol;
pub mod trading;

pub use decimal::DecimalError;
pub use filters::{FilterViolation, Rounding, SymbolFilters};
pub use num::{Asset, Money, Price, Quantity};
pub use symbol::Symbol;
pub use trading::{MarginMode, PositionMode, PositionSide, Side};
