//! Binance USD-M payloads in Binance's own shapes, and the one decoding entry point.
//!
//! Numbers: Binance sends decimals as strings, which become `Decimal` directly. A few
//! decimal fields are sometimes JSON integers; those are read through the domain decimal
//! visitor, which accepts integers exactly and refuses JSON floats outright. serde_json
//! (without its `arbitrary_precision` feature, which would change number handling for the
//! whole workspace) turns a JSON float into an `f64` before any visitor sees it, so a float
//! can never be read exactly; the only float Binance sends on a path we use
//! (`positionMargin`'s echoed `amount`) is simply not read. Times and ids are integers.
//! Unknown fields are ignored so new venue fields do not break decoding; missing or
//! malformed known fields fail with the field's path named.

use rust_decimal::Decimal;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};

use crate::domain::decimal;
use crate::exchange::error::ExchangeError;

/// Decodes `body` as `T`; errors name `what` and the failing field's path.
pub fn decode<T: DeserializeOwned>(what: &str, body: &[u8]) -> Result<T, ExchangeError> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        ExchangeError::Decode {
            what: what.to_owned(),
            detail: format!("field `{path}`: {}", e.into_inner()),
        }
    })
}

/// An integer that some payload versions send as a string (e.g. `listenKeyExpired.E`).
pub fn int_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        Int(i64),
        Str(String),
    }
    match Either::deserialize(d)? {
        Either::Int(v) => Ok(v),
        Either::Str(s) => s
            .trim()
            .parse()
            .map_err(|_| serde::de::Error::custom(format!("`{s}` is not an integer"))),
    }
}

/// Same as [`int_or_string`] for an optional field.
pub fn opt_int_or_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    #[derive(Deserialize)]
    struct Wrap(#[serde(deserialize_with = "int_or_string")] i64);
    Ok(Option::<Wrap>::deserialize(d)?.map(|w| w.0))
}

/// An optional decimal where the venue writes "absent" as an empty string.
pub fn opt_decimal_or_empty<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        Str(String),
        Int(i64),
    }
    match Option::<Either>::deserialize(d)? {
        None => Ok(None),
        Some(Either::Int(v)) => Ok(Some(Decimal::from(v))),
        Some(Either::Str(s)) if s.trim().is_empty() => Ok(None),
        Some(Either::Str(s)) => decimal::parse_decimal(&s)
            .map(Some)
            .map_err(serde::de::Error::custom),
    }
}

/// `{"code": …, "msg": …}`: errors, and also some success bodies (`code` 200). `code` is
/// an integer almost everywhere and a string in the algo cancel answer.
#[derive(Debug, Clone, Deserialize)]
pub struct CodeMsg {
    #[serde(deserialize_with = "int_or_string")]
    pub code: i64,
    #[serde(default)]
    pub msg: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerTime {
    pub server_time: i64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExchangeInfo {
    #[serde(default)]
    pub rate_limits: Vec<RateLimit>,
    pub symbols: Vec<RawSymbol>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RateLimit {
    pub rate_limit_type: String,
    pub interval: String,
    pub interval_num: u32,
    pub limit: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawSymbol {
    pub symbol: String,
    pub status: String,
    #[serde(default)]
    pub contract_type: String,
    pub base_asset: String,
    pub quote_asset: String,
    pub margin_asset: String,
    pub filters: Vec<RawFilter>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "filterType")]
pub enum RawFilter {
    #[serde(rename = "PRICE_FILTER", rename_all = "camelCase")]
    Price {
        #[serde(with = "decimal")]
        min_price: Decimal,
        #[serde(with = "decimal")]
        max_price: Decimal,
        #[serde(with = "decimal")]
        tick_size: Decimal,
    },
    #[serde(rename = "LOT_SIZE", rename_all = "camelCase")]
    LotSize {
        #[serde(with = "decimal")]
        min_qty: Decimal,
        #[serde(with = "decimal")]
        max_qty: Decimal,
        #[serde(with = "decimal")]
        step_size: Decimal,
    },
    #[serde(rename = "MARKET_LOT_SIZE", rename_all = "camelCase")]
    MarketLotSize {
        #[serde(with = "decimal")]
        min_qty: Decimal,
        #[serde(with = "decimal")]
        max_qty: Decimal,
        #[serde(with = "decimal")]
        step_size: Decimal,
    },
    #[serde(rename = "MIN_NOTIONAL")]
    MinNotional {
        #[serde(with = "decimal")]
        notional: Decimal,
    },
    /// Filters the copier does not check itself (order counts, percent price: the venue
    /// enforces them and its rejection is reported).
    #[serde(other)]
    Other,
}

/// `GET /fapi/v3/account`. Its `positions` lack entry and mark prices, so positions are
/// read from `positionRisk` instead and this list is ignored.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawAccount {
    #[serde(with = "decimal")]
    pub total_margin_balance: Decimal,
    #[serde(with = "decimal")]
    pub available_balance: Decimal,
    pub assets: Vec<RawAccountAsset>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawAccountAsset {
    pub asset: String,
    #[serde(with = "decimal")]
    pub wallet_balance: Decimal,
    #[serde(with = "decimal")]
    pub unrealized_profit: Decimal,
    #[serde(with = "decimal")]
    pub margin_balance: Decimal,
    #[serde(with = "decimal")]
    pub available_balance: Decimal,
    #[serde(default)]
    pub update_time: i64,
}

/// A row of `GET /fapi/v3/positionRisk`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawPositionRisk {
    pub symbol: String,
    pub position_side: String,
    #[serde(with = "decimal")]
    pub position_amt: Decimal,
    #[serde(with = "decimal")]
    pub entry_price: Decimal,
    #[serde(with = "decimal")]
    pub mark_price: Decimal,
    #[serde(with = "decimal")]
    pub un_realized_profit: Decimal,
    #[serde(with = "decimal")]
    pub liquidation_price: Decimal,
    #[serde(with = "decimal")]
    pub notional: Decimal,
    #[serde(default = "usdt")]
    pub margin_asset: String,
    #[serde(with = "decimal", default)]
    pub isolated_wallet: Decimal,
    #[serde(with = "decimal", default)]
    pub initial_margin: Decimal,
    #[serde(with = "decimal", default)]
    pub maint_margin: Decimal,
    #[serde(default)]
    pub update_time: i64,
}

fn usdt() -> String {
    "USDT".into()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawSymbolConfig {
    pub symbol: String,
    pub margin_type: String,
    pub leverage: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawAccountConfig {
    pub dual_side_position: bool,
    pub multi_assets_margin: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DualSide {
    pub dual_side_position: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MultiAssets {
    pub multi_assets_margin: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LeverageSet {
    pub symbol: String,
    pub leverage: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PremiumIndex {
    pub symbol: String,
    #[serde(with = "decimal")]
    pub mark_price: Decimal,
}

/// The order object of `POST/GET/DELETE /fapi/v1/order` and `openOrders`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawOrder {
    pub order_id: i64,
    pub symbol: String,
    pub status: String,
    pub client_order_id: String,
    #[serde(with = "decimal")]
    pub price: Decimal,
    #[serde(with = "decimal")]
    pub avg_price: Decimal,
    #[serde(with = "decimal")]
    pub orig_qty: Decimal,
    #[serde(with = "decimal")]
    pub executed_qty: Decimal,
    #[serde(rename = "type")]
    pub order_type: String,
    #[serde(default)]
    pub reduce_only: bool,
    pub side: String,
    pub position_side: String,
    #[serde(default)]
    pub update_time: i64,
}

/// The algo (conditional) order object.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawAlgoOrder {
    pub algo_id: i64,
    pub client_algo_id: String,
    pub order_type: String,
    pub symbol: String,
    pub side: String,
    pub position_side: String,
    #[serde(deserialize_with = "opt_decimal_or_empty", default)]
    pub quantity: Option<Decimal>,
    pub algo_status: String,
    #[serde(deserialize_with = "opt_decimal_or_empty", default)]
    pub trigger_price: Option<Decimal>,
    #[serde(default)]
    pub close_position: bool,
    #[serde(default)]
    pub reduce_only: bool,
    /// Present on queries once triggered; string or integer.
    #[serde(deserialize_with = "opt_int_or_string_or_empty", default)]
    pub actual_order_id: Option<i64>,
    #[serde(default)]
    pub update_time: i64,
}

/// An id that may be absent, `null`, `""`, a string or an integer.
pub fn opt_int_or_string_or_empty<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<i64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        Int(i64),
        Str(String),
    }
    match Option::<Either>::deserialize(d)? {
        None => Ok(None),
        Some(Either::Int(v)) => Ok(Some(v)),
        Some(Either::Str(s)) if s.trim().is_empty() => Ok(None),
        Some(Either::Str(s)) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| serde::de::Error::custom(format!("`{s}` is not an order id"))),
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawUserTrade {
    pub id: i64,
    pub order_id: i64,
    pub symbol: String,
    pub side: String,
    pub position_side: String,
    #[serde(with = "decimal")]
    pub price: Decimal,
    #[serde(with = "decimal")]
    pub qty: Decimal,
    #[serde(with = "decimal")]
    pub quote_qty: Decimal,
    #[serde(with = "decimal")]
    pub commission: Decimal,
    pub commission_asset: String,
    #[serde(with = "decimal")]
    pub realized_pnl: Decimal,
    pub maker: bool,
    pub time: i64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawIncome {
    #[serde(default)]
    pub symbol: String,
    pub income_type: String,
    #[serde(with = "decimal")]
    pub income: Decimal,
    pub asset: String,
    pub time: i64,
    #[serde(deserialize_with = "int_or_string")]
    pub tran_id: i64,
    #[serde(default)]
    pub trade_id: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListenKey {
    pub listen_key: String,
}

/// `GET /sapi/v1/account/apiRestrictions`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiRestrictions {
    pub ip_restrict: bool,
    #[serde(default)]
    pub enable_reading: bool,
    pub enable_withdrawals: bool,
    pub enable_futures: bool,
    #[serde(default)]
    pub enable_spot_and_margin_trading: bool,
    #[serde(default)]
    pub trading_authority_expiration_time: Option<i64>,
}

// ---- user-data stream ----

/// Just the event type, read first so unknown events can be skipped cheaply.
#[derive(Debug, Clone, Deserialize)]
pub struct WsHeader {
    pub e: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct WsOrderTradeUpdate {
    #[serde(rename = "E")]
    pub event_time: i64,
    #[serde(rename = "T", default)]
    pub transaction_time: Option<i64>,
    pub o: WsOrder,
}

#[derive(Debug, Clone, Deserialize)]
pub struct WsOrder {
    pub s: String,
    pub c: String,
    #[serde(rename = "S")]
    pub side: String,
    pub o: String,
    #[serde(with = "decimal")]
    pub q: Decimal,
    #[serde(with = "decimal")]
    pub p: Decimal,
    #[serde(with = "decimal")]
    pub ap: Decimal,
    pub x: String,
    #[serde(rename = "X")]
    pub status: String,
    pub i: i64,
    #[serde(with = "decimal")]
    pub l: Decimal,
    #[serde(with = "decimal")]
    pub z: Decimal,
    #[serde(rename = "L", with = "decimal")]
    pub last_price: Decimal,
    #[serde(rename = "N", default)]
    pub commission_asset: Option<String>,
    #[serde(with = "decimal::option", default)]
    pub n: Option<Decimal>,
    #[serde(rename = "T")]
    pub trade_time: i64,
    pub t: i64,
    pub m: bool,
    #[serde(rename = "R")]
    pub reduce_only: bool,
    pub ps: String,
    #[serde(with = "decimal::option", default)]
    pub rp: Option<Decimal>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct WsAccountUpdate {
    #[serde(rename = "E")]
    pub event_time: i64,
    #[serde(rename = "T", default)]
    pub transaction_time: Option<i64>,
    pub a: WsAccountData,
}

#[derive(Debug, Clone, Deserialize)]
pub struct WsAccountData {
    pub m: String,
    #[serde(rename = "B", default)]
    pub balances: Vec<WsBalance>,
    #[serde(rename = "P", default)]
    pub positions: Vec<WsPosition>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct WsBalance {
    pub a: String,
    #[serde(with = "decimal")]
    pub wb: Decimal,
    #[serde(with = "decimal")]
    pub cw: Decimal,
    #[serde(with = "decimal")]
    pub bc: Decimal,
}

#[derive(Debug, Clone, Deserialize)]
pub struct WsPosition {
    pub s: String,
    #[serde(with = "decimal")]
    pub pa: Decimal,
    #[serde(with = "decimal")]
    pub ep: Decimal,
    #[serde(with = "decimal")]
    pub up: Decimal,
    pub mt: String,
    #[serde(with = "decimal", default)]
    pub iw: Decimal,
    pub ps: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct WsAccountConfigUpdate {
    #[serde(rename = "E")]
    pub event_time: i64,
    #[serde(rename = "T", default)]
    pub transaction_time: Option<i64>,
    #[serde(default)]
    pub ac: Option<WsLeverage>,
    #[serde(default)]
    pub ai: Option<WsMultiAssets>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct WsLeverage {
    pub s: String,
    pub l: u32,
}

#[derive(Debug, Clone, Deserialize)]
pub struct WsMultiAssets {
    pub j: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct WsMarginCall {
    #[serde(rename = "E")]
    pub event_time: i64,
    #[serde(with = "decimal::option", default)]
    pub cw: Option<Decimal>,
    #[serde(default)]
    pub p: Vec<WsMarginCallPosition>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct WsMarginCallPosition {
    pub s: String,
    pub ps: String,
    #[serde(with = "decimal")]
    pub pa: Decimal,
    pub mt: String,
    #[serde(with = "decimal")]
    pub mp: Decimal,
    #[serde(with = "decimal")]
    pub up: Decimal,
    #[serde(with = "decimal")]
    pub mm: Decimal,
}

#[derive(Debug, Clone, Deserialize)]
pub struct WsAlgoUpdate {
    #[serde(rename = "E")]
    pub event_time: i64,
    #[serde(rename = "T", default)]
    pub transaction_time: Option<i64>,
    pub o: WsAlgoOrder,
}

#[derive(Debug, Clone, Deserialize)]
pub struct WsAlgoOrder {
    pub caid: String,
    pub aid: i64,
    pub o: String,
    pub s: String,
    #[serde(rename = "S")]
    pub side: String,
    pub ps: String,
    #[serde(deserialize_with = "opt_decimal_or_empty", default)]
    pub q: Option<Decimal>,
    #[serde(rename = "X")]
    pub status: String,
    #[serde(deserialize_with = "opt_int_or_string_or_empty", default)]
    pub ai: Option<i64>,
    #[serde(deserialize_with = "opt_decimal_or_empty", default)]
    pub tp: Option<Decimal>,
    #[serde(default)]
    pub cp: bool,
    #[serde(rename = "R", default)]
    pub reduce_only: bool,
    #[serde(default)]
    pub rm: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct WsTriggerReject {
    #[serde(rename = "E")]
    pub event_time: i64,
    #[serde(rename = "T", default)]
    pub transaction_time: Option<i64>,
    pub or: WsTriggerRejectBody,
}

#[derive(Debug, Clone, Deserialize)]
pub struct WsTriggerRejectBody {
    pub s: String,
    pub i: i64,
    pub r: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct WsTradeLite {
    #[serde(rename = "E")]
    pub event_time: i64,
    pub s: String,
    pub c: String,
    pub t: i64,
    pub i: i64,
    #[serde(with = "decimal")]
    pub l: Decimal,
    #[serde(rename = "L", with = "decimal")]
    pub last_price: Decimal,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WsListenKeyExpired {
    #[serde(rename = "E", deserialize_with = "int_or_string")]
    pub event_time: i64,
    #[serde(default)]
    pub listen_key: String,
}

/// `GET /fapi/v1/ticker/bookTicker` for one symbol.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BookTickerRest {
    #[serde(with = "crate::domain::decimal")]
    pub bid_price: Decimal,
    #[serde(with = "crate::domain::decimal")]
    pub ask_price: Decimal,
}
