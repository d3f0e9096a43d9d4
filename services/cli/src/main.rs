//! `p06`: runs the whole system for development (`p06 up`), mints development tokens, probes health.

mod audit;
mod catalog;
mod chase;
mod client;
mod demo;
mod error;
mod export;
mod flags;
mod import;
mod keys;
mod lang;
mod output;
mod pace;
mod probe;
mod query;
mod rpc;
mod sheet;
mod status;
mod template;
mod token;
mod up;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "p06",
    version,
    about = "P06 Indicator Exchange: run the system, mint tokens, query"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Language of tables, receipts and errors: vi (default) or en. JSON and CSV keep stable codes.
    #[arg(long, global = true, env = "P06_LANG", value_enum, value_name = "LANG")]
    lang: Option<lang::Lang>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the aggregator and the three agency services in one process, with demo data.
    Up(up::UpArgs),
    /// Mint a development token signed with the key `p06 up` generated.
    Token(token::TokenArgs),
    /// Production signing keys: `p06 keys generate --out DIR` (key pair + JWKS for the secret).
    Keys {
        #[command(subcommand)]
        command: keys::KeysCommand,
    },
    /// Check a service's gRPC health; exits 0 when it is SERVING (for container health checks).
    Probe(probe::ProbeArgs),
    /// Consolidated status of a province, district or commune: value, target, %, completeness.
    Status(status::StatusArgs),
    /// One row per locality: value, target, %, rank, change.
    Progress(query::ProgressArgs),
    /// Per district: how many communes are below a percent of target ("Kông Chro 5/14").
    Districts(query::DistrictsArgs),
    /// Who reported on time, late, not at all, or vaguely.
    Compliance(flags::ComplianceArgs),
    /// Open and resolved flags; --watch streams new ones.
    Flags(flags::FlagsArgs),
    /// The audit trail: flags raised and resolved, periods locked and unlocked, obligations set.
    Audit(audit::AuditArgs),
    /// Draft the chase-up letter (công văn đôn đốc) to the agencies with missing, late or vague
    /// reports or mismatched figures: Markdown, or Word with -o letter.docx.
    Chase(chase::ChaseArgs),
    /// Targets (chỉ tiêu).
    Targets {
        #[command(subcommand)]
        command: TargetsCommand,
    },
    /// The workbook to fill for one report (police, health, justice) or for targets.
    Template(template::TemplateArgs),
    /// Submit an agency's workbook (xlsx, xls, ods) or CSV: one row per locality, as one report.
    Submit(import::SubmitArgs),
    /// The indicator catalog: codes, names, owning agency, kind, denominator.
    Indicators(catalog::IndicatorsArgs),
    /// Reporting obligations: who reports which indicators, how often, by when.
    Obligations(catalog::ObligationsArgs),
    /// Localities of an edition: provinces, or the units below a parent (--parent).
    Localities(catalog::LocalitiesArgs),
}

#[derive(Subcommand)]
enum TargetsCommand {
    /// Import targets from CSV: indicator_code,locality_code,due_date,value.
    Import(import::TargetsImportArgs),
}

fn main() {
    let cli = Cli::parse();
    lang::set(cli.lang.unwrap_or_else(lang::from_env));
    // Errors are printed here as one line (user errors exit 2, unexpected ones 1), never with a
    // backtrace; a closed stdout ends the command quietly with 0.
    let code = match run(cli) {
        Ok(()) => 0,
        Err(e) => error::report(&e),
    };
    std::process::exit(code);
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        match cli.command {
            Command::Up(args) => up::run(args).await,
            Command::Token(args) => token::run(args),
            Command::Keys { command } => keys::run(command),
            Command::Probe(args) => probe::run(args).await,
            Command::Status(args) => status::status(args).await,
            Command::Progress(args) => query::progress(args).await,
            Command::Districts(args) => query::districts(args).await,
            Command::Compliance(args) => flags::compliance(args).await,
            Command::Flags(args) => flags::flags(args).await,
            Command::Audit(args) => audit::audit(args).await,
            Command::Chase(args) => chase::chase(args).await,
            Command::Targets {
                command: TargetsCommand::Import(args),
            } => import::targets_import(args).await,
            Command::Submit(args) => import::submit(args).await,
            Command::Template(args) => template::template(args).await,
            Command::Indicators(args) => catalog::indicators(args).await,
            Command::Obligations(args) => catalog::obligations(args).await,
            Command::Localities(args) => catalog::localities(args).await,
        }
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_command_line_is_consistent() {
        use clap::CommandFactory as _;
        super::Cli::command().debug_assert();
    }
}
