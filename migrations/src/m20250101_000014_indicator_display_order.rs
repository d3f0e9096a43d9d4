//! The order in which screens list the indicators (`indicator.display_order`, lowest first; ties
//! by code): the headline of Project 06, level-2 e-ID accounts activated, first, then the rest of
//! each agency's figures in the order of its reports. Indicators added later without an order
//! come last.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The catalog's indicators in display order.
const ORDER: &[&str] = &[
    "vneid.l2.activated",
    "vneid.l2.created",
    "vneid.l1.created",
    "vneid.profiles.collected",
    "cccd.cards.issued",
    "cccd.applications.collected",
    "cccd.eligible.without_card",
    "signature.initiated",
    "signature.completed",
    "signature.pending",
    "residents.permanent",
    "bhyt.cards.integrated",
    "health_book.integrated",
    "social_security.accounts",
    "facilities.accepting_cccd",
    "facilities.total",
    "pension.cashless.recipients",
    "pension.recipients",
    "pension.cashless.urban_share",
    "civil_status.digitized",
    "civil_status.backlog",
    "civil_registration.online",
    "civil_registration.interlinked",
    "civil_registration.total",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("indicator")
                    .add_column(
                        ColumnDef::new("display_order")
                            .integer()
                            .not_null()
                            .default(1_000),
                    )
                    .to_owned(),
            )
            .await?;
        for (position, code) in ORDER.iter().enumerate() {
            manager
                .exec_stmt(
                    Query::update()
                        .table("indicator")
                        .value("display_order", (position as i32 + 1) * 10)
                        .and_where(Expr::col("code").eq(*code))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("indicator")
                    .drop_column("display_order")
                    .to_owned(),
            )
            .await
    }
}
