//! The exchange state behind one lock: markets and books, accounts and the id counters,
//! plus account-level operations (create, modes, leverage, margin type, isolated margin,
//! listenKeys). Order handling lives in [`super::matching`], conditional orders in
//! [`super::algo`], funding and liquidation in [`super::risk`].

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use rand::distr::{Alphanumeric, SampleString};
use rust_decimal::Decimal;
use serde_json::{json, Value};

use super::account::{Account, Income, ListenKey, Marks, Permissions, SecretKey, SymbolConfig};
use super::book::Book;
use super::clock::{Millis, SimClock};
use super::error::{WireError, WireResult};
use super::events::{Buses, UserEvent};
use super::market::{default_markets, Market};
use super::views;
use crate::domain::PositionSide;

pub const LISTEN_KEY_TTL_MS: Millis = 60 * 60 * 1000;
pub const FUNDING_INTERVAL_MS: Millis = 8 * 60 * 60 * 1000;

/// Settings of the model that tests may change.
#[derive(Debug, Clone)]
pub struct ModelConfig {
    pub taker_fee: Decimal,
    pub maker_fee: Decimal,
    /// `ACCOUNT_UPDATE.a.m` sent for an isolated margin add/reduce; Binance does not
    /// document it, so it is a setting.
    pub margin_transfer_reason: String,
}

impl Default for ModelConfig {
    fn default() -> Self {
        Self {
            taker_fee: Decimal::new(5, 4),
            maker_fee: Decimal::new(2, 4),
            margin_transfer_reason: "MARGIN_TRANSFER".to_owned(),
        }
    }
}

/// What the admin API sends to create an account.
#[derive(Debug, Clone, Default)]
pub struct NewAccount {
    pub balances: BTreeMap<String, Decimal>,
    pub hedge: bool,
    pub permissions: Permissions,
    pub lead_portfolio: bool,
    pub label: String,
    pub key_type: KeyType,
}

/// How an account's API key signs requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KeyType {
    /// HMAC-SHA256 with a random 64-character secret.
    #[default]
    Hmac,
    /// Ed25519: the simulator keeps the public key and hands out the private key as a
    /// PKCS#8 PEM, which clients use as the secret.
    Ed25519,
}

impl NewAccount {
    /// A one-way account holding `amount` USDT.
    pub fn usdt(amount: Decimal) -> Self {
        Self {
            balances: BTreeMap::from([("USDT".to_owned(), amount)]),
            ..Self::default()
        }
    }

    /// Adds (or replaces) a wallet balance.
    pub fn with_balance(mut self, asset: &str, amount: Decimal) -> Self {
        self.balances.insert(asset.to_owned(), amount);
        self
    }

    /// Hedge mode (`dualSidePosition = true`).
    pub fn hedge(mut self) -> Self {
        self.hedge = true;
        self
    }

    /// An Ed25519 API key instead of an HMAC one.
    pub fn ed25519(mut self) -> Self {
        self.key_type = KeyType::Ed25519;
        self
    }
}

/// Keys of a created account. `Debug` hides the secret.
#[derive(Clone)]
pub struct AccountKeys {
    pub account_id: String,
    pub api_key: String,
    pub secret_key: String,
}

impl std::fmt::Debug for AccountKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountKeys")
            .field("account_id", &self.account_id)
            .field("api_key", &self.api_key)
            .field("secret_key", &"***")
            .finish()
    }
}

/// The simulated venue's whole state (markets and books, accounts, id counters) behind
/// the server's one lock. Not an implementation of the `crate::exchange::Exchange` port:
/// the simulator speaks Binance's wire protocol and is reached through the Binance adapter
/// like a real venue.
#[derive(Debug)]
pub struct SimVenue {
    pub clock: Arc<SimClock>,
    pub config: ModelConfig,
    pub markets: HashMap<String, Market>,
    /// Symbols in listing order, for stable output.
    pub symbols: Vec<String>,
    pub books: HashMap<String, Book>,
    pub accounts: HashMap<String, Account>,
    pub by_api_key: HashMap<String, String>,
    pub by_listen_key: HashMap<String, String>,
    pub buses: Buses,
    pub next_order_id: u64,
    pub next_trade_id: u64,
    pub next_tran_id: u64,
    pub next_algo_id: u64,
    pub next_account: u64,
    pub next_funding: Millis,
    /// When each demo leader acts next.
    pub demo_next: HashMap<String, Millis>,
    /// Bumped by every change worth saving (events, prices, accounts, settings), so the
    /// state file is rewritten only when something moved.
    pub revision: u64,
    /// Recorded prices and fills per symbol, behind the klines.
    pub tape: super::tape::Tape,
    /// The public lead-portfolio source's own state (budget, geo block, hidden positions).
    pub portfolio: super::portfolio::PortfolioState,
    /// Events held back while set (see [`Self::hold_events`]).
    held: Option<Vec<(String, &'static str, Value)>>,
}

pub fn random_token(len: usize) -> String {
    Alphanumeric.sample_string(&mut rand::rng(), len)
}

/// A new key of `kind`: the secret handed to the client, and what the simulator keeps to
/// check its signatures.
fn new_key(kind: KeyType) -> (String, SecretKey) {
    match kind {
        KeyType::Hmac => {
            let secret = random_token(64);
            (secret.clone(), SecretKey::new(secret))
        }
        KeyType::Ed25519 => {
            use ed25519_dalek::pkcs8::{spki::der::pem::LineEnding, EncodePrivateKey};
            let seed: [u8; 32] = rand::random();
            let key = ed25519_dalek::SigningKey::from_bytes(&seed);
            // Encoding a freshly made 32-byte key cannot fail; should it ever, the key
            // is unusable either way, and an empty secret makes every signature fail.
            let pem = key
                .to_pkcs8_pem(LineEnding::LF)
                .map(|p| p.to_string())
                .unwrap_or_default();
            (pem, SecretKey::Ed25519(key.verifying_key()))
        }
    }
}

impl SimVenue {
    pub fn new(clock: Arc<SimClock>, config: ModelConfig) -> Self {
        let markets = default_markets();
        let symbols = markets.iter().map(|m| m.symbol.to_owned()).collect();
        let books: HashMap<String, Book> = markets
            .iter()
            .map(|m| (m.symbol.to_owned(), Book::new(m)))
            .collect();
        let now = clock.now();
        let next_funding = (now / FUNDING_INTERVAL_MS + 1) * FUNDING_INTERVAL_MS;
        let mut tape = super::tape::Tape::default();
        for (s, b) in &books {
            tape.price(s, now, b.mid);
        }
        Self {
            clock,
            config,
            markets: markets
                .into_iter()
                .map(|m| (m.symbol.to_owned(), m))
                .collect(),
            symbols,
            books,
            accounts: HashMap::new(),
            by_api_key: HashMap::new(),
            by_listen_key: HashMap::new(),
            buses: Buses::new(),
            next_order_id: 8_000_000_001,
            next_trade_id: 500_000_001,
            next_tran_id: 9_000_000_001,
            next_algo_id: 3_000_001,
            next_account: 1,
            next_funding,
            demo_next: HashMap::new(),
            revision: 0,
            tape,
            portfolio: Default::default(),
            held: None,
        }
    }

    pub fn now(&self) -> Millis {
        self.clock.now()
    }

    pub fn market(&self, symbol: &str) -> WireResult<&Market> {
        self.markets.get(symbol).ok_or_else(WireError::bad_symbol)
    }

    pub fn marks(&self) -> Marks {
        self.books
            .iter()
            .map(|(s, b)| (s.clone(), b.mark()))
            .collect()
    }

    pub fn mark(&self, symbol: &str) -> Decimal {
        self.books.get(symbol).map_or(Decimal::ZERO, Book::mark)
    }

    pub fn account(&self, id: &str) -> WireResult<&Account> {
        self.accounts.get(id).ok_or_else(WireError::rejected_key)
    }

    pub fn account_mut(&mut self, id: &str) -> WireResult<&mut Account> {
        self.accounts
            .get_mut(id)
            .ok_or_else(WireError::rejected_key)
    }

    pub fn order_id(&mut self) -> u64 {
        self.next_order_id += 1;
        self.next_order_id
    }

    pub fn trade_id(&mut self) -> u64 {
        self.next_trade_id += 1;
        self.next_trade_id
    }

    pub fn tran_id(&mut self) -> u64 {
        self.next_tran_id += 1;
        self.next_tran_id
    }

    pub fn algo_id(&mut self) -> u64 {
        self.next_algo_id += 1;
        self.next_algo_id
    }

    /// Sends a user-data event stamped with the next event time.
    pub fn emit(&mut self, account: &str, name: &'static str, payload: Value) {
        self.revision += 1;
        if let Some(held) = self.held.as_mut() {
            held.push((account.to_owned(), name, payload));
            return;
        }
        self.send_now(account, name, payload);
    }

    fn send_now(&mut self, account: &str, name: &'static str, mut payload: Value) {
        if let Some(obj) = payload.as_object_mut() {
            obj.insert("E".to_owned(), json!(self.clock.event_time()));
        }
        self.buses.send_user(
            account,
            UserEvent {
                name,
                payload,
                closes_stream: name == "listenKeyExpired",
            },
        );
    }

    /// Holds back events until [`Self::release_events`], so an announcement (e.g. an algo
    /// order's TRIGGERED) can go out before the events of the work it started.
    pub fn hold_events(&mut self) {
        self.held.get_or_insert_with(Vec::new);
    }

    /// Sends the held events, in order, after any emitted since.
    pub fn release_events(&mut self) -> Vec<(String, &'static str, Value)> {
        self.held.take().unwrap_or_default()
    }

    /// Sends events taken with [`Self::release_events`].
    pub fn send_events(&mut self, events: Vec<(String, &'static str, Value)>) {
        for (account, name, payload) in events {
            self.emit(&account, name, payload);
        }
    }

    pub fn create_account(&mut self, req: NewAccount) -> AccountKeys {
        self.revision += 1;
        let id = format!("acc-{}", self.next_account);
        self.next_account += 1;
        let api_key = random_token(64);
        let (secret, verifier) = new_key(req.key_type);
        let now = self.now();
        let account = Account {
            bnb_fees: false,
            id: id.clone(),
            label: req.label,
            api_key: api_key.clone(),
            secret: verifier,
            permissions: req.permissions,
            created_at: now,
            lead_portfolio: req.lead_portfolio,
            dual_side: req.hedge,
            multi_assets: false,
            wallets: req.balances,
            symbol_cfg: HashMap::new(),
            positions: HashMap::new(),
            orders: BTreeMap::new(),
            open_ids: Default::default(),
            algo_orders: BTreeMap::new(),
            trades: Vec::new(),
            income: Vec::new(),
            listen_key: None,
            margin_calls: Default::default(),
            update_time: now,
        };
        self.by_api_key.insert(api_key.clone(), id.clone());
        self.accounts.insert(id.clone(), account);
        AccountKeys {
            account_id: id,
            api_key,
            secret_key: secret,
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub fn add_income(
        &mut self,
        account: &str,
        symbol: &str,
        income_type: &'static str,
        amount: Decimal,
        asset: &str,
        trade_id: String,
        time: Millis,
    ) {
        let tran_id = self.tran_id();
        if let Some(a) = self.accounts.get_mut(account) {
            a.income.push(Income {
                symbol: symbol.to_owned(),
                income_type,
                income: amount,
                asset: asset.to_owned(),
                info: income_type.to_owned(),
                time,
                tran_id,
                trade_id,
            });
        }
    }

    /// Deposits (positive) or withdraws (negative) `amount` of `asset`: income `TRANSFER`
    /// and `ACCOUNT_UPDATE` with reason `DEPOSIT` or `WITHDRAW`.
    pub fn transfer(&mut self, account: &str, asset: &str, amount: Decimal) -> WireResult<()> {
        let marks = self.marks();
        let a = self.account(account)?;
        if amount < Decimal::ZERO {
            let f = a.figures(asset, &self.markets, &marks);
            if -amount > f.max_withdraw {
                return Err(WireError::bad(
                    -5013,
                    "Asset transfer failed: insufficient balance",
                ));
            }
        }
        let now = self.now();
        let a = self.account_mut(account)?;
        a.credit(asset, amount);
        a.update_time = now;
        self.add_income(account, "", "TRANSFER", amount, asset, String::new(), now);
        let reason = if amount < Decimal::ZERO {
            "WITHDRAW"
        } else {
            "DEPOSIT"
        };
        let mut upd = views::account_update(self, account, reason, &[asset], &[], None);
        if let Some(b) = upd.pointer_mut("/a/B/0/bc") {
            *b = json!(views::money(amount));
        }
        self.emit(account, "ACCOUNT_UPDATE", upd);
        Ok(())
    }

    pub fn set_dual_side(&mut self, account: &str, dual: bool) -> WireResult<()> {
        let a = self.account_mut(account)?;
        if a.dual_side == dual {
            return Err(WireError::bad(-4059, "No need to change position side."));
        }
        if a.has_open_orders(None) {
            return Err(WireError::bad(
                -4067,
                "Position side cannot be changed if there exists open orders.",
            ));
        }
        if a.has_position(None) {
            return Err(WireError::bad(
                -4068,
                "Position side cannot be changed if there exists position.",
            ));
        }
        a.dual_side = dual;
        a.positions.clear();
        self.revision += 1;
        Ok(())
    }

    pub fn set_multi_assets(&mut self, account: &str, on: bool) -> WireResult<()> {
        let a = self.account_mut(account)?;
        if a.multi_assets == on {
            return Err(WireError::bad(
                -4171,
                "Adjusted asset mode is currently set and does not need to be adjusted repeatedly.",
            ));
        }
        if on && a.symbol_cfg.values().any(|c| c.isolated) {
            return Err(WireError::bad(
                -4167,
                "Unable to adjust to Multi-Assets mode with symbols of USDⓈ-M Futures under isolated-margin mode.",
            ));
        }
        if a.has_open_orders(None) {
            return Err(WireError::bad(
                -4170,
                "Unable to adjust Multi-Assets Mode with insufficient margin balance in USDⓈ-M Futures or open orders.",
            ));
        }
        a.multi_assets = on;
        let t = self.now();
        self.emit(
            account,
            "ACCOUNT_CONFIG_UPDATE",
            json!({"e": "ACCOUNT_CONFIG_UPDATE", "T": t, "ai": {"j": on}}),
        );
        Ok(())
    }

    pub fn set_leverage(
        &mut self,
        account: &str,
        symbol: &str,
        leverage: u32,
    ) -> WireResult<Value> {
        let m = self.market(symbol)?.clone();
        if leverage < 1 || leverage > m.max_leverage {
            return Err(WireError::bad(
                -4028,
                format!("Leverage {leverage} is not valid"),
            ));
        }
        let marks = self.marks();
        let markets = &self.markets;
        let a = self
            .accounts
            .get_mut(account)
            .ok_or_else(WireError::rejected_key)?;
        let cfg = a.config(symbol);
        let mark = marks.get(symbol).copied().unwrap_or(Decimal::ZERO);
        let notional: Decimal = a
            .positions
            .values()
            .filter(|p| p.symbol == symbol)
            .map(|p| p.amt.abs() * mark)
            .sum();
        if notional > m.max_notional(leverage) {
            return Err(WireError::bad(
                -2027,
                "Exceeded the maximum allowable position at current leverage.",
            ));
        }
        if cfg.isolated && leverage < cfg.leverage && a.has_position(Some(symbol)) {
            return Err(WireError::bad(
                -4161,
                "Leverage reduction is not supported in Isolated Margin Mode with open positions.",
            ));
        }
        let before = a.group_figures(m.margin_asset, markets, &marks).available;
        let new_cfg = SymbolConfig {
            leverage,
            isolated: cfg.isolated,
        };
        a.symbol_cfg.insert(symbol.to_owned(), new_cfg);
        // Lowering leverage raises initial margin; refuse it when the account could no
        // longer carry its cross positions and open orders.
        let after = a.group_figures(m.margin_asset, markets, &marks).available;
        if after < Decimal::ZERO && after < before {
            a.symbol_cfg.insert(symbol.to_owned(), cfg);
            return Err(WireError::margin_insufficient());
        }
        let t = self.now();
        self.emit(
            account,
            "ACCOUNT_CONFIG_UPDATE",
            json!({"e": "ACCOUNT_CONFIG_UPDATE", "T": t, "ac": {"s": symbol, "l": leverage}}),
        );
        Ok(json!({
            "leverage": leverage,
            "maxNotionalValue": m.max_notional(leverage).normalize().to_string(),
            "symbol": symbol,
        }))
    }

    pub fn set_margin_type(
        &mut self,
        account: &str,
        symbol: &str,
        isolated: bool,
    ) -> WireResult<()> {
        self.market(symbol)?;
        let a = self.account_mut(account)?;
        let cfg = a.config(symbol);
        if cfg.isolated == isolated {
            return Err(WireError::bad(-4046, "No need to change margin type."));
        }
        if isolated && a.multi_assets {
            return Err(WireError::bad(
                -4168,
                "Unable to adjust to isolated-margin mode under the Multi-Assets mode.",
            ));
        }
        if a.has_open_orders(Some(symbol)) {
            return Err(WireError::bad(
                -4047,
                "Margin type cannot be changed if there exists open orders.",
            ));
        }
        if a.has_position(Some(symbol)) {
            return Err(WireError::bad(
                -4048,
                "Margin type cannot be changed if there exists position.",
            ));
        }
        a.symbol_cfg.insert(
            symbol.to_owned(),
            SymbolConfig {
                leverage: cfg.leverage,
                isolated,
            },
        );
        for p in a.positions.values_mut().filter(|p| p.symbol == symbol) {
            p.isolated = isolated;
        }
        self.revision += 1;
        Ok(())
    }

    /// Largest amount that may be taken out of an isolated position: what is left of
    /// its margin after an unrealized loss, above the initial margin at the mark.
    pub fn max_reducible(
        &self,
        account: &str,
        symbol: &str,
        side: PositionSide,
    ) -> WireResult<Decimal> {
        let a = self.account(account)?;
        let p = a
            .position(symbol, side)
            .filter(|p| !p.amt.is_zero())
            .ok_or_else(|| WireError::bad(-4054, "Cannot add position margin: position is 0."))?;
        let mark = self.mark(symbol);
        let im = p.initial_margin(mark, a.config(symbol).leverage);
        let up = p.upnl(mark).min(Decimal::ZERO);
        Ok((p.isolated_wallet + up - im).max(Decimal::ZERO))
    }

    /// `POST /fapi/v1/positionMargin`: moves margin into (`add`) or out of an isolated
    /// position.
    pub fn position_margin(
        &mut self,
        account: &str,
        symbol: &str,
        side: PositionSide,
        amount: Decimal,
        add: bool,
    ) -> WireResult<()> {
        let m = self.market(symbol)?.clone();
        let marks = self.marks();
        let a = self.account(account)?;
        if a.dual_side == (side == PositionSide::Both) {
            return Err(WireError::position_side_mismatch());
        }
        let p = a
            .position(symbol, side)
            .filter(|p| !p.amt.is_zero())
            .ok_or_else(|| WireError::bad(-4054, "Cannot add position margin: position is 0."))?;
        if !p.isolated {
            return Err(WireError::bad(
                -4049,
                "Cannot add position margin: position is not isolated.",
            ));
        }
        if amount <= Decimal::ZERO {
            return Err(WireError::illegal("amount"));
        }
        if add {
            let avail = a
                .group_figures(m.margin_asset, &self.markets, &marks)
                .available;
            if amount > avail {
                return Err(WireError::bad(-4050, "Cross balance insufficient."));
            }
        } else if amount > self.max_reducible(account, symbol, side)? {
            return Err(WireError::bad(-4051, "Isolated balance insufficient."));
        }
        let now = self.now();
        let reason = self.config.margin_transfer_reason.clone();
        let a = self.account_mut(account)?;
        if let Some(p) = a.positions.get_mut(&(symbol.to_owned(), side)) {
            if add {
                p.isolated_wallet += amount;
            } else {
                p.isolated_wallet -= amount;
            }
            p.update_time = now;
        }
        let update = views::account_update(
            self,
            account,
            &reason,
            &[m.margin_asset],
            &[(symbol, side)],
            None,
        );
        self.emit(account, "ACCOUNT_UPDATE", update);
        Ok(())
    }

    /// Starts (or returns and extends) the account's listenKey.
    pub fn listen_key_start(&mut self, account: &str) -> WireResult<String> {
        // A key past its hour must announce its expiry before a new one replaces it.
        self.expire_listen_keys();
        let now = self.now();
        let a = self.account_mut(account)?;
        if let Some(k) = a.listen_key.as_mut().filter(|k| k.expires_at > now) {
            k.expires_at = now + LISTEN_KEY_TTL_MS;
            return Ok(k.key.clone());
        }
        let key = random_token(64);
        a.listen_key = Some(ListenKey {
            key: key.clone(),
            expires_at: now + LISTEN_KEY_TTL_MS,
        });
        self.by_listen_key.insert(key.clone(), account.to_owned());
        Ok(key)
    }

    pub fn listen_key_keepalive(&mut self, account: &str) -> WireResult<String> {
        self.expire_listen_keys();
        let now = self.now();
        let a = self.account_mut(account)?;
        match a.listen_key.as_mut().filter(|k| k.expires_at > now) {
            Some(k) => {
                k.expires_at = now + LISTEN_KEY_TTL_MS;
                Ok(k.key.clone())
            }
            None => Err(WireError::bad(
                -1125,
                "This listenKey does not exist. Please use `POST /fapi/v1/listenKey` to recreate `listenKey`",
            )),
        }
    }

    /// Closes the key; connected sockets get `listenKeyExpired` and close.
    pub fn listen_key_close(&mut self, account: &str) -> WireResult<()> {
        let a = self.account_mut(account)?;
        if let Some(k) = a.listen_key.take() {
            self.by_listen_key.remove(&k.key);
            self.emit_key_expired(account, &k.key);
        }
        Ok(())
    }

    fn emit_key_expired(&mut self, account: &str, key: &str) {
        self.emit(
            account,
            "listenKeyExpired",
            json!({"e": "listenKeyExpired", "listenKey": key}),
        );
    }

    /// The account a live listenKey belongs to.
    pub fn listen_key_account(&self, key: &str) -> Option<String> {
        let id = self.by_listen_key.get(key)?;
        let a = self.accounts.get(id)?;
        a.listen_key
            .as_ref()
            .filter(|k| k.key == key && k.expires_at > self.now())
            .map(|_| id.clone())
    }

    /// Expires listenKeys whose hour has run out.
    pub fn expire_listen_keys(&mut self) {
        let now = self.now();
        let expired: Vec<(String, String)> = self
            .accounts
            .values()
            .filter_map(|a| {
                a.listen_key
                    .as_ref()
                    .filter(|k| k.expires_at <= now)
                    .map(|k| (a.id.clone(), k.key.clone()))
            })
            .collect();
        for (acc, key) in expired {
            if let Some(a) = self.accounts.get_mut(&acc) {
                a.listen_key = None;
            }
            self.by_listen_key.remove(&key);
            self.emit_key_expired(&acc, &key);
        }
    }

    /// Everything time drives: listenKey expiry and funding.
    pub fn tick(&mut self) {
        self.expire_listen_keys();
        self.run_funding();
    }
}
