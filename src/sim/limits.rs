//! Rate limits: request weight per minute per client address (reported in
//! `X-MBX-USED-WEIGHT-1M`), order counts per account per 10 s and per minute, `429`
//! with `-1003` past the limit, and a `418` ban after repeated violations. Windows follow
//! simulator time, so advancing the clock resets them.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

use axum::http::StatusCode;

use super::clock::Millis;
use super::error::WireError;

#[derive(Debug, Clone)]
pub struct LimitConfig {
    /// When false nothing is refused (weights are still counted and reported).
    pub enabled: bool,
    pub weight_per_minute: u32,
    pub orders_per_10s: u32,
    pub orders_per_minute: u32,
    /// 429s within one minute window before the address is banned.
    pub violations_before_ban: u32,
    pub ban_ms: Millis,
}

impl Default for LimitConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            weight_per_minute: 2400,
            orders_per_10s: 300,
            orders_per_minute: 1200,
            violations_before_ban: 3,
            ban_ms: 120_000,
        }
    }
}

#[derive(Debug, Default)]
struct IpState {
    minute: Millis,
    weight: u32,
    violations: u32,
    banned_until: Millis,
}

#[derive(Debug, Default)]
struct OrderState {
    ten_s: Millis,
    count_10s: u32,
    minute: Millis,
    count_1m: u32,
}

#[derive(Debug)]
pub struct Limiter {
    pub config: LimitConfig,
    ips: Mutex<HashMap<IpAddr, IpState>>,
    orders: Mutex<HashMap<String, OrderState>>,
    requests: Mutex<std::collections::BTreeMap<RequestKey, RequestCount>>,
}

/// What the request counter groups by: method, path and the account that signed it
/// (empty for public calls).
pub type RequestKey = (String, String, String);

/// How often one key was called and the weight it was charged.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RequestCount {
    pub count: u64,
    pub weight: u64,
}

/// A refused request: the error, the weight used this minute and how long to wait.
#[derive(Debug, Clone)]
pub struct Refusal {
    pub error: WireError,
    pub used: u32,
    pub retry_after_s: i64,
}

/// Order counts after an order, for the `X-MBX-ORDER-COUNT-*` headers.
#[derive(Debug, Clone, Copy)]
pub struct OrderCounts {
    pub ten_s: u32,
    pub one_m: u32,
}

impl Limiter {
    pub fn new(config: LimitConfig) -> Self {
        Self {
            config,
            ips: Mutex::new(HashMap::new()),
            orders: Mutex::new(HashMap::new()),
            requests: Mutex::new(std::collections::BTreeMap::new()),
        }
    }

    /// Counts one REST request that passed the weight check (tests count what a client
    /// asks of the venue, per path and account).
    pub fn count_request(&self, method: &str, path: &str, account: Option<&str>, weight: u32) {
        let mut r = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        let c = r
            .entry((
                method.to_owned(),
                path.to_owned(),
                account.unwrap_or("").to_owned(),
            ))
            .or_default();
        c.count += 1;
        c.weight += u64::from(weight);
    }

    /// Every counted request so far; `reset` starts the count again.
    pub fn requests(&self, reset: bool) -> Vec<(RequestKey, RequestCount)> {
        let mut r = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        let out = r.iter().map(|(k, v)| (k.clone(), *v)).collect();
        if reset {
            r.clear();
        }
        out
    }

    /// Adds `weight` for `ip` and returns the minute's total, or the rejection.
    pub fn charge(&self, ip: IpAddr, weight: u32, now: Millis) -> Result<u32, Refusal> {
        let mut ips = self.ips.lock().unwrap_or_else(|e| e.into_inner());
        let st = ips.entry(ip).or_default();
        let minute = now / 60_000;
        if st.minute != minute {
            st.minute = minute;
            st.weight = 0;
            st.violations = 0;
        }
        let ban_refusal = |st: &IpState| Refusal {
            error: banned(ip, st.banned_until),
            used: st.weight,
            retry_after_s: (st.banned_until - now + 999) / 1000,
        };
        if self.config.enabled && st.banned_until > now {
            return Err(ban_refusal(st));
        }
        st.weight = st.weight.saturating_add(weight);
        if self.config.enabled && st.weight > self.config.weight_per_minute {
            st.violations += 1;
            if st.violations > self.config.violations_before_ban {
                st.banned_until = now + self.config.ban_ms;
                return Err(ban_refusal(st));
            }
            let e = WireError::new(
                StatusCode::TOO_MANY_REQUESTS,
                -1003,
                format!(
                    "Too many requests; current limit is {} requests per minute. Please use the websocket for live updates to avoid polling the API.",
                    self.config.weight_per_minute
                ),
            );
            return Err(Refusal {
                error: e,
                used: st.weight,
                retry_after_s: (60_000 - now.rem_euclid(60_000) + 999) / 1000,
            });
        }
        Ok(st.weight)
    }

    /// Counts one new order for `account`.
    pub fn count_order(&self, account: &str, now: Millis) -> Result<OrderCounts, WireError> {
        let mut orders = self.orders.lock().unwrap_or_else(|e| e.into_inner());
        let st = orders.entry(account.to_owned()).or_default();
        if st.ten_s != now / 10_000 {
            st.ten_s = now / 10_000;
            st.count_10s = 0;
        }
        if st.minute != now / 60_000 {
            st.minute = now / 60_000;
            st.count_1m = 0;
        }
        st.count_10s += 1;
        st.count_1m += 1;
        if self.config.enabled {
            if st.count_10s > self.config.orders_per_10s {
                return Err(too_many_orders(self.config.orders_per_10s, "10 seconds"));
            }
            if st.count_1m > self.config.orders_per_minute {
                return Err(too_many_orders(self.config.orders_per_minute, "1 minute"));
            }
        }
        Ok(OrderCounts {
            ten_s: st.count_10s,
            one_m: st.count_1m,
        })
    }
}

fn banned(ip: IpAddr, until: Millis) -> WireError {
    WireError::new(
        StatusCode::IM_A_TEAPOT,
        -1003,
        format!("Way too many requests; IP({ip}) banned until {until}. Please use the websocket for live updates to avoid bans."),
    )
}

fn too_many_orders(limit: u32, per: &str) -> WireError {
    WireError::new(
        StatusCode::TOO_MANY_REQUESTS,
        -1015,
        format!("Too many new orders; current limit is {limit} orders per {per}."),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    #[test]
    fn weight_limit_then_ban() {
        let l = Limiter::new(LimitConfig {
            weight_per_minute: 10,
            violations_before_ban: 2,
            ..LimitConfig::default()
        });
        let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
        assert_eq!(
            l.charge(ip, 10, 0).ok(),
            Some(10),
            "up to the limit is fine"
        );
        let statuses: Vec<u16> = (0..3)
            .map(|_| {
                l.charge(ip, 1, 0)
                    .err()
                    .map_or(200, |e| e.error.status.as_u16())
            })
            .collect();
        assert_eq!(statuses, vec![429, 429, 418], "two 429s, then a ban");
        assert_eq!(
            l.charge(ip, 1, 60_000)
                .err()
                .map(|e| e.error.status.as_u16()),
            Some(418),
            "the ban outlives the minute window"
        );
        assert!(
            l.charge(ip, 1, 200_000).is_ok(),
            "ban lifts after two minutes"
        );
    }
}
