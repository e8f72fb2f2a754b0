//! `copies repair NAME`: rebuilds a copy's ledger when its stored one cannot be read. The
//! journal says what this copy's orders filled per book; the follower's positions on the
//! venue say what is still there; the leader's positions (its account's, or a public
//! portfolio's positions list) give each book its ratio `k`. A
//! book is adopted with the smaller of the two quantities (what our orders hold and the
//! venue still has), only while the leader holds it too; everything else is listed and left
//! as the user's. [`plan`] only reads; [`apply`] writes the rebuilt ledger (no plan in
//! flight), after which the copy starts again and reconciles as after any restart.
//!
//! It runs with the engine stopped (it takes the data directory's lock).

use std::collections::BTreeMap;
use std::sync::Arc;

use rust_decimal::Decimal;

use crate::domain::{PositionSide, Side};
use crate::engine::{Direction, Ledger, LedgerPosition, PositionKey, ProtectiveStop};
use crate::exchange::{Clock, SystemClock};
use crate::secrets::Keychain;
use crate::store::{DataDir, StoreError};

use super::config::RunConfig;
use super::leader_source::LeaderSpec;
use super::start::{config_account, config_leader, open_venue};
use super::{KeySource, RuntimeError};

/// Why a repair could not be planned or applied.
#[derive(Debug, thiserror::Error)]
pub enum RepairError {
    #[error("no copy named `{0}` is stored; `copydesk status` lists the copies")]
    NoSuchCopy(String),
    #[error(
        "copy `{0}` is not in the config; repair reads its accounts from the config that runs it"
    )]
    NotInConfig(String),
    #[error("{0}")]
    Venue(String),
    #[error("{0}")]
    Runtime(#[from] RuntimeError),
    #[error("database: {0}")]
    Store(#[from] StoreError),
}

/// One book the rebuilt ledger adopts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Adopted {
    pub symbol: String,
    pub side: PositionSide,
    pub direction: Direction,
    /// What the rebuilt ledger holds: the smaller of `journal_qty` and `venue_qty`.
    pub qty: Decimal,
    /// Net quantity this copy's journaled orders filled on the book.
    pub journal_qty: Decimal,
    /// The follower's position on the venue now.
    pub venue_qty: Decimal,
    pub leader_qty: Decimal,
    pub k: Decimal,
    /// The protective stop of ours resting on the venue for this book, adopted with it
    /// (so the next protection pass replaces it instead of adding a second one).
    pub stop: Option<ProtectiveStop>,
}

/// A book the repair leaves alone, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeftAlone {
    pub symbol: String,
    pub side: PositionSide,
    pub why: String,
}

/// What a repair will do (or did).
#[derive(Debug, Clone)]
pub struct RepairPlan {
    pub copy: String,
    pub copy_id: i64,
    /// Why the stored ledger needs it; `None` when it reads fine (repair then rebuilds it
    /// anyway, which is harmless).
    pub stored_error: Option<String>,
    pub adopt: Vec<Adopted>,
    pub left: Vec<LeftAlone>,
    ledger: Ledger,
}

/// One open book of the leader, as the repair reads it.
struct LeaderBook {
    symbol: String,
    position_side: PositionSide,
    signed_quantity: Decimal,
}

/// The leader's open books now: an account leader's from its account, a public portfolio's
/// from its positions list. A portfolio that cannot be read, hides its positions or answers
/// an empty list is an error, never "flat" (which would leave every book to the user).
async fn leader_books(
    leader: &LeaderSpec,
    venues: &dyn crate::exchange::VenueFactory,
    clock: &Arc<dyn Clock>,
) -> Result<Vec<LeaderBook>, RepairError> {
    match leader {
        LeaderSpec::Account(a) => {
            let snap = open_venue(a, venues, clock, 5_000)?
                .ex
                .account()
                .await
                .map_err(|e| RepairError::Venue(format!("cannot read the leader account: {e}")))?;
            Ok(snap
                .positions
                .into_iter()
                .map(|p| LeaderBook {
                    symbol: p.symbol,
                    position_side: p.position_side,
                    signed_quantity: p.signed_quantity,
                })
                .collect())
        }
        LeaderSpec::Portfolio(p) => {
            let unread = |why: String| {
                RepairError::Venue(format!(
                    "cannot read the leader's public portfolio {} ({}): {why}; nothing was                      written, run the repair again once it reads",
                    p.portfolio_id, p.endpoint
                ))
            };
            let client = p.client().map_err(|e| unread(e.to_string()))?;
            let detail = client
                .detail(&p.portfolio_id)
                .await
                .map_err(|e| unread(e.to_string()))?;
            if !detail.position_show {
                return Err(unread(
                    "it hides its positions, so which books it holds is unknown".into(),
                ));
            }
            let rows = client
                .positions(&p.portfolio_id)
                .await
                .map_err(|e| unread(e.to_string()))?;
            if rows.is_empty() {
                return Err(unread(
                    "its positions list came back empty (hidden or unreadable), not read as flat"
                        .into(),
                ));
            }
            Ok(rows
                .into_iter()
                .map(|r| LeaderBook {
                    symbol: r.symbol,
                    position_side: r.position_side,
                    signed_quantity: r.amount,
                })
                .collect())
        }
    }
}

/// Reads the journal and both accounts and works out the ledger to adopt; writes nothing.
pub async fn plan(
    config: &RunConfig,
    data: &DataDir,
    name: &str,
    keychain: &Keychain,
) -> Result<RepairPlan, RepairError> {
    let store = data.store();
    let row = store
        .copies()
        .by_name(name)?
        .ok_or_else(|| RepairError::NoSuchCopy(name.to_owned()))?;
    let stored_error = super::ledger::load(store, row.id, name)
        .err()
        .map(|e| e.to_string());
    let journal = store.journal().for_copy(row.id)?;
    let cfg = config
        .copies
        .iter()
        .find(|c| c.name == name)
        .ok_or_else(|| RepairError::NotInConfig(name.to_owned()))?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let keys = KeySource::Config(keychain);
    let venues = crate::exchange::DefaultVenues;
    let leader = config_leader(config, &cfg.leader, &keys)?;
    let follower = open_venue(
        &config_account(config, &cfg.follower, &keys)?,
        &venues,
        &clock,
        5_000,
    )?;
    let venue = |who: &str, e: crate::exchange::ExchangeError| {
        RepairError::Venue(format!("cannot read the {who} account: {e}"))
    };
    let lbooks = leader_books(&leader, &venues, &clock).await?;
    let fsnap = follower
        .ex
        .account()
        .await
        .map_err(|e| venue("follower", e))?;
    let rules = follower
        .ex
        .symbol_rules()
        .await
        .map_err(|e| venue("follower's symbols of the", e))?;
    let symbols: BTreeMap<String, crate::domain::Symbol> = rules
        .rules
        .into_iter()
        .map(|r| (r.symbol.name.clone(), r.symbol))
        .collect();

    // Our protective stops: journaled by this copy, still resting on the venue.
    let stop_ids: std::collections::BTreeSet<&str> = journal
        .iter()
        .filter(|e| e.order_type == crate::store::table::journal::OrderType::StopMarket)
        .map(|e| e.client_order_id.as_str())
        .collect();

    // Net filled quantity per follower book, signed (long positive).
    let mut net: BTreeMap<(String, PositionSide), Decimal> = BTreeMap::new();
    for e in &journal {
        if e.filled_qty.is_zero() {
            continue;
        }
        let signed = match e.side {
            Side::Buy => e.filled_qty,
            Side::Sell => -e.filled_qty,
        };
        *net.entry((e.symbol.clone(), e.position_side)).or_default() += signed;
    }

    let now = clock.now_ms();
    let mut ledger = Ledger::default();
    let mut adopt = Vec::new();
    let mut left = Vec::new();
    for ((symbol, side), journal_net) in net {
        let leave = |why: String| LeftAlone {
            symbol: symbol.clone(),
            side,
            why,
        };
        let Some(direction) = Direction::of(journal_net) else {
            continue;
        };
        let venue_pos = fsnap
            .positions
            .iter()
            .find(|p| p.symbol == symbol && p.position_side == side);
        let venue_qty = venue_pos.map(|p| p.signed_quantity).unwrap_or_default();
        if Direction::of(venue_qty) != Some(direction) {
            left.push(leave(format!(
                "this copy's orders hold {journal_net} but the follower's position is {venue_qty}: nothing of ours is left there"
            )));
            continue;
        }
        // The leader's book: its own side in hedge mode, else the one-way book.
        let lpos = lbooks.iter().find(|p| {
            p.symbol == symbol
                && Direction::of(p.signed_quantity) == Some(direction)
                && (p.position_side == side || p.position_side == PositionSide::Both)
        });
        let Some(lpos) = lpos else {
            left.push(leave(
                "the leader holds no such position now: left to you (close it by hand if you do not want it)".into(),
            ));
            continue;
        };
        let Some(sym) = symbols.get(&symbol) else {
            left.push(leave("the venue no longer lists the symbol".into()));
            continue;
        };
        let qty = journal_net.abs().min(venue_qty.abs());
        let leader_qty = lpos.signed_quantity.abs();
        let k = qty / leader_qty;
        let venue_pos = venue_pos.expect("checked above: the venue holds it");
        let stop = fsnap
            .open_conditionals
            .iter()
            .filter(|c| {
                c.symbol == symbol
                    && c.position_side == side
                    && stop_ids.contains(c.client_id.as_str())
            })
            .find_map(|c| {
                Some(ProtectiveStop {
                    client_id: c.client_id.clone(),
                    stop_price: c.trigger_price?.get(),
                    qty: c.quantity.map(|q| q.get()).unwrap_or(qty),
                    // Read from the venue's open orders: it holds the stop.
                    confirmed: true,
                })
            });
        let margin = if venue_qty.is_zero() {
            Decimal::ZERO
        } else {
            venue_pos.margin * qty / venue_qty.abs()
        };
        ledger.positions.insert(
            PositionKey::new(symbol.clone(), lpos.position_side),
            LedgerPosition {
                symbol: sym.clone(),
                follower_side: side,
                direction,
                k,
                qty,
                declined: Decimal::ZERO,
                leader_qty,
                margin,
                leverage: venue_pos.leverage,
                margin_mode: venue_pos.margin_mode,
                last_event_ms: now,
                stop: stop.clone(),
            },
        );
        adopt.push(Adopted {
            symbol,
            side,
            direction,
            qty,
            journal_qty: journal_net.abs(),
            venue_qty: venue_qty.abs(),
            leader_qty,
            k,
            stop,
        });
    }
    Ok(RepairPlan {
        copy: name.to_owned(),
        copy_id: row.id,
        stored_error,
        adopt,
        left,
        ledger,
    })
}

/// Writes the rebuilt ledger, replacing the stored one, with no plan in flight.
pub fn apply(data: &mut DataDir, plan: &RepairPlan) -> Result<(), RepairError> {
    let json = serde_json::to_string(&plan.ledger)
        .map_err(|e| RepairError::Venue(format!("cannot encode the rebuilt ledger: {e}")))?;
    let now = crate::store::now_ms();
    let reason = format!(
        "ledger rebuilt by `copies repair`: {} position(s) adopted",
        plan.adopt.len()
    );
    let copy_id = plan.copy_id;
    data.store_mut().transaction(|tx| {
        crate::store::table::copy_ledger::CopyLedgers::on(tx).save(copy_id, &json, None, now)?;
        crate::store::table::audit::Audit::on(tx).record(
            &crate::store::table::audit::NewDecision {
                ts: now,
                copy_id: Some(copy_id),
                signal_id: None,
                action: "repair-ledger",
                reason: &reason,
                detail: None,
            },
        )?;
        Ok(())
    })?;
    tracing::warn!(copy = %plan.copy, "{reason}");
    Ok(())
}
