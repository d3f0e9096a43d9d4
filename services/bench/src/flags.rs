//! Scenario `flags` (issue 21): a province with `--flag-count` flags (default 100,000, smoke
//! 2,000), loaded through the store's bulk flag load (`Store::bulk_insert_flags`, one transaction)
//! and the aggregator restarted on them; then
//!
//! - `list_flags_*`: `ListFlags` with page_size 50, one call at a time — the first page, the
//!   first page of one kind, of one agency's open flags, and a page deep in the listing (target
//!   p99 ≤ 20 ms);
//! - 200 `WatchFlags` streams (200 token subjects, over 10 connections) opened and left idle for
//!   the measurement time: the aggregator's added RSS (target ≤ 50 MB) and its CPU share of one
//!   core while idle (target ≤ 5 %);
//! - one police report submitted to the aggregator raises a LATE flag: the time until every
//!   stream has received it.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};

use chrono::Utc;
use p06_aggregator::store::compliance::NewFlag;
use p06_auth::{Agency as AuthAgency, Grant, Role};
use p06_proto::aggregation::task_force_service_client::TaskForceServiceClient;
use p06_proto::aggregation::{ListFlagsRequest, WatchFlagsRequest};
use p06_proto::common::LocalityRef;
use serde_json::{Value, json};

use crate::figures::{self, Agency, ReportKey, Week};
use crate::load::{self, Outcome, Plan, round1};
use crate::rig::{Rig, Tokens, authed, channel};
use crate::setup::Keys;
use crate::world::{EDITION, Province};

const PAGE_SIZE: i32 = 50;
const STREAMS: usize = 200;
const CONNECTIONS: usize = 10;
const TARGET_P99_US: u64 = 20_000;
const TARGET_ADDED_RSS_KIB: u64 = 50 * 1024;
const TARGET_IDLE_CPU_SHARE: f64 = 0.05;

const KINDS: [&str; 5] = ["MISSING", "LATE", "VAGUE", "TREND_JUMP", "STOCK_DECREASE"];

fn flag(p: &Province, n: usize) -> NewFlag {
    let agency = Agency::ALL[n % 3];
    let week = Week::ago(1 + (n / 1_000 % 150) as u32);
    NewFlag {
        kind: KINDS[n % KINDS.len()].into(),
        agency: agency.name().into(),
        obligation: agency.obligation().into(),
        province_id: p.id,
        period_start: week.start,
        period_end: week.end,
        report_id: None,
        indicator_code: None,
        locality_id: Some(p.communes[n % p.communes.len()].id),
        message: format!("bench flag {n}"),
        details: None,
        dedupe_key: format!("bench|{}|{n}", p.id),
    }
}

pub struct FlagSettings {
    pub flag_count: usize,
    pub idle: Duration,
    pub warmup: Duration,
    pub duration: Duration,
    pub calls: u64,
}

pub async fn run(
    rig: &mut Rig,
    keys: &Keys,
    tokens: &Tokens,
    p: &Province,
    s: &FlagSettings,
) -> anyhow::Result<(Value, u64, Vec<String>)> {
    // Load the flags.
    let started = Instant::now();
    let now = Utc::now();
    let mut stored = 0;
    for chunk in (0..s.flag_count).collect::<Vec<_>>().chunks(20_000) {
        let flags: Vec<_> = chunk.iter().map(|n| (flag(p, *n), now)).collect();
        stored += rig
            .store
            .bulk_insert_flags(&flags, "p06-bench", now)
            .await?;
    }
    let load_seconds = started.elapsed().as_secs_f64();
    eprintln!("flags: {stored} flags loaded in {load_seconds:.1} s; restarting the aggregator");
    rig.restart_aggregator()?;

    let viewer = keys.token(AuthAgency::Taskforce, &p.code, Role::TaskforceViewer)?;
    let url = rig.aggregator.url();
    let province = Some(LocalityRef {
        edition: EDITION.into(),
        code: p.code.clone(),
    });
    // A key deep in the listing: the middle flag's.
    let deep = {
        let mut client = TaskForceServiceClient::new(channel(&url)?);
        let mut token = String::new();
        let mut middle = String::new();
        for _ in 0..3 {
            let page = client
                .list_flags(authed(
                    ListFlagsRequest {
                        province: province.clone(),
                        page_size: 1_000,
                        page_token: token.clone(),
                        ..Default::default()
                    },
                    &viewer,
                ))
                .await?
                .into_inner();
            middle = page.next_page_token.clone();
            token = page.next_page_token;
            if token.is_empty() {
                break;
            }
        }
        middle
    };
    let cases: Vec<(&str, ListFlagsRequest)> = vec![
        ("list_flags_first_page", ListFlagsRequest::default()),
        (
            "list_flags_kind",
            ListFlagsRequest {
                kind: "VAGUE".into(),
                ..Default::default()
            },
        ),
        (
            "list_flags_agency_open",
            ListFlagsRequest {
                agency: "health".into(),
                state: "OPEN".into(),
                ..Default::default()
            },
        ),
        (
            "list_flags_deep_page",
            ListFlagsRequest {
                page_token: deep,
                ..Default::default()
            },
        ),
    ];
    let mut measurements = Vec::new();
    let mut outcomes: Vec<Outcome> = Vec::new();
    for (name, request) in cases {
        let request = ListFlagsRequest {
            province: province.clone(),
            page_size: PAGE_SIZE,
            ..request
        };
        let ch = channel(&url)?;
        let token = viewer.clone();
        let plan = Plan::new(1, s.warmup, s.duration).at_most(s.calls);
        let outcome = load::drive(plan, &rig.meter, Arc::new(AtomicU64::new(0)), move |_| {
            let (request, token) = (request.clone(), token.clone());
            let mut client = TaskForceServiceClient::new(ch.clone());
            async move {
                let page = client
                    .list_flags(authed(request, &token))
                    .await
                    .map_err(|e| format!("{:?}: {}", e.code(), e.message()))?
                    .into_inner();
                if page.flags.len() != PAGE_SIZE as usize {
                    return Err(format!("a page of {} flags", page.flags.len()));
                }
                Ok(page.flags.len() as u64)
            }
        })
        .await;
        crate::report::progress("flags", name, &outcome);
        measurements.push(outcome.json(name, "flags"));
        outcomes.push(outcome);
    }
    let worst_p99 = outcomes
        .iter()
        .map(|o| o.quantile_us(0.99))
        .max()
        .unwrap_or(0);

    // Idle streams.
    let pid = rig.aggregator.pid;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = rig.aggregator.memory();
    let connections: Vec<_> = (0..CONNECTIONS)
        .map(|_| channel(&url))
        .collect::<anyhow::Result<_>>()?;
    let (arrived_tx, mut arrived) = tokio::sync::mpsc::unbounded_channel::<Instant>();
    let mut holders = Vec::new();
    for i in 0..STREAMS {
        let token = keys.mint(
            &Grant::new(
                AuthAgency::Taskforce,
                EDITION,
                &p.code,
                Role::TaskforceViewer,
            )
            .with_subject(format!("bench-viewer-{i}"))
            .with_ttl(chrono::Duration::hours(2)),
        )?;
        let mut client = TaskForceServiceClient::new(connections[i % CONNECTIONS].clone());
        let mut stream = client
            .watch_flags(authed(
                WatchFlagsRequest {
                    province: province.clone(),
                    kind: String::new(),
                    include_open: false,
                    after: String::new(),
                },
                &token,
            ))
            .await?
            .into_inner();
        let tx = arrived_tx.clone();
        holders.push(tokio::spawn(async move {
            if let Ok(Some(_)) = stream.message().await {
                let _ = tx.send(Instant::now());
            }
            // Keep the stream open until the scenario ends.
            std::future::pending::<()>().await;
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let opened = rig.aggregator.memory();
    let cpu_start = crate::procfs::cpu_time(pid).unwrap_or_default();
    let idle_started = Instant::now();
    tokio::time::sleep(s.idle).await;
    let idle_cpu = crate::procfs::cpu_time(pid).unwrap_or_default() - cpu_start;
    let idle_wall = idle_started.elapsed();
    let after_idle = rig.aggregator.memory();
    let added_kib = after_idle.rss_kib.saturating_sub(before.rss_kib);
    let cpu_share = idle_cpu.as_secs_f64() / idle_wall.as_secs_f64();

    // One raised flag reaches every stream.
    let week = Week::ago(2);
    let report = figures::agency_report(
        &ReportKey {
            agency: Agency::Police,
            province: p,
            week,
            request_id: uuid::Uuid::new_v4().to_string(),
            revision: 1,
        },
        std::slice::from_ref(&p.communes[0]),
    );
    // Straight to the aggregator's IngestService (the agency services still forward to the
    // address of the aggregator before the restart): a first revision of a past week, LATE.
    let mut ingest =
        p06_proto::aggregation::ingest_service_client::IngestServiceClient::new(channel(&url)?);
    let raised_at = Instant::now();
    let mut errors = 0;
    let mut samples = Vec::new();
    if let Err(e) = ingest
        .submit_report(authed(
            figures::forwarded(report),
            tokens.reporter(Agency::Police, &p.code),
        ))
        .await
    {
        errors += 1;
        samples.push(format!("raising the flag: {:?}: {}", e.code(), e.message()));
    }
    let mut latencies = Vec::with_capacity(STREAMS);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while latencies.len() < STREAMS {
        match tokio::time::timeout_at(deadline, arrived.recv()).await {
            Ok(Some(at)) => latencies.push(at.duration_since(raised_at)),
            _ => break,
        }
    }
    if latencies.len() < STREAMS {
        errors += (STREAMS - latencies.len()) as u64;
        samples.push(format!(
            "{} of {STREAMS} streams received no flag within 10 s",
            STREAMS - latencies.len()
        ));
    }
    latencies.sort();
    let ms = |d: Option<&Duration>| d.map(|d| round1(d.as_secs_f64() * 1e3));
    for h in holders {
        h.abort();
    }
    drop(connections);

    let meets = worst_p99 <= TARGET_P99_US
        && added_kib <= TARGET_ADDED_RSS_KIB
        && cpu_share <= TARGET_IDLE_CPU_SHARE;
    let summary = vec![
        format!(
            "{stored} flags in province {} loaded in {load_seconds:.1} s; ListFlags page {PAGE_SIZE}: worst p99 {:.2} ms (target ≤ 20 ms)",
            p.code,
            worst_p99 as f64 / 1e3
        ),
        format!(
            "{STREAMS} idle WatchFlags streams: +{:.1} MiB RSS (target ≤ 50), {:.2} % of a core over {:.0} s (target ≤ 5 %)",
            added_kib as f64 / 1024.0,
            cpu_share * 100.0,
            idle_wall.as_secs_f64()
        ),
        format!(
            "one raised flag reached {}/{STREAMS} streams: p50 {} ms, max {} ms; targets {}",
            latencies.len(),
            ms(latencies.get(latencies.len() / 2)).map_or("-".into(), |v| v.to_string()),
            ms(latencies.last()).map_or("-".into(), |v| v.to_string()),
            if meets { "met" } else { "MISSED" }
        ),
    ];
    let out = json!({
        "scenario": "flags",
        "flags": stored,
        "province": { "code": p.code, "name": p.name },
        "load_seconds": load::round3(load_seconds),
        "page_size": PAGE_SIZE,
        "measurements": measurements,
        "list_worst_p99_us": worst_p99,
        "target_p99_us": TARGET_P99_US,
        "streams": {
            "count": STREAMS,
            "connections": CONNECTIONS,
            "rss_before_kib": before.rss_kib,
            "rss_opened_kib": opened.rss_kib,
            "rss_after_idle_kib": after_idle.rss_kib,
            "added_rss_kib": added_kib,
            "target_added_rss_kib": TARGET_ADDED_RSS_KIB,
            "idle_seconds": load::round3(idle_wall.as_secs_f64()),
            "idle_cpu_share_of_a_core": load::round3(cpu_share),
            "target_idle_cpu_share": TARGET_IDLE_CPU_SHARE,
            "fanout_received": latencies.len(),
            "fanout_p50_ms": ms(latencies.get(latencies.len() / 2)),
            "fanout_max_ms": ms(latencies.last()),
        },
        "meets_targets": meets,
        "summary": summary,
    });
    let list_errors: u64 = outcomes.iter().map(|o| o.errors).sum();
    for o in &outcomes {
        samples.extend(o.error_samples.iter().cloned());
    }
    Ok((out, errors + list_errors, samples))
}
