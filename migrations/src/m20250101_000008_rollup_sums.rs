//! `rollup_sum`: per locality (or country id), indicator and year of `period_start` (9999 for
//! stocks, whose deltas carry `period_start = 9999-12-31`), the sum of all `rollup_value` deltas.
//!
//! A roll-up total as of D with flows summed from 1 January of year Y is then the sums of the years
//! from Y on minus the few deltas dated after D — instead of adding up one delta row per reported
//! week since the beginning. Maintained by the same additive upserts as `rollup_value`.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let number = |name: &'static str| ColumnDef::new(name).double().not_null().to_owned();
        manager
            .create_table(
                Table::create()
                    .table("rollup_sum")
                    .col(ColumnDef::new("locality_id").big_integer().not_null())
                    .col(ColumnDef::new("indicator_code").string_len(64).not_null())
                    .col(ColumnDef::new("period_year").integer().not_null())
                    .col(number("value"))
                    .col(number("paired_value"))
                    .col(number("paired_denominator"))
                    .primary_key(
                        Index::create()
                            .col("locality_id")
                            .col("indicator_code")
                            .col("period_year"),
                    )
                    .to_owned(),
            )
            .await?;
        let year = match manager.get_database_backend() {
            DbBackend::Postgres => "CAST(EXTRACT(YEAR FROM period_start) AS INTEGER)",
            _ => "CAST(substr(period_start, 1, 4) AS INTEGER)",
        };
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "INSERT INTO rollup_sum (locality_id, indicator_code, period_year, value, paired_value, \
                 paired_denominator) \
                 SELECT locality_id, indicator_code, {year}, SUM(value), SUM(paired_value), \
                        SUM(paired_denominator) \
                 FROM rollup_value GROUP BY locality_id, indicator_code, {year}"
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("rollup_sum").to_owned())
            .await
    }
}
