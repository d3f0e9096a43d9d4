use std::collections::HashMap;

use super::*;
use crate::edition::EditionValidity;
use crate::locality::{Edition, Locality};
use crate::report::{Indicator, Unit};

struct Indicators(Vec<Indicator>);

impl CatalogView for Indicators {
    fn editions(&self) -> &[EditionValidity] {
        &[]
    }
    fn indicator(&self, code: &str) -> Option<&Indicator> {
        self.0.iter().find(|i| i.code == code)
    }
    fn locality(&self, _: Edition, _: &str) -> Option<&Locality> {
        None
    }
}

fn indicator(code: &str, agency: &str, kind: IndicatorKind, vi: &str, en: &str) -> Indicator {
    Indicator {
        code: code.into(),
        agency: agency.into(),
        kind,
        unit: Unit::Count,
        denominator: None,
        name_vi: vi.into(),
        name_en: en.into(),
    }
}

fn catalog() -> Indicators {
    Indicators(vec![
        indicator(
            "vneid.l2.activated",
            "police",
            IndicatorKind::Stock,
            "Tài khoản định danh điện tử mức 2 đã kích hoạt",
            "Level-2 e-ID accounts activated",
        ),
        indicator(
            "vneid.l2.created",
            "police",
            IndicatorKind::Stock,
            "Tài khoản định danh điện tử mức 2 đã tạo lập",
            "Level-2 e-ID accounts created",
        ),
        indicator(
            "bhyt.cards.integrated",
            "health",
            IndicatorKind::Stock,
            "Thẻ BHYT đã tích hợp trên VNeID",
            "Health-insurance (BHYT) cards integrated on VNeID",
        ),
        indicator(
            "health_book.integrated",
            "health",
            IndicatorKind::Stock,
            "Sổ sức khỏe điện tử đã tích hợp trên VNeID",
            "Electronic health books integrated on VNeID",
        ),
        indicator(
            "civil_registration.online",
            "justice",
            IndicatorKind::Flow,
            "Đăng ký hộ tịch trực tuyến",
            "Online civil registrations",
        ),
    ])
}

fn bound(indicator: &str, at_most: &str) -> CrossAgencyBound {
    CrossAgencyBound {
        indicator: indicator.into(),
        at_most: at_most.into(),
    }
}

fn rules() -> Vec<CrossAgencyBound> {
    vec![
        bound("bhyt.cards.integrated", "vneid.l2.activated"),
        bound("health_book.integrated", "vneid.l2.activated"),
    ]
}

#[test]
fn the_bounds_parse_from_the_compliance_files_tables() {
    #[derive(Deserialize)]
    struct File {
        cross_agency_bounds: Vec<CrossAgencyBound>,
    }
    let file: File = toml::from_str(
        r#"
[[cross_agency_bounds]]
indicator = "bhyt.cards.integrated"
at_most = "vneid.l2.activated"
"#,
    )
    .unwrap();
    assert_eq!(file.cross_agency_bounds, rules()[..1]);
    assert_eq!(
        file.cross_agency_bounds[0].key(),
        "bhyt.cards.integrated<=vneid.l2.activated"
    );
    // A misspelt key is refused, not ignored.
    assert!(
        toml::from_str::<File>(
            "[[cross_agency_bounds]]\nindicator = \"a\"\nat_most = \"b\"\natmost = \"c\"\n"
        )
        .is_err()
    );
}

#[test]
fn bounds_are_checked_against_the_catalog() {
    assert!(check_bounds(&rules(), &catalog()).is_empty());
    let problems = check_bounds(
        &[
            bound("bhyt.cards.integrated", "vneid.l2.nothing"),
            bound("vneid.l2.activated", "vneid.l2.created"),
            bound("civil_registration.online", "vneid.l2.activated"),
            bound("bhyt.cards.integrated", "vneid.l2.activated"),
            bound("bhyt.cards.integrated", "vneid.l2.activated"),
        ],
        &catalog(),
    );
    assert_eq!(
        problems,
        [
            "cross_agency_bounds[0] (bhyt.cards.integrated<=vneid.l2.nothing): unknown indicator \"vneid.l2.nothing\"",
            "cross_agency_bounds[1] (vneid.l2.activated<=vneid.l2.created): both indicators are police's (the agency's own rule book covers that)",
            "cross_agency_bounds[2] (civil_registration.online<=vneid.l2.activated): civil_registration.online is not a stock",
            "cross_agency_bounds[4] (bhyt.cards.integrated<=vneid.l2.activated): the same bound twice",
        ]
    );
}

#[test]
fn a_report_touches_the_rules_of_either_side_once_per_locality() {
    let rules = rules();
    // A health report: both its indicators, two communes.
    let health = touched(
        &rules,
        [
            ("bhyt.cards.integrated", 1),
            ("health_book.integrated", 1),
            ("bhyt.cards.integrated", 2),
            ("pension.recipients", 2),
        ],
    );
    let keys: Vec<(String, i64)> = health.iter().map(|(r, l)| (r.key(), *l)).collect();
    assert_eq!(
        keys,
        [
            ("bhyt.cards.integrated<=vneid.l2.activated".into(), 1),
            ("health_book.integrated<=vneid.l2.activated".into(), 1),
            ("bhyt.cards.integrated<=vneid.l2.activated".into(), 2),
        ]
    );
    // A police report: its bound is in both rules.
    let police = touched(
        &rules,
        [
            ("vneid.l2.created", 7),
            ("vneid.l2.activated", 7),
            ("vneid.l2.activated", 7),
        ],
    );
    assert_eq!(police.len(), 2);
    assert!(touched(&rules, [("cccd.cards.issued", 7)]).is_empty());
}

fn figures(list: &[(&str, i64, f64, i64)]) -> HashMap<(String, i64), InForce> {
    list.iter()
        .map(|&(code, locality, value, report_id)| {
            ((code.to_owned(), locality), InForce { value, report_id })
        })
        .collect()
}

#[test]
fn a_bounded_figure_above_the_other_agencys_breaks_the_bound_in_either_direction() {
    let rules = rules();
    let pairs = touched(&rules, [("bhyt.cards.integrated", 1)]);
    // Health's 1,200 against police's 1,000: broken, both figures and reports named.
    let in_force = figures(&[
        ("bhyt.cards.integrated", 1, 1_200.0, 13),
        ("vneid.l2.activated", 1, 1_000.0, 12),
    ]);
    let verdicts = judge(&pairs, |code, l| {
        in_force.get(&(code.to_owned(), l)).copied()
    });
    assert_eq!(
        verdicts[0].breach,
        Some(Breach {
            value: InForce {
                value: 1_200.0,
                report_id: 13
            },
            bound: InForce {
                value: 1_000.0,
                report_id: 12
            },
        })
    );
    // Police's later 1,300 lifts the bound: it holds. Equal holds too (at most).
    for police in [1_300.0, 1_200.0] {
        let in_force = figures(&[
            ("bhyt.cards.integrated", 1, 1_200.0, 13),
            ("vneid.l2.activated", 1, police, 14),
        ]);
        let pairs = touched(&rules, [("vneid.l2.activated", 1)]);
        let verdicts = judge(&pairs, |code, l| {
            in_force.get(&(code.to_owned(), l)).copied()
        });
        assert_eq!(verdicts.len(), 2);
        assert!(verdicts.iter().all(|v| v.breach.is_none()), "{verdicts:?}");
    }
    // A lower police figure breaks a bound the health figure kept before.
    let in_force = figures(&[
        ("health_book.integrated", 1, 900.0, 13),
        ("vneid.l2.activated", 1, 800.0, 15),
    ]);
    let pairs = touched(&rules, [("vneid.l2.activated", 1)]);
    let verdicts = judge(&pairs, |code, l| {
        in_force.get(&(code.to_owned(), l)).copied()
    });
    let broken: Vec<&str> = verdicts
        .iter()
        .filter(|v| v.breach.is_some())
        .map(|v| v.rule.indicator.as_str())
        .collect();
    assert_eq!(broken, ["health_book.integrated"]);
}

#[test]
fn nothing_is_judged_without_both_figures() {
    let rules = rules();
    let pairs = touched(
        &rules,
        [("bhyt.cards.integrated", 1), ("bhyt.cards.integrated", 2)],
    );
    let in_force = figures(&[
        ("bhyt.cards.integrated", 1, 1_200.0, 13),
        ("bhyt.cards.integrated", 2, f64::NAN, 13),
        ("vneid.l2.activated", 2, 10.0, 12),
    ]);
    let verdicts = judge(&pairs, |code, l| {
        in_force.get(&(code.to_owned(), l)).copied()
    });
    assert_eq!(verdicts.len(), 2);
    assert!(verdicts.iter().all(|v| v.breach.is_none()));
}

#[test]
fn the_messages_name_both_figures_both_reports_and_the_locality() {
    let rules = rules();
    let breach = Breach {
        value: InForce {
            value: 1_200.0,
            report_id: 13,
        },
        bound: InForce {
            value: 1_000.0,
            report_id: 12,
        },
    };
    let (vi, en) = describe(&rules[0], &breach, &catalog(), "Xã Hà Đông", "23680");
    assert_eq!(
        vi,
        "Thẻ BHYT đã tích hợp trên VNeID 1.200 (BHXH / Y tế, reports/13) > tài khoản định danh \
         điện tử mức 2 đã kích hoạt 1.000 (Công an, reports/12) tại xã Hà Đông (23680)"
    );
    assert_eq!(
        en,
        "Health-insurance (BHYT) cards integrated on VNeID 1200 (health, reports/13) exceeds \
         level-2 e-ID accounts activated 1000 (police, reports/12) in Xã Hà Đông (23680)"
    );
}
