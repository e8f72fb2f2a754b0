//! Leaders the user can copy: the embedded simulator's demo leaders, the account leaders
//! the user added with a read-only key (`account_leaders`) and the accounts named as
//! leaders of stored copies. Their figures are `analytics::figures` over 7, 30 and 90 days
//! (the same definitions as the CLI's and the simulator's lead-portfolio pages), from the
//! account's history read by `runtime::leaders::account_leader_report` through a client
//! that books at low priority on the shared weight budget, and cached for
//! [`FIGURES_TTL_MS`]: a history read never makes a copy wait. The list answers at once:
//! a leader whose history is still being read is listed with `figuresPending` (the read
//! runs in the background and fills the cache, then the facade sends a
//! `leader_figures` event so the app lists again); the detail waits for it. A demo leader's
//! figures come from the embedded simulator in-process (what its lead-portfolio pages
//! serve), so they are there on the first list. Account leaders' figures are kept in the
//! data directory (`figures_file`), so a second start lists them at once.

use std::collections::HashMap;
use std::sync::Arc;

use rust_decimal::Decimal;

use crate::analytics::figures::{Figures, Report};
use crate::exchange::AccountSnapshot;
use crate::runtime::NotifyKind;

use super::dto::{
    EquityPointDto, EventDto, EventLevel, FiguresDto, LeaderDetailDto, LeaderDto,
    LeaderPositionDto, LeaderSourceDto,
};
use super::ApiError;

/// How long a leader's figures are served from the cache before its history is read
/// again.
pub const FIGURES_TTL_MS: i64 = 60 * 60_000;

/// A leader as the facade knows it before any figures are read.
#[derive(Debug, Clone)]
pub(crate) struct LeaderRef {
    /// The leader id: the account name.
    pub id: String,
    pub name: String,
    pub source: LeaderSourceDto,
    pub style: Option<String>,
}

/// One leader's figures and equity as last read.
#[derive(Debug, Clone)]
pub(crate) struct CachedLeader {
    pub read_at_ms: i64,
    pub report: Arc<Report>,
    /// The account's equity (margin balance) when it was read.
    pub equity: Decimal,
}

/// How long a failed history read is reported before it is tried again.
const RETRY_FAILED_MS: i64 = 60_000;

#[derive(Debug, Default)]
struct CacheState {
    by_id: HashMap<String, CachedLeader>,
    /// Leaders whose history is being read now.
    reading: std::collections::HashSet<String>,
    /// The last failed read: when, and the error.
    failed: HashMap<String, (i64, ApiError)>,
    /// Reads that are not saved to the file (demo leaders', read in-process).
    memory_only: std::collections::HashSet<String>,
}

/// Leader figures by leader id: read once, served until [`FIGURES_TTL_MS`] has passed.
/// With a file (`figures_file`), every read that lands is saved there too.
#[derive(Debug, Default, Clone)]
pub(crate) struct FiguresCache {
    state: Arc<std::sync::Mutex<CacheState>>,
    file: Option<Arc<std::path::Path>>,
    saving: Arc<std::sync::Mutex<()>>,
}

impl FiguresCache {
    /// A cache kept in `file`, starting with the reads saved there; with the error when
    /// the file cannot be read (its leaders are then read again, and the file rewritten).
    pub fn with_file(file: std::path::PathBuf) -> (Self, Option<String>) {
        let (saved, error) = match super::figures_file::load(&file) {
            Ok(saved) => (saved, None),
            Err(e) => (HashMap::new(), Some(e)),
        };
        let cache = Self {
            state: Arc::default(),
            file: Some(Arc::from(file.as_path())),
            saving: Arc::default(),
        };
        cache.lock().by_id.extend(saved);
        (cache, error)
    }

    /// Puts a read in the cache that is not saved (a demo leader's, read in-process).
    fn put(&self, id: &str, c: CachedLeader) {
        let mut s = self.lock();
        s.by_id.insert(id.to_owned(), c);
        s.memory_only.insert(id.to_owned());
    }

    /// Writes the saved reads to the file (one writer at a time, so the last read wins).
    fn save(&self) {
        let Some(file) = &self.file else { return };
        let _one = match self.saving.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        let entries: HashMap<String, CachedLeader> = {
            let s = self.lock();
            s.by_id
                .iter()
                .filter(|(id, _)| !s.memory_only.contains(*id))
                .map(|(id, c)| (id.clone(), c.clone()))
                .collect()
        };
        super::figures_file::save(file, &entries);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CacheState> {
        match self.state.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Whether a read of `id` runs now.
    pub fn reading(&self, id: &str) -> bool {
        self.lock().reading.contains(id)
    }

    /// Marks a read of `id` as started; false when one runs already.
    fn start(&self, id: &str) -> bool {
        self.lock().reading.insert(id.to_owned())
    }

    fn finish(&self, id: &str, now_ms: i64, result: Result<CachedLeader, ApiError>) {
        let mut s = self.lock();
        s.reading.remove(id);
        match result {
            Ok(c) => {
                s.failed.remove(id);
                s.memory_only.remove(id);
                s.by_id.insert(id.to_owned(), c);
            }
            Err(e) => {
                s.failed.insert(id.to_owned(), (now_ms, e));
                return;
            }
        }
        drop(s);
        self.save();
    }

    /// The last read's error, while it is recent.
    fn failed(&self, id: &str, now_ms: i64) -> Option<ApiError> {
        self.lock()
            .failed
            .get(id)
            .filter(|(at, _)| now_ms - at < RETRY_FAILED_MS)
            .map(|(_, e)| e.clone())
    }

    /// The cached read of `id` if it is younger than the TTL at `now_ms`.
    pub fn fresh(&self, id: &str, now_ms: i64) -> Option<CachedLeader> {
        self.lock()
            .by_id
            .get(id)
            .filter(|c| now_ms - c.read_at_ms < FIGURES_TTL_MS)
            .cloned()
    }

    pub fn forget(&self, id: &str) {
        let mut s = self.lock();
        let had = s.by_id.remove(id).is_some();
        s.failed.remove(id);
        drop(s);
        if had {
            self.save();
        }
    }
}

fn text(d: Decimal) -> String {
    d.round_dp(4).normalize().to_string()
}

fn opt(d: Option<Decimal>) -> Option<String> {
    d.map(text)
}

/// One window's figures for the UI (decimals as strings, percent values: 25.5 = 25.5 %).
pub(crate) fn figures_dto(f: &Figures) -> FiguresDto {
    FiguresDto {
        days: f.days,
        roi: opt(f.roi_pct),
        pnl: Some(text(f.pnl)),
        max_drawdown: Some(text(f.max_drawdown.pct)),
        sharpe: opt(f.sharpe),
        sortino: opt(f.sortino),
        win_rate: opt(f.win_rate_pct),
        trades: u32::try_from(f.trades).unwrap_or(u32::MAX),
        avg_hold_ms: f.avg_hold_ms,
        avg_leverage: opt(f.avg_leverage),
        max_leverage: opt(f.max_leverage),
        trades_per_day: text(f.trades_per_day),
        top_symbol: f.top_symbol.as_ref().map(|t| t.symbol.clone()),
        top_symbol_share: f.top_symbol.as_ref().map(|t| text(t.share_pct)),
    }
}

/// A leader with its figures.
pub(crate) fn leader_dto(r: &LeaderRef, c: &CachedLeader) -> LeaderDto {
    LeaderDto {
        id: r.id.clone(),
        name: r.name.clone(),
        source: r.source,
        style: r.style.clone(),
        figures: c.report.figures.iter().map(figures_dto).collect(),
        copyable: true,
        not_copyable_reason: None,
        expected_delay: "~2 ms, stream".into(),
        equity: Some(c.equity.round_dp(2).normalize().to_string()),
        figures_pending: false,
        delay_note: None,
    }
}

/// A leader whose history is still being read: listed, figures to follow.
pub(crate) fn pending(r: &LeaderRef) -> LeaderDto {
    LeaderDto {
        id: r.id.clone(),
        name: r.name.clone(),
        source: r.source,
        style: r.style.clone(),
        figures: Vec::new(),
        copyable: true,
        not_copyable_reason: None,
        expected_delay: "~2 ms, stream".into(),
        equity: None,
        figures_pending: true,
        delay_note: None,
    }
}

/// A leader that could not be read: listed, not copyable, with the reason.
pub(crate) fn unreadable(r: &LeaderRef, e: &ApiError) -> LeaderDto {
    LeaderDto {
        id: r.id.clone(),
        name: r.name.clone(),
        source: r.source,
        style: r.style.clone(),
        figures: Vec::new(),
        copyable: false,
        not_copyable_reason: Some(format!("its account cannot be read now: {}", e.message)),
        expected_delay: "~2 ms, stream".into(),
        equity: None,
        figures_pending: false,
        delay_note: None,
    }
}

/// A leader's detail: figures, daily equity curve and its open positions now (`snap`).
pub(crate) fn detail(r: &LeaderRef, c: &CachedLeader, snap: &AccountSnapshot) -> LeaderDetailDto {
    let equity_curve = c
        .report
        .equity_curve
        .iter()
        .map(|p| EquityPointDto {
            ts_ms: p.ts_ms,
            value: p.value.round_dp(2).normalize().to_string(),
        })
        .collect();
    let positions = snap
        .positions
        .iter()
        .filter(|p| !p.signed_quantity.is_zero())
        .map(|p| LeaderPositionDto {
            symbol: p.symbol.clone(),
            side: if p.signed_quantity > Decimal::ZERO {
                "long".into()
            } else {
                "short".into()
            },
            qty: p.signed_quantity.abs().normalize().to_string(),
            entry_price: p.entry_price.map(|e| e.get().normalize().to_string()),
            leverage: p.leverage,
            margin_mode: format!("{:?}", p.margin_mode).to_lowercase(),
        })
        .collect();
    LeaderDetailDto {
        leader: leader_dto(r, c),
        equity_curve,
        positions,
    }
}

impl super::App {
    /// Every leader the app knows: demo leaders of paper mode, then account leaders (added
    /// by the user, or leaders of stored copies).
    pub(crate) async fn leader_refs(&self) -> Result<Vec<LeaderRef>, ApiError> {
        let mut out = Vec::new();
        if let Some(sim) = self.paper.lock().await.as_ref() {
            for (name, l) in &sim.demo {
                out.push(LeaderRef {
                    id: name.clone(),
                    name: l.label.clone(),
                    source: LeaderSourceDto::Demo,
                    style: Some(l.style.as_str().to_owned()),
                });
            }
        }
        let stored = self.with_store(|s| Ok(s.leaders().list()?))?;
        for l in stored {
            let Some(account) = l.account else { continue };
            if out.iter().any(|r| r.id == account) {
                continue;
            }
            out.push(LeaderRef {
                id: account,
                name: l.name,
                source: LeaderSourceDto::Account,
                style: None,
            });
        }
        Ok(out)
    }

    /// Starts reading a leader's history in the background (once at a time); the result
    /// lands in the cache.
    async fn start_read(&self, r: &LeaderRef) -> Result<(), ApiError> {
        let spec = self.account_spec(&r.id).await?;
        if !self.leader_cache.start(&r.id) {
            return Ok(());
        }
        let venues = self.engine.venues();
        let clock = self.engine.clock();
        let cache = self.leader_cache.clone();
        let events = self.events.clone();
        let id = r.id.clone();
        tokio::spawn(async move {
            let now = clock.now_ms();
            let result = read(&spec, &venues, &clock, now).await;
            if let Err(e) = &result {
                tracing::warn!(leader = %id, error = %e.message, "leader history not read");
            }
            let event = figures_event(&id, clock.now_ms(), result.as_ref().err());
            cache.finish(&id, now, result);
            // After the cache has it: a list on this event finds the figures.
            let _ = events.send(event);
        });
        Ok(())
    }

    /// A demo leader's figures, read from the embedded simulator in-process and cached;
    /// `None` for a leader that is not one of its demo leaders (or paper mode is off).
    pub(crate) async fn demo_figures(&self, r: &LeaderRef) -> Option<CachedLeader> {
        if r.source != LeaderSourceDto::Demo {
            return None;
        }
        let now = self.engine.clock().now_ms();
        let (report, equity) = {
            let guard = self.paper.lock().await;
            let sim = guard.as_ref()?;
            let (_, demo) = sim.demo.iter().find(|(name, _)| *name == r.id)?;
            sim.handle.lead_figures(&demo.account_id)?
        };
        let c = CachedLeader {
            read_at_ms: now,
            report: Arc::new(report),
            equity,
        };
        self.leader_cache.put(&r.id, c.clone());
        Some(c)
    }

    /// A leader's figures and account: from the cache while fresh, else read now (joining
    /// a read already under way).
    pub(crate) async fn leader_read(&self, r: &LeaderRef) -> Result<CachedLeader, ApiError> {
        // A background read waits at most a few budget windows; this bounds a lost one.
        for _ in 0..3_000 {
            let now = self.engine.clock().now_ms();
            if let Some(c) = self.leader_cache.fresh(&r.id, now) {
                return Ok(c);
            }
            if let Some(c) = self.demo_figures(r).await {
                return Ok(c);
            }
            if !self.leader_cache.reading(&r.id) {
                let spec = self.account_spec(&r.id).await?;
                if self.leader_cache.start(&r.id) {
                    let result =
                        read(&spec, &self.engine.venues(), &self.engine.clock(), now).await;
                    self.leader_cache.finish(&r.id, now, result.clone());
                    return result;
                }
            }
            if let Some(e) = self.leader_cache.failed(&r.id, now) {
                if !self.leader_cache.reading(&r.id) {
                    return Err(e);
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        Err(ApiError::new(
            super::ErrorCode::Exchange,
            format!(
                "the history of leader `{}` is still being read after 5 minutes; try again later",
                r.id
            ),
        ))
    }

    /// Every leader, at once: with its figures when they are cached, else listed with
    /// `figuresPending` while its history is read in the background; one whose account
    /// cannot be read is listed as not copyable, with the reason. Public lead portfolios
    /// follow (`portfolio_leaders`), with the copy delay polling implies.
    pub async fn leaders(&self) -> Result<Vec<LeaderDto>, ApiError> {
        let mut out = self.account_leaders().await?;
        out.extend(self.portfolio_leaders().await?);
        Ok(out)
    }

    async fn account_leaders(&self) -> Result<Vec<LeaderDto>, ApiError> {
        let mut out = Vec::new();
        for r in self.leader_refs().await? {
            let now = self.engine.clock().now_ms();
            if let Some(c) = self.leader_cache.fresh(&r.id, now) {
                out.push(leader_dto(&r, &c));
            } else if let Some(c) = self.demo_figures(&r).await {
                out.push(leader_dto(&r, &c));
            } else if let Some(e) = self
                .leader_cache
                .failed(&r.id, now)
                .filter(|_| !self.leader_cache.reading(&r.id))
            {
                out.push(unreadable(&r, &e));
            } else {
                match self.start_read(&r).await {
                    Ok(()) => out.push(pending(&r)),
                    Err(e) => out.push(unreadable(&r, &e)),
                }
            }
        }
        Ok(out)
    }

    /// One leader's figures, equity curve and positions.
    pub async fn leader(&self, id: &str) -> Result<LeaderDetailDto, ApiError> {
        if super::portfolio_leaders::parse_leader_id(id).is_some() {
            return self.portfolio_detail(id).await;
        }
        let r = self
            .leader_refs()
            .await?
            .into_iter()
            .find(|r| r.id == id)
            .ok_or_else(|| {
                ApiError::not_found(format!("no leader `{id}`; list the leaders for their ids"))
            })?;
        let c = self.leader_read(&r).await?;
        // Positions are shown as they are now, the figures as cached.
        let spec = self.account_spec(&r.id).await?;
        let ex =
            super::venue::background_exchange(&spec, &self.engine.venues(), &self.engine.clock())?;
        let snap = ex.account().await?;
        Ok(detail(&r, &c, &snap))
    }
}

/// Reads one leader's history and account through a low-priority client.
async fn read(
    spec: &crate::runtime::AccountSpec,
    venues: &Arc<dyn crate::exchange::VenueFactory>,
    clock: &Arc<dyn crate::exchange::Clock>,
    now: i64,
) -> Result<CachedLeader, ApiError> {
    let ex = super::venue::background_exchange(spec, venues, clock)?;
    let (report, snap) = crate::runtime::leaders::account_leader_report(ex.as_ref(), now).await?;
    Ok(CachedLeader {
        read_at_ms: now,
        report: Arc::new(report),
        equity: snap.equity,
    })
}

/// The facade's event for a finished background read of leader `id`: its figures are in
/// the cache, or (`failed`) the list now shows it as not copyable, with the reason.
fn figures_event(id: &str, ts_ms: i64, failed: Option<&ApiError>) -> EventDto {
    let (level, message) = match failed {
        None => (
            EventLevel::Info,
            format!("figures of leader `{id}` are ready"),
        ),
        Some(e) => (
            EventLevel::Warning,
            format!(
                "the history of leader `{id}` could not be read: {}",
                e.message
            ),
        ),
    };
    EventDto {
        ts_ms,
        copy: None,
        level,
        kind: NotifyKind::LeaderFigures,
        notice: None,
        message,
        detail: None,
    }
}
