//! Targets (chỉ tiêu) per indicator, locality and due date.

use super::rollups::{lock_province, rebuild_target_rollups};
use crate::catalog::Catalog;

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict, Order, Query};
use sea_orm::{ConnectionTrait, FromQueryResult};

use super::{Store, retry_conflicts};
use crate::error::Error;

const TARGET_BATCH: usize = 1_000;

#[derive(Debug, Clone, PartialEq)]
pub struct TargetUpsert {
    pub indicator_code: String,
    pub locality_id: i64,
    pub due_date: NaiveDate,
    pub value: f64,
}

#[derive(Debug, Clone, PartialEq, FromQueryResult)]
pub struct TargetRow {
    pub indicator_code: String,
    pub locality_id: i64,
    pub due_date: NaiveDate,
    pub value: f64,
    pub updated_at: DateTime<Utc>,
}

#[derive(FromQueryResult)]
struct KeyRow {
    indicator_code: String,
    locality_id: i64,
    due_date: NaiveDate,
}

#[derive(FromQueryResult)]
struct SeenRow {
    payload_sha256: String,
    result_ref: String,
}

/// Outcome of an upsert batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UpsertCounts {
    pub created: i32,
    pub updated: i32,
}

fn col(name: &str) -> Expr {
    Expr::col(Alias::new(name))
}

fn in_province(province_id: i64) -> sea_orm::sea_query::SimpleExpr {
    col("locality_id").in_subquery(
        Query::select()
            .column(Alias::new("id"))
            .from(Alias::new("locality"))
            .and_where(col("province_id").eq(province_id))
            .to_owned(),
    )
}

impl Store {
    /// Creates or replaces targets of one province in one transaction, idempotent by request id.
    pub async fn upsert_targets(
        &self,
        catalog: &Catalog,
        province_id: i64,
        request_id: &str,
        payload_sha256: &str,
        targets: &[TargetUpsert],
        now: DateTime<Utc>,
    ) -> Result<UpsertCounts, Error> {
        retry_conflicts(|| async {
            let scope = format!("targets:{province_id}");
            let write = self.begin_write().await?;
            let txn = &write.txn;
            lock_province(txn, province_id).await?;
            let seen = txn
                .query_one(
                    Query::select()
                        .columns(["payload_sha256", "result_ref"].map(Alias::new))
                        .from(Alias::new("idempotency_key"))
                        .and_where(col("scope").eq(scope.as_str()))
                        .and_where(col("request_id").eq(request_id)),
                )
                .await?;
            if let Some(row) = seen {
                let seen = SeenRow::from_query_result(&row, "")?;
                if seen.payload_sha256 != payload_sha256 {
                    return Err(Error::AlreadyExists(format!(
                        "request_id {request_id:?} was already used for different targets"
                    )));
                }
                let (created, updated) = seen.result_ref.split_once(',').unwrap_or(("0", "0"));
                return Ok(UpsertCounts {
                    created: created.parse().unwrap_or(0),
                    updated: updated.parse().unwrap_or(0),
                });
            }

            let existing: HashSet<(String, i64, NaiveDate)> = txn
                .query_all(
                    Query::select()
                        .columns(["indicator_code", "locality_id", "due_date"].map(Alias::new))
                        .from(Alias::new("target"))
                        .and_where(in_province(province_id)),
                )
                .await?
                .iter()
                .map(|r| {
                    KeyRow::from_query_result(r, "")
                        .map(|k| (k.indicator_code, k.locality_id, k.due_date))
                })
                .collect::<Result<_, _>>()?;
            let updated = targets
                .iter()
                .filter(|t| {
                    existing.contains(&(t.indicator_code.clone(), t.locality_id, t.due_date))
                })
                .count() as i32;
            let counts = UpsertCounts {
                created: targets.len() as i32 - updated,
                updated,
            };

            for chunk in targets.chunks(TARGET_BATCH) {
                let mut upsert = Query::insert();
                upsert
                    .into_table(Alias::new("target"))
                    .columns(
                        [
                            "indicator_code",
                            "locality_id",
                            "due_date",
                            "value",
                            "updated_at",
                        ]
                        .map(Alias::new),
                    )
                    .on_conflict(
                        OnConflict::columns(
                            ["locality_id", "indicator_code", "due_date"].map(Alias::new),
                        )
                        .update_columns(["value", "updated_at"].map(Alias::new))
                        .to_owned(),
                    );
                for t in chunk {
                    upsert.values_panic([
                        t.indicator_code.clone().into(),
                        t.locality_id.into(),
                        t.due_date.into(),
                        t.value.into(),
                        now.into(),
                    ]);
                }
                txn.execute(&upsert).await?;
            }
            rebuild_target_rollups(txn, catalog, province_id).await?;
            txn.execute(
                Query::insert()
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
                        scope.clone().into(),
                        request_id.into(),
                        payload_sha256.into(),
                        format!("{},{}", counts.created, counts.updated).into(),
                        now.into(),
                    ]),
            )
            .await?;
            write.commit().await?;
            Ok(counts)
        })
        .await
    }

    /// Targets inside a province, ordered by locality, indicator and due date.
    pub async fn list_targets(
        &self,
        province_id: i64,
        indicator: Option<&str>,
        offset: u64,
        limit: u64,
    ) -> Result<Vec<TargetRow>, Error> {
        let mut select = Query::select();
        select
            .columns(
                [
                    "indicator_code",
                    "locality_id",
                    "due_date",
                    "value",
                    "updated_at",
                ]
                .map(Alias::new),
            )
            .from(Alias::new("target"))
            .and_where(in_province(province_id))
            .order_by(Alias::new("locality_id"), Order::Asc)
            .order_by(Alias::new("indicator_code"), Order::Asc)
            .order_by(Alias::new("due_date"), Order::Asc)
            .offset(offset)
            .limit(limit);
        if let Some(code) = indicator {
            select.and_where(col("indicator_code").eq(code));
        }
        let rows = self.connection().query_all(&select).await?;
        Ok(rows
            .iter()
            .map(|r| TargetRow::from_query_result(r, ""))
            .collect::<Result<_, _>>()?)
    }
}
