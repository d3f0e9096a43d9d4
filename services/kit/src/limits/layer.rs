//! The tower layer applying [`LimitsConfig`] to each call, after authentication (it reads the
//! verified [`Principal`] the auth layer put in the request; the token is decoded once).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http_body::{Frame, SizeHint};
use p06_auth::{Agency, Principal};
use tokio::time::Instant;
use tonic::Status;
use tonic::body::Body;
use tonic::codegen::Bytes;
use tonic_types::{ErrorDetails, StatusExt};

use super::LimitsConfig;
use super::admission::{Admission, AdmissionBounds, Entry, Refusal};
use super::hold::Holds;
use super::idle::{CallGuard, Peer};
use super::rate::{CallerKey, RateLimiter};
use super::submission::is_submission;
use super::wire::{MessageLimit, grpc_timeout};

/// Suggested delay before retrying a call refused because slots or queues were full.
const BUSY_RETRY: Duration = Duration::from_secs(1);

/// The shared state of the limits of one server.
pub struct Limits {
    config: LimitsConfig,
    rate: RateLimiter,
    /// The second, lower rate of report-writing calls ([`super::submission`]).
    submit_rate: RateLimiter,
    /// Refusals of the two rates held before they are answered.
    holds: Holds,
    admission: Arc<Admission>,
}

impl Limits {
    pub fn config(&self) -> &LimitsConfig {
        &self.config
    }

    /// (running, queued) calls of `agency`.
    pub fn load(&self, agency: Agency) -> (usize, usize) {
        self.admission.load(agency)
    }
}

#[derive(Clone)]
pub struct LimitsLayer {
    limits: Arc<Limits>,
}

impl LimitsLayer {
    pub fn new(config: &LimitsConfig) -> Self {
        Self {
            limits: Arc::new(Limits {
                rate: RateLimiter::new(config.rate_per_second, config.burst),
                submit_rate: RateLimiter::new(config.submit_rate_per_second, config.submit_burst),
                holds: Holds::new(
                    Duration::from_millis(config.refusal_hold_ms),
                    config.held_refusals,
                ),
                admission: Admission::new(AdmissionBounds {
                    in_flight: config.in_flight,
                    agency_in_flight: config.agency_in_flight,
                    agency_queue: config.agency_queue,
                    total_queue: config.total_queue,
                }),
                config: config.clone(),
            }),
        }
    }

    pub fn limits(&self) -> Arc<Limits> {
        self.limits.clone()
    }
}

impl<S> tower::Layer<S> for LimitsLayer {
    type Service = LimitsService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        LimitsService {
            inner,
            limits: self.limits.clone(),
        }
    }
}

#[derive(Clone)]
pub struct LimitsService<S> {
    inner: S,
    limits: Arc<Limits>,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

impl<S> tower::Service<http::Request<Body>> for LimitsService<S>
where
    S: tower::Service<http::Request<Body>, Response = http::Response<Body>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<Body>) -> Self::Future {
        let guard = request.extensions().get::<Peer>().cloned().map(|peer| {
            // `Request::remote_addr` keeps working behind the idle-closing connections.
            request.extensions_mut().insert(peer.tcp);
            peer.activity.begin()
        });
        // The clone that was polled ready serves this call; a fresh clone waits for the next.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let limits = self.limits.clone();
        let config = &limits.config;
        let Some(principal) = request.extensions().get::<Principal>() else {
            // Public methods (health, reflection): never limited.
            return Box::pin(async move {
                let response = inner.call(request).await?;
                Ok(with_guard(response, guard))
            });
        };
        let agency = principal.agency;
        let caller = CallerKey::of(principal);
        let now = std::time::Instant::now();
        let limit = Duration::from_secs(config.call_secs.max(1));
        let asked = grpc_timeout(request.headers());
        let budget = asked.map_or(limit, |t| t.min(limit));
        // tonic's own timeout, outside every layer, reads the same grpc-timeout and ends the call
        // CANCELLED "Timeout expired" at that instant; answering a moment earlier keeps the honest
        // DEADLINE_EXCEEDED (the caller's deadline has all but passed either way).
        let answer_within = budget.saturating_sub(DEADLINE_MARGIN.min(budget / 10));
        let deadline = Instant::now() + answer_within;
        // A submission takes a token of both buckets, the submission one first: a refused
        // submission spends none of the caller's general calls, and one the general rate refuses
        // gets its submission token back.
        let submission = is_submission(request.uri().path());
        if submission && let Err(wait) = limits.submit_rate.check(&caller, now) {
            tracing::debug!(subject = %principal.subject, agency = %agency, "submission rate limited");
            return held_refusal(&limits.holds, wait, answer_within, |retry| {
                submit_rate_limited(config, retry)
            });
        }
        if let Err(wait) = limits.rate.check(&caller, now) {
            if submission {
                limits.submit_rate.refund(&caller);
            }
            tracing::debug!(subject = %principal.subject, agency = %agency, "rate limited");
            return held_refusal(&limits.holds, wait, answer_within, |retry| {
                rate_limited(config, retry)
            });
        }
        let entry = match limits.admission.enter(agency) {
            Ok(entry) => entry,
            Err(refusal) => {
                tracing::debug!(agency = %agency, ?refusal, "call refused: no slot");
                let status = refused(config, &refusal);
                return Box::pin(async move { Ok(status.into_http()) });
            }
        };
        let max = config.max_message_bytes;
        let request = request.map(|body| Body::new(MessageLimit::new(body, max)));
        let queue_wait = Duration::from_millis(config.queue_wait_ms);
        Box::pin(async move {
            let permit = match entry {
                Entry::Admitted(permit) => permit,
                Entry::Queued(waiter) => {
                    let until = deadline.min(Instant::now() + queue_wait);
                    match tokio::time::timeout_at(until, waiter.admitted()).await {
                        Ok(permit) => permit,
                        Err(_) if until == deadline => {
                            return Ok(deadline_exceeded(budget, asked).into_http());
                        }
                        Err(_) => return Ok(waited_too_long(agency, queue_wait).into_http()),
                    }
                }
            };
            let result = tokio::time::timeout_at(deadline, inner.call(request)).await;
            drop(permit);
            match result {
                Ok(response) => Ok(with_guard(response?, guard)),
                Err(_) => Ok(deadline_exceeded(budget, asked).into_http()),
            }
        })
    }
}

/// A caller's own rate refused it: the answer, held as [`Holds::plan`] says (`budget`: what the
/// call's deadline leaves), naming what is left of `wait`.
fn held_refusal<E: Send + 'static>(
    holds: &Holds,
    wait: Duration,
    budget: Duration,
    status: impl FnOnce(Duration) -> Status,
) -> BoxFuture<Result<http::Response<Body>, E>> {
    let (plan, held) = holds.plan(wait, budget);
    let answer = status(plan.retry).into_http();
    if held.is_none() {
        return Box::pin(async move { Ok(answer) });
    }
    Box::pin(async move {
        tokio::time::sleep(plan.hold).await;
        drop(held);
        Ok(answer)
    })
}

fn seconds(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 10.0 {
        format!("{s:.3} s")
    } else {
        format!("{s:.0} s")
    }
}

/// RESOURCE_EXHAUSTED with a `RetryInfo` giving `wait`.
fn exhausted(message: String, wait: Duration) -> Status {
    Status::with_error_details(
        tonic::Code::ResourceExhausted,
        message,
        ErrorDetails::with_retry_info(Some(wait)),
    )
}

fn rate_limited(config: &LimitsConfig, wait: Duration) -> Status {
    exhausted(
        format!(
            "rate limit: each caller (token subject, agency and province) may make {} calls per second, {} at once (P06_LIMIT_RATE, P06_LIMIT_BURST); retry in {}",
            config.rate_per_second,
            config.burst,
            seconds(wait)
        ),
        wait,
    )
}

fn submit_rate_limited(config: &LimitsConfig, wait: Duration) -> Status {
    exhausted(
        format!(
            "submission rate limit: each caller (token subject, agency and province) may submit {} reports per second, {} at once (P06_LIMIT_SUBMIT_RATE, P06_LIMIT_SUBMIT_BURST); retry in {}",
            config.submit_rate_per_second,
            config.submit_burst,
            seconds(wait)
        ),
        wait,
    )
}

fn refused(config: &LimitsConfig, refusal: &Refusal) -> Status {
    let message = match refusal {
        Refusal::AgencyQueueFull { agency, queued } => format!(
            "too many calls of agency {agency}: {} running and {queued} waiting (P06_LIMIT_AGENCY_IN_FLIGHT, P06_LIMIT_AGENCY_QUEUE); retry in {}",
            config.agency_in_flight,
            seconds(BUSY_RETRY)
        ),
        Refusal::Saturated { queued } => format!(
            "the server is saturated: {queued} calls waiting (P06_LIMIT_QUEUE); retry in {}",
            seconds(BUSY_RETRY)
        ),
    };
    exhausted(message, BUSY_RETRY)
}

fn waited_too_long(agency: Agency, waited: Duration) -> Status {
    exhausted(
        format!(
            "no slot for agency {agency} within {} (P06_LIMIT_QUEUE_WAIT_MS); retry in {}",
            seconds(waited),
            seconds(BUSY_RETRY)
        ),
        BUSY_RETRY,
    )
}

/// How much earlier than the caller's `grpc-timeout` the layer answers DEADLINE_EXCEEDED, at
/// most a tenth of the budget: enough for the timer wheel's millisecond ticks to put this layer's
/// timer before tonic's.
const DEADLINE_MARGIN: Duration = Duration::from_millis(5);

fn deadline_exceeded(budget: Duration, asked: Option<Duration>) -> Status {
    let why = match asked {
        Some(t) if t <= budget => format!("the caller's grpc-timeout of {}", seconds(t)),
        _ => format!(
            "the server's limit of {} per call (P06_LIMIT_CALL_SECS)",
            seconds(budget)
        ),
    };
    Status::deadline_exceeded(format!(
        "deadline exceeded: {why} passed before the call completed"
    ))
}

/// Keeps the connection counted as active until the response body ends (a stream: until it
/// closes).
fn with_guard(response: http::Response<Body>, guard: Option<CallGuard>) -> http::Response<Body> {
    match guard {
        None => response,
        Some(guard) => response.map(|body| {
            Body::new(Guarded {
                inner: body,
                _guard: guard,
            })
        }),
    }
}

struct Guarded {
    inner: Body,
    _guard: CallGuard,
}

impl http_body::Body for Guarded {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
