//! Limits on every P06 gRPC server, configured in one place ([`LimitsConfig`], flags or `P06_LIMIT_*`
//! variables), applied by [`crate::host::ServiceHost`] to the aggregator and the agency services
//! alike:
//!
//! - **per-caller rate** ([`rate`]): a token bucket per token subject, agency and province;
//!   RESOURCE_EXHAUSTED with a `google.rpc.RetryInfo` giving the delay;
//! - **per-caller submission rate** ([`submission`]): a second, lower bucket per caller for the
//!   report-writing calls alone (IngestService `SubmitReport` and the agency services' submit
//!   calls): a caller's reads may page at the general rate, its reports cannot keep a province's
//!   writer busy; the same answer;
//! - **held refusals** ([`hold`]): a refusal for a caller's own rate is answered after as much of
//!   its wait as allowed, so a client that ignores RetryInfo cannot make thousands of calls a
//!   second by resending at once;
//! - **fair admission** ([`admission`]): a bounded number of calls run at once, each agency and the
//!   task force hold at most part of them, waiting calls queue per agency (bounded) and get free
//!   slots round-robin; a full agency queue or a saturated process answers RESOURCE_EXHAUSTED;
//! - **server-side deadline**: the caller's `grpc-timeout`, capped by the longest call allowed,
//!   answers DEADLINE_EXCEEDED when it passes (tonic's own timeout would say CANCELLED);
//! - **message size**: one limit for every service, refused as RESOURCE_EXHAUSTED from the
//!   message's length prefix, before it is read;
//! - **connections**: HTTP/2 keepalive pings, idle connections closed ([`idle`]), concurrent
//!   streams per connection capped.
//!
//! Health checks and reflection (public methods) are never limited, so probes answer under load.

pub mod admission;
pub mod hold;
pub mod idle;
pub mod layer;
pub mod rate;
pub mod submission;
pub mod wire;

use std::time::Duration;

pub use layer::{Limits, LimitsLayer};

/// The largest message any P06 service accepts or a P06 client sends (a 50,000-observation report
/// is ≈ 2 MB). [`LimitsConfig::max_message_bytes`] may lower the servers' limit, never raise it.
pub const MAX_MESSAGE_BYTES: usize = 16 * 1024 * 1024;

/// Every limit of a P06 server, with its flag and `P06_LIMIT_*` variable. Defaults suit one
/// aggregator on 2 cores serving a province's three agencies and its task force.
#[derive(Debug, Clone, clap::Args)]
pub struct LimitsConfig {
    /// Calls per second each caller (token subject + agency + province) may make, sustained; 0
    /// turns the rate limit off.
    #[arg(long = "limit-rate", env = "P06_LIMIT_RATE", default_value_t = 50.0)]
    pub rate_per_second: f64,
    /// Calls a caller may make at once above its rate (bucket size).
    #[arg(long = "limit-burst", env = "P06_LIMIT_BURST", default_value_t = 100)]
    pub burst: u32,
    /// Reports per second each caller may submit, sustained (IngestService `SubmitReport` and the
    /// agency services' submit calls; a real agency sends a few an hour): on top of the general
    /// rate, which submissions count against too; 0 turns it off.
    #[arg(
        long = "limit-submit-rate",
        env = "P06_LIMIT_SUBMIT_RATE",
        default_value_t = 2.0
    )]
    pub submit_rate_per_second: f64,
    /// Reports a caller may submit at once above its submission rate (bucket size).
    #[arg(
        long = "limit-submit-burst",
        env = "P06_LIMIT_SUBMIT_BURST",
        default_value_t = 10
    )]
    pub submit_burst: u32,
    /// Longest a refusal for a caller's own rate is held before it is answered (milliseconds):
    /// a client that ignores RetryInfo and resends at once is then answered once per wait; the
    /// answer's RetryInfo names what is left of the wait ([`hold`]). 0 answers at once.
    #[arg(
        long = "limit-refusal-hold-ms",
        env = "P06_LIMIT_REFUSAL_HOLD_MS",
        default_value_t = 1_000
    )]
    pub refusal_hold_ms: u64,
    /// Refusals held at once in the process; past this they are answered at once.
    #[arg(
        long = "limit-held-refusals",
        env = "P06_LIMIT_HELD_REFUSALS",
        default_value_t = 1_024
    )]
    pub held_refusals: usize,
    /// Calls running at once in the process.
    #[arg(
        long = "limit-in-flight",
        env = "P06_LIMIT_IN_FLIGHT",
        default_value_t = 8
    )]
    pub in_flight: usize,
    /// Calls of one agency (or of the task force) running at once.
    #[arg(
        long = "limit-agency-in-flight",
        env = "P06_LIMIT_AGENCY_IN_FLIGHT",
        default_value_t = 4
    )]
    pub agency_in_flight: usize,
    /// Calls of one agency waiting for a slot; more are refused RESOURCE_EXHAUSTED.
    #[arg(
        long = "limit-agency-queue",
        env = "P06_LIMIT_AGENCY_QUEUE",
        default_value_t = 64
    )]
    pub agency_queue: usize,
    /// Calls waiting in all; more are shed (RESOURCE_EXHAUSTED) — the process is saturated.
    #[arg(long = "limit-queue", env = "P06_LIMIT_QUEUE", default_value_t = 128)]
    pub total_queue: usize,
    /// Longest wait for a slot (milliseconds) before RESOURCE_EXHAUSTED.
    #[arg(
        long = "limit-queue-wait-ms",
        env = "P06_LIMIT_QUEUE_WAIT_MS",
        default_value_t = 5_000
    )]
    pub queue_wait_ms: u64,
    /// Longest a call may run (seconds) when its `grpc-timeout` is longer or absent; then
    /// DEADLINE_EXCEEDED. Streams are bounded only while they start.
    #[arg(
        long = "limit-call-secs",
        env = "P06_LIMIT_CALL_SECS",
        default_value_t = 60
    )]
    pub call_secs: u64,
    /// Largest request message in bytes, the same for every service (at most 16 MiB).
    #[arg(
        long = "limit-max-message-bytes",
        env = "P06_LIMIT_MAX_MESSAGE_BYTES",
        default_value_t = MAX_MESSAGE_BYTES
    )]
    pub max_message_bytes: usize,
    /// Interval of HTTP/2 keepalive pings (seconds); a peer that does not answer within
    /// `--limit-keepalive-timeout-secs` is disconnected.
    #[arg(
        long = "limit-keepalive-secs",
        env = "P06_LIMIT_KEEPALIVE_SECS",
        default_value_t = 30
    )]
    pub keepalive_secs: u64,
    #[arg(
        long = "limit-keepalive-timeout-secs",
        env = "P06_LIMIT_KEEPALIVE_TIMEOUT_SECS",
        default_value_t = 10
    )]
    pub keepalive_timeout_secs: u64,
    /// A connection with no call in progress for this long (seconds) is closed; 0 never.
    #[arg(
        long = "limit-idle-secs",
        env = "P06_LIMIT_IDLE_SECS",
        default_value_t = 300
    )]
    pub idle_secs: u64,
    /// Concurrent HTTP/2 streams (calls) per connection.
    #[arg(
        long = "limit-streams-per-connection",
        env = "P06_LIMIT_STREAMS_PER_CONNECTION",
        default_value_t = 128
    )]
    pub streams_per_connection: u32,
    /// Longest drain at shutdown (seconds): after SIGTERM/SIGINT readiness turns NOT_SERVING,
    /// new calls are refused, in-flight calls finish and streams are ended; whatever is still
    /// open after this long is dropped and the process exits.
    #[arg(long = "drain-secs", env = "P06_DRAIN_SECS", default_value_t = 10)]
    pub drain_secs: u64,
    /// How often (milliseconds) readiness is probed: the aggregator's database (`SELECT 1`), an
    /// agency service's aggregator (its `readiness` health).
    #[arg(
        long = "readiness-every-ms",
        env = "P06_READINESS_EVERY_MS",
        default_value_t = 2_000
    )]
    pub readiness_every_ms: u64,
    /// How long (milliseconds) one readiness probe may take before it counts as failed.
    #[arg(
        long = "readiness-timeout-ms",
        env = "P06_READINESS_TIMEOUT_MS",
        default_value_t = 1_000
    )]
    pub readiness_timeout_ms: u64,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            rate_per_second: 50.0,
            burst: 100,
            submit_rate_per_second: 2.0,
            submit_burst: 10,
            refusal_hold_ms: 1_000,
            held_refusals: 1_024,
            in_flight: 8,
            agency_in_flight: 4,
            agency_queue: 64,
            total_queue: 128,
            queue_wait_ms: 5_000,
            call_secs: 60,
            max_message_bytes: MAX_MESSAGE_BYTES,
            keepalive_secs: 30,
            keepalive_timeout_secs: 10,
            idle_secs: 300,
            streams_per_connection: 128,
            drain_secs: 10,
            readiness_every_ms: 2_000,
            readiness_timeout_ms: 1_000,
        }
    }
}

impl LimitsConfig {
    /// The configuration from `P06_LIMIT_*` variables alone (defaults for the rest), for programs
    /// that take no limit flags.
    pub fn from_env() -> anyhow::Result<Self> {
        #[derive(clap::Parser)]
        struct Only {
            #[command(flatten)]
            limits: LimitsConfig,
        }
        use clap::Parser as _;
        Only::try_parse_from(["p06"])?.limits.checked()
    }

    /// Refuses settings that cannot work, naming the variable.
    pub fn checked(self) -> anyhow::Result<Self> {
        if !self.rate_per_second.is_finite() || self.rate_per_second < 0.0 {
            anyhow::bail!(
                "P06_LIMIT_RATE must be a number ≥ 0, not {}",
                self.rate_per_second
            );
        }
        if !self.submit_rate_per_second.is_finite() || self.submit_rate_per_second < 0.0 {
            anyhow::bail!(
                "P06_LIMIT_SUBMIT_RATE must be a number ≥ 0, not {}",
                self.submit_rate_per_second
            );
        }
        if self.submit_rate_per_second > 0.0 && self.submit_burst == 0 {
            anyhow::bail!(
                "P06_LIMIT_SUBMIT_BURST must be at least 1 while P06_LIMIT_SUBMIT_RATE is on ({}/s)",
                self.submit_rate_per_second
            );
        }
        if self.in_flight == 0 || self.agency_in_flight == 0 {
            anyhow::bail!("P06_LIMIT_IN_FLIGHT and P06_LIMIT_AGENCY_IN_FLIGHT must be at least 1");
        }
        if self.max_message_bytes == 0 || self.max_message_bytes > MAX_MESSAGE_BYTES {
            anyhow::bail!(
                "P06_LIMIT_MAX_MESSAGE_BYTES must be between 1 and {MAX_MESSAGE_BYTES}, not {}",
                self.max_message_bytes
            );
        }
        if self.readiness_every_ms == 0 || self.readiness_timeout_ms == 0 {
            anyhow::bail!("P06_READINESS_EVERY_MS and P06_READINESS_TIMEOUT_MS must be at least 1");
        }
        if self.streams_per_connection == 0 {
            anyhow::bail!("P06_LIMIT_STREAMS_PER_CONNECTION must be at least 1");
        }
        Ok(self)
    }

    pub fn keepalive(&self) -> Option<Duration> {
        (self.keepalive_secs > 0).then(|| Duration::from_secs(self.keepalive_secs))
    }

    pub fn keepalive_timeout(&self) -> Option<Duration> {
        (self.keepalive_secs > 0).then(|| Duration::from_secs(self.keepalive_timeout_secs.max(1)))
    }

    pub fn drain(&self) -> Duration {
        Duration::from_secs(self.drain_secs)
    }

    pub fn readiness_every(&self) -> Duration {
        Duration::from_millis(self.readiness_every_ms.max(1))
    }

    pub fn readiness_timeout(&self) -> Duration {
        Duration::from_millis(self.readiness_timeout_ms.max(1))
    }

    pub fn idle(&self) -> Option<Duration> {
        (self.idle_secs > 0).then(|| Duration::from_secs(self.idle_secs))
    }

    /// No per-caller rates and bounds far above any load (benchmark ceilings).
    pub fn unlimited() -> Self {
        Self {
            rate_per_second: 0.0,
            submit_rate_per_second: 0.0,
            in_flight: 4096,
            agency_in_flight: 4096,
            agency_queue: 4096,
            total_queue: 4096,
            ..Self::default()
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_defaults_are_the_flags_defaults_and_hold() {
        let parsed = super::LimitsConfig::from_env().unwrap();
        let default = super::LimitsConfig::default();
        assert_eq!(format!("{parsed:?}"), format!("{default:?}"));
    }

    #[test]
    fn a_submission_rate_that_cannot_work_is_refused_naming_its_variable() {
        use super::LimitsConfig;
        let negative = LimitsConfig {
            submit_rate_per_second: -1.0,
            ..LimitsConfig::default()
        };
        let e = negative.checked().unwrap_err().to_string();
        assert!(e.contains("P06_LIMIT_SUBMIT_RATE"), "{e}");
        let no_burst = LimitsConfig {
            submit_burst: 0,
            ..LimitsConfig::default()
        };
        let e = no_burst.checked().unwrap_err().to_string();
        assert!(e.contains("P06_LIMIT_SUBMIT_BURST"), "{e}");
        // Off, the burst does not matter.
        LimitsConfig {
            submit_rate_per_second: 0.0,
            submit_burst: 0,
            ..LimitsConfig::default()
        }
        .checked()
        .unwrap();
    }
}
