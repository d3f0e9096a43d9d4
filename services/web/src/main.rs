//! `p06-web`: the task force's web page as its own process.
//!
//! `p06-web` serves (settings from flags or `P06_WEB_*` variables, see `--help`);
//! `p06-web probe 127.0.0.1:8080` asks a running one for `/healthz` and exits 0 when it answers
//! `ok` (a container health check for images without curl).

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context as _;
use clap::Parser;
use p06_web::{Web, WebConfig};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

#[derive(Parser)]
#[command(name = "p06-web", version, about = "P06 task force web page (HTTP)")]
struct Cli {
    #[command(flatten)]
    config: WebConfig,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Health check: GET /healthz of a running p06-web; exit 0 when it answers "ok".
    #[command(after_help = "Example:\n  p06-web probe 127.0.0.1:8080")]
    Probe {
        /// The web page's address.
        #[arg(default_value = "127.0.0.1:8080")]
        addr: SocketAddr,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    if let Some(Command::Probe { addr }) = cli.command {
        return tokio::time::timeout(Duration::from_secs(3), probe(addr))
            .await
            .with_context(|| format!("p06-web at {addr} did not answer within 3 s"))?;
    }
    let _telemetry = p06_telemetry::init(p06_telemetry::TelemetryConfig::from_env("p06-web"))?;
    let web = Web::new(&cli.config)?;
    let listener = tokio::net::TcpListener::bind(cli.config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", cli.config.listen))?;
    tracing::info!(
        addr = %listener.local_addr()?,
        aggregator = cli.config.aggregator_url,
        "web page listening"
    );
    web.serve(listener, p06_kit::host::shutdown_signal())
        .await?;
    Ok(())
}

async fn probe(addr: SocketAddr) -> anyhow::Result<()> {
    let mut stream = tokio::net::TcpStream::connect(addr)
        .await
        .with_context(|| format!("cannot connect to p06-web at {addr}"))?;
    stream
        .write_all(
            format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )
        .await?;
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply).await?;
    let reply = String::from_utf8_lossy(&reply);
    let status = reply.lines().next().unwrap_or_default();
    if status.starts_with("HTTP/1.1 200") && reply.ends_with("ok") {
        println!("p06-web at {addr}: ok");
        Ok(())
    } else {
        anyhow::bail!("p06-web at {addr} answered {status:?}")
    }
}
