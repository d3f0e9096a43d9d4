//! Generated protobuf and gRPC code for the P06 Indicator Exchange.
//!
//! Every service depends on this crate and on nothing else for wire types. The `.proto` sources live
//! beside this crate under `proto/p06/<area>/v1/`.

pub mod p06 {
    pub mod common {
        pub mod v1 {
            tonic::include_proto!("p06.common.v1");
        }
    }
    pub mod aggregation {
        pub mod v1 {
            tonic::include_proto!("p06.aggregation.v1");
        }
    }
    pub mod police {
        pub mod v1 {
            tonic::include_proto!("p06.police.v1");
        }
    }
    pub mod health {
        pub mod v1 {
            tonic::include_proto!("p06.health.v1");
        }
    }
    pub mod justice {
        pub mod v1 {
            tonic::include_proto!("p06.justice.v1");
        }
    }
}

pub use p06::aggregation::v1 as aggregation;
pub use p06::common::v1 as common;
pub use p06::health::v1 as health;
pub use p06::justice::v1 as justice;
pub use p06::police::v1 as police;

/// Encoded `FileDescriptorSet` of every P06 proto, for gRPC server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("p06_descriptor");
