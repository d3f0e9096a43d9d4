//! Streams end when the token that opened them expires.
//!
//! A unary call is checked once, when it arrives; a server stream lives on. [`until_expiry`] wraps
//! a response stream so that it ends with `UNAUTHENTICATED` ("token expired") at the same instant a
//! new call with the token would be refused: once the Unix second [`Principal::valid_until`]
//! (`exp` plus the leeway) has passed.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio_stream::Stream;
use tonic::Status;

use crate::claims::Principal;
use crate::error::AuthError;

/// A response stream that ends with `UNAUTHENTICATED` when its caller's token expires.
pub struct UntilExpiry<S> {
    inner: S,
    expiry: Pin<Box<tokio::time::Sleep>>,
    done: bool,
}

/// Wraps `stream` so that it ends when `principal`'s token expires (see the module docs). Must be
/// called inside a tokio runtime.
pub fn until_expiry<S>(stream: S, principal: &Principal) -> UntilExpiry<S> {
    UntilExpiry {
        inner: stream,
        expiry: Box::pin(tokio::time::sleep(time_left(principal.valid_until))),
        done: false,
    }
}

/// How long until the Unix second `valid_until` has passed (the token is refused from
/// `valid_until + 1` on, as jsonwebtoken compares whole seconds).
fn time_left(valid_until: i64) -> Duration {
    let end = u64::try_from(valid_until.saturating_add(1)).unwrap_or(0);
    // Beyond what SystemTime can hold: never (tokio caps the sleep at its far future).
    UNIX_EPOCH
        .checked_add(Duration::from_secs(end))
        .map_or(Duration::MAX, |end| {
            end.duration_since(SystemTime::now())
                .unwrap_or(Duration::ZERO)
        })
}

impl<S, T> Stream for UntilExpiry<S>
where
    S: Stream<Item = Result<T, Status>> + Unpin,
{
    type Item = Result<T, Status>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if self.done {
            return Poll::Ready(None);
        }
        if self.expiry.as_mut().poll(cx).is_ready() {
            self.done = true;
            tracing::info!("stream ended: the caller's token expired");
            return Poll::Ready(Some(Err(AuthError::Expired.into())));
        }
        Pin::new(&mut self.inner).poll_next(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio_stream::StreamExt as _;

    fn principal(valid_until: i64) -> Principal {
        Principal {
            subject: "s".into(),
            agency: crate::Agency::Taskforce,
            province: "64".into(),
            edition: "2024".into(),
            roles: vec![crate::Role::TaskforceViewer],
            token_id: None,
            valid_until,
        }
    }

    #[tokio::test]
    async fn an_endless_stream_ends_unauthenticated_when_the_token_expires() {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let endless = tokio_stream::pending::<Result<u32, Status>>();
        let started = std::time::Instant::now();
        let mut stream = until_expiry(endless, &principal(now));
        let status = stream.next().await.unwrap().unwrap_err();
        assert_eq!(status.code(), tonic::Code::Unauthenticated);
        assert!(status.message().contains("expired"), "{status:?}");
        assert!(started.elapsed() <= Duration::from_millis(1_100));
        assert!(stream.next().await.is_none(), "nothing after the refusal");
    }

    #[tokio::test]
    async fn items_flow_while_the_token_is_valid() {
        let items = tokio_stream::iter([Ok::<_, Status>(1), Ok(2)]);
        let mut stream = until_expiry(items, &principal(i64::MAX));
        assert_eq!(stream.next().await.unwrap().unwrap(), 1);
        assert_eq!(stream.next().await.unwrap().unwrap(), 2);
        assert!(stream.next().await.is_none());
    }
}
