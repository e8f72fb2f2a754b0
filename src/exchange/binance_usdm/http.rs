//! The raw REST client: builds, signs and sends one request in Binance's shapes, and turns
//! the answer into bytes or a classified error. It owns the server-time offset (resynced
//! when stale and on `-1021`, after which the request is re-signed and sent once more),
//! books weight on the shared limiter before sending, reads the venue's weight header
//! after, and honours `429`/`418`. It never logs query strings, bodies or signatures.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use url::Url;

use crate::exchange::clock::Clock;
use crate::exchange::credentials::Credentials;
use crate::exchange::error::ExchangeError;
use crate::exchange::types::Millis;

use super::limiter::WeightLimiter;
use super::parse::{self, CodeMsg, ServerTime};
use super::sign::Signer;

/// Tunables of the REST client.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Sent with every signed request.
    pub recv_window_ms: u64,
    /// Deadline for each call, connection included.
    pub timeout: Duration,
    /// The server-time offset is refreshed when older than this.
    pub time_resync_every: Duration,
    /// The account's order limits per 10 seconds and per minute (the venue's defaults;
    /// orders are paced below them).
    pub orders_per_10s: u32,
    pub orders_per_minute: u32,
    /// Book weight at low priority (`WeightLimiter::acquire_background`): for reads that
    /// must never make a copy wait, such as a leader's trade history.
    pub background: bool,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            recv_window_ms: 5_000,
            timeout: Duration::from_secs(10),
            time_resync_every: Duration::from_secs(600),
            orders_per_10s: 300,
            orders_per_minute: 1200,
            background: false,
        }
    }
}

/// How a request authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// No key.
    Public,
    /// Key header only (listen-key endpoints).
    ApiKey,
    /// Key header plus `timestamp`, `recvWindow` and `signature`.
    Signed,
}

/// One request to send.
#[derive(Debug, Clone)]
pub struct Call {
    pub method: Method,
    pub path: &'static str,
    pub params: Vec<(&'static str, String)>,
    pub security: Security,
    pub weight: u32,
    /// Another base URL (the wallet API); `None` for the futures REST base.
    pub base: Option<Url>,
    /// Counts against the account's order limits.
    pub places_order: bool,
    /// Books its weight at low priority (`WeightLimiter::acquire_background`).
    pub background: bool,
}

impl Call {
    pub fn new(method: Method, path: &'static str, security: Security, weight: u32) -> Self {
        Self {
            method,
            path,
            params: Vec::new(),
            security,
            weight,
            base: None,
            places_order: false,
            background: false,
        }
    }

    /// Marks a read that may wait for the copies' requests (reconciliation).
    pub fn in_background(mut self, yes: bool) -> Self {
        self.background = yes;
        self
    }

    /// Marks a call that places an order.
    pub fn placing_order(mut self) -> Self {
        self.places_order = true;
        self
    }

    pub fn param(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.params.push((name, value.into()));
        self
    }

    pub fn opt_param(self, name: &'static str, value: Option<impl Into<String>>) -> Self {
        match value {
            Some(v) => self.param(name, v),
            None => self,
        }
    }

    pub fn on(mut self, base: Url) -> Self {
        self.base = Some(base);
        self
    }

    /// `METHOD /path` for error messages.
    pub fn label(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

/// The REST client of one account.
pub struct RawClient {
    http: reqwest::Client,
    base: Url,
    credentials: Option<Credentials>,
    signer: Option<Signer>,
    limiter: Arc<WeightLimiter>,
    /// Order limits are per account, so these are not shared.
    orders_10s: WeightLimiter,
    orders_1m: WeightLimiter,
    clock: Arc<dyn Clock>,
    offset_ms: AtomicI64,
    synced_at: AtomicI64,
    config: HttpConfig,
}

impl std::fmt::Debug for RawClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawClient")
            .field("base", &self.base.as_str())
            .field("credentials", &self.credentials)
            .field("offset_ms", &self.offset_ms.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

const NEVER: Millis = i64::MIN;

/// The venue's code for an account over its order-count limit.
const TOO_MANY_ORDERS: i64 = -1015;

impl RawClient {
    /// A client for `base`. `http` should be the process's shared client so connections
    /// are reused.
    pub fn new(
        http: reqwest::Client,
        base: Url,
        credentials: Option<Credentials>,
        limiter: Arc<WeightLimiter>,
        clock: Arc<dyn Clock>,
        config: HttpConfig,
    ) -> Result<Self, ExchangeError> {
        let signer = credentials
            .as_ref()
            .map(Signer::from_credentials)
            .transpose()?;
        Ok(Self {
            http,
            base,
            credentials,
            signer,
            limiter,
            orders_10s: WeightLimiter::with_window(
                config.orders_per_10s,
                Duration::from_secs(10),
                clock.clone(),
            ),
            orders_1m: WeightLimiter::new(config.orders_per_minute, clock.clone()),
            clock,
            offset_ms: AtomicI64::new(0),
            synced_at: AtomicI64::new(NEVER),
            config,
        })
    }

    /// The weight limiter this client books on (shared with other accounts).
    pub fn limiter(&self) -> &Arc<WeightLimiter> {
        &self.limiter
    }

    /// Adopts the account's order limits the venue publishes (per 10 seconds, per minute).
    pub fn set_order_limits(&self, per_10s: Option<u32>, per_minute: Option<u32>) {
        if let Some(l) = per_10s {
            self.orders_10s.set_limit(l);
        }
        if let Some(l) = per_minute {
            self.orders_1m.set_limit(l);
        }
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// Current offset of the venue's clock from ours, in ms.
    pub fn time_offset_ms(&self) -> i64 {
        self.offset_ms.load(Ordering::Relaxed)
    }

    /// Measures the venue's clock against ours (half the round trip is assumed each way).
    pub async fn sync_time(&self) -> Result<(), ExchangeError> {
        let t0 = self.clock.now_ms();
        let body = self
            .send_once(&Call::new(
                Method::GET,
                "/fapi/v1/time",
                Security::Public,
                1,
            ))
            .await?;
        let t1 = self.clock.now_ms();
        let st: ServerTime = parse::decode("GET /fapi/v1/time", &body)?;
        let offset = st.server_time - (t0 + (t1 - t0) / 2);
        self.offset_ms.store(offset, Ordering::Relaxed);
        self.synced_at.store(t1, Ordering::Relaxed);
        tracing::debug!(offset_ms = offset, "server time synced");
        Ok(())
    }

    /// Sends `call` and returns the body of a successful answer. Signed requests are sent
    /// once more after a time resync if the venue says the timestamp was off (`-1021`).
    pub async fn send(&self, call: &Call) -> Result<Vec<u8>, ExchangeError> {
        if call.security == Security::Signed {
            let synced = self.synced_at.load(Ordering::Relaxed);
            let every =
                i64::try_from(self.config.time_resync_every.as_millis()).unwrap_or(i64::MAX);
            if synced == NEVER || self.clock.now_ms().saturating_sub(synced) > every {
                self.sync_time().await?;
            }
        }
        match self.send_once(call).await {
            Err(ExchangeError::ClockSkew { code, .. }) if call.security == Security::Signed => {
                tracing::info!(
                    code,
                    "timestamp outside the venue's window; resyncing and retrying once"
                );
                self.sync_time().await?;
                self.send_once(call).await
            }
            other => other,
        }
    }

    async fn send_once(&self, call: &Call) -> Result<Vec<u8>, ExchangeError> {
        if call.places_order {
            self.orders_10s.acquire(1).await?;
            self.orders_1m.acquire(1).await?;
        }
        if self.config.background || call.background {
            self.limiter.acquire_background(call.weight).await?;
        } else {
            self.limiter.acquire(call.weight).await?;
        }
        let mut url = call.base.clone().unwrap_or_else(|| self.base.clone());
        url.set_path(call.path);
        let mut encoded = {
            let mut ser = url::form_urlencoded::Serializer::new(String::new());
            for (k, v) in &call.params {
                ser.append_pair(k, v);
            }
            if call.security == Security::Signed {
                ser.append_pair("recvWindow", &self.config.recv_window_ms.to_string());
                let ts = self.clock.now_ms() + self.offset_ms.load(Ordering::Relaxed);
                ser.append_pair("timestamp", &ts.to_string());
            }
            ser.finish()
        };
        if call.security == Security::Signed {
            let signer = self.signer.as_ref().ok_or_else(|| ExchangeError::Invalid {
                field: "credentials",
                reason: format!("{} needs an API key", call.label()),
            })?;
            // The signature covers exactly the bytes sent: here everything travels in one
            // place (query for GET/DELETE, body otherwise), so payload = that string.
            let sig = signer.sign(encoded.as_bytes());
            if !encoded.is_empty() {
                encoded.push('&');
            }
            encoded.push_str("signature=");
            encoded.push_str(&sig);
        }
        let in_body = call.method == Method::POST || call.method == Method::PUT;
        if !in_body && !encoded.is_empty() {
            url.set_query(Some(&encoded));
        }
        let mut req = self
            .http
            .request(call.method.clone(), url)
            .timeout(self.config.timeout);
        if call.security != Security::Public {
            let creds = self
                .credentials
                .as_ref()
                .ok_or_else(|| ExchangeError::Invalid {
                    field: "credentials",
                    reason: format!("{} needs an API key", call.label()),
                })?;
            req = req.header("X-MBX-APIKEY", creds.api_key());
        }
        if in_body {
            req = req
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(encoded);
        }
        tracing::debug!(call = %call.label(), weight = call.weight, "sending request");
        let resp = req.send().await.map_err(|e| self.transport_error(e))?;
        let status = resp.status();
        let headers = resp.headers().clone();
        if let Some(used) = header_u32(&headers, "x-mbx-used-weight-1m") {
            self.limiter.observe_used(used);
        }
        if let Some(count) = header_u32(&headers, "x-mbx-order-count-10s") {
            self.orders_10s.observe_used(count);
        }
        if let Some(count) = header_u32(&headers, "x-mbx-order-count-1m") {
            self.orders_1m.observe_used(count);
        }
        let body = resp
            .bytes()
            .await
            .map_err(|e| self.transport_error(e))?
            .to_vec();
        tracing::trace!(call = %call.label(), status = status.as_u16(), "answer received");
        self.classify(call, status, &headers, body)
    }

    fn transport_error(&self, e: reqwest::Error) -> ExchangeError {
        // `without_url` drops the URL, whose query carries the signature.
        let e = e.without_url();
        if e.is_timeout() {
            ExchangeError::Timeout {
                after: self.config.timeout,
            }
        } else {
            ExchangeError::Network {
                detail: e.to_string(),
            }
        }
    }

    fn classify(
        &self,
        call: &Call,
        status: StatusCode,
        headers: &HeaderMap,
        body: Vec<u8>,
    ) -> Result<Vec<u8>, ExchangeError> {
        let retry_after = header_u32(headers, "retry-after").map(|s| Duration::from_secs(s.into()));
        let code_msg: Option<CodeMsg> = serde_json::from_slice(&body).ok();
        if status == StatusCode::TOO_MANY_REQUESTS {
            let code = code_msg.map(|c| c.code);
            if code == Some(TOO_MANY_ORDERS) {
                // The order count is this account's alone: hold its orders, not every
                // account's requests on the shared IP budget.
                self.orders_10s.pause(retry_after);
            } else {
                self.limiter.pause(retry_after);
            }
            return Err(ExchangeError::RateLimited { code, retry_after });
        }
        if status.as_u16() == 418 {
            let d = self.limiter.ban(retry_after);
            tracing::warn!(?d, "IP banned by the venue; no requests until it lifts");
            return Err(ExchangeError::Banned { retry_after: d });
        }
        if status.is_success() {
            // Some successes reuse the error shape with code 200; a negative code in a 200
            // answer is still an error.
            if let Some(c) = code_msg.filter(|c| c.code < 0) {
                return Err(classify_code(status, c));
            }
            return Ok(body);
        }
        match code_msg {
            Some(c) => Err(classify_code(status, c)),
            None => {
                let message = format!(
                    "{} answered HTTP {} without an error body",
                    call.label(),
                    status.as_u16()
                );
                if status.is_server_error() || status.as_u16() == 408 {
                    Err(ExchangeError::Unavailable {
                        status: status.as_u16(),
                        code: None,
                        message,
                        outcome_unknown: status.as_u16() == 503 || status.as_u16() == 408,
                    })
                } else if status == StatusCode::UNAUTHORIZED {
                    Err(ExchangeError::KeyRejected { code: 0, message })
                } else {
                    Err(ExchangeError::UnexpectedStatus {
                        status: status.as_u16(),
                        message,
                    })
                }
            }
        }
    }
}

/// Classifies a venue error by its code (the status only breaks ties).
pub fn classify_code(status: StatusCode, c: CodeMsg) -> ExchangeError {
    let CodeMsg { code, msg } = c;
    match code {
        -1021 | -5028 => ExchangeError::ClockSkew { code, message: msg },
        -1022 | -2014 => ExchangeError::BadKey { code, message: msg },
        -2015 => ExchangeError::KeyRejected { code, message: msg },
        -1003 => ExchangeError::RateLimited {
            code: Some(code),
            retry_after: None,
        },
        -1000 | -1001 | -1006 | -1007 | -1008 => ExchangeError::Unavailable {
            status: status.as_u16(),
            code: Some(code),
            // -1006/-1007: the venue timed out or sent an unexpected answer, so the
            // request may have been executed.
            outcome_unknown: matches!(code, -1006 | -1007),
            message: msg,
        },
        _ if status.is_server_error() => ExchangeError::Unavailable {
            status: status.as_u16(),
            code: Some(code),
            outcome_unknown: msg.starts_with("Unknown error"),
            message: msg,
        },
        _ => ExchangeError::Rejected { code, message: msg },
    }
}

fn header_u32(headers: &HeaderMap, name: &str) -> Option<u32> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}
