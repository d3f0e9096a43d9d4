//! The gRPC surface of the aggregator: thin tonic services that decode, authorize, call the domain
//! and the store, and encode.

mod admin;
mod caller;
mod catalog;
mod ingest;
mod paging;
mod taskforce;

pub use admin::AdminApi;
pub use caller::Caller;
pub use catalog::CatalogApi;
pub use ingest::{IngestApi, flag_to_proto};
pub use taskforce::TaskForceApi;
