//! Terminal text of the facade's DTOs: what each command prints.

use copydesk::api;
use copydesk::api::keys::KeyInfo;
use copydesk::api::{AppInfo, EventDto, EventLevel, ExportDto, HoldKind, RepairDto, StatusDto};

#[allow(clippy::print_stdout)]
pub fn out(s: &str) {
    println!("{s}");
}

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

pub fn info(info: &AppInfo, as_json: bool) -> String {
    if as_json {
        return json(info);
    }
    format!(
        "{} {}\ndata directory: {}",
        info.name, info.version, info.data_dir
    )
}

pub fn export(r: &ExportDto) -> String {
    let files = r
        .files
        .iter()
        .map(|f| format!("  {f}"))
        .collect::<Vec<_>>()
        .join("\n");
    format!(
        "exported {} copies, {} fills and {} figure points to {}:\n{files}",
        r.copies, r.fills, r.figures, r.dir
    )
}

pub fn key_added(name: &str, hint: &str, service: &str) -> String {
    format!("stored key {hint} for `{name}` in the keychain (service {service})")
}

pub fn keys(list: &[KeyInfo], as_json: bool) -> String {
    if as_json {
        return json(&list);
    }
    if list.is_empty() {
        return "no keys stored; add one with `copydesk keys add NAME`".into();
    }
    list.iter()
        .map(|k| format!("{}\t{}", k.name, k.key_hint))
        .collect::<Vec<_>>()
        .join("\n")
}

/// One event as a terminal line: `KIND[:NOTICE] COPY[ (level)]: MESSAGE`.
pub fn line(e: &EventDto) -> String {
    format!(
        "{} {}{}: {}",
        e.tag(),
        e.copy.as_deref().unwrap_or("-"),
        match e.level {
            EventLevel::Info => "",
            EventLevel::Warning => " (warning)",
            EventLevel::Error => " (error)",
        },
        e.message
    )
}

/// `copydesk statements COPY`: the ratio, then one line per statement (times UTC).
pub fn statements(p: &api::ProfitShareDto, as_json: bool) -> String {
    if as_json {
        return json(p);
    }
    let day = |ms: i64| {
        time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
            .ok()
            .and_then(|t| {
                t.format(time::macros::format_description!(
                    "[year]-[month]-[day] [hour]:[minute]Z"
                ))
                .ok()
            })
            .unwrap_or_else(|| ms.to_string())
    };
    let mut out = format!(
        "copy {}: profit share {}, {} USDT paid so far\n",
        p.copy,
        p.ratio
            .as_deref()
            .map_or("off".to_owned(), |r| format!("ratio {r}")),
        p.total_paid
    );
    if p.statements.is_empty() {
        out.push_str("no statements yet\n");
    }
    for s in &p.statements {
        let outcome = match s.outcome {
            api::StatementOutcomeDto::Settled => "owed",
            api::StatementOutcomeDto::Nothing => "nothing owed",
            api::StatementOutcomeDto::Postponed => "postponed",
        };
        out.push_str(&format!(
            "{} → {}{}: {outcome} {} USDT (PnL {}, ratio {}, already paid {}){}\n  {}\n",
            day(s.period_start_ms),
            day(s.period_end_ms),
            if s.kind == api::StatementKindDto::Stop {
                " (stop)"
            } else {
                ""
            },
            s.owed,
            s.pnl,
            s.ratio,
            s.already_paid,
            if s.caught_up { " [caught up]" } else { "" },
            s.text
        ));
    }
    if let Some(next) = p.next_settlement_ms {
        out.push_str(&format!("next settlement {}\n", day(next)));
    }
    out
}

/// `copydesk bench`: the machine, then one row per figure beside its target.
pub fn bench(report: &copydesk::bench::BenchReport) -> String {
    let mut out = format!("machine: {}\n\n", report.machine);
    out.push_str("| figure | target | measured | met |\n| --- | --- | --- | --- |\n");
    for r in &report.rows {
        let met = match r.met {
            Some(true) => "yes",
            Some(false) => "NO",
            None => "—",
        };
        out.push_str(&format!(
            "| {} | {} | {} | {met} |\n",
            r.figure, r.target, r.measured
        ));
    }
    out
}

pub fn status(s: &StatusDto, as_json: bool) -> String {
    if as_json {
        return json(s);
    }
    let mut out = String::new();
    if s.copies.is_empty() {
        out.push_str("no copies yet; start one with `copydesk run --config copy.toml`\n");
    }
    for w in &s.weight {
        out.push_str(&format!(
            "request weight {}: {} of {} this minute; {} wait(s), longest {} ms\n",
            w.venue, w.used, w.limit, w.waits, w.longest_wait_ms
        ));
    }
    for c in &s.copies {
        let state = serde_json::to_value(c.copy.state)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        out.push_str(&format!(
            "copy {} → {}{}: {state}{}\n",
            c.copy.name,
            c.copy.follower,
            if c.copy.paper { " (paper)" } else { "" },
            c.copy
                .reason
                .as_ref()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default()
        ));
        let f = &c.figures;
        if let (Some(r), Some(u)) = (&f.realized_pnl, &f.unrealized_pnl) {
            out.push_str(&format!(
                "  pnl: realized {r}, unrealized {u}, fees {}, funding {}\n",
                f.fees.as_deref().unwrap_or("0"),
                f.funding.as_deref().unwrap_or("0")
            ));
        }
        out.push_str(&format!("  orders journaled: {}\n", c.orders_journaled));
        if let Some(l) = &c.latency {
            let ms = |v: Option<i64>| v.map_or("n/a".to_owned(), |v| format!("{v} ms"));
            out.push_str(&format!(
                "  latency of the last {} orders: leader event → order sent p50 {} µs (max {} µs); leader fill → follower fill p50 {} (max {})\n",
                l.orders,
                l.engine_p50_us,
                l.engine_max_us,
                ms(l.fill_delay_p50_ms),
                ms(l.fill_delay_max_ms),
            ));
        }
        let unreadable = c
            .copy
            .holds
            .iter()
            .find(|h| h.kind == HoldKind::UnreadableState);
        if let Some(h) = unreadable.filter(|_| c.positions.is_empty()) {
            out.push_str(&format!("  positions unknown: {}\n", h.reason));
        } else if c.positions.is_empty() {
            out.push_str("  no copied positions\n");
        }
        for p in &c.positions {
            out.push_str(&format!(
                "  {} {} {} (k {}, leader {}, margin {}, {}x, stop {})\n",
                p.symbol,
                p.side,
                p.follower_qty,
                p.ratio,
                p.leader_qty,
                p.margin,
                p.leverage,
                p.stop_price.as_deref().unwrap_or("none")
            ));
        }
        for d in c.decisions.iter().take(5) {
            out.push_str(&format!("  decided {}: {}\n", d.kind, d.reason));
        }
        for x in c.fills.iter().take(5) {
            out.push_str(&format!(
                "  fill {} {} {} at {}{}{}\n",
                x.side,
                x.qty,
                x.symbol,
                x.price,
                x.delay_ms
                    .map(|d| format!(", {d} ms after the leader"))
                    .unwrap_or_default(),
                x.slippage_pct
                    .as_ref()
                    .map(|p| format!(", slippage {p}%"))
                    .unwrap_or_default()
            ));
        }
    }
    if !s.recent.is_empty() {
        out.push_str("recent:\n");
        for e in &s.recent {
            let level = match e.level {
                EventLevel::Info => "info",
                EventLevel::Warning => "warning",
                EventLevel::Error => "error",
            };
            out.push_str(&format!("  [{level}] {}: {}\n", e.tag(), e.message));
        }
    }
    out
}

/// `copies repair` as text: what the rebuilt ledger adopts, what it leaves, what to do next.
pub fn repair(r: &RepairDto) -> String {
    let mut out = match &r.stored_error {
        Some(e) => format!("copy `{}`: {e}\n", r.copy),
        None => format!(
            "copy `{}`: its stored ledger reads fine; rebuilding it anyway\n",
            r.copy
        ),
    };
    if r.adopt.is_empty() {
        out.push_str(
            "adopt: nothing (no position of this copy's orders is still open on the venue)\n",
        );
    }
    for a in &r.adopt {
        out.push_str(&format!(
            "adopt {} {} {} (journal {}, venue {}, leader {}, k {}, protective stop {})\n",
            a.symbol,
            a.direction,
            a.qty,
            a.journal_qty,
            a.venue_qty,
            a.leader_qty,
            a.k,
            a.stop_price
                .as_deref()
                .unwrap_or("none: placed at the next start")
        ));
    }
    for l in &r.left {
        out.push_str(&format!("leave {} {}: {}\n", l.symbol, l.side, l.why));
    }
    if r.applied {
        out.push_str("written: the copy starts from this ledger at the next `copydesk run`");
    } else {
        out.push_str(&format!(
            "nothing written; run `copydesk copies repair {} --config FILE --yes` to apply",
            r.copy
        ));
    }
    out
}

/// The local clock in milliseconds since the Unix epoch (for commands that look back from now).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
