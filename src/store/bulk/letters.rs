//! The synthetic letters themselves: each generated from its sequence number alone, so the
//! same number always gives the same letter.

use chrono::{DateTime, Duration, Utc};

use super::super::json;
use super::super::rows::Cell;
use super::vocabulary::{FIELDS, FIRST_NAMES, INSTITUTIONS, LAST_NAMES, PARTNERS, SENTENCES, SUFFIXES, TOPICS};
use super::{Parent, Plan};
use crate::core::letter::{Correspondent, fingerprint};
use crate::core::number::{Direction, RegistrationNumber};
use crate::core::rules::Routing;
use crate::core::time::stamp;

/// One generated letter and what the register keeps of it.
pub(super) struct Synthetic {
    pub(super) number: String,
    pub(super) sequence: i64,
    pub(super) subject: String,
    pub(super) from: Correspondent,
    pub(super) message_id: String,
    pub(super) replies_to: Vec<String>,
    pub(super) thread_root: Option<i64>,
    pub(super) sent_at: DateTime<Utc>,
    pub(super) registered_at: DateTime<Utc>,
    pub(super) body: String,
    pub(super) attachment: Option<SyntheticAttachment>,
    pub(super) raw: Vec<u8>,
    pub(super) unit: String,
    pub(super) classification: &'static str,
    pub(super) tags: Vec<String>,
    pub(super) confidentiality: &'static str,
    pub(super) due_on: Option<String>,
    pub(super) status: &'static str,
    pub(super) assignee: Option<String>,
    pub(super) acknowledged: Option<(DateTime<Utc>, String)>,
}

pub(super) struct SyntheticAttachment {
    pub(super) name: String,
    pub(super) content: Vec<u8>,
}

// A seeded generator of synthetic letters: its draws are cut to size on purpose, and
// benchmark sequence numbers stay far below i64::MAX.
#[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_possible_wrap)]
impl Plan {
    pub(super) fn letter(&self, sequence: i64, parents: &[Parent]) -> Synthetic {
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
        let attachment = (rng.below(100) < 25).then(|| attachment(&mut rng, &number, &reference));

        let unit = if self.units.iter().any(|u| u == topic.unit) { topic.unit.to_string() } else { self.units[0].clone() };
        let confidentiality = confidentiality(topic.confidential, rng.below(1000));
        let due_on = (rng.below(100) < 60).then(|| (registered_at.date_naive() + Duration::days(5 + rng.below(26) as i64)).to_string());
        let status = status(age_days, rng.below(100));
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

/// A small PDF attachment, named and numbered after its letter.
fn attachment(rng: &mut Rng, number: &str, reference: &str) -> SyntheticAttachment {
    let name = format!("{}-{reference}.pdf", rng.pick(&["invitation", "agreement", "muqavile", "protokol", "invoice", "transcript"]));
    let content = format!(
        "%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n% {number} {reference}\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
    )
    .into_bytes();
    SyntheticAttachment { name, content }
}

/// A letter's confidentiality from a draw in `0..1000`: a few are secret whatever the topic.
fn confidentiality(confidential_topic: bool, draw: usize) -> &'static str {
    match (confidential_topic, draw) {
        (_, 0..3) => "secret",
        (true, _) | (false, 3..30) => "confidential",
        (false, 30..130) => "public",
        _ => "internal",
    }
}

/// A letter's status from its age and a draw in `0..100`: older letters have mostly been dealt
/// with; this month's mostly not yet.
fn status(age_days: i64, draw: usize) -> &'static str {
    match (age_days, draw) {
        (_, 0) => "annulled",
        (0..14, 1..70) | (14..60, 1..25) | (60.., 1..8) => "registered",
        (0..14, _) | (14..60, 25..55) | (60.., 8..20) => "in-progress",
        (_, 0..85) => "answered",
        _ => "closed",
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

    pub(super) fn document_row(&self, year: i32) -> Vec<Cell<'_>> {
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
            Cell::Int(super::super::rows::count(self.raw.len())),
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

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::super::default_units;
    use super::*;
    use crate::core::letter::read_letter;
    use crate::core::time::day_bounds;

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
