//! Domain rules of the P06 Indicator Exchange, in plain Rust with no I/O.
//!
//! Handlers translate wire messages into these types, call the rules here, and hand the outcome to
//! storage. Everything time-dependent takes its "now" from a [`clock::Clock`], so tests can pin it.

pub mod admin;
pub mod clock;
pub mod consistency;
pub mod contribution;
pub mod cross_agency;
pub mod edition;
pub mod invariants;
pub mod known_at;
pub mod locality;
pub mod narrative;
pub mod obligation;
pub mod pace;
pub mod reform;
pub mod report;
pub mod revision;
pub mod rollup;
pub mod schedule;
pub mod specificity;
pub mod text;
