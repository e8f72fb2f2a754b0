//! The simulator's listed markets: one perpetual per row with realistic filters, leverage
//! brackets and book parameters, plus the `exchangeInfo` and `leverageBracket` views of
//! them. Owns nothing that changes; prices live in [`super::book`].

use rust_decimal::Decimal;
use serde_json::{json, Value};

use crate::domain::SymbolFilters;

/// One maintenance-margin bracket. `cum` is Binance's maintenance amount, chosen so the
/// maintenance margin is continuous across bracket floors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bracket {
    pub bracket: u32,
    pub initial_leverage: u32,
    pub floor: Decimal,
    pub cap: Decimal,
    pub mmr: Decimal,
    pub cum: Decimal,
}

/// A listed perpetual contract.
#[derive(Debug, Clone)]
pub struct Market {
    pub symbol: &'static str,
    pub base: &'static str,
    pub quote: &'static str,
    pub margin_asset: &'static str,
    pub filters: SymbolFilters,
    pub price_precision: u32,
    pub qty_precision: u32,
    pub max_leverage: u32,
    pub brackets: Vec<Bracket>,
    /// Mid price the book starts at.
    pub start_price: Decimal,
    /// Distance from the mid to the best bid and best ask.
    pub half_spread: Decimal,
    /// Price distance between book levels.
    pub level_gap: Decimal,
    /// Quantity at the first level; level `i` holds `(i + 1)` times this.
    pub level_qty: Decimal,
    pub liquidation_fee: Decimal,
}

impl Market {
    /// The bracket a position of `notional` falls into.
    pub fn bracket_for(&self, notional: Decimal) -> &Bracket {
        self.brackets
            .iter()
            .find(|b| notional.abs() <= b.cap)
            .or_else(|| self.brackets.last())
            .unwrap_or(&FALLBACK_BRACKET)
    }

    /// Largest position notional allowed at `leverage`.
    pub fn max_notional(&self, leverage: u32) -> Decimal {
        self.brackets
            .iter()
            .filter(|b| b.initial_leverage >= leverage)
            .map(|b| b.cap)
            .max()
            .unwrap_or(Decimal::ZERO)
    }

    pub fn min_price(&self) -> Decimal {
        self.filters.tick_size
    }

    pub fn max_price(&self) -> Decimal {
        self.start_price * Decimal::from(100)
    }
}

static FALLBACK_BRACKET: Bracket = Bracket {
    bracket: 1,
    initial_leverage: 1,
    floor: Decimal::ZERO,
    cap: Decimal::MAX,
    mmr: Decimal::ZERO,
    cum: Decimal::ZERO,
};

fn d(s: &str) -> Decimal {
    // The table below is literal; a typo is a programming error caught by the unit tests.
    s.parse().unwrap_or(Decimal::ZERO)
}

/// Builds brackets from (cap, maintenance ratio, max leverage) rows, computing `cum`.
fn brackets(rows: &[(&str, &str, u32)]) -> Vec<Bracket> {
    let mut out = Vec::new();
    let mut floor = Decimal::ZERO;
    let mut cum = Decimal::ZERO;
    let mut prev_mmr = Decimal::ZERO;
    for (i, (cap, mmr, lev)) in rows.iter().enumerate() {
        let mmr = d(mmr);
        cum += floor * (mmr - prev_mmr);
        out.push(Bracket {
            bracket: u32::try_from(i + 1).unwrap_or(u32::MAX),
            initial_leverage: *lev,
            floor,
            cap: d(cap),
            mmr,
            cum,
        });
        floor = d(cap);
        prev_mmr = mmr;
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn market(
    symbol: &'static str,
    base: &'static str,
    quote: &'static str,
    tick: &str,
    step: &str,
    max_qty: &str,
    market_max_qty: &str,
    min_notional: &str,
    max_leverage: u32,
    start: &str,
    level_qty: &str,
) -> Market {
    let tick_d = d(tick);
    let step_d = d(step);
    let big = max_leverage >= 100;
    let rows: Vec<(&str, &str, u32)> = if big {
        vec![
            ("50000", "0.004", max_leverage),
            ("500000", "0.005", 100),
            ("8000000", "0.01", 50),
            ("50000000", "0.025", 20),
            ("100000000", "0.05", 10),
            ("200000000", "0.1", 5),
            ("400000000", "0.125", 4),
            ("1000000000", "0.15", 3),
            ("1500000000", "0.25", 2),
            ("3000000000", "0.5", 1),
        ]
    } else {
        vec![
            ("5000", "0.01", max_leverage),
            ("50000", "0.015", 50),
            ("600000", "0.02", 25),
            ("3000000", "0.05", 10),
            ("12000000", "0.1", 5),
            ("20000000", "0.125", 4),
            ("30000000", "0.25", 2),
            ("50000000", "0.5", 1),
        ]
    };
    Market {
        symbol,
        base,
        quote,
        margin_asset: quote,
        filters: SymbolFilters {
            tick_size: tick_d,
            step_size: step_d,
            market_step_size: step_d,
            min_qty: step_d,
            max_qty: d(max_qty),
            market_min_qty: step_d,
            market_max_qty: d(market_max_qty),
            min_notional: d(min_notional),
        },
        price_precision: tick_d.normalize().scale(),
        qty_precision: step_d.normalize().scale(),
        max_leverage,
        brackets: brackets(&rows),
        start_price: d(start),
        half_spread: tick_d * Decimal::from(5),
        level_gap: tick_d * Decimal::from(10),
        level_qty: d(level_qty),
        liquidation_fee: d("0.0125"),
    }
}

/// Every market the simulator lists.
pub fn default_markets() -> Vec<Market> {
    vec![
        market(
            "BTCUSDT", "BTC", "USDT", "0.1", "0.001", "1000", "120", "100", 125, "50000", "0.5",
        ),
        market(
            "ETHUSDT", "ETH", "USDT", "0.01", "0.001", "10000", "2000", "20", 125, "3000", "5",
        ),
        market(
            "SOLUSDT", "SOL", "USDT", "0.01", "1", "1000000", "5000", "5", 100, "150", "100",
        ),
        market(
            "BNBUSDT", "BNB", "USDT", "0.01", "0.01", "100000", "2000", "5", 75, "600", "20",
        ),
        market(
            "XRPUSDT", "XRP", "USDT", "0.0001", "0.1", "10000000", "2000000", "5", 75, "0.6",
            "20000",
        ),
        market(
            "DOGEUSDT", "DOGE", "USDT", "0.00001", "1", "50000000", "30000000", "5", 75, "0.15",
            "100000",
        ),
        market(
            "ADAUSDT", "ADA", "USDT", "0.0001", "1", "10000000", "3000000", "5", 75, "0.45",
            "30000",
        ),
        market(
            "LINKUSDT", "LINK", "USDT", "0.001", "0.01", "1000000", "100000", "5", 75, "15", "1000",
        ),
        market(
            "BTCUSDC", "BTC", "USDC", "0.1", "0.001", "500", "50", "5", 125, "50000", "0.3",
        ),
        market(
            "ETHUSDC", "ETH", "USDC", "0.01", "0.001", "10000", "1000", "5", 125, "3000", "3",
        ),
        market(
            "ETHBTC", "ETH", "BTC", "0.00001", "0.01", "10000", "1000", "0.001", 75, "0.06", "10",
        ),
    ]
}

/// Rate limits as `exchangeInfo` advertises them.
pub fn rate_limits_json(weight: u32, orders_1m: u32, orders_10s: u32) -> Value {
    json!([
        {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": weight},
        {"rateLimitType": "ORDERS", "interval": "MINUTE", "intervalNum": 1, "limit": orders_1m},
        {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": orders_10s},
    ])
}

fn s(v: Decimal) -> String {
    v.normalize().to_string()
}

/// One symbol's `exchangeInfo` entry.
pub fn symbol_json(m: &Market) -> Value {
    let f = &m.filters;
    json!({
        "symbol": m.symbol, "pair": m.symbol, "contractType": "PERPETUAL",
        "deliveryDate": 4_133_404_800_000_i64, "onboardDate": 1_569_398_400_000_i64, "status": "TRADING",
        "baseAsset": m.base, "quoteAsset": m.quote, "marginAsset": m.margin_asset,
        "pricePrecision": m.price_precision, "quantityPrecision": m.qty_precision,
        "baseAssetPrecision": 8, "quotePrecision": 8,
        "underlyingType": "COIN", "underlyingSubType": ["PoW"], "settlePlan": 0,
        "triggerProtect": "0.0500", "liquidationFee": format!("{:.6}", m.liquidation_fee),
        "marketTakeBound": "0.05",
        "filters": [
            {"filterType": "PRICE_FILTER", "minPrice": s(m.min_price()), "maxPrice": s(m.max_price()), "tickSize": s(f.tick_size)},
            {"filterType": "LOT_SIZE", "minQty": s(f.min_qty), "maxQty": s(f.max_qty), "stepSize": s(f.step_size)},
            {"filterType": "MARKET_LOT_SIZE", "minQty": s(f.market_min_qty), "maxQty": s(f.market_max_qty), "stepSize": s(f.market_step_size)},
            {"filterType": "MAX_NUM_ORDERS", "limit": 200},
            {"filterType": "MAX_NUM_ALGO_ORDERS", "limit": 10},
            {"filterType": "MIN_NOTIONAL", "notional": s(f.min_notional)},
            {"filterType": "PERCENT_PRICE", "multiplierUp": "1.1500", "multiplierDown": "0.8500", "multiplierDecimal": "4"},
        ],
        "orderTypes": ["LIMIT","MARKET","STOP","STOP_MARKET","TAKE_PROFIT","TAKE_PROFIT_MARKET","TRAILING_STOP_MARKET"],
        "timeInForce": ["GTC","IOC","FOK","GTX","GTD"],
    })
}

/// A symbol's `leverageBracket` entry. Binance sends these numbers as JSON numbers; they are
/// display data, converted from exact decimals only at this edge.
pub fn bracket_json(m: &Market) -> Value {
    let rows: Vec<Value> = m
        .brackets
        .iter()
        .map(|b| {
            json!({
                "bracket": b.bracket,
                "initialLeverage": b.initial_leverage,
                "notionalCap": json_number(b.cap),
                "notionalFloor": json_number(b.floor),
                "maintMarginRatio": json_number(b.mmr),
                "cum": json_number(b.cum),
            })
        })
        .collect();
    json!({"symbol": m.symbol, "notionalCoef": json_number(Decimal::ONE), "brackets": rows})
}

/// A decimal as a JSON number, for the few fields Binance sends as numbers.
pub fn json_number(v: Decimal) -> Value {
    serde_json::from_str::<Value>(&v.normalize().to_string()).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn lists_the_required_symbols() {
        let ms = default_markets();
        for sym in [
            "BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT", "XRPUSDT", "DOGEUSDT", "ADAUSDT",
            "LINKUSDT", "BTCUSDC", "ETHUSDC",
        ] {
            assert!(ms.iter().any(|m| m.symbol == sym), "{sym} should be listed");
        }
        assert!(
            ms.iter().any(|m| m.quote != "USDT" && m.quote != "USDC"),
            "one symbol should be quoted in another asset"
        );
        for m in &ms {
            assert!(
                m.start_price > Decimal::ZERO,
                "{} has a start price",
                m.symbol
            );
            assert_eq!(
                m.start_price % m.filters.tick_size,
                Decimal::ZERO,
                "{} start price should sit on the tick grid",
                m.symbol
            );
        }
    }

    #[test]
    fn bracket_cum_keeps_maintenance_continuous() {
        let ms = default_markets();
        let btc = ms
            .iter()
            .find(|m| m.symbol == "BTCUSDT")
            .expect("btc listed");
        // At the first floor (50,000) both brackets give the same maintenance margin.
        let b1 = &btc.brackets[0];
        let b2 = &btc.brackets[1];
        let at = dec!(50000);
        assert_eq!(
            at * b1.mmr - b1.cum,
            at * b2.mmr - b2.cum,
            "continuous at floor"
        );
        assert_eq!(b2.cum, dec!(50), "cum of bracket 2 is 50000 × 0.001");
        assert_eq!(
            btc.max_notional(125),
            dec!(50000),
            "125x is capped at 50,000"
        );
    }
}
