//! The demo data `p06 up` loads through the real services, relative to today:
//!
//! - [`history`]: old Gia Lai (edition 2024, province 64, three tiers, 218 communes) with its four
//!   weeks of February–March 2025, received on time;
//! - [`current`]: new Gia Lai (edition 2025, province 52, two tiers, no districts), its obligations
//!   from the demo's first week, targets, and the eight weeks before the current one from all three
//!   agencies, with the mix a task force sees: most reports on time, a few late by hours or days,
//!   one missing this week, one vague narrative, one falling stock.
//!
//! Every report goes through the agency services to the aggregator, whose clock (a
//! [`ReplayClock`]) is set to the instant the report is received, so timeliness, deadlines and
//! flags come from the ordinary rules. Request ids and figures depend only on the week, so loading
//! again (another day, the same data directory) stores only the weeks not yet there.

mod current;
mod history;

use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone as _, Utc};
use p06_aggregator::app::AppState;
use p06_auth::DevKeys;
use p06_domain::clock::ReplayClock;
use p06_proto::aggregation::catalog_service_client::CatalogServiceClient;
use p06_proto::aggregation::{ListLocalitiesRequest, LocalityLevel};
use p06_proto::health::health_reporting_service_client::HealthReportingServiceClient;
use p06_proto::justice::justice_reporting_service_client::JusticeReportingServiceClient;
use p06_proto::police::police_reporting_service_client::PoliceReportingServiceClient;
use tonic::Request;
use tonic::transport::Channel;

pub use current::EDITION as CURRENT_EDITION;
pub use current::PROVINCE as CURRENT_PROVINCE;

pub struct Endpoints {
    pub aggregator: String,
    pub police: String,
    pub health: String,
    pub justice: String,
}

/// What the loaders share: the running services and the aggregator's clock and calendar.
pub struct Demo<'a> {
    pub endpoints: &'a Endpoints,
    pub keys: &'a DevKeys,
    pub clock: &'a ReplayClock,
    /// The aggregator's time zone and holidays, to place receive times around deadlines.
    pub state: &'a AppState,
}

/// Loads the demo; returns one summary line per province. The clock follows real time again
/// afterwards, whatever happened.
pub async fn load(demo: &Demo<'_>) -> anyhow::Result<Vec<String>> {
    let result = async {
        Ok(vec![
            history::load(demo).await?,
            current::load(demo, Utc::now()).await?,
        ])
    }
    .await;
    demo.clock.release();
    result
}

impl Demo<'_> {
    /// The instant of a local date and time in the aggregator's time zone.
    fn local(&self, date: NaiveDate, hour: u32, minute: u32) -> DateTime<Utc> {
        let time = NaiveTime::from_hms_opt(hour, minute, 0).unwrap_or_default();
        self.state
            .time_zone
            .from_local_datetime(&date.and_time(time))
            .earliest()
            .map_or_else(
                || Utc.from_utc_datetime(&date.and_time(time)),
                |t| t.with_timezone(&Utc),
            )
    }

    fn today(&self, now: DateTime<Utc>) -> NaiveDate {
        now.with_timezone(&self.state.time_zone).date_naive()
    }

    async fn clients(&self) -> anyhow::Result<Clients> {
        Ok(Clients {
            catalog: CatalogServiceClient::connect(self.endpoints.aggregator.clone()).await?,
            police: PoliceReportingServiceClient::connect(self.endpoints.police.clone()).await?,
            health: HealthReportingServiceClient::connect(self.endpoints.health.clone()).await?,
            justice: JusticeReportingServiceClient::connect(self.endpoints.justice.clone()).await?,
        })
    }
}

struct Clients {
    catalog: CatalogServiceClient<Channel>,
    police: PoliceReportingServiceClient<Channel>,
    health: HealthReportingServiceClient<Channel>,
    justice: JusticeReportingServiceClient<Channel>,
}

impl Clients {
    /// Every commune code of a province, in code order.
    async fn communes(
        &mut self,
        edition: &str,
        province: &str,
        token: &str,
    ) -> anyhow::Result<Vec<String>> {
        let mut communes = Vec::new();
        let mut page_token = String::new();
        loop {
            let page = self
                .catalog
                .list_localities(with_token(
                    ListLocalitiesRequest {
                        edition: edition.into(),
                        parent_code: province.into(),
                        level: LocalityLevel::Commune as i32,
                        page_size: 1_000,
                        page_token: page_token.clone(),
                    },
                    token,
                )?)
                .await?
                .into_inner();
            communes.extend(page.localities.into_iter().map(|l| l.code));
            if page.next_page_token.is_empty() {
                return Ok(communes);
            }
            page_token = page.next_page_token;
        }
    }
}

fn with_token<T>(message: T, token: &str) -> anyhow::Result<Request<T>> {
    let mut request = Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse()?);
    Ok(request)
}

/// A stable pseudo-random number in 0..1 for a commune and a purpose.
fn unit(code: &str, salt: u64) -> f64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ salt;
    for b in code.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (h % 10_000) as f64 / 10_000.0
}
