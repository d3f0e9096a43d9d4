//! The tower layer: refusals answer the exact gRPC status without calling the inner service, and the
//! layer composes with tonic's `Server::builder().layer(..)`.

mod support;

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use jsonwebtoken::Algorithm;
use p06_auth::{Agency, AuthLayer, Mode, Principal, Role};
use support::*;
use tonic::Code;
use tower::{Layer, Service, ServiceExt};

const SUBMIT: &str = "/p06.aggregation.v1.IngestService/SubmitReport";
const TASKFORCE: &str = "/p06.aggregation.v1.TaskForceService/GetConsolidatedStatus";
const ADMIN: &str = "/p06.aggregation.v1.AdminService/LockPeriod";
const UPSERT_TARGETS: &str = "/p06.aggregation.v1.CatalogService/UpsertTargets";
const HEALTH_SUBMIT: &str = "/p06.health.v1.HealthReportingService/SubmitHealthReport";
const POLICE_SUBMIT: &str = "/p06.police.v1.PoliceReportingService/SubmitIdentityReport";

struct Harness {
    fixture: Fixture,
    calls: Arc<AtomicUsize>,
}

impl Harness {
    fn new() -> Self {
        Harness {
            fixture: Fixture::with(Mode::Production, &[Algorithm::EdDSA]),
            calls: Arc::new(AtomicUsize::new(0)),
        }
    }

    fn token(&self, agency: Agency, roles: &[Role]) -> String {
        self.fixture
            .ed
            .sign(Some("ed-1"), &claims_of(agency, roles))
    }

    /// Sends one request through the layer to an inner service that counts its calls and echoes
    /// the principal's subject in a header.
    async fn call(&self, path: &str, token: Option<&str>) -> http::Response<()> {
        let calls = self.calls.clone();
        let inner = tower::service_fn(move |request: http::Request<&'static str>| {
            calls.fetch_add(1, Ordering::SeqCst);
            let subject = request
                .extensions()
                .get::<Principal>()
                .map_or("-".to_owned(), |p| p.subject.clone());
            async move {
                let mut response = http::Response::new(());
                response
                    .headers_mut()
                    .insert("grpc-status", "0".parse().unwrap());
                response
                    .headers_mut()
                    .insert("x-subject", subject.parse().unwrap());
                Ok::<_, Infallible>(response)
            }
        });
        let mut service = AuthLayer::new(self.fixture.auth.clone()).layer(inner);
        let mut request = http::Request::builder()
            .method("POST")
            .uri(format!("http://localhost{path}"))
            .header("content-type", "application/grpc");
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let request = request.body("the body must not be read").unwrap();
        service.ready().await.unwrap().call(request).await.unwrap()
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

fn grpc_status(response: &http::Response<()>) -> Code {
    let value = response
        .headers()
        .get("grpc-status")
        .expect("grpc-status header");
    Code::from_i32(value.to_str().unwrap().parse().unwrap())
}

#[tokio::test]
async fn refusals_answer_the_grpc_status_without_calling_the_service() {
    let h = Harness::new();
    let reporter = h.token(Agency::Police, &[Role::Reporter]);
    let viewer = h.token(Agency::Taskforce, &[Role::TaskforceViewer]);
    let admin = h.token(Agency::Taskforce, &[Role::TaskforceAdmin]);
    let expired = h.fixture.ed.sign(
        Some("ed-1"),
        &p06_auth::Claims {
            exp: now() - 3600,
            ..claims()
        },
    );
    let cases: [(&str, Option<&str>, Code, &str); 10] = [
        (SUBMIT, None, Code::Unauthenticated, "no token"),
        (
            SUBMIT,
            Some("garbage"),
            Code::Unauthenticated,
            "malformed token",
        ),
        (
            SUBMIT,
            Some(&expired),
            Code::Unauthenticated,
            "expired token",
        ),
        (
            TASKFORCE,
            Some(&reporter),
            Code::PermissionDenied,
            "reporter on a task-force query",
        ),
        (
            ADMIN,
            Some(&viewer),
            Code::PermissionDenied,
            "viewer on an admin call",
        ),
        (
            UPSERT_TARGETS,
            Some(&viewer),
            Code::PermissionDenied,
            "viewer setting targets",
        ),
        (
            HEALTH_SUBMIT,
            Some(&reporter),
            Code::PermissionDenied,
            "police on the health service",
        ),
        (
            SUBMIT,
            Some(&admin),
            Code::PermissionDenied,
            "the task force does not report",
        ),
        (
            "/p06.aggregation.v1.IngestService/Purge",
            Some(&admin),
            Code::PermissionDenied,
            "unknown method",
        ),
        (
            "/p06.aggregation.v1.IngestService/Purge",
            None,
            Code::Unauthenticated,
            "unknown method, no token",
        ),
    ];
    for (path, token, code, what) in cases {
        let response = h.call(path, token).await;
        assert_eq!(grpc_status(&response), code, "{what}");
        assert_eq!(
            response.status(),
            http::StatusCode::OK,
            "{what}: gRPC errors travel in a 200"
        );
        assert!(response.headers().contains_key("grpc-message"), "{what}");
        assert_eq!(
            response.headers()["content-type"],
            "application/grpc",
            "{what}"
        );
        assert_eq!(h.calls(), 0, "{what}: the inner service ran");
    }
}

#[tokio::test]
async fn allowed_calls_reach_the_service_with_the_principal() {
    let h = Harness::new();
    let cases = [
        (POLICE_SUBMIT, h.token(Agency::Police, &[Role::Reporter])),
        (SUBMIT, h.token(Agency::Health, &[Role::Service])),
        (
            TASKFORCE,
            h.token(Agency::Taskforce, &[Role::TaskforceViewer]),
        ),
        (ADMIN, h.token(Agency::Taskforce, &[Role::TaskforceAdmin])),
        (
            "/p06.aggregation.v1.CatalogService/ListLocalities",
            h.token(Agency::Justice, &[Role::Reporter]),
        ),
    ];
    for (i, (path, token)) in cases.iter().enumerate() {
        let response = h.call(path, Some(token)).await;
        assert_eq!(grpc_status(&response), Code::Ok, "{path}");
        assert_eq!(response.headers()["x-subject"], "officer-17", "{path}");
        assert_eq!(h.calls(), i + 1);
    }
}

#[tokio::test]
async fn public_paths_pass_without_a_token_and_without_a_principal() {
    let h = Harness::new();
    for path in [
        "/grpc.health.v1.Health/Check",
        "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
        "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
    ] {
        let response = h.call(path, None).await;
        assert_eq!(grpc_status(&response), Code::Ok, "{path}");
        assert_eq!(response.headers()["x-subject"], "-");
    }
    // A bad token on a public path is ignored, not an error: probes carry none anyway.
    let response = h
        .call("/grpc.health.v1.Health/Check", Some("garbage"))
        .await;
    assert_eq!(grpc_status(&response), Code::Ok);
    assert_eq!(h.calls(), 4);
}

#[test]
fn the_callers_token_is_forwarded_unchanged() {
    let incoming = bearer("a.b.c");
    let mut outgoing = tonic::Request::new(());
    assert!(p06_auth::layer::forward_authorization(
        &incoming,
        &mut outgoing
    ));
    assert_eq!(
        outgoing.metadata().get("authorization").unwrap(),
        "Bearer a.b.c"
    );
    let mut outgoing = tonic::Request::new(());
    assert!(!p06_auth::layer::forward_authorization(
        &tonic::metadata::MetadataMap::new(),
        &mut outgoing
    ));
    assert!(outgoing.metadata().get("authorization").is_none());
}

/// A real tonic server with the layer and only the health service: a call that passes the layer
/// reaches the router and gets UNIMPLEMENTED; a refused one gets the layer's status.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_layer_composes_with_a_tonic_server() {
    let h = Harness::new();
    let (_reporter, health) = tonic_health::server::health_reporter();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(
        tonic::transport::Server::builder()
            .layer(AuthLayer::new(h.fixture.auth.clone()))
            .add_service(health)
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
    );
    let channel = tonic::transport::Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();

    // Public: the health check answers without a token.
    let mut health_client = tonic_health::pb::health_client::HealthClient::new(channel.clone());
    let response = health_client
        .check(tonic_health::pb::HealthCheckRequest {
            service: String::new(),
        })
        .await
        .unwrap();
    assert_eq!(response.into_inner().status, 1, "SERVING");

    let call = |path: &'static str, token: Option<String>| {
        let channel = channel.clone();
        async move {
            let mut grpc = tonic::client::Grpc::new(channel);
            grpc.ready().await.unwrap();
            let mut request = tonic::Request::new(());
            if let Some(token) = token {
                request
                    .metadata_mut()
                    .insert("authorization", format!("Bearer {token}").parse().unwrap());
            }
            let codec = tonic_prost::ProstCodec::<(), ()>::default();
            grpc.unary(request, http::uri::PathAndQuery::from_static(path), codec)
                .await
                .map(|_| Code::Ok)
                .unwrap_or_else(|status| status.code())
        }
    };
    let viewer = h.token(Agency::Taskforce, &[Role::TaskforceViewer]);
    let admin = h.token(Agency::Taskforce, &[Role::TaskforceAdmin]);
    let police = h.token(Agency::Police, &[Role::Reporter]);
    assert_eq!(call(ADMIN, None).await, Code::Unauthenticated);
    assert_eq!(
        call(ADMIN, Some("x.y.z".into())).await,
        Code::Unauthenticated
    );
    assert_eq!(call(ADMIN, Some(viewer)).await, Code::PermissionDenied);
    assert_eq!(
        call(HEALTH_SUBMIT, Some(police.clone())).await,
        Code::PermissionDenied
    );
    assert_eq!(
        call(ADMIN, Some(admin)).await,
        Code::Unimplemented,
        "passed the layer"
    );
    assert_eq!(
        call(POLICE_SUBMIT, Some(police)).await,
        Code::Unimplemented,
        "passed the layer"
    );
    server.abort();
}
