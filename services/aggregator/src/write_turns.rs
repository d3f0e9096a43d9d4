//! Fair turns at a province's writer.
//!
//! A province's reports are written one at a time (the province lock, and on SQLite the single
//! writer connection). Waiting in arrival order, an agency that keeps many reports in flight —
//! within its limits (`p06_kit::limits`: four at a time by default) — puts each of another
//! agency's reports behind all of its own. Here the waiters of a province queue per agency and
//! the turns go round the agencies: a report waits for at most one report of each other agency
//! that is waiting, whatever their number in flight.
//!
//! This process's turns only: other replicas meet at the database's province lock.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Mutex;

use tokio::sync::oneshot;

/// The turns of every province this process writes.
#[derive(Default)]
pub struct WriteTurns {
    provinces: Mutex<HashMap<i64, Turns>>,
}

/// One province's writer: whether a turn is taken, the waiters per agency, and the agency served
/// last (the round starts after it).
#[derive(Default)]
struct Turns {
    busy: bool,
    waiting: BTreeMap<String, VecDeque<oneshot::Sender<()>>>,
    last: String,
}

impl Turns {
    /// The next agency with a waiter: the first after the last served, wrapping round.
    fn next_agency(&self) -> Option<String> {
        let after = self
            .waiting
            .range::<String, _>((
                std::ops::Bound::Excluded(&self.last),
                std::ops::Bound::Unbounded,
            ))
            .map(|(agency, _)| agency);
        after.chain(self.waiting.keys()).next().cloned()
    }
}

/// The writer of a province, held until dropped.
#[must_use = "the turn ends when dropped"]
pub struct Turn<'a> {
    turns: &'a WriteTurns,
    province: i64,
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        self.turns.pass(self.province);
    }
}

/// A waiter: if its call is cancelled after it was given the turn, the turn passes on.
struct Waiting<'a> {
    turns: &'a WriteTurns,
    province: i64,
    given: Option<oneshot::Receiver<()>>,
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        if let Some(mut given) = self.given.take() {
            given.close();
            if given.try_recv().is_ok() {
                self.turns.pass(self.province);
            }
        }
    }
}

impl WriteTurns {
    /// Waits for `agency`'s turn at `province`'s writer.
    pub async fn take(&self, province: i64, agency: &str) -> Turn<'_> {
        let given = {
            let mut provinces = self.provinces.lock().unwrap_or_else(|e| e.into_inner());
            let turns = provinces.entry(province).or_default();
            if !turns.busy {
                turns.busy = true;
                agency.clone_into(&mut turns.last);
                return Turn {
                    turns: self,
                    province,
                };
            }
            let (tx, rx) = oneshot::channel();
            turns
                .waiting
                .entry(agency.to_owned())
                .or_default()
                .push_back(tx);
            rx
        };
        let mut waiting = Waiting {
            turns: self,
            province,
            given: Some(given),
        };
        if let Some(given) = waiting.given.as_mut() {
            // A sender is only dropped unsent when its receiver is closed, never while this
            // waits: either way the turn is this call's now.
            let _ = given.await;
        }
        waiting.given = None;
        Turn {
            turns: self,
            province,
        }
    }

    /// Gives the province's writer to the next waiter, round the agencies, or frees it.
    fn pass(&self, province: i64) {
        let mut provinces = self.provinces.lock().unwrap_or_else(|e| e.into_inner());
        let Some(turns) = provinces.get_mut(&province) else {
            return;
        };
        while let Some(agency) = turns.next_agency() {
            let queue = turns.waiting.get_mut(&agency).expect("a listed agency");
            let sender = queue.pop_front();
            if queue.is_empty() {
                turns.waiting.remove(&agency);
            }
            // A closed receiver (its call was cancelled) refuses the turn: try the next waiter.
            if let Some(sender) = sender
                && sender.send(()).is_ok()
            {
                turns.last = agency;
                return;
            }
        }
        provinces.remove(&province);
    }

    /// Waiters at `province`'s writer, for tests and diagnostics.
    pub fn waiting(&self, province: i64) -> usize {
        let provinces = self.provinces.lock().unwrap_or_else(|e| e.into_inner());
        provinces
            .get(&province)
            .map_or(0, |t| t.waiting.values().map(VecDeque::len).sum())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use tokio::sync::mpsc;

    use super::WriteTurns;

    /// Starts a writer of `agency` that records its name when it gets the turn and holds it
    /// until released; returns once the writer has asked for its turn.
    async fn writer(
        turns: &Arc<WriteTurns>,
        agency: &'static str,
        order: &mpsc::UnboundedSender<&'static str>,
    ) -> (
        tokio::task::JoinHandle<()>,
        tokio::sync::oneshot::Sender<()>,
    ) {
        let (release, released) = tokio::sync::oneshot::channel::<()>();
        let (turns, order) = (turns.clone(), order.clone());
        let task = tokio::spawn(async move {
            let _turn = turns.take(1, agency).await;
            order.send(agency).unwrap();
            let _ = released.await;
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        (task, release)
    }

    #[tokio::test]
    async fn turns_go_round_the_agencies_not_in_arrival_order() {
        let turns = Arc::new(WriteTurns::default());
        let (order, mut seen) = mpsc::unbounded_channel();
        // Police holds the writer and queues three more; health queues one after them.
        let (first, release_first) = writer(&turns, "police", &order).await;
        let mut police = Vec::new();
        for _ in 0..3 {
            police.push(writer(&turns, "police", &order).await);
        }
        let (health, release_health) = writer(&turns, "health", &order).await;
        assert_eq!(turns.waiting(1), 4);
        assert_eq!(seen.recv().await, Some("police"));
        release_first.send(()).unwrap();
        first.await.unwrap();
        // Health's one report goes next, before the police reports that came earlier.
        assert_eq!(seen.recv().await, Some("health"));
        release_health.send(()).unwrap();
        health.await.unwrap();
        for (task, release) in police {
            assert_eq!(seen.recv().await, Some("police"));
            release.send(()).unwrap();
            task.await.unwrap();
        }
        assert_eq!(turns.waiting(1), 0);
        // Free again: the next writer goes straight in.
        let _turn = turns.take(1, "justice").await;
    }

    #[tokio::test]
    async fn a_cancelled_waiter_passes_the_turn_on() {
        let turns = Arc::new(WriteTurns::default());
        let held = turns.take(1, "police").await;
        // A waiter whose call is cancelled while it waits.
        let cancelled = {
            let turns = turns.clone();
            tokio::spawn(async move {
                let _turn = turns.take(1, "health").await;
                unreachable!("cancelled before its turn");
            })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        let next = {
            let turns = turns.clone();
            tokio::spawn(async move {
                let _turn = turns.take(1, "justice").await;
            })
        };
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(turns.waiting(1), 2);
        cancelled.abort();
        let _ = cancelled.await;
        drop(held);
        tokio::time::timeout(Duration::from_secs(5), next)
            .await
            .expect("the turn reaches the next waiter")
            .unwrap();
        // And the writer is free afterwards.
        let _turn = tokio::time::timeout(Duration::from_secs(5), turns.take(1, "police"))
            .await
            .expect("free");
    }
}
