//! `p06-police`: the police reporting service as its own process (production layout).

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    p06_kit::host::run_agency("p06-police", 50052, |aggregator| {
        p06_police::PoliceApi::new(aggregator).into_server()
    })
    .await
}
