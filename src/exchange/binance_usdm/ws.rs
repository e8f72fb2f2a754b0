//! The user-data stream: one task per subscription that owns the listen key (create,
//! keep alive before its 60-minute expiry, replace on `listenKeyExpired` or `-1125`), the
//! socket (answers pings, reconnects before the 24-hour limit and after any drop, with
//! exponential backoff while connections keep failing), and resynchronisation: after every
//! connect it takes a REST snapshot and sends it as `Resynced`, so snapshot plus the
//! events after it miss nothing. The listen key and the socket URL are never logged.

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use reqwest::Method;
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;

use crate::exchange::error::{ErrorClass, ExchangeError};
use crate::exchange::events::{AccountEvent, Disconnected, Resynced, StreamFailed};
use crate::exchange::EventStream;

use super::http::{Call, Security};
use super::map::{self, WsMessage};
use super::parse::ListenKey;
use super::Inner;

/// Timings of the user-data stream.
#[derive(Debug, Clone)]
pub struct StreamConfig {
    /// Keepalive period; the key expires 60 minutes after the last one.
    pub keepalive_every: Duration,
    /// Reconnect proactively before the venue's 24-hour connection limit.
    pub max_connection_age: Duration,
    /// A session that lasted at least this long counts as healthy: the next reconnect is
    /// immediate. Shorter sessions back off.
    pub healthy_after: Duration,
    pub backoff_initial: Duration,
    pub backoff_max: Duration,
    /// Deadline for opening the socket.
    pub connect_timeout: Duration,
    /// Events buffered for a slow consumer.
    pub capacity: usize,
}

impl Default for StreamConfig {
    fn default() -> Self {
        Self {
            keepalive_every: Duration::from_secs(30 * 60),
            max_connection_age: Duration::from_secs(23 * 3600 + 30 * 60),
            healthy_after: Duration::from_secs(60),
            backoff_initial: Duration::from_secs(1),
            backoff_max: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            capacity: 1024,
        }
    }
}

/// Starts the stream task.
pub(crate) fn spawn(inner: Arc<Inner>) -> EventStream {
    let (tx, rx) = mpsc::channel(inner.stream.capacity.max(1));
    let (stop_tx, stop_rx) = oneshot::channel();
    tokio::spawn(run(inner, tx, stop_rx));
    EventStream::new(rx, stop_tx)
}

enum SessionEnd {
    Stopped,
    Fatal(ExchangeError),
    Reconnect { reason: String, lasted_ms: i64 },
}

async fn run(inner: Arc<Inner>, tx: mpsc::Sender<AccountEvent>, mut stop: oneshot::Receiver<()>) {
    let clock = inner.raw.clock().clone();
    let cfg = inner.stream.clone();
    let mut failures: u32 = 0;
    loop {
        if failures > 0 {
            let delay = backoff(&cfg, failures);
            tracing::debug!(?delay, failures, "user-data stream backing off");
            tokio::select! {
                _ = clock.sleep(delay) => {}
                _ = &mut stop => return,
            }
        }
        match session(&inner, &tx, &mut stop).await {
            SessionEnd::Stopped => return,
            SessionEnd::Fatal(error) => {
                tracing::error!(%error, "user-data stream stopped");
                let _ = tx
                    .send(AccountEvent::Failed(StreamFailed {
                        at: clock.now_ms(),
                        error,
                    }))
                    .await;
                return;
            }
            SessionEnd::Reconnect { reason, lasted_ms } => {
                tracing::info!(%reason, "user-data stream reconnecting");
                let healthy_ms = i64::try_from(cfg.healthy_after.as_millis()).unwrap_or(i64::MAX);
                failures = if lasted_ms >= healthy_ms {
                    0
                } else {
                    failures.saturating_add(1)
                };
                let event = AccountEvent::Disconnected(Disconnected {
                    at: clock.now_ms(),
                    reason,
                });
                if tx.send(event).await.is_err() {
                    return;
                }
            }
        }
    }
}

fn backoff(cfg: &StreamConfig, failures: u32) -> Duration {
    let factor = 1u32
        .checked_shl(failures.saturating_sub(1).min(16))
        .unwrap_or(u32::MAX);
    cfg.backoff_initial
        .checked_mul(factor)
        .unwrap_or(cfg.backoff_max)
        .min(cfg.backoff_max)
}

fn failed(reason: &str, e: ExchangeError, lasted_ms: i64) -> SessionEnd {
    if e.class() == ErrorClass::Fatal {
        SessionEnd::Fatal(e)
    } else {
        SessionEnd::Reconnect {
            reason: format!("{reason}: {e}"),
            lasted_ms,
        }
    }
}

async fn session(
    inner: &Inner,
    tx: &mpsc::Sender<AccountEvent>,
    stop: &mut oneshot::Receiver<()>,
) -> SessionEnd {
    let clock = inner.raw.clock().clone();
    let cfg = &inner.stream;
    let started = clock.now_ms();
    let key = match inner
        .raw
        .send(&Call::new(
            Method::POST,
            "/fapi/v1/listenKey",
            Security::ApiKey,
            1,
        ))
        .await
        .and_then(|b| super::parse::decode::<ListenKey>("POST /fapi/v1/listenKey", &b))
    {
        Ok(k) => k.listen_key,
        Err(e) => return failed("cannot create a listen key", e, 0),
    };
    let url = inner.endpoints.private_stream_url(&key);
    let connect = tokio::time::timeout(
        cfg.connect_timeout,
        tokio_tungstenite::connect_async_with_config(url.as_str(), Some(socket_config()), false),
    )
    .await;
    let mut socket = match connect {
        Ok(Ok((s, _))) => s,
        Ok(Err(e)) => {
            return SessionEnd::Reconnect {
                reason: format!("cannot open the stream socket: {e}"),
                lasted_ms: 0,
            }
        }
        Err(_) => {
            return SessionEnd::Reconnect {
                reason: "opening the stream socket timed out".into(),
                lasted_ms: 0,
            }
        }
    };
    tracing::debug!("user-data socket open; taking a snapshot");
    // The socket is open before the snapshot, so anything that happens while it is taken
    // is waiting in the socket: snapshot + following events cover everything.
    let snapshot = match inner.snapshot().await {
        Ok(s) => s,
        Err(e) => return failed("cannot take the resync snapshot", e, 0),
    };
    let resynced = AccountEvent::Resynced(Resynced {
        at: clock.now_ms(),
        snapshot,
    });
    if tx.send(resynced).await.is_err() {
        return SessionEnd::Stopped;
    }
    let lasted = |clock: &Arc<dyn crate::exchange::Clock>| clock.now_ms() - started;
    let mut keepalive = clock.sleep(cfg.keepalive_every);
    let mut max_age = clock.sleep(cfg.max_connection_age);
    loop {
        tokio::select! {
            _ = &mut *stop => {
                let _ = socket.close(None).await;
                return SessionEnd::Stopped;
            }
            _ = &mut max_age => {
                let _ = socket.close(None).await;
                return SessionEnd::Reconnect {
                    reason: "connection reached its maximum age".into(),
                    lasted_ms: lasted(&clock),
                };
            }
            _ = &mut keepalive => {
                keepalive = clock.sleep(cfg.keepalive_every);
                let call = Call::new(Method::PUT, "/fapi/v1/listenKey", Security::ApiKey, 1);
                match inner.raw.send(&call).await {
                    Ok(_) => tracing::debug!("listen key kept alive"),
                    Err(ExchangeError::Rejected { code: -1125, .. }) => {
                        let _ = socket.close(None).await;
                        return SessionEnd::Reconnect {
                            reason: "listen key no longer exists".into(),
                            lasted_ms: lasted(&clock),
                        };
                    }
                    Err(e) if e.class() == ErrorClass::Fatal => return SessionEnd::Fatal(e),
                    // The key lives 60 minutes; the next keepalive still has time.
                    Err(e) => tracing::warn!(error = %e, "listen key keepalive failed"),
                }
            }
            msg = socket.next() => {
                match msg {
                    Some(Ok(Message::Text(text))) => {
                        match map::ws_message(text.as_str(), clock.now_ms()) {
                            Ok(WsMessage::Event(event)) => {
                                if tx.send(event).await.is_err() {
                                    return SessionEnd::Stopped;
                                }
                            }
                            Ok(WsMessage::ListenKeyExpired) => {
                                let _ = socket.close(None).await;
                                return SessionEnd::Reconnect {
                                    reason: "listen key expired".into(),
                                    lasted_ms: lasted(&clock),
                                };
                            }
                            Ok(WsMessage::Ignored(kind)) => {
                                tracing::trace!(%kind, "user-data message ignored");
                            }
                            Err(e) => {
                                // An event we cannot read may have changed the account: a
                                // reconnect brings a snapshot that covers it.
                                tracing::warn!(error = %e, "unreadable user-data message; resynchronising");
                                let _ = socket.close(None).await;
                                return SessionEnd::Reconnect {
                                    reason: format!("unreadable event: {e}"),
                                    lasted_ms: lasted(&clock),
                                };
                            }
                        }
                    }
                    Some(Ok(Message::Ping(payload))) => {
                        // tungstenite queues the pong itself; flushing sends it now.
                        tracing::trace!(len = payload.len(), "ping");
                        let _ = socket.flush().await;
                    }
                    Some(Ok(Message::Close(_))) | None => {
                        return SessionEnd::Reconnect {
                            reason: "the venue closed the stream".into(),
                            lasted_ms: lasted(&clock),
                        };
                    }
                    Some(Ok(_)) => {}
                    Some(Err(e)) => {
                        return SessionEnd::Reconnect {
                            reason: format!("stream error: {e}"),
                            lasted_ms: lasted(&clock),
                        };
                    }
                }
            }
        }
    }
}

/// Read buffer of each socket: the library's default (128 KiB, allocated at once for every
/// socket) would cost an idle engine 128 KiB per stream — one user-data stream per copy and
/// leader account, one market stream per follower account. Messages on these streams are a
/// few KiB at most; a larger one is still read whole, in several reads.
const READ_BUFFER: usize = 8 * 1024;

/// The configuration every stream socket of this adapter opens with.
pub(super) fn socket_config() -> tokio_tungstenite::tungstenite::protocol::WebSocketConfig {
    tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER)
}
