//! The limits of every server (p06_kit::limits) against the real services: per-caller rate and
//! submission rate with RetryInfo, fair admission between agencies (by counts of calls held in flight, not timings),
//! the caller's deadline, one message-size limit everywhere; and the agency services' honest codes
//! when the aggregator is slow or vanishes mid-call.

use std::time::Duration;

use p06_auth::{Agency, Role};
use p06_kit::host::Running;
use p06_kit::limits::LimitsConfig;
use p06_proto::aggregation::admin_service_client::AdminServiceClient;
use p06_proto::aggregation::catalog_service_client::CatalogServiceClient;
use p06_proto::aggregation::ingest_service_client::IngestServiceClient;
use p06_proto::aggregation::task_force_service_client::TaskForceServiceClient;
use p06_proto::aggregation::{
    GetConsolidatedStatusRequest, GetReportRequest, ListEditionsRequest, ListLocalitiesRequest,
    LockPeriodRequest, Receipt, SubmitReportRequest,
};
use p06_proto::common::LocalityRef;
use p06_proto::police::police_reporting_service_client::PoliceReportingServiceClient;
use p06_proto::police::{IdentityFigures, SubmitIdentityReportRequest};
use p06_tests::fixtures::*;
use p06_tests::gate::Gate;
use p06_tests::proxy::Proxy;
use p06_tests::services::{TestAggregator, authed, start_agency_with, unthrottled};
use tonic::transport::Channel;
use tonic::{Code, Request, Status};
use tonic_types::StatusExt;

async fn channel(url: String) -> Channel {
    Channel::from_shared(url).unwrap().connect().await.unwrap()
}

fn sample() -> Vec<p06_proto::aggregation::Observation> {
    vec![
        obs("vneid.l2.created", HA_DONG, 150.0),
        obs("vneid.l2.activated", HA_DONG, 109.0),
    ]
}

fn health_report(request_id: &str) -> SubmitReportRequest {
    SubmitReportRequest {
        agency: "health".into(),
        obligation: "health-weekly".into(),
        observations: vec![obs("bhyt.cards.integrated", HA_DONG, 10.0)],
        ..police_report(request_id, vec![])
    }
}

fn identity(request_id: &str) -> SubmitIdentityReportRequest {
    SubmitIdentityReportRequest {
        request_id: request_id.into(),
        obligation: "police-weekly-identity".into(),
        province: province(GIA_LAI),
        period: period("2025-03-10", "2025-03-16"),
        localities: vec![IdentityFigures {
            locality_code: HA_DONG.into(),
            vneid_level2_created: Some(150),
            vneid_level2_activated: Some(109),
            ..Default::default()
        }],
        narrative: police_report("x", vec![]).narrative,
        ..Default::default()
    }
}

fn with_timeout<T>(mut request: Request<T>, timeout: Duration) -> Request<T> {
    request.set_timeout(timeout);
    request
}

fn retry_delay(status: &Status) -> Duration {
    status
        .get_details_retry_info()
        .and_then(|r| r.retry_delay)
        .unwrap_or_else(|| panic!("no RetryInfo in {status:?}"))
}

#[tokio::test]
async fn a_caller_past_its_rate_gets_resource_exhausted_with_the_delay_and_others_pass() {
    let limits = LimitsConfig {
        rate_per_second: 1.0,
        burst: 2,
        ..LimitsConfig::default()
    };
    let t = TestAggregator::start_limited(limits.clone(), None).await;
    let mut catalog = CatalogServiceClient::new(t.channel().await);
    let viewer = t.keys.viewer();
    for _ in 0..2 {
        catalog
            .list_editions(authed(ListEditionsRequest {}, &viewer))
            .await
            .unwrap();
    }
    let status = catalog
        .list_editions(authed(ListEditionsRequest {}, &viewer))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    let delay = retry_delay(&status);
    assert!(
        delay > Duration::ZERO && delay <= Duration::from_secs(1),
        "{delay:?}"
    );
    assert!(
        status.message().contains("P06_LIMIT_RATE"),
        "{}",
        status.message()
    );
    // Another caller (another subject) has its own bucket; health checks are never limited.
    let other = t.keys.dev.mint(
        &p06_auth::Grant::new(Agency::Taskforce, EDITION, GIA_LAI, Role::TaskforceViewer)
            .with_subject("another-viewer"),
    );
    catalog
        .list_editions(authed(ListEditionsRequest {}, &other.unwrap()))
        .await
        .unwrap();
    let mut health = tonic_health::pb::health_client::HealthClient::new(t.channel().await);
    for _ in 0..5 {
        health
            .check(tonic_health::pb::HealthCheckRequest::default())
            .await
            .unwrap();
    }
    // After the delay, the caller passes again.
    tokio::time::sleep(delay).await;
    catalog
        .list_editions(authed(ListEditionsRequest {}, &viewer))
        .await
        .unwrap();

    // The agency services apply the same limit.
    let police = start_agency_with(&t.keys, t.running.url(), Agency::Police, limits).await;
    let mut client = PoliceReportingServiceClient::new(channel(police.url()).await);
    let token = t.keys.reporter(Agency::Police);
    let mut codes = Vec::new();
    for i in 0..3 {
        let result = client
            .submit_identity_report(authed(identity(&format!("rate-{i}")), &token))
            .await;
        codes.push(result.map(|_| Code::Ok).unwrap_or_else(|s| {
            if s.code() == Code::ResourceExhausted {
                retry_delay(&s);
            }
            s.code()
        }));
    }
    assert_eq!(codes, [Code::Ok, Code::Ok, Code::ResourceExhausted]);
}

#[tokio::test]
async fn a_refusal_is_held_for_the_callers_wait_and_names_what_is_left_of_it() {
    // 2 calls per second, one at once: after a call, the next token is 500 ms away. Refusals are
    // held at most 300 ms.
    let limits = LimitsConfig {
        rate_per_second: 2.0,
        burst: 1,
        refusal_hold_ms: 300,
        ..LimitsConfig::default()
    };
    let t = TestAggregator::start_limited(limits, None).await;
    let mut catalog = CatalogServiceClient::new(t.channel().await);
    let viewer = t.keys.viewer();
    let call = |catalog: &mut CatalogServiceClient<Channel>| {
        let request = authed(ListEditionsRequest {}, &viewer);
        let mut catalog = catalog.clone();
        async move {
            let started = std::time::Instant::now();
            let result = catalog.list_editions(request).await.map(|_| ());
            (result, started.elapsed())
        }
    };
    call(&mut catalog).await.0.unwrap();
    let (refused, took) = call(&mut catalog).await;
    let refused = refused.unwrap_err();
    assert_eq!(refused.code(), Code::ResourceExhausted, "{refused:?}");
    assert!(
        took >= Duration::from_millis(290),
        "answered after {took:?}"
    );
    // What is left of the 500 ms: at most 210 ms, and never nothing.
    let left = retry_delay(&refused);
    assert!(
        left > Duration::ZERO && left <= Duration::from_millis(210),
        "{left:?}"
    );
    assert!(
        refused.message().contains("retry in"),
        "{}",
        refused.message()
    );
    // A client that honours the delay passes at its retry.
    tokio::time::sleep(left).await;
    call(&mut catalog).await.0.unwrap();

    // A short deadline is honoured: RESOURCE_EXHAUSTED a little before it (a raw call: tonic's
    // client would end the call itself at that instant), naming the rest of the wait.
    let started = std::time::Instant::now();
    let (status, message) = raw_call_with_timeout(
        t.running.addr,
        "/p06.aggregation.v1.CatalogService/ListEditions",
        &viewer,
        ListEditionsRequest {},
        "100m",
    )
    .await;
    let took = started.elapsed();
    assert_eq!(
        status,
        (Code::ResourceExhausted as i32).to_string(),
        "{message}"
    );
    assert!(took >= Duration::from_millis(85), "answered after {took:?}");

    // A client that resends at once gets about three answers per half second (one call, two
    // held refusals), not thousands.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let started = std::time::Instant::now();
    let (mut ok, mut refusals) = (0, 0);
    while started.elapsed() < Duration::from_millis(1_500) {
        match call(&mut catalog).await.0 {
            Ok(()) => ok += 1,
            Err(s) if s.code() == Code::ResourceExhausted => refusals += 1,
            Err(s) => panic!("{s:?}"),
        }
    }
    assert!((1..=5).contains(&ok), "{ok} calls served in 1.5 s at 2/s");
    assert!(refusals <= 12, "{refusals} refusals in 1.5 s");
}

#[tokio::test]
async fn a_caller_past_its_submission_rate_is_refused_with_the_delay_while_its_reads_pass() {
    // One report per 2 s, 2 at once: wide enough that two submissions on a loaded machine still
    // leave the bucket empty for the third.
    let limits = LimitsConfig {
        submit_rate_per_second: 0.5,
        submit_burst: 2,
        ..LimitsConfig::default()
    };
    let t = TestAggregator::start_limited(limits.clone(), None).await;
    let mut ingest = IngestServiceClient::new(t.channel().await);
    let police = police_for(&t);
    let mut receipts = Vec::new();
    for i in 0..2 {
        let request = authed(police_report(&format!("submit-{i}"), sample()), &police);
        receipts.push(ingest.submit_report(request).await.unwrap().into_inner());
    }
    let status = ingest
        .submit_report(authed(police_report("submit-2", sample()), &police))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert!(
        status.message().contains("P06_LIMIT_SUBMIT_RATE"),
        "{}",
        status.message()
    );
    let delay = retry_delay(&status);
    assert!(
        delay > Duration::ZERO && delay <= Duration::from_secs(2),
        "{delay:?}"
    );
    // The same caller's reads are counted by the general rate alone: served.
    for receipt in &receipts {
        ingest
            .get_report(authed(
                GetReportRequest {
                    name: receipt.report.clone(),
                },
                &police,
            ))
            .await
            .expect("a read past the submission rate is served");
    }
    // Another caller has its own bucket.
    let health = t.keys.reporter(Agency::Health);
    ingest
        .submit_report(authed(health_report("health-1"), &health))
        .await
        .expect("another agency's reporter submits");
    assert_eq!(t.report_count().await, 3);
    // After the delay, the caller submits again.
    tokio::time::sleep(delay).await;
    ingest
        .submit_report(authed(police_report("submit-3", sample()), &police))
        .await
        .expect("a submission after the RetryInfo delay passes");
    assert_eq!(t.report_count().await, 4);

    // An agency service refuses past the rate itself, before forwarding: behind an aggregator
    // without the rate, the third report is refused and never reaches it.
    let open = TestAggregator::start_limited(unthrottled(), None).await;
    let svc = start_agency_with(&open.keys, open.running.url(), Agency::Police, limits).await;
    let token = open.keys.reporter(Agency::Police);
    let mut answers = Vec::new();
    for i in 0..3 {
        let request = authed(identity(&format!("agency-{i}")), &token);
        answers.push(submit_identity(&svc, &token, request).await.map(|_| ()));
    }
    let refused = answers.pop().unwrap().unwrap_err();
    assert!(answers.iter().all(Result::is_ok), "{answers:?}");
    assert_eq!(refused.code(), Code::ResourceExhausted, "{refused:?}");
    assert!(
        refused.message().contains("P06_LIMIT_SUBMIT_RATE"),
        "{}",
        refused.message()
    );
    retry_delay(&refused);
    assert_eq!(open.report_count().await, 2);
}

#[tokio::test]
async fn a_flooding_agency_fills_its_share_and_queue_while_another_agency_and_the_task_force_run() {
    // Admission alone: the ten reports at once are not to be refused by the submission rate.
    let limits = LimitsConfig {
        in_flight: 3,
        agency_in_flight: 2,
        agency_queue: 3,
        total_queue: 16,
        submit_rate_per_second: 0.0,
        ..LimitsConfig::default()
    };
    let gate = Gate::new(Some(Agency::Police));
    let t = TestAggregator::start_limited(limits, Some(gate.clone())).await;
    let police = t.keys.reporter(Agency::Police);
    let ch = t.channel().await;
    // 10 police reports at once: 2 run (held at the gate), 3 wait, 5 are refused.
    let mut flood = Vec::new();
    for i in 0..10 {
        let mut ingest = IngestServiceClient::new(ch.clone());
        let request = authed(police_report(&format!("flood-{i}"), sample()), &police);
        flood.push(tokio::spawn(
            async move { ingest.submit_report(request).await },
        ));
    }
    gate.wait_entered(2).await;
    let mut refused = 0;
    let mut pending = Vec::new();
    for call in flood {
        if call.is_finished() {
            let status = call.await.unwrap().unwrap_err();
            assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
            assert!(
                status.message().contains("agency police"),
                "{}",
                status.message()
            );
            retry_delay(&status);
            refused += 1;
        } else {
            pending.push(call);
        }
    }
    // The refusals answer at once; wait until all five have.
    let started = std::time::Instant::now();
    while refused < 5 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{refused} refused"
        );
        let mut still = Vec::new();
        for call in pending {
            if call.is_finished() {
                let status = call.await.unwrap().unwrap_err();
                assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
                refused += 1;
            } else {
                still.push(call);
            }
        }
        pending = still;
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(pending.len(), 5);
    assert_eq!(gate.entered(), 2);

    // Health reports and the task force reads while police hold their share.
    let health = t.keys.reporter(Agency::Health);
    let receipt = IngestServiceClient::new(ch.clone())
        .submit_report(authed(health_report("health-1"), &health))
        .await
        .expect("health is served during the police flood")
        .into_inner();
    TaskForceServiceClient::new(ch.clone())
        .get_consolidated_status(authed(
            GetConsolidatedStatusRequest {
                locality: province(GIA_LAI),
                ..Default::default()
            },
            &t.keys.viewer(),
        ))
        .await
        .expect("the task force is served during the police flood");
    IngestServiceClient::new(ch.clone())
        .get_report(authed(
            GetReportRequest {
                name: receipt.report,
            },
            &health,
        ))
        .await
        .unwrap();
    assert_eq!(gate.entered(), 2, "no queued police call ran meanwhile");

    // Opened, the running and queued police calls all complete and are stored.
    gate.open();
    for call in pending {
        call.await.unwrap().expect("a queued police call completes");
    }
    assert_eq!(t.report_count().await, 6);
}

/// A raw HTTP/2 gRPC call with a `grpc-timeout` header and no client-side timer (tonic's client
/// would give up at the same instant and say CANCELLED itself): the status the server answers.
async fn raw_call_with_timeout(
    addr: std::net::SocketAddr,
    path: &str,
    token: &str,
    message: impl prost::Message,
    grpc_timeout: &str,
) -> (String, String) {
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (client, connection) = h2::client::handshake(tcp).await.unwrap();
    tokio::spawn(connection);
    let mut client = client.ready().await.unwrap();
    let request = http::Request::post(format!("http://{addr}{path}"))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .header("grpc-timeout", grpc_timeout)
        .header("authorization", format!("Bearer {token}"))
        .body(())
        .unwrap();
    let (response, mut body) = client.send_request(request, false).unwrap();
    let encoded = message.encode_to_vec();
    let mut frame = vec![0u8];
    frame.extend((encoded.len() as u32).to_be_bytes());
    frame.extend(encoded);
    body.send_data(frame.into(), true).unwrap();
    let response = response.await.unwrap();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    };
    (header("grpc-status"), header("grpc-message"))
}

#[tokio::test]
async fn the_callers_grpc_timeout_ends_the_call_with_deadline_exceeded() {
    let gate = Gate::new(None);
    let t = TestAggregator::start_limited(LimitsConfig::default(), Some(gate.clone())).await;
    let (status, message) = raw_call_with_timeout(
        t.running.addr,
        "/p06.aggregation.v1.IngestService/SubmitReport",
        &police_for(&t),
        police_report("slow", sample()),
        "300m",
    )
    .await;
    assert_eq!(
        status,
        (Code::DeadlineExceeded as i32).to_string(),
        "{message}"
    );
    assert!(message.contains("grpc-timeout"), "{message}");
    assert_eq!(gate.entered(), 1);

    // Without a grpc-timeout, the server's longest call (P06_LIMIT_CALL_SECS) applies.
    let limits = LimitsConfig {
        call_secs: 1,
        ..LimitsConfig::default()
    };
    let gate = Gate::new(None);
    let t = TestAggregator::start_limited(limits, Some(gate.clone())).await;
    let status = IngestServiceClient::new(t.channel().await)
        .submit_report(authed(police_report("slow", sample()), &police_for(&t)))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
    assert!(
        status.message().contains("P06_LIMIT_CALL_SECS"),
        "{}",
        status.message()
    );
    gate.open();
    assert_eq!(t.report_count().await, 0);
}

fn police_for(t: &TestAggregator) -> String {
    t.keys.reporter(Agency::Police)
}

#[tokio::test]
async fn an_oversize_message_is_resource_exhausted_on_every_service_alike() {
    let limits = LimitsConfig {
        max_message_bytes: 64 * 1024,
        ..LimitsConfig::default()
    };
    let t = TestAggregator::start_limited(limits.clone(), None).await;
    let big = "x".repeat(100 * 1024);
    let ch = t.channel().await;
    let (viewer, admin, police) = (t.keys.viewer(), t.keys.admin(), police_for(&t));
    let mut statuses: Vec<(&str, Status)> = Vec::new();
    let mut report = police_report("big", sample());
    report.narrative.as_mut().unwrap().assessment = big.clone();
    statuses.push((
        "IngestService",
        IngestServiceClient::new(ch.clone())
            .submit_report(authed(report, &police))
            .await
            .unwrap_err(),
    ));
    statuses.push((
        "CatalogService",
        CatalogServiceClient::new(ch.clone())
            .list_localities(authed(
                ListLocalitiesRequest {
                    edition: EDITION.into(),
                    parent_code: big.clone(),
                    ..Default::default()
                },
                &viewer,
            ))
            .await
            .unwrap_err(),
    ));
    statuses.push((
        "AdminService",
        AdminServiceClient::new(ch.clone())
            .lock_period(authed(
                LockPeriodRequest {
                    request_id: "lock".into(),
                    province: province(GIA_LAI),
                    period: period("2025-03-10", "2025-03-16"),
                    reason: big.clone(),
                    ..Default::default()
                },
                &admin,
            ))
            .await
            .unwrap_err(),
    ));
    statuses.push((
        "TaskForceService",
        TaskForceServiceClient::new(ch.clone())
            .get_consolidated_status(authed(
                GetConsolidatedStatusRequest {
                    locality: Some(LocalityRef {
                        edition: EDITION.into(),
                        code: big.clone(),
                    }),
                    ..Default::default()
                },
                &viewer,
            ))
            .await
            .unwrap_err(),
    ));
    let police_svc = start_agency_with(&t.keys, t.running.url(), Agency::Police, limits).await;
    let mut request = identity("big");
    request.narrative.as_mut().unwrap().assessment = big.clone();
    statuses.push((
        "PoliceReportingService",
        PoliceReportingServiceClient::new(channel(police_svc.url()).await)
            .submit_identity_report(authed(request, &police))
            .await
            .unwrap_err(),
    ));
    for (service, status) in &statuses {
        assert_eq!(
            status.code(),
            Code::ResourceExhausted,
            "{service}: {status:?}"
        );
        assert!(
            status.message().contains("at most 65536 bytes"),
            "{service}: {}",
            status.message()
        );
    }
    assert_eq!(t.report_count().await, 0);
    assert_eq!(t.count("period_lock").await, 0);
}

/// The request id an agency service's refusal names, from its RequestInfo detail.
fn request_id_of(status: &Status) -> String {
    let info = status
        .get_details_request_info()
        .unwrap_or_else(|| panic!("no RequestInfo in {status:?}"));
    assert!(
        status.message().contains(&format!("{:?}", info.request_id)),
        "{}",
        status.message()
    );
    info.request_id
}

async fn submit_identity(
    svc: &Running,
    token: &str,
    request: Request<SubmitIdentityReportRequest>,
) -> Result<Receipt, Status> {
    let _ = token;
    PoliceReportingServiceClient::new(channel(svc.url()).await)
        .submit_identity_report(request)
        .await
        .map(|r| r.into_inner())
}

#[tokio::test]
async fn a_slow_aggregator_is_deadline_exceeded_naming_the_request_id_and_the_retry_stores_once() {
    let gate = Gate::new(None);
    let t = TestAggregator::start_limited(LimitsConfig::default(), Some(gate.clone())).await;
    let police = police_for(&t);
    let svc = start_agency_with(
        &t.keys,
        t.running.url(),
        Agency::Police,
        LimitsConfig::default(),
    )
    .await;
    let status = submit_identity(
        &svc,
        &police,
        with_timeout(authed(identity("slow-1"), &police), Duration::from_secs(1)),
    )
    .await
    .unwrap_err();
    assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
    assert_eq!(request_id_of(&status), "slow-1");
    assert!(gate.entered() >= 1);

    gate.open();
    let first = submit_identity(&svc, &police, authed(identity("slow-1"), &police))
        .await
        .unwrap();
    let again = submit_identity(&svc, &police, authed(identity("slow-1"), &police))
        .await
        .unwrap();
    assert_eq!(
        (first.report, first.revision),
        (again.report, again.revision)
    );
    assert!(again.replayed);
    assert_eq!(t.report_count().await, 1);
}

#[tokio::test]
async fn an_aggregator_that_vanishes_mid_call_is_unavailable_naming_the_request_id() {
    let gate = Gate::new(None);
    let t = TestAggregator::start_limited(LimitsConfig::default(), Some(gate.clone())).await;
    let proxy = Proxy::start(t.running.addr).await;
    let police = police_for(&t);
    let svc = start_agency_with(
        &t.keys,
        format!("http://{}", proxy.addr),
        Agency::Police,
        LimitsConfig::default(),
    )
    .await;
    let call = {
        let svc_url = svc.url();
        let request = authed(identity("gone-1"), &police);
        tokio::spawn(async move {
            PoliceReportingServiceClient::new(channel(svc_url).await)
                .submit_identity_report(request)
                .await
        })
    };
    // The report reached the aggregator; then the line to it breaks and stays broken.
    gate.wait_entered(1).await;
    proxy.cut();
    let status = call.await.unwrap().unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    assert_eq!(request_id_of(&status), "gone-1");
    retry_delay(&status);

    // Back: the retry with the same id is stored once.
    proxy.restore();
    gate.open();
    let first = submit_identity(&svc, &police, authed(identity("gone-1"), &police))
        .await
        .unwrap();
    let again = submit_identity(&svc, &police, authed(identity("gone-1"), &police))
        .await
        .unwrap();
    assert_eq!(
        (first.report, first.revision),
        (again.report, again.revision)
    );
    assert!(again.replayed);
    assert_eq!(t.report_count().await, 1);
}
