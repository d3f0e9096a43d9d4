//! A gate in front of a real service: holds its `SubmitReport` calls (of one agency, or all) until
//! opened, counting them — so tests can hold calls in flight deterministically and see what the
//! limits and the agency services do meanwhile.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use p06_auth::{Agency, Principal};
use tonic::body::Body;
use tonic::server::NamedService;

pub struct Gate {
    open: tokio::sync::watch::Sender<bool>,
    agency: Option<Agency>,
    entered: AtomicUsize,
}

impl Gate {
    /// A closed gate holding the `SubmitReport` calls of `agency` (of every agency when `None`).
    pub fn new(agency: Option<Agency>) -> Arc<Gate> {
        Arc::new(Gate {
            open: tokio::sync::watch::channel(false).0,
            agency,
            entered: AtomicUsize::new(0),
        })
    }

    pub fn open(&self) {
        self.open.send_replace(true);
    }

    /// Calls that reached the gate (held or passed).
    pub fn entered(&self) -> usize {
        self.entered.load(Ordering::SeqCst)
    }

    /// Waits until `n` calls reached the gate (panics after 20 s).
    pub async fn wait_entered(&self, n: usize) {
        let started = std::time::Instant::now();
        while self.entered() < n {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "only {} of {n} calls reached the gate",
                self.entered()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    pub fn wrap<S>(self: &Arc<Self>, inner: S) -> Gated<S> {
        Gated {
            inner,
            gate: self.clone(),
        }
    }
}

#[derive(Clone)]
pub struct Gated<S> {
    inner: S,
    gate: Arc<Gate>,
}

impl<S: NamedService> NamedService for Gated<S> {
    const NAME: &'static str = S::NAME;
}

impl<S> tower::Service<http::Request<Body>> for Gated<S>
where
    S: tower::Service<http::Request<Body>, Response = http::Response<Body>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let agency = request.extensions().get::<Principal>().map(|p| p.agency);
        let holds = request.uri().path().ends_with("/SubmitReport")
            && (self.gate.agency.is_none() || self.gate.agency == agency);
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let gate = self.gate.clone();
        Box::pin(async move {
            if holds {
                gate.entered.fetch_add(1, Ordering::SeqCst);
                let mut open = gate.open.subscribe();
                let _ = open.wait_for(|o| *o).await;
            }
            inner.call(request).await
        })
    }
}
