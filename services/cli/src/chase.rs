//! `p06 chase`: drafts the task force's chase-up letter (công văn đôn đốc) from the facts the
//! aggregator returns with the caller's token, as Markdown (stdout or `-o letter.md`) or Word
//! (`-o letter.docx`). The facts, the letter model and both renderers are `p06-letter`'s, shared
//! with the web page.

use std::path::PathBuf;

use chrono::NaiveDate;
use p06_letter::{Ask, Authorize, Letter, docx, markdown};
use tonic::Request;

use crate::client::Connection;
use crate::flags::vietnam;
use crate::lang;

#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  p06 chase --province 52\n  p06 chase --province 52 --as-of 2026-12-04 --deadline-days 7 -o cong-van-don-doc.docx"
)]
pub struct ChaseArgs {
    #[command(flatten)]
    connection: Connection,
    /// Province code in --edition, e.g. 52 (see `p06 localities`).
    #[arg(long, value_name = "CODE")]
    province: String,
    /// The date the letter is drafted as of, YYYY-MM-DD (default: today in Vietnam).
    #[arg(long, value_name = "DATE")]
    as_of: Option<NaiveDate>,
    /// The new deadline, in working days after --as-of (weekends and public holidays skipped).
    #[arg(long, value_name = "N", default_value_t = 5)]
    deadline_days: u32,
    /// Write the letter to FILE: .docx (Word) or .md (Markdown). Default: Markdown on stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
}

/// The command line's token on every call (checked once before the first).
struct Token<'a>(&'a Connection);

impl Authorize for Token<'_> {
    fn authorize<T>(&self, message: T) -> Request<T> {
        self.0
            .request(message)
            .expect("the token was checked before the first call")
    }
}

enum Output {
    Markdown,
    Docx,
}

pub async fn chase(args: ChaseArgs) -> anyhow::Result<()> {
    let as_of = args
        .as_of
        .unwrap_or_else(|| chrono::Utc::now().with_timezone(&vietnam()).date_naive());
    let format = match &args.output {
        None => Output::Markdown,
        Some(path) => match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("docx") => Output::Docx,
            Some("md" | "markdown") => Output::Markdown,
            _ => crate::bail_user!(
                vi: "-o {} phải là tệp .docx hoặc .md", path.display();
                en: "-o {} must be a .docx or .md file", path.display()
            ),
        },
    };
    let c = &args.connection;
    // A missing or unusable token is the user's to fix: say so before calling anything.
    c.request(())?;
    let ask = Ask {
        edition: c.edition.clone(),
        province: args.province.clone(),
        as_of,
        deadline_days: args.deadline_days,
    };
    let facts = p06_letter::gather(c.channel(&c.server).await?, &Token(c), &ask)
        .await
        .map_err(|f| c.refused(f.rpc, Some(&args.province))(f.status))?;
    let Some(letter) = Letter::from_facts(&facts) else {
        eprintln!(
            "{}",
            lang::tr(
                format!(
                    "Không có cơ quan nào cần đôn đốc tính đến ngày {}: không có báo cáo thiếu, trễ, chung chung hay số liệu không khớp.",
                    p06_letter::letter::date(as_of)
                ),
                format!(
                    "Nobody to chase as of {as_of}: no missing, late or vague report and no mismatch."
                ),
            )
        );
        return Ok(());
    };
    let bytes = match format {
        Output::Markdown => markdown::render(&letter).into_bytes(),
        Output::Docx => docx::render(&letter)?,
    };
    match &args.output {
        Some(path) => {
            std::fs::write(path, bytes).map_err(|e| crate::error::file(path, &e))?;
            eprintln!(
                "{}",
                lang::tr(
                    format!("Đã ghi công văn: {}", path.display()),
                    format!("Letter written: {}", path.display()),
                )
            );
        }
        None => {
            use std::io::Write as _;
            let mut out = std::io::stdout().lock();
            out.write_all(&bytes)?;
            out.flush()?;
        }
    }
    Ok(())
}
