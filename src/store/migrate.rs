//! Forward-only schema migrations. The schema version lives in SQLite's `user_version`;
//! each migration runs in its own transaction together with the version bump, so a failed
//! one leaves the previous version intact. Each table's own module holds the statement
//! that creates it.

use rusqlite::Connection;

use super::table;

/// Marks a database as CopyDesk's (`PRAGMA application_id`), the bytes of "CDSK".
pub const APPLICATION_ID: i32 = 0x4344_534B;

/// One schema step.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// The version the database has after this step; steps are numbered 1, 2, 3…
    pub version: u32,
    pub name: &'static str,
    /// Statements run in order, in one transaction.
    pub statements: &'static [&'static str],
}

/// The schema of this build, oldest first. Never edit a released step: add one.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "initial schema",
        statements: &[
            table::accounts::V1,
            table::leaders::V1,
            table::copies::V1,
            table::copy_settings::V1,
            table::leader_t0::V1,
            table::retired::COPY_POSITIONS_V1,
            table::signals::V1,
            table::journal::V1,
            table::fills::V1,
            table::figures::V1,
            table::notifications::V1,
            table::audit::V1,
        ],
    },
    Migration {
        version: 2,
        name: "engine state per copy",
        statements: &[table::copy_ledger::V2],
    },
    Migration {
        version: 3,
        name: "funding per copy, figures baseline",
        statements: &[table::copy_funding::V3, table::figures_base::V3],
    },
    Migration {
        version: 4,
        name: "one ledger per copy: copy_state becomes copy_ledger, copy_positions goes",
        statements: &[table::copy_ledger::V4],
    },
    Migration {
        version: 5,
        name: "latency per copied order",
        statements: &[table::latency::V5],
    },
    Migration {
        version: 6,
        name: "profit share: ratio per copy and statements",
        statements: &[table::profit_share::V6, table::statements::V6],
    },
    Migration {
        version: 7,
        name: "public lead portfolios: where each is read",
        statements: &[table::leaders::V7],
    },
    Migration {
        version: 8,
        name: "the unfinished orders' index without an IN list",
        statements: &[table::journal::V8],
    },
];

/// The version a list of migrations ends at (0 for none).
pub fn latest(migrations: &[Migration]) -> u32 {
    migrations.iter().map(|m| m.version).max().unwrap_or(0)
}

/// Runs every step above `current`, each in its own transaction. Returns the failing step
/// with its error.
pub(crate) fn run(
    conn: &mut Connection,
    migrations: &[Migration],
    current: u32,
) -> Result<u32, (Migration, rusqlite::Error)> {
    let mut version = current;
    for m in migrations.iter().filter(|m| m.version > current) {
        let step = |conn: &mut Connection| -> rusqlite::Result<()> {
            let tx = conn.transaction()?;
            for sql in m.statements {
                tx.execute_batch(sql)?;
            }
            tx.pragma_update(None, "user_version", m.version)?;
            tx.pragma_update(None, "application_id", APPLICATION_ID)?;
            tx.commit()
        };
        step(conn).map_err(|e| (*m, e))?;
        tracing::info!(
            version = m.version,
            name = m.name,
            "database schema upgraded"
        );
        version = m.version;
    }
    Ok(version)
}
