//! The polling source of a public lead portfolio: reads its positions list every interval
//! and diffs it into leader signals. Owns the request budget shared by every public
//! portfolio followed (about 20 requests a minute per address) and the interval that
//! follows from it, and the rules that keep a bad read from ever looking like a close:
//! hidden positions make the leader not copyable, a changed format is reported, a failed,
//! refused or empty read leaves the last known positions as they were. An open and close
//! that both fall inside one interval leave no trace in the positions and produce no
//! signal; when the row's booked realized PnL moved, the miss is reported.
//!
//! Signal conventions (docs/leaders.md): the event time is the poll that saw the change;
//! the sizing price is the row's entry price for an open, the price implied by the entry
//! change for an increase, and the mark price for a reduction, close or flip.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use rust_decimal::Decimal;

use crate::domain::{
    Asset, LeaderFill, LeaderSignal, MarginMode, PositionSide, Price, Quantity, Side, SignalKind,
    Symbol,
};
use crate::exchange::lead_portfolio::{PortfolioClient, PortfolioPosition, SourceError};

/// Requests a minute per address the source is reported to allow.
pub const DEFAULT_PER_MINUTE: u32 = 20;
/// Share of the budget left unused, for the detail re-reads and the unexpected.
const HEADROOM_PCT: u64 = 80;
/// The positions list is read every poll; the detail every this many polls.
const DETAIL_EVERY: u32 = 10;

/// The request budget every followed public portfolio shares.
#[derive(Debug)]
pub struct PollBudget {
    per_minute: u32,
    followed: AtomicUsize,
}

/// A followed portfolio's share of the budget; dropping it frees the share.
#[derive(Debug)]
pub struct BudgetShare {
    budget: Arc<PollBudget>,
}

impl Drop for BudgetShare {
    fn drop(&mut self) {
        self.budget.followed.fetch_sub(1, Ordering::SeqCst);
    }
}

impl PollBudget {
    pub fn new(per_minute: u32) -> Arc<Self> {
        Arc::new(Self {
            per_minute: per_minute.max(1),
            followed: AtomicUsize::new(0),
        })
    }

    /// Registers one more followed portfolio.
    pub fn join(self: &Arc<Self>) -> BudgetShare {
        self.followed.fetch_add(1, Ordering::SeqCst);
        BudgetShare {
            budget: self.clone(),
        }
    }

    pub fn followed(&self) -> usize {
        self.followed.load(Ordering::SeqCst)
    }

    /// The interval each followed portfolio is polled at now.
    pub fn interval(&self) -> Duration {
        poll_interval(self.per_minute, self.followed().max(1))
    }
}

/// The poll interval when `followed` portfolios share `per_minute` requests (one positions
/// read per poll, plus a detail read every [`DETAIL_EVERY`] polls), using 80 % of the budget.
pub fn poll_interval(per_minute: u32, followed: usize) -> Duration {
    // Requests per poll, in tenths: 10 for positions + 10 / DETAIL_EVERY for the detail.
    let tenths_per_poll = 10 + 10 / u64::from(DETAIL_EVERY);
    let usable = u64::from(per_minute.max(1)) * HEADROOM_PCT / 100;
    let ms = 60_000 * followed as u64 * tenths_per_poll / (usable.max(1) * 10);
    Duration::from_millis(ms.max(1_000))
}

/// What a poll noticed besides signals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PollNote {
    /// The first good read: positions already open are the baseline, not signals.
    Baseline { open: usize },
    /// The portfolio hides its positions: not copyable.
    Hidden,
    /// The answer's shape changed; nothing was read from it.
    FormatChanged(String),
    /// 429: the interval backs off.
    RateLimited { retry_after_s: u64 },
    /// 403 from a geo-blocked region.
    GeoBlocked,
    /// Any other failure (network, HTTP error, refusal).
    ReadFailed(String),
    /// The list came back empty although positions are shown: not read as flat.
    EmptyRead,
    /// A row present before is missing now: its position is kept as it was.
    RowMissing { symbol: String, side: PositionSide },
    /// Realized PnL moved on a book whose position did not change between two polls:
    /// trades opened and closed inside one interval were missed.
    Missed {
        symbol: String,
        side: PositionSide,
        realized_change: Decimal,
    },
}

/// Whether the portfolio can be copied, as last seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Copyable {
    Yes,
    No(String),
    /// Not read yet, or the last read failed.
    Unknown(String),
}

/// One poll's result.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PollOutcome {
    pub signals: Vec<LeaderSignal>,
    pub notes: Vec<PollNote>,
}

type Book = (String, PositionSide);

/// Polls one portfolio and diffs its positions.
#[derive(Debug)]
pub struct PortfolioPoller {
    client: PortfolioClient,
    id: String,
    positions: Option<BTreeMap<Book, PortfolioPosition>>,
    equity: Option<Decimal>,
    shown: Option<bool>,
    polls: u32,
    copyable: Copyable,
    /// Extra wait after a 429, until the given poll count.
    backoff: Option<Duration>,
    _share: BudgetShare,
}

fn symbol_of(name: &str) -> Option<Symbol> {
    let (base, quote) = ["USDT", "USDC"]
        .iter()
        .find_map(|q| name.strip_suffix(q).map(|b| (b, *q)))?;
    Some(Symbol::new(
        name,
        Asset::new(base).ok()?,
        Asset::new(quote).ok()?,
    ))
}

fn margin_mode(p: &PortfolioPosition) -> MarginMode {
    if p.isolated {
        MarginMode::Isolated
    } else {
        MarginMode::Cross
    }
}

impl PortfolioPoller {
    pub fn new(client: PortfolioClient, id: &str, budget: &Arc<PollBudget>) -> Self {
        Self {
            client,
            id: id.to_owned(),
            positions: None,
            equity: None,
            shown: None,
            polls: 0,
            copyable: Copyable::Unknown("not read yet".to_owned()),
            backoff: None,
            _share: budget.join(),
        }
    }

    pub fn copyable(&self) -> &Copyable {
        &self.copyable
    }

    /// The portfolio id polled.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The open rows of the last good read (the baseline and what followed it); `None`
    /// before the first good read. A failed read leaves it as it was.
    pub fn open_rows(&self) -> Option<Vec<PortfolioPosition>> {
        self.positions.as_ref().map(|m| {
            m.values()
                .filter(|p| !p.amount.is_zero())
                .cloned()
                .collect()
        })
    }

    /// The leader's margin balance from the last detail read (Smart Sync's equity).
    pub fn equity(&self) -> Option<Decimal> {
        self.equity
    }

    /// The wait before the next poll: the shared budget's interval, or longer after a 429.
    pub fn next_wait(&self, budget: &PollBudget) -> Duration {
        let base = budget.interval();
        self.backoff.map_or(base, |b| b.max(base))
    }

    fn fail(&mut self, e: SourceError, out: &mut PollOutcome) {
        let note = match &e {
            SourceError::RateLimited { retry_after_s } => {
                let prev = self.backoff.unwrap_or(Duration::ZERO);
                self.backoff = Some(Duration::from_secs(*retry_after_s).max(prev * 2));
                PollNote::RateLimited {
                    retry_after_s: *retry_after_s,
                }
            }
            SourceError::GeoBlocked => PollNote::GeoBlocked,
            SourceError::FormatChanged(what) => PollNote::FormatChanged(what.clone()),
            other => PollNote::ReadFailed(other.to_string()),
        };
        self.copyable = match &note {
            PollNote::FormatChanged(w) => Copyable::No(format!(
                "the source's format changed ({w}); copying waits for an update of CopyDesk"
            )),
            _ => Copyable::Unknown(e.to_string()),
        };
        tracing::warn!(portfolio = %self.id, error = %e, "lead portfolio read failed; positions kept as last read");
        out.notes.push(note);
    }

    /// One poll at `now_ms`: the detail when due, then the positions, diffed against the
    /// last good read.
    pub async fn poll(&mut self, now_ms: i64) -> PollOutcome {
        let mut out = PollOutcome::default();
        let detail_due = self.shown != Some(true) || self.polls.is_multiple_of(DETAIL_EVERY);
        self.polls = self.polls.wrapping_add(1);
        if detail_due {
            match self.client.detail(&self.id).await {
                Ok(d) => {
                    self.shown = Some(d.position_show);
                    if d.margin_balance.is_some() {
                        self.equity = d.margin_balance;
                    }
                }
                Err(e) => {
                    self.fail(e, &mut out);
                    return out;
                }
            }
        }
        if self.shown == Some(false) {
            self.copyable = Copyable::No(
                "this portfolio hides its positions, so they cannot be copied".to_owned(),
            );
            out.notes.push(PollNote::Hidden);
            return out;
        }
        let rows = match self.client.positions(&self.id).await {
            Ok(r) => r,
            Err(e) => {
                self.fail(e, &mut out);
                return out;
            }
        };
        self.backoff = None;
        if rows.is_empty() {
            // Positions may have just been hidden: check the detail on the next poll.
            self.shown = None;
            self.copyable = Copyable::Unknown("the positions list came back empty".to_owned());
            out.notes.push(PollNote::EmptyRead);
            return out;
        }
        self.copyable = Copyable::Yes;
        let now: BTreeMap<Book, PortfolioPosition> = rows
            .into_iter()
            .map(|p| ((p.symbol.clone(), p.position_side), p))
            .collect();
        let Some(prev) = self.positions.take() else {
            out.notes.push(PollNote::Baseline {
                open: now.values().filter(|p| !p.amount.is_zero()).count(),
            });
            self.positions = Some(now);
            return out;
        };
        let mut merged = now;
        for (book, old) in &prev {
            match merged.get(book) {
                Some(new) => self.diff(old, new, now_ms, &mut out),
                None => {
                    out.notes.push(PollNote::RowMissing {
                        symbol: book.0.clone(),
                        side: book.1,
                    });
                    merged.insert(book.clone(), old.clone());
                }
            }
        }
        for (book, new) in &merged {
            if !prev.contains_key(book) && !new.amount.is_zero() {
                let flat = PortfolioPosition {
                    amount: Decimal::ZERO,
                    entry_price: Decimal::ZERO,
                    cum_realized: new.cum_realized,
                    ..new.clone()
                };
                self.diff(&flat, new, now_ms, &mut out);
            }
        }
        self.positions = Some(merged);
        out
    }

    fn diff(
        &self,
        old: &PortfolioPosition,
        new: &PortfolioPosition,
        now_ms: i64,
        out: &mut PollOutcome,
    ) {
        let Some(symbol) = symbol_of(&new.symbol) else {
            return;
        };
        let tag = format!(
            "poll:{}:{}:{:?}:{now_ms}",
            self.id, new.symbol, new.position_side
        );
        if old.isolated != new.isolated {
            out.signals.push(LeaderSignal {
                id: format!("{tag}:margin"),
                symbol: symbol.clone(),
                position_side: new.position_side,
                event_time_ms: now_ms,
                kind: SignalKind::MarginModeChange {
                    margin_mode: margin_mode(new),
                },
            });
        }
        if old.leverage != new.leverage {
            out.signals.push(LeaderSignal {
                id: format!("{tag}:leverage"),
                symbol: symbol.clone(),
                position_side: new.position_side,
                event_time_ms: now_ms,
                kind: SignalKind::LeverageChange {
                    leverage: new.leverage,
                },
            });
        }
        let delta = new.amount - old.amount;
        if delta.is_zero() {
            if let (Some(a), Some(b)) = (old.cum_realized, new.cum_realized) {
                if a != b {
                    tracing::info!(portfolio = %self.id, symbol = %new.symbol, "trades inside one poll interval were missed");
                    out.notes.push(PollNote::Missed {
                        symbol: new.symbol.clone(),
                        side: new.position_side,
                        realized_change: b - a,
                    });
                }
            }
            return;
        }
        let grows = old.amount.is_zero()
            || ((old.amount > Decimal::ZERO) == (delta > Decimal::ZERO) && !new.amount.is_zero());
        let price = if old.amount.is_zero() {
            new.entry_price
        } else if grows {
            let implied = (new.amount * new.entry_price - old.amount * old.entry_price) / delta;
            if implied > Decimal::ZERO {
                implied
            } else {
                new.mark_price
            }
        } else {
            new.mark_price
        };
        let (Ok(qty), Ok(price)) = (Quantity::new(delta.abs()), Price::new(price)) else {
            return;
        };
        out.signals.push(LeaderSignal {
            id: tag.clone(),
            symbol,
            position_side: new.position_side,
            event_time_ms: now_ms,
            kind: SignalKind::Fill(LeaderFill {
                order_id: tag,
                side: if delta > Decimal::ZERO {
                    Side::Buy
                } else {
                    Side::Sell
                },
                qty,
                price,
                position_before: old.amount,
                order_final: true,
                leverage: new.leverage,
                margin_mode: margin_mode(new),
                equity_before: self.equity,
            }),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_interval_grows_with_the_portfolios_sharing_the_budget() {
        // 20 a minute, 80 % used = 16; 1.1 requests a poll: 60 / 16 × 1.1 = 4.125 s each.
        assert_eq!(
            poll_interval(20, 1),
            Duration::from_millis(4_125),
            "one portfolio"
        );
        assert_eq!(
            poll_interval(20, 4),
            Duration::from_millis(16_500),
            "four share it"
        );
        assert_eq!(
            poll_interval(600, 1),
            Duration::from_secs(1),
            "never below a second"
        );
        let budget = PollBudget::new(20);
        let a = budget.join();
        let b = budget.join();
        assert_eq!(budget.interval(), poll_interval(20, 2), "two followed");
        drop(a);
        assert_eq!(budget.interval(), poll_interval(20, 1), "one left");
        drop(b);
        assert_eq!(budget.followed(), 0, "none left");
    }
}
