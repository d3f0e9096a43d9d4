//! Reading stored reports for the task force: a province's reports (every revision), and the
//! revisions of one report series with their observations.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Order, Query, SelectStatement};
use sea_orm::{ConnectionTrait, FromQueryResult};

use super::Store;
use super::reports::StoredReceipt;
use super::revision_figures;
use crate::error::Error;

/// Which reports of a province to list.
#[derive(Debug, Clone, Default)]
pub struct ReportFilter<'a> {
    pub province_id: i64,
    pub agency: Option<&'a str>,
    pub obligation: Option<&'a str>,
    /// Periods ending on or after this date.
    pub period_end_from: Option<NaiveDate>,
    /// Periods ending on or before this date.
    pub period_end_to: Option<NaiveDate>,
}

/// A stored revision without its observations.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportListing {
    pub agency: String,
    pub obligation: String,
    pub province_id: i64,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub submitted_by: String,
    pub observation_count: i64,
    pub receipt: StoredReceipt,
}

/// One revision of a series with its narrative and observations.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesRevision {
    pub listing: ReportListing,
    /// Assessment, obstacles, proposals.
    pub narrative: [String; 3],
    /// (indicator code, locality id, value), ordered by indicator then locality id.
    pub observations: Vec<(String, i64, f64)>,
}

#[derive(FromQueryResult)]
struct ListingRow {
    id: i64,
    revision: i32,
    received_at: DateTime<Utc>,
    payload_sha256: String,
    deadline: Option<DateTime<Utc>>,
    timeliness: Option<String>,
    lateness_seconds: Option<i64>,
    specificity_score: Option<i32>,
    specificity_reasons: Option<String>,
    mode: String,
    carried_count: i32,
    agency: String,
    obligation: String,
    province_id: i64,
    period_start: NaiveDate,
    period_end: NaiveDate,
    submitted_by: String,
    assessment: String,
    obstacles: String,
    proposals: String,
    observation_count: i32,
}

impl ListingRow {
    fn split(self) -> (ReportListing, [String; 3]) {
        (
            ReportListing {
                agency: self.agency,
                obligation: self.obligation,
                province_id: self.province_id,
                period_start: self.period_start,
                period_end: self.period_end,
                submitted_by: self.submitted_by,
                observation_count: i64::from(self.observation_count),
                receipt: StoredReceipt {
                    id: self.id,
                    revision: self.revision,
                    received_at: self.received_at,
                    payload_sha256: self.payload_sha256,
                    deadline: self.deadline,
                    timeliness: self.timeliness,
                    lateness_seconds: self.lateness_seconds,
                    specificity_score: self.specificity_score,
                    specificity_reasons: self.specificity_reasons,
                    mode: self.mode,
                    carried_count: self.carried_count,
                },
            },
            [self.assessment, self.obstacles, self.proposals],
        )
    }
}

fn col(name: &str) -> Expr {
    Expr::col((Alias::new("report"), Alias::new(name)))
}

/// The report columns a listing reads, each revision's observation count among them.
fn listing_select() -> SelectStatement {
    let mut select = Query::select();
    select.from(Alias::new("report"));
    for c in [
        "id",
        "revision",
        "received_at",
        "payload_sha256",
        "deadline",
        "timeliness",
        "lateness_seconds",
        "specificity_score",
        "specificity_reasons",
        "mode",
        "carried_count",
        "agency",
        "obligation",
        "province_id",
        "period_start",
        "period_end",
        "submitted_by",
        "assessment",
        "obstacles",
        "proposals",
        "observation_count",
    ] {
        select.column((Alias::new("report"), Alias::new(c)));
    }
    select
}

impl Store {
    /// A province's stored revisions matching `filter`: newest period first, then by agency,
    /// obligation and newest revision first. Returns `limit` rows from `offset` and whether more
    /// follow.
    pub async fn reports(
        &self,
        filter: &ReportFilter<'_>,
        offset: u64,
        limit: u64,
    ) -> Result<(Vec<ReportListing>, bool), Error> {
        let mut select = listing_select();
        select.and_where(col("province_id").eq(filter.province_id));
        if let Some(agency) = filter.agency {
            select.and_where(col("agency").eq(agency));
        }
        if let Some(obligation) = filter.obligation {
            select.and_where(col("obligation").eq(obligation));
        }
        if let Some(from) = filter.period_end_from {
            select.and_where(col("period_end").gte(from));
        }
        if let Some(to) = filter.period_end_to {
            select.and_where(col("period_end").lte(to));
        }
        select
            .order_by(
                (Alias::new("report"), Alias::new("period_end")),
                Order::Desc,
            )
            .order_by((Alias::new("report"), Alias::new("agency")), Order::Asc)
            .order_by((Alias::new("report"), Alias::new("obligation")), Order::Asc)
            .order_by((Alias::new("report"), Alias::new("revision")), Order::Desc)
            .order_by((Alias::new("report"), Alias::new("id")), Order::Desc)
            .limit(limit + 1)
            .offset(offset);
        let rows = self.connection().query_all(&select).await?;
        let mut listings = rows
            .iter()
            .map(|r| ListingRow::from_query_result(r, "").map(|row| row.split().0))
            .collect::<Result<Vec<_>, _>>()?;
        let more = listings.len() as u64 > limit;
        listings.truncate(limit as usize);
        Ok((listings, more))
    }

    /// Every revision of the series report `id` belongs to, oldest first, with narratives and
    /// observations; `None` when there is no such report.
    pub async fn report_series(&self, id: i64) -> Result<Option<Vec<SeriesRevision>>, Error> {
        let db = self.connection();
        let mut one = listing_select();
        one.and_where(col("id").eq(id));
        let Some(row) = db.query_one(&one).await? else {
            return Ok(None);
        };
        let anchor = ListingRow::from_query_result(&row, "")?;
        let mut series = listing_select();
        series
            .and_where(col("province_id").eq(anchor.province_id))
            .and_where(col("agency").eq(anchor.agency.as_str()))
            .and_where(col("obligation").eq(anchor.obligation.as_str()))
            .and_where(col("period_start").eq(anchor.period_start))
            .order_by((Alias::new("report"), Alias::new("revision")), Order::Asc);
        let rows = db.query_all(&series).await?;
        let mut revisions = Vec::with_capacity(rows.len());
        for row in &rows {
            let (listing, narrative) = ListingRow::from_query_result(row, "")?.split();
            let observations = self.observations_of(listing.receipt.id).await?;
            revisions.push(SeriesRevision {
                listing,
                narrative,
                observations,
            });
        }
        Ok(Some(revisions))
    }

    /// A revision's observations, ordered by indicator then locality id.
    pub async fn observations_of(&self, report_id: i64) -> Result<Vec<(String, i64, f64)>, Error> {
        let figures = revision_figures::of_report(self.connection(), report_id)
            .await?
            .unwrap_or_default();
        Ok(figures
            .into_iter()
            .map(|f| (f.indicator_code, f.locality_id, f.value))
            .collect())
    }
}
