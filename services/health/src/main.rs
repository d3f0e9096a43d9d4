//! `p06-health`: the health reporting service as its own process (production layout).

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    p06_kit::host::run_agency("p06-health", 50053, |aggregator| {
        p06_health::HealthApi::new(aggregator).into_server()
    })
    .await
}
