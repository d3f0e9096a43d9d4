//! The workbook a clerk fills: a data sheet with one locked row per expected locality and one
//! column per figure (Vietnamese name above its code, data validation), frozen headers, and an
//! information sheet (period, narrative) read back by [`read_info`].

use std::collections::HashMap;

use chrono::NaiveDate;
use rust_xlsxwriter::{
    Color, DataValidation, DataValidationRule, Format, FormatAlign, FormatBorder, Workbook,
    XlsxError,
};

use crate::cell::CellRef;
use crate::grid::{Cell, Grid};
use crate::table::Kind;
use crate::text::normalize;

/// Rows above the data: title, subtitle, blank, names, codes.
pub const HEADER_ROWS: u32 = 5;

/// A column of the data sheet.
#[derive(Debug, Clone)]
pub struct TemplateColumn {
    pub name_vi: String,
    pub code: String,
    pub kind: Kind,
}

/// A row of the information sheet: a label, the value (or a blank to fill) and its stable key.
#[derive(Debug, Clone)]
pub struct InfoRow {
    pub label_vi: String,
    pub key: String,
    pub value: InfoValue,
    /// The clerk writes here (narrative), else the cell is locked (period, province).
    pub editable: bool,
}

#[derive(Debug, Clone)]
pub enum InfoValue {
    Blank,
    Text(String),
    Date(NaiveDate),
}

#[derive(Debug, Clone)]
pub struct Template {
    pub title: String,
    pub subtitle: String,
    pub data_sheet: String,
    /// Locked columns describing each row (code, name, district).
    pub fixed: Vec<TemplateColumn>,
    pub rows: Vec<Vec<String>>,
    /// Columns to fill.
    pub columns: Vec<TemplateColumn>,
    /// A value every row of a column starts with (e.g. the due date of targets), by column index.
    pub prefill: HashMap<usize, InfoValue>,
    pub info_sheet: String,
    pub info_title: String,
    pub info: Vec<InfoRow>,
}

fn validation(kind: Kind) -> Result<Option<DataValidation>, XlsxError> {
    Ok(Some(match kind {
        Kind::Count => DataValidation::new()
            .allow_whole_number(DataValidationRule::GreaterThanOrEqualTo(0))
            .set_error_title("Số không hợp lệ")?
            .set_error_message("Nhập số nguyên không âm (để trống nếu chưa có số liệu).")?,
        Kind::Percent => DataValidation::new()
            .allow_decimal_number(DataValidationRule::Between(0.0, 100.0))
            .set_error_title("Tỷ lệ không hợp lệ")?
            .set_error_message("Nhập tỷ lệ phần trăm từ 0 đến 100.")?,
        Kind::Number => DataValidation::new()
            .allow_decimal_number(DataValidationRule::GreaterThanOrEqualTo(0.0))
            .set_error_title("Số không hợp lệ")?
            .set_error_message("Nhập số không âm.")?,
        Kind::Date => DataValidation::new()
            .allow_date(DataValidationRule::GreaterThan(
                rust_xlsxwriter::ExcelDateTime::from_ymd(2000, 1, 1)?,
            ))
            .set_error_title("Ngày không hợp lệ")?
            .set_error_message("Nhập ngày, ví dụ 30/06/2025.")?,
        Kind::Text => return Ok(None),
    }))
}

fn number_format(kind: Kind) -> &'static str {
    match kind {
        Kind::Count => "#,##0",
        Kind::Percent => "0.0",
        Kind::Number => "#,##0.##",
        Kind::Date => "dd/mm/yyyy",
        Kind::Text => "@",
    }
}

/// The template as xlsx bytes.
pub fn write(t: &Template) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let title = Format::new().set_bold().set_font_size(14);
    let header = Format::new()
        .set_bold()
        .set_text_wrap()
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter)
        .set_background_color(Color::RGB(0xDDEBF7))
        .set_border(FormatBorder::Thin);
    let code = Format::new()
        .set_italic()
        .set_font_color(Color::RGB(0x595959))
        .set_align(FormatAlign::Center)
        .set_border(FormatBorder::Thin);
    let locked = Format::new()
        .set_background_color(Color::RGB(0xF2F2F2))
        .set_border(FormatBorder::Thin);
    let sheet = book.add_worksheet();
    sheet.set_name(&t.data_sheet)?;
    sheet.write_string_with_format(0, 0, &t.title, &title)?;
    sheet.write_string(1, 0, &t.subtitle)?;
    let (names_row, codes_row) = (HEADER_ROWS - 2, HEADER_ROWS - 1);
    let all: Vec<&TemplateColumn> = t.fixed.iter().chain(t.columns.iter()).collect();
    for (c, column) in all.iter().enumerate() {
        let c = c as u16;
        sheet.write_string_with_format(names_row, c, &column.name_vi, &header)?;
        sheet.write_string_with_format(codes_row, c, &column.code, &code)?;
        let width = if (c as usize) < t.fixed.len() {
            if c == 0 { 12.0 } else { 24.0 }
        } else {
            18.0
        };
        sheet.set_column_width(c, width)?;
    }
    sheet.set_row_height(names_row, 60)?;
    let first = HEADER_ROWS;
    for (i, row) in t.rows.iter().enumerate() {
        let r = first + i as u32;
        for (c, text) in row.iter().enumerate() {
            sheet.write_string_with_format(r, c as u16, text, &locked)?;
        }
        for (j, column) in t.columns.iter().enumerate() {
            let c = (t.fixed.len() + j) as u16;
            let format = Format::new()
                .set_unlocked()
                .set_num_format(number_format(column.kind))
                .set_border(FormatBorder::Thin);
            match t.prefill.get(&j) {
                Some(InfoValue::Date(d)) => {
                    sheet.write_datetime_with_format(r, c, d, &format)?;
                }
                Some(InfoValue::Text(s)) => {
                    sheet.write_string_with_format(r, c, s, &format)?;
                }
                _ => {
                    sheet.write_blank(r, c, &format)?;
                }
            }
        }
    }
    if !t.rows.is_empty() {
        let last = first + t.rows.len() as u32 - 1;
        for (j, column) in t.columns.iter().enumerate() {
            if let Some(v) = validation(column.kind)? {
                let c = (t.fixed.len() + j) as u16;
                sheet.add_data_validation(first, c, last, c, &v)?;
            }
        }
    }
    sheet.set_freeze_panes(first, t.fixed.len() as u16)?;
    sheet.protect();

    let info = book.add_worksheet();
    info.set_name(&t.info_sheet)?;
    info.write_string_with_format(0, 0, &t.info_title, &title)?;
    info.set_column_width(0, 28)?;
    info.set_column_width(1, 80)?;
    info.set_column_width(2, 16)?;
    let label = Format::new().set_bold().set_border(FormatBorder::Thin);
    let fill = Format::new()
        .set_unlocked()
        .set_text_wrap()
        .set_border(FormatBorder::Thin);
    let fixed_value = locked.clone().set_align(FormatAlign::Left);
    let date_value = fixed_value.clone().set_num_format("dd/mm/yyyy");
    for (i, row) in t.info.iter().enumerate() {
        let r = 2 + i as u32;
        info.write_string_with_format(r, 0, &row.label_vi, &label)?;
        let format = if row.editable { &fill } else { &fixed_value };
        match &row.value {
            InfoValue::Blank => {
                info.write_blank(r, 1, format)?;
            }
            InfoValue::Text(s) => {
                info.write_string_with_format(r, 1, s, format)?;
            }
            InfoValue::Date(d) => {
                info.write_datetime_with_format(
                    r,
                    1,
                    d,
                    if row.editable { format } else { &date_value },
                )?;
            }
        }
        if row.editable {
            info.set_row_height(r, 90)?;
        }
        info.write_string_with_format(r, 2, &row.key, &code)?;
    }
    info.protect();
    book.save_to_buffer()
}

/// The values of an information sheet by key: a row whose cell is a key or a label (compared
/// without case or diacritics) gives the cell to its right.
pub fn read_info(grid: &Grid, keys: &[(&str, &[&str])]) -> HashMap<String, (Cell, CellRef)> {
    let mut found = HashMap::new();
    for r in 0..grid.height() {
        let row = &grid.rows[r as usize];
        for (key, labels) in keys {
            if found.contains_key(*key) {
                continue;
            }
            let names: Vec<String> = std::iter::once(*key)
                .chain(labels.iter().copied())
                .map(normalize)
                .collect();
            // The key in column C names the row; else a label in column A or B.
            let hit = row.iter().enumerate().find_map(|(c, cell)| match cell {
                Cell::Text(t) if names.contains(&normalize(t.trim_end_matches(':'))) => Some(c),
                _ => None,
            });
            if let Some(c) = hit {
                // The template keeps the stable key right of the value; a label stands left of it.
                let is_key = normalize(&grid.cell(r, c as u32).shown()) == normalize(key);
                let value_col = if is_key && c >= 1 { c - 1 } else { c + 1 } as u32;
                found.insert(
                    (*key).to_owned(),
                    (grid.cell(r, value_col).clone(), grid.at(r, value_col)),
                );
            }
        }
    }
    found
}
