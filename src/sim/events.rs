//! Event fan-out: each account has a broadcast bus its user-data sockets subscribe to, and
//! one bus carries market-stream payloads. Events are stamped here with a monotonic event
//! time, inside the exchange lock, so every socket sees them in the order they happened.

use std::collections::HashMap;
use std::sync::Arc;

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
