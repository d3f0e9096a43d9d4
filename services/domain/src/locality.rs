//! Localities: province > district > commune, identified by (edition, code).
//!
//! Vietnam moved from three tiers to two on 1 July 2025 and reused codes with new meanings (52 was
//! Bình Định and is now Gia Lai), so a code alone never identifies a locality.

use std::fmt;
use std::str::FromStr;

/// The code that names the whole country (every province of an edition) in queries and in the
/// `province` claim of a national task-force token.
pub const COUNTRY_CODE: &str = "VN";

/// An edition of the administrative-unit list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Edition {
    /// Three-tier list of April 2023.
    E2023,
    /// Last three-tier state (1 January – 30 June 2025).
    E2024,
    /// Two-tier units in force since 1 July 2025 (no districts).
    E2025,
}

impl Edition {
    pub const ALL: [Edition; 3] = [Edition::E2023, Edition::E2024, Edition::E2025];

    /// The id under which the whole country's roll-ups of this edition are kept: negative, so it
    /// never collides with a locality id.
    pub fn country_id(self) -> i64 {
        match self {
            Edition::E2023 => -2023,
            Edition::E2024 => -2024,
            Edition::E2025 => -2025,
        }
    }

    /// Whether the edition has a district tier (the two-tier units of 2025 have none).
    pub fn has_districts(self) -> bool {
        self != Edition::E2025
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Edition::E2023 => "2023",
            Edition::E2024 => "2024",
            Edition::E2025 => "2025",
        }
    }
}

impl fmt::Display for Edition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Edition {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Edition::ALL
            .into_iter()
            .find(|e| e.as_str() == s)
            .ok_or_else(|| UnknownName(s.to_owned()))
    }
}

/// The tier of a locality.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Province,
    District,
    Commune,
}

impl Level {
    pub const ALL: [Level; 3] = [Level::Province, Level::District, Level::Commune];

    pub fn as_str(self) -> &'static str {
        match self {
            Level::Province => "province",
            Level::District => "district",
            Level::Commune => "commune",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Level {
    type Err = UnknownName;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Level::ALL
            .into_iter()
            .find(|l| l.as_str() == s)
            .ok_or_else(|| UnknownName(s.to_owned()))
    }
}

/// A name that is not one of the enumeration's values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown name {0:?}")]
pub struct UnknownName(pub String);

/// One administrative unit of one edition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Locality {
    /// Storage id (derived from edition, level and code by the seeder).
    pub id: i64,
    pub edition: Edition,
    pub code: String,
    pub name: String,
    pub level: Level,
    pub parent_id: Option<i64>,
    /// The province the unit lies in (its own id for a province).
    pub province_id: i64,
}
