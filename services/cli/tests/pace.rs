//! `p06 status` with each indicator's pace to target, `p06 progress --pace off-track` and
//! `--known-at "2025-03-17 09:00"` (issue 24), against a real aggregator (SQLite, and PostgreSQL
//! when `P06_TEST_POSTGRES_URL` is set).

use std::process::Command;

use p06_auth::Agency;
use p06_kit::convert::date_to_proto;
use p06_proto::aggregation::{Target, UpsertTargetsRequest};
use p06_proto::common::LocalityRef;
use p06_tests::fixtures::*;
use p06_tests::services::{TestAggregator, authed};
use serde_json::Value;

const SOMEI: &str = "23683";

fn p06(t: &TestAggregator, token: &str, args: &[&str]) -> std::process::Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_p06"));
    for var in ["P06_LANG", "P06_TOKEN", "P06_SERVER", "P06_DATA_DIR"] {
        command.env_remove(var);
    }
    command
        .args(args)
        .args(["--server", &t.running.url(), "--token", token])
        .args(["--edition", EDITION])
        .output()
        .expect("run p06")
}

fn ok(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Two communes of Đak Đoa with targets due 27 April 2025; three weeks of police reports, each
/// received the Monday after at 09:00 Vietnam time: Hà Đông +100 a week toward 2,000 (AT_RISK),
/// Đak Sơmei +10 a week (OFF_TRACK).
async fn scenario() -> TestAggregator {
    let t = TestAggregator::start().await;
    t.clock.set("2025-03-03T01:00:00Z".parse().unwrap());
    let targets = [(HA_DONG, 2_000.0), (SOMEI, 2_000.0)]
        .iter()
        .map(|(code, value)| Target {
            indicator_code: "vneid.l2.activated".into(),
            locality: Some(LocalityRef {
                edition: EDITION.into(),
                code: (*code).into(),
            }),
            due_date: Some(date_to_proto(date("2025-04-27"))),
            value: *value,
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
    let weeks = [
        (
            "2025-03-03",
            "2025-03-09",
            "2025-03-10T02:00:00Z",
            1_000.0,
            100.0,
        ),
        (
            "2025-03-10",
            "2025-03-16",
            "2025-03-17T02:00:00Z",
            1_100.0,
            110.0,
        ),
        (
            "2025-03-17",
            "2025-03-23",
            "2025-03-24T02:00:00Z",
            1_200.0,
            120.0,
        ),
    ];
    let mut ingest = t.ingest().await;
    for (i, (start, end, received, ha_dong, somei)) in weeks.into_iter().enumerate() {
        t.clock.set(received.parse().unwrap());
        let mut report = police_report(
            &format!("w{i}"),
            vec![
                obs("vneid.l2.activated", HA_DONG, ha_dong),
                obs("vneid.l2.activated", SOMEI, somei),
            ],
        );
        report.period = period(start, end);
        ingest
            .submit_report(authed(report, &t.keys.reporter(Agency::Police)))
            .await
            .unwrap();
    }
    t
}

#[tokio::test(flavor = "multi_thread")]
async fn progress_filters_by_pace_and_status_shows_it_also_as_known_at_an_instant() {
    let t = scenario().await;
    let viewer = t.keys.viewer();
    let progress = |extra: &[&str]| {
        let mut args = vec![
            "progress",
            "--province",
            GIA_LAI,
            "--parent",
            DAK_DOA,
            "--indicator",
            "vneid.l2.activated",
            "--as-of",
            "2025-03-23",
            "--format",
            "json",
        ];
        args.extend_from_slice(extra);
        let rows: Vec<Value> = serde_json::from_str(&ok(&p06(&t, &viewer, &args))).unwrap();
        rows
    };
    let off = progress(&["--pace", "off-track"]);
    assert_eq!(off.len(), 1, "{off:#?}");
    assert_eq!(off[0]["code"], SOMEI);
    assert_eq!(off[0]["pace_status"], "OFF_TRACK");
    assert_eq!(off[0]["pace_recent_per_week"], 10.0);
    assert_eq!(off[0]["pace_due"], "2025-04-27");
    let at_risk = progress(&["--pace", "AT_RISK"]);
    assert_eq!(at_risk.len(), 1);
    assert_eq!(at_risk[0]["code"], HA_DONG);
    assert_eq!(at_risk[0]["pace_needed_per_week"], 160.0);
    assert_eq!(at_risk[0]["pace_projected"], "2025-05-18");
    assert_eq!(progress(&[]).len(), 17, "without --pace every commune");

    // Known at Monday 17 March, 09:30 (Vietnam): the week of 10–16 March has just arrived.
    let known = progress(&["--known-at", "2025-03-17 09:30", "--pace", "at-risk"]);
    assert_eq!(known[0]["value"], 1_100.0);
    // Known an hour earlier: the first week only, one figure, no trend.
    let early = progress(&["--known-at", "2025-03-17 08:30", "--pace", "no-trend"]);
    assert_eq!(early.len(), 2, "{early:#?}");

    // The status table in Vietnamese: the pace columns and words.
    let table = ok(&p06(
        &t,
        &viewer,
        &[
            "status",
            "--province",
            GIA_LAI,
            "--as-of",
            "2025-03-23",
            "--indicator",
            "vneid.l2.activated",
        ],
    ));
    for word in ["tiến độ", "tốc độ cần", "dự kiến đạt", "/tuần"] {
        assert!(table.contains(word), "{word}: {table}");
    }
    let json: Value = serde_json::from_str(&ok(&p06(
        &t,
        &viewer,
        &[
            "status",
            "--province",
            GIA_LAI,
            "--as-of",
            "2025-03-23",
            "--indicator",
            "vneid.l2.activated",
            "--known-at",
            "2025-03-17 09:30",
            "--format",
            "json",
        ],
    )))
    .unwrap();
    let i = &json["indicators"][0];
    assert_eq!(
        i["value"], 1_210.0,
        "the week of 17–23 March is not known yet"
    );
    assert_eq!(i["localities_by_pace"]["OFF_TRACK"], 1);

    // A time that is not one is refused before any call.
    let out = p06(
        &t,
        &viewer,
        &["status", "--province", GIA_LAI, "--known-at", "last Friday"],
    );
    assert_eq!(out.status.code(), Some(2));
}
