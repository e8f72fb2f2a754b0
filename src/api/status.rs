//! Status read from the database: every copy with its state and reason, its positions
//! leader beside follower with the ratio and the protective stop, its figures, recent
//! decisions with their reasons and fills with delay and slippage versus the leader; and
//! recent events. [`status_read_only`](super::status_read_only) reads a data directory
//! without its lock, so it works while another engine runs.

use std::collections::HashMap;

use rust_decimal::Decimal;

use crate::domain::{CopySettings, Side};
use crate::engine::Ledger;
use crate::store::table::copies::{CopyRow, CopyState as StoredState};
use crate::store::Store;

use super::dto::{
    CopyDto, CopyFiguresDto, CopyStateDto, CopyStatusDto, DecisionDto, FillDto, PositionDto,
    StatusDto,
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

/// A copy's stored ledger; an unreadable one is an error naming the copy.
fn ledger(store: &Store, row: &CopyRow) -> Result<Ledger, ApiError> {
    match store.copy_states().get(row.id)? {
        None => Ok(Ledger::default()),
        Some(r) => serde_json::from_str(&r.ledger).map_err(|e| {
            ApiError::new(
                super::ErrorCode::Storage,
                format!("copy `{}`: its stored ledger cannot be read: {e}", row.name),
            )
        }),
    }
}

fn positions(l: &Ledger) -> Vec<PositionDto> {
    l.positions
        .values()
        .map(|p| PositionDto {
            symbol: p.symbol.name.clone(),
            side: format!("{:?}", p.direction).to_lowercase(),
            leader_qty: show(p.leader_qty),
            follower_qty: p.qty.to_string(),
            ratio: show(p.k),
            entry_price: None,
            margin: p.margin.round_dp(4).to_string(),
            leverage: p.leverage,
            stop_price: p.stop.as_ref().map(|s| show(s.stop_price)),
            stop_confirmed: p.stop.is_some(),
            drift: None,
        })
        .collect()
}

/// Fills with their delay and slippage versus the leader fill they copy (when the journal
/// links them to a leader signal).
fn fills(store: &Store, copy_id: i64) -> Result<Vec<FillDto>, ApiError> {
    let mut all = store.fills().for_copy(copy_id)?;
    all.sort_by_key(|(id, f)| std::cmp::Reverse((f.ts, *id)));
    all.truncate(FILLS);
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
    let positions = match ledger(store, row) {
        Ok(l) => positions(&l),
        Err(e) => {
            copy.reason = Some(e.message.clone());
            copy.holds.push(super::dto::HoldDto {
                kind: "unreadable-state".into(),
                reason: e.message,
            });
            Vec::new()
        }
    };
    let fig = store.figures().latest(row.id)?;
    let figures = CopyFiguresDto {
        realized_pnl: fig.as_ref().map(|f| f.realized_pnl.to_string()),
        unrealized_pnl: fig.as_ref().map(|f| f.unrealized_pnl.to_string()),
        fees: fig.as_ref().map(|f| show(f.fees)),
        funding: fig.as_ref().map(|f| show(f.funding)),
        roi: fig.as_ref().map(|f| show(f.roi)),
        max_drawdown: None,
    };
    let decisions = store
        .audit()
        .for_copy(row.id, DECISIONS)?
        .into_iter()
        .map(|d| DecisionDto {
            ts_ms: d.ts,
            symbol: d
                .detail
                .as_deref()
                .and_then(|t| serde_json::from_str::<serde_json::Value>(t).ok())
                .and_then(|v| v["symbol"].as_str().map(str::to_owned)),
            kind: d.action,
            reason: d.reason,
        })
        .collect();
    Ok(CopyStatusDto {
        copy,
        figures,
        positions,
        decisions,
        fills: fills(store, row.id)?,
        orders_journaled: u32::try_from(store.journal().for_copy(row.id)?.len())
            .unwrap_or(u32::MAX),
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
