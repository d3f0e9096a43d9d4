//! `p06-justice`: the justice reporting service as its own process (production layout).

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    p06_kit::host::run_agency("p06-justice", 50054, |aggregator| {
        p06_justice::JusticeApi::new(aggregator).into_server()
    })
    .await
}
