//! Reads behind the "known at an instant" views and the pace to target: a province's report
//! revisions (without their figures), the figures of chosen revisions, and targets' due dates.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ConnectionTrait, FromQueryResult, Value};

use super::Store;
use crate::catalog::Catalog;
use crate::error::Error;

/// A stored revision of a province's report, without its figures.
#[derive(Debug, Clone, PartialEq, FromQueryResult)]
pub struct RevisionIndexRow {
    pub id: i64,
    pub agency: String,
    pub obligation: String,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub revision: i32,
    pub received_at: DateTime<Utc>,
}

/// One stored figure of a revision.
#[derive(Debug, Clone, PartialEq, FromQueryResult)]
pub struct RevisionFigure {
    pub report_id: i64,
    pub indicator_code: String,
    pub locality_id: i64,
    pub value: f64,
}

/// A flow's figures of chosen revisions summed for one (indicator, locality).
#[derive(Debug, Clone, PartialEq, FromQueryResult)]
pub struct RevisionFlowSum {
    pub indicator_code: String,
    pub locality_id: i64,
    pub value: f64,
    pub period_end: NaiveDate,
    pub reports: i64,
}

/// Which chosen revisions hold an indicator.
#[derive(Debug, Clone, PartialEq, FromQueryResult)]
pub struct RevisionIndicator {
    pub indicator_code: String,
    pub report_id: i64,
}

#[derive(FromQueryResult)]
struct DueRow {
    indicator_code: String,
    locality_id: i64,
    due: NaiveDate,
}

/// Report ids per statement (well under SQLite's and PostgreSQL's parameter limits).
const IDS_PER_STATEMENT: usize = 500;

impl Store {
    /// Every revision of a province's reports for periods ending on or before `to`. (Instants are
    /// compared in Rust: SQLite stores them as text.)
    pub async fn revision_index(
        &self,
        province_id: i64,
        to: NaiveDate,
    ) -> Result<Vec<RevisionIndexRow>, Error> {
        let rows = self
            .connection()
            .query_all_raw(self.statement(
                "SELECT id, agency, obligation, period_start, period_end, revision, received_at \
                 FROM report WHERE province_id = ? AND period_end <= ?",
                vec![province_id.into(), to.into()],
            ))
            .await?;
        Ok(rows
            .iter()
            .map(|r| RevisionIndexRow::from_query_result(r, ""))
            .collect::<Result<_, _>>()?)
    }

    /// The figures of `indicators` stored with the revisions `report_ids` (carried figures
    /// included: every revision is whole).
    pub async fn revision_figures(
        &self,
        report_ids: &[i64],
        indicators: &[String],
    ) -> Result<Vec<RevisionFigure>, Error> {
        let mut out = Vec::new();
        if indicators.is_empty() {
            return Ok(out);
        }
        for ids in report_ids.chunks(IDS_PER_STATEMENT) {
            let mut params: Vec<Value> = ids.iter().map(|&id| id.into()).collect();
            params.extend(indicators.iter().map(|c| c.clone().into()));
            let rows = self
                .connection()
                .query_all_raw(self.statement(
                    &format!(
                        "SELECT report_id, indicator_code, locality_id, value FROM observation \
                         WHERE report_id IN ({}) AND indicator_code IN ({})",
                        vec!["?"; ids.len()].join(", "),
                        vec!["?"; indicators.len()].join(", ")
                    ),
                    params,
                ))
                .await?;
            for row in rows {
                out.push(RevisionFigure::from_query_result(&row, "")?);
            }
        }
        Ok(out)
    }

    /// The figures of `indicators` of the revisions `report_ids` summed per (indicator,
    /// locality), with the last period's end and how many revisions they come from: a flow's
    /// figure, summed by the database (one row per pair instead of one per period). `report_ids`
    /// must fit one statement (a year of weekly reports of a few obligations does).
    pub async fn revision_flow_sums(
        &self,
        report_ids: &[i64],
        indicators: &[String],
    ) -> Result<(Vec<RevisionFlowSum>, Vec<RevisionIndicator>), Error> {
        if indicators.is_empty() || report_ids.is_empty() {
            return Ok((Vec::new(), Vec::new()));
        }
        let mut params: Vec<Value> = report_ids.iter().map(|&id| id.into()).collect();
        params.extend(indicators.iter().map(|c| c.clone().into()));
        let ids = vec!["?"; report_ids.len()].join(", ");
        let codes = vec!["?"; indicators.len()].join(", ");
        let db = self.connection();
        let sums = db
            .query_all_raw(self.statement(
                &format!(
                    "SELECT o.indicator_code, o.locality_id, SUM(o.value) AS value, \
                            MAX(r.period_end) AS period_end, COUNT(*) AS reports \
                     FROM observation o JOIN report r ON r.id = o.report_id \
                     WHERE o.report_id IN ({ids}) AND o.indicator_code IN ({codes}) \
                     GROUP BY o.indicator_code, o.locality_id"
                ),
                params.clone(),
            ))
            .await?
            .iter()
            .map(|r| RevisionFlowSum::from_query_result(r, ""))
            .collect::<Result<_, _>>()?;
        let holders = db
            .query_all_raw(self.statement(
                &format!(
                    "SELECT DISTINCT indicator_code, report_id FROM observation \
                     WHERE report_id IN ({ids}) AND indicator_code IN ({codes})"
                ),
                params,
            ))
            .await?
            .iter()
            .map(|r| RevisionIndicator::from_query_result(r, ""))
            .collect::<Result<_, _>>()?;
        Ok((sums, holders))
    }

    /// The nearest due date on or after `date` of the targets of a province's localities (their
    /// own) and of the communes' targets summed below `rolled` localities (country ids: the
    /// nearest of its provinces'), by (indicator, locality).
    pub async fn target_dues(
        &self,
        catalog: &Catalog,
        province_id: Option<i64>,
        rolled: &[i64],
        date: NaiveDate,
    ) -> Result<HashMap<(String, i64), NaiveDate>, Error> {
        let mut out: HashMap<(String, i64), NaiveDate> = HashMap::new();
        let mut keep = |rows: Vec<sea_orm::QueryResult>| -> Result<(), Error> {
            for row in rows {
                let r = DueRow::from_query_result(&row, "")?;
                let due = out
                    .entry((r.indicator_code, r.locality_id))
                    .or_insert(r.due);
                *due = (*due).min(r.due);
            }
            Ok(())
        };
        let db = self.connection();
        if let Some(province_id) = province_id {
            keep(
                db.query_all_raw(self.statement(
                    "SELECT indicator_code, locality_id, MIN(due_date) AS due FROM target \
                     WHERE locality_id IN (SELECT id FROM locality WHERE province_id = ?) \
                       AND due_date >= ? GROUP BY indicator_code, locality_id",
                    vec![province_id.into(), date.into()],
                ))
                .await?,
            )?;
        }
        // Countries keep no roll-ups: their provinces' stand for them.
        let mut stored: Vec<i64> = Vec::new();
        for &id in rolled {
            if id < 0 {
                stored.extend(catalog.children(id).map(|p| p.id));
            } else {
                stored.push(id);
            }
        }
        stored.sort_unstable();
        stored.dedup();
        if !stored.is_empty() {
            let mut params: Vec<Value> = stored.iter().map(|&id| id.into()).collect();
            params.push(date.into());
            keep(
                db.query_all_raw(self.statement(
                    &format!(
                        "SELECT indicator_code, locality_id, MIN(due_date) AS due FROM target_rollup \
                         WHERE locality_id IN ({}) AND due_date >= ? AND units > 0 \
                         GROUP BY indicator_code, locality_id",
                        vec!["?"; stored.len()].join(", ")
                    ),
                    params,
                ))
                .await?,
            )?;
            // Own targets of provinces stand for a country too.
            let mut params: Vec<Value> = stored.iter().map(|&id| id.into()).collect();
            params.push(date.into());
            keep(
                db.query_all_raw(self.statement(
                    &format!(
                        "SELECT indicator_code, locality_id, MIN(due_date) AS due FROM target \
                         WHERE locality_id IN ({}) AND due_date >= ? \
                         GROUP BY indicator_code, locality_id",
                        vec!["?"; stored.len()].join(", ")
                    ),
                    params,
                ))
                .await?,
            )?;
        }
        for &id in rolled.iter().filter(|id| **id < 0) {
            let provinces: Vec<i64> = catalog.children(id).map(|p| p.id).collect();
            let mut nearest: HashMap<String, NaiveDate> = HashMap::new();
            for ((code, locality), due) in &out {
                if provinces.contains(locality) {
                    let d = nearest.entry(code.clone()).or_insert(*due);
                    *d = (*d).min(*due);
                }
            }
            out.extend(nearest.into_iter().map(|(code, due)| ((code, id), due)));
        }
        Ok(out)
    }
}
