//! Seeds the three locality editions and the 2024 → 2025 crosswalk.

use sea_orm_migration::prelude::*;

use crate::seed;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Rows per INSERT: 7 parameters each, well below SQLite's and PostgreSQL's parameter limits.
const BATCH: usize = 500;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let seed_err = |e: seed::SeedError| DbErr::Migration(e.to_string());
        for edition in seed::EDITIONS {
            let rows = seed::localities(edition).map_err(seed_err)?;
            for chunk in rows.chunks(BATCH) {
                let mut insert = Query::insert();
                insert.into_table("locality").columns([
                    "id",
                    "edition",
                    "code",
                    "name",
                    "level",
                    "parent_id",
                    "province_id",
                ]);
                for l in chunk {
                    insert.values_panic([
                        l.id.into(),
                        l.edition.into(),
                        l.code.clone().into(),
                        l.name.clone().into(),
                        l.level.into(),
                        l.parent_id.into(),
                        l.province_id.into(),
                    ]);
                }
                manager.exec_stmt(insert).await?;
            }
        }
        let mappings = seed::crosswalk_2024_2025().map_err(seed_err)?;
        for chunk in mappings.chunks(BATCH) {
            let mut insert = Query::insert();
            insert.into_table("locality_crosswalk").columns([
                "from_id",
                "to_id",
                "partial",
                "default_target",
            ]);
            for m in chunk {
                insert.values_panic([
                    m.from_id.into(),
                    m.to_id.into(),
                    m.partial.into(),
                    m.default_target.into(),
                ]);
            }
            manager.exec_stmt(insert).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .exec_stmt(Query::delete().from_table("locality_crosswalk").to_owned())
            .await?;
        manager
            .exec_stmt(Query::delete().from_table("locality").to_owned())
            .await
    }
}
