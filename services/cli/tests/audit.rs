//! `p06 audit` against a running aggregator: a lock, an unlock and a flag's life, as a table in
//! Vietnamese and as JSON.

use std::process::Command;

use chrono::{DateTime, Duration, Utc};
use p06_auth::Agency;
use p06_domain::clock::Clock;
use p06_proto::aggregation::admin_service_client::AdminServiceClient;
use p06_proto::aggregation::{LockPeriodRequest, UnlockPeriodRequest};
use p06_tests::fixtures::*;
use p06_tests::services::{TestAggregator, authed};
use serde_json::Value;

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn p06(t: &TestAggregator, args: &[&str]) -> std::process::Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_p06"));
    for var in ["P06_LANG", "P06_TOKEN", "P06_SERVER", "P06_DATA_DIR"] {
        command.env_remove(var);
    }
    command
        .args(args)
        .args(["--server", &t.running.url(), "--token", &t.keys.viewer()])
        .args(["--edition", EDITION])
        .output()
        .expect("run p06")
}

#[tokio::test(flavor = "multi_thread")]
async fn p06_audit_shows_a_lock_an_unlock_and_a_flags_life() {
    let t = TestAggregator::start().await;
    t.clock.set(at("2025-03-18T10:00:01Z"));
    p06_aggregator::compliance::sweep_missing(&t.aggregator.state, t.clock.now())
        .await
        .unwrap();
    t.clock.set(at("2025-03-20T03:00:00Z"));
    t.ingest()
        .await
        .submit_report(authed(
            police_report("late", vec![obs("vneid.l2.activated", HA_DONG, 109.0)]),
            &t.keys.reporter(Agency::Police),
        ))
        .await
        .unwrap();
    t.clock.advance(Duration::hours(1));
    let mut admin = AdminServiceClient::new(t.channel().await);
    let lock = admin
        .lock_period(authed(
            LockPeriodRequest {
                request_id: "l1".into(),
                province: province(GIA_LAI),
                period: period("2025-03-10", "2025-03-16"),
                agency: "police".into(),
                obligation: String::new(),
                reason: "số liệu đã chốt".into(),
            },
            &t.keys.admin(),
        ))
        .await
        .unwrap()
        .into_inner();
    t.clock.advance(Duration::hours(1));
    admin
        .unlock_period(authed(
            UnlockPeriodRequest {
                request_id: "u1".into(),
                province: province(GIA_LAI),
                name: lock.name.clone(),
            },
            &t.keys.admin(),
        ))
        .await
        .unwrap();

    let out = p06(&t, &["audit", "--province", GIA_LAI, "--agency", "police"]);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = table.lines().collect();
    assert!(
        lines[0].contains("thời điểm") && lines[0].contains("thao tác"),
        "{table}"
    );
    // Under the rule line, newest first, in Vietnam time: the unlock at 12:00, the lock at 11:00.
    assert!(
        lines[2].contains("mở khoá kỳ") && lines[2].contains("12:00 ngày 20/03/2025"),
        "{table}"
    );
    assert!(
        lines[3].contains("khoá kỳ") && lines[3].contains(&lock.name),
        "{table}"
    );
    assert!(
        table.contains("gỡ cờ") && table.contains("gắn cờ"),
        "{table}"
    );
    assert!(table.contains("missing-sweep"), "{table}");

    let out = p06(
        &t,
        &[
            "audit",
            "--province",
            GIA_LAI,
            "--action",
            "flag_resolved",
            "--format",
            "json",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let records: Value = serde_json::from_slice(&out.stdout).unwrap();
    let records = records.as_array().unwrap();
    assert_eq!(records.len(), 1, "{records:#?}");
    assert_eq!(records[0]["action"], "FLAG_RESOLVED");
    assert_eq!(records[0]["agency"], "police");
    assert!(
        records[0]["subject"]
            .as_str()
            .unwrap()
            .starts_with("flags/"),
        "{records:#?}"
    );

    // A day range in Vietnam time: 19/03 holds nothing.
    let out = p06(
        &t,
        &[
            "audit",
            "--province",
            GIA_LAI,
            "--from",
            "2025-03-19",
            "--to",
            "2025-03-19",
        ],
    );
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "Không có bản ghi nhật ký nào."
    );
}
