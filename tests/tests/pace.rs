//! Pace to target and figures known at an instant (issue 24, parts 1 and 2), end to end through
//! the real police agency service: four weeks of reports for three communes of Đak Đoa with
//! targets due five weeks after the last one. Hà Đông gains 100 a week from 900 to 1,200 of a
//! 2,000 target: needs 160 a week, reaches it 3 weeks late, AT_RISK (the example); Đak
//! Sơmei is past its target (MET); Đak Krong gains 10 a week (OFF_TRACK). Then the last week is
//! amended after the task force's meeting: the status known at the meeting is unchanged, today's
//! changed. Runs on SQLite, and on PostgreSQL when `P06_TEST_POSTGRES_URL` is set.

use chrono::{DateTime, Utc};
use p06_auth::Agency;
use p06_kit::convert::{date_to_proto, timestamp};
use p06_kit::host::Running;
use p06_proto::aggregation::task_force_service_client::TaskForceServiceClient;
use p06_proto::aggregation::{
    ConsolidatedStatus, GetConsolidatedStatusRequest, ListLocalityProgressRequest, LocalityLevel,
    LocalityProgress, Pace, PaceStatus, RevisionMode, SummarizeChildrenRequest, Target,
    UpsertTargetsRequest,
};
use p06_proto::common::{LocalityRef, Narrative};
use p06_proto::police::police_reporting_service_client::PoliceReportingServiceClient;
use p06_proto::police::{IdentityFigures, SubmitIdentityReportRequest};
use p06_tests::fixtures::*;
use p06_tests::services::{TestAggregator, authed, start_agency};
use tonic::transport::Channel;

const SOMEI: &str = "23683";
const KRONG: &str = "23684";
const WEEKS: [(&str, &str); 4] = [
    ("2025-03-03", "2025-03-09"),
    ("2025-03-10", "2025-03-16"),
    ("2025-03-17", "2025-03-23"),
    ("2025-03-24", "2025-03-30"),
];
/// The figures as of the last week's end; targets are due five weeks later.
const AS_OF: &str = "2025-03-30";
const DUE: &str = "2025-05-04";
/// Level-2 accounts activated per week: (commune, target, four weeks).
const COMMUNES: [(&str, f64, [i64; 4]); 3] = [
    (HA_DONG, 2_000.0, [900, 1_000, 1_100, 1_200]),
    (SOMEI, 1_000.0, [500, 700, 900, 1_100]),
    (KRONG, 2_000.0, [100, 110, 120, 130]),
];

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn locality(code: &str) -> Option<LocalityRef> {
    Some(LocalityRef {
        edition: EDITION.into(),
        code: code.into(),
    })
}

struct Scenario {
    t: TestAggregator,
    police: PoliceReportingServiceClient<Channel>,
    _service: Running,
}

impl Scenario {
    async fn start() -> Scenario {
        let t = TestAggregator::start().await;
        t.clock.set(at("2025-03-03T01:00:00Z"));
        let targets = COMMUNES
            .iter()
            .map(|(code, target, _)| Target {
                indicator_code: "vneid.l2.activated".into(),
                locality: locality(code),
                due_date: Some(date_to_proto(date(DUE))),
                value: *target,
                update_time: None,
            })
            .collect();
        t.catalog()
            .await
            .upsert_targets(authed(
                UpsertTargetsRequest {
                    request_id: "targets".into(),
                    targets,
                },
                &t.keys.admin(),
            ))
            .await
            .unwrap();
        let service = start_agency(&t.keys, t.running.url(), Agency::Police).await;
        let channel = Channel::from_shared(service.url())
            .unwrap()
            .connect()
            .await
            .unwrap();
        Scenario {
            police: PoliceReportingServiceClient::new(channel),
            _service: service,
            t,
        }
    }

    /// Police's report of `week`, received at `when`.
    async fn report(
        &mut self,
        request_id: &str,
        week: usize,
        when: &str,
        mode: RevisionMode,
        figures: &[(&str, i64)],
    ) {
        self.t.clock.set(at(when));
        let localities = figures
            .iter()
            .map(|(code, activated)| IdentityFigures {
                locality_code: (*code).into(),
                permanent_residents: Some(5_908),
                vneid_level2_created: Some(activated + 500),
                vneid_level2_activated: Some(*activated),
                ..Default::default()
            })
            .collect();
        self.police
            .submit_identity_report(authed(
                SubmitIdentityReportRequest {
                    request_id: request_id.into(),
                    obligation: "police-weekly-identity".into(),
                    province: province(GIA_LAI),
                    period: period(WEEKS[week].0, WEEKS[week].1),
                    localities,
                    narrative: Some(Narrative {
                        assessment: "Các xã tiếp tục kích hoạt tài khoản mức 2 trong tuần.".into(),
                        obstacles: "Thiếu thiết bị tại xã vùng sâu.".into(),
                        proposals: "Bổ sung tổ lưu động.".into(),
                    }),
                    mode: mode.into(),
                },
                &self.t.keys.reporter(Agency::Police),
            ))
            .await
            .unwrap();
    }

    /// The four weeks, each received the Monday after at 09:00 (02:00 UTC).
    async fn four_weeks(&mut self) {
        for week in 0..4 {
            let figures: Vec<(&str, i64)> = COMMUNES
                .iter()
                .map(|(code, _, values)| (*code, values[week]))
                .collect();
            let received = format!(
                "{}T02:00:00Z",
                date(WEEKS[week].1) + chrono::Duration::days(1)
            );
            self.report(
                &format!("w-{week}"),
                week,
                &received,
                RevisionMode::Replace,
                &figures,
            )
            .await;
        }
    }

    async fn status(&self, code: &str, known_at: Option<&str>) -> ConsolidatedStatus {
        let mut client = TaskForceServiceClient::new(self.t.channel().await);
        client
            .get_consolidated_status(authed(
                GetConsolidatedStatusRequest {
                    locality: locality(code),
                    as_of: Some(date_to_proto(date(AS_OF))),
                    indicator_codes: vec!["vneid.l2.activated".into()],
                    known_at: known_at.map(|k| timestamp(at(k))),
                    ..Default::default()
                },
                &self.t.keys.viewer(),
            ))
            .await
            .unwrap()
            .into_inner()
    }

    async fn progress(
        &self,
        statuses: &[PaceStatus],
        known_at: Option<&str>,
    ) -> Vec<LocalityProgress> {
        let mut client = TaskForceServiceClient::new(self.t.channel().await);
        client
            .list_locality_progress(authed(
                ListLocalityProgressRequest {
                    indicator_code: "vneid.l2.activated".into(),
                    parent: locality(DAK_DOA),
                    level: LocalityLevel::Commune as i32,
                    as_of: Some(date_to_proto(date(AS_OF))),
                    pace_statuses: statuses.iter().map(|s| *s as i32).collect(),
                    known_at: known_at.map(|k| timestamp(at(k))),
                    ..Default::default()
                },
                &self.t.keys.viewer(),
            ))
            .await
            .unwrap()
            .into_inner()
            .rows
    }
}

fn row<'a>(rows: &'a [LocalityProgress], code: &str) -> &'a LocalityProgress {
    rows.iter()
        .find(|r| r.locality.as_ref().is_some_and(|l| l.code == code))
        .unwrap_or_else(|| panic!("no row of {code}"))
}

fn pace(
    p: Option<&Pace>,
) -> (
    PaceStatus,
    Option<f64>,
    Option<f64>,
    Option<chrono::NaiveDate>,
) {
    let p = p.expect("a pace");
    (
        p.status(),
        p.recent_per_week.map(|v| (v * 100.0).round() / 100.0),
        p.needed_per_week.map(|v| (v * 100.0).round() / 100.0),
        p06_kit::convert::date_from_proto(p.projected.as_ref()),
    )
}

#[tokio::test]
async fn four_weeks_through_the_police_service_give_each_commune_and_the_district_a_pace() {
    let mut s = Scenario::start().await;
    s.four_weeks().await;

    let rows = s.progress(&[], None).await;
    // The example: 1,200 of 2,000 due in 5 weeks, +100 a week: needs 160 a week and
    // reaches the target 8 weeks on, 3 weeks late.
    assert_eq!(
        pace(row(&rows, HA_DONG).pace.as_ref()),
        (
            PaceStatus::AtRisk,
            Some(100.0),
            Some(160.0),
            Some(date("2025-05-25"))
        )
    );
    let ha_dong = row(&rows, HA_DONG).pace.unwrap();
    assert_eq!((ha_dong.weeks, ha_dong.reports_used), (4, 4));
    assert_eq!(
        p06_kit::convert::date_from_proto(ha_dong.due.as_ref()),
        Some(date(DUE))
    );
    assert_eq!(
        pace(row(&rows, SOMEI).pace.as_ref()).0,
        PaceStatus::Met,
        "1,100 of 1,000"
    );
    let krong = pace(row(&rows, KRONG).pace.as_ref());
    assert_eq!((krong.0, krong.1), (PaceStatus::OffTrack, Some(10.0)));
    // A commune without a target has no pace.
    let other = rows
        .iter()
        .find(|r| r.locality.as_ref().is_some_and(|l| l.code == "23677"))
        .unwrap();
    assert_eq!(other.pace, None);

    // `--pace off-track`: the filter is the server's.
    let off = s.progress(&[PaceStatus::OffTrack], None).await;
    let codes: Vec<&str> = off
        .iter()
        .filter_map(|r| r.locality.as_ref().map(|l| l.code.as_str()))
        .collect();
    assert_eq!(codes, [KRONG]);
    let two = s
        .progress(&[PaceStatus::Met, PaceStatus::AtRisk], None)
        .await;
    assert_eq!(two.len(), 2);

    // The district: 2,430 of 5,000, from 1,500 three weeks before: +310 a week, needs
    // 2,570 / 5 weeks = 514; reaches it in ⌈2,570 / 310 × 7⌉ = 59 days: 24 days late.
    for code in [DAK_DOA, GIA_LAI] {
        let status = s.status(code, None).await;
        let i = &status.indicators[0];
        assert_eq!((i.value, i.target), (Some(2_430.0), Some(5_000.0)));
        assert_eq!(
            pace(i.pace.as_ref()),
            (
                PaceStatus::AtRisk,
                Some(310.0),
                Some(514.0),
                Some(date("2025-05-28"))
            ),
            "{code}"
        );
        let by_pace: Vec<(PaceStatus, i32)> = i
            .localities_by_pace
            .iter()
            .map(|c| (c.status(), c.count))
            .collect();
        assert_eq!(
            by_pace,
            [
                (PaceStatus::Met, 1),
                (PaceStatus::AtRisk, 1),
                (PaceStatus::OffTrack, 1)
            ]
        );
        // The lowest rows carry their pace too.
        assert_eq!(i.lowest[0].locality.as_ref().unwrap().code, KRONG);
        assert_eq!(pace(i.lowest[0].pace.as_ref()).0, PaceStatus::OffTrack);
    }
}

#[tokio::test]
async fn the_status_known_at_a_meeting_stays_as_it_was_after_a_later_amendment() {
    let mut s = Scenario::start().await;
    s.four_weeks().await;
    // The meeting: Monday 31 March, 17:00 in Vietnam, after the last week's report (09:00).
    let meeting = "2025-03-31T10:00:00Z";
    let before_last_week = "2025-03-31T01:00:00Z";
    let at_meeting = s.status(GIA_LAI, Some(meeting)).await;
    let live = s.status(GIA_LAI, None).await;
    assert_eq!(
        at_meeting.indicators, live.indicators,
        "nothing changed yet"
    );
    // Read live before the amendment too: a cached pace must not outlive the version it was
    // judged at.
    let live_rows = s.progress(&[], None).await;
    assert_eq!(pace(row(&live_rows, HA_DONG).pace.as_ref()).1, Some(100.0));

    // Tuesday: police amends Hà Đông's last week, 1,200 → 1,250, and adds Hải Yang.
    s.report(
        "w-3-amend",
        3,
        "2025-04-01T02:00:00Z",
        RevisionMode::Amend,
        &[(HA_DONG, 1_250), ("23686", 400)],
    )
    .await;

    let today = s.status(GIA_LAI, None).await;
    assert_eq!(today.indicators[0].value, Some(2_880.0));
    assert_ne!(
        today.indicators[0].pace, live.indicators[0].pace,
        "the province's pace judged again after the amendment"
    );
    let again = s.status(GIA_LAI, Some(meeting)).await;
    assert_eq!(
        again.indicators, at_meeting.indicators,
        "the meeting's figures reproduced"
    );
    assert_eq!(again.indicators[0].value, Some(2_430.0));
    assert_eq!(again.indicators[0].localities_reporting, 3);
    assert_eq!(today.indicators[0].localities_reporting, 4);

    // Known before the last week's report arrived: the week before's figures, as of its end.
    let earlier = s.status(GIA_LAI, Some(before_last_week)).await;
    let i = &earlier.indicators[0];
    assert_eq!(i.value, Some(2_120.0));
    assert_eq!(
        p06_kit::convert::date_from_proto(i.oldest_as_of.as_ref()),
        Some(date("2025-03-23"))
    );

    // The communes and the district summary likewise.
    let rows = s.progress(&[], Some(meeting)).await;
    assert_eq!(row(&rows, HA_DONG).value, Some(1_200.0));
    assert_eq!(row(&rows, "23686").value, None);
    assert_eq!(pace(row(&rows, HA_DONG).pace.as_ref()).1, Some(100.0));
    let rows = s.progress(&[], None).await;
    assert_eq!(row(&rows, HA_DONG).value, Some(1_250.0));
    assert_eq!(pace(row(&rows, HA_DONG).pace.as_ref()).1, Some(116.67));

    let client = TaskForceServiceClient::new(s.t.channel().await);
    let summary = |known_at: Option<&str>| {
        let request = authed(
            SummarizeChildrenRequest {
                indicator_code: "vneid.l2.activated".into(),
                parent: locality(GIA_LAI),
                threshold_percent: 50.0,
                as_of: Some(date_to_proto(date(AS_OF))),
                known_at: known_at.map(|k| timestamp(at(k))),
            },
            &s.t.keys.viewer(),
        );
        let mut client = client.clone();
        async move {
            client
                .summarize_children(request)
                .await
                .unwrap()
                .into_inner()
                .children
        }
    };
    let dak_doa = |children: Vec<p06_proto::aggregation::ChildSummary>| {
        children
            .into_iter()
            .find(|c| {
                c.child
                    .as_ref()
                    .and_then(|p| p.locality.as_ref())
                    .is_some_and(|l| l.code == DAK_DOA)
            })
            .and_then(|c| c.child)
            .and_then(|c| c.value)
    };
    assert_eq!(dak_doa(summary(Some(meeting)).await), Some(2_430.0));
    assert_eq!(dak_doa(summary(None).await), Some(2_880.0));

    // The whole country is not computed as known at an instant.
    let mut client = TaskForceServiceClient::new(s.t.channel().await);
    let refused = client
        .get_consolidated_status(authed(
            GetConsolidatedStatusRequest {
                locality: locality("VN"),
                known_at: Some(timestamp(at(meeting))),
                ..Default::default()
            },
            &s.t.keys
                .token(Agency::Taskforce, "VN", p06_auth::Role::TaskforceViewer),
        ))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
}
