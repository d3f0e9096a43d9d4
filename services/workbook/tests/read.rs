//! Hand-made workbooks, written here with rust_xlsxwriter as Excel would save them, read back.

use chrono::NaiveDate;
use p06_workbook::template::{InfoRow, InfoValue, Template, TemplateColumn, read_info};
use p06_workbook::{
    Cell, Column, Kind, OpenError, ProblemKind, Schema, Totals, Value, open, read_table,
    read_table_with,
};
use rust_xlsxwriter::{Formula, Workbook};

fn schema() -> Schema {
    Schema {
        key: Column::new("locality_code", Kind::Text, &["Mã xã", "Mã đơn vị"]),
        columns: vec![
            Column::new(
                "vneid_level2_activated",
                Kind::Count,
                &[
                    "vneid.l2.activated",
                    "Số tài khoản định danh mức 2 đã kích hoạt",
                ],
            ),
            Column::new(
                "permanent_residents",
                Kind::Count,
                &["residents.permanent", "Dân số thường trú"],
            ),
            Column::new(
                "pension_cashless_urban_percent",
                Kind::Percent,
                &[
                    "pension.cashless.urban.percent",
                    "Tỷ lệ chi trả không dùng tiền mặt đô thị",
                ],
            ),
        ],
        ignored: vec!["Tên xã".into()],
        unique: Some(("xã".into(), "commune".into())),
    }
}

fn read(bytes: Vec<u8>) -> p06_workbook::Table {
    let book = open(&bytes, "test.xlsx").unwrap();
    read_table(&book.sheets[0], &schema())
}

#[test]
fn a_hand_made_sheet_with_titles_text_numbers_totals_and_formulas() {
    let mut book = Workbook::new();
    let s = book.add_worksheet();
    s.write_string(0, 0, "CÔNG AN TỈNH GIA LAI").unwrap();
    s.write_string(1, 0, "BÁO CÁO KẾT QUẢ TRIỂN KHAI ĐỀ ÁN 06 — TUẦN 11")
        .unwrap();
    // Header without diacritics, in another order, with a row number column and a name column.
    s.write_string(3, 0, "STT").unwrap();
    s.write_string(3, 1, "Ma xa").unwrap();
    s.write_string(3, 2, "Tên xã").unwrap();
    s.write_string(3, 3, "DAN SO THUONG TRU").unwrap();
    s.write_string(
        3,
        4,
        "So tai khoan dinh danh muc 2 da kich hoat (tai khoan)",
    )
    .unwrap();
    s.write_string(3, 5, "Tỷ lệ (%)").unwrap();
    let rows: [(&str, &str, Option<&str>, f64); 3] = [
        ("23680", "Xã Hà Đông", Some("5.908"), 109.0),
        ("23695", "Xã Đak Sơmei", None, 1_000.0),
        ("23698", "Xã Hải Yang", Some("704.828"), 2_500.0),
    ];
    for (i, (code, name, residents, activated)) in rows.iter().enumerate() {
        let r = 4 + i as u32;
        s.write_number(r, 0, i as f64 + 1.0).unwrap();
        s.write_string(r, 1, *code).unwrap();
        s.write_string(r, 2, *name).unwrap();
        if let Some(text) = residents {
            s.write_string(r, 3, *text).unwrap();
        }
        // A formula column with its cached result, as Excel saves it.
        s.write_formula(
            r,
            4,
            Formula::new(format!("={activated}*1")).set_result(activated.to_string()),
        )
        .unwrap();
        s.write_formula(r, 5, Formula::new("=E5/D5*100").set_result("1.8"))
            .unwrap();
    }
    s.write_string(7, 2, "Tổng cộng").unwrap();
    s.write_number(7, 3, 710_736.0).unwrap();
    s.write_formula(7, 4, Formula::new("=SUM(E5:E7)").set_result("3609"))
        .unwrap();
    s.write_string(9, 2, "Người lập biểu").unwrap();
    let table = read(book.save_to_buffer().unwrap());
    assert!(table.problems.is_empty(), "{:?}", table.problems);
    assert_eq!(table.header_row, Some(3));
    assert_eq!(table.totals_row, Some(7));
    assert_eq!(table.records.len(), 3);
    let r = &table.records[0];
    assert_eq!(r.key, "23680");
    assert_eq!(r.get("permanent_residents"), Some(&Value::Count(5_908)));
    assert_eq!(r.get("vneid_level2_activated"), Some(&Value::Count(109)));
    assert_eq!(
        r.cell("vneid_level2_activated").unwrap().to_string(),
        "Sheet1!E5"
    );
    // A blank is no data, never 0.
    assert_eq!(table.records[1].get("permanent_residents"), None);
    assert_eq!(
        table.records[2].get("permanent_residents"),
        Some(&Value::Count(704_828))
    );
}

#[test]
fn every_bad_cell_is_named_at_once() {
    let mut book = Workbook::new();
    let s = book.add_worksheet();
    s.write_string(0, 0, "locality_code").unwrap();
    s.write_string(0, 1, "vneid_level2_activated").unwrap();
    s.write_string(0, 2, "pension_cashless_urban_percent")
        .unwrap();
    s.write_string(1, 0, "23680").unwrap();
    s.write_string(1, 1, "12a").unwrap();
    s.write_string(1, 2, "40,8").unwrap();
    s.write_number(2, 0, 23695.0).unwrap();
    s.write_string(2, 1, "40,8").unwrap();
    s.write_number(2, 2, 140.0).unwrap();
    s.write_string(3, 0, "23680").unwrap();
    s.write_number(3, 1, -3.0).unwrap();
    s.write_number(4, 1, 7.0).unwrap();
    s.write_formula(5, 0, Formula::new("=\"23698\"").set_result("23698"))
        .unwrap();
    s.write_formula(5, 1, Formula::new("=1/0").set_result("#DIV/0!"))
        .unwrap();
    s.write_string(6, 0, "Tổng cộng").unwrap();
    s.write_number(6, 1, 99.0).unwrap();
    let table = read(book.save_to_buffer().unwrap());
    let messages: Vec<String> = table.problems.iter().map(|p| p.en()).collect();
    let expected = [
        "Sheet1!B2: \"12a\" is not a number",
        "Sheet1!B3: \"40,8\" is not a whole number (this cell counts)",
        "Sheet1!C3: \"140\" is not a percentage from 0 to 100",
        "Sheet1!B4: \"-3\" is negative",
        "Sheet1!A4: commune 23680 appears twice (first at A2)",
        "Sheet1!A5: the row has figures but no locality code",
        "Sheet1!B6: the formula gives the error #DIV/0!",
    ];
    for e in expected {
        assert!(messages.iter().any(|m| m == e), "{e} not in {messages:#?}");
    }
    // The decimal comma of a percentage is read.
    assert_eq!(
        table.records[0].get("pension_cashless_urban_percent"),
        Some(&Value::Percent(40.8))
    );
    assert_eq!(
        table
            .problems
            .iter()
            .find(|p| p.cell.local() == "A4")
            .unwrap()
            .vi(),
        "Sheet1!A4: xã 23680 xuất hiện hai lần (lần đầu ở A2)"
    );
}

#[test]
fn a_totals_row_that_does_not_add_up_is_named() {
    let mut book = Workbook::new();
    let s = book.add_worksheet();
    s.write_string(2, 0, "Mã đơn vị").unwrap();
    s.write_string(2, 1, "Dân số thường trú").unwrap();
    s.write_string(3, 0, "23680").unwrap();
    s.write_number(3, 1, 100.0).unwrap();
    s.write_string(4, 0, "23695").unwrap();
    s.write_string(4, 1, "1.000").unwrap();
    s.write_string(5, 0, "TỔNG CỘNG").unwrap();
    s.write_number(5, 1, 1_200.0).unwrap();
    let table = read(book.save_to_buffer().unwrap());
    assert_eq!(table.records.len(), 2, "the totals row is never a commune");
    assert_eq!(table.problems.len(), 1);
    assert_eq!(
        table.problems[0].en(),
        "Sheet1!B6: the totals row says 1,200 but the rows add up to 1,100"
    );
}

#[test]
fn a_totals_row_can_be_ignored_but_is_never_a_commune() {
    let mut book = Workbook::new();
    let s = book.add_worksheet();
    s.write_string(0, 0, "Mã đơn vị").unwrap();
    s.write_string(0, 1, "Tên xã").unwrap();
    s.write_string(0, 2, "Dân số thường trú").unwrap();
    s.write_string(1, 0, "23680").unwrap();
    s.write_number(1, 2, 100.0).unwrap();
    s.write_string(2, 0, "23695").unwrap();
    s.write_number(2, 2, 1_000.0).unwrap();
    // A totals row that does not add up, with a number in its code cell as some clerks write.
    s.write_number(3, 0, 2.0).unwrap();
    s.write_string(3, 1, "Tổng cộng").unwrap();
    s.write_number(3, 2, 9_999.0).unwrap();
    let bytes = book.save_to_buffer().unwrap();
    let grid = open(&bytes, "t.xlsx").unwrap().sheets.remove(0);
    let ignored = read_table_with(&grid, &schema(), Totals::Ignore);
    assert!(ignored.problems.is_empty(), "{:?}", ignored.problems);
    assert_eq!(ignored.totals_row, Some(3));
    let codes: Vec<&str> = ignored.records.iter().map(|r| r.key.as_str()).collect();
    assert_eq!(
        codes,
        ["23680", "23695"],
        "the totals row is never a commune"
    );
    let checked = read_table_with(&grid, &schema(), Totals::Check);
    assert_eq!(checked.records.len(), 2);
    assert_eq!(checked.problems.len(), 1);
    assert_eq!(
        checked.problems[0].en(),
        "Sheet1!C4: the totals row says 9,999 but the rows add up to 1,100"
    );
    assert_eq!(Totals::parse("IGNORE"), Some(Totals::Ignore));
    assert_eq!(Totals::parse("check"), Some(Totals::Check));
    assert_eq!(Totals::parse("sum"), None);
}

#[test]
fn unknown_and_missing_headers_are_named() {
    let mut book = Workbook::new();
    let s = book.add_worksheet();
    s.write_string(0, 0, "locality_code").unwrap();
    s.write_string(0, 1, "vneid_level2_activatd").unwrap();
    s.write_string(0, 2, "permanent_residents").unwrap();
    s.write_string(1, 0, "23680").unwrap();
    let table = read(book.save_to_buffer().unwrap());
    assert!(
        matches!(&table.problems[0].kind, ProblemKind::UnknownColumn { header, known }
            if header == "vneid_level2_activatd" && known.contains(&"vneid_level2_activated".to_owned())),
        "{:?}",
        table.problems
    );
    assert_eq!(table.problems[0].cell.local(), "B1");

    let mut book = Workbook::new();
    book.add_worksheet().write_string(0, 0, "hello").unwrap();
    let table = read(book.save_to_buffer().unwrap());
    assert!(matches!(
        table.problems[0].kind,
        ProblemKind::NoHeader { .. }
    ));
    assert!(table.records.is_empty());
}

#[test]
fn a_template_filled_reads_back_with_its_information_sheet() {
    let template = Template {
        title: "Báo cáo".into(),
        subtitle: "Kỳ 10/03/2025–16/03/2025".into(),
        data_sheet: "Số liệu".into(),
        fixed: vec![
            TemplateColumn {
                name_vi: "Mã đơn vị".into(),
                code: "locality_code".into(),
                kind: Kind::Text,
            },
            TemplateColumn {
                name_vi: "Tên đơn vị".into(),
                code: "name".into(),
                kind: Kind::Text,
            },
        ],
        rows: vec![
            vec!["23680".into(), "Xã Hà Đông".into()],
            vec!["23695".into(), "Xã Đak Sơmei".into()],
        ],
        columns: vec![
            TemplateColumn {
                name_vi: "Số tài khoản định danh mức 2 đã kích hoạt".into(),
                code: "vneid.l2.activated".into(),
                kind: Kind::Count,
            },
            TemplateColumn {
                name_vi: "Tỷ lệ chi trả không dùng tiền mặt đô thị".into(),
                code: "pension.cashless.urban.percent".into(),
                kind: Kind::Percent,
            },
        ],
        prefill: Default::default(),
        info_sheet: "Thuyết minh".into(),
        info_title: "Thuyết minh".into(),
        info: vec![
            InfoRow {
                label_vi: "Từ ngày".into(),
                key: "period_start".into(),
                value: InfoValue::Date(NaiveDate::from_ymd_opt(2025, 3, 10).unwrap()),
                editable: false,
            },
            InfoRow {
                label_vi: "Đánh giá".into(),
                key: "assessment".into(),
                value: InfoValue::Blank,
                editable: true,
            },
        ],
    };
    let bytes = p06_workbook::template::write(&template).unwrap();
    let book = open(&bytes, "mau.xlsx").unwrap();
    assert_eq!(book.names(), ["Số liệu", "Thuyết minh"]);
    let table = read_table(&book.sheets[0], &schema());
    // Unfilled: rows with codes and no figures.
    assert!(table.problems.is_empty(), "{:?}", table.problems);
    assert_eq!(table.records.len(), 2);
    assert!(table.records.iter().all(|r| r.values.is_empty()));
    let info = read_info(
        &book.sheets[1],
        &[
            ("period_start", &["Từ ngày"]),
            ("assessment", &["Đánh giá"]),
        ],
    );
    assert_eq!(
        info["period_start"].0,
        Cell::Date(NaiveDate::from_ymd_opt(2025, 3, 10).unwrap())
    );
    assert_eq!(info["assessment"].1.to_string(), "'Thuyết minh'!B4");
}

#[test]
fn not_a_workbook_is_one_error() {
    assert_eq!(
        open(b"%PDF-1.4", "bao-cao.xlsx").unwrap_err(),
        OpenError::Pdf
    );
    assert_eq!(open(b"", "bao-cao.xlsx").unwrap_err(), OpenError::Empty);
}

/// The .ods and .xls fixtures (see `tests/fixtures/README.md`) read like the xlsx a clerk makes:
/// title rows passed, the header found by Vietnamese names, text numbers with dots, a number
/// code, a blank cell as no data, a formula by its cached value, the totals row checked, dates
/// on the information sheet as a date cell and as text.
#[test]
fn an_ods_and_an_xls_workbook_read_like_the_xlsx() {
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    for name in ["bao-cao-tuan.ods", "bao-cao-tuan.xls"] {
        let bytes = std::fs::read(fixtures.join(name)).unwrap();
        let book = open(&bytes, name).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(book.names(), ["Số liệu", "Thuyết minh"], "{name}");
        let table = read_table(&book.sheets[0], &schema());
        assert!(table.problems.is_empty(), "{name}: {:?}", table.problems);
        assert_eq!(table.header_row, Some(3), "{name}");
        assert_eq!(table.totals_row, Some(7), "{name}: the totals row is found");
        let got: Vec<(&str, Option<&Value>, Option<&Value>)> = table
            .records
            .iter()
            .map(|r| {
                (
                    r.key.as_str(),
                    r.get("permanent_residents"),
                    r.get("vneid_level2_activated"),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (
                    "23680",
                    Some(&Value::Count(5_908)),
                    Some(&Value::Count(109))
                ),
                ("23695", Some(&Value::Count(2_000)), None),
                (
                    "23698",
                    Some(&Value::Count(7_000)),
                    Some(&Value::Count(2_500))
                ),
            ],
            "{name}"
        );
        // Cells are named as in the file: the blank activated cell of 23695 is E6.
        let ha_dong = &table.records[0];
        assert_eq!(
            ha_dong.cell("permanent_residents").unwrap().to_string(),
            "'Số liệu'!D5",
            "{name}"
        );
        // A totals row that does not add up is named at its cell in these formats too.
        let mut wrong = book.sheets[0].clone();
        wrong.rows[7][3] = Cell::Number(99.0);
        let checked = read_table(&wrong, &schema());
        assert_eq!(
            checked.problems.iter().map(|p| p.en()).collect::<Vec<_>>(),
            ["'Số liệu'!D8: the totals row says 99 but the rows add up to 14,908"],
            "{name}"
        );
        let info = read_info(
            &book.sheets[1],
            &[
                ("period_start", &["Từ ngày"]),
                ("period_end", &["Đến ngày"]),
            ],
        );
        for (key, want) in [("period_start", "2025-03-10"), ("period_end", "2025-03-16")] {
            let (cell, _) = &info[key];
            assert_eq!(
                p06_workbook::value_of(cell, Kind::Date),
                Ok(Some(Value::Date(want.parse::<NaiveDate>().unwrap()))),
                "{name}: {key}"
            );
        }
    }
}
