//! The agency services' client of the aggregator's IngestService.
//!
//! Each call carries the caller's own bearer token unchanged (the aggregator re-validates it) and
//! the current trace context. A call that fails because the aggregator is unreachable, overloaded or
//! raced is retried with backoff: safe because the request id is forwarded unchanged, so the
//! aggregator stores the report at most once.

use std::time::Duration;

use p06_proto::aggregation::{
    Receipt, SubmitReportRequest, ingest_service_client::IngestServiceClient,
};
use tonic::metadata::MetadataMap;
use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Request, Status};
use tracing::Instrument as _;

/// How an agency service reaches the aggregator.
#[derive(Debug, Clone)]
pub struct ForwardConfig {
    /// e.g. `http://127.0.0.1:50051`.
    pub aggregator_url: String,
    /// Deadline of each attempt (sent as `grpc-timeout`).
    pub attempt_timeout: Duration,
    /// Attempts in all, the first included.
    pub attempts: u32,
    /// Delay before the second attempt; doubled for each further one.
    pub first_backoff: Duration,
}

impl ForwardConfig {
    pub fn new(aggregator_url: impl Into<String>) -> Self {
        Self {
            aggregator_url: aggregator_url.into(),
            attempt_timeout: Duration::from_secs(10),
            attempts: 3,
            first_backoff: Duration::from_millis(200),
        }
    }
}

#[derive(Clone)]
pub struct AggregatorClient {
    client: IngestServiceClient<Channel>,
    config: ForwardConfig,
}

impl AggregatorClient {
    /// A client that connects on first use (and reconnects after failures).
    pub fn new(config: ForwardConfig) -> Result<Self, tonic::transport::Error> {
        let channel = Endpoint::from_shared(config.aggregator_url.clone())?
            .connect_timeout(Duration::from_secs(2))
            .tcp_nodelay(true)
            .connect_lazy();
        let client = IngestServiceClient::new(channel)
            .max_decoding_message_size(crate::host::MAX_MESSAGE_BYTES)
            .max_encoding_message_size(crate::host::MAX_MESSAGE_BYTES);
        Ok(Self { client, config })
    }

    /// Forwards a report on behalf of the caller whose request metadata is `incoming`.
    pub async fn submit(
        &self,
        incoming: &MetadataMap,
        report: SubmitReportRequest,
    ) -> Result<Receipt, Status> {
        let mut backoff = self.config.first_backoff;
        let mut attempt = 1;
        loop {
            let mut request = Request::new(report.clone());
            request.set_timeout(self.config.attempt_timeout);
            if let Some(token) = incoming.get("authorization") {
                request
                    .metadata_mut()
                    .insert("authorization", token.clone());
            }
            let span = p06_telemetry::client_span("/p06.aggregation.v1.IngestService/SubmitReport");
            p06_telemetry::inject_context(&span, request.metadata_mut());
            match self
                .client
                .clone()
                .submit_report(request)
                .instrument(span)
                .await
            {
                Ok(response) => return Ok(response.into_inner()),
                Err(status) if retryable(status.code()) && attempt < self.config.attempts => {
                    tracing::warn!(attempt, code = ?status.code(), "aggregator call failed; retrying");
                    tokio::time::sleep(backoff).await;
                    backoff *= 2;
                    attempt += 1;
                }
                Err(status) if retryable(status.code()) => {
                    tracing::warn!(attempts = attempt, code = ?status.code(), "aggregator unreachable");
                    return Err(Status::unavailable(
                        "the aggregator is unavailable; retry later with the same request_id",
                    ));
                }
                Err(status) => return Err(status),
            }
        }
    }
}

/// Failures after which the same request may be sent again.
fn retryable(code: Code) -> bool {
    matches!(
        code,
        Code::Unavailable | Code::DeadlineExceeded | Code::Aborted | Code::ResourceExhausted
    )
}
