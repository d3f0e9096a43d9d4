//! What the limits read off the wire: the caller's `grpc-timeout`, and the length prefix of each
//! gRPC message in a request body (refused past the size limit before the message is read).

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use http_body::{Body, Frame, SizeHint};
use tonic::Status;
use tonic::codegen::Bytes;

/// The `grpc-timeout` header: 1 to 8 digits and a unit (H, M, S, m, u, n); `None` when absent or
/// malformed (the gRPC spec says to treat a malformed one as absent).
pub fn grpc_timeout(headers: &http::HeaderMap) -> Option<Duration> {
    let value = headers.get("grpc-timeout")?.to_str().ok()?;
    if value.len() < 2 || value.len() > 9 {
        return None;
    }
    let (digits, unit) = value.split_at(value.len() - 1);
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(n.saturating_mul(3600)),
        "M" => Duration::from_secs(n.saturating_mul(60)),
        "S" => Duration::from_secs(n),
        "m" => Duration::from_millis(n),
        "u" => Duration::from_micros(n),
        "n" => Duration::from_nanos(n),
        _ => return None,
    })
}

/// A request body that refuses a gRPC message longer than `limit` as soon as its 5-byte prefix
/// arrives, with RESOURCE_EXHAUSTED naming both sizes (tonic reads the error as the call's status).
pub struct MessageLimit<B> {
    inner: B,
    limit: usize,
    /// Prefix bytes of the next message seen so far.
    prefix: [u8; 5],
    prefix_len: usize,
    /// Bytes of the current message still to pass.
    skip: u64,
}

impl<B> MessageLimit<B> {
    pub fn new(inner: B, limit: usize) -> Self {
        Self {
            inner,
            limit,
            prefix: [0; 5],
            prefix_len: 0,
            skip: 0,
        }
    }

    fn scan(&mut self, mut data: &[u8]) -> Result<(), Status> {
        while !data.is_empty() {
            if self.skip > 0 {
                let n = (self.skip.min(data.len() as u64)) as usize;
                self.skip -= n as u64;
                data = &data[n..];
                continue;
            }
            self.prefix[self.prefix_len] = data[0];
            self.prefix_len += 1;
            data = &data[1..];
            if self.prefix_len == 5 {
                self.prefix_len = 0;
                let len = u32::from_be_bytes([
                    self.prefix[1],
                    self.prefix[2],
                    self.prefix[3],
                    self.prefix[4],
                ]);
                if len as usize > self.limit {
                    return Err(too_large(len as usize, self.limit));
                }
                self.skip = u64::from(len);
            }
        }
        Ok(())
    }
}

/// RESOURCE_EXHAUSTED for a message of `len` bytes over `limit`.
pub fn too_large(len: usize, limit: usize) -> Status {
    Status::resource_exhausted(format!(
        "the request message is {len} bytes; every P06 service accepts at most {limit} bytes (P06_LIMIT_MAX_MESSAGE_BYTES): split the report"
    ))
}

impl<B> Body for MessageLimit<B>
where
    B: Body<Data = Bytes, Error = Status> + Unpin,
{
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        let frame = std::task::ready!(Pin::new(&mut self.inner).poll_frame(cx));
        if let Some(Ok(frame)) = &frame
            && let Some(data) = frame.data_ref()
            && let Err(status) = self.scan(data)
        {
            return Poll::Ready(Some(Err(status)));
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(value: &str) -> http::HeaderMap {
        let mut h = http::HeaderMap::new();
        h.insert("grpc-timeout", value.parse().unwrap());
        h
    }

    #[test]
    fn grpc_timeouts_parse_in_every_unit_and_malformed_ones_are_absent() {
        assert_eq!(
            grpc_timeout(&headers("2H")),
            Some(Duration::from_secs(7200))
        );
        assert_eq!(grpc_timeout(&headers("3M")), Some(Duration::from_secs(180)));
        assert_eq!(grpc_timeout(&headers("10S")), Some(Duration::from_secs(10)));
        assert_eq!(
            grpc_timeout(&headers("250m")),
            Some(Duration::from_millis(250))
        );
        assert_eq!(
            grpc_timeout(&headers("99999999u")),
            Some(Duration::from_micros(99_999_999))
        );
        assert_eq!(grpc_timeout(&headers("5n")), Some(Duration::from_nanos(5)));
        for bad in ["", "S", "10", "123456789S", "1.5S", "-1S", "10s", "10 S"] {
            let mut h = http::HeaderMap::new();
            if let Ok(v) = bad.parse() {
                h.insert("grpc-timeout", v);
            }
            assert_eq!(grpc_timeout(&h), None, "{bad:?}");
        }
        assert_eq!(grpc_timeout(&http::HeaderMap::new()), None);
    }

    #[test]
    fn message_prefixes_are_read_across_chunks_and_an_oversize_one_is_refused() {
        let mut limit = MessageLimit::new((), 10);
        // A 3-byte message, then the prefix of an 11-byte one split over two chunks.
        assert!(limit.scan(&[0, 0, 0, 0, 3, 1, 2]).is_ok());
        assert!(limit.scan(&[3, 0, 0, 0]).is_ok());
        let status = limit.scan(&[0, 11]).unwrap_err();
        assert_eq!(status.code(), tonic::Code::ResourceExhausted);
        assert!(
            status.message().contains("11 bytes"),
            "{}",
            status.message()
        );
        let mut limit = MessageLimit::new((), 10);
        let mut ten = vec![0, 0, 0, 0, 10];
        ten.extend([7; 10]);
        ten.extend([0, 0, 0, 0, 1, 9]);
        assert!(limit.scan(&ten).is_ok());
    }
}
