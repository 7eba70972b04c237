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
use chancery::core::archive::{Cutoff, FilePlan};
use chancery::core::confidentiality::Confidentiality;
use chancery::core::number::{Direction, RegistrationNumber};
use chancery::core::viewer::{Role, StaffMember};
use chancery::store::{OpenMode, Store, StoreError};
use chrono::{DateTime, TimeZone, Utc};

const EXPORT_LETTERS: u64 = 100_000;
const DISPOSAL_LETTERS: u64 = 10_000;
const DUE_LETTERS: u64 = 1_000_000;
const ROUNDS: usize = 50;
const WARM_UP: usize = 5;
const GOAL_MS: f64 = 50.0;
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

/// The shipped file plan.
fn shipped_plan() -> Result<FilePlan> {
    let book = chancery::rule_files::load(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/mail-rules")))
        .map_err(|e| anyhow::anyhow!("the shipped rules: {e}"))?;
    book.file_plan().cloned().context("the shipped rules have a file plan")
}

/// This process's peak resident memory since `reset_peak_rss`.
fn own_peak_rss() -> u64 {
    peak_rss(std::process::id()).unwrap_or(0)
}

/// This process's resident memory now (VmRSS), in bytes.
fn own_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib = status.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok());
    kib.unwrap_or(0) * 1024
}

/// Starts this process's peak memory over (`/proc/self/clear_refs`, 5): what comes after is
/// measured apart from the fill before it.
fn reset_peak_rss() {
    std::fs::write("/proc/self/clear_refs", "5").ok();
}

fn member(id: &str, role: Role) -> StaffMember {
    StaffMember { id: id.into(), name: id.into(), unit: "registry".into(), role, clearance: Confidentiality::Secret }
}

/// A closed case of `letters` settled transitory letters, proposed by a registrar and carried
/// out by an archivist, as `archive dispose propose` and `approve` do.
async fn disposal(letters: u64) -> Result<()> {
    println!("disposal of a case of {letters} letters (SQLite)");
    sqlx::any::install_default_drivers();
    let path = bench_dir().join(format!("records-disposal-{letters}.db"));
    for suffix in ["", "-wal", "-shm"] {
        std::fs::remove_file(format!("{}{suffix}", path.display())).ok();
    }
    std::fs::create_dir_all(bench_dir())?;
    let url = format!("sqlite://{}", path.display());
    let store = Store::open(&url, ZONE, OpenMode::CreateIfMissing).await?;
    store.fill_synthetic_between(letters, &[], from(), until(), |_| {}).await?;
    // Every letter transitory (07-02, 30 days) and settled: one case, due, that nothing stops.
    let pool = sqlx::any::AnyPoolOptions::new().max_connections(1).connect(&url).await?;
    sqlx::query("UPDATE documents SET classification = '07-02', status = 'closed'").execute(&pool).await?;
    pool.close().await;
    let plan = shipped_plan()?;
    store.archive().catch_up(Some(&plan.default_class), Cutoff::default(), Utc::now()).await?;
    let case = format!("07-02/{YEAR}");
    reset_peak_rss();
    let before = own_rss();
    let started = Instant::now();
    let decision =
        store.archive().propose(&plan, std::slice::from_ref(&case), None, &member("@reg:uni.example", Role::Registrar), Utc::now()).await?;
    let proposed = started.elapsed().as_secs_f64();
    let done = store.archive().approve(&plan, &decision, &member("@arch:uni.example", Role::Archivist), Utc::now()).await?;
    let secs = started.elapsed().as_secs_f64();
    if done.documents != letters {
        bail!("{decision} erased {} letters, not {letters}", done.documents);
    }
    println!(
        "    {case}: proposed in {proposed:.2} s, carried out in {:.2} s ({:.0} letters/s)",
        secs - proposed,
        letters as f64 / (secs - proposed)
    );
    println!(
        "    peak RSS while disposing: {:.1} MB (resident before it, after the fill: {:.1} MB)",
        own_peak_rss() as f64 / MB,
        before as f64 / MB
    );
    store.close().await;
    for suffix in ["", "-wal", "-shm"] {
        std::fs::remove_file(format!("{}{suffix}", path.display())).ok();
    }
    Ok(())
}

/// `archive due` on a register of `letters`, today and on a day when most of its cases are due.
async fn due(letters: u64) -> Result<()> {
    println!("archive due at {letters} letters (SQLite)");
    let (store, _) = register("records", letters).await?;
    let plan = shipped_plan()?;
    let started = Instant::now();
    let caught_up = store.archive().catch_up(Some(&plan.default_class), Cutoff::default(), Utc::now()).await?;
    println!(
        "    catch-up (the migration's first day): {} letters filed, {} yearly cases closed, in {:.1} s",
        caught_up.filed,
        caught_up.closed.len(),
        started.elapsed().as_secs_f64()
    );
    let today = Utc::now().with_timezone(&ZONE).date_naive();
    let later = chrono::NaiveDate::from_ymd_opt(2036, 1, 1).context("a day")?;
    for (label, as_of) in [("today", today), ("2036-01-01, most cases due", later)] {
        let mut times = Vec::with_capacity(ROUNDS);
        let mut cases = 0;
        for round in 0..WARM_UP + ROUNDS {
            let started = Instant::now();
            let due = store.archive().due(&plan, as_of).await?;
            if round >= WARM_UP {
                times.push(started.elapsed().as_secs_f64() * 1000.0);
            }
            cases = due.len();
        }
        times.sort_by(f64::total_cmp);
        let (p50, p95) = (times[times.len() / 2], times[times.len() * 95 / 100]);
        println!(
            "    as of {label}: {cases} cases due; p50 {p50:.1} ms, p95 {p95:.1} ms (goal p95 < {GOAL_MS} ms: {})",
            if p95 < GOAL_MS { "met" } else { "NOT met" }
        );
    }
    store.close().await;
    Ok(())
}

fn count_from_env(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|n| n.parse().ok()).unwrap_or(default)
}

#[tokio::main]
async fn main() -> Result<()> {
    // `CHANCERY_BENCH_RECORDS=export` (or `disposal`, `due`) runs one part alone.
    let only = std::env::var("CHANCERY_BENCH_RECORDS").unwrap_or_default();
    let runs = |part: &str| only.is_empty() || only == part;
    if runs("export") {
        export(count_from_env("CHANCERY_BENCH_EXPORT_LETTERS", EXPORT_LETTERS)).await?;
    }
    if runs("disposal") {
        disposal(count_from_env("CHANCERY_BENCH_DISPOSAL_LETTERS", DISPOSAL_LETTERS)).await?;
    }
    if runs("due") {
        due(count_from_env("CHANCERY_BENCH_DUE_LETTERS", DUE_LETTERS)).await?;
    }
    Ok(())
}
