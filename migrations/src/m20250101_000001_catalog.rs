//! The catalog: localities (three editions side by side) and their crosswalk, agencies, indicators,
//! targets and reporting obligations.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // A locality is identified by (edition, code): the 2025 reform reused codes with new meanings.
        // `id` is assigned by the seeder from (edition, level, code), see `seed::locality_id`.
        manager
            .create_table(
                Table::create()
                    .table("locality")
                    .col(ColumnDef::new("id").big_integer().not_null().primary_key())
                    .col(ColumnDef::new("edition").string_len(8).not_null())
                    .col(ColumnDef::new("code").string_len(8).not_null())
                    .col(ColumnDef::new("name").string_len(200).not_null())
                    .col(ColumnDef::new("level").string_len(10).not_null())
                    .col(ColumnDef::new("parent_id").big_integer().null())
                    .col(ColumnDef::new("province_id").big_integer().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .from("locality", "parent_id")
                            .to("locality", "id"),
                    )
                    .to_owned(),
            )
            .await?;
        create_index(
            manager,
            "locality",
            "ux_locality_edition_code",
            &["edition", "code"],
            true,
        )
        .await?;
        // Children of a unit (roll-up by parent) and all units of a level inside a province.
        create_index(
            manager,
            "locality",
            "ix_locality_parent",
            &["parent_id"],
            false,
        )
        .await?;
        create_index(
            manager,
            "locality",
            "ix_locality_province_level",
            &["province_id", "level"],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table("locality_crosswalk")
                    .col(ColumnDef::new("from_id").big_integer().not_null())
                    .col(ColumnDef::new("to_id").big_integer().not_null())
                    .col(ColumnDef::new("partial").boolean().not_null())
                    .col(ColumnDef::new("default_target").boolean().not_null())
                    .primary_key(Index::create().col("from_id").col("to_id"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("locality_crosswalk", "from_id")
                            .to("locality", "id"),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from("locality_crosswalk", "to_id")
                            .to("locality", "id"),
                    )
                    .to_owned(),
            )
            .await?;
        create_index(
            manager,
            "locality_crosswalk",
            "ix_crosswalk_to",
            &["to_id"],
            false,
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table("agency")
                    .col(
                        ColumnDef::new("code")
                            .string_len(16)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new("name_vi").string_len(200).not_null())
                    .col(ColumnDef::new("name_en").string_len(200).not_null())
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("indicator")
                    .col(
                        ColumnDef::new("code")
                            .string_len(64)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new("agency").string_len(16).not_null())
                    .col(ColumnDef::new("kind").string_len(8).not_null())
                    .col(ColumnDef::new("unit").string_len(16).not_null())
                    .col(ColumnDef::new("denominator_code").string_len(64).null())
                    .col(ColumnDef::new("name_vi").string_len(300).not_null())
                    .col(ColumnDef::new("name_en").string_len(300).not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .from("indicator", "agency")
                            .to("agency", "code"),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table("target")
                    .col(
                        ColumnDef::new("id")
                            .big_integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new("indicator_code").string_len(64).not_null())
                    .col(ColumnDef::new("locality_id").big_integer().not_null())
                    .col(ColumnDef::new("due_date").date().not_null())
                    .col(ColumnDef::new("value").double().not_null())
                    .col(
                        ColumnDef::new("updated_at")
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from("target", "indicator_code")
                            .to("indicator", "code"),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from("target", "locality_id")
                            .to("locality", "id"),
                    )
                    .to_owned(),
            )
            .await?;
        // "The target of indicator I in locality L due on or after D" is a range scan on this key.
        create_index(
            manager,
            "target",
            "ux_target_locality_indicator_due",
            &["locality_id", "indicator_code", "due_date"],
            true,
        )
        .await?;

        // An obligation's schedule (cadence, deadline rule, required indicators and level) is kept as
        // the JSON of the domain's `ObligationSpec`, validated by the domain before it is stored.
        manager
            .create_table(
                Table::create()
                    .table("obligation")
                    .col(
                        ColumnDef::new("code")
                            .string_len(64)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new("agency").string_len(16).not_null())
                    .col(ColumnDef::new("spec").text().not_null())
                    .col(
                        ColumnDef::new("updated_at")
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from("obligation", "agency")
                            .to("agency", "code"),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "obligation",
            "target",
            "indicator",
            "agency",
            "locality_crosswalk",
            "locality",
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

pub(crate) async fn create_index(
    manager: &SchemaManager<'_>,
    table: &str,
    name: &str,
    columns: &[&str],
    unique: bool,
) -> Result<(), DbErr> {
    let mut index = Index::create();
    index.name(name).table(table.to_owned());
    for column in columns {
        index.col(Alias::new(*column));
    }
    if unique {
        index.unique();
    }
    manager.create_index(index.to_owned()).await
}
