//! The price feed of a paper copy of a leader on another venue ("mock copy"): the embedded
//! simulator's prices follow that venue's public market streams, so paper fills happen at
//! that venue's prices. The leader is an account leader on a real venue (or any base URL),
//! or a public lead portfolio not on the paper simulator (Binance's pages: Binance's USD-M
//! market; a base URL: that URL's market API). One feed per venue (market endpoint),
//! shared by every paper copy of a leader there; it lives as long as paper mode.
//!
//! At start it reads the venue's symbol list and, for each symbol both list, the venue's
//! mark price (one REST read each, at copy creation, never on the copy's path), and puts the
//! simulator's mid there. Then it follows the venue's market streams through the port:
//! every mark price (`!markPrice@arr@1s`) becomes the simulator's mark, every best bid/ask
//! (`<symbol>@bookTicker`) its best bid and ask. Until a symbol's first book ticker arrives
//! its spread is the simulator's own, around the venue's mark. A dropped market socket
//! is told to the user (paper prices stand still until it is back), and so is its return.

use std::collections::BTreeSet;
use std::sync::Arc;

use tokio::task::JoinHandle;

use crate::exchange::{Exchange, MarketEvent, TradingStatus};
use crate::runtime::leader_source::{LeaderSpec, BINANCE_ENDPOINT};
use crate::runtime::{Notification, NotifyKind, NotifyLevel};
use crate::sim::SimPrices;

use super::{ApiError, ErrorCode};

/// A running feed; dropping it stops following.
#[derive(Debug)]
pub(crate) struct PriceFeed {
    task: JoinHandle<()>,
}

impl Drop for PriceFeed {
    fn drop(&mut self) {
        // The task owns the market stream; dropping it stops the sockets too.
        self.task.abort();
    }
}

/// How the feed tells the user about its venue's market stream.
pub(crate) type Say = Box<dyn Fn(NotifyLevel, NotifyKind, String) + Send + Sync>;

/// A refusal about the leader's venue, on the `leader` field.
fn refused(endpoint: &str, what: impl std::fmt::Display) -> ApiError {
    ApiError {
        code: ErrorCode::Exchange,
        field: Some("leader".into()),
        message: format!(
            "a paper copy of this leader fills at the prices of its venue `{endpoint}`, \
             and {what}; check the leader's endpoint and your network, or copy a demo leader"
        ),
    }
}

impl PriceFeed {
    /// Starts following `venue` (the leader's venue, reached at `endpoint`) for the
    /// simulator's `symbols`.
    pub(crate) async fn start(
        endpoint: &str,
        venue: Arc<dyn Exchange>,
        sim: SimPrices,
        symbols: &[String],
        say: Say,
    ) -> Result<PriceFeed, ApiError> {
        let rules = venue.symbol_rules().await.map_err(|e| {
            refused(
                endpoint,
                format_args!("its symbol list cannot be read: {e}"),
            )
        })?;
        let trading: BTreeSet<String> = rules
            .rules
            .iter()
            .filter(|r| r.status == TradingStatus::Trading)
            .map(|r| r.symbol.to_string())
            .collect();
        let followed: BTreeSet<String> = symbols
            .iter()
            .filter(|s| trading.contains(*s))
            .cloned()
            .collect();
        if followed.is_empty() {
            return Err(refused(
                endpoint,
                format_args!(
                    "it trades none of the paper simulator's symbols ({})",
                    symbols.join(", ")
                ),
            ));
        }
        // The stream first, so no move between the first reads and the stream is lost.
        let mut stream = venue.market_stream().await.map_err(|e| {
            refused(
                endpoint,
                format_args!("its market stream cannot be opened: {e}"),
            )
        })?;
        let watch = stream.watcher();
        for s in &followed {
            // The stream's task is alive (just opened); a closed channel shows up as the
            // stream ending, which the task below logs.
            let _ = watch.send(s.clone());
        }
        for s in &followed {
            let q = venue.quote(s).await.map_err(|e| {
                refused(
                    endpoint,
                    format_args!("the price of {s} cannot be read: {e}"),
                )
            })?;
            sim.set_price(s, q.mark_price.get()).map_err(|e| {
                ApiError::internal(format!(
                    "the paper simulator refused {s}'s price from `{endpoint}`: {}",
                    e.msg
                ))
            })?;
        }
        tracing::info!(venue = %endpoint, symbols = ?followed, "paper prices follow the leader's venue");
        let endpoint = endpoint.to_owned();
        let set = followed;
        let task = tokio::spawn(async move {
            // Sockets announced down and not yet back.
            let mut down: BTreeSet<&'static str> = BTreeSet::new();
            while let Some(ev) = stream.next().await {
                let result = match &ev {
                    MarketEvent::Mark { symbol, price, .. } if set.contains(symbol) => {
                        sim.set_mark(symbol, price.get())
                    }
                    MarketEvent::Book {
                        symbol, bid, ask, ..
                    } if set.contains(symbol) => sim.set_quote(symbol, bid.get(), ask.get()),
                    MarketEvent::Disconnected { what, reason, .. } => {
                        if down.insert(what) {
                            say(
                                NotifyLevel::Warning,
                                NotifyKind::Disconnected,
                                format!(
                                    "paper prices stand still: the {what} stream of `{endpoint}` \
                                     dropped ({reason}); reconnecting"
                                ),
                            );
                        }
                        Ok(())
                    }
                    MarketEvent::Connected { what, .. } => {
                        if down.remove(what) {
                            say(
                                NotifyLevel::Info,
                                NotifyKind::Reconnected,
                                format!("paper prices follow `{endpoint}` again ({what})"),
                            );
                        }
                        Ok(())
                    }
                    _ => Ok(()),
                };
                if let Err(e) = result {
                    tracing::warn!(venue = %endpoint, error = %e.msg, "a followed price was refused");
                }
            }
            say(
                NotifyLevel::Error,
                NotifyKind::Error,
                format!("paper prices stand still: the market stream of `{endpoint}` ended"),
            );
            drop(venue);
        });
        Ok(PriceFeed { task })
    }
}

/// Where a paper copy of `leader` must take its prices from: the market endpoint of the
/// leader's venue (`mainnet`, `demo` or a base URL), `None` for a leader on the paper
/// simulator itself. An account leader trades on its account's venue; a public lead
/// portfolio on Binance's pages trades on Binance's USD-M market (`mainnet`), one at a
/// base URL (a simulator) on that URL's market API.
pub(crate) fn market_endpoint(leader: &LeaderSpec) -> Option<String> {
    use super::paper::PAPER_ENDPOINT;
    let endpoint = match leader {
        LeaderSpec::Account(a) => a.endpoint.as_str(),
        LeaderSpec::Portfolio(p) if p.endpoint == BINANCE_ENDPOINT => "mainnet",
        LeaderSpec::Portfolio(p) => p.endpoint.as_str(),
    };
    (endpoint != PAPER_ENDPOINT).then(|| endpoint.to_owned())
}

impl super::App {
    /// For a paper follower copying a leader on another venue (an account leader there, or
    /// a public lead portfolio not on the paper simulator): makes sure the simulator's
    /// prices follow that venue (one feed per venue). Nothing to do for a real follower or
    /// a paper leader (a demo leader trades at the simulator's own prices).
    pub(crate) async fn follow_leader_venue(
        &self,
        leader: &LeaderSpec,
        follower: &crate::runtime::AccountSpec,
    ) -> Result<(), ApiError> {
        use super::paper::PAPER_ENDPOINT;
        if follower.endpoint != PAPER_ENDPOINT {
            return Ok(());
        }
        let Some(endpoint) = market_endpoint(leader) else {
            return Ok(());
        };
        let mut guard = self.paper.lock().await;
        let sim = guard.as_mut().ok_or_else(|| {
            ApiError::new(
                ErrorCode::Conflict,
                "the follower is a paper account and paper mode is not running; start paper mode",
            )
        })?;
        if sim.feeds.contains_key(&endpoint) {
            return Ok(());
        }
        let on_leader = |e: ApiError| ApiError {
            field: Some("leader".into()),
            ..e
        };
        let venue = match leader {
            LeaderSpec::Account(a) => super::venue::exchange(a, &self.engine).map_err(on_leader)?,
            // Public market data only: no key.
            LeaderSpec::Portfolio(p) => self
                .engine
                .venues()
                .connect(crate::exchange::VenueRequest {
                    account: &p.name,
                    exchange: "binance-usdm",
                    endpoint: &endpoint,
                    credentials: None,
                    options: crate::exchange::VenueOptions {
                        clock: self.engine.clock(),
                        ..Default::default()
                    },
                })
                .map_err(|e| refused(&endpoint, format_args!("it cannot be reached: {e}")))?,
        };
        let notifier = self.engine.notifier.clone();
        let clock = self.engine.clock();
        let say: Say = Box::new(move |level, kind, message| {
            notifier.send(
                None,
                Notification {
                    ts_ms: clock.now_ms(),
                    copy: None,
                    level,
                    kind,
                    notice: None,
                    message,
                    detail: None,
                },
            );
        });
        let feed = PriceFeed::start(
            &endpoint,
            venue,
            sim.handle.prices(),
            &sim.handle.symbols(),
            say,
        )
        .await?;
        sim.feeds.insert(endpoint, feed);
        Ok(())
    }
}
