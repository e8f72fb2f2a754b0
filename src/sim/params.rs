//! Request parameters as Binance reads them: the query string and a form body merged,
//! the query winning when a name appears in both, with typed getters that answer with
//! Binance's parameter errors.

use std::collections::HashMap;
use std::str::FromStr;

use rust_decimal::Decimal;

use super::error::{WireError, WireResult};

/// Largest magnitude a decimal parameter may have.
pub const MAX_DECIMAL: Decimal = Decimal::from_parts(2_764_472_320, 232_830, 0, false, 0);

#[derive(Debug, Default, Clone)]
pub struct Params(HashMap<String, String>);

impl Params {
    pub fn parse(raw_query: &str, raw_body: &str) -> Self {
        let mut map = HashMap::new();
        for (k, v) in url::form_urlencoded::parse(raw_body.as_bytes()) {
            map.insert(k.into_owned(), v.into_owned());
        }
        for (k, v) in url::form_urlencoded::parse(raw_query.as_bytes()) {
            map.insert(k.into_owned(), v.into_owned());
        }
        Self(map)
    }

    pub fn from_pairs(pairs: &[(&str, &str)]) -> Self {
        Self(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    pub fn has(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }

    pub fn opt(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    pub fn req(&self, name: &str) -> WireResult<&str> {
        self.opt(name).ok_or_else(|| WireError::mandatory(name))
    }

    /// A decimal parameter. Values beyond ±10^15 are refused like malformed ones, so no
    /// later arithmetic on them can overflow.
    pub fn decimal(&self, name: &str) -> WireResult<Option<Decimal>> {
        match self.opt(name) {
            None => Ok(None),
            Some(v) => Decimal::from_str(v.trim())
                .ok()
                .filter(|d| d.abs() <= MAX_DECIMAL)
                .map(Some)
                .ok_or_else(|| WireError::mandatory(name)),
        }
    }

    pub fn req_decimal(&self, name: &str) -> WireResult<Decimal> {
        self.decimal(name)?
            .ok_or_else(|| WireError::mandatory(name))
    }

    pub fn int<T: FromStr>(&self, name: &str) -> WireResult<Option<T>> {
        match self.opt(name) {
            None => Ok(None),
            Some(v) => v.parse().map(Some).map_err(|_| WireError::mandatory(name)),
        }
    }

    pub fn bool(&self, name: &str) -> WireResult<Option<bool>> {
        match self.opt(name).map(str::to_ascii_lowercase).as_deref() {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(_) => Err(WireError::mandatory(name)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_decimal_is_ten_to_the_fifteen() {
        assert_eq!(
            MAX_DECIMAL,
            Decimal::from(1_000_000_000_000_000_i64),
            "bound is 10^15"
        );
        let p = Params::parse("a=1e30&b=1000000000000001&c=12.5", "");
        assert_eq!(
            p.decimal("a").map_err(|e| e.code),
            Err(-1102),
            "exponent form refused"
        );
        assert_eq!(
            p.decimal("b").map_err(|e| e.code),
            Err(-1102),
            "above the bound refused"
        );
        assert_eq!(
            p.decimal("c").ok().flatten(),
            Some(Decimal::new(125, 1)),
            "plain decimal read"
        );
    }

    #[test]
    fn query_wins_over_body() {
        let p = Params::parse("symbol=BTCUSDT", "symbol=ETHUSDT&side=BUY");
        assert_eq!(p.opt("symbol"), Some("BTCUSDT"), "query string wins");
        assert_eq!(p.opt("side"), Some("BUY"), "body parameters are read");
    }
}
