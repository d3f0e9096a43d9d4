//! Reports are kept: no row of `report` is ever deleted or renumbered, and the database refuses
//! to. On PostgreSQL this replaces the foreign key from `observation.report_id` to `report.id`.
//!
//! The key checked every observation on insert: PostgreSQL runs a foreign key's check as a row
//! trigger, one look-up of the report per observation, which doubled the cost of inserting a
//! province report's ≈ 1,100 observations (psql, 1,000 such inserts: 10.1 s with the key, 5.2 s
//! without). What the key guarded holds without it:
//!
//! - an observation names an existing report: the aggregator writes a report's observations only
//!   in the transaction that inserted the report, with the id that insert returned (`store::reports`);
//! - its report stays: the triggers below refuse `DELETE`, `TRUNCATE` and a change of `id` on
//!   `report`, which the key refused only for reports with observations. Every revision is kept
//!   (DESIGN: "nothing is ever overwritten or deleted"), so nothing in the product deletes one.
//!
//! SQLite keeps the key: its check is an in-process look-up by rowid (≈ 15 % of an observation's
//! insert there, a table rebuild to drop) and the same triggers are added, so both back-ends refuse
//! the same statements.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The message both back-ends give when a statement would delete or renumber a report.
const REFUSAL: &str =
    "reports are kept: every revision received stays, none is deleted or renumbered";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DbBackend::Postgres => {
                db.execute_unprepared(&format!(
                    "CREATE FUNCTION p06_report_is_kept() RETURNS trigger LANGUAGE plpgsql AS $$ \
                     BEGIN RAISE EXCEPTION '{REFUSAL}' USING ERRCODE = 'restrict_violation'; END $$"
                ))
                .await?;
                db.execute_unprepared(
                    "CREATE TRIGGER report_is_kept BEFORE DELETE OR TRUNCATE OR UPDATE OF id \
                     ON report FOR EACH STATEMENT EXECUTE FUNCTION p06_report_is_kept()",
                )
                .await?;
                // The key was named by PostgreSQL when migration 2 created it; find it rather
                // than assume the name.
                db.execute_unprepared(
                    "DO $$ DECLARE key name; BEGIN \
                     FOR key IN SELECT conname FROM pg_constraint \
                       WHERE conrelid = 'observation'::regclass AND contype = 'f' \
                         AND confrelid = 'report'::regclass LOOP \
                       EXECUTE format('ALTER TABLE observation DROP CONSTRAINT %I', key); \
                     END LOOP; END $$",
                )
                .await?;
            }
            _ => {
                for (name, event) in [
                    ("report_is_kept_delete", "DELETE"),
                    ("report_is_kept_renumber", "UPDATE OF id"),
                ] {
                    db.execute_unprepared(&format!(
                        "CREATE TRIGGER {name} BEFORE {event} ON report \
                         BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
                    ))
                    .await?;
                }
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DbBackend::Postgres => {
                db.execute_unprepared(
                    "ALTER TABLE observation ADD FOREIGN KEY (report_id) REFERENCES report (id)",
                )
                .await?;
                db.execute_unprepared("DROP TRIGGER report_is_kept ON report")
                    .await?;
                db.execute_unprepared("DROP FUNCTION p06_report_is_kept()")
                    .await?;
            }
            _ => {
                for name in ["report_is_kept_delete", "report_is_kept_renumber"] {
                    db.execute_unprepared(&format!("DROP TRIGGER {name}"))
                        .await?;
                }
            }
        }
        Ok(())
    }
}
