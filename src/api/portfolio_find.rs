//! A public lead portfolio the user types in (the leader step and the Leaders screen, live
//! or paper mode): its id or page address and its source are checked first (a refusal
//! names the field and says the fix), then the portfolio is read through its source — its
//! detail, its positions list when shown, its 30-day performance (three requests) — before
//! it can be chosen. Hidden positions or a positions list in an unknown format make it
//! listed as not copyable, with the reason; a 429, a geo-blocked 403, an unreachable source
//! or an id the source does not know is an error saying what happened and what to do.
//! A portfolio read here is listed by `leaders()` from then on (for as long as the app
//! runs; a copy of it stores it for good), with these facts rather than the source's list.

use crate::exchange::lead_portfolio::{PortfolioPerformance, SourceError};
use crate::runtime::leader_source::BINANCE_ENDPOINT;

use super::dto::{FiguresDto, FindPortfolioRequest, LeaderDto, PortfolioSourceDto};
use super::portfolio_leaders::{leader_id, text, Found, HIDDEN};
use super::{ApiError, ErrorCode};

/// Longest portfolio id accepted (Binance's are 19 digits).
const MAX_ID_DIGITS: usize = 30;

const WHERE_ID: &str = "it is the number at the end of the portfolio's page address, \
     as in …/copy-trading/lead-details/4012345678901234567";

/// The portfolio id in what the user typed: the id itself, or a page address ending in
/// `/lead-details/<id>` (query and fragment ignored).
pub(crate) fn parse_portfolio(input: &str) -> Result<String, ApiError> {
    let typed = input.trim();
    if typed.is_empty() {
        return Err(ApiError::field(
            "portfolio",
            format!("type the portfolio's id or paste its page address; {WHERE_ID}"),
        ));
    }
    let id = if typed.contains('/') {
        let after = typed.split("lead-details/").nth(1).ok_or_else(|| {
            ApiError::field(
                "portfolio",
                format!(
                    "this address is not a lead portfolio's page; paste the address of the \
                     portfolio's page or type its id: {WHERE_ID}"
                ),
            )
        })?;
        let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
        if digits.is_empty() {
            return Err(ApiError::field(
                "portfolio",
                format!("the address has no portfolio id after `lead-details/`; {WHERE_ID}"),
            ));
        }
        digits
    } else {
        if let Some(c) = typed.chars().find(|c| !c.is_ascii_digit()) {
            return Err(ApiError::field(
                "portfolio",
                format!("a portfolio id is digits only (`{c}` is not); {WHERE_ID}"),
            ));
        }
        typed.to_owned()
    };
    if id.len() > MAX_ID_DIGITS {
        return Err(ApiError::field(
            "portfolio",
            format!(
                "a portfolio id has at most {MAX_ID_DIGITS} digits, this one {}; {WHERE_ID}",
                id.len()
            ),
        ));
    }
    Ok(id)
}

/// The stored endpoint word or base URL of the request's source.
pub(crate) fn source_endpoint(req: &FindPortfolioRequest) -> Result<String, ApiError> {
    match req.source {
        PortfolioSourceDto::Binance => Ok(BINANCE_ENDPOINT.to_owned()),
        PortfolioSourceDto::Custom => {
            let url = req.endpoint.as_deref().map(str::trim).unwrap_or_default();
            let fix = "type the source's base URL, e.g. http://127.0.0.1:8900";
            if url.is_empty() {
                return Err(ApiError::field(
                    "endpoint",
                    format!("a custom source needs its address; {fix}"),
                ));
            }
            let parsed = reqwest::Url::parse(url).map_err(|e| {
                ApiError::field("endpoint", format!("`{url}` is not a URL ({e}); {fix}"))
            })?;
            if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
                return Err(ApiError::field(
                    "endpoint",
                    format!("`{url}` is not an http:// or https:// address; {fix}"),
                ));
            }
            Ok(url.trim_end_matches('/').to_owned())
        }
    }
}

/// What the user is told when the source could not be read.
fn source_error(e: SourceError, endpoint: &str, pid: &str) -> ApiError {
    let custom = endpoint != BINANCE_ENDPOINT;
    let source = if custom {
        format!("the pages at `{endpoint}`")
    } else {
        "Binance's copy-trading pages".to_owned()
    };
    match e {
        SourceError::RateLimited { retry_after_s } => ApiError::new(
            ErrorCode::Exchange,
            format!(
                "{source} refused: too many requests from this address (HTTP 429); nothing was \
                 chosen. Try again in {retry_after_s} s: about 20 requests a minute are shared \
                 by every public portfolio CopyDesk reads"
            ),
        ),
        SourceError::GeoBlocked => ApiError::new(
            ErrorCode::Exchange,
            format!(
                "{source} are not available from this address (HTTP 403, geo-blocked): a public \
                 portfolio cannot be followed from here. Follow an account leader with a \
                 read-only key instead, or connect from a region where the pages are available"
            ),
        ),
        SourceError::Refused { code, message } => ApiError {
            code: ErrorCode::NotFound,
            field: Some("portfolio".into()),
            message: format!(
                "{source} know no public portfolio {pid} (code {code}: {message}); check the \
                 id: {WHERE_ID}"
            ),
        },
        SourceError::Transport(t) => ApiError {
            code: ErrorCode::Exchange,
            field: custom.then(|| "endpoint".to_owned()),
            message: format!(
                "{source} could not be reached ({t}); check your network{}",
                if custom { " and the address" } else { "" }
            ),
        },
        SourceError::FormatChanged(w) => ApiError::new(
            ErrorCode::Exchange,
            format!(
                "{source} answered in a format CopyDesk does not know ({w}); this portfolio \
                 cannot be read until CopyDesk is updated"
            ),
        ),
    }
}

/// A 30-day performance as the leader card's figures.
fn figures_of(days: u32, p: &PortfolioPerformance) -> FiguresDto {
    let trades = p.trades.unwrap_or(0);
    FiguresDto {
        days,
        roi: p.roi_pct.map(text),
        pnl: p.pnl.map(text),
        max_drawdown: p.mdd_pct.map(text),
        sharpe: p.sharpe.map(text),
        sortino: p.sortino.map(text),
        win_rate: p.win_rate_pct.map(text),
        trades: u32::try_from(trades).unwrap_or(u32::MAX),
        avg_hold_ms: None,
        avg_leverage: None,
        max_leverage: None,
        trades_per_day: text(
            rust_decimal::Decimal::from(trades) / rust_decimal::Decimal::from(days.max(1)),
        ),
        top_symbol: None,
        top_symbol_share: None,
    }
}

impl super::App {
    /// Reads a typed-in public portfolio through its source and lists it: the leader as
    /// the list shows it (copyable or not, with the reason; the copy delay polling
    /// implies), whose id `create_copy` takes.
    pub async fn find_portfolio(&self, req: FindPortfolioRequest) -> Result<LeaderDto, ApiError> {
        let endpoint = source_endpoint(&req)?;
        let pid = parse_portfolio(&req.portfolio)?;
        let spec = self.portfolio_spec(&endpoint, &pid).await?;
        let client = spec.client().map_err(|e| ApiError {
            field: (endpoint != BINANCE_ENDPOINT).then(|| "endpoint".to_owned()),
            ..ApiError::new(ErrorCode::InvalidInput, e.to_string())
        })?;
        let failed = |e| source_error(e, &endpoint, &pid);
        let detail = client.detail(&pid).await.map_err(failed)?;
        let mut found = Found {
            endpoint: endpoint.clone(),
            url: client.base().to_owned(),
            pid: pid.clone(),
            nickname: Some(detail.nickname.trim())
                .filter(|n| !n.is_empty())
                .map_or_else(|| format!("portfolio {pid}"), str::to_owned),
            figures: Vec::new(),
            copyable: true,
            reason: None,
            equity: detail
                .margin_balance
                .map(|m| m.round_dp(2).normalize().to_string()),
        };
        if !detail.position_show {
            found.copyable = false;
            found.reason = Some(HIDDEN.to_owned());
        } else {
            match client.positions(&pid).await {
                Ok(_) => {}
                Err(SourceError::FormatChanged(w)) => {
                    found.copyable = false;
                    found.reason = Some(format!(
                        "its positions list came in a format CopyDesk does not know ({w}); \
                         it cannot be copied until CopyDesk is updated"
                    ));
                }
                Err(e) => return Err(failed(e)),
            }
        }
        // The figures are a courtesy: a portfolio is copyable without them.
        match client.performance(&pid, "30D").await {
            Ok(p) => found.figures.push(figures_of(30, &p)),
            Err(e) => tracing::warn!(portfolio = %pid, error = %e, "30-day figures not read"),
        }
        let id = leader_id(&endpoint, &pid);
        self.portfolio_cache.remember(found);
        self.portfolio_leaders()
            .await?
            .into_iter()
            .find(|l| l.id == id)
            .ok_or_else(|| ApiError::internal(format!("portfolio {id} read but not listed")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(r: Result<String, ApiError>) -> (Option<String>, String) {
        let e = r.expect_err("refused");
        (e.field, e.message)
    }

    #[test]
    fn an_id_or_a_page_address_is_read_and_anything_else_named() {
        assert_eq!(
            parse_portfolio(" 4012345678901234567 ").expect("digits"),
            "4012345678901234567"
        );
        assert_eq!(
            parse_portfolio(
                "https://www.binance.com/en/copy-trading/lead-details/4012345678901234567?timeRange=30D"
            )
            .expect("a page address"),
            "4012345678901234567"
        );
        let (f, m) = field(parse_portfolio(""));
        assert_eq!(f.as_deref(), Some("portfolio"), "names the field");
        assert!(m.contains("lead-details/"), "says where the id is: {m}");
        let (f, m) = field(parse_portfolio("40123x"));
        assert_eq!(f.as_deref(), Some("portfolio"));
        assert!(m.contains("digits only") && m.contains("`x`"), "{m}");
        let (_, m) = field(parse_portfolio(
            "https://www.binance.com/en/futures/BTCUSDT",
        ));
        assert!(m.contains("not a lead portfolio's page"), "{m}");
        let (_, m) = field(parse_portfolio(&"9".repeat(31)));
        assert!(m.contains("at most 30 digits"), "{m}");
    }

    #[test]
    fn a_custom_source_needs_an_http_address() {
        let req = |endpoint: Option<&str>| FindPortfolioRequest {
            source: PortfolioSourceDto::Custom,
            endpoint: endpoint.map(str::to_owned),
            portfolio: "1".into(),
        };
        assert_eq!(
            source_endpoint(&req(Some("http://127.0.0.1:8900/"))).expect("a URL"),
            "http://127.0.0.1:8900"
        );
        for bad in [None, Some("  "), Some("127.0.0.1:8900"), Some("ftp://x")] {
            let e = source_endpoint(&req(bad)).expect_err("refused");
            assert_eq!(e.field.as_deref(), Some("endpoint"), "{bad:?}: {e:?}");
            assert!(e.message.contains("e.g. http://"), "says the fix: {e:?}");
        }
        let binance = FindPortfolioRequest {
            source: PortfolioSourceDto::Binance,
            endpoint: Some("ignored".into()),
            portfolio: "1".into(),
        };
        assert_eq!(source_endpoint(&binance).expect("binance"), "binance");
    }
}
