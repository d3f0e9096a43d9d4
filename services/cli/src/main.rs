//! `p06`: runs the whole system for development (`p06 up`), mints development tokens, probes health.

mod client;
mod demo;
mod import;
mod output;
mod probe;
mod query;
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
}

#[derive(Subcommand)]
enum Command {
    /// Run the aggregator and the three agency services in one process, with demo data.
    Up(up::UpArgs),
    /// Mint a development token signed with the key `p06 up` generated.
    Token(token::TokenArgs),
    /// Check a service's gRPC health; exits 0 when it is SERVING (for container health checks).
    Probe(probe::ProbeArgs),
    /// Consolidated status of a province, district or commune: value, target, %, completeness.
    Status(query::StatusArgs),
    /// One row per locality: value, target, %, rank, change.
    Progress(query::ProgressArgs),
    /// Per district: how many communes are below a percent of target ("Kông Chro 5/14").
    Districts(query::DistrictsArgs),
    /// Who reported on time, late, not at all, or vaguely.
    Compliance(query::ComplianceArgs),
    /// Open and resolved flags; --watch streams new ones.
    Flags(query::FlagsArgs),
    /// Targets (chỉ tiêu).
    Targets {
        #[command(subcommand)]
        command: TargetsCommand,
    },
    /// Submit an agency's CSV (one row per locality, the agency's own columns) as one report.
    Submit(import::SubmitArgs),
}

#[derive(Subcommand)]
enum TargetsCommand {
    /// Import targets from CSV: indicator_code,locality_code,due_date,value.
    Import(import::TargetsImportArgs),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        match cli.command {
            Command::Up(args) => up::run(args).await,
            Command::Token(args) => token::run(args),
            Command::Probe(args) => probe::run(args).await,
            Command::Status(args) => query::status(args).await,
            Command::Progress(args) => query::progress(args).await,
            Command::Districts(args) => query::districts(args).await,
            Command::Compliance(args) => query::compliance(args).await,
            Command::Flags(args) => query::flags(args).await,
            Command::Targets {
                command: TargetsCommand::Import(args),
            } => import::targets_import(args).await,
            Command::Submit(args) => import::submit(args).await,
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
