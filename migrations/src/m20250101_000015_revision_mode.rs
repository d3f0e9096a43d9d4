//! Revision modes: `report.mode` says whether a revision REPLACEs its predecessor or AMENDs it
//! (revisions stored before modes existed replaced, hence the default); `report.carried_count`
//! how many of its figures an amendment carried forward; `observation.carried_from` marks each
//! carried figure with the revision that sent it (NULL for a figure the revision itself sent).
//! SQLite alters one column per statement.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("report")
                    .add_column(
                        ColumnDef::new("mode")
                            .string_len(8)
                            .not_null()
                            .default("REPLACE"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("report")
                    .add_column(
                        ColumnDef::new("carried_count")
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("observation")
                    .add_column(ColumnDef::new("carried_from").big_integer().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("observation")
                    .drop_column("carried_from")
                    .to_owned(),
            )
            .await?;
        for column in ["carried_count", "mode"] {
            manager
                .alter_table(
                    Table::alter()
                        .table("report")
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
