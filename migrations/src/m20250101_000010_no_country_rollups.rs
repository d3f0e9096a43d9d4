//! Roll-ups stop at the province: a country's totals are the sums of its provinces' totals,
//! added up when read. Kept as rows of their own, every province's report added to the same
//! country rows, so on PostgreSQL concurrent reports of different provinces queued for each
//! other's row locks. This drops the country rows (locality ids below 0).
//!
//! Down rebuilds them from the provinces' rows, so the previous release reads the same totals.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Each roll-up table: its key columns besides the locality, and its summed columns.
const TABLES: &[(&str, &[&str], &[&str])] = &[
    (
        "rollup_value",
        &["indicator_code", "as_of", "period_start"],
        &["value", "paired_value", "paired_denominator"],
    ),
    (
        "rollup_sum",
        &["indicator_code", "period_year"],
        &["value", "paired_value", "paired_denominator"],
    ),
    (
        "rollup_span",
        &["indicator_code", "until", "report_id", "as_of"],
        &["units"],
    ),
    (
        "target_rollup",
        &["indicator_code", "due_date"],
        &["value", "units"],
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for (table, _, _) in TABLES {
            db.execute_unprepared(&format!("DELETE FROM {table} WHERE locality_id < 0"))
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for (table, keys, sums) in TABLES {
            // A country's id is minus its edition (Edition::country_id); provinces have no parent.
            let keys_of_t: Vec<String> = keys.iter().map(|k| format!("t.{k}")).collect();
            let summed: Vec<String> = sums.iter().map(|c| format!("SUM(t.{c})")).collect();
            db.execute_unprepared(&format!(
                "INSERT INTO {table} (locality_id, {keys}, {sums}) \
                 SELECT -CAST(l.edition AS INTEGER), {keys_of_t}, {summed} \
                 FROM {table} t JOIN locality l ON l.id = t.locality_id \
                 WHERE l.parent_id IS NULL \
                 GROUP BY l.edition, {keys_of_t}",
                keys = keys.join(", "),
                sums = sums.join(", "),
                keys_of_t = keys_of_t.join(", "),
                summed = summed.join(", "),
            ))
            .await?;
        }
        Ok(())
    }
}
