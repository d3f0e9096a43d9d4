//! Tokens already verified, remembered until they expire, so that a session's many calls pay the
//! signature check once (an Ed25519 verification is ≈ 10 % of a cached task-force query's CPU).
//!
//! What makes a remembered answer as good as a fresh check:
//! - an entry is keyed by the SHA-256 of the exact token, so only the byte-identical token finds
//!   it (a different signature, header or claim is a different key);
//! - only tokens that passed every check are remembered, with the [`Principal`] they gave;
//! - an entry is used only while the token is still accepted (`exp` plus the leeway, the same
//!   bound [`Authenticator`](crate::Authenticator) applies); after that the full check runs again
//!   and refuses it as expired, with the usual log line;
//! - everything is forgotten when the key set changes (rotation, reload), so a token signed by a
//!   withdrawn key is refused at its next call;
//! - the map holds at most `capacity` entries: when full, expired entries go, and if none had
//!   expired, all go (the next calls verify again; a flood of distinct valid tokens costs what it
//!   cost without this cache).
//!
//! The issuer, audience and algorithms do not change while the authenticator lives, so they need
//! no check here; `nbf` that passed once stays passed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use sha2::{Digest as _, Sha256};

use crate::claims::Principal;
use crate::keys::KeySet;

/// Entries kept at most (a province's task force and clerks hold a few hundred tokens at a time).
pub const DEFAULT_CAPACITY: usize = 4_096;

type Digest = [u8; 32];

pub(crate) struct Verified {
    capacity: usize,
    inner: Mutex<Inner>,
}

struct Inner {
    /// The key set the entries were verified with; held, so its address cannot be reused by a
    /// later set while entries refer to it.
    keys: Option<Arc<KeySet>>,
    entries: HashMap<Digest, Principal>,
}

impl Inner {
    /// Makes the entries those of `keys`, forgetting every entry of another set; whether they
    /// were already.
    fn entries_of(&mut self, keys: &Arc<KeySet>) -> bool {
        if self.keys.as_ref().is_some_and(|k| Arc::ptr_eq(k, keys)) {
            return true;
        }
        self.entries.clear();
        self.keys = Some(keys.clone());
        false
    }
}

impl Verified {
    pub(crate) fn new(capacity: usize) -> Verified {
        Verified {
            capacity: capacity.max(1),
            inner: Mutex::new(Inner {
                keys: None,
                entries: HashMap::new(),
            }),
        }
    }

    pub(crate) fn digest(token: &str) -> Digest {
        Sha256::digest(token.as_bytes()).into()
    }

    /// The principal of a token verified earlier with `keys`, when it is still accepted at `now`
    /// (Unix seconds).
    pub(crate) fn get(&self, digest: &Digest, keys: &Arc<KeySet>, now: i64) -> Option<Principal> {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if !inner.entries_of(keys) {
            return None;
        }
        match inner.entries.get(digest) {
            Some(principal) if now <= principal.valid_until => Some(principal.clone()),
            Some(_) => {
                inner.entries.remove(digest);
                None
            }
            None => None,
        }
    }

    /// Remembers a token that passed every check with `keys`.
    pub(crate) fn put(&self, digest: Digest, keys: &Arc<KeySet>, principal: &Principal, now: i64) {
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        inner.entries_of(keys);
        if inner.entries.len() >= self.capacity && !inner.entries.contains_key(&digest) {
            inner.entries.retain(|_, p| now <= p.valid_until);
            if inner.entries.len() >= self.capacity {
                inner.entries.clear();
            }
        }
        inner.entries.insert(digest, principal.clone());
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entries
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claims::Agency;

    fn principal(subject: &str, valid_until: i64) -> Principal {
        Principal {
            subject: subject.into(),
            agency: Agency::Taskforce,
            province: "52".into(),
            edition: "2025".into(),
            roles: Vec::new(),
            token_id: None,
            valid_until,
        }
    }

    fn keys() -> Arc<KeySet> {
        Arc::new(KeySet::default())
    }

    #[test]
    fn a_token_is_found_until_it_expires_and_only_by_its_exact_bytes() {
        let cache = Verified::new(8);
        let set = keys();
        let token = Verified::digest("a.b.c");
        assert!(cache.get(&token, &set, 100).is_none());
        cache.put(token, &set, &principal("alice", 200), 100);
        assert_eq!(cache.get(&token, &set, 200).unwrap().subject, "alice");
        assert!(cache.get(&Verified::digest("a.b.d"), &set, 150).is_none());
        // One second past the bound: gone, and the entry with it.
        assert!(cache.get(&token, &set, 201).is_none());
        assert_eq!(cache.len(), 0);
    }

    #[test]
    fn a_new_key_set_forgets_every_token() {
        let cache = Verified::new(8);
        let (old, new) = (keys(), keys());
        let token = Verified::digest("a.b.c");
        cache.put(token, &old, &principal("alice", 200), 100);
        assert!(cache.get(&token, &new, 100).is_none());
        assert_eq!(cache.len(), 0);
        // Nor does the old set come back with its entries.
        assert!(cache.get(&token, &old, 100).is_none());
    }

    #[test]
    fn the_map_stays_within_its_capacity() {
        let cache = Verified::new(2);
        let set = keys();
        cache.put(Verified::digest("1"), &set, &principal("a", 50), 10);
        cache.put(Verified::digest("2"), &set, &principal("b", 500), 10);
        // Full: the expired entry ("1" at 100) makes room.
        cache.put(Verified::digest("3"), &set, &principal("c", 500), 100);
        assert_eq!(cache.len(), 2);
        assert!(cache.get(&Verified::digest("2"), &set, 100).is_some());
        // Full of live entries: all go, the new one stays.
        cache.put(Verified::digest("4"), &set, &principal("d", 500), 100);
        assert_eq!(cache.len(), 1);
        assert!(cache.get(&Verified::digest("4"), &set, 100).is_some());
    }
}
