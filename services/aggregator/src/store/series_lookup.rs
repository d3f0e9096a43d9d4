//! What a report's transaction must know of its series before it writes, in one statement: the
//! request id's earlier use, whether a period lock covers it, the latest revision, the first
//! revision's receive time and whether a MISSING flag of the series is open.

use chrono::{DateTime, Utc};
use p06_domain::report::ValidReport;
use sea_orm::{ConnectionTrait, DatabaseTransaction, FromQueryResult};

use super::statement;
use crate::error::Error;

/// The request id's earlier use in its scope.
pub(super) struct Seen {
    pub payload_sha256: String,
    pub result_ref: String,
}

/// The latest stored revision of a series.
#[derive(Debug, Clone, Copy)]
pub(super) struct Latest {
    pub id: i64,
    pub revision: i32,
}

/// What the series' look-up found.
pub(super) struct SeriesLookup {
    pub seen: Option<Seen>,
    /// Whether an active period lock covers the report (read whole only then).
    pub locked: bool,
    pub latest: Option<Latest>,
    /// When the series' first revision was received.
    pub first_received: Option<DateTime<Utc>>,
    /// Whether the series' MISSING flag is open (a first report then resolves it).
    pub missing_open: bool,
}

#[derive(FromQueryResult)]
struct Row {
    seen_sha256: Option<String>,
    seen_ref: Option<String>,
    locks: i64,
    latest_id: Option<i64>,
    latest_revision: Option<i32>,
    first_received_at: Option<DateTime<Utc>>,
    missing_open: i64,
}

/// The series' look-up, inside the report's transaction (after the province's lock).
pub(super) async fn look_up(
    txn: &DatabaseTransaction,
    report: &ValidReport,
    scope: &str,
    missing_key: &str,
) -> Result<SeriesLookup, Error> {
    let series = "province_id = ? AND agency = ? AND obligation = ? AND period_start = ?";
    let sql = format!(
        "SELECT \
         (SELECT payload_sha256 FROM idempotency_key WHERE scope = ? AND request_id = ?) AS seen_sha256, \
         (SELECT result_ref FROM idempotency_key WHERE scope = ? AND request_id = ?) AS seen_ref, \
         (SELECT COUNT(*) FROM period_lock WHERE province_id = ? AND unlocked_at IS NULL \
          AND period_start <= ? AND period_end >= ? AND (agency IS NULL OR agency = ?) \
          AND (obligation IS NULL OR obligation = ?)) AS locks, \
         (SELECT id FROM report WHERE {series} ORDER BY revision DESC LIMIT 1) AS latest_id, \
         (SELECT revision FROM report WHERE {series} ORDER BY revision DESC LIMIT 1) AS latest_revision, \
         (SELECT received_at FROM report WHERE {series} AND revision = 1) AS first_received_at, \
         (SELECT COUNT(*) FROM flag WHERE dedupe_key = ? AND state = 'OPEN') AS missing_open"
    );
    let series_values = || -> Vec<sea_orm::Value> {
        vec![
            report.province.id.into(),
            report.agency.clone().into(),
            report.obligation.clone().into(),
            report.period_start.into(),
        ]
    };
    let mut values: Vec<sea_orm::Value> = Vec::new();
    for _ in 0..2 {
        values.push(scope.into());
        values.push(report.request_id.clone().into());
    }
    values.extend([
        report.province.id.into(),
        report.period_end.into(),
        report.period_start.into(),
        report.agency.clone().into(),
        report.obligation.clone().into(),
    ]);
    for _ in 0..3 {
        values.extend(series_values());
    }
    values.push(missing_key.into());
    let row = txn
        .query_one_raw(statement(txn.get_database_backend(), &sql, values))
        .await?
        .ok_or_else(|| {
            Error::Internal(format!(
                "the look-up of the series of request {:?} returned no row",
                report.request_id
            ))
        })?;
    let row = Row::from_query_result(&row, "")?;
    Ok(SeriesLookup {
        seen: match (row.seen_sha256, row.seen_ref) {
            (Some(payload_sha256), Some(result_ref)) => Some(Seen {
                payload_sha256,
                result_ref,
            }),
            _ => None,
        },
        locked: row.locks > 0,
        latest: match (row.latest_id, row.latest_revision) {
            (Some(id), Some(revision)) => Some(Latest { id, revision }),
            _ => None,
        },
        first_received: row.first_received_at,
        missing_open: row.missing_open > 0,
    })
}
