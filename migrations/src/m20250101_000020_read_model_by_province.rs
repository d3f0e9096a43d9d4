//! The read model `latest_value` is keyed by province first:
//! `(province_id, indicator_code, period_end, locality_id)` instead of
//! `(indicator_code, locality_id, period_end)`.
//!
//! The two keys name the same rows (a locality lies in one province), but they put a report's
//! figures in different places. Under the old key a province report's ≈ 1,100 figures went to
//! ≈ 1,100 places in the index, one per series, and ending last week's figures (`valid_until`)
//! visited as many places again. Under the new one they are one contiguous run per indicator
//! (a report carries a handful), and last week's figures of an indicator sit just before this
//! week's. PostgreSQL statement log of the bench's province reports before this change
//! (auto_explain, 16 in flight): inserting the figures ≈ 14 ms a report against ≈ 8 ms for the
//! same number of observations, whose key is already contiguous (`report_id` first); ending last
//! week's ≈ 35 ms more when the report follows one.
//!
//! Every reader of the table names the province: a province's figures in force (the
//! `(province_id, valid_until, period_end)` index, unchanged); an indicator's weeks in a window
//! (flow sums, the consistency rules' history: one range of this key per indicator); a series'
//! first figure (this key, in week order). Indicator before week matters: with the week first,
//! a flow sum from 1 January read every indicator's figures of those weeks (a cold status of
//! the largest province on PostgreSQL took 364–386 ms instead of 134–218).
//!
//! PostgreSQL swaps the primary key in place; SQLite cannot change a table's key, so the table is
//! copied into one with the new key.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

use crate::m20250101_000006_rollups::OPEN_END;

#[derive(DeriveMigrationName)]
pub struct Migration;

const NEW_KEY: [&str; 4] = ["province_id", "indicator_code", "period_end", "locality_id"];
const OLD_KEY: [&str; 3] = ["indicator_code", "locality_id", "period_end"];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        rekey(manager, &NEW_KEY).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        rekey(manager, &OLD_KEY).await
    }
}

async fn rekey(manager: &SchemaManager<'_>, key: &[&str]) -> Result<(), DbErr> {
    let db = manager.get_connection();
    if manager.get_database_backend() == DbBackend::Postgres {
        db.execute_unprepared(
            "DO $$ DECLARE key name; BEGIN \
             SELECT conname INTO key FROM pg_constraint \
               WHERE conrelid = 'latest_value'::regclass AND contype = 'p'; \
             EXECUTE format('ALTER TABLE latest_value DROP CONSTRAINT %I', key); END $$",
        )
        .await?;
        db.execute_unprepared(&format!(
            "ALTER TABLE latest_value ADD PRIMARY KEY ({})",
            key.join(", ")
        ))
        .await?;
        return Ok(());
    }
    // SQLite: a copy with the new key, under the old name, with the old table's other index.
    let copy = "latest_value_rekeyed";
    let mut primary = Index::create();
    for column in key {
        primary.col(Alias::new(*column));
    }
    manager
        .create_table(
            Table::create()
                .table(copy)
                .col(ColumnDef::new("indicator_code").string_len(64).not_null())
                .col(ColumnDef::new("locality_id").big_integer().not_null())
                .col(ColumnDef::new("period_end").date().not_null())
                .col(ColumnDef::new("period_start").date().not_null())
                .col(ColumnDef::new("value").double().not_null())
                .col(ColumnDef::new("report_id").big_integer().not_null())
                .col(
                    ColumnDef::new("received_at")
                        .timestamp_with_time_zone()
                        .not_null(),
                )
                .col(
                    ColumnDef::new("province_id")
                        .big_integer()
                        .not_null()
                        .default(0),
                )
                .col(
                    ColumnDef::new("valid_until")
                        .date()
                        .not_null()
                        .default(OPEN_END),
                )
                .primary_key(&mut primary)
                .to_owned(),
        )
        .await?;
    let columns = "indicator_code, locality_id, period_end, period_start, value, report_id, \
                   received_at, province_id, valid_until";
    db.execute_unprepared(&format!(
        "INSERT INTO {copy} ({columns}) SELECT {columns} FROM latest_value ORDER BY {}",
        key.join(", ")
    ))
    .await?;
    db.execute_unprepared("DROP TABLE latest_value").await?;
    db.execute_unprepared(&format!("ALTER TABLE {copy} RENAME TO latest_value"))
        .await?;
    manager
        .create_index(
            Index::create()
                .name("ix_latest_value_in_force")
                .table("latest_value")
                .col("province_id")
                .col("valid_until")
                .col("period_end")
                .to_owned(),
        )
        .await
}
