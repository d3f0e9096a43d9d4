//! The real `p06` binary against a running aggregator: JSON output and error reporting.

use std::process::Command;

use p06_auth::Agency;
use p06_tests::fixtures::*;
use p06_tests::services::{TestAggregator, authed, start_agency};
use serde_json::Value;

/// The binary with a clean environment: no language, token, server or backtrace settings of the
/// person running the tests leak in.
fn bare() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_p06"));
    for var in [
        "P06_LANG",
        "P06_TOKEN",
        "P06_SERVER",
        "P06_DATA_DIR",
        "RUST_BACKTRACE",
        "RUST_LIB_BACKTRACE",
    ] {
        command.env_remove(var);
    }
    command
}

fn p06(t: &TestAggregator, token: &str, args: &[&str]) -> std::process::Output {
    bare()
        .args(args)
        .args(["--server", &t.running.url(), "--token", token])
        // The fixtures are of edition 2024; the default is the edition in force today.
        .args(["--edition", EDITION])
        .output()
        .expect("run p06")
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A user error: exit code 2 and one `Lỗi: …` paragraph on stderr, no backtrace, no panic.
fn assert_user_error(out: &std::process::Output) -> String {
    let text = stderr(out);
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.starts_with("Lỗi: ") || text.starts_with("Error: "),
        "{text}"
    );
    assert!(
        !text.contains("backtrace") && !text.contains("panicked") && !text.contains("Stack"),
        "{text}"
    );
    text
}

#[tokio::test(flavor = "multi_thread")]
async fn status_progress_and_flags_print_stable_json() {
    let t = TestAggregator::start().await;
    let police = t.keys.reporter(Agency::Police);
    let report = police_report(
        "cli-1",
        vec![
            obs("vneid.l2.activated", HA_DONG, 109.0),
            obs("residents.permanent", HA_DONG, 5_908.0),
            obs("vneid.l2.activated", "23695", 1_000.0),
            obs("residents.permanent", "23695", 2_000.0),
        ],
    );
    t.ingest()
        .await
        .submit_report(authed(report, &police))
        .await
        .unwrap();
    let viewer = t.keys.viewer();

    let out = p06(
        &t,
        &viewer,
        &[
            "status",
            "--province",
            GIA_LAI,
            "--as-of",
            "2025-03-20",
            "--indicator",
            "vneid.l2.activated",
            "--format",
            "json",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let indicator = &json["indicators"][0];
    assert_eq!(json["locality"]["name"], "Tỉnh Gia Lai");
    assert_eq!(indicator["indicator_code"], "vneid.l2.activated");
    assert_eq!(indicator["value"], 1_109.0);
    assert_eq!(indicator["denominator_value"], 7_908.0);
    let pct = indicator["percent_of_denominator"].as_f64().unwrap();
    assert!((pct - 100.0 * 1_109.0 / 7_908.0).abs() < 1e-9);
    assert_eq!(indicator["localities_reporting"], 2);
    assert_eq!(indicator["localities_expected"], 218);

    let out = p06(
        &t,
        &viewer,
        &[
            "progress",
            "--province",
            GIA_LAI,
            "--parent",
            DAK_DOA,
            "--indicator",
            "vneid.l2.activated",
            "--as-of",
            "2025-03-20",
            "--format",
            "json",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows.len(), 17);
    let ha_dong = rows.iter().find(|r| r["code"] == HA_DONG).unwrap();
    assert_eq!(
        (ha_dong["name"].as_str(), ha_dong["value"].as_f64()),
        (Some("Xã Hà Đông"), Some(109.0))
    );
    assert!(
        rows.iter().filter(|r| r["value"].is_null()).count() >= 15,
        "no data stays null, never 0"
    );

    let out = p06(
        &t,
        &viewer,
        &[
            "flags",
            "--province",
            GIA_LAI,
            "--kind",
            "LATE",
            "--format",
            "json",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let flags: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(flags.len(), 1);
    assert_eq!(flags[0]["obligation"], "police-weekly-identity");
}

#[tokio::test(flavor = "multi_thread")]
async fn server_refusals_print_the_field_violations_and_exit_non_zero() {
    let t = TestAggregator::start().await;
    let out = p06(
        &t,
        &t.keys.viewer(),
        &[
            "progress",
            "--province",
            GIA_LAI,
            "--indicator",
            "no.such.indicator",
        ],
    );
    let text = assert_user_error(&out);
    assert!(text.contains("no.such.indicator"), "{text}");

    // A refusal the server makes, its field violation said once.
    let out = p06(
        &t,
        &t.keys.viewer(),
        &[
            "progress",
            "--province",
            GIA_LAI,
            "--indicator",
            "vneid.l2.activated",
            "--parent",
            "99999",
        ],
    );
    let text = assert_user_error(&out);
    assert!(text.contains("99999") || text.contains("parent"), "{text}");
    assert_eq!(text.lines().count(), 1, "{text}");

    let out = p06(
        &t,
        &t.keys.reporter(Agency::Police),
        &["status", "--province", GIA_LAI],
    );
    let text = assert_user_error(&out);
    assert!(text.contains("taskforce-viewer"), "{text}");
}

/// `p06 up` (the README's run command) starts everything with demo data, serves, and stops cleanly
/// on Ctrl-C (SIGINT).
#[cfg(unix)]
#[test]
fn p06_up_serves_the_demo_and_stops_on_ctrl_c() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;

    let data = tempfile::tempdir().unwrap();
    /// Kills `p06 up` if the test fails half-way, so nothing outlives it.
    struct Up(std::process::Child);
    impl Drop for Up {
        fn drop(&mut self) {
            let _ = self.0.kill();
        }
    }

    let mut child = Command::new(env!("CARGO_BIN_EXE_p06"))
        .args(["up", "--data-dir"])
        .arg(data.path())
        .args([
            "--aggregator-port",
            "0",
            "--police-port",
            "0",
            "--health-port",
            "0",
            "--justice-port",
            "0",
            // Not the default 8080: a developer's own `p06 up` may hold it.
            "--web-port",
            "0",
        ])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start p06 up");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut child = Up(child);
    let mut seen = Vec::new();
    // Everything up to the last endpoint line ("  database …").
    for line in lines.by_ref() {
        let line = line.unwrap();
        let last = line.trim_start().starts_with("database");
        seen.push(line);
        if last {
            break;
        }
    }
    let output = seen.join("\n");
    assert!(
        output.contains("218 communes, targets, 12 weekly reports"),
        "{output}"
    );
    let aggregator = seen
        .iter()
        .find(|l| l.trim_start().starts_with("aggregator"))
        .expect("endpoints printed");
    let addr = aggregator
        .split_whitespace()
        .nth(1)
        .unwrap()
        .trim_start_matches("http://")
        .to_owned();
    let probe = Command::new(env!("CARGO_BIN_EXE_p06"))
        .args(["probe", &addr])
        .output()
        .unwrap();
    assert!(
        probe.status.success(),
        "{}",
        String::from_utf8_lossy(&probe.stderr)
    );
    assert!(data.path().join("p06.sqlite").exists() && data.path().join("p06-dev.pem").exists());

    let status = Command::new("kill")
        .args(["-INT", &child.0.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let rest: Vec<String> = lines.map(|l| l.unwrap()).collect();
    assert!(
        child.0.wait().unwrap().success(),
        "p06 up exits 0 after Ctrl-C"
    );
    assert!(rest.iter().any(|l| l == "stopped"), "{rest:?}");
}

/// Gia Lai with one late police report (10–16 March 2025, received on the 22nd) carrying two
/// communes, and an earlier week, so that changes, flags and targets exist.
async fn with_reports() -> TestAggregator {
    let t = TestAggregator::start().await;
    let police = t.keys.reporter(Agency::Police);
    let mut earlier = police_report(
        "cli-0",
        vec![
            obs("vneid.l2.activated", HA_DONG, 100.0),
            obs("residents.permanent", HA_DONG, 5_908.0),
            obs("vneid.l2.activated", "23695", 900.0),
            obs("residents.permanent", "23695", 2_000.0),
        ],
    );
    earlier.period = period("2025-03-03", "2025-03-09");
    t.ingest()
        .await
        .submit_report(authed(earlier, &police))
        .await
        .unwrap();
    let report = police_report(
        "cli-1",
        vec![
            obs("vneid.l2.activated", HA_DONG, 109.0),
            obs("residents.permanent", HA_DONG, 5_908.0),
            obs("vneid.l2.activated", "23695", 1_000.0),
            obs("residents.permanent", "23695", 2_000.0),
        ],
    );
    t.ingest()
        .await
        .submit_report(authed(report, &police))
        .await
        .unwrap();
    t
}

#[tokio::test(flavor = "multi_thread")]
async fn json_counts_are_integers_and_lowest_rows_carry_the_change() {
    let t = with_reports().await;
    let targets = p06_proto::aggregation::UpsertTargetsRequest {
        request_id: "targets-1".into(),
        targets: [(HA_DONG, 2_068.0), ("23695", 1_500.0)]
            .into_iter()
            .map(|(code, value)| p06_proto::aggregation::Target {
                indicator_code: "vneid.l2.activated".into(),
                locality: Some(p06_proto::common::LocalityRef {
                    edition: EDITION.into(),
                    code: code.into(),
                }),
                due_date: Some(p06_kit::convert::date_to_proto(date("2025-06-30"))),
                value,
                update_time: None,
            })
            .collect(),
    };
    t.catalog()
        .await
        .upsert_targets(authed(targets, &t.keys.admin()))
        .await
        .unwrap();
    let out = p06(
        &t,
        &t.keys.viewer(),
        &[
            "status",
            "--province",
            GIA_LAI,
            "--as-of",
            "2025-03-20",
            "--compare-to",
            "2025-03-10",
            "--indicator",
            "vneid.l2.activated",
            "--format",
            "json",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("\"value\": 1109") && !text.contains("1109.0"),
        "{text}"
    );
    let json: Value = serde_json::from_str(&text).unwrap();
    let indicator = &json["indicators"][0];
    let lowest = indicator["lowest"].as_array().unwrap();
    for row in lowest.iter().chain([indicator]) {
        for count in ["value", "target", "denominator_value", "change"] {
            assert!(row[count].is_i64(), "{count} is an integer: {row}");
        }
    }
    assert_eq!(indicator["change"], 109);
    let lowest = indicator["lowest"].as_array().unwrap();
    assert_eq!(lowest.len(), 2);
    let ha_dong = lowest.iter().find(|r| r["code"] == HA_DONG).unwrap();
    assert_eq!(ha_dong["rank"], 1);
    assert_eq!(ha_dong["change"], 9, "{ha_dong}");
    assert_eq!(ha_dong["target"], 2068);

    // The table: headline figures, target and denominator columns, "—" where there is no target.
    let out = p06(
        &t,
        &t.keys.viewer(),
        &["status", "--province", GIA_LAI, "--as-of", "2025-03-20"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("số liệu mới nhất ngày 16/03/2025, cách đây 4 ngày"),
        "{text}"
    );
    let rows: Vec<&str> = text.lines().skip(5).collect();
    assert!(
        rows[0].starts_with("Tài khoản định danh điện tử mức 2 đã kích hoạt"),
        "the headline first: {text}"
    );
    assert!(
        rows[0].contains("1.109") && rows[0].contains("7.908"),
        "{text}"
    );
    assert!(
        !text.split_whitespace().any(|w| w == "0/0"),
        "no 0/0 where there is no target: {text}"
    );
    assert!(
        rows[1].starts_with("Công dân thường trú") && rows[1].contains("—"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn one_language_per_output() {
    let t = with_reports().await;
    let viewer = t.keys.viewer();
    let vi = p06(
        &t,
        &viewer,
        &["flags", "--province", GIA_LAI, "--kind", "LATE"],
    );
    assert!(vi.status.success(), "{}", stderr(&vi));
    let vi = stdout(&vi);
    assert!(vi.contains("NỘP TRỄ") && vi.contains("trễ 3 ngày"), "{vi}");
    assert!(vi.contains("10/03/2025–16/03/2025"), "{vi}");
    for english in ["LATE", "after the deadline", "2025-03-10", "OPEN"] {
        assert!(!vi.contains(english), "{english} in {vi}");
    }
    let en = p06(
        &t,
        &viewer,
        &[
            "flags",
            "--province",
            GIA_LAI,
            "--kind",
            "LATE",
            "--lang",
            "en",
        ],
    );
    assert!(en.status.success(), "{}", stderr(&en));
    let en = stdout(&en);
    assert!(
        en.contains("LATE") && en.contains("after the deadline"),
        "{en}"
    );
    assert!(en.contains("2025-03-10–2025-03-16"), "{en}");
    for vietnamese in ["NỘP TRỄ", "trễ", "đang mở", "Công an"] {
        assert!(!en.contains(vietnamese), "{vietnamese} in {en}");
    }
    // P06_LANG does the same as --lang.
    let out = bare()
        .args(["status", "--province", GIA_LAI, "--as-of", "2025-03-20"])
        .args(["--server", &t.running.url(), "--token", &viewer])
        .args(["--edition", EDITION])
        .env("P06_LANG", "en")
        .output()
        .unwrap();
    let text = stdout(&out);
    assert!(
        text.contains("1,109") && text.contains("figures as of 2025-03-20"),
        "{text}"
    );
    let out = p06(
        &t,
        &viewer,
        &["status", "--province", GIA_LAI, "--as-of", "2025-03-20"],
    );
    let text = stdout(&out);
    assert!(
        text.contains("1.109") && text.contains("số liệu đến ngày 20/03/2025"),
        "{text}"
    );

    // Machine output keeps the codes and ISO dates whatever the language.
    let json = p06(
        &t,
        &viewer,
        &[
            "flags",
            "--province",
            GIA_LAI,
            "--kind",
            "LATE",
            "--format",
            "json",
        ],
    );
    let flags: Vec<Value> = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(
        (flags[0]["kind"].as_str(), flags[0]["period_start"].as_str()),
        (Some("LATE"), Some("2025-03-10"))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_catalog_commands_list_indicators_obligations_and_localities() {
    let t = TestAggregator::start().await;
    let viewer = t.keys.viewer();
    let out = p06(&t, &viewer, &["indicators", "--format", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let indicators: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        indicators[0]["code"], "vneid.l2.activated",
        "headline first"
    );
    let activated = &indicators[0];
    assert_eq!(
        (activated["agency"].as_str(), activated["kind"].as_str()),
        (Some("police"), Some("stock"))
    );
    assert_eq!(activated["denominator_code"], "residents.permanent");
    let out = p06(
        &t,
        &viewer,
        &["indicators", "--agency", "justice", "--format", "csv"],
    );
    let csv = stdout(&out);
    assert!(
        csv.starts_with("code,name_vi,name_en,agency,kind,unit,denominator_code\n"),
        "{csv}"
    );
    assert!(
        csv.lines().skip(1).all(|l| l.contains(",justice,")),
        "{csv}"
    );
    let out = p06(&t, &viewer, &["indicators"]);
    assert!(stdout(&out).contains("Tài khoản định danh điện tử mức 2 đã kích hoạt"));

    // The task force reads the obligations binding its province.
    let out = p06(
        &t,
        &viewer,
        &["obligations", "--province", GIA_LAI, "--format", "json"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let obligations: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let weekly = obligations
        .iter()
        .find(|o| o["code"] == "police-weekly-identity")
        .expect("police-weekly-identity");
    assert_eq!(weekly["cadence"]["kind"], "weekly");
    let out = p06(&t, &viewer, &["obligations", "--province", GIA_LAI]);
    let text = stdout(&out);
    assert!(
        text.contains("hằng tuần, từ thứ Hai") && text.contains("17:00 sau 2 ngày làm việc"),
        "{text}"
    );

    let out = p06(
        &t,
        &viewer,
        &["localities", "--parent", DAK_DOA, "--format", "json"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let communes: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(communes.len(), 17);
    assert!(
        communes
            .iter()
            .any(|c| c["code"] == HA_DONG && c["name"] == "Xã Hà Đông")
    );
    assert!(
        communes
            .iter()
            .all(|c| c["level"] == "commune" && c["parent_code"] == DAK_DOA)
    );
    let out = p06(&t, &viewer, &["localities", "--format", "csv"]);
    assert_eq!(
        stdout(&out).lines().count(),
        64,
        "63 provinces of edition 2024 and a header"
    );
    let out = bare()
        .args(["localities", "--edition", "2025", "--province", "52"])
        .args([
            "--format",
            "json",
            "--server",
            &t.running.url(),
            "--token",
            &viewer,
        ])
        .output()
        .unwrap();
    let units: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        units.len() > 100 && units.iter().all(|u| u["level"] == "commune"),
        "{}",
        units.len()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn errors_name_their_subject_and_the_next_step() {
    let t = TestAggregator::start().await;
    let viewer = t.keys.viewer();
    let dir = tempfile::tempdir().unwrap();

    // A missing file: its path.
    let missing = dir.path().join("tuan-11.csv");
    let out = p06(
        &t,
        &t.keys.reporter(Agency::Police),
        &[
            "submit",
            "police",
            missing.to_str().unwrap(),
            "--province",
            GIA_LAI,
            "--obligation",
            "police-weekly-identity",
            "--period-start",
            "2025-03-10",
            "--period-end",
            "2025-03-16",
        ],
    );
    let text = assert_user_error(&out);
    assert!(
        text.contains(missing.to_str().unwrap()) && text.contains("không tồn tại"),
        "{text}"
    );
    let out = p06(
        &t,
        &t.keys.admin(),
        &["targets", "import", "chi-tieu.csv", "--lang", "en"],
    );
    let text = assert_user_error(&out);
    assert!(
        text.contains("chi-tieu.csv") && text.contains("does not exist"),
        "{text}"
    );

    // The wrong role: the role needed, and the `p06 token` that mints it.
    let targets = dir.path().join("targets.csv");
    std::fs::write(
        &targets,
        "indicator_code,locality_code,due_date,value\nvneid.l2.activated,23680,2025-06-30,2068\n",
    )
    .unwrap();
    let out = p06(
        &t,
        &viewer,
        &["targets", "import", targets.to_str().unwrap()],
    );
    let text = assert_user_error(&out);
    assert!(
        text.contains("cần token vai trò taskforce-admin")
            && text.contains(
                "token --agency taskforce --province 64 --edition 2024 --role taskforce-admin"
            ),
        "{text}"
    );
    let week = dir.path().join("week.csv");
    std::fs::write(&week, "locality_code,vneid_level2_activated\n23680,109\n").unwrap();
    let police = start_agency(&t.keys, t.running.url(), Agency::Police).await;
    let submit = |token: &str, file: &std::path::Path| {
        p06(
            &t,
            token,
            &[
                "submit",
                "police",
                file.to_str().unwrap(),
                "--service",
                &police.url(),
                "--province",
                GIA_LAI,
                "--obligation",
                "police-weekly-identity",
                "--period-start",
                "2025-03-10",
                "--period-end",
                "2025-03-16",
            ],
        )
    };
    let text = assert_user_error(&submit(&viewer, &week));
    assert!(
        text.contains("cần token vai trò reporter của cơ quan police")
            && text.contains("token --agency police --province 64 --edition 2024 --role reporter"),
        "{text}"
    );
    // A misspelt column is named with the agency's columns, before anything is sent.
    let typo = dir.path().join("typo.csv");
    std::fs::write(&typo, "locality_code,vneid_level2_activatd\n23680,109\n").unwrap();
    let text = assert_user_error(&submit(&t.keys.reporter(Agency::Police), &typo));
    assert!(
        text.contains("vneid_level2_activatd") && text.contains("vneid_level2_activated"),
        "{text}"
    );
    // The right token goes through, and the receipt speaks Vietnamese.
    let out = submit(&t.keys.reporter(Agency::Police), &week);
    assert!(out.status.success(), "{}", stderr(&out));
    let receipt = stdout(&out);
    assert!(
        receipt.contains("trễ hạn (3 ngày") && receipt.contains("NỘP TRỄ"),
        "{receipt}"
    );

    // A code of another edition: the code, the edition asked, and what the code is elsewhere (the
    // 2025 reform reused codes).
    let out = bare()
        .args(["status", "--province", GIA_LAI, "--edition", "2025"])
        .args(["--server", &t.running.url(), "--token", &viewer])
        .output()
        .unwrap();
    let text = assert_user_error(&out);
    assert!(
        text.contains("\"64\" is not a locality of edition 2025")
            && text.contains("Tỉnh Gia Lai in edition 2024"),
        "{text}"
    );

    // A token signed with another key: where the key lives.
    let other = p06_tests::services::Keys::new();
    let out = p06(&t, &other.viewer(), &["status", "--province", GIA_LAI]);
    let text = assert_user_error(&out);
    assert!(
        text.contains("chữ ký không hợp lệ") && text.contains("--data-dir"),
        "{text}"
    );

    // A typo in an indicator code: said once, with the closest code, without a backtrace even
    // when one is asked for.
    let out = bare()
        .args([
            "progress",
            "--province",
            GIA_LAI,
            "--indicator",
            "vneid.l2.activatd",
        ])
        .args(["--server", &t.running.url(), "--token", &viewer])
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap();
    let text = assert_user_error(&out);
    assert_eq!(text.matches("vneid.l2.activatd").count(), 1, "{text}");
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(text.contains("vneid.l2.activated"), "{text}");

    // No server: which one, and how to start or name it.
    let out = bare()
        .args([
            "status",
            "--province",
            GIA_LAI,
            "--server",
            "http://127.0.0.1:9",
            "--token",
            &viewer,
        ])
        .output()
        .unwrap();
    let text = assert_user_error(&out);
    assert!(
        text.contains("http://127.0.0.1:9") && text.contains("--server"),
        "{text}"
    );
}

#[test]
fn token_never_creates_a_key_and_names_the_data_dir_it_looked_in() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("elsewhere");
    let out = bare()
        .args([
            "token",
            "--agency",
            "taskforce",
            "--province",
            "64",
            "--role",
            "taskforce-viewer",
        ])
        .arg("--data-dir")
        .arg(&data)
        .env("RUST_BACKTRACE", "1")
        .output()
        .unwrap();
    let text = assert_user_error(&out);
    assert!(
        text.contains(data.to_str().unwrap()) && text.contains("up"),
        "{text}"
    );
    assert!(!data.exists(), "no key, no directory made");
    // With the key `p06 up` made, it mints.
    p06_auth::DevKeys::load_or_create(&data).unwrap();
    let out = bare()
        .args([
            "token",
            "--agency",
            "taskforce",
            "--province",
            "64",
            "--role",
            "taskforce-viewer",
        ])
        .arg("--data-dir")
        .arg(&data)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim().split('.').count(), 3);
}

#[test]
fn a_second_up_names_the_taken_port_and_the_flag_that_moves_it() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let data = tempfile::tempdir().unwrap();
    let out = bare()
        .args(["up", "--data-dir"])
        .arg(data.path())
        .args(["--aggregator-port", "0", "--police-port", &port])
        .args([
            "--health-port",
            "0",
            "--justice-port",
            "0",
            "--web-port",
            "0",
        ])
        .args(["--lang", "en"])
        .output()
        .unwrap();
    let text = assert_user_error(&out);
    assert!(
        text.contains(&format!("port {port}"))
            && text.contains("--police-port")
            && text.contains("P06_POLICE_PORT"),
        "{text}"
    );
    assert!(!data.path().join("p06.sqlite").exists(), "nothing started");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_closed_pipe_ends_the_command_quietly() {
    let t = with_reports().await;
    for format in ["table", "json", "csv"] {
        let mut child = bare()
            .args([
                "localities",
                "--level",
                "commune",
                "--province",
                GIA_LAI,
                "--format",
                format,
            ])
            .args(["--server", &t.running.url(), "--token", &t.keys.viewer()])
            .args(["--edition", EDITION])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // The reader goes away before the first line (`p06 … | head -0`).
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{format}: {}", stderr(&out));
        assert!(out.stderr.is_empty(), "{format}: {}", stderr(&out));
    }
}

#[test]
fn every_help_says_what_each_option_takes_with_an_example() {
    for command in [
        "status",
        "progress",
        "districts",
        "compliance",
        "flags",
        "submit",
        "token",
        "indicators",
        "obligations",
        "localities",
        "probe",
    ] {
        let out = bare().args([command, "--help"]).output().unwrap();
        let help = stdout(&out);
        assert!(out.status.success(), "{command}: {}", stderr(&out));
        assert!(
            help.contains("Example"),
            "{command} has no example:\n{help}"
        );
        // Every option line has a description.
        let options = help
            .lines()
            .filter(|l| l.starts_with("      --") || l.starts_with("  -"));
        for line in options {
            let described = line
                .trim_start()
                .split_once("  ")
                .is_some_and(|(_, d)| !d.trim().is_empty());
            let next_line_described = help
                .lines()
                .skip_while(|l| *l != line)
                .nth(1)
                .is_some_and(|l| l.starts_with("          ") && !l.trim().is_empty());
            assert!(described || next_line_described, "{command}: {line}");
        }
    }
    // `submit --help` lists every agency's columns, from the agency services' own tables.
    let help = stdout(&bare().args(["submit", "--help"]).output().unwrap());
    for field in p06_police::FIELDS
        .iter()
        .chain(p06_health::FIELDS)
        .chain(p06_justice::FIELDS)
    {
        assert!(help.contains(field.name), "{} missing:\n{help}", field.name);
    }
}

/// `submit --mode amend`: a correction file of one commune keeps the other communes' figures, and
/// the receipt says so in the chosen language; the default replaces, and says that too.
#[tokio::test(flavor = "multi_thread")]
async fn submit_mode_amend_keeps_the_other_communes_and_the_receipt_says_so() {
    let t = TestAggregator::start().await;
    let police = start_agency(&t.keys, t.running.url(), Agency::Police).await;
    let token = t.keys.reporter(Agency::Police);
    let dir = tempfile::tempdir().unwrap();
    let service = police.url();
    let submit = |file: &std::path::Path, extra: &[&str]| {
        let mut args = vec![
            "submit",
            "police",
            file.to_str().unwrap(),
            "--service",
            &service,
            "--province",
            GIA_LAI,
            "--obligation",
            "police-weekly-identity",
            "--period-start",
            "2025-03-10",
            "--period-end",
            "2025-03-16",
        ];
        args.extend_from_slice(extra);
        let out = p06(&t, &token, &args);
        assert!(out.status.success(), "{}", stderr(&out));
        stdout(&out)
    };
    let week = dir.path().join("week.csv");
    std::fs::write(
        &week,
        "locality_code,vneid_level2_activated\n23680,109\n23695,1000\n",
    )
    .unwrap();
    let receipt = submit(&week, &[]);
    assert!(
        receipt.contains("cách nộp     thay thế toàn bộ"),
        "{receipt}"
    );

    let fix = dir.path().join("sua-ha-dong.csv");
    std::fs::write(&fix, "locality_code,vneid_level2_activated\n23680,120\n").unwrap();
    let receipt = submit(&fix, &["--mode", "amend"]);
    assert!(
        receipt.contains("lần nộp 2")
            && receipt.contains("sửa đổi, bổ sung — giữ nguyên 1 số liệu của lần nộp trước"),
        "{receipt}"
    );
    assert_eq!(t.count("latest_value").await, 2);
    // The same correction again: the derived request id makes it a replay, in English on request.
    let receipt = submit(&fix, &["--mode", "amend", "--lang", "en"]);
    assert!(
        receipt.contains("mode         amend — 1 figure carried from the earlier revision")
            && receipt.contains("nothing new stored"),
        "{receipt}"
    );
    // The same file as a replacement is another report: it drops Ia Kha.
    let json: Value = serde_json::from_str(&submit(&fix, &["--format", "json"])).unwrap();
    assert_eq!(json["mode"], "REVISION_MODE_REPLACE");
    assert_eq!(json["carried_observations"], 0);
    assert_eq!(json["revision"], 3);
    assert_eq!(t.count("latest_value").await, 1);

    let help = stdout(&bare().args(["submit", "--help"]).output().unwrap());
    assert!(help.contains("--mode amend"), "{help}");
}
