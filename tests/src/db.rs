//! Fresh databases for tests.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use p06_aggregator::store::Store;
use sea_orm::ConnectionTrait;
use tokio::sync::OnceCell;

/// The PostgreSQL server to test against, as `postgres://user@host:port/postgres`.
pub const POSTGRES_URL_VAR: &str = "P06_TEST_POSTGRES_URL";

static SQLITE_TEMPLATE: OnceCell<PathBuf> = OnceCell::const_new();
static PG_TEMPLATE: OnceCell<String> = OnceCell::const_new();
static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A database that lives as long as the value (SQLite: a temporary file; PostgreSQL: a database
/// dropped on drop).
pub struct TestDb {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg_drop: Option<(String, String)>,
}

impl TestDb {
    /// A fresh, migrated and seeded database on the back-end selected by the environment.
    pub async fn fresh() -> TestDb {
        match std::env::var(POSTGRES_URL_VAR) {
            Ok(admin_url) if !admin_url.is_empty() => Self::postgres(&admin_url).await,
            _ => Self::sqlite().await,
        }
    }

    /// `host:port` of the PostgreSQL server, `None` on SQLite.
    pub fn postgres_addr(&self) -> Option<std::net::SocketAddr> {
        self.pg_drop.as_ref()?;
        let rest = self.url.split("://").nth(1)?;
        let host_port = rest.split('/').next()?.rsplit('@').next()?;
        let host_port = if host_port.contains(':') {
            host_port.to_owned()
        } else {
            format!("{host_port}:5432")
        };
        let host_port = host_port.replace("localhost", "127.0.0.1");
        host_port.parse().ok()
    }

    pub fn backend_name(&self) -> &'static str {
        if self.pg_drop.is_some() {
            "postgresql"
        } else {
            "sqlite"
        }
    }

    async fn sqlite() -> TestDb {
        let template = SQLITE_TEMPLATE
            .get_or_init(|| async {
                let dir =
                    std::env::temp_dir().join(format!("p06-test-template-{}", std::process::id()));
                std::fs::create_dir_all(&dir).unwrap();
                let path = dir.join("template.sqlite");
                let _ = std::fs::remove_file(&path);
                let store = Store::connect(&format!("sqlite://{}?mode=rwc", path.display()))
                    .await
                    .unwrap();
                store.migrate().await.unwrap();
                // Fold the WAL into the main file so a plain copy is complete.
                store
                    .connection()
                    .execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)")
                    .await
                    .unwrap();
                store.close().await;
                path
            })
            .await;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p06.sqlite");
        std::fs::copy(template, &path).unwrap();
        TestDb {
            url: format!("sqlite://{}?mode=rwc", path.display()),
            _dir: Some(dir),
            pg_drop: None,
        }
    }

    async fn postgres(admin_url: &str) -> TestDb {
        let run = format!("{}_{}", std::process::id(), chrono::Utc::now().timestamp());
        let template = PG_TEMPLATE
            .get_or_init(|| async {
                let name = format!("p06_tpl_{run}");
                admin_exec(admin_url, &format!("CREATE DATABASE {name}")).await;
                let store = Store::connect(&with_database(admin_url, &name))
                    .await
                    .unwrap();
                store.migrate().await.unwrap();
                store.close().await;
                name
            })
            .await;
        let name = format!("p06_test_{run}_{}", COUNTER.fetch_add(1, Ordering::SeqCst));
        admin_exec(
            admin_url,
            &format!("CREATE DATABASE {name} TEMPLATE {template}"),
        )
        .await;
        TestDb {
            url: with_database(admin_url, &name),
            _dir: None,
            pg_drop: Some((admin_url.to_owned(), name)),
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin_url, name)) = self.pg_drop.take() {
            // Drop runs inside a test's runtime; do the async clean-up on a thread of its own.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(admin_exec(
                    &admin_url,
                    &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                ));
            })
            .join();
        }
    }
}

/// Replaces the database name of a PostgreSQL URL.
pub fn with_database(url: &str, database: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let base = match base.rfind('/') {
        Some(i) if i > "postgres://".len() => &base[..i],
        _ => base,
    };
    match query {
        Some(q) => format!("{base}/{database}?{q}"),
        None => format!("{base}/{database}"),
    }
}

async fn admin_exec(admin_url: &str, sql: &str) {
    let db = sea_orm::Database::connect(admin_url)
        .await
        .expect("connect to PostgreSQL");
    db.execute_unprepared(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    let _ = db.close().await;
}
