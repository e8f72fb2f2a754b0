//! One leader signal copied by many followers, as a timeline: when the last copy had
//! planned, when the first row was durable, when the last order was written, when the
//! first and the last acknowledgements were read — each from the moment the signal was
//! read — and how far apart consecutive copies were in planning, in writing their orders
//! and in getting their answers. Read from the copies' latency rows, grouped by leader
//! event; the per-stage p50 / p99 of the fan-out row cannot show that the copies go
//! through a stage one after another.

use std::collections::BTreeMap;

use crate::store::table::latency::LatencyRow;

use super::stats::Summary;

/// One signal's copies: the moments (µs) of each stage.
#[derive(Default)]
struct Signal {
    recv: Vec<i64>,
    planned: Vec<i64>,
    committed: Vec<i64>,
    written: Vec<i64>,
    acked: Vec<i64>,
}

/// A spread of moments: first, last and the mean gap between consecutive ones (µs).
fn spread(v: &[i64]) -> (i64, i64, f64) {
    let (first, last) = (
        v.iter().copied().min().unwrap_or(0),
        v.iter().copied().max().unwrap_or(0),
    );
    let gap = if v.len() > 1 {
        (last - first) as f64 / (v.len() - 1) as f64
    } else {
        0.0
    };
    (first, last, gap)
}

/// The copies' rows by leader event (rows without an event, its read or an answer are
/// left out).
fn by_signal(rows: &[LatencyRow]) -> BTreeMap<i64, Signal> {
    let mut by_signal: BTreeMap<i64, Signal> = BTreeMap::new();
    for r in rows {
        let (Some(ev), Some(recv), Some(ack)) = (r.leader_event_ms, r.leader_recv_us, r.acked_us)
        else {
            continue;
        };
        let s = by_signal.entry(ev).or_default();
        s.recv.push(recv);
        s.planned.push(r.planned_us);
        s.committed.push(r.committed_us);
        s.written.push(r.written_us);
        s.acked.push(ack);
    }
    by_signal
}

/// For each signal every one of `followers` copies acknowledged: its first read → its
/// last acknowledgement, in ms (the fan-out row's figure).
pub fn all_acknowledged(rows: &[LatencyRow], followers: usize) -> Vec<f64> {
    by_signal(rows)
        .values()
        .filter(|s| s.acked.len() >= followers)
        .map(|s| {
            let read = s.recv.iter().copied().min().unwrap_or(0);
            let (_, last_ack, _) = spread(&s.acked);
            (last_ack - read) as f64 / 1000.0
        })
        .collect()
}

/// One line: p50 over the signals every one of `followers` copies acknowledged.
pub fn report(rows: &[LatencyRow], followers: usize) -> String {
    let mut cols: [Vec<f64>; 8] = Default::default();
    for s in by_signal(rows)
        .values()
        .filter(|s| s.acked.len() >= followers)
    {
        let read = s.recv.iter().copied().min().unwrap_or(0);
        let ms = |t: i64| (t - read) as f64 / 1000.0;
        let (_, last_planned, plan_gap) = spread(&s.planned);
        let (first_durable, _, _) = spread(&s.committed);
        let (_, last_written, write_gap) = spread(&s.written);
        let (first_ack, last_ack, ack_gap) = spread(&s.acked);
        for (col, v) in cols.iter_mut().zip([
            ms(last_planned),
            ms(first_durable),
            ms(last_written),
            ms(first_ack),
            ms(last_ack),
            plan_gap,
            write_gap,
            ack_gap,
        ]) {
            col.push(v);
        }
    }
    let p50 = |i: usize| Summary::of(cols[i].clone()).p50;
    format!(
        "the signal's timeline (p50 over {} signals, ms after it was read): all planned {:.1}, first row durable {:.1}, all written {:.1}, first acknowledged {:.1}, all acknowledged {:.1}; consecutive copies apart: planned {:.0} µs, written {:.0} µs, acknowledged {:.0} µs",
        cols[0].len(),
        p50(0),
        p50(1),
        p50(2),
        p50(3),
        p50(4),
        p50(5),
        p50(6),
        p50(7),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(ev: i64, recv: i64, at: [i64; 4]) -> LatencyRow {
        LatencyRow {
            leader_event_ms: Some(ev),
            leader_recv_us: Some(recv),
            planned_us: at[0],
            committed_us: at[1],
            written_us: at[2],
            acked_us: Some(at[3]),
            ..LatencyRow::default()
        }
    }

    /// Two copies of one signal, read at 1,000 µs: the moments come out as offsets from
    /// the read, the gaps as the distance between the two copies; a signal one copy did
    /// not acknowledge is left out.
    #[test]
    fn a_signals_timeline_is_read_from_its_copies_rows() {
        let rows = [
            row(7, 1_000, [1_100, 3_000, 3_050, 5_000]),
            row(7, 1_010, [1_200, 3_000, 3_150, 5_400]),
            row(8, 9_000, [9_100, 9_500, 9_600, 9_900]),
        ];
        assert_eq!(all_acknowledged(&rows, 2), vec![4.4]);
        assert_eq!(
            report(&rows, 2),
            "the signal's timeline (p50 over 1 signals, ms after it was read): all planned 0.2, first row durable 2.0, all written 2.1, first acknowledged 4.0, all acknowledged 4.4; consecutive copies apart: planned 100 µs, written 100 µs, acknowledged 400 µs"
        );
    }
}
