//! Client of the public lead-portfolio pages (shared/spec/binance-copy-trading.md): list,
//! detail, current positions and order history, plus klines for a price path. Decodes the
//! `{code, data, success}` envelope, accepts numbers as JSON numbers or strings (never via
//! f64), ignores unknown fields and reports — never guesses — when a known field is missing
//! or changes type. HTTP 429 and a geo-blocked 403 are their own errors. An empty positions
//! list is returned as such: only the caller, knowing whether positions are shown, decides
//! what it means, and it never means "flat".

use std::str::FromStr;
use std::time::Duration;

use rust_decimal::Decimal;
use serde_json::{json, Value};

use crate::domain::{PositionSide, Side};

/// Path prefix of the pages' API under the base URL.
pub const API: &str = "/bapi/futures/v1";

/// Why a read failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceError {
    #[error(
        "the lead-portfolio source refused: too many requests (retry after {retry_after_s} s)"
    )]
    RateLimited { retry_after_s: u64 },
    #[error(
        "the lead-portfolio source is not available from this address (HTTP 403, geo-blocked)"
    )]
    GeoBlocked,
    #[error("the lead-portfolio source changed its response format: {0}")]
    FormatChanged(String),
    #[error("the lead-portfolio source answered code {code}: {message}")]
    Refused { code: String, message: String },
    #[error("reading the lead-portfolio source failed: {0}")]
    Transport(String),
}

/// One entry of the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortfolioSummary {
    pub id: String,
    pub nickname: String,
    pub roi_pct: Option<Decimal>,
    pub pnl: Option<Decimal>,
    pub mdd_pct: Option<Decimal>,
    pub win_rate_pct: Option<Decimal>,
    pub aum: Option<Decimal>,
    pub followers: Option<u64>,
    pub sharpe: Option<Decimal>,
    pub trades: Option<u64>,
    /// `positionShow` when the list carries it.
    pub position_show: Option<bool>,
}

/// The detail page's figures that matter for copying.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortfolioDetail {
    pub id: String,
    pub nickname: String,
    pub position_show: bool,
    pub margin_balance: Option<Decimal>,
    pub last_trade_ms: Option<i64>,
}

/// One row of the positions list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortfolioPosition {
    pub symbol: String,
    pub position_side: PositionSide,
    /// Signed: long positive (one-way `BOTH` rows carry the sign; hedge `SHORT` rows are
    /// made negative here).
    pub amount: Decimal,
    pub entry_price: Decimal,
    pub mark_price: Decimal,
    pub leverage: u32,
    pub isolated: bool,
    /// Realized PnL booked on this row so far (`cumRealized`), when given.
    pub cum_realized: Option<Decimal>,
}

/// A filled order of the order history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortfolioOrder {
    pub id: String,
    pub symbol: String,
    pub side: Side,
    pub position_side: PositionSide,
    pub qty: Decimal,
    pub avg_price: Decimal,
    pub reduce_only: bool,
    pub realized_pnl: Decimal,
    pub time_ms: i64,
}

/// The performance page's figures for one range.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PortfolioPerformance {
    pub roi_pct: Option<Decimal>,
    pub pnl: Option<Decimal>,
    pub mdd_pct: Option<Decimal>,
    pub win_rate_pct: Option<Decimal>,
    pub sharpe: Option<Decimal>,
    pub sortino: Option<Decimal>,
    pub trades: Option<u64>,
}

/// One kline: open time and close price.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KlineClose {
    pub open_ms: i64,
    pub close_ms: i64,
    pub close: Decimal,
}

/// A client of the portfolio pages' base URL (`https://www.binance.com`, or a simulator)
/// and of the market API's base URL for klines and rules (`https://fapi.binance.com`; the
/// simulator serves both on one address).
#[derive(Debug, Clone)]
pub struct PortfolioClient {
    base: String,
    market: String,
    http: reqwest::Client,
}

/// Binance's pages and market API.
pub const BINANCE_PAGES: &str = "https://www.binance.com";
pub const BINANCE_MARKET: &str = "https://fapi.binance.com";

/// A decimal from a JSON number or string, read from its text (never via f64).
pub fn decimal(v: &Value) -> Option<Decimal> {
    match v {
        Value::String(s) => crate::domain::decimal::parse_decimal(s).ok(),
        Value::Number(n) => {
            let s = n.to_string();
            Decimal::from_str(&s)
                .or_else(|_| Decimal::from_scientific(&s))
                .ok()
        }
        _ => None,
    }
}

fn int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn need<'a>(row: &'a Value, field: &str, what: &str) -> Result<&'a Value, SourceError> {
    row.get(field)
        .filter(|v| !v.is_null())
        .ok_or_else(|| SourceError::FormatChanged(format!("{what}: field `{field}` is missing")))
}

fn need_dec(row: &Value, field: &str, what: &str) -> Result<Decimal, SourceError> {
    let v = need(row, field, what)?;
    decimal(v).ok_or_else(|| {
        SourceError::FormatChanged(format!("{what}: field `{field}` is not a number ({v})"))
    })
}

fn need_str(row: &Value, field: &str, what: &str) -> Result<String, SourceError> {
    let v = need(row, field, what)?;
    v.as_str().map(str::to_owned).ok_or_else(|| {
        SourceError::FormatChanged(format!("{what}: field `{field}` is not text ({v})"))
    })
}

fn position_side(s: &str, what: &str) -> Result<PositionSide, SourceError> {
    match s {
        "BOTH" => Ok(PositionSide::Both),
        "LONG" => Ok(PositionSide::Long),
        "SHORT" => Ok(PositionSide::Short),
        _ => Err(SourceError::FormatChanged(format!(
            "{what}: unknown positionSide `{s}`"
        ))),
    }
}

impl PortfolioClient {
    /// One base URL for both the pages and the market API (a simulator).
    pub fn new(base: &str) -> Result<Self, SourceError> {
        Self::with_market(base, base)
    }

    /// Separate base URLs for the pages and the market API.
    pub fn with_market(pages: &str, market: &str) -> Result<Self, SourceError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| SourceError::Transport(e.to_string()))?;
        Ok(Self {
            base: pages.trim_end_matches('/').to_owned(),
            market: market.trim_end_matches('/').to_owned(),
            http,
        })
    }

    /// Binance's real pages and market API.
    pub fn binance() -> Result<Self, SourceError> {
        Self::with_market(BINANCE_PAGES, BINANCE_MARKET)
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Result<Value, SourceError> {
        let resp = req
            .send()
            .await
            .map_err(|e| SourceError::Transport(e.to_string()))?;
        let status = resp.status().as_u16();
        let retry = resp
            .headers()
            .get("Retry-After")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        let text = resp
            .text()
            .await
            .map_err(|e| SourceError::Transport(e.to_string()))?;
        match status {
            429 | 418 => {
                return Err(SourceError::RateLimited {
                    retry_after_s: retry.unwrap_or(60),
                })
            }
            403 => return Err(SourceError::GeoBlocked),
            200..=299 => {}
            s => return Err(SourceError::Transport(format!("HTTP {s}"))),
        }
        let v: Value = serde_json::from_str(&text)
            .map_err(|_| SourceError::FormatChanged("the answer is not JSON".to_owned()))?;
        Ok(v)
    }

    /// Unwraps the envelope: `data` when `success`, the refusal otherwise.
    async fn envelope(&self, req: reqwest::RequestBuilder) -> Result<Value, SourceError> {
        let v = self.send(req).await?;
        let code = match v.get("code") {
            Some(Value::String(c)) => c.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => {
                return Err(SourceError::FormatChanged(
                    "the envelope has no `code`".to_owned(),
                ))
            }
        };
        if code != "000000" || v.get("success") == Some(&Value::Bool(false)) {
            return Err(SourceError::Refused {
                code,
                message: v
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned(),
            });
        }
        v.get("data")
            .cloned()
            .ok_or_else(|| SourceError::FormatChanged("the envelope has no `data`".to_owned()))
    }

    fn url(&self, path: &str) -> String {
        format!("{}{API}{path}", self.base)
    }

    /// The list for a range (`7D`, `30D`, `90D`), sorted by ROI, first `page_size` entries.
    pub async fn list(
        &self,
        range: &str,
        page_size: u32,
    ) -> Result<Vec<PortfolioSummary>, SourceError> {
        let body = json!({"pageNumber": 1, "pageSize": page_size, "timeRange": range,
            "dataType": "ROI", "favoriteOnly": false, "hideFull": false, "nickname": "",
            "order": "DESC", "userAsset": 0, "portfolioType": "ALL"});
        let data = self
            .envelope(
                self.http
                    .post(self.url("/friendly/future/copy-trade/home-page/query-list"))
                    .json(&body),
            )
            .await?;
        let list = data
            .get("list")
            .and_then(Value::as_array)
            .ok_or_else(|| SourceError::FormatChanged("list: `data.list` is missing".to_owned()))?;
        list.iter()
            .map(|r| {
                Ok(PortfolioSummary {
                    id: need_str(r, "leadPortfolioId", "list")?,
                    nickname: need_str(r, "nickname", "list")?,
                    roi_pct: r.get("roi").and_then(decimal),
                    pnl: r.get("pnl").and_then(decimal),
                    mdd_pct: r.get("mdd").and_then(decimal),
                    win_rate_pct: r.get("winRate").and_then(decimal),
                    aum: r.get("aum").and_then(decimal),
                    followers: r
                        .get("currentCopyCount")
                        .and_then(int)
                        .map(|n| n.max(0) as u64),
                    sharpe: r.get("sharpRatio").and_then(decimal),
                    trades: r.get("tradeCount").and_then(int).map(|n| n.max(0) as u64),
                    position_show: r.get("positionShow").and_then(Value::as_bool),
                })
            })
            .collect()
    }

    pub async fn detail(&self, id: &str) -> Result<PortfolioDetail, SourceError> {
        let data = self
            .envelope(
                self.http
                    .get(self.url("/friendly/future/copy-trade/lead-portfolio/detail"))
                    .query(&[("portfolioId", id)]),
            )
            .await?;
        let show = need(&data, "positionShow", "detail")?
            .as_bool()
            .ok_or_else(|| {
                SourceError::FormatChanged("detail: `positionShow` is not true/false".to_owned())
            })?;
        Ok(PortfolioDetail {
            id: id.to_owned(),
            nickname: data
                .get("nickname")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
            position_show: show,
            margin_balance: data.get("marginBalance").and_then(decimal),
            last_trade_ms: data.get("lastTradeTime").and_then(int),
        })
    }

    /// Current positions, rows as listed (flat ones included). An empty list comes back
    /// empty: the caller must not read it as flat.
    pub async fn positions(&self, id: &str) -> Result<Vec<PortfolioPosition>, SourceError> {
        let data = self
            .envelope(
                self.http
                    .get(self.url("/friendly/future/copy-trade/lead-data/positions"))
                    .query(&[("portfolioId", id)]),
            )
            .await?;
        let rows = data.as_array().ok_or_else(|| {
            SourceError::FormatChanged("positions: `data` is not a list".to_owned())
        })?;
        rows.iter()
            .map(|r| {
                let what = "positions";
                let side = position_side(&need_str(r, "positionSide", what)?, what)?;
                let mut amount = need_dec(r, "positionAmount", what)?;
                if side == PositionSide::Short && amount > Decimal::ZERO {
                    amount = -amount;
                }
                let leverage = int(need(r, "leverage", what)?).ok_or_else(|| {
                    SourceError::FormatChanged("positions: `leverage` is not an integer".into())
                })?;
                Ok(PortfolioPosition {
                    symbol: need_str(r, "symbol", what)?,
                    position_side: side,
                    amount,
                    entry_price: need_dec(r, "entryPrice", what)?,
                    mark_price: need_dec(r, "markPrice", what)?,
                    leverage: u32::try_from(leverage.max(1)).unwrap_or(1),
                    isolated: r.get("isolated").and_then(Value::as_bool).unwrap_or(false),
                    cum_realized: r.get("cumRealized").and_then(decimal),
                })
            })
            .collect()
    }

    /// Filled orders in `[start, end]`, oldest first, reading every page.
    pub async fn order_history(
        &self,
        id: &str,
        start_ms: i64,
        end_ms: i64,
    ) -> Result<Vec<PortfolioOrder>, SourceError> {
        const PAGE: usize = 500;
        let mut out = Vec::new();
        for page in 1.. {
            let data = self
                .envelope(
                    self.http
                        .post(self.url("/friendly/future/copy-trade/lead-portfolio/order-history"))
                        .json(
                            &json!({"portfolioId": id, "startTime": start_ms, "endTime": end_ms,
                            "pageNumber": page, "pageSize": PAGE}),
                        ),
                )
                .await?;
            let list = data.get("list").and_then(Value::as_array).ok_or_else(|| {
                SourceError::FormatChanged("order history: `data.list` is missing".to_owned())
            })?;
            for r in list {
                let what = "order history";
                let side = match need_str(r, "side", what)?.as_str() {
                    "BUY" => Side::Buy,
                    "SELL" => Side::Sell,
                    s => {
                        return Err(SourceError::FormatChanged(format!(
                            "{what}: unknown side `{s}`"
                        )))
                    }
                };
                out.push(PortfolioOrder {
                    id: need(r, "orderId", what)?
                        .to_string()
                        .trim_matches('"')
                        .to_owned(),
                    symbol: need_str(r, "symbol", what)?,
                    side,
                    position_side: position_side(&need_str(r, "positionSide", what)?, what)?,
                    qty: need_dec(r, "executedQty", what)?,
                    avg_price: need_dec(r, "avgPrice", what)?,
                    reduce_only: r
                        .get("reduceOnly")
                        .and_then(Value::as_bool)
                        .unwrap_or(false),
                    realized_pnl: r.get("totalPnl").and_then(decimal).unwrap_or_default(),
                    time_ms: int(need(r, "orderUpdateTime", what)?).ok_or_else(|| {
                        SourceError::FormatChanged(format!(
                            "{what}: `orderUpdateTime` is not a time"
                        ))
                    })?,
                });
            }
            if list.len() < PAGE {
                break;
            }
        }
        out.sort_by_key(|o| o.time_ms);
        Ok(out)
    }

    /// Summary figures for a range (`7D`, `30D`, `90D`).
    pub async fn performance(
        &self,
        id: &str,
        range: &str,
    ) -> Result<PortfolioPerformance, SourceError> {
        let d = self
            .envelope(
                self.http
                    .get(self.url("/public/future/copy-trade/lead-portfolio/performance"))
                    .query(&[("portfolioId", id), ("timeRange", range)]),
            )
            .await?;
        Ok(PortfolioPerformance {
            roi_pct: d.get("roi").and_then(decimal),
            pnl: d.get("pnl").and_then(decimal),
            mdd_pct: d.get("mdd").and_then(decimal),
            win_rate_pct: d.get("winRate").and_then(decimal),
            sharpe: d.get("sharpRatio").and_then(decimal),
            sortino: d.get("sortinoRatio").and_then(decimal),
            trades: d.get("totalOrder").and_then(int).map(|n| n.max(0) as u64),
        })
    }

    /// The cumulative PnL chart for a range: `(time, value)` points, oldest first.
    pub async fn pnl_chart(
        &self,
        id: &str,
        range: &str,
    ) -> Result<Vec<(i64, Decimal)>, SourceError> {
        let d = self
            .envelope(
                self.http
                    .get(self.url("/public/future/copy-trade/lead-portfolio/chart-data"))
                    .query(&[
                        ("portfolioId", id),
                        ("timeRange", range),
                        ("dataType", "PNL"),
                    ]),
            )
            .await?;
        let rows = d.as_array().ok_or_else(|| {
            SourceError::FormatChanged("chart data: `data` is not a list".to_owned())
        })?;
        let mut pts = rows
            .iter()
            .map(|r| {
                let t = r
                    .get("dateTime")
                    .or_else(|| r.get("time"))
                    .and_then(int)
                    .ok_or_else(|| {
                        SourceError::FormatChanged("chart data: no `dateTime`".into())
                    })?;
                Ok((t, need_dec(r, "value", "chart data")?))
            })
            .collect::<Result<Vec<_>, SourceError>>()?;
        pts.sort_by_key(|(t, _)| *t);
        Ok(pts)
    }

    /// Trading rules of every symbol (`/fapi/v1/exchangeInfo` of the same base URL).
    pub async fn symbol_rules(&self) -> Result<Vec<crate::exchange::SymbolRules>, SourceError> {
        let resp = self
            .http
            .get(format!("{}/fapi/v1/exchangeInfo", self.market))
            .send()
            .await
            .map_err(|e| SourceError::Transport(e.to_string()))?;
        let body = resp
            .bytes()
            .await
            .map_err(|e| SourceError::Transport(e.to_string()))?;
        let info = crate::exchange::binance_usdm::parse::decode::<
            crate::exchange::binance_usdm::parse::ExchangeInfo,
        >("exchangeInfo", &body)
        .map_err(|e| SourceError::FormatChanged(e.to_string()))?;
        Ok(crate::exchange::binance_usdm::filters::rules_from_exchange_info(info))
    }

    /// Kline closes of `symbol` from the venue's market API (`/fapi/v1/klines`), every page
    /// from `start` to `end`.
    pub async fn kline_closes(
        &self,
        symbol: &str,
        interval: &str,
        start_ms: i64,
        end_ms: i64,
    ) -> Result<Vec<KlineClose>, SourceError> {
        let mut out: Vec<KlineClose> = Vec::new();
        let mut from = start_ms;
        loop {
            let v = self
                .send(
                    self.http
                        .get(format!("{}/fapi/v1/klines", self.market))
                        .query(&[
                            ("symbol", symbol.to_owned()),
                            ("interval", interval.to_owned()),
                            ("startTime", from.to_string()),
                            ("endTime", end_ms.to_string()),
                            ("limit", "1500".to_owned()),
                        ]),
                )
                .await?;
            let rows = v.as_array().ok_or_else(|| {
                SourceError::FormatChanged("klines: the answer is not a list".to_owned())
            })?;
            for r in rows {
                let (Some(open), Some(close_t), Some(close)) = (
                    r.get(0).and_then(int),
                    r.get(6).and_then(int),
                    r.get(4).and_then(decimal),
                ) else {
                    return Err(SourceError::FormatChanged(format!(
                        "klines: unexpected row {r}"
                    )));
                };
                out.push(KlineClose {
                    open_ms: open,
                    close_ms: close_t,
                    close,
                });
            }
            match out.last() {
                Some(k) if rows.len() == 1500 && k.close_ms < end_ms => from = k.close_ms + 1,
                _ => break,
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn decimals_come_from_numbers_or_strings_without_floats() {
        let v: Value = serde_json::from_str(r#"[25.5, "0.1", 1e-3, 12, true]"#).expect("json");
        assert_eq!(decimal(&v[0]), Some(dec!(25.5)), "a JSON number");
        assert_eq!(decimal(&v[1]), Some(dec!(0.1)), "a string");
        assert_eq!(decimal(&v[2]), Some(dec!(0.001)), "scientific notation");
        assert_eq!(decimal(&v[3]), Some(dec!(12)), "an integer");
        assert_eq!(decimal(&v[4]), None, "not a number");
    }
}
