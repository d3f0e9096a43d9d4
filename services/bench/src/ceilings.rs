//! Scenario 2, the machine's own ceilings, measured in the same run as ingest:
//!
//! - transport: a no-op tonic `IngestService` in this process (decodes `SubmitReportRequest`,
//!   answers a default `Receipt`, no authentication, no storage) called with the very messages the
//!   agency services forward, at the ingest concurrency and at 1 in flight;
//! - storage: the same observation rows inserted straight into the same database, no gRPC, into a
//!   scratch table of one row per figure, keyed by (report, indicator, locality) as the
//!   aggregator's `observation` table was until migration 24 stored each revision's figures as
//!   one document (kept so that every round's ratios share one ceiling; on SQLite `WITHOUT
//!   ROWID`, the faster kind there): one
//!   transaction per report, multi-row INSERTs of 1,000 rows, and on PostgreSQL also one
//!   `INSERT … SELECT FROM unnest(arrays)` per report and `COPY … FROM STDIN`; plus one
//!   single-row transaction at a time (`commit_1row`: the cost of one durable commit);
//! - fsync: see [`crate::fsync`].

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use p06_proto::aggregation::ingest_service_client::IngestServiceClient;
use p06_proto::aggregation::ingest_service_server::{IngestService, IngestServiceServer};
use p06_proto::aggregation::{GetReportRequest, Receipt, Report, SubmitReportRequest};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, TransactionTrait, Value};
use serde_json::json;
use tokio::sync::Mutex;
use tonic::transport::Channel;
use tonic::{Request, Response, Status};

use crate::figures::{self, ReportKey};
use crate::ingest::Stream;
use crate::load::{self, Outcome, Plan};
use crate::rig::{Rig, Tokens, authed, channel};
use crate::world::Province;

/// Rows per INSERT statement (4 parameters each): as the aggregator's bulk loads batch them, and
/// faster than the 200 its ingest uses on SQLite to keep its cached statements small.
const BATCH: usize = 1_000;
const SCRATCH: &str = "bench_observation";

type Rows = Arc<Vec<(String, i64, f64)>>;

/// The transport ceiling's server: decodes the request, stores nothing.
struct Noop;

#[tonic::async_trait]
impl IngestService for Noop {
    async fn submit_report(
        &self,
        request: Request<SubmitReportRequest>,
    ) -> Result<Response<Receipt>, Status> {
        std::hint::black_box(request.into_inner());
        Ok(Response::new(Receipt::default()))
    }

    async fn get_report(
        &self,
        _request: Request<GetReportRequest>,
    ) -> Result<Response<Report>, Status> {
        Err(Status::unimplemented("no-op server"))
    }
}

/// Serves [`Noop`] on an ephemeral loopback port until the returned sender is dropped.
async fn serve_noop() -> anyhow::Result<(SocketAddr, tokio::sync::oneshot::Sender<()>)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(
        tonic::transport::Server::builder()
            .tcp_nodelay(true)
            .add_service(
                IngestServiceServer::new(Noop)
                    .max_decoding_message_size(p06_kit::host::MAX_MESSAGE_BYTES),
            )
            // `TcpIncoming` sets TCP_NODELAY on accepted sockets (`Server::tcp_nodelay` does not
            // apply to an incoming stream); without it, multi-segment responses wait ≈ 40 ms for
            // delayed ACKs.
            .serve_with_incoming_shutdown(
                tonic::transport::server::TcpIncoming::from(listener).with_nodelay(Some(true)),
                async {
                    let _ = stopped.await;
                },
            ),
    );
    Ok((addr, stop))
}

/// The ceilings scenario's state across interleaved rounds.
pub struct Ceilings {
    provinces: Arc<Vec<Province>>,
    tokens: Arc<Tokens>,
    channels: Vec<Channel>,
    _stop_noop: tokio::sync::oneshot::Sender<()>,
    seq: Arc<AtomicU64>,
    report_ids: Arc<AtomicU64>,
    /// `rows[province][agency]`: one week's rows of each report series, generated once so the
    /// ceiling measures storage only.
    rows: Arc<Vec<Vec<Rows>>>,
    pub transport_province: Vec<Outcome>,
    pub transport_small_1: Vec<Outcome>,
    pub transport_small_high: Vec<Outcome>,
    pub storage_insert: Vec<Outcome>,
    pub storage_unnest: Vec<Outcome>,
    pub storage_copy: Vec<Outcome>,
    pub commit_1row: Vec<Outcome>,
}

/// How the storage ceiling writes a report's rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Storage {
    /// Multi-row `INSERT … VALUES` of [`BATCH`] rows (every backend).
    Insert,
    /// One `INSERT … SELECT $1, * FROM unnest($2, $3, $4)` with a typed array per column
    /// (PostgreSQL).
    Unnest,
    /// `COPY … FROM STDIN` in text format (PostgreSQL).
    Copy,
}

/// The ceilings do not involve the aggregator: account the bench (and PostgreSQL) only.
fn meter(rig: &Rig) -> crate::cpu::Meter {
    crate::cpu::Meter {
        aggregator_pid: None,
        ..rig.meter.clone()
    }
}

impl Ceilings {
    /// Starts the no-op server and creates the scratch table in the rig's database.
    pub async fn new(
        rig: &Rig,
        provinces: Arc<Vec<Province>>,
        tokens: Arc<Tokens>,
        clients: usize,
    ) -> anyhow::Result<Self> {
        let (addr, stop) = serve_noop().await?;
        let url = format!("http://{addr}");
        let channels = (0..clients.max(1))
            .map(|_| channel(&url))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let db = rig.store.write_connection();
        db.execute_unprepared(&format!("DROP TABLE IF EXISTS {SCRATCH}"))
            .await?;
        // On SQLite the scratch table keeps its rows in its key's order, as the tables of figures
        // do (migration 23): the faster of the two kinds.
        let kind = if db.get_database_backend() == DbBackend::Sqlite {
            " WITHOUT ROWID"
        } else {
            ""
        };
        db.execute_unprepared(&format!(
            "CREATE TABLE {SCRATCH} (report_id BIGINT NOT NULL, indicator_code VARCHAR(64) NOT NULL, \
             locality_id BIGINT NOT NULL, value DOUBLE PRECISION NOT NULL, \
             PRIMARY KEY (report_id, indicator_code, locality_id)){kind}"
        ))
        .await?;
        let week = crate::figures::Week::ago(1);
        let rows = provinces
            .iter()
            .map(|p| {
                crate::figures::Agency::ALL
                    .iter()
                    .map(|a| Arc::new(figures::rows(*a, &p.communes, &week)))
                    .collect()
            })
            .collect();
        Ok(Ceilings {
            rows: Arc::new(rows),
            provinces,
            tokens,
            channels,
            _stop_noop: stop,
            seq: Arc::default(),
            report_ids: Arc::new(AtomicU64::new(1)),
            transport_province: Vec::new(),
            transport_small_1: Vec::new(),
            transport_small_high: Vec::new(),
            storage_insert: Vec::new(),
            storage_unnest: Vec::new(),
            storage_copy: Vec::new(),
            commit_1row: Vec::new(),
        })
    }

    /// The transport ceiling with the forwarded message of a province report (`small`: of a
    /// single-commune report).
    pub async fn transport(&mut self, rig: &Rig, plan: Plan, small: bool) {
        let (provinces, tokens, channels) = (
            self.provinces.clone(),
            self.tokens.clone(),
            self.channels.clone(),
        );
        let outcome = load::drive(plan, &meter(rig), self.seq.clone(), move |n| {
            let stream = if small {
                Stream::SMALL
            } else {
                Stream::PROVINCE
            };
            let job = stream.job(n, provinces.len());
            let p = &provinces[job.province];
            let communes = if small {
                std::slice::from_ref(&p.communes[n as usize % p.communes.len()])
            } else {
                &p.communes[..]
            };
            let request = figures::forwarded(figures::agency_report(
                &ReportKey {
                    agency: job.agency,
                    province: p,
                    week: job.week,
                    request_id: uuid::Uuid::new_v4().to_string(),
                    revision: job.revision,
                },
                communes,
            ));
            let units = request.observations.len() as u64;
            let channel = channels[(n % channels.len() as u64) as usize].clone();
            let token = tokens.reporter(job.agency, &p.code).to_owned();
            async move {
                IngestServiceClient::new(channel)
                    .max_encoding_message_size(p06_kit::host::MAX_MESSAGE_BYTES)
                    .submit_report(authed(request, &token))
                    .await
                    .map(|_| units)
                    .map_err(|s| format!("{:?}: {}", s.code(), s.message()))
            }
        })
        .await;
        match (small, plan.concurrency) {
            (false, _) => self.transport_province.push(outcome),
            (true, 1) => self.transport_small_1.push(outcome),
            (true, _) => self.transport_small_high.push(outcome),
        }
    }

    /// The storage ceiling: province reports' rows, one transaction each, written by `method`.
    pub async fn storage(&mut self, rig: &Rig, plan: Plan, method: Storage) {
        let (provinces, cache) = (self.provinces.clone(), self.rows.clone());
        let store = rig.store.clone();
        let report_ids = self.report_ids.clone();
        // SQLite has one writer at a time: serialise like the aggregator does.
        let writer = Arc::new((rig.db.backend == "sqlite").then(|| Mutex::new(())));
        let outcome = load::drive(plan, &meter(rig), self.seq.clone(), move |n| {
            let job = Stream::PROVINCE.job(n, provinces.len());
            let agency = crate::figures::Agency::ALL
                .iter()
                .position(|a| *a == job.agency)
                .unwrap_or(0);
            let rows = cache[job.province][agency].clone();
            let report_id = report_ids.fetch_add(1, std::sync::atomic::Ordering::Relaxed) as i64;
            let (store, writer) = (store.clone(), writer.clone());
            async move {
                let _guard = match writer.as_ref() {
                    Some(lock) => Some(lock.lock().await),
                    None => None,
                };
                let db = store.write_connection();
                let result = match method {
                    Storage::Insert => insert_rows(db, report_id, &rows).await,
                    Storage::Unnest => unnest_rows(db, report_id, &rows).await,
                    Storage::Copy => copy_rows(db, report_id, &rows).await,
                };
                result.map(|()| rows.len() as u64)
            }
        })
        .await;
        match method {
            Storage::Insert => self.storage_insert.push(outcome),
            Storage::Unnest => self.storage_unnest.push(outcome),
            Storage::Copy => self.storage_copy.push(outcome),
        }
    }

    /// One single-row transaction at a time: what one durable commit costs on this database.
    pub async fn commit(&mut self, rig: &Rig, plan: Plan) {
        let store = rig.store.clone();
        let report_ids = self.report_ids.clone();
        let outcome = load::drive(plan, &meter(rig), self.seq.clone(), move |_| {
            let store = store.clone();
            let report_id = report_ids.fetch_add(1, std::sync::atomic::Ordering::Relaxed) as i64;
            async move {
                let row = [("commit.probe".to_owned(), 0i64, 1.0f64)];
                insert_rows(store.write_connection(), report_id, &row)
                    .await
                    .map(|()| 1)
            }
        })
        .await;
        self.commit_1row.push(outcome);
    }

    pub fn json(
        &self,
        database: &serde_json::Value,
        fsync: &[serde_json::Value],
    ) -> serde_json::Value {
        let mut measurements = Vec::new();
        for (name, rounds, unit) in [
            (
                "transport_province_reports",
                &self.transport_province,
                "observations",
            ),
            (
                "transport_small_1_in_flight",
                &self.transport_small_1,
                "observations",
            ),
            (
                "transport_small_high_load",
                &self.transport_small_high,
                "observations",
            ),
            ("storage_insert_batched", &self.storage_insert, "rows"),
            ("storage_unnest", &self.storage_unnest, "rows"),
            ("storage_copy", &self.storage_copy, "rows"),
            ("commit_1row_1_in_flight", &self.commit_1row, "rows"),
        ] {
            if let Some(o) = Outcome::merged(rounds.clone()) {
                measurements.push(o.json(name, unit));
            }
        }
        json!({
            "scenario": "ceilings",
            "database": database,
            "measurements": measurements,
            "fsync_probes": fsync,
        })
    }
}

fn db_error(e: sea_orm::DbErr) -> String {
    format!("database: {e}")
}

/// `BEGIN; INSERT … VALUES (…) ×1,000; …; COMMIT`.
async fn insert_rows(
    db: &DatabaseConnection,
    report_id: i64,
    rows: &[(String, i64, f64)],
) -> Result<(), String> {
    let backend = db.get_database_backend();
    let txn = db.begin().await.map_err(db_error)?;
    for chunk in rows.chunks(BATCH) {
        let mut sql = format!(
            "INSERT INTO {SCRATCH} (report_id, indicator_code, locality_id, value) VALUES "
        );
        let mut values = Vec::with_capacity(chunk.len() * 4);
        for (i, (indicator, locality, value)) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            let k = i * 4;
            match backend {
                DbBackend::Postgres => {
                    sql.push_str(&format!("(${}, ${}, ${}, ${})", k + 1, k + 2, k + 3, k + 4))
                }
                _ => sql.push_str("(?, ?, ?, ?)"),
            }
            values.extend([
                Value::from(report_id),
                Value::from(indicator.clone()),
                Value::from(*locality),
                Value::from(*value),
            ]);
        }
        txn.execute_raw(Statement::from_sql_and_values(backend, sql, values))
            .await
            .map_err(db_error)?;
    }
    txn.commit().await.map_err(db_error)
}

/// `BEGIN; INSERT … SELECT * FROM unnest($2::text[], $3::int8[], $4::float8[]); COMMIT`: the
/// whole report in one statement of four parameters.
async fn unnest_rows(
    db: &DatabaseConnection,
    report_id: i64,
    rows: &[(String, i64, f64)],
) -> Result<(), String> {
    let indicators: Vec<String> = rows.iter().map(|r| r.0.clone()).collect();
    let localities: Vec<i64> = rows.iter().map(|r| r.1).collect();
    let values: Vec<f64> = rows.iter().map(|r| r.2).collect();
    let txn = db.begin().await.map_err(db_error)?;
    txn.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        format!(
            "INSERT INTO {SCRATCH} (report_id, indicator_code, locality_id, value) \
             SELECT $1, * FROM unnest($2::text[], $3::int8[], $4::float8[])"
        ),
        [
            Value::from(report_id),
            Value::from(indicators),
            Value::from(localities),
            Value::from(values),
        ],
    ))
    .await
    .map_err(db_error)?;
    txn.commit().await.map_err(db_error)
}

/// `BEGIN; COPY … FROM STDIN (text); COMMIT` through sea-orm's sqlx pool.
async fn copy_rows(
    db: &DatabaseConnection,
    report_id: i64,
    rows: &[(String, i64, f64)],
) -> Result<(), String> {
    use std::fmt::Write as _;
    let mut text = String::with_capacity(rows.len() * 48);
    for (indicator, locality, value) in rows {
        let _ = writeln!(text, "{report_id}\t{indicator}\t{locality}\t{value}");
    }
    let pool = db.get_postgres_connection_pool();
    let sqlx_error = |e: sea_orm::sqlx::Error| format!("database: {e}");
    let mut txn = pool.begin().await.map_err(sqlx_error)?;
    let mut copy = txn
        .copy_in_raw(&format!(
            "COPY {SCRATCH} (report_id, indicator_code, locality_id, value) FROM STDIN"
        ))
        .await
        .map_err(sqlx_error)?;
    copy.send(text.as_bytes()).await.map_err(sqlx_error)?;
    copy.finish().await.map_err(sqlx_error)?;
    txn.commit().await.map_err(sqlx_error)
}
