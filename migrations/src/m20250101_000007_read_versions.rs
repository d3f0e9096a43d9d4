//! `province_version`: a counter per province advanced by every transaction that changes what the
//! task-force views of that province read (figures, roll-ups, targets). A replica caching those
//! reads compares it before using what it holds, so a cache is never staler than the last
//! committed write of any replica.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("province_version")
                    .col(
                        ColumnDef::new("province_id")
                            .big_integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new("version").big_integer().not_null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("province_version").to_owned())
            .await
    }
}
