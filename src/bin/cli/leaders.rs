//! `copydesk leaders` and `copydesk replay`: one call each into `runtime::leaders`, and the
//! text or JSON they print. Formatting only.

use std::collections::BTreeMap;
use std::path::Path;

use copydesk::analytics::replay::ReplayReport;
use copydesk::exchange::lead_portfolio::PortfolioClient;
use copydesk::runtime::leaders::{self, PortfolioLeader, ReplayRequest};
use rust_decimal::Decimal;

fn client(endpoint: Option<&str>) -> Result<PortfolioClient, String> {
    match endpoint {
        Some(e) => PortfolioClient::new(e),
        None => PortfolioClient::binance(),
    }
    .map_err(|e| e.to_string())
}

fn block_on<T>(f: impl std::future::Future<Output = T>) -> Result<T, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map(|rt| rt.block_on(f))
        .map_err(|e| format!("cannot start the async runtime: {e}"))
}

fn pct(v: Option<Decimal>) -> String {
    v.map_or("-".to_owned(), |d| format!("{}%", d.round_dp(2)))
}

fn num(v: Option<Decimal>) -> String {
    v.map_or("-".to_owned(), |d| d.round_dp(2).to_string())
}

fn leader_line(l: &PortfolioLeader) -> String {
    let f = |days: u32| l.figures.iter().find(|f| f.days == days);
    let m30 = f(30);
    format!(
        "{}  {}\n    ROI 7d {}  30d {}  90d {} | 30d: PnL {}  max drawdown {}  win rate {}  Sharpe {} | delay {} | {}",
        l.id,
        l.name,
        pct(f(7).and_then(|f| f.roi_pct)),
        pct(m30.and_then(|f| f.roi_pct)),
        pct(f(90).and_then(|f| f.roi_pct)),
        num(m30.and_then(|f| f.pnl)),
        pct(m30.and_then(|f| f.max_drawdown_pct)),
        pct(m30.and_then(|f| f.win_rate_pct)),
        num(m30.and_then(|f| f.sharpe)),
        l.expected_delay,
        match (l.copyable, &l.not_copyable_reason) {
            (Some(false), Some(r)) => format!("not copyable: {r}"),
            (Some(true), _) => "copyable".to_owned(),
            _ => "copyable: checked when chosen".to_owned(),
        }
    )
}

/// `copydesk leaders --endpoint URL [--json]`.
pub fn leaders(endpoint: Option<&str>, json: bool) -> Result<String, String> {
    let c = client(endpoint)?;
    let list = block_on(leaders::list_portfolios(&c, 0))?.map_err(|e| e.to_string())?;
    if json {
        return serde_json::to_string_pretty(&list).map_err(|e| e.to_string());
    }
    if list.is_empty() {
        return Ok("no public lead portfolios listed".to_owned());
    }
    Ok(list.iter().map(leader_line).collect::<Vec<_>>().join("\n"))
}

/// `copydesk replay --leader ID --config copy.toml --days 90 [--endpoint URL] [--json]`.
pub fn replay(
    leader: &str,
    config: &Path,
    copy: Option<&str>,
    days: u32,
    endpoint: Option<&str>,
    json: bool,
) -> Result<String, String> {
    let cfg = copydesk::runtime::config::load(config).map_err(|e| e.to_string())?;
    let chosen = match copy {
        Some(name) => cfg.copies.iter().find(|c| c.name == name).ok_or_else(|| {
            format!(
                "{}: no copy named `{name}`; use --copy with one of its copies' names",
                config.display()
            )
        })?,
        None => cfg.copies.first().ok_or_else(|| {
            format!(
                "{}: the config has no [[copies]] to take settings from",
                config.display()
            )
        })?,
    };
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|e| e.to_string())?
        .as_millis() as i64;
    let c = client(endpoint)?;
    let req = ReplayRequest {
        portfolio_id: leader.to_owned(),
        settings: chosen.settings.clone(),
        follower_wallet: None,
        days,
        now_ms,
        followed: 0,
        kline_interval: if days <= 2 { "1m" } else { "5m" }.to_owned(),
        slippage_bps: Decimal::ONE,
    };
    let r = block_on(leaders::replay_portfolio(&c, &req))?.map_err(|e| e.to_string())?;
    if json {
        return serde_json::to_string_pretty(&r).map_err(|e| e.to_string());
    }
    Ok(summary(leader, &chosen.name, days, &r))
}

fn summary(leader: &str, copy: &str, days: u32, r: &ReplayReport) -> String {
    let mut out = vec![
        format!("what-if: copying {leader} over {days} days with the settings of `{copy}`"),
        format!(
            "leader orders {}, follower fills {}, skipped {}",
            r.leader_orders,
            r.fills.len(),
            r.skipped.len()
        ),
        format!(
            "PnL {} (ROI {}), realized {}, fees {}, max drawdown {} ({}%)",
            r.pnl.round_dp(2),
            pct(r.roi_pct),
            r.realized_pnl.round_dp(2),
            r.fees.round_dp(2),
            r.max_drawdown.amount.round_dp(2),
            r.max_drawdown.pct.round_dp(2)
        ),
        format!(
            "equity {} → {}",
            r.start_equity.round_dp(2),
            r.end_equity.round_dp(2)
        ),
    ];
    match &r.stop {
        Some(s) => out.push(format!("stopped at {} ms: {}", s.time_ms, s.reason)),
        None => out.push("no total stop loss or take profit hit".to_owned()),
    }
    let mut kinds: BTreeMap<String, (usize, &str)> = BTreeMap::new();
    for s in &r.skipped {
        let k = serde_json::to_value(s.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        kinds.entry(k).or_insert((0, s.reason.as_str())).0 += 1;
    }
    for (k, (n, example)) in &kinds {
        out.push(format!("  {n} × {k}, e.g. {example}"));
    }
    for p in &r.positions {
        out.push(format!(
            "open at the end: {} {:?} {} @ {}",
            p.symbol, p.position_side, p.qty, p.entry_price
        ));
    }
    out.push("approximations:".to_owned());
    out.extend(r.approximations.iter().map(|a| format!("  - {a}")));
    out.join("\n")
}
