//! `p06 status`: the consolidated status of a province or unit, with each indicator's pace to
//! target.

use chrono::NaiveDate;
use p06_kit::convert::date_from_proto;
use p06_proto::aggregation::GetConsolidatedStatusRequest;
use serde_json::{Value, json};

use crate::lang::{self, tr};
use crate::output::{self, ViewFormat as Format, count, opt_number, opt_percent};
use crate::query::{Common, KnownAt, date, iso_date, progress_json, shown_date, signed};
use crate::{out, rpc};

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  p06 status --province 52\n  p06 status --province 52 --locality 21616 --indicator vneid.l2.activated --format json\n  p06 status --province 64 --edition 2024 --as-of 2025-03-23 --compare-to 2025-03-16\n  p06 status --province 64 --edition 2024 --as-of 2025-03-23 --known-at 2025-03-24T17:00"
)]
pub struct StatusArgs {
    #[command(flatten)]
    common: Common,
    /// A district or commune code instead of the whole province, e.g. 21616 (626 in edition 2024).
    #[arg(long, value_name = "CODE")]
    locality: Option<String>,
    /// Only this indicator (repeatable), e.g. vneid.l2.activated (see `p06 indicators`).
    #[arg(long = "indicator", value_name = "CODE")]
    indicators: Vec<String>,
    /// Also show the change since this date, YYYY-MM-DD.
    #[arg(long, value_name = "DATE")]
    compare_to: Option<NaiveDate>,
    /// How many lowest localities to list per indicator in JSON (1–50).
    #[arg(long, default_value_t = 5, value_name = "N")]
    lowest: i32,
    #[command(flatten)]
    known: KnownAt,
}

/// "hôm nay" / "cách đây 3 ngày".
fn age(newest: NaiveDate, today: NaiveDate) -> String {
    let days = (today - newest).num_days();
    match days {
        0 => tr("hôm nay", "today").into(),
        1 => tr("hôm qua", "yesterday").into(),
        d if d < 0 => tr(format!("sau {} ngày nữa", -d), format!("in {} days", -d)),
        d => tr(format!("cách đây {d} ngày"), format!("{d} days ago")),
    }
}

pub async fn status(args: StatusArgs) -> anyhow::Result<()> {
    let c = &args.common;
    crate::catalog::check_indicator_codes(&c.connection, &args.indicators).await?;
    let code = args.locality.clone().unwrap_or_else(|| c.province.clone());
    let response = c
        .client()
        .await?
        .get_consolidated_status(c.connection.request(GetConsolidatedStatusRequest {
            locality: c.locality(&code),
            as_of: date(c.as_of),
            indicator_codes: args.indicators.clone(),
            compare_to: date(args.compare_to),
            lowest_count: args.lowest,
            flow_from: None,
            known_at: args.known.timestamp(),
            pace_weeks: 0,
            omit_pace: false,
        })?)
        .await
        .map_err(c.refused(rpc::GET_CONSOLIDATED_STATUS))?
        .into_inner();
    let records: Vec<Value> = response
        .indicators
        .iter()
        .map(|i| {
            let mut record = json!({
                "indicator_code": i.indicator_code, "name_vi": i.name_vi, "name_en": i.name_en,
                "value": count(i.value), "target": count(i.target), "percent_of_target": i.percent_of_target,
                "denominator_code": i.denominator_code, "denominator_value": count(i.denominator_value),
                "percent_of_denominator": i.percent_of_denominator, "change": count(i.change),
                "localities_meeting_target": i.localities_meeting_target, "localities_with_target": i.localities_with_target,
                "localities_reporting": i.localities_reporting, "localities_expected": i.localities_expected,
                "localities_without_data": i.localities_without_data, "locality_completeness": i.locality_completeness,
                "oldest_as_of": iso_date(i.oldest_as_of.as_ref()), "reports_included": i.reports_included,
                "split_units": i.split_units, "uncarried_units": i.uncarried_units,
                "lowest": i.lowest.iter().map(progress_json).collect::<Vec<_>>(),
                "localities_by_pace": i.localities_by_pace.iter()
                    .map(|c| (crate::pace::code(c.status).to_owned(), json!(c.count)))
                    .collect::<serde_json::Map<_, _>>(),
            });
            if let Value::Object(record) = &mut record {
                crate::pace::csv_fields(i.pace.as_ref(), record);
            }
            record
        })
        .collect();
    match c.format {
        Format::Json => {
            let l = response.locality.unwrap_or_default();
            output::json(&json!({
                "locality": {"edition": l.edition, "code": l.code, "name": l.name},
                "as_of": iso_date(response.as_of.as_ref()),
                "carried_from_edition": response.carried_from_edition,
                "indicators": records,
            }))
        }
        Format::Csv | Format::Xlsx => c.records(
            tr("Tình hình", "Status"),
            &[
                "indicator_code",
                "name_vi",
                "name_en",
                "value",
                "target",
                "percent_of_target",
                "denominator_code",
                "denominator_value",
                "percent_of_denominator",
                "change",
                "localities_meeting_target",
                "localities_with_target",
                "localities_reporting",
                "localities_expected",
                "localities_without_data",
                "oldest_as_of",
                "reports_included",
                "split_units",
                "uncarried_units",
                "pace_status",
                "pace_recent_per_week",
                "pace_needed_per_week",
                "pace_projected",
                "pace_due",
            ],
            &records,
        ),
        Format::Table => {
            let l = response.locality.clone().unwrap_or_default();
            let as_of = date_from_proto(response.as_of.as_ref());
            out!(
                "{} — {} {}",
                l.name,
                tr("số liệu đến ngày", "figures as of"),
                shown_date(response.as_of.as_ref())
            );
            if let Some(known_at) = args.known.known_at {
                let local = known_at.with_timezone(&p06_domain::schedule::DEFAULT_TIME_ZONE);
                out!(
                    "{} {}",
                    tr("theo các báo cáo nhận đến", "as reported by"),
                    lang::date_time(local.naive_local())
                );
            }
            if let Some(note) = carried_note(&response) {
                out!("{note}");
            }
            let newest = response
                .indicators
                .iter()
                .filter_map(|i| date_from_proto(i.oldest_as_of.as_ref()))
                .max();
            match (newest, as_of) {
                (Some(newest), Some(as_of)) => out!(
                    "{}",
                    tr(
                        format!(
                            "số liệu mới nhất ngày {}, {}",
                            lang::date(newest),
                            age(newest, as_of)
                        ),
                        format!(
                            "latest figures of {}, {}",
                            lang::date(newest),
                            age(newest, as_of)
                        ),
                    )
                ),
                _ => out!(
                    "{}",
                    tr(
                        "chưa có số liệu nào đến ngày này",
                        "no figures up to this date"
                    )
                ),
            }
            out!();
            let mut table = vec![
                tr(
                    [
                        "chỉ số",
                        "giá trị",
                        "chỉ tiêu",
                        "% chỉ tiêu",
                        "mẫu số",
                        "% mẫu số",
                        "thay đổi",
                        "đơn vị đạt chỉ tiêu",
                        "đơn vị có số liệu",
                    ],
                    [
                        "indicator",
                        "value",
                        "target",
                        "% of target",
                        "denominator",
                        "% of denominator",
                        "change",
                        "units meeting target",
                        "units reporting",
                    ],
                )
                .map(String::from)
                .to_vec(),
            ];
            table[0].extend(crate::pace::headers().map(String::from));
            for i in &response.indicators {
                table.push(vec![
                    tr(&i.name_vi, &i.name_en).clone(),
                    opt_number(i.value),
                    opt_number(i.target),
                    opt_percent(i.percent_of_target),
                    opt_number(i.denominator_value),
                    opt_percent(i.percent_of_denominator),
                    if args.compare_to.is_some() {
                        signed(i.change)
                    } else {
                        "—".into()
                    },
                    if i.localities_with_target == 0 {
                        "—".into()
                    } else {
                        format!(
                            "{}/{}",
                            i.localities_meeting_target, i.localities_with_target
                        )
                    },
                    format!("{}/{}", i.localities_reporting, i.localities_expected),
                ]);
                if let Some(row) = table.last_mut() {
                    row.extend(crate::pace::cells(i.pace.as_ref()));
                }
            }
            output::table(&table)?;
            if response.indicators.is_empty() {
                out!(
                    "{}",
                    tr(
                        "(không có chỉ số nào có số liệu; xem `p06 indicators`)",
                        "(no indicator has figures; see `p06 indicators`)"
                    )
                );
            }
            Ok(())
        }
    }
}

/// The note under a status carried across the reform: "figures of edition 2024 carried onto 2025
/// units, 6 split communes" (the most split communes any indicator's figure includes), and for
/// edition 2023 how many communes that reported are left out for want of a successor (the most
/// of any indicator; said only when some are).
pub fn carried_note(response: &p06_proto::aggregation::ConsolidatedStatus) -> Option<String> {
    let from = response.carried_from_edition;
    if from == 0 {
        return None;
    }
    let to = response
        .locality
        .as_ref()
        .map_or(String::new(), |l| l.edition.clone());
    let most = |f: fn(&p06_proto::aggregation::IndicatorStatus) -> i32| {
        response.indicators.iter().map(f).max().unwrap_or(0)
    };
    let split = most(|i| i.split_units);
    let uncarried = most(|i| i.uncarried_units);
    let mut note = tr(
        format!("số liệu bộ mã {from} quy đổi sang đơn vị {to}"),
        format!("figures of edition {from} carried onto {to} units"),
    );
    // The split communes' clause only when a figure includes some.
    if split > 0 {
        note.push_str(&tr(
            format!(", gồm {split} xã bị chia tách (tính cho xã kế thừa mặc định)"),
            format!(", {split} split communes (counted toward their default successors)"),
        ));
    }
    if uncarried > 0 {
        note.push_str(&tr(
            format!(
                "; không tính {uncarried} xã của bộ mã {from} đã báo cáo nhưng không có trong \
                 bộ mã 2024 (đã sáp nhập, không rõ đơn vị kế thừa)"
            ),
            format!(
                "; {uncarried} communes of edition {from} that reported are left out (not in \
                 edition 2024: merged, their successor unknown)"
            ),
        ));
    }
    Some(note)
}

#[cfg(test)]
mod tests {
    use super::*;
    use p06_proto::aggregation::{ConsolidatedStatus, IndicatorStatus, Locality};

    #[test]
    fn a_carried_status_is_noted_with_its_split_communes() {
        let mut status = ConsolidatedStatus {
            locality: Some(Locality {
                edition: "2025".into(),
                ..Default::default()
            }),
            indicators: vec![
                IndicatorStatus {
                    split_units: 1,
                    ..Default::default()
                },
                IndicatorStatus {
                    split_units: 3,
                    ..Default::default()
                },
            ],
            ..Default::default()
        };
        assert_eq!(carried_note(&status), None);
        status.carried_from_edition = 2024;
        let note = carried_note(&status).unwrap();
        // Vietnamese unless asked otherwise.
        assert!(
            note.starts_with("số liệu bộ mã 2024 quy đổi sang đơn vị 2025, gồm 3 xã bị chia tách"),
            "{note}"
        );
        assert!(!note.contains("không tính"), "{note}");
        // No split commune in any figure: no clause about them.
        for i in &mut status.indicators {
            i.split_units = 0;
        }
        assert_eq!(
            carried_note(&status).as_deref(),
            Some("số liệu bộ mã 2024 quy đổi sang đơn vị 2025")
        );
        status.indicators[1].split_units = 3;
        // Carried from 2023: the communes left out are said.
        status.carried_from_edition = 2023;
        status.indicators[0].uncarried_units = 2;
        status.indicators[1].uncarried_units = 6;
        let note = carried_note(&status).unwrap();
        assert!(
            note.ends_with(
                "; không tính 6 xã của bộ mã 2023 đã báo cáo nhưng không có trong bộ mã 2024 \
                 (đã sáp nhập, không rõ đơn vị kế thừa)"
            ),
            "{note}"
        );
    }
}
