//! Terminal text of the facade's DTOs: what each command prints.

use copydesk::api::keys::KeyInfo;
use copydesk::api::{AppInfo, EventDto, EventLevel, ExportDto, StatusDto};

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

/// An event's kind as printed: a notice's own kind, else the typed kind's name.
pub fn kind(e: &EventDto) -> String {
    e.notice.clone().unwrap_or_else(|| {
        serde_json::to_value(e.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    })
}

/// One event as a terminal line: `KIND COPY[ (level)]: MESSAGE`.
pub fn line(e: &EventDto) -> String {
    format!(
        "{} {}{}: {}",
        kind(e),
        e.copy.as_deref().unwrap_or("-"),
        match e.level {
            EventLevel::Info => "",
            EventLevel::Warning => " (warning)",
            EventLevel::Error => " (error)",
        },
        e.message
    )
}

pub fn status(s: &StatusDto, as_json: bool) -> String {
    if as_json {
        return json(s);
    }
    let mut out = String::new();
    if s.copies.is_empty() {
        out.push_str("no copies yet; start one with `copydesk run --config copy.toml`\n");
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
        if c.positions.is_empty() {
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
            out.push_str(&format!("  [{level}] {}: {}\n", kind(e), e.message));
        }
    }
    out
}
