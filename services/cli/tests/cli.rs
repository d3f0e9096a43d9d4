//! The real `p06` binary against a running aggregator: JSON output and error reporting.

use std::process::Command;

use p06_auth::Agency;
use p06_tests::fixtures::*;
use p06_tests::services::{TestAggregator, authed};
use serde_json::Value;

fn p06(t: &TestAggregator, token: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_p06"))
        .args(args)
        .args(["--server", &t.running.url(), "--token", token])
        .output()
        .expect("run p06")
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
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("indicator_code: unknown indicator"),
        "{stderr}"
    );

    let out = p06(
        &t,
        &t.keys.reporter(Agency::Police),
        &["status", "--province", GIA_LAI],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("PermissionDenied"));
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
