//! The localities the bench reports about: edition 2024 (the last three-tier list: 63 provinces,
//! 696 districts, 10,035 communes) from the seed data the migrations load, with the same ids.

use std::collections::HashMap;

use anyhow::Context as _;

/// The edition every report of the bench uses.
pub const EDITION: &str = "2024";

#[derive(Debug, Clone)]
pub struct Commune {
    pub id: i64,
    pub code: String,
    /// Position in the edition's commune list: seeds the generated figures.
    pub seed: u64,
}

#[derive(Debug, Clone)]
pub struct District {
    pub code: String,
    pub communes: usize,
}

#[derive(Debug, Clone)]
pub struct Province {
    pub id: i64,
    pub code: String,
    pub name: String,
    /// Ordered by code.
    pub communes: Vec<Commune>,
    pub districts: Vec<District>,
}

impl Province {
    /// The district with the most communes.
    pub fn largest_district(&self) -> &District {
        self.districts
            .iter()
            .max_by_key(|d| (d.communes, std::cmp::Reverse(d.code.clone())))
            .expect("every province has districts")
    }
}

/// Every province of edition 2024 with its districts and communes, ordered by code.
pub fn provinces() -> anyhow::Result<Vec<Province>> {
    let edition = p06_migrations::seed::EDITIONS
        .iter()
        .find(|e| e.edition == EDITION)
        .context("edition 2024 in the seed data")?;
    let units = p06_migrations::seed::localities(edition)?;
    let mut provinces: Vec<Province> = units
        .iter()
        .filter(|u| u.level == "province")
        .map(|u| Province {
            id: u.id,
            code: u.code.clone(),
            name: u.name.clone(),
            communes: Vec::new(),
            districts: Vec::new(),
        })
        .collect();
    provinces.sort_by(|a, b| a.code.cmp(&b.code));
    let index: HashMap<i64, usize> = provinces
        .iter()
        .enumerate()
        .map(|(i, p)| (p.id, i))
        .collect();
    let mut district_communes: HashMap<i64, usize> = HashMap::new();
    let mut communes: Vec<_> = units.iter().filter(|u| u.level == "commune").collect();
    communes.sort_by(|a, b| a.code.cmp(&b.code));
    for (seed, u) in communes.into_iter().enumerate() {
        if let Some(parent) = u.parent_id {
            *district_communes.entry(parent).or_default() += 1;
        }
        let p = &mut provinces[index[&u.province_id]];
        p.communes.push(Commune {
            id: u.id,
            code: u.code.clone(),
            seed: seed as u64,
        });
    }
    for u in units.iter().filter(|u| u.level == "district") {
        provinces[index[&u.province_id]].districts.push(District {
            code: u.code.clone(),
            communes: district_communes.get(&u.id).copied().unwrap_or(0),
        });
    }
    for p in &mut provinces {
        p.districts.sort_by(|a, b| a.code.cmp(&b.code));
    }
    Ok(provinces)
}

/// The provinces named by `codes`, or all of them when `codes` is empty.
pub fn select(all: &[Province], codes: &[String]) -> anyhow::Result<Vec<Province>> {
    if codes.is_empty() {
        return Ok(all.to_vec());
    }
    codes
        .iter()
        .map(|code| {
            all.iter()
                .find(|p| &p.code == code)
                .cloned()
                .with_context(|| format!("{code} is not a province code of edition 2024"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn edition_2024_has_the_documented_size() {
        let provinces = super::provinces().unwrap();
        assert_eq!(provinces.len(), 63);
        let communes: usize = provinces.iter().map(|p| p.communes.len()).sum();
        let districts: usize = provinces.iter().map(|p| p.districts.len()).sum();
        assert_eq!((districts, communes), (696, 10_035));
    }
}
