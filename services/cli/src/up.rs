//! `p06 up`: the whole system in one process for development and demos.
//!
//! Starts the aggregator (embedded SQLite in the data directory unless `--database-url` says
//! otherwise) and the police, health and justice services on their documented ports, loads the demo
//! data through the real APIs, prints the endpoints, and shuts everything down on Ctrl-C.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use p06_aggregator::{Aggregator, AggregatorConfig};
use p06_kit::forward::{AggregatorClient, ForwardConfig};
use p06_kit::host::ServiceHost;

#[derive(Debug, clap::Args)]
pub struct UpArgs {
    /// Data directory: SQLite database and development keys.
    #[arg(long, env = "P06_DATA_DIR", default_value = ".p06")]
    data_dir: PathBuf,
    /// Use this database instead of the embedded SQLite file (`postgres://…`).
    #[arg(long, env = "P06_DATABASE_URL")]
    database_url: Option<String>,
    /// Address to bind the four services to.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    #[arg(long, default_value_t = 50051)]
    aggregator_port: u16,
    #[arg(long, default_value_t = 50052)]
    police_port: u16,
    #[arg(long, default_value_t = 50053)]
    health_port: u16,
    #[arg(long, default_value_t = 50054)]
    justice_port: u16,
    /// Do not load the demo province.
    #[arg(long)]
    no_demo: bool,
}

pub async fn run(args: UpArgs) -> anyhow::Result<()> {
    let _telemetry = p06_telemetry::init(p06_telemetry::TelemetryConfig::from_env("p06"))?;
    std::fs::create_dir_all(&args.data_dir)?;
    let keys = crate::token::dev_keys(&args.data_dir)?;
    let auth = keys.authenticator()?;

    let config = AggregatorConfig {
        database_url: args.database_url.clone(),
        data_dir: args.data_dir.clone(),
        ..AggregatorConfig::for_database("")
    };
    let aggregator = Aggregator::build(&config).await?;
    let _sweep = aggregator.spawn_missing_sweep();
    let at = |port| SocketAddr::new(args.host, port);
    let aggregator_running = aggregator
        .host(auth.clone())
        .spawn(at(args.aggregator_port))
        .await?;
    let client = AggregatorClient::new(ForwardConfig::new(aggregator_running.url()))?;
    let police = ServiceHost::new(auth.clone())
        .with_service(p06_police::PoliceApi::new(client.clone()).into_server())
        .spawn(at(args.police_port))
        .await?;
    let health = ServiceHost::new(auth.clone())
        .with_service(p06_health::HealthApi::new(client.clone()).into_server())
        .spawn(at(args.health_port))
        .await?;
    let justice = ServiceHost::new(auth.clone())
        .with_service(p06_justice::JusticeApi::new(client).into_server())
        .spawn(at(args.justice_port))
        .await?;

    if !args.no_demo {
        let endpoints = crate::demo::Endpoints {
            aggregator: aggregator_running.url(),
            police: police.url(),
            health: health.url(),
            justice: justice.url(),
        };
        let summary = crate::demo::load(&endpoints, &keys).await?;
        println!("demo data: {summary}");
    }

    println!();
    println!("P06 Indicator Exchange is up (Ctrl-C to stop)");
    println!(
        "  aggregator  {}  IngestService, CatalogService",
        aggregator_running.url()
    );
    println!("  police      {}  PoliceReportingService", police.url());
    println!("  health      {}  HealthReportingService", health.url());
    println!("  justice     {}  JusticeReportingService", justice.url());
    println!("  database    {}", config.database_url());
    println!();
    println!("Every service serves grpc.health.v1 and server reflection. A development token:");
    println!(
        "  cargo run -p p06 -- token --data-dir {} --agency police --province 64 --edition 2024 --role reporter",
        args.data_dir.display()
    );

    p06_kit::host::shutdown_signal().await;
    for (name, running) in [
        ("police", police),
        ("health", health),
        ("justice", justice),
        ("aggregator", aggregator_running),
    ] {
        if let Err(e) = running.shutdown().await {
            tracing::warn!(service = name, error = %e, "shutdown error");
        }
    }
    println!("stopped");
    Ok(())
}
