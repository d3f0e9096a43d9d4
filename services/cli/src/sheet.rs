//! Workbooks and CSV files into the exchange: the agency's or the targets' table read by
//! `p06-workbook` (rows with their cells), the localities checked against the catalog over gRPC,
//! and every problem printed with its cell before anything is sent.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use p06_proto::aggregation::catalog_service_client::CatalogServiceClient;
use p06_proto::aggregation::{ListLocalitiesRequest, LocalityLevel};
use p06_workbook::{Cell, CellRef, Column, Grid, Kind, Problem, Record, Schema, Workbook};

use crate::client::Connection;
use crate::error::{file as file_error, user};
use crate::lang::tr;
use crate::rpc;

/// The information sheet's rows (the template writes them; a hand-made sheet may have them).
pub const INFO_KEYS: &[(&str, &[&str])] = &[
    ("edition", &["Bộ mã đơn vị hành chính", "Phiên bản"]),
    ("province", &["Tỉnh", "Mã tỉnh"]),
    ("agency", &["Cơ quan báo cáo", "Cơ quan"]),
    ("obligation", &["Nghĩa vụ báo cáo", "Chế độ báo cáo"]),
    ("period_start", &["Từ ngày", "Kỳ báo cáo từ ngày"]),
    ("period_end", &["Đến ngày", "Kỳ báo cáo đến ngày"]),
    ("due_date", &["Hạn chỉ tiêu", "Hạn hoàn thành"]),
    ("results", &["Kết quả", "Kết quả thực hiện"]),
    ("assessment", &["Đánh giá"]),
    ("obstacles", &["Khó khăn vướng mắc", "Khó khăn, vướng mắc"]),
    ("proposals", &["Đề xuất", "Đề xuất, kiến nghị"]),
];

/// Headers a clerk keeps beside the figures, passed over.
pub const IGNORED: &[&str] = &[
    "name",
    "district",
    "Tên đơn vị",
    "Tên xã",
    "Huyện",
    "Quận, huyện",
    "Ghi chú",
];

pub fn key_column() -> Column {
    Column::new(
        "locality_code",
        Kind::Text,
        &[
            "Mã đơn vị",
            "Mã xã",
            "Mã ĐVHC",
            "Mã địa bàn",
            "Mã huyện",
            "Mã đơn vị hành chính",
            "code",
            "Mã",
        ],
    )
}

/// The file, opened: its sheets, or one clear error naming it.
pub fn open(path: &Path) -> anyhow::Result<(Vec<u8>, Workbook)> {
    let bytes = std::fs::read(path).map_err(|e| file_error(path, &e))?;
    let book = p06_workbook::open(&bytes, &path.to_string_lossy()).map_err(|e| {
        user(tr(
            format!("{}: {}", path.display(), e.vi()),
            format!("{}: {e}", path.display()),
        ))
    })?;
    Ok((bytes, book))
}

/// The data sheet: `--sheet NAME`, or the first sheet.
pub fn data_sheet<'a>(
    path: &Path,
    book: &'a Workbook,
    name: Option<&str>,
) -> anyhow::Result<&'a Grid> {
    match name {
        Some(name) => book.sheet(name).ok_or_else(|| {
            let names = book.names().join(", ");
            user(tr(
                format!(
                    "{}: không có trang tính {name:?}; các trang: {names}",
                    path.display()
                ),
                format!(
                    "{}: no sheet {name:?}; the sheets are: {names}",
                    path.display()
                ),
            ))
        }),
        None => book
            .sheets
            .first()
            .ok_or_else(|| user(format!("{}: no sheets", path.display()))),
    }
}

/// The information sheet's values by key: from any sheet other than the data sheet.
pub fn info(book: &Workbook, data: &Grid) -> HashMap<String, (Cell, CellRef)> {
    for grid in book.sheets.iter().filter(|g| g.sheet != data.sheet) {
        let found = p06_workbook::template::read_info(grid, INFO_KEYS);
        if !found.is_empty() {
            return found;
        }
    }
    HashMap::new()
}

/// A text value of the information sheet, blank as `None`.
pub fn info_text(info: &HashMap<String, (Cell, CellRef)>, key: &str) -> Option<String> {
    info.get(key)
        .map(|(c, _)| c.shown())
        .filter(|s| !s.trim().is_empty())
}

/// A date of the information sheet: `None` when absent; a cell that is not a date adds a problem.
pub fn info_date(
    info: &HashMap<String, (Cell, CellRef)>,
    key: &str,
    problems: &mut Vec<Problem>,
) -> Option<chrono::NaiveDate> {
    let (cell, at) = info.get(key)?;
    match p06_workbook::value_of(cell, Kind::Date) {
        Ok(Some(p06_workbook::Value::Date(d))) => Some(d),
        Ok(_) => None,
        Err(kind) => {
            problems.push(Problem::new(at.clone(), kind));
            None
        }
    }
}

/// The units a report of `province` at `level` may name (codes of the connection's edition).
pub async fn localities(
    connection: &Connection,
    province: &str,
    level: LocalityLevel,
) -> anyhow::Result<Vec<p06_proto::aggregation::Locality>> {
    let mut client = CatalogServiceClient::new(connection.channel(&connection.server).await?);
    let mut all = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = client
            .list_localities(connection.request(ListLocalitiesRequest {
                edition: connection.edition.clone(),
                parent_code: province.to_owned(),
                level: level as i32,
                page_size: 1_000,
                page_token: page_token.clone(),
            })?)
            .await
            .map_err(connection.refused(rpc::LIST_LOCALITIES, Some(province)))?
            .into_inner();
        all.extend(page.localities);
        if page.next_page_token.is_empty() {
            return Ok(all);
        }
        page_token = page.next_page_token;
    }
}

/// Each record's key resolved to a code of `known` (a number cell loses leading zeros: 4 is
/// 00004), or a problem naming the cell: `Sheet1!A12: commune 99999 is not in province 64`.
pub fn resolve_codes(
    records: &mut [Record],
    known: &[p06_proto::aggregation::Locality],
    province: &str,
    level: LocalityLevel,
    problems: &mut Vec<Problem>,
) {
    let codes: HashSet<&str> = known.iter().map(|l| l.code.as_str()).collect();
    let by_number: HashMap<&str, &str> = known
        .iter()
        .map(|l| (l.code.trim_start_matches('0'), l.code.as_str()))
        .collect();
    let (unit_vi, unit_en) = match level {
        LocalityLevel::Commune => ("xã", "commune"),
        LocalityLevel::District => ("huyện", "district"),
        _ => ("đơn vị", "unit"),
    };
    for record in records.iter_mut() {
        if codes.contains(record.key.as_str()) {
            continue;
        }
        let digits = record.key.trim_start_matches('0');
        if record.key.bytes().all(|b| b.is_ascii_digit())
            && let Some(code) = by_number.get(digits)
        {
            record.key = (*code).to_owned();
            continue;
        }
        problems.push(Problem::other(
            record.key_cell.clone(),
            format!("{unit_vi} {} không thuộc tỉnh {province}", record.key),
            format!("{unit_en} {} is not in province {province}", record.key),
        ));
    }
}

/// One user error listing every problem, in order of the cells, and that nothing was sent.
pub fn problems_error(path: &Path, mut problems: Vec<Problem>) -> anyhow::Error {
    problems.sort_by(|a, b| {
        (&a.cell.sheet, a.cell.row, a.cell.col).cmp(&(&b.cell.sheet, b.cell.row, b.cell.col))
    });
    problems.dedup();
    let n = problems.len();
    let lines: Vec<String> = problems
        .iter()
        .map(|p| format!("  {}", tr(p.vi(), p.en())))
        .collect();
    user(tr(
        format!(
            "{}: {n} lỗi, chưa gửi gì (sửa rồi nộp lại):\n{}",
            path.display(),
            lines.join("\n")
        ),
        format!(
            "{}: {n} problem{}, nothing was submitted (fix them and submit again):\n{}",
            path.display(),
            if n == 1 { "" } else { "s" },
            lines.join("\n")
        ),
    ))
}

/// Names clerks give the figures besides the catalog's (the catalog's own names always work).
const ALIASES: &[(&str, &[&str])] = &[
    (
        "residents.permanent",
        &["Dân số thường trú", "Số dân thường trú", "Dân số"],
    ),
    (
        "cccd.cards.issued",
        &["Thẻ căn cước đã cấp", "Số thẻ CCCD đã cấp", "CCCD đã cấp"],
    ),
];

/// The agency's columns: each field recognised by its name, its indicator code, and the
/// indicator's Vietnamese and English names from the catalog.
pub fn agency_schema(
    fields: &[p06_kit::agency::Field],
    names: &HashMap<String, (String, String)>,
) -> Schema {
    Schema {
        key: key_column(),
        columns: fields
            .iter()
            .map(|f| {
                let mut labels = vec![f.name.to_owned(), f.indicator.to_owned()];
                if let Some((vi, en)) = names.get(f.indicator) {
                    labels.push(vi.clone());
                    labels.push(en.clone());
                }
                for (indicator, aliases) in ALIASES {
                    if *indicator == f.indicator {
                        labels.extend(aliases.iter().map(|a| (*a).to_owned()));
                    }
                }
                Column {
                    key: f.name.to_owned(),
                    labels,
                    kind: if f.percent {
                        Kind::Percent
                    } else {
                        Kind::Count
                    },
                }
            })
            .collect(),
        ignored: IGNORED.iter().map(|s| (*s).to_owned()).collect(),
        unique: None,
    }
}

/// Server refusals naming `localities[i].field` pointed at the cell they came from.
pub fn violations_at_cells(status: &tonic::Status, records: &[Record]) -> Vec<Problem> {
    let mut problems = Vec::new();
    for (field, description) in p06_kit::status::field_violations(status) {
        let Some(rest) = field.strip_prefix("localities[") else {
            return Vec::new();
        };
        let Some((index, name)) = rest.split_once("].") else {
            return Vec::new();
        };
        let Some(record) = index.parse::<usize>().ok().and_then(|i| records.get(i)) else {
            return Vec::new();
        };
        let cell = record
            .cell(name)
            .cloned()
            .unwrap_or_else(|| record.key_cell.clone());
        problems.push(Problem::other(cell, description.clone(), description));
    }
    problems
}

/// A progress spinner on stderr (hidden when stderr is not a terminal).
pub fn spinner(message: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_message(message.to_owned());
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}
