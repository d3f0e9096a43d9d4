//! Cell addresses as Excel writes them: `Sheet1!D17`, `'Số liệu'!A5`.

use std::fmt;

/// One cell of a sheet. Rows and columns are 0-based inside, printed 1-based with letters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CellRef {
    pub sheet: String,
    pub row: u32,
    pub col: u32,
}

impl CellRef {
    pub fn new(sheet: &str, row: u32, col: u32) -> Self {
        Self {
            sheet: sheet.to_owned(),
            row,
            col,
        }
    }

    /// The address without the sheet, e.g. `D17`.
    pub fn local(&self) -> String {
        format!("{}{}", column_letters(self.col), self.row + 1)
    }
}

/// 0 → A, 25 → Z, 26 → AA.
pub fn column_letters(col: u32) -> String {
    let mut n = col + 1;
    let mut letters = Vec::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        letters.push(b'A' + rem as u8);
        n = (n - 1) / 26;
    }
    letters.reverse();
    String::from_utf8(letters).unwrap_or_default()
}

impl fmt::Display for CellRef {
    /// A sheet name that is not plain letters, digits and underscores is quoted, as in Excel.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plain = !self.sheet.is_empty()
            && self
                .sheet
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-');
        if plain {
            write!(f, "{}!{}", self.sheet, self.local())
        } else {
            write!(f, "'{}'!{}", self.sheet.replace('\'', "''"), self.local())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_read_as_in_excel() {
        assert_eq!(column_letters(0), "A");
        assert_eq!(column_letters(25), "Z");
        assert_eq!(column_letters(26), "AA");
        assert_eq!(column_letters(701), "ZZ");
        assert_eq!(column_letters(702), "AAA");
        assert_eq!(CellRef::new("Sheet1", 16, 3).to_string(), "Sheet1!D17");
        assert_eq!(CellRef::new("Số liệu", 4, 0).to_string(), "'Số liệu'!A5");
    }
}
