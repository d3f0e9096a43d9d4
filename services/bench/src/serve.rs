//! `p06-bench serve-aggregator`: the real aggregator, built and served exactly like the Serve branch
//! of `services/aggregator/src/main.rs`, in a child process of the benchmark so that its CPU time
//! and resident memory can be read from `/proc/<pid>`.
//!
//! It prints `P06_BENCH_LISTENING <addr>` on stdout once it accepts calls, and stops (draining
//! in-flight calls) on Ctrl-C, SIGTERM or when its stdin closes — so it never outlives the bench.

use std::io::Write as _;

use clap::Parser;
use p06_aggregator::{Aggregator, AggregatorConfig};

/// The line prefix announcing the bound address.
pub const READY_PREFIX: &str = "P06_BENCH_LISTENING ";

/// The line the bench writes on the child's stdin to ask for the store's counts.
pub const COUNTS_REQUEST: &str = "counts";

/// The line prefix of the answer: `P06_BENCH_COUNTS <statements> <reports>` (`Store::counts`).
pub const COUNTS_PREFIX: &str = "P06_BENCH_COUNTS ";

#[derive(Parser)]
#[command(
    name = "p06-bench serve-aggregator",
    about = "The aggregator, for the benchmark"
)]
pub struct ServeArgs {
    #[command(flatten)]
    config: AggregatorConfig,
    #[command(flatten)]
    auth: p06_kit::host::AuthArgs,
    #[command(flatten)]
    limits: p06_kit::limits::LimitsConfig,
}

pub fn run(args: impl IntoIterator<Item = String>) -> anyhow::Result<()> {
    let args = ServeArgs::parse_from(args);
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(serve(args))
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let _telemetry =
        p06_telemetry::init(p06_telemetry::TelemetryConfig::from_env("p06-aggregator"))?;
    let aggregator = Aggregator::build(&args.config).await?;
    let _sweep = aggregator.spawn_missing_sweep();
    let _retention = aggregator.spawn_flag_retention();
    let auth = args.auth.authenticator().await?;
    let listener = tokio::net::TcpListener::bind(args.config.listen).await?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{READY_PREFIX}{}", listener.local_addr()?)?;
        out.flush()?;
    }
    let state = aggregator.state.clone();
    let counts = move || {
        let c = state.store.counts();
        format!("{COUNTS_PREFIX}{} {}", c.statements, c.reports)
    };
    aggregator
        .host(auth)
        .with_limits(args.limits.checked()?)
        .serve(listener, stop_requested(counts))
        .await?;
    Ok(())
}

/// Completes on Ctrl-C, SIGTERM, or end of stdin (the parent closed it or died). A line
/// [`COUNTS_REQUEST`] on stdin is answered on stdout with the line `counts` makes.
async fn stop_requested(counts: impl Fn() -> String + Send + 'static) {
    let (closed, stdin_closed) = tokio::sync::oneshot::channel::<()>();
    std::thread::spawn(move || {
        let stdin = std::io::stdin().lock();
        for line in std::io::BufRead::lines(stdin) {
            let Ok(line) = line else { break };
            if line.trim() == COUNTS_REQUEST {
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{}", counts());
                let _ = out.flush();
            }
        }
        let _ = closed.send(());
    });
    tokio::select! {
        _ = p06_kit::host::shutdown_signal() => {}
        _ = stdin_closed => {}
    }
}
