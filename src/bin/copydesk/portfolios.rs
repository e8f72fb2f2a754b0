//! Text of `copydesk leaders` and `copydesk replay`: formatting only.

use std::collections::BTreeMap;

use copydesk::analytics::replay::ReplayReport;
use copydesk::runtime::leaders::PortfolioLeader;
use rust_decimal::Decimal;

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

/// The list of public lead portfolios.
pub fn leaders(list: &[PortfolioLeader], json: bool) -> String {
    if json {
        return serde_json::to_string_pretty(list).unwrap_or_default();
    }
    if list.is_empty() {
        return "no public lead portfolios listed".to_owned();
    }
    list.iter().map(leader_line).collect::<Vec<_>>().join("\n")
}

/// A replay's summary.
pub fn replay(leader: &str, copy: &str, days: u32, r: &ReplayReport, json: bool) -> String {
    if json {
        return serde_json::to_string_pretty(r).unwrap_or_default();
    }
    summary(leader, copy, days, r)
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
