//! Exactly-once MISSING flags with two aggregator processes sweeping one database at once.
//!
//! Runs the real `p06-aggregator sweep` binary twice concurrently against the same database (on
//! PostgreSQL when `P06_TEST_POSTGRES_URL` is set, else a shared SQLite file); the unique dedupe key
//! lets exactly one insert of each flag win.

use std::process::Stdio;

use p06_tests::db::TestDb;
use sea_orm::ConnectionTrait;

#[tokio::test(flavor = "multi_thread")]
async fn two_aggregator_processes_raise_each_missing_flag_exactly_once() {
    let db = TestDb::fresh().await;
    let binary = env!("CARGO_BIN_EXE_p06-aggregator");
    // Monday 21 April 2025, 10:00 local: about eight weekly deadlines and two monthly ones have
    // passed within the 62-day look-back, with no report at all.
    let now = "2025-04-21T03:00:00Z";
    let data_dir = tempfile::tempdir().unwrap();
    let spawn = || {
        std::process::Command::new(binary)
            .args(["sweep", "--now", now])
            .env("P06_DATABASE_URL", &db.url)
            .env("P06_DATA_DIR", data_dir.path())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start p06-aggregator")
    };
    // Both processes run at once; waiting for them one after the other does not serialise them.
    let (a, b) = (spawn(), spawn());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    for out in [&a, &b] {
        assert!(
            out.status.success(),
            "sweep failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let raised = |o: &std::process::Output| {
        String::from_utf8_lossy(&o.stdout)
            .trim()
            .parse::<i64>()
            .unwrap()
    };
    let (ra, rb) = (raised(&a), raised(&b));

    let store = p06_aggregator::store::Store::connect(&db.url)
        .await
        .unwrap();
    let count = |sql: &'static str| {
        let db = store.connection();
        async move {
            let row = db
                .query_one_raw(sea_orm::Statement::from_string(
                    db.get_database_backend(),
                    sql,
                ))
                .await
                .unwrap()
                .unwrap();
            row.try_get::<i64>("", "n").unwrap()
        }
    };
    let flags = count("SELECT COUNT(*) AS n FROM flag WHERE kind = 'MISSING'").await;
    let distinct =
        count("SELECT COUNT(DISTINCT dedupe_key) AS n FROM flag WHERE kind = 'MISSING'").await;
    // Three weekly obligations × 8 weeks ending 23 Feb – 13 Apr (+ the week ending 20 Apr is due
    // Tue 22nd), and the monthly regime's periods ending 14 Mar and 14 Apr (due +5 days 23:59:59).
    assert_eq!(flags, 3 * 8 + 2, "one flag per missing period");
    assert_eq!(distinct, flags, "no duplicates");
    assert_eq!(
        ra + rb,
        flags,
        "each flag raised by exactly one process ({ra} + {rb})"
    );
    store.close().await;
}
