//! Public market data and request-weight figures as the port offers them: a mark price for
//! every symbol and the best bid/ask of the symbols asked for, from the venue's market
//! streams, so the runtime prices a signal without a REST read; and what the venue's
//! request-weight budget has used and made wait.

use tokio::sync::{mpsc, oneshot};

use crate::domain::Price;

use super::types::Millis;

/// One market-data event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MarketEvent {
    /// A symbol's mark price.
    Mark {
        symbol: String,
        price: Price,
        /// The venue's event time.
        venue_ms: Millis,
        /// Local time the message was read.
        received_ms: Millis,
    },
    /// A symbol's best bid and ask.
    Book {
        symbol: String,
        bid: Price,
        ask: Price,
        venue_ms: Millis,
        received_ms: Millis,
    },
    /// A market socket (re)opened; `what` names it (`marks`, `books`).
    Connected { what: &'static str, at: Millis },
    /// A market socket dropped; prices it carried are stale until it reconnects.
    Disconnected {
        what: &'static str,
        at: Millis,
        reason: String,
    },
}

/// A running market-data subscription. Dropping it stops its tasks.
#[derive(Debug)]
pub struct MarketStream {
    events: mpsc::Receiver<MarketEvent>,
    watch: mpsc::UnboundedSender<String>,
    stop: Option<oneshot::Sender<()>>,
}

impl MarketStream {
    /// Wraps the channels of a market-data task.
    pub fn new(
        events: mpsc::Receiver<MarketEvent>,
        watch: mpsc::UnboundedSender<String>,
        stop: oneshot::Sender<()>,
    ) -> Self {
        Self {
            events,
            watch,
            stop: Some(stop),
        }
    }

    /// The next event; `None` once the stream has stopped.
    pub async fn next(&mut self) -> Option<MarketEvent> {
        self.events.recv().await
    }

    /// A handle that asks for one more symbol's best bid/ask.
    pub fn watcher(&self) -> mpsc::UnboundedSender<String> {
        self.watch.clone()
    }

    /// Stops the stream's tasks.
    pub fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            // The tasks may already have ended; nothing to do then.
            let _ = stop.send(());
        }
    }
}

impl Drop for MarketStream {
    fn drop(&mut self) {
        self.stop();
    }
}

/// What the request-weight budget of one venue address has used and made wait.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WeightUsage {
    /// Weight used in the current window.
    pub used: u32,
    /// Weight we allow ourselves per window (below the venue's limit).
    pub budget: u32,
    /// The venue's limit per window.
    pub limit: u32,
    pub window_ms: u64,
    /// Requests that had to wait for the budget, since the start.
    pub waits: u64,
    /// Time spent waiting, in total.
    pub waited_ms: u64,
    /// Waits longer than a second.
    pub long_waits: u64,
    pub longest_wait_ms: u64,
    /// Low-priority reads (reconciliation, history) that waited, since the start: they
    /// stand aside for the copies' requests and are not counted in `waits`.
    pub background_waits: u64,
    /// Requests waiting for the budget now (copies' and low-priority reads).
    pub waiting_now: u32,
    /// Local time (ms) until which the venue told us to wait after a 429, when that is
    /// still ahead; 0 otherwise.
    pub paused_until_ms: i64,
    /// Local time (ms) until which the venue banned this address (418), when that is still
    /// ahead; 0 otherwise.
    pub banned_until_ms: i64,
}
