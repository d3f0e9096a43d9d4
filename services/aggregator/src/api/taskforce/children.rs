//! `SummarizeChildren`: each child of a unit with its figure and how many of the finest units
//! below it lag behind a threshold ("Kông Chro 5/14"), carried across the reform like the other
//! views.

use p06_domain::locality::Locality;
use p06_proto::aggregation::{
    ChildSummary, LocalityProgress, SummarizeChildrenRequest, SummarizeChildrenResponse,
};

use super::carried::CarriedFrom;
use super::known::Reads;
use super::{TaskForceApi, known_at_of};
use crate::api::Caller;
use crate::error::Error;

impl TaskForceApi {
    pub(super) async fn children_summary(
        &self,
        caller: &Caller,
        req: SummarizeChildrenRequest,
    ) -> Result<SummarizeChildrenResponse, Error> {
        let parent = self.locality(caller, req.parent.as_ref(), "parent")?;
        let indicator = self.indicator(&req.indicator_code)?;
        if !req.threshold_percent.is_finite() || req.threshold_percent < 0.0 {
            return Err(Error::invalid_field(
                "threshold_percent",
                "a percentage of target, e.g. 50",
            ));
        }
        let mut children: Vec<&Locality> = self.state.catalog.children(parent.id).collect();
        children.sort_by(|a, b| a.code.cmp(&b.code));
        if parent.id < 0 {
            return Err(Error::invalid_field(
                "parent.code",
                "summaries of the whole country: use ListLocalityProgress with level PROVINCE",
            ));
        }
        let as_of = self.as_of(req.as_of.as_ref());
        let reads = Reads {
            dates: &[as_of],
            flow_from: None,
            totals_for: &children,
            indicators: Some(std::slice::from_ref(&indicator.code)),
            later: &[],
            known_at: known_at_of(req.known_at.as_ref())?,
        };
        let snapshot = self
            .snapshots(parent, &reads)
            .await?
            .pop()
            .unwrap_or_default();
        let mut out = Vec::with_capacity(children.len());
        for child in children {
            let finest = self.finest_below(child);
            let rows: Vec<LocalityProgress> = finest
                .iter()
                .map(|l| self.progress(&snapshot, None, indicator, l))
                .collect();
            out.push(ChildSummary {
                child: Some(self.progress(&snapshot, None, indicator, child)),
                below_threshold: rows
                    .iter()
                    .filter(|r| {
                        r.percent_of_target
                            .is_some_and(|p| p < req.threshold_percent)
                    })
                    .count() as i32,
                with_target: rows.iter().filter(|r| r.target.is_some()).count() as i32,
                without_data: rows.iter().filter(|r| r.value.is_none()).count() as i32,
                total: rows.len() as i32,
            });
        }
        Ok(SummarizeChildrenResponse {
            children: out,
            carried_from_edition: CarriedFrom::edition_year(snapshot.carried.as_deref()),
        })
    }
}
