//! An agency's workbook as a report, shared by `p06 submit` / `p06 template` and the web page's
//! upload: the agency's columns (from the agency services' own field tables and the catalog's
//! names), the information sheet (province, obligation, period, narrative), the localities checked
//! against the catalog, every problem pointed at its cell, and the agency's request with the
//! aggregator's `SubmitReport` it becomes.
//!
//! Nothing here calls a server except [`AgencyReport::send`]: callers read the catalog over gRPC
//! their own way (the command line with its connection, the web page with the session's token)
//! and hand the answers in.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use p06_domain::report::FieldViolation;
use p06_kit::agency::{Envelope, Field};
use p06_proto::aggregation::{Locality, LocalityLevel, Receipt, SubmitReportRequest};
use p06_proto::common::{LocalityRef, Narrative, Period};
use p06_workbook::{Cell, CellRef, Column, Grid, Kind, Problem, Record, Schema, Value, Workbook};
use tonic::Status;
use tonic::metadata::MetadataMap;
use tonic::transport::Channel;

pub mod template;

/// The three reporting agencies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Agency {
    Police,
    Health,
    Justice,
}

impl Agency {
    pub const ALL: [Agency; 3] = [Agency::Police, Agency::Health, Agency::Justice];

    /// `police`, `health`, `justice`: the tokens' and obligations' agency codes.
    pub fn code(self) -> &'static str {
        match self {
            Agency::Police => "police",
            Agency::Health => "health",
            Agency::Justice => "justice",
        }
    }

    pub fn parse(code: &str) -> Option<Agency> {
        Agency::ALL.into_iter().find(|a| a.code() == code)
    }

    /// The figure fields of the agency's report (its service's own table).
    pub fn fields(self) -> &'static [Field] {
        match self {
            Agency::Police => p06_police::FIELDS,
            Agency::Health => p06_health::FIELDS,
            Agency::Justice => p06_justice::FIELDS,
        }
    }
}

/// The information sheet's rows (the template writes them; a hand-made sheet may have them).
pub const INFO_KEYS: &[(&str, &[&str])] = &[
    ("edition", &["Bộ mã đơn vị hành chính", "Phiên bản"]),
    ("province", &["Tỉnh", "Mã tỉnh"]),
    ("agency", &["Cơ quan báo cáo", "Cơ quan"]),
    ("obligation", &["Nghĩa vụ báo cáo", "Chế độ báo cáo"]),
    ("period_start", &["Từ ngày", "Kỳ báo cáo từ ngày"]),
    ("period_end", &["Đến ngày", "Kỳ báo cáo đến ngày"]),
    ("due_date", &["Hạn chỉ tiêu", "Hạn hoàn thành"]),
    ("results", &["Kết quả", "Kết quả thực hiện"]),
    ("assessment", &["Đánh giá"]),
    ("obstacles", &["Khó khăn vướng mắc", "Khó khăn, vướng mắc"]),
    ("proposals", &["Đề xuất", "Đề xuất, kiến nghị"]),
];

/// Headers a clerk keeps beside the figures, passed over.
pub const IGNORED: &[&str] = &[
    "name",
    "district",
    "Tên đơn vị",
    "Tên xã",
    "Huyện",
    "Quận, huyện",
    "Ghi chú",
];

/// The locality code column, by any of the names clerks give it.
pub fn key_column() -> Column {
    Column::new(
        "locality_code",
        Kind::Text,
        &[
            "Mã đơn vị",
            "Mã xã",
            "Mã ĐVHC",
            "Mã địa bàn",
            "Mã huyện",
            "Mã đơn vị hành chính",
            "code",
            "Mã",
        ],
    )
}

/// Names clerks give the figures besides the catalog's (the catalog's own names always work).
const ALIASES: &[(&str, &[&str])] = &[
    (
        "residents.permanent",
        &["Dân số thường trú", "Số dân thường trú", "Dân số"],
    ),
    (
        "cccd.cards.issued",
        &["Thẻ căn cước đã cấp", "Số thẻ CCCD đã cấp", "CCCD đã cấp"],
    ),
];

/// Indicator code → (Vietnamese name, English name), from the catalog.
pub type IndicatorNames = HashMap<String, (String, String)>;

/// The agency's columns: each field recognised by its name, its indicator code, and the
/// indicator's Vietnamese and English names from the catalog.
pub fn agency_schema(fields: &[Field], names: &IndicatorNames) -> Schema {
    Schema {
        key: key_column(),
        columns: fields
            .iter()
            .map(|f| {
                let mut labels = vec![f.name.to_owned(), f.indicator.to_owned()];
                if let Some((vi, en)) = names.get(f.indicator) {
                    labels.push(vi.clone());
                    labels.push(en.clone());
                }
                for (indicator, aliases) in ALIASES {
                    if *indicator == f.indicator {
                        labels.extend(aliases.iter().map(|a| (*a).to_owned()));
                    }
                }
                Column {
                    key: f.name.to_owned(),
                    labels,
                    kind: if f.percent {
                        Kind::Percent
                    } else {
                        Kind::Count
                    },
                }
            })
            .collect(),
        ignored: IGNORED.iter().map(|s| (*s).to_owned()).collect(),
        unique: None,
    }
}

/// The unit of a level in words: ("xã", "commune").
pub fn unit_names(level: LocalityLevel) -> (&'static str, &'static str) {
    match level {
        LocalityLevel::Commune => ("xã", "commune"),
        LocalityLevel::District => ("huyện", "district"),
        _ => ("đơn vị", "unit"),
    }
}

/// The agency's report table at an obligation's level: each locality once.
pub fn report_schema(agency: Agency, names: &IndicatorNames, level: LocalityLevel) -> Schema {
    let mut schema = agency_schema(agency.fields(), names);
    let (vi, en) = unit_names(level);
    schema.unique = Some((vi.to_owned(), en.to_owned()));
    schema
}

/// An obligation's `level` (`commune`, `district`, `province`) as the catalog's level.
pub fn level_of(level: &str) -> Option<LocalityLevel> {
    match level {
        "commune" => Some(LocalityLevel::Commune),
        "district" => Some(LocalityLevel::District),
        "province" => Some(LocalityLevel::Province),
        _ => None,
    }
}

/// The information sheet's values by key, with their cells.
pub type Info = HashMap<String, (Cell, CellRef)>;

/// The information sheet's values: from the first sheet other than the data sheet that has any.
pub fn info(book: &Workbook, data: &Grid) -> Info {
    for grid in book.sheets.iter().filter(|g| g.sheet != data.sheet) {
        let found = p06_workbook::template::read_info(grid, INFO_KEYS);
        if !found.is_empty() {
            return found;
        }
    }
    HashMap::new()
}

/// A text value of the information sheet, blank as `None`.
pub fn info_text(info: &Info, key: &str) -> Option<String> {
    info.get(key)
        .map(|(c, _)| c.shown())
        .filter(|s| !s.trim().is_empty())
}

/// A date of the information sheet: `None` when absent; a cell that is not a date adds a problem.
pub fn info_date(info: &Info, key: &str, problems: &mut Vec<Problem>) -> Option<NaiveDate> {
    let (cell, at) = info.get(key)?;
    match p06_workbook::value_of(cell, Kind::Date) {
        Ok(Some(Value::Date(d))) => Some(d),
        Ok(_) => None,
        Err(kind) => {
            problems.push(Problem::new(at.clone(), kind));
            None
        }
    }
}

/// The narrative: each text given (command line, form) or else the information sheet's; the
/// template's "Kết quả" (results) goes before the assessment, both in the assessment.
pub fn narrative(info: &Info, assessment: &str, obstacles: &str, proposals: &str) -> Narrative {
    let text = |given: &str, key: &str| {
        if given.is_empty() {
            info_text(info, key).unwrap_or_default()
        } else {
            given.to_owned()
        }
    };
    let assessment = match (info_text(info, "results"), text(assessment, "assessment")) {
        (Some(results), a) if assessment.is_empty() && !a.is_empty() => format!("{results}\n{a}"),
        (Some(results), a) if assessment.is_empty() && a.is_empty() => results,
        (_, a) => a,
    };
    Narrative {
        assessment,
        obstacles: text(obstacles, "obstacles"),
        proposals: text(proposals, "proposals"),
    }
}

/// The idempotency key of a file's submission: its content (the same file again stores nothing
/// new), and an amendment is another report.
pub fn request_id(bytes: &[u8], data_sheet: &str, amend: bool) -> String {
    use sha2::Digest as _;
    let mut hasher = sha2::Sha256::new();
    hasher.update(bytes);
    if amend {
        hasher.update(b"\nmode=amend");
    }
    let kind = if data_sheet.to_lowercase().ends_with(".csv") {
        "csv"
    } else {
        "xlsx"
    };
    format!("{kind}-{}", hex::encode(&hasher.finalize()[..12]))
}

/// Each record's key resolved to a code of `known` (a number cell loses leading zeros: 4 is
/// 00004), or a problem naming the cell: `Sheet1!A12: commune 99999 is not in province 64`.
pub fn resolve_codes(
    records: &mut [Record],
    known: &[Locality],
    province: &str,
    level: LocalityLevel,
    problems: &mut Vec<Problem>,
) {
    let codes: HashSet<&str> = known.iter().map(|l| l.code.as_str()).collect();
    let by_number: HashMap<&str, &str> = known
        .iter()
        .map(|l| (l.code.trim_start_matches('0'), l.code.as_str()))
        .collect();
    let (unit_vi, unit_en) = unit_names(level);
    for record in records.iter_mut() {
        if codes.contains(record.key.as_str()) {
            continue;
        }
        let digits = record.key.trim_start_matches('0');
        if record.key.bytes().all(|b| b.is_ascii_digit())
            && let Some(code) = by_number.get(digits)
        {
            record.key = (*code).to_owned();
            continue;
        }
        problems.push(Problem::other(
            record.key_cell.clone(),
            format!("{unit_vi} {} không thuộc tỉnh {province}", record.key),
            format!("{unit_en} {} is not in province {province}", record.key),
        ));
    }
}

/// Problems in the order of their cells, each once.
pub fn in_cell_order(mut problems: Vec<Problem>) -> Vec<Problem> {
    problems.sort_by(|a, b| {
        (&a.cell.sheet, a.cell.row, a.cell.col).cmp(&(&b.cell.sheet, b.cell.row, b.cell.col))
    });
    problems.dedup();
    problems
}

/// Refusals naming `localities[i].field` (the agency's rule book, from its service or from
/// [`AgencyReport::to_ingest`]) pointed at the cell they came from; empty when any names
/// something else (the caller then shows the refusal as it is).
pub fn problems_at_cells(
    violations: impl IntoIterator<Item = (String, String)>,
    records: &[Record],
) -> Vec<Problem> {
    let mut problems = Vec::new();
    for (field, description) in violations {
        let Some(rest) = field.strip_prefix("localities[") else {
            return Vec::new();
        };
        let Some((index, name)) = rest.split_once("].") else {
            return Vec::new();
        };
        let Some(record) = index.parse::<usize>().ok().and_then(|i| records.get(i)) else {
            return Vec::new();
        };
        let cell = record
            .cell(name)
            .cloned()
            .unwrap_or_else(|| record.key_cell.clone());
        problems.push(Problem::other(cell, description.clone(), description));
    }
    problems
}

/// [`problems_at_cells`] of a refusal's field violations.
pub fn violations_at_cells(status: &Status, records: &[Record]) -> Vec<Problem> {
    problems_at_cells(p06_kit::status::field_violations(status), records)
}

/// [`problems_at_cells`] of the agency's own rule book.
pub fn field_violations_at_cells(
    violations: &[FieldViolation],
    records: &[Record],
) -> Vec<Problem> {
    problems_at_cells(
        violations
            .iter()
            .map(|v| (v.field.clone(), v.description.clone())),
        records,
    )
}

/// What every report of a workbook carries besides its figures.
#[derive(Debug, Clone)]
pub struct Head {
    pub request_id: String,
    pub obligation: String,
    pub province: LocalityRef,
    pub period_start: NaiveDate,
    pub period_end: NaiveDate,
    pub narrative: Narrative,
    /// `p06.aggregation.v1.RevisionMode`.
    pub mode: i32,
}

/// The report in the agency's own terms: the request its reporting service takes.
#[derive(Debug, Clone)]
pub enum AgencyReport {
    Police(p06_proto::police::SubmitIdentityReportRequest),
    Health(p06_proto::health::SubmitHealthReportRequest),
    Justice(p06_proto::justice::SubmitCivilStatusReportRequest),
}

/// A figure of a record as the agency's whole count.
fn count(record: &Record, field: &str) -> Option<i64> {
    match record.get(field) {
        Some(Value::Count(c)) => Some(*c),
        Some(v) => v.as_f64().map(|v| v as i64),
        None => None,
    }
}

/// The records of a checked workbook (keys resolved to catalog codes) as the agency's request.
pub fn agency_report(agency: Agency, records: &[Record], head: Head) -> AgencyReport {
    let province = Some(head.province);
    let period = Some(Period {
        start: Some(p06_kit::convert::date_to_proto(head.period_start)),
        end: Some(p06_kit::convert::date_to_proto(head.period_end)),
    });
    let narrative = Some(head.narrative);
    match agency {
        Agency::Police => {
            use p06_proto::police::{IdentityFigures, SubmitIdentityReportRequest};
            let localities = records
                .iter()
                .map(|row| {
                    let f = |name| count(row, name);
                    IdentityFigures {
                        locality_code: row.key.clone(),
                        permanent_residents: f("permanent_residents"),
                        vneid_level1_created: f("vneid_level1_created"),
                        vneid_level2_created: f("vneid_level2_created"),
                        vneid_level2_activated: f("vneid_level2_activated"),
                        vneid_profiles_collected: f("vneid_profiles_collected"),
                        cccd_applications_collected: f("cccd_applications_collected"),
                        cccd_cards_issued: f("cccd_cards_issued"),
                        eligible_without_cccd: f("eligible_without_cccd"),
                        signatures_initiated: f("signatures_initiated"),
                        signatures_completed: f("signatures_completed"),
                        signatures_pending: f("signatures_pending"),
                    }
                })
                .collect();
            AgencyReport::Police(SubmitIdentityReportRequest {
                request_id: head.request_id,
                obligation: head.obligation,
                province,
                period,
                localities,
                narrative,
                mode: head.mode,
            })
        }
        Agency::Health => {
            use p06_proto::health::{HealthFigures, SubmitHealthReportRequest};
            let localities = records
                .iter()
                .map(|row| {
                    let f = |name| count(row, name);
                    HealthFigures {
                        locality_code: row.key.clone(),
                        bhyt_cards_integrated: f("bhyt_cards_integrated"),
                        health_books_integrated: f("health_books_integrated"),
                        facilities_accepting_cccd: f("facilities_accepting_cccd"),
                        facilities_total: f("facilities_total"),
                        pension_recipients_cashless: f("pension_recipients_cashless"),
                        pension_recipients: f("pension_recipients"),
                        social_security_accounts: f("social_security_accounts"),
                        pension_cashless_urban_percent: row
                            .get("pension_cashless_urban_percent")
                            .and_then(Value::as_f64),
                    }
                })
                .collect();
            AgencyReport::Health(SubmitHealthReportRequest {
                request_id: head.request_id,
                obligation: head.obligation,
                province,
                period,
                localities,
                narrative,
                mode: head.mode,
            })
        }
        Agency::Justice => {
            use p06_proto::justice::{CivilStatusFigures, SubmitCivilStatusReportRequest};
            let localities = records
                .iter()
                .map(|row| {
                    let f = |name| count(row, name);
                    CivilStatusFigures {
                        locality_code: row.key.clone(),
                        records_digitized: f("records_digitized"),
                        records_backlog: f("records_backlog"),
                        registrations_total: f("registrations_total"),
                        registrations_online: f("registrations_online"),
                        registrations_interlinked: f("registrations_interlinked"),
                    }
                })
                .collect();
            AgencyReport::Justice(SubmitCivilStatusReportRequest {
                request_id: head.request_id,
                obligation: head.obligation,
                province,
                period,
                localities,
                narrative,
                mode: head.mode,
            })
        }
    }
}

impl AgencyReport {
    pub fn agency(&self) -> Agency {
        match self {
            AgencyReport::Police(_) => Agency::Police,
            AgencyReport::Health(_) => Agency::Health,
            AgencyReport::Justice(_) => Agency::Justice,
        }
    }

    /// The aggregator's `SubmitReport` that the agency's service would forward: the service's own
    /// mapping and rule book (`p06_police::observations` …), so the page that submits straight to
    /// the aggregator sends exactly what `p06 submit` makes arrive there. A breach is refused here
    /// with the agency's field names (`localities[3].vneid_level2_activated`).
    pub fn to_ingest(&self) -> Result<SubmitReportRequest, Vec<FieldViolation>> {
        macro_rules! envelope {
            ($req:expr, $agency:expr) => {
                Envelope {
                    agency: $agency,
                    request_id: $req.request_id.clone(),
                    obligation: $req.obligation.clone(),
                    province: $req.province.clone(),
                    period: $req.period,
                    narrative: $req.narrative.clone(),
                    mode: $req.mode,
                }
            };
        }
        Ok(match self {
            AgencyReport::Police(r) => {
                envelope!(r, "police").into_request(p06_police::observations(&r.localities)?)
            }
            AgencyReport::Health(r) => {
                envelope!(r, "health").into_request(p06_health::observations(&r.localities)?)
            }
            AgencyReport::Justice(r) => {
                envelope!(r, "justice").into_request(p06_justice::observations(&r.localities)?)
            }
        })
    }

    /// Sends the report to the agency's reporting service on `channel` with `metadata` (the
    /// caller's token), as `p06 submit` does; the service forwards it to the aggregator.
    pub async fn send(self, channel: Channel, metadata: MetadataMap) -> Result<Receipt, Status> {
        use tonic::{Extensions, Request};
        Ok(match self {
            AgencyReport::Police(r) => {
                p06_proto::police::police_reporting_service_client::PoliceReportingServiceClient::new(channel)
                    .submit_identity_report(Request::from_parts(metadata, Extensions::default(), r))
                    .await?
            }
            AgencyReport::Health(r) => {
                p06_proto::health::health_reporting_service_client::HealthReportingServiceClient::new(channel)
                    .submit_health_report(Request::from_parts(metadata, Extensions::default(), r))
                    .await?
            }
            AgencyReport::Justice(r) => {
                p06_proto::justice::justice_reporting_service_client::JusticeReportingServiceClient::new(channel)
                    .submit_civil_status_report(Request::from_parts(metadata, Extensions::default(), r))
                    .await?
            }
        }
        .into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use p06_workbook::{Totals, open, read_table_with};

    fn names() -> IndicatorNames {
        [(
            "vneid.l2.activated".to_owned(),
            (
                "Số tài khoản định danh mức 2 đã kích hoạt".to_owned(),
                "Level-2 accounts activated".to_owned(),
            ),
        )]
        .into_iter()
        .collect()
    }

    #[test]
    fn a_sheet_becomes_the_agency_request_and_the_aggregators() {
        let csv = "Mã xã,Tên xã,Số tài khoản định danh mức 2 đã kích hoạt,vneid.l2.created\n\
                   23680,Xã Hà Đông,109,200\n00004,Xã Bốn,5,\nTổng cộng,,114,200\n";
        let book = open(csv.as_bytes(), "tuan.csv").unwrap();
        let schema = report_schema(Agency::Police, &names(), LocalityLevel::Commune);
        let mut table = read_table_with(&book.sheets[0], &schema, Totals::Check);
        assert!(table.problems.is_empty(), "{:?}", table.problems);
        let known = [
            Locality {
                code: "23680".into(),
                ..Default::default()
            },
            Locality {
                code: "4".into(),
                ..Default::default()
            },
        ];
        let mut problems = Vec::new();
        resolve_codes(
            &mut table.records,
            &known,
            "64",
            LocalityLevel::Commune,
            &mut problems,
        );
        assert!(problems.is_empty());
        let head = Head {
            request_id: request_id(csv.as_bytes(), "tuan.csv", false),
            obligation: "police-weekly-identity".into(),
            province: LocalityRef {
                edition: "2024".into(),
                code: "64".into(),
            },
            period_start: NaiveDate::from_ymd_opt(2025, 3, 10).unwrap(),
            period_end: NaiveDate::from_ymd_opt(2025, 3, 16).unwrap(),
            narrative: Narrative::default(),
            mode: 0,
        };
        assert!(head.request_id.starts_with("csv-"));
        let report = agency_report(Agency::Police, &table.records, head);
        let ingest = report.to_ingest().unwrap();
        assert_eq!(ingest.agency, "police");
        let mut seen: Vec<(String, String, f64)> = ingest
            .observations
            .iter()
            .map(|o| (o.indicator_code.clone(), o.locality_code.clone(), o.value))
            .collect();
        seen.sort_by(|a, b| a.partial_cmp(b).unwrap());
        assert_eq!(
            seen,
            [
                ("vneid.l2.activated".into(), "23680".into(), 109.0),
                ("vneid.l2.activated".into(), "4".into(), 5.0),
                ("vneid.l2.created".into(), "23680".into(), 200.0),
            ]
        );
    }

    #[test]
    fn a_breach_of_the_rule_book_points_at_its_cell() {
        let csv = "locality_code,vneid_level2_created,vneid_level2_activated\n23680,5,500\n";
        let book = open(csv.as_bytes(), "tuan.csv").unwrap();
        let schema = report_schema(Agency::Police, &names(), LocalityLevel::Commune);
        let table = read_table_with(&book.sheets[0], &schema, Totals::Check);
        let head = Head {
            request_id: "r".into(),
            obligation: "o".into(),
            province: LocalityRef::default(),
            period_start: NaiveDate::from_ymd_opt(2025, 3, 10).unwrap(),
            period_end: NaiveDate::from_ymd_opt(2025, 3, 16).unwrap(),
            narrative: Narrative::default(),
            mode: 0,
        };
        let violations = agency_report(Agency::Police, &table.records, head)
            .to_ingest()
            .unwrap_err();
        let problems = field_violations_at_cells(&violations, &table.records);
        assert_eq!(problems.len(), 1);
        assert!(
            problems[0]
                .en()
                .starts_with("tuan.csv!C2: in locality 23680"),
            "{}",
            problems[0].en()
        );
    }

    #[test]
    fn the_narrative_comes_from_the_sheet_unless_given() {
        let mut info = Info::new();
        let at = CellRef::new("Thuyết minh", 0, 1);
        info.insert(
            "results".into(),
            (Cell::Text("Đạt 71 %".into()), at.clone()),
        );
        info.insert("proposals".into(), (Cell::Text("Tăng cường".into()), at));
        let n = narrative(&info, "", "", "");
        assert_eq!(n.assessment, "Đạt 71 %");
        assert_eq!(n.proposals, "Tăng cường");
        assert_eq!(narrative(&info, "", "", "Khác").proposals, "Khác");
        assert_eq!(Agency::parse("health"), Some(Agency::Health));
        assert_eq!(level_of("district"), Some(LocalityLevel::District));
    }
}
