//! The fsync probe: how fast this disk makes a small write durable right now.
//!
//! Writes 4 KiB at successive offsets of a preallocated 4 MiB file (like a database log segment)
//! and `fdatasync`s after each write, for a bounded time, in the directory given (the database's
//! own for SQLite). The disk of this kind of machine is bimodal (≈ 5,000/s fresh, ≈ 260/s after
//! sustained writes), so every durable figure is printed beside a probe taken in the same minute.

use std::io::Write as _;
use std::os::unix::fs::FileExt as _;
use std::path::Path;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde_json::{Value, json};

use crate::load::round1;

const BLOCK: usize = 4096;
const BLOCKS: u64 = 1024;

/// One probe's result.
#[derive(Debug, Clone, Copy)]
pub struct Probe {
    pub per_sec: f64,
    pub p50_us: u64,
    pub p99_us: u64,
}

/// Probes for `duration` in `dir`; `when` labels the probe in the JSON.
pub fn probe(dir: &Path, duration: Duration, when: &str) -> anyhow::Result<(Probe, Value)> {
    let file = tempfile::Builder::new()
        .prefix(".p06-bench-fsync-")
        .tempfile_in(dir)?;
    let f = file.as_file();
    {
        let mut w = f;
        let zeros = vec![0u8; BLOCK];
        for _ in 0..BLOCKS {
            w.write_all(&zeros)?;
        }
        f.sync_all()?;
    }
    let block = vec![0x5au8; BLOCK];
    let mut latency = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    let started = Instant::now();
    let mut syncs = 0u64;
    while started.elapsed() < duration {
        let t0 = Instant::now();
        f.write_all_at(&block, (syncs % BLOCKS) * BLOCK as u64)?;
        f.sync_data()?;
        latency.saturating_record(t0.elapsed().as_micros().max(1) as u64);
        syncs += 1;
    }
    let elapsed = started.elapsed();
    let probe = Probe {
        per_sec: syncs as f64 / elapsed.as_secs_f64(),
        p50_us: latency.value_at_quantile(0.5),
        p99_us: latency.value_at_quantile(0.99),
    };
    let json = json!({
        "when": when,
        "dir": dir.display().to_string(),
        "filesystem": crate::database::filesystem_of(dir),
        "fdatasync_per_sec": round1(probe.per_sec),
        "p50_us": probe.p50_us,
        "p99_us": probe.p99_us,
        "syncs": syncs,
    });
    Ok((probe, json))
}
