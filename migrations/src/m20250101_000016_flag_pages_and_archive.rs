//! Flags read by pages and kept small: keyset indexes for `ListFlags` (newest first, by id, with
//! or without a kind, state or agency filter), an index for the retention job, and the archive
//! (`flag_archive`) that resolved flags move to after the retention period.
//!
//! The archive keeps every column of a flag, its original id (so `flags/{id}` still names it) and
//! when it was archived; the audit log keeps the raise and resolve entries of each flag.

use sea_orm_migration::prelude::*;

use crate::m20250101_000001_catalog::create_index;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// (name, columns) of the hot table's new indexes.
const FLAG_INDEXES: &[(&str, &[&str])] = &[
    ("ix_flag_province_id", &["province_id", "id"]),
    ("ix_flag_province_kind_id", &["province_id", "kind", "id"]),
    ("ix_flag_province_state_id", &["province_id", "state", "id"]),
    (
        "ix_flag_province_agency_id",
        &["province_id", "agency", "id"],
    ),
    ("ix_flag_state_resolved", &["state", "resolved_at"]),
];

/// Superseded by `ix_flag_province_state_id` (pages go by id, not by raise time).
const OLD_STATE_INDEX: &str = "ix_flag_province_state";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, columns) in FLAG_INDEXES {
            create_index(manager, "flag", name, columns, false).await?;
        }
        manager
            .drop_index(Index::drop().name(OLD_STATE_INDEX).table("flag").to_owned())
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("flag_archive")
                    // The flag's own id: no sequence of its own.
                    .col(ColumnDef::new("id").big_integer().not_null().primary_key())
                    .col(ColumnDef::new("kind").string_len(24).not_null())
                    .col(ColumnDef::new("state").string_len(10).not_null())
                    .col(ColumnDef::new("agency").string_len(16).not_null())
                    .col(ColumnDef::new("obligation").string_len(64).not_null())
                    .col(ColumnDef::new("province_id").big_integer().not_null())
                    .col(ColumnDef::new("period_start").date().not_null())
                    .col(ColumnDef::new("period_end").date().not_null())
                    .col(ColumnDef::new("report_id").big_integer().null())
                    .col(ColumnDef::new("indicator_code").string_len(64).null())
                    .col(ColumnDef::new("locality_id").big_integer().null())
                    .col(ColumnDef::new("message").text().not_null())
                    .col(ColumnDef::new("details").text().null())
                    .col(ColumnDef::new("dedupe_key").string_len(300).not_null())
                    .col(
                        ColumnDef::new("raised_at")
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new("resolved_at")
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(
                        ColumnDef::new("archived_at")
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        create_index(
            manager,
            "flag_archive",
            "ux_flag_archive_dedupe",
            &["dedupe_key"],
            true,
        )
        .await?;
        create_index(
            manager,
            "flag_archive",
            "ix_flag_archive_province_id",
            &["province_id", "id"],
            false,
        )
        .await?;
        create_index(
            manager,
            "flag_archive",
            "ix_flag_archive_report",
            &["report_id"],
            false,
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("flag_archive").to_owned())
            .await?;
        create_index(
            manager,
            "flag",
            OLD_STATE_INDEX,
            &["province_id", "state", "raised_at"],
            false,
        )
        .await?;
        for (name, _) in FLAG_INDEXES {
            manager
                .drop_index(Index::drop().name(*name).table("flag").to_owned())
                .await?;
        }
        Ok(())
    }
}
