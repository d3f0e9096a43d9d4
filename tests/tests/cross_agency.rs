//! Cross-agency bounds end to end (issue 23, part 2), through the real police and health agency
//! services: health's BHYT cards integrated above police's level-2 accounts activated in a commune
//! raises CROSS_AGENCY_MISMATCH naming both reports, both figures and the commune; police's next
//! report lifting the bound resolves it; a lower police figure breaks it from the other side and a
//! corrected health revision resolves that. Runs on SQLite, and on PostgreSQL when
//! `P06_TEST_POSTGRES_URL` is set.

use p06_auth::Agency;
use p06_kit::host::Running;
use p06_proto::aggregation::task_force_service_client::TaskForceServiceClient;
use p06_proto::aggregation::{
    Flag, GetComplianceBoardRequest, ListFlagsRequest, ObligationCompliance, Receipt,
};
use p06_proto::common::Narrative;
use p06_proto::health::health_reporting_service_client::HealthReportingServiceClient;
use p06_proto::health::{HealthFigures, SubmitHealthReportRequest};
use p06_proto::police::police_reporting_service_client::PoliceReportingServiceClient;
use p06_proto::police::{IdentityFigures, SubmitIdentityReportRequest};
use p06_tests::fixtures::*;
use p06_tests::services::{TestAggregator, authed, start_agency};
use tonic::transport::Channel;

const KIND: &str = "CROSS_AGENCY_MISMATCH";
const WEEKS: [(&str, &str); 3] = [
    ("2025-03-10", "2025-03-16"),
    ("2025-03-17", "2025-03-23"),
    ("2025-03-24", "2025-03-30"),
];

async fn channel(running: &Running) -> Channel {
    Channel::from_shared(running.url())
        .unwrap()
        .connect()
        .await
        .unwrap()
}

fn narrative() -> Option<Narrative> {
    Some(Narrative {
        assessment: "Tiếp tục rà soát, cập nhật số liệu tại các xã trong tuần.".into(),
        obstacles: "Thiếu thiết bị tại xã vùng sâu.".into(),
        proposals: "Bổ sung tổ lưu động.".into(),
    })
}

struct Scenario {
    t: TestAggregator,
    police: PoliceReportingServiceClient<Channel>,
    health: HealthReportingServiceClient<Channel>,
    _services: (Running, Running),
}

impl Scenario {
    async fn start() -> Scenario {
        let t = TestAggregator::start().await;
        // Every week of the scenario has started (and its deadline passed).
        t.clock.set("2025-05-01T03:00:00Z".parse().unwrap());
        let police = start_agency(&t.keys, t.running.url(), Agency::Police).await;
        let health = start_agency(&t.keys, t.running.url(), Agency::Health).await;
        Scenario {
            police: PoliceReportingServiceClient::new(channel(&police).await),
            health: HealthReportingServiceClient::new(channel(&health).await),
            _services: (police, health),
            t,
        }
    }

    /// Police's week: level-2 accounts created and activated in Hà Đông.
    async fn police(&mut self, request_id: &str, week: usize, activated: i64) -> Receipt {
        self.police
            .submit_identity_report(authed(
                SubmitIdentityReportRequest {
                    request_id: request_id.into(),
                    obligation: "police-weekly-identity".into(),
                    province: province(GIA_LAI),
                    period: period(WEEKS[week].0, WEEKS[week].1),
                    localities: vec![IdentityFigures {
                        locality_code: HA_DONG.into(),
                        permanent_residents: Some(5_908),
                        vneid_level2_created: Some(2_000),
                        vneid_level2_activated: Some(activated),
                        ..Default::default()
                    }],
                    narrative: narrative(),
                    ..Default::default()
                },
                &self.t.keys.reporter(Agency::Police),
            ))
            .await
            .unwrap()
            .into_inner()
    }

    /// Health's week: BHYT cards and health books integrated on VNeID in Hà Đông.
    async fn health(&mut self, request_id: &str, week: usize, cards: i64, books: i64) -> Receipt {
        self.health
            .submit_health_report(authed(
                SubmitHealthReportRequest {
                    request_id: request_id.into(),
                    obligation: "health-weekly".into(),
                    province: province(GIA_LAI),
                    period: period(WEEKS[week].0, WEEKS[week].1),
                    localities: vec![HealthFigures {
                        locality_code: HA_DONG.into(),
                        bhyt_cards_integrated: Some(cards),
                        health_books_integrated: Some(books),
                        pension_recipients: Some(200),
                        pension_recipients_cashless: Some(150),
                        ..Default::default()
                    }],
                    narrative: narrative(),
                    ..Default::default()
                },
                &self.t.keys.reporter(Agency::Health),
            ))
            .await
            .unwrap()
            .into_inner()
    }

    async fn flags(&self, state: &str) -> Vec<Flag> {
        TaskForceServiceClient::new(self.t.channel().await)
            .list_flags(authed(
                ListFlagsRequest {
                    province: province(GIA_LAI),
                    kind: KIND.into(),
                    state: state.into(),
                    page_size: 100,
                    ..Default::default()
                },
                &self.t.keys.viewer(),
            ))
            .await
            .unwrap()
            .into_inner()
            .flags
    }

    async fn board(&self) -> Vec<ObligationCompliance> {
        TaskForceServiceClient::new(self.t.channel().await)
            .get_compliance_board(authed(
                GetComplianceBoardRequest {
                    province: province(GIA_LAI),
                    ..Default::default()
                },
                &self.t.keys.viewer(),
            ))
            .await
            .unwrap()
            .into_inner()
            .obligations
    }
}

fn raised(receipt: &Receipt) -> Vec<&Flag> {
    receipt.flags.iter().filter(|f| f.kind == KIND).collect()
}

#[tokio::test]
async fn health_above_police_is_flagged_naming_both_and_resolved_by_polices_next_report() {
    let mut s = Scenario::start().await;
    let police_1 = s.police("p-1", 0, 1_000).await;
    assert!(raised(&police_1).is_empty(), "{:?}", police_1.flags);

    // Health integrates 1,200 cards where police has activated 1,000 accounts: one flag, on the
    // health report, naming both reports, both figures and the commune. The 800 health books are
    // within the bound.
    let health_1 = s.health("h-1", 0, 1_200, 800).await;
    let flags = raised(&health_1);
    assert_eq!(flags.len(), 1, "{:?}", health_1.flags);
    let f = flags[0];
    assert_eq!(
        (
            f.agency.as_str(),
            f.obligation.as_str(),
            f.report.as_str(),
            f.indicator_code.as_str(),
            f.locality_code.as_str(),
            f.state.as_str()
        ),
        (
            "health",
            "health-weekly",
            health_1.report.as_str(),
            "bhyt.cards.integrated",
            HA_DONG,
            "OPEN"
        )
    );
    assert_eq!((f.value, f.reference), (Some(1_200.0), Some(1_000.0)));
    assert_eq!(
        f.message,
        format!(
            "Thẻ BHYT đã tích hợp trên VNeID 1.200 (BHXH / Y tế, {}) > tài khoản định danh điện tử \
             mức 2 đã kích hoạt 1.000 (Công an, {}) tại xã Hà Đông ({HA_DONG})",
            health_1.report, police_1.report
        )
    );

    // A corrected health revision still above the bound raises no second flag.
    let health_1b = s.health("h-1b", 0, 1_150, 800).await;
    assert_eq!(health_1b.revision, 2);
    assert!(raised(&health_1b).is_empty(), "{:?}", health_1b.flags);
    assert_eq!(s.flags("OPEN").await.len(), 1);

    // The compliance board counts it with health's consistency flags.
    let board = s.board().await;
    let count = |obligation: &str| {
        board
            .iter()
            .find(|o| o.obligation == obligation)
            .map(|o| o.consistency_flags)
    };
    assert_eq!(count("health-weekly"), Some(1));
    assert_eq!(count("police-weekly-identity"), Some(0));

    // Police's next week says 1,300: the bound holds again, the flag is resolved (and audited).
    let police_2 = s.police("p-2", 1, 1_300).await;
    assert!(raised(&police_2).is_empty(), "{:?}", police_2.flags);
    assert!(s.flags("OPEN").await.is_empty());
    let resolved = s.flags("RESOLVED").await;
    assert_eq!(resolved.len(), 1);
    assert_eq!(resolved[0].name, f.name);
    let flag_name = &f.name;
    assert_eq!(
        s.t.count_where(
            "audit_log",
            &format!("action = 'FLAG_RESOLVED' AND subject = '{flag_name}'")
        )
        .await,
        1
    );
    assert_eq!(
        s.t.count_where(
            "audit_log",
            &format!("action = 'FLAG_RAISED' AND subject = '{flag_name}'")
        )
        .await,
        1
    );
}

#[tokio::test]
async fn a_lower_police_figure_breaks_the_bound_too_and_a_corrected_health_revision_resolves_it() {
    let mut s = Scenario::start().await;
    s.police("p-1", 0, 1_000).await;
    let health_1 = s.health("h-1", 0, 900, 950).await;
    assert!(raised(&health_1).is_empty(), "{:?}", health_1.flags);

    // Police's next week falls to 700 (a correction of its own): both health figures in force
    // (900 cards, 950 books) are now above it. The flags are on the police report.
    let police_2 = s.police("p-2", 1, 700).await;
    let mut flags: Vec<(&str, Option<f64>, Option<f64>, &str)> = raised(&police_2)
        .iter()
        .map(|f| {
            (
                f.indicator_code.as_str(),
                f.value,
                f.reference,
                f.agency.as_str(),
            )
        })
        .collect();
    flags.sort_by(|a, b| a.0.cmp(b.0));
    assert_eq!(
        flags,
        [
            ("bhyt.cards.integrated", Some(900.0), Some(700.0), "police"),
            ("health_book.integrated", Some(950.0), Some(700.0), "police"),
        ]
    );
    let books = raised(&police_2)
        .into_iter()
        .find(|f| f.indicator_code == "health_book.integrated")
        .unwrap();
    assert!(
        books
            .message
            .contains(&format!("(BHXH / Y tế, {})", health_1.report))
            && books
                .message
                .contains(&format!("(Công an, {})", police_2.report)),
        "{}",
        books.message
    );

    // Health's report of that week corrects the cards to 650 but keeps 950 books: the cards' flag
    // resolves, the books' stays open.
    let health_2 = s.health("h-2", 1, 650, 950).await;
    assert!(raised(&health_2).is_empty(), "{:?}", health_2.flags);
    let open: Vec<String> = s
        .flags("OPEN")
        .await
        .into_iter()
        .map(|f| f.indicator_code)
        .collect();
    assert_eq!(open, ["health_book.integrated"]);

    // A corrected revision of it brings the books down to 700 (at most: equal holds).
    let health_2b = s.health("h-2b", 1, 650, 700).await;
    assert_eq!(health_2b.revision, 2);
    assert!(s.flags("OPEN").await.is_empty());
    assert_eq!(s.flags("RESOLVED").await.len(), 2);

    // Broken again later: a new flag is raised (the resolved one stays resolved).
    let health_3 = s.health("h-3", 2, 800, 700).await;
    assert_eq!(raised(&health_3).len(), 1, "{:?}", health_3.flags);
    assert_eq!(s.flags("OPEN").await.len(), 1);
}

/// A report of an earlier period (health correcting an old week) is judged on its own date, and a
/// flag judged on a later date only by the figures in force on that later date.
#[tokio::test]
async fn a_backfill_resolves_a_later_flag_only_when_the_later_figures_satisfy_the_bound() {
    let mut s = Scenario::start().await;
    s.police("p-1", 0, 1_000).await;
    s.health("h-1", 0, 900, 500).await;
    // Police's next week falls to 700: health's 900 cards, in force since the first week, break
    // the bound on 23 March.
    let police_2 = s.police("p-2", 1, 700).await;
    assert_eq!(raised(&police_2).len(), 1, "{:?}", police_2.flags);

    // Health corrects its first week to 800: within police's 1,000 of that week, but still above
    // the 700 of 23 March, when 800 is still health's figure in force: the flag stays open.
    let health_1b = s.health("h-1b", 0, 800, 500).await;
    assert_eq!(health_1b.revision, 2);
    assert!(raised(&health_1b).is_empty(), "{:?}", health_1b.flags);
    assert_eq!(s.flags("OPEN").await.len(), 1);

    // Corrected again to 650: within the bound on both dates: resolved.
    let health_1c = s.health("h-1c", 0, 650, 500).await;
    assert!(raised(&health_1c).is_empty(), "{:?}", health_1c.flags);
    assert!(s.flags("OPEN").await.is_empty());
    assert_eq!(s.flags("RESOLVED").await.len(), 1);
}
