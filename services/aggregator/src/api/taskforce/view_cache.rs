//! Bounded maps of what the task-force views derive from a province's figures (due dates, paces,
//! ranked progress rows, the compliance board's rows), keyed by everything they depend on — the
//! read version of the scope's province first, which every write advances, so an entry is never
//! stale: a newer version simply asks for another key, and the old entries age out.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex, PoisonError};

/// At most `most` entries; a full map is emptied before the next is kept (the views a task force
/// has open are few, and every entry of an older read version is dead anyway).
pub(super) struct ViewMap<K, V> {
    map: Mutex<HashMap<K, Arc<V>>>,
    most: usize,
}

impl<K: Hash + Eq, V> ViewMap<K, V> {
    pub(super) fn new(most: usize) -> Self {
        Self {
            map: Mutex::new(HashMap::new()),
            most: most.max(1),
        }
    }

    pub(super) fn get(&self, key: &K) -> Option<Arc<V>> {
        self.lock().get(key).cloned()
    }

    pub(super) fn keep(&self, key: K, value: Arc<V>) {
        let mut map = self.lock();
        if map.len() >= self.most && !map.contains_key(&key) {
            map.clear();
        }
        map.insert(key, value);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, Arc<V>>> {
        self.map.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_at_most_its_bound_and_replaces_a_key_in_place() {
        let map: ViewMap<u32, &str> = ViewMap::new(2);
        map.keep(1, Arc::new("a"));
        map.keep(2, Arc::new("b"));
        // Replacing a kept key does not empty the map.
        map.keep(2, Arc::new("b2"));
        assert_eq!(map.get(&1).as_deref(), Some(&"a"));
        assert_eq!(map.get(&2).as_deref(), Some(&"b2"));
        // A third key empties it first.
        map.keep(3, Arc::new("c"));
        assert_eq!(map.get(&1), None);
        assert_eq!(map.get(&2), None);
        assert_eq!(map.get(&3).as_deref(), Some(&"c"));
    }
}
