//! Public lead portfolios as leaders of the app: their leader ids
//! (`portfolio:<endpoint>:<portfolioId>`, the endpoint being `paper` for the embedded
//! simulator, `binance` for Binance's copy-trading pages, or a base URL), their entries in
//! the leader list (paper mode: the embedded simulator's lead portfolios, which its demo
//! leaders are; and the portfolios stored copies follow), their detail, and the leader spec
//! a copy of one starts from. Each entry shows the copy delay polling implies: the
//! interval of the request budget every followed public leader shares (about 20 requests a
//! minute per address). A portfolio that hides its positions is listed as not copyable,
//! with the reason. Portfolios the user typed in (`portfolio_find`) are listed with the
//! facts read then. The list's figures are the source's own (its list page); the source's
//! pages are read in the background and cached for [`LIST_TTL_MS`], so a list never waits
//! on them or spends the polling budget at every call.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use rust_decimal::Decimal;

use crate::exchange::lead_portfolio::{PortfolioClient, PortfolioSummary};
use crate::runtime::leader_source::{polled_delay, LeaderSpec, PortfolioSpec, BINANCE_ENDPOINT};
use crate::store::table::leaders::LeaderSource;

use super::dto::{
    EquityPointDto, FiguresDto, LeaderDetailDto, LeaderDto, LeaderPositionDto, LeaderSourceDto,
};
use super::paper::PAPER_ENDPOINT;
use super::{ApiError, ErrorCode};

/// The prefix of a public portfolio's leader id.
pub const PREFIX: &str = "portfolio:";

/// How long a source's list is served from the cache.
pub const LIST_TTL_MS: i64 = 5 * 60_000;
/// How long a failed list read is shown before it is tried again.
const RETRY_MS: i64 = 30_000;
/// The ranges the list is read for.
const RANGES: [(u32, &str); 3] = [(7, "7D"), (30, "30D"), (90, "90D")];

/// The leader id of portfolio `pid` on `endpoint`.
pub fn leader_id(endpoint: &str, pid: &str) -> String {
    format!("{PREFIX}{endpoint}:{pid}")
}

/// `(endpoint, portfolio id)` of a portfolio leader id; `None` for other ids; an error
/// naming the fix for a malformed one.
pub fn parse_leader_id(id: &str) -> Option<Result<(String, String), ApiError>> {
    let rest = id.strip_prefix(PREFIX)?;
    let bad = |why: &str| {
        ApiError::field(
            "leader",
            format!("leader `{id}`: {why}; a public portfolio is `portfolio:<endpoint>:<portfolio id>` with endpoint `paper`, `binance` or a base URL"),
        )
    };
    let Some((endpoint, pid)) = rest.rsplit_once(':') else {
        return Some(Err(bad("no portfolio id")));
    };
    if pid.is_empty() || !pid.chars().all(|c| c.is_ascii_digit()) {
        return Some(Err(bad("the portfolio id is not digits")));
    }
    let known = endpoint == PAPER_ENDPOINT
        || endpoint == BINANCE_ENDPOINT
        || endpoint.starts_with("http://")
        || endpoint.starts_with("https://");
    if !known {
        return Some(Err(bad("unknown endpoint")));
    }
    Some(Ok((endpoint.to_owned(), pid.to_owned())))
}

/// The stored leader name of a portfolio (unique per endpoint, at most 64 characters).
fn store_name(endpoint: &str, pid: &str) -> String {
    let name = match endpoint {
        PAPER_ENDPOINT => format!("paper-portfolio-{pid}"),
        BINANCE_ENDPOINT => format!("portfolio-{pid}"),
        url => {
            let host = url.split("://").nth(1).unwrap_or(url).trim_end_matches('/');
            format!("portfolio-{pid}@{host}")
        }
    };
    name.chars().take(64).collect()
}

/// One source's list, as last read.
#[derive(Debug, Clone)]
struct Listing {
    at_ms: i64,
    /// Per range (days), the entries; or why the list could not be read.
    result: Result<BTreeMap<u32, Vec<PortfolioSummary>>, String>,
}

#[derive(Debug, Default)]
struct CacheState {
    by_url: HashMap<String, Listing>,
    reading: BTreeSet<String>,
    /// Portfolios the user typed in and that were read (`api::portfolio_find`), by leader id.
    found: BTreeMap<String, Found>,
}

/// A portfolio the user typed in, as its source's detail, positions and performance read
/// it: listed from then on with these facts (it need not be on the source's list).
#[derive(Debug, Clone)]
pub(crate) struct Found {
    pub endpoint: String,
    pub url: String,
    pub pid: String,
    pub nickname: String,
    pub figures: Vec<FiguresDto>,
    pub copyable: bool,
    pub reason: Option<String>,
    pub equity: Option<String>,
}

/// Lists of the portfolio sources, by the URL they are read from.
#[derive(Debug, Default, Clone)]
pub(crate) struct PortfolioCache {
    state: Arc<std::sync::Mutex<CacheState>>,
}

impl PortfolioCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, CacheState> {
        match self.state.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    fn get(&self, url: &str) -> Option<Listing> {
        self.lock().by_url.get(url).cloned()
    }

    /// Keeps a typed-in portfolio's facts (replacing an older read of it).
    pub(crate) fn remember(&self, f: Found) {
        let id = leader_id(&f.endpoint, &f.pid);
        self.lock().found.insert(id, f);
    }

    fn found(&self, id: &str) -> Option<Found> {
        self.lock().found.get(id).cloned()
    }

    fn found_all(&self) -> Vec<Found> {
        self.lock().found.values().cloned().collect()
    }

    /// A portfolio's nickname as its source's list last gave it.
    fn nickname(&self, url: &str, pid: &str) -> Option<String> {
        let st = self.lock();
        if let Some(f) = st.found.values().find(|f| f.url == url && f.pid == pid) {
            return Some(f.nickname.clone());
        }
        let ranges = st.by_url.get(url)?.result.as_ref().ok()?;
        ranges
            .values()
            .flatten()
            .find(|s| s.id == pid)
            .map(|s| s.nickname.clone())
            .filter(|n| !n.trim().is_empty())
    }
}

/// Reads the three ranges of a source's list.
async fn read_list(
    client: &PortfolioClient,
) -> Result<BTreeMap<u32, Vec<PortfolioSummary>>, String> {
    let mut out = BTreeMap::new();
    for (days, range) in RANGES {
        let list = client.list(range, 100).await.map_err(|e| e.to_string())?;
        out.insert(days, list);
    }
    Ok(out)
}

pub(crate) fn text(d: Decimal) -> String {
    d.round_dp(4).normalize().to_string()
}

/// A range's figures as the source's list gives them (the rest it does not publish).
fn figures_of(days: u32, s: &PortfolioSummary) -> FiguresDto {
    let trades = s.trades.unwrap_or(0);
    FiguresDto {
        days,
        roi: s.roi_pct.map(text),
        pnl: s.pnl.map(text),
        max_drawdown: s.mdd_pct.map(text),
        sharpe: s.sharpe.map(text),
        sortino: None,
        win_rate: s.win_rate_pct.map(text),
        trades: u32::try_from(trades).unwrap_or(u32::MAX),
        avg_hold_ms: None,
        avg_leverage: None,
        max_leverage: None,
        trades_per_day: text(Decimal::from(trades) / Decimal::from(days.max(1))),
        top_symbol: None,
        top_symbol_share: None,
    }
}

/// A known portfolio to list: where, which, and its name when the list is not read yet.
#[derive(Debug, Clone)]
struct Known {
    endpoint: String,
    url: String,
    pid: String,
    name: String,
    /// For a paper-mode portfolio: the demo leader behind it (its account name and
    /// simulator account id), whose figures and hidden flag are read in-process.
    demo: Option<(String, String)>,
}

pub(crate) const HIDDEN: &str = "this portfolio hides its positions, so they cannot be copied";

impl super::App {
    /// The spec of portfolio `pid` on `endpoint` (a paper one connects to the embedded
    /// simulator).
    pub(crate) async fn portfolio_spec(
        &self,
        endpoint: &str,
        pid: &str,
    ) -> Result<PortfolioSpec, ApiError> {
        let mut nickname = None;
        let connect = if endpoint == PAPER_ENDPOINT {
            let paper = self.paper.lock().await;
            let sim = paper.as_ref().ok_or_else(|| {
                ApiError::new(
                    ErrorCode::Conflict,
                    "this leader is a paper-mode lead portfolio and paper mode is not running; start paper mode",
                )
            })?;
            let behind = crate::sim::portfolio::account_of(pid);
            nickname = sim
                .demo
                .iter()
                .find(|(_, l)| Some(&l.account_id) == behind.as_ref())
                .map(|(_, l)| l.label.clone());
            Some(sim.handle.base_url())
        } else {
            None
        };
        let mut spec = PortfolioSpec {
            name: store_name(endpoint, pid),
            portfolio_id: pid.to_owned(),
            endpoint: endpoint.to_owned(),
            connect,
        };
        // The name the user knows it by, when the list has been read: "<nickname>
        // (portfolio <id>)", so the copy's card names the trader, not only digits.
        let nickname = nickname.or_else(|| {
            spec.client()
                .ok()
                .and_then(|c| self.portfolio_cache.nickname(c.base(), pid))
        });
        if let Some(n) = nickname {
            let suffix = format!(" (portfolio {pid})");
            let room = 64usize.saturating_sub(suffix.chars().count());
            let short: String = n.trim().chars().take(room).collect();
            spec.name = format!("{short}{suffix}");
        }
        Ok(spec)
    }

    /// A copy's leader from a leader id of `leaders()`: a public portfolio, or an account.
    pub(crate) async fn leader_spec(&self, id: &str) -> Result<LeaderSpec, ApiError> {
        match parse_leader_id(id) {
            Some(parsed) => {
                let (endpoint, pid) = parsed?;
                Ok(LeaderSpec::Portfolio(
                    self.portfolio_spec(&endpoint, &pid).await?,
                ))
            }
            None => Ok(LeaderSpec::Account(self.account_spec(id).await?)),
        }
    }

    /// The account a preview reads a leader's recent opens from: the leader's own, or for a
    /// paper-mode lead portfolio the simulator account behind it (its order history is the
    /// same trades). `None` for other public portfolios: no preview yet.
    pub(crate) async fn preview_account(
        &self,
        id: &str,
    ) -> Result<Option<crate::runtime::AccountSpec>, ApiError> {
        let Some(parsed) = parse_leader_id(id) else {
            return self.account_spec(id).await.map(Some);
        };
        let (endpoint, pid) = parsed?;
        let account = if endpoint == PAPER_ENDPOINT {
            let paper = self.paper.lock().await;
            let behind = crate::sim::portfolio::account_of(&pid);
            paper.as_ref().and_then(|sim| {
                sim.demo
                    .iter()
                    .find(|(_, l)| Some(&l.account_id) == behind.as_ref())
                    .map(|(name, _)| name.clone())
            })
        } else {
            None
        };
        match account {
            Some(name) => self.account_spec(&name).await.map(Some),
            None => Ok(None),
        }
    }

    /// The portfolios the list shows: the embedded simulator's lead portfolios (its demo
    /// leaders) and the public leaders of stored copies.
    async fn known_portfolios(&self) -> Result<Vec<Known>, ApiError> {
        let mut out = Vec::new();
        if let Some(sim) = self.paper.lock().await.as_ref() {
            let url = sim.handle.base_url();
            for (demo_name, l) in &sim.demo {
                out.push(Known {
                    endpoint: PAPER_ENDPOINT.to_owned(),
                    url: url.clone(),
                    pid: crate::sim::portfolio::portfolio_id(&l.account_id),
                    name: l.label.clone(),
                    demo: Some((demo_name.clone(), l.account_id.clone())),
                });
            }
        }
        let stored = self.with_store(|s| Ok(s.leaders().list()?))?;
        for l in stored {
            let (LeaderSource::Public, Some(pid), Some(endpoint)) =
                (l.source, l.portfolio_id, l.endpoint)
            else {
                continue;
            };
            if out.iter().any(|k| k.endpoint == endpoint && k.pid == pid) {
                continue;
            }
            let url = match self.portfolio_spec(&endpoint, &pid).await {
                Ok(spec) => spec
                    .client()
                    .map(|c| c.base().to_owned())
                    .unwrap_or_default(),
                Err(_) => continue,
            };
            out.push(Known {
                endpoint,
                url,
                pid,
                name: l.name,
                demo: None,
            });
        }
        for f in self.portfolio_cache.found_all() {
            if out
                .iter()
                .any(|k| k.endpoint == f.endpoint && k.pid == f.pid)
            {
                continue;
            }
            out.push(Known {
                endpoint: f.endpoint,
                url: f.url,
                pid: f.pid,
                name: f.nickname,
                demo: None,
            });
        }
        Ok(out)
    }

    /// Portfolio ids a running copy follows.
    fn followed_portfolios(&self) -> BTreeSet<String> {
        let running = self.engine.copies();
        self.with_store(|s| {
            let mut out = BTreeSet::new();
            for c in s.copies().list()? {
                if !running.contains(&c.name) {
                    continue;
                }
                if let Some(pid) = s.leaders().get(c.leader_id)?.and_then(|l| l.portfolio_id) {
                    out.insert(pid);
                }
            }
            Ok(out)
        })
        .unwrap_or_default()
    }

    /// Starts reading a source's list in the background, unless one runs or a fresh (or
    /// recently failed) one is cached.
    fn refresh_list(&self, url: &str) {
        let now = self.engine.clock().now_ms();
        let cache = self.portfolio_cache.clone();
        {
            let mut st = cache.lock();
            let stale = st.by_url.get(url).is_none_or(|l| {
                let ttl = if l.result.is_ok() {
                    LIST_TTL_MS
                } else {
                    RETRY_MS
                };
                now - l.at_ms >= ttl
            });
            if !stale || !st.reading.insert(url.to_owned()) {
                return;
            }
        }
        let url = url.to_owned();
        tokio::spawn(async move {
            let result = match PortfolioClient::new(&url) {
                Ok(c) => read_list(&c).await,
                Err(e) => Err(e.to_string()),
            };
            if let Err(e) = &result {
                tracing::warn!(%url, error = %e, "lead portfolio list not read");
            }
            let mut st = cache.lock();
            st.reading.remove(&url);
            st.by_url.insert(url, Listing { at_ms: now, result });
        });
    }

    /// The public portfolios of the leader list, at once: with the source's figures when
    /// its list is cached, else pending while it is read.
    pub(crate) async fn portfolio_leaders(&self) -> Result<Vec<LeaderDto>, ApiError> {
        let known = self.known_portfolios().await?;
        let followed = self.followed_portfolios();
        let per_minute = self.engine.opts.engine.portfolio_per_minute;
        let budget = self.engine.poll_budget();
        let mut out = Vec::new();
        // A typed-in portfolio has its own facts: its source's list is not read for it.
        let mut urls: Vec<String> = known
            .iter()
            .filter(|k| {
                self.portfolio_cache
                    .found(&leader_id(&k.endpoint, &k.pid))
                    .is_none()
            })
            .map(|k| k.url.clone())
            .collect();
        urls.sort();
        urls.dedup();
        for url in &urls {
            self.refresh_list(url);
        }
        for k in &known {
            let sharing = budget.followed() + usize::from(!followed.contains(&k.pid));
            let (every, delay) = polled_delay(per_minute, sharing);
            let tenths = every.as_millis() / 100;
            let note = format!(
                "polled every {}.{} s: about {per_minute} requests a minute per address, shared by the {sharing} public leader(s) followed{}; the interval grows as you follow more and backs off after a refusal (HTTP 429). An account leader's stream takes milliseconds.",
                tenths / 10,
                tenths % 10,
                if followed.contains(&k.pid) { "" } else { " with this one" },
            );
            let mut dto = LeaderDto {
                id: leader_id(&k.endpoint, &k.pid),
                name: format!("{} (public portfolio)", k.name),
                source: LeaderSourceDto::Portfolio,
                style: None,
                figures: Vec::new(),
                copyable: true,
                not_copyable_reason: None,
                expected_delay: delay,
                equity: None,
                figures_pending: false,
                delay_note: Some(note),
            };
            // A paper-mode portfolio: the figures its pages serve, read in-process (the
            // demo leader's, cached), so the first list has them.
            if let Some((demo_name, account_id)) = &k.demo {
                let r = super::leaders::LeaderRef {
                    id: demo_name.clone(),
                    name: k.name.clone(),
                    source: LeaderSourceDto::Demo,
                    style: None,
                };
                let now = self.engine.clock().now_ms();
                let cached = match self.leader_cache.fresh(demo_name, now) {
                    Some(c) => Some(c),
                    None => self.demo_figures(&r).await,
                };
                if let Some(c) = cached {
                    dto.figures = c
                        .report
                        .figures
                        .iter()
                        .map(super::leaders::figures_dto)
                        .collect();
                    dto.equity = Some(c.equity.round_dp(2).normalize().to_string());
                    let hidden = self
                        .paper
                        .lock()
                        .await
                        .as_ref()
                        .is_some_and(|sim| sim.handle.positions_hidden(account_id));
                    if hidden {
                        dto.copyable = false;
                        dto.not_copyable_reason = Some(HIDDEN.to_owned());
                    }
                    out.push(dto);
                    continue;
                }
            }
            if let Some(f) = self.portfolio_cache.found(&dto.id) {
                dto.figures = f.figures;
                dto.copyable = f.copyable;
                dto.not_copyable_reason = f.reason;
                dto.equity = f.equity;
                out.push(dto);
                continue;
            }
            match self.portfolio_cache.get(&k.url).map(|l| l.result) {
                None => dto.figures_pending = true,
                Some(Err(e)) => {
                    dto.copyable = false;
                    dto.not_copyable_reason = Some(format!("its source cannot be read now: {e}"));
                }
                Some(Ok(ranges)) => {
                    for (days, list) in &ranges {
                        if let Some(s) = list.iter().find(|s| s.id == k.pid) {
                            dto.figures.push(figures_of(*days, s));
                            if s.position_show == Some(false) {
                                dto.copyable = false;
                                dto.not_copyable_reason = Some(HIDDEN.to_owned());
                            }
                            dto.equity = s.aum.map(|a| a.round_dp(2).normalize().to_string());
                        }
                    }
                    if dto.figures.is_empty() {
                        dto.copyable = false;
                        dto.not_copyable_reason =
                            Some("the source no longer lists this portfolio".to_owned());
                    }
                }
            }
            out.push(dto);
        }
        Ok(out)
    }

    /// A public portfolio's detail: its list entry, current positions (when shown) and
    /// its cumulative PnL curve over 30 days, read now from the source.
    pub(crate) async fn portfolio_detail(&self, id: &str) -> Result<LeaderDetailDto, ApiError> {
        let (endpoint, pid) = parse_leader_id(id).ok_or_else(|| {
            ApiError::not_found(format!("`{id}` is not a public portfolio's leader id"))
        })??;
        let leader = self
            .portfolio_leaders()
            .await?
            .into_iter()
            .find(|l| l.id == id)
            .ok_or_else(|| {
                ApiError::not_found(format!("no leader `{id}`; list the leaders for their ids"))
            })?;
        let client = self
            .portfolio_spec(&endpoint, &pid)
            .await?
            .client()
            .map_err(|e| ApiError::new(ErrorCode::Exchange, e.to_string()))?;
        let source = |e: crate::exchange::lead_portfolio::SourceError| {
            ApiError::new(ErrorCode::Exchange, e.to_string())
        };
        let detail = client.detail(&pid).await.map_err(source)?;
        let positions = if detail.position_show {
            client
                .positions(&pid)
                .await
                .map_err(source)?
                .into_iter()
                .filter(|p| !p.amount.is_zero())
                .map(|p| LeaderPositionDto {
                    symbol: p.symbol,
                    side: if p.amount > Decimal::ZERO {
                        "long".into()
                    } else {
                        "short".into()
                    },
                    qty: p.amount.abs().normalize().to_string(),
                    entry_price: Some(p.entry_price.normalize().to_string()),
                    leverage: p.leverage,
                    margin_mode: if p.isolated { "isolated" } else { "cross" }.into(),
                })
                .collect()
        } else {
            Vec::new()
        };
        let equity_curve = client
            .pnl_chart(&pid, "30D")
            .await
            .map_err(source)?
            .into_iter()
            .map(|(ts_ms, v)| EquityPointDto {
                ts_ms,
                value: v.round_dp(2).normalize().to_string(),
            })
            .collect();
        let mut leader = leader;
        if !detail.position_show {
            leader.copyable = false;
            leader.not_copyable_reason = Some(HIDDEN.to_owned());
        }
        if let Some(m) = detail.margin_balance {
            leader.equity = Some(m.round_dp(2).normalize().to_string());
        }
        Ok(LeaderDetailDto {
            leader,
            equity_curve,
            positions,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn portfolio_ids_carry_their_endpoint() {
        let id = leader_id("http://127.0.0.1:8900", "3800000000000000007");
        let (e, p) = parse_leader_id(&id)
            .expect("a portfolio id")
            .expect("well formed");
        assert_eq!(
            (e.as_str(), p.as_str()),
            ("http://127.0.0.1:8900", "3800000000000000007"),
            "the URL's own colons stay in the endpoint"
        );
        assert!(parse_leader_id("demo-steady").is_none(), "an account id");
        let bad = parse_leader_id("portfolio:paper:12ab")
            .expect("a portfolio id")
            .expect_err("not digits");
        assert_eq!(bad.field.as_deref(), Some("leader"), "names the field");
        assert!(
            parse_leader_id("portfolio:ftp://x:1").is_some_and(|r| r.is_err()),
            "an unknown endpoint is refused"
        );
        assert!(
            store_name(
                "https://example.invalid/a/very/long/path/that/goes/on/and/on",
                "1"
            )
            .chars()
            .count()
                <= 64,
            "the stored name fits the leaders table"
        );
    }
}
