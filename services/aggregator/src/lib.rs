//! The P06 aggregator: stores every report revision, applies the compliance rules and answers the
//! task force.
//!
//! Layers, outermost first: `api` (tonic services: decode, authorize, call the domain, encode) →
//! `p06_domain` (the rules, no I/O) → `store` (sea-orm over SQLite or PostgreSQL). Errors are typed
//! in [`error::Error`] and become gRPC statuses in one place.

pub mod api;
pub mod app;
pub mod catalog;
pub mod compliance;
pub mod config;
pub mod error;
pub mod flag_feed;
pub mod hash;
pub mod narrative;
pub mod read_cache;
pub mod store;
pub mod write_turns;

pub use app::Aggregator;
pub use config::AggregatorConfig;
