//! `p06-web`: the task force's web page. Pages are rendered on the server from the aggregator's
//! gRPC API, called with the signed-in user's token; the service has no data of its own and makes
//! no authorization decision (a province A token asking for province B gets the aggregator's
//! PERMISSION_DENIED, shown as a 403 page).
//!
//! Routes (province pages take the province code; the edition is the token's):
//!
//! | route | page |
//! |---|---|
//! | `/` | home: the token's province overview, or the country for a national token |
//! | `/signin`, `/signin/once/{code}`, `/signout`, `/lang` | sign-in, development link, sign-out, language |
//! | `/p/{code}` (+ `/status.csv`) | overview |
//! | `/p/{code}/districts` (+ `.csv`) | communes below a threshold per district |
//! | `/p/{code}/communes` (+ `.csv`) | commune ranking, filter, search |
//! | `/p/{code}/compliance` (+ `.csv`, `/letter.docx`) | reporting compliance; the chase-up letter as of `to` |
//! | `/p/{code}/flags` (+ `.csv`, `/events` Server-Sent Events) | open flags, live |
//! | `/p/{code}/reports` (+ `.csv`) | the reports behind a compliance row |
//! | `/p/{code}/reports/{id}` (+ `/observations.csv`) | a report: receipt, narrative, observations, revisions |
//! | `/country` (+ `.csv`) | provinces ranked (national token) |
//! | `/upload` (+ `/upload/template.xlsx`) | a reporter's workbook: its template, its upload (receipt or every cell's error) |
//!
//! Every `….csv` table also downloads as `….xlsx` (the same rows, typed, via `p06-workbook`).
//! | `/assets/{name}`, `/favicon.ico`, `/healthz` | embedded assets, liveness |

// Handlers return their error page as `Err(Response)`, built once per failed request; boxing it
// would buy nothing.
#![allow(clippy::result_large_err)]

pub mod api;
pub mod assets;
pub mod chart;
pub mod claims;
pub mod ctx;
pub mod download;
pub mod fold;
pub mod format;
pub mod i18n;
pub mod multipart;
pub mod pages;
pub mod security;
pub mod session;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::{get, post};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::api::Api;
use crate::ctx::{AppState, Shared};
use crate::security::SecureCookies;
use crate::session::Sessions;

/// How long a one-time sign-in link stays usable.
pub const ONE_TIME_LINK_TTL: Duration = Duration::from_secs(15 * 60);

/// How the web service runs, from flags or `P06_WEB_*` variables.
#[derive(Debug, Clone, clap::Args)]
pub struct WebConfig {
    /// Address to listen on for HTTP.
    #[arg(long, env = "P06_WEB_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// The aggregator's gRPC endpoint.
    #[arg(
        long,
        env = "P06_AGGREGATOR_URL",
        default_value = "http://127.0.0.1:50051"
    )]
    pub aggregator_url: String,
    /// `Secure` cookies: `auto` (when a proxy says the request came over HTTPS in
    /// `X-Forwarded-Proto`), `always` (serve behind HTTPS only) or `never`.
    #[arg(
        long,
        env = "P06_WEB_SECURE_COOKIES",
        value_enum,
        default_value = "auto"
    )]
    pub secure_cookies: SecureCookies,
    /// Most sessions held at once (tokens are held in memory; the one expiring first makes room).
    #[arg(long, env = "P06_WEB_MAX_SESSIONS", default_value_t = 10_000)]
    pub max_sessions: usize,
}

impl WebConfig {
    /// Loopback, an ephemeral port, in front of `aggregator_url` (tests and `p06 up`).
    pub fn for_aggregator(aggregator_url: impl Into<String>) -> Self {
        WebConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            aggregator_url: aggregator_url.into(),
            secure_cookies: SecureCookies::Auto,
            max_sessions: 10_000,
        }
    }
}

/// The web service, ready to serve.
#[derive(Clone)]
pub struct Web {
    state: AppState,
}

impl Web {
    pub fn new(config: &WebConfig) -> anyhow::Result<Web> {
        Ok(Web {
            state: Arc::new(Shared {
                api: Api::new(&config.aggregator_url)?,
                sessions: Sessions::new(config.max_sessions),
                secure_cookies: config.secure_cookies,
            }),
        })
    }

    /// A path (`/signin/once/{code}`) that signs a browser in once with `token`, within
    /// [`ONE_TIME_LINK_TTL`], and lands on `next`. The token itself never appears in it: the
    /// code is a random key to the token held in this process.
    pub fn one_time_link(&self, token: &str, next: &str) -> String {
        let code =
            self.state
                .sessions
                .one_time_code(token.to_owned(), next.to_owned(), ONE_TIME_LINK_TTL);
        format!("/signin/once/{code}")
    }

    pub fn router(&self) -> Router {
        use crate::pages::*;
        Router::new()
            .route("/", get(signin::home))
            .route("/signin", get(signin::form).post(signin::submit))
            .route("/signin/once/{code}", get(signin::once))
            .route("/signout", post(signin::sign_out))
            .route("/lang", post(signin::switch_language))
            .route("/healthz", get(signin::healthz))
            .route("/assets/{name}", get(assets::serve))
            .route("/favicon.ico", get(assets::favicon))
            .route("/p/{code}", get(overview::page))
            .route("/p/{code}/status.csv", get(overview::csv))
            .route("/p/{code}/status.xlsx", get(overview::csv))
            .route("/p/{code}/districts", get(districts::page))
            .route("/p/{code}/districts.csv", get(districts::csv))
            .route("/p/{code}/districts.xlsx", get(districts::csv))
            .route("/p/{code}/communes", get(communes::page))
            .route("/p/{code}/communes.csv", get(communes::csv))
            .route("/p/{code}/communes.xlsx", get(communes::csv))
            .route("/p/{code}/compliance", get(compliance::page))
            .route("/p/{code}/compliance.csv", get(compliance::csv))
            .route("/p/{code}/compliance.xlsx", get(compliance::csv))
            .route("/p/{code}/compliance/letter.docx", get(compliance::letter))
            .route("/p/{code}/flags", get(flags::page))
            .route("/p/{code}/flags.csv", get(flags::csv))
            .route("/p/{code}/flags.xlsx", get(flags::csv))
            .route("/p/{code}/flags/events", get(flags::events))
            .route("/p/{code}/reports", get(reports::page))
            .route("/p/{code}/reports.csv", get(reports::csv))
            .route("/p/{code}/reports.xlsx", get(reports::csv))
            .route("/p/{code}/reports/{id}", get(report::page))
            .route("/p/{code}/reports/{id}/observations.csv", get(report::csv))
            .route("/p/{code}/reports/{id}/observations.xlsx", get(report::csv))
            .route("/upload", get(upload::page).post(upload::submit))
            .route("/upload/template.xlsx", get(upload::template))
            .route("/country", get(country::page))
            .route("/country.csv", get(country::csv))
            .route("/country.xlsx", get(country::csv))
            .fallback(not_found)
            .layer(axum::middleware::from_fn(security::headers_and_log))
            .with_state(self.state.clone())
    }

    /// Serves on `listener` until `shutdown` completes.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        axum::serve(listener, self.router())
            .with_graceful_shutdown(shutdown)
            .await
    }

    /// Binds `addr` (port 0: ephemeral) and serves in the background.
    pub async fn spawn(self, addr: SocketAddr) -> std::io::Result<RunningWeb> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let web = self.clone();
        let task = tokio::spawn(self.serve(listener, async {
            let _ = stopped.await;
        }));
        Ok(RunningWeb {
            addr,
            web,
            stop: Some(stop),
            task,
        })
    }
}

/// Unknown paths: a plain 404 (with the security headers).
async fn not_found() -> (http::StatusCode, &'static str) {
    (
        http::StatusCode::NOT_FOUND,
        "Không tìm thấy trang / Page not found",
    )
}

/// The web service serving in the background.
pub struct RunningWeb {
    pub addr: SocketAddr,
    web: Web,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

impl RunningWeb {
    /// `http://ADDR`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// A full one-time sign-in URL for `token`, landing on `next` (see [`Web::one_time_link`]).
    pub fn one_time_link(&self, token: &str, next: &str) -> String {
        format!("{}{}", self.url(), self.web.one_time_link(token, next))
    }

    /// Stops accepting connections and waits for open ones (a live flags page holds one until
    /// its browser leaves, so callers may bound this wait).
    pub async fn shutdown(mut self) -> std::io::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match (&mut self.task).await {
            Ok(result) => result,
            Err(join) => Err(std::io::Error::other(join)),
        }
    }
}

impl Drop for RunningWeb {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
