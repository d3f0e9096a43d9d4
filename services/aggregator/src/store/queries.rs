//! Reads behind the task-force queries.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use sea_orm::{ConnectionTrait, FromQueryResult, Statement, Value};

use super::Store;
use crate::catalog::Catalog;
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

/// A flow's periods summed for one locality.
#[derive(Debug, Clone, PartialEq, FromQueryResult)]
pub struct FlowSum {
    pub indicator_code: String,
    pub locality_id: i64,
    pub value: f64,
    pub period_end: NaiveDate,
    pub reports: i64,
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

    /// Each (flow indicator, locality) of a province: the sum of its periods inside
    /// `[from, to]` (the flow rule), the last period's end and how many reports they come from.
    /// Summed by the database over one range of the primary key (province, indicator, period
    /// end, locality) per indicator.
    pub async fn flow_sums(
        &self,
        province_id: i64,
        indicators: &[String],
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<FlowSum>, Error> {
        if indicators.is_empty() {
            return Ok(Vec::new());
        }
        let mut params: Vec<Value> = vec![province_id.into()];
        params.extend(indicators.iter().map(|c| c.clone().into()));
        params.extend([from.into(), to.into(), from.into()]);
        let rows = self
            .connection()
            .query_all_raw(self.statement(
                &format!(
                    "SELECT indicator_code, locality_id, SUM(value) AS value, MAX(period_end) AS period_end, \
                            COUNT(DISTINCT report_id) AS reports FROM latest_value \
                     WHERE province_id = ? AND indicator_code IN ({}) \
                       AND period_end >= ? AND period_end <= ? AND period_start >= ? \
                     GROUP BY indicator_code, locality_id",
                    vec!["?"; indicators.len()].join(", ")
                ),
                params,
            ))
            .await?;
        Ok(rows
            .iter()
            .map(|r| FlowSum::from_query_result(r, ""))
            .collect::<Result<_, _>>()?)
    }

    /// The read version of a province (`lock_province` advances it with every write; 0 = never
    /// written) or, for a country id, the sum of every province's: it advances with any write.
    pub async fn read_version(&self, scope: i64) -> Result<i64, Error> {
        #[derive(FromQueryResult)]
        struct Version {
            version: i64,
        }
        let (sql, values) = if scope < 0 {
            (
                "SELECT CAST(COALESCE(SUM(version), 0) AS BIGINT) AS version FROM province_version",
                vec![],
            )
        } else {
            (
                "SELECT version FROM province_version WHERE province_id = ?",
                vec![scope.into()],
            )
        };
        let row = self
            .connection()
            .query_one_raw(self.statement(sql, values))
            .await?;
        Ok(match row {
            Some(row) => Version::from_query_result(&row, "")?.version,
            None => 0,
        })
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

/// A maintained roll-up total of one locality and indicator.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RollupTotal {
    pub amounts: p06_domain::contribution::Amounts,
    /// Units whose figure is in force (0: no data).
    pub units: i64,
    pub reports: i64,
    pub oldest_as_of: Option<NaiveDate>,
}

impl RollupTotal {
    /// Adds the total of disjoint units (another province: no unit or report in common).
    pub(crate) fn add(&mut self, other: &RollupTotal) {
        self.amounts.value += other.amounts.value;
        self.amounts.paired_value += other.amounts.paired_value;
        self.amounts.paired_denominator += other.amounts.paired_denominator;
        self.units += other.units;
        self.reports += other.reports;
        self.oldest_as_of = match (self.oldest_as_of, other.oldest_as_of) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
}

#[derive(FromQueryResult)]
struct AmountRow {
    locality_id: i64,
    indicator_code: String,
    value: f64,
    paired_value: f64,
    paired_denominator: f64,
}

#[derive(FromQueryResult)]
struct SpanRow {
    locality_id: i64,
    indicator_code: String,
    units: i64,
    reports: i64,
    oldest: NaiveDate,
}

#[derive(FromQueryResult)]
struct ReportCountRow {
    locality_id: i64,
    indicator_code: String,
    reports: i64,
}

#[derive(FromQueryResult)]
struct TargetSumRow {
    locality_id: i64,
    indicator_code: String,
    value: f64,
    units: i64,
}

/// Which maintained totals [`Store::rollup_totals`] reads.
#[derive(Debug, Clone, Copy)]
pub struct TotalsRequest<'a> {
    /// Localities with units below them, or country ids.
    pub localities: &'a [i64],
    pub indicators: &'a [String],
    pub as_of: NaiveDate,
    /// Flows are summed over periods starting on or after this date.
    pub flow_from: NaiveDate,
    /// The flow indicators: their reports are those of every period summed…
    pub flows: &'a [String],
    /// … counted for these localities only (the others' flow totals count the reports in force).
    pub flow_reports_of: &'a [i64],
}

/// `localities` with country ids replaced by their provinces (a country keeps no roll-ups of its
/// own), without repeats.
fn stored_scope(catalog: &Catalog, localities: &[i64]) -> Vec<i64> {
    let mut stored: Vec<i64> = localities
        .iter()
        .flat_map(|&id| {
            if id < 0 {
                catalog.children(id).map(|p| p.id).collect()
            } else {
                vec![id]
            }
        })
        .collect();
    stored.sort_unstable();
    stored.dedup();
    stored
}

/// Totals read for [`stored_scope`]`(asked)`, turned into the totals of `asked`: each country
/// asked for gets the sum of its provinces' totals (`add` sums disjoint totals), and whatever was
/// read only for that sum is left out.
fn with_country_sums<T: Default>(
    catalog: &Catalog,
    asked: &[i64],
    mut read: HashMap<(i64, String), T>,
    add: impl Fn(&mut T, &T),
) -> HashMap<(i64, String), T> {
    let asked: HashSet<i64> = asked.iter().copied().collect();
    let mut countries: HashMap<(i64, String), T> = HashMap::new();
    for ((id, indicator), total) in &read {
        let Some(province) = catalog.locality_by_id(*id) else {
            continue;
        };
        let country = province.edition.country_id();
        if province.parent_id.is_none() && asked.contains(&country) {
            add(
                countries.entry((country, indicator.clone())).or_default(),
                total,
            );
        }
    }
    read.retain(|(id, _), _| asked.contains(id));
    read.extend(countries);
    read
}

impl Store {
    /// Maintained totals as of `as_of` of localities with units below them, and of countries
    /// (the sums of their provinces' totals): stocks at each unit's latest figure, flows summed
    /// from `flow_from`. Keyed by (locality id, indicator code); absent = no unit has data.
    pub async fn rollup_totals(
        &self,
        catalog: &Catalog,
        request: &TotalsRequest<'_>,
    ) -> Result<HashMap<(i64, String), RollupTotal>, Error> {
        let read = self
            .stored_totals(&TotalsRequest {
                localities: &stored_scope(catalog, request.localities),
                flow_reports_of: &stored_scope(catalog, request.flow_reports_of),
                ..*request
            })
            .await?;
        Ok(with_country_sums(
            catalog,
            request.localities,
            read,
            RollupTotal::add,
        ))
    }

    /// [`Self::rollup_totals`] of localities keeping roll-ups.
    async fn stored_totals(
        &self,
        request: &TotalsRequest<'_>,
    ) -> Result<HashMap<(i64, String), RollupTotal>, Error> {
        let TotalsRequest {
            localities,
            indicators,
            as_of,
            flow_from,
            flows,
            flow_reports_of,
        } = *request;
        let mut out: HashMap<(i64, String), RollupTotal> = HashMap::new();
        if localities.is_empty() || indicators.is_empty() {
            return Ok(out);
        }
        // Naming the indicators lets both backends seek (locality, indicator, until > D) in the
        // span key instead of reading every span of a locality.
        let ids = format!(
            "{}) AND indicator_code IN ({}",
            vec!["?"; localities.len()].join(", "),
            vec!["?"; indicators.len()].join(", ")
        );
        let mut params: Vec<Value> = localities.iter().map(|&id| id.into()).collect();
        params.extend(indicators.iter().map(|c| c.clone().into()));
        params.extend([as_of.into(), as_of.into()]);
        let db = self.connection();
        let spans = db
            .query_all_raw(self.statement(
                &format!(
                    "SELECT locality_id, indicator_code, CAST(SUM(units) AS BIGINT) AS units, \
                            COUNT(DISTINCT report_id) AS reports, MIN(as_of) AS oldest \
                     FROM rollup_span WHERE locality_id IN ({ids}) AND until > ? AND as_of <= ? \
                       AND units > 0 \
                     GROUP BY locality_id, indicator_code"
                ),
                params.clone(),
            ))
            .await?;
        for row in spans {
            let s = SpanRow::from_query_result(&row, "")?;
            out.insert(
                (s.locality_id, s.indicator_code),
                RollupTotal {
                    units: s.units,
                    reports: s.reports,
                    oldest_as_of: Some(s.oldest),
                    ..RollupTotal::default()
                },
            );
        }
        // A flow sums every period since `flow_from`: its reports are all of theirs.
        let flows: Vec<&String> = flows.iter().filter(|f| indicators.contains(f)).collect();
        let counted: Vec<i64> = localities
            .iter()
            .copied()
            .filter(|id| flow_reports_of.contains(id))
            .collect();
        if !flows.is_empty() && !counted.is_empty() {
            let ids = vec!["?"; counted.len()].join(", ");
            let mut flow_params: Vec<Value> = counted.iter().map(|&id| id.into()).collect();
            flow_params.extend(flows.iter().map(|c| (*c).clone().into()));
            flow_params.extend([as_of.into(), flow_from.into()]);
            let rows = db
                .query_all_raw(self.statement(
                    &format!(
                        "SELECT locality_id, indicator_code, COUNT(DISTINCT report_id) AS reports \
                         FROM rollup_span WHERE locality_id IN ({ids}) AND indicator_code IN ({}) \
                           AND as_of <= ? AND as_of >= ? AND units > 0 \
                         GROUP BY locality_id, indicator_code",
                        vec!["?"; flows.len()].join(", ")
                    ),
                    flow_params,
                ))
                .await?;
            for row in rows {
                let r = ReportCountRow::from_query_result(&row, "")?;
                if let Some(total) = out.get_mut(&(r.locality_id, r.indicator_code)) {
                    total.reports = r.reports;
                }
            }
        }
        params.truncate(localities.len() + indicators.len());
        let group = |sql: &str| format!("{sql} GROUP BY locality_id, indicator_code");
        let sums = "SUM(value) AS value, SUM(paired_value) AS paired_value, \
                    SUM(paired_denominator) AS paired_denominator";
        let mut amounts: HashMap<(i64, String), [f64; 3]> = HashMap::new();
        let mut add = |rows: Vec<sea_orm::QueryResult>, sign: f64| -> Result<(), Error> {
            for row in rows {
                let a = AmountRow::from_query_result(&row, "")?;
                let sum = amounts
                    .entry((a.locality_id, a.indicator_code))
                    .or_default();
                sum[0] += sign * a.value;
                sum[1] += sign * a.paired_value;
                sum[2] += sign * a.paired_denominator;
            }
            Ok(())
        };
        if (flow_from.month(), flow_from.day()) == (1, 1) {
            // Flows from 1 January (the default): the yearly sums from that year on, less the
            // deltas dated after `as_of` (none for a current view).
            let mut sum_params = params.clone();
            sum_params.push(flow_from.year().into());
            let all = db
                .query_all_raw(self.statement(
                    &group(&format!(
                        "SELECT locality_id, indicator_code, {sums} FROM rollup_sum \
                         WHERE locality_id IN ({ids}) AND period_year >= ?"
                    )),
                    sum_params,
                ))
                .await?;
            add(all, 1.0)?;
            params.extend([as_of.into(), flow_from.into()]);
            let later = db
                .query_all_raw(self.statement(
                    &group(&format!(
                        "SELECT locality_id, indicator_code, {sums} FROM rollup_value \
                         WHERE locality_id IN ({ids}) AND as_of > ? AND period_start >= ?"
                    )),
                    params,
                ))
                .await?;
            add(later, -1.0)?;
        } else {
            params.extend([as_of.into(), flow_from.into()]);
            let rows = db
                .query_all_raw(self.statement(
                    &group(&format!(
                        "SELECT locality_id, indicator_code, {sums} FROM rollup_value \
                         WHERE locality_id IN ({ids}) AND as_of <= ? AND period_start >= ?"
                    )),
                    params,
                ))
                .await?;
            add(rows, 1.0)?;
        }
        for (key, [value, paired_value, paired_denominator]) in amounts {
            if let Some(total) = out.get_mut(&key) {
                total.amounts = p06_domain::contribution::Amounts {
                    value,
                    paired_value,
                    paired_denominator,
                };
            }
        }
        Ok(out)
    }

    /// Each (indicator, locality) of a province: the figure in force on `as_of` (the stock rule),
    /// of `only` those indicators when given (default all). The series' starts and the weeks
    /// before the date (`super::in_force`).
    pub async fn figures_in_force(
        &self,
        province_id: i64,
        as_of: NaiveDate,
        only: Option<&[String]>,
    ) -> Result<Vec<FigureRow>, Error> {
        let series = super::in_force::Series {
            codes: only,
            localities: None,
        };
        Ok(
            super::in_force::on(self.connection(), province_id, as_of, series)
                .await?
                .figures,
        )
    }

    /// The (indicator, locality) pairs of a province with a figure in force on `as_of`, of `only`
    /// those indicators when given: one read of the series' starts (`super::in_force::series_on`).
    pub async fn series_in_force(
        &self,
        province_id: i64,
        as_of: NaiveDate,
        only: Option<&[String]>,
    ) -> Result<Vec<(String, i64)>, Error> {
        let series = super::in_force::Series {
            codes: only,
            localities: None,
        };
        super::in_force::series_on(self.connection(), province_id, as_of, series).await
    }

    /// Sums of the communes' targets due on or after `date` below each locality (or country id),
    /// with how many communes have one; keyed by (locality id, indicator code).
    pub async fn target_totals(
        &self,
        catalog: &Catalog,
        localities: &[i64],
        date: NaiveDate,
    ) -> Result<HashMap<(i64, String), (f64, i64)>, Error> {
        let read = self
            .stored_target_totals(&stored_scope(catalog, localities), date)
            .await?;
        Ok(with_country_sums(catalog, localities, read, |sum, t| {
            sum.0 += t.0;
            sum.1 += t.1;
        }))
    }

    /// [`Self::target_totals`] of localities keeping roll-ups.
    async fn stored_target_totals(
        &self,
        localities: &[i64],
        date: NaiveDate,
    ) -> Result<HashMap<(i64, String), (f64, i64)>, Error> {
        let mut out = HashMap::new();
        if localities.is_empty() {
            return Ok(out);
        }
        let ids = vec!["?"; localities.len()].join(", ");
        let mut params: Vec<Value> = localities.iter().map(|&id| id.into()).collect();
        params.push(date.into());
        let rows = self
            .connection()
            .query_all_raw(self.statement(
                &format!(
                    "SELECT locality_id, indicator_code, SUM(value) AS value, CAST(SUM(units) AS BIGINT) AS units \
                     FROM target_rollup WHERE locality_id IN ({ids}) AND due_date >= ? \
                     GROUP BY locality_id, indicator_code"
                ),
                params,
            ))
            .await?;
        for row in rows {
            let t = TargetSumRow::from_query_result(&row, "")?;
            if t.units > 0 {
                out.insert((t.locality_id, t.indicator_code), (t.value, t.units));
            }
        }
        Ok(out)
    }
}
