//! A table written as a workbook for the task force: typed cells (numbers as numbers, percentages
//! formatted, dates as dates), the headers in the reader's language with the stable field names in
//! a second header row, frozen headers, an autofilter, columns as wide as their contents.

use chrono::NaiveDate;
use rust_xlsxwriter::{Color, Format, FormatBorder, Workbook, XlsxError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportKind {
    Text,
    /// A whole count: `#,##0`.
    Count,
    /// Any number: up to two decimals.
    Number,
    /// A percentage held as 0–100: `40.8 %`.
    Percent,
    Date,
}

#[derive(Debug, Clone)]
pub struct ExportColumn {
    /// The stable field name (as in JSON and CSV), written in the second header row.
    pub key: String,
    pub header: String,
    pub kind: ExportKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExportValue {
    Empty,
    Text(String),
    Number(f64),
    Date(NaiveDate),
}

#[derive(Debug, Clone)]
pub struct Export {
    pub sheet: String,
    /// A line above the headers (what the table is, as of when).
    pub title: Option<String>,
    pub columns: Vec<ExportColumn>,
    pub rows: Vec<Vec<ExportValue>>,
}

/// The export as xlsx bytes.
pub fn write(e: &Export) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name(&e.sheet)?;
    let header = Format::new()
        .set_bold()
        .set_background_color(Color::RGB(0xDDEBF7))
        .set_border(FormatBorder::Thin);
    let key = Format::new()
        .set_italic()
        .set_font_color(Color::RGB(0x595959))
        .set_border(FormatBorder::Thin);
    let formats = |kind: ExportKind| match kind {
        ExportKind::Text => Format::new(),
        ExportKind::Count => Format::new().set_num_format("#,##0"),
        ExportKind::Number => Format::new().set_num_format("#,##0.##"),
        ExportKind::Percent => Format::new().set_num_format("0.0\" %\""),
        ExportKind::Date => Format::new().set_num_format("dd/mm/yyyy"),
    };
    let mut r = 0;
    if let Some(title) = &e.title {
        sheet.write_string_with_format(0, 0, title, &Format::new().set_bold())?;
        r = 2;
    }
    for (c, column) in e.columns.iter().enumerate() {
        sheet.write_string_with_format(r, c as u16, &column.header, &header)?;
        sheet.write_string_with_format(r + 1, c as u16, &column.key, &key)?;
    }
    let first = r + 2;
    let column_formats: Vec<Format> = e.columns.iter().map(|c| formats(c.kind)).collect();
    for (i, row) in e.rows.iter().enumerate() {
        let row_number = first + i as u32;
        for (c, value) in row.iter().enumerate() {
            let format = &column_formats[c.min(column_formats.len().saturating_sub(1))];
            let c = c as u16;
            match value {
                ExportValue::Empty => {}
                ExportValue::Text(t) => {
                    sheet.write_string(row_number, c, t)?;
                }
                ExportValue::Number(n) => {
                    sheet.write_number_with_format(row_number, c, *n, format)?;
                }
                ExportValue::Date(d) => {
                    sheet.write_datetime_with_format(row_number, c, d, format)?;
                }
            }
        }
    }
    let last_row = (first + e.rows.len() as u32).saturating_sub(1).max(r + 1);
    if !e.columns.is_empty() {
        sheet.autofilter(r + 1, 0, last_row, e.columns.len() as u16 - 1)?;
    }
    sheet.set_freeze_panes(first, 0)?;
    sheet.autofit();
    book.save_to_buffer()
}
