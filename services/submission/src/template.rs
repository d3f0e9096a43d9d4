//! The workbook a clerk fills for one report, laid out from the obligation, the catalog's
//! localities and indicator names (`p06 template` and the web page's template download).

use std::collections::HashMap;

use chrono::NaiveDate;
use p06_proto::aggregation::Locality;
use p06_workbook::Kind;
use p06_workbook::template::{InfoRow, InfoValue, Template, TemplateColumn};

use crate::{Agency, IndicatorNames};

/// The locked columns of each row: code, name, district.
pub fn fixed_columns() -> Vec<TemplateColumn> {
    [
        ("Mã đơn vị", "locality_code"),
        ("Tên đơn vị", "name"),
        ("Huyện", "district"),
    ]
    .into_iter()
    .map(|(name_vi, code)| TemplateColumn {
        name_vi: name_vi.into(),
        code: code.into(),
        kind: Kind::Text,
    })
    .collect()
}

/// A row of the information sheet.
pub fn info(label_vi: &str, key: &str, value: InfoValue, editable: bool) -> InfoRow {
    InfoRow {
        label_vi: label_vi.into(),
        key: key.into(),
        value,
        editable,
    }
}

/// Rows of the data sheet: code, name, district name (when `districts` has it).
pub fn locality_rows(units: &[Locality], districts: &[Locality]) -> Vec<Vec<String>> {
    let names: HashMap<&str, &str> = districts
        .iter()
        .map(|d| (d.code.as_str(), d.name.as_str()))
        .collect();
    units
        .iter()
        .map(|u| {
            let district = names.get(u.parent_code.as_str()).copied().unwrap_or("");
            vec![u.code.clone(), u.name.clone(), district.to_owned()]
        })
        .collect()
}

/// One report's workbook.
pub struct ReportTemplate<'a> {
    pub agency: Agency,
    pub edition: &'a str,
    pub province: &'a str,
    pub province_name: &'a str,
    pub obligation: &'a str,
    /// The obligation's indicators (the agency's fields feeding one of them are the columns).
    pub indicators: &'a [String],
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    /// From [`locality_rows`], or the province itself for a province-level obligation.
    pub rows: Vec<Vec<String>>,
    pub names: &'a IndicatorNames,
}

impl ReportTemplate<'_> {
    pub fn layout(self) -> Template {
        let agency = self.agency;
        let names = self.names;
        let columns: Vec<TemplateColumn> = agency
            .fields()
            .iter()
            .filter(|f| self.indicators.iter().any(|i| i == f.indicator))
            .map(|f| TemplateColumn {
                name_vi: names
                    .get(f.indicator)
                    .map_or_else(|| f.name.to_owned(), |(vi, _)| vi.clone()),
                code: f.indicator.to_owned(),
                kind: if f.percent {
                    Kind::Percent
                } else {
                    Kind::Count
                },
            })
            .collect();
        let subtitle = format!(
            "{} — {} — kỳ {} đến {}",
            self.province_name,
            self.obligation,
            self.period_start.format("%d/%m/%Y"),
            self.period_end.format("%d/%m/%Y")
        );
        Template {
            title: format!(
                "BÁO CÁO KẾT QUẢ TRIỂN KHAI ĐỀ ÁN 06 — {}",
                match agency {
                    Agency::Police => "CÔNG AN",
                    Agency::Health => "BẢO HIỂM XÃ HỘI / Y TẾ",
                    Agency::Justice => "TƯ PHÁP",
                }
            ),
            subtitle,
            data_sheet: "Số liệu".into(),
            fixed: fixed_columns(),
            rows: self.rows,
            columns,
            prefill: HashMap::new(),
            info_sheet: "Thuyết minh".into(),
            info_title: "Thuyết minh báo cáo (để trống ô nào chưa có nội dung)".into(),
            info: vec![
                info(
                    "Bộ mã đơn vị hành chính",
                    "edition",
                    InfoValue::Text(self.edition.to_owned()),
                    false,
                ),
                info(
                    "Tỉnh",
                    "province",
                    InfoValue::Text(self.province.to_owned()),
                    false,
                ),
                info(
                    "Cơ quan báo cáo",
                    "agency",
                    InfoValue::Text(agency.code().to_owned()),
                    false,
                ),
                info(
                    "Nghĩa vụ báo cáo",
                    "obligation",
                    InfoValue::Text(self.obligation.to_owned()),
                    false,
                ),
                info(
                    "Từ ngày",
                    "period_start",
                    InfoValue::Date(self.period_start),
                    false,
                ),
                info(
                    "Đến ngày",
                    "period_end",
                    InfoValue::Date(self.period_end),
                    false,
                ),
                info("Kết quả", "results", InfoValue::Blank, true),
                info("Đánh giá", "assessment", InfoValue::Blank, true),
                info("Khó khăn vướng mắc", "obstacles", InfoValue::Blank, true),
                info("Đề xuất", "proposals", InfoValue::Blank, true),
            ],
        }
    }
}
