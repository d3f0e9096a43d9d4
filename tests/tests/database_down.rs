//! A database that goes away gives UNAVAILABLE (never a panic), and the service recovers when it
//! returns. Needs a networked database: runs on PostgreSQL (the embedded SQLite file cannot be
//! "down"); on SQLite it says so and checks nothing.

use p06_auth::Agency;
use p06_tests::db::TestDb;
use p06_tests::fixtures::*;
use p06_tests::proxy::Proxy;
use p06_tests::services::{TestAggregator, authed};
use tonic::Code;

#[tokio::test]
async fn a_database_outage_gives_unavailable_and_the_service_recovers() {
    let db = TestDb::fresh().await;
    let Some(server) = db.postgres_addr() else {
        eprintln!("SKIPPED: needs PostgreSQL (set P06_TEST_POSTGRES_URL)");
        return;
    };
    let proxy = Proxy::start(server).await;
    let url = db
        .url
        .replace(&server.to_string(), &proxy.addr.to_string())
        .replace("localhost:", "127.0.0.1:");
    let url = if url.contains(&proxy.addr.to_string()) {
        url
    } else {
        panic!("could not route {} through the proxy", db.url)
    };
    let t = TestAggregator::start_on(db, &url).await;
    let token = t.keys.reporter(Agency::Police);
    let mut client = t.ingest().await;
    let report = |id: &str| police_report(id, vec![obs("vneid.l2.activated", HA_DONG, 1.0)]);

    client
        .submit_report(authed(report("before"), &token))
        .await
        .unwrap();
    proxy.cut();
    let status = client
        .submit_report(authed(report("during"), &token))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    proxy.restore();
    let mut recovered = false;
    for _ in 0..20 {
        match client.submit_report(authed(report("after"), &token)).await {
            Ok(_) => {
                recovered = true;
                break;
            }
            Err(status) => {
                assert_eq!(status.code(), Code::Unavailable, "{status:?}");
                tokio::time::sleep(std::time::Duration::from_millis(250)).await;
            }
        }
    }
    assert!(
        recovered,
        "the aggregator recovered when the database came back"
    );
    assert_eq!(
        t.report_count().await,
        2,
        "the refused report left nothing behind"
    );
}
