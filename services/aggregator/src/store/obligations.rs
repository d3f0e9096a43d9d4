//! Storage of reporting obligations, per province (migration 12).
//!
//! `obligation` registers each code once with its agency; `obligation_province` holds the settings
//! each bound province has of it (the domain's `ObligationSpec` as JSON, `provinces` naming that
//! province alone). Who may change which row is the domain's rule (`p06_domain::admin`); this
//! module only stores and reads.

use chrono::{DateTime, Utc};
use p06_domain::obligation::ObligationSpec;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, OnConflict, Order, Query};
use sea_orm::{ConnectionTrait, FromQueryResult};

use super::Store;
use super::audit::{AuditScope, audit};
use super::rollups::lock_province;
use crate::error::Error;

fn col(name: &str) -> Expr {
    Expr::col(Alias::new(name))
}

#[derive(FromQueryResult)]
struct SpecRow {
    spec: String,
}

#[derive(FromQueryResult)]
struct BindingRow {
    province_id: i64,
    spec: String,
}

#[derive(FromQueryResult)]
struct AgencyRow {
    agency: String,
}

/// Whether an existing (code, province) row is replaced or kept.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Existing {
    Replace,
    Keep,
}

impl Store {
    /// The settings of obligation `code` in one province; `None` when it does not bind it.
    pub async fn obligation_for(
        &self,
        code: &str,
        province_id: i64,
    ) -> Result<Option<ObligationSpec>, Error> {
        let row = self
            .connection()
            .query_one(
                Query::select()
                    .column(Alias::new("spec"))
                    .from(Alias::new("obligation_province"))
                    .and_where(col("code").eq(code))
                    .and_where(col("province_id").eq(province_id)),
            )
            .await?;
        row.map(|r| parse_spec(&SpecRow::from_query_result(&r, "")?.spec))
            .transpose()
    }

    /// Whether obligation `code` exists at all (in any province).
    pub async fn obligation_exists(&self, code: &str) -> Result<bool, Error> {
        Ok(self
            .connection()
            .query_one(
                Query::select()
                    .column(Alias::new("code"))
                    .from(Alias::new("obligation"))
                    .and_where(col("code").eq(code)),
            )
            .await?
            .is_some())
    }

    /// The obligations binding one province, with its settings, by code.
    pub async fn obligations_of(&self, province_id: i64) -> Result<Vec<ObligationSpec>, Error> {
        let rows = self
            .connection()
            .query_all(
                Query::select()
                    .column(Alias::new("spec"))
                    .from(Alias::new("obligation_province"))
                    .and_where(col("province_id").eq(province_id))
                    .order_by(Alias::new("code"), Order::Asc),
            )
            .await?;
        rows.iter()
            .map(|r| parse_spec(&SpecRow::from_query_result(r, "")?.spec))
            .collect()
    }

    /// Every (province id, settings) of every obligation, by code and province.
    pub async fn obligation_bindings(&self) -> Result<Vec<(i64, ObligationSpec)>, Error> {
        let rows = self
            .connection()
            .query_all(
                Query::select()
                    .columns(["province_id", "spec"].map(Alias::new))
                    .from(Alias::new("obligation_province"))
                    .order_by(Alias::new("code"), Order::Asc)
                    .order_by(Alias::new("province_id"), Order::Asc),
            )
            .await?;
        rows.iter()
            .map(|r| {
                let row = BindingRow::from_query_result(r, "")?;
                Ok((row.province_id, parse_spec(&row.spec)?))
            })
            .collect()
    }

    /// Creates or replaces the settings of `spec.code` in one province (already checked against
    /// the catalog and the caller's scope); the code keeps one agency everywhere.
    pub async fn upsert_obligation(
        &self,
        spec: &ObligationSpec,
        province_id: i64,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<(), Error> {
        let write = self.begin_write().await?;
        // The compliance board of the province is read at its version: a new obligation or
        // deadline changes it.
        lock_province(&write.txn, province_id).await?;
        store_binding(&write.txn, spec, province_id, now, Existing::Replace)
            .await?
            .map_err(|agency| {
                Error::invalid_field(
                    "agency",
                    format!(
                        "obligation {} is reported by {agency} wherever it binds; \
                         a {} obligation needs another code",
                        spec.code, spec.agency
                    ),
                )
            })?;
        audit(
            &write.txn,
            AuditScope::of(province_id, Some(&spec.agency)),
            actor,
            "OBLIGATION_SET",
            &format!("obligations/{}", spec.code),
            &to_json(spec)?,
            now,
        )
        .await?;
        write.commit().await?;
        Ok(())
    }

    /// Creates the (province id, settings) rows that do not exist yet (the configuration file at
    /// start-up); existing settings win.
    pub async fn seed_obligations(
        &self,
        bindings: &[(i64, ObligationSpec)],
        now: DateTime<Utc>,
    ) -> Result<(), Error> {
        let write = self.begin_write().await?;
        let mut written = std::collections::BTreeSet::new();
        for (province_id, spec) in bindings {
            let wrote = store_binding(&write.txn, spec, *province_id, now, Existing::Keep)
                .await?
                .map_err(|agency| {
                    Error::Internal(format!(
                        "obligation {:?} of the compliance file is a {} obligation, \
                         but the database has it for {agency}",
                        spec.code, spec.agency
                    ))
                })?;
            if wrote {
                written.insert(*province_id);
            }
        }
        // Another replica may hold these provinces' compliance boards: their versions advance
        // (in province order: PostgreSQL's row locks).
        for province_id in written {
            lock_province(&write.txn, province_id).await?;
        }
        write.commit().await?;
        Ok(())
    }
}

/// Registers the code (first writer sets its agency) and writes the province's settings;
/// `Ok(Ok(false))` when `existing` kept settings already there. `Ok(Err(agency))`: the code
/// belongs to another agency, nothing written.
async fn store_binding(
    db: &impl ConnectionTrait,
    spec: &ObligationSpec,
    province_id: i64,
    now: DateTime<Utc>,
    existing: Existing,
) -> Result<Result<bool, String>, Error> {
    let json = to_json(spec)?;
    db.execute(
        Query::insert()
            .into_table(Alias::new("obligation"))
            .columns(["code", "agency", "spec", "updated_at"].map(Alias::new))
            .values_panic([
                spec.code.clone().into(),
                spec.agency.clone().into(),
                json.clone().into(),
                now.into(),
            ])
            .on_conflict(
                OnConflict::column(Alias::new("code"))
                    .do_nothing()
                    .to_owned(),
            ),
    )
    .await?;
    let registered = db
        .query_one(
            Query::select()
                .column(Alias::new("agency"))
                .from(Alias::new("obligation"))
                .and_where(col("code").eq(spec.code.as_str())),
        )
        .await?
        .ok_or_else(|| Error::Internal(format!("obligation {} vanished", spec.code)))?;
    let agency = AgencyRow::from_query_result(&registered, "")?.agency;
    if agency != spec.agency {
        return Ok(Err(agency));
    }
    let key = ["code", "province_id"].map(Alias::new);
    let conflict = match existing {
        Existing::Replace => OnConflict::columns(key)
            .update_columns(["spec", "updated_at"].map(Alias::new))
            .to_owned(),
        Existing::Keep => OnConflict::columns(key).do_nothing().to_owned(),
    };
    let written = db
        .execute(
            Query::insert()
                .into_table(Alias::new("obligation_province"))
                .columns(["code", "province_id", "spec", "updated_at"].map(Alias::new))
                .values_panic([
                    spec.code.clone().into(),
                    province_id.into(),
                    json.into(),
                    now.into(),
                ])
                .on_conflict(conflict),
        )
        .await?;
    Ok(Ok(written.rows_affected() > 0))
}

fn to_json(spec: &ObligationSpec) -> Result<String, Error> {
    serde_json::to_string(spec).map_err(|e| Error::Internal(format!("encode obligation: {e}")))
}

fn parse_spec(json: &str) -> Result<ObligationSpec, Error> {
    serde_json::from_str(json)
        .map_err(|e| Error::Internal(format!("stored obligation is not valid: {e}")))
}
