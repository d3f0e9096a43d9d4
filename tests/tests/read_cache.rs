//! The task-force views cache per-commune figures in memory, yet stay live: a write committed by
//! any replica (a revision, a flow period, new targets) shows in the next read of every replica.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use p06_aggregator::{Aggregator, AggregatorConfig};
use p06_auth::{Agency, Role};
use p06_domain::clock::Clock as _;
use p06_kit::convert::date_to_proto;
use p06_kit::host::Running;
use p06_proto::aggregation::catalog_service_client::CatalogServiceClient;
use p06_proto::aggregation::ingest_service_client::IngestServiceClient;
use p06_proto::aggregation::task_force_service_client::TaskForceServiceClient;
use p06_proto::aggregation::{
    GetComplianceBoardRequest, GetConsolidatedStatusRequest, IndicatorStatus,
    ListLocalityProgressRequest, LocalityLevel, ProgressOrder, SubmitReportRequest, Target,
    UpsertTargetsRequest,
};
use p06_proto::common::LocalityRef;
use p06_tests::fixtures::*;
use p06_tests::services::{TestAggregator, authed};
use tonic::transport::Channel;

/// Two communes of Gia Lai (edition 2024).
const A: &str = "23557";
const B: &str = "23560";

/// A weekly report of the police (`justice` false) or the justice department.
fn weekly(
    justice: bool,
    request: &str,
    week: (&str, &str),
    rows: &[(&str, &str, f64)],
) -> SubmitReportRequest {
    let mut r = police_report(
        request,
        rows.iter().map(|(i, l, v)| obs(i, l, *v)).collect(),
    );
    if justice {
        r.agency = "justice".into();
        r.obligation = "justice-weekly".into();
    }
    r.period = period(week.0, week.1);
    r
}

async fn status(t: &TestAggregator, channel: Channel, as_of: &str) -> Vec<IndicatorStatus> {
    status_of(t, channel, GIA_LAI, as_of).await
}

/// The status of a province or of the country (`VN`, read with a national token).
async fn status_of(
    t: &TestAggregator,
    channel: Channel,
    code: &str,
    as_of: &str,
) -> Vec<IndicatorStatus> {
    let token = match code {
        "VN" => t.keys.token(Agency::Taskforce, "VN", Role::TaskforceViewer),
        _ => t.keys.viewer(),
    };
    TaskForceServiceClient::new(channel)
        .get_consolidated_status(authed(
            GetConsolidatedStatusRequest {
                locality: province(code),
                as_of: Some(date_to_proto(date(as_of))),
                indicator_codes: vec![
                    "vneid.l2.activated".into(),
                    "civil_registration.online".into(),
                ],
                lowest_count: 5,
                ..Default::default()
            },
            &token,
        ))
        .await
        .unwrap()
        .into_inner()
        .indicators
}

/// A second replica on the same database as `t`, with its own caches (kept running while the
/// first value lives), and a channel to it.
async fn another_replica(t: &TestAggregator) -> ((Aggregator, Running), Channel) {
    let other = Aggregator::build_with_clock(
        &AggregatorConfig::for_database(t.db.url.clone()),
        Arc::new(t.clock.clone()),
    )
    .await
    .unwrap();
    let running = other
        .host(t.keys.authenticator.clone())
        .spawn(([127, 0, 0, 1], 0).into())
        .await
        .unwrap();
    let channel = Channel::from_shared(running.url())
        .unwrap()
        .connect()
        .await
        .unwrap();
    ((other, running), channel)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_write_through_one_replica_shows_in_the_next_read_of_another() {
    let t = TestAggregator::start().await;
    let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
    let (_other, other_channel) = another_replica(&t).await;
    let mut writer = IngestServiceClient::new(other_channel.clone());
    let mut targets = CatalogServiceClient::new(other_channel);
    let police = t.keys.reporter(Agency::Police);
    let justice = t.keys.reporter(Agency::Justice);
    let week = ("2025-03-10", "2025-03-16");
    let next = ("2025-03-17", "2025-03-23");

    let target = |indicator: &str, code: &str, value| Target {
        indicator_code: indicator.into(),
        locality: Some(LocalityRef {
            edition: EDITION.into(),
            code: code.into(),
        }),
        due_date: Some(date_to_proto(date("2025-12-31"))),
        value,
        update_time: None,
    };
    let activated = "vneid.l2.activated";
    let online = "civil_registration.online";
    targets
        .upsert_targets(authed(
            UpsertTargetsRequest {
                request_id: "targets".into(),
                targets: vec![
                    target(activated, A, 100.0),
                    target(activated, B, 25.0),
                    target(online, A, 10.0),
                ],
            },
            &t.keys.admin(),
        ))
        .await
        .unwrap();
    t.clock.set(at("2025-03-18T03:00:00Z"));
    writer
        .submit_report(authed(
            weekly(
                false,
                "w1",
                week,
                &[(activated, A, 10.0), (activated, B, 20.0)],
            ),
            &police,
        ))
        .await
        .unwrap();
    writer
        .submit_report(authed(
            weekly(true, "j1", week, &[(online, A, 3.0)]),
            &justice,
        ))
        .await
        .unwrap();
    // The communes ranked lowest, with their own figures (what the cache holds).
    let lowest = |s: &IndicatorStatus| -> Vec<(String, i32, Option<f64>, Option<f64>)> {
        s.lowest
            .iter()
            .map(|r| {
                let code = r.locality.as_ref().unwrap().code.clone();
                (code, r.rank, r.value, r.target)
            })
            .collect()
    };
    let row = |code: &str, rank, value, target| (code.to_owned(), rank, Some(value), Some(target));
    let first = status(&t, t.channel().await, "2025-03-23").await;
    assert_eq!(first[0].value, Some(30.0));
    assert_eq!(
        lowest(&first[0]),
        vec![row(A, 1, 10.0, 100.0), row(B, 2, 20.0, 25.0)]
    );
    assert_eq!(lowest(&first[1]), vec![row(A, 1, 3.0, 10.0)]);
    let country = status_of(&t, t.channel().await, "VN", "2025-03-23").await;
    assert_eq!(country[0].value, Some(30.0));
    assert!(
        t.aggregator.state.read_cache.held() > 0,
        "the read was cached"
    );
    // Read again from the cache: the same answer.
    assert_eq!(status(&t, t.channel().await, "2025-03-23").await, first);

    // A revision through the other replica replaces figures…
    writer
        .submit_report(authed(
            weekly(
                false,
                "w1-rev",
                week,
                &[(activated, A, 15.0), (activated, B, 30.0)],
            ),
            &police,
        ))
        .await
        .unwrap();
    let revised = status(&t, t.channel().await, "2025-03-23").await;
    assert_eq!(revised[0].value, Some(45.0));
    assert_eq!(
        lowest(&revised[0]),
        vec![row(A, 1, 15.0, 100.0), row(B, 2, 30.0, 25.0)]
    );
    assert_eq!(revised[0].localities_meeting_target, 1);
    let country = status_of(&t, t.channel().await, "VN", "2025-03-23").await;
    assert_eq!(country[0].value, Some(45.0), "the country's totals too");

    // … the next week adds to the flow…
    t.clock.set(at("2025-03-25T03:00:00Z"));
    writer
        .submit_report(authed(
            weekly(true, "j2", next, &[(online, A, 4.0)]),
            &justice,
        ))
        .await
        .unwrap();
    let later = status(&t, t.channel().await, "2025-03-23").await;
    assert_eq!(lowest(&later[1]), vec![row(A, 1, 7.0, 10.0)]);
    assert_eq!(later[1].reports_included, 2);

    // … and new targets rank the communes anew.
    targets
        .upsert_targets(authed(
            UpsertTargetsRequest {
                request_id: "targets-2".into(),
                targets: vec![target(activated, B, 300.0)],
            },
            &t.keys.admin(),
        ))
        .await
        .unwrap();
    let ranked = status(&t, t.channel().await, "2025-03-23").await;
    assert_eq!(
        lowest(&ranked[0]),
        vec![row(B, 1, 30.0, 300.0), row(A, 2, 15.0, 100.0)]
    );
    assert_eq!(ranked[0].localities_meeting_target, 0);
}

/// The communes' ranking and the compliance board are kept per read version as well: a report,
/// new targets and a changed obligation written through another replica show in the next read,
/// and the board follows the clock past a deadline (and back) without any write.
#[tokio::test(flavor = "multi_thread")]
async fn progress_and_the_compliance_board_follow_another_replica_and_the_clock() {
    let t = TestAggregator::start().await;
    let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
    let ((other, _running), other_channel) = another_replica(&t).await;
    let mut writer = IngestServiceClient::new(other_channel.clone());
    let mut targets = CatalogServiceClient::new(other_channel);
    let police = t.keys.reporter(Agency::Police);
    let activated = "vneid.l2.activated";
    let week = ("2025-03-10", "2025-03-16");
    // The week's deadline: 17:00 (UTC+7) two working days after Sunday 16 March.
    let deadline = at("2025-03-18T10:00:00Z");
    let progress = || async {
        let rows = TaskForceServiceClient::new(t.channel().await)
            .list_locality_progress(authed(
                ListLocalityProgressRequest {
                    indicator_code: activated.into(),
                    parent: province(GIA_LAI),
                    level: LocalityLevel::Commune as i32,
                    as_of: Some(date_to_proto(date("2025-03-16"))),
                    below_percent: Some(100.0),
                    order: ProgressOrder::PercentAsc as i32,
                    ..Default::default()
                },
                &t.keys.viewer(),
            ))
            .await
            .unwrap()
            .into_inner()
            .rows;
        rows.into_iter()
            .map(|r| (r.locality.unwrap().code, r.rank, r.value))
            .collect::<Vec<_>>()
    };
    // (expected, received, pending, early) of the police's weekly obligation that week.
    let board = || async {
        let board = TaskForceServiceClient::new(t.channel().await)
            .get_compliance_board(authed(
                GetComplianceBoardRequest {
                    province: province(GIA_LAI),
                    from: Some(date_to_proto(date("2025-03-16"))),
                    to: Some(date_to_proto(date("2025-03-16"))),
                    agency: "police".into(),
                },
                &t.keys.viewer(),
            ))
            .await
            .unwrap()
            .into_inner();
        board
            .obligations
            .iter()
            .find(|o| o.obligation == "police-weekly-identity")
            .map(|o| (o.expected, o.received, o.pending, o.early))
    };
    let target = |code: &str, value| Target {
        indicator_code: activated.into(),
        locality: Some(LocalityRef {
            edition: EDITION.into(),
            code: code.into(),
        }),
        due_date: Some(date_to_proto(date("2025-12-31"))),
        value,
        update_time: None,
    };
    targets
        .upsert_targets(authed(
            UpsertTargetsRequest {
                request_id: "targets".into(),
                targets: vec![target(A, 100.0), target(B, 25.0)],
            },
            &t.keys.admin(),
        ))
        .await
        .unwrap();
    t.clock.set(deadline - chrono::Duration::days(1));
    assert_eq!(
        progress().await,
        vec![],
        "no figure: no percent, not listed below 100 %"
    );
    assert_eq!(board().await, Some((0, 0, 1, 0)), "pending: nothing in yet");

    writer
        .submit_report(authed(
            weekly(
                false,
                "w1",
                week,
                &[(activated, A, 10.0), (activated, B, 20.0)],
            ),
            &police,
        ))
        .await
        .unwrap();
    assert_eq!(
        progress().await,
        vec![(A.into(), 1, Some(10.0)), (B.into(), 2, Some(20.0))],
        "a report through the other replica"
    );
    assert_eq!(
        board().await,
        Some((0, 0, 0, 1)),
        "early: its deadline is ahead"
    );

    // New targets re-rank the communes; B's 20 of 10 meets its target and leaves the list.
    targets
        .upsert_targets(authed(
            UpsertTargetsRequest {
                request_id: "targets-2".into(),
                targets: vec![target(B, 10.0), target(A, 5_000.0)],
            },
            &t.keys.admin(),
        ))
        .await
        .unwrap();
    assert_eq!(progress().await, vec![(A.into(), 1, Some(10.0))]);

    // The deadline's second over, with no write: the period is expected and received.
    t.clock.set(deadline + chrono::Duration::seconds(1));
    assert_eq!(board().await, Some((1, 1, 0, 0)));
    // A clock set back (tests do) sees the period early again.
    t.clock.set(deadline - chrono::Duration::hours(1));
    assert_eq!(board().await, Some((0, 0, 0, 1)));

    // The obligation dropped for periods before 17 March by the other replica: nothing owed
    // (read at the same instant as the board before it).
    t.clock.set(deadline + chrono::Duration::seconds(1));
    assert_eq!(board().await, Some((1, 1, 0, 0)));
    let state = &other.state;
    let gia_lai = state
        .catalog
        .province(p06_domain::locality::Edition::E2024, GIA_LAI)
        .unwrap()
        .id;
    let mut spec = state
        .store
        .obligation_for("police-weekly-identity", gia_lai)
        .await
        .unwrap()
        .unwrap();
    spec.from = Some(date("2025-03-17"));
    state
        .store
        .upsert_obligation(&spec, gia_lai, "test", t.clock.now())
        .await
        .unwrap();
    assert_eq!(board().await, Some((0, 0, 0, 0)));
}
