//! Flags read by pages, never whole: keyset pages of one province (newest first, by id), the
//! cursor read that tells this replica about flags other processes raised, the retention job that
//! moves old resolved flags to the archive, and a bulk load of historical flags.
//!
//! Every statement here is answered from an index (`m20250101_000016_flag_pages_and_archive`):
//! `(province_id, id)` and its `kind`, `state`, `agency` variants for pages, the primary key for
//! the cursor, `(state, resolved_at)` for retention. Limits are written into the SQL as literals
//! (integers this module bounds), so SQLite does not re-plan the statement at each bind.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ConnectionTrait, DbBackend, FromQueryResult, Value};

use super::compliance::{FLAG_COLUMNS, FlagRow, NewFlag};
use super::{Store, statement};
use crate::error::Error;

/// The two tables flags live in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagTable {
    /// Open flags and resolved ones within the retention period.
    Hot,
    /// Resolved flags past the retention period (kept for audit).
    Archive,
}

impl FlagTable {
    fn name(self) -> &'static str {
        match self {
            FlagTable::Hot => "flag",
            FlagTable::Archive => "flag_archive",
        }
    }
}

/// Filters of a flag listing; each one is an equality on an indexed column.
#[derive(Debug, Clone, Default)]
pub struct FlagFilter {
    pub kind: Option<String>,
    pub state: Option<String>,
    pub agency: Option<String>,
}

/// Most rows one statement of this module reads: a page of 1,000 and one more row that tells
/// whether another page follows.
pub const MAX_ROWS_PER_READ: u64 = 1_001;

/// Rows per statement of a bulk flag load (15 values each, well under SQLite's 32,766).
const BULK_ROWS: usize = 500;

/// PostgreSQL advisory lock that lets one replica at a time run the retention job.
const RETENTION_LOCK_KEY: i64 = 0x5006_0002;

fn columns() -> String {
    FLAG_COLUMNS.join(", ")
}

fn rows_to_flags(rows: Vec<sea_orm::QueryResult>) -> Result<Vec<FlagRow>, Error> {
    Ok(rows
        .iter()
        .map(|r| FlagRow::from_query_result(r, ""))
        .collect::<Result<_, _>>()?)
}

impl Store {
    /// One page of a province's flags, newest first: at most `limit` flags with an id below
    /// `before` (all when `None`) matching `filter`.
    pub async fn flags_page(
        &self,
        table: FlagTable,
        province_id: i64,
        filter: &FlagFilter,
        before: Option<i64>,
        limit: u64,
    ) -> Result<Vec<FlagRow>, Error> {
        let mut sql = format!(
            "SELECT {} FROM {} WHERE province_id = ?",
            columns(),
            table.name()
        );
        let mut values: Vec<Value> = vec![province_id.into()];
        for (column, value) in [
            ("kind", &filter.kind),
            ("state", &filter.state),
            ("agency", &filter.agency),
        ] {
            if let Some(value) = value {
                sql.push_str(&format!(" AND {column} = ?"));
                values.push(value.clone().into());
            }
        }
        if let Some(before) = before {
            sql.push_str(" AND id < ?");
            values.push(before.into());
        }
        sql.push_str(&format!(
            " ORDER BY id DESC LIMIT {}",
            limit.clamp(1, MAX_ROWS_PER_READ)
        ));
        let db = self.connection();
        let rows = db
            .query_all_raw(statement(db.get_database_backend(), &sql, values))
            .await?;
        rows_to_flags(rows)
    }

    /// Flags of a province (of one kind and/or state when given) with an id above `after`,
    /// oldest first, at most `limit`: a watcher's catch-up read.
    pub async fn flags_after_in(
        &self,
        province_id: i64,
        kind: Option<&str>,
        state: Option<&str>,
        after: i64,
        limit: u64,
    ) -> Result<Vec<FlagRow>, Error> {
        let mut sql = format!("SELECT {} FROM flag WHERE province_id = ?", columns());
        let mut values: Vec<Value> = vec![province_id.into()];
        if let Some(kind) = kind {
            sql.push_str(" AND kind = ?");
            values.push(kind.into());
        }
        if let Some(state) = state {
            sql.push_str(" AND state = ?");
            values.push(state.into());
        }
        sql.push_str(&format!(
            " AND id > ? ORDER BY id LIMIT {}",
            limit.clamp(1, MAX_ROWS_PER_READ)
        ));
        values.push(after.into());
        let db = self.connection();
        let rows = db
            .query_all_raw(statement(db.get_database_backend(), &sql, values))
            .await?;
        rows_to_flags(rows)
    }

    /// Flags of every province with an id above `after`, oldest first, at most `limit`: the
    /// cursor read by which a replica learns of flags raised elsewhere (primary-key range scan).
    pub async fn flags_after(&self, after: i64, limit: u64) -> Result<Vec<FlagRow>, Error> {
        let sql = format!(
            "SELECT {} FROM flag WHERE id > ? ORDER BY id LIMIT {}",
            columns(),
            limit.clamp(1, MAX_ROWS_PER_READ)
        );
        let db = self.connection();
        let rows = db
            .query_all_raw(statement(
                db.get_database_backend(),
                &sql,
                vec![after.into()],
            ))
            .await?;
        rows_to_flags(rows)
    }

    /// The flags with these ids that exist now (the cursor's second look at ids it skipped).
    pub async fn flags_with_ids(&self, ids: &[i64]) -> Result<Vec<FlagRow>, Error> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids = &ids[..ids.len().min(MAX_ROWS_PER_READ as usize)];
        let sql = format!(
            "SELECT {} FROM flag WHERE id IN ({}) ORDER BY id",
            columns(),
            vec!["?"; ids.len()].join(", ")
        );
        let db = self.connection();
        let rows = db
            .query_all_raw(statement(
                db.get_database_backend(),
                &sql,
                ids.iter().map(|id| Value::from(*id)).collect(),
            ))
            .await?;
        rows_to_flags(rows)
    }

    /// The open flags of a province (of one agency when given), oldest first.
    pub async fn open_flags(
        &self,
        province_id: i64,
        agency: Option<&str>,
    ) -> Result<Vec<FlagRow>, Error> {
        let mut sql = format!(
            "SELECT {} FROM flag WHERE province_id = ? AND state = 'OPEN'",
            columns()
        );
        let mut values: Vec<Value> = vec![province_id.into()];
        if let Some(agency) = agency {
            sql.push_str(" AND agency = ?");
            values.push(agency.into());
        }
        sql.push_str(" ORDER BY id");
        let db = self.connection();
        let rows = db
            .query_all_raw(statement(db.get_database_backend(), &sql, values))
            .await?;
        rows_to_flags(rows)
    }

    /// How many flags of the given kinds each (obligation, period start) of a province has, for the
    /// periods ending between `from` and `to` (the archive counts too: it holds resolved history).
    pub async fn flag_counts(
        &self,
        province_id: i64,
        kinds: &[&str],
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<HashMap<(String, NaiveDate), i64>, Error> {
        #[derive(FromQueryResult)]
        struct Count {
            obligation: String,
            period_start: NaiveDate,
            n: i64,
        }
        let kinds_list = vec!["?"; kinds.len()].join(", ");
        let mut out = HashMap::new();
        for table in [FlagTable::Hot, FlagTable::Archive] {
            let mut values: Vec<Value> = vec![province_id.into()];
            values.extend(kinds.iter().map(|k| Value::from(*k)));
            values.extend([from.into(), to.into()]);
            let db = self.connection();
            let rows = db
                .query_all_raw(statement(
                    db.get_database_backend(),
                    &format!(
                        "SELECT obligation, period_start, COUNT(*) AS n FROM {} \
                         WHERE province_id = ? AND kind IN ({kinds_list}) \
                         AND period_end >= ? AND period_end <= ? \
                         GROUP BY obligation, period_start",
                        table.name()
                    ),
                    values,
                ))
                .await?;
            for row in rows {
                let c = Count::from_query_result(&row, "")?;
                *out.entry((c.obligation, c.period_start)).or_default() += c.n;
            }
        }
        Ok(out)
    }

    /// The highest flag id stored (0 when there is none).
    pub async fn max_flag_id(&self) -> Result<i64, Error> {
        let db = self.connection();
        let row = db
            .query_one_raw(statement(
                db.get_database_backend(),
                "SELECT COALESCE(MAX(id), 0) AS id FROM flag",
                vec![],
            ))
            .await?;
        Ok(match row {
            Some(row) => row.try_get::<i64>("", "id")?,
            None => 0,
        })
    }

    /// Moves resolved flags resolved before `cutoff` from the hot table to the archive, at most
    /// `batch` per transaction, each move recorded in the audit log (`FLAG_ARCHIVED`); returns
    /// how many moved. On PostgreSQL one replica at a time does it (others skip the round).
    pub async fn archive_resolved_flags(
        &self,
        cutoff: DateTime<Utc>,
        batch: u64,
        now: DateTime<Utc>,
    ) -> Result<u64, Error> {
        let batch = batch.clamp(1, MAX_ROWS_PER_READ);
        let mut moved = 0;
        loop {
            let write = self.begin_write().await?;
            let txn = &write.txn;
            let backend = txn.get_database_backend();
            if backend == DbBackend::Postgres {
                let row = txn
                    .query_one_raw(statement(
                        backend,
                        &format!("SELECT pg_try_advisory_xact_lock({RETENTION_LOCK_KEY}) AS got"),
                        vec![],
                    ))
                    .await?;
                let got = match row {
                    Some(row) => row.try_get::<bool>("", "got")?,
                    None => false,
                };
                if !got {
                    return Ok(moved);
                }
            }
            let ids: Vec<i64> = txn
                .query_all_raw(statement(
                    backend,
                    &format!(
                        "SELECT id FROM flag WHERE state = 'RESOLVED' AND resolved_at < ? LIMIT {batch}"
                    ),
                    vec![cutoff.into()],
                ))
                .await?
                .iter()
                .map(|r| r.try_get::<i64>("", "id"))
                .collect::<Result<_, _>>()?;
            if ids.is_empty() {
                return Ok(moved);
            }
            let list = vec!["?"; ids.len()].join(", ");
            let id_values = || ids.iter().map(|id| Value::from(*id)).collect::<Vec<_>>();
            let mut values = vec![Value::from(now)];
            values.extend(id_values());
            txn.execute_raw(statement(
                backend,
                &format!(
                    "INSERT INTO flag_archive ({cols}, dedupe_key, archived_at) \
                     SELECT {cols}, dedupe_key, ? FROM flag WHERE id IN ({list}) \
                     ON CONFLICT (id) DO NOTHING",
                    cols = columns()
                ),
                values,
            ))
            .await?;
            let mut values = vec![Value::from(now)];
            values.extend(id_values());
            txn.execute_raw(statement(
                backend,
                &format!(
                    "INSERT INTO audit_log (at, actor, action, subject, details, province_id, agency) \
                     SELECT ?, 'flag-retention', 'FLAG_ARCHIVED', 'flags/' || CAST(id AS TEXT), \
                     kind || ' ' || dedupe_key, province_id, agency FROM flag WHERE id IN ({list})"
                ),
                values,
            ))
            .await?;
            let deleted = txn
                .execute_raw(statement(
                    backend,
                    &format!("DELETE FROM flag WHERE id IN ({list})"),
                    id_values(),
                ))
                .await?
                .rows_affected();
            write.commit().await?;
            moved += deleted;
            if (ids.len() as u64) < batch {
                return Ok(moved);
            }
        }
    }

    /// Loads historical flags (a data migration from an earlier register, the benchmark's flag
    /// set) in multi-row statements, one transaction; a flag whose dedupe key exists is skipped.
    /// One `FLAGS_IMPORTED` audit entry records the load. Returns how many were stored. The
    /// loaded flags reach watchers through the cursor read, like flags of another replica.
    pub async fn bulk_insert_flags(
        &self,
        flags: &[(NewFlag, DateTime<Utc>)],
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<u64, Error> {
        let write = self.begin_write().await?;
        let txn = &write.txn;
        let backend = txn.get_database_backend();
        let mut stored = 0;
        for chunk in flags.chunks(BULK_ROWS) {
            let mut values = Vec::with_capacity(chunk.len() * 14);
            for (f, raised_at) in chunk {
                values.extend([
                    Value::from(f.kind.clone()),
                    "OPEN".into(),
                    f.agency.clone().into(),
                    f.obligation.clone().into(),
                    f.province_id.into(),
                    f.period_start.into(),
                    f.period_end.into(),
                    f.report_id.into(),
                    f.indicator_code.clone().into(),
                    f.locality_id.into(),
                    f.message.clone().into(),
                    f.details.clone().into(),
                    f.dedupe_key.clone().into(),
                    (*raised_at).into(),
                ]);
            }
            stored += txn
                .execute_raw(statement(
                    backend,
                    &format!(
                        "INSERT INTO flag (kind, state, agency, obligation, province_id, \
                         period_start, period_end, report_id, indicator_code, locality_id, \
                         message, details, dedupe_key, raised_at) VALUES {} \
                         ON CONFLICT (dedupe_key) DO NOTHING",
                        super::placeholders(chunk.len(), 14)
                    ),
                    values,
                ))
                .await?
                .rows_affected();
        }
        // Flags are part of what the provinces' views show (the compliance board's consistency
        // counts): their read versions advance, in province order (PostgreSQL's row locks).
        let provinces: std::collections::BTreeSet<i64> =
            flags.iter().map(|(f, _)| f.province_id).collect();
        for province_id in provinces {
            super::rollups::lock_province(txn, province_id).await?;
        }
        super::audit::audit(
            txn,
            super::audit::AuditScope::default(),
            actor,
            "FLAGS_IMPORTED",
            "flags",
            &format!("{stored} of {} flags loaded", flags.len()),
            now,
        )
        .await?;
        write.commit().await?;
        // Fresh statistics after a large load, or PostgreSQL's planner may walk a page's keyset
        // by the wrong index until autovacuum comes by.
        self.connection().execute_unprepared("ANALYZE flag").await?;
        Ok(stored)
    }
}
