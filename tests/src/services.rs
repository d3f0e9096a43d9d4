//! The real services on ephemeral ports, and tokens to call them with.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use p06_aggregator::{Aggregator, AggregatorConfig};
use p06_auth::{Agency, Authenticator, DevKeys, Grant, Role};
use p06_domain::clock::ManualClock;
use p06_kit::forward::{AggregatorClient, ForwardConfig};
use p06_kit::host::{Running, ServiceHost};
use p06_kit::limits::LimitsConfig;
use p06_proto::aggregation::catalog_service_client::CatalogServiceClient;
use p06_proto::aggregation::ingest_service_client::IngestServiceClient;
use tonic::Request;
use tonic::transport::Channel;

use crate::db::TestDb;
use crate::fixtures::{EDITION, GIA_LAI};
use crate::gate::Gate;

/// The instant tests run at unless they move the clock: Saturday 22 March 2025, 10:00 in Vietnam.
pub fn default_now() -> DateTime<Utc> {
    "2025-03-22T03:00:00Z".parse().expect("valid instant")
}

/// Development keys in a temporary directory, and tokens signed with them.
pub struct Keys {
    pub dir: tempfile::TempDir,
    pub dev: DevKeys,
    pub authenticator: Arc<Authenticator>,
}

impl Keys {
    pub fn new() -> Keys {
        let dir = tempfile::tempdir().expect("temp dir");
        let dev = DevKeys::load_or_create(dir.path()).expect("development keys");
        let authenticator = dev.authenticator().expect("authenticator");
        Keys {
            dir,
            dev,
            authenticator,
        }
    }

    pub fn token(&self, agency: Agency, province: &str, role: Role) -> String {
        self.dev
            .mint(&Grant::new(agency, EDITION, province, role))
            .expect("mint")
    }

    /// A reporter of `agency` in Gia Lai.
    pub fn reporter(&self, agency: Agency) -> String {
        self.token(agency, GIA_LAI, Role::Reporter)
    }

    pub fn admin(&self) -> String {
        self.token(Agency::Taskforce, GIA_LAI, Role::TaskforceAdmin)
    }

    pub fn viewer(&self) -> String {
        self.token(Agency::Taskforce, GIA_LAI, Role::TaskforceViewer)
    }
}

impl Default for Keys {
    fn default() -> Self {
        Self::new()
    }
}

/// Wraps a message with a bearer token.
pub fn authed<T>(message: T, token: &str) -> Request<T> {
    let mut request = Request::new(message);
    request.metadata_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().expect("ASCII token"),
    );
    request
}

/// A running aggregator on a fresh database, with a clock the test controls.
pub struct TestAggregator {
    pub db: TestDb,
    pub keys: Keys,
    pub clock: ManualClock,
    pub aggregator: Aggregator,
    pub running: Running,
}

impl TestAggregator {
    pub async fn start() -> TestAggregator {
        let db = TestDb::fresh().await;
        let url = db.url.clone();
        Self::start_on(db, &url).await
    }

    /// Starts on a fresh database with the configuration `configure` leaves.
    pub async fn start_with(configure: impl FnOnce(&mut AggregatorConfig)) -> TestAggregator {
        let db = TestDb::fresh().await;
        let mut config = AggregatorConfig::for_database(db.url.clone());
        configure(&mut config);
        Self::start_configured(db, config, unthrottled(), None).await
    }

    /// Starts on `db`, reaching it through `url` (e.g. a proxy in front of it).
    pub async fn start_on(db: TestDb, url: &str) -> TestAggregator {
        Self::start_configured(db, AggregatorConfig::for_database(url), unthrottled(), None).await
    }

    /// Starts with these limits, its `SubmitReport` calls passing `gate` when given.
    pub async fn start_limited(limits: LimitsConfig, gate: Option<Arc<Gate>>) -> TestAggregator {
        let db = TestDb::fresh().await;
        let config = AggregatorConfig::for_database(db.url.clone());
        Self::start_configured(db, config, limits, gate).await
    }

    async fn start_configured(
        db: TestDb,
        config: AggregatorConfig,
        limits: LimitsConfig,
        gate: Option<Arc<Gate>>,
    ) -> TestAggregator {
        let keys = Keys::new();
        let clock = ManualClock::new(default_now());
        let aggregator = Aggregator::build_with_clock(&config, Arc::new(clock.clone()))
            .await
            .expect("aggregator starts");
        let host = match gate {
            None => aggregator.host(keys.authenticator.clone()),
            Some(gate) => gated_host(&aggregator, &keys, &gate),
        };
        let running = host
            .with_limits(limits)
            .spawn(([127, 0, 0, 1], 0).into())
            .await
            .expect("aggregator serves");
        TestAggregator {
            db,
            keys,
            clock,
            aggregator,
            running,
        }
    }

    pub async fn channel(&self) -> Channel {
        Channel::from_shared(self.running.url())
            .unwrap()
            .connect()
            .await
            .expect("connect")
    }

    pub async fn ingest(&self) -> IngestServiceClient<Channel> {
        IngestServiceClient::new(self.channel().await)
    }

    pub async fn catalog(&self) -> CatalogServiceClient<Channel> {
        CatalogServiceClient::new(self.channel().await)
    }

    /// Reports stored in all, every revision counted.
    pub async fn report_count(&self) -> i64 {
        self.count("report").await
    }

    /// Every figure of every stored revision, as (report id, figure), read from the revisions'
    /// documents (`report.figures`) in report id order.
    pub async fn stored_figures(&self) -> Vec<(i64, p06_migrations::figures::StoredFigure)> {
        use sea_orm::ConnectionTrait;
        let db = self.aggregator.state.store.connection();
        let rows = db
            .query_all_raw(sea_orm::Statement::from_string(
                db.get_database_backend(),
                "SELECT id, figures FROM report ORDER BY id",
            ))
            .await
            .unwrap();
        let mut out = Vec::new();
        for row in rows {
            let id: i64 = row.try_get("", "id").unwrap();
            let document: String = row.try_get("", "figures").unwrap();
            let figures = p06_migrations::figures::decode(&document).unwrap();
            out.extend(figures.into_iter().map(|f| (id, f)));
        }
        out
    }

    /// Figures stored with every revision, carried ones included.
    pub async fn figure_count(&self) -> usize {
        self.stored_figures().await.len()
    }

    /// Figures an amendment carried forward, over every revision.
    pub async fn carried_figure_count(&self) -> usize {
        self.stored_figures()
            .await
            .iter()
            .filter(|(_, f)| f.carried_from.is_some())
            .count()
    }

    pub async fn count(&self, table: &str) -> i64 {
        self.count_where(table, "1 = 1").await
    }

    /// Rows of `table` matching a SQL condition (test-controlled text only).
    pub async fn count_where(&self, table: &str, condition: &str) -> i64 {
        use sea_orm::ConnectionTrait;
        let db = self.aggregator.state.store.connection();
        let row = db
            .query_one_raw(sea_orm::Statement::from_string(
                db.get_database_backend(),
                format!("SELECT COUNT(*) AS n FROM {table} WHERE {condition}"),
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get::<i64>("", "n").unwrap()
    }
}

/// The default limits without the per-caller rates (general and submission): tests that are not
/// about limits page or submit faster than a person (tests/tests/limits.rs sets the rates it
/// checks).
pub fn unthrottled() -> LimitsConfig {
    LimitsConfig {
        rate_per_second: 0.0,
        submit_rate_per_second: 0.0,
        ..LimitsConfig::default()
    }
}

/// The aggregator's services with `gate` in front of IngestService.
fn gated_host(aggregator: &Aggregator, keys: &Keys, gate: &Arc<Gate>) -> ServiceHost {
    use p06_aggregator::api::{AdminApi, CatalogApi, IngestApi, TaskForceApi};
    use p06_kit::host::MAX_MESSAGE_BYTES;
    use p06_proto::aggregation::admin_service_server::AdminServiceServer;
    use p06_proto::aggregation::catalog_service_server::CatalogServiceServer;
    use p06_proto::aggregation::ingest_service_server::IngestServiceServer;
    use p06_proto::aggregation::task_force_service_server::TaskForceServiceServer;
    let state = aggregator.state.clone();
    ServiceHost::new(keys.authenticator.clone())
        .with_service(
            gate.wrap(
                IngestServiceServer::new(IngestApi::new(state.clone()))
                    .max_decoding_message_size(MAX_MESSAGE_BYTES),
            ),
        )
        .with_service(CatalogServiceServer::new(CatalogApi::new(state.clone())))
        .with_service(AdminServiceServer::new(AdminApi::new(state.clone())))
        .with_service(TaskForceServiceServer::new(TaskForceApi::new(state)))
}

/// An agency service in front of an aggregator, without the per-caller rates ([`unthrottled`]).
pub async fn start_agency(keys: &Keys, aggregator_url: String, agency: Agency) -> Running {
    start_agency_with(keys, aggregator_url, agency, unthrottled()).await
}

/// An agency service whose readiness follows the aggregator's (as the binaries run them), probed
/// as `limits` say.
pub async fn start_agency_probing(
    keys: &Keys,
    aggregator_url: String,
    agency: Agency,
    limits: LimitsConfig,
) -> Running {
    let probe = p06_kit::host::aggregator_readiness(&aggregator_url).expect("aggregator URL");
    let client = AggregatorClient::new(ForwardConfig::new(aggregator_url)).unwrap();
    let host = ServiceHost::new(keys.authenticator.clone())
        .with_limits(limits)
        .with_readiness(probe);
    let host = match agency {
        Agency::Police => host.with_service(p06_police::PoliceApi::new(client).into_server()),
        Agency::Health => host.with_service(p06_health::HealthApi::new(client).into_server()),
        Agency::Justice => host.with_service(p06_justice::JusticeApi::new(client).into_server()),
        Agency::Taskforce => panic!("the task force has no reporting service"),
    };
    host.spawn(([127, 0, 0, 1], 0).into())
        .await
        .expect("agency serves")
}

/// An agency service with these limits.
pub async fn start_agency_with(
    keys: &Keys,
    aggregator_url: String,
    agency: Agency,
    limits: LimitsConfig,
) -> Running {
    let client = AggregatorClient::new(ForwardConfig::new(aggregator_url)).unwrap();
    let host = ServiceHost::new(keys.authenticator.clone()).with_limits(limits);
    let host = match agency {
        Agency::Police => host.with_service(p06_police::PoliceApi::new(client).into_server()),
        Agency::Health => host.with_service(p06_health::HealthApi::new(client).into_server()),
        Agency::Justice => host.with_service(p06_justice::JusticeApi::new(client).into_server()),
        Agency::Taskforce => panic!("the task force has no reporting service"),
    };
    host.spawn(([127, 0, 0, 1], 0).into())
        .await
        .expect("agency serves")
}
