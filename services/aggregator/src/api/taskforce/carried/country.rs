//! The whole country of edition 2025 as of a date before the reform: the sum of every 2025
//! province carried from its predecessors (`province.rs`), as the live country is the sum of its
//! provinces' totals.
//!
//! Like the live country it holds no own figures, only totals (its provinces' and its own) and
//! targets (each province's, the country's the sum of them); the split and uncarried communes of
//! each province count in the country's figure too. The country as known at an instant is
//! refused here as it is after the reform (one province at a time).

use std::sync::Arc;

use p06_domain::locality::Locality;

use super::{CarriedFrom, CarriedRead};
use crate::api::taskforce::{Snapshot, TaskForceApi};
use crate::error::Error;
use crate::read_cache::{Targets, Totals};

impl TaskForceApi {
    /// The snapshot of the 2025 country as of `date` carried from edition `from`.
    pub(super) async fn carried_country(
        &self,
        country: &Locality,
        read: CarriedRead<'_>,
    ) -> Result<Snapshot, Error> {
        let CarriedRead {
            from,
            date,
            known_at,
            ..
        } = read;
        if known_at.is_some() {
            return Err(Error::invalid_field(
                "known_at",
                "figures known at an instant are computed for one province (or a unit of it), \
                 not the whole country",
            ));
        }
        let catalog = &self.state.catalog;
        let mut carried = CarriedFrom {
            edition: Some(from),
            ..CarriedFrom::default()
        };
        let mut totals = Totals::default();
        let mut targets = Targets::default();
        for province in catalog.children(country.id) {
            let s = self
                .carried_province(
                    province,
                    CarriedRead {
                        known_at: None,
                        ..read
                    },
                )
                .await?;
            for ((id, code), t) in &s.totals.totals {
                if *id != province.id {
                    continue;
                }
                totals.totals.insert((*id, code.clone()), t.clone());
                totals
                    .totals
                    .entry((country.id, code.clone()))
                    .or_default()
                    .add(t);
            }
            for ((id, code), sum) in &s.totals.target_sums {
                if *id == province.id {
                    totals.target_sums.insert((*id, code.clone()), *sum);
                }
            }
            // The province's target (its own, else its communes'): its own here, and a part of
            // the country's sum.
            let codes: std::collections::BTreeSet<&String> = s
                .targets
                .keys()
                .filter(|(_, id)| *id == province.id)
                .map(|(code, _)| code)
                .chain(
                    s.totals
                        .target_sums
                        .keys()
                        .filter(|(id, _)| *id == province.id)
                        .map(|(_, code)| code),
                )
                .collect();
            for code in codes {
                let Some(t) = self.target(&s, code, province) else {
                    continue;
                };
                targets.insert((code.clone(), province.id), t);
                let sum = totals
                    .target_sums
                    .entry((country.id, code.clone()))
                    .or_default();
                sum.0 += t;
                sum.1 += 1;
            }
            if let Some(c) = s.carried.as_deref() {
                carried.add_counts_of(c, province.id, province.id);
                carried.add_counts_of(c, province.id, country.id);
            }
        }
        Ok(Snapshot {
            as_of: date,
            version: None,
            figures: Default::default(),
            totals: Arc::new(totals),
            targets: Arc::new(targets),
            carried: Some(Arc::new(carried)),
        })
    }
}
