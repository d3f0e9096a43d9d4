//! Deadlines, timeliness, MISSING/LATE/VAGUE and consistency flags, and period locks, against the
//! real aggregator with a controlled clock.

use chrono::{DateTime, Duration, Utc};
use p06_auth::Agency;
use p06_domain::clock::Clock;
use p06_domain::locality::{Edition, Level};
use p06_kit::convert::date_to_proto;
use p06_proto::aggregation::admin_service_client::AdminServiceClient;
use p06_proto::aggregation::task_force_service_client::TaskForceServiceClient;
use p06_proto::aggregation::{
    GetComplianceBoardRequest, LockPeriodRequest, Observation, Receipt, SubmitReportRequest,
    Timeliness, UnlockPeriodRequest,
};
use p06_proto::common::Narrative;
use p06_tests::fixtures::*;
use p06_tests::services::{TestAggregator, authed};
use tonic::Code;
use tonic_types::StatusExt;

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

/// Deadline of the week 10–16 March 2025: 2 working days after Sunday 16th, 17:00 local.
const DEADLINE: &str = "2025-03-18T10:00:00Z";

async fn submit(
    t: &TestAggregator,
    request: SubmitReportRequest,
) -> Result<Receipt, tonic::Status> {
    let token = t.keys.reporter(Agency::Police);
    t.ingest()
        .await
        .submit_report(authed(request, &token))
        .await
        .map(|r| r.into_inner())
}

fn small(request_id: &str) -> SubmitReportRequest {
    police_report(request_id, vec![obs("vneid.l2.activated", HA_DONG, 109.0)])
}

/// Every commune of Gia Lai with every required indicator: a complete, specific report.
fn complete_report(
    t: &TestAggregator,
    request_id: &str,
    start: &str,
    end: &str,
    activated: f64,
) -> SubmitReportRequest {
    let catalog = &t.aggregator.state.catalog;
    let province = catalog.province(Edition::E2024, GIA_LAI).unwrap();
    let mut observations: Vec<Observation> = Vec::new();
    for commune in catalog
        .in_province(province.id)
        .filter(|l| l.level == Level::Commune)
    {
        for (indicator, value) in [
            ("residents.permanent", 5_000.0),
            ("vneid.l2.created", activated + 100.0),
            ("vneid.l2.activated", activated),
            ("cccd.cards.issued", 4_000.0),
        ] {
            observations.push(obs(indicator, &commune.code, value));
        }
    }
    let mut request = police_report(request_id, observations);
    request.period = period(start, end);
    request
}

#[tokio::test]
async fn on_time_exactly_at_the_deadline_second() {
    let t = TestAggregator::start().await;
    t.clock.set(at(DEADLINE));
    let receipt = submit(&t, small("a")).await.unwrap();
    assert_eq!(receipt.timeliness(), Timeliness::OnTime);
    assert_eq!(receipt.deadline.unwrap().seconds, at(DEADLINE).timestamp());
    assert!(receipt.lateness.is_none());
    assert!(receipt.flags.iter().all(|f| f.kind != "LATE"));
}

/// 14:22:56.301 is inside the deadline second 14:22:56: on time, and not yet missing for the sweep.
#[tokio::test]
async fn the_whole_deadline_second_is_on_time_and_not_yet_missing() {
    let t = TestAggregator::start().await;
    let state = &t.aggregator.state;
    t.clock.set(at(DEADLINE) + Duration::milliseconds(137));
    p06_aggregator::compliance::sweep_missing(state, t.clock.now())
        .await
        .unwrap();
    let missing = "kind = 'MISSING' AND obligation = 'police-weekly-identity' AND period_start = '2025-03-10'";
    assert_eq!(
        t.count_where("flag", missing).await,
        0,
        "0.137 s into the deadline second the report is still due"
    );

    t.clock.set(at(DEADLINE) + Duration::milliseconds(999));
    let receipt = submit(&t, small("inside")).await.unwrap();
    assert_eq!(receipt.timeliness(), Timeliness::OnTime);
    assert!(receipt.lateness.is_none());
    assert!(receipt.flags.iter().all(|f| f.kind != "LATE"));

    // The next week: its deadline second is over 1.301 s after it began, by one whole second.
    let mut next = small("next");
    next.period = period("2025-03-17", "2025-03-23");
    let next_deadline = at("2025-03-25T10:00:00Z");
    t.clock.set(next_deadline + Duration::milliseconds(1_000));
    p06_aggregator::compliance::sweep_missing(state, t.clock.now())
        .await
        .unwrap();
    assert_eq!(
        t.count_where(
            "flag",
            "kind = 'MISSING' AND obligation = 'police-weekly-identity' AND period_start = '2025-03-17'"
        )
        .await,
        1,
        "missing from the first instant after the deadline second"
    );
    t.clock.set(next_deadline + Duration::milliseconds(1_301));
    let receipt = submit(&t, next).await.unwrap();
    assert_eq!(receipt.timeliness(), Timeliness::Late);
    assert_eq!(receipt.lateness.unwrap().seconds, 1);
}

/// The board expects a period only once its deadline second is over; a report in before that is
/// early, in no rate.
#[tokio::test]
async fn the_board_expects_only_periods_whose_deadline_is_over() {
    let t = TestAggregator::start().await;
    let board = |now: DateTime<Utc>| {
        let t = &t;
        async move {
            t.clock.set(now);
            let mut client = TaskForceServiceClient::new(t.channel().await);
            let board = client
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
            let row = board
                .obligations
                .into_iter()
                .find(|o| o.obligation == "police-weekly-identity")
                .expect("the police weekly obligation is on the board");
            (
                row.expected,
                row.received,
                row.on_time,
                row.pending,
                row.early,
                row.reporting_rate,
            )
        }
    };
    assert_eq!(
        board(at(DEADLINE) - Duration::days(1)).await,
        (0, 0, 0, 1, 0, 0.0),
        "nothing in, deadline ahead"
    );
    t.clock.set(at(DEADLINE) - Duration::days(1));
    submit(&t, small("early")).await.unwrap();
    assert_eq!(
        board(at(DEADLINE) + Duration::milliseconds(500)).await,
        (0, 0, 0, 0, 1, 0.0),
        "in before a deadline that is not over yet: early, not expected"
    );
    assert_eq!(
        board(at(DEADLINE) + Duration::seconds(1)).await,
        (1, 1, 1, 0, 0, 1.0),
        "once the deadline second is over: expected, received, on time"
    );
}

#[tokio::test]
async fn late_by_minutes_and_by_days() {
    let t = TestAggregator::start().await;
    t.clock.set(at(DEADLINE) + Duration::minutes(7));
    let receipt = submit(&t, small("a")).await.unwrap();
    assert_eq!(receipt.timeliness(), Timeliness::Late);
    assert_eq!(receipt.lateness.unwrap().seconds, 7 * 60);
    let late: Vec<_> = receipt.flags.iter().filter(|f| f.kind == "LATE").collect();
    assert_eq!(late.len(), 1);
    assert!(late[0].message.contains("7 min"), "{}", late[0].message);

    // An amendment keeps the series' timeliness (judged by the first revision) and raises no new LATE.
    t.clock.advance(Duration::days(3));
    let amended = submit(
        &t,
        police_report("b", vec![obs("vneid.l2.activated", HA_DONG, 110.0)]),
    )
    .await
    .unwrap();
    assert_eq!(
        (amended.revision, amended.timeliness()),
        (2, Timeliness::Late)
    );
    assert_eq!(amended.lateness.unwrap().seconds, 7 * 60);
    assert!(amended.flags.iter().all(|f| f.kind != "LATE"));

    // Another province-week, three days late.
    let mut next = small("c");
    next.period = period("2025-03-17", "2025-03-23");
    t.clock.set(at("2025-03-28T10:00:00Z"));
    let receipt = submit(&t, next).await.unwrap();
    assert_eq!(
        receipt.lateness.unwrap().seconds,
        3 * 86_400,
        "due Tue 25th 17:00, came Fri 28th 17:00"
    );
}

#[tokio::test]
async fn missing_then_late_and_the_sweep_raises_each_flag_once() {
    let t = TestAggregator::start().await;
    let state = &t.aggregator.state;
    t.clock.set(at(DEADLINE) - Duration::seconds(1));
    let before = p06_aggregator::compliance::sweep_missing(state, t.clock.now())
        .await
        .unwrap();
    let missing_before = t
        .count_where("flag", "kind = 'MISSING' AND period_start = '2025-03-10'")
        .await;
    assert_eq!(
        missing_before, 0,
        "nothing is missing before the deadline ({before} earlier periods flagged)"
    );

    t.clock.set(at(DEADLINE) + Duration::seconds(1));
    p06_aggregator::compliance::sweep_missing(state, t.clock.now())
        .await
        .unwrap();
    assert_eq!(
        p06_aggregator::compliance::sweep_missing(state, t.clock.now())
            .await
            .unwrap(),
        0,
        "idempotent"
    );
    let open_missing = "kind = 'MISSING' AND state = 'OPEN' AND obligation = 'police-weekly-identity' AND period_start = '2025-03-10'";
    assert_eq!(t.count_where("flag", open_missing).await, 1);

    t.clock.set(at("2025-03-20T03:00:00Z"));
    let receipt = submit(&t, small("late")).await.unwrap();
    assert_eq!(receipt.timeliness(), Timeliness::Late);
    assert_eq!(
        t.count_where("flag", open_missing).await,
        0,
        "the report resolved MISSING"
    );
    assert_eq!(
        t.count_where("flag", "kind = 'MISSING' AND state = 'RESOLVED' AND period_start = '2025-03-10' AND obligation = 'police-weekly-identity'").await,
        1
    );
    assert!(
        receipt
            .flags
            .iter()
            .any(|f| f.kind == "LATE" && f.state == "OPEN")
    );
    assert!(t.count_where("audit_log", "action = 'FLAG_RESOLVED'").await >= 1);
}

#[tokio::test]
async fn nothing_is_missing_outside_the_provinces_edition_or_before_an_obligations_start() {
    let t = TestAggregator::start().await;
    let state = &t.aggregator.state;
    // Old Gia Lai (2024/64) owes no report for periods after edition 2024's interval.
    t.clock.set(at("2026-03-12T03:00:00Z"));
    assert_eq!(
        p06_aggregator::compliance::sweep_missing(state, t.clock.now())
            .await
            .unwrap(),
        0
    );
    assert_eq!(t.count_where("flag", "kind = 'MISSING'").await, 0);

    // An obligation in effect from a date owes nothing for periods starting before it.
    let gia_lai = state.catalog.province(Edition::E2024, GIA_LAI).unwrap().id;
    let mut spec = state
        .store
        .obligation_for("police-weekly-identity", gia_lai)
        .await
        .unwrap()
        .unwrap();
    spec.from = Some(date("2025-03-10"));
    state
        .store
        .upsert_obligation(&spec, gia_lai, "test", t.clock.now())
        .await
        .unwrap();
    t.clock.set(at(DEADLINE) + Duration::seconds(1));
    p06_aggregator::compliance::sweep_missing(state, t.clock.now())
        .await
        .unwrap();
    assert_eq!(
        t.count_where(
            "flag",
            "kind = 'MISSING' AND obligation = 'police-weekly-identity' AND period_start < '2025-03-10'"
        )
        .await,
        0
    );
    assert_eq!(
        t.count_where(
            "flag",
            "kind = 'MISSING' AND obligation = 'police-weekly-identity' AND period_start = '2025-03-10'"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn a_vague_report_is_flagged_with_its_reasons_and_a_specific_one_scores_100() {
    let t = TestAggregator::start().await;
    t.clock.set(at("2025-03-18T03:00:00Z"));
    let mut vague = police_report("vague", vec![obs("vneid.l2.activated", GIA_LAI, 704_828.0)]);
    vague.narrative = Some(Narrative {
        assessment: "Cơ bản hoàn thành, tích cực triển khai".into(),
        obstacles: String::new(),
        proposals: String::new(),
    });
    let receipt = submit(&t, vague.clone()).await.unwrap();
    let codes: Vec<&str> = receipt
        .specificity_reasons
        .iter()
        .map(|r| r.code.as_str())
        .collect();
    assert_eq!(
        codes,
        [
            "REQUIRED_INDICATORS_MISSING",
            "LOCALITIES_NOT_COVERED",
            "HEDGING_WITHOUT_FIGURES"
        ]
    );
    assert!(receipt.specificity_score.unwrap() < 60);
    assert!(
        receipt
            .specificity_reasons
            .iter()
            .all(|r| !r.explanation_vi.is_empty() && !r.explanation_en.is_empty())
    );
    assert!(receipt.flags.iter().any(|f| f.kind == "VAGUE"));
    // The same request again, and the stored report, carry the same flags.
    let replayed = submit(&t, vague).await.unwrap();
    assert!(replayed.replayed);
    assert_eq!(replayed.flags, receipt.flags);
    let token = t.keys.reporter(Agency::Police);
    let stored = t
        .ingest()
        .await
        .get_report(authed(
            p06_proto::aggregation::GetReportRequest {
                name: receipt.report.clone(),
            },
            &token,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(stored.receipt.unwrap().flags, receipt.flags);

    let mut specific = complete_report(&t, "specific", "2025-03-10", "2025-03-16", 1_000.0);
    specific.request_id = "specific".into();
    specific.obligation = "police-weekly-identity".into();
    let receipt = submit(&t, specific).await.unwrap();
    assert_eq!(
        receipt.specificity_score,
        Some(100),
        "{:?}",
        receipt.specificity_reasons
    );
    assert!(receipt.flags.iter().all(|f| f.kind != "VAGUE"));
}

#[tokio::test]
async fn consistency_flags_stock_decrease_trend_jump_and_above_denominator() {
    let t = TestAggregator::start().await;
    t.clock.set(at("2025-05-01T03:00:00Z"));
    let weeks = [
        ("2025-03-03", "2025-03-09"),
        ("2025-03-10", "2025-03-16"),
        ("2025-03-17", "2025-03-23"),
        ("2025-03-24", "2025-03-30"),
    ];
    let report = |i: usize, activated: f64, residents: f64| {
        let mut r = police_report(
            &format!("w{i}"),
            vec![
                obs("vneid.l2.activated", HA_DONG, activated),
                obs("residents.permanent", HA_DONG, residents),
            ],
        );
        r.period = period(weeks[i].0, weeks[i].1);
        r
    };
    for (i, value) in [1_000.0, 1_010.0, 1_020.0].into_iter().enumerate() {
        let receipt = submit(&t, report(i, value, 5_908.0)).await.unwrap();
        assert!(receipt.flags.iter().all(|f| {
            !["STOCK_DECREASE", "TREND_JUMP", "ABOVE_DENOMINATOR"].contains(&f.kind.as_str())
        }));
    }
    let jump = submit(&t, report(3, 6_000.0, 5_908.0)).await.unwrap();
    let kinds: Vec<&str> = jump.flags.iter().map(|f| f.kind.as_str()).collect();
    assert!(kinds.contains(&"TREND_JUMP"), "{kinds:?}");
    assert!(
        kinds.contains(&"ABOVE_DENOMINATOR"),
        "6,000 activated > 5,908 residents: {kinds:?}"
    );
    let flag = jump
        .flags
        .iter()
        .find(|f| f.kind == "ABOVE_DENOMINATOR")
        .unwrap();
    assert_eq!(
        (flag.indicator_code.as_str(), flag.locality_code.as_str()),
        ("vneid.l2.activated", HA_DONG)
    );

    // Amend week 3 downwards: the stock fell from week 2's 1,010.
    let mut amended = report(2, 900.0, 5_908.0);
    amended.request_id = "w2-amended".into();
    let receipt = submit(&t, amended).await.unwrap();
    assert!(
        receipt.flags.iter().any(|f| f.kind == "STOCK_DECREASE"),
        "{:?}",
        receipt.flags
    );
}

#[tokio::test]
async fn a_locked_period_refuses_amendments_until_unlocked_and_both_are_audited() {
    let t = TestAggregator::start().await;
    submit(&t, small("first")).await.unwrap();
    let admin = t.keys.admin();
    let channel = t.channel().await;
    let mut client = AdminServiceClient::new(channel);
    let lock = client
        .lock_period(authed(
            LockPeriodRequest {
                request_id: "l1".into(),
                province: province(GIA_LAI),
                period: period("2025-03-10", "2025-03-16"),
                agency: "police".into(),
                obligation: String::new(),
                reason: "số liệu đã chốt".into(),
            },
            &admin,
        ))
        .await
        .unwrap()
        .into_inner();
    let status = submit(
        &t,
        police_report("second", vec![obs("vneid.l2.activated", HA_DONG, 120.0)]),
    )
    .await
    .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition);
    let failure = status
        .get_details_precondition_failure()
        .expect("a PreconditionFailure detail");
    assert_eq!(failure.violations[0].r#type, "PERIOD_LOCKED");
    assert_eq!(t.report_count().await, 1);

    // A viewer cannot lift it; an admin can.
    let status = client
        .unlock_period(authed(
            UnlockPeriodRequest {
                request_id: "u0".into(),
                province: province(GIA_LAI),
                name: lock.name.clone(),
            },
            &t.keys.viewer(),
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied);
    client
        .unlock_period(authed(
            UnlockPeriodRequest {
                request_id: "u1".into(),
                province: province(GIA_LAI),
                name: lock.name,
            },
            &admin,
        ))
        .await
        .unwrap();
    let receipt = submit(
        &t,
        police_report("second", vec![obs("vneid.l2.activated", HA_DONG, 120.0)]),
    )
    .await
    .unwrap();
    assert_eq!(receipt.revision, 2);
    assert_eq!(
        t.count_where("audit_log", "action IN ('LOCK', 'UNLOCK')")
            .await,
        2
    );
}

#[tokio::test]
async fn a_submission_must_match_an_obligation_period() {
    let t = TestAggregator::start().await;
    let mut request = small("x");
    request.period = period("2025-03-11", "2025-03-17");
    let status = submit(&t, request).await.unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(
        status.message().contains("2025-03-10..2025-03-16"),
        "{}",
        status.message()
    );
    let mut request = small("y");
    request.obligation = "health-weekly".into();
    assert_eq!(
        submit(&t, request).await.unwrap_err().code(),
        Code::InvalidArgument
    );
    let mut request = small("z");
    request.obligation = "no-such-obligation".into();
    assert_eq!(
        submit(&t, request).await.unwrap_err().code(),
        Code::InvalidArgument
    );
    assert_eq!(t.report_count().await, 0);
}
