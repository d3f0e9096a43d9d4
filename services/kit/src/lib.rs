//! Serving plumbing shared by every P06 service: how errors become gRPC statuses (bounded in size),
//! how a service is hosted (health, reflection, authentication, tracing and panic-catching layers,
//! graceful shutdown), and the aggregator client the agency services forward through.

pub mod agency;
pub mod convert;
pub mod forward;
pub mod health;
pub mod host;
pub mod limits;
pub mod panic;
pub mod status;
pub mod tls;
