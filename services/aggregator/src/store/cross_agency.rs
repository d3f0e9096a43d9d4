//! Cross-agency bounds judged inside a report's transaction (`CROSS_AGENCY_MISMATCH`).
//!
//! The rule is the domain's ([`p06_domain::cross_agency`]); this module feeds it the figures in
//! force as of the report's period end — read from `latest_value` after the revision has entered
//! it, so the report's own figures and the other agency's latest are judged alike — and turns its
//! verdicts into flags. Reports of one province are serialised, so the figures read here are those
//! every other report of the province committed before this one.
//!
//! One open flag per bound and locality: a breach raises one unless one is open; a verdict that
//! the bound holds (or that a figure is no longer in force) resolves the open one. A flag judged on
//! a later date than the report's period end (the report is a backfill of an earlier period) is
//! judged again on its own date, with the figures in force then. Each flag's
//! dedupe key names the bound, the locality and the report that raised it, so a bound broken again
//! after it was resolved raises a new flag.

use chrono::NaiveDate;
use p06_domain::cross_agency::{self, InForce};
use p06_domain::narrative::number::format_vi;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, DatabaseTransaction, FromQueryResult};

use super::compliance::{FlagFacts, FlagRow, NewFlag, raise_flag, resolve_flag};
use super::in_force::{self, Series};
use super::reports::NewReport;
use super::revision_write::Written;
use super::script::Script;
use crate::error::Error;
use crate::hash::FastMap;

/// The kind of flag a broken cross-agency bound raises.
pub const CROSS_AGENCY_MISMATCH: &str = "CROSS_AGENCY_MISMATCH";

fn col(name: &str) -> Expr {
    Expr::col(Alias::new(name))
}

/// `CROSS_AGENCY_MISMATCH|<bound>|<locality id>|`: the prefix of every flag of a bound at a
/// locality; the raising report's id follows.
fn key_prefix(bound: &str, locality_id: i64) -> String {
    format!("{CROSS_AGENCY_MISMATCH}|{bound}|{locality_id}|")
}

/// The figures of `codes` × `localities` of a province in force on `date`, and the statements
/// run.
async fn in_force(
    txn: &DatabaseTransaction,
    province_id: i64,
    codes: &[String],
    localities: &[i64],
    date: NaiveDate,
) -> Result<(FastMap<(String, i64), InForce>, usize), Error> {
    let series = Series {
        codes: Some(codes),
        localities: Some(localities),
    };
    let found = in_force::on(txn, province_id, date, series).await?;
    let figures = found
        .figures
        .into_iter()
        .map(|f| {
            let figure = InForce {
                value: f.value,
                report_id: f.report_id,
            };
            ((f.indicator_code, f.locality_id), figure)
        })
        .collect();
    Ok((figures, found.statements))
}

/// The figures of `codes` × `localities` in force on `date` once the revision is written, and the
/// statements run to know them: none when the writer's memory holds them.
async fn figures_in_force(
    txn: &DatabaseTransaction,
    written: &Written<'_>,
    script: &mut Script,
    codes: &[String],
    localities: &[i64],
    date: NaiveDate,
) -> Result<(FastMap<(String, i64), InForce>, usize), Error> {
    if let Some(held) = written.in_force(codes, localities, date) {
        let figures = held
            .into_iter()
            .map(|(key, f)| {
                let figure = InForce {
                    value: f.value,
                    report_id: f.report_id,
                };
                (key, figure)
            })
            .collect();
        return Ok((figures, 0));
    }
    let run = script.run(txn).await?;
    let (figures, read) = in_force(txn, written.province_id, codes, localities, date).await?;
    Ok((figures, run + read))
}

#[derive(FromQueryResult)]
struct OpenFlag {
    dedupe_key: String,
    period_end: NaiveDate,
}

/// The open CROSS_AGENCY_MISMATCH flags of a province: dedupe key, and the date it was judged on
/// (the raising report's period end).
async fn open_flags(txn: &DatabaseTransaction, province_id: i64) -> Result<Vec<OpenFlag>, Error> {
    let rows = txn
        .query_all(
            Query::select()
                .columns(["dedupe_key", "period_end"].map(Alias::new))
                .from(Alias::new("flag"))
                .and_where(col("province_id").eq(province_id))
                .and_where(col("kind").eq(CROSS_AGENCY_MISMATCH))
                .and_where(col("state").eq("OPEN")),
        )
        .await?;
    rows.iter()
        .map(|r| OpenFlag::from_query_result(r, "").map_err(Into::into))
        .collect()
}

/// Judges the bounds the revision's figures bear on and raises or resolves their flags; returns
/// the flags raised and the statements run apart from raising them. The figures in force come from
/// the writer's memory (`written`); when it does not hold them, from the read model once `script`
/// has written the revision's there.
pub(crate) async fn judge_bounds(
    txn: &DatabaseTransaction,
    new: &NewReport<'_>,
    report_id: i64,
    written: &Written<'_>,
    script: &mut Script,
) -> Result<(Vec<FlagRow>, usize), Error> {
    let report = new.report;
    let pairs = cross_agency::touched(
        new.bounds,
        report
            .observations
            .iter()
            .map(|o| (o.indicator_code.as_str(), o.locality_id)),
    );
    if pairs.is_empty() {
        return Ok((Vec::new(), 0));
    }
    let mut codes: Vec<String> = pairs
        .iter()
        .flat_map(|(rule, _)| [rule.indicator.clone(), rule.at_most.clone()])
        .collect();
    codes.sort();
    codes.dedup();
    let mut localities: Vec<i64> = pairs.iter().map(|(_, l)| *l).collect();
    localities.sort_unstable();
    localities.dedup();
    let (figures, mut statements) =
        figures_in_force(txn, written, script, &codes, &localities, report.period_end).await?;
    let open = open_flags(txn, report.province.id).await?;
    statements += 1;

    let verdicts = cross_agency::judge(&pairs, |code, locality| {
        figures.get(&(code.to_owned(), locality)).copied()
    });
    let actor = "aggregator";
    let now = new.received_at;
    let mut raised = Vec::new();
    for verdict in verdicts {
        let rule = verdict.rule;
        let prefix = key_prefix(&rule.key(), verdict.locality);
        let open_here: Vec<&OpenFlag> = open
            .iter()
            .filter(|f| f.dedupe_key.starts_with(&prefix))
            .collect();
        // Each open flag is judged again on its own date, or this report's when that is later:
        // a report of an earlier period (a backfill) does not speak for a later date.
        for flag in &open_here {
            let (holds, date) = if flag.period_end <= report.period_end {
                (verdict.breach.is_none(), report.period_end)
            } else {
                let codes = [rule.indicator.clone(), rule.at_most.clone()];
                let (then, read) = figures_in_force(
                    txn,
                    written,
                    script,
                    &codes,
                    &[verdict.locality],
                    flag.period_end,
                )
                .await?;
                statements += read;
                let pair = [(rule, verdict.locality)];
                let again =
                    cross_agency::judge(&pair, |code, l| then.get(&(code.to_owned(), l)).copied());
                (again[0].breach.is_none(), flag.period_end)
            };
            if holds {
                let get = |code: &str| {
                    figures
                        .get(&(code.to_owned(), verdict.locality))
                        .map(|f| format_vi(f.value, 0))
                };
                let why = match (get(&rule.indicator), get(&rule.at_most)) {
                    (Some(v), Some(b)) if date == report.period_end => format!(
                        "{} {v} ≤ {} {b} as of {date} (reports/{report_id})",
                        rule.indicator, rule.at_most
                    ),
                    _ => format!(
                        "{} within {} (or not both in force) as of {date} after reports/{report_id}",
                        rule.indicator, rule.at_most
                    ),
                };
                resolve_flag(txn, &flag.dedupe_key, actor, &why, now).await?;
                statements += 2;
            }
        }
        let Some(breach) = verdict.breach else {
            continue;
        };
        if !open_here.is_empty() {
            continue; // raised once while the breach lasts
        }
        let locality = new.catalog.locality_by_id(verdict.locality);
        let (name, code) = locality.map_or((String::new(), String::new()), |l| {
            (l.name.clone(), l.code.clone())
        });
        let (message_vi, message_en) =
            cross_agency::describe(rule, &breach, new.catalog, &name, &code);
        let flag = NewFlag {
            kind: CROSS_AGENCY_MISMATCH.into(),
            agency: report.agency.clone(),
            obligation: report.obligation.clone(),
            province_id: report.province.id,
            period_start: report.period_start,
            period_end: report.period_end,
            report_id: Some(report_id),
            indicator_code: Some(rule.indicator.clone()),
            locality_id: Some(verdict.locality),
            message: message_vi,
            details: FlagFacts {
                value: Some(breach.value.value),
                reference: Some(breach.bound.value),
                message_en: Some(message_en),
                bound_indicator: Some(rule.at_most.clone()),
                value_report: Some(breach.value.report_id),
                bound_report: Some(breach.bound.report_id),
                ..FlagFacts::default()
            }
            .to_details(),
            dedupe_key: format!("{prefix}{report_id}"),
        };
        raised.extend(raise_flag(txn, &flag, actor, now).await?);
    }
    Ok((raised, statements))
}
