//! Test client for the simulator: starts it on port 0, creates accounts through the admin
//! API, and signs requests the way Binance clients do (HMAC over the exact bytes sent).

use std::time::{SystemTime, UNIX_EPOCH};

use copydesk::sim::{SimConfig, SimHandle, Simulator};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

pub struct Sim {
    pub handle: SimHandle,
    pub http: reqwest::Client,
}

pub async fn start() -> Sim {
    start_with(SimConfig::default()).await
}

pub async fn start_with(config: SimConfig) -> Sim {
    let handle = Simulator::start(config)
        .await
        .expect("simulator starts on loopback");
    Sim {
        handle,
        http: reqwest::Client::new(),
    }
}

pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after epoch")
        .as_millis() as i64
}

pub fn hmac_hex(secret: &str, payload: &str) -> String {
    copydesk::sim::auth::sign(secret, payload)
}

/// A response: status, the weight header and the JSON body.
#[derive(Debug)]
pub struct Resp {
    pub status: StatusCode,
    pub weight: Option<u32>,
    pub retry_after: Option<i64>,
    pub body: Value,
}

impl Resp {
    /// Asserts a Binance rejection: code, HTTP status and the message shape.
    pub fn assert_error(&self, code: i64, status: u16, what: &str) {
        assert_eq!(
            self.status.as_u16(),
            status,
            "{what}: HTTP status (body {})",
            self.body
        );
        assert_eq!(
            self.body["code"],
            json!(code),
            "{what}: Binance code (body {})",
            self.body
        );
        assert!(
            self.body["msg"].as_str().is_some_and(|m| !m.is_empty()),
            "{what}: msg present"
        );
        assert_eq!(
            self.body.as_object().map(|o| o.len()),
            Some(2),
            "{what}: only code and msg"
        );
    }

    pub fn ok(self, what: &str) -> Value {
        assert_eq!(
            self.status,
            StatusCode::OK,
            "{what} should succeed, got {}",
            self.body
        );
        self.body
    }
}

async fn into_resp(r: reqwest::Response) -> Resp {
    let status = r.status();
    let weight = r
        .headers()
        .get("x-mbx-used-weight-1m")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let retry_after = r
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let text = r.text().await.expect("body readable");
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Resp {
        status,
        weight,
        retry_after,
        body,
    }
}

impl Sim {
    pub fn base(&self) -> String {
        self.handle.base_url()
    }

    pub async fn admin(&self, method: Method, path: &str, body: Option<Value>) -> Resp {
        let mut req = self.http.request(method, format!("{}{path}", self.base()));
        if let Some(t) = self.handle.admin_token() {
            req = req.header("X-Admin-Token", t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        into_resp(req.send().await.expect("admin request sent")).await
    }

    /// Creates an account with `balances` and returns a signed client for it.
    pub async fn account(&self, body: Value) -> Client {
        let v = self
            .admin(Method::POST, "/admin/v1/accounts", Some(body))
            .await
            .ok("create account");
        Client {
            base: self.base(),
            http: self.http.clone(),
            account_id: v["accountId"].as_str().expect("accountId").to_owned(),
            key: v["apiKey"].as_str().expect("apiKey").to_owned(),
            secret: v["secretKey"].as_str().expect("secretKey").to_owned(),
        }
    }

    pub async fn usdt(&self, amount: &str) -> Client {
        self.account(json!({"balances": {"USDT": amount}})).await
    }

    /// A lead portfolio holding `amount` USDT, listed on the copy-trading pages, whose
    /// request budget is lifted (`perMinute` 0) so that polls never wait for it.
    pub async fn lead_portfolio(&self, amount: &str) -> Client {
        self.admin(
            Method::POST,
            "/admin/v1/portfolio",
            Some(json!({"perMinute": 0})),
        )
        .await
        .ok("no pages budget");
        self.account(json!({"balances": {"USDT": amount}, "leadPortfolio": true}))
            .await
    }

    pub async fn hedge(&self, amount: &str) -> Client {
        self.account(json!({"balances": {"USDT": amount}, "positionMode": "hedge"}))
            .await
    }

    pub async fn price(&self, symbol: &str, price: &str) {
        self.admin(
            Method::POST,
            "/admin/v1/prices",
            Some(json!({"symbol": symbol, "price": price})),
        )
        .await
        .ok("set price");
    }

    pub async fn advance(&self, ms: i64) {
        self.admin(
            Method::POST,
            "/admin/v1/clock",
            Some(json!({"advanceMs": ms})),
        )
        .await
        .ok("advance clock");
    }

    pub async fn public(&self, path: &str, query: &str) -> Resp {
        let url = if query.is_empty() {
            format!("{}{path}", self.base())
        } else {
            format!("{}{path}?{query}", self.base())
        };
        into_resp(
            self.http
                .get(url)
                .send()
                .await
                .expect("public request sent"),
        )
        .await
    }

    pub async fn admin_account(&self, id: &str) -> Value {
        self.admin(Method::GET, &format!("/admin/v1/accounts/{id}"), None)
            .await
            .ok("admin account view")
    }
}

#[derive(Clone)]
pub struct Client {
    pub base: String,
    pub http: reqwest::Client,
    pub account_id: String,
    pub key: String,
    pub secret: String,
}

pub fn encode(params: &[(&str, &str)]) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        s.append_pair(k, v);
    }
    s.finish()
}

impl Client {
    /// Sends a signed request: GET/DELETE in the query, POST/PUT in a form body.
    pub async fn signed(&self, method: Method, path: &str, params: &[(&str, &str)]) -> Resp {
        let ts = now_ms().to_string();
        let mut all: Vec<(&str, &str)> = params.to_vec();
        all.push(("timestamp", &ts));
        let payload = encode(&all);
        let sig = hmac_hex(&self.secret, &payload);
        let signed = format!("{payload}&signature={sig}");
        self.raw(method, path, &signed).await
    }

    /// Sends an already-built parameter string as it is.
    pub async fn raw(&self, method: Method, path: &str, params: &str) -> Resp {
        let in_body = method == Method::POST || method == Method::PUT;
        let url = if in_body || params.is_empty() {
            format!("{}{path}", self.base)
        } else {
            format!("{}{path}?{params}", self.base)
        };
        let mut req = self
            .http
            .request(method, url)
            .header("X-MBX-APIKEY", &self.key);
        if in_body {
            req = req
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(params.to_owned());
        }
        into_resp(req.send().await.expect("request sent")).await
    }

    pub async fn get(&self, path: &str, params: &[(&str, &str)]) -> Resp {
        self.signed(Method::GET, path, params).await
    }

    pub async fn post(&self, path: &str, params: &[(&str, &str)]) -> Resp {
        self.signed(Method::POST, path, params).await
    }

    pub async fn delete(&self, path: &str, params: &[(&str, &str)]) -> Resp {
        self.signed(Method::DELETE, path, params).await
    }

    pub async fn market(&self, symbol: &str, side: &str, qty: &str) -> Resp {
        self.post(
            "/fapi/v1/order",
            &[
                ("symbol", symbol),
                ("side", side),
                ("type", "MARKET"),
                ("quantity", qty),
                ("newOrderRespType", "RESULT"),
            ],
        )
        .await
    }

    pub async fn limit(&self, symbol: &str, side: &str, qty: &str, price: &str, tif: &str) -> Resp {
        self.post(
            "/fapi/v1/order",
            &[
                ("symbol", symbol),
                ("side", side),
                ("type", "LIMIT"),
                ("quantity", qty),
                ("price", price),
                ("timeInForce", tif),
                ("newOrderRespType", "RESULT"),
            ],
        )
        .await
    }

    pub async fn listen_key(&self) -> String {
        let r = self
            .http
            .post(format!("{}/fapi/v1/listenKey", self.base))
            .header("X-MBX-APIKEY", &self.key)
            .send()
            .await
            .expect("listenKey request");
        let v = into_resp(r).await.ok("create listenKey");
        v["listenKey"].as_str().expect("listenKey field").to_owned()
    }

    pub async fn position(&self, symbol: &str) -> Value {
        let rows = self
            .get("/fapi/v3/positionRisk", &[("symbol", symbol)])
            .await
            .ok("positionRisk");
        rows.as_array()
            .and_then(|r| r.first())
            .cloned()
            .unwrap_or(Value::Null)
    }

    pub async fn usdt_balance(&self) -> Value {
        let rows = self.get("/fapi/v3/balance", &[]).await.ok("balance");
        rows.as_array()
            .and_then(|r| r.iter().find(|b| b["asset"] == "USDT"))
            .cloned()
            .expect("USDT balance row")
    }
}

/// A string field parsed as a decimal.
pub fn dec(v: &Value) -> rust_decimal::Decimal {
    v.as_str()
        .unwrap_or_else(|| panic!("expected a decimal string, got {v}"))
        .parse()
        .unwrap_or_else(|_| panic!("not a decimal: {v}"))
}
