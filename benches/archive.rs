//! Archive benchmark: the register's everyday questions against years of archive, a register of
//! 1,000,000 letters, beside the same questions against 10,000, on SQLite and on PostgreSQL.
//!
//! One run (`CHANCERY_BENCH_ONLY=archive scripts/bench`):
//! 1. each register is the last N letters of an archive that receives `YEARLY` letters a year,
//!    evenly, until `now()`: 10,000 letters are this autumn's, 1,000,000 reach back twenty
//!    years. `Store::fill_synthetic_between` fills them one year at a time (the bulk path of
//!    benchmarks: multi-row INSERTs in transactions of 10,000 letters, indexed as they go).
//!    SQLite registers are kept in `/var/tmp/chancery-bench/archive-N.db` (`CHANCERY_BENCH_DIR`
//!    overrides the folder), PostgreSQL ones in the databases `chancery_bench_archive_N` of the
//!    server `CHANCERY_BENCH_POSTGRES_URL` names (PostgreSQL is left out without it); a later
//!    run that finds one whole reuses it. `CHANCERY_BENCH_DOCUMENTS` changes the larger size;
//! 2. `ROUNDS` times each, interleaved, after `WARM_UP` rounds: `docs show NUMBER`
//!    (`Store::document`, a random number), `docs search WORD` (`Store::search`, a word of a
//!    seventh of the letters, and a letter's own reference word), the daily register of
//!    yesterday (what `chancery register daily` does: `Store::list` of the day and
//!    `report::daily_rows`), `docs list --since` yesterday (`Store::list` and the table), and
//!    `!contacts HANDLE` and `!partner show HANDLE` as a registrar asks them in a direct
//!    message (`commands::answer`), of a partner with two domains: the most frequent sender's
//!    (`adu.edu.az`) and a sector's (`edu.tr`: its subdomains' letters are the partner's too).
//!    The partner is added to a register that lacks it.
//!
//! Printed: p50 and p95 of each at both sizes, the ratios large/small, and whether each p95 at
//! the larger size is under `GOAL_MS` (the goal of issue 8).

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context as _, Result, bail};
use chancery::commands::{Catalog, Context, Request, Settings, answer};
use chancery::core::confidentiality::Confidentiality;
use chancery::core::number::{Direction, RegistrationNumber};
use chancery::core::partner::Partner;
use chancery::core::time::day_bounds;
use chancery::core::viewer::{Audience, Role, StaffMember};
use chancery::report::{FlagWords, daily_rows, document_table};
use chancery::store::{ListFilter, OpenMode, Store, StoreError};
use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};

const LARGE: u64 = 1_000_000;
const SMALL: u64 = 10_000;
/// Letters a year: a large university's registry, about two hundred a working day.
const YEARLY: u64 = 50_000;
const ROUNDS: usize = 200;
const WARM_UP: usize = 20;
const GOAL_MS: f64 = 50.0;
const ZONE: chrono_tz::Tz = chrono_tz::Asia::Baku;
/// A word about a seventh of the letters carry (the most frequent subject).
const COMMON_WORD: &str = "conference";

/// The register's clock: every run builds and asks about the same registers.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).single().expect("a valid instant")
}

/// The day asked about by the daily register and `docs list --since`: yesterday.
fn yesterday() -> NaiveDate {
    now().with_timezone(&ZONE).date_naive() - Duration::days(1)
}

/// One year's part of an archive: registered evenly from `from` until `until`.
#[derive(Debug, Clone, Copy)]
struct Year {
    year: i32,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    count: u64,
}

/// The years of the last `documents` letters of an archive that receives `YEARLY` a year until
/// `now()`, the oldest first.
fn archive_years(documents: u64) -> Vec<Year> {
    let per_second = YEARLY as f64 / (365.25 * 86_400.0);
    let mut years = Vec::new();
    let mut left = documents;
    let mut until = now();
    let mut year = until.with_timezone(&ZONE).year();
    while left > 0 {
        let (start, _) = day_bounds(NaiveDate::from_ymd_opt(year, 1, 1).expect("1 January"), ZONE);
        let room = ((until - start).num_seconds() as f64 * per_second).round() as u64;
        let count = left.min(room.max(1));
        let from = if count == left { until - Duration::seconds((count as f64 / per_second) as i64) } else { start };
        years.push(Year { year, from: from.max(start), until, count });
        left -= count;
        until = start - Duration::seconds(1);
        year -= 1;
    }
    years.reverse();
    years
}

fn number(year: i32, sequence: u64) -> String {
    RegistrationNumber { direction: Direction::Incoming, year, sequence: sequence as i64 }.to_string()
}

/// SplitMix64, for the numbers asked about.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) % n.max(1)
    }
}

// ---------------------------------------------------------------------------------------------
// The registers

/// Where a register is kept.
enum Place {
    Sqlite(PathBuf),
    Postgres { admin: String, database: String, url: String },
}

impl Place {
    fn url(&self) -> String {
        match self {
            Place::Sqlite(path) => format!("sqlite://{}", path.display()),
            Place::Postgres { url, .. } => url.clone(),
        }
    }

    /// Whether a register is there (it may still be incomplete).
    async fn exists(&self) -> Result<bool> {
        match self {
            Place::Sqlite(path) => Ok(path.exists()),
            Place::Postgres { admin, database, .. } => {
                let pool = sqlx::AnyPool::connect(admin).await?;
                let found =
                    sqlx::query("SELECT 1 FROM pg_database WHERE datname = $1").bind(database.as_str()).fetch_optional(&pool).await?;
                pool.close().await;
                Ok(found.is_some())
            }
        }
    }

    /// Removes the register and leaves an empty one to fill.
    async fn recreate(&self) -> Result<()> {
        match self {
            Place::Sqlite(path) => {
                for suffix in ["", "-wal", "-shm"] {
                    let file = PathBuf::from(format!("{}{suffix}", path.display()));
                    if file.exists() {
                        std::fs::remove_file(&file).with_context(|| format!("remove {}", file.display()))?;
                    }
                }
                std::fs::create_dir_all(path.parent().unwrap_or(Path::new("."))).context("create the registers' folder")
            }
            Place::Postgres { admin, database, .. } => {
                let pool = sqlx::AnyPool::connect(admin).await?;
                // The name is the benchmark's own (`chancery_bench_archive_N`), never input.
                sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {database}"))).execute(&pool).await?;
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {database}"))).execute(&pool).await?;
                pool.close().await;
                Ok(())
            }
        }
    }
}

/// The register of `documents` letters at `place`: the one there when it is whole, else a new
/// one. Returns it with how long filling took (`None` when it was reused).
async fn register(place: &Place, documents: u64) -> Result<(Store, Option<f64>)> {
    let years = archive_years(documents);
    sqlx::any::install_default_drivers();
    if place.exists().await? {
        // A register whose migrations no longer match this build's is filled again too; one
        // from an earlier build is brought up to date, which is the time its migrations take.
        let opening = Instant::now();
        match Store::open(&place.url(), ZONE, OpenMode::Existing).await {
            Ok(store) => {
                let secs = opening.elapsed().as_secs_f64();
                if secs >= 1.0 {
                    println!("    {} opened in {secs:.1} s: the migrations it lacked included", place.url());
                }
                if holds_exactly(&store, &years).await? {
                    return Ok((store, None));
                }
                println!("    {} does not hold exactly {documents} documents: filling it again", place.url());
                store.close().await;
            }
            Err(error) => println!("    {} cannot be reused ({error}): filling it again", place.url()),
        }
    }
    place.recreate().await?;
    let store = Store::open(&place.url(), ZONE, OpenMode::CreateIfMissing).await.context("create the register")?;
    let started = Instant::now();
    let mut done = 0;
    let step = (documents / 10).max(1);
    let mut next_report = step;
    for year in &years {
        store
            .fill_synthetic_between(year.count, &[], year.from, year.until, |added| {
                if done + added >= next_report || done + added == documents {
                    let secs = started.elapsed().as_secs_f64();
                    println!("    ... {} documents after {secs:.0} s ({:.0} documents/s)", done + added, (done + added) as f64 / secs);
                    next_report = done + added + step;
                }
            })
            .await
            .with_context(|| format!("fill {}", year.year))?;
        done += year.count;
    }
    let secs = started.elapsed().as_secs_f64();
    // Closing copies SQLite's log into the file: the register is measured as `serve` opens it.
    store.close().await;
    let store = Store::open(&place.url(), ZONE, OpenMode::Existing).await?;
    if !holds_exactly(&store, &years).await? {
        bail!("the register was filled but does not hold exactly {documents} documents");
    }
    Ok((store, Some(secs)))
}

/// Every year's numbers are gapless from 1: each year's last is there, and the newest year's
/// next is not.
async fn holds_exactly(store: &Store, years: &[Year]) -> Result<bool> {
    let exists = |number: String| async move {
        match store.document(&number).await {
            Ok(_) => Ok(true),
            Err(StoreError::NotFound(_)) => Ok(false),
            Err(error) => Err(error),
        }
    };
    for year in years {
        if !exists(number(year.year, year.count)).await? {
            return Ok(false);
        }
    }
    let newest = years.last().context("an archive has a year")?;
    Ok(!exists(number(newest.year, newest.count + 1)).await?)
}

/// Reads a SQLite register's file once, as a server that has been answering for a while holds
/// it: in the page cache, not on the disk.
fn warm(place: &Place) -> Result<()> {
    use std::io::Read;
    if let Place::Sqlite(path) = place {
        let mut file = std::fs::File::open(path).with_context(|| format!("open {}", path.display()))?;
        let mut buffer = vec![0u8; 1 << 20];
        while file.read(&mut buffer)? > 0 {}
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The questions

const QUESTIONS: [&str; 7] = [
    "docs show NUMBER",
    "docs search (common word)",
    "docs search (rare word)",
    "register daily",
    "docs list --since",
    "!contacts HANDLE",
    "!partner show HANDLE",
];

/// The partner `!contacts` and `!partner show` ask about, and who asks.
const PARTNER: &str = "bench";
const PARTNER_DOMAINS: &str = "adu.edu.az, edu.tr";
const REGISTRAR: &str = "@bench-registrar:uni.example";

/// Milliseconds of each question, and how many documents its last answer held.
struct Figures {
    documents: u64,
    ms: [Vec<f64>; 7],
    answered: [usize; 7],
}

fn percentile(values: &[f64], p: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// A letter's own reference word, the last thing in its subject in parentheses (letters of the
/// same number in other years share it: a rare word, a few letters of the archive).
async fn rare_word(store: &Store, years: &[Year]) -> Result<String> {
    let newest = years.last().context("an archive has a year")?;
    for sequence in newest.count / 2..=newest.count {
        let subject = store.document(&number(newest.year, sequence.max(1))).await?.subject;
        if !subject.starts_with("Re:")
            && let Some(word) = subject.rsplit_once('(').and_then(|(_, w)| w.strip_suffix(')'))
        {
            return Ok(word.to_string());
        }
    }
    bail!("no letter of {} carries a reference word", newest.year)
}

async fn measure(place: &Place, documents: u64) -> Result<Figures> {
    let (store, fill_secs) = register(place, documents).await?;
    match fill_secs {
        Some(secs) => println!("  {documents} letters: filled in {secs:.0} s ({:.0} letters/s)", documents as f64 / secs),
        None => println!("  {documents} letters: kept from an earlier run"),
    }
    warm(place)?;
    if let Place::Postgres { url, .. } = place {
        // The planner's statistics, as autovacuum keeps them on a register that has been
        // running (after a bulk fill it has not come round yet); searches read them too.
        let pool = sqlx::AnyPool::connect(url).await?;
        sqlx::query("ANALYZE").execute(&pool).await?;
        pool.close().await;
    }
    let years = archive_years(documents);
    let rare = rare_word(&store, &years).await?;
    let (day_start, day_end) = day_bounds(yesterday(), ZONE);
    let mut rng = Rng(documents);
    let mut figures = Figures { documents, ms: Default::default(), answered: [0; 7] };
    let assistant = Assistant::join(&store).await?;
    for round in 0..WARM_UP + ROUNDS {
        // A number from a year in proportion to its letters, as people ask about any of them.
        let mut pick = rng.below(documents);
        let mut asked = String::new();
        for year in &years {
            if pick < year.count {
                asked = number(year.year, pick + 1);
                break;
            }
            pick -= year.count;
        }
        for question in 0..QUESTIONS.len() {
            let started = Instant::now();
            let answered = match question {
                0 => usize::from(!store.document(&asked).await?.number.is_empty()),
                1 => store.search(COMMON_WORD).await?.len(),
                2 => store.search(&rare).await?.len(),
                3 => {
                    let filter = ListFilter { since: Some(day_start), until: Some(day_end), ..ListFilter::default() };
                    daily_rows(store.list(&filter).await?, ZONE).len()
                }
                4 => {
                    let listed = store.list(&ListFilter { since: Some(day_start), ..ListFilter::default() }).await?;
                    let table = document_table(&listed, ZONE, None, FlagWords::Names);
                    std::hint::black_box(table);
                    listed.len()
                }
                // The log's letters are rows `letter IN-…`; the partner's card lists them by number.
                5 => assistant.ask(&store, &format!("!contacts {PARTNER}")).await.matches("letter IN-").count(),
                _ => assistant.ask(&store, &format!("!partner show {PARTNER}")).await.matches("| IN-").count(),
            };
            let ms = started.elapsed().as_secs_f64() * 1000.0;
            if round >= WARM_UP {
                figures.ms[question].push(ms);
                figures.answered[question] = answered;
            }
        }
    }
    if figures.answered.contains(&0) {
        bail!("a question found nothing, the register is not what it should be: {:?}", figures.answered);
    }
    store.close().await;
    Ok(figures)
}

/// What a chat command needs, and the partner and the registrar it is asked about and by.
struct Assistant {
    catalog: Catalog,
    settings: Settings,
}

impl Assistant {
    async fn join(store: &Store) -> Result<Assistant> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let catalog = Catalog::load(&root.join("commands")).map_err(anyhow::Error::msg)?;
        let book = chancery::rule_files::load(&root.join("mail-rules")).map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let settings = Settings {
            zone: ZONE,
            units: book.units().iter().map(|u| u.id.clone()).collect(),
            university: chancery::config::UniversityConfig::default(),
            from_address: "University Registry <registry@uni.example>".into(),
            press: chancery::core::press::PressSettings { templates_dir: root.join("mail-rules/templates/press"), mail_enabled: false },
            visa_kinds: chancery::core::visa::VisaKinds::default(),
            http: chancery::config::HttpConfig::default(),
            reminders: chancery::core::remind::Policy::new(ZONE),
            file_plan: book.file_plan().cloned(),
            cutoff: chancery::core::archive::Cutoff::default(),
        };
        let registrar = StaffMember {
            id: REGISTRAR.into(),
            name: "Bench Registrar".into(),
            unit: "registry".into(),
            role: Role::Registrar,
            clearance: Confidentiality::Confidential,
        };
        store.staff().put(&registrar, "bench", now()).await?;
        if store.partners().find(PARTNER).await?.is_none() {
            let partner = Partner::check(PARTNER, "Benchmark partners", "AZ", "university", PARTNER_DOMAINS).map_err(anyhow::Error::msg)?;
            store.partners().add(&partner, REGISTRAR, now()).await?;
        }
        Ok(Assistant { catalog, settings })
    }

    /// The reply to `text` from the registrar in a direct message.
    async fn ask(&self, store: &Store, text: &str) -> String {
        let context = Context { store, catalog: &self.catalog, settings: &self.settings };
        let request = Request { sender: REGISTRAR, text, audience: Audience::Private, room: None, now: now() };
        answer(&context, &request).await.map(|reply| reply.markdown).unwrap_or_default()
    }
}

/// Prints one backend's figures; returns whether every p95 at the larger size is under the goal.
fn report(backend: &str, small: &Figures, large: &Figures) -> bool {
    println!("\n{backend}: {} letters against {} ({ROUNDS} rounds each, p50 / p95 in ms)", large.documents, small.documents);
    println!(
        "  {:<27} {:>17} {:>19} {:>15}  {:>9}  p95 < {GOAL_MS} ms",
        "question",
        format!("{} letters", small.documents),
        format!("{} letters", large.documents),
        "ratio p50/p95",
        "found"
    );
    let mut met = true;
    for (question, name) in QUESTIONS.iter().enumerate() {
        let (s50, s95) = (percentile(&small.ms[question], 50.0), percentile(&small.ms[question], 95.0));
        let (l50, l95) = (percentile(&large.ms[question], 50.0), percentile(&large.ms[question], 95.0));
        let under = l95 < GOAL_MS;
        met &= under;
        println!(
            "  {name:<27} {s50:>8.2} {s95:>8.2} {l50:>9.2} {l95:>9.2} {:>7.2} {:>7.2}  {:>4} {:>4}  {}",
            l50 / s50,
            l95 / s95,
            small.answered[question],
            large.answered[question],
            if under { "yes" } else { "NO" }
        );
    }
    met
}

#[tokio::main]
async fn main() -> Result<()> {
    let large: u64 = match std::env::var("CHANCERY_BENCH_DOCUMENTS") {
        Ok(value) => value.parse().context("CHANCERY_BENCH_DOCUMENTS is a number of letters")?,
        Err(_) => LARGE,
    };
    let folder = std::env::var("CHANCERY_BENCH_DIR").map(PathBuf::from).unwrap_or_else(|_| PathBuf::from("/var/tmp/chancery-bench"));
    println!("archive benchmark: {SMALL} and {large} letters ({YEARLY} a year until {})", now());
    let mut all_met = true;

    println!("\nSQLite ({})", folder.display());
    let small = measure(&Place::Sqlite(folder.join(format!("archive-{SMALL}.db"))), SMALL).await?;
    let big = measure(&Place::Sqlite(folder.join(format!("archive-{large}.db"))), large).await?;
    all_met &= report("SQLite", &small, &big);

    match std::env::var("CHANCERY_BENCH_POSTGRES_URL") {
        Ok(base) => {
            let root = base.rsplit_once('/').map_or(base.as_str(), |(root, _)| root).to_string();
            let place = |documents: u64| {
                let database = format!("chancery_bench_archive_{documents}");
                Place::Postgres { admin: base.clone(), url: format!("{root}/{database}"), database }
            };
            println!("\nPostgreSQL ({root})");
            let small = measure(&place(SMALL), SMALL).await?;
            let big = measure(&place(large), large).await?;
            all_met &= report("PostgreSQL", &small, &big);
        }
        Err(_) => println!("\nPostgreSQL: left out (CHANCERY_BENCH_POSTGRES_URL is not set)"),
    }
    println!("\narchive: {}", if all_met { "all goals met" } else { "a goal was NOT met" });
    Ok(())
}
