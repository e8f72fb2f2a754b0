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
    /// Where the time went for the copy's recent orders; `None` before the first.
    pub latency: Option<LatencyStatus>,
}

/// Latency of a copy's last (up to) 100 copied orders, from their recorded timestamps.
#[derive(Debug, Clone, Serialize)]
pub struct LatencyStatus {
    pub orders: usize,
    /// Leader event read → order handed to the venue's HTTP client, in µs.
    pub engine_p50_us: i64,
    pub engine_max_us: i64,
    /// Leader fill → follower fill on the venue's clock, in ms.
    pub fill_delay_p50_ms: Option<i64>,
    pub fill_delay_max_ms: Option<i64>,
}

fn latency(rows: &[crate::store::table::latency::LatencyRow]) -> Option<LatencyStatus> {
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
    Some(LatencyStatus {
        orders: engine.len(),
        engine_p50_us: engine[engine.len() / 2],
        engine_max_us: engine[engine.len() - 1],
        fill_delay_p50_ms: fill.get(fill.len() / 2).copied(),
        fill_delay_max_ms: fill.last().copied(),
    })
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
            // A database an older engine wrote has no latency table yet.
            latency: store
                .latency()
                .recent(c.id, 100)
                .ok()
                .and_then(|rows| latency(&rows)),
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
            if let Some(l) = &c.latency {
                out.push_str(&format!(
                    "  latency of the last {} orders: leader event → order sent p50 {} µs (max {} µs); leader fill → follower fill p50 {} (max {})\n",
                    l.orders,
                    l.engine_p50_us,
                    l.engine_max_us,
                    l.fill_delay_p50_ms.map_or("n/a".into(), |v| format!("{v} ms")),
                    l.fill_delay_max_ms.map_or("n/a".into(), |v| format!("{v} ms")),
                ));
            }
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
