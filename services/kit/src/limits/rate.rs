//! A per-caller rate limit: one token bucket per (token subject, agency, province), refilled at a
//! steady rate up to a burst. A refused call is told how long until its next token.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Who is counted: the verified token's subject, agency and province (edition and code).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CallerKey {
    pub subject: String,
    pub agency: &'static str,
    pub edition: String,
    pub province: String,
}

impl CallerKey {
    pub fn of(principal: &p06_auth::Principal) -> Self {
        Self {
            subject: principal.subject.clone(),
            agency: principal.agency.as_str(),
            edition: principal.edition.clone(),
            province: principal.province.clone(),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// Buckets kept before the full ones (idle callers) are forgotten.
const PRUNE_ABOVE: usize = 10_000;

/// Keyed token buckets. `per_second == 0` disables the limit.
pub struct RateLimiter {
    per_second: f64,
    burst: f64,
    buckets: Mutex<HashMap<CallerKey, Bucket>>,
}

impl RateLimiter {
    pub fn new(per_second: f64, burst: u32) -> Self {
        Self {
            per_second: per_second.max(0.0),
            burst: f64::from(burst.max(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    pub fn enabled(&self) -> bool {
        self.per_second > 0.0
    }

    /// Takes one token of `key`'s bucket at `now`, or says how long until one is there.
    pub fn check(&self, key: &CallerKey, now: Instant) -> Result<(), Duration> {
        if !self.enabled() {
            return Ok(());
        }
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= PRUNE_ABOVE && !buckets.contains_key(key) {
            let (rate, burst) = (self.per_second, self.burst);
            buckets.retain(|_, b| b.refilled(now, rate, burst) < burst);
        }
        let bucket = buckets.entry(key.clone()).or_insert(Bucket {
            tokens: self.burst,
            updated: now,
        });
        bucket.tokens = bucket.refilled(now, self.per_second, self.burst);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - bucket.tokens) / self.per_second;
            Err(Duration::from_secs_f64(wait).max(Duration::from_millis(1)))
        }
    }

    /// Gives back the token `key` took at its last [`Self::check`]: the call was refused by
    /// another limit after this one let it pass, and did not run.
    pub fn refund(&self, key: &CallerKey) {
        if !self.enabled() {
            return;
        }
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(bucket) = buckets.get_mut(key) {
            bucket.tokens = (bucket.tokens + 1.0).min(self.burst);
        }
    }

    /// Callers currently tracked.
    pub fn tracked(&self) -> usize {
        self.buckets.lock().map(|b| b.len()).unwrap_or(0)
    }
}

impl Bucket {
    fn refilled(&self, now: Instant, rate: f64, burst: f64) -> f64 {
        let elapsed = now.saturating_duration_since(self.updated).as_secs_f64();
        (self.tokens + elapsed * rate).min(burst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(subject: &str, province: &str) -> CallerKey {
        CallerKey {
            subject: subject.into(),
            agency: "police",
            edition: "2025".into(),
            province: province.into(),
        }
    }

    #[test]
    fn a_burst_passes_then_the_wait_is_named_and_tokens_come_back() {
        let limiter = RateLimiter::new(10.0, 3);
        let t0 = Instant::now();
        let k = key("a", "52");
        for _ in 0..3 {
            assert!(limiter.check(&k, t0).is_ok());
        }
        let wait = limiter.check(&k, t0).unwrap_err();
        assert!(
            (Duration::from_millis(99)..=Duration::from_millis(101)).contains(&wait),
            "{wait:?}"
        );
        assert!(limiter.check(&k, t0 + Duration::from_millis(50)).is_err());
        assert!(limiter.check(&k, t0 + Duration::from_millis(110)).is_ok());
    }

    #[test]
    fn callers_are_counted_apart_by_subject_and_province() {
        let limiter = RateLimiter::new(1.0, 1);
        let t0 = Instant::now();
        assert!(limiter.check(&key("a", "52"), t0).is_ok());
        assert!(limiter.check(&key("a", "52"), t0).is_err());
        assert!(limiter.check(&key("b", "52"), t0).is_ok());
        assert!(limiter.check(&key("a", "64"), t0).is_ok());
    }

    #[test]
    fn a_refunded_token_can_be_taken_again_but_never_beyond_the_burst() {
        let limiter = RateLimiter::new(1.0, 2);
        let t0 = Instant::now();
        let k = key("a", "52");
        limiter.check(&k, t0).unwrap();
        limiter.check(&k, t0).unwrap();
        assert!(limiter.check(&k, t0).is_err());
        limiter.refund(&k);
        assert!(limiter.check(&k, t0).is_ok());
        assert!(limiter.check(&k, t0).is_err());
        // A full bucket stays at its burst.
        let full = key("b", "52");
        limiter.check(&full, t0).unwrap();
        limiter.refund(&full);
        limiter.refund(&full);
        limiter.check(&full, t0).unwrap();
        limiter.check(&full, t0).unwrap();
        assert!(limiter.check(&full, t0).is_err());
    }

    #[test]
    fn zero_disables_and_idle_callers_are_forgotten() {
        let off = RateLimiter::new(0.0, 1);
        let t0 = Instant::now();
        for _ in 0..100 {
            assert!(off.check(&key("a", "52"), t0).is_ok());
        }
        let limiter = RateLimiter::new(100.0, 1);
        for i in 0..PRUNE_ABOVE {
            limiter.check(&key(&i.to_string(), "52"), t0).unwrap();
        }
        assert_eq!(limiter.tracked(), PRUNE_ABOVE);
        limiter
            .check(&key("new", "52"), t0 + Duration::from_secs(1))
            .unwrap();
        assert_eq!(limiter.tracked(), 1);
    }
}
