//! Every command of the README's "Command line" walkthrough, run as written (through bash, with
//! `cargo run -q -p p06 --` standing for this build's binary) against a fresh `p06 up` whose demo
//! is generated for today: each must succeed and print a current, non-empty answer.

#![cfg(unix)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

const README: &str = include_str!("../../../README.md");

/// The walkthrough's shell block, one logical line (continuations joined) per command.
fn walkthrough() -> Vec<String> {
    let section = &README[README
        .find("by `services/cli/tests/readme.rs`")
        .expect("the README names this test above its walkthrough")..];
    let start = section.find("```sh\n").expect("a sh block") + "```sh\n".len();
    let block = &section[start..start + section[start..].find("```").expect("block end")];
    block
        .replace("\\\n", " ")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

/// Kills `p06 up` however the test ends.
struct Up(std::process::Child);
impl Drop for Up {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn every_readme_command_answers_with_current_figures() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join(".p06");
    let mut child = Command::new(env!("CARGO_BIN_EXE_p06"))
        .current_dir(dir.path())
        .args(["up", "--data-dir"])
        .arg(&data)
        .args([
            "--aggregator-port",
            "0",
            "--police-port",
            "0",
            "--health-port",
            "0",
            "--justice-port",
            "0",
            "--web-port",
            "0",
        ])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start p06 up");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let _up = Up(child);
    let mut endpoints = std::collections::HashMap::new();
    let mut demo_2025 = String::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        if line.contains("(edition 2025, province 52)") {
            demo_2025 = line.clone();
        }
        let mut words = line.split_whitespace();
        if let (Some(name), Some(url)) = (words.next(), words.next()) {
            endpoints.insert(name.to_owned(), url.to_owned());
        }
        if line.trim_start().starts_with("database") {
            break;
        }
    }

    // The compliance board's default window shows what `p06 up` says the demo holds: every one of
    // its weeks, with as many reports, late ones and missing ones (before the walkthrough submits
    // this week's report).
    let p06 = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_p06"))
            .args(args)
            .env("P06_DATA_DIR", &data)
            .env("P06_SERVER", &endpoints["aggregator"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let token = p06(&[
        "token",
        "--agency",
        "taskforce",
        "--province",
        "52",
        "--role",
        "taskforce-viewer",
    ]);
    let board: serde_json::Value = serde_json::from_str(&p06(&[
        "compliance",
        "--province",
        "52",
        "--format",
        "json",
        "--token",
        token.trim(),
    ]))
    .unwrap();
    let sum = |field: &str| -> i64 {
        board["obligations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o[field].as_i64().unwrap())
            .sum()
    };
    // "… weeks 05/10/2026 to 29/11/2026: 23 weekly reports (3 late), 1 missing, 0 not yet due"
    let numbers: Vec<i64> = demo_2025
        .rsplit_once(": ")
        .map(|(_, tail)| tail)
        .unwrap_or_default()
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect();
    assert_eq!(numbers.len(), 4, "{demo_2025}");
    let (reports, late, missing, pending) = (numbers[0], numbers[1], numbers[2], numbers[3]);
    // Reports in before their deadline (last week's, until its deadline) are early, not received.
    assert_eq!(
        (sum("received") + sum("early"), sum("late"), sum("missing")),
        (reports, late, missing),
        "{demo_2025}\n{board:#}"
    );
    // Weeks whose deadline has not passed (the current one, and last week until its deadline) are
    // pending or early: in the window, but not yet expected.
    assert!(sum("pending") >= pending, "{demo_2025}\n{board:#}");
    assert_eq!(
        sum("expected"),
        sum("received") + sum("missing"),
        "{board:#}"
    );

    // The files the walkthrough names.
    let year = chrono::Utc::now().format("%Y");
    std::fs::write(
        dir.path().join("targets.csv"),
        format!("indicator_code,locality_code,due_date,value\nvneid.l2.activated,21616,{year}-12-31,17000\n"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("week.csv"),
        "locality_code,permanent_residents,vneid_level2_created,vneid_level2_activated,cccd_cards_issued\n\
         21616,26000,21000,19500,24000\n",
    )
    .unwrap();

    let commands = walkthrough();
    assert!(commands.len() >= 10, "{commands:?}");
    let mut script = String::from(
        "cargo() { shift 5; \"$P06_BIN\" \"$@\"; }\n", // `cargo run -q -p p06 -- …`
    );
    for (i, command) in commands.iter().enumerate() {
        script.push_str(&format!(
            "echo '@@@ {i}'\n{command}\necho \"@@@ exit $?\" \n"
        ));
    }
    let out = Command::new("bash")
        .current_dir(dir.path())
        .args(["-c", &script])
        .env("P06_BIN", env!("CARGO_BIN_EXE_p06"))
        .env("P06_DATA_DIR", &data)
        .env("P06_SERVER", &endpoints["aggregator"])
        .env("P06_AGENCY_SERVICE", &endpoints["police"])
        .env_remove("P06_TOKEN")
        .env_remove("RUST_BACKTRACE")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);

    // What each command must show to be a current answer.
    let expect = |command: &str| -> &[&str] {
        let sub = command
            .split("-- ")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or("");
        let old = command.contains("--province 64");
        // New Gia Lai before 1 July 2025: old Gia Lai's demo weeks carried, on 77 of 135 communes.
        let carried = command.contains("--edition 2025") && command.contains("--as-of 2025-");
        match (sub, old) {
            ("status", false) if carried => &["Gia Lai", "số liệu bộ mã 2024 quy đổi", "77/135"],
            ("status", false) => &["Gia Lai", "135/135"],
            ("status", true) => &["Gia Lai", "218/218"],
            ("progress", false) => &["Xã ", "%"],
            ("compliance", _) => &["police-weekly-identity-52", "justice-weekly-52"],
            ("flags", _) => &["THIẾU BÁO CÁO", "justice-weekly-52"],
            ("chase", _) => &["Kính gửi:", "Sở Tư pháp", "Chưa nộp", "Lưu: VT."],
            ("districts", _) => &["Kông Chro"],
            ("indicators", _) => &["vneid.l2.activated", "Công an"],
            ("obligations", _) => &["police-weekly-identity-52", "hằng tuần"],
            ("localities", _) => &["Xã ", "135"],
            ("targets", _) => &["1"],
            ("submit", _) => &["reports/"],
            _ => &[],
        }
    };
    let sections: Vec<&str> = stdout.split("@@@ ").skip(1).collect();
    assert_eq!(sections.len(), 2 * commands.len(), "{stdout}\n{stderr}");
    for (i, command) in commands.iter().enumerate() {
        let output = sections[2 * i]
            .split_once('\n')
            .map_or("", |(_, rest)| rest);
        let status = sections[2 * i + 1].trim();
        assert_eq!(status, "exit 0", "`{command}` failed:\n{output}\n{stderr}");
        if command.starts_with("export ") {
            continue;
        }
        assert!(
            !output.trim().is_empty(),
            "`{command}` printed nothing\n{stderr}"
        );
        for needle in expect(command) {
            assert!(
                output.contains(needle),
                "`{command}` does not show {needle:?}:\n{output}"
            );
        }
    }

    // Every example of every `--help` runs as written against the demo and answers (those that
    // watch forever aside), with a token of the province and edition the example names.
    for command in [
        "status",
        "progress",
        "districts",
        "compliance",
        "flags",
        "token",
        "indicators",
        "obligations",
        "localities",
    ] {
        let help = p06(&[command, "--help"]);
        let examples: Vec<&str> = help
            .lines()
            .map(str::trim)
            .filter(|l| l.starts_with("p06 ") && !l.contains("--watch"))
            .map(|l| l.split(" #").next().unwrap().trim())
            .collect();
        assert!(
            !examples.is_empty(),
            "{command} --help has no example:\n{help}"
        );
        for example in examples {
            let words: Vec<&str> = example.split_whitespace().skip(1).collect();
            let arg = |flag: &str| words.iter().position(|w| *w == flag).map(|i| words[i + 1]);
            let mut token = vec![
                "token",
                "--agency",
                "taskforce",
                "--province",
                arg("--province").unwrap_or("52"),
                "--role",
                "taskforce-viewer",
            ];
            if let Some(edition) = arg("--edition") {
                token.extend(["--edition", edition]);
            }
            let token = p06(&token);
            let out = Command::new(env!("CARGO_BIN_EXE_p06"))
                .args(&words)
                .env("P06_DATA_DIR", &data)
                .env("P06_SERVER", &endpoints["aggregator"])
                .env("P06_TOKEN", token.trim())
                .output()
                .unwrap();
            let printed = String::from_utf8_lossy(&out.stdout);
            assert!(
                out.status.success() && !printed.trim().is_empty(),
                "`{example}` (from `{command} --help`):\n{printed}\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }

    // `districts` of a two-tier province says there are none and how to rank its communes.
    let token = p06(&[
        "token",
        "--agency",
        "taskforce",
        "--province",
        "52",
        "--role",
        "taskforce-viewer",
    ]);
    let text = p06(&[
        "districts",
        "--province",
        "52",
        "--indicator",
        "vneid.l2.activated",
        "--token",
        token.trim(),
    ]);
    assert!(
        text.contains("không có cấp huyện")
            && text
                .contains("p06 progress --province 52 --indicator vneid.l2.activated --below 50"),
        "{text}"
    );
}
