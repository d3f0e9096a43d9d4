//! Obligations per province. An obligation code (`police-weekly-identity`) may bind many
//! provinces, but each province holds its own settings of it, changed only by that province's
//! admin: `obligation_province` keeps one row per (code, province) with the settings in force
//! there (the JSON of the domain's `ObligationSpec`, its `provinces` naming that province alone).
//!
//! `obligation` stays the registry of codes: one row per code with its reporting agency (a code
//! names one agency's duty in every province) and the settings it was first created with. This
//! migration gives every province an existing obligation binds a copy of its settings, so nothing
//! changes for a province until its own admin changes it.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, Statement};

use crate::m20250101_000001_catalog::create_index;
use crate::placeholders;

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLE: &str = "obligation_province";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(TABLE)
                    .col(ColumnDef::new("code").string_len(64).not_null())
                    .col(ColumnDef::new("province_id").big_integer().not_null())
                    .col(ColumnDef::new("spec").text().not_null())
                    .col(
                        ColumnDef::new("updated_at")
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .primary_key(Index::create().col("code").col("province_id"))
                    .foreign_key(
                        ForeignKey::create()
                            .from(TABLE, "code")
                            .to("obligation", "code"),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(TABLE, "province_id")
                            .to("locality", "id"),
                    )
                    .to_owned(),
            )
            .await?;
        // A province's obligations (its compliance board, ListObligations).
        create_index(
            manager,
            TABLE,
            "ix_obligation_province_province",
            &["province_id"],
            false,
        )
        .await?;

        let db = manager.get_connection();
        let backend = manager.get_database_backend();
        let rows = db
            .query_all_raw(Statement::from_string(
                backend,
                "SELECT code, spec FROM obligation ORDER BY code",
            ))
            .await?;
        for row in rows {
            let code: String = row.try_get("", "code")?;
            let spec: String = row.try_get("", "spec")?;
            for (province, spec) in per_province(&code, &spec)? {
                let Some((edition, province_code)) = province.split_once('/') else {
                    continue;
                };
                let id = db
                    .query_one_raw(Statement::from_sql_and_values(
                        backend,
                        placeholders(
                            backend,
                            "SELECT id FROM locality WHERE edition = ? AND code = ? AND level = 'province'",
                        ),
                        [edition.into(), province_code.into()],
                    ))
                    .await?;
                // A province the catalog does not know was never bound (the domain checks every
                // province of a spec before it is stored).
                let Some(id) = id else { continue };
                let id: i64 = id.try_get("", "id")?;
                db.execute_raw(Statement::from_sql_and_values(
                    backend,
                    placeholders(
                        backend,
                        "INSERT INTO obligation_province (code, province_id, spec, updated_at) \
                         SELECT code, ?, ?, updated_at FROM obligation WHERE code = ?",
                    ),
                    [id.into(), spec.into(), code.clone().into()],
                ))
                .await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(TABLE).to_owned())
            .await
    }
}

/// The stored spec of one obligation split per province it binds: ("edition/code", the same spec
/// with `provinces` naming that province alone). Other keys are kept as they are.
fn per_province(code: &str, spec: &str) -> Result<Vec<(String, String)>, DbErr> {
    let invalid = |why: String| DbErr::Custom(format!("obligation {code:?}: {why}"));
    let value: serde_json::Value =
        serde_json::from_str(spec).map_err(|e| invalid(format!("stored spec is not JSON: {e}")))?;
    let provinces: Vec<String> = value
        .get("provinces")
        .and_then(|p| p.as_array())
        .map(|list| {
            list.iter()
                .filter_map(|p| p.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let mut out = Vec::with_capacity(provinces.len());
    for province in provinces {
        let mut one = value.clone();
        one["provinces"] = serde_json::json!([province]);
        out.push((province, one.to_string()));
    }
    out.dedup_by(|a, b| a.0 == b.0);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shared_spec_splits_into_one_spec_per_province() {
        let split = per_province(
            "police-weekly-identity",
            r#"{"code":"police-weekly-identity","provinces":["2024/64","2024/52"],"level":"commune"}"#,
        )
        .unwrap();
        assert_eq!(split.len(), 2);
        assert_eq!(split[0].0, "2024/64");
        let one: serde_json::Value = serde_json::from_str(&split[1].1).unwrap();
        assert_eq!(one["provinces"], serde_json::json!(["2024/52"]));
        assert_eq!(one["level"], "commune");
        assert!(per_province("x", "not json").is_err());
    }
}
