//! A revision's figures as stored: one document in its `report` row, `report.figures` (layout and
//! reasons: `p06_migrations::figures`). Written once, in the transaction that inserts the report.

use chrono::NaiveDate;
use p06_migrations::figures::{self, FigureRef, FiguresError, StoredFigure};
use sea_orm::{ConnectionTrait, FromQueryResult, Value};

use super::statement;
use crate::error::Error;

/// Report ids per statement (well under SQLite's and PostgreSQL's parameter limits).
const IDS_PER_STATEMENT: usize = 500;

/// The document of a revision's figures.
pub(super) fn encode<'a>(
    figures: impl IntoIterator<Item = FigureRef<'a>>,
) -> Result<String, Error> {
    figures::encode(figures).map_err(|e| match e {
        FiguresError::NotFinite { .. } => Error::invalid_field("observations", e.to_string()),
        FiguresError::Layout(_) => Error::Internal(format!("encode figures: {e}")),
    })
}

/// The figures of the indicators `keep` accepts in one report's document, by indicator code then
/// locality id.
fn decode(
    report_id: i64,
    document: &str,
    keep: impl Fn(&str) -> bool,
) -> Result<Vec<StoredFigure>, Error> {
    figures::decode_where(document, keep)
        .map_err(|e| Error::Internal(format!("reports/{report_id}: {e}")))
}

/// Every figure of report `id`, by indicator code then locality id; `None` when there is no such
/// report.
pub(super) async fn of_report(
    db: &impl ConnectionTrait,
    id: i64,
) -> Result<Option<Vec<StoredFigure>>, Error> {
    #[derive(FromQueryResult)]
    struct Row {
        figures: String,
    }
    let row = db
        .query_one_raw(statement(
            db.get_database_backend(),
            "SELECT figures FROM report WHERE id = ?",
            vec![id.into()],
        ))
        .await?;
    match row {
        Some(row) => Ok(Some(decode(
            id,
            &Row::from_query_result(&row, "")?.figures,
            |_| true,
        )?)),
        None => Ok(None),
    }
}

/// One report's figures of chosen indicators, with its period's end.
pub(super) struct ReportFigures {
    pub report_id: i64,
    pub period_end: NaiveDate,
    pub figures: Vec<StoredFigure>,
}

/// The figures of `indicators` of the reports `ids` (those that exist), in id order.
pub(super) async fn of_reports(
    db: &impl ConnectionTrait,
    ids: &[i64],
    indicators: &[String],
) -> Result<Vec<ReportFigures>, Error> {
    #[derive(FromQueryResult)]
    struct Row {
        id: i64,
        period_end: NaiveDate,
        figures: String,
    }
    let mut out = Vec::with_capacity(ids.len());
    if indicators.is_empty() {
        return Ok(out);
    }
    for chunk in ids.chunks(IDS_PER_STATEMENT) {
        let params: Vec<Value> = chunk.iter().map(|&id| id.into()).collect();
        let rows = db
            .query_all_raw(statement(
                db.get_database_backend(),
                &format!(
                    "SELECT id, period_end, figures FROM report WHERE id IN ({}) ORDER BY id",
                    vec!["?"; chunk.len()].join(", ")
                ),
                params,
            ))
            .await?;
        for row in rows {
            let row = Row::from_query_result(&row, "")?;
            let figures = decode(row.id, &row.figures, |code| {
                indicators.iter().any(|i| i == code)
            })?;
            out.push(ReportFigures {
                report_id: row.id,
                period_end: row.period_end,
                figures,
            });
        }
    }
    Ok(out)
}
