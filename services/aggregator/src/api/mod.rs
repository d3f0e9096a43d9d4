//! The gRPC surface of the aggregator: thin tonic services that decode, authorize, call the domain
//! and the store, and encode.

mod admin;
mod caller;
mod catalog;
mod flag_watch;
mod ingest;
mod paging;
mod taskforce;

pub use admin::AdminApi;
pub use caller::Caller;
pub use catalog::CatalogApi;
pub(crate) use ingest::receipt_to_proto;
pub use ingest::{IngestApi, flag_to_proto};
pub use taskforce::TaskForceApi;

use p06_domain::locality::{Edition, Level, Locality};
use p06_domain::report::CatalogView as _;
use p06_domain::text::echo;
use p06_proto::aggregation::{self as pb, LocalityLevel};

use crate::catalog::Catalog;
use crate::error::Error;

/// The refusal of a locality code unknown in the edition asked: names the code and the edition,
/// and what the code is in the other editions, since the 2025 reform reused codes (64 was Gia Lai
/// in edition 2024 and is nothing in edition 2025).
pub(crate) fn unknown_locality(
    catalog: &Catalog,
    field: &str,
    edition: Edition,
    code: &str,
) -> Error {
    let elsewhere: Vec<String> = Edition::ALL
        .into_iter()
        .filter(|e| *e != edition)
        .filter_map(|e| {
            catalog
                .locality(e, code)
                .map(|l| format!("{} in edition {e}", l.name))
        })
        .collect();
    let mut message = format!("{} is not a locality of edition {edition}", echo(code));
    if !elsewhere.is_empty() {
        message.push_str(&format!("; it is {}", elsewhere.join(", ")));
    }
    Error::invalid_field(field, message)
}

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
