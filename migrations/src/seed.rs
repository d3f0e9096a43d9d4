//! The seed data embedded in the binary, parsed into rows.
//!
//! Locality ids are derived from (edition, level, code) so every database gets the same ids without
//! look-ups while seeding: `edition digit · 10⁷ + level digit · 10⁶ + numeric code`, e.g. Xã Hà Đông
//! (commune 23680) in edition 2024 is 23_023_680. Within an edition codes are unique across levels.

use std::collections::HashMap;

use serde::Deserialize;

/// A locality edition and its embedded administrative-unit list.
pub struct EditionData {
    pub edition: &'static str,
    pub csv: &'static str,
}

/// The three editions, oldest first.
pub const EDITIONS: &[EditionData] = &[
    EditionData {
        edition: "2023",
        csv: include_str!("../data/units_2023.csv"),
    },
    EditionData {
        edition: "2024",
        csv: include_str!("../data/units_2024.csv"),
    },
    EditionData {
        edition: "2025",
        csv: include_str!("../data/units_2025.csv"),
    },
];

const CROSSWALK_2024_2025: &str = include_str!("../data/units_2024_to_2025.csv");
const INDICATORS: &str = include_str!("../data/indicators.csv");

#[derive(Debug, Clone, PartialEq)]
pub struct SeedLocality {
    pub id: i64,
    pub edition: &'static str,
    pub code: String,
    pub name: String,
    pub level: &'static str,
    pub parent_id: Option<i64>,
    pub province_id: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SeedMapping {
    pub from_id: i64,
    pub to_id: i64,
    pub partial: bool,
    pub default_target: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SeedIndicator {
    pub code: String,
    pub agency: String,
    pub kind: String,
    pub unit: String,
    pub denominator: String,
    pub name_vi: String,
    pub name_en: String,
}

/// The agencies: (code, Vietnamese name, English name).
pub const AGENCIES: &[(&str, &str, &str)] = &[
    ("police", "Công an tỉnh", "Provincial Police"),
    (
        "health",
        "Bảo hiểm xã hội / Sở Y tế",
        "Social Insurance / Department of Health",
    ),
    ("justice", "Sở Tư pháp", "Department of Justice"),
    ("taskforce", "Tổ công tác Đề án 06", "Project 06 task force"),
];

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("edition {edition}: {source}")]
    Csv { edition: String, source: csv::Error },
    #[error("edition {edition}: bad row {code:?}: {why}")]
    Row {
        edition: String,
        code: String,
        why: &'static str,
    },
}

fn level_digit(level: &str) -> Option<i64> {
    match level {
        "province" => Some(1),
        "district" => Some(2),
        "commune" => Some(3),
        _ => None,
    }
}

fn edition_digit(edition: &str) -> Option<i64> {
    match edition {
        "2023" => Some(1),
        "2024" => Some(2),
        "2025" => Some(3),
        _ => None,
    }
}

/// The id of a locality, or `None` for an unknown edition, level or a non-numeric code.
pub fn locality_id(edition: &str, level: &str, code: &str) -> Option<i64> {
    let number: i64 = code.parse().ok().filter(|n| (0..1_000_000).contains(n))?;
    Some(edition_digit(edition)? * 10_000_000 + level_digit(level)? * 1_000_000 + number)
}

#[derive(Deserialize)]
struct UnitRow {
    code: String,
    name: String,
    level: String,
    parent_code: String,
}

/// Parses one edition's units, parents before children, with parent and province ids resolved.
pub fn localities(edition: &EditionData) -> Result<Vec<SeedLocality>, SeedError> {
    let csv_err = |source| SeedError::Csv {
        edition: edition.edition.to_owned(),
        source,
    };
    let row_err = |code: &str, why| SeedError::Row {
        edition: edition.edition.to_owned(),
        code: code.to_owned(),
        why,
    };
    let mut rows: Vec<UnitRow> = csv::Reader::from_reader(edition.csv.as_bytes())
        .deserialize()
        .collect::<Result<_, _>>()
        .map_err(csv_err)?;
    rows.sort_by_key(|r| level_digit(&r.level).unwrap_or(9));

    // code -> (id, province id)
    let mut known: HashMap<String, (i64, i64)> = HashMap::with_capacity(rows.len());
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let level = match row.level.as_str() {
            "province" => "province",
            "district" => "district",
            "commune" => "commune",
            _ => return Err(row_err(&row.code, "unknown level")),
        };
        let id = locality_id(edition.edition, level, &row.code)
            .ok_or_else(|| row_err(&row.code, "non-numeric code"))?;
        let (parent_id, province_id) = if level == "province" {
            (None, id)
        } else {
            let (parent, province) = *known
                .get(&row.parent_code)
                .ok_or_else(|| row_err(&row.code, "parent not listed before child"))?;
            (Some(parent), province)
        };
        if known.insert(row.code.clone(), (id, province_id)).is_some() {
            return Err(row_err(&row.code, "duplicate code"));
        }
        out.push(SeedLocality {
            id,
            edition: edition.edition,
            code: row.code,
            name: row.name,
            level,
            parent_id,
            province_id,
        });
    }
    Ok(out)
}

#[derive(Deserialize)]
struct CrosswalkRow {
    old_commune_code: String,
    old_district_code: String,
    new_commune_code: String,
    old_unit_split: u8,
    is_default_target: u8,
}

/// The 2024 → 2025 crosswalk. Island districts without communes map from the district itself.
pub fn crosswalk_2024_2025() -> Result<Vec<SeedMapping>, SeedError> {
    let edition = "2024→2025";
    let rows: Vec<CrosswalkRow> = csv::Reader::from_reader(CROSSWALK_2024_2025.as_bytes())
        .deserialize()
        .collect::<Result<_, _>>()
        .map_err(|source| SeedError::Csv {
            edition: edition.to_owned(),
            source,
        })?;
    rows.into_iter()
        .map(|row| {
            let from_id = if row.old_commune_code.is_empty() {
                locality_id("2024", "district", &row.old_district_code)
            } else {
                locality_id("2024", "commune", &row.old_commune_code)
            };
            let to_id = locality_id("2025", "commune", &row.new_commune_code);
            match (from_id, to_id) {
                (Some(from_id), Some(to_id)) => Ok(SeedMapping {
                    from_id,
                    to_id,
                    partial: row.old_unit_split == 1,
                    default_target: row.is_default_target == 1,
                }),
                _ => Err(SeedError::Row {
                    edition: edition.to_owned(),
                    code: row.new_commune_code,
                    why: "non-numeric code",
                }),
            }
        })
        .collect()
}

/// The default indicator catalog.
pub fn indicators() -> Result<Vec<SeedIndicator>, SeedError> {
    csv::Reader::from_reader(INDICATORS.as_bytes())
        .deserialize()
        .collect::<Result<_, _>>()
        .map_err(|source| SeedError::Csv {
            edition: "indicators".to_owned(),
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edition(name: &str) -> Vec<SeedLocality> {
        let data = EDITIONS.iter().find(|e| e.edition == name).unwrap();
        localities(data).unwrap()
    }

    fn count(rows: &[SeedLocality], level: &str) -> usize {
        rows.iter().filter(|l| l.level == level).count()
    }

    #[test]
    fn editions_have_the_official_unit_counts() {
        let e2023 = edition("2023");
        assert_eq!(
            (
                count(&e2023, "province"),
                count(&e2023, "district"),
                count(&e2023, "commune")
            ),
            (63, 705, 10_599)
        );
        let e2024 = edition("2024");
        assert_eq!(
            (
                count(&e2024, "province"),
                count(&e2024, "district"),
                count(&e2024, "commune")
            ),
            (63, 696, 10_035)
        );
        let e2025 = edition("2025");
        assert_eq!(
            (
                count(&e2025, "province"),
                count(&e2025, "district"),
                count(&e2025, "commune")
            ),
            (34, 0, 3_321)
        );
    }

    #[test]
    fn gia_lai_dak_doa_and_ha_dong_resolve_in_2024() {
        let rows = edition("2024");
        let ha_dong = rows.iter().find(|l| l.code == "23680").unwrap();
        assert_eq!(ha_dong.name, "Xã Hà Đông");
        assert_eq!(ha_dong.id, 23_023_680);
        assert_eq!(ha_dong.parent_id, locality_id("2024", "district", "626"));
        assert_eq!(
            ha_dong.province_id,
            locality_id("2024", "province", "64").unwrap()
        );
        let dak_doa_communes = rows
            .iter()
            .filter(|l| l.parent_id == ha_dong.parent_id)
            .count();
        assert_eq!(dak_doa_communes, 17);
    }

    #[test]
    fn reused_codes_stay_distinct_by_edition() {
        // 52 was Bình Định in the three-tier editions and is Gia Lai since 2025.
        let old = edition("2024")
            .into_iter()
            .find(|l| l.code == "52")
            .unwrap();
        let new = edition("2025")
            .into_iter()
            .find(|l| l.code == "52")
            .unwrap();
        assert_eq!(old.name, "Tỉnh Bình Định");
        assert_eq!(new.name, "Tỉnh Gia Lai");
        assert_ne!(old.id, new.id);
    }

    #[test]
    fn crosswalk_targets_exist() {
        let new_ids: std::collections::HashSet<i64> =
            edition("2025").iter().map(|l| l.id).collect();
        let old_ids: std::collections::HashSet<i64> =
            edition("2024").iter().map(|l| l.id).collect();
        let rows = crosswalk_2024_2025().unwrap();
        assert!(rows.len() > 10_000);
        assert!(
            rows.iter()
                .all(|m| new_ids.contains(&m.to_id) && old_ids.contains(&m.from_id))
        );
    }

    #[test]
    fn indicator_catalog_parses() {
        let all = indicators().unwrap();
        assert!(
            all.iter()
                .any(|i| i.code == "vneid.l2.activated" && i.agency == "police")
        );
        assert!(
            all.iter()
                .all(|i| i.denominator.is_empty() || all.iter().any(|d| d.code == i.denominator))
        );
    }
}
