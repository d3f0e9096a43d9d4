//! The Excel workflow through the real `p06` binary against real services (SQLite, and
//! PostgreSQL when `P06_TEST_POSTGRES_URL` is set): template → filled as Excel saves it → submit
//! → the status shows what was filled; broken workbooks named cell by cell with nothing stored;
//! targets; exports read back equal to JSON.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use p06_auth::Agency;
use p06_tests::fixtures::*;
use p06_tests::services::{TestAggregator, start_agency};
use p06_workbook::{Cell, Workbook};
use rust_xlsxwriter::Formula;
use serde_json::Value;

fn p06(t: &TestAggregator, token: &str, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_p06"));
    for var in [
        "P06_LANG",
        "P06_TOKEN",
        "P06_SERVER",
        "P06_DATA_DIR",
        "RUST_BACKTRACE",
    ] {
        command.env_remove(var);
    }
    command
        .args(args)
        .args(["--server", &t.running.url(), "--token", token])
        .args(["--edition", EDITION])
        .output()
        .expect("run p06")
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn user_error(out: &Output) -> String {
    let text = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(!text.contains("panicked"), "{text}");
    text
}

fn read(path: &Path) -> Workbook {
    p06_workbook::open(&std::fs::read(path).unwrap(), &path.to_string_lossy()).unwrap()
}

use p06_tests::workbook::{column_of as column, resave, row_of as find};

const FIGURES: [(&str, f64, f64); 3] = [
    (HA_DONG, 109.0, 5_908.0),
    ("23695", 1_000.0, 2_000.0),
    ("23698", 2_500.0, 7_000.0),
];

fn status_value(t: &TestAggregator, indicator: &str) -> Value {
    let out = p06(
        t,
        &t.keys.viewer(),
        &[
            "status",
            "--province",
            GIA_LAI,
            "--as-of",
            "2025-03-20",
            "--indicator",
            indicator,
            "--format",
            "json",
        ],
    );
    let json: Value = serde_json::from_str(&ok(&out)).unwrap();
    json["indicators"][0].clone()
}

struct Setup {
    t: TestAggregator,
    police: p06_kit::host::Running,
    dir: tempfile::TempDir,
}

async fn setup() -> Setup {
    let t = TestAggregator::start().await;
    let police = start_agency(&t.keys, t.running.url(), Agency::Police).await;
    Setup {
        t,
        police,
        dir: tempfile::tempdir().unwrap(),
    }
}

impl Setup {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn submit(&self, file: &Path, extra: &[&str]) -> Output {
        let url = self.police.url();
        let mut args = vec![
            "submit",
            "police",
            file.to_str().unwrap(),
            "--service",
            &url,
        ];
        args.extend_from_slice(extra);
        p06(&self.t, &self.t.keys.reporter(Agency::Police), &args)
    }

    fn template(&self) -> PathBuf {
        let path = self.path("mau.xlsx");
        let out = p06(
            &self.t,
            &self.t.keys.reporter(Agency::Police),
            &[
                "template",
                "police",
                "--province",
                GIA_LAI,
                "--obligation",
                "police-weekly-identity",
                "--period-start",
                "2025-03-12",
                "-o",
                path.to_str().unwrap(),
            ],
        );
        let text = ok(&out);
        assert!(text.contains("218 dòng × 4 cột"), "{text}");
        path
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_filled_template_submits_like_the_csv() {
    let s = setup().await;
    let template = s.template();
    // Submitted unfilled: said so, nothing stored.
    let text = user_error(&s.submit(&template, &[]));
    assert!(text.contains("'Số liệu' chưa có số liệu nào"), "{text}");
    assert_eq!(s.t.report_count().await, 0);
    let book = read(&template);
    assert_eq!(book.names(), ["Số liệu", "Thuyết minh"]);
    let data = &book.sheets[0];
    // Names above codes; one locked row per commune with its district.
    let codes_row = 4;
    assert_eq!(data.cell(3, 0), &Cell::Text("Mã đơn vị".into()));
    let activated = column(data, codes_row, "vneid.l2.activated");
    let residents = column(data, codes_row, "residents.permanent");
    assert_eq!(
        data.cell(3, activated),
        &Cell::Text("Tài khoản định danh điện tử mức 2 đã kích hoạt".into())
    );
    let ha_dong = find(data, HA_DONG);
    assert_eq!(data.cell(ha_dong, 2), &Cell::Text("Huyện Đak Đoa".into()));
    let rows: Vec<(u32, f64, f64)> = FIGURES
        .iter()
        .map(|(code, a, r)| (find(data, code), *a, *r))
        .collect();
    let filled = resave(&book, |sheet, r, c| {
        if sheet == "Thuyết minh" {
            let key = book.sheets[1].cell(r, 2).shown();
            return match (key.as_str(), c) {
                ("assessment", 1) => Some(Cell::Text("Đạt 40,8% dân số thường trú.".into())),
                ("obstacles", 1) => Some(Cell::Text("Thiếu thiết bị.".into())),
                ("proposals", 1) => Some(Cell::Text("Bổ sung tổ lưu động.".into())),
                _ => None,
            };
        }
        let (_, a, res) = rows.iter().find(|(row, _, _)| *row == r)?;
        if c == activated {
            Some(Cell::Number(*a))
        } else if c == residents {
            Some(Cell::Number(*res))
        } else {
            None
        }
    });
    let filled_path = s.path("tuan-11.xlsx");
    std::fs::write(&filled_path, filled).unwrap();
    // Province, obligation and period come from the workbook.
    let receipt: Value =
        serde_json::from_str(&ok(&s.submit(&filled_path, &["--format", "json"]))).unwrap();
    assert_eq!(receipt["revision"], 1);

    let status = status_value(&s.t, "vneid.l2.activated");
    assert_eq!(status["value"], 3_609);
    assert_eq!(status["denominator_value"], 14_908);
    assert_eq!(status["localities_reporting"], 3);

    // The same figures as CSV, on a fresh exchange: the same canonical payload.
    let csv_side = setup().await;
    let csv = csv_side.path("tuan-11.csv");
    let mut text = String::from("locality_code,vneid_level2_activated,permanent_residents\n");
    for (code, a, r) in FIGURES {
        text.push_str(&format!("{code},{a},{r}\n"));
    }
    std::fs::write(&csv, text).unwrap();
    let csv_receipt: Value = serde_json::from_str(&ok(&csv_side.submit(
        &csv,
        &[
            "--province",
            GIA_LAI,
            "--obligation",
            "police-weekly-identity",
            "--period-start",
            "2025-03-10",
            "--period-end",
            "2025-03-16",
            "--assessment",
            "Đạt 40,8% dân số thường trú.",
            "--obstacles",
            "Thiếu thiết bị.",
            "--proposals",
            "Bổ sung tổ lưu động.",
            "--format",
            "json",
        ],
    )))
    .unwrap();
    for field in [
        "payload_sha256",
        "timeliness",
        "specificity_score",
        "revision",
    ] {
        assert_eq!(receipt[field], csv_receipt[field], "{field}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hand_made_sheet_with_titles_text_numbers_totals_and_a_formula_column() {
    let s = setup().await;
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.write_string(0, 0, "CÔNG AN TỈNH GIA LAI").unwrap();
    sheet
        .write_string(1, 0, "Kết quả triển khai Đề án 06 tuần 11 năm 2025")
        .unwrap();
    for (c, h) in [
        "STT",
        "Mã xã",
        "Tên xã",
        "Dan so thuong tru",
        "So tai khoan dinh danh dien tu muc 2 da kich hoat",
        "Tỷ lệ (%)",
    ]
    .iter()
    .enumerate()
    {
        sheet.write_string(3, c as u16, *h).unwrap();
    }
    for (i, (code, a, r)) in FIGURES.iter().enumerate() {
        let row = 4 + i as u32;
        sheet.write_number(row, 0, i as f64 + 1.0).unwrap();
        sheet.write_string(row, 1, *code).unwrap();
        sheet.write_string(row, 2, "Xã").unwrap();
        // Residents typed as text with Vietnamese thousands dots.
        sheet.write_string(row, 3, format_vi(*r)).unwrap();
        // Activated from a formula, with the result Excel cached.
        sheet
            .write_formula(
                row,
                4,
                Formula::new(format!("={a}+0")).set_result(a.to_string()),
            )
            .unwrap();
        sheet
            .write_formula(
                row,
                5,
                Formula::new(format!("=E{0}/D{0}*100", row + 1)).set_result("1.8"),
            )
            .unwrap();
    }
    sheet.write_string(7, 2, "Tổng cộng").unwrap();
    sheet.write_string(7, 3, "14.908").unwrap();
    sheet
        .write_formula(7, 4, Formula::new("=SUM(E5:E7)").set_result("3609"))
        .unwrap();
    let path = s.path("tay.xlsx");
    std::fs::write(&path, book.save_to_buffer().unwrap()).unwrap();
    ok(&s.submit(
        &path,
        &[
            "--province",
            GIA_LAI,
            "--obligation",
            "police-weekly-identity",
            "--period-start",
            "2025-03-10",
            "--period-end",
            "2025-03-16",
        ],
    ));
    let status = status_value(&s.t, "vneid.l2.activated");
    assert_eq!(status["value"], 3_609);
    assert_eq!(status["denominator_value"], 14_908);

    // The task force's exports, read back: the same figures as --format json.
    let viewer = s.t.keys.viewer();
    for (view, extra) in [
        (
            "progress",
            vec!["--parent", DAK_DOA, "--indicator", "vneid.l2.activated"],
        ),
        ("status", vec![]),
        ("districts", vec!["--indicator", "vneid.l2.activated"]),
        ("compliance", vec![]),
        ("flags", vec![]),
    ] {
        let mut args = vec![view, "--province", GIA_LAI];
        if view != "flags" && view != "compliance" {
            args.extend(["--as-of", "2025-03-20"]);
        }
        args.extend(extra);
        let json: Value = serde_json::from_str(&ok(&p06(
            &s.t,
            &viewer,
            &[args.clone(), vec!["--format", "json"]].concat(),
        )))
        .unwrap();
        let records: Vec<Value> = match view {
            "status" => json["indicators"].as_array().unwrap().clone(),
            "compliance" => json["obligations"].as_array().unwrap().clone(),
            _ => json.as_array().unwrap().clone(),
        };
        let path = s.path(&format!("{view}.xlsx"));
        let out = p06(
            &s.t,
            &viewer,
            &[
                args.clone(),
                vec!["--format", "xlsx", "-o", path.to_str().unwrap()],
            ]
            .concat(),
        );
        ok(&out);
        let book = read(&path);
        let grid = &book.sheets[0];
        // Title, blank, Vietnamese headers, stable names, then one row per record.
        let keys: Vec<String> = (0..grid.width()).map(|c| grid.cell(3, c).shown()).collect();
        assert_eq!(grid.height() as usize, 4 + records.len(), "{view}");
        for (i, record) in records.iter().enumerate() {
            for (c, key) in keys.iter().enumerate() {
                let cell = grid.cell(4 + i as u32, c as u32);
                match &record[key] {
                    Value::Null => assert_eq!(cell, &Cell::Empty, "{view} {key}"),
                    Value::Number(n) => {
                        assert_eq!(cell, &Cell::Number(n.as_f64().unwrap()), "{view} {key}")
                    }
                    Value::String(t) if t.len() == 10 && t.as_bytes()[4] == b'-' => {
                        assert_eq!(cell, &Cell::Date(t.parse().unwrap()), "{view} {key}")
                    }
                    Value::String(t) => assert_eq!(cell.shown(), *t, "{view} {key}"),
                    other => assert_eq!(cell.shown(), other.to_string(), "{view} {key}"),
                }
            }
        }
        if view == "progress" {
            assert!(records.len() >= 3 && keys.contains(&"percent_of_denominator".to_owned()));
            assert_eq!(grid.cell(2, 0).shown(), "Hạng");
        }
    }
}

fn format_vi(v: f64) -> String {
    let digits = format!("{}", v as i64);
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('.');
        }
        out.push(ch);
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn a_broken_workbook_names_every_cell_and_stores_nothing() {
    let s = setup().await;
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.write_string(0, 0, "Báo cáo tuần 11").unwrap();
    for (c, h) in ["Mã xã", "vneid.l2.activated", "residents.permanent"]
        .iter()
        .enumerate()
    {
        sheet.write_string(2, c as u16, *h).unwrap();
    }
    let rows: [(&str, &str, &str); 6] = [
        ("23680", "109", "5.908"),
        ("23695", "12a", "2.000"),
        ("23698", "40,8", "7000"),
        ("99999", "5", "10"),
        ("23680", "7", "8"),
        ("", "3", ""),
    ];
    for (i, (code, a, r)) in rows.iter().enumerate() {
        let row = 3 + i as u32;
        if !code.is_empty() {
            sheet.write_string(row, 0, *code).unwrap();
        }
        sheet.write_string(row, 1, *a).unwrap();
        if !r.is_empty() {
            sheet.write_string(row, 2, *r).unwrap();
        }
    }
    sheet.write_string(9, 0, "Tổng cộng").unwrap();
    sheet.write_number(9, 2, 99.0).unwrap();
    let path = s.path("hong.xlsx");
    std::fs::write(&path, book.save_to_buffer().unwrap()).unwrap();
    let args = [
        "--province",
        GIA_LAI,
        "--obligation",
        "police-weekly-identity",
        "--period-start",
        "2025-03-10",
        "--period-end",
        "2025-03-16",
        "--lang",
        "en",
    ];
    let text = user_error(&s.submit(&path, &args));
    for expected in [
        "Sheet1!B5: \"12a\" is not a number",
        "Sheet1!B6: \"40,8\" is not a whole number",
        "Sheet1!A7: commune 99999 is not in province 64",
        "Sheet1!A8: commune 23680 appears twice (first at A4)",
        "Sheet1!A9: the row has figures but no locality code",
        "Sheet1!C10: the totals row says 99 but the rows add up to",
        "nothing was submitted",
    ] {
        assert!(text.contains(expected), "{expected:?} not in {text}");
    }
    assert_eq!(s.t.report_count().await, 0);

    // Not a workbook: one clear error each, nothing stored.
    let pdf = s.path("bao-cao.xlsx");
    std::fs::write(&pdf, b"%PDF-1.7\n...").unwrap();
    let text = user_error(&s.submit(&pdf, &args));
    assert!(text.contains("bao-cao.xlsx: the file is a PDF"), "{text}");
    let empty = s.path("rong.xlsx");
    std::fs::write(&empty, b"").unwrap();
    assert!(user_error(&s.submit(&empty, &args)).contains("rong.xlsx: the file is empty"));
    let broken = s.path("hong-zip.xlsx");
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.truncate(bytes.len() / 2);
    std::fs::write(&broken, bytes).unwrap();
    assert!(user_error(&s.submit(&broken, &args)).contains("damaged or not readable"));
    let mut encrypted = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    encrypted.extend([0; 504]);
    encrypted.extend("EncryptedPackage".encode_utf16().flat_map(u16::to_le_bytes));
    let locked = s.path("mat-khau.xlsx");
    std::fs::write(&locked, encrypted).unwrap();
    assert!(user_error(&s.submit(&locked, &args)).contains("password-protected"));
    assert_eq!(s.t.report_count().await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_totals_row_is_checked_by_default_or_ignored_never_a_commune() {
    let s = setup().await;
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in ["Mã xã", "Tên xã", "vneid.l2.activated"].iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    sheet.write_string(1, 0, HA_DONG).unwrap();
    sheet.write_number(1, 2, 109.0).unwrap();
    sheet.write_string(2, 0, "23695").unwrap();
    sheet.write_string(2, 2, "1.000").unwrap();
    // A totals row that does not add up, with a stray number where the code would be.
    sheet.write_number(3, 0, 3.0).unwrap();
    sheet.write_string(3, 1, "TỔNG CỘNG").unwrap();
    sheet.write_number(3, 2, 999.0).unwrap();
    let path = s.path("tong.xlsx");
    std::fs::write(&path, book.save_to_buffer().unwrap()).unwrap();
    let mut args = vec![
        "--province",
        GIA_LAI,
        "--obligation",
        "police-weekly-identity",
        "--period-start",
        "2025-03-10",
        "--period-end",
        "2025-03-16",
        "--lang",
        "en",
    ];
    let text = user_error(&s.submit(&path, &args));
    assert!(
        text.contains("Sheet1!C4: the totals row says 999 but the rows add up to 1,109"),
        "{text}"
    );
    assert_eq!(s.t.report_count().await, 0);
    let text = user_error(&s.submit(&path, &[&args[..], &["--totals", "sum"]].concat()));
    assert!(text.contains("--totals"), "{text}");
    args.extend(["--totals", "ignore", "--format", "json"]);
    let receipt: Value = serde_json::from_str(&ok(&s.submit(&path, &args))).unwrap();
    assert_eq!(receipt["revision"], 1);
    assert_eq!(s.t.report_count().await, 1);
    let activated = status_value(&s.t, "vneid.l2.activated");
    assert_eq!(
        activated["value"], 1_109,
        "the totals row added nothing: {activated}"
    );
    assert_eq!(activated["localities_reporting"], 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_targets_template_filled_imports_its_targets() {
    let s = setup().await;
    let admin = s.t.keys.admin();
    let path = s.path("chi-tieu.xlsx");
    ok(&p06(
        &s.t,
        &admin,
        &[
            "template",
            "targets",
            "--province",
            GIA_LAI,
            "--due-date",
            "2025-06-30",
            "--indicator",
            "vneid.l2.activated",
            "-o",
            path.to_str().unwrap(),
        ],
    ));
    let book = read(&path);
    let data = &book.sheets[0];
    let col = column(data, 4, "vneid.l2.activated");
    let ha_dong = find(data, HA_DONG);
    let filled = resave(&book, |sheet, r, c| {
        (sheet == data.sheet && r == ha_dong && c == col).then_some(Cell::Text("2.068".into()))
    });
    std::fs::write(&path, filled).unwrap();
    let text = ok(&p06(
        &s.t,
        &admin,
        &["targets", "import", path.to_str().unwrap()],
    ));
    assert!(text.contains("1 chỉ tiêu mới"), "{text}");
    assert_eq!(s.t.count("target").await, 1);
    let out = p06(
        &s.t,
        &s.t.keys.viewer(),
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
    let rows: Vec<Value> = serde_json::from_str(&ok(&out)).unwrap();
    let row = rows.iter().find(|r| r["code"] == HA_DONG).unwrap();
    assert_eq!(row["target"], 2_068);
}
