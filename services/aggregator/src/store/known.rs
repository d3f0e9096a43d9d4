//! Reads behind the "known at an instant" views and the pace to target: a province's report
//! revisions (without their figures), the figures of chosen revisions, and targets' due dates.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{ConnectionTrait, FromQueryResult, Value};

use super::{Store, revision_figures};
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
#[derive(Debug, Clone, PartialEq)]
pub struct RevisionFigure {
    pub report_id: i64,
    pub indicator_code: String,
    pub locality_id: i64,
    pub value: f64,
}

/// A flow's figures of chosen revisions summed for one (indicator, locality).
#[derive(Debug, Clone, PartialEq)]
pub struct RevisionFlowSum {
    pub indicator_code: String,
    pub locality_id: i64,
    pub value: f64,
    pub period_end: NaiveDate,
    pub reports: i64,
}

/// Which chosen revisions hold an indicator.
#[derive(Debug, Clone, PartialEq)]
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
        let reports =
            revision_figures::of_reports(self.connection(), report_ids, indicators).await?;
        Ok(reports
            .into_iter()
            .flat_map(|r| {
                r.figures.into_iter().map(move |f| RevisionFigure {
                    report_id: r.report_id,
                    indicator_code: f.indicator_code,
                    locality_id: f.locality_id,
                    value: f.value,
                })
            })
            .collect())
    }

    /// The figures of `indicators` of the revisions `report_ids` summed per (indicator,
    /// locality), with the last period's end and how many revisions they come from (a flow's
    /// figure), and which revisions hold each indicator.
    pub async fn revision_flow_sums(
        &self,
        report_ids: &[i64],
        indicators: &[String],
    ) -> Result<(Vec<RevisionFlowSum>, Vec<RevisionIndicator>), Error> {
        let reports =
            revision_figures::of_reports(self.connection(), report_ids, indicators).await?;
        let mut sums: BTreeMap<(String, i64), RevisionFlowSum> = BTreeMap::new();
        let mut holders: BTreeSet<(String, i64)> = BTreeSet::new();
        for report in reports {
            for f in report.figures {
                holders.insert((f.indicator_code.clone(), report.report_id));
                let sum = sums
                    .entry((f.indicator_code, f.locality_id))
                    .or_insert_with_key(|(code, locality)| RevisionFlowSum {
                        indicator_code: code.clone(),
                        locality_id: *locality,
                        value: 0.0,
                        period_end: report.period_end,
                        reports: 0,
                    });
                sum.value += f.value;
                sum.period_end = sum.period_end.max(report.period_end);
                sum.reports += 1;
            }
        }
        Ok((
            sums.into_values().collect(),
            holders
                .into_iter()
                .map(|(indicator_code, report_id)| RevisionIndicator {
                    indicator_code,
                    report_id,
                })
                .collect(),
        ))
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
