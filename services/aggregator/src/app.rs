//! Building the aggregator: connect, migrate, load the catalog, assemble the gRPC services.

use std::sync::Arc;

use chrono::NaiveDate;
use p06_domain::clock::{SharedClock, SystemClock};
use p06_domain::obligation::{ObligationSpec, parse_province};

use crate::catalog::Catalog;
use crate::compliance::ComplianceConfig;
use crate::config::AggregatorConfig;
use crate::error::Error;
use crate::flag_feed::FlagFeed;
use crate::read_cache::ReadCache;
use crate::store::Store;
use crate::write_turns::WriteTurns;

/// What every request handler shares.
pub struct AppState {
    pub store: Store,
    pub catalog: Catalog,
    pub clock: SharedClock,
    pub time_zone: chrono_tz::Tz,
    pub compliance: ComplianceConfig,
    pub read_cache: ReadCache,
    /// `WatchFlags` streams: caps, the cursor read, the shutdown hook.
    pub flag_feed: Arc<FlagFeed>,
    /// Fair turns at each province's writer, round the agencies (`crate::write_turns`).
    pub write_turns: WriteTurns,
}

impl AppState {
    /// Today's date in the provinces' time zone.
    pub fn today(&self) -> NaiveDate {
        self.clock.now().with_timezone(&self.time_zone).date_naive()
    }
}

/// A ready-to-serve aggregator.
#[derive(Clone)]
pub struct Aggregator {
    pub state: Arc<AppState>,
}

impl Aggregator {
    /// Connects to the configured database, migrates it if asked, and loads the catalog.
    pub async fn build(config: &AggregatorConfig) -> Result<Self, Error> {
        Self::build_with_clock(config, Arc::new(SystemClock)).await
    }

    pub async fn build_with_clock(
        config: &AggregatorConfig,
        clock: SharedClock,
    ) -> Result<Self, Error> {
        let store = Store::connect(&config.database_url()).await?;
        if config.auto_migrate {
            store.migrate().await?;
        }
        let catalog = store.load_catalog().await?;
        if catalog.indicators().is_empty() {
            return Err(Error::Internal(
                "the catalog is empty: run `p06-aggregator migrate` first".into(),
            ));
        }
        let rebuilt = store.build_missing_rollups(&catalog).await?;
        if rebuilt > 0 {
            tracing::info!(provinces = rebuilt, "roll-ups built from stored figures");
        }
        let compliance = ComplianceConfig::load(config.compliance_file.as_deref())?;
        for spec in &compliance.obligations {
            spec.check(&catalog).map_err(|violations| {
                let problems: Vec<String> = violations
                    .iter()
                    .map(|v| format!("{}: {}", v.field, v.description))
                    .collect();
                Error::Internal(format!(
                    "obligation {:?} in the compliance file: {}",
                    spec.code,
                    problems.join("; ")
                ))
            })?;
        }
        let problems =
            p06_domain::cross_agency::check_bounds(&compliance.cross_agency_bounds, &catalog);
        if !problems.is_empty() {
            return Err(Error::Internal(format!(
                "the compliance file's cross-agency bounds: {}",
                problems.join("; ")
            )));
        }
        // Each province a file obligation binds gets its own copy of the settings, unless it
        // has settings of that code already (the database wins).
        let bindings: Vec<(i64, ObligationSpec)> = compliance
            .obligations
            .iter()
            .flat_map(|spec| {
                spec.provinces.iter().filter_map(|key| {
                    let (edition, code) = parse_province(key)?;
                    let province = catalog.province(edition, code)?;
                    Some((province.id, spec.for_province(key)))
                })
            })
            .collect();
        store.seed_obligations(&bindings, clock.now()).await?;
        Ok(Self {
            state: Arc::new(AppState {
                store,
                catalog,
                clock,
                time_zone: config.time_zone,
                compliance,
                read_cache: ReadCache::new(config.read_cache_figures),
                flag_feed: FlagFeed::new(config.flags.clone()),
                write_turns: WriteTurns::default(),
            }),
        })
    }
}

impl Aggregator {
    /// Runs the MISSING sweep every `sweep_every_secs` in the background (every replica may run it;
    /// the database makes each flag appear once).
    pub fn spawn_missing_sweep(&self) -> tokio::task::JoinHandle<()> {
        let state = self.state.clone();
        tokio::spawn(async move {
            let every = std::time::Duration::from_secs(state.compliance.sweep_every_secs.max(1));
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                match crate::compliance::sweep_missing(&state, state.clock.now()).await {
                    Ok(0) => {}
                    Ok(raised) => tracing::info!(raised, "MISSING flags raised"),
                    Err(e) => {
                        tracing::warn!(error = %e, "MISSING sweep failed; retrying next round")
                    }
                }
            }
        })
    }

    /// Runs the flag retention job every `--flag-retention-every-secs` in the background:
    /// resolved flags resolved more than `--flag-retention-days` ago move to the archive. Nothing
    /// runs when the retention is 0 days.
    pub fn spawn_flag_retention(&self) -> Option<tokio::task::JoinHandle<()>> {
        let state = self.state.clone();
        let config = &state.flag_feed.config;
        if config.flag_retention_days == 0 {
            return None;
        }
        let every = std::time::Duration::from_secs(config.flag_retention_every_secs.max(1));
        Some(tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                match crate::compliance::archive_flags(&state, state.clock.now()).await {
                    Ok(0) => {}
                    Ok(moved) => tracing::info!(moved, "resolved flags moved to the archive"),
                    Err(e) => {
                        tracing::warn!(error = %e, "flag retention failed; retrying next round")
                    }
                }
            }
        }))
    }

    /// The aggregator's gRPC services, ready to be served. Readiness follows the database (a
    /// `SELECT 1` under `--readiness-timeout-ms`); the drain ends every `WatchFlags` stream.
    pub fn host(&self, auth: Arc<p06_auth::Authenticator>) -> p06_kit::host::ServiceHost {
        use p06_kit::host::{MAX_MESSAGE_BYTES, ServiceHost};
        use p06_proto::aggregation::catalog_service_server::CatalogServiceServer;
        use p06_proto::aggregation::ingest_service_server::IngestServiceServer;

        use p06_proto::aggregation::admin_service_server::AdminServiceServer;

        use p06_proto::aggregation::task_force_service_server::TaskForceServiceServer;

        use crate::api::{AdminApi, CatalogApi, IngestApi, TaskForceApi};

        let store = self.state.clone();
        let readiness: p06_kit::health::ReadinessProbe = Arc::new(move || {
            let state = store.clone();
            Box::pin(async move {
                state
                    .store
                    .ping()
                    .await
                    .map_err(|e| format!("the database did not answer SELECT 1: {e}"))
            })
        });
        let feed = self.state.flag_feed.clone();
        ServiceHost::new(auth)
            .with_readiness(readiness)
            .on_drain(move || feed.end_streams())
            .with_service(
                IngestServiceServer::new(IngestApi::new(self.state.clone()))
                    .max_decoding_message_size(MAX_MESSAGE_BYTES),
            )
            .with_service(
                CatalogServiceServer::new(CatalogApi::new(self.state.clone()))
                    .max_decoding_message_size(MAX_MESSAGE_BYTES),
            )
            .with_service(
                AdminServiceServer::new(AdminApi::new(self.state.clone()))
                    .max_decoding_message_size(MAX_MESSAGE_BYTES),
            )
            .with_service(
                TaskForceServiceServer::new(TaskForceApi::new(self.state.clone()))
                    .max_decoding_message_size(MAX_MESSAGE_BYTES),
            )
    }
}
