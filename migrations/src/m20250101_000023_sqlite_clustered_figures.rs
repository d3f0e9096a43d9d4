//! On SQLite, the tables written with every figure keep their rows in their key's order
//! (`WITHOUT ROWID`): `observation`, `latest_value` and `series_start`.
//!
//! An ordinary SQLite table stores its rows under a hidden row id and its primary key as a second
//! B-tree beside them. Every figure a report writes went into both, and every read by the key (a
//! revision's observations; an indicator's weeks in a window, for the figures in force, the flow
//! sums and the consistency rules' history) found each row in the key's B-tree and then looked it
//! up again by its row id. Keyed by their primary key alone, the rows are written once and read in
//! one pass along the key. Their rows are small (a few dozen bytes), the case SQLite documents
//! for such tables.
//!
//! PostgreSQL has no such choice (its tables are heaps); this migration changes nothing there.
//! SQLite cannot change a table's kind in place: each table is copied into a new one made from its
//! own stored definition (columns, defaults, foreign keys unchanged) with `WITHOUT ROWID`, and its
//! other indexes, if any, are made again. `down` copies them back into ordinary tables.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend, Statement};

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLES: [&str; 3] = ["observation", "latest_value", "series_start"];
const CLUSTERED: &str = " WITHOUT ROWID";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    // One transaction on SQLite too (its default is none): a copy interrupted between dropping a
    // table and renaming its copy would leave the figures under the copy's name.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Sqlite {
            return Ok(());
        }
        for table in TABLES {
            recreate(manager, table, true).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Sqlite {
            return Ok(());
        }
        for table in TABLES {
            recreate(manager, table, false).await?;
        }
        Ok(())
    }
}

/// Copies `table` into a table of the same definition, `WITHOUT ROWID` or not, under its name.
async fn recreate(manager: &SchemaManager<'_>, table: &str, clustered: bool) -> Result<(), DbErr> {
    let db = manager.get_connection();
    let definitions = |kind: &'static str| {
        Statement::from_sql_and_values(
            DbBackend::Sqlite,
            "SELECT sql FROM sqlite_master WHERE type = ? AND tbl_name = ? AND sql IS NOT NULL",
            [kind.into(), table.into()],
        )
    };
    let sql: String = db
        .query_one_raw(definitions("table"))
        .await?
        .ok_or_else(|| DbErr::Migration(format!("no table {table}")))?
        .try_get("", "sql")?;
    let mut indexes: Vec<String> = Vec::new();
    for row in db.query_all_raw(definitions("index")).await? {
        indexes.push(row.try_get("", "sql")?);
    }
    // `CREATE TABLE <name> (<body>)[ WITHOUT ROWID]`: the body is kept, the name and kind change.
    let body_at = sql
        .find('(')
        .ok_or_else(|| DbErr::Migration(format!("unexpected definition of {table}: {sql}")))?;
    let body = sql[body_at..].trim_end();
    let body = body.strip_suffix(CLUSTERED).unwrap_or(body);
    let copy = format!("{table}_copy");
    let kind = if clustered { CLUSTERED } else { "" };
    db.execute_unprepared(&format!("CREATE TABLE \"{copy}\" {body}{kind}"))
        .await?;
    db.execute_unprepared(&format!("INSERT INTO \"{copy}\" SELECT * FROM \"{table}\""))
        .await?;
    db.execute_unprepared(&format!("DROP TABLE \"{table}\""))
        .await?;
    db.execute_unprepared(&format!("ALTER TABLE \"{copy}\" RENAME TO \"{table}\""))
        .await?;
    for index in indexes {
        db.execute_unprepared(&index).await?;
    }
    Ok(())
}
