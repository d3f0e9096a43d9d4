//! `p06`: runs the whole system for development (`p06 up`), mints development tokens, probes health.

mod demo;
mod probe;
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
