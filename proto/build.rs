//! Compiles every `.proto` under `proto/p06` with the vendored `protoc`, so a fresh machine needs no
//! protobuf installation. Also writes the descriptor set that server reflection serves.

use std::path::PathBuf;

const PROTOS: &[&str] = &[
    "p06/common/v1/common.proto",
    "p06/aggregation/v1/ingest.proto",
    "p06/aggregation/v1/catalog.proto",
    "p06/aggregation/v1/admin.proto",
    "p06/aggregation/v1/taskforce.proto",
    "p06/police/v1/police.proto",
    "p06/health/v1/health.proto",
    "p06/justice/v1/justice.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protoc = protoc_bin_vendored::protoc_bin_path()?;
    let include = protoc_bin_vendored::include_path()?;
    // tonic-prost-build finds protoc through the PROTOC variable.
    unsafe_env_set("PROTOC", protoc.as_os_str());

    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    tonic_prost_build::configure()
        .file_descriptor_set_path(out_dir.join("p06_descriptor.bin"))
        .compile_protos(
            PROTOS,
            &[".", include.to_str().ok_or("non-UTF-8 include path")?],
        )?;
    for proto in PROTOS {
        println!("cargo:rerun-if-changed={proto}");
    }
    Ok(())
}

#[allow(unsafe_code)]
fn unsafe_env_set(key: &str, value: &std::ffi::OsStr) {
    // Edition 2024 marks set_var unsafe because other threads may read the environment; a build
    // script runs this before spawning anything.
    unsafe { std::env::set_var(key, value) };
}
