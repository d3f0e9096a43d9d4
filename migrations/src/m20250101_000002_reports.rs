//! Reports with every revision, their observations, the latest-value read model, flags and
//! idempotency records.

use sea_orm_migration::prelude::*;

use crate::m20250101_000001_catalog::create_index;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One row per revision; nothing is ever updated except the compliance columns filled in
        // when the revision is evaluated, and nothing is deleted.
        manager
            .create_table(
                Table::create()
                    .table("report")
                    .col(
                        ColumnDef::new("id")
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new("agency").string_len(16).not_null())
                    .col(ColumnDef::new("obligation").string_len(64).not_null())
                    .col(ColumnDef::new("province_id").big_integer().not_null())
                    .col(ColumnDef::new("period_start").date().not_null())
                    .col(ColumnDef::new("period_end").date().not_null())
                    .col(ColumnDef::new("revision").integer().not_null())
                    .col(ColumnDef::new("request_id").string_len(128).not_null())
                    .col(ColumnDef::new("payload_sha256").string_len(64).not_null())
                    .col(
                        ColumnDef::new("received_at")
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new("submitted_by").string_len(200).not_null())
                    .col(ColumnDef::new("assessment").text().not_null())
                    .col(ColumnDef::new("obstacles").text().not_null())
                    .col(ColumnDef::new("proposals").text().not_null())
                    .col(ColumnDef::new("observation_count").integer().not_null())
                    .col(ColumnDef::new("deadline").timestamp_with_time_zone().null())
                    .col(ColumnDef::new("timeliness").string_len(16).null())
                    .col(ColumnDef::new("lateness_seconds").big_integer().null())
                    .col(ColumnDef::new("specificity_score").integer().null())
                    .col(ColumnDef::new("specificity_reasons").text().null())
                    .foreign_key(
                        ForeignKey::create()
                            .from("report", "province_id")
                            .to("locality", "id"),
                    )
                    .to_owned(),
            )
            .await?;
        // The report series (agency, obligation, province, period) and its revisions; also serialises
        // concurrent revisions: two writers computing the same next revision collide here.
        create_index(
            manager,
            "report",
            "ux_report_series_revision",
            &[
                "province_id",
                "agency",
                "obligation",
                "period_start",
                "revision",
            ],
            true,
        )
        .await?;

        // Keyed by report first: a report's rows are one contiguous range, so an insert touches few
        // index pages (an index led by locality or indicator would touch one page per indicator).
        manager
            .create_table(
                Table::create()
                    .table("observation")
                    .col(ColumnDef::new("report_id").big_integer().not_null())
                    .col(ColumnDef::new("indicator_code").string_len(64).not_null())
                    .col(ColumnDef::new("locality_id").big_integer().not_null())
                    .col(ColumnDef::new("value").double().not_null())
                    .primary_key(
                        Index::create()
                            .col("report_id")
                            .col("indicator_code")
                            .col("locality_id"),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from("observation", "report_id")
                            .to("report", "id"),
                    )
                    .to_owned(),
            )
            .await?;

        // Read model maintained in the ingest transaction: for each (indicator, locality, as-of date)
        // the value of the newest revision received. "Latest value of I in L as of D" is the last row
        // of the key range (I, L, <= D); roll-ups by parent join `locality.parent_id`.
        manager
            .create_table(
                Table::create()
                    .table("latest_value")
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
                    .primary_key(
                        Index::create()
                            .col("indicator_code")
                            .col("locality_id")
                            .col("period_end"),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("flag")
                    .col(
                        ColumnDef::new("id")
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
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
                    // Makes raising a flag idempotent across aggregator replicas: the second insert of
                    // the same (kind, series, period, subject) fails on this key.
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
                    .to_owned(),
            )
            .await?;
        create_index(manager, "flag", "ux_flag_dedupe", &["dedupe_key"], true).await?;
        create_index(
            manager,
            "flag",
            "ix_flag_province_state",
            &["province_id", "state", "raised_at"],
            false,
        )
        .await?;

        // AIP-155 request ids, scoped by who may use them (e.g. "report:police:<province id>").
        manager
            .create_table(
                Table::create()
                    .table("idempotency_key")
                    .col(ColumnDef::new("scope").string_len(64).not_null())
                    .col(ColumnDef::new("request_id").string_len(128).not_null())
                    .col(ColumnDef::new("payload_sha256").string_len(64).not_null())
                    .col(ColumnDef::new("result_ref").string_len(64).not_null())
                    .col(
                        ColumnDef::new("created_at")
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .primary_key(Index::create().col("scope").col("request_id"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "idempotency_key",
            "flag",
            "latest_value",
            "observation",
            "report",
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
