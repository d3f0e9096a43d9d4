//! History across the 2025 reform: the snapshots of a 2025-edition scope as of dates before 1 July
//! 2025, carried from the three-tier edition then in force (2024, or 2023 through 2024) with the
//! rules of `p06_domain::reform`.
//!
//! A province (or a unit of it): `province.rs`, from its predecessor provinces' own snapshots. The
//! whole country: `country.rs`, the sum of every 2025 province carried. A carried snapshot has no
//! read version of its own (`version: None`): nothing derived from it is cached under the 2025
//! province's version, which no write to a predecessor province advances.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use p06_domain::locality::{Edition, Locality};
use p06_domain::reform::{self, Route};
use p06_domain::report::CatalogView;

use super::known::Reads;
use super::pace::Dues;
use super::{Snapshot, TaskForceApi};
use crate::error::Error;

mod country;
mod province;

/// What a carried snapshot says besides its figures: the edition carried and, by (2025 locality,
/// indicator), how many split communes count in the figure and how many communes that reported
/// were left out because the unit lists name no successor of them (edition 2023 only).
#[derive(Debug, Default)]
pub(super) struct CarriedFrom {
    pub(super) edition: Option<Edition>,
    pub(super) split: HashMap<(i64, String), u32>,
    pub(super) uncarried: HashMap<(i64, String), u32>,
}

impl CarriedFrom {
    /// The carried edition as the proto says it (2024 or 2023), 0 when none.
    pub(super) fn edition_year(carried: Option<&Self>) -> i32 {
        carried
            .and_then(|c| c.edition)
            .and_then(|e| e.as_str().parse().ok())
            .unwrap_or(0)
    }

    /// Adds the counts of `other` at (`locality`, indicator) to this one's at (`to`, indicator).
    fn add_counts_of(&mut self, other: &CarriedFrom, locality: i64, to: i64) {
        for (mine, theirs) in [
            (&mut self.split, &other.split),
            (&mut self.uncarried, &other.uncarried),
        ] {
            for ((id, code), n) in theirs {
                if *id == locality {
                    *mine.entry((to, code.clone())).or_default() += n;
                }
            }
        }
    }
}

/// One carried read: the edition carried from, the date (before the reform), and what the caller
/// asked of the figures.
#[derive(Clone, Copy)]
struct CarriedRead<'a> {
    from: Edition,
    date: NaiveDate,
    flow_from: Option<NaiveDate>,
    indicators: Option<&'a [String]>,
    known_at: Option<DateTime<Utc>>,
}

impl TaskForceApi {
    /// The edition whose figures a view of `scope` carries as of `date` (2024 for a 2025 scope
    /// before 1 July 2025), if any.
    pub(super) fn carried_edition(&self, scope: &Locality, date: NaiveDate) -> Option<Edition> {
        let catalog = &self.state.catalog;
        reform::carried_from(CatalogView::editions(catalog), scope.edition, date)
    }

    /// Snapshots of `scope` as of each of `reads.dates` (see [`Self::direct_snapshots`]): those of
    /// dates before the reform for a 2025 scope carried from edition 2024, the others direct.
    pub(super) async fn snapshots(
        &self,
        scope: &Locality,
        reads: &Reads<'_>,
    ) -> Result<Vec<Snapshot>, Error> {
        let dates = match reads.later.is_empty() {
            true => &reads.dates[..reads.dates.len().min(1)],
            false => reads.dates,
        };
        if dates
            .iter()
            .all(|d| self.carried_edition(scope, *d).is_none())
        {
            return self.direct_snapshots(scope, reads).await;
        }
        let mut out = Vec::with_capacity(dates.len());
        for (i, &date) in dates.iter().enumerate() {
            let indicators = if i == 0 {
                reads.indicators
            } else {
                Some(reads.later)
            };
            let snapshot = match self.carried_edition(scope, date) {
                Some(_) => {
                    self.carried_snapshot(scope, date, reads.flow_from, indicators, reads.known_at)
                        .await?
                }
                None => {
                    let one = Reads {
                        dates: &[date],
                        indicators,
                        later: &[],
                        ..*reads
                    };
                    self.direct_snapshots(scope, &one)
                        .await?
                        .pop()
                        .unwrap_or_default()
                }
            };
            out.push(snapshot);
        }
        Ok(out)
    }

    /// The snapshot of a 2025 `scope` as of `date` (before the reform) carried from the
    /// three-tier edition then in force: a province or a unit of it from its predecessor
    /// provinces, the country as the sum of its provinces.
    pub(super) async fn carried_snapshot(
        &self,
        scope: &Locality,
        date: NaiveDate,
        flow_from: Option<NaiveDate>,
        indicators: Option<&[String]>,
        known_at: Option<DateTime<Utc>>,
    ) -> Result<Snapshot, Error> {
        let Some(from) = self.carried_edition(scope, date) else {
            return Err(Error::Internal(format!(
                "{} {} is not carried as of {date}",
                scope.edition.as_str(),
                scope.code
            )));
        };
        let read = CarriedRead {
            from,
            date,
            flow_from,
            indicators,
            known_at,
        };
        if scope.id < 0 {
            self.carried_country(scope, read).await
        } else {
            self.carried_province(scope, read).await
        }
    }

    /// Targets' due dates for the pace of `scope` as of `as_of`: carried from the predecessor
    /// provinces before the reform (each 2025 unit: the nearest of its predecessors'), else
    /// direct.
    pub(super) async fn dues(
        &self,
        scope: &Locality,
        rolled: &[&Locality],
        as_of: NaiveDate,
        with_pace: &[String],
        version: Option<i64>,
    ) -> Result<Arc<Dues>, Error> {
        let Some(from) = self.carried_edition(scope, as_of) else {
            return self
                .direct_dues(scope, rolled, as_of, with_pace, version)
                .await;
        };
        let catalog = &self.state.catalog;
        if scope.id >= 0 {
            let dues = self
                .carried_province_dues(scope.province_id, from, as_of, with_pace)
                .await?;
            return Ok(Arc::new(dues));
        }
        // The country: each 2025 province's, and the nearest of them for the country.
        let mut out = Dues::new();
        for province in catalog.children(scope.id) {
            let dues = self
                .carried_province_dues(province.id, from, as_of, with_pace)
                .await?;
            for ((code, id), due) in dues.iter().filter(|((_, id), _)| *id == province.id) {
                out.insert((code.clone(), *id), *due);
                let entry = out.entry((code.clone(), scope.id)).or_insert(*due);
                *entry = (*entry).min(*due);
            }
        }
        Ok(Arc::new(out))
    }

    /// The due dates of a 2025 province's units carried from its predecessor provinces of
    /// edition `from` (each unit: the nearest of its predecessors').
    async fn carried_province_dues(
        &self,
        province_id: i64,
        from: Edition,
        as_of: NaiveDate,
        with_pace: &[String],
    ) -> Result<Dues, Error> {
        let catalog = &self.state.catalog;
        let mut out = Dues::new();
        for old in catalog.predecessor_provinces_in(province_id, from) {
            let dues = self
                .direct_dues(old, &[old], as_of, with_pace, None)
                .await?;
            for ((code, id), due) in dues.iter() {
                let to = if *id == old.id {
                    province_id
                } else {
                    match catalog.route(*id) {
                        Route::Onto(c) => c.to,
                        Route::Uncarried | Route::Nowhere => continue,
                    }
                };
                let entry = out.entry((code.clone(), to)).or_insert(*due);
                *entry = (*entry).min(*due);
            }
        }
        Ok(out)
    }

    /// The indicators (of `among`) with a target for the pace of `scope` as of `date`: those of
    /// its predecessor provinces before the reform, else direct.
    pub(super) async fn indicators_with_targets(
        &self,
        scope: &Locality,
        date: NaiveDate,
        among: &[String],
    ) -> Result<Vec<String>, Error> {
        let Some(from) = self.carried_edition(scope, date) else {
            return self
                .direct_indicators_with_targets(scope, date, among)
                .await;
        };
        let catalog = &self.state.catalog;
        let olds: Vec<&Locality> = match scope.id < 0 {
            // The country: the predecessors of every 2025 province.
            true => catalog
                .children(scope.id)
                .flat_map(|p| catalog.predecessor_provinces_in(p.id, from))
                .collect(),
            false => catalog.predecessor_provinces_in(scope.province_id, from),
        };
        let mut with: HashSet<String> = HashSet::new();
        for old in olds {
            with.extend(
                self.direct_indicators_with_targets(old, date, among)
                    .await?,
            );
        }
        Ok(among
            .iter()
            .filter(|c| with.contains(*c))
            .cloned()
            .collect())
    }

    /// How many split communes count in `locality`'s figure of `indicator` in `snapshot`.
    pub(super) fn split_units(snapshot: &Snapshot, indicator: &str, locality: &Locality) -> i32 {
        snapshot
            .carried
            .as_ref()
            .and_then(|c| c.split.get(&(locality.id, indicator.to_owned())))
            .map_or(0, |n| *n as i32)
    }

    /// How many communes that reported are left out of `locality`'s figure of `indicator` in
    /// `snapshot` for want of a successor (edition-2023 communes absent from edition 2024).
    pub(super) fn uncarried_units(
        snapshot: &Snapshot,
        indicator: &str,
        locality: &Locality,
    ) -> i32 {
        snapshot
            .carried
            .as_ref()
            .and_then(|c| c.uncarried.get(&(locality.id, indicator.to_owned())))
            .map_or(0, |n| *n as i32)
    }
}
