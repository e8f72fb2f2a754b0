//! One follower account as its own streams keep it, shared by every copy of that account:
//! positions, balances, leverage, margin mode, open regular and conditional orders from
//! the user-data stream (`ACCOUNT_UPDATE`, `ORDER_TRADE_UPDATE`, `ALGO_UPDATE`,
//! `ACCOUNT_CONFIG_UPDATE`) on top of one snapshot per connect, and the mark price and best
//! bid/ask of every symbol from the market streams. The supervisor plans from this state;
//! it reads the venue on a signal only when a stream is down or a price is older than
//! [`MARK_STALE_MS`] (see `docs/streams.md` for what a stream cannot know).
//!
//! Equity and available balance are not on any stream: they are carried forward from the
//! last snapshot by the changes the streams report (wallet, unrealized PnL at the current
//! mark, initial margin at the current mark and leverage). Reconciliation replaces the
//! estimate with a fresh snapshot, once per account per interval whichever copy asks first.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Mutex, MutexGuard};

use rust_decimal::Decimal;
use tokio::sync::mpsc;

use crate::domain::{MarginMode, PositionSide, Price};
use crate::exchange::events::{BalancePositionUpdate, Execution};
use crate::exchange::{
    AccountEvent, AccountSnapshot, ConditionalReport, ConditionalStatus, MarketEvent, OrderReport,
    PositionSnapshot, SymbolSetting,
};

/// The venue sends every mark each second; a mark older than this means the market
/// stream is not delivering, and a signal reads the mark over REST (weight 1) instead.
pub const MARK_STALE_MS: i64 = 5_000;

type Key = (String, PositionSide);

/// The follower account and its markets as the streams report them.
#[derive(Debug, Default)]
pub struct AccountState {
    snap: Option<AccountSnapshot>,
    /// Sums at the last snapshot, the base the estimates move from.
    base_wallet: Decimal,
    base_upnl: Decimal,
    base_margin: Decimal,
    /// Local time of the last REST snapshot (connect, resync or reconciliation).
    pub(crate) snapshot_at: i64,
    /// Local time of the last snapshot that read every symbol's open orders and algo
    /// orders (a stream's connect or resync, or a full reconciliation read); 0 = none.
    pub(crate) orders_full_at: i64,
    /// Whether the user-data stream is connected since its last snapshot.
    stream_up: bool,
    /// Venue time of the newest change applied per position and per balance: older
    /// reports (from a copy's stream that lags another's) are stale.
    pos_as_of: HashMap<Key, i64>,
    bal_as_of: HashMap<String, i64>,
    /// Local time the stream last changed each position.
    pos_touched: HashMap<Key, i64>,
    /// Local time each conditional order (by client id) last changed, by the stream or by
    /// our own placement or cancel: a read started before that does not know it.
    cond_touched: HashMap<String, i64>,
    /// Fills of our own orders acknowledged before the stream reported them.
    pending: Vec<PendingFill>,
    /// Per order of ours (client id), the stream's trade reports so far: each one's venue
    /// time and the order's filled quantity then. They tell how much of an acknowledged
    /// fill a position report holds: an acknowledgement may be stamped later than the
    /// trades it reports (when the answer was made, not when the order filled), and one
    /// order may fill in several trades.
    streamed_trades: HashMap<String, Vec<(i64, Decimal)>>,
    marks: HashMap<String, (Decimal, i64)>,
    books: HashMap<String, (Decimal, Decimal, i64)>,
    marks_up: bool,
    /// Whether the book-ticker socket is connected (a book kept from a read is only as
    /// current as the stream that would report its change).
    books_up: bool,
    watched: BTreeSet<String>,
    watcher: Option<mpsc::UnboundedSender<String>>,
}

/// Conditional orders whose changes are remembered for reads in flight, at most; beyond it
/// the changes older than [`TOUCHED_FOR_MS`] are forgotten (no read takes that long).
const TOUCHED_KEPT: usize = 1_024;
const TOUCHED_FOR_MS: i64 = 120_000;

/// Records that the conditional order `client_id` changed at local time `at`.
fn touch(touched: &mut HashMap<String, i64>, client_id: &str, at: i64) {
    if touched.len() >= TOUCHED_KEPT {
        touched.retain(|_, t| *t >= at - TOUCHED_FOR_MS);
    }
    let t = touched.entry(client_id.to_owned()).or_insert(at);
    *t = (*t).max(at);
}

/// A fill of ours the venue acknowledged and the stream has not reported yet.
#[derive(Debug, Clone)]
struct PendingFill {
    key: Key,
    client_id: String,
    /// The quantity acknowledged as filled.
    acked: Decimal,
    /// What of it no position report holds yet, signed (positive bought).
    signed_qty: Decimal,
    price: Decimal,
    /// Venue time of the acknowledgement.
    at: i64,
    /// Local time it was recorded.
    local_at: i64,
}

/// How long an acknowledged fill counts before the stream reports it; the stream
/// normally does so within milliseconds.
const PENDING_MS: i64 = 3_000;

/// Why the state cannot serve a read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stale {
    NoSnapshot,
    StreamDown,
}

impl std::fmt::Display for Stale {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Stale::NoSnapshot => "no snapshot of the follower yet",
            Stale::StreamDown => "the follower's user-data stream is down",
        })
    }
}

impl AccountState {
    /// A snapshot read after the stream (re)connected: the stream is current from here.
    ///
    /// The resync's read may be older than what this state already holds: while the
    /// stream was down, signals and reconciliations read the account over REST, and one
    /// of those reads can finish after a fill of ours that the resync's read (started
    /// earlier, delivered later) does not hold. A position this state holds at a later
    /// venue time than the snapshot's row keeps this state's row; taking the older one
    /// would show the position without that fill, and reconciliation would take the
    /// difference for a close made outside (seed 203 of the fault matrix's long run).
    ///
    /// A fill of ours acknowledged while the snapshot was being read may or may not be in
    /// it (the order and the read race at the venue, and an acknowledgement can arrive
    /// late): the venue's clock decides, see [`Self::in_snapshot`]. A fill the snapshot
    /// does not hold stays pending until the stream reports it (the socket was open
    /// before the read, so it will).
    pub fn resynced(&mut self, mut snap: AccountSnapshot) {
        let mut newer = Vec::new();
        if let Some(old) = &self.snap {
            let read_newest = newest(&snap);
            let held_newest = newest(old);
            for p in &old.positions {
                let same = |x: &PositionSnapshot| {
                    x.symbol == p.symbol && x.position_side == p.position_side
                };
                let read_at = snap
                    .positions
                    .iter()
                    .find(|x| same(x))
                    .map(|x| x.updated_at);
                // An open position the read does not list is older than this state's
                // row only if nothing in the read is as new (a close moves the wallet).
                let stale = match read_at {
                    Some(t) => t < p.updated_at,
                    None => !p.signed_quantity.is_zero() && read_newest < p.updated_at,
                };
                if stale {
                    snap.positions.retain(|x| !same(x));
                    snap.positions.push(p.clone());
                    newer.push(((p.symbol.clone(), p.position_side), p.updated_at));
                }
            }
            // A position the read shows open from before this state saw it flat.
            snap.positions.retain(|x| {
                let held = old
                    .positions
                    .iter()
                    .find(|h| h.symbol == x.symbol && h.position_side == x.position_side);
                let flat_since = match held {
                    Some(h) if h.signed_quantity.is_zero() => h.updated_at,
                    Some(_) => return true,
                    None => held_newest,
                };
                x.signed_quantity.is_zero() || x.updated_at >= flat_since
            });
        }
        let kept: Vec<PendingFill> = self
            .pending
            .iter()
            .filter(|f| !self.in_snapshot(&snap, f))
            .cloned()
            .collect();
        self.stream_up = true;
        self.pos_as_of.clear();
        self.bal_as_of.clear();
        self.pos_touched.clear();
        self.cond_touched.clear();
        self.streamed_trades.clear();
        // Stream reports older than a row kept from this state are stale.
        self.pos_as_of.extend(newer);
        self.pending = kept;
        self.orders_full_at = snap.taken_at;
        self.replace(snap);
    }

    /// Whether a snapshot already holds one of our fills, by venue time: the position's
    /// row was last changed at or after the fill's transaction time (both on the venue's
    /// clock, so the local times of the read and the acknowledgement do not matter). A
    /// position the snapshot does not list (the venue lists open positions only) holds
    /// the fill only if the fill left it flat, as this state saw the position.
    fn in_snapshot(&self, snap: &AccountSnapshot, f: &PendingFill) -> bool {
        let row = snap
            .positions
            .iter()
            .find(|p| p.symbol == f.key.0 && p.position_side == f.key.1);
        match row {
            Some(p) if p.updated_at > 0 => p.updated_at >= f.at,
            _ => self.quantity_after(f).is_zero(),
        }
    }

    /// A position's quantity as this state sees it right after one of our pending fills.
    fn quantity_after(&self, f: &PendingFill) -> Decimal {
        let before = self
            .snap
            .as_ref()
            .and_then(|s| {
                s.positions
                    .iter()
                    .find(|p| p.symbol == f.key.0 && p.position_side == f.key.1)
            })
            .map_or(Decimal::ZERO, |p| p.signed_quantity);
        self.pending
            .iter()
            .filter(|x| x.key == f.key && x.at <= f.at)
            .map(|x| x.signed_qty)
            .fold(before, |a, q| a + q)
    }

    /// A snapshot read by reconciliation (or while the stream is down) that started at
    /// local time `read_started`. Positions the stream changed since then keep the
    /// stream's newer value, and fills acknowledged since then stay pending unless the
    /// read holds them.
    pub fn refreshed(&mut self, snap: AccountSnapshot, read_started: i64) {
        self.refreshed_in(snap, read_started, None);
    }

    /// [`Self::refreshed`] for a read whose open orders and algo orders cover the symbols
    /// `orders_of` only (`None`: every symbol): the orders of other symbols stay as the
    /// stream keeps them.
    pub fn refreshed_in(
        &mut self,
        mut snap: AccountSnapshot,
        read_started: i64,
        orders_of: Option<&[String]>,
    ) {
        match (orders_of, &self.snap) {
            (None, _) => self.orders_full_at = snap.taken_at,
            (Some(symbols), Some(old)) => {
                let outside = |sym: &String| !symbols.contains(sym);
                snap.open_orders.extend(
                    old.open_orders
                        .iter()
                        .filter(|o| outside(&o.symbol))
                        .cloned(),
                );
                snap.open_conditionals.extend(
                    old.open_conditionals
                        .iter()
                        .filter(|o| outside(&o.symbol))
                        .cloned(),
                );
            }
            (Some(_), None) => {}
        }
        if let Some(old) = &self.snap {
            // A conditional order placed, changed or cancelled since the read started is as
            // this state holds it: a stop placed while the read was on its way is not
            // missing, and one cancelled meanwhile does not come back.
            for (id, at) in &self.cond_touched {
                if *at < read_started {
                    continue;
                }
                snap.open_conditionals.retain(|o| &o.client_id != id);
                if let Some(o) = old.open_conditionals.iter().find(|o| &o.client_id == id) {
                    snap.open_conditionals.push(o.clone());
                }
            }
            for (key, at) in &self.pos_touched {
                if *at < read_started {
                    continue;
                }
                let same = |p: &&PositionSnapshot| (p.symbol.clone(), p.position_side) == *key;
                let streamed = old.positions.iter().find(same).cloned();
                let read = snap.positions.iter().find(same).map(|p| p.signed_quantity);
                // Only a quantity the read missed is taken from the stream; everything else
                // (maintenance margin, notional) is the venue's.
                if let Some(p) = streamed {
                    if read != Some(p.signed_quantity) {
                        snap.positions
                            .retain(|x| (x.symbol.clone(), x.position_side) != *key);
                        snap.positions.push(p);
                    }
                }
            }
        }
        // A fill acknowledged before the read started is in it; one acknowledged since
        // may be too (its acknowledgement can lag the fill): the venue's clock decides.
        let kept: Vec<PendingFill> = self
            .pending
            .iter()
            .filter(|f| f.local_at >= read_started && !self.in_snapshot(&snap, f))
            .cloned()
            .collect();
        self.pending = kept;
        // What the read started after, it holds.
        self.cond_touched.retain(|_, at| *at >= read_started);
        self.replace(snap);
    }

    fn replace(&mut self, snap: AccountSnapshot) {
        self.base_wallet = snap.balances.iter().map(|b| b.wallet_balance).sum();
        self.base_upnl = snap.positions.iter().map(|p| p.unrealized_pnl).sum();
        self.base_margin = snap.positions.iter().map(|p| p.margin).sum();
        self.snapshot_at = snap.taken_at;
        for p in &snap.positions {
            if !p.signed_quantity.is_zero() {
                self.want_book(&p.symbol);
            }
        }
        self.snap = Some(snap);
    }

    /// The user-data stream dropped: reads go to the venue until it resyncs.
    pub fn stream_down(&mut self) {
        self.stream_up = false;
    }

    /// Whether a fill of ours was acknowledged and the stream has not reported it yet:
    /// the state then holds it only by the acknowledgement, and reconciliation, which
    /// takes a position smaller than the copy's for a close made outside, reads the
    /// venue instead (a read started after the acknowledgement holds the fill).
    pub fn awaits_own_fills(&self) -> bool {
        !self.pending.is_empty()
    }

    pub fn stream_is_up(&self) -> bool {
        self.stream_up && self.snap.is_some()
    }

    /// Whether a reconciliation read may leave out the orders of symbols not in play: the
    /// stream has been up since a read of every symbol's orders (it reported every order
    /// change since), and that read is younger than `full_every_ms`.
    pub fn orders_known(&self, now: i64, full_every_ms: i64) -> bool {
        self.stream_is_up() && self.orders_full_at > 0 && now - self.orders_full_at < full_every_ms
    }

    /// Symbols this state knows something on: open positions, open orders, algo orders.
    pub fn symbols_held(&self) -> BTreeSet<String> {
        let Some(s) = &self.snap else {
            return BTreeSet::new();
        };
        s.positions
            .iter()
            .filter(|p| !p.signed_quantity.is_zero())
            .map(|p| p.symbol.clone())
            .chain(s.open_orders.iter().map(|o| o.symbol.clone()))
            .chain(s.open_conditionals.iter().map(|o| o.symbol.clone()))
            .collect()
    }

    /// Applies one user-data event.
    pub fn apply(&mut self, ev: &AccountEvent) {
        match ev {
            AccountEvent::Resynced(r) => self.resynced(r.snapshot.clone()),
            AccountEvent::Disconnected(_) | AccountEvent::Failed(_) => self.stream_down(),
            AccountEvent::BalancePosition(u) => self.balance_position(u),
            AccountEvent::Order(u) => {
                if let Execution::Trade(_) = u.execution {
                    let at = u.times.transaction.unwrap_or(u.times.venue);
                    self.streamed_trade(&u.order, at);
                }
                if u.execution != Execution::New || u.order.status.is_final() {
                    self.order_done(&u.order.client_id);
                }
                if !u.order.status.is_final() {
                    self.order_open(&u.order);
                }
            }
            AccountEvent::Conditional(u) => self.conditional(&u.order, u.times.received),
            AccountEvent::Leverage(l) => self.set_leverage(&l.symbol, l.leverage),
            AccountEvent::MultiAssets(m) => {
                if let Some(s) = &mut self.snap {
                    s.multi_assets = m.enabled;
                }
            }
            AccountEvent::MarginCall(_) | AccountEvent::TriggerRejected(_) => {}
        }
    }

    fn balance_position(&mut self, u: &BalancePositionUpdate) {
        let at = u.times.transaction.unwrap_or(u.times.venue);
        let mut books = Vec::new();
        let mut reported = Vec::new();
        let Some(s) = &mut self.snap else {
            return;
        };
        for b in &u.balances {
            let asset = b.asset.as_str().to_owned();
            if self.bal_as_of.get(&asset).is_some_and(|t| *t > at) {
                continue;
            }
            self.bal_as_of.insert(asset, at);
            match s.balances.iter_mut().find(|x| x.asset == b.asset) {
                Some(x) => {
                    let delta = b.wallet_balance - x.wallet_balance;
                    x.wallet_balance = b.wallet_balance;
                    x.available_balance += delta;
                    x.margin_balance += delta;
                    x.updated_at = at;
                }
                None => s.balances.push(crate::exchange::Balance {
                    asset: b.asset.clone(),
                    wallet_balance: b.wallet_balance,
                    unrealized_pnl: Decimal::ZERO,
                    margin_balance: b.wallet_balance,
                    available_balance: b.wallet_balance,
                    updated_at: at,
                }),
            }
        }
        for p in &u.positions {
            let key = (p.symbol.clone(), p.position_side);
            if self.pos_as_of.get(&key).is_some_and(|t| *t > at) {
                continue;
            }
            self.pos_as_of.insert(key.clone(), at);
            self.pos_touched.insert(key.clone(), u.times.received);
            reported.push(key.clone());
            let leverage = s
                .symbol_settings
                .iter()
                .find(|x| x.symbol == p.symbol)
                .map_or(1, |x| x.leverage);
            let Some(pos) = position_entry(s, &p.symbol, p.position_side, leverage) else {
                continue;
            };
            pos.signed_quantity = p.signed_quantity;
            pos.entry_price = p.entry_price;
            pos.unrealized_pnl = p.unrealized_pnl;
            pos.margin_mode = p.margin_mode;
            if p.margin_mode == MarginMode::Isolated {
                pos.margin = p.isolated_margin;
            }
            pos.updated_at = at;
            if !p.signed_quantity.is_zero() {
                books.push(p.symbol.clone());
            }
        }
        for key in reported {
            self.settle_pending(&key);
        }
        for b in books {
            self.want_book(&b);
        }
    }

    /// Our own order's acknowledgement moved a position before the stream said so: the
    /// fill counts at once (the next signal plans from it) until the stream's report of
    /// the position at or after the acknowledgement's venue time replaces it.
    pub fn own_fill(&mut self, r: &OrderReport, now: i64) {
        let filled = r.filled_quantity.get();
        let Some(price) = r.average_price.map(Price::get) else {
            return;
        };
        if filled <= Decimal::ZERO {
            return;
        }
        let key = (r.symbol.clone(), r.position_side);
        // The fill's venue time: its last trade's, when the stream reported them all.
        let at = self
            .streamed_trades
            .get(&r.client_id)
            .and_then(|trades| trades.iter().find(|(_, done)| *done >= filled))
            .map_or(r.updated_at, |(t, _)| r.updated_at.min(*t));
        self.pending.retain(|p| p.client_id != r.client_id);
        self.pending.push(PendingFill {
            key: key.clone(),
            client_id: r.client_id.clone(),
            acked: filled,
            signed_qty: match r.side {
                crate::domain::Side::Buy => filled,
                crate::domain::Side::Sell => -filled,
            },
            price,
            at,
            local_at: now,
        });
        // The stream may have reported it (or part of it) already.
        self.settle_pending(&key);
        self.want_book(&r.symbol);
    }

    /// The stream reported a trade of our order `o` at venue time `at`: a pending fill the
    /// trades so far complete takes the last one's time, and what of it the position
    /// reports already hold stops counting.
    fn streamed_trade(&mut self, o: &OrderReport, at: i64) {
        let filled = o.filled_quantity.get();
        if self.streamed_trades.len() >= TOUCHED_KEPT {
            self.streamed_trades
                .retain(|_, trades| trades.iter().any(|(t, _)| *t >= at - TOUCHED_FOR_MS));
        }
        self.streamed_trades
            .entry(o.client_id.clone())
            .or_default()
            .push((at, filled));
        for f in &mut self.pending {
            if f.client_id == o.client_id && filled >= f.acked {
                f.at = f.at.min(at);
            }
        }
        self.settle_pending(&(o.symbol.clone(), o.position_side));
    }

    /// Takes out of the pending fills of `key` what the newest position report holds: all
    /// of a fill acknowledged at or before the report's venue time, and of a later one the
    /// trades the stream reported at or before it.
    fn settle_pending(&mut self, key: &Key) {
        let Some(reported) = self.pos_as_of.get(key).copied() else {
            return;
        };
        let trades = &self.streamed_trades;
        self.pending.retain_mut(|f| {
            if &f.key != key {
                return true;
            }
            if reported >= f.at {
                return false;
            }
            let held = trades
                .get(&f.client_id)
                .into_iter()
                .flatten()
                .filter(|(t, _)| *t <= reported)
                .map(|(_, done)| *done)
                .max()
                .unwrap_or(Decimal::ZERO);
            if held >= f.acked {
                return false;
            }
            let left = f.acked - held;
            f.signed_qty = if f.signed_qty.is_sign_negative() {
                -left
            } else {
                left
            };
            true
        });
    }

    fn order_open(&mut self, o: &OrderReport) {
        if let Some(s) = &mut self.snap {
            s.open_orders.retain(|x| x.client_id != o.client_id);
            s.open_orders.push(o.clone());
        }
    }

    fn order_done(&mut self, client_id: &str) {
        if let Some(s) = &mut self.snap {
            s.open_orders.retain(|x| x.client_id != client_id);
        }
    }

    /// A conditional order's new state, from the stream or our own placement, at local
    /// time `at`.
    pub fn conditional(&mut self, o: &ConditionalReport, at: i64) {
        let Some(s) = &mut self.snap else {
            return;
        };
        touch(&mut self.cond_touched, &o.client_id, at);
        s.open_conditionals.retain(|x| x.client_id != o.client_id);
        if matches!(o.status, ConditionalStatus::New | ConditionalStatus::Sent) {
            s.open_conditionals.push(o.clone());
        }
    }

    /// Whether the conditional order `client_id` rests on the venue as this state holds it.
    pub fn conditional_rests(&self, client_id: &str) -> bool {
        self.snap
            .as_ref()
            .is_some_and(|s| s.open_conditionals.iter().any(|o| o.client_id == client_id))
    }

    /// Our cancel of a conditional order went through, at local time `at`.
    pub fn conditional_gone(&mut self, client_id: &str, at: i64) {
        touch(&mut self.cond_touched, client_id, at);
        if let Some(s) = &mut self.snap {
            s.open_conditionals.retain(|x| x.client_id != client_id);
        }
    }

    /// A symbol's leverage, from the stream or our own change.
    pub fn set_leverage(&mut self, symbol: &str, leverage: u32) {
        if let Some(s) = &mut self.snap {
            setting(s, symbol).leverage = leverage;
            for p in s.positions.iter_mut().filter(|p| p.symbol == symbol) {
                p.leverage = leverage;
            }
        }
    }

    /// A symbol's margin mode, after our own change went through.
    pub fn set_margin_mode(&mut self, symbol: &str, mode: MarginMode) {
        if let Some(s) = &mut self.snap {
            setting(s, symbol).margin_mode = mode;
        }
    }

    /// Multi-assets mode, after our own change went through.
    pub fn set_multi_assets(&mut self, enabled: bool) {
        if let Some(s) = &mut self.snap {
            s.multi_assets = enabled;
        }
    }

    /// Applies one market-data event.
    pub fn market(&mut self, ev: &MarketEvent) {
        match ev {
            MarketEvent::Mark {
                symbol,
                price,
                received_ms,
                ..
            } => {
                self.marks
                    .insert(symbol.clone(), (price.get(), *received_ms));
            }
            MarketEvent::Book {
                symbol,
                bid,
                ask,
                received_ms,
                ..
            } => {
                self.books
                    .insert(symbol.clone(), (bid.get(), ask.get(), *received_ms));
            }
            MarketEvent::Connected { what, .. } => {
                if *what == "marks" {
                    self.marks_up = true;
                } else {
                    self.books_up = true;
                }
            }
            MarketEvent::Disconnected { what, .. } => {
                if *what == "marks" {
                    self.marks_up = false;
                } else {
                    self.books_up = false;
                    self.books.clear();
                }
            }
        }
    }

    /// Where the market task asks for book tickers.
    pub fn set_watcher(&mut self, w: mpsc::UnboundedSender<String>) {
        for s in &self.watched {
            let _ = w.send(s.clone());
        }
        self.watcher = Some(w);
    }

    /// Asks the market stream for a symbol's best bid/ask (once).
    pub fn want_book(&mut self, symbol: &str) {
        if self.watched.insert(symbol.to_owned()) {
            if let Some(w) = &self.watcher {
                let _ = w.send(symbol.to_owned());
            }
        }
    }

    /// A symbol's mark price, when the stream delivered one within [`MARK_STALE_MS`].
    pub fn mark(&self, symbol: &str, now: i64) -> Option<Decimal> {
        if !self.marks_up {
            return None;
        }
        self.marks
            .get(symbol)
            .filter(|(_, at)| now - at <= MARK_STALE_MS)
            .map(|(p, _)| *p)
    }

    /// Why [`Self::mark`] has no price for a symbol, for the log.
    pub fn mark_gap(&self, symbol: &str, now: i64) -> String {
        if !self.marks_up {
            return "the mark-price stream is not connected".into();
        }
        match self.marks.get(symbol) {
            None => format!("the mark-price stream has sent no mark for {symbol} yet"),
            Some((_, at)) => format!("the last mark for {symbol} is {} ms old", now - at),
        }
    }

    /// A book ticker read over REST on a symbol's first signal, before its stream delivered
    /// one: the symbol's book stream is asked for, and while the book socket is connected
    /// the read is kept like a streamed ticker (the stream sends one on every change, so
    /// it stands until the stream replaces it or disconnects). Without this, a venue whose
    /// book does not move sends nothing and every signal read the book again.
    pub fn book_read(&mut self, symbol: &str, bid: Decimal, ask: Decimal, received_ms: i64) {
        self.want_book(symbol);
        if self.books_up {
            self.books
                .entry(symbol.to_owned())
                .or_insert((bid, ask, received_ms));
        }
    }

    /// The best bid and ask the book stream delivered for a symbol (kept while the stream
    /// is connected; a book ticker is sent on every change).
    pub fn book(&self, symbol: &str) -> Option<(Decimal, Decimal)> {
        self.books.get(symbol).map(|(b, a, _)| (*b, *a))
    }

    /// The price a market order would meet: the mid of the best bid and ask when the book
    /// stream has them, else the mark.
    pub fn current(&self, symbol: &str, now: i64) -> Option<Decimal> {
        match self.books.get(symbol) {
            Some((bid, ask, _)) => Some((bid + ask) / Decimal::TWO),
            None => self.mark(symbol, now),
        }
    }

    /// The account now: the streams' state with equity, available balance, unrealized PnL,
    /// notional and margin moved to the current marks.
    pub fn view(&self, now: i64) -> Result<AccountSnapshot, Stale> {
        if self.snap.is_none() {
            return Err(Stale::NoSnapshot);
        }
        if !self.stream_up {
            return Err(Stale::StreamDown);
        }
        self.estimate(now).ok_or(Stale::NoSnapshot)
    }

    /// Local time of the latest change of a position the state knows of: the stream's
    /// last report of it, or a fill of ours acknowledged since.
    fn changed_at(&self, symbol: &str, side: PositionSide) -> i64 {
        let key = (symbol.to_owned(), side);
        let streamed = self.pos_touched.get(&key).copied().unwrap_or(i64::MIN);
        self.pending
            .iter()
            .filter(|f| f.key == key)
            .map(|f| f.local_at)
            .fold(streamed, i64::max)
    }

    /// As [`Self::view`], whether or not the stream is up (right after a REST read).
    pub fn estimate(&self, now: i64) -> Option<AccountSnapshot> {
        let base = self.snap.as_ref()?;
        let mut s = base.clone();
        for f in self
            .pending
            .iter()
            .filter(|f| now - f.local_at <= PENDING_MS)
        {
            let leverage = s
                .symbol_settings
                .iter()
                .find(|x| x.symbol == f.key.0)
                .map_or(1, |x| x.leverage);
            if let Some(pos) = position_entry(&mut s, &f.key.0, f.key.1, leverage) {
                add_fill(pos, f.signed_qty, f.price);
            }
        }
        for p in &mut s.positions {
            let Some(mark) = self.mark(&p.symbol, now) else {
                continue;
            };
            // A mark older than the snapshot would undo the venue's newer figures, and one
            // older than the position's latest change (our own fill, a stream report)
            // would price the new position at a price from before it: a stalled market
            // stream must not make a fresh fill look like a loss.
            let mark_at = self.marks.get(&p.symbol).map_or(0, |(_, at)| *at);
            if mark_at < base.taken_at || mark_at < self.changed_at(&p.symbol, p.position_side) {
                continue;
            }
            p.mark_price = Price::new(mark).ok();
            if let Some(entry) = p.entry_price {
                p.unrealized_pnl = p.signed_quantity * (mark - entry.get());
            }
            p.notional = p.signed_quantity * mark;
            if p.margin_mode == MarginMode::Cross && p.leverage > 0 {
                p.margin = p.notional.abs() / Decimal::from(p.leverage);
            }
        }
        let wallet: Decimal = s.balances.iter().map(|b| b.wallet_balance).sum();
        let upnl: Decimal = s.positions.iter().map(|p| p.unrealized_pnl).sum();
        let margin: Decimal = s.positions.iter().map(|p| p.margin).sum();
        let d_equity = (wallet - self.base_wallet) + (upnl - self.base_upnl);
        let d_upnl = upnl - self.base_upnl;
        let d_margin = margin - self.base_margin;
        s.equity = base.equity + d_equity;
        s.available = (base.available + d_equity - d_margin).max(Decimal::ZERO);
        // The account-wide moves land on the main margin asset (the largest wallet).
        if let Some(main) = s
            .balances
            .iter_mut()
            .max_by(|a, b| a.wallet_balance.cmp(&b.wallet_balance))
        {
            main.unrealized_pnl += d_upnl;
            main.margin_balance += d_upnl;
            main.available_balance =
                (main.available_balance + d_upnl - d_margin).max(Decimal::ZERO);
        }
        s.taken_at = now;
        Some(s)
    }
}

/// The newest venue time a snapshot holds (a position's or a balance's last change): the
/// venue had reached at least this when it was read.
fn newest(s: &AccountSnapshot) -> i64 {
    let positions = s.positions.iter().map(|p| p.updated_at);
    let balances = s.balances.iter().map(|b| b.updated_at);
    positions.chain(balances).max().unwrap_or(0)
}

/// A position after a fill of `signed` at `price`: the entry averages on an increase,
/// stays on a reduction and restarts on a flip.
fn add_fill(pos: &mut PositionSnapshot, signed: Decimal, price: Decimal) {
    let old = pos.signed_quantity;
    let new = old + signed;
    let entry = pos.entry_price.map_or(Decimal::ZERO, Price::get);
    pos.entry_price = if new.is_zero() {
        None
    } else if old.is_zero() || old.is_sign_negative() != new.is_sign_negative() {
        Price::new(price).ok()
    } else if new.abs() > old.abs() {
        Price::new((entry * old.abs() + price * signed.abs()) / new.abs()).ok()
    } else {
        pos.entry_price
    };
    pos.signed_quantity = new;
}

fn setting<'a>(s: &'a mut AccountSnapshot, symbol: &str) -> &'a mut SymbolSetting {
    if let Some(i) = s.symbol_settings.iter().position(|x| x.symbol == symbol) {
        return &mut s.symbol_settings[i];
    }
    s.symbol_settings.push(SymbolSetting {
        symbol: symbol.to_owned(),
        leverage: 20,
        margin_mode: MarginMode::Cross,
    });
    let last = s.symbol_settings.len() - 1;
    &mut s.symbol_settings[last]
}

fn position_entry<'a>(
    s: &'a mut AccountSnapshot,
    symbol: &str,
    side: PositionSide,
    leverage: u32,
) -> Option<&'a mut PositionSnapshot> {
    if let Some(i) = s
        .positions
        .iter()
        .position(|p| p.symbol == symbol && p.position_side == side)
    {
        return Some(&mut s.positions[i]);
    }
    let margin_asset = s
        .positions
        .first()
        .map(|p| p.margin_asset.clone())
        .or_else(|| s.balances.first().map(|b| b.asset.clone()))
        .or_else(|| crate::domain::Asset::new("USDT").ok())?;
    s.positions.push(PositionSnapshot {
        symbol: symbol.to_owned(),
        position_side: side,
        signed_quantity: Decimal::ZERO,
        entry_price: None,
        mark_price: None,
        unrealized_pnl: Decimal::ZERO,
        liquidation_price: None,
        margin_mode: MarginMode::Cross,
        leverage,
        margin: Decimal::ZERO,
        maintenance_margin: Decimal::ZERO,
        notional: Decimal::ZERO,
        margin_asset,
        updated_at: 0,
    });
    s.positions.last_mut()
}

/// One follower account's state, shared by its copies, and the lock that makes copies
/// that want a fresh snapshot at the same time share one read.
#[derive(Debug, Default)]
pub struct SharedAccount {
    state: Mutex<AccountState>,
    pub(crate) reading: tokio::sync::Mutex<()>,
}

impl SharedAccount {
    pub fn lock(&self) -> MutexGuard<'_, AccountState> {
        // The state is rebuilt from the next snapshot; a panic elsewhere must not stop
        // every copy of the account.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    //! Seed 203 of the fault matrix's long run: a repair fill acknowledged while the
    //! follower's resync snapshot was being read, then the resync applied.
    use super::*;
    use crate::domain::{Asset, PositionMode, Quantity, Side};
    use crate::exchange::{OrderOrigin, OrderStatus, ReportedOrderType};
    use rust_decimal_macros::dec;

    fn row(qty: Decimal, updated_at: i64) -> PositionSnapshot {
        PositionSnapshot {
            symbol: "BTCUSDT".into(),
            position_side: PositionSide::Both,
            signed_quantity: qty,
            entry_price: Price::new(dec!(60000)).ok(),
            mark_price: None,
            unrealized_pnl: Decimal::ZERO,
            liquidation_price: None,
            margin_mode: MarginMode::Cross,
            leverage: 5,
            margin: Decimal::ZERO,
            maintenance_margin: Decimal::ZERO,
            notional: Decimal::ZERO,
            margin_asset: Asset::new("USDT").unwrap(),
            updated_at,
        }
    }

    fn snap(positions: Vec<PositionSnapshot>, taken_at: i64) -> AccountSnapshot {
        AccountSnapshot {
            balances: Vec::new(),
            equity: dec!(10000),
            available: dec!(10000),
            positions,
            symbol_settings: Vec::new(),
            open_orders: Vec::new(),
            open_conditionals: Vec::new(),
            position_mode: PositionMode::OneWay,
            multi_assets: false,
            taken_at,
        }
    }

    fn ack(side: Side, qty: Decimal, venue_at: i64) -> OrderReport {
        OrderReport {
            client_id: "cd-repair".into(),
            venue_order_id: "7".into(),
            symbol: "BTCUSDT".into(),
            side,
            position_side: PositionSide::Both,
            order_type: ReportedOrderType::Market,
            status: OrderStatus::Filled,
            origin: OrderOrigin::Client,
            price: None,
            quantity: Quantity::new(qty).unwrap(),
            filled_quantity: Quantity::new(qty).unwrap(),
            average_price: Price::new(dec!(60000)).ok(),
            reduce_only: false,
            updated_at: venue_at,
        }
    }

    fn qty(st: &AccountState, now: i64) -> Decimal {
        st.view(now)
            .unwrap()
            .positions
            .iter()
            .find(|p| p.symbol == "BTCUSDT")
            .map_or(Decimal::ZERO, |p| p.signed_quantity)
    }

    /// The state before: 0.05 from an earlier snapshot, the stream then dropped.
    fn dropped() -> AccountState {
        let mut st = AccountState::default();
        st.resynced(snap(vec![row(dec!(0.05), 1_000)], 1_000));
        st.stream_down();
        st
    }

    #[test]
    fn a_fill_after_the_resync_read_counts_until_the_stream_reports_it() {
        let mut st = dropped();
        // The repair fill executes at venue time 5_000 and is acknowledged at 5_010 local…
        st.own_fill(&ack(Side::Buy, dec!(0.03), 5_000), 5_010);
        // …after the resync read found 0.05 (last changed at 1_000), which lands later.
        st.resynced(snap(vec![row(dec!(0.05), 1_000)], 5_020));
        assert_eq!(qty(&st, 5_030), dec!(0.08));
    }

    #[test]
    fn a_fill_the_resync_read_holds_is_not_counted_twice() {
        let mut st = dropped();
        st.own_fill(&ack(Side::Buy, dec!(0.03), 5_000), 5_010);
        st.resynced(snap(vec![row(dec!(0.08), 5_000)], 5_020));
        assert_eq!(qty(&st, 5_030), dec!(0.08));
    }

    #[test]
    fn a_close_the_resync_read_holds_leaves_the_position_flat() {
        let mut st = dropped();
        st.own_fill(&ack(Side::Sell, dec!(0.05), 5_000), 5_010);
        // The venue lists open positions only: the closed one is absent.
        st.resynced(snap(Vec::new(), 5_020));
        assert_eq!(qty(&st, 5_030), Decimal::ZERO);
    }

    #[test]
    fn an_open_the_resync_read_missed_counts() {
        let mut st = AccountState::default();
        st.resynced(snap(Vec::new(), 1_000));
        st.stream_down();
        st.own_fill(&ack(Side::Buy, dec!(0.02), 5_000), 5_010);
        st.resynced(snap(Vec::new(), 5_020));
        assert_eq!(qty(&st, 5_030), dec!(0.02));
    }

    #[test]
    fn a_resync_read_older_than_a_refresh_does_not_undo_a_fill_of_ours() {
        // Seed 203: the stream is down; a repair fills at venue time 5_000, a signal's
        // REST read then holds it (0.08) and drops the pending fill; the resync's read,
        // started before the fill and delivered after, still says 0.05.
        let mut st = dropped();
        st.own_fill(&ack(Side::Buy, dec!(0.03), 5_000), 5_010);
        st.refreshed(snap(vec![row(dec!(0.08), 5_000)], 5_030), 5_015);
        st.resynced(snap(vec![row(dec!(0.05), 1_000)], 5_040));
        assert_eq!(qty(&st, 5_050), dec!(0.08));
    }

    #[test]
    fn a_resync_read_from_before_an_open_of_ours_does_not_hide_it() {
        let mut st = AccountState::default();
        st.resynced(snap(Vec::new(), 1_000));
        st.stream_down();
        st.own_fill(&ack(Side::Buy, dec!(0.02), 5_000), 5_010);
        st.refreshed(snap(vec![row(dec!(0.02), 5_000)], 5_030), 5_015);
        st.resynced(snap(Vec::new(), 5_040));
        assert_eq!(qty(&st, 5_050), dec!(0.02));
    }

    #[test]
    fn a_resync_read_from_before_a_close_of_ours_does_not_reopen_it() {
        let mut st = dropped();
        st.own_fill(&ack(Side::Sell, dec!(0.05), 5_000), 5_010);
        // The refresh no longer lists the position; its wallet moved at the close.
        let mut after = snap(Vec::new(), 5_030);
        after.balances.push(crate::exchange::Balance {
            asset: Asset::new("USDT").unwrap(),
            wallet_balance: dec!(10000),
            unrealized_pnl: Decimal::ZERO,
            margin_balance: dec!(10000),
            available_balance: dec!(10000),
            updated_at: 5_000,
        });
        st.refreshed(after, 5_015);
        st.resynced(snap(vec![row(dec!(0.05), 1_000)], 5_040));
        assert_eq!(qty(&st, 5_050), Decimal::ZERO);
    }

    #[test]
    fn a_newer_resync_read_replaces_what_the_state_held() {
        let mut st = dropped();
        // Closed by hand at venue time 6_000 while the stream was down.
        st.resynced(snap(vec![row(dec!(0.02), 6_000)], 6_100));
        assert_eq!(qty(&st, 6_200), dec!(0.02));
    }

    #[test]
    fn a_late_acknowledgement_of_a_fill_a_refresh_holds_is_not_counted_twice() {
        let mut st = AccountState::default();
        st.resynced(snap(vec![row(dec!(0.05), 1_000)], 1_000));
        // The read starts at 4_000 local and sees the fill of venue time 3_900, whose
        // acknowledgement is held back and recorded only at 4_500.
        st.own_fill(&ack(Side::Buy, dec!(0.03), 3_900), 4_500);
        st.refreshed(snap(vec![row(dec!(0.08), 3_900)], 4_600), 4_000);
        assert_eq!(qty(&st, 4_700), dec!(0.08));
    }

    fn stop(client_id: &str, at: i64) -> ConditionalReport {
        ConditionalReport {
            client_id: client_id.into(),
            venue_id: format!("algo-{client_id}"),
            symbol: "BTCUSDT".into(),
            side: Side::Sell,
            position_side: PositionSide::Both,
            order_type: ReportedOrderType::StopMarket,
            status: crate::exchange::ConditionalStatus::New,
            trigger_price: Price::new(dec!(55000)).ok(),
            quantity: Quantity::new(dec!(0.05)).ok(),
            close_position: false,
            reduce_only: true,
            triggered_order_id: None,
            updated_at: at,
        }
    }

    fn stops(st: &AccountState, now: i64) -> Vec<String> {
        let mut ids: Vec<String> = st
            .view(now)
            .unwrap()
            .open_conditionals
            .into_iter()
            .map(|o| o.client_id)
            .collect();
        ids.sort();
        ids
    }

    /// Stop `a` resting from the stream's snapshot, the stream up.
    fn guarded() -> AccountState {
        let mut st = AccountState::default();
        let mut first = snap(vec![row(dec!(0.05), 1_000)], 1_000);
        first.open_conditionals.push(stop("a", 1_000));
        st.resynced(first);
        st
    }

    #[test]
    fn a_stop_placed_while_a_read_was_on_its_way_is_kept() {
        // The read starts at 5_000 and lists `a`; `a` is replaced by `b` at 5_100 (the
        // cancel, then the placement's acknowledgement); the read lands at 5_200.
        let mut st = guarded();
        st.conditional_gone("a", 5_100);
        st.conditional(&stop("b", 5_100), 5_120);
        let mut read = snap(vec![row(dec!(0.05), 1_000)], 5_200);
        read.open_conditionals.push(stop("a", 1_000));
        st.refreshed(read, 5_000);
        assert_eq!(stops(&st, 5_300), vec!["b".to_owned()]);
    }

    #[test]
    fn a_read_started_after_a_change_decides() {
        // `b` was placed at 5_100; a read started at 6_000 does not list it: it is gone
        // from the venue (cancelled outside the engine), and the state says so.
        let mut st = guarded();
        st.conditional(&stop("b", 5_100), 5_100);
        let read = snap(vec![row(dec!(0.05), 1_000)], 6_100);
        st.refreshed(read, 6_000);
        assert_eq!(stops(&st, 6_200), Vec::<String>::new());
    }

    // An acknowledgement stamped 1 ms after the fill it reports (the port test's venue
    // makes its answer after the fill's events): the stream's trade and position reports
    // carry the fill's own time, 5_000. In every order of arrival the partial close of
    // 0.10 to 0.05 counts once, never twice (0, which the next close would read as a
    // position closed outside CopyDesk).

    fn times(at: i64) -> crate::exchange::events::EventTimes {
        crate::exchange::events::EventTimes {
            venue: at,
            transaction: Some(at),
            received: at,
            received_us: at * 1_000,
        }
    }

    fn trade_report(qty: Decimal, at: i64) -> AccountEvent {
        let order = ack(Side::Sell, qty, at);
        AccountEvent::Order(crate::exchange::events::OrderUpdate {
            times: times(at),
            execution: Execution::Trade(crate::exchange::events::Fill {
                trade_id: "1".into(),
                quantity: order.filled_quantity,
                price: Price::new(dec!(60000)).unwrap(),
                commission: None,
                realized_pnl: Decimal::ZERO,
                maker: false,
            }),
            order,
        })
    }

    fn position_report(held: Decimal, at: i64) -> AccountEvent {
        AccountEvent::BalancePosition(crate::exchange::events::BalancePositionUpdate {
            times: times(at),
            reason: crate::exchange::events::BalanceReason::Order,
            balances: Vec::new(),
            positions: vec![crate::exchange::events::PositionChange {
                symbol: "BTCUSDT".into(),
                position_side: PositionSide::Both,
                signed_quantity: held,
                entry_price: Price::new(dec!(60000)).ok(),
                unrealized_pnl: Decimal::ZERO,
                margin_mode: MarginMode::Cross,
                isolated_margin: Decimal::ZERO,
            }],
        })
    }

    fn holding_a_tenth() -> AccountState {
        let mut st = AccountState::default();
        st.resynced(snap(vec![row(dec!(0.10), 1_000)], 1_000));
        st
    }

    #[test]
    fn an_acknowledgement_stamped_after_the_streams_reports_of_its_fill_is_not_counted_again() {
        let mut st = holding_a_tenth();
        st.apply(&trade_report(dec!(0.05), 5_000));
        st.apply(&position_report(dec!(0.05), 5_000));
        st.own_fill(&ack(Side::Sell, dec!(0.05), 5_001), 5_010);
        assert_eq!(qty(&st, 5_020), dec!(0.05));
    }

    #[test]
    fn a_late_stamped_acknowledgement_goes_when_the_stream_reports_its_fill() {
        let mut st = holding_a_tenth();
        st.own_fill(&ack(Side::Sell, dec!(0.05), 5_001), 5_010);
        assert_eq!(qty(&st, 5_011), dec!(0.05), "the fill counts at once");
        st.apply(&trade_report(dec!(0.05), 5_000));
        st.apply(&position_report(dec!(0.05), 5_000));
        assert_eq!(qty(&st, 5_020), dec!(0.05));
    }

    #[test]
    fn a_late_stamped_acknowledgement_between_the_position_and_the_trade_report_is_not_counted_again(
    ) {
        // The venue's order of its two reports is not fixed: the position first here.
        let mut st = holding_a_tenth();
        st.apply(&position_report(dec!(0.05), 5_000));
        st.own_fill(&ack(Side::Sell, dec!(0.05), 5_001), 5_010);
        st.apply(&trade_report(dec!(0.05), 5_000));
        assert_eq!(qty(&st, 5_020), dec!(0.05));
    }

    #[test]
    fn a_position_report_holding_part_of_an_acknowledged_fill_leaves_the_rest_counted() {
        // Acknowledged filled 0.05 (in two trades); the stream has reported the first
        // 0.02 and the position after it, 0.08, so far.
        let mut st = holding_a_tenth();
        st.own_fill(&ack(Side::Sell, dec!(0.05), 5_001), 5_010);
        st.apply(&trade_report(dec!(0.02), 4_990));
        assert_eq!(
            qty(&st, 5_011),
            dec!(0.05),
            "a trade alone moves no position"
        );
        st.apply(&position_report(dec!(0.08), 4_990));
        assert_eq!(
            qty(&st, 5_020),
            dec!(0.05),
            "0.08 reported, 0.03 still to come"
        );
        st.apply(&trade_report(dec!(0.05), 5_000));
        st.apply(&position_report(dec!(0.05), 5_000));
        assert_eq!(qty(&st, 5_030), dec!(0.05));
    }
}
