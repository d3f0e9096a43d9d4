//! Sessions: a signed-in browser holds only a random session id (an HttpOnly, SameSite=Strict
//! cookie); the bearer token it signed in with stays in this process's memory, keyed by that id,
//! and is never sent back to the browser.
//!
//! Why server-side and not an encrypted cookie: signing out really ends the session (a copied
//! cookie is worthless afterwards), the token never leaves the server even encrypted, and no key
//! has to be managed. The price: sessions end when the process restarts (users sign in again),
//! and several replicas need sticky sessions (or one replica — the page renders from the
//! aggregator, so one is enough for a task force).
//!
//! Also here: the one-time development sign-in codes (`p06 up` prints a link with one) and the
//! random values used for session ids and CSRF tokens.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use rand_core::{OsRng, RngCore as _};

use crate::claims::Claims;

/// 256 random bits, URL-safe base64 (43 characters).
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Compares two secrets in time independent of where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A signed-in browser.
#[derive(Debug)]
pub struct Session {
    /// The bearer token every gRPC call of this session carries. Never rendered, never logged.
    token: String,
    pub claims: Claims,
    /// The synchronizer token its forms carry.
    pub csrf: String,
}

impl Session {
    pub fn token(&self) -> &str {
        &self.token
    }

    pub fn expires(&self) -> DateTime<Utc> {
        self.claims.expires()
    }
}

struct OneTimeCode {
    token: String,
    next: String,
    expires: Instant,
}

/// Every session of this process, and the pending one-time sign-in codes.
pub struct Sessions {
    sessions: RwLock<HashMap<String, Arc<Session>>>,
    codes: Mutex<HashMap<String, OneTimeCode>>,
    limit: usize,
}

impl Sessions {
    /// At most `limit` sessions at once (the one expiring first makes room for a new one).
    pub fn new(limit: usize) -> Self {
        Sessions {
            sessions: RwLock::new(HashMap::new()),
            codes: Mutex::new(HashMap::new()),
            limit: limit.max(1),
        }
    }

    /// Starts a session for a token whose claims were read; returns its id.
    pub fn create(&self, token: String, claims: Claims, now: DateTime<Utc>) -> String {
        let id = random_token();
        let session = Arc::new(Session {
            token,
            claims,
            csrf: random_token(),
        });
        let mut sessions = self.sessions.write().expect("session map");
        sessions.retain(|_, s| s.expires() > now);
        if sessions.len() >= self.limit
            && let Some(first) = sessions
                .iter()
                .min_by_key(|(_, s)| s.expires())
                .map(|(id, _)| id.clone())
        {
            sessions.remove(&first);
        }
        sessions.insert(id.clone(), session);
        id
    }

    /// The live session with this id.
    pub fn get(&self, id: &str, now: DateTime<Utc>) -> Option<Arc<Session>> {
        let session = self
            .sessions
            .read()
            .expect("session map")
            .get(id)
            .cloned()?;
        if session.expires() <= now {
            self.remove(id);
            return None;
        }
        Some(session)
    }

    pub fn remove(&self, id: &str) {
        self.sessions.write().expect("session map").remove(id);
    }

    pub fn len(&self) -> usize {
        self.sessions.read().expect("session map").len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A code that signs in once with `token`, then lands on `next`, within `ttl`.
    pub fn one_time_code(&self, token: String, next: String, ttl: Duration) -> String {
        let code = random_token();
        let mut codes = self.codes.lock().expect("code map");
        let now = Instant::now();
        codes.retain(|_, c| c.expires > now);
        codes.insert(
            code.clone(),
            OneTimeCode {
                token,
                next,
                expires: now + ttl,
            },
        );
        code
    }

    /// The token and landing path of a code, consuming it; `None` when unknown, used or expired.
    pub fn redeem(&self, code: &str) -> Option<(String, String)> {
        let found = self.codes.lock().expect("code map").remove(code)?;
        (found.expires > Instant::now()).then_some((found.token, found.next))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp: i64) -> Claims {
        Claims {
            sub: "taskforce-viewer".into(),
            exp,
            agency: "taskforce".into(),
            province: "64".into(),
            edition: "2024".into(),
            roles: vec!["taskforce-viewer".into()],
        }
    }

    #[test]
    fn sessions_live_until_their_token_expires() {
        let now: DateTime<Utc> = "2025-03-22T03:00:00Z".parse().unwrap();
        let sessions = Sessions::new(10);
        let id = sessions.create("t".into(), claims(now.timestamp() + 60), now);
        assert_eq!(id.len(), 43);
        let s = sessions.get(&id, now).unwrap();
        assert_eq!(s.token(), "t");
        assert_ne!(s.csrf, id);
        assert!(
            sessions
                .get(&id, now + chrono::Duration::seconds(61))
                .is_none()
        );
        assert!(sessions.is_empty());
    }

    #[test]
    fn the_session_expiring_first_makes_room() {
        let now: DateTime<Utc> = "2025-03-22T03:00:00Z".parse().unwrap();
        let sessions = Sessions::new(2);
        let soon = sessions.create("a".into(), claims(now.timestamp() + 10), now);
        let later = sessions.create("b".into(), claims(now.timestamp() + 99), now);
        let newest = sessions.create("c".into(), claims(now.timestamp() + 50), now);
        assert!(sessions.get(&soon, now).is_none());
        assert!(sessions.get(&later, now).is_some());
        assert!(sessions.get(&newest, now).is_some());
    }

    #[test]
    fn one_time_codes_work_once_and_expire() {
        let sessions = Sessions::new(2);
        let code = sessions.one_time_code("t".into(), "/".into(), Duration::from_secs(60));
        assert_eq!(sessions.redeem(&code), Some(("t".into(), "/".into())));
        assert_eq!(sessions.redeem(&code), None);
        let stale = sessions.one_time_code("t".into(), "/".into(), Duration::ZERO);
        assert_eq!(sessions.redeem(&stale), None);
        assert_eq!(sessions.redeem("guess"), None);
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "ab"));
    }
}
