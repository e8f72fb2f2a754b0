//! Status read from the database: every copy with its state and reason, its positions
//! leader beside follower with the ratio and the protective stop, its figures, recent
//! decisions with their reasons and fills with delay and slippage versus the leader; and
//! recent events. [`status_read_only`](super::status_read_only) reads a data directory
//! without its lock, so it works while another engine runs.

use std::collections::{BTreeMap, HashMap};

use rust_decimal::Decimal;

use crate::domain::{CopySettings, PositionSide, Side};
use crate::engine::NoticeKind;
use crate::engine::{Ledger, LedgerPosition};
use crate::runtime::hold::{Hold, HoldKind};
use crate::runtime::{NotifyKind, Refused};
use crate::store::table::copies::{CopyRow, CopyState as StoredState};
use crate::store::table::fills::Fill;
use crate::store::Store;

use super::dto::{
    CopyActivityDto, CopyDto, CopyFiguresDto, CopyPnlDto, CopyStateDto, CopyStatusDto, DecisionDto,
    EquityPointDto, FillDto, HoldDto, PositionDto, StatusDto,
};
use super::ApiError;

/// Decisions shown per copy.
const DECISIONS: u32 = 20;
/// Fills shown per copy.
const FILLS: usize = 20;
/// Events shown.
const EVENTS: u32 = 20;

fn show(d: Decimal) -> String {
    d.normalize().to_string()
}

/// One copy's DTO from its row.
pub(crate) fn copy_dto(store: &Store, row: &CopyRow) -> Result<CopyDto, ApiError> {
    let settings: Option<crate::store::table::copy_settings::SettingsVersion<CopySettings>> =
        store.copy_settings().current(row.id)?;
    let settings = settings.ok_or_else(|| {
        ApiError::new(
            super::ErrorCode::Storage,
            format!(
                "copy `{}` has no stored settings; stop it and create it again",
                row.name
            ),
        )
    })?;
    let leader = store
        .leaders()
        .get(row.leader_id)?
        .map_or_else(|| row.leader_id.to_string(), |l| l.name);
    let paper = store
        .accounts()
        .get(&row.follower)?
        .is_some_and(|a| super::venue::is_paper(&a));
    let (state, reason) = match row.state {
        StoredState::Running => (CopyStateDto::Running, None),
        StoredState::Paused => (
            CopyStateDto::Paused,
            Some("paused: opens are skipped and listed, closes are still mirrored".to_owned()),
        ),
        StoredState::Stopped => (CopyStateDto::Stopped, row.stop_reason.clone()),
        StoredState::Created => (
            CopyStateDto::Stopped,
            Some("created but never started".to_owned()),
        ),
    };
    Ok(CopyDto {
        name: row.name.clone(),
        leader,
        follower: row.follower.clone(),
        paper,
        settings: super::settings::to_dto(&settings.settings),
        state,
        reason,
        holds: Vec::new(),
        t0_ms: row.t0,
    })
}

/// A copy's stored ledger; an unreadable one is an error naming the row and the recovery.
fn ledger(store: &Store, row: &CopyRow) -> Result<Ledger, ApiError> {
    crate::runtime::ledger::load(store, row.id, &row.name)
        .map_err(|e| ApiError::new(super::ErrorCode::Storage, e.to_string()))
}

/// What the running engine knows of a copy on top of its stored row: its holds, or that
/// it was refused at start (its stored state cannot be read).
pub(crate) fn apply_engine(
    copy: &mut CopyDto,
    holds: &BTreeMap<String, Vec<Hold>>,
    refused: &[Refused],
) {
    if let Some(r) = refused.iter().find(|r| r.copy == copy.name) {
        copy.state = CopyStateDto::Stopped;
        copy.reason = Some(format!("not started: {}", r.reason));
        if !copy
            .holds
            .iter()
            .any(|h| h.kind == HoldKind::UnreadableState)
        {
            copy.holds.push(HoldDto {
                kind: HoldKind::UnreadableState,
                reason: r.reason.clone(),
            });
        }
        return;
    }
    let Some(active) = holds.get(&copy.name).filter(|h| !h.is_empty()) else {
        return;
    };
    copy.holds.extend(active.iter().map(|h| HoldDto {
        kind: h.kind,
        reason: h.reason.clone(),
    }));
    if let Some(s) = active.iter().find(|h| h.kind == HoldKind::Stopping) {
        copy.state = CopyStateDto::Stopping;
        copy.reason = Some(s.reason.clone());
        return;
    }
    match copy.state {
        CopyStateDto::Running => {
            copy.state = CopyStateDto::Held;
            copy.reason = active.first().map(|h| format!("held: {}", h.reason));
        }
        CopyStateDto::Paused
        | CopyStateDto::Held
        | CopyStateDto::Stopping
        | CopyStateDto::Stopped => {}
    }
}

/// A copy's positions, leader beside follower. `entry` gives each position's average entry
/// (see [`entry_price`]); `stop_confirmed` is true only for a stop the venue accepted.
fn positions(l: &Ledger, entry: impl Fn(&LedgerPosition) -> Option<Decimal>) -> Vec<PositionDto> {
    l.positions
        .values()
        .map(|p| PositionDto {
            symbol: p.symbol.name.clone(),
            side: format!("{:?}", p.direction).to_lowercase(),
            leader_qty: show(p.leader_qty),
            follower_qty: p.qty.to_string(),
            ratio: show(p.k),
            entry_price: entry(p).map(|e| show(e.round_dp(8))),
            margin: p.margin.round_dp(4).to_string(),
            leverage: p.leverage,
            stop_price: p.stop.as_ref().map(|s| show(s.stop_price)),
            stop_confirmed: p.stop.as_ref().is_some_and(|s| s.confirmed),
            drift: drift(p),
        })
        .collect()
}

/// Follower quantity minus its target (leader quantity × `k`), signed (positive: the
/// follower holds more than the ratio calls for); `None` when they agree. Quantity the
/// risk gate declined or the lot step rounded away shows here as drift too.
fn drift(p: &LedgerPosition) -> Option<String> {
    let d = p.qty - p.leader_qty * p.k;
    (!d.is_zero()).then(|| show(d))
}

/// The follower's average entry of a copied position, from the copy's stored fills on its
/// symbol and book (the journal gives each fill's book): opening fills average in, closing
/// fills take quantity off, and a book that went flat starts over. `None` when no stored
/// fill opened what the ledger holds (e.g. a position adopted by `copies repair`).
fn entry_price(
    fills: &[(i64, Fill)],
    books: &HashMap<&str, PositionSide>,
    p: &LedgerPosition,
) -> Option<Decimal> {
    let opening = p.direction.opening_side();
    let (mut qty, mut cost) = (Decimal::ZERO, Decimal::ZERO);
    for (_, f) in fills.iter().filter(|(_, f)| {
        f.symbol == p.symbol.name
            && f.client_order_id
                .as_deref()
                .and_then(|c| books.get(c))
                .is_some_and(|b| *b == p.follower_side)
    }) {
        if f.side == opening {
            qty += f.qty;
            cost += f.qty * f.price;
        } else if f.qty >= qty {
            (qty, cost) = (Decimal::ZERO, Decimal::ZERO);
        } else {
            // A partial close leaves the average as it was.
            cost -= cost / qty * f.qty;
            qty -= f.qty;
        }
    }
    (qty > Decimal::ZERO).then(|| cost / qty)
}

/// The copy's max drawdown in USDT: the deepest fall of its equity (investment + copy PnL,
/// i.e. realized − fees + funding + unrealized at mark) from an earlier peak, measured on
/// the figure points stored since the figures' baseline (a point after fills, at each
/// reconciliation and when a PnL stop acts; mark checks in between are not stored, so a
/// dip seen only there is not in it). `None` before the first point.
fn max_drawdown(
    store: &Store,
    copy_id: i64,
    investment: Decimal,
) -> Result<Option<String>, ApiError> {
    let since = store.figures_base().since(copy_id)?.unwrap_or(i64::MIN);
    let equity: Vec<Decimal> = store
        .figures()
        .series(copy_id, since)?
        .iter()
        .map(|f| {
            investment
                + crate::engine::risk::copy_pnl(f.realized_pnl, f.fees, f.funding, f.unrealized_pnl)
        })
        .collect();
    Ok((!equity.is_empty()).then(|| show(crate::engine::figures::max_drawdown(&equity).amount)))
}

/// The newest `limit` fills with their delay and slippage versus the leader fill they copy
/// (when the journal links them to a leader signal), newest first.
fn fills(store: &Store, copy_id: i64, limit: usize) -> Result<Vec<FillDto>, ApiError> {
    let mut all = store.fills().for_copy(copy_id)?;
    all.sort_by_key(|(id, f)| std::cmp::Reverse((f.ts, *id)));
    all.truncate(limit);
    let mut signals: HashMap<i64, Option<crate::store::table::signals::Signal>> = HashMap::new();
    let mut out = Vec::new();
    for (_, f) in all {
        let signal = match &f.client_order_id {
            Some(coid) => match store.journal().get(coid)?.and_then(|j| j.signal_id) {
                Some(id) => match signals.entry(id) {
                    std::collections::hash_map::Entry::Occupied(e) => e.get().clone(),
                    std::collections::hash_map::Entry::Vacant(e) => {
                        e.insert(store.signals().get(id)?).clone()
                    }
                },
                None => None,
            },
            None => None,
        };
        let (delay_ms, slippage_pct) = match signal {
            Some(s) => {
                let slip = s.price.filter(|p| !p.is_zero()).map(|lp| {
                    let adverse = match f.side {
                        Side::Buy => f.price - lp,
                        Side::Sell => lp - f.price,
                    };
                    (adverse / lp * Decimal::ONE_HUNDRED)
                        .round_dp(4)
                        .normalize()
                        .to_string()
                });
                (Some(f.ts - s.ts_event), slip)
            }
            None => (None, None),
        };
        out.push(FillDto {
            ts_ms: f.ts,
            symbol: f.symbol.clone(),
            side: match f.side {
                Side::Buy => "buy".into(),
                Side::Sell => "sell".into(),
            },
            qty: show(f.qty),
            price: show(f.price),
            delay_ms,
            slippage_pct,
        });
    }
    Ok(out)
}

/// The status of one copy.
pub(crate) fn copy_status(store: &Store, row: &CopyRow) -> Result<CopyStatusDto, ApiError> {
    let mut copy = copy_dto(store, row)?;
    // One copy's unreadable state is shown on that copy, not a failed status for all.
    let journal = store.journal().for_copy(row.id)?;
    let books: HashMap<&str, PositionSide> = journal
        .iter()
        .map(|j| (j.client_order_id.as_str(), j.position_side))
        .collect();
    let all_fills = store.fills().for_copy(row.id)?;
    let positions = match ledger(store, row) {
        Ok(l) => {
            // Stopping is stored with the ledger (it outlives a restart).
            if let Some(s) = &l.stopping {
                if copy.state != CopyStateDto::Stopped {
                    copy.state = CopyStateDto::Stopping;
                    copy.reason = Some(format!(
                        "stopping ({}): closing the copy's positions until they are flat",
                        s.reason
                    ));
                }
            }
            positions(&l, |p| entry_price(&all_fills, &books, p))
        }
        Err(e) => {
            copy.reason = Some(e.message.clone());
            copy.holds.push(HoldDto {
                kind: HoldKind::UnreadableState,
                reason: e.message,
            });
            Vec::new()
        }
    };
    let investment = store
        .copy_settings()
        .current::<CopySettings>(row.id)?
        .and_then(|v| v.settings.investment)
        .unwrap_or_default();
    let fig = store.figures().latest(row.id)?;
    let figures = CopyFiguresDto {
        realized_pnl: fig.as_ref().map(|f| f.realized_pnl.to_string()),
        unrealized_pnl: fig.as_ref().map(|f| f.unrealized_pnl.to_string()),
        fees: fig.as_ref().map(|f| show(f.fees)),
        funding: fig.as_ref().map(|f| show(f.funding)),
        roi: fig.as_ref().map(|f| show(f.roi)),
        max_drawdown: max_drawdown(store, row.id, investment)?,
    };
    Ok(CopyStatusDto {
        copy,
        figures,
        positions,
        decisions: decisions(store, row.id, DECISIONS)?,
        fills: fills(store, row.id, FILLS)?,
        orders_journaled: u32::try_from(journal.len()).unwrap_or(u32::MAX),
        latency: latency(&store.latency().recent(row.id, 100)?),
        precision: Vec::new(),
        unknown_orders: journal
            .iter()
            .filter(|e| e.state == crate::store::table::journal::OrderState::Unknown)
            .map(|e| super::dto::UnknownOrderDto {
                client_order_id: e.client_order_id.clone(),
                symbol: e.symbol.clone(),
                side: match e.side {
                    Side::Buy => "buy".into(),
                    Side::Sell => "sell".into(),
                },
                qty: show(e.qty),
                since_ms: e.updated_at,
            })
            .collect(),
    })
}

/// A copy's newest `limit` decisions with their reasons, newest first. A notice the engine
/// reports as a skip (a leader change not copied) reads as kind `skip` with its typed
/// reason in `notice`; the symbol comes from the decision's detail or, when the detail
/// names none (a notice), from the leader signal it answered.
fn decisions(store: &Store, copy_id: i64, limit: u32) -> Result<Vec<DecisionDto>, ApiError> {
    let mut signals: HashMap<i64, Option<String>> = HashMap::new();
    store
        .audit()
        .for_copy(copy_id, limit)?
        .into_iter()
        .map(|d| {
            let detail = d
                .detail
                .as_deref()
                .and_then(|t| serde_json::from_str::<serde_json::Value>(t).ok());
            let notice = detail
                .as_ref()
                .and_then(|v| v.get("notice"))
                .and_then(|n| serde_json::from_value::<NoticeKind>(n.clone()).ok());
            let mut symbol = detail.as_ref().and_then(symbol_of);
            if symbol.is_none() {
                if let Some(id) = d.signal_id {
                    symbol = match signals.get(&id) {
                        Some(s) => s.clone(),
                        None => {
                            let s = store.signals().get(id)?.map(|s| s.symbol);
                            signals.insert(id, s.clone());
                            s
                        }
                    };
                }
            }
            let kind = match notice.map(NotifyKind::of_notice) {
                Some(NotifyKind::Skip) => "skip".to_owned(),
                _ => d.action,
            };
            Ok(DecisionDto {
                ts_ms: d.ts,
                kind,
                symbol,
                reason: d.reason,
                notice,
            })
        })
        .collect()
}

/// The symbol an action's detail names: `{"<action>": {"symbol": "BTCUSDT" | {"name": …}}}`.
fn symbol_of(detail: &serde_json::Value) -> Option<String> {
    let inner = detail.as_object()?.values().next()?;
    match inner.get("symbol")? {
        serde_json::Value::String(s) => Some(s.clone()),
        v => v.get("name")?.as_str().map(str::to_owned),
    }
}

/// Every copy's (or one copy's) newest `limit` decisions and fills, for the Activity
/// screen; an unknown copy name is an error naming it.
pub(crate) fn activity(
    store: &Store,
    copy: Option<&str>,
    limit: u32,
) -> Result<Vec<CopyActivityDto>, ApiError> {
    let rows: Vec<CopyRow> = match copy {
        Some(name) => vec![store
            .copies()
            .by_name(name)?
            .ok_or_else(|| ApiError::not_found(format!("no copy named `{name}`")))?],
        None => store.copies().list()?,
    };
    rows.iter()
        .map(|r| {
            Ok(CopyActivityDto {
                copy: r.name.clone(),
                decisions: decisions(store, r.id, limit)?,
                fills: fills(store, r.id, usize::try_from(limit).unwrap_or(usize::MAX))?,
            })
        })
        .collect()
}

/// A copy's PnL after costs at each stored figure point since the figures' baseline (what
/// its drawdown is measured on), oldest first; at most `max` points, evenly thinned with
/// the last point always kept.
pub(crate) fn pnl_series(store: &Store, name: &str, max: usize) -> Result<CopyPnlDto, ApiError> {
    let row = store
        .copies()
        .by_name(name)?
        .ok_or_else(|| ApiError::not_found(format!("no copy named `{name}`")))?;
    let since = store.figures_base().since(row.id)?.unwrap_or(i64::MIN);
    let series = store.figures().series(row.id, since)?;
    let n = series.len();
    let stride = n.div_ceil(max.max(1)).max(1);
    let points = series
        .iter()
        .enumerate()
        .filter(|(i, _)| i % stride == 0 || *i + 1 == n)
        .map(|(_, f)| EquityPointDto {
            ts_ms: f.ts,
            value: show(crate::engine::risk::copy_pnl(
                f.realized_pnl,
                f.fees,
                f.funding,
                f.unrealized_pnl,
            )),
        })
        .collect();
    Ok(CopyPnlDto {
        copy: row.name,
        points,
    })
}

/// Median and worst of the recent orders' engine time and fill delay.
fn latency(rows: &[crate::store::table::latency::LatencyRow]) -> Option<super::dto::LatencyDto> {
    let mut engine: Vec<i64> = rows
        .iter()
        .filter_map(|r| Some(r.written_us - r.leader_recv_us?))
        .collect();
    if engine.is_empty() {
        return None;
    }
    engine.sort_unstable();
    let mut fill: Vec<i64> = rows
        .iter()
        .filter_map(|r| Some(r.follower_fill_ms? - r.leader_event_ms?))
        .collect();
    fill.sort_unstable();
    Some(super::dto::LatencyDto {
        orders: u32::try_from(engine.len()).unwrap_or(u32::MAX),
        engine_p50_us: engine[engine.len() / 2],
        engine_max_us: engine[engine.len() - 1],
        fill_delay_p50_ms: fill.get(fill.len() / 2).copied(),
        fill_delay_max_ms: fill.last().copied(),
    })
}

/// The status of every copy and the recent events.
pub fn read(store: &Store) -> Result<StatusDto, ApiError> {
    let rows = store.copies().list()?;
    let names: HashMap<i64, String> = rows.iter().map(|r| (r.id, r.name.clone())).collect();
    let copies = rows
        .iter()
        .map(|r| copy_status(store, r))
        .collect::<Result<Vec<_>, _>>()?;
    let recent = store
        .notifications()
        .recent(EVENTS)?
        .iter()
        .map(|n| super::events::stored_event(n, n.copy_id.and_then(|id| names.get(&id).cloned())))
        .collect();
    Ok(StatusDto {
        copies,
        recent,
        weight: Vec::new(),
    })
}
