//! `p06-bench`: the P06 benchmark program (issue 8). See `services/bench/README.md`.
//!
//! Starts the real aggregator as a child process (this binary re-executed as `serve-aggregator`),
//! the agency services in-process, and measures ingest, its ceilings and the task-force queries,
//! printing one `BENCH {json}` line per scenario and a summary; exits non-zero when any request
//! failed.

mod ceilings;
mod child;
mod cli;
mod cpu;
mod database;
mod dataset;
mod figures;
mod flags;
mod flood;
mod fsync;
mod ingest;
mod load;
mod overload;
mod procfs;
mod queries;
mod report;
mod rig;
mod run;
mod serve;
mod setup;
mod web;
mod world;

use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("serve-aggregator") {
        return match serve::run(args.into_iter().skip(1)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("p06-bench serve-aggregator: {e:#}");
                ExitCode::FAILURE
            }
        };
    }
    if args.get(1).map(String::as_str) == Some("flood") {
        return match flood::run(args.into_iter().skip(1)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("p06-bench flood: {e:#}");
                ExitCode::FAILURE
            }
        };
    }
    let settings = cli::Settings::from_cli(cli::Cli::parse());
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("p06-bench: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(run::run(settings)) {
        Ok(report) => {
            report.print_summary();
            if report.failed() {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => {
            eprintln!("p06-bench: {e:#}");
            ExitCode::from(2)
        }
    }
}
