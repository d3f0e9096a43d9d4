//! The tower layer that authenticates every call before its body is read, applies the RPC table and
//! hands the [`Principal`](crate::Principal) to the handler as a request extension.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tonic::Status;
use tonic::metadata::MetadataMap;

use crate::table::{Access, access_for, authorize};
use crate::validate::Authenticator;

#[derive(Clone)]
pub struct AuthLayer {
    authenticator: Arc<Authenticator>,
}

impl AuthLayer {
    pub fn new(authenticator: Arc<Authenticator>) -> Self {
        Self { authenticator }
    }
}

impl<S> tower::Layer<S> for AuthLayer {
    type Service = AuthService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AuthService {
            inner,
            authenticator: self.authenticator.clone(),
        }
    }
}

#[derive(Clone)]
pub struct AuthService<S> {
    inner: S,
    authenticator: Arc<Authenticator>,
}

impl<S> AuthService<S> {
    fn check<B>(&self, request: &mut http::Request<B>) -> Result<(), Status> {
        let access = access_for(request.uri().path())
            .ok_or_else(|| Status::permission_denied("the token does not permit this call"))?;
        if access == Access::Public {
            return Ok(());
        }
        let metadata = MetadataMap::from_headers(request.headers().clone());
        let principal = self.authenticator.authenticate(&metadata)?;
        authorize(&principal, access).inspect_err(|e| {
            tracing::info!(
                reason = %e,
                method = request.uri().path(),
                token_id = principal.token_id.as_deref().unwrap_or("-"),
                "call refused"
            );
        })?;
        request.extensions_mut().insert(principal);
        Ok(())
    }
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

impl<S, ReqBody, ResBody> tower::Service<http::Request<ReqBody>> for AuthService<S>
where
    S: tower::Service<http::Request<ReqBody>, Response = http::Response<ResBody>>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    ResBody: Default + Send + 'static,
    ReqBody: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<ReqBody>) -> Self::Future {
        match self.check(&mut request) {
            Ok(()) => {
                // The clone that was polled ready serves this call; a fresh clone waits for the next.
                let clone = self.inner.clone();
                let mut ready = std::mem::replace(&mut self.inner, clone);
                Box::pin(ready.call(request))
            }
            Err(status) => Box::pin(async move { Ok(status.into_http()) }),
        }
    }
}
