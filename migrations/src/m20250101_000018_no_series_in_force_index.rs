//! Drops `ix_latest_value_series_in_force` (migration 9). It served a saved revision's read of
//! its pairs' figures in force at or after its date; the writer now holds those figures in memory
//! (`figure_memory` in the aggregator's store) and reads the table only for a province beyond the
//! memory's budget, where the primary key `(indicator_code, locality_id, period_end)` answers by
//! reading each pair's periods. Every report paid for the index: a third B-tree in random key
//! order on every figure written, ≈ 35 % of the read model's insert on PostgreSQL (1,200-row
//! inserts, 11.1 → 7.3 ms).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const NAME: &str = "ix_latest_value_series_in_force";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(Index::drop().name(NAME).table("latest_value").to_owned())
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(NAME)
                    .table("latest_value")
                    .col("indicator_code")
                    .col("locality_id")
                    .col("valid_until")
                    .to_owned(),
            )
            .await
    }
}
