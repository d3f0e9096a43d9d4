//! The audit log (`audit_log`): one row per flag raised, resolved or archived, period locked or
//! unlocked, obligation set, and flags imported — written in the transaction of the change it
//! records, read by the task force one keyset page at a time (`ListAuditRecords`).
//!
//! Each row names the province and agency it concerns (migration 17) so that a province's task
//! force reads its own records from the index `(province_id, id)`; rows about no single province
//! (a bulk flag import) carry none and are read by no province.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Query};
use sea_orm::{ConnectionTrait, FromQueryResult, Value};

use super::flags::MAX_ROWS_PER_READ;
use super::{Store, statement};
use crate::error::Error;

/// What an audit record is about: the province and agency it concerns, when there is one.
#[derive(Debug, Clone, Copy, Default)]
pub struct AuditScope<'a> {
    pub province_id: Option<i64>,
    /// `None` for a change that concerns every agency (a lock of all agencies' reports).
    pub agency: Option<&'a str>,
}

impl<'a> AuditScope<'a> {
    pub fn of(province_id: i64, agency: Option<&'a str>) -> Self {
        AuditScope {
            province_id: Some(province_id),
            agency,
        }
    }
}

/// Records one change; call it inside the change's own transaction.
pub(crate) async fn audit(
    db: &impl ConnectionTrait,
    scope: AuditScope<'_>,
    actor: &str,
    action: &str,
    subject: &str,
    details: &str,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    db.execute(
        Query::insert()
            .into_table(Alias::new("audit_log"))
            .columns(
                [
                    "at",
                    "actor",
                    "action",
                    "subject",
                    "details",
                    "province_id",
                    "agency",
                ]
                .map(Alias::new),
            )
            .values_panic([
                now.into(),
                actor.into(),
                action.into(),
                subject.into(),
                details.into(),
                scope.province_id.into(),
                scope.agency.map(str::to_owned).into(),
            ]),
    )
    .await?;
    Ok(())
}

/// One audit record as stored.
#[derive(Debug, Clone, FromQueryResult)]
pub struct AuditRow {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub details: String,
    pub province_id: Option<i64>,
    pub agency: Option<String>,
}

/// Filters of an audit listing; all optional.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    /// At or after this instant.
    pub from: Option<DateTime<Utc>>,
    /// Strictly before this instant.
    pub to: Option<DateTime<Utc>>,
    /// `FLAG_RAISED`, `LOCK`, …
    pub action: Option<String>,
    pub agency: Option<String>,
}

impl Store {
    /// One page of a province's audit records, newest first: at most `limit` with an id below
    /// `before` (all when `None`) matching `filter`.
    pub async fn audit_page(
        &self,
        province_id: i64,
        filter: &AuditFilter,
        before: Option<i64>,
        limit: u64,
    ) -> Result<Vec<AuditRow>, Error> {
        let mut sql = String::from(
            "SELECT id, at, actor, action, subject, details, province_id, agency \
             FROM audit_log WHERE province_id = ?",
        );
        let mut values: Vec<Value> = vec![province_id.into()];
        if let Some(action) = &filter.action {
            sql.push_str(" AND action = ?");
            values.push(action.clone().into());
        }
        if let Some(agency) = &filter.agency {
            sql.push_str(" AND agency = ?");
            values.push(agency.clone().into());
        }
        if let Some(from) = filter.from {
            sql.push_str(" AND at >= ?");
            values.push(from.into());
        }
        if let Some(to) = filter.to {
            sql.push_str(" AND at < ?");
            values.push(to.into());
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
        rows.iter()
            .map(|r| AuditRow::from_query_result(r, "").map_err(Error::from))
            .collect()
    }
}
