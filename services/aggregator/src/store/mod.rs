//! Storage over sea-orm: one code path for SQLite (embedded default) and PostgreSQL (production).
//!
//! SQLite allows one writer at a time, so on SQLite every write transaction runs on one dedicated
//! connection, serialised by an in-process mutex (one aggregator process owns a SQLite file), and
//! reads use a pool of other connections. Keeping the writes on one connection keeps its page
//! cache warm: SQLite drops a connection's whole cache when it finds that another connection has
//! written since its last transaction. On PostgreSQL concurrent writers
//! are coordinated by unique keys and row locks (one province's writers by its read-version row),
//! and migrations by an advisory lock.
//!
//! Statements of the write path take no bound `LIMIT`: SQLite (3.51) marks a statement whose
//! LIMIT is a bound parameter to be compiled again whenever that parameter is bound, so sea-query's
//! `.limit(n)` would parse and plan it at every call. `query_one` reads the first row only.

pub mod audit;
mod bulk;
mod catalog;
pub mod compliance;
pub mod cross_agency;
pub mod figure_memory;
pub mod flag_bus;
pub mod flags;
mod in_force;
pub mod known;
mod obligations;
pub mod queries;
mod report_flags;
mod report_reads;
mod reports;
mod revision_figures;
mod revision_write;
pub mod rollups;
mod rows;
mod script;
mod series_lookup;
mod targets;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait,
};
use sea_orm_migration::MigratorTrait;
use tokio::sync::{Mutex, MutexGuard};

pub use bulk::BulkReport;
pub use report_reads::{ReportFilter, ReportListing, SeriesRevision};
pub use reports::{
    NewReport, ReportHeader, Stored, StoredObservation, StoredReceipt, StoredReport,
};
pub use targets::{TargetRow, TargetUpsert, UpsertCounts};

use crate::error::Error;

/// Key of the PostgreSQL advisory lock that serialises migrations across replicas.
const MIGRATION_LOCK_KEY: i64 = 0x5006_0001;

/// Figures the writers hold in memory across provinces (`figure_memory`): 32 bytes each plus
/// their series' map entry and vector, by count ≈ 110 bytes a figure while a series holds one
/// (the indicator code is a number in the province, not a copy; a unit-test build of 650,000 such
/// series grew RSS by 210 bytes each, its transient rows included), so ≈ 110–210 MB when full; the
/// benchmark's default ingest stores ≈ 600,000. The largest province's figures of a few weeks are
/// ≈ 50,000, all 63 provinces' recent weeks ≈ 1.2 M. In one benchmark run half this budget made
/// the writers read their provinces again (−11 % province reports).
pub const FIGURE_MEMORY_BUDGET: usize = 1_000_000;

pub struct Store {
    /// Reads everywhere; writes too on PostgreSQL.
    db: DatabaseConnection,
    /// Present on SQLite only: the connection every write transaction uses.
    writer: Option<Writer>,
    /// The flags this process's commits raise, published after each commit.
    flag_bus: flag_bus::FlagBus,
    /// The figures of the provinces this process writes, exact under the province's lock.
    figure_memory: figure_memory::FigureMemory,
    counters: Arc<Counters>,
}

/// Statements this process has run (every statement through sea-orm on any of the store's
/// connections, reads included; not BEGIN and COMMIT) and reports it has stored.
#[derive(Default)]
pub struct Counters {
    statements: AtomicU64,
    reports: AtomicU64,
}

/// A reading of [`Counters`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub statements: u64,
    pub reports: u64,
}

/// SQLite's single writer: one connection, and the lock that hands it to one transaction at a time
/// (waiting for the lock has no time limit, unlike waiting for a pooled connection).
struct Writer {
    connection: DatabaseConnection,
    lock: Mutex<()>,
}

impl Store {
    /// Connects to `url` (`sqlite://…` or `postgres://…`), creating a SQLite file's directory.
    pub async fn connect(url: &str) -> Result<Self, Error> {
        let is_sqlite = url.starts_with("sqlite:");
        let sqlite_dir = sqlite_path(url)
            .and_then(Path::parent)
            .filter(|dir| !dir.as_os_str().is_empty());
        if let Some(dir) = sqlite_dir {
            std::fs::create_dir_all(dir)
                .map_err(|e| Error::Unavailable(format!("cannot create {}: {e}", dir.display())))?;
        }
        let pool = |connections: u32| {
            let mut options = ConnectOptions::new(url.to_owned());
            options
                .max_connections(connections)
                .min_connections(1)
                .connect_timeout(Duration::from_secs(5))
                .acquire_timeout(Duration::from_secs(5))
                .sqlx_logging(false);
            options
        };
        let counters = Arc::new(Counters::default());
        let counted = |mut connection: DatabaseConnection| {
            let counters = counters.clone();
            connection.set_metric_callback(move |_| {
                counters.statements.fetch_add(1, Ordering::Relaxed);
            });
            connection
        };
        let figure_memory = figure_memory::FigureMemory::new(FIGURE_MEMORY_BUDGET);
        if !is_sqlite {
            return Ok(Store {
                db: counted(Database::connect(pool(16)).await?),
                writer: None,
                flag_bus: flag_bus::FlagBus::new(),
                figure_memory,
                counters,
            });
        }
        let connection = counted(Database::connect(pool(1)).await?);
        // WAL lets readers proceed while the writer commits (the file keeps the mode). sqlx's
        // default `synchronous = FULL` makes every commit durable before it returns.
        connection
            .execute_unprepared("PRAGMA journal_mode = WAL")
            .await?;
        Ok(Store {
            db: counted(Database::connect(pool(4)).await?),
            writer: Some(Writer {
                connection,
                lock: Mutex::new(()),
            }),
            flag_bus: flag_bus::FlagBus::new(),
            figure_memory,
            counters,
        })
    }

    /// Statements run and reports stored by this process so far.
    pub fn counts(&self) -> Counts {
        Counts {
            statements: self.counters.statements.load(Ordering::Relaxed),
            reports: self.counters.reports.load(Ordering::Relaxed),
        }
    }

    /// The figures of the provinces this process writes (for tests and metrics).
    pub fn figure_memory(&self) -> &figure_memory::FigureMemory {
        &self.figure_memory
    }

    /// Closes the connections.
    pub async fn close(self) {
        if let Some(writer) = self.writer {
            let _ = writer.connection.close().await;
        }
        let _ = self.db.close().await;
    }

    pub fn backend(&self) -> DbBackend {
        self.db.get_database_backend()
    }

    /// The feed of flags raised by this process's commits (and, through the cursor read of
    /// `flag_watch`, by other processes).
    pub fn flag_bus(&self) -> &flag_bus::FlagBus {
        &self.flag_bus
    }

    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }

    /// A cheap round trip to the database (`SELECT 1` on a pooled connection), for readiness.
    pub async fn ping(&self) -> Result<(), Error> {
        self.db.execute_unprepared("SELECT 1").await?;
        Ok(())
    }

    /// The connection write transactions use: on SQLite the single writer connection (whoever
    /// writes through it outside `begin_write` must serialise its transactions, as the benchmark's
    /// storage ceilings do), on PostgreSQL the pool.
    pub fn write_connection(&self) -> &DatabaseConnection {
        self.writer.as_ref().map_or(&self.db, |w| &w.connection)
    }

    /// Applies pending migrations. On PostgreSQL an advisory lock makes concurrent starts wait for
    /// the first one instead of racing it.
    pub async fn migrate(&self) -> Result<(), Error> {
        match &self.writer {
            Some(writer) => {
                let _guard = writer.lock.lock().await;
                p06_migrations::Migrator::up(&writer.connection, None).await?;
            }
            None => {
                let txn = self.db.begin().await?;
                txn.execute_unprepared(&format!(
                    "SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})"
                ))
                .await?;
                p06_migrations::Migrator::up(&txn, None).await?;
                txn.commit().await?;
            }
        }
        Ok(())
    }

    /// Starts a write transaction: on SQLite on the writer connection, holding its lock until the
    /// transaction ends. SQLite's transaction is IMMEDIATE: it takes the file's write lock at
    /// BEGIN (waiting out another process's writer), so a transaction that reads before it writes
    /// cannot fail "database is locked" when another process committed after its read.
    pub(crate) async fn begin_write(&self) -> Result<WriteTxn<'_>, Error> {
        match &self.writer {
            Some(writer) => {
                let guard = writer.lock.lock().await;
                let txn = writer
                    .connection
                    .begin_with_options(TransactionOptions {
                        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                        ..TransactionOptions::default()
                    })
                    .await?;
                Ok(WriteTxn {
                    txn,
                    _guard: Some(guard),
                })
            }
            None => Ok(WriteTxn {
                txn: self.db.begin().await?,
                _guard: None,
            }),
        }
    }
}

/// A write transaction (and, on SQLite, the writer lock).
pub(crate) struct WriteTxn<'a> {
    pub txn: DatabaseTransaction,
    _guard: Option<MutexGuard<'a, ()>>,
}

impl WriteTxn<'_> {
    /// Commits, and on SQLite hands the writer to the next transaction at once: what the caller
    /// does after its commit (the province's figures in memory, publishing its flags) does not
    /// hold up every other province's writer.
    pub async fn commit(self) -> Result<(), Error> {
        self.txn.commit().await?;
        Ok(())
    }
}

fn sqlite_path(url: &str) -> Option<&Path> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next()?;
    (!path.is_empty() && path != ":memory:").then(|| Path::new(path))
}

/// A statement written with `?` placeholders, numbered (`$1`, `$2`, …) for PostgreSQL.
pub(crate) fn statement(backend: DbBackend, sql: &str, values: Vec<sea_orm::Value>) -> Statement {
    let sql = if backend == DbBackend::Postgres {
        let mut out = String::with_capacity(sql.len() + 8);
        let mut n = 0;
        for c in sql.chars() {
            if c == '?' {
                n += 1;
                out.push('$');
                out.push_str(&n.to_string());
            } else {
                out.push(c);
            }
        }
        out
    } else {
        sql.to_owned()
    };
    Statement::from_sql_and_values(backend, sql, values)
}

/// `(?, ?), (?, ?), …`: `rows` groups of `width` placeholders.
pub(crate) fn placeholders(rows: usize, width: usize) -> String {
    let group = format!("({})", vec!["?"; width].join(", "));
    vec![group; rows].join(", ")
}

/// Retries `op` when it fails with a write conflict (two writers racing for one unique key); the
/// retried operation re-reads what it depends on.
pub(crate) async fn retry_conflicts<T, F, Fut>(mut op: F) -> Result<T, Error>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, Error>>,
{
    let mut attempts = 0;
    loop {
        match op().await {
            Err(Error::Conflict(_)) if attempts < 4 => attempts += 1,
            other => return other,
        }
    }
}
