//! Reminders benchmark: what a scheduler's wake-up costs when the store holds 100,000 visa
//! cases, 100,000 agreements and 100,000 personal reminders (500,000 reminders in all), against
//! the same with 100 of each, in one run.
//!
//! For each size, on a fresh SQLite register (and on PostgreSQL when
//! `CHANCERY_BENCH_POSTGRES_URL` names a server whose database may be created and dropped):
//! 1. `Store::fill_reminder_load` writes the cases, agreements and reminders (firing over the
//!    year ahead) and `ROUNDS` rounds of 100 reminders due a minute apart (30 visa, 30
//!    agreement, 40 personal);
//! 2. each round is one wake-up as the scheduler makes it (`fire_due` of 100, then
//!    `next_due`): its time, and the heap it allocates at its peak (a counting allocator);
//! 3. one unit's weekly digest and one person's ICS feed of every deadline, as `serve` makes
//!    them;
//! 4. on a register of its own, one person's feed as `serve` publishes it: `Store::fill_feed_load`
//!    writes 100,000 (against 100) open visa cases and active agreements, 400,000 (400)
//!    deadlines, of which the same 400 fall in the feed's default window (90 days back, 550
//!    ahead) at both sizes and the rest in the nineteen years before and after it; then
//!    `FEED_ROUNDS` feeds of the window and `ALL_ROUNDS` with `?all=1`.
//!
//! Printed: p50 and p95 of a wake-up, the peak heap, the digest and feed times, and the ratios
//! large/small (goal: wake-up time and memory both within 1.5 times; the windowed feed's p95
//! under `FEED_GOAL_MS` at 400,000 deadlines).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::{Result, bail};
use chancery::core::calendar::{FeedDays, Window};
use chancery::core::confidentiality::Confidentiality;
use chancery::core::viewer::{Audience, Role, StaffMember, Viewer};
use chancery::store::{OpenMode, Store};
use chrono::{DateTime, Duration, TimeZone, Utc};

const LARGE: u64 = 100_000;
const SMALL: u64 = 100;
const ROUNDS: u32 = 30;
const WARM_UP: u32 = 3;
const GOAL: f64 = 1.5;
const OWNER: &str = "@bench-officer:uni.example";
const FEED_ROUNDS: u32 = 30;
const ALL_ROUNDS: u32 = 5;
const FEED_GOAL_MS: f64 = 100.0;
const ZONE: chrono_tz::Tz = chrono_tz::Asia::Baku;

/// The system allocator, counting the bytes in use and their peak.
struct Counting;

static IN_USE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged to the system allocator.
        let pointer = unsafe { System.alloc(layout) };
        if !pointer.is_null() {
            let now = IN_USE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(pointer, layout) };
        IN_USE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The clock of the benchmark's register.
fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap()
}

struct Figures {
    wake_ups_ms: Vec<f64>,
    peak_heap: Vec<usize>,
    digest_ms: f64,
    feed_ms: f64,
    feed_events: usize,
    fill_secs: f64,
}

fn percentile(values: &[f64], p: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

async fn measure(url: &str, size: u64) -> Result<Figures> {
    let store = Store::open(url, ZONE, OpenMode::CreateIfMissing).await?;
    let policy = chancery::core::remind::Policy::new(ZONE);
    let officer = StaffMember {
        id: OWNER.into(),
        name: "Bench Officer".into(),
        unit: "international".into(),
        role: Role::Manager,
        clearance: Confidentiality::Confidential,
    };
    store.staff().put(&officer, "bench", start()).await?;
    let filling = Instant::now();
    store.fill_reminder_load(size, ROUNDS + WARM_UP, OWNER, start()).await?;
    let fill_secs = filling.elapsed().as_secs_f64();

    let (mut wake_ups_ms, mut peak_heap) = (Vec::new(), Vec::new());
    for round in 1..=ROUNDS + WARM_UP {
        let at = start() + Duration::minutes(i64::from(round)) + Duration::seconds(1);
        let before = IN_USE.load(Ordering::Relaxed);
        PEAK.store(before, Ordering::Relaxed);
        let began = Instant::now();
        let report = store.reminders().fire_due(&policy, at, 100).await?;
        let next = store.reminders().next_due().await?;
        let elapsed = began.elapsed().as_secs_f64() * 1000.0;
        let peak = PEAK.load(Ordering::Relaxed).saturating_sub(before);
        if report.fired != 100 || next.is_none() {
            bail!("round {round} fired {} reminders, not 100 (next due {next:?})", report.fired);
        }
        if round > WARM_UP {
            wake_ups_ms.push(elapsed);
            peak_heap.push(peak);
        }
    }

    let began = Instant::now();
    let window = chancery::core::digest::Window { start: start() - Duration::days(7), end: start() };
    let digest = store.digests().of_unit(&policy, "international", window).await?.markdown();
    let digest_ms = began.elapsed().as_secs_f64() * 1000.0;
    if digest.is_empty() {
        bail!("the digest is empty");
    }

    let viewer = Viewer::new(officer, Audience::Private);
    let began = Instant::now();
    let events = store.calendar().events(&chancery::store::Scope::Person(&viewer), start()).await?;
    let head = chancery::core::calendar::CalendarHead { name: "Bench Officer", domain: "uni.example", made_at: start() };
    let feed = chancery::core::calendar::render(&head, &events);
    let feed_ms = began.elapsed().as_secs_f64() * 1000.0;
    if !feed.contains("BEGIN:VEVENT") {
        bail!("the feed has no events");
    }
    store.close().await;
    Ok(Figures { wake_ups_ms, peak_heap, digest_ms, feed_ms, feed_events: events.len(), fill_secs })
}

fn bench_officer() -> StaffMember {
    StaffMember {
        id: OWNER.into(),
        name: "Bench Officer".into(),
        unit: "international".into(),
        role: Role::Manager,
        clearance: Confidentiality::Confidential,
    }
}

/// One person's feed: windowed and with `?all=1`, in ms, and how many events each held.
struct Feeds {
    windowed_ms: Vec<f64>,
    all_ms: Vec<f64>,
    windowed_events: usize,
    all_events: usize,
}

/// The time of one feed as the HTTP adapter makes it: its events, then their text.
async fn feed(store: &Store, viewer: &Viewer, window: Option<&Window>) -> Result<(f64, usize)> {
    let scope = chancery::store::Scope::Person(viewer);
    let began = Instant::now();
    let events = match window {
        Some(window) => store.calendar().events_within(&scope, window, start()).await?,
        None => store.calendar().events(&scope, start()).await?,
    };
    let head = chancery::core::calendar::CalendarHead { name: "Bench Officer", domain: "uni.example", made_at: start() };
    let text = chancery::core::calendar::render(&head, &events);
    let ms = began.elapsed().as_secs_f64() * 1000.0;
    if !text.contains("BEGIN:VEVENT") {
        bail!("the feed has no events");
    }
    Ok((ms, events.len()))
}

async fn measure_feeds(url: &str, size: u64) -> Result<Feeds> {
    let store = Store::open(url, ZONE, OpenMode::CreateIfMissing).await?;
    store.staff().put(&bench_officer(), "bench", start()).await?;
    store.fill_feed_load(size, SMALL, OWNER, start()).await?;
    if url.starts_with("postgres") {
        // The planner's statistics, as autovacuum keeps them on a register that has been running.
        let pool = sqlx::AnyPool::connect(url).await?;
        sqlx::query("ANALYZE").execute(&pool).await?;
        pool.close().await;
    }
    let viewer = Viewer::new(bench_officer(), Audience::Private);
    let window = Window::around(start().with_timezone(&ZONE).date_naive(), FeedDays::default());
    let mut feeds = Feeds { windowed_ms: Vec::new(), all_ms: Vec::new(), windowed_events: 0, all_events: 0 };
    for round in 1..=FEED_ROUNDS + WARM_UP {
        let (ms, events) = feed(&store, &viewer, Some(&window)).await?;
        if round > WARM_UP {
            feeds.windowed_ms.push(ms);
            feeds.windowed_events = events;
        }
    }
    for round in 1..=ALL_ROUNDS + 1 {
        let (ms, events) = feed(&store, &viewer, None).await?;
        if round > 1 {
            feeds.all_ms.push(ms);
            feeds.all_events = events;
        }
    }
    store.close().await;
    Ok(feeds)
}

/// Prints the feeds' figures; returns whether the windowed p95 at the larger size met the goal.
fn report_feeds(backend: &str, small: &Feeds, large: &Feeds) -> bool {
    println!("\n{backend}: one person's feed, {} against {} deadlines", 4 * LARGE, 4 * SMALL);
    let row = |what: &str, s: &[f64], l: &[f64], events: (usize, usize)| {
        let (s50, s95, l50, l95) = (percentile(s, 0.5), percentile(s, 0.95), percentile(l, 0.5), percentile(l, 0.95));
        println!(
            "  {what:<20} p50 {s50:>9.2} ms {l50:>9.2} ms ratio {:>7.2}   p95 {s95:>9.2} ms {l95:>9.2} ms ratio {:>7.2}   ({} and {} events)",
            l50 / s50,
            l95 / s95,
            events.0,
            events.1
        );
        l95
    };
    let windowed = row("windowed (default)", &small.windowed_ms, &large.windowed_ms, (small.windowed_events, large.windowed_events));
    row("?all=1", &small.all_ms, &large.all_ms, (small.all_events, large.all_events));
    let met = windowed < FEED_GOAL_MS;
    println!("  goal (windowed feed p95 < {FEED_GOAL_MS} ms at {} deadlines): {}", 4 * LARGE, if met { "met" } else { "NOT met" });
    met
}

fn report(backend: &str, small: &Figures, large: &Figures) -> bool {
    let kib = |bytes: usize| bytes as f64 / 1024.0;
    let peak = |f: &Figures| *f.peak_heap.iter().max().unwrap_or(&0);
    println!("\n{backend}: {SMALL} vs {LARGE} each of visa cases, agreements and personal reminders");
    println!("  filled in {:.1} s and {:.1} s", small.fill_secs, large.fill_secs);
    let row = |what: &str, s: f64, l: f64, unit: &str| {
        println!("  {what:<34} {s:>10.2} {unit:<4} {l:>10.2} {unit:<4} ratio {:>5.2}", l / s);
        l / s
    };
    let p50 = row("wake-up firing 100, p50", percentile(&small.wake_ups_ms, 0.5), percentile(&large.wake_ups_ms, 0.5), "ms");
    let p95 = row("wake-up firing 100, p95", percentile(&small.wake_ups_ms, 0.95), percentile(&large.wake_ups_ms, 0.95), "ms");
    let memory = row("wake-up peak heap", kib(peak(small)), kib(peak(large)), "KiB");
    row("weekly digest of one unit", small.digest_ms, large.digest_ms, "ms");
    println!(
        "  {:<34} {:>10.2} ms   {:>10.2} ms   ({} and {} events)",
        "one person's ICS feed", small.feed_ms, large.feed_ms, small.feed_events, large.feed_events
    );
    let met = p50 <= GOAL && memory <= GOAL;
    println!("  goal (wake-up time p50 and memory within {GOAL}x): {}", if met { "met" } else { "NOT met" });
    let _ = p95;
    met
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    println!("reminders benchmark on {} cores", std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1));
    let dir = tempfile::tempdir()?;
    let mut all_met = true;
    let small = measure(&format!("sqlite://{}/small.db", dir.path().display()), SMALL).await?;
    let large = measure(&format!("sqlite://{}/large.db", dir.path().display()), LARGE).await?;
    all_met &= report("SQLite", &small, &large);
    let small = measure_feeds(&format!("sqlite://{}/feed-small.db", dir.path().display()), SMALL).await?;
    let large = measure_feeds(&format!("sqlite://{}/feed-large.db", dir.path().display()), LARGE).await?;
    all_met &= report_feeds("SQLite", &small, &large);
    if let Ok(base) = std::env::var("CHANCERY_BENCH_POSTGRES_URL") {
        let root = base.rsplit_once('/').map(|(root, _)| root.to_string()).unwrap_or(base.clone());
        let admin = sqlx::AnyPool::connect(&base).await?;
        let mut figures = Vec::new();
        for (name, size) in [("chancery_bench_reminders_small", SMALL), ("chancery_bench_reminders_large", LARGE)] {
            sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name}"))).execute(&admin).await?;
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&admin).await?;
            figures.push(measure(&format!("{root}/{name}"), size).await?);
            sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name}"))).execute(&admin).await?;
        }
        all_met &= report("PostgreSQL", &figures[0], &figures[1]);
        let mut feeds = Vec::new();
        for (name, size) in [("chancery_bench_feed_small", SMALL), ("chancery_bench_feed_large", LARGE)] {
            sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name}"))).execute(&admin).await?;
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&admin).await?;
            let url = format!("{root}/{name}");
            let filled = measure_feeds(&url, size).await;
            sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name}"))).execute(&admin).await?;
            feeds.push(filled?);
        }
        all_met &= report_feeds("PostgreSQL", &feeds[0], &feeds[1]);
    } else {
        println!("\nPostgreSQL: left out (CHANCERY_BENCH_POSTGRES_URL is not set)");
    }
    println!("\nreminders: {}", if all_met { "all goals met" } else { "a goal was NOT met" });
    Ok(())
}
