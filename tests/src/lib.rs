//! Test support: fresh databases (SQLite always, PostgreSQL when `P06_TEST_POSTGRES_URL` is set),
//! the real services started on ephemeral ports, development tokens, and request builders.
//!
//! Every test gets its own database. Migrating and seeding (≈ 35,000 localities) happens once per
//! test process into a template: a SQLite file that is copied, or a PostgreSQL database used as
//! `CREATE DATABASE … TEMPLATE`.

pub mod db;
pub mod fixtures;
pub mod gate;
pub mod proxy;
pub mod reform;
pub mod scenarios;
pub mod services;
pub mod workbook;
