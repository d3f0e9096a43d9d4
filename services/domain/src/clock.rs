//! An injectable source of "now", so deadline and timeliness logic can be tested at any instant.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};

/// Where the current instant comes from.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
}

/// The operating system's clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that stands still until moved; for tests and simulations.
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: Arc<Mutex<DateTime<Utc>>>,
}

impl ManualClock {
    pub fn new(start: DateTime<Utc>) -> Self {
        Self {
            now: Arc::new(Mutex::new(start)),
        }
    }

    pub fn set(&self, instant: DateTime<Utc>) {
        *self.now.lock().expect("clock mutex poisoned") = instant;
    }

    pub fn advance(&self, by: Duration) {
        let mut now = self.now.lock().expect("clock mutex poisoned");
        *now += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.lock().expect("clock mutex poisoned")
    }
}

/// The operating system's clock, unless set to an instant: lets a loader replay reports at the
/// instants they were received (`p06 up`'s demo), through the same ingest path, then hand back
/// real time.
#[derive(Debug, Clone, Default)]
pub struct ReplayClock {
    fixed: Arc<Mutex<Option<DateTime<Utc>>>>,
}

impl ReplayClock {
    pub fn new() -> Self {
        Self::default()
    }

    /// Stands still at `instant` until set again or released.
    pub fn set(&self, instant: DateTime<Utc>) {
        *self.fixed.lock().expect("clock mutex poisoned") = Some(instant);
    }

    /// Follows the operating system's clock again.
    pub fn release(&self) {
        *self.fixed.lock().expect("clock mutex poisoned") = None;
    }
}

impl Clock for ReplayClock {
    fn now(&self) -> DateTime<Utc> {
        self.fixed
            .lock()
            .expect("clock mutex poisoned")
            .unwrap_or_else(Utc::now)
    }
}

/// A shared clock handle, as services hold it.
pub type SharedClock = Arc<dyn Clock>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replay_clock_stands_where_set_then_follows_real_time() {
        let clock = ReplayClock::new();
        let past = DateTime::parse_from_rfc3339("2025-03-17T09:30:00+07:00")
            .unwrap()
            .with_timezone(&Utc);
        clock.set(past);
        assert_eq!(clock.now(), past);
        clock.release();
        assert!(clock.now() - Utc::now() < Duration::seconds(5));
        assert!(clock.now() > past);
    }

    #[test]
    fn manual_clock_moves_only_when_told() {
        let start = DateTime::parse_from_rfc3339("2025-03-22T10:00:00+07:00")
            .unwrap()
            .with_timezone(&Utc);
        let clock = ManualClock::new(start);
        assert_eq!(clock.now(), start);
        clock.advance(Duration::seconds(90));
        assert_eq!(clock.now(), start + Duration::seconds(90));
    }
}
