//! Hand-made workbooks, written here with rust_xlsxwriter as Excel would save them, read back.

use chrono::NaiveDate;
use p06_workbook::template::{InfoRow, InfoValue, Template, TemplateColumn, read_info};
use p06_workbook::{Cell, Column, Kind, OpenError, ProblemKind, Schema, Value, open, read_table};
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
