//! The writes of a transaction whose results nobody reads, sent together.
//!
//! A report's transaction writes its observations, the read model, the roll-ups, the first-figure
//! nodes and the idempotency record: up to eight statements, each a round trip to the server on
//! PostgreSQL. A [`Script`] collects them in the order they would have run and sends them when
//! [`Script::run`] is called:
//!
//! - on PostgreSQL as **one** statement, every part but the last a data-modifying `WITH` query
//!   (`WITH w1 AS (INSERT …), w2 AS (UPDATE …) DELETE …`). PostgreSQL runs each part exactly once
//!   and to completion whether or not the rest reads it; all parts see the snapshot the statement
//!   started with and none sees another's changes. So parts must not depend on one another: no
//!   part may read what another writes, and no two parts may modify the same row. A writer that
//!   needs an earlier part's effect (deleting the roll-up spans an upsert brought to zero) calls
//!   [`Script::run`] first;
//! - on SQLite one statement after the other, as before: its statements are calls into the
//!   embedded engine, not round trips.
//!
//! A failing part fails the whole statement, and with it the transaction, as a failing statement
//! did before.

use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};

use crate::error::Error;

/// Statements waiting to be sent, in order.
pub(crate) struct Script {
    backend: DbBackend,
    parts: Vec<Statement>,
}

impl Script {
    pub fn new(backend: DbBackend) -> Script {
        Script {
            backend,
            parts: Vec::new(),
        }
    }

    pub fn backend(&self) -> DbBackend {
        self.backend
    }

    /// Adds statements to run after those already added.
    pub fn extend(&mut self, statements: impl IntoIterator<Item = Statement>) {
        self.parts.extend(statements);
    }

    /// Sends what was added; returns the statements the server ran (0 when nothing was added).
    pub async fn run(&mut self, db: &impl ConnectionTrait) -> Result<usize, Error> {
        let parts = std::mem::take(&mut self.parts);
        if self.backend == DbBackend::Postgres && parts.len() > 1 {
            db.execute_raw(combined(parts)).await?;
            return Ok(1);
        }
        let count = parts.len();
        for part in parts {
            db.execute_raw(part).await?;
        }
        Ok(count)
    }
}

/// PostgreSQL statements as one: `WITH w1 AS (first), … last`, their `$n` parameters renumbered
/// to follow one another.
fn combined(parts: Vec<Statement>) -> Statement {
    let last = parts.len() - 1;
    let mut sql = String::from("WITH ");
    let mut values: Vec<Value> = Vec::new();
    for (i, part) in parts.into_iter().enumerate() {
        let shifted = shift_parameters(&part.sql, values.len());
        if i < last {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("w{} AS ({shifted})", i + 1));
        } else {
            sql.push(' ');
            sql.push_str(&shifted);
        }
        if let Some(v) = part.values {
            values.extend(v.0);
        }
    }
    Statement::from_sql_and_values(DbBackend::Postgres, sql, values)
}

/// `$n` becomes `$(n + by)`. The statements of the write path hold no string literal or quoted
/// name with a `$` in it.
fn shift_parameters(sql: &str, by: usize) -> String {
    if by == 0 {
        return sql.to_owned();
    }
    let mut out = String::with_capacity(sql.len() + 16);
    let mut chars = sql.char_indices().peekable();
    while let Some((_, c)) = chars.next() {
        out.push(c);
        if c != '$' {
            continue;
        }
        let mut n = 0usize;
        let mut digits = false;
        while let Some(&(_, d)) = chars.peek() {
            let Some(v) = d.to_digit(10) else { break };
            n = n * 10 + v as usize;
            digits = true;
            chars.next();
        }
        if digits {
            out.push_str(&(n + by).to_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pg(sql: &str, values: Vec<Value>) -> Statement {
        Statement::from_sql_and_values(DbBackend::Postgres, sql, values)
    }

    #[test]
    fn parameters_follow_one_another() {
        assert_eq!(
            shift_parameters("a = $1 AND b IN ($2, $10)", 3),
            "a = $4 AND b IN ($5, $13)"
        );
        assert_eq!(shift_parameters("x = $1", 0), "x = $1");
        assert_eq!(shift_parameters("no parameters", 7), "no parameters");
    }

    #[test]
    fn postgres_parts_become_one_statement_of_with_queries() {
        let one = combined(vec![
            pg("INSERT INTO a (x) VALUES ($1)", vec![1i64.into()]),
            pg(
                "DELETE FROM b WHERE y = $1 AND z = $2",
                vec![2i64.into(), 3i64.into()],
            ),
            pg("UPDATE c SET v = $1", vec![4i64.into()]),
        ]);
        assert_eq!(
            one.sql,
            "WITH w1 AS (INSERT INTO a (x) VALUES ($1)), \
             w2 AS (DELETE FROM b WHERE y = $2 AND z = $3) UPDATE c SET v = $4"
        );
        let values = one.values.expect("values").0;
        assert_eq!(
            values,
            vec![
                Value::from(1i64),
                Value::from(2i64),
                Value::from(3i64),
                Value::from(4i64)
            ]
        );
    }
}
