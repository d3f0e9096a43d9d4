//! Each revision's figures become one document in `report.figures` (layout: [`crate::figures`]),
//! and the table of one row per figure, `observation`, goes.
//!
//! Every figure a report sent was written twice: as a row of `observation` (with its primary-key
//! entry) and as a row of the read model `latest_value`. A revision is never changed and its
//! figures are read by revision only (a report, an amendment's starting point, the "known at"
//! views), so one value per revision keeps all they need; questions across revisions are the
//! read model's. (What it changed, measured: README "Performance", tenth session.)
//!
//! `up` builds each report's document from its rows, report by report in id order, drops the
//! table, and makes the database refuse to change a document (as migration 19 refuses to delete
//! or renumber a report); `down` makes the table again as migrations 2, 15, 19 and 23 left it
//! (SQLite: the key to `report` and `WITHOUT ROWID`; PostgreSQL: neither) and fills it from the
//! documents.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, FromQueryResult, Statement, Value};

use crate::figures::{self, FigureRef};
use crate::placeholders;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The message both back-ends give when a statement would change a revision's figures (inside a
/// SQL string literal: no quotes).
const REFUSAL: &str = "the figures of a revision are kept as they were received: none is changed";

/// Reports converted per round of `up` and `down`.
const REPORTS_PER_ROUND: i64 = 200;

/// Observation rows per `INSERT` of `down` (five parameters each: under SQLite's limit).
const ROWS_PER_INSERT: usize = 500;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    // One transaction on SQLite too: figures are never half moved.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("report")
                    .add_column(ColumnDef::new("figures").text().not_null().default("{}"))
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        let backend = manager.get_database_backend();
        #[derive(FromQueryResult)]
        struct Row {
            report_id: i64,
            indicator_code: String,
            locality_id: i64,
            value: f64,
            carried_from: Option<i64>,
        }
        let mut after = 0i64;
        while let Some(last) = last_of_round(db, backend, after).await? {
            let rows = db
                .query_all_raw(Statement::from_sql_and_values(
                    backend,
                    placeholders(
                        backend,
                        "SELECT report_id, indicator_code, locality_id, value, carried_from \
                         FROM observation WHERE report_id > ? AND report_id <= ? \
                         ORDER BY report_id",
                    ),
                    [after.into(), last.into()],
                ))
                .await?
                .iter()
                .map(|r| Row::from_query_result(r, ""))
                .collect::<Result<Vec<_>, _>>()?;
            for report in rows.chunk_by(|a, b| a.report_id == b.report_id) {
                let document = figures::encode(report.iter().map(|r| FigureRef {
                    indicator_code: &r.indicator_code,
                    locality_id: r.locality_id,
                    value: r.value,
                    carried_from: r.carried_from,
                }))
                .map_err(|e| DbErr::Migration(format!("report {}: {e}", report[0].report_id)))?;
                db.execute_raw(Statement::from_sql_and_values(
                    backend,
                    placeholders(backend, "UPDATE report SET figures = ? WHERE id = ?"),
                    [document.into(), report[0].report_id.into()],
                ))
                .await?;
            }
            after = last;
        }
        manager
            .drop_table(Table::drop().table("observation").to_owned())
            .await?;
        // As the rows were, the documents are never changed (migration 19 keeps the reports).
        match backend {
            DbBackend::Postgres => {
                db.execute_unprepared(&format!(
                    "CREATE FUNCTION p06_figures_are_kept() RETURNS trigger LANGUAGE plpgsql AS $$ \
                     BEGIN RAISE EXCEPTION '{REFUSAL}' USING ERRCODE = 'restrict_violation'; END $$"
                ))
                .await?;
                db.execute_unprepared(
                    "CREATE TRIGGER figures_are_kept BEFORE UPDATE OF figures ON report \
                     FOR EACH STATEMENT EXECUTE FUNCTION p06_figures_are_kept()",
                )
                .await?;
            }
            _ => {
                db.execute_unprepared(&format!(
                    "CREATE TRIGGER figures_are_kept BEFORE UPDATE OF figures ON report \
                     BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END"
                ))
                .await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let backend = manager.get_database_backend();
        match backend {
            DbBackend::Postgres => {
                db.execute_unprepared("DROP TRIGGER figures_are_kept ON report")
                    .await?;
                db.execute_unprepared("DROP FUNCTION p06_figures_are_kept()")
                    .await?;
            }
            _ => {
                db.execute_unprepared("DROP TRIGGER figures_are_kept")
                    .await?;
            }
        }
        let columns = "report_id bigint NOT NULL, indicator_code varchar(64) NOT NULL, \
                       locality_id bigint NOT NULL, value double precision NOT NULL, \
                       carried_from bigint NULL";
        let key = "PRIMARY KEY (report_id, indicator_code, locality_id)";
        db.execute_unprepared(&match backend {
            DbBackend::Sqlite => format!(
                "CREATE TABLE \"observation\" ({columns}, {key}, \
                 FOREIGN KEY (report_id) REFERENCES report (id)) WITHOUT ROWID"
            ),
            _ => format!("CREATE TABLE observation ({columns}, {key})"),
        })
        .await?;
        #[derive(FromQueryResult)]
        struct Document {
            id: i64,
            figures: String,
        }
        let mut after = 0i64;
        while let Some(last) = last_of_round(db, backend, after).await? {
            let documents = db
                .query_all_raw(Statement::from_sql_and_values(
                    backend,
                    placeholders(
                        backend,
                        "SELECT id, figures FROM report WHERE id > ? AND id <= ? ORDER BY id",
                    ),
                    [after.into(), last.into()],
                ))
                .await?;
            let mut rows: Vec<[Value; 5]> = Vec::new();
            for document in &documents {
                let d = Document::from_query_result(document, "")?;
                for f in figures::decode(&d.figures)
                    .map_err(|e| DbErr::Migration(format!("report {}: {e}", d.id)))?
                {
                    rows.push([
                        d.id.into(),
                        f.indicator_code.into(),
                        f.locality_id.into(),
                        f.value.into(),
                        f.carried_from.into(),
                    ]);
                }
            }
            for chunk in rows.chunks(ROWS_PER_INSERT) {
                let tuples = vec!["(?, ?, ?, ?, ?)"; chunk.len()].join(", ");
                db.execute_raw(Statement::from_sql_and_values(
                    backend,
                    placeholders(
                        backend,
                        &format!(
                            "INSERT INTO observation (report_id, indicator_code, locality_id, \
                             value, carried_from) VALUES {tuples}"
                        ),
                    ),
                    chunk.iter().flat_map(|r| r.iter().cloned()),
                ))
                .await?;
            }
            after = last;
        }
        manager
            .alter_table(
                Table::alter()
                    .table("report")
                    .drop_column("figures")
                    .to_owned(),
            )
            .await
    }
}

/// The last report id of the round after `after`, or `None` when no report follows it.
async fn last_of_round(
    db: &impl ConnectionTrait,
    backend: DbBackend,
    after: i64,
) -> Result<Option<i64>, DbErr> {
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            placeholders(
                backend,
                "SELECT MAX(id) AS last FROM (SELECT id FROM report WHERE id > ? \
                 ORDER BY id LIMIT ?) AS round",
            ),
            [after.into(), REPORTS_PER_ROUND.into()],
        ))
        .await?;
    Ok(match row {
        Some(row) => row.try_get::<Option<i64>>("", "last")?,
        None => None,
    })
}
