//! The order of a run: ingest and ceilings interleaved on one fresh database (A B A B … for
//! `--rounds`), then the query data set on another, then the memory figures.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::ceilings::{Ceilings, Storage};
use crate::child::{ChildConfig, PhasePeak};
use crate::cli::{Scenario, Settings};
use crate::database::{self, BenchDb, Server};
use crate::dataset::{self, Loader};
use crate::figures::Week;
use crate::ingest::Ingest;
use crate::load::Plan;
use crate::report::{self, RatioInputs, Report};
use crate::rig::{Rig, Tokens};
use crate::setup::{self, Keys};
use crate::world::{self, Province};

/// Issue 8's target for the aggregator's peak resident memory (150 MB).
pub(crate) const TARGET_RSS_KIB: u64 = 150 * 1024;

/// Aggregator memory per phase, for the `memory` scenario line.
#[derive(Default)]
struct Memory {
    startup_hwm_kib: Option<u64>,
    ingest: Option<PhasePeak>,
    queries_load: Option<PhasePeak>,
    queries: Option<PhasePeak>,
}

struct Context {
    settings: Settings,
    keys: Keys,
    tokens: Arc<Tokens>,
    compliance_file: std::path::PathBuf,
}

impl Context {
    /// The aggregator child of a capacity scenario (no per-caller rate limit, see
    /// [`ChildConfig::rate_limit`]).
    fn child_config(&self, db: &BenchDb) -> ChildConfig {
        ChildConfig {
            database_url: db.url.clone(),
            compliance_file: self.compliance_file.clone(),
            keys_dir: self.keys.dir().to_path_buf(),
            verbose: self.settings.verbose,
            rate_limit: false,
        }
    }
}

pub async fn run(settings: Settings) -> anyhow::Result<Report> {
    let all = world::provinces()?;
    let ingest_provinces = Arc::new(world::select(&all, &settings.provinces)?);
    let query_provinces = world::select(&all, &settings.query_provinces)?;
    let overload_province = ingest_provinces
        .first()
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("no province selected"))?;
    let keys = Keys::new()?;
    let compliance_file = setup::compliance_file(keys.dir(), &all)?;
    let tokens = Arc::new(Tokens::reporters(&keys, &all)?);
    let ctx = Context {
        settings,
        keys,
        tokens,
        compliance_file,
    };
    let mut server = Server::open(
        ctx.settings.database_url.as_deref(),
        ctx.settings.db_dir.as_deref(),
    )
    .await?;
    let mut report = Report {
        settings: ctx.settings.json(),
        ..Report::default()
    };
    let mut memory = Memory::default();
    let result = async {
        if ctx.settings.runs(Scenario::Ingest) || ctx.settings.runs(Scenario::Ceilings) {
            ingest_and_ceilings(
                &ctx,
                &mut server,
                ingest_provinces,
                &mut report,
                &mut memory,
            )
            .await?;
        }
        if ctx.settings.runs(Scenario::Overload) {
            overload(&ctx, &mut server, &overload_province, &mut report).await?;
        }
        if ctx.settings.runs(Scenario::Queries) || ctx.settings.runs(Scenario::Web) {
            queries(
                &ctx,
                &mut server,
                &query_provinces,
                &mut report,
                &mut memory,
            )
            .await?;
        }
        if ctx.settings.runs(Scenario::Flags) {
            flags(&ctx, &mut server, &query_provinces, &mut report).await?;
        }
        anyhow::Ok(())
    }
    .await;
    server.cleanup().await;
    result?;
    let overall_peak = [memory.ingest, memory.queries_load, memory.queries]
        .iter()
        .flatten()
        .map(|m| m.peak_kib())
        .max();
    report.emit(json!({
        "scenario": "memory",
        "method": "aggregator child VmHWM from /proc/<pid>/status, reset per phase by writing 5 to /proc/<pid>/clear_refs (falls back to VmRSS sampled every 20 ms when the reset is refused)",
        "startup_hwm_kib": memory.startup_hwm_kib,
        "ingest_peak_rss_kib": memory.ingest.map(|m| m.peak_kib()),
        "queries_load_peak_rss_kib": memory.queries_load.map(|m| m.peak_kib()),
        "queries_peak_rss_kib": memory.queries.map(|m| m.peak_kib()),
        "ingest": memory.ingest,
        "queries_load": memory.queries_load,
        "queries": memory.queries,
        "target_peak_rss_kib": TARGET_RSS_KIB,
        "meets_target": overall_peak.map(|peak| peak <= TARGET_RSS_KIB),
    }));
    Ok(report)
}

fn fsync_probe(
    dir: &std::path::Path,
    ctx: &Context,
    when: &str,
    probes: &mut Vec<crate::fsync::Probe>,
    json: &mut Vec<Value>,
) {
    match crate::fsync::probe(dir, ctx.settings.fsync_probe, when) {
        Ok((p, j)) => {
            eprintln!("fsync probe ({when}): {j}");
            probes.push(p);
            json.push(j);
        }
        Err(e) => eprintln!("warning: fsync probe in {} failed: {e}", dir.display()),
    }
}

async fn ingest_and_ceilings(
    ctx: &Context,
    server: &mut Server,
    provinces: Arc<Vec<Province>>,
    report: &mut Report,
    memory: &mut Memory,
) -> anyhow::Result<()> {
    let s = &ctx.settings;
    let db = server.fresh("ingest").await?;
    let rig = Rig::start(db.clone(), ctx.child_config(&db), &ctx.keys, s.concurrency).await?;
    let described = database::describe(&rig.db, rig.store.connection()).await;
    eprintln!(
        "ingest: aggregator pid {} on {} (ready in {:.1} s); database {described}",
        rig.aggregator.pid,
        rig.aggregator.addr,
        rig.aggregator.startup.as_secs_f64()
    );
    memory.startup_hwm_kib = Some(rig.aggregator.memory().hwm_kib);
    let (mut probes, mut probe_json) = (Vec::new(), Vec::new());
    fsync_probe(
        &rig.db.fsync_dir,
        ctx,
        "before",
        &mut probes,
        &mut probe_json,
    );

    let run_ingest = s.runs(Scenario::Ingest);
    let mut ingest = Ingest::new(provinces.clone(), ctx.tokens.clone());
    let mut ceilings = if s.runs(Scenario::Ceilings) {
        Some(Ceilings::new(&rig, provinces.clone(), ctx.tokens.clone(), s.concurrency).await?)
    } else {
        None
    };
    let postgres = rig.db.backend == "postgres";
    let high = Plan::new(s.concurrency, s.warmup, s.slice);
    let one = Plan::new(1, s.warmup, s.slice);
    for round in 1..=s.rounds {
        eprintln!("-- round {round}/{}", s.rounds);
        if run_ingest {
            ingest.province_reports(&rig, high).await;
            report::progress("ingest", "province_reports", last(&ingest.province));
        }
        if let Some(c) = ceilings.as_mut() {
            c.storage(&rig, high, Storage::Insert).await;
            report::progress(
                "ceilings",
                "storage_insert_batched",
                last(&c.storage_insert),
            );
            if postgres {
                c.storage(&rig, high, Storage::Unnest).await;
                report::progress("ceilings", "storage_unnest", last(&c.storage_unnest));
                c.storage(&rig, high, Storage::Copy).await;
                report::progress("ceilings", "storage_copy", last(&c.storage_copy));
            }
            c.transport(&rig, high, false).await;
            report::progress(
                "ceilings",
                "transport_province_reports",
                last(&c.transport_province),
            );
        }
        if run_ingest {
            ingest.small_reports(&rig, one).await;
            report::progress(
                "ingest",
                "small_reports_1_in_flight",
                last(&ingest.small_low),
            );
        }
        if let Some(c) = ceilings.as_mut() {
            c.transport(&rig, one, true).await;
            report::progress(
                "ceilings",
                "transport_small_1_in_flight",
                last(&c.transport_small_1),
            );
            c.commit(&rig, one).await;
            report::progress("ceilings", "commit_1row_1_in_flight", last(&c.commit_1row));
        }
        if run_ingest {
            ingest.small_reports(&rig, high).await;
            report::progress(
                "ingest",
                "small_reports_high_load",
                last(&ingest.small_high),
            );
        }
        if let Some(c) = ceilings.as_mut() {
            c.transport(&rig, high, true).await;
            report::progress(
                "ceilings",
                "transport_small_high_load",
                last(&c.transport_small_high),
            );
        }
    }
    fsync_probe(
        &rig.db.fsync_dir,
        ctx,
        "after",
        &mut probes,
        &mut probe_json,
    );

    if run_ingest {
        for (name, o) in [
            ("ingest province_reports", ingest.province_outcome()),
            (
                "ingest small_reports_1_in_flight",
                ingest.small_low_outcome(),
            ),
            (
                "ingest small_reports_high_load",
                ingest.small_high_outcome(),
            ),
        ] {
            if let Some(o) = o {
                report.count_errors(name, o.errors, &o.error_samples);
            }
        }
        memory.ingest = ingest.memory;
        report.emit(ingest.json(&described, &probe_json));
    }
    if let Some(c) = &ceilings {
        let merged = |v: &Vec<crate::load::Outcome>| crate::load::Outcome::merged(v.clone());
        let (province, small_low, small_high) = (
            ingest.province_outcome(),
            ingest.small_low_outcome(),
            ingest.small_high_outcome(),
        );
        let (tp, t1, th, si, su, sc, cm) = (
            merged(&c.transport_province),
            merged(&c.transport_small_1),
            merged(&c.transport_small_high),
            merged(&c.storage_insert),
            merged(&c.storage_unnest),
            merged(&c.storage_copy),
            merged(&c.commit_1row),
        );
        for (name, o) in [
            ("ceilings transport", &tp),
            ("ceilings transport", &t1),
            ("ceilings transport", &th),
            ("ceilings storage", &si),
            ("ceilings storage", &su),
            ("ceilings storage", &sc),
            ("ceilings commit", &cm),
        ] {
            if let Some(o) = o {
                report.count_errors(name, o.errors, &o.error_samples);
            }
        }
        let ratios = report::ratios(&RatioInputs {
            province: province.as_ref(),
            small_low: small_low.as_ref(),
            small_high: small_high.as_ref(),
            transport_province: tp.as_ref(),
            transport_small_1: t1.as_ref(),
            transport_small_high: th.as_ref(),
            storage_insert: si.as_ref(),
            storage_unnest: su.as_ref(),
            storage_copy: sc.as_ref(),
            commit: cm.as_ref(),
            fsync: &probes,
        });
        let mut out = c.json(&described, &probe_json);
        out["ratios"] = json!(ratios);
        report.emit(out);
    }
    drop(ceilings);
    rig.stop().await?;
    Ok(())
}

fn last(v: &[crate::load::Outcome]) -> &crate::load::Outcome {
    v.last().expect("a measurement was just pushed")
}

async fn queries(
    ctx: &Context,
    server: &mut Server,
    provinces: &[Province],
    report: &mut Report,
    memory: &mut Memory,
) -> anyhow::Result<()> {
    let s = &ctx.settings;
    let db = server.fresh("queries").await?;
    let mut rig = Rig::start(db.clone(), ctx.child_config(&db), &ctx.keys, 1).await?;
    let described = database::describe(&rig.db, rig.store.connection()).await;
    eprintln!(
        "queries: aggregator pid {} on {}; database {described}",
        rig.aggregator.pid, rig.aggregator.addr
    );
    let weeks = dataset::weeks(s.query_weeks);
    eprintln!(
        "queries: loading {} provinces × {} weeks via {:?} …",
        provinces.len(),
        weeks.len(),
        s.load_via
    );
    let phase = rig.aggregator.begin_memory_phase();
    let loaded = match s.load_via {
        Loader::Bulk => {
            dataset::load_bulk(rig.store.clone(), provinces, &weeks, s.load_parallel).await
        }
        Loader::Api => {
            dataset::load_api(
                &rig.aggregator.url(),
                ctx.tokens.clone(),
                provinces,
                &weeks,
                s.concurrency,
            )
            .await?
        }
    };
    memory.queries_load = Some(rig.aggregator.end_memory_phase(&phase));
    let parallel = match s.load_via {
        Loader::Bulk => s.load_parallel,
        Loader::Api => s.concurrency,
    };
    let data_set = loaded.json(s.load_via, parallel, provinces, s.query_weeks);
    eprintln!("queries: loaded {data_set}");
    report.count_errors("queries load", loaded.errors, &loaded.error_samples);

    let province = provinces
        .iter()
        .max_by_key(|p| (p.communes.len(), std::cmp::Reverse(p.code.clone())))
        .expect("at least one province");
    let mut cases = crate::queries::cases(&ctx.keys, province, &weeks)?;
    let as_of: Week = weeks[weeks.len() - 1];
    if loaded.errors == 0 {
        crate::queries::set_targets(&rig.store, province, as_of).await?;
    }
    let mut phase = None;
    if loaded.errors == 0 && s.runs(Scenario::Queries) {
        for restart in 1..=s.cold_restarts {
            rig.restart_aggregator()?;
            if restart == s.cold_restarts {
                phase = Some(rig.aggregator.begin_memory_phase());
            }
            crate::queries::cold_round(&rig, &mut cases, as_of).await?;
        }
        let plan = Plan::new(1, s.warmup, s.duration()).at_most(s.query_calls);
        crate::queries::warm(&rig, &mut cases, plan, as_of).await?;
        for case in &cases {
            if let Some(w) = &case.warm {
                report::progress("queries", case.query.name(), w);
            }
            let mut samples = case.cold_errors.clone();
            if let Some(w) = &case.warm {
                samples.extend(w.error_samples.iter().cloned());
            }
            report.count_errors(
                &format!("queries {}", case.query.name()),
                case.errors(),
                &samples,
            );
        }
    }
    memory.queries = phase.map(|p| rig.aggregator.end_memory_phase(&p));
    if loaded.errors == 0 && s.runs(Scenario::Web) {
        web(ctx, &rig, province, &weeks, report).await?;
    }
    if !s.runs(Scenario::Queries) {
        rig.stop().await?;
        return Ok(());
    }
    let district = province.largest_district();
    report.emit(json!({
        "scenario": "queries",
        "database": described,
        "data_set": data_set,
        "as_of": as_of.end.to_string(),
        "query_province": { "code": province.code, "name": province.name, "communes": province.communes.len() },
        "query_district": { "code": district.code, "communes": district.communes },
        "cold": "first call of each query after restarting the aggregator child (new process; OS page cache and database buffers stay warm)",
        "measurements": cases.iter().map(|c| c.json()).collect::<Vec<_>>(),
        "aggregator_memory": memory.queries,
        "aggregator_peak_rss_kib": memory.queries.map(|m| m.peak_kib()),
    }));
    rig.stop().await?;
    Ok(())
}

/// The web page over the loaded data set (see `web`).
async fn web(
    ctx: &Context,
    rig: &Rig,
    province: &Province,
    weeks: &[Week],
    report: &mut Report,
) -> anyhow::Result<()> {
    let s = &ctx.settings;
    let token = crate::rig::viewer(&ctx.keys, &province.code)?;
    let (web, cookie) = crate::web::start(rig, &token).await?;
    eprintln!(
        "web: p06-web on {} in front of the aggregator at {}; {} viewers",
        web.addr, rig.aggregator.addr, s.web_viewers
    );
    let mut pages = crate::web::pages(province, weeks);
    let plan = Plan::new(s.web_viewers, s.warmup, s.duration());
    crate::web::measure(rig, &web, &cookie, &mut pages, plan).await?;
    for page in &pages {
        if let Some(o) = &page.outcome {
            report::progress("web", page.name, o);
            report.count_errors(
                &format!("web {}", page.name),
                page.errors(),
                &o.error_samples,
            );
        }
    }
    report.emit(json!({
        "scenario": "web",
        "province": { "code": province.code, "name": province.name, "communes": province.communes.len() },
        "viewers": s.web_viewers,
        "server": "p06_web::Web (the p06-web binary's code) in the bench process; one signed-in session shared by the viewers; keep-alive HTTP/1.1, one connection per viewer",
        "measurements": pages.iter().map(|p| p.json()).collect::<Vec<_>>(),
    }));
    let _ = tokio::time::timeout(std::time::Duration::from_secs(5), web.shutdown()).await;
    Ok(())
}

async fn flags(
    ctx: &Context,
    server: &mut Server,
    provinces: &[Province],
    report: &mut Report,
) -> anyhow::Result<()> {
    let s = &ctx.settings;
    let db = server.fresh("flags").await?;
    let mut rig = Rig::start(db.clone(), ctx.child_config(&db), &ctx.keys, 1).await?;
    let described = database::describe(&rig.db, rig.store.connection()).await;
    let province = provinces
        .iter()
        .max_by_key(|p| (p.communes.len(), std::cmp::Reverse(p.code.clone())))
        .expect("at least one province");
    let settings = crate::flags::FlagSettings {
        flag_count: s.flag_count,
        idle: s.duration(),
        warmup: s.warmup,
        duration: s.duration(),
        calls: s.query_calls.max(100),
    };
    let (mut out, errors, samples) =
        crate::flags::run(&mut rig, &ctx.keys, &ctx.tokens, province, &settings).await?;
    out["database"] = described;
    report.count_errors("flags", errors, &samples);
    report.emit(out);
    rig.stop().await?;
    Ok(())
}

/// The overload scenario on its own fresh database (p06_kit::limits at their defaults, in the
/// aggregator child and the agency services alike).
async fn overload(
    ctx: &Context,
    server: &mut Server,
    province: &Province,
    report: &mut Report,
) -> anyhow::Result<()> {
    let db = server.fresh("overload").await?;
    let rig = Rig::start(
        db.clone(),
        ChildConfig {
            rate_limit: true,
            ..ctx.child_config(&db)
        },
        &ctx.keys,
        1,
    )
    .await?;
    let described = database::describe(&rig.db, rig.store.connection()).await;
    eprintln!(
        "overload: aggregator pid {} on {}; database {described}",
        rig.aggregator.pid, rig.aggregator.addr
    );
    let viewer = crate::rig::viewer(&ctx.keys, &province.code)?;
    let health = crate::rig::reporters(
        &ctx.keys,
        crate::figures::Agency::Health,
        &province.code,
        crate::overload::steady_reporters(),
    )?;
    let callers = crate::overload::Callers {
        tokens: &ctx.tokens,
        health: &health,
        viewer: &viewer,
        flood_submit_rate: ctx.settings.flood_submit_rate,
    };
    let result = crate::overload::run(
        &rig,
        &callers,
        province,
        ctx.settings.duration(),
        &json!(described),
    )
    .await;
    rig.stop().await?;
    let (value, errors, samples) = result?;
    report.count_errors("overload", errors, &samples);
    report.emit(value);
    Ok(())
}
