//! Serving plumbing shared by every P06 service: how errors become gRPC statuses, how a service is
//! hosted (health, reflection, authentication and tracing layers, graceful shutdown), and the
//! aggregator client the agency services forward through.

pub mod agency;
pub mod convert;
pub mod forward;
pub mod host;
pub mod status;
