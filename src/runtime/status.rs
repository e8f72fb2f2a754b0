//! `copydesk status`: the copies, their latest figures, copied positions and recent
//! notifications, read from the database without taking the data-directory lock, so it
//! works while `copydesk run` holds it.

use std::path::Path;

use serde::Serialize;

use crate::engine::Ledger;
use crate::store::{db_path, Store, StoreError};

/// One copied position.
#[derive(Debug, Clone, Serialize)]
pub struct PositionStatus {
    pub symbol: String,
    pub direction: String,
    pub qty: String,
    pub k: String,
    pub leader_qty: String,
    pub margin: String,
    pub leverage: u32,
    pub stop_price: Option<String>,
}

/// One copy.
#[derive(Debug, Clone, Serialize)]
pub struct CopyStatus {
    pub name: String,
    pub follower: String,
    pub state: String,
    pub t0_ms: Option<i64>,
    pub stop_reason: Option<String>,
    pub realized_pnl: Option<String>,
    pub unrealized_pnl: Option<String>,
    /// Commissions paid, positive.
    pub fees: Option<String>,
    /// Funding on the copy's positions: received positive, paid negative.
    pub funding: Option<String>,
    pub positions: Vec<PositionStatus>,
    pub orders_journaled: usize,
    /// Why the copy's stored ledger cannot be read, with the recovery; its positions are
    /// then unknown (never shown as none).
    pub ledger_error: Option<String>,
}

/// Everything `status` prints.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    pub copies: Vec<CopyStatus>,
    pub recent: Vec<String>,
}

/// Reads the status of a data directory.
pub fn read(dir: &Path) -> Result<Status, StoreError> {
    let store = Store::open_read_only(&db_path(dir))?;
    let mut copies = Vec::new();
    for c in store.copies().list()? {
        let (ledger, ledger_error) = match super::ledger::load(&store, c.id, &c.name) {
            Ok(l) => (l, None),
            Err(e) => (Ledger::default(), Some(e.to_string())),
        };
        let fig = store.figures().latest(c.id)?;
        let positions = ledger
            .positions
            .values()
            .map(|p| PositionStatus {
                symbol: p.symbol.name.clone(),
                direction: format!("{:?}", p.direction).to_lowercase(),
                qty: p.qty.to_string(),
                k: p.k.normalize().to_string(),
                leader_qty: p.leader_qty.to_string(),
                margin: p.margin.round_dp(4).to_string(),
                leverage: p.leverage,
                stop_price: p.stop.as_ref().map(|s| s.stop_price.to_string()),
            })
            .collect();
        copies.push(CopyStatus {
            name: c.name,
            follower: c.follower,
            state: c.state.as_str().to_owned(),
            t0_ms: c.t0,
            stop_reason: c.stop_reason,
            realized_pnl: fig.as_ref().map(|f| f.realized_pnl.to_string()),
            unrealized_pnl: fig.as_ref().map(|f| f.unrealized_pnl.to_string()),
            fees: fig.as_ref().map(|f| f.fees.normalize().to_string()),
            funding: fig.as_ref().map(|f| f.funding.normalize().to_string()),
            positions,
            orders_journaled: store.journal().for_copy(c.id)?.len(),
            ledger_error,
        });
    }
    let recent = store
        .notifications()
        .recent(10)?
        .into_iter()
        .map(|n| format!("[{}] {}: {}", n.level.as_str(), n.kind, n.message))
        .collect();
    Ok(Status { copies, recent })
}

impl Status {
    /// Plain text for a terminal.
    pub fn text(&self) -> String {
        let mut out = String::new();
        if self.copies.is_empty() {
            out.push_str("no copies yet; start one with `copydesk run --config copy.toml`\n");
        }
        for c in &self.copies {
            out.push_str(&format!(
                "copy {} → {}: {}{}\n",
                c.name,
                c.follower,
                c.state,
                c.stop_reason
                    .as_ref()
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default()
            ));
            if let (Some(r), Some(u)) = (&c.realized_pnl, &c.unrealized_pnl) {
                out.push_str(&format!(
                    "  pnl: realized {r}, unrealized {u}, fees {}, funding {}\n",
                    c.fees.as_deref().unwrap_or("0"),
                    c.funding.as_deref().unwrap_or("0")
                ));
            }
            out.push_str(&format!("  orders journaled: {}\n", c.orders_journaled));
            if let Some(e) = &c.ledger_error {
                out.push_str(&format!("  positions unknown: {e}\n"));
            } else if c.positions.is_empty() {
                out.push_str("  no copied positions\n");
            }
            for p in &c.positions {
                out.push_str(&format!(
                    "  {} {} {} (k {}, leader {}, margin {}, {}x, stop {})\n",
                    p.symbol,
                    p.direction,
                    p.qty,
                    p.k,
                    p.leader_qty,
                    p.margin,
                    p.leverage,
                    p.stop_price.as_deref().unwrap_or("none")
                ));
            }
        }
        if !self.recent.is_empty() {
            out.push_str("recent:\n");
            for r in &self.recent {
                out.push_str(&format!("  {r}\n"));
            }
        }
        out
    }
}
