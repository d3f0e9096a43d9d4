//! What the `WatchFlags` streams of this process share: the caps on how many are open (per token
//! subject and in all), the one cursor read that brings flags raised by other processes onto the
//! in-process bus, and the signal that ends every stream at shutdown.
//!
//! Flags this process raises reach the bus when their transaction commits (`Store::flag_bus`);
//! the cursor reads `flag` by primary key above the highest id it has seen, once per
//! `--flag-cursor-ms`, and publishes what it finds that the bus has not carried. On PostgreSQL ids
//! are taken before commit, so a flag can become visible after a higher id did: the cursor
//! remembers the ids it skipped and looks at them again for [`GAP_PATIENCE`].

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sea_orm::DbBackend;
use tokio::sync::watch;

use crate::config::FlagsConfig;
use crate::store::Store;

/// How long the cursor keeps looking for a flag id that was skipped (taken but not yet committed,
/// or never committed: a rolled-back transaction or an insert that met an existing dedupe key).
pub const GAP_PATIENCE: Duration = Duration::from_secs(30);

/// Most skipped ids the cursor remembers.
const MAX_GAPS: usize = 1_000;

/// Rows per cursor read.
const CURSOR_PAGE: u64 = 500;

pub struct FlagFeed {
    pub config: FlagsConfig,
    open: Mutex<OpenStreams>,
    closing: watch::Sender<bool>,
    cursor_started: AtomicBool,
}

#[derive(Default)]
struct OpenStreams {
    total: usize,
    by_subject: HashMap<String, usize>,
}

/// Which cap refused a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamCap {
    PerSubject { subject: String, cap: usize },
    PerProcess { cap: usize },
}

impl std::fmt::Display for StreamCap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StreamCap::PerSubject { subject, cap } => write!(
                f,
                "subject {subject:?} already has {cap} WatchFlags streams open, the cap per token subject \
                 (--watch-streams-per-subject / P06_WATCH_STREAMS_PER_SUBJECT); close one first"
            ),
            StreamCap::PerProcess { cap } => write!(
                f,
                "this aggregator already has {cap} WatchFlags streams open, its cap \
                 (--watch-streams-max / P06_WATCH_STREAMS_MAX); retry later or on another replica"
            ),
        }
    }
}

/// A place among the open streams, given back when dropped.
pub struct StreamSlot {
    feed: Arc<FlagFeed>,
    subject: String,
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = self.feed.lock_open();
        open.total = open.total.saturating_sub(1);
        if let Some(n) = open.by_subject.get_mut(&self.subject) {
            *n -= 1;
            if *n == 0 {
                open.by_subject.remove(&self.subject);
            }
        }
    }
}

impl FlagFeed {
    pub fn new(config: FlagsConfig) -> Arc<Self> {
        Arc::new(FlagFeed {
            config,
            open: Mutex::default(),
            closing: watch::channel(false).0,
            cursor_started: AtomicBool::new(false),
        })
    }

    fn lock_open(&self) -> std::sync::MutexGuard<'_, OpenStreams> {
        self.open.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes a place for one more stream of `subject`, or names the cap that refuses it.
    pub fn open_stream(self: &Arc<Self>, subject: &str) -> Result<StreamSlot, StreamCap> {
        let mut open = self.lock_open();
        if open.total >= self.config.watch_streams_max {
            return Err(StreamCap::PerProcess {
                cap: self.config.watch_streams_max,
            });
        }
        let mine = open.by_subject.get(subject).copied().unwrap_or(0);
        if mine >= self.config.watch_streams_per_subject {
            return Err(StreamCap::PerSubject {
                subject: subject.to_owned(),
                cap: self.config.watch_streams_per_subject,
            });
        }
        open.total += 1;
        *open.by_subject.entry(subject.to_owned()).or_default() += 1;
        Ok(StreamSlot {
            feed: self.clone(),
            subject: subject.to_owned(),
        })
    }

    /// Streams open now.
    pub fn open_streams(&self) -> usize {
        self.lock_open().total
    }

    /// The shutdown hook: every open `WatchFlags` stream ends (UNAVAILABLE, so that clients
    /// reconnect to another replica) and new ones are refused the same way. Idempotent.
    pub fn end_streams(&self) {
        self.closing.send_replace(true);
    }

    /// Whether [`Self::end_streams`] was called.
    pub fn is_closing(&self) -> bool {
        *self.closing.borrow()
    }

    /// A receiver that sees `true` once [`Self::end_streams`] is called.
    pub fn closing(&self) -> watch::Receiver<bool> {
        self.closing.subscribe()
    }

    /// Starts the cursor read once per process, when the first stream opens.
    pub fn ensure_cursor(self: &Arc<Self>, state: Arc<crate::app::AppState>) {
        if self.cursor_started.swap(true, Ordering::AcqRel) {
            return;
        }
        let feed = self.clone();
        tokio::spawn(async move { feed.run_cursor(&state.store).await });
    }

    async fn run_cursor(&self, store: &Store) {
        let every = Duration::from_millis(self.config.flag_cursor_ms.max(10));
        let mut closing = self.closing();
        let mut cursor = Cursor {
            last: loop {
                match store.max_flag_id().await {
                    Ok(id) => break id,
                    Err(e) => {
                        tracing::warn!(error = %e, "flag cursor: cannot read the newest flag id; retrying");
                        tokio::select! {
                            _ = tokio::time::sleep(every) => {}
                            _ = shutting_down(&mut closing) => return,
                        }
                    }
                }
            },
            gaps: BTreeMap::new(),
            track_gaps: store.backend() == DbBackend::Postgres,
        };
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = shutting_down(&mut closing) => return,
            }
            if let Err(e) = cursor.read(store).await {
                tracing::warn!(error = %e, "flag cursor read failed; retrying next round");
            }
        }
    }
}

/// Where the cursor stands: the highest flag id read, and the ids below it not yet seen.
struct Cursor {
    last: i64,
    gaps: BTreeMap<i64, Instant>,
    track_gaps: bool,
}

impl Cursor {
    async fn read(&mut self, store: &Store) -> Result<(), crate::error::Error> {
        let bus = store.flag_bus();
        loop {
            let rows = store.flags_after(self.last, CURSOR_PAGE).await?;
            let full = rows.len() as u64 == CURSOR_PAGE;
            let now = Instant::now();
            for row in &rows {
                if self.track_gaps {
                    // Ids skipped since the previous row (a bounded run of them).
                    let from = (self.last + 1).max(row.id - MAX_GAPS as i64);
                    for id in from..row.id {
                        if !bus.was_published(id) {
                            self.gaps.insert(id, now);
                        }
                    }
                }
                self.last = self.last.max(row.id);
            }
            bus.publish(rows);
            if !full {
                break;
            }
        }
        if self.gaps.is_empty() {
            return Ok(());
        }
        let now = Instant::now();
        self.gaps.retain(|id, since| {
            now.duration_since(*since) < GAP_PATIENCE && !bus.was_published(*id)
        });
        while self.gaps.len() > MAX_GAPS {
            self.gaps.pop_first();
        }
        let ids: Vec<i64> = self.gaps.keys().copied().collect();
        let found = store.flags_with_ids(&ids).await?;
        for row in &found {
            self.gaps.remove(&row.id);
        }
        bus.publish(found);
        Ok(())
    }
}

/// Completes once [`FlagFeed::end_streams`] was called (or the feed is gone).
pub async fn shutting_down(closing: &mut watch::Receiver<bool>) {
    let _ = closing.wait_for(|c| *c).await;
}
