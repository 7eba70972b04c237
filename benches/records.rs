//! Records benchmark (issue 16): the archive's work at scale, on SQLite.
//!
//! One run (`CHANCERY_BENCH_ONLY=records scripts/bench`):
//! 1. **Export.** A register of `EXPORT_LETTERS` synthetic letters of 2025 (the benchmarks'
//!    fill; kept in `/var/tmp/chancery-bench/records-N.db`, `CHANCERY_BENCH_DIR` overrides the
//!    folder, and reused when whole) is exported with `chancery archive export --all`, the binary
//!    as staff run it. Printed: the payload's MB/s against `tar -cf` of the same bag's `data/` in
//!    the same run (goal ≥ 0.5×), and the export's peak resident memory (VmHWM of the process,
//!    read while it runs; goal < 150 MB whatever the size).
//! 2. **Disposal.** A closed case of `DISPOSAL_LETTERS` letters, due under a plan that keeps
//!    everything for `0d`, is proposed by a registrar and approved by an archivist through the
//!    library (`store.archive()`), as the command line does: the time to carry it out, and the
//!    process's peak memory.
//! 3. **`archive due` at `DUE_LETTERS` letters.** After the catch-up that files them all (timed:
//!    what the migration of an existing register costs on its first day), `ROUNDS` times, after
//!    `WARM_UP`: p50 and p95 (goal: p95 under `GOAL_MS`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use chancery::core::archive::Cutoff;
use chancery::core::number::{Direction, RegistrationNumber};
use chancery::store::{OpenMode, Store, StoreError};
use chrono::{DateTime, TimeZone, Utc};

const EXPORT_LETTERS: u64 = 100_000;
const ZONE: chrono_tz::Tz = chrono_tz::Asia::Baku;
const EXPORT_GOAL: f64 = 0.5;
const RSS_GOAL_MB: f64 = 150.0;
const MB: f64 = 1024.0 * 1024.0;

/// The year the benchmark's letters were registered in: closed, so its cases are too.
const YEAR: i32 = 2025;

fn from() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(YEAR, 1, 2, 6, 0, 0).single().expect("a valid instant")
}

fn until() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(YEAR, 12, 30, 12, 0, 0).single().expect("a valid instant")
}

fn bench_dir() -> PathBuf {
    std::env::var_os("CHANCERY_BENCH_DIR").map(PathBuf::from).unwrap_or_else(|| PathBuf::from("/var/tmp/chancery-bench"))
}

fn number(sequence: u64) -> String {
    RegistrationNumber { direction: Direction::Incoming, year: YEAR, sequence: i64::try_from(sequence).unwrap_or(i64::MAX) }.to_string()
}

/// The SQLite register of `letters` synthetic letters of `YEAR` named `name`: the one there
/// when it holds exactly them, else a new one.
async fn register(name: &str, letters: u64) -> Result<(Store, PathBuf)> {
    sqlx::any::install_default_drivers();
    let path = bench_dir().join(format!("{name}-{letters}.db"));
    let url = format!("sqlite://{}", path.display());
    if path.exists() {
        if let Ok(store) = Store::open(&url, ZONE, OpenMode::Existing).await {
            if holds(&store, letters).await? {
                return Ok((store, path));
            }
            store.close().await;
        }
        for suffix in ["", "-wal", "-shm"] {
            std::fs::remove_file(format!("{}{suffix}", path.display())).ok();
        }
    }
    std::fs::create_dir_all(bench_dir()).context("create the registers' folder")?;
    let store = Store::open(&url, ZONE, OpenMode::CreateIfMissing).await.context("create the register")?;
    let started = Instant::now();
    store.fill_synthetic_between(letters, &[], from(), until(), |_| {}).await.context("fill")?;
    println!("    filled {} with {letters} letters in {:.0} s", path.display(), started.elapsed().as_secs_f64());
    store.close().await;
    let store = Store::open(&url, ZONE, OpenMode::Existing).await?;
    if !holds(&store, letters).await? {
        bail!("{} was filled but does not hold exactly {letters} letters", path.display());
    }
    Ok((store, path))
}

async fn holds(store: &Store, letters: u64) -> Result<bool> {
    let exists = |n: String| async move {
        match store.document(&n).await {
            Ok(_) => Ok(true),
            Err(StoreError::NotFound(_)) => Ok(false),
            Err(error) => Err(error),
        }
    };
    Ok(exists(number(letters)).await? && !exists(number(letters + 1)).await?)
}

/// A process's peak resident memory so far (VmHWM), in bytes.
fn peak_rss(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse::<u64>().ok().map(|kib| kib * 1024)
}

/// Runs a command to its end; returns how long it took and its peak memory, read every 20 ms.
fn run_measured(mut command: Command) -> Result<(f64, u64)> {
    let started = Instant::now();
    let mut child = command.spawn().context("start")?;
    let mut peak = 0;
    loop {
        if let Some(rss) = peak_rss(child.id()) {
            peak = peak.max(rss);
        }
        if let Some(status) = child.try_wait()? {
            if !status.success() {
                bail!("{command:?} failed: {status}");
            }
            return Ok((started.elapsed().as_secs_f64(), peak));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The payload's size as the bag's `bag-info.txt` gives it (`Payload-Oxum: OCTETS.FILES`).
fn payload(bag: &Path) -> Result<(u64, u64)> {
    let info = std::fs::read_to_string(bag.join("bag-info.txt"))?;
    let oxum = info.lines().find_map(|l| l.strip_prefix("Payload-Oxum: ")).context("Payload-Oxum")?;
    let (octets, files) = oxum.trim().split_once('.').context("OCTETS.FILES")?;
    Ok((octets.parse()?, files.parse()?))
}

/// `chancery archive export --all` of a register against `tar -cf` of what it wrote.
async fn export(letters: u64) -> Result<()> {
    println!("export of {letters} letters (SQLite)");
    let (store, path) = register("records", letters).await?;
    // Filing every letter into its case, as the first archive command after the migration
    // does: measured on its own, not as part of the export.
    let started = Instant::now();
    let caught_up = store.archive().catch_up(Some("07-01"), Cutoff::default(), Utc::now()).await?;
    println!(
        "    catch-up: {} letters filed, {} yearly cases closed, in {:.1} s",
        caught_up.filed,
        caught_up.closed.len(),
        started.elapsed().as_secs_f64()
    );
    store.close().await;
    let work = bench_dir().join("records-export");
    if work.exists() {
        std::fs::remove_dir_all(&work)?;
    }
    std::fs::create_dir_all(&work)?;
    let bag = work.join("bag");
    let mut command = Command::new(env!("CARGO_BIN_EXE_chancery"));
    command
        .current_dir(&work)
        .env("CHANCERY_DATABASE__URL", format!("sqlite://{}", path.display()))
        .env("CHANCERY_RULES__DIR", concat!(env!("CARGO_MANIFEST_DIR"), "/mail-rules"))
        .env("CHANCERY_REGISTER__TIMEZONE", ZONE.name())
        .args(["archive", "export", "--all", "--out"])
        .arg(&bag)
        .stdout(std::process::Stdio::null());
    let (export_secs, export_peak) = run_measured(command)?;
    let (octets, files) = payload(&bag)?;
    let mut tar = Command::new("tar");
    tar.arg("-cf").arg(work.join("same-bytes.tar")).arg("-C").arg(&bag).arg("data");
    let (tar_secs, _) = run_measured(tar)?;
    let (export_rate, tar_rate) = (octets as f64 / MB / export_secs, octets as f64 / MB / tar_secs);
    let ratio = export_rate / tar_rate;
    println!("    payload: {:.1} MB in {files} files", octets as f64 / MB);
    println!("    chancery archive export: {export_secs:.1} s, {export_rate:.1} MB/s, peak RSS {:.1} MB", export_peak as f64 / MB);
    println!("    tar -cf of the same data/: {tar_secs:.1} s, {tar_rate:.1} MB/s");
    println!(
        "    ratio export/tar {ratio:.2} (goal ≥ {EXPORT_GOAL}: {}); peak RSS goal < {RSS_GOAL_MB} MB: {}",
        if ratio >= EXPORT_GOAL { "met" } else { "NOT met" },
        if (export_peak as f64 / MB) < RSS_GOAL_MB { "met" } else { "NOT met" }
    );
    std::fs::remove_dir_all(&work).ok();
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    let letters = std::env::var("CHANCERY_BENCH_EXPORT_LETTERS").ok().and_then(|n| n.parse().ok()).unwrap_or(EXPORT_LETTERS);
    export(letters).await?;
    Ok(())
}
