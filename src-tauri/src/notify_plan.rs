//! Which engine events become desktop notifications, in what words, and when: fills and
//! skipped signals are grouped per copy over a [`BURST_WINDOW_MS`] window (one
//! notification with the count and the net change, not thirty), a disconnect is told only
//! once it has lasted [`DISCONNECT_GRACE_MS`], safety kinds go out at once and cannot be
//! turned off. Pure: time comes in as milliseconds from the caller (`notifier.rs` drives it
//! with the wall clock, the tests with numbers), and nothing here sends anything.

use std::collections::BTreeMap;

use copydesk::api::{EventDto, EventKind};
use copydesk::domain::Side;
use copydesk::runtime::hold::HoldKind;
use copydesk::runtime::notify::{NotifyDetail, StopCause, StreamRole};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// How long a burst of a copy's fills (or skips) is gathered into one notification.
pub const BURST_WINDOW_MS: i64 = 10_000;
/// How long a stream must stay disconnected before the user is told.
pub const DISCONNECT_GRACE_MS: i64 = 5_000;

/// A kind of desktop notification, as the Settings screen lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    Fills,
    Skips,
    Disconnects,
    Errors,
    /// A copy stopped: stop loss, take profit, or by the user.
    Stops,
    Panic,
    /// A copied position has no protective stop on the exchange.
    Unprotected,
    /// The exchange refused the key (revoked, wrong, or lacking a permission).
    KeyProblems,
    /// The exchange rate-limits or bans this machine's requests.
    RateLimit,
}

impl Category {
    /// Every kind, in the order Settings shows them.
    pub const ALL: [Category; 9] = [
        Category::Fills,
        Category::Skips,
        Category::Disconnects,
        Category::Errors,
        Category::Stops,
        Category::Panic,
        Category::Unprotected,
        Category::KeyProblems,
        Category::RateLimit,
    ];

    /// Safety kinds are always shown: each says money is at risk or copying stopped.
    pub fn safety(self) -> bool {
        matches!(
            self,
            Category::Stops
                | Category::Panic
                | Category::Unprotected
                | Category::KeyProblems
                | Category::RateLimit
        )
    }

    /// The label Settings shows.
    pub fn label(self) -> &'static str {
        match self {
            Category::Fills => "Fills",
            Category::Skips => "Skipped signals",
            Category::Disconnects => "Disconnects of more than a few seconds",
            Category::Errors => "Errors and refused orders",
            Category::Stops => "Stops (stop loss, take profit, stopped by you)",
            Category::Panic => "Panic",
            Category::Unprotected => "Positions without a protective stop",
            Category::KeyProblems => "API key problems (revoked, wrong, missing permission)",
            Category::RateLimit => "Rate limits and bans by the exchange",
        }
    }
}

/// One desktop notification to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Desktop {
    pub category: Category,
    pub title: String,
    pub body: String,
}

/// Which optional kinds the user wants (the safety kinds are not asked).
pub trait Wanted {
    fn wants(&self, c: Category) -> bool;
}

impl<F: Fn(Category) -> bool> Wanted for F {
    fn wants(&self, c: Category) -> bool {
        self(c)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Group {
    Fills,
    Skips,
}

#[derive(Debug, Clone)]
struct Burst {
    opened_ms: i64,
    count: usize,
    /// Net signed quantity per symbol (buys +, sells −).
    net: BTreeMap<String, Decimal>,
    first: String,
    last: String,
}

#[derive(Debug, Clone)]
struct Outage {
    since_ms: i64,
    message: String,
    told: bool,
}

/// The grouping state: open bursts per copy and streams that are down.
#[derive(Debug, Default)]
pub struct Planner {
    bursts: BTreeMap<(String, Group), Burst>,
    outages: BTreeMap<(String, StreamRole), Outage>,
}

const APP: &str = "CopyDesk";

impl Planner {
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes one event at `now_ms`; returns what must be shown at once (safety kinds and
    /// single errors). Fills and skips wait for their window ([`Planner::due`]).
    pub fn on_event(&mut self, now_ms: i64, e: &EventDto, wanted: &impl Wanted) -> Vec<Desktop> {
        let copy = e.copy.clone().unwrap_or_else(|| APP.to_owned());
        let Some(category) = category_of(e) else {
            if e.kind == EventKind::Reconnected {
                if let Some(NotifyDetail::Stream { stream }) = &e.detail {
                    self.outages.remove(&(copy, *stream));
                }
            }
            return Vec::new();
        };
        if !category.safety() && !wanted.wants(category) {
            return Vec::new();
        }
        match category {
            Category::Fills => {
                if let Some(NotifyDetail::Fill {
                    symbol, side, qty, ..
                }) = &e.detail
                {
                    let signed = match side {
                        Side::Buy => *qty,
                        Side::Sell => -*qty,
                    };
                    let b = self.burst(now_ms, &copy, Group::Fills, &fill_line(e));
                    *b.net.entry(symbol.clone()).or_default() += signed;
                }
                Vec::new()
            }
            Category::Skips => {
                self.burst(now_ms, &copy, Group::Skips, &e.message);
                Vec::new()
            }
            Category::Disconnects => {
                let stream = match &e.detail {
                    Some(NotifyDetail::Stream { stream }) => *stream,
                    _ => StreamRole::Follower,
                };
                self.outages.entry((copy, stream)).or_insert(Outage {
                    since_ms: now_ms,
                    message: e.message.clone(),
                    told: false,
                });
                Vec::new()
            }
            _ => vec![Desktop {
                category,
                title: title_of(category, &copy, e),
                body: e.message.clone(),
            }],
        }
    }

    fn burst(&mut self, now_ms: i64, copy: &str, g: Group, line: &str) -> &mut Burst {
        let b = self
            .bursts
            .entry((copy.to_owned(), g))
            .or_insert_with(|| Burst {
                opened_ms: now_ms,
                count: 0,
                net: BTreeMap::new(),
                first: line.to_owned(),
                last: String::new(),
            });
        b.count += 1;
        b.last = line.to_owned();
        b
    }

    /// What is due at `now_ms`: bursts whose window has ended, disconnects that lasted.
    pub fn due(&mut self, now_ms: i64) -> Vec<Desktop> {
        let mut out = Vec::new();
        let ended: Vec<(String, Group)> = self
            .bursts
            .iter()
            .filter(|(_, b)| now_ms >= b.opened_ms + BURST_WINDOW_MS)
            .map(|(k, _)| k.clone())
            .collect();
        for key in ended {
            if let Some(b) = self.bursts.remove(&key) {
                out.push(burst_text(&key.0, key.1, &b));
            }
        }
        for ((copy, stream), o) in self.outages.iter_mut() {
            if !o.told && now_ms >= o.since_ms + DISCONNECT_GRACE_MS {
                o.told = true;
                let which = match stream {
                    StreamRole::Leader => "leader",
                    StreamRole::Follower => "follower account",
                };
                out.push(Desktop {
                    category: Category::Disconnects,
                    title: format!("{copy}: {which} stream disconnected"),
                    body: format!(
                        "No connection for over {} s; CopyDesk keeps reconnecting ({}).",
                        DISCONNECT_GRACE_MS / 1000,
                        o.message
                    ),
                });
            }
        }
        out
    }

    /// The next time [`Planner::due`] has something, if any.
    pub fn next_deadline(&self) -> Option<i64> {
        let bursts = self.bursts.values().map(|b| b.opened_ms + BURST_WINDOW_MS);
        let outages = self
            .outages
            .values()
            .filter(|o| !o.told)
            .map(|o| o.since_ms + DISCONNECT_GRACE_MS);
        bursts.chain(outages).min()
    }
}

/// The kind of desktop notification an event is; `None` when it is not one.
pub fn category_of(e: &EventDto) -> Option<Category> {
    match (e.kind, &e.detail) {
        (EventKind::Fill, Some(NotifyDetail::Fill { .. })) => Some(Category::Fills),
        (EventKind::Skip, _) => Some(Category::Skips),
        (EventKind::Stopped | EventKind::Rejected, Some(NotifyDetail::KeyProblem)) => {
            Some(Category::KeyProblems)
        }
        (EventKind::Stopped, Some(NotifyDetail::Stop { cause })) => Some(match cause {
            StopCause::Panic => Category::Panic,
            _ => Category::Stops,
        }),
        (EventKind::Stopped, _) => Some(Category::Stops),
        (EventKind::Held, Some(NotifyDetail::Hold { kind })) => Some(match kind {
            // Close-all in progress: the `stopped` that follows is the notification.
            HoldKind::Stopping => return None,
            HoldKind::Unprotected => Category::Unprotected,
            HoldKind::RateLimit => Category::RateLimit,
            HoldKind::UnreadableState | HoldKind::LeaderUnreadable | HoldKind::JournalWrite => {
                Category::Errors
            }
        }),
        (EventKind::Unprotected, _) => Some(Category::Unprotected),
        (EventKind::Rejected | EventKind::Error | EventKind::Held, _) => Some(Category::Errors),
        (EventKind::Disconnected, _) => Some(Category::Disconnects),
        _ => None,
    }
}

fn title_of(c: Category, copy: &str, e: &EventDto) -> String {
    match c {
        Category::Stops => {
            let why = match &e.detail {
                Some(NotifyDetail::Stop {
                    cause: StopCause::StopLoss,
                }) => "stop loss reached",
                Some(NotifyDetail::Stop {
                    cause: StopCause::TakeProfit,
                }) => "take profit reached",
                Some(NotifyDetail::Stop {
                    cause: StopCause::User,
                }) => "stopped by you",
                _ => "stopped",
            };
            format!("{copy} stopped: {why}")
        }
        Category::Panic => format!("Panic: {copy} stopped, positions closed"),
        Category::Unprotected => format!("{copy}: a position has no protective stop"),
        Category::KeyProblems if e.kind == EventKind::Stopped => {
            format!("{copy} stopped: the exchange refused the API key")
        }
        Category::KeyProblems => format!("{copy}: the exchange refused the API key"),
        Category::RateLimit => format!("{copy}: the exchange is limiting requests"),
        Category::Errors => match e.kind {
            EventKind::Rejected => format!("{copy}: order refused"),
            EventKind::Held => format!("{copy}: copying on hold"),
            _ => format!("{copy}: error"),
        },
        Category::Fills | Category::Skips | Category::Disconnects => copy.to_owned(),
    }
}

/// "Bought 0.5 BTCUSDT at 50000" from a fill's typed facts.
fn fill_line(e: &EventDto) -> String {
    match &e.detail {
        Some(NotifyDetail::Fill {
            symbol,
            side,
            qty,
            price,
        }) => format!(
            "{} {} {symbol} at {}",
            match side {
                Side::Buy => "Bought",
                Side::Sell => "Sold",
            },
            qty.normalize(),
            price.normalize()
        ),
        _ => e.message.clone(),
    }
}

/// A signed quantity with a real minus sign and a plus for gains: "+1.5", "−0.2", "0".
fn signed(q: Decimal) -> String {
    let q = q.normalize();
    if q.is_sign_positive() && !q.is_zero() {
        format!("+{q}")
    } else if q.is_zero() {
        "0".into()
    } else {
        format!("−{}", q.abs())
    }
}

fn burst_text(copy: &str, g: Group, b: &Burst) -> Desktop {
    match (g, b.count) {
        (Group::Fills, 1) => Desktop {
            category: Category::Fills,
            title: format!("{copy}: fill"),
            body: b.first.clone(),
        },
        (Group::Fills, n) => Desktop {
            category: Category::Fills,
            title: format!("{copy}: {n} fills in {} s", BURST_WINDOW_MS / 1000),
            body: format!(
                "Net change: {}",
                b.net
                    .iter()
                    .map(|(s, q)| format!("{s} {}", signed(*q)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        },
        (Group::Skips, 1) => Desktop {
            category: Category::Skips,
            title: format!("{copy}: signal skipped"),
            body: b.first.clone(),
        },
        (Group::Skips, n) => Desktop {
            category: Category::Skips,
            title: format!(
                "{copy}: {n} signals skipped in {} s",
                BURST_WINDOW_MS / 1000
            ),
            body: format!("Latest: {}", b.last),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use copydesk::api::EventLevel;
    use std::str::FromStr;

    fn event(copy: &str, kind: EventKind, detail: Option<NotifyDetail>, message: &str) -> EventDto {
        EventDto {
            ts_ms: 0,
            copy: Some(copy.into()),
            level: EventLevel::Info,
            kind,
            notice: None,
            message: message.into(),
            detail,
        }
    }

    fn fill(copy: &str, symbol: &str, side: Side, qty: &str) -> EventDto {
        event(
            copy,
            EventKind::Fill,
            Some(NotifyDetail::Fill {
                symbol: symbol.into(),
                side,
                qty: Decimal::from_str(qty).expect("qty"),
                price: Decimal::from(100),
            }),
            "copied",
        )
    }

    fn all(_: Category) -> bool {
        true
    }

    #[test]
    fn one_fill_is_one_notification_when_its_window_ends() {
        let mut p = Planner::new();
        assert!(p
            .on_event(1_000, &fill("alpha", "BTCUSDT", Side::Buy, "0.50"), &all)
            .is_empty());
        assert_eq!(p.next_deadline(), Some(11_000));
        assert!(p.due(10_999).is_empty(), "the window is still open");
        assert_eq!(
            p.due(11_000),
            vec![Desktop {
                category: Category::Fills,
                title: "alpha: fill".into(),
                body: "Bought 0.5 BTCUSDT at 100".into(),
            }]
        );
        assert!(p.due(30_000).is_empty(), "told once");
        assert_eq!(p.next_deadline(), None);
    }

    #[test]
    fn a_burst_of_thirty_fills_is_one_notification_per_copy_with_the_count_and_net_change() {
        let mut p = Planner::new();
        for i in 0..30 {
            let side = if i % 3 == 2 { Side::Sell } else { Side::Buy };
            p.on_event(500 + i * 100, &fill("alpha", "BTCUSDT", side, "0.1"), &all);
        }
        p.on_event(900, &fill("alpha", "ETHUSDT", Side::Sell, "2"), &all);
        p.on_event(2_000, &fill("beta", "BTCUSDT", Side::Buy, "1"), &all);
        let at_alpha = p.due(10_500);
        assert_eq!(
            at_alpha,
            vec![Desktop {
                category: Category::Fills,
                title: "alpha: 31 fills in 10 s".into(),
                // 20 buys and 10 sells of 0.1 BTC; one sell of 2 ETH.
                body: "Net change: BTCUSDT +1, ETHUSDT −2".into(),
            }],
            "beta's window opened later and is still open"
        );
        let at_beta = p.due(12_000);
        assert_eq!(at_beta.len(), 1);
        assert_eq!(at_beta[0].title, "beta: fill");
        // A fill after the window opens a new one.
        p.on_event(13_000, &fill("alpha", "BTCUSDT", Side::Sell, "0.1"), &all);
        assert_eq!(p.next_deadline(), Some(23_000));
    }

    #[test]
    fn stops_and_other_safety_kinds_go_out_at_once_even_when_turned_off() {
        let mut p = Planner::new();
        let none = |_: Category| false;
        let stop = event(
            "alpha",
            EventKind::Stopped,
            Some(NotifyDetail::Stop {
                cause: StopCause::StopLoss,
            }),
            "copy stopped: total stop loss: copy PnL -201 reached -200",
        );
        assert_eq!(
            p.on_event(0, &stop, &none),
            vec![Desktop {
                category: Category::Stops,
                title: "alpha stopped: stop loss reached".into(),
                body: "copy stopped: total stop loss: copy PnL -201 reached -200".into(),
            }]
        );
        let panic = event(
            "alpha",
            EventKind::Stopped,
            Some(NotifyDetail::Stop {
                cause: StopCause::Panic,
            }),
            "copy stopped: panic (kill switch)",
        );
        assert_eq!(
            p.on_event(0, &panic, &none)[0].title,
            "Panic: alpha stopped, positions closed"
        );
        let tp = event(
            "alpha",
            EventKind::Stopped,
            Some(NotifyDetail::Stop {
                cause: StopCause::TakeProfit,
            }),
            "m",
        );
        assert_eq!(
            p.on_event(0, &tp, &none)[0].title,
            "alpha stopped: take profit reached"
        );
        for (detail, kind, cat) in [
            (
                Some(NotifyDetail::Hold {
                    kind: HoldKind::Unprotected,
                }),
                EventKind::Held,
                Category::Unprotected,
            ),
            (
                Some(NotifyDetail::Hold {
                    kind: HoldKind::RateLimit,
                }),
                EventKind::Held,
                Category::RateLimit,
            ),
            (
                Some(NotifyDetail::KeyProblem),
                EventKind::Rejected,
                Category::KeyProblems,
            ),
            // A copy the engine stopped because the venue refused its key.
            (
                Some(NotifyDetail::KeyProblem),
                EventKind::Stopped,
                Category::KeyProblems,
            ),
        ] {
            let got = p.on_event(0, &event("alpha", kind, detail, "m"), &none);
            assert_eq!(got.len(), 1, "{cat:?} is shown although every kind is off");
            assert_eq!(got[0].category, cat);
            assert!(cat.safety());
        }
    }

    #[test]
    fn a_copy_stopped_for_a_refused_key_says_so_in_the_title() {
        let mut p = Planner::new();
        let every = |_: Category| true;
        let message = "copy stopped: the venue refused the API key of `me` (-2015)";
        let got = p.on_event(
            0,
            &event(
                "alpha",
                EventKind::Stopped,
                Some(NotifyDetail::KeyProblem),
                message,
            ),
            &every,
        );
        assert_eq!(got.len(), 1);
        assert_eq!(
            got[0].title,
            "alpha stopped: the exchange refused the API key"
        );
        assert_eq!(got[0].body, message);
    }

    #[test]
    fn optional_kinds_turned_off_are_dropped() {
        let mut p = Planner::new();
        let no_fills = |c: Category| c != Category::Fills;
        p.on_event(0, &fill("alpha", "BTCUSDT", Side::Buy, "1"), &no_fills);
        assert!(p.due(60_000).is_empty(), "fills are off");
        let err = event("alpha", EventKind::Error, None, "boom");
        assert!(p
            .on_event(0, &err, &|c: Category| c != Category::Errors)
            .is_empty());
        assert_eq!(p.on_event(0, &err, &all)[0].title, "alpha: error");
        let refused = event("alpha", EventKind::Rejected, None, "too small");
        assert_eq!(
            p.on_event(0, &refused, &all)[0].title,
            "alpha: order refused"
        );
    }

    #[test]
    fn skipped_signals_are_grouped_too() {
        let mut p = Planner::new();
        p.on_event(
            0,
            &event("alpha", EventKind::Skip, None, "first skip"),
            &all,
        );
        p.on_event(
            1,
            &event("alpha", EventKind::Skip, None, "second skip"),
            &all,
        );
        let got = p.due(10_000);
        assert_eq!(got[0].title, "alpha: 2 signals skipped in 10 s");
        assert_eq!(got[0].body, "Latest: second skip");
    }

    #[test]
    fn a_disconnect_is_told_only_after_it_lasted_and_a_quick_reconnect_is_silent() {
        let mut p = Planner::new();
        let down = |s| {
            event(
                "alpha",
                EventKind::Disconnected,
                Some(NotifyDetail::Stream { stream: s }),
                "follower stream disconnected (eof); reconnecting",
            )
        };
        let up = |s| {
            event(
                "alpha",
                EventKind::Reconnected,
                Some(NotifyDetail::Stream { stream: s }),
                "up",
            )
        };
        p.on_event(0, &down(StreamRole::Follower), &all);
        p.on_event(2_000, &up(StreamRole::Follower), &all);
        assert!(
            p.due(60_000).is_empty(),
            "back within the grace: nothing to tell"
        );
        p.on_event(10_000, &down(StreamRole::Follower), &all);
        p.on_event(11_000, &down(StreamRole::Follower), &all);
        assert_eq!(p.next_deadline(), Some(15_000), "timed from the first drop");
        assert!(p.due(14_999).is_empty());
        let got = p.due(15_000);
        assert_eq!(
            got,
            vec![Desktop {
                category: Category::Disconnects,
                title: "alpha: follower account stream disconnected".into(),
                body: "No connection for over 5 s; CopyDesk keeps reconnecting (follower stream disconnected (eof); reconnecting).".into(),
            }]
        );
        assert!(p.due(20_000).is_empty(), "told once per outage");
        assert_eq!(p.next_deadline(), None);
    }

    #[test]
    fn routine_events_are_not_notifications() {
        let mut p = Planner::new();
        for k in [
            EventKind::Watching,
            EventKind::Started,
            EventKind::Paused,
            EventKind::Reconciled,
            EventKind::Funding,
        ] {
            assert!(
                p.on_event(0, &event("a", k, None, "m"), &all).is_empty(),
                "{k:?}"
            );
        }
        assert_eq!(p.next_deadline(), None);
    }

    #[test]
    fn safety_is_the_five_kinds_the_issue_names() {
        let safety: Vec<Category> = Category::ALL.into_iter().filter(|c| c.safety()).collect();
        assert_eq!(
            safety,
            vec![
                Category::Stops,
                Category::Panic,
                Category::Unprotected,
                Category::KeyProblems,
                Category::RateLimit
            ]
        );
    }
}
