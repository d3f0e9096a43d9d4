//! Closing idle connections: a connection with no call in progress for the idle timeout is closed
//! (its read side ends, so the server drops it). Calls are counted by the limits layer through the
//! [`Peer`] tonic puts in each request's extensions; HTTP/2 pings do not count as activity.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::{Instant, Sleep};
use tonic::transport::server::{Connected, TcpConnectInfo};

/// Calls in progress on one connection, and since when it has had none.
#[derive(Debug)]
pub struct Activity {
    origin: Instant,
    active: AtomicUsize,
    /// Milliseconds since `origin` when the last call ended (or the connection opened).
    idle_since_ms: AtomicU64,
}

impl Activity {
    fn new() -> Self {
        Self {
            origin: Instant::now(),
            active: AtomicUsize::new(0),
            idle_since_ms: AtomicU64::new(0),
        }
    }

    /// Counts a call until the returned guard is dropped.
    pub fn begin(self: &Arc<Self>) -> CallGuard {
        self.active.fetch_add(1, Ordering::SeqCst);
        CallGuard(self.clone())
    }

    fn idle_since(&self) -> Option<Instant> {
        (self.active.load(Ordering::SeqCst) == 0)
            .then(|| self.origin + Duration::from_millis(self.idle_since_ms.load(Ordering::SeqCst)))
    }
}

/// A call in progress (see [`Activity::begin`]).
#[derive(Debug)]
pub struct CallGuard(Arc<Activity>);

impl Drop for CallGuard {
    fn drop(&mut self) {
        let ms = self.0.origin.elapsed().as_millis() as u64;
        self.0.idle_since_ms.store(ms, Ordering::SeqCst);
        self.0.active.fetch_sub(1, Ordering::SeqCst);
    }
}

/// What tonic puts in each request's extensions for connections served by [`IdleClosing`].
#[derive(Debug, Clone)]
pub struct Peer {
    pub tcp: TcpConnectInfo,
    pub activity: Arc<Activity>,
}

/// A TCP connection that reads as closed once idle for `timeout` (`None`: never).
pub struct IdleClosing {
    io: TcpStream,
    activity: Arc<Activity>,
    timeout: Option<Duration>,
    timer: Pin<Box<Sleep>>,
}

impl IdleClosing {
    pub fn new(io: TcpStream, timeout: Option<Duration>) -> Self {
        let activity = Arc::new(Activity::new());
        let first = activity.origin + timeout.unwrap_or(Duration::ZERO);
        Self {
            io,
            activity,
            timeout,
            timer: Box::pin(tokio::time::sleep_until(first)),
        }
    }

    /// Whether the connection has been idle long enough; arms the timer for the next check.
    fn expired(&mut self, cx: &mut Context<'_>) -> bool {
        let Some(timeout) = self.timeout else {
            return false;
        };
        loop {
            let deadline = match self.activity.idle_since() {
                Some(since) => since + timeout,
                // Busy: look again a quarter of the timeout later.
                None => Instant::now() + timeout / 4,
            };
            if self.activity.idle_since().is_some() && Instant::now() >= deadline {
                return true;
            }
            if self.timer.deadline() != deadline {
                self.timer.as_mut().reset(deadline);
            }
            if self.timer.as_mut().poll(cx).is_pending() {
                return false;
            }
        }
    }
}

impl Connected for IdleClosing {
    type ConnectInfo = Peer;

    fn connect_info(&self) -> Peer {
        Peer {
            tcp: self.io.connect_info(),
            activity: self.activity.clone(),
        }
    }
}

impl AsyncRead for IdleClosing {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.expired(cx) {
            // End of stream: the server closes the connection.
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl AsyncWrite for IdleClosing {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}
