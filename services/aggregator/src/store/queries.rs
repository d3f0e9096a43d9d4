//! Reads behind the task-force queries.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ConnectionTrait, FromQueryResult, Statement, Value};

use super::Store;
use crate::error::Error;

/// One locality's figure for one indicator.
#[derive(Debug, Clone, PartialEq, FromQueryResult)]
pub struct FigureRow {
    pub indicator_code: String,
    pub locality_id: i64,
    pub value: f64,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub report_id: i64,
}

/// A revision's compliance facts, for the compliance board.
#[derive(Debug, Clone, PartialEq, FromQueryResult)]
pub struct RevisionFacts {
    pub agency: String,
    pub obligation: String,
    pub period_start: NaiveDate,
    pub revision: i32,
    pub received_at: DateTime<Utc>,
    pub timeliness: Option<String>,
    pub lateness_seconds: Option<i64>,
    pub specificity_score: Option<i32>,
    pub specificity_reasons: Option<String>,
}

impl Store {
    pub(crate) fn statement(&self, sql: &str, values: Vec<Value>) -> Statement {
        super::statement(self.backend(), sql, values)
    }

    async fn figures(&self, sql: &str, values: Vec<Value>) -> Result<Vec<FigureRow>, Error> {
        let rows = self
            .connection()
            .query_all_raw(self.statement(sql, values))
            .await?;
        Ok(rows
            .iter()
            .map(|r| FigureRow::from_query_result(r, ""))
            .collect::<Result<_, _>>()?)
    }

    /// Each (indicator, locality) of a province: the figure of the latest period ending on or
    /// before `as_of` (the stock rule).
    pub async fn latest_figures(
        &self,
        province_id: i64,
        as_of: NaiveDate,
    ) -> Result<Vec<FigureRow>, Error> {
        self.figures(
            "SELECT lv.indicator_code, lv.locality_id, lv.value, lv.period_start, lv.period_end, lv.report_id \
             FROM latest_value lv \
             JOIN (SELECT indicator_code, locality_id, MAX(period_end) AS pe FROM latest_value \
                   WHERE period_end <= ? AND locality_id IN (SELECT id FROM locality WHERE province_id = ?) \
                   GROUP BY indicator_code, locality_id) m \
               ON lv.indicator_code = m.indicator_code AND lv.locality_id = m.locality_id AND lv.period_end = m.pe",
            vec![as_of.into(), province_id.into()],
        )
        .await
    }

    /// Every figure of a province in periods inside `[from, to]` (the flow rule sums them).
    pub async fn figures_within(
        &self,
        province_id: i64,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<FigureRow>, Error> {
        self.figures(
            "SELECT indicator_code, locality_id, value, period_start, period_end, report_id FROM latest_value \
             WHERE period_start >= ? AND period_end <= ? \
               AND locality_id IN (SELECT id FROM locality WHERE province_id = ?)",
            vec![from.into(), to.into(), province_id.into()],
        )
        .await
    }

    /// Every revision of a province's reports for periods ending in `[from, to]`, oldest first.
    pub async fn revisions_between(
        &self,
        province_id: i64,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<RevisionFacts>, Error> {
        let rows = self
            .connection()
            .query_all_raw(self.statement(
                "SELECT agency, obligation, period_start, revision, received_at, timeliness, lateness_seconds, \
                        specificity_score, specificity_reasons \
                 FROM report WHERE province_id = ? AND period_end >= ? AND period_end <= ? \
                 ORDER BY period_start, revision",
                vec![province_id.into(), from.into(), to.into()],
            ))
            .await?;
        Ok(rows
            .iter()
            .map(|r| RevisionFacts::from_query_result(r, ""))
            .collect::<Result<_, _>>()?)
    }
}

/// Figures grouped by indicator, then locality.
pub type FigureIndex = HashMap<String, HashMap<i64, FigureRow>>;
