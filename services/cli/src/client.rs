//! Connecting to the services, and turning gRPC errors into plain words.

use p06_kit::status::field_violations;
use tonic::transport::Channel;
use tonic::{Request, Status};

/// Where the command-line talks to, and as whom.
#[derive(Debug, Clone, clap::Args)]
pub struct Connection {
    /// The aggregator.
    #[arg(
        long,
        env = "P06_SERVER",
        default_value = "http://127.0.0.1:50051",
        global = true
    )]
    pub server: String,
    /// Bearer token (see `p06 token`).
    #[arg(long, env = "P06_TOKEN", global = true, hide_env_values = true)]
    pub token: Option<String>,
    /// Locality edition of the codes given: 2023, 2024 or 2025.
    #[arg(long, default_value = "2024", global = true)]
    pub edition: String,
}

impl Connection {
    pub async fn channel(&self, url: &str) -> anyhow::Result<Channel> {
        Channel::from_shared(url.to_owned())?
            .connect()
            .await
            .map_err(|e| anyhow::anyhow!("cannot reach {url}: {e}"))
    }

    pub fn request<T>(&self, message: T) -> anyhow::Result<Request<T>> {
        let token = self.token.as_deref().ok_or_else(|| {
            anyhow::anyhow!("no token: pass --token or set P06_TOKEN (see `p06 token --help`)")
        })?;
        let mut request = Request::new(message);
        request
            .metadata_mut()
            .insert("authorization", format!("Bearer {token}").parse()?);
        Ok(request)
    }
}

/// A server refusal in plain words, each field violation on its own line.
pub fn explain(status: Status) -> anyhow::Error {
    let mut text = format!("{} ({:?})", status.message(), status.code());
    for (field, description) in field_violations(&status) {
        text.push_str(&format!("\n  - {field}: {description}"));
    }
    anyhow::anyhow!(text)
}
