//! Storage of the compliance rules: period locks, flags and the audit log (obligations:
//! `obligations.rs`).

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Order, Query, SimpleExpr};
use sea_orm::{ConnectionTrait, FromQueryResult};

use super::Store;
use super::audit::{AuditScope, audit};
use crate::error::Error;
use crate::hash::FastMap;

fn col(name: &str) -> Expr {
    Expr::col(Alias::new(name))
}

fn in_province(province_id: i64) -> SimpleExpr {
    col("locality_id").in_subquery(
        Query::select()
            .column(Alias::new("id"))
            .from(Alias::new("locality"))
            .and_where(col("province_id").eq(province_id))
            .to_owned(),
    )
}

/// A flag to raise; `dedupe_key` makes raising it idempotent across replicas.
#[derive(Debug, Clone)]
pub struct NewFlag {
    pub kind: String,
    pub agency: String,
    pub obligation: String,
    pub province_id: i64,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub report_id: Option<i64>,
    pub indicator_code: Option<String>,
    pub locality_id: Option<i64>,
    pub message: String,
    pub details: Option<String>,
    pub dedupe_key: String,
}

/// The facts behind a flag's message, kept as JSON in its `details` column so that clients can
/// word the flag in their reader's language (`Flag.lateness`, `deadline`, `value`, …).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FlagFacts {
    /// LATE: seconds after the deadline.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lateness_seconds: Option<i64>,
    /// MISSING: the deadline that passed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<DateTime<Utc>>,
    /// Consistency flags: the figure and what it was compared with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<f64>,
    /// VAGUE: the specificity score and its reasons (each with its `code`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<i32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<serde_json::Value>,
    /// NARRATIVE_MISMATCH: the sentence quoted, with its narrative field (`assessment`,
    /// `obstacles`, `proposals`), the kind of claim (`RATIO`, `COUNT`, `PERCENT_OF_TARGET`, …) and
    /// the English wording; `value` is the printed figure and `reference` the computed one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub narrative_field: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message_en: Option<String>,
    /// CROSS_AGENCY_MISMATCH: the other agency's indicator that bounds the flag's (`value` is the
    /// bounded figure, `reference` the bound), and the report revisions each figure came from
    /// (`message` and `message_en` name them too).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bound_indicator: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_report: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bound_report: Option<i64>,
}

impl FlagFacts {
    /// As stored in `details`.
    pub fn to_details(&self) -> Option<String> {
        serde_json::to_string(self).ok()
    }

    /// Reads a `details` column; VAGUE flags of earlier versions stored the bare reasons array.
    pub fn from_details(details: Option<&str>) -> Self {
        let Some(text) = details else {
            return Self::default();
        };
        match serde_json::from_str::<serde_json::Value>(text) {
            Ok(serde_json::Value::Array(reasons)) => Self {
                reasons,
                ..Self::default()
            },
            Ok(object) => serde_json::from_value(object).unwrap_or_default(),
            Err(_) => Self::default(),
        }
    }

    /// The codes of the VAGUE reasons.
    pub fn reason_codes(&self) -> Vec<String> {
        self.reasons
            .iter()
            .filter_map(|r| r.get("code")?.as_str().map(str::to_owned))
            .collect()
    }
}

#[derive(Debug, Clone, PartialEq, FromQueryResult)]
pub struct FlagRow {
    pub id: i64,
    pub kind: String,
    pub state: String,
    pub agency: String,
    pub obligation: String,
    pub province_id: i64,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub report_id: Option<i64>,
    pub indicator_code: Option<String>,
    pub locality_id: Option<i64>,
    pub message: String,
    pub details: Option<String>,
    pub raised_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
}

pub const FLAG_COLUMNS: &[&str] = &[
    "id",
    "kind",
    "state",
    "agency",
    "obligation",
    "province_id",
    "period_start",
    "period_end",
    "report_id",
    "indicator_code",
    "locality_id",
    "message",
    "details",
    "raised_at",
    "resolved_at",
];

/// The key of a report series (agency, obligation, province, period) in flag dedupe keys.
pub fn series_key(
    agency: &str,
    obligation: &str,
    province_id: i64,
    period_start: NaiveDate,
) -> String {
    format!("{agency}|{obligation}|{province_id}|{period_start}")
}

#[derive(Debug, Clone, PartialEq, FromQueryResult)]
pub struct LockRow {
    pub id: i64,
    pub province_id: i64,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub agency: Option<String>,
    pub obligation: Option<String>,
    pub reason: String,
    pub locked_by: String,
    pub locked_at: DateTime<Utc>,
    pub unlocked_by: Option<String>,
    pub unlocked_at: Option<DateTime<Utc>>,
}

const LOCK_COLUMNS: &[&str] = &[
    "id",
    "province_id",
    "period_start",
    "period_end",
    "agency",
    "obligation",
    "reason",
    "locked_by",
    "locked_at",
    "unlocked_by",
    "unlocked_at",
];

#[derive(FromQueryResult)]
struct TargetDue {
    indicator_code: String,
    locality_id: i64,
    value: f64,
}

#[derive(FromQueryResult)]
struct HistoryRow {
    indicator_code: String,
    locality_id: i64,
    value: f64,
}

/// Raises a flag unless one with the same dedupe key exists or was archived (a flag past
/// retention keeps its key in the archive: raising it again would repeat history), with its audit
/// record; returns it when this call raised it.
///
/// The archive is consulted by the insert itself. On PostgreSQL the audit record is written by
/// the same statement (a data-modifying `WITH` query over the inserted row): one round trip; on
/// SQLite it follows.
pub(crate) async fn raise_flag(
    db: &impl ConnectionTrait,
    flag: &NewFlag,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Option<FlagRow>, Error> {
    let backend = db.get_database_backend();
    let columns = FLAG_COLUMNS.join(", ");
    let insert = format!(
        "INSERT INTO flag (kind, state, agency, obligation, province_id, period_start, period_end, \
         report_id, indicator_code, locality_id, message, details, dedupe_key, raised_at) \
         SELECT ?, 'OPEN', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? \
         WHERE NOT EXISTS (SELECT 1 FROM flag_archive WHERE dedupe_key = ?) \
         ON CONFLICT (dedupe_key) DO NOTHING RETURNING {columns}"
    );
    let mut values: Vec<sea_orm::Value> = vec![
        flag.kind.clone().into(),
        flag.agency.clone().into(),
        flag.obligation.clone().into(),
        flag.province_id.into(),
        flag.period_start.into(),
        flag.period_end.into(),
        flag.report_id.into(),
        flag.indicator_code.clone().into(),
        flag.locality_id.into(),
        flag.message.clone().into(),
        flag.details.clone().into(),
        flag.dedupe_key.clone().into(),
        now.into(),
        flag.dedupe_key.clone().into(),
    ];
    let details = format!("{} {}", flag.kind, flag.dedupe_key);
    if backend == sea_orm::DbBackend::Postgres {
        let sql = format!(
            "WITH raised AS ({insert}), recorded AS (\
             INSERT INTO audit_log (at, actor, action, subject, details, province_id, agency) \
             SELECT ?, ?, 'FLAG_RAISED', 'flags/' || raised.id, ?, raised.province_id, \
             raised.agency FROM raised) SELECT {columns} FROM raised"
        );
        values.extend([now.into(), actor.into(), details.into()]);
        let row = db
            .query_one_raw(super::statement(backend, &sql, values))
            .await?;
        return match row {
            Some(row) => Ok(Some(FlagRow::from_query_result(&row, "")?)),
            None => Ok(None),
        };
    }
    let Some(row) = db
        .query_one_raw(super::statement(backend, &insert, values))
        .await?
    else {
        return Ok(None);
    };
    let raised = FlagRow::from_query_result(&row, "")?;
    audit(
        db,
        AuditScope::of(raised.province_id, Some(&raised.agency)),
        actor,
        "FLAG_RAISED",
        &format!("flags/{}", raised.id),
        &details,
        now,
    )
    .await?;
    Ok(Some(raised))
}

/// Resolves the open flag with this dedupe key, if any; returns its id.
pub(crate) async fn resolve_flag(
    db: &impl ConnectionTrait,
    dedupe_key: &str,
    actor: &str,
    why: &str,
    now: DateTime<Utc>,
) -> Result<Option<i64>, Error> {
    let update = Query::update()
        .table(Alias::new("flag"))
        .value(Alias::new("state"), "RESOLVED")
        .value(Alias::new("resolved_at"), now)
        .and_where(col("dedupe_key").eq(dedupe_key))
        .and_where(col("state").eq("OPEN"))
        .returning(Query::returning().columns(["id", "province_id", "agency"].map(Alias::new)))
        .to_owned();
    let Some(row) = db.query_one(&update).await? else {
        return Ok(None);
    };
    let id: i64 = row.try_get("", "id")?;
    let province_id: i64 = row.try_get("", "province_id")?;
    let agency: String = row.try_get("", "agency")?;
    audit(
        db,
        AuditScope::of(province_id, Some(&agency)),
        actor,
        "FLAG_RESOLVED",
        &format!("flags/{id}"),
        why,
        now,
    )
    .await?;
    Ok(Some(id))
}

/// The active lock covering a report, if any.
pub(crate) async fn active_lock(
    db: &impl ConnectionTrait,
    province_id: i64,
    agency: &str,
    obligation: &str,
    period_start: NaiveDate,
    period_end: NaiveDate,
) -> Result<Option<LockRow>, Error> {
    let select = Query::select()
        .columns(LOCK_COLUMNS.iter().map(|c| Alias::new(*c)))
        .from(Alias::new("period_lock"))
        .and_where(col("province_id").eq(province_id))
        .and_where(col("unlocked_at").is_null())
        .and_where(col("period_start").lte(period_end))
        .and_where(col("period_end").gte(period_start))
        .and_where(col("agency").is_null().or(col("agency").eq(agency)))
        .and_where(
            col("obligation")
                .is_null()
                .or(col("obligation").eq(obligation)),
        )
        .to_owned();
    // Any one will do (no LIMIT: see `store` on bound limits in SQLite).
    match db.query_one(&select).await? {
        Some(row) => Ok(Some(LockRow::from_query_result(&row, "")?)),
        None => Ok(None),
    }
}

impl Store {
    /// The nearest own target due on or after `date` of each of `localities`, by (indicator,
    /// locality).
    pub async fn own_targets_due_from(
        &self,
        localities: &[i64],
        date: NaiveDate,
    ) -> Result<FastMap<(String, i64), f64>, Error> {
        if localities.is_empty() {
            return Ok(FastMap::default());
        }
        self.nearest_targets(col("locality_id").is_in(localities.iter().copied()), date)
            .await
    }

    /// The nearest target due on or after `date`, per (indicator, locality) of a province.
    pub async fn targets_due_from(
        &self,
        province_id: i64,
        date: NaiveDate,
    ) -> Result<FastMap<(String, i64), f64>, Error> {
        self.nearest_targets(in_province(province_id), date).await
    }

    /// The nearest target due on or after `date` of the targets matching `which`.
    async fn nearest_targets(
        &self,
        which: SimpleExpr,
        date: NaiveDate,
    ) -> Result<FastMap<(String, i64), f64>, Error> {
        let rows = self
            .connection()
            .query_all(
                Query::select()
                    .columns(["indicator_code", "locality_id", "value"].map(Alias::new))
                    .from(Alias::new("target"))
                    .and_where(which)
                    .and_where(col("due_date").gte(date))
                    .order_by(Alias::new("due_date"), Order::Desc),
            )
            .await?;
        let mut out = FastMap::default();
        for row in rows {
            let t = TargetDue::from_query_result(&row, "")?;
            // Descending due dates: the last one written is the nearest.
            out.insert((t.indicator_code, t.locality_id), t.value);
        }
        Ok(out)
    }

    /// The latest values of the figures of `indicators` × `localities` in periods ending before
    /// `before` and after `since`, at most `keep` per (indicator, locality), oldest first.
    ///
    /// From the province's figures held in memory (`super::figure_memory`) when they are held at
    /// its current version and reach back far enough (one primary-key read of the version instead
    /// of the history); else one range of the primary key (province, indicator, period end,
    /// locality) per indicator, whose index entries are filtered by locality before any row is
    /// read.
    pub async fn history_before(
        &self,
        province_id: i64,
        indicators: &[String],
        localities: &[i64],
        since: NaiveDate,
        before: NaiveDate,
        keep: usize,
    ) -> Result<FastMap<(String, i64), Vec<f64>>, Error> {
        let mut out: FastMap<(String, i64), Vec<f64>> = FastMap::default();
        if indicators.is_empty() || localities.is_empty() {
            return Ok(out);
        }
        if self.figure_memory.version_of(province_id).is_some() {
            let version = self.read_version(province_id).await?;
            let held = self.figure_memory.read(province_id, version, |figures| {
                figures.history(indicators, localities, since, before, keep)
            });
            if let Some(history) = held {
                return Ok(history);
            }
        }
        let rows = self
            .connection()
            .query_all(
                Query::select()
                    .columns(["indicator_code", "locality_id", "value"].map(Alias::new))
                    .from(Alias::new("latest_value"))
                    .and_where(col("province_id").eq(province_id))
                    .and_where(col("indicator_code").is_in(indicators.iter().cloned()))
                    .and_where(col("locality_id").is_in(localities.iter().copied()))
                    .and_where(col("period_end").gt(since))
                    .and_where(col("period_end").lt(before))
                    .order_by(Alias::new("period_end"), Order::Asc),
            )
            .await?;
        for row in rows {
            let h = HistoryRow::from_query_result(&row, "")?;
            let series = out.entry((h.indicator_code, h.locality_id)).or_default();
            series.push(h.value);
            if series.len() > keep {
                series.remove(0);
            }
        }
        Ok(out)
    }

    /// Flags about one report revision.
    pub async fn flags_of_report(&self, report_id: i64) -> Result<Vec<FlagRow>, Error> {
        flags_of_report(self.connection(), report_id).await
    }

    /// Locks a period of a province (optionally for one agency and/or obligation).
    #[allow(clippy::too_many_arguments)]
    pub async fn lock_period(
        &self,
        province_id: i64,
        period_start: NaiveDate,
        period_end: NaiveDate,
        agency: Option<&str>,
        obligation: Option<&str>,
        reason: &str,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<LockRow, Error> {
        let write = self.begin_write().await?;
        let insert = Query::insert()
            .into_table(Alias::new("period_lock"))
            .columns(
                [
                    "province_id",
                    "period_start",
                    "period_end",
                    "agency",
                    "obligation",
                    "reason",
                    "locked_by",
                    "locked_at",
                ]
                .map(Alias::new),
            )
            .values_panic([
                province_id.into(),
                period_start.into(),
                period_end.into(),
                agency.map(str::to_owned).into(),
                obligation.map(str::to_owned).into(),
                reason.into(),
                actor.into(),
                now.into(),
            ])
            .returning(Query::returning().columns(LOCK_COLUMNS.iter().map(|c| Alias::new(*c))))
            .to_owned();
        let row = write
            .txn
            .query_one(&insert)
            .await?
            .ok_or_else(|| Error::Internal("INSERT … RETURNING gave no row".into()))?;
        let lock = LockRow::from_query_result(&row, "")?;
        audit(
            &write.txn,
            AuditScope::of(lock.province_id, lock.agency.as_deref()),
            actor,
            "LOCK",
            &format!("locks/{}", lock.id),
            &format!("{period_start}..{period_end} {reason}"),
            now,
        )
        .await?;
        write.commit().await?;
        Ok(lock)
    }

    /// Lifts a lock; the lock row stays as history. `None` when no such active lock exists in the
    /// province.
    pub async fn unlock_period(
        &self,
        province_id: i64,
        lock_id: i64,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<LockRow>, Error> {
        let write = self.begin_write().await?;
        let update = Query::update()
            .table(Alias::new("period_lock"))
            .value(Alias::new("unlocked_by"), actor)
            .value(Alias::new("unlocked_at"), now)
            .and_where(col("id").eq(lock_id))
            .and_where(col("province_id").eq(province_id))
            .and_where(col("unlocked_at").is_null())
            .returning(Query::returning().columns(LOCK_COLUMNS.iter().map(|c| Alias::new(*c))))
            .to_owned();
        let Some(row) = write.txn.query_one(&update).await? else {
            return Ok(None);
        };
        let lock = LockRow::from_query_result(&row, "")?;
        audit(
            &write.txn,
            AuditScope::of(lock.province_id, lock.agency.as_deref()),
            actor,
            "UNLOCK",
            &format!("locks/{lock_id}"),
            "",
            now,
        )
        .await?;
        write.commit().await?;
        Ok(Some(lock))
    }

    /// Whether any revision of a series exists.
    pub async fn series_reported(
        &self,
        agency: &str,
        obligation: &str,
        province_id: i64,
        period_start: NaiveDate,
    ) -> Result<bool, Error> {
        Ok(self
            .revision_count(agency, obligation, province_id, period_start)
            .await?
            > 0)
    }

    /// Resolves an open flag outside a report transaction.
    pub async fn resolve(
        &self,
        dedupe_key: &str,
        actor: &str,
        why: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<i64>, Error> {
        let write = self.begin_write().await?;
        let id = resolve_flag(&write.txn, dedupe_key, actor, why, now).await?;
        write.commit().await?;
        Ok(id)
    }

    /// Raises a flag outside a report transaction (the MISSING sweep).
    pub async fn raise(
        &self,
        flag: &NewFlag,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<i64>, Error> {
        let write = self.begin_write().await?;
        let raised = raise_flag(&write.txn, flag, actor, now).await?;
        write.commit().await?;
        let id = raised.as_ref().map(|f| f.id);
        self.flag_bus().publish(raised);
        Ok(id)
    }
}

/// Flags about one report revision, oldest first.
pub(crate) async fn flags_of_report(
    db: &impl ConnectionTrait,
    report_id: i64,
) -> Result<Vec<FlagRow>, Error> {
    let rows = db
        .query_all(
            Query::select()
                .columns(FLAG_COLUMNS.iter().map(|c| Alias::new(*c)))
                .from(Alias::new("flag"))
                .and_where(col("report_id").eq(report_id))
                .order_by(Alias::new("id"), Order::Asc),
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| FlagRow::from_query_result(r, ""))
        .collect::<Result<_, _>>()?)
}
