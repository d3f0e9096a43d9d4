//! Old Gia Lai: the three-tier edition 2024 (province 64, 218 communes), with targets and four weeks
//! of February–March 2025 from all three agencies, each received on the Monday after its week.
//!
//! Figures are synthetic but deterministic (derived from each commune's code), in the ranges the
//! province's real reports showed. Request ids are fixed, so loading twice stores nothing new.

use chrono::NaiveDate;
use p06_kit::convert::date_to_proto;
use p06_proto::aggregation::{RevisionMode, Target, UpsertTargetsRequest};
use p06_proto::common::{LocalityRef, Narrative, Period};
use p06_proto::health::{HealthFigures, SubmitHealthReportRequest};
use p06_proto::justice::{CivilStatusFigures, SubmitCivilStatusReportRequest};
use p06_proto::police::{IdentityFigures, SubmitIdentityReportRequest};

use p06_auth::{Agency, Role};

use super::{Demo, unit, with_token};
use crate::token::token;

pub const EDITION: &str = "2024";
pub const PROVINCE: &str = "64";

/// The first days of the demo's weekly periods (Monday to Sunday).
const WEEKS: [(i32, u32, u32); 4] = [(2025, 2, 24), (2025, 3, 3), (2025, 3, 10), (2025, 3, 17)];

fn province() -> Option<LocalityRef> {
    Some(LocalityRef {
        edition: EDITION.into(),
        code: PROVINCE.into(),
    })
}

fn period(week: usize) -> Option<Period> {
    let (y, m, d) = WEEKS[week];
    let start = NaiveDate::from_ymd_opt(y, m, d).expect("valid demo date");
    Some(Period {
        start: Some(date_to_proto(start)),
        end: Some(date_to_proto(start + chrono::Duration::days(6))),
    })
}

/// Loads old Gia Lai; returns a one-line summary.
pub async fn load(demo: &Demo<'_>) -> anyhow::Result<String> {
    let keys = demo.keys;
    let admin = token(
        keys,
        Agency::Taskforce,
        EDITION,
        PROVINCE,
        Role::TaskforceAdmin,
    )?;
    let mut clients = demo.clients().await?;
    let communes = clients.communes(EDITION, PROVINCE, &admin).await?;
    let mut catalog = clients.catalog.clone();

    let targets = communes
        .iter()
        .map(|code| Target {
            indicator_code: "vneid.l2.activated".into(),
            locality: Some(LocalityRef {
                edition: EDITION.into(),
                code: code.clone(),
            }),
            due_date: Some(date_to_proto(
                NaiveDate::from_ymd_opt(2025, 3, 31).expect("valid date"),
            )),
            value: (residents(code) as f64 * 0.55).round(),
            update_time: None,
        })
        .collect();
    catalog
        .upsert_targets(with_token(
            UpsertTargetsRequest {
                request_id: "demo-targets-2025-03".into(),
                targets,
            },
            &admin,
        )?)
        .await?;

    let police_token = token(keys, Agency::Police, EDITION, PROVINCE, Role::Reporter)?;
    let health_token = token(keys, Agency::Health, EDITION, PROVINCE, Role::Reporter)?;
    let justice_token = token(keys, Agency::Justice, EDITION, PROVINCE, Role::Reporter)?;
    let (mut police, mut health, mut justice) = (clients.police, clients.health, clients.justice);
    let mut reports = 0;
    for (week, &(y, m, d)) in WEEKS.iter().enumerate() {
        let w = week as f64;
        // Received the Monday after the week, in the morning: on time (due Wednesday 17:00).
        let monday =
            NaiveDate::from_ymd_opt(y, m, d).expect("valid demo date") + chrono::Duration::days(7);
        let narrative = Some(Narrative {
            assessment: format!(
                "Tuần {}: tiếp tục kích hoạt tài khoản định danh điện tử mức 2 tại {} xã.",
                week + 1,
                communes.len()
            ),
            obstacles: "Một số xã vùng sâu thiếu thiết bị và đường truyền.".into(),
            proposals: "Tăng cường tổ lưu động đến các thôn, làng chưa đạt chỉ tiêu.".into(),
        });
        let identity = communes
            .iter()
            .map(|code| {
                let r = residents(code);
                let activated = activated(code, w);
                let initiated = activated / 10;
                IdentityFigures {
                    locality_code: code.clone(),
                    permanent_residents: Some(r),
                    vneid_level1_created: Some(r / 10),
                    vneid_level2_created: Some(activated + r / 20),
                    vneid_level2_activated: Some(activated),
                    cccd_cards_issued: Some((r as f64 * 0.85) as i64),
                    signatures_initiated: (unit(code, 3) > 0.25).then_some(initiated),
                    signatures_completed: (unit(code, 3) > 0.25).then_some(initiated * 6 / 10),
                    signatures_pending: (unit(code, 3) > 0.25).then_some(initiated / 5),
                    ..Default::default()
                }
            })
            .collect();
        demo.clock.set(demo.local(monday, 8, 40));
        police
            .submit_identity_report(with_token(
                SubmitIdentityReportRequest {
                    request_id: format!("demo-police-w{week}"),
                    obligation: "police-weekly-identity".into(),
                    province: province(),
                    period: period(week),
                    localities: identity,
                    narrative: narrative.clone(),
                    mode: RevisionMode::Replace.into(),
                },
                &police_token,
            )?)
            .await?;
        let health_figures = communes
            .iter()
            .map(|code| {
                let r = residents(code);
                let recipients = r / 30;
                let facilities = 1 + (unit(code, 4) * 3.0) as i64;
                HealthFigures {
                    locality_code: code.clone(),
                    // Integration on VNeID needs an activated level-2 account: within police's
                    // figure (the cross-agency bounds of the compliance file).
                    bhyt_cards_integrated: Some((activated(code, w) as f64 * 0.85) as i64),
                    health_books_integrated: Some(
                        (activated(code, w) as f64 * (0.3 + 0.02 * w)) as i64,
                    ),
                    facilities_total: Some(facilities),
                    facilities_accepting_cccd: Some(facilities.min(1 + week as i64)),
                    pension_recipients: Some(recipients),
                    pension_recipients_cashless: Some(
                        (recipients as f64 * (0.5 + unit(code, 5) * 0.4)) as i64,
                    ),
                    ..Default::default()
                }
            })
            .collect();
        demo.clock.set(demo.local(monday, 9, 55));
        health
            .submit_health_report(with_token(
                SubmitHealthReportRequest {
                    request_id: format!("demo-health-w{week}"),
                    obligation: "health-weekly".into(),
                    province: province(),
                    period: period(week),
                    localities: health_figures,
                    narrative: narrative.clone(),
                    mode: RevisionMode::Replace.into(),
                },
                &health_token,
            )?)
            .await?;
        let civil = communes
            .iter()
            .map(|code| {
                let backlog = 2_000 + (unit(code, 6) * 6_000.0) as i64;
                let total = 10 + (unit(code, 7) * 50.0) as i64;
                let online = (total as f64 * (0.4 + unit(code, 8) * 0.5)) as i64;
                CivilStatusFigures {
                    locality_code: code.clone(),
                    records_backlog: Some(backlog),
                    records_digitized: Some(
                        (backlog as f64 * (0.3 + 0.05 * w)).min(backlog as f64) as i64,
                    ),
                    registrations_total: Some(total),
                    registrations_online: Some(online),
                    registrations_interlinked: Some(online / 4),
                }
            })
            .collect();
        demo.clock.set(demo.local(monday, 14, 20));
        justice
            .submit_civil_status_report(with_token(
                SubmitCivilStatusReportRequest {
                    request_id: format!("demo-justice-w{week}"),
                    obligation: "justice-weekly".into(),
                    province: province(),
                    period: period(week),
                    localities: civil,
                    narrative,
                    mode: RevisionMode::Replace.into(),
                },
                &justice_token,
            )?)
            .await?;
        reports += 3;
    }
    Ok(format!(
        "Gia Lai (edition {EDITION}, province {PROVINCE}): {} communes, targets, {reports} weekly reports",
        communes.len()
    ))
}

fn residents(code: &str) -> i64 {
    3_000 + (unit(code, 1) * 12_000.0) as i64
}

/// Level-2 accounts activated in a commune in week `w` (0-based).
fn activated(code: &str, w: f64) -> i64 {
    (residents(code) as f64 * (0.05 + unit(code, 2) * 0.5 + 0.015 * w)) as i64
}
