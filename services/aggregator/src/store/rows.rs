//! Many rows in one statement, in each backend's cheapest form.
//!
//! A statement names its rows `{rows}`: a row source that works both as an `INSERT`'s source and
//! inside `IN (…)`. On SQLite it becomes `VALUES (?, …), (?, …)`, at most [`VALUES_BATCH`] rows a
//! statement unless a bulk load asks for more ([`Rows::in_batches_of`]). On PostgreSQL it becomes `SELECT * FROM unnest(?, …)` with one typed array per
//! column: one statement of a few parameters for any number of rows, which the server parses and
//! binds in one piece instead of row by row (compare the bench's `storage_unnest` and
//! `storage_insert_batched` ceilings; README "Performance").

use sea_orm::sea_query::ArrayType;
use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};

use super::script::Script;
use super::{placeholders, statement};
use crate::error::Error;

/// Rows per SQLite statement. sqlx keeps up to 100 prepared statements per connection, and a
/// statement's compiled program grows with its rows: at 1,000 rows those held ≈ 35–50 MiB of the
/// aggregator's peak during the bench's ingest, at 200 rows they do not, at the same throughput.
const VALUES_BATCH: usize = 200;

/// SQLite's limit on parameters per statement.
const SQLITE_MAX_PARAMETERS: usize = 32_766;

/// The placeholder of the row source in a statement's text.
const ROWS: &str = "{rows}";

/// Rows of `width` values each, in the order the statement's columns name them.
pub(crate) struct Rows {
    width: usize,
    /// Row after row.
    cells: Vec<Value>,
    /// Rows per SQLite statement.
    batch: usize,
}

impl Rows {
    pub fn new(width: usize, capacity: usize) -> Rows {
        Rows {
            width,
            cells: Vec::with_capacity(width * capacity),
            batch: VALUES_BATCH,
        }
    }

    /// Larger SQLite statements, for one-off bulk loads outside the long-lived aggregator: fewer
    /// statements, while the cached programs' memory does not matter.
    pub fn in_batches_of(mut self, rows: usize) -> Rows {
        self.batch = rows.clamp(1, SQLITE_MAX_PARAMETERS / self.width);
        self
    }

    /// Adds a row; every row has the same column types, and none is NULL.
    pub fn push<const N: usize>(&mut self, row: [Value; N]) {
        assert_eq!(
            N, self.width,
            "a row of {N} values in rows of {}",
            self.width
        );
        self.cells.extend(row);
    }

    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }

    /// The statements `sql` becomes over these rows (none when there are none); `before` binds
    /// the `?` written before `{rows}` (none may follow it). The rows' values move into the
    /// statements: a province report's are thousands of strings.
    pub fn statements(self, backend: DbBackend, sql: &str, before: &[Value]) -> Vec<Statement> {
        debug_assert!(sql.contains(ROWS), "no {ROWS} in {sql}");
        if self.is_empty() {
            return Vec::new();
        }
        let bound = |source: &str, rows: Vec<Value>| {
            let mut params = before.to_vec();
            params.extend(rows);
            statement(backend, &sql.replace(ROWS, source), params)
        };
        if backend == DbBackend::Postgres {
            let source = format!("SELECT * FROM unnest({})", vec!["?"; self.width].join(", "));
            return vec![bound(&source, self.columns())];
        }
        let mut dates = DateTexts::default();
        let per_statement = self.width * self.batch;
        let mut cells = self.cells.into_iter().peekable();
        let mut statements = Vec::new();
        while cells.peek().is_some() {
            let chunk: Vec<Value> = cells
                .by_ref()
                .take(per_statement)
                .map(|v| dates.sqlite(v))
                .collect();
            let source = format!(
                "VALUES {}",
                placeholders(chunk.len() / self.width, self.width)
            );
            statements.push(bound(&source, chunk));
        }
        statements
    }

    /// Adds the statements to a script, to run with its others.
    pub fn add_to(self, script: &mut Script, sql: &str, before: &[Value]) {
        script.extend(self.statements(script.backend(), sql, before));
    }

    /// Runs the statements; returns how many ran.
    pub async fn execute(
        self,
        db: &impl ConnectionTrait,
        sql: &str,
        before: &[Value],
    ) -> Result<usize, Error> {
        let statements = self.statements(db.get_database_backend(), sql, before);
        let count = statements.len();
        for s in statements {
            db.execute_raw(s).await?;
        }
        Ok(count)
    }

    /// One array per column, typed by the column's first value.
    fn columns(self) -> Vec<Value> {
        let rows = self.cells.len() / self.width;
        let mut columns: Vec<Vec<Value>> =
            (0..self.width).map(|_| Vec::with_capacity(rows)).collect();
        for (i, cell) in self.cells.into_iter().enumerate() {
            columns[i % self.width].push(cell);
        }
        columns
            .into_iter()
            .map(|column| {
                let kind: ArrayType = column[0].array_type();
                Value::Array(kind, Some(Box::new(column)))
            })
            .collect()
    }
}

/// Dates as SQLite stores them (`YYYY-MM-DD` text, what sqlx binds a `NaiveDate` as), formatted
/// once per distinct date: sqlx formats every bound date through chrono's `strftime` parser, ≈ 4 %
/// of the aggregator's CPU in a profile of province reports, whose rows repeat a few dates.
#[derive(Default)]
struct DateTexts(Vec<(chrono::NaiveDate, Value)>);

impl DateTexts {
    fn sqlite(&mut self, value: Value) -> Value {
        let Value::ChronoDate(Some(date)) = value else {
            return value;
        };
        if let Some((_, text)) = self.0.iter().find(|(d, _)| *d == date) {
            return text.clone();
        }
        let text = Value::from(date.format("%Y-%m-%d").to_string());
        self.0.push((date, text.clone()));
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(n: usize) -> Rows {
        let mut rows = Rows::new(2, n);
        for i in 0..n {
            rows.push([Value::from(format!("c{i}")), Value::from(i as i64)]);
        }
        rows
    }

    #[test]
    fn sqlite_gets_values_in_batches() {
        let sql = "INSERT INTO t (a, b) {rows} ON CONFLICT DO NOTHING";
        let statements = rows(2_500)
            .in_batches_of(1_000)
            .statements(DbBackend::Sqlite, sql, &[]);
        assert_eq!(statements.len(), 3);
        assert!(
            statements[0]
                .sql
                .starts_with("INSERT INTO t (a, b) VALUES (?, ?), (?, ?)")
        );
        assert!(statements[0].sql.ends_with("(?, ?) ON CONFLICT DO NOTHING"));
        let counts: Vec<usize> = statements
            .iter()
            .map(|s| s.values.as_ref().map_or(0, |v| v.0.len()))
            .collect();
        assert_eq!(counts, [2_000, 2_000, 1_000]);
    }

    #[test]
    fn sqlite_batches_are_small_unless_asked_and_never_exceed_its_parameter_limit() {
        let sql = "INSERT INTO t (a, b) {rows}";
        let sizes = |rows: Rows| -> Vec<usize> {
            rows.statements(DbBackend::Sqlite, sql, &[])
                .iter()
                .map(|s| s.values.as_ref().map_or(0, |v| v.0.len()) / 2)
                .collect()
        };
        assert_eq!(sizes(rows(450)), [VALUES_BATCH, VALUES_BATCH, 50]);
        let limit = SQLITE_MAX_PARAMETERS / 2;
        assert_eq!(sizes(rows(limit + 1).in_batches_of(usize::MAX)), [limit, 1]);
    }

    #[test]
    fn postgres_gets_one_array_per_column_after_the_other_parameters() {
        let sql = "UPDATE t SET x = ?, y = ? WHERE (a, b) IN ({rows})";
        let statements = rows(3).statements(
            DbBackend::Postgres,
            sql,
            &[Value::from(7i64), Value::from(9i64)],
        );
        assert_eq!(statements.len(), 1);
        assert_eq!(
            statements[0].sql,
            "UPDATE t SET x = $1, y = $2 WHERE (a, b) IN (SELECT * FROM unnest($3, $4))"
        );
        let values = &statements[0].values.as_ref().expect("values").0;
        assert_eq!(values.len(), 4);
        assert_eq!(
            values[2],
            Value::Array(
                ArrayType::String,
                Some(Box::new(vec!["c0".into(), "c1".into(), "c2".into()]))
            )
        );
        assert_eq!(
            values[3],
            Value::Array(
                ArrayType::BigInt,
                Some(Box::new(vec![0i64.into(), 1i64.into(), 2i64.into()]))
            )
        );
    }

    #[test]
    fn sqlite_gets_dates_as_the_text_sqlx_would_bind_and_postgres_keeps_dates() {
        let day = |d| chrono::NaiveDate::from_ymd_opt(2025, 3, d).unwrap();
        let rows = || {
            let mut rows = Rows::new(2, 3);
            for d in [3, 10, 3] {
                rows.push([Value::from(day(d)), Value::from(i64::from(d))]);
            }
            rows
        };
        let sql = "INSERT INTO t (d, n) {rows}";
        let sqlite = rows().statements(DbBackend::Sqlite, sql, &[]);
        let values = &sqlite[0].values.as_ref().expect("values").0;
        let texts: Vec<&Value> = values.iter().step_by(2).collect();
        assert_eq!(
            texts,
            [
                &Value::from("2025-03-03"),
                &Value::from("2025-03-10"),
                &Value::from("2025-03-03")
            ]
        );
        assert_eq!(values[1], Value::from(3i64));
        let postgres = rows().statements(DbBackend::Postgres, sql, &[]);
        assert_eq!(
            postgres[0].values.as_ref().expect("values").0[0],
            Value::Array(
                ArrayType::ChronoDate,
                Some(Box::new(vec![day(3).into(), day(10).into(), day(3).into()]))
            )
        );
    }

    #[test]
    fn no_rows_no_statement() {
        let statements = rows(0).statements(
            DbBackend::Postgres,
            "DELETE FROM t WHERE a IN ({rows})",
            &[],
        );
        assert!(statements.is_empty());
    }
}
