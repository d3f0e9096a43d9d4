//! The task-force views cache per-commune figures in memory, yet stay live: a write committed by
//! any replica (a revision, a flow period, new targets) shows in the next read of every replica.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use p06_aggregator::{Aggregator, AggregatorConfig};
use p06_auth::{Agency, Role};
use p06_kit::convert::date_to_proto;
use p06_proto::aggregation::catalog_service_client::CatalogServiceClient;
use p06_proto::aggregation::ingest_service_client::IngestServiceClient;
use p06_proto::aggregation::task_force_service_client::TaskForceServiceClient;
use p06_proto::aggregation::{
    GetConsolidatedStatusRequest, IndicatorStatus, SubmitReportRequest, Target,
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

#[tokio::test(flavor = "multi_thread")]
async fn a_write_through_one_replica_shows_in_the_next_read_of_another() {
    let t = TestAggregator::start().await;
    let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
    // A second replica on the same database, with its own cache.
    let other = Aggregator::build_with_clock(
        &AggregatorConfig::for_database(t.db.url.clone()),
        Arc::new(t.clock.clone()),
    )
    .await
    .unwrap();
    let other_running = other
        .host(t.keys.authenticator.clone())
        .spawn(([127, 0, 0, 1], 0).into())
        .await
        .unwrap();
    let other_channel = Channel::from_shared(other_running.url())
        .unwrap()
        .connect()
        .await
        .unwrap();
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
