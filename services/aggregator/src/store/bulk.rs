//! Bulk loading of first revisions (data migrations from the old spreadsheets, benchmarks), and
//! rebuilding roll-ups from stored figures.
//!
//! A bulk load skips what only makes sense for a live submission (idempotency records, compliance
//! verdicts, flags) but stores exactly what a submission stores otherwise: report rows with their
//! figures and the read model, then rebuilds the roll-ups of each province it touched with
//! the same rules the ingest path maintains them by.

use chrono::{DateTime, NaiveDate, Utc};
use p06_migrations::figures::FigureRef;
use sea_orm::{ConnectionTrait, FromQueryResult};

use super::queries::FigureRow;
use super::revision_figures::encode;
use super::rollups::{
    lock_province, rebuild_province, rebuild_province_from, rebuild_target_rollups,
};
use super::rows::Rows;
use super::{Store, statement};
use crate::catalog::Catalog;
use crate::error::Error;

/// Read-model rows per statement (PostgreSQL; SQLite splits them further).
const SLICE: usize = 10_000;

/// Rows per SQLite statement of a bulk load (≈ 25 % faster than the default 200).
const SQLITE_BATCH: usize = 1_000;

/// One report to load: the first revision of its series.
#[derive(Debug, Clone)]
pub struct BulkReport {
    pub agency: String,
    pub obligation: String,
    pub province_id: i64,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub received_at: DateTime<Utc>,
    /// (indicator code, locality id, value); the caller has validated them.
    pub observations: Vec<(String, i64, f64)>,
}

impl Store {
    /// Loads first revisions of one province in one transaction and rebuilds that province's
    /// roll-ups; returns the observations stored. A series that already has a revision makes the
    /// whole load fail (`Conflict`) and changes nothing.
    pub async fn bulk_import(
        &self,
        catalog: &Catalog,
        province_id: i64,
        reports: &[BulkReport],
    ) -> Result<u64, Error> {
        if let Some(other) = reports.iter().find(|r| r.province_id != province_id) {
            return Err(Error::invalid_field(
                "province_id",
                format!("a bulk load is one province's; got {}", other.province_id),
            ));
        }
        let write = self.begin_write().await?;
        let txn = &write.txn;
        lock_province(txn, province_id).await?;
        let backend = txn.get_database_backend();
        // Into a province without figures, the roll-ups are built from the rows inserted here
        // instead of reading them back.
        let fresh = !has_figures(txn, province_id).await?;
        // The read model's rows with their reports' arrival, inserted after the reports in
        // primary-key order: each series' weeks land together instead of one row per series and
        // week scattered over the whole index.
        let mut figures: Vec<(FigureRow, DateTime<Utc>)> =
            Vec::with_capacity(reports.iter().map(|r| r.observations.len()).sum());
        let mut stored = 0u64;
        for report in reports {
            #[derive(FromQueryResult)]
            struct Id {
                id: i64,
            }
            let row = txn
                .query_one_raw(statement(
                    backend,
                    "INSERT INTO report (agency, obligation, province_id, period_start, period_end, revision, \
                     request_id, payload_sha256, received_at, submitted_by, assessment, obstacles, proposals, \
                     observation_count, figures) \
                     VALUES (?, ?, ?, ?, ?, 1, ?, '', ?, 'bulk-import', '', '', '', ?, ?) RETURNING id",
                    vec![
                        report.agency.clone().into(),
                        report.obligation.clone().into(),
                        province_id.into(),
                        report.period_start.into(),
                        report.period_end.into(),
                        format!(
                            "bulk:{}:{}:{}",
                            report.agency, report.obligation, report.period_start
                        )
                        .into(),
                        report.received_at.into(),
                        (report.observations.len() as i32).into(),
                        encode(report.observations.iter().map(|(code, locality, value)| {
                            FigureRef {
                                indicator_code: code,
                                locality_id: *locality,
                                value: *value,
                                carried_from: None,
                            }
                        }))?
                        .into(),
                    ],
                ))
                .await?
                .ok_or_else(|| Error::Internal("INSERT … RETURNING gave no row".into()))?;
            let report_id = Id::from_query_result(&row, "")?.id;
            for (indicator, locality, value) in &report.observations {
                figures.push((
                    FigureRow {
                        indicator_code: indicator.clone(),
                        locality_id: *locality,
                        period_start: report.period_start,
                        period_end: report.period_end,
                        value: *value,
                        report_id,
                    },
                    report.received_at,
                ));
            }
            stored += report.observations.len() as u64;
        }
        // In the read model's key order (after the province: indicator, week, locality).
        figures.sort_by(|(a, _), (b, _)| {
            (&a.indicator_code, a.period_end, a.locality_id).cmp(&(
                &b.indicator_code,
                b.period_end,
                b.locality_id,
            ))
        });
        // In slices, so the statements' copies of the rows stay small beside `figures`.
        for slice in figures.chunks(SLICE) {
            let mut rows = Rows::new(8, slice.len()).in_batches_of(SQLITE_BATCH);
            for (f, received_at) in slice {
                rows.push([
                    f.indicator_code.clone().into(),
                    f.locality_id.into(),
                    f.period_end.into(),
                    f.period_start.into(),
                    f.value.into(),
                    f.report_id.into(),
                    (*received_at).into(),
                    province_id.into(),
                ]);
            }
            rows.execute(
                txn,
                "INSERT INTO latest_value (indicator_code, locality_id, period_end, period_start, \
                 value, report_id, received_at, province_id) {rows}",
                &[],
            )
            .await?;
        }
        if fresh {
            let rows = figures.into_iter().map(|(f, _)| f).collect();
            rebuild_province_from(txn, catalog, province_id, rows).await?;
        } else {
            drop(figures);
            rebuild_province(txn, catalog, province_id).await?;
        }
        write.commit().await?;
        Ok(stored)
    }

    /// Recomputes one province's roll-ups from its stored figures (the same result incremental
    /// maintenance keeps; used after bulk loads and by tests that check exactly that).
    pub async fn rebuild_rollups(&self, catalog: &Catalog, province_id: i64) -> Result<(), Error> {
        let write = self.begin_write().await?;
        lock_province(&write.txn, province_id).await?;
        rebuild_province(&write.txn, catalog, province_id).await?;
        write.commit().await?;
        Ok(())
    }

    /// Builds the roll-ups of a database written before roll-ups were maintained: every
    /// province's value roll-ups when figures exist but none does, and target roll-ups likewise.
    /// Runs at start-up; returns how many provinces it rebuilt (0 once built).
    pub async fn build_missing_rollups(&self, catalog: &Catalog) -> Result<usize, Error> {
        let mut built = 0;
        if self.is_empty("target_rollup").await? {
            for province_id in self.provinces_with_rows_in("target").await? {
                let write = self.begin_write().await?;
                lock_province(&write.txn, province_id).await?;
                rebuild_target_rollups(&write.txn, catalog, province_id).await?;
                write.commit().await?;
                built += 1;
            }
        }
        if self.is_empty("rollup_span").await? {
            for province_id in self.provinces_with_rows_in("latest_value").await? {
                self.rebuild_rollups(catalog, province_id).await?;
                built += 1;
            }
        }
        Ok(built)
    }

    async fn is_empty(&self, table: &str) -> Result<bool, Error> {
        let row = self
            .connection()
            .query_one_raw(statement(
                self.backend(),
                &format!("SELECT 1 AS one FROM {table} LIMIT 1"),
                vec![],
            ))
            .await?;
        Ok(row.is_none())
    }

    /// Provinces of the localities `table` has rows for.
    async fn provinces_with_rows_in(&self, table: &str) -> Result<Vec<i64>, Error> {
        #[derive(FromQueryResult)]
        struct Province {
            province_id: i64,
        }
        let rows = self
            .connection()
            .query_all_raw(statement(
                self.backend(),
                &format!(
                    "SELECT DISTINCT l.province_id FROM {table} t JOIN locality l ON l.id = t.locality_id"
                ),
                vec![],
            ))
            .await?;
        rows.iter()
            .map(|r| Ok(Province::from_query_result(r, "")?.province_id))
            .collect()
    }
}

/// Whether the province has any figure in `latest_value`.
async fn has_figures(txn: &sea_orm::DatabaseTransaction, province_id: i64) -> Result<bool, Error> {
    let row = txn
        .query_one_raw(statement(
            txn.get_database_backend(),
            "SELECT 1 AS one FROM latest_value WHERE province_id = ? LIMIT 1",
            vec![province_id.into()],
        ))
        .await?;
    Ok(row.is_some())
}
