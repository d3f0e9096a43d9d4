//! Audit records that name their province and agency, so that a province's task force reads its
//! own (`ListAuditRecords`) from the index `(province_id, id)`, newest first.
//!
//! Existing rows are filled where the subject tells: `flags/{id}` from the flag (or its archived
//! copy), `locks/{id}` from the lock. Obligation settings recorded before this migration, and bulk
//! flag imports, name no single province and stay unscoped (read by no province).

use sea_orm_migration::prelude::*;

use crate::m20250101_000001_catalog::create_index;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// `SUBSTR(subject, 7)` is the id after `flags/` and `locks/` (six characters each).
const BACKFILL: &[&str] = &[
    "UPDATE audit_log SET \
       province_id = (SELECT f.province_id FROM flag f WHERE f.id = CAST(SUBSTR(audit_log.subject, 7) AS BIGINT)), \
       agency = (SELECT f.agency FROM flag f WHERE f.id = CAST(SUBSTR(audit_log.subject, 7) AS BIGINT)) \
     WHERE subject LIKE 'flags/%'",
    "UPDATE audit_log SET \
       province_id = (SELECT f.province_id FROM flag_archive f WHERE f.id = CAST(SUBSTR(audit_log.subject, 7) AS BIGINT)), \
       agency = (SELECT f.agency FROM flag_archive f WHERE f.id = CAST(SUBSTR(audit_log.subject, 7) AS BIGINT)) \
     WHERE subject LIKE 'flags/%' AND province_id IS NULL",
    "UPDATE audit_log SET \
       province_id = (SELECT l.province_id FROM period_lock l WHERE l.id = CAST(SUBSTR(audit_log.subject, 7) AS BIGINT)), \
       agency = (SELECT l.agency FROM period_lock l WHERE l.id = CAST(SUBSTR(audit_log.subject, 7) AS BIGINT)) \
     WHERE subject LIKE 'locks/%'",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite's ALTER TABLE adds one at a time.
        manager
            .alter_table(
                Table::alter()
                    .table("audit_log")
                    .add_column(ColumnDef::new("province_id").big_integer().null())
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("audit_log")
                    .add_column(ColumnDef::new("agency").string_len(16).null())
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        for sql in BACKFILL {
            db.execute_unprepared(sql).await?;
        }
        create_index(
            manager,
            "audit_log",
            "ix_audit_province_id",
            &["province_id", "id"],
            false,
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_audit_province_id")
                    .table("audit_log")
                    .to_owned(),
            )
            .await?;
        for column in ["agency", "province_id"] {
            manager
                .alter_table(
                    Table::alter()
                        .table("audit_log")
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
