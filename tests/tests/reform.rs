//! History across the 2025 reform (issue 24, part 3), with the real crosswalk: old Gia Lai (64)
//! and old Bình Định (52) of edition 2024 merged into the 2025 province Gia Lai (52). Reports and
//! targets in 2024 units; the 2025 province's status before 1 July 2025 is the sum of both old
//! provinces', its communes carry their predecessors' figures (Hà Đông and Đak Sơmei → Đak Sơmei;
//! An Hòa, An Quang and the split An Nghĩa → An Hòa, its default successor), the edition-2024
//! answers stay as they were, and the trend runs across 1 July 2025 into a 2025 report. Runs on
//! SQLite, and on PostgreSQL when `P06_TEST_POSTGRES_URL` is set.

use p06_auth::{Agency, Role};
use p06_kit::convert::{date_from_proto, date_to_proto};
use p06_proto::aggregation::{LocalityLevel, LocalityProgress, SummarizeChildrenRequest};
use p06_tests::fixtures::*;
use p06_tests::reform::*;
use p06_tests::services::{TestAggregator, authed};

/// The status date of the issue (a Saturday; the week of 10–16 March is the latest reported).
const AS_OF: &str = "2025-03-22";
/// (commune, activated, residents) of old Gia Lai, week of 10–16 March 2025.
const OLD_GIA_LAI: [(&str, f64, f64); 3] = [
    (HA_DONG, 109.0, 5_908.0),
    ("23683", 300.0, 4_000.0),
    ("23684", 50.0, 3_000.0),
];
/// Old Bình Định; An Nghĩa (21634) was split between An Toàn and An Hòa (its default successor).
const OLD_BINH_DINH: [(&str, f64, f64); 4] = [
    ("21622", 80.0, 2_000.0),
    ("21628", 200.0, 6_000.0),
    ("21631", 150.0, 5_000.0),
    ("21634", 70.0, 1_500.0),
];

/// Both old provinces' reports of 10–16 March 2025 and targets on three old communes.
async fn reported() -> TestAggregator {
    let t = TestAggregator::start().await;
    t.clock.set(at("2025-03-17T02:00:00Z"));
    bind_police_weekly(&t, "2024", BINH_DINH).await;
    bind_police_weekly(&t, "2025", NEW_GIA_LAI).await;
    let mut ingest = t.ingest().await;
    for (province, figures) in [(GIA_LAI, &OLD_GIA_LAI[..]), (BINH_DINH, &OLD_BINH_DINH[..])] {
        ingest
            .submit_report(authed(
                report(
                    &format!("old-{province}"),
                    "2024",
                    province,
                    ("2025-03-10", "2025-03-16"),
                    figures,
                ),
                &token(&t, "2024", province, Agency::Police, Role::Reporter),
            ))
            .await
            .unwrap();
        let targets: &[(&str, f64)] = match province {
            GIA_LAI => &[(HA_DONG, 2_068.0), ("23683", 1_000.0)],
            _ => &[("21628", 500.0)],
        };
        set_targets(&t, "2024", province, "2025-06-30", targets).await;
    }
    t.clock.set(at("2025-03-22T03:00:00Z"));
    t
}

async fn communes(t: &TestAggregator, as_of: &str) -> Vec<LocalityProgress> {
    let response = progress(t, "2025", NEW_GIA_LAI, LocalityLevel::Commune, as_of).await;
    assert_eq!(response.carried_from_edition, 2024);
    response.rows
}

#[tokio::test(flavor = "multi_thread")]
async fn the_2025_province_before_july_sums_both_old_provinces() {
    let t = reported().await;
    let old_gia_lai = status(&t, "2024", GIA_LAI, AS_OF).await;
    let old_binh_dinh = status(&t, "2024", BINH_DINH, AS_OF).await;
    let new = status(&t, "2025", NEW_GIA_LAI, AS_OF).await;

    // The edition-2024 answers: each old province's own figures, nothing carried.
    let (a, b) = (activated(&old_gia_lai), activated(&old_binh_dinh));
    assert_eq!(a.value, Some(459.0));
    assert_eq!(b.value, Some(500.0));
    assert_eq!(a.target, Some(3_068.0));
    assert_eq!(b.target, Some(500.0));
    for s in [&old_gia_lai, &old_binh_dinh] {
        assert_eq!(s.carried_from_edition, 0);
        assert_eq!(activated(s).split_units, 0);
    }

    // The 2025 province as of 22 March 2025: the sum of both, targets likewise.
    let n = activated(&new);
    assert_eq!(new.carried_from_edition, 2024);
    assert_eq!(new.locality.as_ref().unwrap().edition, "2025");
    assert_eq!(n.value, Some(a.value.unwrap() + b.value.unwrap()));
    assert_eq!(n.target, Some(a.target.unwrap() + b.target.unwrap()));
    assert_eq!(
        n.denominator_value,
        Some(a.denominator_value.unwrap() + b.denominator_value.unwrap())
    );
    assert_eq!(n.denominator_value, Some(27_408.0));
    assert_eq!(
        n.percent_of_target.map(|p| (p * 100.0).round() / 100.0),
        Some(26.88)
    );
    // An Nghĩa (split) is the one split commune in the figure.
    assert_eq!(n.split_units, 1);
    // Reporting: the 2025 communes with a carried figure (4 of the province's).
    assert_eq!(n.localities_reporting, 4);
    assert_eq!(
        date_from_proto(n.oldest_as_of.as_ref()),
        Some(date("2025-03-16"))
    );

    // The 2024 answers are exactly what they were before the 2025 province was asked.
    assert_eq!(status(&t, "2024", GIA_LAI, AS_OF).await, old_gia_lai);
    assert_eq!(status(&t, "2024", BINH_DINH, AS_OF).await, old_binh_dinh);

    // On 1 July 2025 nothing is carried any more: no 2025 report, no figure.
    let after = status(&t, "2025", NEW_GIA_LAI, "2025-07-06").await;
    assert_eq!(after.carried_from_edition, 0);
    assert!(after.indicators.iter().all(|i| i.value.is_none()));
}

#[tokio::test(flavor = "multi_thread")]
async fn merged_communes_add_up_and_a_split_commune_counts_toward_its_default_successor() {
    let t = reported().await;
    let rows = communes(&t, AS_OF).await;
    // Hà Đông (109) and Đak Sơmei (300) → Đak Sơmei 23683; targets 2,068 + 1,000.
    let somei = row(&rows, "23683");
    assert_eq!(somei.value, Some(409.0));
    assert_eq!(somei.target, Some(3_068.0));
    assert_eq!(somei.denominator_value, Some(9_908.0));
    assert_eq!(somei.split_units, 0);
    // An Hòa (200), An Quang (150) and the split An Nghĩa (70) → An Hòa 21628.
    let an_hoa = row(&rows, "21628");
    assert_eq!(an_hoa.value, Some(420.0));
    assert_eq!(an_hoa.target, Some(500.0));
    assert_eq!(an_hoa.split_units, 1);
    // An Toàn keeps only its own figure: An Nghĩa's part of it is not divided off.
    let an_toan = row(&rows, "21622");
    assert_eq!(an_toan.value, Some(80.0));
    assert_eq!(an_toan.split_units, 0);
    // Đak Krong → Kon Gang 23701.
    assert_eq!(row(&rows, "23701").value, Some(50.0));
    // Every carried figure is somewhere, once.
    let total: f64 = rows.iter().filter_map(|r| r.value).sum();
    assert_eq!(total, 959.0);
    assert_eq!(rows.iter().filter(|r| r.value.is_some()).count(), 4);

    // The children summary of the 2025 province says it is carried too.
    let summary = client(&t)
        .await
        .summarize_children(authed(
            SummarizeChildrenRequest {
                indicator_code: ACTIVATED.into(),
                parent: in_edition("2025", NEW_GIA_LAI),
                threshold_percent: 50.0,
                as_of: Some(date_to_proto(date(AS_OF))),
                ..Default::default()
            },
            &token(
                &t,
                "2025",
                NEW_GIA_LAI,
                Agency::Taskforce,
                Role::TaskforceViewer,
            ),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(summary.carried_from_edition, 2024);
    let below: i32 = summary.children.iter().map(|c| c.below_threshold).sum();
    // Đak Sơmei at 13.3 % of its carried target; An Hòa at 84 %.
    assert_eq!(below, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_trend_of_the_2025_province_runs_across_the_reform() {
    let t = reported().await;
    // The first 2025 week: the 2025 province reports in its own units (Đak Sơmei, An Hòa).
    t.clock.set(at("2025-07-07T02:00:00Z"));
    t.ingest()
        .await
        .submit_report(authed(
            report(
                "new-52",
                "2025",
                NEW_GIA_LAI,
                ("2025-06-30", "2025-07-06"),
                &[("23683", 1_500.0, 9_908.0), ("21628", 900.0, 14_500.0)],
            ),
            &token(&t, "2025", NEW_GIA_LAI, Agency::Police, Role::Reporter),
        ))
        .await
        .unwrap();
    let trend = activated_trend(&t, "2025-07-06", 18, 7).await;
    let points: Vec<(String, Option<f64>, i32, i32)> = trend
        .iter()
        .map(|p| {
            (
                date_from_proto(p.as_of.as_ref()).unwrap().to_string(),
                p.value,
                p.carried_from_edition,
                p.split_units,
            )
        })
        .collect();
    // 18 weekly points ending 6 July: 9 March (before any report) … 29 June carried, 6 July live.
    assert_eq!(points[0], ("2025-03-09".into(), None, 2024, 0));
    assert_eq!(points[1], ("2025-03-16".into(), Some(959.0), 2024, 1));
    assert_eq!(points[16], ("2025-06-29".into(), Some(959.0), 2024, 1));
    assert_eq!(points[17], ("2025-07-06".into(), Some(2_400.0), 0, 0));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_2025_country_before_july_is_the_sum_of_its_provinces_carried() {
    let t = reported().await;
    let country = status(&t, "2025", COUNTRY, AS_OF).await;
    let province = status(&t, "2025", NEW_GIA_LAI, AS_OF).await;
    assert_eq!(country.carried_from_edition, 2024);
    assert_eq!(country.locality.as_ref().unwrap().code, COUNTRY);
    let (c, p) = (activated(&country), activated(&province));
    // Only old Gia Lai and old Bình Định reported: the country is new Gia Lai's 959 of 3,568.
    assert_eq!(c.value, Some(959.0));
    assert_eq!(c.value, p.value);
    assert_eq!(c.target, Some(3_568.0));
    assert_eq!(c.denominator_value, Some(27_408.0));
    assert_eq!(c.split_units, 1);
    assert_eq!(c.uncarried_units, 0);
    assert_eq!(c.localities_reporting, 4);
    assert_eq!(c.reports_included, 2);
    // Every 2025 commune is expected.
    assert_eq!(c.localities_expected, 3_321);
    // The lowest rows are provinces: new Gia Lai, carried, the only one with a target.
    assert_eq!(c.lowest.len(), 1);
    assert_eq!(c.lowest[0].locality.as_ref().unwrap().code, NEW_GIA_LAI);
    assert_eq!(c.lowest[0].value, Some(959.0));
    assert_eq!(c.lowest[0].split_units, 1);

    // The three-tier country of the same date counts the same reports in its own units.
    let three_tier = status(&t, "2024", COUNTRY, AS_OF).await;
    assert_eq!(three_tier.carried_from_edition, 0);
    assert_eq!(activated(&three_tier).value, c.value);
    assert_eq!(activated(&three_tier).target, c.target);

    // The country's provinces, each carried: new Gia Lai with the figure, the 33 others none.
    let listed = progress(&t, "2025", COUNTRY, LocalityLevel::Province, AS_OF).await;
    assert_eq!(listed.carried_from_edition, 2024);
    assert_eq!(listed.rows.len(), 34);
    assert_eq!(row(&listed.rows, NEW_GIA_LAI).value, Some(959.0));
    assert_eq!(row(&listed.rows, NEW_GIA_LAI).target, Some(3_568.0));
    assert_eq!(listed.rows.iter().filter(|r| r.value.is_some()).count(), 1);

    // After 1 July 2025 nothing is carried; the country as known at an instant stays refused.
    let after = status(&t, "2025", COUNTRY, "2025-07-06").await;
    assert_eq!(after.carried_from_edition, 0);
    assert!(after.indicators.iter().all(|i| i.value.is_none()));
    let refused = client(&t)
        .await
        .get_consolidated_status(authed(
            status_request("2025", COUNTRY, AS_OF, Some("2025-03-22T03:00:00Z")),
            &viewer(&t, "2025", COUNTRY),
        ))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
    assert!(refused.message().contains("known at"), "{refused:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_carried_status_known_at_an_instant_stays_as_it_was_after_a_later_amendment() {
    let t = reported().await;
    // The meeting, after both old provinces' reports (17 March) and before the amendment.
    let meeting = "2025-03-22T03:30:00Z";
    let at_meeting = status_known_at(&t, "2025", NEW_GIA_LAI, AS_OF, Some(meeting)).await;
    let live = status(&t, "2025", NEW_GIA_LAI, AS_OF).await;
    assert_eq!(at_meeting.carried_from_edition, 2024);
    assert_eq!(activated(&at_meeting).value, Some(959.0));
    assert_eq!(
        at_meeting.indicators, live.indicators,
        "nothing changed yet"
    );

    // After the meeting old Gia Lai's police amend Hà Đông's week in 2024 units: 109 → 209.
    t.clock.set(at("2025-03-22T04:00:00Z"));
    let mut amended = report(
        "old-64-amend",
        "2024",
        GIA_LAI,
        ("2025-03-10", "2025-03-16"),
        &[(HA_DONG, 209.0, 5_908.0)],
    );
    amended.mode = p06_proto::aggregation::RevisionMode::Amend.into();
    submit(&t, amended).await;

    // Today's carried status changed; the meeting's is reproduced unchanged.
    let today = status(&t, "2025", NEW_GIA_LAI, AS_OF).await;
    assert_eq!(activated(&today).value, Some(1_059.0));
    assert_eq!(today.carried_from_edition, 2024);
    let again = status_known_at(&t, "2025", NEW_GIA_LAI, AS_OF, Some(meeting)).await;
    assert_eq!(
        again, at_meeting,
        "the meeting's carried figures reproduced"
    );
    // The communes likewise: Đak Sơmei carries Hà Đông's amended figure only today.
    let rows = communes(&t, AS_OF).await;
    assert_eq!(row(&rows, "23683").value, Some(509.0));
    // The old province as known at the meeting is what the carried figure was made of.
    let old = status_known_at(&t, "2024", GIA_LAI, AS_OF, Some(meeting)).await;
    assert_eq!(activated(&old).value, Some(459.0));
}
