//! Scenarios more than one test file plays against a [`TestAggregator`].

use chrono::{DateTime, Duration, Utc};
use p06_auth::Agency;
use p06_domain::clock::Clock;
use p06_proto::aggregation::admin_service_client::AdminServiceClient;
use p06_proto::aggregation::{LockPeriodRequest, UnlockPeriodRequest};

use crate::fixtures::*;
use crate::services::{TestAggregator, authed};

/// What [`audited_week`] left in the audit log.
pub struct AuditedWeek {
    /// The LATE flag the late report raised, `flags/{id}`.
    pub late_flag: String,
    /// The lock, `locks/{id}`.
    pub lock: String,
    /// When the lock was taken (the unlock came an hour later).
    pub lock_time: DateTime<Utc>,
}

/// Gia Lai's police week 10–16 March 2025 (deadline 18 March 17:00 local): the sweep raises
/// MISSING one second after the deadline; the report of 20 March 10:00 local resolves it and
/// raises LATE; an admin locks the week at 11:00 and unlocks it at 12:00.
pub async fn audited_week(t: &TestAggregator) -> AuditedWeek {
    t.clock.set("2025-03-18T10:00:01Z".parse().unwrap());
    p06_aggregator::compliance::sweep_missing(&t.aggregator.state, t.clock.now())
        .await
        .unwrap();
    t.clock.set("2025-03-20T03:00:00Z".parse().unwrap());
    let receipt = t
        .ingest()
        .await
        .submit_report(authed(
            police_report("late", vec![obs("vneid.l2.activated", HA_DONG, 109.0)]),
            &t.keys.reporter(Agency::Police),
        ))
        .await
        .unwrap()
        .into_inner();
    let late_flag = receipt
        .flags
        .iter()
        .find(|f| f.kind == "LATE")
        .expect("a LATE flag")
        .name
        .clone();
    t.clock.advance(Duration::hours(1));
    let lock_time = t.clock.now();
    let mut admin = AdminServiceClient::new(t.channel().await);
    let lock = admin
        .lock_period(authed(
            LockPeriodRequest {
                request_id: "l1".into(),
                province: province(GIA_LAI),
                period: period("2025-03-10", "2025-03-16"),
                agency: "police".into(),
                obligation: String::new(),
                reason: "số liệu đã chốt".into(),
            },
            &t.keys.admin(),
        ))
        .await
        .unwrap()
        .into_inner()
        .name;
    t.clock.advance(Duration::hours(1));
    admin
        .unlock_period(authed(
            UnlockPeriodRequest {
                request_id: "u1".into(),
                province: province(GIA_LAI),
                name: lock.clone(),
            },
            &t.keys.admin(),
        ))
        .await
        .unwrap();
    AuditedWeek {
        late_flag,
        lock,
        lock_time,
    }
}
