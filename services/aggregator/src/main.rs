//! `p06-aggregator`: the aggregation service as its own process (production layout).

use clap::{Parser, Subcommand};
use p06_aggregator::{Aggregator, AggregatorConfig, store::Store};

#[derive(Parser)]
#[command(
    name = "p06-aggregator",
    version,
    about = "P06 aggregation service (gRPC)"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    config: AggregatorConfig,
    #[command(flatten)]
    auth: p06_kit::host::AuthArgs,
    #[command(flatten)]
    limits: p06_kit::limits::LimitsConfig,
    #[command(flatten)]
    probes: p06_kit::host::ProbeArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Serve gRPC (the default).
    Serve,
    /// Apply pending migrations and exit (guarded against concurrent runs on PostgreSQL).
    Migrate,
    /// Run the MISSING sweep once and print how many flags this process raised.
    Sweep {
        /// The instant to judge deadlines at (RFC 3339); default now.
        #[arg(long)]
        now: Option<chrono::DateTime<chrono::Utc>>,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let _telemetry =
        p06_telemetry::init(p06_telemetry::TelemetryConfig::from_env("p06-aggregator"))?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Migrate => {
            let store = Store::connect(&cli.config.database_url()).await?;
            store.migrate().await?;
            tracing::info!("migrations applied");
        }
        Command::Sweep { now } => {
            let aggregator = Aggregator::build(&cli.config).await?;
            let now = now.unwrap_or_else(chrono::Utc::now);
            let raised = p06_aggregator::compliance::sweep_missing(&aggregator.state, now).await?;
            println!("{raised}");
        }
        Command::Serve => {
            // Keys first: a refused key (production rules, p06_auth::key_check) stops the start
            // before anything else is opened.
            let auth = cli.auth.authenticator().await?;
            let limits = cli.limits.clone().checked()?;
            // P06_TLS_DIR (cert-manager layout): serve TLS only.
            let tls = p06_kit::tls::TlsSettings::from_env().server()?;
            let aggregator = Aggregator::build(&cli.config).await?;
            let _sweep = aggregator.spawn_missing_sweep();
            let _retention = aggregator.spawn_flag_retention();
            let listener = tokio::net::TcpListener::bind(cli.config.listen).await?;
            tracing::info!(addr = %listener.local_addr()?, "aggregator listening");
            aggregator
                .host(auth)
                .with_limits(limits)
                .with_tls(tls)
                .with_health_listener(cli.probes.bind().await?)
                .serve(listener, p06_kit::host::shutdown_signal())
                .await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_command_line_is_consistent() {
        use clap::CommandFactory as _;
        super::Cli::command().debug_assert();
    }
}
