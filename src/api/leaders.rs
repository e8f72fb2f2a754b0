//! Leaders the user can copy: the embedded simulator's demo leaders and the accounts named
//! as leaders of stored copies, with the figures `analytics::leader` computes over 7, 30
//! and 90 days from the leader's income history (daily equity rebuilt backwards from the
//! current equity; closed trades from realized PnL records).

use std::sync::Arc;

use rust_decimal::Decimal;

use crate::analytics::leader::{leader_figures, LeaderFigures, Window};
use crate::exchange::{Exchange, IncomeKind, IncomeQuery};

use super::dto::{
    EquityPointDto, FiguresDto, LeaderDetailDto, LeaderDto, LeaderPositionDto, LeaderSourceDto,
};
use super::ApiError;

const DAY_MS: i64 = 24 * 3_600_000;

/// A leader as the facade knows it before any figures are read.
#[derive(Debug, Clone)]
pub(crate) struct LeaderRef {
    /// The leader id: the account name.
    pub id: String,
    pub name: String,
    pub source: LeaderSourceDto,
    pub style: Option<String>,
}

/// Daily equity (oldest first, ending now) and closed-trade PnLs over 90 days.
async fn history(
    ex: &dyn Exchange,
    now: i64,
) -> Result<(Vec<Decimal>, Vec<(i64, Decimal)>, Decimal), ApiError> {
    let snap = ex.account().await?;
    let start = now - 90 * DAY_MS;
    let mut records = Vec::new();
    // The income endpoint answers at most 1,000 records per call, newest window first.
    let mut from = start;
    loop {
        let page = ex
            .income(&IncomeQuery {
                start: Some(from),
                end: Some(now),
                limit: Some(1000),
                ..IncomeQuery::default()
            })
            .await?;
        let n = page.len();
        let last = page.iter().map(|r| r.time).max();
        records.extend(page);
        match last {
            Some(t) if n == 1000 && t + 1 > from => from = t + 1,
            _ => break,
        }
    }
    let mut daily = vec![Decimal::ZERO; 91];
    let mut trades = Vec::new();
    for r in &records {
        if matches!(r.kind, IncomeKind::Transfer) {
            continue;
        }
        let day = usize::try_from((now - r.time).max(0) / DAY_MS)
            .unwrap_or(90)
            .min(90);
        daily[day] += r.amount.amount;
        if matches!(r.kind, IncomeKind::RealizedPnl) {
            trades.push((r.time, r.amount.amount));
        }
    }
    // Equity at the end of each day, walking back from today's.
    let mut curve = Vec::with_capacity(91);
    let mut equity = snap.equity;
    for change in &daily {
        curve.push(equity);
        equity -= *change;
    }
    curve.reverse();
    Ok((curve, trades, snap.equity))
}

fn opt(d: Option<Decimal>) -> Option<String> {
    d.map(|d| d.round_dp(4).normalize().to_string())
}

fn figures_dto(days: u32, f: &LeaderFigures) -> FiguresDto {
    FiguresDto {
        days,
        roi: opt(f.roi_pct),
        pnl: opt(Some(f.pnl)),
        max_drawdown: opt(Some(f.max_drawdown.pct)),
        sharpe: opt(f.sharpe),
        sortino: opt(f.sortino),
        win_rate: opt(f.win_rate_pct),
        trades: u32::try_from(f.trade_count).unwrap_or(u32::MAX),
    }
}

/// A leader with its figures, read from its venue.
pub(crate) async fn leader_dto(
    r: &LeaderRef,
    ex: &Arc<dyn Exchange>,
    now: i64,
) -> Result<(LeaderDto, Vec<Decimal>), ApiError> {
    let (curve, trades, equity) = history(ex.as_ref(), now).await?;
    let figures = [
        (7u32, Window::Days7),
        (30, Window::Days30),
        (90, Window::Days90),
    ]
    .iter()
    .map(|(days, w)| {
        let since = now - i64::from(*days) * DAY_MS;
        let closed: Vec<Decimal> = trades
            .iter()
            .filter(|(t, _)| *t >= since)
            .map(|(_, p)| *p)
            .collect();
        figures_dto(*days, &leader_figures(&curve, &closed, *w))
    })
    .collect();
    Ok((
        LeaderDto {
            id: r.id.clone(),
            name: r.name.clone(),
            source: r.source,
            style: r.style.clone(),
            figures,
            copyable: true,
            not_copyable_reason: None,
            expected_delay: "~2 ms, stream".into(),
            equity: Some(equity.round_dp(2).normalize().to_string()),
        },
        curve,
    ))
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
    }
}

/// A leader's detail: figures, daily equity curve and open positions.
pub(crate) async fn detail(
    r: &LeaderRef,
    ex: &Arc<dyn Exchange>,
    now: i64,
) -> Result<LeaderDetailDto, ApiError> {
    let (leader, curve) = leader_dto(r, ex, now).await?;
    let snap = ex.account().await?;
    let n = i64::try_from(curve.len()).unwrap_or(0);
    let equity_curve = curve
        .iter()
        .enumerate()
        .map(|(i, v)| EquityPointDto {
            ts_ms: now - (n - 1 - i64::try_from(i).unwrap_or(0)) * DAY_MS,
            value: v.round_dp(2).normalize().to_string(),
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
    Ok(LeaderDetailDto {
        leader,
        equity_curve,
        positions,
    })
}

impl super::App {
    /// Every leader the app knows: demo leaders of paper mode, then account leaders of
    /// stored copies.
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

    /// Every leader with its figures; one that cannot be read is listed as not copyable.
    pub async fn leaders(&self) -> Result<Vec<LeaderDto>, ApiError> {
        let now = self.engine.clock().now_ms();
        let mut out = Vec::new();
        for r in self.leader_refs().await? {
            let read = async {
                let spec = self.account_spec(&r.id).await?;
                let ex = super::venue::exchange(&spec, &self.engine.clock())?;
                leader_dto(&r, &ex, now).await
            }
            .await;
            out.push(match read {
                Ok((dto, _)) => dto,
                Err(e) => unreadable(&r, &e),
            });
        }
        Ok(out)
    }

    /// One leader's figures, equity curve and positions.
    pub async fn leader(&self, id: &str) -> Result<LeaderDetailDto, ApiError> {
        let r = self
            .leader_refs()
            .await?
            .into_iter()
            .find(|r| r.id == id)
            .ok_or_else(|| {
                ApiError::not_found(format!("no leader `{id}`; list the leaders for their ids"))
            })?;
        let spec = self.account_spec(&r.id).await?;
        let ex = super::venue::exchange(&spec, &self.engine.clock())?;
        detail(&r, &ex, self.engine.clock().now_ms()).await
    }
}
