//! Demo-like data for the browser tests, loaded the way `p06 up` loads its old Gia Lai (edition
//! 2024, province 64, 218 communes in 17 districts): targets for every commune, then four weeks
//! (17 February – 16 March 2025) from all three agencies through their own services, each received
//! at a set instant of the aggregator's clock. The mix a task force sees: most reports on time, the
//! justice report of the third week a day late, its first week vague (one commune, no narrative),
//! and the police report of the last week corrected once (revision 2, one commune's accounts).

use chrono::{DateTime, Duration, NaiveDate, Utc};
use p06_auth::Agency;
use p06_kit::convert::date_to_proto;
use p06_proto::aggregation::{
    ListLocalitiesRequest, LocalityLevel, RevisionMode, Target, UpsertTargetsRequest,
};
use p06_proto::common::{LocalityRef, Narrative, Period};
use p06_proto::health::health_reporting_service_client::HealthReportingServiceClient;
use p06_proto::health::{HealthFigures, SubmitHealthReportRequest};
use p06_proto::justice::justice_reporting_service_client::JusticeReportingServiceClient;
use p06_proto::justice::{CivilStatusFigures, SubmitCivilStatusReportRequest};
use p06_proto::police::police_reporting_service_client::PoliceReportingServiceClient;
use p06_proto::police::{IdentityFigures, SubmitIdentityReportRequest};
use p06_tests::fixtures::{EDITION, GIA_LAI};
use p06_tests::services::{TestAggregator, authed, default_now};

/// Mondays starting the four weeks reported.
pub const WEEKS: [&str; 4] = ["2025-02-17", "2025-02-24", "2025-03-03", "2025-03-10"];

/// The services reports go through.
pub struct Agencies {
    pub police: String,
    pub health: String,
    pub justice: String,
}

/// What the loaded data holds, for the tests to ask about.
pub struct Loaded {
    /// Every commune of the province, in code order.
    pub communes: Vec<String>,
}

pub fn day(s: &str) -> NaiveDate {
    s.parse().expect("a date")
}

/// A local time in Vietnam (UTC+7, no daylight saving).
fn local(date: NaiveDate, hour: u32, minute: u32) -> DateTime<Utc> {
    date.and_hms_opt(hour, minute, 0).expect("a time").and_utc() - Duration::hours(7)
}

/// A stable number in 0..1 for a commune and a purpose.
fn unit(code: &str, salt: u64) -> f64 {
    let mut h: u64 = 0x9e37_79b9_7f4a_7c15 ^ salt.wrapping_mul(0x0100_0000_01b3);
    for b in code.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    (h % 10_000) as f64 / 10_000.0
}

pub fn residents(code: &str) -> i64 {
    3_000 + (unit(code, 1) * 12_000.0) as i64
}

fn province() -> Option<LocalityRef> {
    Some(LocalityRef {
        edition: EDITION.into(),
        code: GIA_LAI.into(),
    })
}

pub fn week_period(monday: NaiveDate) -> Option<Period> {
    Some(Period {
        start: Some(date_to_proto(monday)),
        end: Some(date_to_proto(monday + Duration::days(6))),
    })
}

fn narrative(week: usize, communes: usize) -> Option<Narrative> {
    Some(Narrative {
        assessment: format!(
            "Tuần {}: kích hoạt tài khoản định danh điện tử mức 2 tại {communes} xã, đạt 38,5% \
             dân số thường trú.",
            week + 1
        ),
        obstacles: "Một số xã vùng sâu thiếu thiết bị và đường truyền.".into(),
        proposals: "Tăng cường tổ lưu động đến các thôn, làng chưa đạt chỉ tiêu.".into(),
    })
}

/// Level-2 accounts activated in a commune in a week (0-based).
fn activated(code: &str, week: usize) -> i64 {
    (residents(code) as f64 * (0.05 + unit(code, 2) * 0.5 + 0.015 * week as f64)) as i64
}

/// The police figures of a commune in a week (0-based).
pub fn identity(code: &str, week: usize) -> IdentityFigures {
    let r = residents(code);
    let activated = activated(code, week);
    IdentityFigures {
        locality_code: code.to_owned(),
        permanent_residents: Some(r),
        vneid_level1_created: Some(r / 10),
        vneid_level2_created: Some(activated + r / 20),
        vneid_level2_activated: Some(activated),
        cccd_cards_issued: Some((r as f64 * 0.85) as i64),
        ..Default::default()
    }
}

fn health(code: &str, week: usize) -> HealthFigures {
    let r = residents(code);
    let w = week as f64;
    let recipients = r / 30;
    HealthFigures {
        locality_code: code.to_owned(),
        // Within police's level-2 accounts activated (the cross-agency bounds).
        bhyt_cards_integrated: Some((activated(code, week) as f64 * 0.85) as i64),
        health_books_integrated: Some((activated(code, week) as f64 * (0.3 + 0.02 * w)) as i64),
        pension_recipients: Some(recipients),
        pension_recipients_cashless: Some((recipients as f64 * (0.5 + unit(code, 5) * 0.4)) as i64),
        ..Default::default()
    }
}

fn civil_status(code: &str, week: usize) -> CivilStatusFigures {
    let backlog = 2_000 + (unit(code, 6) * 6_000.0) as i64;
    let total = 10 + (unit(code, 7) * 50.0) as i64;
    let online = (total as f64 * (0.4 + unit(code, 8) * 0.5)) as i64;
    CivilStatusFigures {
        locality_code: code.to_owned(),
        records_backlog: Some(backlog),
        records_digitized: Some((backlog as f64 * (0.3 + 0.05 * week as f64)) as i64),
        registrations_total: Some(total),
        registrations_online: Some(online),
        registrations_interlinked: Some(online / 4),
    }
}

/// Loads the data; the aggregator's clock is back at the tests' "now" afterwards.
pub async fn load(t: &TestAggregator, agencies: &Agencies) -> Loaded {
    let admin = t.keys.admin();
    let mut catalog = t.catalog().await;
    let communes: Vec<String> = catalog
        .list_localities(authed(
            ListLocalitiesRequest {
                edition: EDITION.into(),
                parent_code: GIA_LAI.into(),
                level: LocalityLevel::Commune as i32,
                page_size: 1_000,
                page_token: String::new(),
            },
            &admin,
        ))
        .await
        .expect("communes")
        .into_inner()
        .localities
        .into_iter()
        .map(|l| l.code)
        .collect();
    assert!(communes.len() > 200, "Gia Lai's communes");
    let targets = communes
        .iter()
        .map(|code| Target {
            indicator_code: "vneid.l2.activated".into(),
            locality: Some(LocalityRef {
                edition: EDITION.into(),
                code: code.clone(),
            }),
            due_date: Some(date_to_proto(day("2025-03-31"))),
            value: (residents(code) as f64 * 0.55).round(),
            update_time: None,
        })
        .collect();
    catalog
        .upsert_targets(authed(
            UpsertTargetsRequest {
                request_id: "browser-targets".into(),
                targets,
            },
            &admin,
        ))
        .await
        .expect("targets");

    let police_token = t.keys.reporter(Agency::Police);
    let health_token = t.keys.reporter(Agency::Health);
    let justice_token = t.keys.reporter(Agency::Justice);
    let mut police = PoliceReportingServiceClient::connect(agencies.police.clone())
        .await
        .unwrap();
    let mut health_api = HealthReportingServiceClient::connect(agencies.health.clone())
        .await
        .unwrap();
    let mut justice = JusticeReportingServiceClient::connect(agencies.justice.clone())
        .await
        .unwrap();
    for (week, monday) in WEEKS.iter().map(|d| day(d)).enumerate() {
        // Received the Monday after the week: on time (due the Tuesday, 17:00).
        let next = monday + Duration::days(7);
        t.clock.set(local(next, 8, 40));
        police
            .submit_identity_report(authed(
                SubmitIdentityReportRequest {
                    request_id: format!("browser-police-w{week}"),
                    obligation: "police-weekly-identity".into(),
                    province: province(),
                    period: week_period(monday),
                    localities: communes.iter().map(|c| identity(c, week)).collect(),
                    narrative: narrative(week, communes.len()),
                    mode: RevisionMode::Replace.into(),
                },
                &police_token,
            ))
            .await
            .expect("police report");
        if week == 3 {
            // The clerk corrects one commune's accounts the next morning: revision 2.
            t.clock.set(local(next + Duration::days(1), 11, 0));
            let corrected = communes
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let mut f = identity(c, week);
                    if i == 2 {
                        f.vneid_level2_activated = f.vneid_level2_activated.map(|v| v + 120);
                        f.vneid_level2_created = f.vneid_level2_created.map(|v| v + 120);
                    }
                    f
                })
                .collect();
            police
                .submit_identity_report(authed(
                    SubmitIdentityReportRequest {
                        request_id: format!("browser-police-w{week}-corrected"),
                        obligation: "police-weekly-identity".into(),
                        province: province(),
                        period: week_period(monday),
                        localities: corrected,
                        narrative: narrative(week, communes.len()),
                        mode: RevisionMode::Replace.into(),
                    },
                    &police_token,
                ))
                .await
                .expect("police correction");
        }
        t.clock.set(local(next, 9, 55));
        health_api
            .submit_health_report(authed(
                SubmitHealthReportRequest {
                    request_id: format!("browser-health-w{week}"),
                    obligation: "health-weekly".into(),
                    province: province(),
                    period: week_period(monday),
                    localities: communes.iter().map(|c| health(c, week)).collect(),
                    narrative: narrative(week, communes.len()),
                    mode: RevisionMode::Replace.into(),
                },
                &health_token,
            ))
            .await
            .expect("health report");
        // Justice: the first week vague (one commune, no narrative), the third a day late.
        let (localities, words) = if week == 0 {
            (vec![civil_status(&communes[0], week)], None)
        } else {
            (
                communes.iter().map(|c| civil_status(c, week)).collect(),
                narrative(week, communes.len()),
            )
        };
        let received = if week == 2 {
            local(next + Duration::days(2), 10, 5)
        } else {
            local(next, 14, 20)
        };
        t.clock.set(received);
        justice
            .submit_civil_status_report(authed(
                SubmitCivilStatusReportRequest {
                    request_id: format!("browser-justice-w{week}"),
                    obligation: "justice-weekly".into(),
                    province: province(),
                    period: week_period(monday),
                    localities,
                    narrative: words,
                    mode: RevisionMode::Replace.into(),
                },
                &justice_token,
            ))
            .await
            .expect("justice report");
    }
    t.clock.set(default_now());
    Loaded { communes }
}
