//! A workbook's sheets as grids of typed cells, from xlsx/xls/ods (through calamine: formulas by
//! their cached values) or CSV (every cell text).

use std::io::Cursor;

use calamine::{Data, Reader as _};
use chrono::NaiveDate;

use crate::cell::CellRef;
use crate::text::{parse_date, serial_date};

/// One cell as the file holds it.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Number(f64),
    Bool(bool),
    /// A cell Excel stores as a date (a serial with a date format) or an ISO date.
    Date(NaiveDate),
    /// A formula whose cached value is an error, e.g. `#DIV/0!`.
    Error(String),
}

impl Cell {
    pub fn is_empty(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(t) => t.trim().is_empty(),
            _ => false,
        }
    }

    /// The cell as a clerk sees it, for messages: `12a`, `704828`, `2025-03-22`.
    pub fn shown(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(t) => t.trim().to_owned(),
            Cell::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => format!("{}", *n as i64),
            Cell::Number(n) => n.to_string(),
            Cell::Bool(b) => b.to_string(),
            Cell::Date(d) => d.format("%Y-%m-%d").to_string(),
            Cell::Error(e) => e.clone(),
        }
    }
}

/// One sheet: rows of cells, indexed from A1 (row 0, column 0).
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    pub sheet: String,
    pub rows: Vec<Vec<Cell>>,
}

static EMPTY: Cell = Cell::Empty;

impl Grid {
    pub fn cell(&self, row: u32, col: u32) -> &Cell {
        self.rows
            .get(row as usize)
            .and_then(|r| r.get(col as usize))
            .unwrap_or(&EMPTY)
    }

    pub fn at(&self, row: u32, col: u32) -> CellRef {
        CellRef::new(&self.sheet, row, col)
    }

    pub fn height(&self) -> u32 {
        self.rows.len() as u32
    }

    pub fn width(&self) -> u32 {
        self.rows.iter().map(Vec::len).max().unwrap_or(0) as u32
    }
}

/// Every sheet of a workbook, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Workbook {
    pub sheets: Vec<Grid>,
}

impl Workbook {
    /// The sheet called `name` (exactly, else ignoring case and diacritics).
    pub fn sheet(&self, name: &str) -> Option<&Grid> {
        self.sheets.iter().find(|g| g.sheet == name).or_else(|| {
            let wanted = crate::text::normalize(name);
            self.sheets
                .iter()
                .find(|g| crate::text::normalize(&g.sheet) == wanted)
        })
    }

    pub fn names(&self) -> Vec<&str> {
        self.sheets.iter().map(|g| g.sheet.as_str()).collect()
    }
}

/// Why a file could not be read as a workbook at all (one clear error, not a cell's).
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum OpenError {
    #[error("the file is empty")]
    Empty,
    #[error("the file is a PDF, not a workbook")]
    Pdf,
    #[error("the workbook is password-protected (encrypted); save it without a password")]
    Encrypted,
    #[error("the file is not a workbook (xlsx, xls, ods) nor a CSV file")]
    NotAWorkbook,
    #[error("the workbook is damaged or not readable: {0}")]
    Damaged(String),
    #[error("the CSV file is not UTF-8 text; save it as \"CSV UTF-8\"")]
    NotUtf8,
    #[error("the CSV file is not readable: {0}")]
    Csv(String),
    #[error("the workbook has no sheets")]
    NoSheets,
}

impl OpenError {
    /// The same in Vietnamese.
    pub fn vi(&self) -> String {
        match self {
            OpenError::Empty => "tệp rỗng".into(),
            OpenError::Pdf => "tệp là PDF, không phải bảng tính".into(),
            OpenError::Encrypted => {
                "bảng tính có mật khẩu (được mã hoá); hãy lưu lại không đặt mật khẩu".into()
            }
            OpenError::NotAWorkbook => {
                "tệp không phải bảng tính (xlsx, xls, ods) cũng không phải CSV".into()
            }
            OpenError::Damaged(e) => format!("bảng tính bị hỏng hoặc không đọc được: {e}"),
            OpenError::NotUtf8 => {
                "tệp CSV không phải văn bản UTF-8; hãy lưu dạng \"CSV UTF-8\"".into()
            }
            OpenError::Csv(e) => format!("không đọc được tệp CSV: {e}"),
            OpenError::NoSheets => "bảng tính không có trang tính nào".into(),
        }
    }
}

const ZIP: &[u8] = b"PK\x03\x04";
const CFB: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

/// Reads `bytes`; `file_name` decides CSV (`.csv`, `.txt`) and names a CSV file's only sheet.
pub fn open(bytes: &[u8], file_name: &str) -> Result<Workbook, OpenError> {
    if bytes.is_empty() {
        return Err(OpenError::Empty);
    }
    let lower = file_name.to_lowercase();
    if bytes.starts_with(b"%PDF") {
        return Err(OpenError::Pdf);
    }
    if bytes.starts_with(ZIP) || bytes.starts_with(CFB) {
        return open_spreadsheet(bytes);
    }
    if lower.ends_with(".csv") || lower.ends_with(".txt") {
        let name = std::path::Path::new(file_name).file_name().map_or_else(
            || file_name.to_owned(),
            |n| n.to_string_lossy().into_owned(),
        );
        return open_csv(bytes, &name);
    }
    Err(OpenError::NotAWorkbook)
}

fn open_spreadsheet(bytes: &[u8]) -> Result<Workbook, OpenError> {
    if bytes.starts_with(CFB) {
        // An encrypted xlsx is an OLE container with an "EncryptedPackage" stream.
        let marker: Vec<u8> = "EncryptedPackage"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        if bytes.windows(marker.len()).any(|w| w == marker.as_slice()) {
            return Err(OpenError::Encrypted);
        }
    }
    let mut sheets = calamine::open_workbook_auto_from_rs(Cursor::new(bytes)).map_err(|e| {
        if bytes.starts_with(CFB) {
            OpenError::Damaged(e.to_string())
        } else {
            OpenError::Damaged(format!("{e} (not an xlsx or ods file?)"))
        }
    })?;
    let names = sheets.sheet_names();
    if names.is_empty() {
        return Err(OpenError::NoSheets);
    }
    let mut grids = Vec::with_capacity(names.len());
    for name in names {
        let range = sheets.worksheet_range(&name).map_err(|e| {
            let text = e.to_string();
            if text.to_lowercase().contains("password") {
                OpenError::Encrypted
            } else {
                OpenError::Damaged(format!("sheet {name:?}: {text}"))
            }
        })?;
        let mut rows: Vec<Vec<Cell>> = Vec::new();
        if let Some((top, left)) = range.start() {
            for (i, row) in range.rows().enumerate() {
                let mut cells = vec![Cell::Empty; left as usize];
                cells.extend(row.iter().map(cell_of));
                while cells.last().is_some_and(Cell::is_empty) {
                    cells.pop();
                }
                let at = top as usize + i;
                if rows.len() <= at {
                    rows.resize(at + 1, Vec::new());
                }
                rows[at] = cells;
            }
        }
        grids.push(Grid { sheet: name, rows });
    }
    Ok(Workbook { sheets: grids })
}

fn cell_of(data: &Data) -> Cell {
    match data {
        Data::Empty => Cell::Empty,
        Data::Int(i) => Cell::Number(*i as f64),
        Data::Float(f) => Cell::Number(*f),
        Data::String(s) => Cell::Text(s.clone()),
        Data::Bool(b) => Cell::Bool(*b),
        Data::DateTime(dt) if dt.is_datetime() => dt
            .as_datetime()
            .map(|d| Cell::Date(d.date()))
            .or_else(|| serial_date(dt.as_f64()).map(Cell::Date))
            .unwrap_or(Cell::Number(dt.as_f64())),
        Data::DateTime(dt) => Cell::Number(dt.as_f64()),
        Data::DateTimeIso(s) => match parse_date(s) {
            Ok(Some(d)) => Cell::Date(d),
            _ => Cell::Text(s.clone()),
        },
        Data::DurationIso(s) => Cell::Text(s.clone()),
        Data::Error(e) => Cell::Error(e.to_string()),
    }
}

fn open_csv(bytes: &[u8], name: &str) -> Result<Workbook, OpenError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if std::str::from_utf8(bytes).is_err() {
        return Err(OpenError::NotUtf8);
    }
    // Excel in a Vietnamese locale saves CSV with semicolons: take the one the first line uses.
    let first_line = bytes.split(|b| *b == b'\n').next().unwrap_or_default();
    let delimiter = if first_line.iter().filter(|b| **b == b';').count()
        > first_line.iter().filter(|b| **b == b',').count()
    {
        b';'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(bytes);
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| OpenError::Csv(e.to_string()))?;
        let mut cells: Vec<Cell> = record
            .iter()
            .map(|t| {
                if t.trim().is_empty() {
                    Cell::Empty
                } else {
                    Cell::Text(t.to_owned())
                }
            })
            .collect();
        while cells.last().is_some_and(Cell::is_empty) {
            cells.pop();
        }
        rows.push(cells);
    }
    Ok(Workbook {
        sheets: vec![Grid {
            sheet: name.to_owned(),
            rows,
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_not_a_workbook_says_so_once() {
        assert_eq!(open(b"", "a.xlsx"), Err(OpenError::Empty));
        assert_eq!(open(b"%PDF-1.7 ...", "a.xlsx"), Err(OpenError::Pdf));
        assert_eq!(open(b"hello world", "a.xlsx"), Err(OpenError::NotAWorkbook));
        assert!(matches!(
            open(b"PK\x03\x04broken zip", "a.xlsx"),
            Err(OpenError::Damaged(_))
        ));
        let mut encrypted = CFB.to_vec();
        encrypted.extend(vec![0; 100]);
        encrypted.extend("EncryptedPackage".encode_utf16().flat_map(u16::to_le_bytes));
        assert_eq!(open(&encrypted, "a.xlsx"), Err(OpenError::Encrypted));
        assert_eq!(open(b"\xff\xfea,b", "a.csv"), Err(OpenError::NotUtf8));
    }

    #[test]
    fn csv_is_a_sheet_of_text() {
        let book = open(
            "\u{feff}locality_code;vneid_level2_activated\n23680;704.828\n".as_bytes(),
            "/tmp/tuan.csv",
        )
        .unwrap();
        let grid = &book.sheets[0];
        assert_eq!(grid.sheet, "tuan.csv");
        assert_eq!(grid.cell(1, 1), &Cell::Text("704.828".into()));
        assert_eq!(grid.cell(5, 5), &Cell::Empty);
    }
}
