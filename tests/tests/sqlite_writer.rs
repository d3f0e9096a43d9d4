//! On SQLite, write transactions have a connection of their own: readers holding every pooled
//! connection cannot starve a write (it used to wait for a pooled connection and fail when the
//! pool's acquire timeout ran out). PostgreSQL writers share the pool by design; there the test
//! says so and checks nothing.

use chrono::{NaiveDate, Utc};
use p06_aggregator::store::Store;
use p06_domain::locality::Edition;
use p06_tests::db::TestDb;
use sea_orm::{ConnectionTrait, DatabaseTransaction, Statement, TransactionTrait};

/// The read pool's size on SQLite (`Store::connect`).
const SQLITE_READERS: usize = 4;

async fn open_snapshot(store: &Store) -> DatabaseTransaction {
    let txn = store.connection().begin().await.unwrap();
    // A read starts the snapshot and keeps the connection busy until the transaction ends.
    txn.query_one_raw(Statement::from_string(
        txn.get_database_backend(),
        "SELECT COUNT(*) AS n FROM locality",
    ))
    .await
    .unwrap();
    txn
}

#[tokio::test]
async fn a_write_goes_through_while_readers_hold_every_pooled_connection() {
    let db = TestDb::fresh().await;
    if db.backend_name() != "sqlite" {
        eprintln!("SKIPPED: SQLite only (PostgreSQL writers share the pool)");
        return;
    }
    let store = Store::connect(&db.url).await.unwrap();
    let catalog = store.load_catalog().await.unwrap();
    let hanoi = catalog.province(Edition::E2024, "01").unwrap().id;

    let mut readers = Vec::new();
    for _ in 0..SQLITE_READERS {
        readers.push(open_snapshot(&store).await);
    }
    let week = NaiveDate::from_ymd_opt(2025, 3, 3).unwrap();
    let lock = store
        .lock_period(
            hanoi,
            week,
            week + chrono::Duration::days(6),
            None,
            None,
            "audit of week 10",
            "test",
            Utc::now(),
        )
        .await
        .expect("the write must not wait for a pooled connection");

    // The readers' snapshots predate the write; a new read sees it.
    for reader in readers {
        reader.rollback().await.unwrap();
    }
    let seen = store
        .connection()
        .query_one_raw(Statement::from_string(
            store.backend(),
            format!("SELECT reason FROM period_lock WHERE id = {}", lock.id),
        ))
        .await
        .unwrap()
        .expect("the lock is visible to readers after the write");
    assert_eq!(
        seen.try_get::<String>("", "reason").unwrap(),
        "audit of week 10"
    );
    store.close().await;
}
