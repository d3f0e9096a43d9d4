//! `p06 template`: the workbook a clerk fills for one report (or the task force for targets),
//! laid out by `p06-workbook` from the obligation, the catalog's localities and indicator names.

use std::collections::HashMap;
use std::path::PathBuf;

use chrono::NaiveDate;
use p06_proto::aggregation::LocalityLevel;
use p06_workbook::Kind;
use p06_workbook::template::{InfoValue, Template, TemplateColumn};

use crate::client::Connection;
use crate::error::user;
use crate::lang::tr;
use crate::{out, sheet};
use p06_submission::template::{ReportTemplate, fixed_columns, info};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TemplateKind {
    Police,
    Health,
    Justice,
    /// Targets (chỉ tiêu) per locality and indicator, for `p06 targets import`.
    Targets,
}

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples (the current week of the demo's Gia Lai, edition 2025):\n  p06 template police --province 52 --obligation police-weekly-identity-52 \\\n    --period-start \"$(date +%F)\" -o tuan.xlsx\n  p06 template targets --province 52 --due-date 2026-12-31 --indicator vneid.l2.activated -o chi-tieu.xlsx\n\nFill the figures (a blank cell is \"not reported\"), the sheet Thuyết minh, then:\n  p06 submit police tuan.xlsx        (province, obligation and period come from the workbook)\n  p06 targets import chi-tieu.xlsx"
)]
pub struct TemplateArgs {
    #[command(flatten)]
    connection: Connection,
    /// Whose workbook: police, health, justice (a report) or targets.
    #[arg(value_name = "KIND")]
    kind: TemplateKind,
    /// Province code in --edition, e.g. 64.
    #[arg(long, value_name = "CODE")]
    province: String,
    /// The reporting obligation (reports), e.g. police-weekly-identity (see `p06 obligations`).
    #[arg(long, value_name = "CODE", required_unless_present = "due_date")]
    obligation: Option<String>,
    /// A day of the reporting period (reports), YYYY-MM-DD: the workbook is for the obligation's
    /// period containing it.
    #[arg(long, value_name = "DATE", required_unless_present = "due_date")]
    period_start: Option<NaiveDate>,
    /// The date the targets are due (targets), YYYY-MM-DD.
    #[arg(long, value_name = "DATE")]
    due_date: Option<NaiveDate>,
    /// The indicators of a targets workbook (repeatable; default: every indicator with targets
    /// in the demo: vneid.l2.activated).
    #[arg(long = "indicator", value_name = "CODE")]
    indicators: Vec<String>,
    /// The level of a targets workbook's rows: commune or district.
    #[arg(long, default_value = "commune", value_parser = ["commune", "district"], value_name = "LEVEL")]
    level: String,
    /// The workbook to write, e.g. tuan-11.xlsx.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: PathBuf,
}

/// Rows of the data sheet: code, name, district name (locked).
async fn locality_rows(
    c: &Connection,
    province: &str,
    level: LocalityLevel,
) -> anyhow::Result<Vec<Vec<String>>> {
    let units = sheet::localities(c, province, level).await?;
    if units.is_empty() {
        return Err(user(tr(
            format!(
                "tỉnh {province} (bộ mã {}) không có đơn vị nào ở cấp này; xem `p06 localities`",
                c.edition
            ),
            format!(
                "province {province} (edition {}) has no units at this level; see `p06 localities`",
                c.edition
            ),
        )));
    }
    let districts = if level == LocalityLevel::Commune {
        sheet::localities(c, province, LocalityLevel::District).await?
    } else {
        Vec::new()
    };
    Ok(p06_submission::template::locality_rows(&units, &districts))
}

pub async fn template(args: TemplateArgs) -> anyhow::Result<()> {
    let c = &args.connection;
    let names: HashMap<String, (String, String)> = crate::catalog::list_indicators(c, None)
        .await?
        .into_iter()
        .map(|i| (i.code, (i.name_vi, i.name_en)))
        .collect();
    let province_name = sheet::localities(c, "", LocalityLevel::Province)
        .await?
        .into_iter()
        .find(|p| p.code == args.province)
        .map(|p| p.name)
        .ok_or_else(|| {
            user(tr(
                format!(
                    "không có tỉnh {} trong bộ mã {}; xem `p06 localities --edition {}`",
                    args.province, c.edition, c.edition
                ),
                format!(
                    "no province {} in edition {}; see `p06 localities --edition {}`",
                    args.province, c.edition, c.edition
                ),
            ))
        })?;
    let template = match args.kind {
        TemplateKind::Targets => targets_template(&args, &names, &province_name).await?,
        agency => report_template(&args, agency, &names, &province_name).await?,
    };
    let bytes = p06_workbook::template::write(&template)?;
    std::fs::write(&args.output, bytes).map_err(|e| crate::error::file(&args.output, &e))?;
    out!(
        "{}",
        tr(
            format!(
                "Đã ghi {}: {} dòng × {} cột số liệu ({})",
                args.output.display(),
                template.rows.len(),
                template.columns.len(),
                template.subtitle
            ),
            format!(
                "Wrote {}: {} rows × {} figure columns ({})",
                args.output.display(),
                template.rows.len(),
                template.columns.len(),
                template.subtitle
            ),
        )
    );
    Ok(())
}

async fn report_template(
    args: &TemplateArgs,
    kind: TemplateKind,
    names: &HashMap<String, (String, String)>,
    province_name: &str,
) -> anyhow::Result<Template> {
    let c = &args.connection;
    let agency = match kind {
        TemplateKind::Police => p06_submission::Agency::Police,
        TemplateKind::Health => p06_submission::Agency::Health,
        _ => p06_submission::Agency::Justice,
    };
    let agency_code = agency.code().to_owned();
    let (Some(code), Some(day)) = (&args.obligation, args.period_start) else {
        return Err(user(tr(
            "mẫu báo cáo cần --obligation và --period-start",
            "a report template needs --obligation and --period-start",
        )));
    };
    let specs = crate::catalog::list_obligations(c, Some(&args.province)).await?;
    let key = format!("{}/{}", c.edition, args.province);
    let Some(spec) = specs
        .iter()
        .find(|s| &s.code == code && s.provinces.contains(&key))
    else {
        let own: Vec<&str> = specs
            .iter()
            .filter(|s| s.agency == agency_code && s.provinces.contains(&key))
            .map(|s| s.code.as_str())
            .collect();
        return Err(user(tr(
            format!(
                "tỉnh {key} không có nghĩa vụ báo cáo {code:?}; của {agency_code}: {} (xem `p06 obligations --province {}`)",
                own.join(", "),
                args.province
            ),
            format!(
                "province {key} has no obligation {code:?}; {agency_code}'s: {} (see `p06 obligations --province {}`)",
                own.join(", "),
                args.province
            ),
        )));
    };
    if spec.agency != agency_code {
        return Err(user(tr(
            format!(
                "nghĩa vụ {code} do {} báo cáo, không phải {agency_code}",
                spec.agency
            ),
            format!(
                "obligation {code} is reported by {}, not {agency_code}",
                spec.agency
            ),
        )));
    }
    let period = spec.cadence.period_containing(day).ok_or_else(|| {
        user(tr(
            format!("nghĩa vụ {code} không có kỳ báo cáo chứa ngày {day}"),
            format!("obligation {code} has no period containing {day}"),
        ))
    })?;
    let level = match spec.level.as_str() {
        "district" => LocalityLevel::District,
        "province" => LocalityLevel::Province,
        _ => LocalityLevel::Commune,
    };
    let rows = if level == LocalityLevel::Province {
        vec![vec![
            args.province.clone(),
            province_name.to_owned(),
            String::new(),
        ]]
    } else {
        locality_rows(c, &args.province, level).await?
    };
    Ok(ReportTemplate {
        agency,
        edition: &c.edition,
        province: &args.province,
        province_name,
        obligation: &spec.code,
        indicators: &spec.indicators,
        period_start: period.start,
        period_end: period.end,
        rows,
        names,
    }
    .layout())
}

async fn targets_template(
    args: &TemplateArgs,
    names: &HashMap<String, (String, String)>,
    province_name: &str,
) -> anyhow::Result<Template> {
    let c = &args.connection;
    let Some(due) = args.due_date else {
        return Err(user(tr(
            "mẫu chỉ tiêu cần --due-date",
            "a targets template needs --due-date",
        )));
    };
    let indicators = if args.indicators.is_empty() {
        vec!["vneid.l2.activated".to_owned()]
    } else {
        args.indicators.clone()
    };
    crate::catalog::check_indicator_codes(c, &indicators).await?;
    let level = if args.level == "district" {
        LocalityLevel::District
    } else {
        LocalityLevel::Commune
    };
    let rows = locality_rows(c, &args.province, level).await?;
    Ok(Template {
        title: "CHỈ TIÊU TRIỂN KHAI ĐỀ ÁN 06".into(),
        subtitle: format!("{province_name} — hạn {}", due.format("%d/%m/%Y")),
        data_sheet: "Chỉ tiêu".into(),
        fixed: fixed_columns(),
        rows,
        columns: indicators
            .iter()
            .map(|code| TemplateColumn {
                name_vi: names
                    .get(code)
                    .map_or_else(|| code.clone(), |(vi, _)| vi.clone()),
                code: code.clone(),
                kind: Kind::Number,
            })
            .collect(),
        prefill: HashMap::new(),
        info_sheet: "Thông tin".into(),
        info_title: "Thông tin chỉ tiêu".into(),
        info: vec![
            info(
                "Bộ mã đơn vị hành chính",
                "edition",
                InfoValue::Text(c.edition.clone()),
                false,
            ),
            info(
                "Tỉnh",
                "province",
                InfoValue::Text(args.province.clone()),
                false,
            ),
            info("Hạn chỉ tiêu", "due_date", InfoValue::Date(due), true),
        ],
    })
}
