//! The databases a run uses: fresh SQLite files in a temporary directory (or `--db-dir`), or fresh
//! databases `p06_bench_<pid>_<n>` created on the PostgreSQL server of `--database-url` and dropped
//! (`WITH (FORCE)`) when the run ends.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use serde_json::{Value, json};

/// Where the run's databases live.
pub enum Server {
    Sqlite {
        dir: PathBuf,
        /// Keeps a temporary directory alive for the run.
        _temp: Option<tempfile::TempDir>,
    },
    Postgres {
        /// The URL given on the command line (its database is used only to create and drop ours).
        admin_url: String,
        admin: DatabaseConnection,
        created: Vec<String>,
    },
}

/// One fresh database of the run.
#[derive(Debug, Clone)]
pub struct BenchDb {
    pub url: String,
    /// `sqlite` or `postgres`.
    pub backend: &'static str,
    /// The SQLite file, or the PostgreSQL database name.
    pub location: String,
    /// A directory on the same file system as the data, for the fsync probe (PostgreSQL: the
    /// temporary directory, since the server's data directory is not ours to write in).
    pub fsync_dir: PathBuf,
}

impl Server {
    pub async fn open(database_url: Option<&str>, db_dir: Option<&Path>) -> anyhow::Result<Self> {
        match database_url {
            Some(url) if url.starts_with("postgres") => {
                let admin = Database::connect(url)
                    .await
                    .with_context(|| format!("connecting to {url}"))?;
                Ok(Server::Postgres {
                    admin_url: url.to_owned(),
                    admin,
                    created: Vec::new(),
                })
            }
            Some(url) => anyhow::bail!(
                "--database-url must be postgres://… (SQLite files are created by the bench; use --db-dir to place them): {url}"
            ),
            None => {
                let (dir, temp) = match db_dir {
                    Some(parent) => {
                        std::fs::create_dir_all(parent)?;
                        let temp = tempfile::Builder::new()
                            .prefix("p06-bench-")
                            .tempdir_in(parent)?;
                        (temp.path().to_path_buf(), Some(temp))
                    }
                    None => {
                        let temp = tempfile::Builder::new().prefix("p06-bench-").tempdir()?;
                        (temp.path().to_path_buf(), Some(temp))
                    }
                };
                Ok(Server::Sqlite { dir, _temp: temp })
            }
        }
    }

    /// A new, empty database (the aggregator migrates it when it starts).
    pub async fn fresh(&mut self, label: &str) -> anyhow::Result<BenchDb> {
        match self {
            Server::Sqlite { dir, .. } => {
                let file = dir.join(format!("p06-{label}.sqlite"));
                Ok(BenchDb {
                    url: format!("sqlite://{}?mode=rwc", file.display()),
                    backend: "sqlite",
                    location: file.display().to_string(),
                    fsync_dir: dir.clone(),
                })
            }
            Server::Postgres {
                admin_url,
                admin,
                created,
            } => {
                let name = format!("p06_bench_{}_{}", std::process::id(), created.len() + 1);
                admin
                    .execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .with_context(|| format!("CREATE DATABASE {name}"))?;
                created.push(name.clone());
                Ok(BenchDb {
                    url: with_database(admin_url, &name),
                    backend: "postgres",
                    location: name,
                    fsync_dir: std::env::temp_dir(),
                })
            }
        }
    }

    /// Drops every database the run created (SQLite files go with the temporary directory).
    pub async fn cleanup(&mut self) {
        if let Server::Postgres { admin, created, .. } = self {
            for name in created.drain(..) {
                if let Err(e) = admin
                    .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await
                {
                    eprintln!("warning: could not drop database {name}: {e}");
                }
            }
        }
    }
}

/// `postgres://user@host:port/db?params` with another database name.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let after_scheme = base.find("://").map_or(0, |i| i + 3);
    let authority_end = base[after_scheme..]
        .find('/')
        .map_or(base.len(), |i| after_scheme + i);
    let mut out = format!("{}/{name}", &base[..authority_end]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

/// What a reader needs to judge durable figures: where the data lives, on which file system, and
/// the durability settings in effect.
pub async fn describe(db: &BenchDb, conn: &DatabaseConnection) -> Value {
    let backend = conn.get_database_backend();
    let setting = |sql: &'static str| {
        let stmt = Statement::from_string(backend, sql);
        async move {
            conn.query_one_raw(stmt)
                .await
                .ok()
                .flatten()
                .and_then(|row| {
                    row.try_get_by_index::<String>(0)
                        .ok()
                        .or_else(|| row.try_get_by_index::<i64>(0).ok().map(|n| n.to_string()))
                })
                .unwrap_or_else(|| "?".into())
        }
    };
    match db.backend {
        "sqlite" => json!({
            "backend": "sqlite",
            "file": db.location,
            "filesystem": filesystem_of(Path::new(&db.location)),
            "journal_mode": setting("PRAGMA journal_mode").await,
            // 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA (of the bench's own connection, opened like the
            // aggregator's: `Store::connect`).
            "synchronous": setting("PRAGMA synchronous").await,
        }),
        _ => json!({
            "backend": "postgres",
            "database": db.location,
            "server_version": setting("SHOW server_version").await,
            "data_directory": setting("SHOW data_directory").await,
            "synchronous_commit": setting("SHOW synchronous_commit").await,
            "fsync": setting("SHOW fsync").await,
            // Whether the bench's own connection (made from the same URL as the aggregator's) is
            // encrypted: on this machine TLS made the bulk load ≈ 4× slower on loopback.
            "tls": setting(
                "SELECT CASE WHEN ssl THEN 'on' ELSE 'off' END FROM pg_stat_ssl \
                 WHERE pid = pg_backend_pid()"
            )
            .await,
        }),
    }
}

/// The file-system type holding `path` (longest mount point prefix in /proc/mounts).
pub fn filesystem_of(path: &Path) -> String {
    let path = std::fs::canonicalize(path)
        .or_else(|_| std::fs::canonicalize(path.parent().unwrap_or(path)))
        .unwrap_or_else(|_| path.to_path_buf());
    let mounts = std::fs::read_to_string("/proc/mounts").unwrap_or_default();
    mounts
        .lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let (_, mount, fstype) = (fields.next()?, fields.next()?, fields.next()?);
            path.starts_with(mount)
                .then(|| (mount.len(), fstype.to_owned()))
        })
        .max()
        .map(|(_, fstype)| fstype)
        .unwrap_or_else(|| "unknown".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_database_name() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            with_database("postgres://u:p@h/db?sslmode=disable", "x"),
            "postgres://u:p@h/x?sslmode=disable"
        );
        assert_eq!(
            with_database("postgres://h:5432", "x"),
            "postgres://h:5432/x"
        );
    }
}
