//! Simulator state that lasts: the accounts (ids, API keys, permissions, labels), their
//! balances, positions, open and past orders, algo orders, trades, income and per-symbol
//! settings, the prices, the id counters, the demo leaders and the simulated clock's offset,
//! written to one JSON file and read back at the next start. The port, the admin token,
//! faults, rate-limit windows and listenKeys are not kept: the first two come from the
//! configuration, the others start afresh (clients re-create their listenKeys).
//!
//! Writes are atomic (a temp file in the same directory, flushed, then renamed over the
//! old one) and, on Unix, the file is 0600 (a directory it has to create, 0700): it holds
//! the paper accounts' HMAC secrets. A file that cannot be read or decoded is an error naming the
//! file and the way out; it never turns into a fresh simulator.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::account::{Account, Position};
use super::clock::Millis;
use super::demo::{DemoLeader, Style};
use super::exchange::{SimVenue, FUNDING_INTERVAL_MS};
use crate::domain::PositionSide;

/// What the file says it is.
const FORMAT: &str = "copydesk-sim-state";
/// The layout this build writes and reads.
pub const STATE_VERSION: u32 = 1;
/// File name of the paper simulator's state inside `<data dir>/paper/`.
pub const STATE_FILE: &str = "sim-state.json";

/// `<data dir>/paper/sim-state.json`: where paper mode keeps its simulator.
pub fn state_path(data_dir: &Path) -> PathBuf {
    data_dir.join("paper").join(STATE_FILE)
}

const FIX: &str = "move the file away to start a fresh paper simulator (its paper accounts, \
                   balances and positions are then gone), or put back a copy that reads";

/// Reading or writing the state file failed.
#[derive(Debug, thiserror::Error)]
pub enum SimStateError {
    #[error("cannot read the paper simulator state {}: {source}; {FIX}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the paper simulator state {} cannot be decoded ({detail}); {FIX}", path.display())]
    Decode { path: PathBuf, detail: String },
    #[error(
        "the paper simulator state {} is version {found}, this build reads version \
         {STATE_VERSION}; run the CopyDesk that wrote it, or {FIX}", path.display()
    )]
    Version { path: PathBuf, found: u32 },
    #[error("cannot save the paper simulator state to {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl From<SimStateError> for std::io::Error {
    fn from(e: SimStateError) -> Self {
        let kind = match &e {
            SimStateError::Write { source, .. } | SimStateError::Read { source, .. } => {
                source.kind()
            }
            SimStateError::Decode { .. } | SimStateError::Version { .. } => {
                std::io::ErrorKind::InvalidData
            }
        };
        std::io::Error::new(kind, e)
    }
}

/// The price state of one book that a restart keeps.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct BookState {
    mid: Decimal,
    last_price: Decimal,
    funding_rate: Decimal,
    update_id: u64,
}

/// A demo leader as saved: the client's secret too, so the same leader is followed after
/// a restart.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct DemoState {
    account_id: String,
    label: String,
    style: String,
    api_key: String,
    secret_key: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Counters {
    next_order_id: u64,
    next_trade_id: u64,
    next_tran_id: u64,
    next_algo_id: u64,
    next_account: u64,
}

/// Only the first two fields, so a file of another version is named as such before its
/// body is decoded.
#[derive(Debug, Deserialize)]
struct Header {
    format: String,
    version: u32,
}

/// The whole file. Accounts are sorted by id so equal states write equal files.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SavedState {
    format: String,
    version: u32,
    saved_at: Millis,
    clock_offset_ms: Millis,
    counters: Counters,
    books: BTreeMap<String, BookState>,
    demo_leaders: Vec<DemoState>,
    demo_next: BTreeMap<String, Millis>,
    accounts: Vec<Account>,
}

impl SavedState {
    /// Captures the exchange (a clone, so the lock is held only for the copy).
    pub fn capture(ex: &SimVenue, demo: &[DemoLeader]) -> Self {
        let mut accounts: Vec<Account> = ex.accounts.values().cloned().collect();
        accounts.sort_by(|a, b| a.id.cmp(&b.id));
        Self {
            format: FORMAT.to_owned(),
            version: STATE_VERSION,
            saved_at: ex.now(),
            clock_offset_ms: ex.clock.offset(),
            counters: Counters {
                next_order_id: ex.next_order_id,
                next_trade_id: ex.next_trade_id,
                next_tran_id: ex.next_tran_id,
                next_algo_id: ex.next_algo_id,
                next_account: ex.next_account,
            },
            books: ex
                .books
                .iter()
                .map(|(s, b)| {
                    (
                        s.clone(),
                        BookState {
                            mid: b.mid,
                            last_price: b.last_price,
                            funding_rate: b.funding_rate,
                            update_id: b.update_id,
                        },
                    )
                })
                .collect(),
            demo_leaders: demo
                .iter()
                .map(|d| DemoState {
                    account_id: d.account_id.clone(),
                    label: d.label.clone(),
                    style: d.style.as_str().to_owned(),
                    api_key: d.api_key.clone(),
                    secret_key: d.secret_key.clone(),
                })
                .collect(),
            demo_next: ex.demo_next.iter().map(|(k, v)| (k.clone(), *v)).collect(),
            accounts,
        }
    }

    /// Puts the saved state into a freshly built exchange and returns the demo leaders.
    /// Simulated time keeps its saved offset from wall time; funding times missed while
    /// the simulator was off are skipped (nothing ran then), the next one is the next
    /// 8-hour boundary.
    fn apply(self, ex: &mut SimVenue, path: &Path) -> Result<Vec<DemoLeader>, SimStateError> {
        let bad = |detail: String| SimStateError::Decode {
            path: path.to_path_buf(),
            detail,
        };
        ex.clock.set_offset(self.clock_offset_ms);
        for (symbol, b) in self.books {
            let Some(book) = ex.books.get_mut(&symbol) else {
                return Err(bad(format!("book of unknown symbol `{symbol}`")));
            };
            if b.mid <= Decimal::ZERO {
                return Err(bad(format!("book `{symbol}` has price {}", b.mid)));
            }
            book.mid = b.mid;
            book.last_price = b.last_price;
            book.funding_rate = b.funding_rate;
            book.update_id = b.update_id;
        }
        ex.next_order_id = self.counters.next_order_id;
        ex.next_trade_id = self.counters.next_trade_id;
        ex.next_tran_id = self.counters.next_tran_id;
        ex.next_algo_id = self.counters.next_algo_id;
        ex.next_account = self.counters.next_account;
        let now = ex.now();
        ex.next_funding = (now / FUNDING_INTERVAL_MS + 1) * FUNDING_INTERVAL_MS;
        ex.accounts.clear();
        ex.by_api_key.clear();
        for mut a in self.accounts {
            for p in a.positions.values() {
                if !ex.markets.contains_key(&p.symbol) {
                    return Err(bad(format!(
                        "account `{}` holds a position in unknown symbol `{}`",
                        a.id, p.symbol
                    )));
                }
            }
            a.rebuild_open_index();
            if ex
                .by_api_key
                .insert(a.api_key.clone(), a.id.clone())
                .is_some()
            {
                return Err(bad(format!("two accounts share the API key of `{}`", a.id)));
            }
            if ex.accounts.insert(a.id.clone(), a).is_some() {
                return Err(bad("two accounts share one id".to_owned()));
            }
        }
        ex.demo_next = self.demo_next.into_iter().collect::<HashMap<_, _>>();
        let mut demo = Vec::new();
        for d in self.demo_leaders {
            let style = Style::parse(&d.style)
                .ok_or_else(|| bad(format!("demo leader style `{}`", d.style)))?;
            if !ex.accounts.contains_key(&d.account_id) {
                return Err(bad(format!(
                    "demo leader `{}` has no account `{}`",
                    d.label, d.account_id
                )));
            }
            demo.push(DemoLeader {
                account_id: d.account_id,
                label: d.label,
                style,
                api_key: d.api_key,
                secret_key: d.secret_key,
            });
        }
        ex.revision += 1;
        Ok(demo)
    }

    /// The file's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        // Serialising plain data into memory cannot fail; an empty file would be refused
        // at the next start, never read as an empty simulator.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// Reads `path` into `ex` and returns the saved demo leaders.
pub fn load(path: &Path, ex: &mut SimVenue) -> Result<Vec<DemoLeader>, SimStateError> {
    let bytes = std::fs::read(path).map_err(|source| SimStateError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let header: Header = serde_json::from_slice(&bytes).map_err(|e| SimStateError::Decode {
        path: path.to_path_buf(),
        detail: e.to_string(),
    })?;
    if header.format != FORMAT {
        return Err(SimStateError::Decode {
            path: path.to_path_buf(),
            detail: format!("format `{}`, not `{FORMAT}`", header.format),
        });
    }
    if header.version != STATE_VERSION {
        return Err(SimStateError::Version {
            path: path.to_path_buf(),
            found: header.version,
        });
    }
    let de = &mut serde_json::Deserializer::from_slice(&bytes);
    let state: SavedState =
        serde_path_to_error::deserialize(de).map_err(|e| SimStateError::Decode {
            path: path.to_path_buf(),
            detail: format!("at `{}`: {}", e.path(), e.inner()),
        })?;
    state.apply(ex, path)
}

/// Writes `bytes` to `path` atomically: a temp file next to it, flushed to disk, renamed
/// over the old file. On Unix the file is 0600 and a directory created for it 0700.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), SimStateError> {
    let err = |source| SimStateError::Write {
        path: path.to_path_buf(),
        source,
    };
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    create_private_dir(dir).map_err(err)?;
    let name = path
        .file_name()
        .map_or_else(|| STATE_FILE.into(), |n| n.to_string_lossy().into_owned());
    // Unique per write, so two saves never share a temp file.
    static WRITES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = WRITES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = dir.join(format!(".{name}.tmp-{}-{n}", std::process::id()));
    let result = (|| {
        let mut f = private_file(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)?;
        // The rename must reach the disk too, or a power cut could bring the old file back.
        #[cfg(unix)]
        std::fs::File::open(dir)?.sync_all()?;
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(err)
}

/// Creates what is missing of `dir` as 0700 on Unix. An existing directory keeps its
/// mode: it may be anything the caller chose (`copydesk sim --state /tmp/x.json`); the
/// engine's start-up check tightens the data directory's own `paper/` folder.
fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir)
}

fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o.open(path)
}

/// Serde for the fixed strings the model keeps as `&'static str` (time in force, algo
/// order types, income types): a value outside the list is a decoding error.
pub mod known {
    use serde::{Deserialize, Deserializer, Serializer};

    const KNOWN: &[&str] = &[
        "GTC",
        "IOC",
        "FOK",
        "GTX",
        "GTD",
        "STOP_MARKET",
        "TAKE_PROFIT_MARKET",
        "STOP",
        "TAKE_PROFIT",
        "TRANSFER",
        "REALIZED_PNL",
        "COMMISSION",
        "FUNDING_FEE",
        "INSURANCE_CLEAR",
    ];

    pub fn serialize<S: Serializer>(v: &&'static str, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(v)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<&'static str, D::Error> {
        let s = String::deserialize(d)?;
        KNOWN
            .iter()
            .find(|k| **k == s)
            .copied()
            .ok_or_else(|| serde::de::Error::custom(format!("unknown value `{s}`")))
    }
}

/// Serde for an account's key verifier: the HMAC secret, or the Ed25519 public key in hex.
pub mod secret {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use crate::sim::account::SecretKey;

    #[derive(Serialize, Deserialize)]
    #[serde(rename_all = "lowercase")]
    enum Saved {
        Hmac(String),
        Ed25519(String),
    }

    pub fn serialize<S: Serializer>(v: &SecretKey, s: S) -> Result<S::Ok, S::Error> {
        match v {
            SecretKey::Hmac(k) => Saved::Hmac(k.clone()),
            SecretKey::Ed25519(k) => Saved::Ed25519(hex::encode(k.as_bytes())),
        }
        .serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<SecretKey, D::Error> {
        use serde::de::Error;
        match Saved::deserialize(d)? {
            Saved::Hmac(k) if !k.is_empty() => Ok(SecretKey::Hmac(k)),
            Saved::Hmac(_) => Err(D::Error::custom("empty HMAC secret")),
            Saved::Ed25519(h) => {
                let bytes: [u8; 32] = hex::decode(&h)
                    .ok()
                    .and_then(|b| b.try_into().ok())
                    .ok_or_else(|| D::Error::custom("an Ed25519 key is 32 bytes in hex"))?;
                ed25519_dalek::VerifyingKey::from_bytes(&bytes)
                    .map(SecretKey::Ed25519)
                    .map_err(|e| D::Error::custom(format!("Ed25519 key: {e}")))
            }
        }
    }
}

/// Serde for an account's positions: a list (each position names its symbol and side).
pub mod positions {
    use std::collections::HashMap;

    use serde::{Deserialize, Deserializer, Serializer};

    use super::{Position, PositionSide};

    type Map = HashMap<(String, PositionSide), Position>;

    pub fn serialize<S: Serializer>(v: &Map, s: S) -> Result<S::Ok, S::Error> {
        let mut rows: Vec<&Position> = v.values().collect();
        rows.sort_by(|a, b| (&a.symbol, a.side).cmp(&(&b.symbol, b.side)));
        s.collect_seq(rows)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Map, D::Error> {
        let rows = Vec::<Position>::deserialize(d)?;
        let mut map = Map::new();
        for p in rows {
            let key = (p.symbol.clone(), p.side);
            if map.insert(key, p).is_some() {
                return Err(serde::de::Error::custom("two positions on one book"));
            }
        }
        Ok(map)
    }
}
