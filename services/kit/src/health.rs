//! Health that tells the truth (`grpc.health.v1`), and the drain at shutdown.
//!
//! Every server registers, besides the overall `""` and one entry per gRPC service it serves:
//! - `liveness`: SERVING while the process runs, until it exits (Kubernetes' livenessProbe);
//! - `readiness`: whether the process can serve now (readinessProbe). A server with a
//!   [`ReadinessProbe`] asks it every `--readiness-every-ms`; while it fails, `readiness`, `""`
//!   and every service name are NOT_SERVING, and SERVING again once it answers.
//!
//! At SIGTERM/SIGINT `readiness`, `""` and every service name turn NOT_SERVING first; then the
//! server stops accepting connections and calls, the shutdown hooks run (the aggregator ends its
//! `WatchFlags` streams UNAVAILABLE), in-flight calls finish, and whatever is still open after
//! `--drain-secs` is dropped. `Watch` streams on this health service are ended [`WATCH_NOTICE`] after they
//! delivered the NOT_SERVING, so a watcher does not hold the drain open.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::sync::watch;
use tokio_stream::Stream;
use tonic::{Request, Response, Status};
use tonic_health::ServingStatus;
use tonic_health::pb::health_server::{Health, HealthServer};
use tonic_health::pb::{HealthCheckRequest, HealthCheckResponse};
use tonic_health::server::{HealthReporter, HealthService};

/// Name of the health entry that is SERVING while the process runs.
pub const LIVENESS: &str = "liveness";
/// Name of the health entry that is SERVING while the process can serve.
pub const READINESS: &str = "readiness";

/// How long a health `Watch` stream stays open after it delivered NOT_SERVING at the drain, so
/// that its client reads it before the connection closes (a close with unread data can reset the
/// connection and lose what the client had not read yet). Two seconds: a client on a loaded machine
/// was seen to take more than one to read it.
pub const WATCH_NOTICE: Duration = Duration::from_secs(2);

/// A cheap check of what the service needs in order to serve (its database, its upstream); an
/// error says what is unreachable.
pub type ReadinessProbe =
    Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Result<(), String>> + Send>> + Send + Sync>;

/// The health entries of one server and the drain signal.
#[derive(Clone)]
pub struct ServerHealth {
    reporter: HealthReporter,
    /// Entries that follow readiness: `readiness`, `""` and every served gRPC service.
    ready_names: Arc<Vec<String>>,
    draining: watch::Sender<bool>,
}

impl ServerHealth {
    /// Registers `liveness`, `readiness`, `""` and `names`, all SERVING, and returns the health
    /// service to serve with them.
    pub async fn new(names: &[&'static str]) -> (Self, HealthServer<DrainingHealth>) {
        let reporter = HealthReporter::new();
        let mut ready_names: Vec<String> = vec![READINESS.to_owned(), String::new()];
        ready_names.extend(names.iter().map(|n| (*n).to_owned()));
        reporter
            .set_service_status(LIVENESS, ServingStatus::Serving)
            .await;
        for name in &ready_names {
            reporter
                .set_service_status(name, ServingStatus::Serving)
                .await;
        }
        let (draining, _) = watch::channel(false);
        let service = DrainingHealth {
            inner: HealthService::from_health_reporter(reporter.clone()),
            draining: draining.clone(),
        };
        let health = Self {
            reporter,
            ready_names: Arc::new(ready_names),
            draining,
        };
        (health, HealthServer::new(service))
    }

    async fn set_ready(&self, status: ServingStatus) {
        for name in self.ready_names.iter() {
            self.reporter.set_service_status(name, status).await;
        }
    }

    /// Turns readiness NOT_SERVING for good and ends the health `Watch` streams (after they have
    /// delivered it).
    pub async fn begin_drain(&self) {
        self.set_ready(ServingStatus::NotServing).await;
        self.draining.send_replace(true);
    }

    fn is_draining(&self) -> bool {
        *self.draining.borrow()
    }

    /// Asks `probe` every `every` (each answer bounded by `timeout`) and sets readiness from its
    /// answers until the drain begins; transitions are logged.
    pub fn spawn_probe(
        &self,
        probe: ReadinessProbe,
        every: Duration,
        timeout: Duration,
    ) -> tokio::task::JoinHandle<()> {
        let health = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut ready = true;
            loop {
                tick.tick().await;
                let answer = match tokio::time::timeout(timeout, probe()).await {
                    Ok(answer) => answer,
                    Err(_) => Err(format!("no answer within {} ms", timeout.as_millis())),
                };
                if health.is_draining() {
                    return;
                }
                match (ready, answer) {
                    (true, Err(problem)) => {
                        tracing::warn!(%problem, "readiness probe failed: NOT_SERVING");
                        health.set_ready(ServingStatus::NotServing).await;
                        ready = false;
                    }
                    (false, Ok(())) => {
                        tracing::info!("readiness probe answered again: SERVING");
                        health.set_ready(ServingStatus::Serving).await;
                        ready = true;
                    }
                    _ => {}
                }
            }
        })
    }
}

/// tonic-health's service, with `Watch` streams that end once the drain has begun.
pub struct DrainingHealth {
    inner: HealthService,
    draining: watch::Sender<bool>,
}

#[tonic::async_trait]
impl Health for DrainingHealth {
    async fn check(
        &self,
        request: Request<HealthCheckRequest>,
    ) -> Result<Response<HealthCheckResponse>, Status> {
        self.inner.check(request).await
    }

    type WatchStream = EndsAtDrain;

    async fn watch(
        &self,
        request: Request<HealthCheckRequest>,
    ) -> Result<Response<Self::WatchStream>, Status> {
        let inner = self.inner.watch(request).await?.into_inner();
        let mut draining = self.draining.subscribe();
        Ok(Response::new(EndsAtDrain {
            inner,
            drained: Box::pin(async move {
                let _ = draining.wait_for(|d| *d).await;
                tokio::time::sleep(WATCH_NOTICE).await;
            }),
        }))
    }
}

/// A health `Watch` stream that delivers every status change it has, then ends [`WATCH_NOTICE`]
/// after the drain has begun (the NOT_SERVING is set before the drain signal, so it is delivered
/// first).
pub struct EndsAtDrain {
    inner: tonic_health::server::WatchStream,
    drained: Pin<Box<dyn Future<Output = ()> + Send>>,
}

impl Stream for EndsAtDrain {
    type Item = Result<HealthCheckResponse, Status>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if let Poll::Ready(item) = Pin::new(&mut self.inner).poll_next(cx) {
            return Poll::Ready(item);
        }
        match self.drained.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
    }
}
