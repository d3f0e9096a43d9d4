//! Generated figures: deterministic, realistic and consistent with the agency invariants.
//!
//! Each commune gets a population (2,000–22,000 permanent residents) and per-indicator shares from
//! a hash of its position; adoption grows with the week (`adoption`), so every stock is
//! non-decreasing from one week to the next and every invariant holds: level-2 activated ≤ created
//! ≤ residents, signatures completed ≤ initiated, cards issued ≤ applications, facilities
//! accepting chip cards ≤ facilities, cashless pension recipients ≤ recipients, digitized ≤ backlog,
//! online ≤ all registrations (a weekly flow).

use chrono::{Datelike, Duration, NaiveDate};
use p06_kit::agency::Envelope;
use p06_proto::aggregation::{Observation, RevisionMode, SubmitReportRequest};
use p06_proto::common::{LocalityRef, Narrative, Period};
use p06_proto::health::{HealthFigures, SubmitHealthReportRequest};
use p06_proto::justice::{CivilStatusFigures, SubmitCivilStatusReportRequest};
use p06_proto::police::{IdentityFigures, SubmitIdentityReportRequest};

use crate::world::{Commune, EDITION, Province};

/// The reporting agencies and their weekly obligations (as written to the bench's compliance file).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Agency {
    Police,
    Health,
    Justice,
}

impl Agency {
    pub const ALL: [Agency; 3] = [Agency::Police, Agency::Health, Agency::Justice];

    pub fn name(self) -> &'static str {
        match self {
            Agency::Police => "police",
            Agency::Health => "health",
            Agency::Justice => "justice",
        }
    }

    pub fn obligation(self) -> &'static str {
        match self {
            Agency::Police => "police-weekly-identity",
            Agency::Health => "health-weekly",
            Agency::Justice => "justice-weekly",
        }
    }

    /// The indicators the agency reports for every commune: 9 + 7 + 4 = the 20 of the data set.
    pub fn indicators(self) -> &'static [&'static str] {
        match self {
            Agency::Police => &[
                "residents.permanent",
                "vneid.l1.created",
                "vneid.l2.created",
                "vneid.l2.activated",
                "vneid.profiles.collected",
                "cccd.applications.collected",
                "cccd.cards.issued",
                "signature.initiated",
                "signature.completed",
            ],
            Agency::Health => &[
                "bhyt.cards.integrated",
                "health_book.integrated",
                "facilities.accepting_cccd",
                "facilities.total",
                "pension.cashless.recipients",
                "pension.recipients",
                "social_security.accounts",
            ],
            Agency::Justice => &[
                "civil_status.digitized",
                "civil_status.backlog",
                "civil_registration.online",
                "civil_registration.total",
            ],
        }
    }

    pub fn auth(self) -> p06_auth::Agency {
        match self {
            Agency::Police => p06_auth::Agency::Police,
            Agency::Health => p06_auth::Agency::Health,
            Agency::Justice => p06_auth::Agency::Justice,
        }
    }
}

/// A weekly period, Monday to Sunday.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Week {
    pub start: NaiveDate,
    pub end: NaiveDate,
    /// Weeks since Monday 6 January 2020: drives adoption, so figures grow over time.
    pub index: i64,
}

impl Week {
    /// The week that ended `weeks_ago` weeks before the current one (1 = last complete week), in
    /// Vietnam's calendar (UTC+7 all year, no daylight saving). The bench reports in edition 2024,
    /// which the aggregator accepts only for periods ending by 30 June 2025, so after that date
    /// "the current week" is the one after edition 2024's last day (1 = 23–29 June 2025).
    pub fn ago(weeks_ago: u32) -> Week {
        let today = (chrono::Utc::now() + Duration::hours(7)).date_naive();
        let last_day = p06_domain::edition::builtin()
            .into_iter()
            .find(|e| e.edition.as_str() == crate::world::EDITION)
            .and_then(|e| e.valid_until);
        let today = match last_day {
            Some(last) if today > last => last + Duration::days(1),
            _ => today,
        };
        let monday = today - Duration::days(i64::from(today.weekday().num_days_from_monday()));
        Week::starting(monday - Duration::weeks(i64::from(weeks_ago)))
    }

    pub fn starting(start: NaiveDate) -> Week {
        let epoch = NaiveDate::from_ymd_opt(2020, 1, 6).expect("a Monday");
        Week {
            start,
            end: start + Duration::days(6),
            index: (start - epoch).num_weeks(),
        }
    }

    pub fn period(&self) -> Period {
        Period {
            start: Some(p06_kit::convert::date_to_proto(self.start)),
            end: Some(p06_kit::convert::date_to_proto(self.end)),
        }
    }
}

/// A stable pseudo-random number in [0, 1) for (commune, salt).
fn unit(seed: u64, salt: u64) -> f64 {
    // splitmix64
    let mut z = seed
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(salt.wrapping_mul(0xBF58_476D_1CE4_E5B9));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

/// Share of the population reached by week `index`: from ≈ 20 % in 2020 towards 95 %, at a pace
/// of the commune's own.
fn adoption(c: &Commune, week: &Week) -> f64 {
    let pace = 80.0 + 80.0 * unit(c.seed, 1);
    0.2 + 0.75 * (1.0 - (-(week.index.max(0) as f64) / pace).exp())
}

fn residents(c: &Commune) -> i64 {
    2_000 + (20_000.0 * unit(c.seed, 2)) as i64
}

fn share(total: i64, fraction: f64) -> i64 {
    ((total as f64) * fraction.clamp(0.0, 1.0)).floor() as i64
}

pub fn police(c: &Commune, week: &Week) -> IdentityFigures {
    let people = residents(c);
    let a = adoption(c, week);
    let l2_created = share(people, a * (0.80 + 0.15 * unit(c.seed, 3)));
    let applications = share(people, (a + 0.1).min(1.0));
    let initiated = share(people, a * 0.12);
    IdentityFigures {
        locality_code: c.code.clone(),
        permanent_residents: Some(people),
        vneid_level1_created: Some(share(people, a * 0.97)),
        vneid_level2_created: Some(l2_created),
        vneid_level2_activated: Some(share(l2_created, 0.70 + 0.25 * a)),
        vneid_profiles_collected: Some(share(people, (a * 1.05).min(1.0))),
        cccd_applications_collected: Some(applications),
        cccd_cards_issued: Some(share(applications, 0.85 + 0.1 * a)),
        eligible_without_cccd: None,
        signatures_initiated: Some(initiated),
        signatures_completed: Some(share(initiated, 0.5 + 0.4 * a)),
        signatures_pending: None,
    }
}

pub fn health(c: &Commune, week: &Week) -> HealthFigures {
    let people = residents(c);
    let a = adoption(c, week);
    let facilities = 1 + (4.0 * unit(c.seed, 4)) as i64;
    let pensioners = share(people, 0.04 + 0.04 * unit(c.seed, 5));
    HealthFigures {
        locality_code: c.code.clone(),
        bhyt_cards_integrated: Some(share(people, a * 0.9)),
        health_books_integrated: Some(share(people, a * 0.6)),
        facilities_accepting_cccd: Some(share(facilities, a + 0.2)),
        facilities_total: Some(facilities),
        pension_recipients_cashless: Some(share(pensioners, a)),
        pension_recipients: Some(pensioners),
        social_security_accounts: Some(share(people, a * 0.35)),
        pension_cashless_urban_percent: None,
    }
}

pub fn justice(c: &Commune, week: &Week) -> CivilStatusFigures {
    let people = residents(c);
    let a = adoption(c, week);
    let backlog = people + people / 2 + share(people, unit(c.seed, 6));
    // A weekly flow: this week's registrations, varying from week to week.
    let registrations = 3 + (25.0 * unit(c.seed ^ week.index as u64, 7)) as i64;
    CivilStatusFigures {
        locality_code: c.code.clone(),
        records_digitized: Some(share(backlog, a)),
        records_backlog: Some(backlog),
        registrations_total: Some(registrations),
        registrations_online: Some(share(registrations, a)),
        registrations_interlinked: None,
    }
}

/// A report of one agency about some communes of a province for one week, in the agency's terms.
pub enum AgencyReport {
    Police(SubmitIdentityReportRequest),
    Health(SubmitHealthReportRequest),
    Justice(SubmitCivilStatusReportRequest),
}

/// What a report names besides its figures.
pub struct ReportKey<'a> {
    pub agency: Agency,
    pub province: &'a Province,
    pub week: Week,
    pub request_id: String,
    /// Distinguishes revisions of one series (the narrative mentions it, so payloads differ).
    pub revision: u64,
}

fn narrative(key: &ReportKey<'_>, communes: usize) -> Narrative {
    let what = match key.agency {
        Agency::Police => "tài khoản định danh điện tử mức 2 đã kích hoạt",
        Agency::Health => "thẻ BHYT đã tích hợp trên VNeID",
        Agency::Justice => "dữ liệu hộ tịch đã số hóa",
    };
    Narrative {
        assessment: format!(
            "Tuần {} – {}: {communes} xã của {} báo cáo đủ {} chỉ tiêu; số {what} tăng so với tuần trước (lần gửi {}).",
            key.week.start,
            key.week.end,
            key.province.name,
            key.agency.indicators().len(),
            key.revision
        ),
        obstacles: "3 xã vùng sâu thiếu thiết bị thu nhận, đường truyền chập chờn.".into(),
        proposals: "Đề nghị bổ sung 2 máy thu nhận và 1 tổ lưu động trong tháng tới.".into(),
    }
}

pub fn agency_report(key: &ReportKey<'_>, communes: &[Commune]) -> AgencyReport {
    let province = Some(LocalityRef {
        edition: EDITION.into(),
        code: key.province.code.clone(),
    });
    let period = Some(key.week.period());
    let narrative = Some(narrative(key, communes.len()));
    let request_id = key.request_id.clone();
    let obligation = key.agency.obligation().to_owned();
    let week = &key.week;
    match key.agency {
        Agency::Police => AgencyReport::Police(SubmitIdentityReportRequest {
            request_id,
            obligation,
            province,
            period,
            localities: communes.iter().map(|c| police(c, week)).collect(),
            narrative,
            mode: RevisionMode::Replace.into(),
        }),
        Agency::Health => AgencyReport::Health(SubmitHealthReportRequest {
            request_id,
            obligation,
            province,
            period,
            localities: communes.iter().map(|c| health(c, week)).collect(),
            narrative,
            mode: RevisionMode::Replace.into(),
        }),
        Agency::Justice => AgencyReport::Justice(SubmitCivilStatusReportRequest {
            request_id,
            obligation,
            province,
            period,
            localities: communes.iter().map(|c| justice(c, week)).collect(),
            narrative,
            mode: RevisionMode::Replace.into(),
        }),
    }
}

/// The observations an agency service makes of its report (its own mapping code).
pub fn observations(report: &AgencyReport) -> Vec<Observation> {
    let mapped = match report {
        AgencyReport::Police(r) => p06_police::observations(&r.localities),
        AgencyReport::Health(r) => p06_health::observations(&r.localities),
        AgencyReport::Justice(r) => p06_justice::observations(&r.localities),
    };
    mapped.unwrap_or_else(|v| panic!("generated figures violate an invariant: {v:?}"))
}

/// The `SubmitReportRequest` the agency service forwards to the aggregator for this report.
pub fn forwarded(report: AgencyReport) -> SubmitReportRequest {
    let observations = observations(&report);
    let (agency, request_id, obligation, province, period, narrative, mode) = match report {
        AgencyReport::Police(r) => (
            "police",
            r.request_id,
            r.obligation,
            r.province,
            r.period,
            r.narrative,
            r.mode,
        ),
        AgencyReport::Health(r) => (
            "health",
            r.request_id,
            r.obligation,
            r.province,
            r.period,
            r.narrative,
            r.mode,
        ),
        AgencyReport::Justice(r) => (
            "justice",
            r.request_id,
            r.obligation,
            r.province,
            r.period,
            r.narrative,
            r.mode,
        ),
    };
    Envelope {
        agency,
        request_id,
        obligation,
        province,
        period,
        narrative,
        mode,
    }
    .into_request(observations)
}

/// The rows an agency's report about `communes` for `week` stores: (indicator, locality id, value).
pub fn rows(agency: Agency, communes: &[Commune], week: &Week) -> Vec<(String, i64, f64)> {
    let mut out = Vec::with_capacity(communes.len() * agency.indicators().len());
    for c in communes {
        let mapped = match agency {
            Agency::Police => p06_police::observations(&[police(c, week)]),
            Agency::Health => p06_health::observations(&[health(c, week)]),
            Agency::Justice => p06_justice::observations(&[justice(c, week)]),
        };
        let mapped =
            mapped.unwrap_or_else(|v| panic!("generated figures violate an invariant: {v:?}"));
        out.extend(
            mapped
                .into_iter()
                .map(|o| (o.indicator_code, c.id, o.value)),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn commune(seed: u64) -> Commune {
        Commune {
            id: 1,
            code: format!("{seed:05}"),
            seed,
        }
    }

    #[test]
    fn invariants_hold_and_stocks_grow() {
        for seed in 0..500 {
            let c = commune(seed);
            let mut previous: Option<Vec<(String, i64, f64)>> = None;
            for weeks_ago in (1..=260).rev().step_by(13) {
                let week = Week::ago(weeks_ago);
                let mut all = Vec::new();
                for agency in Agency::ALL {
                    let rows = rows(agency, std::slice::from_ref(&c), &week);
                    assert_eq!(rows.len(), agency.indicators().len());
                    all.extend(rows);
                }
                if let Some(prev) = &previous {
                    for (now, before) in all.iter().zip(prev) {
                        if !now.0.starts_with("civil_registration") {
                            assert!(now.2 >= before.2, "{} decreased", now.0);
                        }
                    }
                }
                previous = Some(all);
            }
        }
    }

    #[test]
    fn weeks_run_monday_to_sunday_in_the_past() {
        let w = Week::ago(1);
        assert_eq!(w.start.weekday(), chrono::Weekday::Mon);
        assert_eq!(w.end.weekday(), chrono::Weekday::Sun);
        assert!(w.end < (chrono::Utc::now() + Duration::hours(7)).date_naive());
        assert!(w.end <= NaiveDate::from_ymd_opt(2025, 6, 30).unwrap());
    }
}
