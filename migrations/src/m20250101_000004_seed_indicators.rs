//! Seeds the agencies and the default indicator catalog.

use sea_orm_migration::prelude::*;

use crate::seed;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut agencies = Query::insert();
        agencies
            .into_table("agency")
            .columns(["code", "name_vi", "name_en"]);
        for (code, vi, en) in seed::AGENCIES {
            agencies.values_panic([(*code).into(), (*vi).into(), (*en).into()]);
        }
        manager.exec_stmt(agencies).await?;

        let indicators = seed::indicators().map_err(|e| DbErr::Migration(e.to_string()))?;
        let mut insert = Query::insert();
        insert.into_table("indicator").columns([
            "code",
            "agency",
            "kind",
            "unit",
            "denominator_code",
            "name_vi",
            "name_en",
        ]);
        for i in indicators {
            let denominator = (!i.denominator.is_empty()).then_some(i.denominator);
            insert.values_panic([
                i.code.into(),
                i.agency.into(),
                i.kind.into(),
                i.unit.into(),
                denominator.into(),
                i.name_vi.into(),
                i.name_en.into(),
            ]);
        }
        manager.exec_stmt(insert).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .exec_stmt(Query::delete().from_table("indicator").to_owned())
            .await?;
        manager
            .exec_stmt(Query::delete().from_table("agency").to_owned())
            .await
    }
}
