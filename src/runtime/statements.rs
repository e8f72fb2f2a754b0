//! Keeps profit-share statements (copy-rules §7) current in the database: for each copy
//! with a ratio, reads its stored ratio versions, fills, funding, figure points, figures
//! baseline, stop time and statements, asks [`analytics::statements::due`] what is
//! missing by `now`, and stores that in one transaction. Run at every open (statements for
//! the Mondays that passed while no engine ran are caught up then), on a timer while an
//! engine runs, and before statements are listed. Idempotent: a second run adds nothing.

use rust_decimal::Decimal;

use crate::analytics::statements::{
    due, AmountAt, CopyHistory, Done, Due, FillAt, Outcome, RatioAt, Settlement,
};
use crate::domain::CopySettings;
use crate::engine::figures::RatioError;
use crate::store::table::copy_settings::SettingsVersion;
use crate::store::table::statements::{StatementKind, StatementOutcome, StatementRow};
use crate::store::{Store, StoreError};

/// Why statements could not be brought up to date.
#[derive(Debug, thiserror::Error)]
pub enum StatementsError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A stored ratio outside 0–30 %: stored state that cannot be used.
    #[error("copy `{copy}` has a stored profit-share ratio that cannot be used ({source}); set its ratio again")]
    Ratio {
        copy: String,
        #[source]
        source: RatioError,
    },
}

/// Brings every copy's statements up to `now`; returns how many were added.
pub fn catch_up(store: &mut Store, now: i64) -> Result<usize, StatementsError> {
    let mut added = 0;
    for id in store.profit_share().copies()? {
        added += catch_up_copy(store, id, now)?;
    }
    Ok(added)
}

/// Brings one copy's statements up to `now`; returns how many were added.
pub fn catch_up_copy(store: &mut Store, copy_id: i64, now: i64) -> Result<usize, StatementsError> {
    let Some(copy) = store.copies().get(copy_id)? else {
        return Err(StoreError::NotFound {
            what: "copy",
            key: copy_id.to_string(),
        }
        .into());
    };
    let ratios = store.profit_share().history(copy_id)?;
    if ratios.is_empty() {
        return Ok(0);
    }
    let settings: Option<SettingsVersion<CopySettings>> = store.copy_settings().current(copy_id)?;
    let history = CopyHistory {
        figures_since: store.figures_base().since(copy_id)?,
        investment: settings
            .and_then(|v| v.settings.investment)
            .unwrap_or(Decimal::ZERO),
        ratios: ratios
            .iter()
            .map(|r| RatioAt {
                valid_from: r.valid_from,
                ratio: r.ratio,
            })
            .collect(),
        fills: store
            .fills()
            .for_copy(copy_id)?
            .into_iter()
            .map(|(_, f)| FillAt {
                ts: f.ts,
                realized: f.realized_pnl,
                fee: f.fee,
            })
            .collect(),
        funding: store
            .copy_funding()
            .for_copy(copy_id)?
            .into_iter()
            .map(|f| AmountAt {
                ts: f.ts,
                amount: f.amount,
            })
            .collect(),
        unrealized: store
            .figures()
            .series(copy_id, i64::MIN)?
            .into_iter()
            .map(|p| AmountAt {
                ts: p.ts,
                amount: p.unrealized_pnl,
            })
            .collect(),
        stopped_at: copy.stopped_at,
    };
    let done: Vec<Done> = store
        .statements()
        .for_copy(copy_id)?
        .iter()
        .map(|s| Done {
            kind: match s.kind {
                StatementKind::Weekly => Settlement::Weekly,
                StatementKind::Stop => Settlement::Stop,
            },
            period_end: s.period_end,
            outcome: match s.outcome {
                StatementOutcome::Settled => Outcome::Settled,
                StatementOutcome::Nothing => Outcome::Nothing,
                StatementOutcome::Postponed => Outcome::Postponed,
            },
            owed: s.owed,
        })
        .collect();
    let new = due(&history, &done, now).map_err(|source| StatementsError::Ratio {
        copy: copy.name.clone(),
        source,
    })?;
    if new.is_empty() {
        return Ok(0);
    }
    let rows: Vec<StatementRow> = new.iter().map(|d| row(copy_id, d, now)).collect();
    let added = store.transaction(|tx| {
        let table = crate::store::table::statements::Statements::on(tx);
        let mut n = 0;
        for r in &rows {
            n += usize::from(table.record(r)?);
        }
        Ok(n)
    })?;
    tracing::info!(copy = %copy.name, added, "profit-share statements drawn up");
    Ok(added)
}

fn row(copy_id: i64, d: &Due, now: i64) -> StatementRow {
    StatementRow {
        copy_id,
        kind: match d.kind {
            Settlement::Weekly => StatementKind::Weekly,
            Settlement::Stop => StatementKind::Stop,
        },
        period_start: d.period_start,
        period_end: d.period_end,
        ratio: d.ratio,
        realized: d.realized,
        fees: d.fees,
        funding: d.funding,
        unrealized: d.unrealized,
        already_paid: d.already_paid,
        owed: d.owed,
        outcome: match d.outcome {
            Outcome::Settled => StatementOutcome::Settled,
            Outcome::Nothing => StatementOutcome::Nothing,
            Outcome::Postponed => StatementOutcome::Postponed,
        },
        text: d.text.clone(),
        computed_at: now,
    }
}
