//! The editions of the administrative units as catalog rows, each with the interval during which it
//! is in force (local dates, both ends inclusive, empty = open). A report must use the edition in
//! force on its period's last day (`p06_domain::edition`).
//!
//! Dates are ISO `YYYY-MM-DD` text, which sorts and compares like the date on both back-ends.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLE: &str = "locality_edition";

/// (edition, tiers, valid from, valid until, Vietnamese name, English name).
type Row = (
    &'static str,
    i32,
    Option<&'static str>,
    Option<&'static str>,
    &'static str,
    &'static str,
);

const EDITIONS: [Row; 3] = [
    (
        "2023",
        3,
        None,
        Some("2023-12-31"),
        "Danh mục đơn vị hành chính tháng 4/2023 (ba cấp)",
        "Administrative units of April 2023 (three tiers)",
    ),
    (
        "2024",
        3,
        Some("2024-01-01"),
        Some("2025-06-30"),
        "Đơn vị hành chính ba cấp trước sắp xếp (đến 30/6/2025)",
        "Last three-tier units (until 30 June 2025)",
    ),
    (
        "2025",
        2,
        Some("2025-07-01"),
        None,
        "Đơn vị hành chính hai cấp từ 1/7/2025",
        "Two-tier units since 1 July 2025",
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(TABLE)
                    .col(
                        ColumnDef::new("edition")
                            .string_len(8)
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new("tiers").integer().not_null())
                    .col(ColumnDef::new("valid_from").string_len(10).null())
                    .col(ColumnDef::new("valid_until").string_len(10).null())
                    .col(ColumnDef::new("name_vi").string_len(200).not_null())
                    .col(ColumnDef::new("name_en").string_len(200).not_null())
                    .to_owned(),
            )
            .await?;
        let mut insert = Query::insert();
        insert.into_table(TABLE).columns([
            "edition",
            "tiers",
            "valid_from",
            "valid_until",
            "name_vi",
            "name_en",
        ]);
        for (edition, tiers, from, until, name_vi, name_en) in EDITIONS {
            insert.values_panic([
                edition.into(),
                tiers.into(),
                from.map(str::to_owned).into(),
                until.map(str::to_owned).into(),
                name_vi.into(),
                name_en.into(),
            ]);
        }
        manager.exec_stmt(insert).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(TABLE).to_owned())
            .await
    }
}
