//! Schema migrations and seed data of the P06 aggregator (sea-orm-migration).
//!
//! One migration per file, applied in order; the same migrations run on SQLite and PostgreSQL. The
//! seed migrations load the administrative units of the three locality editions and the default
//! indicator catalog from CSV files embedded at compile time (`migrations/data/`), so a binary needs
//! no data files at run time.

pub use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

pub mod figures;
mod m20250101_000001_catalog;
mod m20250101_000002_reports;
mod m20250101_000003_seed_localities;
mod m20250101_000004_seed_indicators;
mod m20250101_000005_locks_and_audit;
pub mod m20250101_000006_rollups;
mod m20250101_000007_read_versions;
mod m20250101_000008_rollup_sums;
mod m20250101_000009_series_in_force_index;
mod m20250101_000010_no_country_rollups;
mod m20250101_000011_flags_by_report;
mod m20250101_000012_edition_validity;
mod m20250101_000013_obligation_per_province;
mod m20250101_000014_indicator_display_order;
mod m20250101_000015_revision_mode;
mod m20250101_000016_flag_pages_and_archive;
mod m20250101_000017_audit_scope;
mod m20250101_000018_no_series_in_force_index;
mod m20250101_000019_reports_are_kept;
mod m20250101_000020_read_model_by_province;
mod m20250101_000021_series_head;
mod m20250101_000022_series_start;
mod m20250101_000023_sqlite_clustered_figures;
mod m20250101_000024_figures_per_revision;
pub mod seed;

pub struct Migrator;

/// `?` placeholders as the back-end spells them (`$1, $2, …` on PostgreSQL), for the migrations'
/// raw statements.
pub(crate) fn placeholders(backend: DbBackend, sql: &str) -> String {
    if backend != DbBackend::Postgres {
        return sql.to_owned();
    }
    let mut out = String::with_capacity(sql.len() + 8);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            out.push_str(&format!("${n}"));
        } else {
            out.push(c);
        }
    }
    out
}

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20250101_000001_catalog::Migration),
            Box::new(m20250101_000002_reports::Migration),
            Box::new(m20250101_000003_seed_localities::Migration),
            Box::new(m20250101_000004_seed_indicators::Migration),
            Box::new(m20250101_000005_locks_and_audit::Migration),
            Box::new(m20250101_000006_rollups::Migration),
            Box::new(m20250101_000007_read_versions::Migration),
            Box::new(m20250101_000008_rollup_sums::Migration),
            Box::new(m20250101_000009_series_in_force_index::Migration),
            Box::new(m20250101_000010_no_country_rollups::Migration),
            Box::new(m20250101_000011_flags_by_report::Migration),
            Box::new(m20250101_000012_edition_validity::Migration),
            Box::new(m20250101_000013_obligation_per_province::Migration),
            Box::new(m20250101_000014_indicator_display_order::Migration),
            Box::new(m20250101_000015_revision_mode::Migration),
            Box::new(m20250101_000016_flag_pages_and_archive::Migration),
            Box::new(m20250101_000017_audit_scope::Migration),
            Box::new(m20250101_000018_no_series_in_force_index::Migration),
            Box::new(m20250101_000019_reports_are_kept::Migration),
            Box::new(m20250101_000020_read_model_by_province::Migration),
            Box::new(m20250101_000021_series_head::Migration),
            Box::new(m20250101_000022_series_start::Migration),
            Box::new(m20250101_000023_sqlite_clustered_figures::Migration),
            Box::new(m20250101_000024_figures_per_revision::Migration),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_numbers_its_placeholders() {
        assert_eq!(
            placeholders(DbBackend::Postgres, "a = ? AND b = ?"),
            "a = $1 AND b = $2"
        );
        assert_eq!(placeholders(DbBackend::Sqlite, "a = ?"), "a = ?");
    }
}
