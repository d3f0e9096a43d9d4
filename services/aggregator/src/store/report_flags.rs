//! The flags a stored revision raises in its transaction: LATE (and the MISSING flag it
//! resolves), VAGUE, the consistency findings and the narrative's mismatches.

use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, DatabaseTransaction};

use super::compliance::{FlagFacts, FlagRow, NewFlag, raise_flag, resolve_flag, series_key};
use super::reports::{NewReport, series_condition};
use crate::error::Error;

fn col(name: &str) -> Expr {
    Expr::col(Alias::new(name))
}

/// The flags a stored revision raises (and the MISSING flag it resolves when `missing_open`: the
/// series' look-up found one open), in its transaction; returns those raised, oldest first.
pub(super) async fn raise_report_flags(
    txn: &DatabaseTransaction,
    new: &NewReport<'_>,
    report_id: i64,
    revision: i32,
    lateness_seconds: Option<i64>,
    missing_open: bool,
) -> Result<Vec<FlagRow>, Error> {
    let mut raised = Vec::new();
    let report = new.report;
    let series = series_key(
        &report.agency,
        &report.obligation,
        report.province.id,
        report.period_start,
    );
    let flag = |kind: &str, dedupe_key: String, message: String| NewFlag {
        kind: kind.to_owned(),
        agency: report.agency.clone(),
        obligation: report.obligation.clone(),
        province_id: report.province.id,
        period_start: report.period_start,
        period_end: report.period_end,
        report_id: Some(report_id),
        indicator_code: None,
        locality_id: None,
        message,
        details: None,
        dedupe_key,
    };
    let actor = "aggregator";
    let now = new.received_at;
    if revision == 1 {
        // A report arriving after a MISSING flag turns it into LATE.
        if missing_open {
            resolve_flag(
                txn,
                &missing_key(&series),
                actor,
                &format!("reported as reports/{report_id}"),
                now,
            )
            .await?;
        }
        if let Some(seconds) = lateness_seconds {
            let mut late = flag(
                "LATE",
                format!("LATE|{series}"),
                format!(
                    "first report {} after the deadline",
                    human_duration(seconds)
                ),
            );
            late.details = FlagFacts {
                lateness_seconds: Some(seconds),
                ..FlagFacts::default()
            }
            .to_details();
            raised.extend(raise_flag(txn, &late, actor, now).await?);
        }
    }
    let specificity = &new.evaluation.specificity;
    if specificity.vague {
        let codes: Vec<&str> = specificity
            .reasons
            .iter()
            .map(|r| r.code.as_str())
            .collect();
        let mut vague = flag(
            "VAGUE",
            format!("VAGUE|{report_id}"),
            format!(
                "specificity {} below the threshold: {}",
                specificity.score,
                codes.join(", ")
            ),
        );
        vague.details = FlagFacts {
            score: Some(i32::from(specificity.score)),
            reasons: specificity
                .reasons
                .iter()
                .filter_map(|r| serde_json::to_value(r).ok())
                .collect(),
            ..FlagFacts::default()
        }
        .to_details();
        raised.extend(raise_flag(txn, &vague, actor, now).await?);
    }
    for finding in &new.evaluation.findings {
        let locality_id = report
            .observations
            .iter()
            .find(|o| o.locality_code == finding.locality)
            .map(|o| o.locality_id);
        let mut f = flag(
            finding.kind.code(),
            format!(
                "{}|{report_id}|{}|{}",
                finding.kind.code(),
                finding.indicator,
                finding.locality
            ),
            finding.message_en.clone(),
        );
        f.indicator_code = Some(finding.indicator.clone());
        f.locality_id = locality_id;
        f.details = FlagFacts {
            value: Some(finding.value),
            reference: Some(finding.reference),
            ..FlagFacts::default()
        }
        .to_details();
        raised.extend(raise_flag(txn, &f, actor, now).await?);
    }
    // A later revision supersedes the narrative of the earlier ones: their mismatches resolve, and
    // this revision raises its own if its narrative still has them.
    if revision > 1 {
        let select = Query::select()
            .column(Alias::new("dedupe_key"))
            .from(Alias::new("flag"))
            .and_where(series_condition(
                &report.agency,
                &report.obligation,
                report.province.id,
                report.period_start,
            ))
            .and_where(col("kind").eq(NARRATIVE_MISMATCH))
            .and_where(col("state").eq("OPEN"))
            .and_where(col("report_id").ne(report_id))
            .to_owned();
        for row in txn.query_all(&select).await? {
            let key: String = row.try_get("", "dedupe_key")?;
            resolve_flag(
                txn,
                &key,
                actor,
                &format!("superseded by reports/{report_id}"),
                now,
            )
            .await?;
        }
    }
    // The narrative's figures the report's own contradict; the message is the Vietnamese
    // "186.568/738.291 = 25,27 %, báo cáo ghi 24,37 %", the facts carry the sentence and both values.
    for (n, claim) in new.evaluation.narrative_mismatches.iter().enumerate() {
        let mut f = flag(
            NARRATIVE_MISMATCH,
            format!("{NARRATIVE_MISMATCH}|{report_id}|{n}"),
            claim.message_vi.clone(),
        );
        f.indicator_code = claim.indicator.clone();
        f.details = FlagFacts {
            value: Some(claim.printed),
            reference: Some(claim.computed),
            quote: Some(claim.sentence.clone()),
            narrative_field: Some(claim.field.clone()),
            claim: serde_json::to_value(claim.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned)),
            message_en: Some(claim.message_en.clone()),
            ..FlagFacts::default()
        }
        .to_details();
        raised.extend(raise_flag(txn, &f, actor, now).await?);
    }
    Ok(raised)
}

/// The kind of flag a narrative figure the report's figures contradict raises.
pub const NARRATIVE_MISMATCH: &str = "NARRATIVE_MISMATCH";

/// "3 d 17 h 2 min", "59 s".
pub fn human_duration(seconds: i64) -> String {
    let (d, h, m, s) = (
        seconds / 86_400,
        seconds % 86_400 / 3_600,
        seconds % 3_600 / 60,
        seconds % 60,
    );
    let parts: Vec<String> = [(d, "d"), (h, "h"), (m, "min"), (s, "s")]
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, unit)| format!("{n} {unit}"))
        .collect();
    if parts.is_empty() {
        "0 s".into()
    } else {
        parts.join(" ")
    }
}

/// The dedupe key of a series' MISSING flag.
pub(super) fn missing_key(series: &str) -> String {
    format!("MISSING|{series}")
}
