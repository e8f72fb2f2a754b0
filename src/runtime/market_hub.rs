//! One public market-data stream per venue endpoint, shared by every follower account on
//! it. Mark prices and book tickers are public: twenty follower accounts on one venue need
//! one mark-price socket and one book-ticker socket, not twenty of each (each would carry
//! and parse the same prices every second).
//!
//! Owns the market streams of one engine and the fan-out of their events: each event is
//! read and parsed once and applied to the state of every follower account on that
//! endpoint (`account_state`). The book-ticker socket subscribes to the union of the
//! symbols the accounts ask for; a symbol asked for later is subscribed on its own, the
//! others stay. An account that joins a running stream is brought to what the stream has
//! said so far (which sockets are connected, the last mark and book of each symbol, with
//! their original receive times, so a stale price stays stale), then gets every event
//! after. The endpoint is the adapter's (`Exchange::market_source`); an adapter that names
//! none gives each account its own stream. Streams live until the engine stops; one that
//! ends is replaced by the next account that joins.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::exchange::{Exchange, MarketEvent};

use super::account_state::SharedAccount;

/// The market streams of one engine, by venue endpoint.
#[derive(Debug, Clone, Default)]
pub(crate) struct MarketHub {
    feeds: Arc<Mutex<HashMap<String, Arc<Feed>>>>,
}

/// One market stream and the accounts it feeds.
#[derive(Debug, Default)]
struct Feed {
    state: Mutex<FeedState>,
}

#[derive(Debug, Default)]
struct FeedState {
    accounts: Vec<Arc<SharedAccount>>,
    /// Where book tickers are asked for, once the stream is open.
    watcher: Option<mpsc::UnboundedSender<String>>,
    /// The sockets connected now (`marks`, `books`).
    up: BTreeSet<&'static str>,
    /// The last mark and book event of each symbol, for an account that joins later.
    marks: HashMap<String, MarketEvent>,
    books: HashMap<String, MarketEvent>,
    ended: bool,
}

impl Feed {
    fn state(&self) -> MutexGuard<'_, FeedState> {
        // Rebuilt from the next events; a panic elsewhere must not stop every account's
        // prices.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds an account and brings it to what the stream has said so far.
    fn add(&self, account: Arc<SharedAccount>) {
        let mut st = self.state();
        {
            let mut a = account.lock();
            for what in &st.up {
                a.market(&MarketEvent::Connected { what, at: 0 });
            }
            for ev in st.marks.values().chain(st.books.values()) {
                a.market(ev);
            }
            if let Some(w) = &st.watcher {
                a.set_watcher(w.clone());
            }
        }
        st.accounts.push(account);
    }

    /// The stream is open: every account asks it for its symbols' books from now on.
    fn opened(&self, watcher: mpsc::UnboundedSender<String>) {
        let mut st = self.state();
        for a in &st.accounts {
            a.lock().set_watcher(watcher.clone());
        }
        st.watcher = Some(watcher);
    }

    /// One event, read once, applied to every account.
    fn publish(&self, ev: &MarketEvent) {
        let mut st = self.state();
        match ev {
            MarketEvent::Mark { symbol, .. } => {
                st.marks.insert(symbol.clone(), ev.clone());
            }
            MarketEvent::Book { symbol, .. } => {
                st.books.insert(symbol.clone(), ev.clone());
            }
            MarketEvent::Connected { what, .. } => {
                st.up.insert(what);
            }
            MarketEvent::Disconnected { what, .. } => {
                st.up.remove(what);
                // As the accounts do: a book is only as current as the socket reporting it.
                if *what != "marks" {
                    st.books.clear();
                }
            }
        }
        for a in &st.accounts {
            a.lock().market(ev);
        }
    }
}

impl MarketHub {
    fn feeds(&self) -> MutexGuard<'_, HashMap<String, Arc<Feed>>> {
        self.feeds.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Feeds an account's state from its venue's market stream: the running one of its
    /// endpoint, or a new one (whose task is returned, to be awaited at shutdown).
    pub(crate) fn join(
        &self,
        venue: &Arc<dyn Exchange>,
        account: Arc<SharedAccount>,
        stop: watch::Receiver<bool>,
    ) -> Option<JoinHandle<()>> {
        let source = venue.market_source();
        let mut feeds = self.feeds();
        if let Some(running) = source
            .as_ref()
            .and_then(|key| feeds.get(key))
            .filter(|f| !f.state().ended)
        {
            running.add(account);
            return None;
        }
        let feed = Arc::new(Feed::default());
        feed.add(account);
        if let Some(key) = source {
            feeds.insert(key, feed.clone());
        }
        Some(tokio::spawn(run(venue.clone(), feed, stop)))
    }
}

/// Reads one venue's market stream until `stop`, handing each event to every account.
async fn run(ex: Arc<dyn Exchange>, feed: Arc<Feed>, mut stop: watch::Receiver<bool>) {
    let mut stream = match ex.market_stream().await {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "market streams not opened; signals read prices over REST");
            feed.state().ended = true;
            return;
        }
    };
    feed.opened(stream.watcher());
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            ev = stream.next() => match ev {
                Some(ev) => feed.publish(&ev),
                None => break,
            },
        }
    }
    feed.state().ended = true;
}
