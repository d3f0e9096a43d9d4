//! `ListAuditRecords`: the province's audit trail through the task-force API — a lock, an unlock
//! and a flag's life (raised by the sweep, resolved by the late report), newest first, filtered,
//! paged, and never another province's.

use chrono::{DateTime, Duration, Utc};
use p06_auth::{Agency, Role};
use p06_domain::clock::Clock;
use p06_kit::convert::timestamp;
use p06_proto::aggregation::task_force_service_client::TaskForceServiceClient;
use p06_proto::aggregation::{AuditRecord, ListAuditRecordsRequest};
use p06_tests::fixtures::*;
use p06_tests::scenarios::{AuditedWeek, audited_week};
use p06_tests::services::{TestAggregator, authed};
use tonic::Code;

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

/// Deadline of the police week 10–16 March 2025 (2 working days, 17:00 local).
const DEADLINE: &str = "2025-03-18T10:00:00Z";

async fn list(
    t: &TestAggregator,
    token: &str,
    request: ListAuditRecordsRequest,
) -> Result<Vec<AuditRecord>, tonic::Status> {
    let mut client = TaskForceServiceClient::new(t.channel().await);
    let mut records = Vec::new();
    let mut request = request;
    loop {
        let page = client
            .list_audit_records(authed(request.clone(), token))
            .await?
            .into_inner();
        records.extend(page.records);
        if page.next_page_token.is_empty() {
            return Ok(records);
        }
        request.page_token = page.next_page_token;
    }
}

fn of_gia_lai() -> ListAuditRecordsRequest {
    ListAuditRecordsRequest {
        province: province(GIA_LAI),
        ..Default::default()
    }
}

#[tokio::test]
async fn a_lock_an_unlock_and_a_flags_life_newest_first() {
    let t = TestAggregator::start().await;
    let viewer = t.keys.viewer();

    let AuditedWeek {
        late_flag: late,
        lock,
        lock_time,
    } = audited_week(&t).await;

    let all = list(&t, &viewer, of_gia_lai()).await.unwrap();
    let ids: Vec<i64> = all.iter().map(|r| r.id).collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first: {ids:?}");
    let actions: Vec<&str> = all.iter().map(|r| r.action.as_str()).collect();
    assert_eq!(&actions[..2], ["UNLOCK", "LOCK"], "{actions:?}");
    assert_eq!(all[0].subject, lock);
    assert_eq!(all[1].details, "2025-03-10..2025-03-16 số liệu đã chốt");
    assert!(all.iter().all(|r| r.province == province(GIA_LAI)));

    // The police week's MISSING: raised by the sweep, resolved by the report; LATE raised.
    let missing: Vec<&AuditRecord> = all
        .iter()
        .filter(|r| {
            r.details
                .starts_with("MISSING MISSING|police|police-weekly-identity|")
                && r.details.ends_with("|2025-03-10")
        })
        .collect();
    assert_eq!(missing.len(), 1, "{all:#?}");
    let subject = &missing[0].subject;
    let life: Vec<&AuditRecord> = all.iter().filter(|r| &r.subject == subject).collect();
    assert_eq!(
        life.iter().map(|r| r.action.as_str()).collect::<Vec<_>>(),
        ["FLAG_RESOLVED", "FLAG_RAISED"],
        "{all:#?}"
    );
    assert_eq!(life[1].actor, "missing-sweep");
    assert!(
        !life[0].actor.is_empty() && life[0].actor != "missing-sweep",
        "resolved by the report's sender: {:?}",
        life[0]
    );
    assert!(
        all.iter()
            .any(|r| r.action == "FLAG_RAISED" && r.subject == late && r.agency == "police")
    );

    // Filters: action, agency, time; paging gives the same records.
    let locks = list(
        &t,
        &viewer,
        ListAuditRecordsRequest {
            action: "LOCK".into(),
            ..of_gia_lai()
        },
    )
    .await
    .unwrap();
    assert_eq!(locks.len(), 1);
    let police_only = list(
        &t,
        &viewer,
        ListAuditRecordsRequest {
            agency: "police".into(),
            ..of_gia_lai()
        },
    )
    .await
    .unwrap();
    assert!(police_only.iter().all(|r| r.agency == "police"));
    assert!(police_only.len() >= 5, "{police_only:#?}");
    let since_lock = list(
        &t,
        &viewer,
        ListAuditRecordsRequest {
            from: Some(timestamp(lock_time)),
            to: Some(timestamp(lock_time + Duration::minutes(30))),
            ..of_gia_lai()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        since_lock
            .iter()
            .map(|r| r.action.as_str())
            .collect::<Vec<_>>(),
        ["LOCK"]
    );
    let paged = list(
        &t,
        &viewer,
        ListAuditRecordsRequest {
            page_size: 2,
            ..of_gia_lai()
        },
    )
    .await
    .unwrap();
    assert_eq!(paged, all);
}

#[tokio::test]
async fn another_province_reads_none_of_it_and_filters_are_checked() {
    let t = TestAggregator::start().await;
    t.clock.set(at(DEADLINE) + Duration::seconds(1));
    p06_aggregator::compliance::sweep_missing(&t.aggregator.state, t.clock.now())
        .await
        .unwrap();
    assert!(
        !list(&t, &t.keys.viewer(), of_gia_lai())
            .await
            .unwrap()
            .is_empty()
    );

    let binh_dinh = t
        .keys
        .token(Agency::Taskforce, BINH_DINH, Role::TaskforceViewer);
    let refused = list(&t, &binh_dinh, of_gia_lai()).await.unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");
    let own = list(
        &t,
        &binh_dinh,
        ListAuditRecordsRequest {
            province: province(BINH_DINH),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(
        own.iter().all(|r| r.province == province(BINH_DINH)),
        "{own:#?}"
    );

    // A reporter is not the task force.
    let reporter = t.keys.reporter(Agency::Police);
    let refused = list(&t, &reporter, of_gia_lai()).await.unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");

    let bad = list(
        &t,
        &t.keys.viewer(),
        ListAuditRecordsRequest {
            action: "DELETE".into(),
            ..of_gia_lai()
        },
    )
    .await
    .unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert!(bad.message().contains("action"), "{}", bad.message());
}
