//! How values are written to and read from SQLite columns. Decimals are TEXT in their exact
//! written form (scale kept), never REAL, so `0.010` reads back as `0.010`; timestamps are
//! integer milliseconds since the Unix epoch, UTC.

use std::str::FromStr;

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};
use rust_decimal::Decimal;

/// A decimal as a SQLite column value: TEXT on the way in, exactly parsed on the way out.
/// A column holding anything but decimal text is an error, not a rounded number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecText(pub Decimal);

impl ToSql for DecText {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(self.0.to_string()))
    }
}

impl FromSql for DecText {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        match value {
            ValueRef::Text(bytes) => {
                let s = std::str::from_utf8(bytes).map_err(|e| FromSqlError::Other(Box::new(e)))?;
                Decimal::from_str(s)
                    .map(DecText)
                    .map_err(|e| FromSqlError::Other(Box::new(e)))
            }
            _ => Err(FromSqlError::InvalidType),
        }
    }
}

/// Reads a decimal column (by name or by position).
pub(crate) fn dec(
    row: &rusqlite::Row<'_>,
    column: impl rusqlite::RowIndex,
) -> rusqlite::Result<Decimal> {
    Ok(row.get::<_, DecText>(column)?.0)
}

/// Reads a nullable decimal column (by name or by position).
pub(crate) fn opt_dec(
    row: &rusqlite::Row<'_>,
    column: impl rusqlite::RowIndex,
) -> rusqlite::Result<Option<Decimal>> {
    Ok(row.get::<_, Option<DecText>>(column)?.map(|d| d.0))
}

/// Binds an optional decimal.
pub(crate) fn opt(d: Option<Decimal>) -> Option<DecText> {
    d.map(DecText)
}

/// Milliseconds since the Unix epoch, UTC: the one time format of every table.
pub type TimestampMs = i64;

/// The current time as [`TimestampMs`]. A clock before 1970 reads as 0.
pub fn now_ms() -> TimestampMs {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Declares a text-backed enum column: `as_str` for writing, `FromSql` for reading, and an
/// error naming the column's allowed values when the text is unknown.
macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $(#[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            pub fn parse(s: &str) -> Option<Self> {
                match s {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl rusqlite::types::ToSql for $name {
            fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
                Ok(rusqlite::types::ToSqlOutput::from(self.as_str()))
            }
        }

        impl rusqlite::types::FromSql for $name {
            fn column_result(
                value: rusqlite::types::ValueRef<'_>,
            ) -> rusqlite::types::FromSqlResult<Self> {
                let s = value.as_str()?;
                $name::parse(s).ok_or_else(|| {
                    rusqlite::types::FromSqlError::Other(
                        format!(
                            "`{s}` is not a {}; expected one of: {}",
                            stringify!($name),
                            [$($text),+].join(", ")
                        )
                        .into(),
                    )
                })
            }
        }
    };
}
pub(crate) use text_enum;

/// Stores a domain enum as its lower-case text, naming the allowed values on a bad read.
macro_rules! domain_text {
    ($ty:path { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl rusqlite::types::ToSql for $ty {
            fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
                use $ty as T;
                Ok(ToSqlOutput::from(match self {
                    $(T::$variant => $text),+
                }))
            }
        }

        impl FromSql for $ty {
            fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
                use $ty as T;
                match value.as_str()? {
                    $($text => Ok(T::$variant),)+
                    other => Err(FromSqlError::Other(
                        format!("`{other}` is not one of: {}", [$($text),+].join(", ")).into(),
                    )),
                }
            }
        }
    };
}

domain_text!(crate::domain::Side { Buy => "buy", Sell => "sell" });
domain_text!(crate::domain::PositionSide { Both => "both", Long => "long", Short => "short" });
domain_text!(crate::domain::MarginMode { Cross => "cross", Isolated => "isolated" });
domain_text!(crate::domain::CopyState {
    Created => "created", Running => "running", Paused => "paused", Stopped => "stopped"
});
