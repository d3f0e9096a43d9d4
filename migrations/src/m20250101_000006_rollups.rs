//! Maintained roll-ups, so task-force totals are small lookups instead of scans.
//!
//! - `latest_value` learns its province and until when each figure is in force (`valid_until`, the
//!   next period end of the same indicator and locality; `9999-12-31` while it is the newest), so
//!   "every figure of a province in force on D" is one index range.
//! - `rollup_value`: per locality with units below it (and per edition's whole country, under a
//!   negative pseudo id), indicator and date, the deltas of the summed value and of the paired
//!   value and denominator (`p06_domain::contribution`); a total as of D is the sum of the deltas
//!   dated on or before D. Stocks file their deltas under `period_start = 9999-12-31`; flows under
//!   the period's first day, so a flow-from filter applies to them only.
//! - `rollup_span`: how many units below a locality have a figure from a given report in force
//!   from `as_of` until `until` (exclusive; `9999-12-31` = still in force).
//! - `rollup_node`: per locality and indicator, the first date at which a unit below it has a
//!   figure; from then on the locality's own figures are replaced by the finer ones.
//! - `target_rollup`: per locality with units below it, indicator and due date, the deltas of the
//!   summed targets of the communes below it (a total "due on or after D" sums deltas due ≥ D).
//!
//! Every table is keyed by locality first, so one locality's roll-up is one contiguous range.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The date standing for "open-ended" in date columns that are part of a key.
pub const OPEN_END: &str = "9999-12-31";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        manager
            .alter_table(
                Table::alter()
                    .table("latest_value")
                    .add_column(
                        ColumnDef::new("province_id")
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .to_owned(),
            )
            .await?;
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
        let db = manager.get_connection();
        db.execute_unprepared(
            "UPDATE latest_value SET province_id = \
               (SELECT province_id FROM locality WHERE locality.id = latest_value.locality_id)",
        )
        .await?;
        db.execute_unprepared(&format!(
            "UPDATE latest_value SET valid_until = COALESCE(\
               (SELECT MIN(n.period_end) FROM latest_value n \
                 WHERE n.indicator_code = latest_value.indicator_code \
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

        let date = |name: &'static str| ColumnDef::new(name).date().not_null().to_owned();
        let number = |name: &'static str| ColumnDef::new(name).double().not_null().to_owned();
        manager
            .create_table(
                Table::create()
                    .table("rollup_value")
                    .col(ColumnDef::new("locality_id").big_integer().not_null())
                    .col(ColumnDef::new("indicator_code").string_len(64).not_null())
                    .col(date("as_of"))
                    .col(date("period_start"))
                    .col(number("value"))
                    .col(number("paired_value"))
                    .col(number("paired_denominator"))
                    .primary_key(
                        Index::create()
                            .col("locality_id")
                            .col("indicator_code")
                            .col("as_of")
                            .col("period_start"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("rollup_span")
                    .col(ColumnDef::new("locality_id").big_integer().not_null())
                    .col(ColumnDef::new("indicator_code").string_len(64).not_null())
                    .col(date("until"))
                    .col(ColumnDef::new("report_id").big_integer().not_null())
                    .col(date("as_of"))
                    .col(ColumnDef::new("units").big_integer().not_null())
                    .primary_key(
                        Index::create()
                            .col("locality_id")
                            .col("indicator_code")
                            .col("until")
                            .col("report_id"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("rollup_node")
                    .col(ColumnDef::new("locality_id").big_integer().not_null())
                    .col(ColumnDef::new("indicator_code").string_len(64).not_null())
                    .col(date("superseded_from"))
                    .primary_key(Index::create().col("locality_id").col("indicator_code"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("target_rollup")
                    .col(ColumnDef::new("locality_id").big_integer().not_null())
                    .col(ColumnDef::new("indicator_code").string_len(64).not_null())
                    .col(date("due_date"))
                    .col(number("value"))
                    .col(ColumnDef::new("units").big_integer().not_null())
                    .primary_key(
                        Index::create()
                            .col("locality_id")
                            .col("indicator_code")
                            .col("due_date"),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "target_rollup",
            "rollup_node",
            "rollup_span",
            "rollup_value",
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        manager
            .drop_index(
                Index::drop()
                    .name("ix_latest_value_in_force")
                    .table("latest_value")
                    .to_owned(),
            )
            .await?;
        for column in ["valid_until", "province_id"] {
            manager
                .alter_table(
                    Table::alter()
                        .table("latest_value")
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
