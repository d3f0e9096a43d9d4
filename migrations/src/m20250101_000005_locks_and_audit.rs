//! Period locks and the audit log.

use sea_orm_migration::prelude::*;

use crate::m20250101_000001_catalog::create_index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // A lock refuses new revisions for reports of a province whose period overlaps
        // [period_start, period_end], optionally only for one agency and/or obligation. Unlocking
        // sets unlocked_at; the row stays as history.
        manager
            .create_table(
                Table::create()
                    .table("period_lock")
                    .col(
                        ColumnDef::new("id")
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new("province_id").big_integer().not_null())
                    .col(ColumnDef::new("period_start").date().not_null())
                    .col(ColumnDef::new("period_end").date().not_null())
                    .col(ColumnDef::new("agency").string_len(16).null())
                    .col(ColumnDef::new("obligation").string_len(64).null())
                    .col(ColumnDef::new("reason").text().not_null())
                    .col(ColumnDef::new("locked_by").string_len(200).not_null())
                    .col(
                        ColumnDef::new("locked_at")
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new("unlocked_by").string_len(200).null())
                    .col(
                        ColumnDef::new("unlocked_at")
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        create_index(
            manager,
            "period_lock",
            "ix_lock_province",
            &["province_id", "period_start"],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table("audit_log")
                    .col(
                        ColumnDef::new("id")
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new("at").timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new("actor").string_len(200).not_null())
                    .col(ColumnDef::new("action").string_len(32).not_null())
                    .col(ColumnDef::new("subject").string_len(300).not_null())
                    .col(ColumnDef::new("details").text().not_null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("audit_log").to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table("period_lock").to_owned())
            .await
    }
}
