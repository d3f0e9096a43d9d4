//! The real `p06-aggregator` process under signals and faults: SIGTERM with a `WatchFlags` stream
//! open (readiness NOT_SERVING first, the stream ended UNAVAILABLE, exit 0 within the drain
//! bound); its database cut by a TCP proxy (readiness NOT_SERVING, then SERVING again; PostgreSQL
//! only); `kill -9` under concurrent submissions through the police service (every acknowledged
//! receipt stored, every other answer retryable); a call that never finishes held only until the
//! drain bound; an agency service's readiness following its aggregator's. SQLite always,
//! PostgreSQL with `P06_TEST_POSTGRES_URL`.

use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use p06_auth::Agency;
use p06_kit::limits::LimitsConfig;
use p06_proto::aggregation::WatchFlagsRequest;
use p06_proto::aggregation::task_force_service_client::TaskForceServiceClient;
use p06_proto::common::Narrative;
use p06_proto::police::police_reporting_service_client::PoliceReportingServiceClient;
use p06_proto::police::{IdentityFigures, SubmitIdentityReportRequest};
use p06_tests::db::TestDb;
use p06_tests::fixtures::*;
use p06_tests::proxy::Proxy;
use p06_tests::services::{Keys, authed, start_agency_probing, start_agency_with, unthrottled};
use tokio_stream::StreamExt as _;
use tonic::Code;
use tonic::transport::Channel;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::{HealthCheckRequest, HealthCheckResponse};

/// A `p06-aggregator serve` child process, its address and what it logged.
struct Child06 {
    child: Child,
    addr: SocketAddr,
    log: Arc<Mutex<String>>,
}

impl Child06 {
    /// Starts the aggregator on `database_url`, trusting `keys`' development key, listening on
    /// `listen`, with `env` on top; waits for its "aggregator listening" line.
    fn start(keys: &Keys, database_url: &str, listen: &str, env: &[(&str, &str)]) -> Child06 {
        let mut command = Command::new(env!("CARGO_BIN_EXE_p06-aggregator"));
        command
            .env("P06_DATABASE_URL", database_url)
            .env("P06_DATA_DIR", keys.dir.path())
            .env("P06_LISTEN", listen)
            .env("P06_LIMIT_RATE", "0")
            .env("P06_LIMIT_SUBMIT_RATE", "0")
            .env("RUST_LOG", "info")
            .env_remove("P06_AUTH_MODE")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("p06-aggregator starts");
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        {
            let log = log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                    if line.contains("aggregator listening") {
                        let addr = line
                            .split_whitespace()
                            .find_map(|word| word.strip_prefix("addr="))
                            .and_then(|addr| addr.parse::<SocketAddr>().ok());
                        let _ = tx.send(addr);
                    }
                    let mut log = log.lock().unwrap();
                    log.push_str(&line);
                    log.push('\n');
                }
            });
        }
        let addr = rx.recv_timeout(Duration::from_secs(60)).ok().flatten();
        let Some(addr) = addr else {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "no 'aggregator listening addr=…' line: {}",
                log.lock().unwrap()
            );
        };
        Child06 { child, addr, log }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    async fn channel(&self) -> Channel {
        Channel::from_shared(self.url())
            .unwrap()
            .connect()
            .await
            .expect("connects to the child aggregator")
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -{signal} failed");
    }

    /// Waits (at most `limit`) for the process to exit.
    async fn exited_within(&mut self, limit: Duration) -> Option<ExitStatus> {
        let started = Instant::now();
        while started.elapsed() < limit {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Some(status);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        None
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// The log once it holds `needle`: the line is written before the change it announces, but
    /// reaches the test through a reader thread that may lag behind the gRPC answer.
    async fn log_with(&self, needle: &str, within: Duration) -> String {
        let until = Instant::now() + within;
        loop {
            let log = self.log();
            if log.contains(needle) || Instant::now() >= until {
                return log;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Child06 {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn status_of(answer: HealthCheckResponse) -> ServingStatus {
    answer.status()
}

/// Watches health entry `service`, having seen its first status `expect`.
async fn watch_health(
    channel: Channel,
    service: &str,
    expect: ServingStatus,
) -> tonic::Streaming<HealthCheckResponse> {
    let mut stream = HealthClient::new(channel)
        .watch(HealthCheckRequest {
            service: service.into(),
        })
        .await
        .expect("health Watch")
        .into_inner();
    let first = stream.next().await.expect("a first status").unwrap();
    assert_eq!(status_of(first), expect, "{service} at first");
    stream
}

/// The next status of a health `Watch` stream, within `limit`.
async fn next_status(
    stream: &mut tonic::Streaming<HealthCheckResponse>,
    limit: Duration,
    what: &str,
) -> ServingStatus {
    match tokio::time::timeout(limit, stream.next()).await {
        Ok(Some(Ok(answer))) => status_of(answer),
        Ok(other) => panic!("{what}: the health stream ended with {other:?}"),
        Err(_) => panic!("{what}: no health status change within {limit:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_with_a_flag_stream_open_reports_not_serving_ends_the_stream_and_exits_in_bound() {
    let db = TestDb::fresh().await;
    let keys = Keys::new();
    let drain = Duration::from_secs(10);
    let mut aggregator = Child06::start(&keys, &db.url, "127.0.0.1:0", &[("P06_DRAIN_SECS", "10")]);
    let channel = aggregator.channel().await;
    let mut readiness = watch_health(channel.clone(), "readiness", ServingStatus::Serving).await;
    let mut liveness = HealthClient::new(channel.clone());
    let mut flags = TaskForceServiceClient::new(channel.clone())
        .watch_flags(authed(
            WatchFlagsRequest {
                province: province(GIA_LAI),
                ..Default::default()
            },
            &keys.viewer(),
        ))
        .await
        .expect("WatchFlags opens")
        .into_inner();

    aggregator.signal("TERM");
    let signalled = Instant::now();
    assert_eq!(
        next_status(
            &mut readiness,
            Duration::from_secs(5),
            "readiness after SIGTERM"
        )
        .await,
        ServingStatus::NotServing,
        "{}",
        aggregator.log()
    );
    let ended = tokio::time::timeout(Duration::from_secs(5), flags.next())
        .await
        .expect("the WatchFlags stream ended within 5 s of SIGTERM");
    let status = match ended {
        Some(Err(status)) => status,
        other => panic!("the WatchFlags stream ended with {other:?}, not a status"),
    };
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    assert!(
        status.message().contains("shutting down"),
        "the stream says why: {status:?}"
    );
    let exit = aggregator
        .exited_within(drain + Duration::from_secs(3))
        .await
        .unwrap_or_else(|| panic!("still running {:?} after SIGTERM", signalled.elapsed()));
    let took = signalled.elapsed();
    assert!(exit.success(), "exit status {exit:?}: {}", aggregator.log());
    assert!(
        took < drain,
        "exited after {took:?}, not within the drain bound {drain:?}"
    );
    // Nothing answers any more: liveness was SERVING until the process ended.
    assert!(
        liveness
            .check(HealthCheckRequest {
                service: "liveness".into()
            })
            .await
            .is_err()
    );
    let log = aggregator
        .log_with("readiness NOT_SERVING", Duration::from_secs(2))
        .await;
    assert!(log.contains("readiness NOT_SERVING"), "{log}");
    eprintln!(
        "{}: SIGTERM → exit 0 in {took:?} (bound {drain:?})",
        db.backend_name()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_database_cut_by_a_proxy_turns_readiness_not_serving_then_serving_when_it_returns() {
    let db = TestDb::fresh().await;
    let Some(server) = db.postgres_addr() else {
        eprintln!(
            "SKIPPED: needs PostgreSQL (set P06_TEST_POSTGRES_URL): a SQLite file cannot be cut"
        );
        return;
    };
    let proxy = Proxy::start(server).await;
    let url = db
        .url
        .replace(&server.to_string(), &proxy.addr.to_string())
        .replace("localhost:", "127.0.0.1:");
    assert!(
        url.contains(&proxy.addr.to_string()),
        "could not route {} through the proxy",
        db.url
    );
    let keys = Keys::new();
    let aggregator = Child06::start(&keys, &url, "127.0.0.1:0", &[]);
    let channel = aggregator.channel().await;
    let mut readiness = watch_health(channel.clone(), "readiness", ServingStatus::Serving).await;
    let mut overall = watch_health(channel.clone(), "", ServingStatus::Serving).await;
    let mut liveness = HealthClient::new(channel.clone());

    proxy.cut();
    let cut = Instant::now();
    // Probed every 2 s with a 1 s timeout: NOT_SERVING within 2 + 1 s (sooner when a probe
    // falls just after the cut), and a margin.
    assert_eq!(
        next_status(
            &mut readiness,
            Duration::from_secs(5),
            "readiness after the cut"
        )
        .await,
        ServingStatus::NotServing,
        "{}",
        aggregator.log()
    );
    let noticed = cut.elapsed();
    assert_eq!(
        next_status(&mut overall, Duration::from_secs(1), "\"\" after the cut").await,
        ServingStatus::NotServing
    );
    let alive = liveness
        .check(HealthCheckRequest {
            service: "liveness".into(),
        })
        .await
        .expect("liveness answers while the database is away")
        .into_inner();
    assert_eq!(status_of(alive), ServingStatus::Serving);

    proxy.restore();
    let restored = Instant::now();
    assert_eq!(
        next_status(
            &mut readiness,
            Duration::from_secs(8),
            "readiness after the restore"
        )
        .await,
        ServingStatus::Serving,
        "{}",
        aggregator.log()
    );
    let back = restored.elapsed();
    assert_eq!(
        next_status(
            &mut overall,
            Duration::from_secs(1),
            "\"\" after the restore"
        )
        .await,
        ServingStatus::Serving
    );
    let log = aggregator
        .log_with("readiness probe answered again", Duration::from_secs(2))
        .await;
    assert!(log.contains("readiness probe failed"), "{log}");
    assert!(log.contains("readiness probe answered again"), "{log}");
    eprintln!(
        "postgresql: database cut → NOT_SERVING after {noticed:?}; restored → SERVING after {back:?}"
    );
}

fn identity(request_id: &str) -> SubmitIdentityReportRequest {
    SubmitIdentityReportRequest {
        request_id: request_id.into(),
        obligation: "police-weekly-identity".into(),
        province: province(GIA_LAI),
        period: period("2025-03-10", "2025-03-16"),
        localities: vec![IdentityFigures {
            locality_code: HA_DONG.into(),
            permanent_residents: Some(5_908),
            vneid_level2_created: Some(150),
            vneid_level2_activated: Some(109),
            ..Default::default()
        }],
        narrative: Some(Narrative {
            assessment: "Đạt 73,3% chỉ tiêu.".into(),
            obstacles: "Thiếu thiết bị.".into(),
            proposals: "Tăng cường tổ lưu động.".into(),
        }),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn kill_9_under_concurrent_submissions_loses_no_acknowledged_receipt_and_answers_retryable_codes()
 {
    const SENDERS: usize = 8;
    const ACKS_BEFORE_KILL: usize = 24;
    let db = TestDb::fresh().await;
    let keys = Keys::new();
    let mut aggregator = Child06::start(&keys, &db.url, "127.0.0.1:0", &[]);
    let listen = aggregator.addr.to_string();
    let police = start_agency_with(&keys, aggregator.url(), Agency::Police, unthrottled()).await;
    let police_channel = Channel::from_shared(police.url())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let token = keys.reporter(Agency::Police);

    // Each sender submits one report after another until it gets its first error.
    let acked = Arc::new(AtomicUsize::new(0));
    let mut senders = Vec::new();
    for sender in 0..SENDERS {
        let mut client = PoliceReportingServiceClient::new(police_channel.clone());
        let token = token.clone();
        let acked = acked.clone();
        senders.push(tokio::spawn(async move {
            let mut receipts = Vec::new();
            for n in 0.. {
                let id = format!("kill9-{sender}-{n}");
                let mut request = authed(identity(&id), &token);
                request.set_timeout(Duration::from_secs(8));
                match client.submit_identity_report(request).await {
                    Ok(receipt) => {
                        receipts.push((id, receipt.into_inner()));
                        acked.fetch_add(1, Ordering::SeqCst);
                    }
                    Err(status) => return (receipts, Some((id, status))),
                }
            }
            unreachable!()
        }));
    }
    let waited = Instant::now();
    while acked.load(Ordering::SeqCst) < ACKS_BEFORE_KILL {
        assert!(
            waited.elapsed() < Duration::from_secs(10),
            "only {} receipts in 10 s: {}",
            acked.load(Ordering::SeqCst),
            aggregator.log()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    aggregator.signal("KILL");
    let killed = aggregator
        .exited_within(Duration::from_secs(5))
        .await
        .expect("kill -9 ends the process");
    assert!(!killed.success());

    let mut acknowledged = Vec::new();
    let mut refused = Vec::new();
    for sender in senders {
        let (receipts, error) = tokio::time::timeout(Duration::from_secs(12), sender)
            .await
            .expect("every sender got an answer after the kill")
            .unwrap();
        acknowledged.extend(receipts);
        refused.extend(error);
    }
    assert_eq!(refused.len(), SENDERS, "every sender ended on an error");
    for (id, status) in &refused {
        assert!(
            matches!(status.code(), Code::Unavailable | Code::DeadlineExceeded),
            "{id}: the police service answered {status:?}, not a retryable code"
        );
        assert!(
            status.message().contains(id.as_str()),
            "{id}: the answer names the request id to retry with: {status:?}"
        );
    }

    // Restarted on the same database and port: every acknowledged receipt is stored (a replay
    // with its request id returns the same receipt), and the refused ones succeed on retry.
    let aggregator = Child06::start(&keys, &db.url, &listen, &[]);
    let mut client = PoliceReportingServiceClient::new(police_channel.clone());
    let mut ready = HealthClient::new(aggregator.channel().await);
    let answer = ready
        .check(HealthCheckRequest {
            service: "readiness".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(status_of(answer), ServingStatus::Serving);
    for (id, receipt) in &acknowledged {
        let replay = client
            .submit_identity_report(authed(identity(id), &token))
            .await
            .unwrap_or_else(|status| panic!("{id} after the restart: {status:?}"))
            .into_inner();
        assert!(
            replay.replayed,
            "{id} was acknowledged but not stored: {replay:?}"
        );
        assert_eq!(replay.report, receipt.report, "{id}");
        assert_eq!(replay.revision, receipt.revision, "{id}");
        assert_eq!(replay.payload_sha256, receipt.payload_sha256, "{id}");
        assert_eq!(replay.receive_time, receipt.receive_time, "{id}");
    }
    for (id, _) in &refused {
        client
            .submit_identity_report(authed(identity(id), &token))
            .await
            .unwrap_or_else(|status| panic!("retry of {id} after the restart: {status:?}"));
    }
    let codes: Vec<Code> = refused.iter().map(|(_, s)| s.code()).collect();
    eprintln!(
        "{}: kill -9 after {} acknowledged receipts, all stored; the {} senders' next answers: {codes:?}",
        db.backend_name(),
        acknowledged.len(),
        SENDERS
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_call_that_never_finishes_is_dropped_at_the_drain_bound_and_the_process_exits_0() {
    let db = TestDb::fresh().await;
    let keys = Keys::new();
    // Longer than the health streams' notice (`p06_kit::health`, 2 s): the readiness stream ends
    // cleanly after its NOT_SERVING, before the bound closes what is left (a connection closed
    // at the bound may be reset, and a reset discards what the client had not read yet — seen on
    // a loaded run with a 2 s bound).
    let drain = Duration::from_secs(4);
    let mut aggregator = Child06::start(&keys, &db.url, "127.0.0.1:0", &[("P06_DRAIN_SECS", "4")]);
    // A unary call whose request body never ends: in flight until the drain bound.
    let tcp = tokio::net::TcpStream::connect(aggregator.addr)
        .await
        .unwrap();
    let (client, connection) = h2::client::handshake(tcp).await.unwrap();
    tokio::spawn(connection);
    let mut client = client.ready().await.unwrap();
    let request = http::Request::post(format!(
        "http://{}/p06.aggregation.v1.IngestService/SubmitReport",
        aggregator.addr
    ))
    .header("content-type", "application/grpc")
    .header("te", "trailers")
    .header(
        "authorization",
        format!("Bearer {}", keys.reporter(Agency::Police)),
    )
    .body(())
    .unwrap();
    let (_response, _body) = client.send_request(request, false).unwrap();
    // A second call on the same connection, answered: the server reads a connection's frames in
    // order, so it took the first call in before it (without this, a loaded run could signal
    // before the server had read the first call, and drain nothing).
    let probe = http::Request::post(format!(
        "http://{}/grpc.health.v1.Health/Check",
        aggregator.addr
    ))
    .header("content-type", "application/grpc")
    .header("te", "trailers")
    .body(())
    .unwrap();
    let mut client = client.ready().await.unwrap();
    let (probe, _) = client.send_request(probe, true).unwrap();
    probe.await.expect("the probe call is answered");
    let mut readiness = watch_health(
        aggregator.channel().await,
        "readiness",
        ServingStatus::Serving,
    )
    .await;

    aggregator.signal("TERM");
    let signalled = Instant::now();
    assert_eq!(
        next_status(
            &mut readiness,
            Duration::from_secs(5),
            "readiness after SIGTERM"
        )
        .await,
        ServingStatus::NotServing
    );
    let exit = aggregator
        .exited_within(drain + Duration::from_secs(5))
        .await
        .unwrap_or_else(|| panic!("still running {:?} after SIGTERM", signalled.elapsed()));
    let took = signalled.elapsed();
    assert!(exit.success(), "exit status {exit:?}: {}", aggregator.log());
    assert!(
        took >= drain && took < drain + Duration::from_secs(2),
        "exited after {took:?}: the open call should have held the drain to its bound {drain:?}"
    );
    let log = aggregator
        .log_with("drain bound reached", Duration::from_secs(2))
        .await;
    assert!(log.contains("drain bound reached"), "{log}");
    eprintln!(
        "{}: SIGTERM with a call that never finishes → exit 0 in {took:?} (bound {drain:?})",
        db.backend_name()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_agency_services_readiness_follows_the_aggregators() {
    let db = TestDb::fresh().await;
    let keys = Keys::new();
    let mut aggregator = Child06::start(&keys, &db.url, "127.0.0.1:0", &[]);
    let listen = aggregator.addr.to_string();
    let limits = LimitsConfig {
        readiness_every_ms: 200,
        readiness_timeout_ms: 500,
        ..unthrottled()
    };
    let police = start_agency_probing(&keys, aggregator.url(), Agency::Police, limits).await;
    let channel = Channel::from_shared(police.url())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut readiness = watch_health(channel.clone(), "readiness", ServingStatus::Serving).await;

    aggregator.signal("TERM");
    assert_eq!(
        next_status(
            &mut readiness,
            Duration::from_secs(3),
            "police readiness, aggregator stopping"
        )
        .await,
        ServingStatus::NotServing
    );
    aggregator
        .exited_within(Duration::from_secs(12))
        .await
        .expect("the aggregator exits");
    let alive = HealthClient::new(channel.clone())
        .check(HealthCheckRequest {
            service: "liveness".into(),
        })
        .await
        .expect("police liveness answers without its aggregator")
        .into_inner();
    assert_eq!(status_of(alive), ServingStatus::Serving);

    let _aggregator = Child06::start(&keys, &db.url, &listen, &[]);
    let restarted = Instant::now();
    assert_eq!(
        next_status(
            &mut readiness,
            Duration::from_secs(5),
            "police readiness, aggregator back"
        )
        .await,
        ServingStatus::Serving
    );
    eprintln!(
        "{}: police readiness NOT_SERVING while its aggregator was away, SERVING {:?} after it listened again",
        db.backend_name(),
        restarted.elapsed()
    );
}
