//! The in-memory catalog: localities of every edition, the crosswalk and the indicators.
//!
//! Seed data never changes while the aggregator runs, so it is loaded once at start-up (≈ 35,000
//! localities, a few MB) and every lookup during validation and queries is a hash-map hit.

use crate::hash::FastMap;
use p06_domain::edition::EditionValidity;
use p06_domain::locality::{COUNTRY_CODE, Edition, Level, Locality};
use p06_domain::reform::{self, Carry, Route, Successor};
use p06_domain::report::{CatalogView, Indicator};

/// A crosswalk row between a 2024 and a 2025 locality.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mapping {
    pub from_id: i64,
    pub to_id: i64,
    pub partial: bool,
    pub default_target: bool,
}

/// An edition of the administrative units with its interval of validity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditionInfo {
    pub validity: EditionValidity,
    pub name_vi: String,
    pub name_en: String,
}

#[derive(Debug, Default)]
pub struct Catalog {
    localities: Vec<Locality>,
    by_id: FastMap<i64, usize>,
    by_code: FastMap<(Edition, String), usize>,
    children: FastMap<i64, Vec<usize>>,
    by_province: FastMap<i64, Vec<usize>>,
    /// One pseudo-locality per edition for the whole country (id [`Edition::country_id`]); its
    /// children are the edition's provinces. Not listed, not reportable: task-force queries only.
    countries: FastMap<i64, Locality>,
    indicators: Vec<Indicator>,
    indicator_by_code: FastMap<String, usize>,
    mappings: Vec<Mapping>,
    /// Crosswalk rows by their old unit / by their new unit (indexes into `mappings`).
    mappings_from: FastMap<i64, Vec<usize>>,
    mappings_to: FastMap<i64, Vec<usize>>,
    editions: Vec<EditionInfo>,
    validities: Vec<EditionValidity>,
}

impl Catalog {
    /// `indicators` in the order screens list them (the storage's display order).
    pub fn new(
        mut localities: Vec<Locality>,
        indicators: Vec<Indicator>,
        mappings: Vec<Mapping>,
    ) -> Self {
        localities.sort_by(|a, b| (a.edition, &a.code).cmp(&(b.edition, &b.code)));
        let mut catalog = Catalog {
            by_id: FastMap::with_capacity_and_hasher(localities.len(), Default::default()),
            by_code: FastMap::with_capacity_and_hasher(localities.len(), Default::default()),
            ..Default::default()
        };
        for (i, l) in localities.iter().enumerate() {
            catalog.by_id.insert(l.id, i);
            catalog.by_code.insert((l.edition, l.code.clone()), i);
            let parent = l.parent_id.unwrap_or(l.edition.country_id());
            catalog.children.entry(parent).or_default().push(i);
            catalog
                .by_province
                .entry(l.province_id)
                .or_default()
                .push(i);
        }
        catalog.indicator_by_code = indicators
            .iter()
            .enumerate()
            .map(|(i, ind)| (ind.code.clone(), i))
            .collect();
        catalog.countries = Edition::ALL
            .into_iter()
            .map(|edition| {
                let id = edition.country_id();
                let country = Locality {
                    id,
                    edition,
                    code: COUNTRY_CODE.to_owned(),
                    name: "Việt Nam".to_owned(),
                    level: Level::Province,
                    parent_id: None,
                    province_id: id,
                };
                (id, country)
            })
            .collect();
        catalog.localities = localities;
        catalog.indicators = indicators;
        for (i, m) in mappings.iter().enumerate() {
            catalog.mappings_from.entry(m.from_id).or_default().push(i);
            catalog.mappings_to.entry(m.to_id).or_default().push(i);
        }
        catalog.mappings = mappings;
        catalog
    }

    /// The catalog with these editions (oldest first).
    pub fn with_editions(mut self, mut editions: Vec<EditionInfo>) -> Self {
        editions.sort_by_key(|e| e.validity.edition);
        self.validities = editions.iter().map(|e| e.validity).collect();
        self.editions = editions;
        self
    }

    /// The editions with their intervals of validity, oldest first.
    pub fn editions(&self) -> &[EditionInfo] {
        &self.editions
    }

    /// Whether a period ending on `date` is reported in `edition` (its interval contains the date).
    pub fn edition_covers(&self, edition: Edition, date: chrono::NaiveDate) -> bool {
        self.validities
            .iter()
            .any(|v| v.edition == edition && v.contains(date))
    }

    pub fn locality_by_id(&self, id: i64) -> Option<&Locality> {
        match self.by_id.get(&id) {
            Some(&i) => Some(&self.localities[i]),
            None => self.countries.get(&id),
        }
    }

    /// The whole country of an edition, as the root of its provinces.
    pub fn country(&self, edition: Edition) -> &Locality {
        &self.countries[&edition.country_id()]
    }

    /// A province of an edition by code.
    pub fn province(&self, edition: Edition, code: &str) -> Option<&Locality> {
        self.locality(edition, code)
            .filter(|l| l.level == Level::Province)
    }

    /// Direct children of a locality, ordered by code.
    pub fn children(&self, id: i64) -> impl Iterator<Item = &Locality> {
        self.children
            .get(&id)
            .into_iter()
            .flatten()
            .map(|&i| &self.localities[i])
    }

    /// Whether a locality has units below it (only those keep roll-ups of their own).
    pub fn has_children(&self, id: i64) -> bool {
        self.children.get(&id).is_some_and(|c| !c.is_empty())
    }

    /// The localities above `id`, nearest first, then the country of its edition.
    pub fn ancestors(&self, id: i64) -> Vec<i64> {
        let mut out = Vec::new();
        if id < 0 {
            return out;
        }
        let mut current = self.locality_by_id(id);
        let edition = current.map(|l| l.edition);
        while let Some(parent) = current.and_then(|l| l.parent_id) {
            out.push(parent);
            current = self.locality_by_id(parent);
        }
        if let Some(edition) = edition {
            out.push(edition.country_id());
        }
        out
    }

    /// Every locality below `id`, at any depth, ordered by code.
    pub fn descendants(&self, id: i64) -> Vec<&Locality> {
        let mut out = Vec::new();
        let mut stack = vec![id];
        while let Some(parent) = stack.pop() {
            for child in self.children(parent) {
                out.push(child);
                stack.push(child.id);
            }
        }
        out.sort_by(|a, b| a.code.cmp(&b.code));
        out
    }

    /// Every locality of an edition, ordered by code.
    pub fn localities(&self, edition: Edition) -> impl Iterator<Item = &Locality> {
        self.localities.iter().filter(move |l| l.edition == edition)
    }

    /// Every locality of a province (the province itself included), ordered by code.
    pub fn in_province(&self, province_id: i64) -> impl Iterator<Item = &Locality> {
        self.by_province
            .get(&province_id)
            .into_iter()
            .flatten()
            .map(|&i| &self.localities[i])
    }

    pub fn indicators(&self) -> &[Indicator] {
        &self.indicators
    }

    /// Crosswalk rows that start or end at a locality.
    pub fn mappings_of(&self, id: i64) -> impl Iterator<Item = &Mapping> {
        self.mappings
            .iter()
            .filter(move |m| m.from_id == id || m.to_id == id)
    }

    /// Where an old unit's figure counts across the reform (`p06_domain::reform::carry`): its
    /// default successor, and whether it was split.
    pub fn successor(&self, old_id: i64) -> Option<Carry> {
        let rows: Vec<Successor> = self
            .mappings_from
            .get(&old_id)?
            .iter()
            .map(|&i| {
                let m = &self.mappings[i];
                Successor {
                    to: m.to_id,
                    split: m.partial,
                    default_target: m.default_target,
                }
            })
            .collect();
        reform::carry(&rows)
    }

    /// Where an old unit's figure goes in edition 2025: a 2024 unit by the crosswalk
    /// ([`Self::successor`]); a 2023 commune through the 2024 commune of the same code
    /// (`p06_domain::reform::route_2023`); anything else nowhere.
    pub fn route(&self, old_id: i64) -> Route {
        let Some(old) = self.locality_by_id(old_id) else {
            return Route::Nowhere;
        };
        match old.edition {
            Edition::E2024 => self.successor(old_id).into(),
            Edition::E2023 if old.level == Level::Commune => {
                let kept = self
                    .locality(Edition::E2024, &old.code)
                    .filter(|l| l.level == Level::Commune)
                    .map(|l| l.id);
                reform::route_2023(kept, |id| self.successor(id))
            }
            _ => Route::Nowhere,
        }
    }

    /// The provinces of edition `from` (2024 or 2023) whose figures count toward a 2025 unit:
    /// [`Self::predecessor_provinces`], and for 2023 the provinces of the same codes (the 63
    /// province codes did not change between the two three-tier editions).
    pub fn predecessor_provinces_in(&self, new_id: i64, from: Edition) -> Vec<&Locality> {
        let of_2024 = self.predecessor_provinces(new_id);
        match from {
            Edition::E2024 => of_2024,
            Edition::E2023 => of_2024
                .into_iter()
                .filter_map(|p| self.province(Edition::E2023, &p.code))
                .collect(),
            Edition::E2025 => Vec::new(),
        }
    }

    /// The old units whose figures count toward `new_id` (those it is the default successor of).
    pub fn predecessors(&self, new_id: i64) -> Vec<&Locality> {
        let mut out: Vec<&Locality> = self
            .mappings_to
            .get(&new_id)
            .into_iter()
            .flatten()
            .map(|&i| self.mappings[i].from_id)
            .filter(|&old| self.successor(old).is_some_and(|c| c.to == new_id))
            .filter_map(|old| self.locality_by_id(old))
            .collect();
        out.sort_by(|a, b| a.code.cmp(&b.code));
        out.dedup_by_key(|l| l.id);
        out
    }

    /// The old provinces whose figures count toward a new unit (a province or a commune): the
    /// provinces of the old communes carried onto it or onto the communes below it.
    pub fn predecessor_provinces(&self, new_id: i64) -> Vec<&Locality> {
        let mut units = vec![new_id];
        units.extend(self.descendants(new_id).iter().map(|l| l.id));
        let mut ids: Vec<i64> = units
            .into_iter()
            .flat_map(|u| self.predecessors(u))
            .map(|l| l.province_id)
            .collect();
        ids.sort_unstable();
        ids.dedup();
        let mut out: Vec<&Locality> = ids
            .into_iter()
            .filter_map(|id| self.locality_by_id(id))
            .collect();
        out.sort_by(|a, b| a.code.cmp(&b.code));
        out
    }
}

impl CatalogView for Catalog {
    fn editions(&self) -> &[EditionValidity] {
        &self.validities
    }

    fn indicator(&self, code: &str) -> Option<&Indicator> {
        self.indicator_by_code
            .get(code)
            .map(|&i| &self.indicators[i])
    }

    fn locality(&self, edition: Edition, code: &str) -> Option<&Locality> {
        self.by_code
            .get(&(edition, code.to_owned()))
            .map(|&i| &self.localities[i])
    }
}
