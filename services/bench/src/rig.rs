//! The system under test: the aggregator child on a fresh database, the police, health and justice
//! services in this process forwarding to it (as `p06 up` wires them), the bench's own storage
//! connection to the same database, and tokens.

use std::collections::HashMap;
use std::sync::Arc;

use p06_aggregator::store::Store;
use p06_auth::{Agency as AuthAgency, Role};
use p06_kit::forward::{AggregatorClient, ForwardConfig};
use p06_kit::host::{Running, ServiceHost};
use p06_kit::limits::LimitsConfig;
use tonic::transport::{Channel, Endpoint};

use crate::child::{AggregatorProcess, ChildConfig};
use crate::cpu::Meter;
use crate::database::BenchDb;
use crate::figures::Agency;
use crate::setup::Keys;
use crate::world::Province;

pub struct Rig {
    pub db: BenchDb,
    pub child_config: ChildConfig,
    pub aggregator: AggregatorProcess,
    agencies: Vec<Running>,
    /// `channels[agency][k]`: connections of the agency clients to their agency service.
    pub channels: HashMap<&'static str, Vec<Channel>>,
    /// The bench's own connection (opened like the aggregator's, `Store::connect`).
    pub store: Arc<Store>,
    pub meter: Meter,
}

/// A lazily connected channel to `url`.
pub fn channel(url: &str) -> anyhow::Result<Channel> {
    Ok(Endpoint::from_shared(url.to_owned())?
        .tcp_nodelay(true)
        .connect_lazy())
}

impl Rig {
    /// Starts the aggregator child on `db` (it migrates), the agency services, and opens
    /// `clients` connections to each agency service.
    pub async fn start(
        db: BenchDb,
        child_config: ChildConfig,
        keys: &Keys,
        clients: usize,
    ) -> anyhow::Result<Rig> {
        let aggregator = AggregatorProcess::start(&child_config)?;
        let store = Arc::new(Store::connect(&db.url).await?);
        let auth = keys.authenticator()?;
        let forward = AggregatorClient::new(ForwardConfig::new(aggregator.url()))?;
        let mut agencies = Vec::new();
        let mut channels = HashMap::new();
        let limits = agency_limits(child_config.rate_limit);
        for agency in Agency::ALL {
            let host = ServiceHost::new(auth.clone()).with_limits(limits.clone());
            let host = match agency {
                Agency::Police => {
                    host.with_service(p06_police::PoliceApi::new(forward.clone()).into_server())
                }
                Agency::Health => {
                    host.with_service(p06_health::HealthApi::new(forward.clone()).into_server())
                }
                Agency::Justice => {
                    host.with_service(p06_justice::JusticeApi::new(forward.clone()).into_server())
                }
            };
            let running = host.spawn(([127, 0, 0, 1], 0).into()).await?;
            let url = running.url();
            channels.insert(
                agency.name(),
                (0..clients.max(1))
                    .map(|_| channel(&url))
                    .collect::<anyhow::Result<Vec<_>>>()?,
            );
            agencies.push(running);
        }
        let meter = Meter {
            aggregator_pid: Some(aggregator.pid),
            postgres: (db.backend == "postgres").then(|| store.connection().clone()),
        };
        Ok(Rig {
            db,
            child_config,
            aggregator,
            agencies,
            channels,
            store,
            meter,
        })
    }

    /// Replaces the aggregator child by a new process on the same database (empty in-process
    /// state: cold). The agency services keep forwarding to the old address, so this is for the
    /// query scenario, which calls the aggregator directly.
    pub fn restart_aggregator(&mut self) -> anyhow::Result<()> {
        let fresh = AggregatorProcess::start(&self.child_config)?;
        let old = std::mem::replace(&mut self.aggregator, fresh);
        old.stop()?;
        self.meter.aggregator_pid = Some(self.aggregator.pid);
        Ok(())
    }

    pub async fn stop(self) -> anyhow::Result<()> {
        for running in self.agencies {
            running.shutdown().await?;
        }
        self.aggregator.stop()?;
        if let Ok(store) = Arc::try_unwrap(self.store) {
            store.close().await;
        }
        Ok(())
    }
}

/// The limits of the bench's agency services: the defaults, with the per-caller rates off when
/// the aggregator child runs without them ([`ChildConfig::rate_limit`]: the capacity scenarios
/// drive one token per agency and province at 16 reports in flight).
pub fn agency_limits(rate_limit: bool) -> LimitsConfig {
    if rate_limit {
        LimitsConfig::default()
    } else {
        LimitsConfig {
            rate_per_second: 0.0,
            submit_rate_per_second: 0.0,
            ..LimitsConfig::default()
        }
    }
}

/// Tokens of `count` reporters of `agency` in province `code`, each its own token subject (a
/// caller of its own for the per-caller rates).
pub fn reporters(
    keys: &Keys,
    agency: Agency,
    code: &str,
    count: usize,
) -> anyhow::Result<Vec<String>> {
    (0..count)
        .map(|i| {
            let grant =
                p06_auth::Grant::new(agency.auth(), crate::world::EDITION, code, Role::Reporter)
                    .with_subject(format!("bench-{}-{code}-reporter-{i}", agency.name()))
                    .with_ttl(chrono::Duration::hours(2));
            keys.mint(&grant)
        })
        .collect()
}

/// Tokens per (agency, province), minted once.
pub struct Tokens {
    reporters: HashMap<(&'static str, String), String>,
}

impl Tokens {
    pub fn reporters(keys: &Keys, provinces: &[Province]) -> anyhow::Result<Tokens> {
        let mut reporters = HashMap::new();
        for p in provinces {
            for agency in Agency::ALL {
                reporters.insert(
                    (agency.name(), p.code.clone()),
                    keys.token(agency.auth(), &p.code, Role::Reporter)?,
                );
            }
        }
        Ok(Tokens { reporters })
    }

    pub fn reporter(&self, agency: Agency, province: &str) -> &str {
        &self.reporters[&(agency.name(), province.to_owned())]
    }
}

/// A task-force viewer token of a province ("VN": the whole country).
pub fn viewer(keys: &Keys, province: &str) -> anyhow::Result<String> {
    keys.token(AuthAgency::Taskforce, province, Role::TaskforceViewer)
}

/// Wraps a message with a bearer token.
pub fn authed<T>(message: T, token: &str) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    if let Ok(value) = format!("Bearer {token}").parse() {
        request.metadata_mut().insert("authorization", value);
    }
    request
}
