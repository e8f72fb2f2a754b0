//! Injected faults for resilience tests: drop or stall user-data sockets, add latency to
//! every REST answer, delay order acknowledgements, reject the next N requests (all, or
//! those of one path and method) with a chosen code and status, stall market-data sockets,
//! and shift the server clock requests are checked against.

use std::sync::Mutex;

use axum::http::StatusCode;
use serde::Deserialize;
use tokio::sync::watch;

use super::error::WireError;

/// Body of `POST /admin/v1/faults`. Absent fields leave the current setting alone.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FaultRequest {
    /// Close every user-data socket now.
    #[serde(default)]
    pub drop_user_streams: bool,
    /// Hold back user-data events (sockets stay open) until set to false.
    pub stall_user_streams: Option<bool>,
    /// Hold back events on the sockets of this one listenKey only (others keep flowing).
    pub stall_listen_key: Option<String>,
    /// Releases a key stalled with `stallListenKey`.
    pub unstall_listen_key: Option<String>,
    /// Added to every REST response.
    pub latency_ms: Option<u64>,
    /// Added to order placement and cancel responses, after the order took effect.
    pub ack_delay_ms: Option<u64>,
    pub reject_next: Option<RejectNext>,
    /// Refuse every new conditional order (`POST /fapi/v1/algoOrder`) with -2021, as the
    /// venue does for a stop the mark price already passed, until set to false.
    pub refuse_conditionals: Option<bool>,
    /// Shift of the server clock (what `/fapi/v1/time` reports and timestamps are checked
    /// against).
    pub clock_shift_ms: Option<i64>,
    /// Market-data sockets (mark price, book ticker) send nothing while true: the last
    /// mark a client received goes stale while prices move on.
    pub stall_market_streams: Option<bool>,
    /// Requests to one path wait this long after they are counted and before they are
    /// served (what they read is the state after the wait); `ms` 0 lifts it.
    pub slow_path: Option<SlowPath>,
    /// Revokes this API key: every request signed with it is refused with `-2015` until
    /// the faults are cleared (a key deleted or expired while in use).
    pub revoke_api_key: Option<String>,
    /// Clears every fault first.
    #[serde(default)]
    pub clear: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RejectNext {
    pub count: u32,
    #[serde(default = "default_code")]
    pub code: i64,
    #[serde(default = "default_status")]
    pub status: u16,
    #[serde(default)]
    pub msg: Option<String>,
    /// Only requests to this path are refused (e.g. `/fapi/v1/algoOrder`); others pass.
    #[serde(default)]
    pub path: Option<String>,
    /// Only requests of this HTTP method are refused (with `path`, e.g. `POST`).
    #[serde(default)]
    pub method: Option<String>,
    /// Only requests signed with this API key are refused (one account's orders).
    #[serde(default)]
    pub api_key: Option<String>,
    /// Seconds sent in a `Retry-After` header with each refusal (as the venue does with
    /// 429 and 418).
    #[serde(default)]
    pub retry_after_s: Option<u32>,
}

/// A delay for one REST path (`slowPath`).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SlowPath {
    pub path: String,
    pub ms: u64,
}

fn default_code() -> i64 {
    -1008
}

fn default_status() -> u16 {
    503
}

#[derive(Debug, Default, Clone)]
struct State {
    stall: bool,
    stalled_keys: std::collections::HashSet<String>,
    latency_ms: u64,
    ack_delay_ms: u64,
    reject: Option<RejectNext>,
    refuse_conditionals: bool,
    market_stall: bool,
    slow_path: Option<(String, u64)>,
    revoked: std::collections::HashSet<String>,
}

#[derive(Debug)]
pub struct Faults {
    state: Mutex<State>,
    drop_tx: watch::Sender<u64>,
}

impl Default for Faults {
    fn default() -> Self {
        Self::new()
    }
}

/// Longest injected delay, and largest clock shift, the admin API accepts.
pub const MAX_DELAY_MS: u64 = 600_000;
pub const MAX_SHIFT_MS: i64 = 86_400_000;

impl FaultRequest {
    /// Refuses settings that would make the simulator unusable rather than faulty.
    pub fn validate(&self) -> Result<(), String> {
        if self.latency_ms.is_some_and(|l| l > MAX_DELAY_MS)
            || self.slow_path.as_ref().is_some_and(|s| s.ms > MAX_DELAY_MS)
            || self.ack_delay_ms.is_some_and(|l| l > MAX_DELAY_MS)
        {
            return Err(format!(
                "latencyMs and ackDelayMs must be at most {MAX_DELAY_MS}"
            ));
        }
        if self.clock_shift_ms.is_some_and(|s| s.abs() > MAX_SHIFT_MS) {
            return Err(format!("clockShiftMs must be within ±{MAX_SHIFT_MS}"));
        }
        if let Some(r) = &self.reject_next {
            if !(400..=599).contains(&r.status) {
                return Err("rejectNext.status must be an HTTP error status (400-599)".to_owned());
            }
        }
        Ok(())
    }
}

impl Faults {
    pub fn new() -> Self {
        Self {
            state: Mutex::new(State::default()),
            drop_tx: watch::channel(0).0,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Applies a request; returns the clock shift to set, if any.
    pub fn apply(&self, req: &FaultRequest) -> Option<i64> {
        let mut st = self.lock();
        if req.clear {
            *st = State::default();
        }
        if let Some(s) = req.stall_user_streams {
            st.stall = s;
            if !s {
                st.stalled_keys.clear();
            }
        }
        if let Some(k) = &req.stall_listen_key {
            st.stalled_keys.insert(k.clone());
        }
        if let Some(k) = &req.unstall_listen_key {
            st.stalled_keys.remove(k);
        }
        if let Some(l) = req.latency_ms {
            st.latency_ms = l;
        }
        if let Some(l) = req.ack_delay_ms {
            st.ack_delay_ms = l;
        }
        if let Some(r) = &req.reject_next {
            st.reject = Some(r.clone());
        }
        if let Some(r) = req.refuse_conditionals {
            st.refuse_conditionals = r;
        }
        if let Some(m) = req.stall_market_streams {
            st.market_stall = m;
        }
        if let Some(s) = &req.slow_path {
            st.slow_path = (s.ms > 0).then(|| (s.path.clone(), s.ms));
        }
        if let Some(k) = &req.revoke_api_key {
            st.revoked.insert(k.clone());
        }
        drop(st);
        if req.drop_user_streams {
            self.drop_tx.send_modify(|g| *g += 1);
        }
        if req.clear && req.clock_shift_ms.is_none() {
            return Some(0);
        }
        req.clock_shift_ms
    }

    /// Whether sockets of `listen_key` must hold their events now.
    pub fn stalled(&self, listen_key: &str) -> bool {
        let st = self.lock();
        st.stall || st.stalled_keys.contains(listen_key)
    }

    pub fn latency_ms(&self) -> u64 {
        self.lock().latency_ms
    }

    pub fn ack_delay_ms(&self) -> u64 {
        self.lock().ack_delay_ms
    }

    /// How long a request to `path` waits before it is served.
    pub fn path_delay_ms(&self, path: &str) -> u64 {
        match &self.lock().slow_path {
            Some((p, ms)) if p == path => *ms,
            _ => 0,
        }
    }

    /// Whether an API key was revoked.
    pub fn revoked(&self, api_key: &str) -> bool {
        self.lock().revoked.contains(api_key)
    }

    /// Whether market-data sockets hold back their events now.
    pub fn market_stalled(&self) -> bool {
        self.lock().market_stall
    }

    /// Whether new conditional orders are refused now.
    pub fn refuses_conditionals(&self) -> bool {
        self.lock().refuse_conditionals
    }

    /// Takes one injected rejection for a request of `method` to `path` with `api_key`, if
    /// any are left and the rejection's filters match it, with the `Retry-After` seconds to
    /// send along.
    pub fn take_rejection(
        &self,
        method: &str,
        path: &str,
        api_key: Option<&str>,
    ) -> Option<(WireError, Option<u32>)> {
        let mut st = self.lock();
        let r = st.reject.as_mut()?;
        if r.count == 0 {
            st.reject = None;
            return None;
        }
        if r.path.as_deref().is_some_and(|p| p != path)
            || r.api_key.as_deref().is_some_and(|k| Some(k) != api_key)
            || r.method
                .as_deref()
                .is_some_and(|m| !m.eq_ignore_ascii_case(method))
        {
            return None;
        }
        r.count -= 1;
        let status = StatusCode::from_u16(r.status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        let msg = r
            .msg
            .clone()
            .unwrap_or_else(|| "Request throttled by system-level protection. Reduce-only/close-position orders are exempt. Please try again.".to_owned());
        Some((WireError::new(status, r.code, msg), r.retry_after_s))
    }

    /// Changes whenever user-data sockets must be dropped.
    pub fn drop_signal(&self) -> watch::Receiver<u64> {
        self.drop_tx.subscribe()
    }
}
