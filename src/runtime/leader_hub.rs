//! One leader stream per leader account, shared by every copy of that leader.
//!
//! Owns the leader accounts' venue clients and user-data streams inside one engine: the
//! first copy of a leader opens its stream (and takes its first snapshot from it); every
//! later copy of the same leader joins it. A fan-out task reads each event once and hands
//! it to every joined copy's supervisor, so the copies of one leader plan the same event at
//! the same moment and their durable journal commits share one group sync
//! (`store::group_commit`).
//!
//! Each copy keeps its own semantics: it gets every event, including the stream's
//! `Disconnected`, `Resynced` (each copy resets its own tracker from the snapshot and
//! reconciles) and `Failed`; a paused, stopping or slow copy never holds up the others (the
//! hand-over never waits: each copy has its own unbounded queue, drained by its supervisor).
//!
//! A copy joining a running stream needs a snapshot to start from. The hub keeps the
//! newest snapshot the stream delivered while no other event has followed it; a joiner
//! takes that one when it is younger than [`REUSE_MS`] (no request), else it reads the
//! leader's account over REST after joining (an event that arrives meanwhile and is
//! already in that snapshot is recognised by the tracker's "covered" rule, as for a
//! stream's own first snapshot).
//!
//! When the last copy of a leader leaves (stopped, removed, or its start failed), its
//! stream closes. When the stream itself ends (a key refused for good), every copy sees
//! its end; the next copy of that leader opens a new one.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot, watch};

use crate::exchange::{AccountEvent, AccountSnapshot, EventStream, Exchange};
use crate::store::group_commit::{Durability, Ticket};

/// How old a stream snapshot with no event after it may be for a joining copy to start
/// from it instead of reading the leader's account again (its equity moves with marks).
pub(crate) const REUSE_MS: u64 = 30_000;

/// The leader streams of one engine, by leader account name.
#[derive(Debug, Clone, Default)]
pub(crate) struct LeaderHub {
    inner: Arc<Mutex<HashMap<String, Entry>>>,
    /// The engine database's durability state: each copy handed an event that may lead
    /// to an order gets a ticket with it, so that the copies' journal commits before the
    /// send share one group sync (`store::group_commit`).
    durability: Option<Arc<Durability>>,
}

/// An event as a copy receives it.
pub(crate) type Delivery = (AccountEvent, Handed);

/// What comes with an event to a copy: its ticket for the group sync, when the event may
/// lead to an order and the copy had no other leader event in hand (a copy still busy with
/// an earlier event cannot commit for this one before that one's sends are done, so a
/// sync must not wait for it); and its place among the copy's events in hand, given back
/// when dropped (when the copy is done with the event).
#[derive(Debug, Default)]
pub struct Handed {
    ticket: Option<Ticket>,
    _in_hand: Option<InHand>,
}

impl Handed {
    /// The ticket, for the copy to give back at its journal commit.
    pub(crate) fn take_ticket(&mut self) -> Option<Ticket> {
        self.ticket.take()
    }
}

/// One event queued for a copy or being handled by it.
#[derive(Debug)]
struct InHand(Arc<AtomicUsize>);

impl Drop for InHand {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[derive(Debug)]
struct Entry {
    /// Tells this stream apart from a later one of the same leader.
    generation: u64,
    venue: Arc<dyn Exchange>,
    /// Each copy's queue and how many events it has in hand (queued or being handled).
    subs: Vec<(u64, mpsc::UnboundedSender<Delivery>, Arc<AtomicUsize>)>,
    next_sub: u64,
    /// Events handed over since the stream opened.
    events: u64,
    /// The newest snapshot, while no other event has followed it, and when it came.
    last: Option<(AccountSnapshot, Instant)>,
    /// Dropped with the entry: the fan-out task then ends and closes the stream.
    _quit: oneshot::Sender<()>,
}

/// One copy's place on its leader's stream: the events from the moment it joined. Leaving
/// (dropping it) closes the stream when no other copy is on it.
#[derive(Debug)]
pub struct LeaderSubscription {
    hub: LeaderHub,
    leader: String,
    generation: u64,
    id: u64,
    rx: mpsc::UnboundedReceiver<Delivery>,
    /// How many events this copy has in hand (queued, or being handled).
    in_hand: Arc<AtomicUsize>,
}

impl LeaderSubscription {
    /// How many events this copy has in hand: queued, or being handled.
    pub(crate) fn in_hand(&self) -> Arc<AtomicUsize> {
        self.in_hand.clone()
    }

    /// The next event and its ticket; `None` once the leader's stream has ended.
    pub async fn next(&mut self) -> Option<Delivery> {
        self.rx.recv().await
    }
}

impl Drop for LeaderSubscription {
    fn drop(&mut self) {
        self.hub.leave(&self.leader, self.generation, self.id);
    }
}

/// Monotonic generations across the process.
static GENERATION: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

impl LeaderHub {
    /// The hub of an engine whose database is `durability`'s.
    pub(crate) fn new(durability: Arc<Durability>) -> Self {
        Self {
            inner: Arc::default(),
            durability: Some(durability),
        }
    }

    /// The venue client of a leader account: the one its stream uses when the leader is
    /// followed already, else `open()`'s.
    pub(crate) fn venue<E>(
        &self,
        leader: &str,
        open: impl FnOnce() -> Result<Arc<dyn Exchange>, E>,
    ) -> Result<Arc<dyn Exchange>, E> {
        if let Some(v) = self
            .inner
            .lock()
            .ok()
            .and_then(|m| m.get(leader).map(|e| e.venue.clone()))
        {
            return Ok(v);
        }
        open()
    }

    /// Joins the leader's stream (opening it when none runs) and returns the copy's
    /// subscription with the snapshot it starts from.
    pub(crate) async fn join(
        &self,
        leader: &str,
        venue: &Arc<dyn Exchange>,
        stop: watch::Receiver<bool>,
    ) -> Result<(LeaderSubscription, AccountSnapshot), String> {
        if let Some(joined) = self.join_running(leader) {
            return joined.finish(venue).await;
        }
        let (stream, snap) =
            super::start::first_snapshot(&super::supervisor::Venue { ex: venue.clone() }, leader)
                .await?;
        // One add runs at a time (`RuntimeHandle::add`), so no other stream of this leader
        // opened meanwhile; were one there, this one would simply serve the new entry.
        let generation = GENERATION.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let (quit_tx, quit_rx) = oneshot::channel();
        let (tx, rx) = mpsc::unbounded_channel();
        let in_hand = Arc::<AtomicUsize>::default();
        {
            let mut map = self
                .inner
                .lock()
                .map_err(|_| "the leader streams' lock is poisoned".to_owned())?;
            map.insert(
                leader.to_owned(),
                Entry {
                    generation,
                    venue: venue.clone(),
                    subs: vec![(0, tx, in_hand.clone())],
                    next_sub: 1,
                    events: 0,
                    last: Some((snap.clone(), Instant::now())),
                    _quit: quit_tx,
                },
            );
        }
        tokio::spawn(fan_out(
            self.clone(),
            leader.to_owned(),
            generation,
            stream,
            quit_rx,
            stop,
        ));
        tracing::info!(
            leader,
            "leader stream opened; copies of this leader share it"
        );
        Ok((
            LeaderSubscription {
                hub: self.clone(),
                leader: leader.to_owned(),
                generation,
                id: 0,
                rx,
                in_hand,
            },
            snap,
        ))
    }

    /// A place on a running stream of the leader, with its snapshot when one can be reused.
    fn join_running(&self, leader: &str) -> Option<Joined> {
        let mut map = self.inner.lock().ok()?;
        let e = map.get_mut(leader)?;
        let (tx, rx) = mpsc::unbounded_channel();
        let id = e.next_sub;
        e.next_sub += 1;
        let in_hand = Arc::<AtomicUsize>::default();
        e.subs.push((id, tx, in_hand.clone()));
        let reuse = e
            .last
            .as_ref()
            .filter(|(_, at)| at.elapsed() < Duration::from_millis(REUSE_MS))
            .map(|(s, _)| s.clone());
        Some(Joined {
            sub: LeaderSubscription {
                hub: self.clone(),
                leader: leader.to_owned(),
                generation: e.generation,
                id,
                rx,
                in_hand,
            },
            snapshot: reuse,
            events: e.events,
        })
    }

    /// A copy leaves; the stream closes with its last copy.
    fn leave(&self, leader: &str, generation: u64, id: u64) {
        let Ok(mut map) = self.inner.lock() else {
            return;
        };
        let Some(e) = map.get_mut(leader).filter(|e| e.generation == generation) else {
            return;
        };
        e.subs.retain(|(i, _, _)| *i != id);
        if e.subs.is_empty() {
            map.remove(leader);
            tracing::info!(
                leader,
                "no copy follows this leader any more; its stream closes"
            );
        }
    }

    /// Hands one event to every copy on the stream; false when the stream has no entry
    /// any more (its last copy left).
    fn hand_over(&self, leader: &str, generation: u64, ev: AccountEvent) -> bool {
        let Ok(mut map) = self.inner.lock() else {
            return false;
        };
        let Some(e) = map.get_mut(leader).filter(|e| e.generation == generation) else {
            return false;
        };
        e.events += 1;
        e.last = match &ev {
            AccountEvent::Resynced(r) => Some((r.snapshot.clone(), Instant::now())),
            _ => None,
        };
        // Only what a copy plans from right away takes a ticket (a resync reconciles first),
        // and only such events count as in hand: an order's acceptance or cancellation
        // (no fill) plans nothing, so a copy still reading the leader order's `NEW` when
        // its fill comes gets a ticket for the fill. (It did not, under load, and the fill's
        // commit then needed a sync of its own.)
        let plans = matches!(&ev, AccountEvent::Order(u) if u.execution.fill().is_some())
            || matches!(
                ev,
                AccountEvent::BalancePosition(_) | AccountEvent::Leverage(_)
            );
        let durability = self.durability.as_ref().filter(|_| plans).cloned();
        // A copy whose supervisor ended has dropped its end: it leaves here. Every copy
        // gets the event (and its ticket) here, before any of them runs.
        let alone = e.subs.len() == 1;
        e.subs.retain(|(_, tx, in_hand)| {
            let handed = match &durability {
                Some(d) => {
                    let idle = in_hand.fetch_add(1, Ordering::SeqCst) == 0;
                    Handed {
                        ticket: idle.then(|| d.ticket_of(alone)),
                        _in_hand: Some(InHand(in_hand.clone())),
                    }
                }
                None => Handed {
                    ticket: None,
                    _in_hand: None,
                },
            };
            tx.send((ev.clone(), handed)).is_ok()
        });
        if e.subs.is_empty() {
            map.remove(leader);
            return false;
        }
        true
    }

    /// The stream ended: every copy on it sees the end (its queue closes).
    fn ended(&self, leader: &str, generation: u64) {
        if let Ok(mut map) = self.inner.lock() {
            if map.get(leader).is_some_and(|e| e.generation == generation) {
                map.remove(leader);
            }
        }
    }

    /// Records a snapshot a joiner read while no event came, for the next joiner.
    fn offer(&self, leader: &str, generation: u64, events: u64, snap: &AccountSnapshot) {
        if let Ok(mut map) = self.inner.lock() {
            if let Some(e) = map
                .get_mut(leader)
                .filter(|e| e.generation == generation && e.events == events)
            {
                e.last = Some((snap.clone(), Instant::now()));
            }
        }
    }
}

/// A place taken on a running stream, before its snapshot is settled.
struct Joined {
    sub: LeaderSubscription,
    snapshot: Option<AccountSnapshot>,
    /// Events handed over when it joined.
    events: u64,
}

impl Joined {
    async fn finish(
        self,
        venue: &Arc<dyn Exchange>,
    ) -> Result<(LeaderSubscription, AccountSnapshot), String> {
        if let Some(s) = self.snapshot {
            return Ok((self.sub, s));
        }
        // Joined first, read second: nothing between the two is lost.
        let snap = venue.account().await.map_err(|e| e.to_string())?;
        let hub = self.sub.hub.clone();
        hub.offer(&self.sub.leader, self.sub.generation, self.events, &snap);
        Ok((self.sub, snap))
    }
}

/// Reads the leader's stream and hands each event to every copy on it, until the stream
/// ends, its last copy leaves or the engine stops.
async fn fan_out(
    hub: LeaderHub,
    leader: String,
    generation: u64,
    mut stream: EventStream,
    mut quit: oneshot::Receiver<()>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            biased;
            // The engine stops: the copies stop on their own; their queues stay open so
            // none of them reads the end of its leader's stream as a failure.
            _ = stop.wait_for(|s| *s) => break,
            _ = &mut quit => break,
            ev = stream.next() => match ev {
                Some(ev) => {
                    if !hub.hand_over(&leader, generation, ev) {
                        break;
                    }
                }
                None => {
                    hub.ended(&leader, generation);
                    break;
                }
            },
        }
    }
    stream.stop();
    tracing::debug!(%leader, "leader stream task ended");
}
