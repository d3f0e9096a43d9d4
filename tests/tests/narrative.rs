//! Narrative figures checked end to end (issue 23, part 1): the three slips of the issue sent
//! through the agency services raise NARRATIVE_MISMATCH on the receipt and as a flag, with the
//! sentence, the printed and the computed value; the truncated percentage raises none. A claim
//! about an indicator is checked against the report's own province total. Runs on SQLite, and on
//! PostgreSQL when `P06_TEST_POSTGRES_URL` is set.

use p06_auth::Agency;
use p06_domain::locality::{Edition, Level};
use p06_kit::host::Running;
use p06_proto::aggregation::task_force_service_client::TaskForceServiceClient;
use p06_proto::aggregation::{Flag, GetReportRequest, ListFlagsRequest, Receipt};
use p06_proto::common::Narrative;
use p06_proto::health::health_reporting_service_client::HealthReportingServiceClient;
use p06_proto::health::{HealthFigures, SubmitHealthReportRequest};
use p06_proto::justice::justice_reporting_service_client::JusticeReportingServiceClient;
use p06_proto::justice::{CivilStatusFigures, SubmitCivilStatusReportRequest};
use p06_proto::police::police_reporting_service_client::PoliceReportingServiceClient;
use p06_proto::police::{IdentityFigures, SubmitIdentityReportRequest};
use p06_tests::fixtures::*;
use p06_tests::services::{TestAggregator, authed, start_agency};
use tonic::transport::Channel;

const MISMATCH: &str = "NARRATIVE_MISMATCH";

async fn channel(running: &Running) -> Channel {
    Channel::from_shared(running.url())
        .unwrap()
        .connect()
        .await
        .unwrap()
}

fn narrative(assessment: &str) -> Option<Narrative> {
    Some(Narrative {
        assessment: assessment.into(),
        obstacles: "Thiếu thiết bị tại xã vùng sâu.".into(),
        proposals: "Bổ sung tổ lưu động.".into(),
    })
}

fn identity(
    request_id: &str,
    figures: Vec<IdentityFigures>,
    text: &str,
) -> SubmitIdentityReportRequest {
    SubmitIdentityReportRequest {
        request_id: request_id.into(),
        obligation: "police-weekly-identity".into(),
        province: province(GIA_LAI),
        period: period("2025-03-10", "2025-03-16"),
        localities: figures,
        narrative: narrative(text),
        ..Default::default()
    }
}

fn ha_dong() -> IdentityFigures {
    IdentityFigures {
        locality_code: HA_DONG.into(),
        permanent_residents: Some(5_908),
        vneid_level2_created: Some(150),
        vneid_level2_activated: Some(109),
        ..Default::default()
    }
}

fn mismatches(receipt: &Receipt) -> Vec<&Flag> {
    receipt
        .flags
        .iter()
        .filter(|f| f.kind == MISMATCH)
        .collect()
}

async fn open_mismatches(t: &TestAggregator) -> Vec<Flag> {
    TaskForceServiceClient::new(t.channel().await)
        .list_flags(authed(
            ListFlagsRequest {
                province: province(GIA_LAI),
                kind: MISMATCH.into(),
                state: "OPEN".into(),
                page_size: 100,
                ..Default::default()
            },
            &t.keys.viewer(),
        ))
        .await
        .unwrap()
        .into_inner()
        .flags
}

#[tokio::test]
async fn the_three_slips_through_the_agency_services() {
    let t = TestAggregator::start().await;
    let police = start_agency(&t.keys, t.running.url(), Agency::Police).await;
    let justice = start_agency(&t.keys, t.running.url(), Agency::Justice).await;
    let health = start_agency(&t.keys, t.running.url(), Agency::Health).await;

    // Quảng Nam's 186,568 of 738,291 printed as 24.37 % (the counts give 25.27 %), sent by police.
    let slip = "Đến nay có 186.568/738.291 công dân đã kích hoạt tài khoản định danh điện tử mức 2 \
                (đạt 24,37%).";
    let police_token = t.keys.reporter(Agency::Police);
    let receipt = PoliceReportingServiceClient::new(channel(&police).await)
        .submit_identity_report(authed(
            identity("n-1", vec![ha_dong()], slip),
            &police_token,
        ))
        .await
        .unwrap()
        .into_inner();
    let flags = mismatches(&receipt);
    assert_eq!(flags.len(), 1, "{:?}", receipt.flags);
    let f = flags[0];
    assert_eq!(f.message, "186.568/738.291 = 25,27 %, báo cáo ghi 24,37 %");
    assert_eq!(f.quote, slip);
    assert_eq!(f.value, Some(24.37));
    let computed = f.reference.expect("the computed value");
    assert!((computed - 25.2705).abs() < 1e-3, "{computed}");
    assert_eq!(
        (f.agency.as_str(), f.report.as_str()),
        ("police", receipt.report.as_str())
    );
    // The stored report's receipt says the same.
    let stored = t
        .ingest()
        .await
        .get_report(authed(
            GetReportRequest {
                name: receipt.report.clone(),
            },
            &police_token,
        ))
        .await
        .unwrap()
        .into_inner();
    let stored_receipt = stored.receipt.expect("receipt");
    assert_eq!(mismatches(&stored_receipt).len(), 1);
    assert_eq!(mismatches(&stored_receipt)[0].quote, slip);

    // 14,571 of 20,934 records "85.7 %" (the counts give 69.6 %), sent by justice, English digits.
    let slip = "Đã số hóa 14,571/20,934 dữ liệu hộ tịch cần số hóa, đạt 85.7%.";
    let receipt = JusticeReportingServiceClient::new(channel(&justice).await)
        .submit_civil_status_report(authed(
            SubmitCivilStatusReportRequest {
                request_id: "n-2".into(),
                obligation: "justice-weekly".into(),
                province: province(GIA_LAI),
                period: period("2025-03-10", "2025-03-16"),
                localities: vec![CivilStatusFigures {
                    locality_code: DAK_DOA.into(),
                    records_digitized: Some(14_571),
                    records_backlog: Some(20_934),
                    registrations_total: Some(40),
                    registrations_online: Some(30),
                    registrations_interlinked: Some(6),
                }],
                narrative: narrative(slip),
                ..Default::default()
            },
            &t.keys.reporter(Agency::Justice),
        ))
        .await
        .unwrap()
        .into_inner();
    let flags = mismatches(&receipt);
    assert_eq!(flags.len(), 1, "{:?}", receipt.flags);
    assert_eq!(
        flags[0].message,
        "14.571/20.934 = 69,6 %, báo cáo ghi 85,7 %"
    );
    assert_eq!(flags[0].value, Some(85.7));

    // 194,675 / 194,703 printed 99.98 %: truncated, not rounded (99.99 %): accepted, no flag.
    let truncated = "Đã tích hợp 194,675/194,703 thẻ BHYT trên VNeID (99.98 %).";
    let receipt = HealthReportingServiceClient::new(channel(&health).await)
        .submit_health_report(authed(
            SubmitHealthReportRequest {
                request_id: "n-3".into(),
                obligation: "health-weekly".into(),
                province: province(GIA_LAI),
                period: period("2025-03-10", "2025-03-16"),
                localities: vec![HealthFigures {
                    locality_code: HA_DONG.into(),
                    bhyt_cards_integrated: Some(3_000),
                    pension_recipients: Some(200),
                    pension_recipients_cashless: Some(150),
                    ..Default::default()
                }],
                narrative: narrative(truncated),
                ..Default::default()
            },
            &t.keys.reporter(Agency::Health),
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(mismatches(&receipt).is_empty(), "{:?}", receipt.flags);

    // The task force sees the two slips, each once.
    let open = open_mismatches(&t).await;
    let mut agencies: Vec<&str> = open.iter().map(|f| f.agency.as_str()).collect();
    agencies.sort();
    assert_eq!(agencies, ["justice", "police"]);
}

/// A report of every commune of Gia Lai: its province totals are what the narrative is checked
/// against; a wrong share of residents is flagged on the indicator, a right one is not.
#[tokio::test]
async fn a_claim_about_an_indicator_is_checked_against_the_reports_totals() {
    let t = TestAggregator::start().await;
    let police = start_agency(&t.keys, t.running.url(), Agency::Police).await;
    let catalog = &t.aggregator.state.catalog;
    let pid = catalog
        .province(Edition::E2024, GIA_LAI)
        .expect("Gia Lai")
        .id;
    let communes: Vec<String> = catalog
        .in_province(pid)
        .filter(|l| l.level == Level::Commune)
        .map(|l| l.code.clone())
        .collect();
    assert!(communes.len() > 100);
    // Every commune: 8.000 residents, 3.300 activated (41,25 %).
    let figures: Vec<IdentityFigures> = communes
        .iter()
        .map(|c| IdentityFigures {
            locality_code: c.clone(),
            permanent_residents: Some(8_000),
            vneid_level2_created: Some(3_500),
            vneid_level2_activated: Some(3_300),
            cccd_cards_issued: Some(7_000),
            ..Default::default()
        })
        .collect();
    let n = communes.len() as i64;
    let total = |v: i64| p06_domain::narrative::number::format_vi((v * n) as f64, 0);
    let token = t.keys.reporter(Agency::Police);
    let mut client = PoliceReportingServiceClient::new(channel(&police).await);

    let wrong = format!(
        "Toàn tỉnh đã kích hoạt {} tài khoản định danh điện tử mức 2, đạt 14,25% dân số thường trú.",
        total(3_300)
    );
    let receipt = client
        .submit_identity_report(authed(identity("all-1", figures.clone(), &wrong), &token))
        .await
        .unwrap()
        .into_inner();
    let flags = mismatches(&receipt);
    assert_eq!(flags.len(), 1, "{:?}", receipt.flags);
    assert_eq!(flags[0].indicator_code, "vneid.l2.activated");
    assert_eq!(
        flags[0].message,
        format!(
            "Tài khoản định danh điện tử mức 2 đã kích hoạt: {}/{} (công dân thường trú) = 41,25 %, \
             báo cáo ghi 14,25 %",
            total(3_300),
            total(8_000)
        )
    );
    assert_eq!(
        (flags[0].value, flags[0].reference),
        (Some(14.25), Some(41.25))
    );

    // The corrected revision raises none.
    let right = format!(
        "Toàn tỉnh đã kích hoạt {} tài khoản định danh điện tử mức 2, đạt 41,25% dân số thường trú.",
        total(3_300)
    );
    let receipt = client
        .submit_identity_report(authed(identity("all-2", figures, &right), &token))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(receipt.revision, 2);
    assert!(mismatches(&receipt).is_empty(), "{:?}", receipt.flags);
    // …and supersedes the first revision's: its flag is resolved.
    assert!(open_mismatches(&t).await.is_empty());
}
