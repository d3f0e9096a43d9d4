//! A series' first week only: `series_start` replaces `series_head`, which a report rewrote for
//! every series it brought a new week of.
//!
//! Migration 21 kept one row per series (province, indicator, locality) with its latest figure and
//! the period end of its first, so that today's status read the heads and nothing else. The price
//! was one update per figure of every report of a new week: PostgreSQL's statement log of the
//! bench's province reports (auto_explain, 16 in flight) put that upsert at ≈ 38 % of the report's
//! writes, more than the read model's insert beside it (an update of a row costs its heap
//! rewrite, its lock and its pruning; an insert into a table's last pages does not).
//!
//! What "in force on D" needs from a table beside `latest_value` is only where each series begins:
//! the last figure on or before D is found in `latest_value`'s key, one window of weeks before D at
//! a time (`store::in_force`), and a series whose first figure ends after D has none. That changes
//! when a series starts, when a backfill reaches before its first week, or when a revision drops
//! its first figure: never for the weekly reports that follow one another.
//!
//! The starts are copied from the heads' `first_end`; `down` rebuilds the heads from
//! `latest_value`, as migration 21 built them.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    // One transaction on SQLite too (its default is none): an interrupted step would leave both
    // tables, and the next start would fail to create `series_start` again.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("series_start")
                    .col(ColumnDef::new("province_id").big_integer().not_null())
                    .col(ColumnDef::new("indicator_code").string_len(64).not_null())
                    .col(ColumnDef::new("locality_id").big_integer().not_null())
                    .col(ColumnDef::new("first_end").date().not_null())
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
        db.execute_unprepared(
            "INSERT INTO series_start (province_id, indicator_code, locality_id, first_end) \
             SELECT province_id, indicator_code, locality_id, first_end FROM series_head",
        )
        .await?;
        manager
            .drop_table(Table::drop().table("series_head").to_owned())
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
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
            .drop_table(Table::drop().table("series_start").to_owned())
            .await
    }
}
