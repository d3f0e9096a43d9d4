//! The catalog, so nobody reads CSV or TOML files to learn the codes: `p06 indicators`,
//! `p06 obligations`, `p06 localities`.

use chrono::Weekday;
use p06_domain::obligation::ObligationSpec;
use p06_domain::schedule::{Cadence, DayCount};
use p06_proto::aggregation::admin_service_client::AdminServiceClient;
use p06_proto::aggregation::catalog_service_client::CatalogServiceClient;
use p06_proto::aggregation::{
    Indicator, IndicatorKind, ListIndicatorsRequest, ListLocalitiesRequest, ListObligationsRequest,
    Locality, LocalityLevel,
};
use serde_json::{Value, json};

use crate::client::Connection;
use crate::lang::{self, tr};
use crate::output::{self, Format};
use crate::rpc;

#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  p06 indicators --agency police\n  p06 indicators --format csv")]
pub struct IndicatorsArgs {
    #[command(flatten)]
    connection: Connection,
    /// Only this agency's indicators: police, health or justice.
    #[arg(long, value_name = "AGENCY", value_parser = ["police", "health", "justice"])]
    agency: Option<String>,
    /// Output format: table, json or csv.
    #[arg(long, value_enum, default_value = "table", value_name = "FORMAT")]
    format: Format,
}

/// Every indicator of the catalog, in the catalog's order.
pub async fn list_indicators(
    connection: &Connection,
    agency: Option<&str>,
) -> anyhow::Result<Vec<Indicator>> {
    let mut client = CatalogServiceClient::new(connection.channel(&connection.server).await?);
    let mut all = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = client
            .list_indicators(connection.request(ListIndicatorsRequest {
                agency: agency.unwrap_or_default().to_owned(),
                page_size: 1_000,
                page_token: page_token.clone(),
            })?)
            .await
            .map_err(connection.refused(rpc::LIST_INDICATORS, None))?
            .into_inner();
        all.extend(page.indicators);
        if page.next_page_token.is_empty() {
            return Ok(all);
        }
        page_token = page.next_page_token;
    }
}

/// Refuses indicator codes the catalog does not have, naming the closest ones, before any query
/// (the server would refuse them too, in its own words).
pub async fn check_indicator_codes(
    connection: &Connection,
    codes: &[String],
) -> anyhow::Result<()> {
    if codes.is_empty() {
        return Ok(());
    }
    let known = list_indicators(connection, None).await?;
    for code in codes {
        if known.iter().any(|i| &i.code == code) {
            continue;
        }
        let mut close: Vec<(usize, &str)> = known
            .iter()
            .map(|i| (edit_distance(code, &i.code), i.code.as_str()))
            .filter(|(d, _)| *d <= 3)
            .collect();
        close.sort();
        let suggestion = match close.first() {
            Some((_, c)) => tr(format!("; có phải {c}?"), format!("; did you mean {c}?")),
            None => String::new(),
        };
        return Err(crate::error::user(tr(
            format!(
                "không có chỉ số {code:?} trong danh mục{suggestion} (danh sách: p06 indicators)"
            ),
            format!("no indicator {code:?} in the catalog{suggestion} (the list: p06 indicators)"),
        )));
    }
    Ok(())
}

/// Levenshtein distance, for suggestions.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let current = row[j + 1];
            row[j + 1] = (previous + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(current + 1);
            previous = current;
        }
    }
    row[b.len()]
}

fn kind_code(kind: i32) -> &'static str {
    match IndicatorKind::try_from(kind) {
        Ok(IndicatorKind::Stock) => "stock",
        Ok(IndicatorKind::Flow) => "flow",
        _ => "",
    }
}

fn kind_words(kind: i32) -> &'static str {
    match kind_code(kind) {
        "stock" => tr("lũy kế", "cumulative"),
        "flow" => tr("trong kỳ", "per period"),
        _ => "—",
    }
}

pub async fn indicators(args: IndicatorsArgs) -> anyhow::Result<()> {
    let indicators = list_indicators(&args.connection, args.agency.as_deref()).await?;
    let records: Vec<Value> = indicators
        .iter()
        .map(|i| {
            json!({
                "code": i.code, "name_vi": i.name_vi, "name_en": i.name_en, "agency": i.agency,
                "kind": kind_code(i.kind), "unit": i.unit, "denominator_code": i.denominator_code,
            })
        })
        .collect();
    match args.format {
        Format::Json => output::json(&Value::Array(records)),
        Format::Csv => output::csv(
            &[
                "code",
                "name_vi",
                "name_en",
                "agency",
                "kind",
                "unit",
                "denominator_code",
            ],
            &records,
        ),
        Format::Table => {
            let mut table = vec![
                tr(
                    ["mã", "tên", "cơ quan", "loại", "đơn vị", "mẫu số"],
                    ["code", "name", "agency", "kind", "unit", "denominator"],
                )
                .map(String::from)
                .to_vec(),
            ];
            for i in &indicators {
                table.push(vec![
                    i.code.clone(),
                    tr(&i.name_vi, &i.name_en).clone(),
                    lang::agency(&i.agency),
                    kind_words(i.kind).to_owned(),
                    match i.unit.as_str() {
                        "percent" => "%".to_owned(),
                        _ => tr("số lượng", "count").to_owned(),
                    },
                    if i.denominator_code.is_empty() {
                        "—".into()
                    } else {
                        i.denominator_code.clone()
                    },
                ]);
            }
            output::table(&table)?;
            Ok(())
        }
    }
}

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  p06 obligations --province 52\n  p06 obligations --agency police --format json"
)]
pub struct ObligationsArgs {
    #[command(flatten)]
    connection: Connection,
    /// Only obligations binding this province (its code in --edition), e.g. 52.
    #[arg(long, value_name = "CODE")]
    province: Option<String>,
    /// Only this agency's obligations: police, health or justice.
    #[arg(long, value_name = "AGENCY", value_parser = ["police", "health", "justice"])]
    agency: Option<String>,
    /// Output format: table, json or csv.
    #[arg(long, value_enum, default_value = "table", value_name = "FORMAT")]
    format: Format,
}

fn weekday(d: Weekday) -> &'static str {
    let (vi, en) = match d {
        Weekday::Mon => ("thứ Hai", "Monday"),
        Weekday::Tue => ("thứ Ba", "Tuesday"),
        Weekday::Wed => ("thứ Tư", "Wednesday"),
        Weekday::Thu => ("thứ Năm", "Thursday"),
        Weekday::Fri => ("thứ Sáu", "Friday"),
        Weekday::Sat => ("thứ Bảy", "Saturday"),
        Weekday::Sun => ("Chủ nhật", "Sunday"),
    };
    tr(vi, en)
}

/// "hằng tuần, từ thứ Hai" / "weekly, from Monday".
fn cadence_words(c: &Cadence) -> String {
    match c {
        Cadence::Daily => tr("hằng ngày", "daily").into(),
        Cadence::Weekly { first_weekday } => tr(
            format!("hằng tuần, từ {}", weekday(*first_weekday)),
            format!("weekly, from {}", weekday(*first_weekday)),
        ),
        Cadence::Monthly { cutoff_day: 1 } => tr("hằng tháng", "monthly").into(),
        Cadence::Monthly { cutoff_day } => tr(
            format!(
                "hằng tháng, từ ngày {cutoff_day} tháng trước đến ngày {}",
                cutoff_day - 1
            ),
            format!(
                "monthly, from the {cutoff_day}th of the previous month to the {}th",
                cutoff_day - 1
            ),
        ),
        Cadence::Quarterly => tr("hằng quý", "quarterly").into(),
        Cadence::Campaign { periods } => tr(
            format!("đợt cao điểm ({} kỳ)", periods.len()),
            format!("campaign ({} periods)", periods.len()),
        ),
    }
}

fn obligation_json(spec: &ObligationSpec) -> Value {
    serde_json::to_value(spec).unwrap_or(Value::Null)
}

/// Every obligation the caller may read, as specs.
pub async fn list_obligations(
    c: &Connection,
    province: Option<&str>,
) -> anyhow::Result<Vec<ObligationSpec>> {
    let mut client = AdminServiceClient::new(c.channel(&c.server).await?);
    let mut specs = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = client
            .list_obligations(c.request(ListObligationsRequest {
                page_size: 1_000,
                page_token: page_token.clone(),
            })?)
            .await
            .map_err(c.refused(rpc::LIST_OBLIGATIONS, province))?
            .into_inner();
        for o in page.obligations {
            let spec: ObligationSpec = serde_json::from_str(&o.spec_json).map_err(|e| {
                anyhow::anyhow!("obligation {} from the server is not readable: {e}", o.code)
            })?;
            specs.push(spec);
        }
        if page.next_page_token.is_empty() {
            return Ok(specs);
        }
        page_token = page.next_page_token;
    }
}

pub async fn obligations(args: ObligationsArgs) -> anyhow::Result<()> {
    let c = &args.connection;
    let mut specs = list_obligations(c, args.province.as_deref()).await?;
    if let Some(p) = &args.province {
        let key = format!("{}/{p}", c.edition);
        specs.retain(|s| s.provinces.contains(&key));
    }
    if let Some(a) = &args.agency {
        specs.retain(|s| &s.agency == a);
    }
    match args.format {
        Format::Json => output::json(&Value::Array(specs.iter().map(obligation_json).collect())),
        Format::Csv => {
            let records: Vec<Value> = specs
                .iter()
                .map(|s| {
                    let mut r = obligation_json(s);
                    r["indicators"] = json!(s.indicators.join(";"));
                    r["provinces"] = json!(s.provinces.join(";"));
                    r["cadence"] = json!(serde_json::to_string(&s.cadence).unwrap_or_default());
                    r["deadline"] = json!(serde_json::to_string(&s.deadline).unwrap_or_default());
                    r
                })
                .collect();
            output::csv(
                &[
                    "code",
                    "agency",
                    "name",
                    "indicators",
                    "level",
                    "provinces",
                    "cadence",
                    "deadline",
                ],
                &records,
            )
        }
        Format::Table => {
            let mut table = vec![
                tr(
                    [
                        "mã",
                        "cơ quan",
                        "kỳ báo cáo",
                        "hạn nộp",
                        "cấp",
                        "chỉ tiêu",
                        "tỉnh",
                    ],
                    [
                        "code",
                        "agency",
                        "cadence",
                        "deadline",
                        "level",
                        "indicators",
                        "provinces",
                    ],
                )
                .map(String::from)
                .to_vec(),
            ];
            for s in &specs {
                let d = &s.deadline;
                let deadline = match (d.count, d.days) {
                    (_, 0) => tr(
                        format!("{} ngày cuối kỳ", d.at.format("%H:%M")),
                        format!("{} on the period's last day", d.at.format("%H:%M")),
                    ),
                    (DayCount::Working, n) => tr(
                        format!("{} sau {n} ngày làm việc", d.at.format("%H:%M")),
                        format!("{} on the {n}th working day after", d.at.format("%H:%M")),
                    ),
                    (DayCount::Calendar, n) => tr(
                        format!("{} sau {n} ngày", d.at.format("%H:%M")),
                        format!("{}, {n} days after", d.at.format("%H:%M")),
                    ),
                };
                table.push(vec![
                    s.code.clone(),
                    lang::agency(&s.agency),
                    cadence_words(&s.cadence),
                    deadline,
                    level_words(s.level.as_str()).to_owned(),
                    s.indicators.join(", "),
                    s.provinces.join(", "),
                ]);
            }
            output::table(&table)?;
            for s in specs.iter().filter(|s| !s.name.is_empty()) {
                crate::out!("  {}: {}", s.code, s.name);
            }
            Ok(())
        }
    }
}

fn level_words(level: &str) -> &'static str {
    match level {
        "province" => tr("tỉnh", "province"),
        "district" => tr("huyện", "district"),
        "commune" => tr("xã", "commune"),
        _ => "—",
    }
}

fn level_code(level: i32) -> &'static str {
    match LocalityLevel::try_from(level) {
        Ok(LocalityLevel::Province) => "province",
        Ok(LocalityLevel::District) => "district",
        Ok(LocalityLevel::Commune) => "commune",
        Ok(LocalityLevel::Country) => "country",
        _ => "",
    }
}

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  p06 localities                                    # the provinces of the edition in force\n  p06 localities --parent 52                        # the communes of Gia Lai (two tiers)\n  p06 localities --edition 2024 --province 64       # the districts of old Gia Lai\n  p06 localities --edition 2024 --parent 626        # the communes of Đak Đoa\n  p06 localities --edition 2024 --province 64 --level commune --format csv"
)]
pub struct LocalitiesArgs {
    #[command(flatten)]
    connection: Connection,
    /// The unit whose units are listed (a province or district code of --edition), e.g. 52; 626 in edition 2024.
    #[arg(long, value_name = "CODE")]
    parent: Option<String>,
    /// A province code: its units are listed (the same as --parent CODE), e.g. 52.
    #[arg(long, value_name = "CODE")]
    province: Option<String>,
    /// Only this level, at any depth below the parent: province, district or commune
    /// (default: the units directly below the parent, or the provinces).
    #[arg(long, value_name = "LEVEL", value_parser = ["province", "district", "commune"])]
    level: Option<String>,
    /// Output format: table, json or csv.
    #[arg(long, value_enum, default_value = "table", value_name = "FORMAT")]
    format: Format,
}

pub async fn localities(args: LocalitiesArgs) -> anyhow::Result<()> {
    let c = &args.connection;
    let parent = args
        .parent
        .clone()
        .or_else(|| args.province.clone())
        .unwrap_or_default();
    let level = match (args.level.as_deref(), parent.is_empty()) {
        (Some("province"), _) | (None, true) => LocalityLevel::Province,
        (Some("district"), _) => LocalityLevel::District,
        (Some("commune"), _) => LocalityLevel::Commune,
        _ => LocalityLevel::Unspecified,
    };
    let mut client = CatalogServiceClient::new(c.channel(&c.server).await?);
    let mut rows: Vec<Locality> = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = client
            .list_localities(c.request(ListLocalitiesRequest {
                edition: c.edition.clone(),
                parent_code: parent.clone(),
                level: level as i32,
                page_size: 1_000,
                page_token: page_token.clone(),
            })?)
            .await
            .map_err(c.refused(rpc::LIST_LOCALITIES, args.province.as_deref()))?
            .into_inner();
        rows.extend(page.localities);
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    if level == LocalityLevel::Unspecified {
        // Without --level: the units directly below the parent.
        rows.retain(|l| l.parent_code == parent);
    }
    let records: Vec<Value> = rows
        .iter()
        .map(|l| {
            json!({
                "edition": l.edition, "code": l.code, "name": l.name, "level": level_code(l.level),
                "parent_code": l.parent_code, "province_code": l.province_code,
            })
        })
        .collect();
    match args.format {
        Format::Json => output::json(&Value::Array(records)),
        Format::Csv => output::csv(
            &[
                "edition",
                "code",
                "name",
                "level",
                "parent_code",
                "province_code",
            ],
            &records,
        ),
        Format::Table => {
            let mut table = vec![
                tr(
                    ["mã", "tên", "cấp", "trực thuộc"],
                    ["code", "name", "level", "parent"],
                )
                .map(String::from)
                .to_vec(),
            ];
            for l in &rows {
                table.push(vec![
                    l.code.clone(),
                    l.name.clone(),
                    level_words(level_code(l.level)).to_owned(),
                    if l.parent_code.is_empty() {
                        "—".into()
                    } else {
                        l.parent_code.clone()
                    },
                ]);
            }
            output::table(&table)?;
            crate::out!(
                "{}",
                tr(
                    format!("{} đơn vị (phiên bản {})", rows.len(), c.edition),
                    format!("{} units (edition {})", rows.len(), c.edition)
                )
            );
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn edit_distance_counts_single_edits() {
        assert_eq!(
            super::edit_distance("vneid.l2.activatd", "vneid.l2.activated"),
            1
        );
        assert_eq!(super::edit_distance("abc", "abc"), 0);
        assert_eq!(super::edit_distance("", "ab"), 2);
    }
}
