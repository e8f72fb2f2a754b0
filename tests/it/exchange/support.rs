//! Shared test helpers: fixtures, a hand-moved clock, and a loopback stand-in for the
//! venue that verifies signatures and timestamps, counts weight, answers from fixtures or
//! from scripted answers, and serves the private WebSocket under test control.

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::ws::{Message as AxMessage, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use copydesk::exchange::binance_usdm::{BinanceUsdm, Environment, Options, WeightLimiter};
use copydesk::exchange::{BoxFuture, Clock, Credentials, SystemClock};
use copydesk::secrets::Secret;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use tokio::sync::{mpsc, oneshot, watch};

/// The official USD-M example key pair from the spec.
pub const API_KEY: &str = "dbefbc809e3e83c283a984c3a1459732ea7db1360ca80c5c2c8867408d28cc83";
pub const SECRET: &str = "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9";

/// Reads `tests/fixtures/binance-usdm/<name>.json`.
pub fn fixture(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/binance-usdm")
        .join(format!("{name}.json"));
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("fixture {} should exist: {e}", path.display()))
}

// ---------------------------------------------------------------- clock

/// A clock that moves only when told to.
#[derive(Debug)]
pub struct ManualClock {
    state: Mutex<ClockState>,
    requested: watch::Sender<Vec<Duration>>,
}

#[derive(Debug)]
struct ClockState {
    now: i64,
    sleepers: Vec<(i64, oneshot::Sender<()>)>,
}

impl ManualClock {
    pub fn new(start_ms: i64) -> Arc<Self> {
        Arc::new(Self {
            state: Mutex::new(ClockState {
                now: start_ms,
                sleepers: Vec::new(),
            }),
            requested: watch::channel(Vec::new()).0,
        })
    }

    pub fn advance(&self, d: Duration) {
        let mut s = self.state.lock().expect("clock lock");
        s.now += i64::try_from(d.as_millis()).expect("small duration");
        let now = s.now;
        let (due, keep): (Vec<_>, Vec<_>) = s.sleepers.drain(..).partition(|(at, _)| *at <= now);
        s.sleepers = keep;
        drop(s);
        for (_, tx) in due {
            let _ = tx.send(());
        }
    }

    /// Every sleep asked of this clock so far, in order.
    pub fn sleeps(&self) -> Vec<Duration> {
        self.requested.borrow().clone()
    }

    /// Waits until some sleep matching `pred` has been asked for (beyond the first `skip`
    /// sleeps), and returns it.
    pub async fn wait_for_sleep(&self, skip: usize, pred: impl Fn(Duration) -> bool) -> Duration {
        let mut rx = self.requested.subscribe();
        let found = tokio::time::timeout(
            Duration::from_secs(10),
            rx.wait_for(|v| v.iter().skip(skip).any(|d| pred(*d))),
        )
        .await
        .expect("the expected sleep should be requested (hang guard)")
        .expect("clock alive");
        let d = found.iter().skip(skip).find(|d| pred(**d)).copied();
        d.expect("found above")
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        self.state.lock().expect("clock lock").now
    }

    fn sleep(&self, d: Duration) -> BoxFuture<'static, ()> {
        self.requested.send_modify(|v| v.push(d));
        let ms = i64::try_from(d.as_millis()).expect("small duration");
        let (tx, rx) = oneshot::channel();
        let mut s = self.state.lock().expect("clock lock");
        let at = s.now + ms;
        s.sleepers.push((at, tx));
        Box::pin(async move {
            let _ = rx.await;
        })
    }
}

// ---------------------------------------------------------------- venue

/// One request as the venue received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: Method,
    pub path: String,
    /// Raw, undecoded query string.
    pub query: String,
    /// Raw body.
    pub body: String,
    pub api_key: Option<String>,
    /// `None` for unsigned requests.
    pub signature_ok: Option<bool>,
    pub status: u16,
}

impl Received {
    /// Decoded parameters from query and body.
    pub fn params(&self) -> HashMap<String, String> {
        url::form_urlencoded::parse(self.query.as_bytes())
            .chain(url::form_urlencoded::parse(self.body.as_bytes()))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    }
}

/// A canned answer for the next request to a path.
#[derive(Debug, Clone)]
pub struct Scripted {
    pub status: u16,
    pub body: String,
    pub headers: Vec<(&'static str, String)>,
    /// Real time to wait before answering (for timeout tests).
    pub delay: Option<Duration>,
}

impl Scripted {
    pub fn ok(body: impl Into<String>) -> Self {
        Self {
            status: 200,
            body: body.into(),
            headers: Vec::new(),
            delay: None,
        }
    }

    pub fn error(status: u16, code: i64, msg: &str) -> Self {
        Self {
            status,
            body: serde_json::json!({"code": code, "msg": msg}).to_string(),
            headers: Vec::new(),
            delay: None,
        }
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    pub fn delayed(mut self, d: Duration) -> Self {
        self.delay = Some(d);
        self
    }
}

/// What the test sends down a user-data socket.
#[derive(Debug)]
pub enum ToClient {
    Text(String),
    Ping(Vec<u8>),
    Close,
}

/// The venue side of one user-data connection.
#[derive(Debug)]
pub struct WsConn {
    pub listen_key: String,
    pub to_client: mpsc::UnboundedSender<ToClient>,
    pub from_client: mpsc::UnboundedReceiver<AxMessage>,
}

/// Shared state of the loopback venue.
#[derive(Debug)]
pub struct VenueState {
    pub clock: Arc<dyn Clock>,
    /// Added to the venue clock for `serverTime` and the timestamp check.
    pub skew_ms: AtomicI64,
    /// Weight allowed per minute; 0 turns counting off.
    pub weight_limit: u32,
    weight: Mutex<(i64, u32)>,
    pub max_window_weight: AtomicU32,
    pub too_many: AtomicU32,
    pub requests: Mutex<Vec<Received>>,
    scripted: Mutex<HashMap<(Method, String), VecDeque<Scripted>>>,
    pub mark_price: Mutex<String>,
    listen_keys: AtomicU32,
    /// WebSocket upgrades to refuse before accepting again.
    pub refuse_ws: AtomicU32,
    ws_tx: mpsc::UnboundedSender<WsConn>,
}

/// A running loopback venue.
#[derive(Debug)]
pub struct FakeVenue {
    pub base: String,
    pub state: Arc<VenueState>,
    ws_rx: tokio::sync::Mutex<mpsc::UnboundedReceiver<WsConn>>,
}

impl FakeVenue {
    pub async fn start() -> FakeVenue {
        Self::start_with(Arc::new(SystemClock), 0).await
    }

    /// A venue on its own clock, limiting weight to `weight_limit` per minute (0: off).
    pub async fn start_with(clock: Arc<dyn Clock>, weight_limit: u32) -> FakeVenue {
        let (ws_tx, ws_rx) = mpsc::unbounded_channel();
        let state = Arc::new(VenueState {
            clock,
            skew_ms: AtomicI64::new(0),
            weight_limit,
            weight: Mutex::new((0, 0)),
            max_window_weight: AtomicU32::new(0),
            too_many: AtomicU32::new(0),
            requests: Mutex::new(Vec::new()),
            scripted: Mutex::new(HashMap::new()),
            mark_price: Mutex::new("0.5".into()),
            listen_keys: AtomicU32::new(0),
            refuse_ws: AtomicU32::new(0),
            ws_tx,
        });
        let app = Router::new()
            .route("/private/ws", get(ws_handler))
            .fallback(handler)
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr = listener.local_addr().expect("local addr");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeVenue {
            base: format!("http://{addr}"),
            state,
            ws_rx: tokio::sync::Mutex::new(ws_rx),
        }
    }

    /// Queues an answer for the next `method path`.
    pub fn script(&self, method: Method, path: &str, answer: Scripted) {
        self.state
            .scripted
            .lock()
            .expect("lock")
            .entry((method, path.to_owned()))
            .or_default()
            .push_back(answer);
    }

    pub fn requests(&self) -> Vec<Received> {
        self.state.requests.lock().expect("lock").clone()
    }

    pub fn requests_to(&self, method: &Method, path: &str) -> Vec<Received> {
        self.requests()
            .into_iter()
            .filter(|r| r.method == *method && r.path == path)
            .collect()
    }

    /// The next user-data connection the client opens.
    pub async fn next_ws(&self) -> WsConn {
        let mut rx = self.ws_rx.lock().await;
        tokio::time::timeout(Duration::from_secs(10), rx.recv())
            .await
            .expect("the client should open a user-data socket (hang guard)")
            .expect("venue alive")
    }

    /// An adapter for this venue with the example key.
    pub fn adapter(
        &self,
        clock: Arc<dyn Clock>,
        limiter: Option<Arc<WeightLimiter>>,
    ) -> BinanceUsdm {
        self.adapter_with(clock, limiter, Options::default())
    }

    pub fn adapter_with(
        &self,
        clock: Arc<dyn Clock>,
        limiter: Option<Arc<WeightLimiter>>,
        options: Options,
    ) -> BinanceUsdm {
        self.adapter_for(
            Credentials::new(API_KEY, Secret::new(SECRET.into())),
            clock,
            limiter,
            options,
        )
    }

    pub fn adapter_for(
        &self,
        credentials: Credentials,
        clock: Arc<dyn Clock>,
        limiter: Option<Arc<WeightLimiter>>,
        mut options: Options,
    ) -> BinanceUsdm {
        let env = Environment::parse(&self.base).expect("loopback URL is a valid environment");
        options.clock = Some(clock.clone());
        options.limiter =
            Some(limiter.unwrap_or_else(|| Arc::new(WeightLimiter::new(2400, clock))));
        BinanceUsdm::new(&env, Some(credentials), options).expect("adapter builds")
    }
}

fn weight_of(method: &Method, path: &str) -> u32 {
    match (method.as_str(), path) {
        ("GET", "/fapi/v3/account" | "/fapi/v3/positionRisk" | "/fapi/v1/symbolConfig")
        | ("GET", "/fapi/v1/accountConfig" | "/fapi/v1/userTrades") => 5,
        ("GET", "/fapi/v1/openOrders" | "/fapi/v1/openAlgoOrders") => 40,
        (
            "GET",
            "/fapi/v1/positionSide/dual" | "/fapi/v1/multiAssetsMargin" | "/fapi/v1/income",
        ) => 30,
        ("POST", "/fapi/v1/order" | "/fapi/v1/algoOrder") => 0,
        _ => 1,
    }
}

/// Checks the HMAC over the raw query (minus the signature) followed by the raw body.
fn verify_signature(query: &str, body: &str) -> Option<bool> {
    fn split(s: &str) -> (String, Option<String>) {
        let mut kept = Vec::new();
        let mut sig = None;
        for part in s.split('&').filter(|p| !p.is_empty()) {
            match part.strip_prefix("signature=") {
                Some(v) => sig = Some(v.to_owned()),
                None => kept.push(part),
            }
        }
        (kept.join("&"), sig)
    }
    let (q, qs) = split(query);
    let (b, bs) = split(body);
    let sig = qs.or(bs)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).expect("hmac key");
    mac.update(q.as_bytes());
    mac.update(b.as_bytes());
    Some(hex::encode(mac.finalize().into_bytes()) == sig.to_lowercase())
}

fn json_response(
    status: u16,
    body: String,
    headers: &[(&'static str, String)],
    used: u32,
) -> Response {
    let mut resp = (
        StatusCode::from_u16(status).expect("valid status"),
        [("content-type", "application/json")],
        body,
    )
        .into_response();
    resp.headers_mut().insert(
        "x-mbx-used-weight-1m",
        used.to_string().parse().expect("header value"),
    );
    for (k, v) in headers {
        resp.headers_mut()
            .insert(*k, v.parse().expect("header value"));
    }
    resp
}

async fn handler(
    State(st): State<Arc<VenueState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    let query = uri.query().unwrap_or_default().to_owned();
    let body = String::from_utf8_lossy(&body).into_owned();
    let api_key = headers
        .get("x-mbx-apikey")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let signature_ok = verify_signature(&query, &body);
    let mut rec = Received {
        method: method.clone(),
        path: path.clone(),
        query,
        body,
        api_key,
        signature_ok,
        status: 200,
    };
    let params = rec.params();
    let now = st.clock.now_ms() + st.skew_ms.load(Ordering::SeqCst);

    // Weight, counted per calendar minute of the venue clock.
    let used = {
        let mut w = st.weight.lock().expect("lock");
        let window = st.clock.now_ms().div_euclid(60_000);
        if w.0 != window {
            *w = (window, 0);
        }
        w.1 += weight_of(&method, &path);
        st.max_window_weight.fetch_max(w.1, Ordering::SeqCst);
        w.1
    };
    let answer = if st.weight_limit > 0 && used > st.weight_limit {
        st.too_many.fetch_add(1, Ordering::SeqCst);
        Scripted::error(429, -1003, "Too many requests.")
    } else if signature_ok == Some(false) {
        Scripted::error(400, -1022, "Signature for this request is not valid.")
    } else if signature_ok.is_some() && rec.api_key.as_deref() != Some(API_KEY) {
        Scripted::error(
            401,
            -2015,
            "Invalid API-key, IP, or permissions for action.",
        )
    } else if let Some(ts) = signature_ok.and(params.get("timestamp")) {
        let ts: i64 = ts.parse().unwrap_or(0);
        let window: i64 = params
            .get("recvWindow")
            .and_then(|v| v.parse().ok())
            .unwrap_or(5000);
        if ts >= now + 1000 || now - ts > window {
            Scripted::error(
                400,
                -1021,
                "Timestamp for this request is outside of the recvWindow.",
            )
        } else {
            scripted_or_default(&st, &method, &path, &params, now)
        }
    } else {
        scripted_or_default(&st, &method, &path, &params, now)
    };
    if let Some(d) = answer.delay {
        tokio::time::sleep(d).await;
    }
    rec.status = answer.status;
    st.requests.lock().expect("lock").push(rec);
    json_response(answer.status, answer.body, &answer.headers, used)
}

fn scripted_or_default(
    st: &VenueState,
    method: &Method,
    path: &str,
    p: &HashMap<String, String>,
    now: i64,
) -> Scripted {
    if let Some(s) = st
        .scripted
        .lock()
        .expect("lock")
        .get_mut(&(method.clone(), path.to_owned()))
        .and_then(VecDeque::pop_front)
    {
        return s;
    }
    let get = |k: &str| p.get(k).cloned().unwrap_or_default();
    let body = match (method.as_str(), path) {
        ("GET", "/fapi/v1/time") => serde_json::json!({"serverTime": now}).to_string(),
        // The venue publishes the weight limit it enforces, as Binance does.
        ("GET", "/fapi/v1/exchangeInfo") if st.weight_limit > 0 => fixture("http_exchange_info")
            .replace("\"limit\": 2400", &format!("\"limit\": {}", st.weight_limit)),
        ("GET", "/fapi/v1/exchangeInfo") => fixture("http_exchange_info"),
        ("GET", "/fapi/v3/account") => fixture("http_account"),
        ("GET", "/fapi/v1/accountConfig") => fixture("http_account_config"),
        // Every symbol has a row, as on the venue: both fixtures together.
        ("GET", "/fapi/v1/symbolConfig") => {
            let mut rows: Vec<serde_json::Value> =
                serde_json::from_str(&fixture("http_symbol_config")).expect("fixture");
            let more: Vec<serde_json::Value> =
                serde_json::from_str(&fixture("http_symbol_config_string_flag")).expect("fixture");
            rows.extend(more);
            serde_json::Value::Array(rows).to_string()
        }
        ("GET", "/fapi/v3/positionRisk") => fixture("http_position_risk"),
        ("GET", "/fapi/v1/openOrders") => format!("[{}]", fixture("http_order")),
        ("GET", "/fapi/v1/openAlgoOrders") => format!("[{}]", fixture("http_algo_order")),
        ("GET", "/fapi/v1/premiumIndex") => serde_json::json!({
            "symbol": get("symbol"), "markPrice": st.mark_price.lock().expect("lock").clone(),
            "indexPrice": "0", "time": now
        })
        .to_string(),
        ("POST", "/fapi/v1/order") => {
            let market = get("type") == "MARKET";
            serde_json::json!({
                "orderId": 1001, "symbol": get("symbol"),
                "status": if market { "FILLED" } else { "NEW" },
                "clientOrderId": get("newClientOrderId"),
                "price": p.get("price").cloned().unwrap_or_else(|| "0".into()),
                "avgPrice": if market { st.mark_price.lock().expect("lock").clone() } else { "0".into() },
                "origQty": get("quantity"),
                "executedQty": if market { get("quantity") } else { "0".into() },
                "type": get("type"), "reduceOnly": get("reduceOnly") == "true",
                "side": get("side"), "positionSide": get("positionSide"),
                "updateTime": now, "someNewField": {"nested": [1, 2]}
            })
            .to_string()
        }
        ("POST", "/fapi/v1/algoOrder") => serde_json::json!({
            "algoId": 77, "clientAlgoId": get("clientAlgoId"), "algoType": "CONDITIONAL",
            "orderType": get("type"), "symbol": get("symbol"), "side": get("side"),
            "positionSide": get("positionSide"), "quantity": get("quantity"),
            "algoStatus": "NEW", "triggerPrice": get("triggerPrice"),
            "closePosition": get("closePosition") == "true", "reduceOnly": get("reduceOnly") == "true",
            "activatePrice": "", "createTime": now, "updateTime": now
        })
        .to_string(),
        ("GET", "/fapi/v1/order") => return Scripted::error(400, -2013, "Order does not exist."),
        ("DELETE", "/fapi/v1/order") => return Scripted::error(400, -2011, "Unknown order sent."),
        ("GET", "/fapi/v1/algoOrder") => return Scripted::error(400, -2013, "Order does not exist."),
        ("POST", "/fapi/v1/leverage") => serde_json::json!({
            "leverage": get("leverage").parse::<u32>().unwrap_or(0),
            "maxNotionalValue": "1000000", "symbol": get("symbol")
        })
        .to_string(),
        ("POST", "/fapi/v1/marginType" | "/fapi/v1/positionSide/dual" | "/fapi/v1/multiAssetsMargin") => {
            fixture("http_success")
        }
        ("POST", "/fapi/v1/positionMargin") => fixture("http_position_margin"),
        ("GET", "/fapi/v1/positionSide/dual") => fixture("http_position_side_dual"),
        ("GET", "/fapi/v1/multiAssetsMargin") => fixture("http_multi_assets_margin"),
        ("GET", "/fapi/v1/userTrades") => fixture("http_user_trades"),
        ("GET", "/fapi/v1/income") => fixture("http_income"),
        ("POST", "/fapi/v1/listenKey") => {
            let n = st.listen_keys.fetch_add(1, Ordering::SeqCst);
            serde_json::json!({"listenKey": format!("key{n}")}).to_string()
        }
        ("PUT", "/fapi/v1/listenKey") => "{}".into(),
        _ => {
            return Scripted {
                status: 404,
                body: String::new(),
                headers: Vec::new(),
                delay: None,
            }
        }
    };
    Scripted::ok(body)
}

async fn ws_handler(
    State(st): State<Arc<VenueState>>,
    Query(q): Query<HashMap<String, String>>,
    ws: WebSocketUpgrade,
) -> Response {
    let refuse = st
        .refuse_ws
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    if refuse {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let listen_key = q.get("listenKey").cloned().unwrap_or_default();
    ws.on_upgrade(move |socket| serve_ws(st, socket, listen_key))
}

async fn serve_ws(st: Arc<VenueState>, mut socket: WebSocket, listen_key: String) {
    let (to_client, mut to_rx) = mpsc::unbounded_channel();
    let (from_tx, from_client) = mpsc::unbounded_channel();
    let _ = st.ws_tx.send(WsConn {
        listen_key,
        to_client,
        from_client,
    });
    loop {
        tokio::select! {
            cmd = to_rx.recv() => match cmd {
                Some(ToClient::Text(t)) => { if socket.send(AxMessage::Text(t.into())).await.is_err() { return; } }
                Some(ToClient::Ping(p)) => { if socket.send(AxMessage::Ping(p.into())).await.is_err() { return; } }
                Some(ToClient::Close) | None => { let _ = socket.send(AxMessage::Close(None)).await; return; }
            },
            msg = socket.recv() => match msg {
                Some(Ok(m)) => { let _ = from_tx.send(m); }
                _ => return,
            },
        }
    }
}

/// Held by tests that capture logs with a thread-scoped subscriber, so they never overlap.
pub static LOG_CAPTURE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
