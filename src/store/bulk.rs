//! A register of synthetic letters for benchmarks, at a scale no fixture reaches: a million
//! documents in minutes, where registering them through `register_incoming` would take hours.
//!
//! Each letter is generated from its sequence number alone (the same number always gives the
//! same letter): a subject from a small vocabulary in three languages plus a reference word of
//! its own, a sender on one of a few hundred domains, a unit, a due date, some confidential, a
//! quarter with a small PDF, some answering an earlier letter. Its raw message is a small but
//! valid one, whose fingerprint is the one the register keeps. The rows are written with
//! multi-row INSERTs in large transactions; the history a registration writes is derived in SQL
//! from the rows just written, and the full-text index is filled in the same transaction, so a
//! search finds the letters at once and nothing is left in the search queue.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use sqlx::{Any, AssertSqlSafe, Row, Transaction};

use super::rows::{Cell, insert_rows};
use super::search::{IndexEntry, index_words, query_words, write_index};
use super::{Backend, Result, Store, StoreError, json, lock_counter};
use crate::core::letter::{Correspondent, fingerprint};
use crate::core::number::{Direction, RegistrationNumber};
use crate::core::partner::filing_domains;
use crate::core::rules::Routing;
use crate::core::time::{day_bounds, stamp, year_in};

/// Letters per transaction: large enough that SQLite and FTS5 write few segments, small enough
/// that a batch's text and bytes (about 30 MB) stay modest.
const BATCH: u64 = 10_000;

/// The SQLite page cache while a batch is written (KiB): its new pages stay in memory until
/// the commit instead of spilling into the log halfway through.
const BULK_CACHE_KIB: i64 = 256 * 1024;
/// The cache every connection of the pool has otherwise (see `Store::open`).
const NORMAL_CACHE_KIB: i64 = 4 * 1024;

const DOCUMENT_COLUMNS: &[&str] = &[
    "number",
    "direction",
    "year",
    "sequence",
    "subject",
    "from_json",
    "to_json",
    "cc_json",
    "from_address",
    "message_id",
    "replies_to_json",
    "sent_at",
    "received_at",
    "registered_at",
    "sha256",
    "size",
    "body_text",
    "source",
    "flags_json",
    "status",
    "unit",
    "classification",
    "confidentiality",
    "routing_json",
    "tags_json",
    "due_on",
    "assignee",
    "acknowledged_at",
    "acknowledged_by",
];

impl Store {
    /// Appends `count` synthetic incoming letters, numbered after the year's last (the first
    /// in an empty register is IN-YEAR-000001), registered evenly from the start of `now`'s
    /// year until `now`, routed to `units` (the first is the default). For benchmarks: one
    /// process fills the register while nothing else registers. `progress` is told how many
    /// are in after each transaction. Returns how many were added.
    #[doc(hidden)]
    pub async fn fill_synthetic(&self, count: u64, units: &[String], now: DateTime<Utc>, progress: impl FnMut(u64)) -> Result<u64> {
        let year = year_in(now, self.zone);
        let (year_start, _) = day_bounds(NaiveDate::from_ymd_opt(year, 1, 1).unwrap_or_default(), self.zone);
        self.fill_synthetic_between(count, units, year_start, now, progress).await
    }

    /// As `fill_synthetic`, registered evenly from `from` until `now`, which must be in the
    /// same year (a register's numbers are the year's): an archive of several years is filled
    /// one year at a time, the oldest first.
    #[doc(hidden)]
    pub async fn fill_synthetic_between(
        &self,
        count: u64,
        units: &[String],
        from: DateTime<Utc>,
        now: DateTime<Utc>,
        mut progress: impl FnMut(u64),
    ) -> Result<u64> {
        let year = year_in(now, self.zone);
        if year_in(from, self.zone) != year || from > now {
            return Err(super::StoreError::Refused(format!("a synthetic fill spans one year: {from} .. {now}")));
        }
        // Whatever was registered before is indexed first, so the index can then keep pace here.
        self.index_queued().await?;
        let mut plan = Plan { units: default_units(units), year, start: from, now, count, first: 0, last: 0 };
        let mut parents: Vec<Parent> = Vec::new();
        let mut added = 0;
        while added < count {
            let size = BATCH.min(count - added);
            parents = self.fill_batch(&mut plan, size, &parents).await?;
            added += size;
            self.checkpoint_soon();
            progress(added);
        }
        Ok(added)
    }

    /// How many documents the full-text index finds for all the words of `text` (each as a
    /// word prefix, as `search` matches them), however many there are.
    #[doc(hidden)]
    pub async fn search_hits(&self, text: &str) -> Result<i64> {
        let words = query_words(text);
        if words.is_empty() {
            return Ok(0);
        }
        let row = match self.backend {
            Backend::Sqlite => {
                let query = words.iter().map(|w| format!("\"{w}\" *")).collect::<Vec<_>>().join(" AND ");
                sqlx::query("SELECT COUNT(*) FROM documents_fts WHERE documents_fts MATCH $1").bind(query).fetch_one(&self.pool).await?
            }
            Backend::Postgres => {
                let query = words.iter().map(|w| format!("{w}:*")).collect::<Vec<_>>().join(" & ");
                sqlx::query("SELECT COUNT(*) FROM document_search WHERE vector @@ to_tsquery('simple', $1)")
                    .bind(query)
                    .fetch_one(&self.pool)
                    .await?
            }
        };
        Ok(row.try_get(0)?)
    }

    /// One transaction of letters; returns what the next batch's replies may answer.
    async fn fill_batch(&self, plan: &mut Plan, size: u64, parents: &[Parent]) -> Result<Vec<Parent>> {
        let mut tx = self.begin_write().await?;
        if self.backend == Backend::Sqlite {
            sqlx::query(AssertSqlSafe(format!("PRAGMA cache_size = -{BULK_CACHE_KIB}"))).execute(&mut *tx).await?;
        }
        let last = lock_counter(&mut tx, Direction::Incoming, plan.year).await?;
        let signed = |n: u64| i64::try_from(n).map_err(|_| StoreError::Refused(format!("{n} letters are more than a register can number")));
        let size = signed(size)?;
        if plan.first == 0 {
            // The whole fill spreads over the year, in order of numbers, up to `now`.
            (plan.first, plan.last) = (last + 1, last + signed(plan.count)?);
        }
        let letters: Vec<Synthetic> = (last + 1..=last + size).map(|sequence| plan.letter(sequence, parents)).collect();

        let rows = letters.iter().map(|l| l.document_row(plan.year)).collect();
        insert_rows(&mut tx, "documents", DOCUMENT_COLUMNS, rows).await?;
        let ids: Vec<i64> =
            sqlx::query("SELECT id FROM documents WHERE direction = 'incoming' AND year = $1 AND sequence > $2 ORDER BY sequence")
                .bind(i64::from(plan.year))
                .bind(last)
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(|row| row.try_get(0))
                .collect::<std::result::Result<_, _>>()?;
        let (Some(&first_id), Some(&last_id)) = (ids.first(), ids.last()) else {
            tx.rollback().await?;
            return Ok(Vec::new());
        };

        for (letter, id) in letters.iter().zip(&ids) {
            if let Some(root) = letter.thread_root {
                sqlx::query("UPDATE documents SET thread_id = $1 WHERE id = $2").bind(root).bind(*id).execute(&mut *tx).await?;
            }
        }
        let attachments = letters
            .iter()
            .zip(&ids)
            .filter_map(|(l, id)| l.attachment.as_ref().map(|a| (a, *id)))
            .map(|(a, id)| {
                vec![
                    Cell::Int(id),
                    Cell::Int(1),
                    Cell::Text(&a.name),
                    Cell::Text("application/pdf"),
                    Cell::Int(super::rows::count(a.content.len())),
                    Cell::Owned(fingerprint(&a.content)),
                ]
            })
            .collect();
        // The attachment itself is stored once, inside the raw message (migration 0015).
        insert_rows(&mut tx, "attachments", &["document_id", "position", "name", "media_type", "size", "sha256"], attachments).await?;
        let raw = letters.iter().zip(&ids).map(|(l, id)| vec![Cell::Int(*id), Cell::Blob(l.raw.clone())]).collect();
        insert_rows(&mut tx, "raw_messages", &["document_id", "bytes"], raw).await?;
        let domains = letters
            .iter()
            .zip(&ids)
            .flat_map(|(l, id)| {
                filing_domains(Direction::Incoming, std::slice::from_ref(&l.from), &[])
                    .into_iter()
                    .map(|d| vec![Cell::Owned(d), Cell::Int(*id)])
            })
            .collect();
        insert_rows(&mut tx, "document_domains", super::register::DOMAIN_COLUMNS, domains).await?;
        write_history(&mut tx, first_id, last_id).await?;
        self.index_batch(&mut tx, &letters, &ids).await?;

        if self.backend == Backend::Sqlite {
            sqlx::query(AssertSqlSafe(format!("PRAGMA cache_size = -{NORMAL_CACHE_KIB}"))).execute(&mut *tx).await?;
        }
        sqlx::query("UPDATE register_counters SET last = $1 WHERE register = 'IN' AND year = $2")
            .bind(last + size)
            .bind(i64::from(plan.year))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(letters
            .into_iter()
            .zip(ids)
            .map(|(l, id)| Parent { root: l.thread_root.unwrap_or(id), subject: l.subject, message_id: l.message_id })
            .collect())
    }

    /// Indexes the batch's letters in its own transaction and takes them off the search queue
    /// (where migration 0016's trigger put them), as `index_pending` would later.
    async fn index_batch(&self, tx: &mut Transaction<'static, Any>, letters: &[Synthetic], ids: &[i64]) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let entries: Vec<IndexEntry> = letters
            .iter()
            .zip(ids)
            .map(|(l, id)| {
                let names = l.attachment.as_ref().map(|a| a.name.as_str()).unwrap_or_default();
                IndexEntry { id: *id, subject: index_words(&l.subject), body: index_words(&l.body), names: index_words(names) }
            })
            .collect();
        write_index(tx, self.backend, &entries).await?;
        // Ids read from the database, written as numbers.
        let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        sqlx::query(AssertSqlSafe(format!("DELETE FROM search_pending WHERE document_id IN ({list})"))).execute(&mut **tx).await?;
        Ok(())
    }
}

/// The history a registration writes (registered, routed), and what staff did since: the unit
/// acknowledged it, and its status changed; derived from the documents `first..=last`.
async fn write_history(tx: &mut Transaction<'static, Any>, first: i64, last: i64) -> Result<()> {
    const DERIVED: [(&str, &str); 4] = [
        ("registered_at, 'chancery', 'registered', NULL, NULL, number, NULL", ""),
        ("registered_at, 'chancery', 'routed', 'unit', NULL, unit, 'rule \"synthetic\": the subject names the unit''s business'", ""),
        ("acknowledged_at, acknowledged_by, 'acknowledged', NULL, NULL, NULL, NULL", "AND acknowledged_at IS NOT NULL"),
        (
            "acknowledged_at, COALESCE(assignee, acknowledged_by), 'changed', 'status', 'registered', status, NULL",
            "AND acknowledged_at IS NOT NULL AND status <> 'registered'",
        ),
    ];
    for (values, condition) in DERIVED {
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO history (document_id, at, actor, action, field, old_value, new_value, reason) \
             SELECT id, {values} FROM documents WHERE id >= $1 AND id <= $2 {condition} ORDER BY id"
        )))
        .bind(first)
        .bind(last)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// What a reply in the next batch needs of the letter it answers.
struct Parent {
    root: i64,
    subject: String,
    message_id: String,
}

/// The settings of one fill: which sequences it spans (for registration times) and where.
struct Plan {
    units: Vec<String>,
    year: i32,
    /// When the fill's first letter is registered.
    start: DateTime<Utc>,
    now: DateTime<Utc>,
    /// Letters in the whole fill, numbered `first..=last`.
    count: u64,
    first: i64,
    last: i64,
}

fn default_units(units: &[String]) -> Vec<String> {
    if units.is_empty() { vec!["registry".to_string()] } else { units.to_vec() }
}

/// One generated letter and what the register keeps of it.
struct Synthetic {
    number: String,
    sequence: i64,
    subject: String,
    from: Correspondent,
    message_id: String,
    replies_to: Vec<String>,
    thread_root: Option<i64>,
    sent_at: DateTime<Utc>,
    registered_at: DateTime<Utc>,
    body: String,
    attachment: Option<SyntheticAttachment>,
    raw: Vec<u8>,
    unit: String,
    classification: &'static str,
    tags: Vec<String>,
    confidentiality: &'static str,
    due_on: Option<String>,
    status: &'static str,
    assignee: Option<String>,
    acknowledged: Option<(DateTime<Utc>, String)>,
}

struct SyntheticAttachment {
    name: String,
    content: Vec<u8>,
}

// A seeded generator of synthetic letters: its draws are cut to size on purpose, and
// benchmark sequence numbers stay far below i64::MAX.
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_possible_wrap)]
impl Plan {
    fn letter(&self, sequence: i64, parents: &[Parent]) -> Synthetic {
        let mut rng = Rng::new(sequence as u64);
        let number = RegistrationNumber { direction: Direction::Incoming, year: self.year, sequence }.to_string();
        let span = (self.now - self.start).num_seconds().max(1);
        let share = (sequence - self.first + 1) as f64 / (self.last - self.first + 1).max(1) as f64;
        let registered_at = self.start + Duration::seconds((span as f64 * share.clamp(0.0, 1.0)) as i64);
        let sent_at = registered_at - Duration::seconds(60 + rng.below(86_400) as i64);
        let age_days = (self.now - registered_at).num_days();

        let topic = &TOPICS[weighted(&mut rng, TOPICS.iter().map(|t| t.weight))];
        let field = rng.pick(FIELDS);
        let partner = rng.pick(PARTNERS);
        let reference = reference_word(sequence as u64);
        let parent = (!parents.is_empty() && rng.below(100) < 15).then(|| &parents[rng.below(parents.len())]);
        let subject = match parent {
            Some(p) => format!("Re: {}", p.subject.trim_start_matches("Re: ")),
            None => format!("{} ({reference})", topic.subject.replace("{field}", field).replace("{partner}", partner)),
        };

        let (first, first_ascii) = FIRST_NAMES[rng.below(FIRST_NAMES.len())];
        let (last, last_ascii) = LAST_NAMES[rng.below(LAST_NAMES.len())];
        let domain = domain(&mut rng);
        let from = Correspondent { name: Some(format!("{first} {last}")), address: format!("{first_ascii}.{last_ascii}@{domain}") };
        let message_id = format!("syn-{sequence}.{:08x}@{domain}", rng.next() as u32);

        let mut body = format!("Our reference: {reference}.\r\n\r\n");
        for _ in 0..2 + rng.below(3) {
            body.push_str(rng.pick(SENTENCES).replace("{field}", field).as_str());
            body.push_str("\r\n");
        }
        body.push_str(&format!("{first} {last}\r\n{partner}\r\n"));
        let attachment = (rng.below(100) < 25).then(|| {
            let name =
                format!("{}-{reference}.pdf", rng.pick(&["invitation", "agreement", "muqavile", "protokol", "invoice", "transcript"]));
            let content = format!(
                "%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n% {number} {reference}\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
            )
            .into_bytes();
            SyntheticAttachment { name, content }
        });

        let unit = if self.units.iter().any(|u| u == topic.unit) { topic.unit.to_string() } else { self.units[0].clone() };
        let confidentiality = match (topic.confidential, rng.below(1000)) {
            (_, 0..3) => "secret",
            (true, _) | (false, 3..30) => "confidential",
            (false, 30..130) => "public",
            _ => "internal",
        };
        let due_on = (rng.below(100) < 60).then(|| (registered_at.date_naive() + Duration::days(5 + rng.below(26) as i64)).to_string());
        // Older letters have mostly been dealt with; this month's mostly not yet.
        let status = match (age_days, rng.below(100)) {
            (_, 0) => "annulled",
            (0..14, 1..70) | (14..60, 1..25) | (60.., 1..8) => "registered",
            (0..14, _) | (14..60, 25..55) | (60.., 8..20) => "in-progress",
            (_, 0..85) => "answered",
            _ => "closed",
        };
        let staff =
            |rng: &mut Rng| format!("@{}.{}:uni.example", rng.pick(&["aysel", "orkhan", "gunel", "tural", "leyla", "rashad"]), unit);
        let acknowledged = (status != "registered" || rng.below(100) < 30)
            .then(|| (registered_at + Duration::minutes(5 + rng.below(2 * 24 * 60) as i64), staff(&mut rng)));
        let assignee = (status != "registered" && status != "annulled").then(|| staff(&mut rng));

        let mut letter = Synthetic {
            number,
            sequence,
            subject,
            from,
            replies_to: parent.map(|p| vec![p.message_id.clone()]).unwrap_or_default(),
            thread_root: parent.map(|p| p.root),
            message_id,
            sent_at,
            registered_at,
            body,
            attachment,
            raw: Vec::new(),
            unit,
            classification: topic.classification,
            tags: topic.tags.iter().map(|t| t.to_string()).collect(),
            confidentiality,
            due_on,
            status,
            assignee,
            acknowledged,
        };
        letter.raw = letter.message();
        letter
    }
}

impl Synthetic {
    /// The letter as it arrived: UTF-8 headers (RFC 6532), a plain-text body, and its PDF as a
    /// second part when it has one.
    fn message(&self) -> Vec<u8> {
        let mut head = format!(
            "From: {} <{}>\r\nTo: University Registry <registry@uni.example>\r\nSubject: {}\r\nDate: {}\r\nMessage-ID: <{}>\r\n",
            self.from.name.as_deref().unwrap_or_default(),
            self.from.address,
            self.subject,
            self.sent_at.to_rfc2822(),
            self.message_id
        );
        if let Some(parent) = self.replies_to.first() {
            head.push_str(&format!("In-Reply-To: <{parent}>\r\n"));
        }
        head.push_str("MIME-Version: 1.0\r\n");
        let text_part = format!("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{}", self.body);
        match &self.attachment {
            None => format!("{head}{text_part}").into_bytes(),
            Some(a) => {
                let boundary = format!("=_syn_{}", self.sequence);
                format!(
                    "{head}Content-Type: multipart/mixed; boundary=\"{boundary}\"\r\n\r\n--{boundary}\r\n{text_part}\r\n\
                     --{boundary}\r\nContent-Type: application/pdf; name=\"{name}\"\r\nContent-Transfer-Encoding: base64\r\n\
                     Content-Disposition: attachment; filename=\"{name}\"\r\n\r\n{data}\r\n--{boundary}--\r\n",
                    name = a.name,
                    data = base64(&a.content)
                )
                .into_bytes()
            }
        }
    }

    fn document_row(&self, year: i32) -> Vec<Cell<'_>> {
        let routing = Routing {
            rule: Some("synthetic".into()),
            unit: self.unit.clone(),
            classification: Some(self.classification.into()),
            confidentiality: None,
            tags: self.tags.clone(),
            due_in_working_days: self.due_on.as_ref().map(|_| 10),
            acknowledge: None,
            forward: false,
            notify_room: false,
            reasons: Vec::new(),
        };
        let text_or_null = |value: Option<String>| value.map_or(Cell::Null, Cell::Owned);
        vec![
            Cell::Text(&self.number),
            Cell::Text(Direction::Incoming.as_str()),
            Cell::Int(i64::from(year)),
            Cell::Int(self.sequence),
            Cell::Text(&self.subject),
            Cell::Owned(json(&[&self.from])),
            Cell::Text(r#"[{"name":"University Registry","address":"registry@uni.example"}]"#),
            Cell::Text("[]"),
            Cell::Owned(self.from.address.to_lowercase()),
            Cell::Text(&self.message_id),
            Cell::Owned(json(&self.replies_to)),
            Cell::Owned(stamp(self.sent_at)),
            Cell::Owned(stamp(self.registered_at - Duration::seconds(2))),
            Cell::Owned(stamp(self.registered_at)),
            Cell::Owned(fingerprint(&self.raw)),
            Cell::Int(super::rows::count(self.raw.len())),
            Cell::Text(&self.body),
            Cell::Owned(format!("file:synthetic/{}.eml", self.number)),
            Cell::Text("[]"),
            Cell::Text(self.status),
            Cell::Text(&self.unit),
            Cell::Text(self.classification),
            Cell::Text(self.confidentiality),
            Cell::Owned(json(&routing)),
            Cell::Owned(json(&self.tags)),
            text_or_null(self.due_on.clone()),
            text_or_null(self.assignee.clone()),
            text_or_null(self.acknowledged.as_ref().map(|(at, _)| stamp(*at))),
            text_or_null(self.acknowledged.as_ref().map(|(_, by)| by.clone())),
        ]
    }
}

/// A word of this letter's own (its reference), pronounceable and of fixed length, so that no
/// two letters share one and none is the beginning of another: five syllables, `bakedofumi`.
#[allow(clippy::cast_possible_truncation)] // a syllable's index is below 70
fn reference_word(sequence: u64) -> String {
    const CONSONANTS: &[u8] = b"bdfgklmnprstvz";
    const VOWELS: &[u8] = b"aeiou";
    let syllables = (CONSONANTS.len() * VOWELS.len()) as u64;
    let mut rest = sequence;
    let mut word = String::with_capacity(10);
    for _ in 0..5 {
        let s = (rest % syllables) as usize;
        rest /= syllables;
        word.push(CONSONANTS[s / VOWELS.len()] as char);
        word.push(VOWELS[s % VOWELS.len()] as char);
    }
    word
}

/// A sender's domain: an institution's name under a country's or a sector's suffix, a few
/// hundred in all, the first ones much more frequent (a register hears from some partners daily).
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // a draw in [0, n) of a short list
fn domain(rng: &mut Rng) -> String {
    let skewed = |rng: &mut Rng, n: usize| ((rng.unit() * rng.unit()) * n as f64) as usize;
    let stem = INSTITUTIONS[skewed(rng, INSTITUTIONS.len())];
    let suffix = SUFFIXES[skewed(rng, SUFFIXES.len())];
    format!("{stem}{suffix}")
}

#[allow(clippy::cast_possible_truncation)] // a draw below a u32 total
fn weighted(rng: &mut Rng, weights: impl Iterator<Item = u32> + Clone) -> usize {
    let total: u32 = weights.clone().sum();
    let mut draw = rng.below(total as usize) as u32;
    for (index, weight) in weights.enumerate() {
        if draw < weight {
            return index;
        }
        draw -= weight;
    }
    0
}

fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4 + data.len() / 57 * 2);
    for (i, chunk) in data.chunks(3).enumerate() {
        if i > 0 && i % 19 == 0 {
            out.push_str("\r\n"); // 76 characters a line
        }
        let b = [chunk[0], chunk.get(1).copied().unwrap_or(0), chunk.get(2).copied().unwrap_or(0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        out.push(ALPHABET[(n >> 18) as usize & 63] as char);
        out.push(ALPHABET[(n >> 12) as usize & 63] as char);
        out.push(if chunk.len() > 1 { ALPHABET[(n >> 6) as usize & 63] as char } else { '=' });
        out.push(if chunk.len() > 2 { ALPHABET[n as usize & 63] as char } else { '=' });
    }
    out
}

/// SplitMix64: a letter's draws depend on its sequence number only.
struct Rng(u64);

// A seeded generator of synthetic letters: its draws are cut to size on purpose, and
// benchmark sequence numbers stay far below i64::MAX.
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_possible_wrap)]
impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x2545_F491_4F6C_DD1D)
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

struct Topic {
    subject: &'static str,
    unit: &'static str,
    classification: &'static str,
    tags: &'static [&'static str],
    confidential: bool,
    weight: u32,
}

const fn topic(
    subject: &'static str,
    unit: &'static str,
    classification: &'static str,
    tags: &'static [&'static str],
    weight: u32,
) -> Topic {
    Topic { subject, unit, classification, tags, confidential: false, weight }
}

const fn confidential(subject: &'static str, unit: &'static str, classification: &'static str, weight: u32) -> Topic {
    Topic { subject, unit, classification, tags: &[], confidential: true, weight }
}

/// What letters are about, with how often (relative weights): a few subjects make most of the
/// mail, as in any register.
const TOPICS: &[Topic] = &[
    topic("Invitation to the international conference on {field}", "international", "03-01", &["conference"], 14),
    topic("Invoice for laboratory equipment", "finance", "05-02", &["invoice"], 12),
    topic("Erasmus+ mobility: nomination of students in {field}", "international", "03-02", &["erasmus"], 10),
    topic("Request for transcript verification", "students", "07-01", &["transcript"], 9),
    topic("Tələbə mübadiləsi proqramı üzrə müraciət", "students", "07-02", &[], 8),
    topic("Memorandum of understanding with {partner}", "international", "03-03", &["agreement"], 6),
    topic("Əməkdaşlıq memorandumu layihəsi: {field}", "international", "03-03", &["agreement"], 6),
    topic("Ödəniş qəbzi və müqavilə surəti", "finance", "05-02", &[], 5),
    topic("Запрос о сотрудничестве: {partner}", "international", "03-03", &[], 5),
    topic("Приглашение на научную конференцию", "international", "03-01", &["conference"], 4),
    topic("Visa support letter for a visiting researcher", "international", "03-04", &["visa"], 4),
    topic("Nazirliyin əmri: tədris ilinin təqvimi", "rectorate", "01-01", &[], 4),
    topic("Dissertasiya müdafiəsi haqqında məlumat", "students", "07-03", &[], 3),
    topic("Grant report for the project on {field}", "finance", "05-04", &["grant"], 3),
    topic("Счёт на оплату услуг связи", "finance", "05-02", &["invoice"], 3),
    confidential("Job application: lecturer in {field}", "hr", "02-01", 3),
    topic("Accreditation visit schedule", "rectorate", "01-03", &[], 2),
    confidential("Personal file update", "hr", "02-02", 2),
    confidential("Medical certificate of an employee", "hr", "02-03", 1),
];

const FIELDS: &[&str] = &[
    "renewable energy",
    "petroleum engineering",
    "computer science",
    "linguistics",
    "international law",
    "economics",
    "chemistry",
    "public health",
    "architecture",
    "mathematics",
    "history",
    "agriculture",
    "geology",
    "philology",
    "tourism",
    "ecology",
];

const PARTNERS: &[&str] = &[
    "Heidelberg University",
    "Middle East Technical University",
    "Tbilisi State University",
    "Lomonosov Moscow State University",
    "University of Oxford",
    "Istanbul Technical University",
    "Kazan Federal University",
    "University of Bologna",
    "Jagiellonian University",
    "Sorbonne University",
];

const SENTENCES: &[&str] = &[
    "Dear colleagues, please find attached the documents on {field} for your consideration.",
    "We would be grateful if you could confirm receipt of this letter at your earliest convenience.",
    "The committee will review all applications in {field} and notify the candidates by the end of the term.",
    "Should you require any further information, do not hesitate to contact our office.",
    "Hörmətli həmkarlar, sizə {field} üzrə əməkdaşlıq təklifimizi təqdim edirik.",
    "Xahiş edirik, əlavə olunmuş sənədləri nəzərdən keçirib rəyinizi bildirəsiniz.",
    "Görüşün vaxtı və yeri barədə əlavə məlumat veriləcək.",
    "Уважаемые коллеги, направляем вам проект соглашения о сотрудничестве.",
    "Просим рассмотреть приложенные документы и сообщить о вашем решении до конца месяца.",
    "Конференция пройдёт в очном формате; регистрация участников открыта до 15 числа.",
];

const FIRST_NAMES: &[(&str, &str)] = &[
    ("Aysel", "aysel"),
    ("Rəşad", "rashad"),
    ("Leyla", "leyla"),
    ("Orxan", "orkhan"),
    ("Nigar", "nigar"),
    ("Elçin", "elchin"),
    ("Anna", "anna"),
    ("John", "john"),
    ("Mehmet", "mehmet"),
    ("Ольга", "olga"),
    ("Иван", "ivan"),
    ("Giorgi", "giorgi"),
    ("Maria", "maria"),
    ("Pierre", "pierre"),
    ("Günel", "gunel"),
    ("Tural", "tural"),
];

const LAST_NAMES: &[(&str, &str)] = &[
    ("Məmmədova", "mammadova"),
    ("Əliyev", "aliyev"),
    ("Hüseynova", "huseynova"),
    ("Müller", "mueller"),
    ("Smith", "smith"),
    ("Yılmaz", "yilmaz"),
    ("Петрова", "petrova"),
    ("Кузнецов", "kuznetsov"),
    ("Beridze", "beridze"),
    ("Rossi", "rossi"),
    ("Dubois", "dubois"),
    ("Qasımov", "gasimov"),
    ("Babayeva", "babayeva"),
    ("Kaya", "kaya"),
];

const INSTITUTIONS: &[&str] = &[
    "adu",
    "bsu",
    "unec",
    "asoiu",
    "ada",
    "khazar",
    "msu",
    "spbu",
    "hse",
    "kpfu",
    "metu",
    "itu",
    "boun",
    "hacettepe",
    "tsu",
    "ilia",
    "uni-heidelberg",
    "tum",
    "lmu",
    "ox",
    "cam",
    "ucl",
    "unibo",
    "uniroma1",
    "sorbonne",
    "uva",
    "ku",
    "uw",
    "cuni",
    "elte",
    "edu.gov",
    "mfa",
    "embassy",
    "erasmus-plus",
    "daad",
    "britishcouncil",
    "tubitak",
    "rsf",
    "kpmg",
    "azercell",
];

const SUFFIXES: &[&str] = &[".edu.az", ".az", ".ru", ".edu.tr", ".ge", ".de", ".ac.uk", ".eu"];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::letter::read_letter;

    fn plan() -> Plan {
        let now = DateTime::parse_from_rfc3339("2026-12-01T09:00:00Z").unwrap().with_timezone(&Utc);
        let (year_start, _) = day_bounds(NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(), chrono_tz::Asia::Baku);
        Plan {
            units: default_units(&["registry".into(), "international".into(), "hr".into()]),
            year: 2026,
            start: year_start,
            now,
            count: 1000,
            first: 1,
            last: 1000,
        }
    }

    #[test]
    fn the_raw_message_reads_back_as_the_register_keeps_it() {
        let plan = plan();
        let parents = vec![Parent { root: 3, subject: "Accreditation visit schedule (bakedo)".into(), message_id: "p@x.az".into() }];
        let mut with_attachment = 0;
        for sequence in 1..200 {
            let letter = plan.letter(sequence, &parents);
            let read = read_letter(&letter.raw);
            assert_eq!(read.subject, letter.subject);
            assert_eq!(read.from, vec![letter.from.clone()]);
            assert_eq!(read.message_id.as_deref(), Some(letter.message_id.as_str()));
            assert_eq!(read.replies_to, letter.replies_to);
            assert_eq!(read.body_text.trim(), letter.body.trim());
            assert!(read.flags.is_empty(), "{:?}", read.flags);
            assert_eq!(read.attachments.len(), usize::from(letter.attachment.is_some()));
            if let (Some(a), Some(b)) = (read.attachments.first(), &letter.attachment) {
                assert_eq!((&a.name, &a.content), (&b.name, &b.content));
                with_attachment += 1;
            }
            assert!(letter.registered_at <= plan.now);
        }
        assert!(with_attachment > 20, "{with_attachment}");
    }

    #[test]
    fn reference_words_are_unique_and_none_begins_another() {
        let words: std::collections::HashSet<String> = (1..=100_000).map(reference_word).collect();
        assert_eq!(words.len(), 100_000);
        assert!(words.iter().all(|w| w.len() == 10));
    }

    #[test]
    fn the_same_number_gives_the_same_letter() {
        let plan = plan();
        assert_eq!(plan.letter(42, &[]).raw, plan.letter(42, &[]).raw);
        assert_ne!(plan.letter(42, &[]).raw, plan.letter(43, &[]).raw);
    }
}
