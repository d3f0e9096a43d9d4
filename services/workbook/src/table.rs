//! A table inside a grid: its header row found by the columns' codes or names, then one
//! [`Record`] per row with a key, every value with its cell, and every problem at once.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;

use crate::cell::CellRef;
use crate::grid::{Cell, Grid};
use crate::problem::{Problem, ProblemKind};
use crate::text::{
    TextError, normalize, parse_count, parse_date, parse_decimal, parse_number, serial_date,
};

/// How many rows from the top may hold titles before the header row.
const HEADER_SEARCH_ROWS: u32 = 60;

/// What a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A whole number ≥ 0.
    Count,
    /// 0–100.
    Percent,
    /// A number ≥ 0, not necessarily whole (targets).
    Number,
    Date,
    Text,
}

/// A column the table may have, recognised by any of its labels (a stable code, a field name,
/// a Vietnamese name: compared without case, diacritics or punctuation).
#[derive(Debug, Clone)]
pub struct Column {
    pub key: String,
    pub labels: Vec<String>,
    pub kind: Kind,
}

impl Column {
    pub fn new(key: &str, kind: Kind, labels: &[&str]) -> Self {
        let mut all = vec![key.to_owned()];
        all.extend(labels.iter().map(|l| (*l).to_owned()));
        Self {
            key: key.to_owned(),
            labels: all,
            kind,
        }
    }
}

/// The table wanted: a key column (a locality code), figure columns, headers to pass over.
#[derive(Debug, Clone)]
pub struct Schema {
    pub key: Column,
    pub columns: Vec<Column>,
    /// Headers that may stand in the table and are not read: "STT", "Tên xã", "Ghi chú" …
    pub ignored: Vec<String>,
    /// When set, a key may appear once: the unit's name in Vietnamese and English ("xã", "commune").
    pub unique: Option<(String, String)>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Count(i64),
    Percent(f64),
    Number(f64),
    Date(NaiveDate),
    Text(String),
}

impl Value {
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Count(c) => Some(*c as f64),
            Value::Percent(v) | Value::Number(v) => Some(*v),
            _ => None,
        }
    }
}

/// One row of figures.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// The row, 0-based (row 17 in Excel is 16).
    pub row: u32,
    pub key: String,
    pub key_cell: CellRef,
    /// Column key → value and its cell; a blank cell has no entry (no data, never 0).
    pub values: BTreeMap<String, (Value, CellRef)>,
}

impl Record {
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.values.get(key).map(|(v, _)| v)
    }

    pub fn cell(&self, key: &str) -> Option<&CellRef> {
        self.values.get(key).map(|(_, c)| c)
    }
}

/// What [`read_table`] found: the records and every problem (none means the table is good).
#[derive(Debug, Clone)]
pub struct Table {
    pub sheet: String,
    /// The header row (0-based) and the columns found in it: key → column.
    pub header_row: Option<u32>,
    pub columns: Vec<(String, u32)>,
    pub records: Vec<Record>,
    /// The "Tổng cộng" row: never a record; checked against the sum of the records unless
    /// [`Totals::Ignore`].
    pub totals_row: Option<u32>,
    pub problems: Vec<Problem>,
}

enum Match {
    Key,
    Column(usize),
    Ignored,
}

struct Labels {
    by_label: HashMap<String, usize>,
    key: Vec<String>,
    ignored: Vec<String>,
}

/// "Số tài khoản mức 2 (tài khoản)" is also looked up as "Số tài khoản mức 2".
fn without_parentheses(text: &str) -> String {
    let mut out = String::new();
    let mut depth = 0;
    for c in text.chars() {
        match c {
            '(' | '[' => depth += 1,
            ')' | ']' => depth = i32::max(depth - 1, 0),
            c if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

impl Labels {
    fn new(schema: &Schema) -> Self {
        let mut by_label = HashMap::new();
        for (i, c) in schema.columns.iter().enumerate() {
            for l in &c.labels {
                by_label.entry(normalize(l)).or_insert(i);
            }
        }
        Self {
            by_label,
            key: schema.key.labels.iter().map(|l| normalize(l)).collect(),
            ignored: schema.ignored.iter().map(|l| normalize(l)).collect(),
        }
    }

    fn find(&self, cell: &Cell) -> Option<Match> {
        let Cell::Text(text) = cell else {
            return None;
        };
        let plain = normalize(&without_parentheses(text));
        // "Số tài khoản …" / "Số lượng thẻ …" (the number of …) name the same figure.
        let counted = ["so luong ", "so "]
            .iter()
            .find_map(|p| plain.strip_prefix(p))
            .unwrap_or_default()
            .to_owned();
        for candidate in [normalize(text), plain, counted] {
            if candidate.is_empty() {
                continue;
            }
            if self.key.contains(&candidate) {
                return Some(Match::Key);
            }
            if let Some(i) = self.by_label.get(&candidate) {
                return Some(Match::Column(*i));
            }
        }
        let n = normalize(&without_parentheses(text));
        // Ratios the clerk computed ("Tỷ lệ %"): the exchange computes them from the counts.
        if self.ignored.contains(&n) || n.starts_with("ty le") || n == "stt" || n == "tt" {
            return Some(Match::Ignored);
        }
        None
    }
}

/// "Tổng cộng" (the grand total) and "Cộng huyện …" (a subtotal): never a record.
enum Summary {
    Total,
    Subtotal,
}

fn summary(text: &str) -> Option<Summary> {
    let n = normalize(text);
    if n == "tong cong" || n.starts_with("tong cong ") || n == "tong" || n == "total" {
        Some(Summary::Total)
    } else if n.starts_with("cong ") || n == "cong" || n.starts_with("tong ") {
        Some(Summary::Subtotal)
    } else {
        None
    }
}

fn text_problem(error: TextError, text: String) -> ProblemKind {
    match error {
        TextError::NotANumber => ProblemKind::NotANumber { text },
        TextError::NotWhole => ProblemKind::NotWhole { text },
        TextError::Negative => ProblemKind::Negative { text },
        TextError::OutOfRange => ProblemKind::PercentOutOfRange { text },
        TextError::NotADate => ProblemKind::NotADate { text },
    }
}

/// The value of `cell` as `kind` wants it; `Ok(None)` for a blank cell.
pub fn value_of(cell: &Cell, kind: Kind) -> Result<Option<Value>, ProblemKind> {
    let shown = cell.shown();
    if cell.is_empty() {
        return Ok(None);
    }
    if let Cell::Error(e) = cell {
        return Err(ProblemKind::FormulaError { text: e.clone() });
    }
    let number = |cell: &Cell| -> Result<Option<f64>, ProblemKind> {
        match cell {
            Cell::Number(n) => Ok(Some(*n)),
            Cell::Text(t) => parse_decimal(t).map_err(|e| text_problem(e, shown.clone())),
            _ => Err(ProblemKind::NotANumber {
                text: shown.clone(),
            }),
        }
    };
    Ok(match kind {
        Kind::Count => match cell {
            Cell::Number(n) if *n < 0.0 => return Err(ProblemKind::Negative { text: shown }),
            Cell::Number(n) if n.fract() != 0.0 => {
                return Err(ProblemKind::NotWhole { text: shown });
            }
            Cell::Number(n) => Some(Value::Count(*n as i64)),
            Cell::Text(t) => parse_count(t)
                .map_err(|e| text_problem(e, shown.clone()))?
                .map(Value::Count),
            _ => return Err(ProblemKind::NotANumber { text: shown }),
        },
        Kind::Percent => match number(cell)? {
            Some(p) if !(0.0..=100.0).contains(&p) => {
                return Err(ProblemKind::PercentOutOfRange { text: shown });
            }
            p => p.map(Value::Percent),
        },
        Kind::Number => match match cell {
            Cell::Text(t) => parse_number(t).map_err(|e| text_problem(e, shown.clone()))?,
            other => number(other)?,
        } {
            Some(v) if v < 0.0 => return Err(ProblemKind::Negative { text: shown }),
            v => v.map(Value::Number),
        },
        Kind::Date => match cell {
            Cell::Date(d) => Some(Value::Date(*d)),
            Cell::Number(n) => Some(Value::Date(
                serial_date(*n).ok_or(ProblemKind::NotADate { text: shown })?,
            )),
            Cell::Text(t) => parse_date(t)
                .map_err(|e| text_problem(e, shown.clone()))?
                .map(Value::Date),
            _ => return Err(ProblemKind::NotADate { text: shown }),
        },
        Kind::Text => Some(Value::Text(shown)),
    })
}

/// A key as written: text trimmed, a whole number without its decimals.
fn key_of(cell: &Cell) -> Option<String> {
    match cell {
        Cell::Number(n) if n.fract() == 0.0 => Some(format!("{}", *n as i64)),
        Cell::Empty => None,
        other => Some(other.shown()).filter(|s| !s.is_empty()),
    }
}

/// What to do with a "Tổng cộng" (grand total) row: it is never imported as a locality.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Totals {
    /// Each of its figures must equal the sum of the rows (a slip is a problem at its cell).
    #[default]
    Check,
    /// Passed over unread (a clerk's totals row with formulas or notes the exchange need not judge).
    Ignore,
}

impl Totals {
    /// `check` or `ignore`.
    pub fn parse(text: &str) -> Option<Totals> {
        match text.trim().to_ascii_lowercase().as_str() {
            "check" => Some(Totals::Check),
            "ignore" => Some(Totals::Ignore),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Totals::Check => "check",
            Totals::Ignore => "ignore",
        }
    }
}

/// Finds the table of `schema` in `grid` and reads it, collecting every problem; a totals row is
/// checked against the sum of the rows.
pub fn read_table(grid: &Grid, schema: &Schema) -> Table {
    read_table_with(grid, schema, Totals::Check)
}

/// [`read_table`], with the totals row checked or ignored as `totals` says.
pub fn read_table_with(grid: &Grid, schema: &Schema, totals: Totals) -> Table {
    let labels = Labels::new(schema);
    let mut table = Table {
        sheet: grid.sheet.clone(),
        header_row: None,
        columns: Vec::new(),
        records: Vec::new(),
        totals_row: None,
        problems: Vec::new(),
    };
    // The header: the first row naming the key and a figure column, or naming the key with the
    // figure columns in the row below (a group header above sub-headers).
    let row_matches = |r: u32| -> (Option<u32>, Vec<(usize, u32)>) {
        let mut key = None;
        let mut columns = Vec::new();
        for c in 0..grid.rows.get(r as usize).map_or(0, Vec::len) as u32 {
            match labels.find(grid.cell(r, c)) {
                Some(Match::Key) if key.is_none() => key = Some(c),
                Some(Match::Column(i)) => columns.push((i, c)),
                _ => {}
            }
        }
        (key, columns)
    };
    let mut found = None;
    for r in 0..grid.height().min(HEADER_SEARCH_ROWS) {
        let (key, columns) = row_matches(r);
        let Some(key) = key else { continue };
        if !columns.is_empty() {
            found = Some((r, key, columns));
            break;
        }
        let (_, below) = row_matches(r + 1);
        if !below.is_empty() {
            found = Some((r + 1, key, below));
            break;
        }
    }
    // No figure column recognised: the row naming the key is the header, and its other headers
    // are named as unknown below (a misspelt column).
    if found.is_none() {
        found = (0..grid.height().min(HEADER_SEARCH_ROWS))
            .find_map(|r| row_matches(r).0.map(|key| (r, key, Vec::new())));
    }
    let Some((mut header, key_col, mut matched)) = found else {
        let mut names: Vec<String> = schema.columns.iter().map(|c| c.key.clone()).collect();
        names.truncate(6);
        table.problems.push(Problem::new(
            grid.at(0, 0),
            ProblemKind::NoHeader {
                key: format!(
                    "{} ({})",
                    schema.key.key,
                    schema.key.labels.get(1).cloned().unwrap_or_default()
                ),
                columns: names,
            },
        ));
        return table;
    };
    // A second header row of codes below the names (as the template has): merged in.
    loop {
        let (key, below) = row_matches(header + 1);
        if key.is_none() && below.is_empty() {
            break;
        }
        for (i, c) in below {
            if !matched.iter().any(|(j, d)| *j == i || *d == c) {
                matched.push((i, c));
            }
        }
        header += 1;
    }
    // Every column once; headers nobody knows are refused (a misspelt column would otherwise be
    // "not reported" without a word).
    let mut first_at: HashMap<usize, u32> = HashMap::new();
    let mut columns: Vec<(usize, u32)> = Vec::new();
    for (i, c) in matched {
        match first_at.get(&i) {
            Some(first) => table.problems.push(Problem::new(
                grid.at(header, c),
                ProblemKind::DuplicateColumn {
                    header: grid.cell(header, c).shown(),
                    first: grid.at(header, *first),
                },
            )),
            None => {
                first_at.insert(i, c);
                columns.push((i, c));
            }
        }
    }
    let value_cols: Vec<u32> = columns.iter().map(|(_, c)| *c).collect();
    let known: Vec<String> = std::iter::once(schema.key.key.clone())
        .chain(schema.columns.iter().map(|c| c.key.clone()))
        .collect();
    for c in 0..grid.rows[header as usize].len() as u32 {
        if c == key_col || value_cols.contains(&c) {
            continue;
        }
        let cell = grid.cell(header, c);
        if let (Cell::Text(t), None) = (cell, labels.find(cell))
            && !is_plain_name(t)
            && !t.trim().is_empty()
        {
            table.problems.push(Problem::new(
                grid.at(header, c),
                ProblemKind::UnknownColumn {
                    header: t.trim().to_owned(),
                    known: known.clone(),
                },
            ));
        }
    }
    table.header_row = Some(header);
    table.columns = columns
        .iter()
        .map(|(i, c)| (schema.columns[*i].key.clone(), *c))
        .collect();
    table.columns.insert(0, (schema.key.key.clone(), key_col));

    let mut seen: HashMap<String, CellRef> = HashMap::new();
    let is_value_col = |c: u32| value_cols.contains(&c);
    for r in header + 1..grid.height() {
        let row = &grid.rows[r as usize];
        if row.iter().all(Cell::is_empty) {
            continue;
        }
        let kind = (0..row.len() as u32)
            .filter(|c| !is_value_col(*c))
            .find_map(|c| match grid.cell(r, c) {
                Cell::Text(t) => summary(t),
                _ => None,
            });
        match kind {
            Some(Summary::Total) => {
                if table.totals_row.is_none() {
                    table.totals_row = Some(r);
                }
                continue;
            }
            Some(Summary::Subtotal) => continue,
            None => {}
        }
        let key_cell = grid.cell(r, key_col);
        // A repeated header (a printed page break) is no row.
        if labels
            .find(key_cell)
            .is_some_and(|m| matches!(m, Match::Key))
        {
            continue;
        }
        let mut values = BTreeMap::new();
        for (i, c) in &columns {
            let column = &schema.columns[*i];
            match value_of(grid.cell(r, *c), column.kind) {
                Ok(Some(v)) => {
                    values.insert(column.key.clone(), (v, grid.at(r, *c)));
                }
                Ok(None) => {}
                Err(kind) => table.problems.push(Problem::new(grid.at(r, *c), kind)),
            }
        }
        let has_figures = columns.iter().any(|(_, c)| !grid.cell(r, *c).is_empty());
        let Some(key) = key_of(key_cell) else {
            if has_figures {
                table
                    .problems
                    .push(Problem::new(grid.at(r, key_col), ProblemKind::NoCode));
            }
            continue;
        };
        if !has_figures && !key.bytes().any(|b| b.is_ascii_digit()) {
            // A heading inside the table ("Huyện Đak Đoa") with no figures.
            continue;
        }
        let key_ref = grid.at(r, key_col);
        if let Some((unit_vi, unit_en)) = &schema.unique {
            if let Some(first) = seen.get(&key) {
                table.problems.push(Problem::new(
                    key_ref.clone(),
                    ProblemKind::Duplicate {
                        unit_vi: unit_vi.clone(),
                        unit_en: unit_en.clone(),
                        code: key.clone(),
                        first: first.clone(),
                    },
                ));
                continue;
            }
            seen.insert(key.clone(), key_ref.clone());
        }
        table.records.push(Record {
            row: r,
            key,
            key_cell: key_ref,
            values,
        });
    }
    if let (Some(t), Totals::Check) = (table.totals_row, totals) {
        check_totals(grid, schema, &columns, t, &mut table);
    }
    if table.records.is_empty() && table.problems.is_empty() {
        table.problems.push(Problem::new(
            grid.at(header + 1, key_col),
            ProblemKind::NoRows,
        ));
    }
    table
}

/// Names and notes a clerk keeps beside the figures ("Tên xã", "Huyện", "Ghi chú") are not
/// figure columns; only a header that reads like a figure is refused when unknown.
fn is_plain_name(text: &str) -> bool {
    let n = normalize(text);
    const PLAIN: &[&str] = &[
        "ten",
        "ten xa",
        "ten don vi",
        "don vi",
        "xa",
        "phuong",
        "xa phuong",
        "huyen",
        "quan huyen",
        "huyen thi xa",
        "ghi chu",
        "name",
        "district",
        "note",
        "notes",
        "dia ban",
        "ten dia ban",
        "ten huyen",
        "locality",
        "unit",
        "district name",
        "district code",
        "ma huyen",
        "parent code",
        "parent_code",
        "parent name",
    ];
    PLAIN.contains(&n.as_str())
}

fn check_totals(
    grid: &Grid,
    schema: &Schema,
    columns: &[(usize, u32)],
    row: u32,
    table: &mut Table,
) {
    for (i, c) in columns {
        let column = &schema.columns[*i];
        if !matches!(column.kind, Kind::Count | Kind::Number) {
            // Percentages are never added up.
            continue;
        }
        let total = match value_of(grid.cell(row, *c), column.kind) {
            Ok(Some(v)) => v.as_f64().unwrap_or_default(),
            Ok(None) => continue,
            Err(kind) => {
                table.problems.push(Problem::new(grid.at(row, *c), kind));
                continue;
            }
        };
        let sum: f64 = table
            .records
            .iter()
            .filter_map(|r| r.get(&column.key).and_then(Value::as_f64))
            .sum();
        if (total - sum).abs() > 1e-6 * sum.abs().max(1.0) {
            table.problems.push(Problem::new(
                grid.at(row, *c),
                ProblemKind::TotalMismatch { total, sum },
            ));
        }
    }
}
