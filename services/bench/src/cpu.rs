//! CPU time spent during a measurement, per process: the aggregator child, the bench process itself
//! (load generator, agency services, storage-ceiling client) and, on PostgreSQL, the server
//! processes serving the run's database (its backends plus WAL writer, checkpointer and background
//! writer — those are shared with any other database on the server).
//!
//! On a shared 2-core machine wall-clock rates swing 2–3× between runs while CPU time per operation
//! stays within ≈ 10 %, so every rate is printed beside these figures.

use std::collections::HashMap;
use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};

use crate::procfs;

/// Which processes to account.
#[derive(Clone, Default)]
pub struct Meter {
    pub aggregator_pid: Option<u32>,
    /// A connection to the run's PostgreSQL database, to find its server processes.
    pub postgres: Option<DatabaseConnection>,
}

pub struct Snapshot {
    aggregator: Duration,
    bench: Duration,
    postgres: HashMap<u32, Duration>,
}

/// CPU time used between two snapshots.
#[derive(Debug, Clone, Copy, Default)]
pub struct CpuDelta {
    pub aggregator: Option<Duration>,
    pub bench: Duration,
    pub postgres: Option<Duration>,
}

impl CpuDelta {
    pub fn add(&mut self, other: &CpuDelta) {
        let sum = |a: Option<Duration>, b: Option<Duration>| match (a, b) {
            (None, None) => None,
            (a, b) => Some(a.unwrap_or_default() + b.unwrap_or_default()),
        };
        self.aggregator = sum(self.aggregator, other.aggregator);
        self.postgres = sum(self.postgres, other.postgres);
        self.bench += other.bench;
    }
}

impl Meter {
    pub fn snapshot(&self) -> Snapshot {
        let postgres = if self.postgres.is_some() {
            procfs::all_pids()
                .into_iter()
                .filter(|&pid| procfs::command_name(pid).as_deref() == Some("postgres"))
                .filter_map(|pid| Some((pid, procfs::cpu_time(pid)?)))
                .collect()
        } else {
            HashMap::new()
        };
        Snapshot {
            aggregator: self
                .aggregator_pid
                .and_then(procfs::cpu_time)
                .unwrap_or_default(),
            bench: procfs::cpu_time(std::process::id()).unwrap_or_default(),
            postgres,
        }
    }

    pub async fn since(&self, start: &Snapshot) -> CpuDelta {
        let end = self.snapshot();
        let postgres = match &self.postgres {
            Some(conn) => Some(postgres_delta(conn, start).await),
            None => None,
        };
        CpuDelta {
            aggregator: self
                .aggregator_pid
                .map(|_| end.aggregator.saturating_sub(start.aggregator)),
            bench: end.bench.saturating_sub(start.bench),
            postgres,
        }
    }
}

/// CPU of the server processes of our database (those that started during the measurement count
/// whole) and of the shared WAL/checkpoint/background writers.
async fn postgres_delta(conn: &DatabaseConnection, start: &Snapshot) -> Duration {
    let sql = "SELECT pid FROM pg_stat_activity WHERE datname = current_database() \
               OR backend_type IN ('walwriter', 'checkpointer', 'background writer')";
    let rows = conn
        .query_all_raw(Statement::from_string(conn.get_database_backend(), sql))
        .await
        .unwrap_or_default();
    rows.iter()
        .filter_map(|row| row.try_get_by_index::<i32>(0).ok())
        .filter_map(|pid| {
            let pid = pid as u32;
            let now = procfs::cpu_time(pid)?;
            Some(now.saturating_sub(start.postgres.get(&pid).copied().unwrap_or_default()))
        })
        .sum()
}
