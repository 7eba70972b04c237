//! Intake benchmark: how fast `chancery serve` registers a mailbox, compared with a raw FETCH.
//!
//! One run, against the real Dovecot of `scripts/dev-services` (run through `scripts/bench`):
//! 1. generates N letters (default 10,000; `CHANCERY_BENCH_MESSAGES` overrides) of 2 KB to
//!    200 KB, about 30% with a PDF-like attachment, and APPENDs them to a fresh mailbox;
//! 2. baseline: a raw `UID FETCH 1:* BODY.PEEK[]` with the same client library;
//! 3. the real `chancery serve` binary registers the mailbox into a fresh SQLite store;
//! 4. a restart on the same store must download no body again;
//! 5. with the listener idle, 100 single APPENDs measure arrival-to-registered latency;
//! 6. one large letter (about 50 MB: a short text and a PDF-like attachment, base64, just under
//!    the default `max_message_bytes`) in another fresh mailbox and store: the resident memory of
//!    an idle `serve` before it (the baseline), the peak while it is registered (VmHWM, goal
//!    under 200 MB) and the resident memory once `serve` is idle again (VmRSS, goal under 80 MB).
//!
//! 7. storage: bytes the SQLite store grew by (file and WAL after a checkpoint) per byte of mail
//!    registered in step 3, as stored now (each attachment once, inside its raw message) and
//!    before (the same store plus each attachment's decoded bytes in a BLOB, as migrations
//!    0001-0014 kept them, written here from the stored messages);
//! 8. two writers against one on PostgreSQL (when `CHANCERY_BENCH_POSTGRES_URL` is set, as
//!    `scripts/bench` sets it): `CHANCERY_BENCH_WRITER_LETTERS` letters (default 4,000) of the
//!    same kind, read beforehand, registered by `Store::register_incoming` in batches of about
//!    4 MB (the listener's) into a fresh database: by one writer; by two writers (two `Store`s,
//!    two pools) at once, each with half the letters, as the register does now (the year's
//!    counter locked last); and by two writers whose transactions are serialised whole, which
//!    is what taking the counter lock first amounted to. Each run checks that the numbers are
//!    gapless. The one-writer database also gives the bytes per byte on PostgreSQL (the
//!    tables' total relation size, TOAST and indexes included), now and before.
//!
//! `CHANCERY_BENCH_ONLY=big-letter` runs only step 6 (a minute, not a quarter of an hour);
//! `CHANCERY_BENCH_ONLY=writers` runs only step 8; `CHANCERY_BENCH_KEEP=1` keeps the mailboxes
//! and the stores (and their logs) afterwards.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use chancery::config::{ImapConfig, RegisterConfig, Secret, TlsMode};
use chancery::core::intake::Source;
use chancery::core::letter::{attachments_in, read_letter};
use chancery::imap::{Session, open_session};
use chancery::store::{Arrival, OpenMode, Store};
use futures::TryStreamExt;
use sqlx::AnyPool;
use sqlx::any::AnyPoolOptions;

const DEFAULT_MESSAGES: usize = 10_000;
const APPEND_SESSIONS: usize = 4;
const LATENCY_LETTERS: usize = 100;
const LATENCY_TIMEOUT: Duration = Duration::from_secs(30);
const INTAKE_TIMEOUT: Duration = Duration::from_secs(60 * 60);
const MB: f64 = 1024.0 * 1024.0;
/// The large letter: as large as a letter can be and still be registered whole by default
/// (`max_message_bytes` is 50 MiB).
const BIG_LETTER_BYTES: usize = 52_000_000;
const BIG_PEAK_GOAL_MB: f64 = 200.0;
const BIG_SETTLED_GOAL_MB: f64 = 80.0;
/// How long `serve` idles before its resident memory is read.
const SETTLE: Duration = Duration::from_secs(3);
const DEFAULT_WRITER_LETTERS: usize = 4_000;
/// The bytes of one registering transaction, as the listener downloads them (`fetch_batch_bytes`).
const WRITER_BATCH_BYTES: usize = 4 * 1024 * 1024;

struct Services {
    host: String,
    port: u16,
    password: String,
}

fn services() -> Services {
    let var = |name: &str| match std::env::var(name) {
        Ok(v) if !v.is_empty() => v,
        _ => {
            eprintln!(
                "intake bench: {name} is not set. This benchmark needs the real IMAP server: run `scripts/bench`, \
                 or `scripts/dev-services start` and `source` the env file it prints, then `cargo bench --bench intake`."
            );
            std::process::exit(2);
        }
    };
    let host = var("CHANCERY_TEST_IMAP_HOST");
    let port = var("CHANCERY_TEST_IMAP_PORT");
    Services {
        host,
        port: port.parse().unwrap_or_else(|_| {
            eprintln!("intake bench: CHANCERY_TEST_IMAP_PORT is not a port number: {port}");
            std::process::exit(2);
        }),
        password: var("CHANCERY_TEST_PASSWORD"),
    }
}

fn imap_config(s: &Services, mailbox: &str) -> ImapConfig {
    ImapConfig {
        host: s.host.clone(),
        port: Some(s.port),
        tls: TlsMode::None,
        user: "registry".into(),
        password: Secret::new(s.password.clone()),
        mailbox: mailbox.into(),
        ..ImapConfig::default()
    }
}

async fn session(s: &Services) -> Result<Session> {
    let config = imap_config(s, "INBOX");
    open_session(&config, &config.password).await
}

// ---------------------------------------------------------------------------------------------
// Deterministic letters

/// A 64-bit LCG (Knuth's MMIX constants); the high bits are good enough for test data.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        let mut r = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(0x2545_F491_4F6C_DD1D));
        r.next();
        r
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 32
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn unit(&mut self) -> f64 {
        self.next() as f64 / (u32::MAX as f64 + 1.0)
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn base64(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        out.push(B64[(n >> 18) as usize & 63] as char);
        out.push(B64[(n >> 12) as usize & 63] as char);
        out.push(if chunk.len() > 1 { B64[(n >> 6) as usize & 63] as char } else { '=' });
        out.push(if chunk.len() > 2 { B64[n as usize & 63] as char } else { '=' });
    }
    out
}

/// MIME base64 body: 76-character lines.
fn base64_lines(data: &[u8]) -> String {
    let flat = base64(data);
    let mut out = String::with_capacity(flat.len() + flat.len() / 38 + 2);
    for line in flat.as_bytes().chunks(76) {
        out.push_str(std::str::from_utf8(line).expect("ascii"));
        out.push_str("\r\n");
    }
    out
}

/// An RFC 2047 encoded word when the text is not plain ASCII.
fn header_text(text: &str) -> String {
    if text.is_ascii() { text.to_string() } else { format!("=?UTF-8?B?{}?=", base64(text.as_bytes())) }
}

const SENDERS: &[(&str, &str)] = &[
    ("Aysel Məmmədova", "aysel.mammadova@adu.edu.az"),
    ("Rəşad Əliyev", "rashad.aliyev@bsu.edu.az"),
    ("Иван Петров", "i.petrov@msu.ru"),
    ("Ольга Смирнова", "olga.smirnova@spbu.ru"),
    ("Prof. Anna Müller", "a.mueller@uni-heidelberg.de"),
    ("John Smith", "john.smith@ox.ac.uk"),
    ("Mehmet Yılmaz", "mehmet.yilmaz@itu.edu.tr"),
    ("Nigar Hüseynova", "nigar.huseynova@edu.gov.az"),
    ("Erasmus+ Office", "erasmus@ec.europa.eu"),
    ("Leyla Qasımova", "leyla.qasimova@unec.edu.az"),
    ("Дмитрий Кузнецов", "d.kuznetsov@hse.ru"),
    ("Registrar, Tbilisi State University", "registrar@tsu.ge"),
];

const SUBJECTS: &[&str] = &[
    "Müraciət: tələbə mübadiləsi proqramı",
    "Əməkdaşlıq memorandumu layihəsi",
    "Dissertasiya müdafiəsi haqqında məlumat",
    "Запрос о сотрудничестве",
    "Приглашение на международную конференцию",
    "О подписании договора об академическом обмене",
    "Invitation to the annual rectors' conference",
    "Request for transcript verification",
    "Joint research proposal: renewable energy",
    "Re: Memorandum of understanding — final draft",
    "Erasmus+ KA171 mobility: nomination of students",
    "Tələbə qəbulu üzrə sorğu",
    "Fwd: Ödəniş qəbzi və müqavilə surəti",
    "Accreditation visit schedule",
];

const SENTENCES: &[&str] = &[
    "Hörmətli həmkarlar, sizə Azərbaycan Dövlət Universiteti ilə əməkdaşlıq təklifimizi təqdim edirik.",
    "Xahiş edirik, əlavə olunmuş sənədləri nəzərdən keçirib rəyinizi bildirəsiniz.",
    "Tələbə mübadiləsi proqramı çərçivəsində növbəti semestr üçün namizədlərin siyahısı hazırlanmışdır.",
    "Görüşün vaxtı və yeri barədə əlavə məlumat veriləcək.",
    "Уважаемые коллеги, направляем вам проект соглашения о сотрудничестве между нашими университетами.",
    "Просим рассмотреть приложенные документы и сообщить о вашем решении до конца месяца.",
    "Конференция пройдёт в очном формате; регистрация участников открыта до 15 числа.",
    "С уважением, отдел международного сотрудничества.",
    "Dear colleagues, please find attached the signed copy of the agreement for your records.",
    "We would be grateful if you could confirm receipt of this letter at your earliest convenience.",
    "The committee will review all applications and notify the candidates by the end of the term.",
    "Should you require any further information, do not hesitate to contact our office.",
    "Sehr geehrte Damen und Herren, anbei übersenden wir Ihnen die gewünschten Unterlagen.",
    "Saygılarımızla, Uluslararası İlişkiler Ofisi.",
];

/// Letter `index` of the run, of roughly the size the LCG draws: log-uniform from 2 to 200 KB.
fn make_letter(index: usize) -> Vec<u8> {
    let mut rng = Rng::new(index as u64 + 1);
    let target = (2048.0 * 100f64.powf(rng.unit())) as usize;
    let with_attachment = rng.unit() < 0.30;
    let (name, address) = SENDERS[rng.below(SENDERS.len())];
    let subject = format!("{} ({})", rng.pick(SUBJECTS), 1000 + index);
    let date = chrono::DateTime::from_timestamp(1_790_000_000 + index as i64 * 617, 0).expect("date").to_rfc2822();
    let message_id = format!("<bench-{index}-{:08x}@{}>", rng.next(), address.split('@').nth(1).unwrap_or("example.org"));

    let mut head = format!(
        "From: {} <{address}>\r\nTo: Registry <registry@uni.example>\r\nSubject: {}\r\nDate: {date}\r\n\
         Message-ID: {message_id}\r\nMIME-Version: 1.0\r\n",
        header_text(name),
        header_text(&subject),
    );
    if index % 7 == 3 {
        head.push_str(&format!("In-Reply-To: <bench-{}-00000000@example.org>\r\n", index / 2));
    }

    // The text: a few sentences for letters with an attachment, the whole size otherwise.
    let text_target = if with_attachment { (target / 10).clamp(600, 4000) } else { target.saturating_sub(head.len() + 120) };
    let mut text = format!("Ref. bench letter {index}.\r\n\r\n");
    while text.len() < text_target {
        text.push_str(rng.pick(SENTENCES));
        text.push_str(if rng.below(4) == 0 { "\r\n\r\n" } else { "\r\n" });
    }

    let mut raw = head.into_bytes();
    if with_attachment {
        let boundary = format!("=_bench_{index}_{:x}", rng.next());
        let room = target.saturating_sub(raw.len() + text.len() + 400);
        let pdf_len = (room * 3 / 4).max(512);
        let mut pdf = Vec::with_capacity(pdf_len);
        pdf.extend_from_slice(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n");
        pdf.extend_from_slice(b"4 0 obj\n<< /Length 0 /Filter /FlateDecode >>\nstream\n");
        while pdf.len() < pdf_len.saturating_sub(24) {
            pdf.extend_from_slice(&(rng.next() as u32).to_le_bytes());
        }
        pdf.extend_from_slice(b"\nendstream\nendobj\n%%EOF\n");
        let file = format!("{}-{index}.pdf", ["muqavile", "agreement", "protokol", "invitation", "transcript"][rng.below(5)]);
        raw.extend_from_slice(
            format!(
                "Content-Type: multipart/mixed; boundary=\"{boundary}\"\r\n\r\nThis is a multi-part message in MIME format.\r\n\r\n\
                 --{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{text}\r\n\
                 --{boundary}\r\nContent-Type: application/pdf; name=\"{file}\"\r\nContent-Transfer-Encoding: base64\r\n\
                 Content-Disposition: attachment; filename=\"{file}\"\r\n\r\n{}--{boundary}--\r\n",
                base64_lines(&pdf)
            )
            .as_bytes(),
        );
    } else {
        raw.extend_from_slice(
            format!("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{text}").as_bytes(),
        );
    }
    raw
}

/// A letter of `size` bytes: a few lines of text and one PDF-like attachment (random bytes,
/// base64 in 76-character lines), as a scanned contract arrives.
fn make_big_letter(size: usize) -> Vec<u8> {
    let mut rng = Rng::new(0xB16);
    let boundary = "=_bench_big";
    let head = format!(
        "From: Registrar, Tbilisi State University <registrar@tsu.ge>\r\nTo: Registry <registry@uni.example>\r\n\
         Subject: Signed agreement, scanned ({size} bytes)\r\nDate: Mon, 7 Dec 2026 10:00:00 +0400\r\n\
         Message-ID: <bench-big-{:08x}@tsu.ge>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"{boundary}\"\r\n\r\n\
         --{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n\
         Dear colleagues, please find attached the signed agreement, scanned.\r\n\r\n\
         --{boundary}\r\nContent-Type: application/pdf; name=\"agreement-scan.pdf\"\r\n\
         Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=\"agreement-scan.pdf\"\r\n\r\n",
        rng.next()
    );
    let tail = format!("--{boundary}--\r\n");
    // Each 57 bytes of the file become one line of 76 characters and CRLF.
    let pdf_len = (size - head.len() - tail.len()) / 78 * 57;
    let mut pdf = Vec::with_capacity(pdf_len + 8);
    pdf.extend_from_slice(b"%PDF-1.4\n");
    while pdf.len() < pdf_len {
        pdf.extend_from_slice(&(rng.next() as u32).to_le_bytes());
    }
    pdf.truncate(pdf_len);
    let mut raw = head.into_bytes();
    raw.extend_from_slice(base64_lines(&pdf).as_bytes());
    raw.extend_from_slice(tail.as_bytes());
    raw
}

// ---------------------------------------------------------------------------------------------
// The store, polled from outside the serving process

async fn open_counter(url: &str) -> Result<AnyPool> {
    sqlx::any::install_default_drivers();
    AnyPoolOptions::new()
        .max_connections(1)
        .after_connect(|conn, _| {
            Box::pin(async move {
                sqlx::query("PRAGMA busy_timeout = 30000").execute(&mut *conn).await?;
                Ok(())
            })
        })
        .connect(url)
        .await
        .with_context(|| format!("cannot open {url}"))
}

async fn documents(pool: &AnyPool) -> Result<i64> {
    Ok(sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM documents").fetch_one(pool).await?)
}

// ---------------------------------------------------------------------------------------------
// The `chancery serve` subprocess

struct Serve {
    child: Child,
    log: PathBuf,
}

fn spawn_serve(s: &Services, mailbox: &str, db_url: &str, dir: &Path, log_name: &str) -> Result<Serve> {
    let log = dir.join(log_name);
    let stderr = std::fs::File::create(&log)?;
    let child = Command::new(env!("CARGO_BIN_EXE_chancery"))
        .arg("serve")
        .current_dir(dir) // no stray chancery.toml
        .env_remove("RUST_LOG")
        .env("NO_COLOR", "1")
        .env("CHANCERY_DATABASE__URL", db_url)
        .env("CHANCERY_IMAP__HOST", &s.host)
        .env("CHANCERY_IMAP__PORT", s.port.to_string())
        .env("CHANCERY_IMAP__TLS", "none")
        .env("CHANCERY_IMAP__USER", "registry")
        .env("CHANCERY_IMAP__PASSWORD", &s.password)
        .env("CHANCERY_IMAP__MAILBOX", mailbox)
        .env("CHANCERY_LOG__LEVEL", "info")
        // The shipped routing rules, as a real registry runs: routing is part of registering.
        .env("CHANCERY_RULES__DIR", concat!(env!("CARGO_MANIFEST_DIR"), "/mail-rules"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .with_context(|| format!("cannot start {}", env!("CARGO_BIN_EXE_chancery")))?;
    Ok(Serve { child, log })
}

impl Serve {
    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Peak resident set (VmHWM) so far, in bytes.
    fn peak_rss(&self) -> Option<u64> {
        self.status_bytes("VmHWM:")
    }

    /// Resident set (VmRSS) now, in bytes.
    fn rss(&self) -> Option<u64> {
        self.status_bytes("VmRSS:")
    }

    fn status_bytes(&self, field: &str) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).ok()?;
        let line = status.lines().find(|l| l.starts_with(field))?;
        let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kb * 1024)
    }

    fn log_text(&self) -> String {
        strip_ansi(&std::fs::read_to_string(&self.log).unwrap_or_default())
    }

    fn log_tail(&self) -> String {
        let text = self.log_text();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// Fails, with the end of the log, if the process has exited.
    fn check_alive(&mut self) -> Result<()> {
        if let Some(status) = self.child.try_wait()? {
            bail!("chancery serve exited early ({status}); end of its log {}:\n{}", self.log.display(), self.log_tail());
        }
        Ok(())
    }

    /// SIGTERM, then wait (SIGKILL after 30 s).
    async fn stop(mut self) -> Result<String> {
        Command::new("kill").args(["-TERM", &self.pid().to_string()]).status().context("kill -TERM")?;
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait()? {
                if !status.success() {
                    eprintln!("  note: chancery serve exited with {status}");
                }
                return Ok(self.log_text());
            }
            if Instant::now() > deadline {
                eprintln!("  note: chancery serve ignored SIGTERM for 30 s; killing it");
                self.child.kill().ok();
                self.child.wait().ok();
                return Ok(self.log_text());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits until the log holds `needle`; returns when it was first seen.
    async fn wait_for_log(&mut self, needle: &str, timeout: Duration) -> Result<Instant> {
        let deadline = Instant::now() + timeout;
        loop {
            if self.log_text().contains(needle) {
                return Ok(Instant::now());
            }
            self.check_alive()?;
            if Instant::now() > deadline {
                bail!("no '{needle}' in the log of chancery serve within {timeout:?}; end of its log:\n{}", self.log_tail());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC [ params final-byte
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// `key=N` from each log line that contains `marker`.
fn log_numbers(log: &str, marker: &str, key: &str) -> Vec<u64> {
    let pattern = format!("{key}=");
    log.lines()
        .filter(|l| l.contains(marker))
        .filter_map(|l| {
            let at = l.find(&pattern)? + pattern.len();
            l[at..].chars().take_while(char::is_ascii_digit).collect::<String>().parse().ok()
        })
        .collect()
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
        .map(|kb| format!("{:.1} GiB", kb / 1024.0 / 1024.0))
        .unwrap_or_else(|| "unknown".into());
    (cores, model, memory)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn verdict(ok: bool) -> &'static str {
    if ok { "PASS" } else { "FAIL" }
}

#[tokio::main]
async fn main() {
    if let Err(error) = run().await {
        eprintln!("intake bench failed: {error:#}");
        std::process::exit(1);
    }
}

/// Which parts of the benchmark run: `CHANCERY_BENCH_ONLY=big-letter` skips the mailbox of
/// many letters.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Parts {
    All,
    BigLetterOnly,
    WritersOnly,
}

async fn run() -> Result<()> {
    let s = Arc::new(services());
    let parts = match std::env::var("CHANCERY_BENCH_ONLY") {
        Err(_) => Parts::All,
        Ok(v) if v.is_empty() || v == "intake" => Parts::All,
        Ok(v) if v == "big-letter" => Parts::BigLetterOnly,
        Ok(v) if v == "writers" => Parts::WritersOnly,
        Ok(v) => bail!("CHANCERY_BENCH_ONLY={v} is not a part of this benchmark; the parts that run alone are big-letter and writers"),
    };
    let n: usize = match std::env::var("CHANCERY_BENCH_MESSAGES") {
        Ok(v) => v.parse().map_err(|_| anyhow!("CHANCERY_BENCH_MESSAGES is not a number: {v}"))?,
        Err(_) => DEFAULT_MESSAGES,
    };
    if n == 0 {
        bail!("CHANCERY_BENCH_MESSAGES must be at least 1 (CHANCERY_BENCH_ONLY=big-letter skips the many letters)");
    }
    let keep = std::env::var("CHANCERY_BENCH_KEEP").is_ok_and(|v| !v.is_empty() && v != "0");

    println!("Chancery intake benchmark");
    println!("  server   {}:{} (user registry, tls none)", s.host, s.port);
    println!("  binary   {}", env!("CARGO_BIN_EXE_chancery"));
    println!();
    if parts == Parts::WritersOnly {
        return two_writers().await;
    }
    if parts == Parts::All {
        in_fresh_mailbox(&s, "bench", keep, |mailbox, dir| {
            let s = Arc::clone(&s);
            async move {
                let db_url = format!("sqlite://{}/bench.db", dir.display());
                println!("  mailbox  {mailbox}");
                println!("  store    {db_url}");
                measure(&s, n, &mailbox, &db_url, &dir).await
            }
        })
        .await?;
        println!();
    }
    in_fresh_mailbox(&s, "bench-big", keep, |mailbox, dir| {
        let s = Arc::clone(&s);
        async move { big_letter(&s, &mailbox, &dir).await }
    })
    .await?;
    if parts == Parts::All {
        println!();
        two_writers().await?;
    }
    Ok(())
}

/// Runs `part` with a new mailbox and a new folder for the store and the logs; removes them
/// afterwards unless `keep` (on failure the folder stays for a look).
async fn in_fresh_mailbox<F, Fut>(s: &Services, prefix: &str, keep: bool, part: F) -> Result<()>
where
    F: FnOnce(String, PathBuf) -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    let mailbox = format!("{prefix}-{}-{}", std::process::id(), chrono::Utc::now().format("%Y%m%d%H%M%S"));
    let dir = tempfile::Builder::new().prefix("chancery-bench-").tempdir()?;
    {
        let mut admin = session(s).await.context("log in to the dev Dovecot")?;
        admin.create(&mailbox).await.with_context(|| format!("create mailbox {mailbox}"))?;
        admin.logout().await.ok();
    }

    let result = part(mailbox.clone(), dir.path().to_path_buf()).await;

    if keep || result.is_err() {
        let kept = dir.keep();
        println!("kept: store and serve logs in {}", kept.display());
    }
    if keep {
        println!("kept: mailbox {mailbox}");
    } else if let Ok(mut admin) = session(s).await {
        admin.delete(&mailbox).await.ok();
        admin.logout().await.ok();
    }
    result
}

/// Step 6: the memory `serve` needs for one large letter, and what it keeps afterwards.
async fn big_letter(s: &Services, mailbox: &str, dir: &Path) -> Result<()> {
    let (cores, model, memory) = machine();
    let db_url = format!("sqlite://{}/big.db", dir.display());
    println!("[6] one large letter: mailbox {mailbox}, store {db_url}");
    chancery::store::Store::open(&db_url, chrono_tz::Asia::Baku, chancery::store::OpenMode::CreateIfMissing)
        .await
        .context("create the big-letter store")?
        .close()
        .await;
    let counter = open_counter(&db_url).await?;

    // The baseline: serve idle on the empty mailbox.
    let mut serve = spawn_serve(s, mailbox, &db_url, dir, "serve-big-0.log")?;
    serve.wait_for_log("IMAP session open", Duration::from_secs(60)).await?;
    tokio::time::sleep(SETTLE).await;
    serve.check_alive()?;
    let idle_rss = serve.rss().unwrap_or(0) as f64 / MB;
    serve.stop().await?;

    let raw = make_big_letter(BIG_LETTER_BYTES);
    let raw_sha256 = chancery::core::letter::fingerprint(&raw);
    let letter_bytes = raw.len();
    {
        let mut session = session(s).await?;
        session.append(mailbox, None, None, &raw).await.context("APPEND the large letter")?;
        session.logout().await.ok();
    }
    println!(
        "    letter of {} bytes ({:.1} MB) appended; serve idle on the empty mailbox: {idle_rss:.1} MB",
        raw.len(),
        raw.len() as f64 / MB
    );
    drop(raw);

    // The letter is in the mailbox when serve starts, as after a weekend.
    let started = Instant::now();
    let mut serve = spawn_serve(s, mailbox, &db_url, dir, "serve-big-1.log")?;
    while documents(&counter).await? < 1 {
        serve.check_alive()?;
        if started.elapsed() > Duration::from_secs(300) {
            bail!("the large letter was not registered within 300 s; end of the log:\n{}", serve.log_tail());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let register_secs = started.elapsed().as_secs_f64();
    // Registered; the listener marks it, indexes it and goes idle.
    serve.wait_for_log("catch-up done", Duration::from_secs(60)).await?;
    tokio::time::sleep(SETTLE).await;
    serve.check_alive()?;
    let peak = serve.peak_rss().unwrap_or(0) as f64 / MB;
    let settled = serve.rss().unwrap_or(0) as f64 / MB;
    serve.stop().await?;
    let stored: String = sqlx::query_scalar("SELECT sha256 FROM documents").fetch_one(&counter).await?;
    counter.close().await;
    if stored != raw_sha256 {
        bail!("the large letter was stored with sha256 {stored}, but its bytes have {raw_sha256}");
    }
    println!("    registered in {register_secs:.2} s (spawn → document), byte-exact (sha256 {})", &stored[..16]);

    println!();
    println!("============= Chancery large letter: memory of serve ===============");
    println!("machine        {cores} cores, {model}, {memory} RAM");
    println!("letter         {:.1} MB ({letter_bytes} bytes), PDF-like attachment in base64", letter_bytes as f64 / MB);
    println!("idle before    {idle_rss:>6.1} MB RSS (serve on the empty mailbox)");
    println!("peak           {peak:>6.1} MB VmHWM while registering");
    println!("after          {settled:>6.1} MB RSS, idle {} s after registering", SETTLE.as_secs());
    println!("goals:");
    println!("  [{}] peak < {BIG_PEAK_GOAL_MB:.0} MB          ({peak:.1} MB)", verdict(peak < BIG_PEAK_GOAL_MB));
    println!("  [{}] after < {BIG_SETTLED_GOAL_MB:.0} MB          ({settled:.1} MB)", verdict(settled < BIG_SETTLED_GOAL_MB));
    println!("====================================================================");
    Ok(())
}

async fn measure(s: &Arc<Services>, n: usize, mailbox: &str, db_url: &str, dir: &Path) -> Result<()> {
    let (cores, model, memory) = machine();
    let (s, mailbox, db_url) = (Arc::clone(s), mailbox.to_string(), db_url.to_string());

    // 1. Fill the mailbox (not measured).
    println!("[1] generating and appending {n} letters over {APPEND_SESSIONS} sessions ...");
    let started = Instant::now();
    let mut tasks = Vec::new();
    for worker in 0..APPEND_SESSIONS {
        let s = Arc::clone(&s);
        let mailbox = mailbox.clone();
        tasks.push(tokio::spawn(async move {
            let mut session = session(&s).await?;
            let (mut bytes, mut attachments) = (0u64, 0usize);
            for index in (worker..n).step_by(APPEND_SESSIONS) {
                let raw = make_letter(index);
                attachments += usize::from(raw.windows(16).any(|w| w == b"application/pdf;"));
                bytes += raw.len() as u64;
                session.append(&mailbox, None, None, &raw).await.with_context(|| format!("APPEND letter {index}"))?;
            }
            session.logout().await.ok();
            anyhow::Ok((bytes, attachments))
        }));
    }
    let (mut generated_bytes, mut with_attachment) = (0u64, 0usize);
    for task in tasks {
        let (b, a) = task.await??;
        generated_bytes += b;
        with_attachment += a;
    }
    println!(
        "    {n} letters, {:.1} MB ({:.1} KB mean), {with_attachment} with a PDF attachment ({:.0}%), appended in {:.1} s",
        generated_bytes as f64 / MB,
        generated_bytes as f64 / n as f64 / 1024.0,
        100.0 * with_attachment as f64 / n as f64,
        started.elapsed().as_secs_f64()
    );

    // 2. Baseline: one raw FETCH of every body.
    println!("[2] baseline: UID FETCH 1:* BODY.PEEK[] with async-imap ...");
    let (raw_count, raw_bytes, raw_secs) = {
        let mut session = session(&s).await?;
        session.select(&mailbox).await?;
        let started = Instant::now();
        let (mut count, mut bytes) = (0usize, 0u64);
        {
            let mut stream = session.uid_fetch("1:*", "BODY.PEEK[]").await.context("UID FETCH")?;
            while let Some(fetch) = stream.try_next().await.context("reading FETCH")? {
                if let Some(body) = fetch.body() {
                    count += 1;
                    bytes += body.len() as u64;
                }
            }
        }
        let secs = started.elapsed().as_secs_f64();
        session.logout().await.ok();
        (count, bytes, secs)
    };
    if raw_count != n {
        bail!("the raw FETCH returned {raw_count} bodies, expected {n}");
    }
    let raw_mps = raw_count as f64 / raw_secs;
    let raw_mbps = raw_bytes as f64 / MB / raw_secs;
    println!("    {raw_count} bodies, {:.1} MB in {raw_secs:.2} s: {raw_mps:.0} msg/s, {raw_mbps:.1} MB/s", raw_bytes as f64 / MB);

    // The schema first, so the counter can poll from the start; `serve` finds it migrated.
    chancery::store::Store::open(&db_url, chrono_tz::Asia::Baku, chancery::store::OpenMode::CreateIfMissing)
        .await
        .context("create the bench store")?
        .close()
        .await;
    let db_path = dir.join("bench.db");
    let empty_bytes = sqlite_bytes(&db_url, &db_path).await?;
    let counter = open_counter(&db_url).await?;

    // 3. chancery serve registers the mailbox.
    println!("[3] chancery serve: from spawn until the store holds {n} documents ...");
    let started = Instant::now();
    let mut serve = spawn_serve(&s, &mailbox, &db_url, dir, "serve-1.log")?;
    let mut last_report = Instant::now();
    loop {
        let count = documents(&counter).await?;
        if count as usize >= n {
            break;
        }
        serve.check_alive()?;
        if started.elapsed() > INTAKE_TIMEOUT {
            bail!("only {count} of {n} documents after {INTAKE_TIMEOUT:?}; end of the log:\n{}", serve.log_tail());
        }
        if last_report.elapsed() > Duration::from_secs(10) {
            println!("    ... {count} documents after {:.0} s", started.elapsed().as_secs_f64());
            last_report = Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let serve_secs = started.elapsed().as_secs_f64();
    let peak_rss = serve.peak_rss().unwrap_or(0);
    let log1 = serve.stop().await?;
    let serve_mps = n as f64 / serve_secs;
    let serve_mbps = raw_bytes as f64 / MB / serve_secs;
    let ratio = serve_secs.recip() / raw_secs.recip();
    println!("    {n} documents in {serve_secs:.2} s: {serve_mps:.0} msg/s, {serve_mbps:.1} MB/s");
    println!("    ratio chancery/raw {ratio:.3}; peak RSS (VmHWM) {:.1} MB", peak_rss as f64 / MB);
    if let Some(bytes) = log_numbers(&log1, "catch-up done", "body_bytes").first() {
        let elapsed = log_numbers(&log1, "catch-up done", "elapsed_ms").first().copied().unwrap_or(0);
        println!("    log: catch-up done, body_bytes={bytes} ({:.1} MB), elapsed_ms={elapsed}", *bytes as f64 / MB);
    }
    let warnings = log1.lines().filter(|l| l.contains(" WARN ") || l.contains(" ERROR ")).count();
    if warnings > 0 {
        println!("    log: {warnings} WARN/ERROR lines in {}", dir.join("serve-1.log").display());
    }

    // 7. Storage, before the later steps add letters: now, and with the decoded copies.
    println!("[7] storage: the store's growth per byte registered, now and with the decoded copies of before ...");
    // No connection of this process may be open while the file is copied: closing the copy's
    // descriptor would drop this process's SQLite locks on it (POSIX), and the next `serve`
    // would delete the log under a reader that no longer sees new commits.
    counter.close().await;
    let storage = sqlite_storage(&db_url, &db_path, dir, empty_bytes, raw_bytes).await?;
    let counter = open_counter(&db_url).await?;

    // 4. Restart on the same store: nothing to download.
    println!("[4] restart on the same store ...");
    let before = documents(&counter).await?;
    let mut serve = spawn_serve(&s, &mailbox, &db_url, dir, "serve-2.log")?;
    let opened = serve.wait_for_log("IMAP session open", Duration::from_secs(60)).await?;
    while opened.elapsed() < Duration::from_secs(3) && !serve.log_text().contains("catch-up done") {
        serve.check_alive()?;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let log2 = serve.stop().await?;
    let after = documents(&counter).await?;
    let restart_bytes = match log_numbers(&log2, "catch-up done", "body_bytes").first() {
        Some(bytes) => {
            let new = log_numbers(&log2, "catch-up done", "new").first().copied().unwrap_or(0);
            println!("    log: catch-up done with new={new}, body_bytes={bytes}");
            *bytes
        }
        None => {
            println!("    log: no 'catch-up done' line within 3 s of 'IMAP session open': nothing new, nothing to mark; 0 body bytes");
            0
        }
    };
    println!("    documents before {before}, after {after} ({} new)", after - before);

    // 5. Latency: one letter at a time into an idle listener.
    println!("[5] latency: {LATENCY_LETTERS} single APPENDs into an idle listener ...");
    let mut serve = spawn_serve(&s, &mailbox, &db_url, dir, "serve-3.log")?;
    serve.wait_for_log("IMAP session open", Duration::from_secs(60)).await?;
    tokio::time::sleep(Duration::from_secs(2)).await; // catch-up (nothing) and into IDLE
    serve.check_alive()?;
    let mut appender = session(&s).await?;
    let mut delays = Vec::with_capacity(LATENCY_LETTERS);
    let mut missed = 0usize;
    let base = documents(&counter).await?;
    for k in 0..LATENCY_LETTERS {
        // Idle means idle: the previous letter's catch-up has finished (its log line is out),
        // so this APPEND's EXISTS reaches the listener in IDLE, not during its UID STORE.
        let done_lines = serve.log_text().matches("catch-up done").count();
        let raw = make_letter(n + 1_000_000 + k);
        let started = Instant::now();
        appender.append(&mailbox, None, None, &raw).await.context("APPEND")?;
        let expected = base + k as i64 + 1;
        loop {
            if documents(&counter).await? >= expected {
                delays.push(started.elapsed().as_secs_f64() * 1000.0);
                break;
            }
            if started.elapsed() > LATENCY_TIMEOUT {
                println!("    letter {k}: not registered within {LATENCY_TIMEOUT:?}; counted as missed");
                missed += 1;
                break;
            }
            serve.check_alive()?;
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let settle = Instant::now();
        while serve.log_text().matches("catch-up done").count() <= done_lines && settle.elapsed() < Duration::from_secs(5) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    appender.logout().await.ok();
    let log3 = serve.stop().await?;
    let mut sorted = delays.clone();
    sorted.sort_by(f64::total_cmp);
    let (p50, p95) = (percentile(&sorted, 50.0), percentile(&sorted, 95.0));
    println!(
        "    APPEND→registered: p50 {p50:.1} ms, p95 {p95:.1} ms, min {:.1} ms, max {:.1} ms; {missed} missed",
        sorted.first().copied().unwrap_or(f64::NAN),
        sorted.last().copied().unwrap_or(f64::NAN)
    );
    let catch_up_ms = log_numbers(&log3, "catch-up done", "elapsed_ms");
    if !catch_up_ms.is_empty() {
        let mut ms: Vec<f64> = catch_up_ms.iter().map(|&m| m as f64).collect();
        ms.sort_by(f64::total_cmp);
        println!(
            "    of which the listener's own catch-up (log elapsed_ms): p50 {:.0} ms, p95 {:.0} ms",
            percentile(&ms, 50.0),
            percentile(&ms, 95.0)
        );
    }

    counter.close().await;

    // 6. Summary.
    let total_mb = raw_bytes as f64 / MB;
    let rss_mb = peak_rss as f64 / MB;
    println!();
    println!("================ Chancery intake benchmark: summary ================");
    println!("machine        {cores} cores, {model}, {memory} RAM");
    println!(
        "letters        {n} ({total_mb:.1} MB, {:.1} KB mean, {with_attachment} with attachment)",
        raw_bytes as f64 / n as f64 / 1024.0
    );
    println!("raw FETCH      {raw_secs:>8.2} s  {raw_mps:>8.0} msg/s  {raw_mbps:>8.1} MB/s");
    println!("chancery serve {serve_secs:>8.2} s  {serve_mps:>8.0} msg/s  {serve_mbps:>8.1} MB/s  (spawn → {n} documents)");
    println!("ratio          {ratio:.3} (chancery/raw)");
    println!("peak RSS       {rss_mb:.1} MB");
    println!("restart        {restart_bytes} body bytes fetched, {} documents added", after - before);
    println!("latency        p50 {p50:.1} ms, p95 {p95:.1} ms ({LATENCY_LETTERS} letters, {missed} missed)");
    println!(
        "storage        {:.3} bytes per byte received (attachments once), {:.3} before (decoded copies): {:.1}% less",
        storage.now,
        storage.before,
        100.0 * (1.0 - storage.now / storage.before)
    );
    println!("goals:");
    println!("  [{}] throughput ratio >= 0.5   ({ratio:.3})", verdict(ratio >= 0.5));
    println!("  [{}] peak RSS < 200 MB         ({rss_mb:.1} MB)", verdict(rss_mb < 200.0));
    println!(
        "  [{}] restart body bytes == 0   ({restart_bytes}, {} new documents)",
        verdict(restart_bytes == 0 && after == before),
        after - before
    );
    println!("====================================================================");
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// 7. Storage: bytes written per byte received

/// Bytes a store grew by per byte of mail registered: as stored now, and with each attachment's
/// decoded copy as well (as before migration 0015).
struct Storage {
    now: f64,
    before: f64,
}

/// The SQLite store's size on disk: the file and its write-ahead log, after a checkpoint that
/// empties the log.
async fn sqlite_bytes(url: &str, path: &Path) -> Result<u64> {
    let pool = open_counter(url).await?;
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)").execute(&pool).await?;
    pool.close().await;
    let size = |p: PathBuf| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    Ok(size(path.to_path_buf()) + size(PathBuf::from(wal)))
}

async fn sqlite_storage(url: &str, path: &Path, dir: &Path, empty: u64, received: u64) -> Result<Storage> {
    let now_bytes = sqlite_bytes(url, path).await?;
    // Where the bytes are, when SQLite was built with its dbstat table.
    let pool = open_counter(url).await?;
    let tables: Vec<(String, i64)> =
        sqlx::query_as("SELECT name, CAST(SUM(pgsize) AS BIGINT) AS bytes FROM dbstat GROUP BY name ORDER BY bytes DESC LIMIT 6")
            .fetch_all(&pool)
            .await
            .unwrap_or_default();
    pool.close().await;
    if !tables.is_empty() {
        let shares: Vec<String> = tables.iter().map(|(name, bytes)| format!("{name} {:.3}", *bytes as f64 / received as f64)).collect();
        println!("    SQLite now, bytes per byte received by table: {}", shares.join(", "));
    }
    // Before: a copy of the store, with the decoded bytes added the old way.
    let before_path = dir.join("bench-before.db");
    std::fs::copy(path, &before_path).context("copy the store")?;
    let before_url = format!("sqlite://{}", before_path.display());
    let pool = open_counter(&before_url).await?;
    sqlx::query("PRAGMA journal_mode = WAL").execute(&pool).await?;
    let decoded = add_decoded_copies(&pool, "INTEGER", "BLOB").await?;
    pool.close().await;
    let before_bytes = sqlite_bytes(&before_url, &before_path).await?;
    if !std::env::var("CHANCERY_BENCH_KEEP").is_ok_and(|v| !v.is_empty() && v != "0") {
        std::fs::remove_file(&before_path).ok();
    }
    let storage = Storage { now: (now_bytes - empty) as f64 / received as f64, before: (before_bytes - empty) as f64 / received as f64 };
    println!(
        "    SQLite: {:.1} MB received; store {:.1} MB -> {:.1} MB now ({:.3} bytes per byte), {:.1} MB with {:.1} MB of \
         decoded attachments ({:.3} bytes per byte)",
        received as f64 / MB,
        empty as f64 / MB,
        now_bytes as f64 / MB,
        storage.now,
        before_bytes as f64 / MB,
        decoded as f64 / MB,
        storage.before
    );
    Ok(storage)
}

/// Writes each attachment's decoded bytes beside the raw message again, as the register did
/// before migration 0015 (a BLOB per attachment, unique by document and position), decoding
/// them from the stored messages. Returns the decoded bytes written.
async fn add_decoded_copies(pool: &AnyPool, integer: &str, blob: &str) -> Result<u64> {
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "CREATE TABLE attachment_copies (document_id {integer} NOT NULL, position {integer} NOT NULL, \
         content {blob} NOT NULL, PRIMARY KEY (document_id, position))"
    )))
    .execute(pool)
    .await?;
    let ids: Vec<i64> = sqlx::query_scalar("SELECT DISTINCT document_id FROM attachments ORDER BY document_id").fetch_all(pool).await?;
    let mut written = 0u64;
    let mut tx = pool.begin().await?;
    for id in ids {
        let raw: Vec<u8> = sqlx::query_scalar("SELECT bytes FROM raw_messages WHERE document_id = $1").bind(id).fetch_one(&mut *tx).await?;
        for (position, attachment) in (1_i64..).zip(attachments_in(&raw)) {
            written += attachment.content.len() as u64;
            sqlx::query("INSERT INTO attachment_copies (document_id, position, content) VALUES ($1, $2, $3)")
                .bind(id)
                .bind(position)
                .bind(attachment.content)
                .execute(&mut *tx)
                .await?;
        }
    }
    tx.commit().await?;
    Ok(written)
}

// ---------------------------------------------------------------------------------------------
// 8. Two writers against one on PostgreSQL

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Writers {
    One,
    /// Two at once, as the register runs now: they wait for each other only for the numbering.
    Two,
    /// Two whose transactions never overlap: what the counter lock taken first made of them.
    TwoSerialised,
}

struct WriterRun {
    secs: f64,
    letters: usize,
    bytes: u64,
    /// The tables' size before the letters.
    empty_bytes: u64,
}

async fn two_writers() -> Result<()> {
    let Ok(base) = std::env::var("CHANCERY_BENCH_POSTGRES_URL") else {
        println!("[8] two writers on PostgreSQL: left out (CHANCERY_BENCH_POSTGRES_URL is not set)");
        return Ok(());
    };
    let letters: usize = match std::env::var("CHANCERY_BENCH_WRITER_LETTERS") {
        Ok(v) => v.parse().map_err(|_| anyhow!("CHANCERY_BENCH_WRITER_LETTERS is not a number: {v}"))?,
        Err(_) => DEFAULT_WRITER_LETTERS,
    };
    let (cores, model, memory) = machine();
    let root = base.rsplit_once('/').map(|(root, _)| root.to_string()).unwrap_or(base.clone());
    sqlx::any::install_default_drivers();
    let admin = AnyPool::connect(&base).await.with_context(|| format!("connect to {base}"))?;
    println!(
        "[8] two writers against one on PostgreSQL ({root}): {letters} letters, batches of about {} MB",
        WRITER_BATCH_BYTES / 1024 / 1024
    );
    let mut runs = Vec::new();
    let mut storage = None;
    for writers in [Writers::One, Writers::Two, Writers::TwoSerialised] {
        let name = format!("chancery_bench_intake_{}", format!("{writers:?}").to_lowercase());
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name}"))).execute(&admin).await?;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&admin).await?;
        let url = format!("{root}/{name}");
        let result = writer_run(&url, writers, letters).await;
        let result = match result {
            Ok((run, pool)) if writers == Writers::One => {
                storage = Some(postgres_storage(&pool, run.empty_bytes, run.bytes).await);
                pool.close().await;
                Ok(run)
            }
            Ok((run, pool)) => {
                pool.close().await;
                Ok(run)
            }
            Err(error) => Err(error),
        };
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))).execute(&admin).await?;
        let run = result?;
        println!(
            "    {writers:?}: {} letters, {:.1} MB in {:.2} s: {:.0} letters/s, {:.1} MB/s",
            run.letters,
            run.bytes as f64 / MB,
            run.secs,
            run.letters as f64 / run.secs,
            run.bytes as f64 / MB / run.secs
        );
        runs.push(run);
    }
    admin.close().await;
    let rate = |run: &WriterRun| run.letters as f64 / run.secs;
    let (one, two, serialised) = (rate(&runs[0]), rate(&runs[1]), rate(&runs[2]));
    println!();
    println!("============ Chancery intake: two writers on PostgreSQL =============");
    println!("machine        {cores} cores, {model}, {memory} RAM");
    println!(
        "letters        {letters} per run ({:.1} MB), batches of about {} MB",
        runs[0].bytes as f64 / MB,
        WRITER_BATCH_BYTES / 1024 / 1024
    );
    println!("one writer     {one:>8.0} letters/s  {:>8.1} MB/s", runs[0].bytes as f64 / MB / runs[0].secs);
    println!("two writers    {two:>8.0} letters/s  {:>8.1} MB/s  (counter locked last)", runs[1].bytes as f64 / MB / runs[1].secs);
    println!(
        "two, serialised{serialised:>8.0} letters/s  {:>8.1} MB/s  (whole transactions in turn: the counter locked first)",
        runs[2].bytes as f64 / MB / runs[2].secs
    );
    println!("ratio          two/one {:.2}, serialised/one {:.2}, two/serialised {:.2}", two / one, serialised / one, two / serialised);
    if let Some(Ok(storage)) = &storage {
        println!(
            "storage        {:.3} bytes per byte received (attachments once), {:.3} before (decoded copies): {:.1}% less",
            storage.now,
            storage.before,
            100.0 * (1.0 - storage.now / storage.before)
        );
    } else if let Some(Err(error)) = &storage {
        println!("storage        not measured: {error:#}");
    }
    println!("====================================================================");
    Ok(())
}

/// Registers `letters` letters into the fresh database at `url` with `writers`; checks that every
/// letter got a number and the numbers are gapless. Returns the run and a pool on the database.
async fn writer_run(url: &str, writers: Writers, letters: usize) -> Result<(WriterRun, AnyPool)> {
    let count = if writers == Writers::One { 1 } else { 2 };
    let mut stores = Vec::new();
    for _ in 0..count {
        stores.push(Store::open(url, chrono_tz::Asia::Baku, OpenMode::CreateIfMissing).await.context("open the bench database")?);
    }
    let pool = AnyPool::connect(url).await?;
    let empty = postgres_bytes(&pool).await?;
    // The letters, read as the listener reads them, before the clock starts; writer w takes
    // every count-th letter from w.
    let mut batches: Vec<Vec<Vec<Arrival>>> = (0..count).map(|_| Vec::new()).collect();
    let mut bytes = 0u64;
    for (writer, writer_batches) in batches.iter_mut().enumerate() {
        let mailbox = format!("writer-{writer}");
        let mut batch = Vec::new();
        let mut batch_bytes = 0;
        for index in (writer..letters).step_by(count) {
            let raw = make_letter(index);
            bytes += raw.len() as u64;
            batch_bytes += raw.len();
            let letter = read_letter(&raw);
            let uid = u32::try_from(index + 1)?;
            let source = Source::Imap { mailbox: mailbox.clone(), uid_validity: 1, uid };
            batch.push(Arrival { raw, letter, source, received_at: chrono::Utc::now() });
            if batch_bytes >= WRITER_BATCH_BYTES {
                writer_batches.push(std::mem::take(&mut batch));
                batch_bytes = 0;
            }
        }
        if !batch.is_empty() {
            writer_batches.push(batch);
        }
    }
    let policy = Arc::new(RegisterConfig::default().policy());
    let turn = Arc::new(tokio::sync::Mutex::new(()));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (store, batches) in stores.into_iter().zip(batches) {
        let (policy, turn) = (Arc::clone(&policy), Arc::clone(&turn));
        tasks.push(tokio::spawn(async move {
            let reminders = chancery::core::remind::Policy::new(chrono_tz::Asia::Baku);
            for batch in batches {
                let _turn = if writers == Writers::TwoSerialised { Some(turn.lock().await) } else { None };
                store.register_incoming(batch, &policy, &reminders, chrono::Utc::now()).await?;
            }
            store.close().await;
            anyhow::Ok(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    let secs = started.elapsed().as_secs_f64();
    let (documents, first, last): (i64, i64, i64) =
        sqlx::query_as("SELECT COUNT(*), COALESCE(MIN(sequence), 0), COALESCE(MAX(sequence), 0) FROM documents").fetch_one(&pool).await?;
    if documents != letters as i64 || first != 1 || last != letters as i64 {
        bail!("{writers:?}: {documents} documents numbered {first} to {last}; expected {letters}, gapless from 1");
    }
    Ok((WriterRun { secs, letters, bytes, empty_bytes: empty }, pool))
}

/// The total size of the database's tables, their indexes and TOAST included.
async fn postgres_bytes(pool: &AnyPool) -> Result<u64> {
    let bytes: i64 = sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(pg_total_relation_size(c.oid)), 0) AS BIGINT) FROM pg_class c \
         JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r'",
    )
    .fetch_one(pool)
    .await?;
    Ok(u64::try_from(bytes)?)
}

async fn postgres_storage(pool: &AnyPool, empty: u64, received: u64) -> Result<Storage> {
    let now_bytes = postgres_bytes(pool).await?;
    let decoded = add_decoded_copies(pool, "BIGINT", "BYTEA").await?;
    let before_bytes = postgres_bytes(pool).await?;
    let storage = Storage { now: (now_bytes - empty) as f64 / received as f64, before: (before_bytes - empty) as f64 / received as f64 };
    println!(
        "    PostgreSQL (one writer's database): {:.1} MB received; tables {:.1} MB -> {:.1} MB now ({:.3} bytes per byte), \
         {:.1} MB with {:.1} MB of decoded attachments ({:.3} bytes per byte)",
        received as f64 / MB,
        empty as f64 / MB,
        now_bytes as f64 / MB,
        storage.now,
        before_bytes as f64 / MB,
        decoded as f64 / MB,
        storage.before
    );
    Ok(storage)
}
