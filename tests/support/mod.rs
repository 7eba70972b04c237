//! What the integration tests share: the dev services' addresses, fresh stores on the backend
//! under test, intake policies, IMAP helpers, running SQL and the binary, and waiting. The services come from `scripts/dev-services`; without
//! them the tests fail loudly rather than skip.
#![allow(dead_code)] // each test binary uses its own part of this

pub mod assistant;
pub mod matrix;
pub mod postgres;
pub mod registry;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use std::sync::Arc;

use chancery::config::{ImapConfig, Secret, SmtpConfig, TlsMode};
use chancery::core::confidentiality::Confidentiality;
use chancery::core::intake::IntakePolicy;
use chancery::imap::{Session, open_session};
use chancery::store::{OpenMode, Store};
use futures::TryStreamExt;

static COUNTER: AtomicU32 = AtomicU32::new(0);

pub struct Services {
    pub host: String,
    pub imap_port: u16,
    pub imaps_port: u16,
    pub smtp_port: u16,
    pub smtps_port: u16,
    pub ca: String,
    pub password: String,
    pub script: String,
}

pub fn services() -> Services {
    let var = |name: &str| {
        std::env::var(name).unwrap_or_else(|_| {
            panic!("{name} is not set: these tests need the real mail servers. Run `scripts/test`, or `scripts/dev-services start` and source its env file")
        })
    };
    let port = |name: &str| var(name).parse::<u16>().unwrap_or_else(|_| panic!("{name} is not a port"));
    Services {
        host: var("CHANCERY_TEST_IMAP_HOST"),
        imap_port: port("CHANCERY_TEST_IMAP_PORT"),
        imaps_port: port("CHANCERY_TEST_IMAPS_PORT"),
        smtp_port: port("CHANCERY_TEST_SMTP_PORT"),
        smtps_port: port("CHANCERY_TEST_SMTPS_PORT"),
        ca: var("CHANCERY_TEST_CA"),
        password: var("CHANCERY_TEST_PASSWORD"),
        script: var("CHANCERY_DEV_SERVICES"),
    }
}

/// A name no other test (or earlier run) uses.
pub fn unique(tag: &str) -> String {
    format!("t{}-{}-{tag}", std::process::id(), COUNTER.fetch_add(1, Ordering::SeqCst))
}

/// A fresh, empty store on the backend under test (`CHANCERY_TEST_BACKEND`); the guard keeps a
/// SQLite file alive.
pub async fn fresh_store() -> (Store, String, Option<tempfile::TempDir>) {
    let zone = chrono_tz::Asia::Baku;
    match std::env::var("CHANCERY_TEST_BACKEND").as_deref() {
        Ok("postgres") => {
            let (_, url) = postgres::create_database("db").await;
            (Store::open(&url, zone, OpenMode::CreateIfMissing).await.expect("open store"), url, None)
        }
        _ => {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!("sqlite://{}/register.db", dir.path().display());
            (Store::open(&url, zone, OpenMode::CreateIfMissing).await.expect("open store"), url, Some(dir))
        }
    }
}

/// Registering with no routing rules: every letter goes to the registry as internal, and no
/// mail is sent and no room told.
pub fn policy_without_rules() -> IntakePolicy {
    IntakePolicy {
        default_unit: "registry".into(),
        default_confidentiality: Confidentiality::Internal,
        rules: None,
        replies: None,
        holidays: Vec::new(),
        notify_rooms: false,
    }
}

/// The routing policy of the rules this repository ships (no mail is sent: no reply policy; no
/// room is told).
pub fn shipped_policy() -> IntakePolicy {
    let rules = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("mail-rules");
    let book = chancery::rule_files::load(&rules).expect("shipped rules load");
    IntakePolicy { rules: Some(Arc::new(book)), ..policy_without_rules() }
}

/// The reminder policy's defaults in the zone of `fresh_store`: what reminders are scheduled and
/// fired by when a test sets nothing else.
pub fn reminder_policy() -> chancery::core::remind::Policy {
    chancery::core::remind::Policy::new(chrono_tz::Asia::Baku)
}

/// The listener's settings for one of the dev users' mailboxes, plain IMAP on loopback.
pub fn imap_config(user: &str, mailbox: &str) -> ImapConfig {
    let s = services();
    ImapConfig {
        host: s.host,
        port: Some(s.imap_port),
        tls: TlsMode::None,
        user: user.into(),
        password: Secret::new(s.password),
        mailbox: mailbox.into(),
        idle_renew_secs: 60,
        reconnect_max_secs: 1,
        fetch_batch_bytes: 64 * 1024,
        ..ImapConfig::default()
    }
}

/// Sending through the dev Postfix with short retries, and the templates this repository ships.
pub fn smtp_config() -> SmtpConfig {
    let s = services();
    SmtpConfig {
        enabled: true,
        host: s.host,
        port: Some(s.smtp_port),
        tls: TlsMode::Starttls,
        ca_file: Some(PathBuf::from(s.ca)),
        user: "registry".into(),
        password: Secret::new(s.password),
        from: "University Registry <registry@uni.example>".into(),
        own_domains: vec!["uni.example".into()],
        templates_dir: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("mail-rules/templates"),
        timeout_secs: 10,
        poll_secs: 1,
        retry_base_secs: 1,
        retry_max_secs: 2,
        ..SmtpConfig::default()
    }
}

pub async fn session(user: &str) -> Session {
    let config = imap_config(user, "INBOX");
    open_session(&config, &config.password).await.expect("log in to the dev Dovecot")
}

pub async fn fresh_mailbox(user: &str, tag: &str) -> String {
    let name = unique(tag);
    let mut s = session(user).await;
    s.create(&name).await.expect("create mailbox");
    s.logout().await.ok();
    name
}

pub async fn append(user: &str, mailbox: &str, raw: &[u8]) {
    let mut s = session(user).await;
    s.append(mailbox, None, None, raw).await.expect("append");
    s.logout().await.ok();
}

/// The messages of a mailbox that an IMAP SEARCH finds, e.g. `HEADER Message-ID "<x@y>"`:
/// the shared mailboxes of the dev services grow with every run, so tests never read them whole.
pub async fn messages_where(user: &str, mailbox: &str, search: &str) -> Vec<Vec<u8>> {
    let mut s = session(user).await;
    s.select(mailbox).await.expect("select");
    let uids = s.uid_search(search).await.expect("search");
    let mut found = Vec::new();
    if !uids.is_empty() {
        let mut uids: Vec<u32> = uids.into_iter().collect();
        uids.sort_unstable();
        let set = uids.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
        let fetched: Vec<_> = s.uid_fetch(set, "(UID BODY.PEEK[])").await.expect("fetch").try_collect().await.expect("fetch");
        found = fetched.iter().filter_map(|f| f.body().map(<[u8]>::to_vec)).collect();
    }
    s.logout().await.ok();
    found
}

pub async fn wait_for<F, Fut>(timeout: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    check().await
}

/// The `chancery` binary run in `dir`, with no CHANCERY_* setting from the caller's environment
/// but the database URL and the rules this repository ships.
pub fn chancery_command(dir: &std::path::Path, url: &str) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_chancery"));
    command.current_dir(dir);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("CHANCERY_") {
            command.env_remove(key);
        }
    }
    command
        .env_remove("RUST_LOG")
        .env("CHANCERY_DATABASE__URL", url)
        .env("CHANCERY_RULES__DIR", concat!(env!("CARGO_MANIFEST_DIR"), "/mail-rules"));
    command
}

/// How a finished command ended, for a failing assertion's message.
pub fn describe(output: &std::process::Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Runs `future` to its end on a runtime of its own, for tests that have none.
pub fn block_on<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime").block_on(future)
}

/// Runs SQL statements one by one on a database; one result (rows affected, or the error) each.
/// Outside an async runtime only.
pub fn sql(url: &str, statements: &[&str]) -> Vec<Result<u64, String>> {
    sqlx::any::install_default_drivers();
    block_on(async {
        let pool = sqlx::any::AnyPoolOptions::new().max_connections(1).connect(url).await.expect("connect to the test database");
        let mut results = Vec::new();
        for statement in statements {
            let result = sqlx::query(sqlx::AssertSqlSafe(statement.to_string())).execute(&pool).await;
            results.push(result.map(|r| r.rows_affected()).map_err(|e| e.to_string()));
        }
        pool.close().await;
        results
    })
}

/// Settings that make `command` send through the dev Postfix: STARTTLS, the registry's login,
/// the templates this repository ships.
pub fn send_through_dev_postfix(command: &mut std::process::Command) -> &mut std::process::Command {
    let s = services();
    command
        .env("CHANCERY_SMTP__ENABLED", "true")
        .env("CHANCERY_SMTP__HOST", &s.host)
        .env("CHANCERY_SMTP__PORT", s.smtp_port.to_string())
        .env("CHANCERY_SMTP__TLS", "starttls")
        .env("CHANCERY_SMTP__CA_FILE", &s.ca)
        .env("CHANCERY_SMTP__USER", "registry")
        .env("CHANCERY_SMTP__PASSWORD", &s.password)
        .env("CHANCERY_SMTP__FROM", "University Registry <registry@uni.example>")
        .env("CHANCERY_SMTP__TEMPLATES_DIR", concat!(env!("CARGO_MANIFEST_DIR"), "/mail-rules/templates"))
}

/// A header of a raw message, decoded.
pub fn header(raw: &[u8], name: &str) -> Option<String> {
    let message = mail_parser::MessageParser::default().parse(raw)?;
    message.header_raw(name).map(|v| v.trim().to_string())
}

/// Bytes in base64 (RFC 4648, with padding, one line), for building MIME parts by hand.
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            out.push(if i <= chunk.len() { ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char } else { '=' });
        }
    }
    out
}

/// `chancery serve` (the binary) with the scheduler and the dispatcher (through the dev
/// Postfix), no IMAP and no Matrix; its log goes to `NAME.log` in `dir`.
pub fn serve(dir: &std::path::Path, url: &str, name: &str) -> std::process::Child {
    let mut command = chancery_command(dir, url);
    send_through_dev_postfix(&mut command);
    command
        .arg("serve")
        .env("CHANCERY_IMAP__ENABLED", "false")
        .env("CHANCERY_LOG__LEVEL", "chancery=info")
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(dir.join(format!("{name}.log"))).expect("log file"));
    command.spawn().expect("chancery serve starts")
}

/// Stops a `serve` as an operator does (SIGTERM), and kills it if it has not ended in 10 s.
pub fn stop(mut child: std::process::Child) {
    std::process::Command::new("kill").arg("-TERM").arg(child.id().to_string()).status().ok();
    for _ in 0..100 {
        if child.try_wait().ok().flatten().is_some() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    child.kill().ok();
    child.wait().ok();
}
