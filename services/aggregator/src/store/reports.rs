//! Reports: every revision kept with its figures (one document per revision), idempotent by
//! request id.

use chrono::{DateTime, NaiveDate, Utc};
use p06_domain::cross_agency::CrossAgencyBound;
use p06_domain::report::ValidReport;
use p06_domain::revision::{self, RevisionMode};
use p06_migrations::figures::FigureRef;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Order, Query, SimpleExpr};
use sea_orm::{ConnectionTrait, FromQueryResult};

use super::compliance::{FlagRow, active_lock, flags_of_report, series_key};
use super::report_flags::{missing_key, raise_report_flags};
use super::revision_figures::{self, encode as encode_figures};
use super::revision_write::{Held, RevisionChange, Written, apply_revision};
use super::rollups::lock_province;
use super::script::Script;
use super::series_lookup::look_up;
use super::{Store, retry_conflicts};
use crate::catalog::Catalog;
use crate::compliance::Evaluation;
use crate::error::Error;

/// A validated report ready to be stored.
pub struct NewReport<'a> {
    pub report: &'a ValidReport,
    pub payload_sha256: &'a str,
    pub received_at: DateTime<Utc>,
    pub submitted_by: &'a str,
    /// The compliance rules' verdict on the report.
    pub evaluation: &'a Evaluation,
    /// Localities and indicators, for the roll-ups.
    pub catalog: &'a Catalog,
    /// The compliance file's cross-agency bounds, judged with the figures in force once the
    /// revision is in the read model ([`super::cross_agency`]).
    pub bounds: &'a [CrossAgencyBound],
    /// For an AMEND merged with an earlier revision ([`revision::amend`]): that revision's id. The
    /// report is stored only while it is still the latest of its series
    /// ([`Error::Superseded`] otherwise).
    pub amends: Option<i64>,
}

/// The stored facts a receipt is made of.
#[derive(Debug, Clone, PartialEq, FromQueryResult)]
pub struct StoredReceipt {
    pub id: i64,
    pub revision: i32,
    pub received_at: DateTime<Utc>,
    pub payload_sha256: String,
    pub deadline: Option<DateTime<Utc>>,
    pub timeliness: Option<String>,
    pub lateness_seconds: Option<i64>,
    pub specificity_score: Option<i32>,
    pub specificity_reasons: Option<String>,
    /// `REPLACE` or `AMEND`.
    pub mode: String,
    /// How many of the revision's figures an amendment carried forward.
    pub carried_count: i32,
}

/// Outcome of storing a report.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    pub receipt: StoredReceipt,
    /// The flags raised on the revision, oldest first.
    pub flags: Vec<FlagRow>,
    /// True when the request id had been seen with the same payload: nothing was written.
    pub replayed: bool,
}

/// A stored revision with its observations.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredReport {
    pub header: ReportHeader,
    pub receipt: StoredReceipt,
    /// Ordered by indicator then locality id.
    pub observations: Vec<StoredObservation>,
}

/// A figure of a stored revision; `carried_from` names the revision that sent it when this one
/// carried it forward (an amendment).
pub use p06_migrations::figures::StoredFigure as StoredObservation;

#[derive(Debug, Clone, PartialEq, FromQueryResult)]
pub struct ReportHeader {
    pub agency: String,
    pub obligation: String,
    pub province_id: i64,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub submitted_by: String,
    pub assessment: String,
    pub obstacles: String,
    pub proposals: String,
}

#[derive(FromQueryResult)]
struct RevisionRow {
    id: i64,
}

const RECEIPT_COLUMNS: &[&str] = &[
    "id",
    "revision",
    "received_at",
    "payload_sha256",
    "deadline",
    "timeliness",
    "lateness_seconds",
    "specificity_score",
    "specificity_reasons",
    "mode",
    "carried_count",
];

fn col(name: &str) -> Expr {
    Expr::col(Alias::new(name))
}

impl Store {
    /// Stores a report as the next revision of its series, in one transaction: the report row with
    /// its figures, the latest-value read model, the roll-ups above its localities and the
    /// idempotency record.
    ///
    /// A request id seen before with the same payload returns the stored receipt and writes nothing;
    /// with another payload it fails with `AlreadyExists`.
    pub async fn insert_report(&self, new: &NewReport<'_>) -> Result<Stored, Error> {
        retry_conflicts(|| self.try_insert_report(new)).await
    }

    async fn try_insert_report(&self, new: &NewReport<'_>) -> Result<Stored, Error> {
        let report = new.report;
        let scope = idempotency_scope(report);
        let write = self.begin_write().await?;
        let txn = &write.txn;
        let version = lock_province(txn, report.province.id).await?;

        let series = series_key(
            &report.agency,
            &report.obligation,
            report.province.id,
            report.period_start,
        );
        let found = look_up(txn, report, &scope, &missing_key(&series)).await?;
        if let Some(seen) = found.seen {
            if seen.payload_sha256 != new.payload_sha256 {
                return Err(Error::AlreadyExists(format!(
                    "request_id {:?} was already used for a different report",
                    report.request_id
                )));
            }
            let id: i64 = seen
                .result_ref
                .parse()
                .map_err(|_| Error::Internal(format!("bad idempotency ref {}", seen.result_ref)))?;
            let receipt = receipt(txn, id).await?.ok_or_else(|| {
                Error::Internal(format!("idempotency record points at missing report {id}"))
            })?;
            return Ok(Stored {
                receipt,
                flags: flags_of_report(txn, id).await?,
                replayed: true,
            });
        }

        let lock = if found.locked {
            active_lock(
                txn,
                report.province.id,
                &report.agency,
                &report.obligation,
                report.period_start,
                report.period_end,
            )
            .await?
        } else {
            None
        };
        if let Some(lock) = lock {
            return Err(Error::FailedPrecondition {
                kind: "PERIOD_LOCKED",
                subject: format!("locks/{}", lock.id),
                description: format!(
                    "the period {}..{} is locked by the task force ({}); no more revisions are accepted",
                    lock.period_start, lock.period_end, lock.reason
                ),
            });
        }

        let previous = found.latest;
        if report.mode == RevisionMode::Amend && previous.as_ref().map(|p| p.id) != new.amends {
            return Err(Error::Superseded(format!(
                "the series of reports/{} received another revision while the amendment was \
                 being merged",
                new.amends
                    .map_or_else(|| "-".to_owned(), |id| id.to_string())
            )));
        }
        let revision = previous.as_ref().map_or(1, |p| p.revision + 1);
        // Timeliness is the series': judged by the first revision's receive time.
        let first_received = match &previous {
            Some(_) => found.first_received.unwrap_or(new.received_at),
            None => new.received_at,
        };
        let evaluation = new.evaluation;
        let timeliness = p06_domain::schedule::timeliness(
            evaluation.deadline,
            Some(first_received),
            new.received_at,
        );
        let lateness = match timeliness {
            p06_domain::schedule::Timeliness::Late { by } => Some(by.num_seconds()),
            _ => None,
        };
        let reasons = serde_json::to_string(&evaluation.specificity.reasons)
            .map_err(|e| Error::Internal(format!("encode reasons: {e}")))?;

        // The revision's figures, sent and carried forward: one document in the report's row.
        let figures = encode_figures(report.observations.iter().map(|o| FigureRef {
            indicator_code: &o.indicator_code,
            locality_id: o.locality_id,
            value: o.value,
            carried_from: o.carried_from,
        }))?;
        let insert = Query::insert()
            .into_table(Alias::new("report"))
            .columns(
                [
                    "agency",
                    "obligation",
                    "province_id",
                    "period_start",
                    "period_end",
                    "revision",
                    "request_id",
                    "payload_sha256",
                    "received_at",
                    "submitted_by",
                    "assessment",
                    "obstacles",
                    "proposals",
                    "observation_count",
                    "deadline",
                    "timeliness",
                    "lateness_seconds",
                    "specificity_score",
                    "specificity_reasons",
                    "mode",
                    "carried_count",
                    "figures",
                ]
                .map(Alias::new),
            )
            .values_panic([
                report.agency.clone().into(),
                report.obligation.clone().into(),
                report.province.id.into(),
                report.period_start.into(),
                report.period_end.into(),
                revision.into(),
                report.request_id.clone().into(),
                new.payload_sha256.to_owned().into(),
                new.received_at.into(),
                new.submitted_by.to_owned().into(),
                report.narrative.assessment.clone().into(),
                report.narrative.obstacles.clone().into(),
                report.narrative.proposals.clone().into(),
                (report.observations.len() as i32).into(),
                evaluation.deadline.into(),
                timeliness.code().into(),
                lateness.into(),
                i32::from(evaluation.specificity.score).into(),
                reasons.into(),
                report.mode.code().into(),
                (revision::carried_count(report) as i32).into(),
                figures.into(),
            ])
            .returning(Query::returning().columns(RECEIPT_COLUMNS.iter().map(|c| Alias::new(*c))))
            .to_owned();
        let row = txn
            .query_one(&insert)
            .await?
            .ok_or_else(|| Error::Internal("INSERT … RETURNING gave no row".into()))?;
        let receipt = StoredReceipt::from_query_result(&row, "")?;
        let report_id = receipt.id;

        // The writes nobody reads back go into one script, sent as one statement on PostgreSQL
        // ([`Script`]): the read model and roll-ups, the idempotency record.
        let mut script = Script::new(txn.get_database_backend());

        // The superseded revision's figures leave the read model, the new revision's enter it, and
        // every roll-up above them moves by the difference.
        let held = Held {
            memory: &self.figure_memory,
            version: version - 1,
        };
        let (read_model, memory_change) = apply_revision(
            txn,
            new.catalog,
            &RevisionChange {
                province_id: report.province.id,
                period_start: report.period_start,
                period_end: report.period_end,
                report_id,
                received_at: new.received_at,
                observations: &report.observations,
                superseded: previous.as_ref().map(|p| p.id),
                needed_from: crate::compliance::history_since(
                    report.period_start,
                    report.period_end,
                ),
            },
            &held,
            &mut script,
        )
        .await?;

        let mut flags =
            raise_report_flags(txn, new, report_id, revision, lateness, found.missing_open).await?;
        let written = Written {
            province_id: report.province.id,
            held: &held,
            change: &memory_change,
        };
        let (bounds_raised, bounds_statements) =
            super::cross_agency::judge_bounds(txn, new, report_id, &written, &mut script).await?;
        flags.extend(bounds_raised);

        let record = Query::insert()
            .into_table(Alias::new("idempotency_key"))
            .columns(
                [
                    "scope",
                    "request_id",
                    "payload_sha256",
                    "result_ref",
                    "created_at",
                ]
                .map(Alias::new),
            )
            .values_panic([
                scope.into(),
                report.request_id.clone().into(),
                new.payload_sha256.to_owned().into(),
                report_id.to_string().into(),
                new.received_at.into(),
            ])
            .to_owned();
        script.extend([txn.get_database_backend().build(&record)]);
        let sent = script.run(txn).await?;
        let per_flag = match txn.get_database_backend() {
            sea_orm::DbBackend::Postgres => 1,
            _ => 2,
        };

        write.commit().await?;
        // Under the version this transaction made: the memory takes the change only while it
        // holds the version before it (this province's turn keeps this process's other writers
        // out; any other writer in between leaves the memory behind, and it is read again).
        self.figure_memory
            .update(report.province.id, version, |figures| {
                memory_change.apply(figures)
            });
        self.counters
            .reports
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.flag_bus().publish(flags.iter().cloned());
        // Statements of this transaction: the lock, the series' look-up, the report row, the
        // reads and runs of the read model and roll-ups, the script, and per flag raised its
        // insert and audit record (one statement on PostgreSQL). `Store::counts` counts every
        // statement exactly.
        tracing::Span::current().record(
            "statements",
            3 + read_model + sent + per_flag * flags.len() + bounds_statements,
        );
        Ok(Stored {
            receipt,
            flags,
            replayed: false,
        })
    }

    /// A stored revision with its observations.
    pub async fn report(&self, id: i64) -> Result<Option<StoredReport>, Error> {
        let db = self.connection();
        let mut select = Query::select();
        select
            .from(Alias::new("report"))
            .and_where(col("id").eq(id));
        for c in [
            "agency",
            "obligation",
            "province_id",
            "period_start",
            "period_end",
            "submitted_by",
            "assessment",
            "obstacles",
            "proposals",
        ] {
            select.column(Alias::new(c));
        }
        let Some(row) = db.query_one(&select).await? else {
            return Ok(None);
        };
        let header = ReportHeader::from_query_result(&row, "")?;
        let Some(receipt) = receipt(db, id).await? else {
            return Ok(None);
        };
        let observations = revision_figures::of_report(db, id)
            .await?
            .unwrap_or_default();
        Ok(Some(StoredReport {
            header,
            receipt,
            observations,
        }))
    }

    /// The latest revision of a report's series, with its figures: what an amendment of it starts
    /// from ([`revision::amend`]). Read outside the writing transaction; the insert checks that it
    /// is still the latest ([`NewReport::amends`]).
    pub async fn latest_of_series(
        &self,
        report: &ValidReport,
    ) -> Result<Option<(i64, Vec<StoredObservation>)>, Error> {
        let db = self.connection();
        let select = Query::select()
            .column(Alias::new("id"))
            .from(Alias::new("report"))
            .and_where(series_condition(
                &report.agency,
                &report.obligation,
                report.province.id,
                report.period_start,
            ))
            .order_by(Alias::new("revision"), Order::Desc)
            .to_owned();
        let Some(row) = db.query_one(&select).await? else {
            return Ok(None);
        };
        let latest = RevisionRow::from_query_result(&row, "")?;
        let observations = revision_figures::of_report(db, latest.id)
            .await?
            .unwrap_or_default();
        Ok(Some((latest.id, observations)))
    }

    /// Whether a request id has been used by this agency in this province (its retry is answered
    /// from the stored receipt, or refused when the payload differs).
    pub async fn request_seen(&self, report: &ValidReport) -> Result<bool, Error> {
        let select = Query::select()
            .column(Alias::new("result_ref"))
            .from(Alias::new("idempotency_key"))
            .and_where(col("scope").eq(idempotency_scope(report)))
            .and_where(col("request_id").eq(report.request_id.as_str()))
            .to_owned();
        Ok(self.connection().query_one(&select).await?.is_some())
    }

    /// Number of stored revisions of a series; used by tests and the compliance rules.
    pub async fn revision_count(
        &self,
        agency: &str,
        obligation: &str,
        province_id: i64,
        period_start: NaiveDate,
    ) -> Result<i64, Error> {
        let select = Query::select()
            .expr_as(Expr::col(Alias::new("id")).count(), Alias::new("n"))
            .from(Alias::new("report"))
            .and_where(series_condition(
                agency,
                obligation,
                province_id,
                period_start,
            ))
            .to_owned();
        let row = self.connection().query_one(&select).await?;
        Ok(row
            .map(|r| r.try_get::<i64>("", "n"))
            .transpose()?
            .unwrap_or(0))
    }
}

/// The scope of a report's request ids: one agency in one province.
fn idempotency_scope(report: &ValidReport) -> String {
    format!("report:{}:{}", report.agency, report.province.id)
}

pub(super) fn series_condition(
    agency: &str,
    obligation: &str,
    province_id: i64,
    period_start: NaiveDate,
) -> SimpleExpr {
    col("province_id")
        .eq(province_id)
        .and(col("agency").eq(agency))
        .and(col("obligation").eq(obligation))
        .and(col("period_start").eq(period_start))
}

async fn receipt(db: &impl ConnectionTrait, id: i64) -> Result<Option<StoredReceipt>, Error> {
    let select = Query::select()
        .columns(RECEIPT_COLUMNS.iter().map(|c| Alias::new(*c)))
        .from(Alias::new("report"))
        .and_where(col("id").eq(id))
        .to_owned();
    match db.query_one(&select).await? {
        Some(row) => Ok(Some(StoredReceipt::from_query_result(&row, "")?)),
        None => Ok(None),
    }
}
