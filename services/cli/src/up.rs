//! `p06 up`: the whole system in one process for development and demos.
//!
//! Starts the aggregator (embedded SQLite in the data directory unless `--database-url` says
//! otherwise), the police, health and justice services and the task force's web page on their
//! documented ports, loads the demo data through the real APIs, prints the endpoints and a one-time
//! sign-in link for the demo province's page, and shuts everything down on Ctrl-C.

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
    /// Port of the aggregator (0: any free port).
    #[arg(long, env = "P06_AGGREGATOR_PORT", default_value_t = 50051)]
    aggregator_port: u16,
    /// Port of the police service (0: any free port).
    #[arg(long, env = "P06_POLICE_PORT", default_value_t = 50052)]
    police_port: u16,
    /// Port of the health service (0: any free port).
    #[arg(long, env = "P06_HEALTH_PORT", default_value_t = 50053)]
    health_port: u16,
    /// Port of the justice service (0: any free port).
    #[arg(long, env = "P06_JUSTICE_PORT", default_value_t = 50054)]
    justice_port: u16,
    /// Port of the task force's web page (`p06-web`; 0: any free port).
    #[arg(long, env = "P06_WEB_PORT", default_value_t = 8080)]
    web_port: u16,
    /// Do not load the demo province.
    #[arg(long)]
    no_demo: bool,
}

/// Refuses to start when a port is taken (a second `p06 up`, or another program), naming the port
/// and the flag that moves it, before anything is opened or written.
fn check_ports(args: &UpArgs) -> anyhow::Result<()> {
    for (port, flag, env) in [
        (
            args.aggregator_port,
            "--aggregator-port",
            "P06_AGGREGATOR_PORT",
        ),
        (args.police_port, "--police-port", "P06_POLICE_PORT"),
        (args.health_port, "--health-port", "P06_HEALTH_PORT"),
        (args.justice_port, "--justice-port", "P06_JUSTICE_PORT"),
        (args.web_port, "--web-port", "P06_WEB_PORT"),
    ] {
        if port == 0 {
            continue;
        }
        if let Err(e) = std::net::TcpListener::bind(SocketAddr::new(args.host, port)) {
            return Err(port_error(args.host, port, flag, env, &e));
        }
    }
    Ok(())
}

fn port_error(host: IpAddr, port: u16, flag: &str, env: &str, e: &std::io::Error) -> anyhow::Error {
    let busy = e.kind() == std::io::ErrorKind::AddrInUse;
    crate::error::user(crate::lang::tr(
        format!(
            "không mở được cổng {port} trên {host}: {}. Chọn cổng khác bằng {flag} <cổng> (hoặc biến môi trường {env}; 0 = cổng trống bất kỳ)",
            if busy {
                "cổng đang được dùng (một `p06 up` khác đang chạy?)".to_owned()
            } else {
                e.to_string()
            }
        ),
        format!(
            "cannot listen on port {port} of {host}: {}. Choose another with {flag} <port> (or the environment variable {env}; 0 = any free port)",
            if busy {
                "the port is in use (another `p06 up` running?)".to_owned()
            } else {
                e.to_string()
            }
        ),
    ))
}

pub async fn run(args: UpArgs) -> anyhow::Result<()> {
    check_ports(&args)?;
    let _telemetry = p06_telemetry::init(p06_telemetry::TelemetryConfig::from_env("p06"))?;
    std::fs::create_dir_all(&args.data_dir)?;
    let keys = crate::token::dev_keys(&args.data_dir)?;
    let auth = keys.authenticator()?;

    let config = AggregatorConfig {
        database_url: args.database_url.clone(),
        data_dir: args.data_dir.clone(),
        ..AggregatorConfig::for_database("")
    };
    // System time, except while the demo replays reports at the instants they were received.
    let clock = p06_domain::clock::ReplayClock::new();
    let aggregator =
        Aggregator::build_with_clock(&config, std::sync::Arc::new(clock.clone())).await?;
    let at = |port| SocketAddr::new(args.host, port);
    let aggregator_running = aggregator
        .host(auth.clone())
        .spawn(at(args.aggregator_port))
        .await
        .map_err(|e| {
            port_error(
                args.host,
                args.aggregator_port,
                "--aggregator-port",
                "P06_AGGREGATOR_PORT",
                &e,
            )
        })?;
    let client = AggregatorClient::new(ForwardConfig::new(aggregator_running.url()))?;
    let police = ServiceHost::new(auth.clone())
        .with_service(p06_police::PoliceApi::new(client.clone()).into_server())
        .spawn(at(args.police_port))
        .await
        .map_err(|e| {
            port_error(
                args.host,
                args.police_port,
                "--police-port",
                "P06_POLICE_PORT",
                &e,
            )
        })?;
    let health = ServiceHost::new(auth.clone())
        .with_service(p06_health::HealthApi::new(client.clone()).into_server())
        .spawn(at(args.health_port))
        .await
        .map_err(|e| {
            port_error(
                args.host,
                args.health_port,
                "--health-port",
                "P06_HEALTH_PORT",
                &e,
            )
        })?;
    let justice = ServiceHost::new(auth.clone())
        .with_service(p06_justice::JusticeApi::new(client).into_server())
        .spawn(at(args.justice_port))
        .await
        .map_err(|e| {
            port_error(
                args.host,
                args.justice_port,
                "--justice-port",
                "P06_JUSTICE_PORT",
                &e,
            )
        })?;

    let web = p06_web::Web::new(&p06_web::WebConfig::for_aggregator(
        aggregator_running.url(),
    ))?
    .spawn(at(args.web_port))
    .await
    .map_err(|e| port_error(args.host, args.web_port, "--web-port", "P06_WEB_PORT", &e))?;

    if !args.no_demo {
        let endpoints = crate::demo::Endpoints {
            aggregator: aggregator_running.url(),
            police: police.url(),
            health: health.url(),
            justice: justice.url(),
        };
        let demo = crate::demo::Demo {
            endpoints: &endpoints,
            keys: &keys,
            clock: &clock,
            state: &aggregator.state,
        };
        for summary in crate::demo::load(&demo).await? {
            println!("demo data: {summary}");
        }
    }
    // After the demo, so the sweep judges every deadline by real time.
    let _sweep = aggregator.spawn_missing_sweep();

    println!();
    println!("P06 Indicator Exchange is up (Ctrl-C to stop)");
    println!(
        "  aggregator  {}  IngestService, CatalogService, AdminService, TaskForceService",
        aggregator_running.url()
    );
    println!("  police      {}  PoliceReportingService", police.url());
    println!("  health      {}  HealthReportingService", health.url());
    println!("  justice     {}  JusticeReportingService", justice.url());
    println!("  web page    {}  the task force's page", web.url());
    println!("  database    {}", config.database_url());
    println!();
    println!("Every service serves grpc.health.v1 and server reflection. A development token:");
    println!(
        "  {} token --data-dir {} --agency police --province {} --role reporter",
        crate::client::program(),
        args.data_dir.display(),
        crate::demo::CURRENT_PROVINCE
    );

    // A one-time link: the web service holds the token; the link carries only a random code.
    let viewer = crate::token::token(
        &keys,
        p06_auth::Agency::Taskforce,
        crate::demo::CURRENT_EDITION,
        crate::demo::CURRENT_PROVINCE,
        p06_auth::Role::TaskforceViewer,
    )?;
    let landing = if args.no_demo {
        "/".to_owned()
    } else {
        format!("/p/{}", crate::demo::CURRENT_PROVINCE)
    };
    println!();
    println!(
        "Open the task force's page (one-time sign-in link for province {}, edition {}, valid 15 minutes):",
        crate::demo::CURRENT_PROVINCE,
        crate::demo::CURRENT_EDITION
    );
    println!("  {}", web.one_time_link(&viewer, &landing));

    p06_kit::host::shutdown_signal().await;
    // A live flags page keeps its connection open: do not wait for browsers to leave.
    if tokio::time::timeout(std::time::Duration::from_secs(5), web.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(service = "web", "open connections did not close in 5 s");
    }
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
