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
use tokio::time::Instant;
use tonic::metadata::MetadataMap;
use tonic::transport::Channel;
use tonic::{Code, Request, Status};
use tonic_types::{ErrorDetails, StatusExt};
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
    /// An `https://` URL is called over TLS (`crate::tls`: the CA from `P06_TLS_CA`/`P06_TLS_DIR`).
    pub fn new(config: ForwardConfig) -> Result<Self, crate::tls::TlsError> {
        Self::with_tls(config, &crate::tls::TlsSettings::from_env())
    }

    /// As `new`, with explicit TLS settings.
    pub fn with_tls(
        config: ForwardConfig,
        tls: &crate::tls::TlsSettings,
    ) -> Result<Self, crate::tls::TlsError> {
        let channel = tls
            .endpoint(&config.aggregator_url)?
            .connect_timeout(Duration::from_secs(2))
            .tcp_nodelay(true)
            .connect_lazy();
        let client = IngestServiceClient::new(channel)
            .max_decoding_message_size(crate::host::MAX_MESSAGE_BYTES)
            .max_encoding_message_size(crate::host::MAX_MESSAGE_BYTES);
        Ok(Self { client, config })
    }

    /// Forwards a report on behalf of the caller whose request metadata is `incoming`.
    ///
    /// Honest codes: an aggregator that cannot be reached, or vanished mid-call, is UNAVAILABLE;
    /// one that did not answer within the caller's deadline (`grpc-timeout`) or the attempt
    /// timeout is DEADLINE_EXCEEDED — never UNKNOWN or CANCELLED. Both name the request id to
    /// retry with (message and `google.rpc.RequestInfo`): the report may have been stored, and a
    /// retry with the same id returns its receipt instead of storing it twice. The aggregator's
    /// RESOURCE_EXHAUSTED (with its RetryInfo) is passed on, not retried here.
    pub async fn submit(
        &self,
        incoming: &MetadataMap,
        report: SubmitReportRequest,
    ) -> Result<Receipt, Status> {
        // The caller's deadline, kept a little early so that this answer, naming the request
        // id, reaches the caller before the server's own deadline answer would.
        let deadline = crate::limits::wire::grpc_timeout(incoming.as_ref())
            .map(|t| Instant::now() + t.saturating_sub(DEADLINE_MARGIN.min(t / 10)));
        let request_id = report.request_id.clone();
        let mut backoff = self.config.first_backoff;
        let mut attempt = 1;
        loop {
            let mut timeout = self.config.attempt_timeout;
            let mut callers = false;
            if let Some(deadline) = deadline {
                let left = deadline.saturating_duration_since(Instant::now());
                if left <= timeout {
                    timeout = left;
                    callers = true;
                }
            }
            if timeout.is_zero() {
                return Err(unanswered(
                    &request_id,
                    attempt - 1,
                    Failure::CallerDeadline,
                ));
            }
            let mut request = Request::new(report.clone());
            request.set_timeout(timeout);
            if let Some(token) = incoming.get("authorization") {
                request
                    .metadata_mut()
                    .insert("authorization", token.clone());
            }
            let span = p06_telemetry::client_span("/p06.aggregation.v1.IngestService/SubmitReport");
            p06_telemetry::inject_context(&span, request.metadata_mut());
            let mut client = self.client.clone();
            let call = client.submit_report(request).instrument(span);
            let failure = match tokio::time::timeout(timeout, call).await {
                Ok(Ok(response)) => return Ok(response.into_inner()),
                Ok(Err(status)) => match classify(&status) {
                    Some(failure) => failure,
                    None => return Err(status),
                },
                Err(_) => Failure::AttemptTimeout,
            };
            let failure = match failure {
                Failure::AttemptTimeout if callers => Failure::CallerDeadline,
                other => other,
            };
            let out_of_time = failure == Failure::CallerDeadline
                || deadline.is_some_and(|d| Instant::now() + backoff >= d);
            if attempt >= self.config.attempts || out_of_time {
                tracing::warn!(
                    attempts = attempt,
                    request_id,
                    ?failure,
                    "aggregator did not answer"
                );
                return Err(unanswered(&request_id, attempt, failure));
            }
            tracing::warn!(
                attempt,
                request_id,
                ?failure,
                "aggregator call failed; retrying"
            );
            tokio::time::sleep(backoff).await;
            backoff *= 2;
            attempt += 1;
        }
    }
}

/// Kept off the caller's deadline: at most this much, at most a tenth of it.
const DEADLINE_MARGIN: Duration = Duration::from_millis(50);

/// Why the aggregator gave no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Failure {
    /// Unreachable, or the connection broke mid-call (it stopped, restarted or was cut).
    Unreachable,
    /// An attempt took longer than [`ForwardConfig::attempt_timeout`].
    AttemptTimeout,
    /// The caller's deadline came.
    CallerDeadline,
}

/// The aggregator's statuses that mean "no answer" (retryable with the same request id), as
/// opposed to its answers (passed on unchanged). The aggregator never answers UNKNOWN or
/// CANCELLED (a panic is INTERNAL): tonic's client makes those from a broken connection or its own
/// timeout. An INTERNAL the client made from an HTTP/2 error carries that error as its source; one
/// received from the aggregator has none.
fn classify(status: &Status) -> Option<Failure> {
    use std::error::Error as _;
    let timed_out = || {
        let mut source = status.source();
        while let Some(error) = source {
            if error.is::<tonic::TimeoutExpired>() {
                return true;
            }
            source = error.source();
        }
        false
    };
    match status.code() {
        // tonic's client says CANCELLED when the attempt's own grpc-timeout passes.
        Code::Cancelled if timed_out() => Some(Failure::AttemptTimeout),
        Code::Unavailable | Code::Aborted | Code::Unknown | Code::Cancelled => {
            Some(Failure::Unreachable)
        }
        Code::DeadlineExceeded => Some(Failure::AttemptTimeout),
        Code::Internal if status.source().is_some() => Some(Failure::Unreachable),
        _ => None,
    }
}

/// UNAVAILABLE or DEADLINE_EXCEEDED naming the request id to retry with.
fn unanswered(request_id: &str, attempts: u32, failure: Failure) -> Status {
    let (code, what) = match failure {
        Failure::Unreachable => (
            Code::Unavailable,
            format!("the aggregator is unavailable ({attempts} attempts)"),
        ),
        Failure::AttemptTimeout => (
            Code::DeadlineExceeded,
            format!("the aggregator did not answer in time ({attempts} attempts)"),
        ),
        Failure::CallerDeadline => (
            Code::DeadlineExceeded,
            "the aggregator did not answer within the call's deadline".to_owned(),
        ),
    };
    let message = crate::status::bounded_message(format!(
        "{what}; the report may or may not be stored: retry with the same request_id {request_id:?} (a stored report is not stored twice; the retry returns its receipt)"
    ));
    let mut details = ErrorDetails::with_request_info(
        p06_domain::text::truncate(request_id, 200),
        "retry with this request_id",
    );
    if code == Code::Unavailable {
        details.set_retry_info(Some(Duration::from_secs(1)));
    }
    Status::with_error_details(code, message, details)
}
