//! Agency workbooks in and out, with no knowledge of gRPC, agencies or the catalog.
//!
//! Reading: [`open`] turns the bytes of an xlsx/xls/ods workbook or a CSV file into a [`Workbook`]
//! of [`Grid`]s (typed cells, formulas by their cached values); [`read_table`] finds a table in a
//! grid by a [`Schema`] (header row found by the columns' codes or Vietnamese names, with or without
//! diacritics, title rows above it) and returns [`Record`]s whose every value carries its
//! [`CellRef`] (`Sheet1!D17`), or every [`Problem`] found, all at once.
//!
//! Writing: [`template`] lays out the workbook a clerk fills; [`export`] writes a typed table.

mod cell;
pub mod export;
mod grid;
mod problem;
mod table;
pub mod template;
mod text;

pub use cell::{CellRef, column_letters};
pub use grid::{Cell, Grid, OpenError, Workbook, open};
pub use problem::{Problem, ProblemKind};
pub use table::{
    Column, Kind, Record, Schema, Table, Totals, Value, read_table, read_table_with, value_of,
};
pub use text::{normalize, parse_count, parse_date, parse_decimal, parse_number};
