//! `p06 probe ADDR`: a gRPC health check usable as a container health check.

use std::time::Duration;

use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

use crate::error::user;
use crate::lang::tr;

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  p06 probe 127.0.0.1:50051\n  p06 probe 127.0.0.1:50051 --service p06.aggregation.v1.IngestService"
)]
pub struct ProbeArgs {
    /// host:port of the service, e.g. 127.0.0.1:50051.
    #[arg(value_name = "HOST:PORT")]
    addr: String,
    /// Service name to check, e.g. p06.aggregation.v1.IngestService; empty for the whole server.
    #[arg(long, default_value = "", value_name = "NAME")]
    service: String,
}

pub async fn run(args: ProbeArgs) -> anyhow::Result<()> {
    let addr = &args.addr;
    let endpoint =
        tonic::transport::Endpoint::from_shared(format!("http://{addr}")).map_err(|_| {
            user(tr(
                format!("{addr:?} không phải địa chỉ host:port, ví dụ 127.0.0.1:50051"),
                format!("{addr:?} is not a host:port address, e.g. 127.0.0.1:50051"),
            ))
        })?;
    let channel = endpoint
        .connect_timeout(Duration::from_secs(2))
        .timeout(Duration::from_secs(2))
        .connect()
        .await
        .map_err(|e| {
            let reason = std::error::Error::source(&e).map_or(e.to_string(), |s| s.to_string());
            user(tr(
                format!("không kết nối được {addr} ({reason})"),
                format!("cannot reach {addr} ({reason})"),
            ))
        })?;
    let response = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: args.service.clone(),
        })
        .await
        .map_err(|s| {
            user(tr(
                format!(
                    "{addr} không trả lời kiểm tra sức khỏe của {:?}: {}",
                    args.service,
                    s.message()
                ),
                format!(
                    "{addr} did not answer the health check of {:?}: {}",
                    args.service,
                    s.message()
                ),
            ))
        })?
        .into_inner();
    let status = ServingStatus::try_from(response.status).unwrap_or(ServingStatus::Unknown);
    crate::out!("{}", status.as_str_name());
    if status != ServingStatus::Serving {
        return Err(user(tr(
            format!("{addr} chưa sẵn sàng phục vụ ({})", status.as_str_name()),
            format!("{addr} is not serving ({})", status.as_str_name()),
        )));
    }
    Ok(())
}
