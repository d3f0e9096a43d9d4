//! `p06 audit` against a running aggregator: a lock, an unlock and a flag's life, as a table in
//! Vietnamese and as JSON.

use std::process::Command;

use p06_tests::fixtures::*;
use p06_tests::scenarios::audited_week;
use p06_tests::services::TestAggregator;
use serde_json::Value;

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
    let lock = audited_week(&t).await.lock;

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
        lines[3].contains("khoá kỳ") && lines[3].contains(&lock),
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
