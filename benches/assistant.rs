//! Assistant benchmark: how fast the assistant answers about a register of a million documents.
//!
//! One run (`scripts/bench`, which starts the dev services; `CHANCERY_BENCH_ONLY=assistant
//! scripts/bench` runs only this benchmark):
//! 1. a SQLite register of 1,000,000 synthetic letters (`CHANCERY_BENCH_DOCUMENTS` overrides),
//!    filled by `Store::fill_synthetic` in `/var/tmp/chancery-bench/assistant-1m.db`
//!    (`CHANCERY_BENCH_DIR` overrides the folder) and kept there: filling it is the slow part, so
//!    a later run that finds it whole reuses it;
//! 2. with the register's file read once into the page cache (as on a server that has been
//!    answering for a while), in process, through `commands::answer` as a registrar in a direct
//!    message (so restricted letters are shown in full, each showing recorded): 200 `!ping`
//!    (the baseline: a staff lookup and a reply), 200 `!doc NUMBER` (random numbers) and 200
//!    `!docs search TEXT` (common words, a rarer phrase and a word only one letter has),
//!    interleaved; p50, p95 and their ratios to `!ping`; then the same against 10,000 documents.
//!    Goals: p95 under 5 ms for `!doc`, under 50 ms for `!docs search`;
//! 3. through the real Synapse of `scripts/dev-services`: `service::run` with only `[matrix]`,
//!    against the register of step 1, and a matrix-sdk client in a room with the bot. The
//!    baseline is the echo: the client sends a plain message and waits until its own sync
//!    delivers it back. Interleaved with 200 echoes, the reply time the client sees for 200 of
//!    each command, and their ratios to the echo (goals: p50 at most 3 times the echo's, p95
//!    under 300 ms); then twenty people, a client and a room each, ask at the same moment, ten
//!    times (goal: p95 under 500 ms).
//!    Without the homeserver's variables, or when the assistant does not come up, step 3 says
//!    why and is left out of the goals.

// The client's sync runs in a task of its own, so that a reply is seen the moment it arrives;
// proving that future `Send` takes the compiler deeper than its default limit.
#![recursion_limit = "256"]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, anyhow, bail};
use chancery::commands::{Context, Request, answer};
use chancery::core::confidentiality::Confidentiality;
use chancery::core::number::{Direction, RegistrationNumber};
use chancery::core::viewer::{Audience, Role, StaffMember};
use chancery::matrix::AssistantParts;
use chancery::store::{OpenMode, Store, StoreError};
use chrono::{DateTime, TimeZone, Utc};

const DEFAULT_DOCUMENTS: u64 = 1_000_000;
const SMALL_DOCUMENTS: u64 = 10_000;
const REQUESTS: usize = 200;
const WARM_UP: usize = 20;
/// Rounds through Matrix left out of the figures while the clients and caches warm up.
const MATRIX_WARM_UP: usize = 5;
const DOC_P95_GOAL_MS: f64 = 5.0;
const SEARCH_P95_GOAL_MS: f64 = 50.0;
/// Through Matrix, a reply's p50 against the echo's (a message seen back in one's own sync).
const MATRIX_RATIO_GOAL: f64 = 3.0;
const MATRIX_P95_GOAL_MS: f64 = 300.0;
/// Twenty people asking at the same moment, one client each.
const BURST_PEOPLE: usize = 20;
const BURST_ROUNDS: usize = 10;
const BURST_P95_GOAL_MS: f64 = 500.0;
/// Requests through Matrix that may go unanswered before the step gives up.
const MAX_LOST: usize = 10;
/// A short pause between two questions through Matrix, so that each is measured alone.
const PACE: Duration = Duration::from_millis(100);
const REGISTRAR: &str = "@bench-registrar:uni.example";
const ZONE: chrono_tz::Tz = chrono_tz::Asia::Baku;
const MB: f64 = 1024.0 * 1024.0;

/// The register's clock: every run builds and asks about the same register.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).single().expect("a valid instant")
}

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn number(sequence: u64) -> String {
    RegistrationNumber { direction: Direction::Incoming, year: 2026, sequence: sequence as i64 }.to_string()
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
// The register

/// The configuration of `serve` with nothing enabled, from the shipped rules and commands (no
/// `chancery.toml` is read; `CHANCERY_SECTION__KEY` variables still apply).
fn config(state: &Path) -> Result<chancery::config::Config> {
    let mut config = chancery::config::Config::load(&state.join("none.toml"), false).map_err(anyhow::Error::msg)?;
    config.imap.enabled = false;
    config.smtp.enabled = false;
    config.matrix.enabled = false;
    config.rules.dir = manifest_dir().join("mail-rules");
    config.smtp.templates_dir = manifest_dir().join("mail-rules/templates");
    config.assistant.commands_dir = manifest_dir().join("commands");
    Ok(config)
}

/// The commands and what they read, as `serve` loads them.
fn assistant() -> Result<AssistantParts> {
    let state = tempfile::tempdir()?;
    let config = config(state.path())?;
    let rules = chancery::service::load_rules(&config)?;
    let reminders = chancery::service::reminder_policy(&config, rules.as_ref())?;
    chancery::service::assistant_parts(&config, rules.as_ref(), reminders)
}

/// A register of `documents` synthetic letters in `path`: the one there when it is whole, else
/// a new one. Returns it with how long filling took (`None` when it was reused).
async fn register(path: &Path, documents: u64, units: &[String]) -> Result<(Store, Option<f64>)> {
    let url = format!("sqlite://{}", path.display());
    if path.exists() {
        let store = Store::open(&url, ZONE, OpenMode::Existing).await.context("open the kept register")?;
        if holds_exactly(&store, documents).await? {
            return Ok((store, None));
        }
        println!("    {} does not hold exactly {documents} documents: filling it again", path.display());
        store.close().await;
        for suffix in ["", "-wal", "-shm"] {
            let file = PathBuf::from(format!("{}{suffix}", path.display()));
            if file.exists() {
                std::fs::remove_file(&file).with_context(|| format!("remove {}", file.display()))?;
            }
        }
    }
    std::fs::create_dir_all(path.parent().unwrap_or(Path::new("."))).context("create the register's folder")?;
    let store = Store::open(&url, ZONE, OpenMode::CreateIfMissing).await.context("create the register")?;
    let started = Instant::now();
    let step = (documents / 10).max(1);
    let mut next_report = step;
    store
        .fill_synthetic(documents, units, now(), |done| {
            if done >= next_report || done == documents {
                let secs = started.elapsed().as_secs_f64();
                println!("    ... {done} documents after {secs:.0} s ({:.0} documents/s)", done as f64 / secs);
                next_report = done + step;
            }
        })
        .await
        .context("fill the register")?;
    let secs = started.elapsed().as_secs_f64();
    // Closing copies the log into the file: the register is measured as `serve` would open it.
    store.close().await;
    let store = Store::open(&url, ZONE, OpenMode::Existing).await?;
    if !holds_exactly(&store, documents).await? {
        bail!("the register was filled but does not hold exactly {documents} documents");
    }
    Ok((store, Some(secs)))
}

/// Numbers are gapless from 1: the last one is there and the next is not.
async fn holds_exactly(store: &Store, documents: u64) -> Result<bool> {
    let exists = |sequence: u64| async move {
        match store.document(&number(sequence)).await {
            Ok(_) => Ok(true),
            Err(StoreError::NotFound(_)) => Ok(false),
            Err(error) => Err(error),
        }
    };
    Ok(exists(documents).await? && !exists(documents + 1).await?)
}

/// Reads the register's file once, so that it is measured as a server that has been answering
/// for a while holds it: in the page cache, not on the disk.
fn warm(path: &Path) -> Result<f64> {
    use std::io::Read;
    let started = Instant::now();
    let mut file = std::fs::File::open(path).with_context(|| format!("open {}", path.display()))?;
    let mut buffer = vec![0u8; 1 << 20];
    while file.read(&mut buffer)? > 0 {}
    Ok(started.elapsed().as_secs_f64())
}

fn file_mb(path: &Path) -> f64 {
    ["", "-wal"].iter().filter_map(|s| std::fs::metadata(format!("{}{s}", path.display())).ok()).map(|m| m.len() as f64).sum::<f64>() / MB
}

/// What `!docs search` is asked: words every register has plenty of, a phrase, and a word only
/// one letter (and the replies to it) carries, with how many documents each finds.
async fn search_texts(store: &Store, documents: u64) -> Result<Vec<(String, i64)>> {
    let mut texts: Vec<String> = ["conference", "geology", "transcript verification", "medical certificate"].map(String::from).to_vec();
    // A letter's own reference word is the last thing in its subject, in parentheses.
    let mut sequence = documents / 2 + 7;
    loop {
        let subject = store.document(&number(sequence)).await?.subject;
        if !subject.starts_with("Re:")
            && let Some(word) = subject.rsplit_once('(').and_then(|(_, w)| w.strip_suffix(')'))
        {
            texts.push(word.to_string());
            break;
        }
        sequence += 1;
    }
    let mut counted = Vec::new();
    for text in texts {
        let hits = store.search_hits(&text).await?;
        counted.push((text, hits));
    }
    Ok(counted)
}

// ---------------------------------------------------------------------------------------------
// Figures

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Milliseconds of one kind of request.
#[derive(Default, Clone)]
struct Times {
    ms: Vec<f64>,
    /// Replies that did not say what they should, with the first of them.
    unexpected: usize,
    sample: Option<String>,
}

impl Times {
    fn add(&mut self, ms: f64, reply: &str, expected: bool) {
        self.ms.push(ms);
        if !expected {
            self.unexpected += 1;
            self.sample.get_or_insert_with(|| reply.chars().take(300).collect());
        }
    }
    fn sorted(&self) -> Vec<f64> {
        let mut sorted = self.ms.clone();
        sorted.sort_by(f64::total_cmp);
        sorted
    }
    fn p50(&self) -> f64 {
        percentile(&self.sorted(), 50.0)
    }
    fn p95(&self) -> f64 {
        percentile(&self.sorted(), 95.0)
    }
    fn line(&self, name: &str, baseline: Option<&Times>) -> String {
        let sorted = self.sorted();
        let mut line = format!(
            "{name:<22} p50 {:>8.2} ms  p95 {:>8.2} ms  max {:>8.2} ms",
            percentile(&sorted, 50.0),
            percentile(&sorted, 95.0),
            sorted.last().copied().unwrap_or(f64::NAN)
        );
        if let Some(base) = baseline {
            line.push_str(&format!("  ratio p50 {:>6.2}  p95 {:>6.2}", self.p50() / base.p50(), self.p95() / base.p95()));
        }
        if self.unexpected > 0 {
            line.push_str(&format!("  ({} unexpected replies)", self.unexpected));
        }
        line
    }
}

/// The figures of one round of the three requests.
struct Round {
    ping: Times,
    doc: Times,
    search: Times,
    /// `!docs search` per text asked.
    by_text: Vec<Times>,
    /// Requests that got no answer in time (through Matrix), left out of the figures.
    lost: usize,
}

impl Round {
    fn print(&self, texts: &[(String, i64)]) {
        println!("    {}", self.ping.line("!ping", None));
        println!("    {}", self.doc.line("!doc NUMBER", Some(&self.ping)));
        println!("    {}", self.search.line("!docs search (all)", Some(&self.ping)));
        for ((text, hits), times) in texts.iter().zip(&self.by_text) {
            println!("      {}", times.line(&format!("{text:?} ({hits} hits)"), None));
        }
        if self.lost > 0 {
            println!("    {} requests got no answer in time and are left out", self.lost);
        }
        for (name, times) in [("!ping", &self.ping), ("!doc", &self.doc), ("!docs search", &self.search)] {
            if let Some(sample) = &times.sample {
                println!("    {name}: {} unexpected replies; the first: {sample:?}", times.unexpected);
            }
        }
    }
}

/// One request of a round.
enum Ask {
    Ping,
    Doc(String),
    /// The index of the text in the searched texts.
    Search(usize),
}

impl Ask {
    /// Round `i`'s three requests: `!ping`, a random number, the texts in turn.
    fn round(i: usize, rng: &mut Rng, documents: u64, texts: &[(String, i64)]) -> [Ask; 3] {
        [Ask::Ping, Ask::Doc(number(1 + rng.below(documents))), Ask::Search(i % texts.len())]
    }

    fn text(&self, texts: &[(String, i64)]) -> String {
        match self {
            Ask::Ping => "!ping".into(),
            Ask::Doc(number) => format!("!doc {number}"),
            Ask::Search(which) => format!("!docs search {}", texts[*which].0),
        }
    }
}

impl Round {
    fn new(texts: usize) -> Round {
        Round { ping: Times::default(), doc: Times::default(), search: Times::default(), by_text: vec![Times::default(); texts], lost: 0 }
    }

    fn record(&mut self, ask: &Ask, ms: f64, reply: &str) {
        match ask {
            Ask::Ping => self.ping.add(ms, reply, reply.contains("pong")),
            Ask::Doc(number) => self.doc.add(ms, reply, doc_reply_ok(reply, number)),
            Ask::Search(which) => {
                self.search.add(ms, reply, search_reply_ok(reply));
                self.by_text[*which].add(ms, reply, search_reply_ok(reply));
            }
        }
    }
}

/// A `!doc` reply names its number; a search reply is neither a refusal nor an error.
fn doc_reply_ok(reply: &str, number: &str) -> bool {
    reply.contains(number) && !reply.contains("being built")
}

fn search_reply_ok(reply: &str) -> bool {
    !reply.is_empty() && !reply.contains("being built") && !reply.contains("went wrong")
}

// ---------------------------------------------------------------------------------------------
// In process

async fn in_process(store: &Store, assistant: &AssistantParts, documents: u64, texts: &[(String, i64)]) -> Result<Round> {
    let context = Context { store, catalog: &assistant.catalog, settings: &assistant.settings };
    let ask_in_process = |text: String| {
        let context = &context;
        async move {
            let request = Request { sender: REGISTRAR, text: &text, audience: Audience::Private, room: None, now: now() };
            let started = Instant::now();
            let reply = answer(context, &request).await.map(|r| r.markdown).unwrap_or_default();
            (started.elapsed().as_secs_f64() * 1000.0, reply)
        }
    };
    let mut rng = Rng(documents);
    let mut round = Round::new(texts.len());
    for i in 0..WARM_UP + REQUESTS {
        for ask in Ask::round(i, &mut rng, documents, texts) {
            let (ms, reply) = ask_in_process(ask.text(texts)).await;
            if i >= WARM_UP {
                round.record(&ask, ms, &reply);
            }
        }
    }
    Ok(round)
}

// ---------------------------------------------------------------------------------------------
// Through Synapse

mod matrix {
    use std::time::{Duration, Instant};

    use anyhow::{Context as _, Result, anyhow, bail};
    use matrix_sdk::config::SyncSettings;
    use matrix_sdk::ruma::api::client::room::create_room::v3::{Request as CreateRoomRequest, RoomPreset};
    use matrix_sdk::ruma::events::room::message::{OriginalSyncRoomMessageEvent, Relation, RoomMessageEventContent};
    use matrix_sdk::ruma::{OwnedEventId, OwnedUserId, UserId};
    use matrix_sdk::{Client, Room};
    use tokio::sync::mpsc;

    pub struct Homeserver {
        pub url: String,
        pub script: String,
    }

    /// The homeserver of `scripts/dev-services`, from the variables of its env file.
    pub fn homeserver() -> Result<Homeserver> {
        let var = |name: &str| std::env::var(name).map_err(|_| anyhow!("{name} is not set (run through scripts/bench)"));
        Ok(Homeserver { url: var("CHANCERY_TEST_MATRIX_URL")?, script: var("CHANCERY_DEV_SERVICES")? })
    }

    /// A new user on the homeserver: its Matrix ID and password.
    pub fn register_user(homeserver: &Homeserver, name: &str) -> Result<(String, String)> {
        let password = format!("pw-{name}");
        let output = std::process::Command::new(&homeserver.script)
            .args(["matrix-user", name, &password])
            .stdin(std::process::Stdio::null())
            .output()
            .context("run dev-services matrix-user")?;
        if !output.status.success() {
            bail!("dev-services matrix-user {name}: {}", String::from_utf8_lossy(&output.stderr).trim());
        }
        Ok((String::from_utf8(output.stdout)?.trim().to_string(), password))
    }

    /// A message this client's sync delivered: the bot's reply (with what it answers) or this
    /// client's own message coming back, when it arrived here, and its text.
    pub struct Arrived {
        pub event_id: OwnedEventId,
        pub in_reply_to: Option<OwnedEventId>,
        pub at: Instant,
        pub body: String,
    }

    /// The person asking: a matrix-sdk client syncing in the background, told of each message
    /// the bot posts the moment its sync delivers it.
    pub struct Asker {
        client: Client,
        room: Option<Room>,
        replies: mpsc::UnboundedReceiver<Arrived>,
        sync: tokio::task::JoinHandle<()>,
        _store: tempfile::TempDir,
    }

    impl Drop for Asker {
        fn drop(&mut self) {
            self.sync.abort();
        }
    }

    impl Asker {
        pub async fn login(homeserver: &Homeserver, mxid: &str, password: &str, bot: &str) -> Result<Asker> {
            let store = tempfile::tempdir()?;
            let client = Client::builder().homeserver_url(&homeserver.url).sqlite_store(store.path(), None).build().await?;
            client.matrix_auth().login_username(mxid, password).initial_device_display_name("chancery bench").send().await?;
            client.sync_once(SyncSettings::default()).await?;
            let (tell, replies) = mpsc::unbounded_channel();
            let bot: OwnedUserId = UserId::parse(bot)?;
            let own: OwnedUserId = UserId::parse(mxid)?;
            client.add_event_handler(move |event: OriginalSyncRoomMessageEvent| {
                let (tell, bot, own) = (tell.clone(), bot.clone(), own.clone());
                async move {
                    let at = Instant::now();
                    if event.sender != bot && event.sender != own {
                        return;
                    }
                    let in_reply_to = match &event.content.relates_to {
                        Some(Relation::Reply(reply)) => Some(reply.in_reply_to.event_id.clone()),
                        Some(Relation::Thread(thread)) => thread.in_reply_to.as_ref().map(|reply| reply.event_id.clone()),
                        _ => None,
                    };
                    tell.send(Arrived { event_id: event.event_id.clone(), in_reply_to, at, body: event.content.body().to_string() }).ok();
                }
            });
            // `Client::sync` sleeps a second after a sync that came back within a second (see
            // `PACE`); this loop asks again at once, so the client adds no wait of its own.
            let sync = tokio::spawn({
                let client = client.clone();
                async move {
                    loop {
                        if let Err(error) = client.sync_once(SyncSettings::default().timeout(Duration::from_secs(30))).await {
                            eprintln!("bench client sync failed, retrying: {error}");
                            tokio::time::sleep(Duration::from_millis(100)).await;
                        }
                    }
                }
            });
            Ok(Asker { client, room: None, replies, sync, _store: store })
        }

        /// A private room with the bot invited.
        pub async fn open_room(&mut self, bot: &str) -> Result<()> {
            let mut request = CreateRoomRequest::new();
            request.preset = Some(RoomPreset::PrivateChat);
            request.invite = vec![UserId::parse(bot)?];
            self.room = Some(self.client.create_room(request).await?);
            Ok(())
        }

        /// Sends `text` and waits for the bot's reply to it: the reply and the time from the
        /// send until it arrived, in milliseconds.
        pub async fn ask(&mut self, text: &str, timeout: Duration) -> Result<(f64, String)> {
            // Replies to earlier messages that timed out, and echoes, are passed over.
            let (ms, reply) = self.send_and_await(text, timeout, |sent, arrived| arrived.in_reply_to.as_ref() == Some(sent)).await?;
            Ok((ms, reply.body))
        }

        /// The baseline: sends `text` (no command) and waits until this client's own sync
        /// delivers it back, in milliseconds. Whatever the homeserver and a client's sync cost,
        /// an answer costs at least this.
        pub async fn echo(&mut self, text: &str, timeout: Duration) -> Result<f64> {
            Ok(self.send_and_await(text, timeout, |sent, arrived| arrived.event_id == *sent).await?.0)
        }

        /// Sends `text` and waits for the first message this client's sync delivers that
        /// `awaited` picks, given the sent event's id: the milliseconds from the send, and it.
        async fn send_and_await(
            &mut self,
            text: &str,
            timeout: Duration,
            awaited: impl Fn(&OwnedEventId, &Arrived) -> bool,
        ) -> Result<(f64, Arrived)> {
            let room = self.room.as_ref().ok_or_else(|| anyhow!("no room yet"))?;
            let started = Instant::now();
            let deadline = tokio::time::Instant::now() + timeout;
            let sent = tokio::time::timeout_at(deadline, room.send(RoomMessageEventContent::text_plain(text)))
                .await
                .map_err(|_| anyhow!("{text:?} not sent within {timeout:?}"))??
                .response
                .event_id;
            loop {
                let arrived = tokio::time::timeout_at(deadline, self.replies.recv())
                    .await
                    .map_err(|_| anyhow!("nothing awaited for {text:?} within {timeout:?}"))?
                    .ok_or_else(|| anyhow!("the client stopped"))?;
                if awaited(&sent, &arrived) {
                    return Ok((arrived.at.duration_since(started).as_secs_f64() * 1000.0, arrived));
                }
            }
        }
    }
}

/// How many of each request step 3 asks: `CHANCERY_BENCH_MATRIX_REQUESTS`, or `REQUESTS`. Fewer
/// make a run against a slower assistant (an older commit) take minutes instead of an hour.
fn matrix_requests() -> usize {
    std::env::var("CHANCERY_BENCH_MATRIX_REQUESTS").ok().and_then(|n| n.parse().ok()).filter(|&n| n > 0).unwrap_or(REQUESTS)
}

/// Step 3's figures: the echo baseline, one person's replies, and twenty people at once.
struct ThroughMatrix {
    echo: Times,
    round: Round,
    /// Everyone's echo at the same moment: the homeserver's own time under the burst's load.
    burst_echo: Times,
    burst: Times,
}

/// A staff member with a Matrix account, asking from a room of their own with the bot.
async fn asker(store: &Store, homeserver: &matrix::Homeserver, name: &str, bot: &str) -> Result<matrix::Asker> {
    let (mxid, password) = matrix::register_user(homeserver, name)?;
    let member = StaffMember {
        id: mxid.clone(),
        name: format!("Bench {name}"),
        unit: "registry".into(),
        role: Role::Registrar,
        clearance: Confidentiality::Confidential,
    };
    store.staff().put(&member, "bench", now()).await?;
    let mut asker = matrix::Asker::login(homeserver, &mxid, &password, bot).await?;
    asker.open_room(bot).await?;
    Ok(asker)
}

/// Asks `!ping` until the bot answers: it answers what is said after it joined.
async fn until_answered(asker: &mut matrix::Asker, serve: &tokio::task::JoinHandle<Result<()>>) -> Result<Duration> {
    let up = Instant::now();
    loop {
        if serve.is_finished() {
            bail!("service::run ended before the assistant answered");
        }
        match asker.ask("!ping", Duration::from_secs(3)).await {
            Ok(_) => return Ok(up.elapsed()),
            Err(_) if up.elapsed() < Duration::from_secs(90) => continue,
            Err(error) => bail!("the bot never answered in its room: {error}"),
        }
    }
}

/// Step 3: reply times through Synapse, or why they could not be measured.
async fn through_matrix(store: &Store, documents: u64, texts: &[(String, i64)], log: &Path) -> Result<ThroughMatrix> {
    let homeserver = matrix::homeserver()?;
    let tag = format!("bench{}", std::process::id());
    let (bot, bot_password) = matrix::register_user(&homeserver, &format!("{tag}-chancery"))?;

    let state = tempfile::tempdir()?;
    let mut config = config(state.path())?;
    config.matrix.enabled = true;
    config.matrix.homeserver = homeserver.url.clone();
    config.matrix.user = bot.clone();
    config.matrix.password = chancery::config::Secret::new(bot_password);
    config.matrix.state_dir = state.path().join("matrix");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let mut serve = tokio::spawn(chancery::service::run(config, store.clone(), async move {
        stopped.await.ok();
    }));

    let outcome = async {
        let mut registrar = asker(store, &homeserver, &format!("{tag}-registrar"), &bot).await?;
        let up = until_answered(&mut registrar, &serve).await?;
        println!("    the bot answered in its room after {:.1} s", up.as_secs_f64());
        let timeout = Duration::from_secs(30);
        let mut rng = Rng(documents ^ 0x5eed);
        let mut round = Round::new(texts.len());
        let mut echo = Times::default();
        for i in 0..MATRIX_WARM_UP + matrix_requests() {
            tokio::time::sleep(PACE).await;
            let ms = registrar.echo(&format!("echo {i}"), timeout).await?;
            if i >= MATRIX_WARM_UP {
                echo.add(ms, "", true);
            }
            for ask in Ask::round(i, &mut rng, documents, texts) {
                tokio::time::sleep(PACE).await;
                match registrar.ask(&ask.text(texts), timeout).await {
                    Ok((ms, reply)) if i >= MATRIX_WARM_UP => round.record(&ask, ms, &reply),
                    Ok(_) => {}
                    // The homeserver restarted meanwhile, say: counted, not measured.
                    Err(error) if round.lost < MAX_LOST => {
                        println!("    lost: {error:#}");
                        round.lost += 1;
                    }
                    Err(error) => bail!("more than {MAX_LOST} requests got no answer; the last: {error:#}"),
                }
            }
        }
        println!("    {BURST_PEOPLE} people, each with a client and a room of their own, ask at the same moment, {BURST_ROUNDS} times ...");
        let mut people = Vec::new();
        for n in 0..BURST_PEOPLE {
            let mut person = asker(store, &homeserver, &format!("{tag}-person{n}"), &bot).await?;
            until_answered(&mut person, &serve).await?;
            people.push(person);
        }
        // The baseline of a burst: the same people each send a plain message at the same moment
        // and wait for its echo, so what the homeserver itself takes under that load is known.
        let mut burst_echo = Times::default();
        for i in 0..BURST_ROUNDS {
            tokio::time::sleep(PACE).await;
            let text = format!("together {i}");
            let echoes = futures::future::join_all(people.iter_mut().map(|person| person.echo(&text, timeout))).await;
            for ms in echoes {
                burst_echo.add(ms?, "", true);
            }
        }
        let mut burst = Times::default();
        for i in 0..BURST_ROUNDS {
            tokio::time::sleep(PACE).await;
            let asks: Vec<(Ask, String)> = (0..BURST_PEOPLE)
                .map(|n| {
                    let ask = Ask::round(i * BURST_PEOPLE + n, &mut rng, documents, texts).into_iter().nth(n % 3).expect("three asks");
                    let text = ask.text(texts);
                    (ask, text)
                })
                .collect();
            let answers =
                futures::future::join_all(people.iter_mut().zip(&asks).map(|(person, (_, text))| person.ask(text, timeout))).await;
            for ((ask, _), answer) in asks.iter().zip(answers) {
                let (ms, reply) = answer?;
                let expected = match ask {
                    Ask::Ping => reply.contains("pong"),
                    Ask::Doc(number) => doc_reply_ok(&reply, number),
                    Ask::Search(_) => search_reply_ok(&reply),
                };
                burst.add(ms, &reply, expected);
            }
        }
        Ok(ThroughMatrix { echo, round, burst_echo, burst })
    }
    .await;

    stop.send(()).ok();
    let ended = tokio::time::timeout(Duration::from_secs(30), &mut serve).await;
    match (outcome, ended) {
        (Ok(figures), _) => Ok(figures),
        (Err(error), Ok(Ok(Err(serve_error)))) => Err(error.context(format!("service::run: {serve_error:#}"))),
        (Err(error), _) => {
            let text = std::fs::read_to_string(log).unwrap_or_default();
            let tail: Vec<&str> = text.lines().rev().take(12).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            Err(error.context(format!("the end of {}:\n      {}", log.display(), tail.join("\n      "))))
        }
    }
}

/// What `serve` logs goes to a file beside the registers (`RUST_LOG` chooses what).
fn log_to(path: &Path) -> Result<()> {
    let file = std::fs::File::create(path).with_context(|| format!("create {}", path.display()))?;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::sync::Mutex::new(file)).with_ansi(false).try_init().ok();
    Ok(())
}

/// The load average over the last minute: other work on the machine shows in the tails.
fn load() -> String {
    std::fs::read_to_string("/proc/loadavg").ok().and_then(|l| l.split_whitespace().next().map(str::to_string)).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------

fn machine() -> (usize, String, String) {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, m)| m.trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let memory = meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map(|kb| format!("{:.1} GB", kb / 1024.0 / 1024.0))
        .unwrap_or_else(|| "unknown".into());
    (cores, model, memory)
}

fn verdict(ok: bool) -> &'static str {
    if ok { "PASS" } else { "FAIL" }
}

#[tokio::main]
async fn main() {
    if let Err(error) = run().await {
        eprintln!("assistant bench failed: {error:#}");
        std::process::exit(1);
    }
}

async fn run() -> Result<()> {
    match std::env::var("CHANCERY_BENCH_ONLY").as_deref() {
        Err(_) | Ok("") | Ok("assistant") => {}
        Ok(other) => bail!("CHANCERY_BENCH_ONLY={other} is not this benchmark (assistant)"),
    }
    let documents: u64 = match std::env::var("CHANCERY_BENCH_DOCUMENTS") {
        Ok(v) => v.parse().map_err(|_| anyhow!("CHANCERY_BENCH_DOCUMENTS is not a number: {v}"))?,
        Err(_) => DEFAULT_DOCUMENTS,
    };
    if documents < 100 {
        bail!("CHANCERY_BENCH_DOCUMENTS must be at least 100");
    }
    let dir = PathBuf::from(std::env::var("CHANCERY_BENCH_DIR").unwrap_or_else(|_| "/var/tmp/chancery-bench".into()));
    std::fs::create_dir_all(&dir).with_context(|| format!("create {}", dir.display()))?;
    let log = dir.join("assistant-serve.log");
    log_to(&log)?;
    let assistant = assistant()?;
    let (cores, model, memory) = machine();

    println!("Chancery assistant benchmark");
    println!("  machine  {cores} cores, {model}, {memory} RAM");
    println!("  folder   {} (the log: {})", dir.display(), log.display());
    println!();

    // 1. The register.
    let big_path = dir.join(format!("assistant-{}.db", short(documents)));
    println!("[1] a register of {documents} documents in {} ...", big_path.display());
    let (store, built) = register(&big_path, documents, &assistant.settings.units).await?;
    match built {
        Some(secs) => println!("    filled in {secs:.1} s ({:.0} documents/s), {:.0} MB", documents as f64 / secs, file_mb(&big_path)),
        None => println!("    reused: it already holds exactly {documents} documents ({:.0} MB)", file_mb(&big_path)),
    }
    let registrar = StaffMember {
        id: REGISTRAR.into(),
        name: "Rəna Registrar".into(),
        unit: "registry".into(),
        role: Role::Registrar,
        clearance: Confidentiality::Confidential,
    };
    store.staff().put(&registrar, "bench", now()).await?;
    println!("    read into the page cache in {:.1} s", warm(&big_path)?);
    let texts = search_texts(&store, documents).await?;
    println!("    searched for: {}", texts.iter().map(|(t, h)| format!("{t:?} ({h} hits)")).collect::<Vec<_>>().join(", "));

    // 2. In process, at full size and small.
    println!("[2] in process, {REQUESTS} of each, as a registrar in a direct message, at {documents} documents (load {}) ...", load());
    let big = in_process(&store, &assistant, documents, &texts).await?;
    big.print(&texts);
    let small_documents = SMALL_DOCUMENTS.min(documents / 10).max(100);
    println!("    (load {} after)", load());
    println!("    and at {small_documents} documents:");
    let small_path = dir.join(format!("assistant-{}.db", short(small_documents)));
    let (small_store, small_built) = register(&small_path, small_documents, &assistant.settings.units).await?;
    if let Some(secs) = small_built {
        println!("    (filled in {secs:.1} s)");
    }
    small_store.staff().put(&registrar, "bench", now()).await?;
    warm(&small_path)?;
    let small_texts = search_texts(&small_store, small_documents).await?;
    let small = in_process(&small_store, &assistant, small_documents, &small_texts).await?;
    small.print(&small_texts);
    small_store.close().await;

    // 3. Through Synapse.
    println!(
        "[3] through Synapse: service::run with [matrix] only; {} of each from a matrix-sdk client, \
         with the echo of a plain message as the baseline, then {BURST_PEOPLE} people at once (load {}) ...",
        matrix_requests(),
        load()
    );
    let matrix = match through_matrix(&store, documents, &texts, &log).await {
        Ok(figures) => {
            println!("    {}", figures.echo.line("echo (baseline)", None));
            println!("    {}", figures.round.ping.line("!ping", Some(&figures.echo)));
            println!("    {}", figures.round.doc.line("!doc NUMBER", Some(&figures.echo)));
            println!("    {}", figures.round.search.line("!docs search (all)", Some(&figures.echo)));
            println!("    {}", figures.burst_echo.line(&format!("{BURST_PEOPLE} echoes at once"), Some(&figures.echo)));
            println!("    {}", figures.burst.line(&format!("{BURST_PEOPLE} at once"), Some(&figures.burst_echo)));
            if let Some(sample) = &figures.burst.sample {
                println!("    {BURST_PEOPLE} at once: {} unexpected replies; the first: {sample:?}", figures.burst.unexpected);
            }
            println!("    (load {} after)", load());
            Some(figures)
        }
        Err(error) => {
            println!("    NOT RUN: {error:#}");
            None
        }
    };
    store.close().await;

    // Summary.
    println!();
    println!("================ Chancery assistant benchmark: summary ================");
    println!("machine        {cores} cores, {model}, {memory} RAM (load average now {})", load());
    match built {
        Some(secs) => println!("register       {documents} documents, SQLite, filled in {secs:.1} s"),
        None => println!("register       {documents} documents, SQLite, reused from an earlier run"),
    }
    for (label, round) in [(format!("{documents} docs"), &big), (format!("{small_documents} docs"), &small)] {
        println!("in process, {label}:");
        println!("  {}", round.ping.line("!ping", None));
        println!("  {}", round.doc.line("!doc NUMBER", Some(&round.ping)));
        println!("  {}", round.search.line("!docs search", Some(&round.ping)));
    }
    match &matrix {
        Some(figures) => {
            println!("through Synapse, {documents} docs (reply time seen by the client; ratios against the echo):");
            println!("  {}", figures.echo.line("echo (baseline)", None));
            println!("  {}", figures.round.ping.line("!ping", Some(&figures.echo)));
            println!("  {}", figures.round.doc.line("!doc NUMBER", Some(&figures.echo)));
            println!("  {}", figures.round.search.line("!docs search", Some(&figures.echo)));
            println!("  {}", figures.burst_echo.line(&format!("{BURST_PEOPLE} echoes at once"), Some(&figures.echo)));
            println!("  {}", figures.burst.line(&format!("{BURST_PEOPLE} at once"), Some(&figures.burst_echo)));
        }
        None => println!("through Synapse: not run (see step 3)"),
    }
    println!("goals:");
    let replies_ok = big.doc.unexpected == 0 && big.search.unexpected == 0;
    println!(
        "  [{}] !doc p95 < {DOC_P95_GOAL_MS} ms in process          ({:.2} ms)",
        verdict(big.doc.p95() < DOC_P95_GOAL_MS && replies_ok),
        big.doc.p95()
    );
    println!(
        "  [{}] !docs search p95 < {SEARCH_P95_GOAL_MS} ms in process  ({:.2} ms)",
        verdict(big.search.p95() < SEARCH_P95_GOAL_MS && replies_ok),
        big.search.p95()
    );
    if !replies_ok {
        println!("        (some replies were not what the command should say: see step 2)");
    }
    match &matrix {
        Some(figures) => {
            for (name, times) in [("!ping", &figures.round.ping), ("!doc", &figures.round.doc), ("!docs search", &figures.round.search)] {
                let ratio = times.p50() / figures.echo.p50();
                println!(
                    "  [{}] {name} through Matrix: p50 <= {MATRIX_RATIO_GOAL} x echo p50 and p95 <= {MATRIX_P95_GOAL_MS} ms  (ratio {ratio:.2}, p95 {:.1} ms)",
                    verdict(ratio <= MATRIX_RATIO_GOAL && times.p95() <= MATRIX_P95_GOAL_MS && times.unexpected == 0),
                    times.p95()
                );
            }
            println!(
                "  [{}] {BURST_PEOPLE} people at once: p95 <= {BURST_P95_GOAL_MS} ms  (p95 {:.1} ms; their echoes at once: p95 {:.1} ms)",
                verdict(figures.burst.p95() <= BURST_P95_GOAL_MS && figures.burst.unexpected == 0),
                figures.burst.p95(),
                figures.burst_echo.p95()
            );
        }
        None => println!("  [----] through Matrix: not measured"),
    }
    println!("========================================================================");
    Ok(())
}

/// 1000000 → "1m", 10000 → "10k", for file names.
fn short(n: u64) -> String {
    match n {
        n if n % 1_000_000 == 0 => format!("{}m", n / 1_000_000),
        n if n % 1_000 == 0 => format!("{}k", n / 1_000),
        n => n.to_string(),
    }
}
