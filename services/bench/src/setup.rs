//! What the bench prepares before starting services: development keys to mint tokens with, and a
//! compliance file binding the weekly obligations to every province it reports about.

use std::path::{Path, PathBuf};

use p06_auth::{Agency, DevKeys, Grant, Role};

use crate::figures;
use crate::world::{EDITION, Province};

/// Development keys in a temporary directory the aggregator child also reads (`--auth-data-dir`).
pub struct Keys {
    dir: tempfile::TempDir,
    dev: DevKeys,
}

impl Keys {
    pub fn new() -> anyhow::Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("p06-bench-keys-")
            .tempdir()?;
        let dev = DevKeys::load_or_create(dir.path())?;
        Ok(Keys { dir, dev })
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// A token of `agency` scoped to province `code` of edition 2024 ("VN": the whole country).
    pub fn token(&self, agency: Agency, code: &str, role: Role) -> anyhow::Result<String> {
        let grant = Grant::new(agency, EDITION, code, role).with_ttl(chrono::Duration::hours(2));
        Ok(self.dev.mint(&grant)?)
    }

    /// A token of any grant (e.g. one viewer per subject).
    pub fn mint(&self, grant: &Grant) -> anyhow::Result<String> {
        Ok(self.dev.mint(grant)?)
    }

    /// Authenticator for the in-process agency services (trusts the same key).
    pub fn authenticator(&self) -> anyhow::Result<std::sync::Arc<p06_auth::Authenticator>> {
        Ok(self.dev.authenticator()?)
    }
}

/// Writes the bench's compliance file: the three weekly commune-level obligations of
/// [`figures::Agency`] with the data set's 20 indicators, bound to every given province.
///
/// The MISSING sweep runs once at start-up and then every 24 h, looking back 7 days, so it does not
/// compete with the measurements (the bench reports past weeks, which would all be "missing").
pub fn compliance_file(dir: &Path, provinces: &[Province]) -> anyhow::Result<PathBuf> {
    let bound: Vec<String> = provinces
        .iter()
        .map(|p| format!("\"{EDITION}/{}\"", p.code))
        .collect();
    let mut text = String::from(
        "# Written by p06-bench.\nsweep_every_secs = 86400\nmissing_lookback_days = 7\n",
    );
    for agency in figures::Agency::ALL {
        let indicators: Vec<String> = agency
            .indicators()
            .iter()
            .map(|i| format!("\"{i}\""))
            .collect();
        text.push_str(&format!(
            "\n[[obligation]]\ncode = \"{}\"\nagency = \"{}\"\nname = \"{} (bench)\"\nindicators = [{}]\nlevel = \"commune\"\nprovinces = [{}]\ncadence = {{ kind = \"weekly\", first_weekday = \"mon\" }}\ndeadline = {{ days = 2, count = \"working\", at = \"17:00:00\" }}\n",
            agency.obligation(),
            agency.name(),
            agency.obligation(),
            indicators.join(", "),
            bound.join(", "),
        ));
    }
    let path = dir.join("compliance.toml");
    std::fs::write(&path, text)?;
    Ok(path)
}
