//! What the tests of history across the 2025 reform share (`tests/tests/reform.rs`,
//! `tests/tests/reform_2023.rs`): police reports of level-2 accounts and residents per commune in
//! any edition, the obligation bound to a province of any edition, tokens, and the views asked of
//! a locality of any edition (the whole country: code `VN`).

use p06_auth::{Agency, Grant, Role};
use p06_kit::convert::{date_to_proto, timestamp};
use p06_proto::aggregation::admin_service_client::AdminServiceClient;
use p06_proto::aggregation::task_force_service_client::TaskForceServiceClient;
use p06_proto::aggregation::{
    ConsolidatedStatus, GetConsolidatedStatusRequest, GetStatusTrendRequest, IndicatorStatus,
    ListLocalityProgressRequest, ListLocalityProgressResponse, ListObligationsRequest,
    LocalityLevel, LocalityProgress, Observation, SubmitReportRequest, Target, TrendPoint,
    UpsertObligationRequest, UpsertTargetsRequest,
};
use p06_proto::common::{LocalityRef, Narrative};
use tonic::transport::Channel;

use crate::fixtures::{date, obs, period};
use crate::services::{TestAggregator, authed};

pub const ACTIVATED: &str = "vneid.l2.activated";
pub const RESIDENTS: &str = "residents.permanent";
/// 2025 Gia Lai: old Bình Định's code.
pub const NEW_GIA_LAI: &str = "52";
/// The whole country (of the edition asked).
pub const COUNTRY: &str = "VN";

pub fn at(s: &str) -> chrono::DateTime<chrono::Utc> {
    s.parse().unwrap()
}

pub fn in_edition(edition: &str, code: &str) -> Option<LocalityRef> {
    Some(LocalityRef {
        edition: edition.into(),
        code: code.into(),
    })
}

pub fn token(
    t: &TestAggregator,
    edition: &str,
    province: &str,
    agency: Agency,
    role: Role,
) -> String {
    t.keys
        .dev
        .mint(&Grant::new(agency, edition, province, role))
        .unwrap()
}

/// A task-force viewer's token of `edition/province` (or of the whole country).
pub fn viewer(t: &TestAggregator, edition: &str, province: &str) -> String {
    token(
        t,
        edition,
        province,
        Agency::Taskforce,
        Role::TaskforceViewer,
    )
}

/// The police weekly report of `edition/province` for `(start, end)`: `(commune, activated,
/// residents)` per commune.
pub fn report(
    request_id: &str,
    edition: &str,
    province: &str,
    (start, end): (&str, &str),
    figures: &[(&str, f64, f64)],
) -> SubmitReportRequest {
    let observations: Vec<Observation> = figures
        .iter()
        .flat_map(|(code, activated, residents)| {
            [
                obs(ACTIVATED, code, *activated),
                obs(RESIDENTS, code, *residents),
            ]
        })
        .collect();
    SubmitReportRequest {
        request_id: request_id.into(),
        agency: "police".into(),
        obligation: "police-weekly-identity".into(),
        province: in_edition(edition, province),
        period: period(start, end),
        observations,
        narrative: Some(Narrative {
            assessment: "Các xã tiếp tục kích hoạt tài khoản mức 2 trong tuần.".into(),
            obstacles: "Thiếu thiết bị tại xã vùng sâu.".into(),
            proposals: "Bổ sung tổ lưu động.".into(),
        }),
        ..Default::default()
    }
}

/// Submits `report` as the province's police reporter.
pub async fn submit(t: &TestAggregator, report: SubmitReportRequest) {
    let province = report.province.clone().unwrap_or_default();
    let token = token(
        t,
        &province.edition,
        &province.code,
        Agency::Police,
        Role::Reporter,
    );
    t.ingest()
        .await
        .submit_report(authed(report, &token))
        .await
        .unwrap();
}

/// Sets targets of the level-2 activated accounts in `edition/province`, due `due`: `(locality
/// code, value)`, as the province's task-force admin.
pub async fn set_targets(
    t: &TestAggregator,
    edition: &str,
    province: &str,
    due: &str,
    targets: &[(&str, f64)],
) {
    let targets = targets
        .iter()
        .map(|&(code, value)| Target {
            indicator_code: ACTIVATED.into(),
            locality: in_edition(edition, code),
            due_date: Some(date_to_proto(date(due))),
            value,
            update_time: None,
        })
        .collect();
    let admin = token(
        t,
        edition,
        province,
        Agency::Taskforce,
        Role::TaskforceAdmin,
    );
    t.catalog()
        .await
        .upsert_targets(authed(
            UpsertTargetsRequest {
                request_id: format!("targets-{edition}-{province}"),
                targets,
            },
            &admin,
        ))
        .await
        .unwrap();
}

/// Binds the police weekly obligation (Gia Lai's settings) to `edition/province` as well.
pub async fn bind_police_weekly(t: &TestAggregator, edition: &str, province: &str) {
    let mut admin = AdminServiceClient::new(t.channel().await);
    let listed = admin
        .list_obligations(authed(
            ListObligationsRequest {
                page_size: 1_000,
                page_token: String::new(),
            },
            &t.keys.admin(),
        ))
        .await
        .unwrap()
        .into_inner();
    let spec = listed
        .obligations
        .iter()
        .find(|o| o.code == "police-weekly-identity")
        .expect("Gia Lai's police weekly obligation");
    let mut spec: serde_json::Value = serde_json::from_str(&spec.spec_json).unwrap();
    spec["provinces"] = serde_json::json!([format!("{edition}/{province}")]);
    admin
        .upsert_obligation(authed(
            UpsertObligationRequest {
                request_id: format!("bind-{edition}-{province}"),
                spec_json: spec.to_string(),
            },
            &token(
                t,
                edition,
                province,
                Agency::Taskforce,
                Role::TaskforceAdmin,
            ),
        ))
        .await
        .unwrap();
}

pub async fn client(t: &TestAggregator) -> TaskForceServiceClient<Channel> {
    TaskForceServiceClient::new(t.channel().await)
}

/// The status request of the activated accounts of `edition/code` as of `as_of`, as known at
/// `known_at` when set.
pub fn status_request(
    edition: &str,
    code: &str,
    as_of: &str,
    known_at: Option<&str>,
) -> GetConsolidatedStatusRequest {
    GetConsolidatedStatusRequest {
        locality: in_edition(edition, code),
        as_of: Some(date_to_proto(date(as_of))),
        indicator_codes: vec![ACTIVATED.into()],
        known_at: known_at.map(|k| timestamp(at(k))),
        ..Default::default()
    }
}

/// The status of the activated accounts of `edition/code` (a province, or `VN`) as of `as_of`.
pub async fn status(
    t: &TestAggregator,
    edition: &str,
    code: &str,
    as_of: &str,
) -> ConsolidatedStatus {
    status_known_at(t, edition, code, as_of, None).await
}

/// [`status`] as known at an instant.
pub async fn status_known_at(
    t: &TestAggregator,
    edition: &str,
    code: &str,
    as_of: &str,
    known_at: Option<&str>,
) -> ConsolidatedStatus {
    client(t)
        .await
        .get_consolidated_status(authed(
            status_request(edition, code, as_of, known_at),
            &viewer(t, edition, code),
        ))
        .await
        .unwrap()
        .into_inner()
}

pub fn activated(s: &ConsolidatedStatus) -> &IndicatorStatus {
    s.indicators
        .iter()
        .find(|i| i.indicator_code == ACTIVATED)
        .expect("the activated accounts")
}

/// The activated accounts of every unit at `level` below `edition/parent` (or the country's
/// provinces) as of `as_of`.
pub async fn progress(
    t: &TestAggregator,
    edition: &str,
    parent: &str,
    level: LocalityLevel,
    as_of: &str,
) -> ListLocalityProgressResponse {
    client(t)
        .await
        .list_locality_progress(authed(
            ListLocalityProgressRequest {
                indicator_code: ACTIVATED.into(),
                parent: in_edition(edition, parent),
                level: level as i32,
                as_of: Some(date_to_proto(date(as_of))),
                page_size: 1_000,
                ..Default::default()
            },
            &viewer(t, edition, parent),
        ))
        .await
        .unwrap()
        .into_inner()
}

/// The weekly trend of the level-2 activated accounts of 2025 Gia Lai, `points` points `step_days`
/// apart ending `as_of`, as a viewer of it sees them.
pub async fn activated_trend(
    t: &TestAggregator,
    as_of: &str,
    points: i32,
    step_days: i32,
) -> Vec<TrendPoint> {
    let trend = client(t)
        .await
        .get_status_trend(authed(
            GetStatusTrendRequest {
                locality: in_edition("2025", NEW_GIA_LAI),
                as_of: Some(date_to_proto(date(as_of))),
                points,
                step_days,
                indicator_codes: vec![ACTIVATED.into()],
                ..Default::default()
            },
            &viewer(t, "2025", NEW_GIA_LAI),
        ))
        .await
        .unwrap()
        .into_inner();
    trend.indicators.into_iter().next().unwrap().points
}

pub fn row<'a>(rows: &'a [LocalityProgress], code: &str) -> &'a LocalityProgress {
    rows.iter()
        .find(|r| r.locality.as_ref().is_some_and(|l| l.code == code))
        .unwrap_or_else(|| panic!("no row of {code}"))
}
