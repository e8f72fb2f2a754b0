//! `copydesk bench`: the copy path measured against the simulator over loopback, in this
//! process, from the timestamps the engine records per copied order (`copy_latency`) and
//! the simulator's own request counts — never from sleeps. Each row of issue 11's table is
//! one [`BenchRow`] with its target beside the figure; printing is the caller's job.

// Timing statistics, not money: floats are the right tool here.
#![allow(clippy::float_arithmetic)]

mod disk;
mod phases;
mod scene;
mod stats;
mod syncs;

use std::time::{Duration, Instant};

use rust_decimal::Decimal;

use crate::store::table::latency::LatencyRow;

use scene::Scene;
use stats::Summary;

/// How long and how wide to measure.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// Only the rows named here (`planner`, `disk`, `commit`, `idle`, `one-copy`,
    /// `sustained`, `fan-out`, `stop`); empty = every row.
    pub only: Vec<String>,
    /// Signals of the one-copy latency run (one every 250 ms).
    pub signals: usize,
    /// Length of the sustained run (the table's target is 5 minutes).
    pub sustained: Duration,
    /// Copies of the sustained run.
    pub sustained_copies: usize,
    /// Followers of the fan-out run and its signals.
    pub fan_out: usize,
    pub fan_out_signals: usize,
    /// Copies of the idle run and how long it idles.
    pub idle_copies: usize,
    pub idle: Duration,
}

impl Default for BenchOptions {
    fn default() -> Self {
        Self {
            only: Vec::new(),
            signals: 200,
            sustained: Duration::from_secs(300),
            sustained_copies: 10,
            fan_out: 50,
            fan_out_signals: 60,
            idle_copies: 20,
            idle: Duration::from_secs(60),
        }
    }
}

/// One figure: what, the target, what was measured, and whether it met the target.
#[derive(Debug, Clone)]
pub struct BenchRow {
    pub figure: String,
    pub target: String,
    pub measured: String,
    pub met: Option<bool>,
}

/// Every row and the machine it ran on.
#[derive(Debug, Clone)]
pub struct BenchReport {
    pub machine: String,
    pub rows: Vec<BenchRow>,
}

fn row(figure: &str, target: &str, measured: String, met: Option<bool>) -> BenchRow {
    BenchRow {
        figure: figure.to_owned(),
        target: target.to_owned(),
        measured,
        met,
    }
}

/// Runs every measurement (minutes with the default options) on the caller's runtime (the
/// binary's multi-threaded one): the core builds no runtime of its own.
pub async fn run(opts: BenchOptions) -> Result<BenchReport, String> {
    let known = [
        "planner",
        "disk",
        "commit",
        "idle",
        "one-copy",
        "sustained",
        "fan-out",
        "stop",
    ];
    if let Some(bad) = opts.only.iter().find(|r| !known.contains(&r.as_str())) {
        return Err(format!(
            "--only: unknown row `{bad}`; rows are {}",
            known.join(", ")
        ));
    }
    let want = |r: &str| opts.only.is_empty() || opts.only.iter().any(|o| o == r);
    let mut rows = Vec::new();
    if want("planner") {
        rows.push(planner());
    }
    if want("disk") {
        rows.push(disk::floor().await?);
    }
    if want("commit") {
        rows.push(journal_commit().await?);
    }
    // Before the rows that trade: this process's memory is then the idle engine's, not
    // also what the allocator kept from the busier rows (`docs/benchmarks.md`).
    if want("idle") {
        rows.push(idle(opts.idle_copies, opts.idle).await?);
    }
    if want("one-copy") {
        rows.extend(one_copy(opts.signals).await?);
    }
    if want("sustained") {
        rows.push(sustained(opts.sustained, opts.sustained_copies).await?);
    }
    if want("fan-out") {
        rows.push(fan_out(opts.fan_out, opts.fan_out_signals).await?);
    }
    if want("stop") {
        rows.push(shutdown().await?);
    }
    Ok(BenchReport {
        machine: machine(),
        rows,
    })
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!(
        "{cpu}, {cores} cores, {} {}",
        std::env::consts::OS,
        std::env::consts::ARCH
    )
}

/// The pure planner: one signal into actions.
fn planner() -> BenchRow {
    let input = scene::plan_input();
    for _ in 0..2_000 {
        std::hint::black_box(crate::engine::plan(std::hint::black_box(&input)));
    }
    let mut us = Vec::with_capacity(50_000);
    for _ in 0..50_000 {
        let t = Instant::now();
        std::hint::black_box(crate::engine::plan(std::hint::black_box(&input)));
        us.push(t.elapsed().as_nanos() as f64 / 1000.0);
    }
    let s = Summary::of(us);
    row(
        "planner: one signal → actions (pure)",
        "p99 < 20 µs",
        s.show("µs"),
        Some(s.p99 < 20.0),
    )
}

/// The durable commit before a send as the engine makes it: one journal row with its sent
/// mark, the ledger and the plan in flight, committed relaxed and then made durable by a
/// group sync of the WAL (`store::group_commit`), alone (no other copy shares the sync).
async fn journal_commit() -> Result<BenchRow, String> {
    let dir = scene::Scratch::new()?;
    let mut us = Vec::new();
    {
        let mut store =
            crate::store::Store::open(&dir.0.join("bench.sqlite3")).map_err(|e| e.to_string())?;
        let copy = scene::seed_copy(&mut store)?;
        for i in 0..300 {
            let id = format!("bench{i:08}");
            let t = Instant::now();
            let ((), seq) = store
                .relaxed(|s| {
                    scene::commit_one(s, copy, &id).map_err(|e| crate::store::StoreError::Invalid {
                        field: "bench",
                        message: e,
                    })
                })
                .map_err(|e| e.to_string())?;
            store
                .durability()
                .sync_through(seq)
                .await
                .map_err(|e| e.to_string())?;
            us.push(t.elapsed().as_nanos() as f64 / 1000.0);
        }
    }
    let s = Summary::of(us);
    Ok(row(
        "durable journal commit before a send (its own row)",
        "measured and reported",
        s.show("µs"),
        None,
    ))
}

/// One copy of a leader trading every 250 ms: the engine's own part of the path and the
/// leader-to-follower fill delay on the simulator's clock. The simulator runs in a child
/// process, as a venue runs apart from the engine, so its matching and streams do not take
/// the engine's threads.
async fn one_copy(signals: usize) -> Result<Vec<BenchRow>, String> {
    let scene = Scene::start_apart(1, &[(0, 0)], 1).await?;
    scene.record_syncs();
    scene.trade(signals, Duration::from_millis(250)).await?;
    let rows = scene.wait_latency(signals, true).await;
    let disk = scene.syncs();
    scene.stop().await;
    let engine: Vec<f64> = rows.iter().filter_map(engine_delay).collect();
    let fill: Vec<f64> = rows.iter().filter_map(fill_delay).collect();
    let e = Summary::of(engine);
    let f = Summary::of(fill);
    // The slowest copies apart: what their time went to, against every copy's.
    let slow: Vec<LatencyRow> = rows
        .iter()
        .filter(|r| engine_delay(r).is_some_and(|d| d >= e.p99))
        .cloned()
        .collect();
    Ok(vec![
        row(
            "signal in → follower order bytes written, incl. that one commit",
            "p50 < 500 µs, p99 < 2 ms",
            format!(
                "{}; per copy: {}; the copies at or over the p99 ({}): {}; {}",
                e.show("µs"),
                stages(&rows),
                slow.len(),
                stages(&slow),
                syncs::report(&disk, &slow)
            ),
            Some(e.p50 < 500.0 && e.p99 < 2_000.0),
        ),
        row(
            "leader fill → follower fill on the simulator's clock, one copy",
            "p50 ≤ 2 ms, p99 ≤ 5 ms",
            f.show("ms"),
            Some(f.p50 <= 2.0 && f.p99 <= 5.0),
        ),
    ])
}

/// Event read → order bytes written, µs.
fn engine_delay(r: &LatencyRow) -> Option<f64> {
    Some((r.written_us - r.leader_recv_us?) as f64)
}

fn fill_delay(r: &LatencyRow) -> Option<f64> {
    Some((r.follower_fill_ms? - r.leader_event_ms?) as f64)
}

/// Many copies of one leader on one address for minutes: delay, limiter waits, weight, and
/// the CPU the engine and the simulator (in a child process) spent per copied signal, which
/// says whether the machine was in a fast or a slow phase (`docs/benchmarks.md`).
async fn sustained(length: Duration, copies: usize) -> Result<BenchRow, String> {
    let pairs: Vec<(usize, usize)> = (0..copies).map(|f| (0, f)).collect();
    let scene = Scene::start_apart(1, &pairs, copies).await?;
    // Start-up's reads (each copy's snapshot and first reconciliation) go through the
    // limiter first: the window starts once none waited for a weight window and more,
    // as in the fan-out and idle rows.
    let start_waits = scene.weight().waits;
    let (settle, settled) = scene.settle(SETTLE_QUIET, Duration::from_secs(600)).await;
    let waits_before = scene.weight().waits;
    let background_before = scene.weight().background_waits;
    let commits_before = scene.commit_counts();
    scene.reset_requests().await?;
    let cpu = stats::CpuMeter::start(scene.sim_pid());
    scene.record_syncs();
    let signals = usize::try_from(length.as_millis() / 250).unwrap_or(usize::MAX);
    scene.trade(signals, Duration::from_millis(250)).await?;
    let rows = scene.wait_latency(signals * copies, true).await;
    let (engine_cpu, sim_cpu) = cpu.spent();
    let (engine_queued, sim_queued) = cpu.queued();
    let disk = scene.syncs();
    let (weight, orders) = scene.follower_weight_and_orders().await?;
    let waits = scene.weight().waits - waits_before;
    let background = scene.weight().background_waits - background_before;
    let commits = scene.commit_counts();
    scene.stop().await;
    let f = Summary::of(rows.iter().filter_map(fill_delay).collect());
    // The tail's copies apart: what their time went to, against every copy's.
    let tail: Vec<LatencyRow> = rows
        .iter()
        .filter(|r| fill_delay(r).is_some_and(|d| d >= f.p99))
        .cloned()
        .collect();
    let copied = rows.len().max(1) as f64;
    let syncs = (commits.syncs - commits_before.syncs) as f64 / copied;
    let full = (commits.full - commits_before.full) as f64 / copied;
    let per_signal = weight as f64 / copied;
    let orders_per_signal = orders as f64 / copied;
    let cpu_ms = |secs: f64| format!("{:.2}", secs * 1000.0 / copied);
    Ok(row(
        &format!(
            "a leader trading every 250 ms for {} s, {copies} copies on one address",
            length.as_secs()
        ),
        "p99 ≤ 10 ms, no limiter wait, weight per copied signal ≤ its orders",
        format!(
            "{}; per copy: {}; the copies at or over the p99 ({}): {}; {}; limiter waits {waits} (low-priority reconciliation reads that waited: {background}); weight {per_signal:.2} per copied signal, orders {orders_per_signal:.2}; fsyncs per copied signal {syncs:.2} group + {full:.2} full; CPU per copied signal: engine {} ms, simulator (its own process) {} ms; their threads' wait for a CPU (run queue) per copied signal: engine {} ms, simulator {} ms; counted from {:.0} s after start-up, once no read had waited for {} s ({start_waits} waits before{})",
            f.show("ms"),
            stages(&rows),
            tail.len(),
            stages(&tail),
            syncs::report(&disk, &tail),
            cpu_ms(engine_cpu),
            sim_cpu.map_or("-".into(), cpu_ms),
            cpu_ms(engine_queued),
            sim_queued.map_or("-".into(), cpu_ms),
            settle.as_secs_f64(),
            SETTLE_QUIET.as_secs(),
            if settled { "" } else { "; not reached: reads kept waiting" }
        ),
        Some(f.p99 <= 10.0 && waits == 0 && per_signal <= orders_per_signal),
    ))
}

/// Reconciliation interval of the fan-out run: long enough that no pass falls inside it.
/// At the default 30 s, each follower account's reconciliation snapshot (about 100 weight)
/// would ask 50 × 100 × 2 = 10,000 weight a minute of a 1,920 budget, and a copy's signal
/// waits behind its own pass (what limits that is reconciliation's weight, not fan-out).
const FAN_OUT_RECONCILE: Duration = Duration::from_secs(3_600);

/// How long the limiter must have let no request wait before start-up counts as over:
/// longer than one weight window, so nothing held for the next minute is left.
const SETTLE_QUIET: Duration = Duration::from_secs(65);

/// One leader signal copied by many followers: the time from the leader event read to the
/// last acknowledgement. The simulator runs in its own process; the measured signals start
/// once the copies' start-up reads are through the limiter.
async fn fan_out(followers: usize, signals: usize) -> Result<BenchRow, String> {
    let pairs: Vec<(usize, usize)> = (0..followers).map(|f| (0, f)).collect();
    let started = Instant::now();
    let scene = Scene::start_with(
        1,
        &pairs,
        followers,
        scene::SceneOptions {
            separate_sim: true,
            reconcile_every: Some(FAN_OUT_RECONCILE),
        },
    )
    .await?;
    let start_secs = started.elapsed().as_secs_f64();
    let (_, settled) = scene.settle(SETTLE_QUIET, Duration::from_secs(600)).await;
    let waits_before = scene.weight().waits;
    let commits_before = scene.commit_counts();
    let cpu = stats::CpuMeter::start(scene.sim_pid());
    // Progress on stderr, so that a profiler can be pointed at the measured window.
    eprintln!("bench fan-out: start-up over after {start_secs:.0} s; measuring {signals} signals");
    scene.trade(signals, Duration::from_millis(500)).await?;
    let rows = scene.wait_latency(signals * followers, false).await;
    eprintln!("bench fan-out: measured");
    // CPU per leader signal over the whole run (the copies' sends, the writer, the
    // protective stops, the follower streams), each process apart, in ms.
    let cpu_ms = |secs: f64| secs * 1000.0 / signals.max(1) as f64;
    let (engine_cpu, sim_cpu) = cpu.spent();
    let (engine_cpu, sim_cpu) = (cpu_ms(engine_cpu), sim_cpu.map(cpu_ms));
    let commits = scene.commit_counts();
    let waits = scene.weight().waits - waits_before;
    scene.stop().await;
    // A signal counts only when every follower acknowledged it.
    let complete = phases::all_acknowledged(&rows, followers);
    let n = complete.len();
    let s = Summary::of(complete);
    let per_signal = |d: u64| d as f64 / signals.max(1) as f64;
    let syncs = per_signal(commits.syncs - commits_before.syncs);
    let before_send = per_signal(commits.before_send - commits_before.before_send);
    Ok(row(
        &format!("one leader signal → {followers} followers all acknowledged"),
        "p99 < 25 ms",
        format!(
            "{}; {n} of {signals} signals acknowledged by all {followers}; per copy: {}; {}; fsyncs per leader signal {syncs:.1}, of them {before_send:.1} before the sends (the rest: the writer's batches and the protective stops' rows); CPU per leader signal: engine {engine_cpu:.1} ms, simulator {} ms; limiter waits {waits}; simulator in its own process, reconciliation off during the run; start-up {start_secs:.0} s{}",
            s.show("ms"),
            stages(&rows),
            phases::report(&rows, followers),
            sim_cpu.map_or("-".into(), |c| format!("{c:.1}")),
            if settled { "" } else { " (its reads were still waiting for the limiter)" }
        ),
        Some(n == signals && s.p99 < 25.0),
    ))
}

/// Where each copy's time went, stage by stage, from its latency row: leader event read →
/// plan ready (the copy's turn on the runtime and its planning), → journal row durable
/// (its commit and the group sync it shares, including the wait for the other copies'
/// commits), → order bytes handed to the HTTP client, → acknowledgement read. p50 / p99
/// of each across every copy of every signal, in ms.
fn stages(rows: &[LatencyRow]) -> String {
    let mut plan = Vec::new();
    let mut durable = Vec::new();
    let mut written = Vec::new();
    let mut acked = Vec::new();
    for r in rows {
        let (Some(recv), Some(ack)) = (r.leader_recv_us, r.acked_us) else {
            continue;
        };
        let ms = |a: i64, b: i64| (b - a) as f64 / 1000.0;
        plan.push(ms(recv, r.planned_us));
        durable.push(ms(r.planned_us, r.committed_us));
        written.push(ms(r.committed_us, r.written_us));
        acked.push(ms(r.written_us, ack));
    }
    let show = |name: &str, v: Vec<f64>| {
        let s = Summary::of(v);
        format!("{name} p50 {:.1} / p99 {:.1}", s.p50, s.p99)
    };
    format!(
        "{}, {}, {}, {} ms",
        show("read → planned", plan),
        show("→ row durable", durable),
        show("→ bytes written", written),
        show("→ acknowledged", acked)
    )
}

/// Copies running with nothing to copy: resident memory and CPU of the engine's process
/// (the simulator runs in a child process, measured apart), over a window that starts once
/// the copies' start-up reads are through the limiter.
async fn idle(copies: usize, length: Duration) -> Result<BenchRow, String> {
    let pairs: Vec<(usize, usize)> = (0..copies).map(|i| (i, i)).collect();
    let started = Instant::now();
    let scene = Scene::start_apart(copies, &pairs, copies).await?;
    let start_secs = started.elapsed().as_secs_f64();
    let start_waits = scene.weight().waits;
    let (settle, settled) = scene.settle(SETTLE_QUIET, Duration::from_secs(300)).await;
    let waits_before = scene.weight().waits;
    let start_background = scene.weight().background_waits;
    let meter = stats::CpuMeter::start(scene.sim_pid());
    let t = Instant::now();
    tokio::time::sleep(length).await;
    let secs = t.elapsed().as_secs_f64();
    let (cpu, sim_cpu) = meter.spent();
    let cpu = cpu / secs * 100.0;
    let sim_cpu = sim_cpu.map(|c| c / secs * 100.0);
    let waits = scene.weight().waits - waits_before;
    let rss_mb = stats::rss_kb() as f64 / 1024.0;
    let threads = stats::status_number("self", "Threads:");
    let sim_rss = scene
        .sim_pid()
        .map(|p| stats::status_number(&p.to_string(), "VmRSS:") as f64 / 1024.0);
    scene.stop().await;
    Ok(row(
        &format!("{copies} copies idle: headless engine RSS / CPU"),
        "< 40 MB / < 1 % of a core",
        format!(
            "{rss_mb:.1} MB / {cpu:.2} % over {secs:.0} s (engine process alone, {threads} threads; limiter waits in the window {waits}); simulator apart: {} MB / {} %; start-up {start_secs:.0} s with {start_waits} limiter waits (+ {start_background} low-priority reads), then {:.0} s until no read waited for {} s{}",
            sim_rss.map_or("-".into(), |m| format!("{m:.1}")),
            sim_cpu.map_or("-".into(), |c| format!("{c:.2}")),
            settle.as_secs_f64(),
            SETTLE_QUIET.as_secs(),
            if settled { "" } else { " (not reached: reads kept waiting)" }
        ),
        Some(rss_mb < 40.0 && cpu < 1.0),
    ))
}

/// Stopping while an order's acknowledgement is stalled: how long the stop takes.
async fn shutdown() -> Result<BenchRow, String> {
    let scene = Scene::start(1, &[(0, 0)], 1).await?;
    scene.stall_acks().await?;
    scene.trade_in_background();
    scene.wait_sent().await?;
    let t = Instant::now();
    let took = scene.stop().await.unwrap_or_else(|| t.elapsed());
    let ms = took.as_secs_f64() * 1000.0;
    Ok(row(
        "stop (Ctrl-C) while an order's acknowledgement is stalled",
        "exits at once, journal intact",
        format!("{ms:.1} ms"),
        Some(ms < 1_000.0),
    ))
}

/// The quantity each leader signal trades (back and forth).
pub(crate) const LEADER_QTY: Decimal = Decimal::from_parts(5, 0, 0, false, 1);
