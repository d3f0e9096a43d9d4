//! The aggregator's gRPC API as the page calls it: one shared channel, every call with the
//! signed-in user's bearer token and the current trace context, a deadline, and the catalog
//! (names of provinces, districts and indicators, the same for every caller) remembered.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use p06_proto::aggregation::admin_service_client::AdminServiceClient;
use p06_proto::aggregation::catalog_service_client::CatalogServiceClient;
use p06_proto::aggregation::ingest_service_client::IngestServiceClient;
use p06_proto::aggregation::task_force_service_client::TaskForceServiceClient;
use p06_proto::aggregation::{
    Indicator, ListIndicatorsRequest, ListLocalitiesRequest, Locality, LocalityLevel,
};
use tonic::transport::Channel;
use tonic::{Request, Status};

/// Deadline of one call (the page waits for nothing longer).
const CALL_TIMEOUT: Duration = Duration::from_secs(10);
/// A report of 50,000 observations is ≈ 2 MB; leave room.
const MAX_MESSAGE_BYTES: usize = 16 * 1024 * 1024;

/// The aggregator, reached through one multiplexed HTTP/2 channel shared by every request.
#[derive(Clone)]
pub struct Api {
    channel: Channel,
    catalog: Arc<CatalogCache>,
}

/// (edition, parent code, level) → localities, ordered by code.
type LocalityCache = HashMap<(String, String, i32), Arc<Vec<Locality>>>;

#[derive(Default)]
struct CatalogCache {
    indicators: RwLock<Option<Arc<Vec<Indicator>>>>,
    localities: RwLock<LocalityCache>,
}

impl Api {
    /// A lazily connecting channel: the page starts (and answers 503 pages) while the aggregator
    /// is down, and reconnects by itself.
    pub fn new(url: &str) -> anyhow::Result<Api> {
        // https:// is called over TLS with the CA from P06_TLS_CA / P06_TLS_DIR (p06_kit::tls).
        let channel = p06_kit::tls::endpoint(url)
            .map_err(|e| anyhow::anyhow!("bad aggregator URL: {e}"))?
            .connect_timeout(Duration::from_secs(3))
            .timeout(CALL_TIMEOUT)
            .tcp_nodelay(true)
            .connect_lazy();
        Ok(Api {
            channel,
            catalog: Arc::default(),
        })
    }

    /// A request carrying `token` and the trace context of the current span.
    pub fn request<T>(&self, token: &str, message: T) -> Request<T> {
        let mut request = Request::new(message);
        request.set_timeout(CALL_TIMEOUT);
        if let Ok(value) = format!("Bearer {token}").parse() {
            request.metadata_mut().insert("authorization", value);
        }
        p06_telemetry::inject_context(&tracing::Span::current(), request.metadata_mut());
        request
    }

    /// The shared channel, for callers that build their own clients (`p06_letter::gather`).
    pub fn channel(&self) -> Channel {
        self.channel.clone()
    }

    pub fn task_force(&self) -> TaskForceServiceClient<Channel> {
        TaskForceServiceClient::new(self.channel.clone())
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
    }

    pub fn ingest(&self) -> IngestServiceClient<Channel> {
        IngestServiceClient::new(self.channel.clone()).max_decoding_message_size(MAX_MESSAGE_BYTES)
    }

    pub fn admin(&self) -> AdminServiceClient<Channel> {
        AdminServiceClient::new(self.channel.clone()).max_decoding_message_size(MAX_MESSAGE_BYTES)
    }

    /// A report's request may be as large as the aggregator takes (50,000 observations).
    pub fn ingest_sender(&self) -> IngestServiceClient<Channel> {
        self.ingest().max_encoding_message_size(MAX_MESSAGE_BYTES)
    }

    pub fn catalog(&self) -> CatalogServiceClient<Channel> {
        CatalogServiceClient::new(self.channel.clone()).max_decoding_message_size(MAX_MESSAGE_BYTES)
    }

    /// The indicator catalog (read once; any valid token may read it).
    pub async fn indicators(&self, token: &str) -> Result<Arc<Vec<Indicator>>, Status> {
        if let Some(found) = self
            .catalog
            .indicators
            .read()
            .expect("catalog cache")
            .clone()
        {
            return Ok(found);
        }
        let mut all = Vec::new();
        let mut page_token = String::new();
        loop {
            let page = self
                .catalog()
                .list_indicators(self.request(
                    token,
                    ListIndicatorsRequest {
                        agency: String::new(),
                        page_size: 1_000,
                        page_token: page_token.clone(),
                    },
                ))
                .await?
                .into_inner();
            all.extend(page.indicators);
            if page.next_page_token.is_empty() {
                break;
            }
            page_token = page.next_page_token;
        }
        let all = Arc::new(all);
        *self.catalog.indicators.write().expect("catalog cache") = Some(all.clone());
        Ok(all)
    }

    /// Localities of an edition below `parent` (every depth) at `level`, ordered by code; read
    /// once per question (the catalog does not change while the services run).
    pub async fn localities(
        &self,
        token: &str,
        edition: &str,
        parent: &str,
        level: LocalityLevel,
    ) -> Result<Arc<Vec<Locality>>, Status> {
        let key = (edition.to_owned(), parent.to_owned(), level as i32);
        if let Some(found) = self
            .catalog
            .localities
            .read()
            .expect("catalog cache")
            .get(&key)
        {
            return Ok(found.clone());
        }
        let mut all = Vec::new();
        let mut page_token = String::new();
        loop {
            let page = self
                .catalog()
                .list_localities(self.request(
                    token,
                    ListLocalitiesRequest {
                        edition: edition.to_owned(),
                        parent_code: parent.to_owned(),
                        level: level as i32,
                        page_size: 1_000,
                        page_token: page_token.clone(),
                    },
                ))
                .await?
                .into_inner();
            all.extend(page.localities);
            if page.next_page_token.is_empty() {
                break;
            }
            page_token = page.next_page_token;
        }
        let all = Arc::new(all);
        self.catalog
            .localities
            .write()
            .expect("catalog cache")
            .insert(key, all.clone());
        Ok(all)
    }

    /// The official name of a province (or `VN`: the country), for headings.
    pub async fn province_name(
        &self,
        token: &str,
        edition: &str,
        code: &str,
    ) -> Result<String, Status> {
        if code == crate::claims::COUNTRY {
            return Ok(String::new());
        }
        let provinces = self
            .localities(token, edition, "", LocalityLevel::Province)
            .await?;
        Ok(provinces
            .iter()
            .find(|p| p.code == code)
            .map_or_else(|| code.to_owned(), |p| p.name.clone()))
    }
}
