//! Newtypes over [`Decimal`] for the three kinds of number that move money: a price
//! (positive), a quantity (never negative) and an amount of money in a named asset.
//! There are no float constructors; values come from decimals or decimal text.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::decimal::{self, parse_decimal, DecimalError};

macro_rules! decimal_serde {
    ($ty:ident) => {
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                decimal::serialize(&self.0, s)
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let v = decimal::deserialize(d)?;
                $ty::new(v).map_err(serde::de::Error::custom)
            }
        }

        impl FromStr for $ty {
            type Err = DecimalError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $ty::new(parse_decimal(s)?)
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl From<$ty> for Decimal {
            fn from(v: $ty) -> Decimal {
                v.0
            }
        }
    };
}

/// A price: strictly positive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Price(Decimal);

impl Price {
    pub fn new(value: Decimal) -> Result<Self, DecimalError> {
        if value <= Decimal::ZERO {
            return Err(DecimalError::NotPositive {
                what: "price",
                value,
            });
        }
        Ok(Self(value))
    }

    pub fn get(self) -> Decimal {
        self.0
    }
}
decimal_serde!(Price);

/// A quantity in base units (coins, not contracts): zero or more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Quantity(Decimal);

impl Quantity {
    pub const ZERO: Quantity = Quantity(Decimal::ZERO);

    pub fn new(value: Decimal) -> Result<Self, DecimalError> {
        if value.is_sign_negative() && !value.is_zero() {
            return Err(DecimalError::Negative {
                what: "quantity",
                value,
            });
        }
        Ok(Self(value))
    }

    pub fn get(self) -> Decimal {
        self.0
    }

    pub fn is_zero(self) -> bool {
        self.0.is_zero()
    }

    /// `self - other`, or zero when `other` is larger.
    pub fn saturating_sub(self, other: Quantity) -> Quantity {
        Quantity((self.0 - other.0).max(Decimal::ZERO))
    }

    /// Notional value at `price`.
    pub fn notional(self, price: Price) -> Decimal {
        self.0 * price.0
    }
}

impl std::ops::Add for Quantity {
    type Output = Quantity;
    fn add(self, rhs: Quantity) -> Quantity {
        Quantity(self.0 + rhs.0)
    }
}
decimal_serde!(Quantity);

/// An asset code such as `USDT`: 1 to 16 upper-case letters or digits.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Asset(String);

impl Asset {
    pub fn new(code: &str) -> Result<Self, AssetError> {
        let ok = (1..=16).contains(&code.len())
            && code
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
        if ok {
            Ok(Self(code.to_owned()))
        } else {
            Err(AssetError(code.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn usdt() -> Self {
        Self("USDT".into())
    }

    pub fn usdc() -> Self {
        Self("USDC".into())
    }
}

impl fmt::Display for Asset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Asset {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Asset::new(&s).map_err(serde::de::Error::custom)
    }
}

/// An asset code that is not 1–16 upper-case letters or digits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an asset code; use upper-case letters and digits, like USDT")]
pub struct AssetError(pub String);

/// An amount of money in one asset. Signed: PnL and fees can be negative.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    #[serde(with = "decimal")]
    pub amount: Decimal,
    pub asset: Asset,
}

impl Money {
    pub fn new(amount: Decimal, asset: Asset) -> Self {
        Self { amount, asset }
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.amount, self.asset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn price_must_be_positive() {
        assert!(Price::new(Decimal::ZERO).is_err(), "zero price refused");
        assert!(
            Price::new(Decimal::NEGATIVE_ONE).is_err(),
            "negative refused"
        );
        assert_eq!(
            "50000.5".parse::<Price>().expect("parses").get(),
            Decimal::new(500005, 1)
        );
    }

    #[test]
    fn quantity_is_never_negative() {
        let err = Quantity::new(Decimal::new(-1, 3)).expect_err("negative refused");
        assert_eq!(
            err.to_string(),
            "quantity must not be negative (got -0.001)"
        );
        assert!(Quantity::new(Decimal::ZERO).is_ok(), "zero allowed");
        let a = Quantity::new(Decimal::ONE).expect("valid");
        let b = Quantity::new(Decimal::TWO).expect("valid");
        assert_eq!(a.saturating_sub(b), Quantity::ZERO);
    }

    #[test]
    fn newtypes_cross_json_as_strings() {
        let q: Quantity = serde_json::from_str("\"0.010\"").expect("string parses");
        assert_eq!(serde_json::to_string(&q).expect("serialises"), "\"0.01\"");
        let err = serde_json::from_str::<Quantity>("\"-1\"").expect_err("negative refused");
        assert!(err.to_string().contains("must not be negative"), "{err}");
        assert!(
            serde_json::from_str::<Price>("1.5").is_err(),
            "float refused"
        );
    }

    #[test]
    fn money_round_trips_with_its_asset() {
        let m = Money::new(Decimal::new(-125, 1), Asset::usdt());
        let json = serde_json::to_string(&m).expect("serialises");
        assert_eq!(json, r#"{"amount":"-12.5","asset":"USDT"}"#);
        assert_eq!(serde_json::from_str::<Money>(&json).expect("parses"), m);
        assert_eq!(m.to_string(), "-12.5 USDT");
        assert!(Asset::new("usdt").is_err(), "lower case refused");
    }
}
