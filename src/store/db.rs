//! Opening the database safely. Before anything is written, the file is inspected through a
//! read-only connection: a file that is not SQLite, is damaged, belongs to another program
//! or comes from a newer CopyDesk is reported and left byte-for-byte as it was. Only then
//! is it opened for writing, put in WAL mode, backed up and migrated.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use super::backup;
use super::error::StoreError;
use super::group_commit::Durability;
use super::migrate::{self, Migration, APPLICATION_ID, MIGRATIONS};
use super::table::{
    accounts::Accounts, audit::Audit, copies::Copies, copy_ledger::CopyLedgers,
    copy_settings::CopySettings, figures::Figures, fills::Fills, journal::Journal,
    leader_t0::LeaderT0, leaders::Leaders, notifications::Notifications, signals::Signals,
};

const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// One write of [`Store::relaxed_each`] (`Send + Sync`, so a task may keep some across
/// its awaits).
pub type StoreWrite<'w> = Box<dyn FnOnce(&Store) -> Result<(), StoreError> + Send + Sync + 'w>;

/// An open CopyDesk database. One connection; wrap it in a mutex or give it to one task
/// to share it. Tables are reached through their typed handles, e.g. `store.journal()`.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
    path: PathBuf,
    version: u32,
    backup: Option<PathBuf>,
    /// Which relaxed commits are durable; counts commits of each kind.
    durability: std::sync::Arc<Durability>,
}

/// What a read-only look at an existing file found.
struct Found {
    version: u32,
}

impl Store {
    /// Opens (creating if needed) and upgrades the database at `path` to this build's
    /// schema.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Self::open_with(path, MIGRATIONS)
    }

    /// As [`Store::open`] with an explicit migration list; tests use it to exercise an
    /// upgrade beyond the schema this build ships.
    pub fn open_with(path: &Path, migrations: &[Migration]) -> Result<Self, StoreError> {
        let latest = migrate::latest(migrations);
        let found = inspect(path)?;
        let current = found.as_ref().map_or(0, |f| f.version);
        if current > latest {
            return Err(StoreError::TooNew {
                path: path.to_path_buf(),
                found: current,
                supported: latest,
            });
        }
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            super::private::create_dir(parent)?;
        }
        let mut conn = Connection::open(path).map_err(|e| classify(path, e))?;
        configure(&conn)?;
        // SQLite creates the file with the process umask; its WAL and shared-memory files
        // take the database file's mode, so tighten all three now.
        for f in [
            path.to_path_buf(),
            wal_file(path, "-wal"),
            wal_file(path, "-shm"),
        ] {
            super::private::secure_file(&f)?;
        }
        let mut backup = None;
        if current < latest {
            if current > 0 {
                backup = Some(backup::before_migration(&conn, path, current)?);
            }
            migrate::run(&mut conn, migrations, current).map_err(|(m, source)| {
                StoreError::Migration {
                    version: m.version,
                    name: m.name,
                    backup: backup
                        .as_ref()
                        .map_or("(none: the database was new)".into(), |b| {
                            b.display().to_string()
                        }),
                    source,
                }
            })?;
        }
        let durability = watch_commits(&conn, path);
        Ok(Self {
            conn,
            path: path.to_path_buf(),
            version: latest,
            backup,
            durability,
        })
    }

    /// Opens an existing database for reading only (export, listing), without upgrading
    /// it: its schema must be exactly this build's.
    pub fn open_read_only(path: &Path) -> Result<Self, StoreError> {
        let latest = migrate::latest(MIGRATIONS);
        let found = inspect(path)?.ok_or_else(|| StoreError::NoDatabase {
            path: path.to_path_buf(),
        })?;
        if found.version > latest {
            return Err(StoreError::TooNew {
                path: path.to_path_buf(),
                found: found.version,
                supported: latest,
            });
        }
        if found.version < latest {
            return Err(StoreError::VersionMismatch {
                path: path.to_path_buf(),
                found: found.version,
                expected: latest,
            });
        }
        let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(|e| classify(path, e))?;
        conn.busy_timeout(Duration::from_secs(5))?;
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        let durability = watch_commits(&conn, path);
        Ok(Self {
            conn,
            path: path.to_path_buf(),
            version: found.version,
            backup: None,
            durability,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Schema version of the open database.
    pub fn version(&self) -> u32 {
        self.version
    }

    /// The backup taken before this open migrated the database, if it did.
    pub fn backup_taken(&self) -> Option<&Path> {
        self.backup.as_deref()
    }

    /// The raw connection, for queries no table handle offers.
    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// Runs `f` in one write transaction: all of its writes land, or none do.
    pub fn transaction<T>(
        &mut self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        // The same as rusqlite's `Transaction`, with the three statements kept prepared: an
        // engine opens several transactions for every copied order.
        run_cached(&self.conn, "BEGIN IMMEDIATE")?;
        let open = OpenTransaction(&self.conn);
        let out = f(&self.conn)?;
        run_cached(&self.conn, "COMMIT")?;
        std::mem::forget(open);
        Ok(out)
    }

    /// Runs `f` with `synchronous = NORMAL`: its commits reach the WAL (visible to every
    /// reader, safe from a process crash) without an `fsync` under the database lock, and
    /// become durable at the next group sync ([`Durability::sync_through`], run by the
    /// engine's writer or by the next journal commit before a send). Returns what `f`
    /// returned and the sequence number to sync through. Only for writes whose loss at a
    /// power cut is recovered from the journal and the venue (see `docs/storage.md`).
    pub fn relaxed<T>(
        &mut self,
        f: impl FnOnce(&mut Store) -> Result<T, StoreError>,
    ) -> Result<(T, u64), StoreError> {
        run_cached(&self.conn, "PRAGMA synchronous = NORMAL")?;
        self.durability.set_relaxed(true);
        let out = f(self);
        self.durability.set_relaxed(false);
        let back = run_cached(&self.conn, "PRAGMA synchronous = FULL");
        let seq = self.durability.note_relaxed();
        let out = out?;
        back?;
        Ok((out, seq))
    }

    /// Runs `writes` as one relaxed commit ([`Store::relaxed`]), each in a savepoint of
    /// its own: a write that fails is rolled back alone and its error stands in its place
    /// in the answer; the others land together. `Err` when the commit itself failed (then
    /// none landed). One commit instead of one per write: the writes a copied order makes
    /// after its send (its outcome, latency, audit rows, settled ledger) cost one WAL
    /// append, not five.
    pub fn relaxed_each<'w>(
        &mut self,
        writes: impl IntoIterator<Item = StoreWrite<'w>>,
    ) -> Result<(Vec<Result<(), StoreError>>, u64), StoreError> {
        self.relaxed(|s| {
            run_cached(&s.conn, "BEGIN IMMEDIATE")?;
            let open = OpenTransaction(&s.conn);
            let answers = s.each_in_savepoint(writes)?;
            run_cached(&s.conn, "COMMIT")?;
            std::mem::forget(open);
            Ok(answers)
        })
    }

    /// Runs each write in a savepoint of its own inside the transaction under way: one
    /// that fails is rolled back alone and its error is its answer; the others stay.
    /// Errs only when a savepoint itself cannot be made or undone.
    pub fn each_in_savepoint<'w>(
        &self,
        writes: impl IntoIterator<Item = StoreWrite<'w>>,
    ) -> Result<Vec<Result<(), StoreError>>, StoreError> {
        let mut answers = Vec::new();
        for write in writes {
            run_cached(&self.conn, "SAVEPOINT write")?;
            let answer = write(self);
            if answer.is_err() {
                run_cached(&self.conn, "ROLLBACK TO write")?;
            }
            run_cached(&self.conn, "RELEASE write")?;
            answers.push(answer);
        }
        Ok(answers)
    }

    /// Which relaxed commits are durable, and the commit counters.
    pub fn durability(&self) -> std::sync::Arc<Durability> {
        self.durability.clone()
    }

    /// `PRAGMA integrity_check`: `["ok"]` for a sound database, else the problems found.
    pub fn integrity_check(&self) -> Result<Vec<String>, StoreError> {
        let mut stmt = self.conn.prepare("PRAGMA integrity_check")?;
        super::table::rows(&mut stmt, [], |r| r.get(0))
    }

    /// Writes a consistent copy of the open database to `dest`.
    pub fn backup_to(&self, dest: &Path) -> Result<(), StoreError> {
        backup::copy_to(&self.conn, dest).map_err(|e| StoreError::Backup {
            path: self.path.clone(),
            detail: e.to_string(),
        })
    }

    pub fn accounts(&self) -> Accounts<'_> {
        Accounts::on(&self.conn)
    }
    pub fn leaders(&self) -> Leaders<'_> {
        Leaders::on(&self.conn)
    }
    pub fn copies(&self) -> Copies<'_> {
        Copies::on(&self.conn)
    }
    pub fn copy_settings(&self) -> CopySettings<'_> {
        CopySettings::on(&self.conn)
    }
    pub fn leader_t0(&self) -> LeaderT0<'_> {
        LeaderT0::on(&self.conn)
    }
    pub fn signals(&self) -> Signals<'_> {
        Signals::on(&self.conn)
    }
    pub fn journal(&self) -> Journal<'_> {
        Journal::on(&self.conn)
    }
    pub fn fills(&self) -> Fills<'_> {
        Fills::on(&self.conn)
    }
    pub fn figures(&self) -> Figures<'_> {
        Figures::on(&self.conn)
    }
    pub fn notifications(&self) -> Notifications<'_> {
        Notifications::on(&self.conn)
    }
    /// Each copy's ledger and plan in flight.
    pub fn copy_ledgers(&self) -> CopyLedgers<'_> {
        CopyLedgers::on(&self.conn)
    }
    /// Where the time went for each order a copy sent (schema v5).
    pub fn latency(&self) -> super::table::latency::Latency<'_> {
        super::table::latency::Latency::on(&self.conn)
    }
    /// Funding payments per copy.
    pub fn copy_funding(&self) -> super::table::copy_funding::CopyFunding<'_> {
        super::table::copy_funding::CopyFunding::on(&self.conn)
    }
    /// Where each copy's figures start after a reset.
    pub fn figures_base(&self) -> super::table::figures_base::FiguresBase<'_> {
        super::table::figures_base::FiguresBase::on(&self.conn)
    }
    /// Each copy's profit-share ratio over time (schema v6).
    pub fn profit_share(&self) -> super::table::profit_share::ProfitShare<'_> {
        super::table::profit_share::ProfitShare::on(&self.conn)
    }
    /// Profit-share statements (schema v6).
    pub fn statements(&self) -> super::table::statements::Statements<'_> {
        super::table::statements::Statements::on(&self.conn)
    }
    pub fn audit(&self) -> Audit<'_> {
        Audit::on(&self.conn)
    }
}

/// Counts every commit of `conn` (full or relaxed) in a new [`Durability`] of `path`.
fn watch_commits(conn: &Connection, path: &Path) -> std::sync::Arc<Durability> {
    let durability = Durability::new(path);
    let hook = durability.clone();
    conn.commit_hook(Some(move || {
        hook.on_commit();
        false
    }));
    durability
}

/// WAL for concurrent readers and crash safety; `synchronous = FULL` because a journal row
/// that was acknowledged must survive power loss too, or an order could be sent twice.
/// `<db>-wal` / `<db>-shm` next to the database.
fn wal_file(db: &Path, suffix: &str) -> std::path::PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(suffix);
    std::path::PathBuf::from(name)
}

/// Runs one statement that returns no rows, kept prepared in the connection's cache.
fn run_cached(conn: &Connection, sql: &str) -> Result<(), StoreError> {
    conn.prepare_cached(sql)?.execute([])?;
    Ok(())
}

/// A transaction [`Store::transaction`] began: rolled back when dropped (its closure
/// failed, its commit failed, or a panic unwound through it); forgotten once committed.
struct OpenTransaction<'c>(&'c Connection);

impl Drop for OpenTransaction<'_> {
    fn drop(&mut self) {
        if !self.0.is_autocommit() {
            if let Err(e) = run_cached(self.0, "ROLLBACK") {
                tracing::warn!(error = %e, "a failed transaction could not be rolled back");
            }
        }
    }
}

/// Statements kept prepared per connection: every statement of the copy path (journal,
/// ledger, fills, audit, latency, notifications, transaction control) stays compiled, so
/// none is parsed again per order (rusqlite's default keeps 16).
const STATEMENT_CACHE: usize = 256;

fn configure(conn: &Connection) -> Result<(), StoreError> {
    // First, so that even the journal-mode switch waits for another writer.
    conn.busy_timeout(Duration::from_secs(5))?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    let mode: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(StoreError::Invalid {
            field: "journal_mode",
            message: format!(
                "SQLite kept `{mode}` instead of WAL; put the data directory on a local disk"
            ),
        });
    }
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", true)?;
    Ok(())
}

/// Looks at an existing file without writing to it. `None` when there is no database yet
/// (no file, or an empty one).
fn inspect(path: &Path) -> Result<Option<Found>, StoreError> {
    let mut file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(StoreError::io(path, e)),
    };
    let mut head = Vec::with_capacity(16);
    (&mut file)
        .take(16)
        .read_to_end(&mut head)
        .map_err(|e| StoreError::io(path, e))?;
    if head.is_empty() {
        return Ok(None);
    }
    if head.as_slice() != SQLITE_MAGIC {
        return Err(StoreError::NotSqlite {
            path: path.to_path_buf(),
        });
    }
    drop(file);
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| classify(path, e))?;
    conn.busy_timeout(Duration::from_secs(5))?;
    let check = |conn: &Connection| -> rusqlite::Result<(String, i32, u32, i64)> {
        let ok: String = conn.query_row("PRAGMA quick_check(1)", [], |r| r.get(0))?;
        let app: i32 = conn.query_row("PRAGMA application_id", [], |r| r.get(0))?;
        let version: u32 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        let tables: i64 = conn.query_row("SELECT COUNT(*) FROM sqlite_master", [], |r| r.get(0))?;
        Ok((ok, app, version, tables))
    };
    let (ok, app, version, tables) = check(&conn).map_err(|e| classify(path, e))?;
    if ok != "ok" {
        return Err(StoreError::Corrupt {
            path: path.to_path_buf(),
            detail: ok,
        });
    }
    if (app != 0 && app != APPLICATION_ID) || (version == 0 && tables > 0) {
        return Err(StoreError::Foreign {
            path: path.to_path_buf(),
        });
    }
    Ok(Some(Found { version }))
}

/// Damage and "not a database" are the user's file problems, named as such; anything else
/// stays a database error.
fn classify(path: &Path, e: rusqlite::Error) -> StoreError {
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::DatabaseCorrupt) | Some(rusqlite::ErrorCode::NotADatabase) => {
            StoreError::Corrupt {
                path: path.to_path_buf(),
                detail: e.to_string(),
            }
        }
        Some(rusqlite::ErrorCode::CannotOpen) | Some(rusqlite::ErrorCode::ReadOnly) => {
            StoreError::io(path, std::io::Error::other(e.to_string()))
        }
        _ => StoreError::Sqlite(e),
    }
}
