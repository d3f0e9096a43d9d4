//! "In force on D" without rewriting last week's figures: `series_head` replaces
//! `latest_value.valid_until` and its index.
//!
//! A figure is in force from its period end until the next figure of its series starts. Migration
//! 6 stored that end on every figure (`valid_until`), so a province's figures in force on D were
//! one range of an index on `(province_id, valid_until, period_end)`. The price was paid by every
//! report that follows a written week: each of last week's figures had its `valid_until` rewritten,
//! an update that changes an indexed column and so writes new entries in both of the table's
//! indexes. PostgreSQL's statement log of the bench's province reports (auto_explain, 16 in
//! flight) put that update at ≈ 35 of a report's 67 ms, and every new figure paid one more index
//! entry for it.
//!
//! `series_head` holds one row per series (province, indicator, locality): its latest figure and
//! the period end of its first. A report that brings a series' newest week changes that row's
//! values in place, no key column, which PostgreSQL does as a heap-only update (hence the table's
//! fill factor) and SQLite as one row rewrite. "In force on D" becomes (`store::in_force`):
//! the head where it ends on or before D (the common case: today's status), nothing where the
//! series starts after D, else the last figure on or before D from `latest_value`'s key, read in
//! windows of weeks before D.
//!
//! The heads are built here from `latest_value` itself, not from `valid_until`, so they are right
//! whatever that column held.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

use crate::m20250101_000006_rollups::OPEN_END;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("series_head")
                    .col(ColumnDef::new("province_id").big_integer().not_null())
                    .col(ColumnDef::new("indicator_code").string_len(64).not_null())
                    .col(ColumnDef::new("locality_id").big_integer().not_null())
                    .col(ColumnDef::new("first_end").date().not_null())
                    .col(ColumnDef::new("period_start").date().not_null())
                    .col(ColumnDef::new("period_end").date().not_null())
                    .col(ColumnDef::new("value").double().not_null())
                    .col(ColumnDef::new("report_id").big_integer().not_null())
                    .primary_key(
                        Index::create()
                            .col("province_id")
                            .col("indicator_code")
                            .col("locality_id"),
                    )
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        if manager.get_database_backend() == DbBackend::Postgres {
            // Room on each page for the next week's version of its rows (heap-only updates).
            db.execute_unprepared("ALTER TABLE series_head SET (fillfactor = 50)")
                .await?;
        }
        db.execute_unprepared(
            "INSERT INTO series_head (province_id, indicator_code, locality_id, first_end, \
               period_start, period_end, value, report_id) \
             SELECT v.province_id, v.indicator_code, v.locality_id, s.first_end, \
               v.period_start, v.period_end, v.value, v.report_id \
             FROM latest_value v JOIN (SELECT province_id, indicator_code, locality_id, \
                 MIN(period_end) AS first_end, MAX(period_end) AS last_end FROM latest_value \
                 GROUP BY province_id, indicator_code, locality_id) s \
               ON s.province_id = v.province_id AND s.indicator_code = v.indicator_code \
              AND s.locality_id = v.locality_id AND s.last_end = v.period_end",
        )
        .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("ix_latest_value_in_force")
                    .table("latest_value")
                    .to_owned(),
            )
            .await?;
        db.execute_unprepared("ALTER TABLE latest_value DROP COLUMN valid_until")
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("latest_value")
                    .add_column(
                        ColumnDef::new("valid_until")
                            .date()
                            .not_null()
                            .default(OPEN_END),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "UPDATE latest_value SET valid_until = COALESCE(\
                   (SELECT MIN(n.period_end) FROM latest_value n \
                     WHERE n.province_id = latest_value.province_id \
                       AND n.indicator_code = latest_value.indicator_code \
                       AND n.locality_id = latest_value.locality_id \
                       AND n.period_end > latest_value.period_end), '{OPEN_END}')"
            ))
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
            .await?;
        manager
            .drop_table(Table::drop().table("series_head").to_owned())
            .await
    }
}
