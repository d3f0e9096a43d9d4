//! Workbooks as a clerk's Excel saves them, for the tests of the command line and the web page.

use p06_workbook::{Cell, Grid, Workbook};
use rust_xlsxwriter::Format;

/// Writes `book` back as Excel would save it after a clerk's edits: every cell typed as read,
/// `fill` giving the new content of a cell (None: keep).
pub fn resave(book: &Workbook, fill: impl Fn(&str, u32, u32) -> Option<Cell>) -> Vec<u8> {
    let mut out = rust_xlsxwriter::Workbook::new();
    let date = Format::new().set_num_format("dd/mm/yyyy");
    for grid in &book.sheets {
        let sheet = out.add_worksheet();
        sheet.set_name(&grid.sheet).expect("sheet name");
        let width = grid.width().max(12);
        for r in 0..grid.height() + 2 {
            for c in 0..width {
                let cell = fill(&grid.sheet, r, c).unwrap_or_else(|| grid.cell(r, c).clone());
                let c = c as u16;
                let written = match cell {
                    Cell::Empty | Cell::Error(_) => continue,
                    Cell::Text(t) => sheet.write_string(r, c, &t).map(|_| ()),
                    Cell::Number(n) => sheet.write_number(r, c, n).map(|_| ()),
                    Cell::Bool(b) => sheet.write_boolean(r, c, b).map(|_| ()),
                    Cell::Date(d) => sheet.write_datetime_with_format(r, c, d, &date).map(|_| ()),
                };
                written.expect("cell written");
            }
        }
    }
    out.save_to_buffer().expect("workbook saved")
}

/// The row whose first cell is `code`.
pub fn row_of(grid: &Grid, code: &str) -> u32 {
    (0..grid.height())
        .find(|r| grid.cell(*r, 0) == &Cell::Text(code.into()))
        .unwrap_or_else(|| panic!("no row {code}"))
}

/// The column headed `header` in `row`.
pub fn column_of(grid: &Grid, row: u32, header: &str) -> u32 {
    (0..grid.width())
        .find(|c| grid.cell(row, *c) == &Cell::Text(header.into()))
        .unwrap_or_else(|| panic!("no column {header}"))
}
