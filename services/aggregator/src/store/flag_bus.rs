//! The in-process feed of raised flags: every flag a commit of this process raised, published
//! after the commit, and every flag the cursor read found that another process raised. Each flag
//! is published once per process, whichever path saw it first.

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};

use tokio::sync::broadcast;

use super::compliance::FlagRow;

/// Flags a slow watcher may fall behind by before it reads the database instead.
pub const BUS_CAPACITY: usize = 1_024;

/// How many recent flag ids the bus remembers to publish each once.
const REMEMBERED: usize = 8_192;

pub struct FlagBus {
    tx: broadcast::Sender<Arc<FlagRow>>,
    recent: Mutex<Recent>,
}

#[derive(Default)]
struct Recent {
    ids: HashSet<i64>,
    order: VecDeque<i64>,
}

impl Recent {
    /// Remembers `id`; false when it was remembered already.
    fn insert(&mut self, id: i64) -> bool {
        if !self.ids.insert(id) {
            return false;
        }
        self.order.push_back(id);
        if self.order.len() > REMEMBERED
            && let Some(oldest) = self.order.pop_front()
        {
            self.ids.remove(&oldest);
        }
        true
    }
}

impl Default for FlagBus {
    fn default() -> Self {
        Self::new()
    }
}

impl FlagBus {
    pub fn new() -> Self {
        FlagBus {
            tx: broadcast::channel(BUS_CAPACITY).0,
            recent: Mutex::default(),
        }
    }

    /// A receiver of the flags published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<FlagRow>> {
        self.tx.subscribe()
    }

    /// Publishes the flags not published before; returns how many were new.
    pub fn publish(&self, flags: impl IntoIterator<Item = FlagRow>) -> usize {
        let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        let mut published = 0;
        for flag in flags {
            if recent.insert(flag.id) {
                // No receiver is not an error: nobody is watching.
                let _ = self.tx.send(Arc::new(flag));
                published += 1;
            }
        }
        published
    }

    /// Whether the flag with this id was published (among the recent ones).
    pub fn was_published(&self, id: i64) -> bool {
        self.recent
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .ids
            .contains(&id)
    }

    /// Watchers subscribed now.
    pub fn receivers(&self) -> usize {
        self.tx.receiver_count()
    }
}
