//! One `TaskForceService/WatchFlags` stream: the province's open flags first when asked — all of
//! them, or those raised after a flag the client already has (`after`) — read by pages, then every flag raised from the in-process bus (`Store::flag_bus`, fed at commit and by
//! the cursor read of `crate::flag_feed`). A stream that falls more than the bus holds behind
//! reads what it missed from the flag table by id and carries on. An idle stream costs no
//! database work.
//!
//! Each flag is delivered once per stream: the stream remembers the ids it delivered recently.
//! It ends when the client goes away, when its token expires (UNAUTHENTICATED, added by the
//! caller) or when the process shuts down (UNAVAILABLE, [`crate::flag_feed::FlagFeed::end_streams`]).

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;

use p06_proto::aggregation as pb;
use tokio::sync::{broadcast, mpsc};
use tokio_stream::wrappers::ReceiverStream;
use tonic::Status;

use super::flag_to_proto;
use crate::app::AppState;
use crate::error::Error;
use crate::flag_feed::{StreamSlot, shutting_down};
use crate::store::compliance::FlagRow;

/// Rows per read of open flags or of missed ones.
const PAGE: u64 = 500;

/// Ids a stream remembers having delivered.
const REMEMBERED: usize = 4_096;

/// How far below the highest delivered id a catch-up read starts: on PostgreSQL a flag can commit
/// after one with a higher id.
const CATCH_UP_MARGIN: i64 = 1_000;

/// What one stream sends.
pub(crate) struct WatchRequest {
    pub province_id: i64,
    pub kind: Option<String>,
    pub include_open: bool,
    /// Resume after this flag id: its open successors are sent first.
    pub after: Option<i64>,
}

/// Starts a stream; it holds `slot` (its place under the caps) until it ends.
pub(crate) fn watch(
    state: Arc<AppState>,
    request: WatchRequest,
    slot: StreamSlot,
) -> ReceiverStream<Result<pb::Flag, Status>> {
    let (tx, rx) = mpsc::channel(16);
    state.flag_feed.ensure_cursor(state.clone());
    // Subscribed before anything is read, so no flag committed from here on is missed.
    let bus = state.store.flag_bus().subscribe();
    tokio::spawn(async move {
        let _slot = slot;
        let mut stream = Watcher {
            state,
            request,
            tx,
            delivered: Delivered::default(),
        };
        stream.run(bus).await;
    });
    ReceiverStream::new(rx)
}

struct Watcher {
    state: Arc<AppState>,
    request: WatchRequest,
    tx: mpsc::Sender<Result<pb::Flag, Status>>,
    delivered: Delivered,
}

/// Why a stream stops.
enum End {
    ClientGone,
    Failed(Error),
}

impl Watcher {
    async fn run(&mut self, mut bus: broadcast::Receiver<Arc<FlagRow>>) {
        let mut closing = self.state.flag_feed.closing();
        let first = match (self.request.include_open, self.request.after) {
            (true, _) => Some(0),
            (false, after) => after,
        };
        if let Some(after) = first
            && let Err(end) = self.catch_up(Some("OPEN"), after).await
        {
            return self.finish(end).await;
        }
        loop {
            tokio::select! {
                _ = self.tx.closed() => return,
                _ = shutting_down(&mut closing) => {
                    let _ = self
                        .tx
                        .send(Err(Status::unavailable(
                            "the aggregator is shutting down; reconnect to watch flags",
                        )))
                        .await;
                    return;
                }
                received = bus.recv() => match received {
                    Ok(flag) => {
                        if let Err(end) = self.offer(&flag).await {
                            return self.finish(end).await;
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        tracing::info!(missed, "flag watcher fell behind the bus; reading the flag table");
                        let from = self.delivered.highest.saturating_sub(CATCH_UP_MARGIN).max(0);
                        if let Err(end) = self.catch_up(None, from).await {
                            return self.finish(end).await;
                        }
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                },
            }
        }
    }

    async fn finish(&mut self, end: End) {
        if let End::Failed(e) = end {
            tracing::warn!(error = %e, "flag watch read failed; ending the stream");
            let _ = self.tx.send(Err(e.into())).await;
        }
    }

    /// Reads the province's flags (in `state` when given) with an id above `after`, by pages, and
    /// delivers the ones not delivered yet.
    async fn catch_up(&mut self, state: Option<&str>, mut after: i64) -> Result<(), End> {
        loop {
            let rows = self
                .state
                .store
                .flags_after_in(
                    self.request.province_id,
                    self.request.kind.as_deref(),
                    state,
                    after,
                    PAGE,
                )
                .await
                .map_err(End::Failed)?;
            let full = rows.len() as u64 == PAGE;
            for row in &rows {
                after = row.id;
                self.offer(row).await?;
            }
            if !full {
                return Ok(());
            }
        }
    }

    /// Delivers `flag` when it is of this stream's province and kind and was not delivered yet.
    async fn offer(&mut self, flag: &FlagRow) -> Result<(), End> {
        if flag.province_id != self.request.province_id
            || self.request.kind.as_ref().is_some_and(|k| *k != flag.kind)
            || !self.delivered.insert(flag.id)
        {
            return Ok(());
        }
        let message = flag_to_proto(flag, &self.state.catalog);
        self.tx.send(Ok(message)).await.map_err(|_| End::ClientGone)
    }
}

/// The ids a stream delivered recently, and the highest one; ids at or below the highest one
/// forgotten count as delivered.
#[derive(Default)]
struct Delivered {
    ids: HashSet<i64>,
    order: VecDeque<i64>,
    highest: i64,
    forgotten_up_to: i64,
}

impl Delivered {
    /// Records `id`; false when it was delivered already.
    fn insert(&mut self, id: i64) -> bool {
        if id <= self.forgotten_up_to || !self.ids.insert(id) {
            return false;
        }
        self.highest = self.highest.max(id);
        self.order.push_back(id);
        if self.order.len() > REMEMBERED
            && let Some(oldest) = self.order.pop_front()
        {
            self.ids.remove(&oldest);
            self.forgotten_up_to = self.forgotten_up_to.max(oldest);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::Delivered;

    #[test]
    fn each_id_is_delivered_once_even_after_it_is_forgotten() {
        let mut d = Delivered::default();
        assert!(d.insert(5));
        assert!(!d.insert(5));
        assert!(d.insert(3), "a lower id arriving later is new");
        for id in 10..(10 + super::REMEMBERED as i64 + 1) {
            assert!(d.insert(id));
        }
        assert!(!d.insert(5), "forgotten but below the forgotten mark");
        assert!(!d.insert(10));
        assert_eq!(d.highest, 10 + super::REMEMBERED as i64);
    }
}
