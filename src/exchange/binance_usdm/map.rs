//! Maps Binance's shapes (see `parse`) to the port's venue-neutral types. Every enum word
//! goes through an explicit `match`; a word we do not know is an error naming the field,
//! except where the venue documents open-ended lists (reasons, income types), which keep
//! the word.

use rust_decimal::Decimal;

use crate::domain::{Asset, MarginMode, Money, PositionSide, Price, Quantity, Side};
use crate::exchange::error::ExchangeError;
use crate::exchange::events::{
    AccountEvent, BalanceChange, BalancePositionUpdate, BalanceReason, ConditionalUpdate,
    EventTimes, Execution, Fill, LeverageChanged, MarginCall, MarginCallPosition,
    MultiAssetsChanged, OrderUpdate, PositionChange, TriggerRejected,
};
use crate::exchange::types::{
    Balance, ConditionalReport, ConditionalStatus, IncomeKind, IncomeRecord, Millis, OrderOrigin,
    OrderReport, OrderStatus, PositionSnapshot, ReportedOrderType, SymbolSetting, UserTrade,
};

use super::parse::{self, *};

fn bad(what: &str, field: &str, value: &str) -> ExchangeError {
    ExchangeError::Decode {
        what: what.to_owned(),
        detail: format!("field `{field}`: unknown value `{value}`"),
    }
}

pub fn side(what: &str, field: &str, v: &str) -> Result<Side, ExchangeError> {
    match v {
        "BUY" => Ok(Side::Buy),
        "SELL" => Ok(Side::Sell),
        other => Err(bad(what, field, other)),
    }
}

pub fn position_side(what: &str, field: &str, v: &str) -> Result<PositionSide, ExchangeError> {
    match v {
        "BOTH" => Ok(PositionSide::Both),
        "LONG" => Ok(PositionSide::Long),
        "SHORT" => Ok(PositionSide::Short),
        other => Err(bad(what, field, other)),
    }
}

/// Binance spells margin modes three ways: `isolated`/`cross` (positions, account
/// updates), `ISOLATED`/`CROSSED` (symbolConfig, margin calls).
pub fn margin_mode(what: &str, field: &str, v: &str) -> Result<MarginMode, ExchangeError> {
    match v {
        "isolated" | "ISOLATED" => Ok(MarginMode::Isolated),
        "cross" | "crossed" | "CROSSED" | "CROSS" => Ok(MarginMode::Cross),
        other => Err(bad(what, field, other)),
    }
}

pub fn order_status(what: &str, field: &str, v: &str) -> Result<OrderStatus, ExchangeError> {
    match v {
        "NEW" => Ok(OrderStatus::New),
        "PARTIALLY_FILLED" => Ok(OrderStatus::PartiallyFilled),
        "FILLED" => Ok(OrderStatus::Filled),
        "CANCELED" => Ok(OrderStatus::Canceled),
        "REJECTED" => Ok(OrderStatus::Rejected),
        "EXPIRED" | "EXPIRED_IN_MATCH" => Ok(OrderStatus::Expired),
        other => Err(bad(what, field, other)),
    }
}

pub fn conditional_status(
    what: &str,
    field: &str,
    v: &str,
) -> Result<ConditionalStatus, ExchangeError> {
    match v {
        "NEW" => Ok(ConditionalStatus::New),
        "TRIGGERING" => Ok(ConditionalStatus::Triggering),
        "TRIGGERED" => Ok(ConditionalStatus::Triggered),
        "FINISHED" => Ok(ConditionalStatus::Finished),
        "CANCELED" => Ok(ConditionalStatus::Canceled),
        "REJECTED" => Ok(ConditionalStatus::Rejected),
        "EXPIRED" => Ok(ConditionalStatus::Expired),
        other => Err(bad(what, field, other)),
    }
}

pub fn order_type(v: &str) -> ReportedOrderType {
    match v {
        "MARKET" => ReportedOrderType::Market,
        "LIMIT" => ReportedOrderType::Limit,
        "STOP_MARKET" => ReportedOrderType::StopMarket,
        "TAKE_PROFIT_MARKET" => ReportedOrderType::TakeProfitMarket,
        "STOP" => ReportedOrderType::Stop,
        "TAKE_PROFIT" => ReportedOrderType::TakeProfit,
        "TRAILING_STOP_MARKET" => ReportedOrderType::TrailingStopMarket,
        "LIQUIDATION" => ReportedOrderType::Liquidation,
        other => ReportedOrderType::Other(other.to_owned()),
    }
}

/// Venue-made orders are recognised by their client id prefixes.
pub fn origin(client_id: &str) -> OrderOrigin {
    if client_id.starts_with("autoclose-") {
        OrderOrigin::Liquidation
    } else if client_id.starts_with("adl_autoclose") {
        OrderOrigin::AutoDeleverage
    } else if client_id.starts_with("settlement_autoclose") {
        OrderOrigin::Settlement
    } else {
        OrderOrigin::Client
    }
}

fn asset(what: &str, field: &str, v: &str) -> Result<Asset, ExchangeError> {
    Asset::new(v).map_err(|e| ExchangeError::Decode {
        what: what.to_owned(),
        detail: format!("field `{field}`: {e}"),
    })
}

fn quantity(what: &str, field: &str, v: Decimal) -> Result<Quantity, ExchangeError> {
    Quantity::new(v).map_err(|e| ExchangeError::Decode {
        what: what.to_owned(),
        detail: format!("field `{field}`: {e}"),
    })
}

/// Binance writes "no price" as zero.
fn price_or_none(v: Decimal) -> Option<Price> {
    Price::new(v).ok()
}

pub fn order(what: &str, o: RawOrder) -> Result<OrderReport, ExchangeError> {
    let market = o.order_type == "MARKET";
    Ok(OrderReport {
        origin: origin(&o.client_order_id),
        side: side(what, "side", &o.side)?,
        position_side: position_side(what, "positionSide", &o.position_side)?,
        status: order_status(what, "status", &o.status)?,
        order_type: order_type(&o.order_type),
        price: if market { None } else { price_or_none(o.price) },
        quantity: quantity(what, "origQty", o.orig_qty)?,
        filled_quantity: quantity(what, "executedQty", o.executed_qty)?,
        average_price: price_or_none(o.avg_price),
        reduce_only: o.reduce_only,
        updated_at: o.update_time,
        venue_order_id: o.order_id.to_string(),
        client_id: o.client_order_id,
        symbol: o.symbol,
    })
}

pub fn algo_order(what: &str, o: RawAlgoOrder) -> Result<ConditionalReport, ExchangeError> {
    Ok(ConditionalReport {
        side: side(what, "side", &o.side)?,
        position_side: position_side(what, "positionSide", &o.position_side)?,
        status: conditional_status(what, "algoStatus", &o.algo_status)?,
        order_type: order_type(&o.order_type),
        trigger_price: o.trigger_price.and_then(price_or_none),
        quantity: match o.quantity {
            Some(q) if !q.is_zero() => Some(quantity(what, "quantity", q)?),
            _ => None,
        },
        close_position: o.close_position,
        reduce_only: o.reduce_only,
        triggered_order_id: o
            .actual_order_id
            .filter(|id| *id > 0)
            .map(|id| id.to_string()),
        updated_at: o.update_time,
        venue_id: o.algo_id.to_string(),
        client_id: o.client_algo_id,
        symbol: o.symbol,
    })
}

pub fn balance(what: &str, a: RawAccountAsset) -> Result<Balance, ExchangeError> {
    Ok(Balance {
        asset: asset(what, "assets.asset", &a.asset)?,
        wallet_balance: a.wallet_balance,
        unrealized_pnl: a.unrealized_profit,
        margin_balance: a.margin_balance,
        available_balance: a.available_balance,
        updated_at: a.update_time,
    })
}

/// A position row, completed with the symbol's leverage and margin mode (v3 positionRisk
/// no longer carries them).
pub fn position(
    what: &str,
    p: RawPositionRisk,
    settings: &[SymbolSetting],
) -> Result<PositionSnapshot, ExchangeError> {
    // symbolConfig lists every symbol; a missing row means the two answers disagree, and
    // guessing a leverage would mislead sizing, so the snapshot fails instead.
    let setting = settings
        .iter()
        .find(|s| s.symbol == p.symbol)
        .ok_or_else(|| ExchangeError::Decode {
            what: what.to_owned(),
            detail: format!("field `symbol`: {} has no symbolConfig row", p.symbol),
        })?;
    let margin_mode = setting.margin_mode;
    let margin = match margin_mode {
        MarginMode::Isolated => p.isolated_wallet,
        MarginMode::Cross => p.initial_margin,
    };
    Ok(PositionSnapshot {
        position_side: position_side(what, "positionSide", &p.position_side)?,
        signed_quantity: p.position_amt,
        entry_price: price_or_none(p.entry_price),
        mark_price: price_or_none(p.mark_price),
        unrealized_pnl: p.un_realized_profit,
        liquidation_price: price_or_none(p.liquidation_price),
        margin_mode,
        leverage: setting.leverage,
        margin,
        maintenance_margin: p.maint_margin,
        notional: p.notional,
        margin_asset: asset(what, "marginAsset", &p.margin_asset)?,
        updated_at: p.update_time,
        symbol: p.symbol,
    })
}

pub fn symbol_setting(what: &str, c: RawSymbolConfig) -> Result<SymbolSetting, ExchangeError> {
    Ok(SymbolSetting {
        margin_mode: margin_mode(what, "marginType", &c.margin_type)?,
        leverage: c.leverage,
        symbol: c.symbol,
    })
}

pub fn user_trade(what: &str, t: RawUserTrade) -> Result<UserTrade, ExchangeError> {
    Ok(UserTrade {
        trade_id: t.id.to_string(),
        venue_order_id: t.order_id.to_string(),
        side: side(what, "side", &t.side)?,
        position_side: position_side(what, "positionSide", &t.position_side)?,
        price: Price::new(t.price).map_err(|e| ExchangeError::Decode {
            what: what.to_owned(),
            detail: format!("field `price`: {e}"),
        })?,
        quantity: quantity(what, "qty", t.qty)?,
        quote_quantity: t.quote_qty,
        commission: Money::new(
            t.commission,
            asset(what, "commissionAsset", &t.commission_asset)?,
        ),
        realized_pnl: t.realized_pnl,
        maker: t.maker,
        time: t.time,
        symbol: t.symbol,
    })
}

pub fn income_kind(v: &str) -> IncomeKind {
    match v {
        "TRANSFER" => IncomeKind::Transfer,
        "REALIZED_PNL" => IncomeKind::RealizedPnl,
        "FUNDING_FEE" => IncomeKind::FundingFee,
        "COMMISSION" => IncomeKind::Commission,
        "INSURANCE_CLEAR" => IncomeKind::InsuranceClear,
        other => IncomeKind::Other(other.to_owned()),
    }
}

/// The venue's word for an income kind (the reverse of [`income_kind`]).
pub fn income_kind_word(k: &IncomeKind) -> &str {
    match k {
        IncomeKind::Transfer => "TRANSFER",
        IncomeKind::RealizedPnl => "REALIZED_PNL",
        IncomeKind::FundingFee => "FUNDING_FEE",
        IncomeKind::Commission => "COMMISSION",
        IncomeKind::InsuranceClear => "INSURANCE_CLEAR",
        IncomeKind::Other(w) => w,
    }
}

pub fn income(what: &str, i: RawIncome) -> Result<IncomeRecord, ExchangeError> {
    Ok(IncomeRecord {
        symbol: (!i.symbol.is_empty()).then_some(i.symbol),
        kind: income_kind(&i.income_type),
        amount: Money::new(i.income, asset(what, "asset", &i.asset)?),
        time: i.time,
        venue_id: i.tran_id.to_string(),
        trade_id: (!i.trade_id.is_empty()).then_some(i.trade_id),
    })
}

fn balance_reason(v: &str) -> BalanceReason {
    match v {
        "ORDER" => BalanceReason::Order,
        "FUNDING_FEE" => BalanceReason::FundingFee,
        "DEPOSIT" => BalanceReason::Deposit,
        "WITHDRAW" => BalanceReason::Withdraw,
        "MARGIN_TRANSFER" => BalanceReason::MarginTransfer,
        "MARGIN_TYPE_CHANGE" => BalanceReason::MarginTypeChange,
        "INSURANCE_CLEAR" => BalanceReason::Liquidation,
        other => BalanceReason::Other(other.to_owned()),
    }
}

/// What one user-data message means to the stream.
#[derive(Debug)]
pub enum WsMessage {
    Event(AccountEvent),
    /// The listen key expired: reconnect with a new one.
    ListenKeyExpired,
    /// A message the copier does not use (fast fill notices duplicate order updates;
    /// grid and strategy events concern the venue's own bots; unknown types are new).
    Ignored(String),
}

/// Decodes and maps one user-data message received at local time `received`.
pub fn ws_message(text: &str, received: Millis) -> Result<WsMessage, ExchangeError> {
    let header: WsHeader = parse::decode("user-data event", text.as_bytes())?;
    let bytes = text.as_bytes();
    let received_us = crate::exchange::clock::wall_us();
    let times = |venue: i64, transaction: Option<i64>| EventTimes {
        venue,
        transaction,
        received,
        received_us,
    };
    match header.e.as_str() {
        "ORDER_TRADE_UPDATE" => {
            const W: &str = "ORDER_TRADE_UPDATE";
            let u: WsOrderTradeUpdate = parse::decode(W, bytes)?;
            let o = u.o;
            let status = order_status(W, "o.X", &o.status)?;
            // A trade and a liquidation (`CALCULATED`) both carry the fill in l/L/n/rp/t.
            let fill = || -> Result<Fill, ExchangeError> {
                Ok(Fill {
                    trade_id: o.t.to_string(),
                    quantity: quantity(W, "o.l", o.l)?,
                    price: Price::new(o.last_price).map_err(|e| ExchangeError::Decode {
                        what: W.into(),
                        detail: format!("field `o.L`: {e}"),
                    })?,
                    commission: match (&o.commission_asset, o.n) {
                        (Some(a), Some(n)) => Some(Money::new(n, asset(W, "o.N", a)?)),
                        _ => None,
                    },
                    realized_pnl: o.rp.unwrap_or_default(),
                    maker: o.m,
                })
            };
            let execution = match o.x.as_str() {
                "NEW" => Execution::New,
                "TRADE" => Execution::Trade(fill()?),
                "CANCELED" => Execution::Canceled,
                "EXPIRED" => Execution::Expired,
                "CALCULATED" => Execution::Liquidation(fill()?),
                "AMENDMENT" => Execution::Amended,
                other => Execution::Other(other.to_owned()),
            };
            let market = o.o == "MARKET";
            let order = OrderReport {
                origin: origin(&o.c),
                side: side(W, "o.S", &o.side)?,
                position_side: position_side(W, "o.ps", &o.ps)?,
                order_type: order_type(&o.o),
                status,
                price: if market { None } else { price_or_none(o.p) },
                quantity: quantity(W, "o.q", o.q)?,
                filled_quantity: quantity(W, "o.z", o.z)?,
                average_price: price_or_none(o.ap),
                reduce_only: o.reduce_only,
                updated_at: o.trade_time,
                venue_order_id: o.i.to_string(),
                client_id: o.c,
                symbol: o.s,
            };
            Ok(WsMessage::Event(AccountEvent::Order(OrderUpdate {
                times: times(u.event_time, u.transaction_time),
                execution,
                order,
            })))
        }
        "ACCOUNT_UPDATE" => {
            const W: &str = "ACCOUNT_UPDATE";
            let u: WsAccountUpdate = parse::decode(W, bytes)?;
            let balances =
                u.a.balances
                    .into_iter()
                    .map(|b| {
                        Ok(BalanceChange {
                            asset: asset(W, "a.B.a", &b.a)?,
                            wallet_balance: b.wb,
                            cross_wallet_balance: b.cw,
                            change: b.bc,
                        })
                    })
                    .collect::<Result<Vec<_>, ExchangeError>>()?;
            let positions =
                u.a.positions
                    .into_iter()
                    .map(|p| {
                        Ok(PositionChange {
                            position_side: position_side(W, "a.P.ps", &p.ps)?,
                            signed_quantity: p.pa,
                            entry_price: price_or_none(p.ep),
                            unrealized_pnl: p.up,
                            margin_mode: margin_mode(W, "a.P.mt", &p.mt)?,
                            isolated_margin: p.iw,
                            symbol: p.s,
                        })
                    })
                    .collect::<Result<Vec<_>, ExchangeError>>()?;
            Ok(WsMessage::Event(AccountEvent::BalancePosition(
                BalancePositionUpdate {
                    times: times(u.event_time, u.transaction_time),
                    reason: balance_reason(&u.a.m),
                    balances,
                    positions,
                },
            )))
        }
        "ACCOUNT_CONFIG_UPDATE" => {
            const W: &str = "ACCOUNT_CONFIG_UPDATE";
            let u: WsAccountConfigUpdate = parse::decode(W, bytes)?;
            let t = times(u.event_time, u.transaction_time);
            match (u.ac, u.ai) {
                (Some(ac), _) => Ok(WsMessage::Event(AccountEvent::Leverage(LeverageChanged {
                    times: t,
                    symbol: ac.s,
                    leverage: ac.l,
                }))),
                (None, Some(ai)) => Ok(WsMessage::Event(AccountEvent::MultiAssets(
                    MultiAssetsChanged {
                        times: t,
                        enabled: ai.j,
                    },
                ))),
                (None, None) => Ok(WsMessage::Ignored(W.into())),
            }
        }
        "MARGIN_CALL" => {
            const W: &str = "MARGIN_CALL";
            let u: WsMarginCall = parse::decode(W, bytes)?;
            let positions =
                u.p.into_iter()
                    .map(|p| {
                        Ok(MarginCallPosition {
                            position_side: position_side(W, "p.ps", &p.ps)?,
                            signed_quantity: p.pa,
                            margin_mode: margin_mode(W, "p.mt", &p.mt)?,
                            mark_price: price_or_none(p.mp),
                            unrealized_pnl: p.up,
                            maintenance_margin: p.mm,
                            symbol: p.s,
                        })
                    })
                    .collect::<Result<Vec<_>, ExchangeError>>()?;
            Ok(WsMessage::Event(AccountEvent::MarginCall(MarginCall {
                times: times(u.event_time, None),
                cross_wallet_balance: u.cw,
                positions,
            })))
        }
        "ALGO_UPDATE" => {
            const W: &str = "ALGO_UPDATE";
            let u: WsAlgoUpdate = parse::decode(W, bytes)?;
            let o = u.o;
            let order = ConditionalReport {
                side: side(W, "o.S", &o.side)?,
                position_side: position_side(W, "o.ps", &o.ps)?,
                status: conditional_status(W, "o.X", &o.status)?,
                order_type: order_type(&o.o),
                trigger_price: o.tp.and_then(price_or_none),
                quantity: match o.q {
                    Some(q) if !q.is_zero() => Some(quantity(W, "o.q", q)?),
                    _ => None,
                },
                close_position: o.cp,
                reduce_only: o.reduce_only,
                triggered_order_id: o.ai.filter(|id| *id > 0).map(|id| id.to_string()),
                updated_at: u.event_time,
                venue_id: o.aid.to_string(),
                client_id: o.caid,
                symbol: o.s,
            };
            Ok(WsMessage::Event(AccountEvent::Conditional(
                ConditionalUpdate {
                    times: times(u.event_time, u.transaction_time),
                    order,
                    reason: o.rm.filter(|r| !r.is_empty()),
                },
            )))
        }
        "CONDITIONAL_ORDER_TRIGGER_REJECT" => {
            const W: &str = "CONDITIONAL_ORDER_TRIGGER_REJECT";
            let u: WsTriggerReject = parse::decode(W, bytes)?;
            Ok(WsMessage::Event(AccountEvent::TriggerRejected(
                TriggerRejected {
                    times: times(u.event_time, u.transaction_time),
                    symbol: u.or.s,
                    venue_order_id: u.or.i.to_string(),
                    reason: u.or.r,
                },
            )))
        }
        "TRADE_LITE" => {
            // Decoded so a malformed one is still noticed, then dropped: the same fill
            // arrives in full as ORDER_TRADE_UPDATE, and counting both would double it.
            let _: WsTradeLite = parse::decode("TRADE_LITE", bytes)?;
            Ok(WsMessage::Ignored("TRADE_LITE".into()))
        }
        "listenKeyExpired" => {
            let _: WsListenKeyExpired = parse::decode("listenKeyExpired", bytes)?;
            Ok(WsMessage::ListenKeyExpired)
        }
        other => Ok(WsMessage::Ignored(other.to_owned())),
    }
}
