//! Event fan-out: each account has a broadcast bus its user-data sockets subscribe to, and
//! one bus carries market-stream payloads. Events are stamped here with a monotonic event
//! time, inside the exchange lock, so every socket sees them in the order they happened.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::Value;
use tokio::sync::broadcast;

/// Capacity of each bus; a socket that falls further behind is closed, as Binance drops
/// slow consumers.
const CAPACITY: usize = 8192;

/// One user-data event: its `e` name (for the `events=` allow-list) and the payload.
#[derive(Debug, Clone)]
pub struct UserEvent {
    pub name: &'static str,
    pub payload: Value,
    /// True for `listenKeyExpired`: sockets close after delivering it.
    pub closes_stream: bool,
}

/// One market-stream payload under its stream name (e.g. `btcusdt@markPrice`).
#[derive(Debug, Clone)]
pub struct MarketEvent {
    pub stream: String,
    pub payload: Value,
}

#[derive(Debug)]
pub struct Buses {
    users: HashMap<String, broadcast::Sender<Arc<UserEvent>>>,
    market: broadcast::Sender<Arc<MarketEvent>>,
}

impl Default for Buses {
    fn default() -> Self {
        Self::new()
    }
}

impl Buses {
    pub fn new() -> Self {
        let (market, _) = broadcast::channel(CAPACITY);
        Self {
            users: HashMap::new(),
            market,
        }
    }

    fn user_sender(&mut self, account: &str) -> &broadcast::Sender<Arc<UserEvent>> {
        self.users
            .entry(account.to_owned())
            .or_insert_with(|| broadcast::channel(CAPACITY).0)
    }

    pub fn subscribe_user(&mut self, account: &str) -> broadcast::Receiver<Arc<UserEvent>> {
        self.user_sender(account).subscribe()
    }

    /// User-data sockets open on an account now.
    pub fn user_sockets(&self, account: &str) -> usize {
        self.users.get(account).map_or(0, |s| s.receiver_count())
    }

    pub fn subscribe_market(&self) -> broadcast::Receiver<Arc<MarketEvent>> {
        self.market.subscribe()
    }

    pub fn send_user(&mut self, account: &str, ev: UserEvent) {
        // No subscriber is the normal case when nobody is connected.
        let _ = self.user_sender(account).send(Arc::new(ev));
    }

    pub fn send_market(&self, stream: String, payload: Value) {
        if self.market.receiver_count() > 0 {
            let _ = self.market.send(Arc::new(MarketEvent { stream, payload }));
        }
    }
}

/// The market sockets open now and the streams each is subscribed to, so a test can count
/// how many sockets a client holds and what it asks for (`GET /admin/v1/market-sockets`).
/// Kept apart from the exchange lock: a socket's SUBSCRIBE frame never waits for a trade.
#[derive(Debug, Default)]
pub struct MarketSockets {
    next: AtomicU64,
    open: Mutex<BTreeMap<u64, BTreeSet<String>>>,
}

impl MarketSockets {
    fn open(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, BTreeSet<String>>> {
        // A counter; a panic elsewhere must not stop the sockets.
        self.open.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A socket opened with these streams; its id for [`Self::set`] and [`Self::closed`].
    pub fn opened(&self, streams: &BTreeSet<String>) -> u64 {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        self.open().insert(id, streams.clone());
        id
    }

    /// A socket's streams after a SUBSCRIBE or UNSUBSCRIBE frame.
    pub fn set(&self, id: u64, streams: &BTreeSet<String>) {
        if let Some(s) = self.open().get_mut(&id) {
            s.clone_from(streams);
        }
    }

    pub fn closed(&self, id: u64) {
        self.open().remove(&id);
    }

    /// Each open socket's streams, in the order they opened.
    pub fn list(&self) -> Vec<BTreeSet<String>> {
        self.open().values().cloned().collect()
    }
}
