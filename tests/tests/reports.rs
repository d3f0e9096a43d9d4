//! `ListReports` and `ListReportRevisions` against the real aggregator (SQLite, and PostgreSQL when
//! `P06_TEST_POSTGRES_URL` is set): every revision of a period with what it changed, the reports of
//! a province filtered and paged, and the province scope of both.

use p06_auth::{Agency, Role};
use p06_proto::aggregation::task_force_service_client::TaskForceServiceClient;
use p06_proto::aggregation::{
    GetReportRequest, ListReportRevisionsRequest, ListReportsRequest, Receipt,
};
use p06_tests::fixtures::{BINH_DINH, GIA_LAI, HA_DONG, date, obs, police_report, province};
use p06_tests::services::{TestAggregator, authed};
use tonic::Code;

const OTHER_COMMUNE: &str = "23695";

/// Two revisions of Gia Lai's police report for 10–16 March 2025: the second alters Hà Đông's
/// activated accounts, drops its residents, adds another commune and rewrites the assessment.
async fn two_revisions(t: &TestAggregator) -> (Receipt, Receipt) {
    let reporter = t.keys.reporter(Agency::Police);
    let mut ingest = t.ingest().await;
    let first = ingest
        .submit_report(authed(
            police_report(
                "rev-1",
                vec![
                    obs("vneid.l2.activated", HA_DONG, 109.0),
                    obs("residents.permanent", HA_DONG, 5_908.0),
                ],
            ),
            &reporter,
        ))
        .await
        .unwrap()
        .into_inner();
    let mut second = police_report(
        "rev-2",
        vec![
            obs("vneid.l2.activated", HA_DONG, 150.0),
            obs("vneid.l2.activated", OTHER_COMMUNE, 1_000.0),
        ],
    );
    second.narrative.as_mut().unwrap().assessment = "Đạt 41,0% dân số thường trú.".into();
    let second = ingest
        .submit_report(authed(second, &reporter))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((first.revision, second.revision), (1, 2));
    (first, second)
}

#[tokio::test(flavor = "multi_thread")]
async fn revisions_say_what_changed_before_and_after() {
    let t = TestAggregator::start().await;
    let (first, second) = two_revisions(&t).await;
    let viewer = t.keys.viewer();
    let mut api = TaskForceServiceClient::new(t.channel().await);
    for name in [&first.report, &second.report] {
        let revisions = api
            .list_report_revisions(authed(
                ListReportRevisionsRequest {
                    province: province(GIA_LAI),
                    name: name.clone(),
                },
                &viewer,
            ))
            .await
            .unwrap()
            .into_inner()
            .revisions;
        assert_eq!(revisions.len(), 2, "any revision names the series");
        let (r1, r2) = (&revisions[0], &revisions[1]);
        let s1 = r1.report.as_ref().unwrap();
        let s2 = r2.report.as_ref().unwrap();
        assert_eq!(s1.name, first.report);
        assert_eq!(s2.name, second.report);
        assert_eq!((s1.observation_count, s2.observation_count), (2, 2));
        assert_eq!(s1.submitted_by, s2.submitted_by);
        for (summary, receipt) in [(s1, &first), (s2, &second)] {
            let got = summary.receipt.as_ref().unwrap();
            assert_eq!(got.revision, receipt.revision);
            assert_eq!(got.payload_sha256, receipt.payload_sha256);
            assert_eq!(got.receive_time, receipt.receive_time);
            assert_eq!(got.timeliness, receipt.timeliness);
            assert_eq!(got.specificity_score, receipt.specificity_score);
            assert!(got.flags.is_empty(), "summaries carry no flags");
        }
        assert!(r1.changes.is_empty() && !r1.narrative_changed);
        assert!(r2.narrative_changed);
        let changes: Vec<_> = r2
            .changes
            .iter()
            .map(|c| {
                (
                    c.indicator_code.as_str(),
                    c.locality_code.as_str(),
                    c.before,
                    c.after,
                )
            })
            .collect();
        assert_eq!(
            changes,
            vec![
                ("residents.permanent", HA_DONG, Some(5_908.0), None),
                ("vneid.l2.activated", HA_DONG, Some(109.0), Some(150.0)),
                ("vneid.l2.activated", OTHER_COMMUNE, None, Some(1_000.0)),
            ]
        );
    }

    // The receipts equal GetReport's.
    let report = t
        .ingest()
        .await
        .get_report(authed(
            GetReportRequest {
                name: second.report.clone(),
            },
            &viewer,
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        report.receipt.unwrap().payload_sha256,
        second.payload_sha256
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn reports_of_a_province_are_listed_filtered_and_paged() {
    let t = TestAggregator::start().await;
    let (first, second) = two_revisions(&t).await;
    let viewer = t.keys.viewer();
    let mut api = TaskForceServiceClient::new(t.channel().await);
    let list =
        |obligation: &str, agency: &str, from: &str, to: &str, page_size, page_token: &str| {
            let opt = |d: &str| (!d.is_empty()).then(|| p06_kit::convert::date_to_proto(date(d)));
            authed(
                ListReportsRequest {
                    province: province(GIA_LAI),
                    obligation: obligation.into(),
                    agency: agency.into(),
                    from: opt(from),
                    to: opt(to),
                    page_size,
                    page_token: page_token.into(),
                },
                &viewer,
            )
        };
    let all = api
        .list_reports(list("", "", "", "", 0, ""))
        .await
        .unwrap()
        .into_inner();
    let names: Vec<_> = all.reports.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, [second.report.as_str(), first.report.as_str()]);
    assert!(all.next_page_token.is_empty());
    let r = &all.reports[0];
    assert_eq!(
        (r.agency.as_str(), r.obligation.as_str()),
        ("police", "police-weekly-identity")
    );
    assert_eq!(
        r.receipt.as_ref().unwrap().payload_sha256,
        second.payload_sha256
    );

    // One a page: the token leads to the second.
    let page = api
        .list_reports(list("", "", "", "", 1, ""))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page.reports.len(), 1);
    assert!(!page.next_page_token.is_empty());
    let next = api
        .list_reports(list("", "", "", "", 1, &page.next_page_token))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(next.reports[0].name, first.report);

    // Filters: obligation, agency and the period's end.
    for (obligation, agency, from, to, expected) in [
        (
            "police-weekly-identity",
            "police",
            "2025-03-16",
            "2025-03-16",
            2,
        ),
        ("health-weekly", "", "", "", 0),
        ("", "justice", "", "", 0),
        ("", "", "2025-03-17", "", 0),
        ("", "", "", "2025-03-15", 0),
    ] {
        let got = api
            .list_reports(list(obligation, agency, from, to, 0, ""))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            got.reports.len(),
            expected,
            "{obligation} {agency} {from} {to}"
        );
    }
    let bad = api
        .list_reports(list("", "", "", "", 0, "flags.1"))
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
}

#[tokio::test(flavor = "multi_thread")]
async fn reports_are_read_within_the_tokens_province_only() {
    let t = TestAggregator::start().await;
    let (_, second) = two_revisions(&t).await;
    let mut api = TaskForceServiceClient::new(t.channel().await);
    let revisions = |code: &str, name: &str, token: &str| {
        authed(
            ListReportRevisionsRequest {
                province: province(code),
                name: name.into(),
            },
            token,
        )
    };
    let viewer = t.keys.viewer();
    let binh_dinh = t
        .keys
        .token(Agency::Taskforce, BINH_DINH, Role::TaskforceViewer);
    let national = t.keys.token(Agency::Taskforce, "VN", Role::TaskforceViewer);
    let reporter = t.keys.reporter(Agency::Police);

    // Another province's token: denied, whichever province it names.
    for (province_code, token) in [(GIA_LAI, &binh_dinh), (BINH_DINH, &viewer)] {
        assert_eq!(
            code(
                api.list_report_revisions(revisions(province_code, &second.report, token))
                    .await
            ),
            Code::PermissionDenied
        );
        assert_eq!(
            code(
                api.list_reports(authed(
                    ListReportsRequest {
                        province: province(province_code),
                        ..Default::default()
                    },
                    token,
                ))
                .await
            ),
            Code::PermissionDenied
        );
    }
    // Its own province: the report of another is indistinguishable from a missing one.
    assert_eq!(
        code(
            api.list_report_revisions(revisions(BINH_DINH, &second.report, &binh_dinh))
                .await
        ),
        Code::NotFound
    );
    assert_eq!(
        code(
            api.list_report_revisions(revisions(GIA_LAI, "reports/999999", &viewer))
                .await
        ),
        Code::NotFound
    );
    assert_eq!(
        code(
            api.list_report_revisions(revisions(GIA_LAI, "report/1", &viewer))
                .await
        ),
        Code::InvalidArgument
    );
    // A reporter is not the task force; the national task force reads every province.
    assert_eq!(
        code(
            api.list_report_revisions(revisions(GIA_LAI, &second.report, &reporter))
                .await
        ),
        Code::PermissionDenied
    );
    assert_eq!(
        code(
            api.list_report_revisions(revisions(GIA_LAI, &second.report, &national))
                .await
        ),
        Code::Ok
    );
    let report = t
        .ingest()
        .await
        .get_report(authed(
            GetReportRequest {
                name: second.report.clone(),
            },
            &national,
        ))
        .await;
    assert_eq!(
        code(report),
        Code::Ok,
        "GetReport for the national task force"
    );
}

fn code<T>(r: Result<T, tonic::Status>) -> Code {
    r.map(|_| Code::Ok).unwrap_or_else(|s| s.code())
}

/// Every revision is kept (DESIGN): the database itself refuses to delete or renumber a report,
/// or to change a revision's figures, on both back-ends, and a refused statement leaves the reports
/// and their figures whole.
#[tokio::test(flavor = "multi_thread")]
async fn the_database_refuses_to_delete_or_renumber_a_report() {
    use sea_orm::ConnectionTrait;
    let t = TestAggregator::start().await;
    let (first, _) = two_revisions(&t).await;
    let db = t.aggregator.state.store.write_connection();
    let before = (t.count("report").await, t.stored_figures().await);
    assert_eq!((before.0, before.1.len()), (2, 4));
    let id: i64 = first.report.rsplit('/').next().unwrap().parse().unwrap();
    let mut refused = vec![
        format!("DELETE FROM report WHERE id = {id}"),
        "DELETE FROM report".to_owned(),
        format!("UPDATE report SET id = id + 1000 WHERE id = {id}"),
        format!("UPDATE report SET figures = '{{}}' WHERE id = {id}"),
    ];
    if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        refused.push("TRUNCATE report CASCADE".to_owned());
    }
    for sql in refused {
        let error = db
            .execute_unprepared(&sql)
            .await
            .expect_err(&format!("{sql} was accepted"));
        let kept = if sql.contains("figures") {
            "the figures of a revision are kept as they were received"
        } else {
            "reports are kept"
        };
        assert!(error.to_string().contains(kept), "{sql}: {error}");
    }
    assert_eq!((t.count("report").await, t.stored_figures().await), before);
}
