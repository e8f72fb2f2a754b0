//! Decimal parsing and serde helpers. Decimals cross JSON, IPC and config files as strings;
//! on input, a string or an integer is accepted and a float is refused, because a float has
//! already lost the exact value the user typed.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::de::{self, Visitor};
use serde::{Deserializer, Serializer};

/// Why a decimal input was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecimalError {
    #[error("`{input}` is not a decimal number; write it like \"12.5\"")]
    NotANumber { input: String },
    #[error("{what} must not be negative (got {value})")]
    Negative { what: &'static str, value: Decimal },
    #[error("{what} must be greater than zero (got {value})")]
    NotPositive { what: &'static str, value: Decimal },
}

/// Parses a decimal written as text, trimming surrounding spaces. Scientific notation
/// (`1e-3`) is accepted because some venues emit it.
pub fn parse_decimal(input: &str) -> Result<Decimal, DecimalError> {
    let s = input.trim();
    Decimal::from_str(s)
        .or_else(|_| Decimal::from_scientific(s))
        .map_err(|_| DecimalError::NotANumber {
            input: input.to_owned(),
        })
}

/// Serialises a decimal as a JSON string, the only form that keeps every digit.
pub fn serialize<S: Serializer>(value: &Decimal, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(&value.normalize())
}

/// Deserialises a decimal from a string or an integer; a float is refused with a message
/// that says how to write it instead.
pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Decimal, D::Error> {
    deserializer.deserialize_any(DecimalVisitor)
}

struct DecimalVisitor;

impl Visitor<'_> for DecimalVisitor {
    type Value = Decimal;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a decimal written as a string, like \"0.1\", or a whole number")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Decimal, E> {
        parse_decimal(v).map_err(E::custom)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Decimal, E> {
        Ok(Decimal::from(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Decimal, E> {
        Ok(Decimal::from(v))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Decimal, E> {
        Decimal::try_from_i128_with_scale(v, 0).map_err(|_| E::custom("integer out of range"))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Decimal, E> {
        i128::try_from(v)
            .ok()
            .and_then(|v| Decimal::try_from_i128_with_scale(v, 0).ok())
            .ok_or_else(|| E::custom("integer out of range"))
    }
}

/// The same rules for an optional decimal (`null` or absent is `None`).
pub mod option {
    use super::*;
    use serde::Deserialize;

    pub fn serialize<S: Serializer>(value: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(v) => super::serialize(v, s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
        #[derive(Deserialize)]
        struct Wrap(#[serde(with = "super")] Decimal);
        Ok(Option::<Wrap>::deserialize(d)?.map(|w| w.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::{Deserialize, Serialize};

    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    struct Holder {
        #[serde(with = "super")]
        v: Decimal,
    }

    #[test]
    fn accepts_strings_and_integers() {
        let h: Holder = serde_json::from_str(r#"{"v":"0.10"}"#).expect("string form parses");
        assert_eq!(h.v, Decimal::new(10, 2));
        let h: Holder = serde_json::from_str(r#"{"v":1000}"#).expect("integer form parses");
        assert_eq!(h.v, Decimal::from(1000));
        let h: Holder = toml::from_str("v = \"2.5\"").expect("toml string parses");
        assert_eq!(h.v, Decimal::new(25, 1));
    }

    #[test]
    fn refuses_floats_with_the_fix() {
        let err = serde_json::from_str::<Holder>(r#"{"v":0.1}"#).expect_err("float refused");
        assert!(
            err.to_string().contains("like \"0.1\""),
            "message should show the string form: {err}"
        );
        let err = toml::from_str::<Holder>("v = 0.1").expect_err("toml float refused");
        assert!(err.to_string().contains("string"), "toml message: {err}");
    }

    #[test]
    fn refuses_garbage_naming_the_input() {
        let err = serde_json::from_str::<Holder>(r#"{"v":"12,5"}"#).expect_err("comma refused");
        assert!(err.to_string().contains("`12,5`"), "names the input: {err}");
    }

    #[test]
    fn serialises_as_normalised_string() {
        let s = serde_json::to_string(&Holder {
            v: Decimal::new(1000, 2),
        })
        .expect("serialises");
        assert_eq!(s, r#"{"v":"10"}"#);
    }
}
