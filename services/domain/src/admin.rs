//! Who administers what. Every administered object — an obligation's settings for a province, a
//! target, a period lock — belongs to one province, and only that province's task-force admin
//! changes it:
//!
//! - A **province** token (`province` claim = a province code) administers and reads its own
//!   province only.
//! - The **national** token (`province` claim [`COUNTRY_CODE`]) reads every province of its
//!   edition and administers nothing.
//! - An obligation code (`police-weekly-identity`) may bind many provinces, but each province
//!   holds its own settings of it: an admin's upsert names exactly its own province and changes
//!   nothing for the others. Naming any other province is refused, and the refusal names them.
//!
//! The rules are plain functions of the caller's scope, so handlers stay thin and the rules are
//! tested here.

use std::fmt;

use crate::locality::{COUNTRY_CODE, Edition};
use crate::obligation::ObligationSpec;
use crate::report::FieldViolation;
use crate::text::echo_bare;

/// Whose administered objects a token reaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// A province's task force (or agency): that province only.
    Province { edition: Edition, code: String },
    /// The national task force: reads every province of its edition, administers nothing.
    National(Edition),
}

/// Why an administrative change is refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Refusal {
    /// The national token administers nothing (`PERMISSION_DENIED`).
    #[error(
        "the national task force token ({edition}/{COUNTRY_CODE}) is read-only: obligations, targets and period locks are set by each province's admin"
    )]
    National { edition: Edition },
    /// The object belongs to another province (`PERMISSION_DENIED`).
    #[error("an admin of {own} administers {own} only, not {others}", others = .others.join(", "))]
    OtherProvinces { own: String, others: Vec<String> },
    /// The request itself is wrong (`INVALID_ARGUMENT`).
    #[error("{}: {}", .0.field, .0.description)]
    Invalid(FieldViolation),
}

/// A province as obligations name it: "edition/code", e.g. "2024/64".
pub fn province_key(edition: Edition, code: &str) -> String {
    format!("{edition}/{code}")
}

impl Scope {
    /// The scope of a token's `edition` and `province` claims; `None` for an unknown edition.
    pub fn of(edition: &str, province: &str) -> Option<Scope> {
        let edition: Edition = edition.parse().ok()?;
        Some(if province == COUNTRY_CODE {
            Scope::National(edition)
        } else {
            Scope::Province {
                edition,
                code: province.to_owned(),
            }
        })
    }

    pub fn edition(&self) -> Edition {
        match self {
            Scope::Province { edition, .. } | Scope::National(edition) => *edition,
        }
    }

    /// The province this scope administers, or why it administers nothing.
    pub fn own_province(&self) -> Result<(Edition, &str), Refusal> {
        match self {
            Scope::Province { edition, code } => Ok((*edition, code)),
            Scope::National(edition) => Err(Refusal::National { edition: *edition }),
        }
    }

    /// May change what belongs to this province (its targets, locks, obligation settings).
    pub fn administers(&self, edition: Edition, code: &str) -> Result<(), Refusal> {
        let (own_edition, own_code) = self.own_province()?;
        if (own_edition, own_code) == (edition, code) {
            Ok(())
        } else {
            Err(Refusal::OtherProvinces {
                own: province_key(own_edition, own_code),
                others: vec![province_key(edition, &echo_bare(code))],
            })
        }
    }

    /// May read what belongs to this province: its own, or any of its edition for the national
    /// task force.
    pub fn reads(&self, edition: Edition, code: &str) -> bool {
        match self {
            Scope::Province {
                edition: own_edition,
                code: own_code,
            } => *own_edition == edition && own_code == code,
            Scope::National(own_edition) => *own_edition == edition,
        }
    }

    /// [`Scope::reads`] with the edition as the wire spells it (an unknown edition reads nothing).
    pub fn reads_named(&self, edition: &str, code: &str) -> bool {
        edition.parse().is_ok_and(|e| self.reads(e, code))
    }

    /// May read the obligation settings stored under this "edition/code" province key.
    pub fn reads_key(&self, key: &str) -> bool {
        crate::obligation::parse_province(key).is_some_and(|(e, code)| self.reads(e, code))
    }

    /// May set `spec` as the obligation's settings for its own province: the national token may
    /// not; `provinces` must name exactly the admin's own province (an empty list is invalid,
    /// any other province is refused by name). The rest of the spec is checked against the
    /// catalog by [`ObligationSpec::check`].
    pub fn may_set_obligation(&self, spec: &ObligationSpec) -> Result<(), Refusal> {
        let (edition, code) = self.own_province()?;
        let own = province_key(edition, code);
        if spec.provinces.is_empty() {
            return Err(Refusal::Invalid(FieldViolation::new(
                "provinces",
                format!("name the province the obligation binds: [\"{own}\"]"),
            )));
        }
        let mut others: Vec<String> = spec
            .provinces
            .iter()
            .filter(|p| **p != own)
            .map(|p| echo_bare(p))
            .collect();
        others.sort();
        others.dedup();
        if !others.is_empty() {
            return Err(Refusal::OtherProvinces { own, others });
        }
        if spec.provinces.len() > 1 {
            return Err(Refusal::Invalid(FieldViolation::new(
                "provinces[1]",
                format!("{own} is listed more than once"),
            )));
        }
        Ok(())
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Province { edition, code } => write!(f, "{edition}/{code}"),
            Scope::National(edition) => write!(f, "{edition}/{COUNTRY_CODE}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(provinces: &[&str]) -> ObligationSpec {
        let provinces: Vec<String> = provinces.iter().map(|p| format!("{p:?}")).collect();
        toml::from_str(&format!(
            r#"
            code = "police-weekly-identity"
            agency = "police"
            indicators = ["vneid.l2.activated"]
            level = "commune"
            provinces = [{}]
            cadence = {{ kind = "weekly", first_weekday = "mon" }}
            deadline = {{ days = 2, count = "working", at = "17:00:00" }}
            "#,
            provinces.join(", ")
        ))
        .unwrap()
    }

    fn province(code: &str) -> Scope {
        Scope::of("2024", code).unwrap()
    }

    #[test]
    fn a_token_claim_gives_its_scope() {
        assert_eq!(
            Scope::of("2024", "VN"),
            Some(Scope::National(Edition::E2024))
        );
        assert_eq!(
            Scope::of("2025", "52"),
            Some(Scope::Province {
                edition: Edition::E2025,
                code: "52".into()
            })
        );
        assert_eq!(Scope::of("2026", "52"), None);
        assert_eq!(province("64").to_string(), "2024/64");
    }

    #[test]
    fn a_province_admin_sets_its_own_province_only() {
        let admin = province("01");
        assert_eq!(admin.may_set_obligation(&spec(&["2024/01"])), Ok(()));
        // The attack of issue 18: 01's admin naming Gia Lai's province.
        assert_eq!(
            admin.may_set_obligation(&spec(&["2024/64"])),
            Err(Refusal::OtherProvinces {
                own: "2024/01".into(),
                others: vec!["2024/64".into()]
            })
        );
        // Own province plus others: every other one is named, once, sorted.
        let refusal = admin
            .may_set_obligation(&spec(&["2024/64", "2024/01", "2024/52", "2024/64"]))
            .unwrap_err();
        assert_eq!(
            refusal.to_string(),
            "an admin of 2024/01 administers 2024/01 only, not 2024/52, 2024/64"
        );
        // The same code in another edition is another province.
        assert!(matches!(
            admin.may_set_obligation(&spec(&["2025/01"])),
            Err(Refusal::OtherProvinces { .. })
        ));
        assert!(matches!(
            admin.may_set_obligation(&spec(&["2024/01", "2024/01"])),
            Err(Refusal::Invalid(v)) if v.field == "provinces[1]"
        ));
    }

    #[test]
    fn an_empty_provinces_list_is_invalid_and_names_the_field() {
        let refusal = province("64").may_set_obligation(&spec(&[])).unwrap_err();
        let Refusal::Invalid(violation) = refusal else {
            panic!("expected a field violation, got {refusal:?}")
        };
        assert_eq!(violation.field, "provinces");
        assert!(violation.description.contains("[\"2024/64\"]"));
    }

    #[test]
    fn the_national_token_administers_nothing_but_reads_its_edition() {
        let national = Scope::National(Edition::E2024);
        for provinces in [&[][..], &["2024/VN"], &["2024/64"]] {
            assert_eq!(
                national.may_set_obligation(&spec(provinces)),
                Err(Refusal::National {
                    edition: Edition::E2024
                })
            );
        }
        assert!(national.administers(Edition::E2024, "64").is_err());
        assert!(national.administers(Edition::E2024, "VN").is_err());
        assert!(national.reads(Edition::E2024, "64") && national.reads(Edition::E2024, "01"));
        assert!(!national.reads(Edition::E2025, "52"));
        assert!(national.reads_key("2024/52") && !national.reads_key("2025/52"));
        assert!(national.reads_named("2024", "52") && !national.reads_named("", "52"));
    }

    #[test]
    fn a_province_reads_and_administers_itself_only() {
        let admin = province("64");
        assert_eq!(admin.administers(Edition::E2024, "64"), Ok(()));
        assert_eq!(
            admin
                .administers(Edition::E2024, "52")
                .unwrap_err()
                .to_string(),
            "an admin of 2024/64 administers 2024/64 only, not 2024/52"
        );
        assert!(admin.administers(Edition::E2025, "64").is_err());
        assert!(admin.reads(Edition::E2024, "64") && !admin.reads(Edition::E2024, "52"));
        assert!(admin.reads_key("2024/64") && !admin.reads_key("2025/64"));
        assert!(!admin.reads_key("nonsense"));
    }
}
