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

use p06_domain::locality::{Level, Locality};
use p06_proto::aggregation::{self as pb, LocalityLevel};

use crate::catalog::Catalog;

/// A catalog locality on the wire.
pub(crate) fn locality_to_proto(catalog: &Catalog, l: &Locality) -> pb::Locality {
    let code_of = |id: Option<i64>| {
        id.and_then(|id| catalog.locality_by_id(id))
            .map(|p| p.code.clone())
            .unwrap_or_default()
    };
    pb::Locality {
        edition: l.edition.to_string(),
        code: l.code.clone(),
        name: l.name.clone(),
        level: match l.level {
            _ if l.id < 0 => LocalityLevel::Country,
            Level::Province => LocalityLevel::Province,
            Level::District => LocalityLevel::District,
            Level::Commune => LocalityLevel::Commune,
        } as i32,
        parent_code: code_of(l.parent_id),
        province_code: code_of(Some(l.province_id).filter(|id| *id > 0)),
    }
}
