//! The aggregator as a child process (this binary re-executed as `serve-aggregator`), with its CPU
//! time and resident memory read from `/proc`.

use std::io::BufRead as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

use crate::procfs;
use crate::serve::{COUNTS_PREFIX, COUNTS_REQUEST, READY_PREFIX};

/// How the aggregator child is configured.
#[derive(Debug, Clone)]
pub struct ChildConfig {
    pub database_url: String,
    pub compliance_file: PathBuf,
    /// Directory holding the development key pair the bench mints tokens with.
    pub keys_dir: PathBuf,
    /// Forward every log line of the child to stderr (otherwise only WARN and ERROR lines).
    pub verbose: bool,
    /// Keep the per-caller rate limits (`P06_LIMIT_RATE`, `P06_LIMIT_SUBMIT_RATE`) at their
    /// defaults. Off (`--limit-rate 0 --limit-submit-rate 0`) for the capacity scenarios: their
    /// closed loops drive one token per agency and province as fast as the server answers (ingest:
    /// 16 reports in flight), which those limits exist to refuse; every other limit stays as
    /// deployed. The overload scenario keeps them, since refusing such callers is what it
    /// measures. The bench's agency services follow the same setting ([`crate::rig::Rig`]).
    pub rate_limit: bool,
}

/// A running aggregator child.
pub struct AggregatorProcess {
    child: Child,
    /// Closing it asks the child to stop.
    stdin: Option<ChildStdin>,
    pub addr: SocketAddr,
    pub pid: u32,
    sampler: RssSampler,
    /// When the process was started, and how long it took to accept calls.
    pub startup: Duration,
    /// The child's answers to [`COUNTS_REQUEST`].
    counts: std::sync::Mutex<std::sync::mpsc::Receiver<StoreCounts>>,
}

/// Statements the child's store has run and reports it has stored (`Store::counts`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StoreCounts {
    pub statements: u64,
    pub reports: u64,
}

impl StoreCounts {
    fn parse(text: &str) -> Option<StoreCounts> {
        let mut fields = text.split_whitespace().map(str::parse::<u64>);
        Some(StoreCounts {
            statements: fields.next()?.ok()?,
            reports: fields.next()?.ok()?,
        })
    }

    /// What was counted between `earlier` and this reading.
    pub fn since(self, earlier: StoreCounts) -> StoreCounts {
        StoreCounts {
            statements: self.statements.saturating_sub(earlier.statements),
            reports: self.reports.saturating_sub(earlier.reports),
        }
    }
}

impl AggregatorProcess {
    /// Starts the aggregator (it migrates the database and loads the catalog) and waits until it
    /// listens.
    pub fn start(config: &ChildConfig) -> anyhow::Result<Self> {
        let started = Instant::now();
        let exe = std::env::current_exe().context("locating the bench binary")?;
        let mut child = Command::new(exe)
            .arg("serve-aggregator")
            .args(["--listen", "127.0.0.1:0"])
            .arg("--database-url")
            .arg(&config.database_url)
            .arg("--compliance-file")
            .arg(&config.compliance_file)
            .arg("--auth-data-dir")
            .arg(&config.keys_dir)
            .args(["--auto-migrate", "true"])
            .args(if config.rate_limit {
                &[][..]
            } else {
                &["--limit-rate", "0", "--limit-submit-rate", "0"][..]
            })
            // The rates as configured here, whatever the calling shell set.
            .env_remove("P06_LIMIT_RATE")
            .env_remove("P06_LIMIT_SUBMIT_RATE")
            // Development keys of the bench, whatever the calling shell configured.
            .env_remove("P06_JWT_KEYS")
            .env_remove("P06_AUTH_MODE")
            // As the deployment images run it (deploy/Dockerfile), unless the caller chose.
            .env(
                "MALLOC_ARENA_MAX",
                std::env::var("MALLOC_ARENA_MAX").unwrap_or_else(|_| "2".into()),
            )
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting the aggregator child")?;
        let pid = child.id();
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().context("child stdout")?;
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<String>();
        let (counts_tx, counts_rx) = std::sync::mpsc::channel::<StoreCounts>();
        let verbose = config.verbose;
        std::thread::spawn(move || {
            let mut ready = Some(ready_tx);
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(addr) = line.strip_prefix(READY_PREFIX) {
                    if let Some(tx) = ready.take() {
                        let _ = tx.send(addr.to_owned());
                    }
                } else if let Some(counts) = line.strip_prefix(COUNTS_PREFIX) {
                    if let Some(counts) = StoreCounts::parse(counts) {
                        let _ = counts_tx.send(counts);
                    }
                } else if verbose || line.contains(" WARN ") || line.contains("ERROR") {
                    eprintln!("aggregator[{pid}]| {line}");
                }
            }
        });
        let addr = loop {
            match ready_rx.recv_timeout(Duration::from_millis(200)) {
                Ok(addr) => break addr,
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    if let Some(status) = child.try_wait()? {
                        bail!("the aggregator child exited before listening: {status}");
                    }
                    if started.elapsed() > Duration::from_secs(300) {
                        let _ = child.kill();
                        bail!("the aggregator child did not listen within 300 s");
                    }
                }
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                    let status = child.wait()?;
                    bail!("the aggregator child exited before listening: {status}");
                }
            }
        };
        let addr: SocketAddr = addr.trim().parse().context("the child's address")?;
        Ok(AggregatorProcess {
            child,
            stdin,
            addr,
            pid,
            sampler: RssSampler::start(pid),
            startup: started.elapsed(),
            counts: std::sync::Mutex::new(counts_rx),
        })
    }

    /// The child's store counts now (asked on its stdin, answered on its stdout).
    pub fn store_counts(&self) -> anyhow::Result<StoreCounts> {
        use std::io::Write as _;
        let answers = self
            .counts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        // Answers left from an earlier request that timed out are stale.
        while answers.try_recv().is_ok() {}
        let mut stdin = self
            .stdin
            .as_ref()
            .context("the aggregator child is stopping")?;
        writeln!(stdin, "{COUNTS_REQUEST}").context("asking the aggregator child for counts")?;
        stdin.flush()?;
        answers
            .recv_timeout(Duration::from_secs(10))
            .context("the aggregator child did not answer with its counts")
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn memory(&self) -> procfs::Memory {
        procfs::memory(self.pid).unwrap_or_default()
    }

    /// Starts a memory phase: resets the kernel's VmHWM and the sampled maximum.
    pub fn begin_memory_phase(&self) -> MemoryPhase {
        let kernel_reset = procfs::reset_peak(self.pid);
        self.sampler.reset();
        MemoryPhase {
            kernel_reset,
            start: self.memory(),
        }
    }

    /// The peak of the phase begun with [`Self::begin_memory_phase`].
    pub fn end_memory_phase(&self, phase: &MemoryPhase) -> PhasePeak {
        let now = self.memory();
        PhasePeak {
            start_rss_kib: phase.start.rss_kib,
            end_rss_kib: now.rss_kib,
            vm_hwm_kib: now.hwm_kib,
            vm_hwm_is_phase_peak: phase.kernel_reset,
            sampled_rss_max_kib: self.sampler.max().max(now.rss_kib),
        }
    }

    /// Asks the child to stop (closes its stdin), waits for it to drain, kills it after 15 s.
    pub fn stop(mut self) -> anyhow::Result<()> {
        self.shutdown()
    }

    fn shutdown(&mut self) -> anyhow::Result<()> {
        self.sampler.stop();
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = self.child.try_wait()? {
                if !status.success() {
                    bail!("the aggregator child ended with {status}");
                }
                return Ok(());
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                bail!("the aggregator child did not stop within 15 s and was killed");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for AggregatorProcess {
    fn drop(&mut self) {
        if self.stdin.is_some() {
            let _ = self.shutdown();
        }
    }
}

/// Resident memory at the start and peak of a phase.
pub struct MemoryPhase {
    kernel_reset: bool,
    start: procfs::Memory,
}

/// Peak resident memory of the aggregator during a phase, in KiB.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct PhasePeak {
    pub start_rss_kib: u64,
    pub end_rss_kib: u64,
    /// The kernel's VmHWM: the phase's exact peak when `vm_hwm_is_phase_peak`, else the peak since
    /// the process started.
    pub vm_hwm_kib: u64,
    pub vm_hwm_is_phase_peak: bool,
    /// The largest VmRSS seen by sampling every 20 ms (a lower bound of the true peak).
    pub sampled_rss_max_kib: u64,
}

impl PhasePeak {
    /// The phase's peak: VmHWM when it was reset for the phase, else the sampled maximum.
    pub fn peak_kib(&self) -> u64 {
        if self.vm_hwm_is_phase_peak {
            self.vm_hwm_kib
        } else {
            self.sampled_rss_max_kib
        }
    }

    pub fn max(self, other: PhasePeak) -> PhasePeak {
        if self.peak_kib() >= other.peak_kib() {
            self
        } else {
            other
        }
    }
}

/// Samples VmRSS of a process every 20 ms on a thread of its own and keeps the maximum.
struct RssSampler {
    max: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

impl RssSampler {
    fn start(pid: u32) -> Self {
        let max = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (m, s) = (max.clone(), stop.clone());
        std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                match procfs::memory(pid) {
                    Some(mem) => {
                        m.fetch_max(mem.rss_kib, Ordering::Relaxed);
                    }
                    None => break,
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        RssSampler { max, stop }
    }

    fn reset(&self) {
        self.max.store(0, Ordering::Relaxed);
    }

    fn max(&self) -> u64 {
        self.max.load(Ordering::Relaxed)
    }

    fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}
