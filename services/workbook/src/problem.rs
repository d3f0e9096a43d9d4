//! What is wrong with a workbook, named by its cell and worded in Vietnamese or English.

use std::fmt;

use crate::cell::CellRef;
use crate::text::figure;

/// One problem of a workbook: where it is and what it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub cell: CellRef,
    pub kind: ProblemKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ProblemKind {
    /// `"12a" is not a number`.
    NotANumber {
        text: String,
    },
    /// `"40,8" is not a whole number` (a count).
    NotWhole {
        text: String,
    },
    /// A count below zero.
    Negative {
        text: String,
    },
    /// A percentage outside 0–100.
    PercentOutOfRange {
        text: String,
    },
    NotADate {
        text: String,
    },
    /// A formula whose cached value is an error, e.g. `#DIV/0!`.
    FormulaError {
        text: String,
    },
    /// A row with figures but no locality code.
    NoCode,
    /// The same key twice: `commune 23680 appears twice` (first at `first`).
    Duplicate {
        unit_vi: String,
        unit_en: String,
        code: String,
        first: CellRef,
    },
    /// The totals row's figure differs from the sum of the rows above it.
    TotalMismatch {
        total: f64,
        sum: f64,
    },
    /// A header the schema does not know.
    UnknownColumn {
        header: String,
        known: Vec<String>,
    },
    /// No row of the first rows names the key column and a value column.
    NoHeader {
        key: String,
        columns: Vec<String>,
    },
    /// A header naming a column a second time.
    DuplicateColumn {
        header: String,
        first: CellRef,
    },
    /// The table has a header but no row of figures.
    NoRows,
    /// A problem worded by the caller (e.g. a locality the catalog does not have).
    Other {
        vi: String,
        en: String,
    },
}

impl Problem {
    pub fn new(cell: CellRef, kind: ProblemKind) -> Self {
        Self { cell, kind }
    }

    pub fn other(cell: CellRef, vi: impl Into<String>, en: impl Into<String>) -> Self {
        Self::new(
            cell,
            ProblemKind::Other {
                vi: vi.into(),
                en: en.into(),
            },
        )
    }

    /// `'Số liệu'!D17: "12a" không phải là số`.
    pub fn vi(&self) -> String {
        use ProblemKind::*;
        let what = match &self.kind {
            NotANumber { text } => format!("{text:?} không phải là số"),
            NotWhole { text } => format!("{text:?} không phải số nguyên (ô này đếm số lượng)"),
            Negative { text } => format!("{text:?} là số âm"),
            PercentOutOfRange { text } => format!("{text:?} không phải tỷ lệ từ 0 đến 100"),
            NotADate { text } => {
                format!("{text:?} không phải ngày (dạng 22/03/2025 hoặc 2025-03-22)")
            }
            FormulaError { text } => format!("công thức cho lỗi {text}"),
            NoCode => "dòng có số liệu nhưng không có mã đơn vị".to_owned(),
            Duplicate {
                unit_vi,
                code,
                first,
                ..
            } => format!(
                "{unit_vi} {code} xuất hiện hai lần (lần đầu ở {})",
                first.local()
            ),
            TotalMismatch { total, sum } => format!(
                "dòng tổng cộng ghi {} nhưng tổng các dòng là {}",
                figure(*total, true),
                figure(*sum, true)
            ),
            UnknownColumn { header, known } => format!(
                "cột {header:?} không có trong mẫu báo cáo; các cột hợp lệ: {}",
                known.join(", ")
            ),
            NoHeader { key, columns } => format!(
                "không tìm thấy dòng tiêu đề: cần cột {key} và ít nhất một cột số liệu ({})",
                columns.join(", ")
            ),
            DuplicateColumn { header, first } => {
                format!("cột {header:?} trùng với cột {}", first.local())
            }
            NoRows => "không có dòng số liệu nào dưới dòng tiêu đề".to_owned(),
            Other { vi, .. } => vi.clone(),
        };
        format!("{}: {what}", self.cell)
    }

    /// `Sheet1!D17: "12a" is not a number`.
    pub fn en(&self) -> String {
        use ProblemKind::*;
        let what = match &self.kind {
            NotANumber { text } => format!("{text:?} is not a number"),
            NotWhole { text } => format!("{text:?} is not a whole number (this cell counts)"),
            Negative { text } => format!("{text:?} is negative"),
            PercentOutOfRange { text } => format!("{text:?} is not a percentage from 0 to 100"),
            NotADate { text } => {
                format!("{text:?} is not a date (as 22/03/2025 or 2025-03-22)")
            }
            FormulaError { text } => format!("the formula gives the error {text}"),
            NoCode => "the row has figures but no locality code".to_owned(),
            Duplicate {
                unit_en,
                code,
                first,
                ..
            } => format!(
                "{unit_en} {code} appears twice (first at {})",
                first.local()
            ),
            TotalMismatch { total, sum } => format!(
                "the totals row says {} but the rows add up to {}",
                figure(*total, false),
                figure(*sum, false)
            ),
            UnknownColumn { header, known } => format!(
                "column {header:?} is not in the report; the columns are: {}",
                known.join(", ")
            ),
            NoHeader { key, columns } => format!(
                "no header row found: it needs the column {key} and at least one figure column ({})",
                columns.join(", ")
            ),
            DuplicateColumn { header, first } => {
                format!("column {header:?} repeats column {}", first.local())
            }
            NoRows => "no rows of figures below the header row".to_owned(),
            Other { en, .. } => en.clone(),
        };
        format!("{}: {what}", self.cell)
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.en())
    }
}
