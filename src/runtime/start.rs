//! Starting one copy, in named steps: [`resolve_keys`] (config accounts → key material),
//! [`check_setup`] (both accounts read, the settings checked against them), [`persist_copy`]
//! (the copy, its accounts, leader, settings version and `t0` in one store transaction),
//! [`plan_start`] (the start plan of a new copy; none for a restart) and
//! [`spawn_supervisor`]. [`RuntimeHandle::add`](super::RuntimeHandle::add) runs them for a
//! batch: every copy is checked before any of them is persisted or started.
//!
//! [`open_venue`] is the one place that turns an account into a venue client. The leader is
//! an account or a public lead portfolio (`leader_source`): a portfolio has no key to check,
//! its first good read is the baseline, and it is polled instead of streamed.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use rust_decimal::Decimal;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::domain::CopySettings;
use crate::engine::{self, CopyContext, CopyState, Ledger, Plan, StartInput};
use crate::exchange::{
    AccountSnapshot, Clock, Credentials, EventStream, SymbolRules, VenueFactory, VenueOptions,
    VenueRequest,
};
use crate::secrets::SecretPart;
use crate::store::table::copies::{CopyState as StoredState, NewCopy};
use crate::store::table::leader_t0::T0Position;
use crate::store::table::leaders::{LeaderSource, NewLeader};
use crate::store::{Store, StoreError};

use super::config::RunConfig;
use super::leader_poll::{Copyable, PortfolioPoller};
use super::leader_source::{LeaderFeed, LeaderSpec, LeaderView, PortfolioSpec};
use super::supervisor::{Command, CopyRunner, LeaderSide, RunnerParts, Venue};
use super::{follower, follower_events, KeySource, NotifyKind, NotifyLevel, RunOptions};
use super::{Refused, RuntimeError};
use super::{RuntimeHandle, SharedStore};

/// An account with the key material to reach it.
#[derive(Debug, Clone)]
pub struct AccountSpec {
    pub name: String,
    /// Venue id, `binance-usdm`.
    pub exchange: String,
    /// What the account row stores: `mainnet`, `demo`, `paper` or a URL.
    pub endpoint: String,
    /// Where to connect when it differs from `endpoint` (a paper account's simulator URL).
    pub connect: Option<String>,
    pub credentials: Credentials,
}

/// One copy to start or resume.
#[derive(Debug, Clone)]
pub struct CopySpec {
    pub name: String,
    pub leader: LeaderSpec,
    pub follower: AccountSpec,
    pub settings: CopySettings,
}

/// A stored copy that was running or paused: what is resumed at open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCopy {
    pub name: String,
    /// The leader's account, for account leaders.
    pub leader_account: Option<String>,
    /// The leader's portfolio, for public lead portfolios (`connect` unset: the caller
    /// resolves a paper endpoint).
    pub leader_portfolio: Option<PortfolioSpec>,
    pub follower: String,
    pub settings: CopySettings,
}

/// Step 1: the key material of every copy's accounts in a config.
pub fn resolve_keys(
    config: &RunConfig,
    keys: &KeySource<'_>,
) -> Result<Vec<CopySpec>, RuntimeError> {
    config
        .copies
        .iter()
        .map(|c| {
            Ok(CopySpec {
                name: c.name.clone(),
                leader: config_leader(config, &c.leader, keys)?,
                follower: config_account(config, &c.follower, keys)?,
                settings: c.settings.clone(),
            })
        })
        .collect()
}

/// A copy's leader in a config: a `[[leaders]]` public portfolio, or an account with its
/// keys from their source.
pub fn config_leader(
    config: &RunConfig,
    name: &str,
    keys: &KeySource<'_>,
) -> Result<LeaderSpec, RuntimeError> {
    if let Some(l) = config.portfolio_leader(name) {
        return Ok(LeaderSpec::Portfolio(PortfolioSpec {
            name: l.name.clone(),
            portfolio_id: l.portfolio.clone(),
            endpoint: l.endpoint.clone(),
            connect: None,
        }));
    }
    config_account(config, name, keys).map(LeaderSpec::Account)
}

/// One config account with its keys from their source.
pub fn config_account(
    config: &RunConfig,
    name: &str,
    keys: &KeySource<'_>,
) -> Result<AccountSpec, RuntimeError> {
    let err = |message: String| RuntimeError::Account {
        account: name.to_owned(),
        message,
    };
    let a = config
        .account(name)
        .ok_or_else(|| err("not in the config; add an [[accounts]] entry".into()))?;
    let credentials = match keys {
        KeySource::Given(map) => map
            .get(name)
            .cloned()
            .ok_or_else(|| err("no key was given for this account".into()))?,
        KeySource::Config(keychain) => {
            let key = a
                .api_key
                .resolve(name, SecretPart::ApiKey, keychain)
                .map_err(|e| err(e.to_string()))?;
            let secret = a
                .api_secret
                .resolve(name, SecretPart::ApiSecret, keychain)
                .map_err(|e| err(e.to_string()))?;
            let credentials = Credentials::new(key.expose(), secret.expose());
            match &a.api_passphrase {
                Some(source) => credentials.with_passphrase(
                    source
                        .resolve(name, SecretPart::ApiPassphrase, keychain)
                        .map_err(|e| err(e.to_string()))?,
                ),
                None => credentials,
            }
        }
    };
    Ok(AccountSpec {
        name: name.to_owned(),
        exchange: a.exchange.clone(),
        endpoint: a.endpoint.clone(),
        connect: None,
        credentials,
    })
}

/// The client for an account, through the venue factory (which picks the adapter from
/// the account's `exchange`).
pub(crate) fn open_venue(
    a: &AccountSpec,
    venues: &dyn VenueFactory,
    clock: &Arc<dyn Clock>,
    recv_window_ms: i64,
) -> Result<Venue, RuntimeError> {
    let err = |message: String| RuntimeError::Account {
        account: a.name.clone(),
        message,
    };
    let ex = venues
        .connect(VenueRequest {
            account: &a.name,
            exchange: &a.exchange,
            // A paper account connects to the embedded simulator's URL.
            endpoint: a.connect.as_deref().unwrap_or(&a.endpoint),
            credentials: Some(a.credentials.clone()),
            options: VenueOptions {
                clock: clock.clone(),
                // The resend rule waits out the same window the venue applies.
                recv_window_ms: u64::try_from(recv_window_ms).unwrap_or(5_000),
                background: false,
            },
        })
        .map_err(|e| err(e.to_string()))?;
    Ok(Venue { ex })
}

/// A copy whose accounts were read and whose settings passed the set-up checks.
pub(crate) struct Checked {
    pub spec: CopySpec,
    /// Key permissions the venue could not show, announced at the start.
    unverified: Vec<String>,
    leader: LeaderSide,
    pub(crate) follower: Venue,
    rules: BTreeMap<String, SymbolRules>,
    /// The account leader's snapshot (none for a portfolio).
    lsnap: Option<AccountSnapshot>,
    /// What the start read of the leader (either source).
    lview: LeaderView,
    pub(crate) fsnap: AccountSnapshot,
    leader_feed: CheckedFeed,
    follower_stream: EventStream,
    /// Venue time minus local time, for `t0`.
    offset_ms: i64,
}

impl Checked {
    /// The display precision of every symbol the follower's venue lists.
    pub(crate) fn precisions(&self) -> impl Iterator<Item = (String, super::SymbolPrecision)> + '_ {
        self.rules
            .iter()
            .map(|(name, r)| (name.clone(), super::SymbolPrecision::of(&r.filters)))
    }
}

/// The leader's feed as the checks left it: an open stream, or a poller that took (or, on
/// a restart whose first read failed, will take) the baseline.
enum CheckedFeed {
    /// A place on the leader account's stream, shared with the leader's other copies.
    Shared(super::leader_hub::LeaderSubscription),
    Poller(PortfolioPoller),
}

/// Opens an account's stream and waits for its first snapshot.
pub(crate) async fn first_snapshot(
    venue: &Venue,
    name: &str,
) -> Result<(EventStream, AccountSnapshot), String> {
    let mut stream = venue
        .ex
        .subscribe()
        .await
        .map_err(|e| format!("its stream could not be opened: {e}"))?;
    let wait = async {
        while let Some(ev) = stream.next().await {
            match ev {
                crate::exchange::AccountEvent::Resynced(r) => return Ok(r.snapshot),
                crate::exchange::AccountEvent::Failed(f) => return Err(f.error.to_string()),
                // Updates before the first snapshot are covered by it.
                crate::exchange::AccountEvent::Order(_)
                | crate::exchange::AccountEvent::Conditional(_)
                | crate::exchange::AccountEvent::BalancePosition(_)
                | crate::exchange::AccountEvent::Leverage(_)
                | crate::exchange::AccountEvent::MultiAssets(_)
                | crate::exchange::AccountEvent::MarginCall(_)
                | crate::exchange::AccountEvent::TriggerRejected(_)
                | crate::exchange::AccountEvent::Disconnected(_) => continue,
            }
        }
        Err("its stream closed before the first snapshot".to_owned())
    };
    match tokio::time::timeout(std::time::Duration::from_secs(60), wait).await {
        Ok(Ok(snap)) => Ok((stream, snap)),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(format!("no snapshot of `{name}` within 60 s")),
    }
}

/// Step 2: reads both accounts and checks the settings against them. `reserved` is what
/// other copies already reserve of each follower's balance; this copy's investment is
/// added to it.
pub(crate) async fn check_setup(
    spec: CopySpec,
    opts: &RunOptions,
    reserved: &mut HashMap<String, Decimal>,
    ctx_in: SetupExtras<'_>,
) -> Result<Checked, RuntimeError> {
    let recv = opts.engine.recv_window_ms;
    let follower = open_venue(&spec.follower, &*opts.venues, &opts.clock, recv)?;
    let setup = |message: String| RuntimeError::Setup {
        copy: spec.name.clone(),
        message,
    };
    // Both keys first: a key that can withdraw, or a follower key that cannot trade
    // futures, is refused before anything is read or started. A public portfolio has no key.
    let leader_venue = match &spec.leader {
        LeaderSpec::Account(a) => {
            // One client per leader account: copies of a followed leader share its stream.
            let leader = Venue {
                ex: ctx_in.leaders.venue(&a.name, || {
                    open_venue(a, &*opts.venues, &opts.clock, recv).map(|v| v.ex)
                })?,
            };
            // The leader's resting orders are never read (fills and positions are copied):
            // its snapshots, at start and at every resync, leave them out (80 of 100 weight).
            leader.ex.positions_only();
            Some(leader)
        }
        LeaderSpec::Portfolio(_) => None,
    };
    let keys = match &leader_venue {
        Some(l) => {
            super::key_gate::check(l, spec.leader.name(), &follower, &spec.follower.name).await
        }
        None => super::key_gate::check_follower(&follower, &spec.follower.name).await,
    }
    .map_err(setup)?;
    let rules = follower
        .ex
        .symbol_rules()
        .await
        .map_err(|e| setup(format!("cannot read the follower's symbols: {e}")))?;
    let rules: BTreeMap<_, _> = rules
        .rules
        .into_iter()
        .map(|r| (r.symbol.name.clone(), r))
        .collect();
    // The streams' first snapshots serve as the setup reads, which halves the weight a
    // start spends of the venue's per-address budget.
    let (leader, lsnap, lview, leader_feed, read) = match (&spec.leader, leader_venue) {
        (LeaderSpec::Account(a), Some(venue)) => {
            let (sub, lsnap) = ctx_in
                .leaders
                .join(&a.name, &venue.ex, ctx_in.stop.clone())
                .await
                .map_err(|m| setup(format!("cannot read the leader account `{}`: {m}", a.name)))?;
            let view = LeaderView::of_account(&lsnap);
            (
                LeaderSide::Account(venue),
                Some(lsnap),
                view,
                CheckedFeed::Shared(sub),
                true,
            )
        }
        (LeaderSpec::Portfolio(p), _) => {
            let (poller, view, read) = first_portfolio_read(p, opts, ctx_in.restart, ctx_in.budget)
                .await
                .map_err(setup)?;
            (
                LeaderSide::portfolio(&p.portfolio_id, &view, read),
                None,
                view,
                CheckedFeed::Poller(poller),
                read,
            )
        }
        (LeaderSpec::Account(_), None) => {
            return Err(setup("the leader account could not be opened".into()))
        }
    };
    let (follower_stream, fsnap) = first_snapshot(&follower, &spec.follower.name)
        .await
        .map_err(|m| {
            setup(format!(
                "cannot read the follower account `{}`: {m}; check its key can read and trade futures",
                spec.follower.name
            ))
        })?;
    let used = reserved.entry(spec.follower.name.clone()).or_default();
    let ctx = crate::domain::settings::SetupContext {
        follower_can_trade_futures: keys.follower_can_trade_futures,
        follower_account_value: fsnap.equity,
        follower_free_balance: fsnap.available - *used,
        follower_position_mode: fsnap.position_mode,
        leader_position_mode: lview.position_mode,
        leader_account_value: lview.equity,
    };
    // A restart whose leader could not be read yet was checked at its first start; it
    // resumes and waits for the leader's first good read.
    if read {
        spec.settings
            .check_setup(&ctx)
            .map_err(|e| setup(e.to_string()))?;
    }
    *used += spec.settings.investment.unwrap_or_default();
    let offset_ms = match follower.ex.sync_time().await {
        Ok(offset) => offset,
        Err(_) => follower.ex.server_offset_ms(),
    };
    Ok(Checked {
        spec,
        leader,
        follower,
        rules,
        lsnap,
        lview,
        fsnap,
        leader_feed,
        follower_stream,
        offset_ms,
        unverified: keys.unverified,
    })
}

/// What [`check_setup`] needs besides the spec.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SetupExtras<'a> {
    /// The copy exists with a `t0`: this start resumes it.
    pub restart: bool,
    /// The request budget every followed public portfolio shares.
    pub budget: &'a std::sync::Arc<super::leader_poll::PollBudget>,
    /// The engine's leader streams, one per leader account.
    pub leaders: &'a super::leader_hub::LeaderHub,
    /// The engine's stop switch.
    pub stop: &'a tokio::sync::watch::Receiver<bool>,
}

/// A portfolio leader's first read at a copy's start: the baseline. A new copy is refused
/// when the portfolio cannot be read or copied (with the reason); a restart resumes
/// anyway and takes its baseline at the first good poll (`false` as the third value).
async fn first_portfolio_read(
    p: &PortfolioSpec,
    opts: &RunOptions,
    restart: bool,
    budget: &std::sync::Arc<super::leader_poll::PollBudget>,
) -> Result<(PortfolioPoller, LeaderView, bool), String> {
    let client = p
        .client()
        .map_err(|e| format!("lead portfolio {}: {e}", p.portfolio_id))?;
    let mut poller = PortfolioPoller::new(client, &p.portfolio_id, budget);
    let outcome = poller.poll(opts.clock.now_ms()).await;
    let problem = match poller.copyable() {
        Copyable::Yes => None,
        Copyable::No(r) => Some(format!("cannot be copied: {r}")),
        Copyable::Unknown(r) => Some(format!("could not be read: {r}")),
    };
    match problem {
        None => {
            let rows = poller.open_rows().unwrap_or_default();
            let view = LeaderView::of_portfolio(&rows, poller.equity());
            tracing::info!(portfolio = %p.portfolio_id, open = rows.len(), notes = ?outcome.notes, "lead portfolio baseline read");
            Ok((poller, view, true))
        }
        Some(why) if restart => {
            tracing::warn!(portfolio = %p.portfolio_id, %why, "lead portfolio not read at resume; the baseline is the first good poll");
            let view = LeaderView {
                books: Vec::new(),
                equity: None,
                position_mode: crate::domain::PositionMode::OneWay,
            };
            Ok((poller, view, false))
        }
        Some(why) => Err(format!(
            "the lead portfolio {} ({}) {why}; nothing was started",
            p.portfolio_id, p.endpoint
        )),
    }
}

/// What [`persist_copy`] settled for one copy.
pub(crate) struct Persisted {
    copy_id: i64,
    leader_id: i64,
    ctx: CopyContext,
    /// True for a new copy (`t0` set just now): it gets a start plan.
    fresh: bool,
    /// Orders of another CopyDesk on the follower (our prefix, not in our journal).
    foreign: Vec<follower_events::ForeignOrder>,
}

fn store_mode(m: crate::domain::CopyMode) -> crate::store::table::copies::CopyMode {
    use crate::store::table::copies::CopyMode as Stored;
    match m {
        crate::domain::CopyMode::SmartSync => Stored::SmartSync,
        crate::domain::CopyMode::FixedAmount => Stored::FixedAmount,
        crate::domain::CopyMode::FixedRatio => Stored::FixedRatio,
    }
}

/// Step 3: the copy in the database, in one transaction: its accounts and leader, the
/// copy row (new, or the existing one of that name), a settings version when the settings
/// changed, and `t0` with the leader's positions at `t0` for a new start. A restart keeps
/// its `t0` and its ledger (copy-rules §1.9).
pub(crate) fn persist_copy(
    store: &SharedStore,
    c: &Checked,
    now: i64,
) -> Result<Persisted, RuntimeError> {
    let name = &c.spec.name;
    let setup = |message: String| RuntimeError::Setup {
        copy: name.clone(),
        message,
    };
    let mut guard = store
        .lock()
        .map_err(|_| setup("the database lock is poisoned".into()))?;
    // Another CopyDesk's resting orders pause the copy before its start plan runs, so the
    // plan opens nothing (copy-rules §6).
    let foreign = follower_events::foreign_orders(guard.store(), &c.fsnap);
    // A restart's ledger, read loudly: a row that cannot be read refuses this copy (never
    // an empty ledger, which would forget the positions it holds).
    let stored_ledger = match guard.store().copies().by_name(name)? {
        Some(r) if r.t0.is_some() => Some(super::ledger::load(guard.store(), r.id, name)?),
        Some(_) | None => None,
    };
    let s = guard.store_mut();
    let mut refused: Option<RuntimeError> = None;
    let t0_positions: Vec<T0Position> = c
        .lview
        .books
        .iter()
        .map(|p| T0Position {
            symbol: p.symbol.clone(),
            position_side: p.position_side,
            qty: p.qty,
            entry_price: p.entry_price,
            leverage: Some(Decimal::from(p.leverage)),
        })
        .collect();
    let result = s.transaction(|tx| {
        let mut refuse = |e: RuntimeError| {
            refused = Some(e);
            StoreError::Invalid {
                field: "copy",
                message: "refused".into(),
            }
        };
        let copies = crate::store::table::copies::Copies::on(tx);
        let accounts = crate::store::table::accounts::Accounts::on(tx);
        for a in c.spec.leader.account().into_iter().chain([&c.spec.follower]) {
            accounts.upsert(&a.name, Some(&a.exchange), Some(&a.endpoint), now)?;
        }
        let copy_id = match copies.by_name(name)? {
            Some(r) if r.follower != c.spec.follower.name => {
                return Err(refuse(setup(format!(
                    "this copy already exists with follower `{}`; give the new copy another name",
                    r.follower
                ))))
            }
            Some(r) => r.id,
            None => {
                let leaders = crate::store::table::leaders::Leaders::on(tx);
                let leader_id = match (leaders.by_name(c.spec.leader.name())?, &c.spec.leader) {
                    (Some(l), _) => l.id,
                    (None, LeaderSpec::Account(a)) => leaders.insert(&NewLeader {
                        name: &a.name,
                        source: LeaderSource::Account,
                        account: Some(&a.name),
                        portfolio_id: None,
                        endpoint: None,
                        created_at: now,
                    })?,
                    (None, LeaderSpec::Portfolio(p)) => leaders.insert(&NewLeader {
                        name: &p.name,
                        source: LeaderSource::Public,
                        account: None,
                        portfolio_id: Some(&p.portfolio_id),
                        endpoint: Some(&p.endpoint),
                        created_at: now,
                    })?,
                };
                copies.insert(&NewCopy {
                    name,
                    leader_id,
                    follower: &c.spec.follower.name,
                    mode: store_mode(c.spec.settings.mode),
                    created_at: now,
                })?
            }
        };
        let row = copies.get(copy_id)?.ok_or(StoreError::NotFound {
            what: "copy",
            key: name.clone(),
        })?;
        if row.state == StoredState::Stopped {
            return Err(refuse(setup(format!(
                "this copy was stopped ({}); a stopped copy does not restart: give it a new name to start again",
                row.stop_reason.clone().unwrap_or_default()
            ))));
        }
        let versions = crate::store::table::copy_settings::CopySettings::on(tx);
        let current: Option<crate::store::table::copy_settings::SettingsVersion<CopySettings>> =
            versions.current(copy_id)?;
        match current {
            Some(v) if v.settings != c.spec.settings => {
                if let Err(e) = v.settings.check_change(&c.spec.settings) {
                    return Err(refuse(setup(e.to_string())));
                }
                versions.record(copy_id, &c.spec.settings, now, Some("changed in the config"))?;
            }
            Some(_) => {}
            None => {
                versions.record(copy_id, &c.spec.settings, now, Some("from the config"))?;
            }
        }
        // The user's pause survives a restart; a created copy starts below.
        let mut state = match row.state {
            StoredState::Paused => CopyState::Paused,
            StoredState::Created | StoredState::Running => CopyState::Running,
            StoredState::Stopped => {
                return Err(refuse(setup(
                    "this copy is stopped; a stopped copy does not restart".into(),
                )))
            }
        };
        let (t0, ledger, fresh) = match row.t0 {
            Some(t0) => (t0, stored_ledger.clone().unwrap_or_default(), false),
            None => {
                let t0 = now + c.offset_ms;
                copies.start(copy_id, t0)?;
                crate::store::table::leader_t0::LeaderT0::on(tx).record(copy_id, &t0_positions)?;
                state = CopyState::Running;
                (t0, Ledger::default(), true)
            }
        };
        if !foreign.is_empty() && state == CopyState::Running {
            state = CopyState::Paused;
            copies.set_state(copy_id, StoredState::Paused)?;
        }
        Ok(Persisted {
            copy_id,
            leader_id: row.leader_id,
            ctx: CopyContext {
                id: name.clone(),
                settings: c.spec.settings.clone(),
                state,
                t0_ms: t0,
                ledger,
                held: None,
            },
            fresh,
            foreign: foreign.clone(),
        })
    });
    match (result, refused) {
        (_, Some(e)) => Err(e),
        (Ok(p), None) => Ok(p),
        (Err(e), None) => Err(e.into()),
    }
}

/// Step 4: the start plan of a new copy (copy-rules §1: ongoing positions, start actions);
/// `None` for a restart.
pub(crate) async fn plan_start(c: &Checked, p: &Persisted, opts: &RunOptions) -> Option<Plan> {
    if !p.fresh {
        return None;
    }
    let leader_positions = c
        .lview
        .books
        .iter()
        .filter_map(|lp| {
            Some(engine::LeaderPosition {
                symbol: c.rules.get(&lp.symbol)?.symbol.clone(),
                position_side: lp.position_side,
                qty: lp.qty,
                leverage: lp.leverage,
                margin_mode: lp.margin_mode,
            })
        })
        .collect::<Vec<_>>();
    let mut market = BTreeMap::new();
    let symbols: BTreeSet<String> = leader_positions
        .iter()
        .map(|lp| lp.symbol.name.clone())
        .chain(c.fsnap.positions.iter().map(|fp| fp.symbol.clone()))
        .collect();
    for sym in symbols {
        if let Some(r) = c.rules.get(&sym) {
            if let Ok(m) = follower::market(&*c.follower.ex, r).await {
                market.insert(sym, m);
            }
        }
    }
    Some(engine::plan_start(&StartInput {
        copy: p.ctx.clone(),
        follower: follower::to_follower(&c.fsnap, Default::default()),
        leader_positions,
        leader_equity: c.lview.equity,
        market,
        now_ms: opts.clock.now_ms(),
        server_offset_ms: c.offset_ms,
    }))
}

/// Step 5: the copy's supervisor task; returns its command channel and task.
pub(crate) fn spawn_supervisor(
    engine: &RuntimeHandle,
    c: Checked,
    p: Persisted,
    plan: Option<Plan>,
    account: Arc<super::account_state::SharedAccount>,
) -> (mpsc::Sender<Command>, JoinHandle<()>) {
    let Checked {
        spec,
        leader,
        follower,
        rules,
        lsnap,
        lview,
        leader_feed,
        follower_stream,
        unverified,
        ..
    } = c;
    let leader_feed = match leader_feed {
        CheckedFeed::Shared(s) => LeaderFeed::Shared(s),
        CheckedFeed::Poller(p) => LeaderFeed::Polled(super::leader_source::spawn_poller(
            p,
            engine.poll_budget.clone(),
            engine.opts.clock.clone(),
            engine.stop_rx.clone(),
        )),
    };
    let mut runner = CopyRunner::new(RunnerParts {
        copy_id: p.copy_id,
        leader_id: p.leader_id,
        name: spec.name.clone(),
        ctx: p.ctx,
        leader,
        follower,
        follower_account: spec.follower.name.clone(),
        store: engine.store.clone(),
        notifier: engine.notifier.clone(),
        clock: engine.opts.clock.clone(),
        rules,
        opts: engine.opts.engine,
        registry: engine.registry.clone(),
        hold_board: engine.holds.clone(),
        account,
        lane: engine.lane.get().cloned(),
    });
    if !p.foreign.is_empty() {
        runner.say(
            NotifyLevel::Error,
            NotifyKind::Paused,
            follower_events::foreign_message(&p.foreign),
        );
    }
    for note in unverified {
        runner.tell(
            NotifyLevel::Warning,
            NotifyKind::Notice,
            Some(crate::engine::NoticeKind::KeyUnverified),
            format!("cannot verify: {note}"),
        );
    }
    if let Some(lsnap) = &lsnap {
        runner.tracker.reset(lsnap);
    }
    let (tx, rx) = mpsc::channel(16);
    runner.say(
        NotifyLevel::Info,
        NotifyKind::Started,
        format!(
            "copy `{}` running: {} → {}",
            spec.name,
            spec.leader.name(),
            spec.follower.name
        ),
    );
    if let LeaderSide::Portfolio(pl) = &runner.leader {
        if pl.readable {
            let note = super::leader_poll::PollNote::Baseline {
                open: lview.books.len(),
            };
            runner.tell(
                NotifyLevel::Info,
                NotifyKind::Notice,
                Some(crate::engine::NoticeKind::LeaderBaseline),
                super::leader_source::describe(&note).0,
            );
        } else {
            runner.hold(
                super::hold::HoldKind::LeaderUnreadable,
                "the lead portfolio could not be read at the start; its first good read is the baseline".into(),
            );
        }
    }
    let stop = engine.stop_rx.clone();
    let task = tokio::spawn(async move {
        if let Some(plan) = plan {
            runner.execute(plan, None).await;
        }
        runner.run(leader_feed, follower_stream, rx, stop).await;
    });
    (tx, task)
}

/// Copies stored as running or paused, with their current settings. A copy whose settings
/// row cannot be read is refused (returned second, with the reason and the recovery); the
/// others resume.
pub(crate) fn stored_to_resume(
    store: &Store,
) -> Result<(Vec<StoredCopy>, Vec<Refused>), RuntimeError> {
    let mut out = Vec::new();
    let mut refused = Vec::new();
    for row in store.copies().list()? {
        match row.state {
            StoredState::Running | StoredState::Paused => {}
            StoredState::Created | StoredState::Stopped => continue,
        }
        let settings: Option<crate::store::table::copy_settings::SettingsVersion<CopySettings>> =
            match store.copy_settings().current(row.id) {
                Ok(v) => v,
                Err(e) => {
                    refused.push(Refused {
                        reason: format!(
                            "the stored settings of copy `{}` (table copy_settings, copy_id {}, latest row) cannot be read: {e}; the copy was not started and its positions are left as they are. Recover by creating the copy again under a new name (the positions it held count as your own until you close them), or restore the database from the `backups` folder",
                            row.name, row.id
                        ),
                        copy: row.name,
                    });
                    continue;
                }
            };
        let Some(settings) = settings else {
            refused.push(Refused {
                reason: format!(
                    "copy `{}` (copy_id {}) has no stored settings; the copy was not started. Create it again with its settings under a new name",
                    row.name, row.id
                ),
                copy: row.name,
            });
            continue;
        };
        let leader = store.leaders().get(row.leader_id)?;
        let leader_portfolio = leader.as_ref().and_then(|l| {
            Some(PortfolioSpec {
                name: l.name.clone(),
                portfolio_id: l.portfolio_id.clone()?,
                endpoint: l.endpoint.clone()?,
                connect: None,
            })
        });
        out.push(StoredCopy {
            name: row.name,
            leader_portfolio,
            leader_account: leader.and_then(|l| l.account),
            follower: row.follower,
            settings: settings.settings,
        });
    }
    Ok((out, refused))
}
