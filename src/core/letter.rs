//! Reading a raw message into a `Letter`: the facts the register keeps.
//!
//! Reading never fails: mail that does not parse, broken MIME, unknown charsets and hostile
//! attachment names become review flags on an otherwise ordinary letter, so that nothing is
//! ever dropped for being malformed.

use std::borrow::Cow;

use mail_parser::{Address, HeaderValue, MessageParser, MimeHeaders};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::flags::ReviewFlag;

/// Longest attachment name kept, in characters; longer names are cut and flagged.
const MAX_ATTACHMENT_NAME_CHARS: usize = 180;

/// One mailbox of a correspondent: an optional display name and an address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Correspondent {
    pub name: Option<String>,
    pub address: String,
}

impl std::fmt::Display for Correspondent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.name {
            Some(name) if !name.is_empty() => write!(f, "{name} <{}>", self.address),
            _ => f.write_str(&self.address),
        }
    }
}

/// An attachment, with a name that is safe to show and never used as a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub name: String,
    pub media_type: String,
    pub content: Vec<u8>,
    pub sha256: String,
}

/// What the register keeps of one message.
#[derive(Debug, Clone)]
pub struct Letter {
    pub subject: String,
    pub from: Vec<Correspondent>,
    pub to: Vec<Correspondent>,
    pub cc: Vec<Correspondent>,
    pub message_id: Option<String>,
    /// Message-IDs this letter answers: In-Reply-To first, then References, newest first.
    pub replies_to: Vec<String>,
    /// The Date header, as Unix seconds.
    pub sent_at: Option<i64>,
    pub body_text: String,
    pub attachments: Vec<Attachment>,
    pub sha256: String,
    pub size: usize,
    pub flags: Vec<ReviewFlag>,
    /// Every header as (name, decoded text), in message order, for rules and reply policy.
    pub headers: Vec<(String, String)>,
}

impl Letter {
    /// The decoded values of a header, by case-insensitive name.
    pub fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers.iter().filter(move |(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// Hex sha256 of some bytes: the fingerprint the register keeps of messages and attachments.
pub fn fingerprint(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Reads a raw message. Never fails and never panics; what could not be read is flagged.
pub fn read_letter(raw: &[u8]) -> Letter {
    // A backstop, not a path: mail-parser's debug assertions and overflow checks have fired on
    // damaged mail (tests/properties.rs). Whatever bytes make the parser give up, the letter is
    // still registered, raw and flagged, instead of taking the listener down.
    let letter = std::panic::catch_unwind(|| read_parts(raw)).unwrap_or_else(|_| unparsed(raw));
    without_nul(letter)
}

/// What is registered of bytes nobody could read as mail: the bytes, their text as it
/// stands, flagged `unparsed`.
fn unparsed(raw: &[u8]) -> Letter {
    Letter {
        subject: String::new(),
        from: Vec::new(),
        to: Vec::new(),
        cc: Vec::new(),
        message_id: None,
        replies_to: Vec::new(),
        sent_at: None,
        body_text: String::from_utf8_lossy(raw).into_owned(),
        attachments: Vec::new(),
        sha256: fingerprint(raw),
        size: raw.len(),
        flags: vec![ReviewFlag::Unparsed],
        headers: Vec::new(),
    }
}

/// NUL is no character of any text people write, and PostgreSQL refuses it in text columns:
/// a letter carrying one would fail its whole batch. The raw bytes keep it.
fn without_nul(mut letter: Letter) -> Letter {
    let clean = |text: &mut String| {
        if text.contains('\0') {
            text.retain(|c| c != '\0');
        }
    };
    clean(&mut letter.subject);
    clean(&mut letter.body_text);
    for person in letter.from.iter_mut().chain(letter.to.iter_mut()).chain(letter.cc.iter_mut()) {
        clean(&mut person.address);
        if let Some(name) = &mut person.name {
            clean(name);
        }
    }
    if let Some(id) = &mut letter.message_id {
        clean(id);
    }
    letter.replies_to.iter_mut().for_each(clean);
    for (name, value) in &mut letter.headers {
        clean(name);
        clean(value);
    }
    letter.attachments.iter_mut().for_each(without_nul_in_attachment);
    letter
}

fn without_nul_in_attachment(attachment: &mut Attachment) {
    for text in [&mut attachment.name, &mut attachment.media_type] {
        if text.contains('\0') {
            text.retain(|c| c != '\0');
        }
    }
}

/// Why some bytes are not a mail message. The listener registers such bytes anyway (whatever
/// reaches the registry's mailbox is correspondence by law); a person importing files is asked
/// first, since each registration spends a number that can only be annulled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotMail {
    /// Nothing, or only whitespace.
    Empty,
    /// Not text: NUL bytes or many control characters, and no mail header.
    Binary,
    /// Text, but it does not start with mail header lines (`From:`, `Subject:`, ...).
    NoHeaderLines,
}

impl NotMail {
    pub fn as_str(self) -> &'static str {
        match self {
            NotMail::Empty => "empty",
            NotMail::Binary => "binary",
            NotMail::NoHeaderLines => "no header lines",
        }
    }
}

/// Whether bytes are a mail message: they start with header lines, at least one of them a
/// header every mail carries. The same test `read_letter` applies before it flags `unparsed`;
/// broken MIME, unknown charsets and odd bytes further down are still mail.
pub fn check_mail(raw: &[u8]) -> Result<(), NotMail> {
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Err(NotMail::Empty);
    }
    if MessageParser::default().parse_headers(raw).is_some_and(|m| has_mail_header(&m)) {
        return Ok(());
    }
    if looks_binary(raw) { Err(NotMail::Binary) } else { Err(NotMail::NoHeaderLines) }
}

/// NUL bytes, or more than one control character in ten, in the first 8 KB.
fn looks_binary(raw: &[u8]) -> bool {
    let head = &raw[..raw.len().min(8192)];
    let control = head.iter().filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0C | 0x1B)).count();
    head.contains(&0) || control * 10 > head.len()
}

fn has_mail_header(message: &mail_parser::Message<'_>) -> bool {
    message.headers().iter().any(|h| is_mail_header(h.name()))
}

fn read_parts(raw: &[u8]) -> Letter {
    let mut flags = Vec::new();
    let parsed = MessageParser::default().parse(raw).filter(has_mail_header);
    let Some(message) = parsed else { return unparsed(raw) };

    check_mime_structure(&message, raw, &mut flags);
    check_charsets(&message, &mut flags);

    let mut replies_to: Vec<String> = message_ids(message.in_reply_to());
    for id in message_ids(message.references()).into_iter().rev() {
        if !replies_to.contains(&id) {
            replies_to.push(id);
        }
    }

    let mut body_text = (0..message.text_body_count()).filter_map(|i| message.body_text(i)).collect::<Vec<_>>().join("\n");
    if body_text.trim().is_empty() && !flags.is_empty() {
        // The structure is broken: the text as it stands is better than none.
        body_text = String::from_utf8_lossy(after_header(raw)).into_owned();
    }

    // Names and types first, while the parts are whole; then each content is moved out of its
    // part: a decoded attachment of tens of megabytes is never held twice.
    let described = describe_attachments(&message, &mut flags);
    let headers = message.headers().iter().map(|h| (h.name().to_string(), header_text(h.value()))).collect();
    let subject = message.subject().unwrap_or("").trim().to_string();
    let (from, to, cc) = (correspondents(message.from()), correspondents(message.to()), correspondents(message.cc()));
    let message_id = message.message_id().map(normalize_message_id).filter(|id| !id.is_empty());
    let sent_at = message.date().map(|d| d.to_timestamp());
    let mut message = message;
    let attachments = take_attachments(&mut message, &described, |_| true);
    drop(message);

    Letter {
        subject,
        from,
        to,
        cc,
        message_id,
        replies_to,
        sent_at,
        body_text,
        attachments,
        sha256: fingerprint(raw),
        size: raw.len(),
        flags,
        headers,
    }
}

/// The attachments of a raw message exactly as `read_letter` finds them: the same positions
/// (from 1), names, media types and decoded bytes. The register keeps each attachment only
/// inside its raw message; a download and `verify` decode it again with this.
pub fn attachments_in(raw: &[u8]) -> Vec<Attachment> {
    attachments_where(raw, |_| true)
}

/// The attachment at `position` (from 1) of a raw message, as `attachments_in` would give it;
/// the others are not copied or hashed.
pub fn attachment_in(raw: &[u8], position: usize) -> Option<Attachment> {
    attachments_where(raw, |index| index + 1 == position).into_iter().next()
}

fn attachments_where(raw: &[u8], wanted: impl Fn(usize) -> bool + std::panic::RefUnwindSafe) -> Vec<Attachment> {
    // The same backstop as `read_letter`: bytes the parser gives up on yield no attachments.
    std::panic::catch_unwind(|| decode_attachments(raw, &wanted)).unwrap_or_default()
}

fn decode_attachments(raw: &[u8], wanted: impl Fn(usize) -> bool) -> Vec<Attachment> {
    let Some(mut message) = MessageParser::default().parse(raw).filter(has_mail_header) else { return Vec::new() };
    let described = describe_attachments(&message, &mut Vec::new());
    let mut attachments = take_attachments(&mut message, &described, wanted);
    attachments.iter_mut().for_each(without_nul_in_attachment);
    attachments
}

/// Each attachment's part, display name and media type, in the order the message lists them;
/// hostile names are flagged.
fn describe_attachments(message: &mail_parser::Message<'_>, flags: &mut Vec<ReviewFlag>) -> Vec<(u32, String, String)> {
    message
        .attachments
        .iter()
        .enumerate()
        .filter_map(|(index, &part_id)| {
            let part = message.parts.get(part_id as usize)?;
            let original = part.attachment_name().unwrap_or("");
            if is_hostile_name(original) {
                flags.push(ReviewFlag::HostileAttachmentName { original: original.escape_debug().to_string() });
            }
            Some((part_id, safe_attachment_name(original, index + 1), media_type_of(part)))
        })
        .collect()
}

/// The described attachments whose index (from 0) is `wanted`, their contents moved out of the
/// message.
fn take_attachments(
    message: &mut mail_parser::Message<'_>,
    described: &[(u32, String, String)],
    wanted: impl Fn(usize) -> bool,
) -> Vec<Attachment> {
    let mut attachments: Vec<Attachment> = Vec::with_capacity(described.len());
    for (i, (part_id, name, media_type)) in described.iter().enumerate() {
        if !wanted(i) {
            continue;
        }
        // A part listed twice is taken at its last listing and copied before.
        let content = if described[i + 1..].iter().any(|(later, _, _)| later == part_id) {
            message.parts.get(*part_id as usize).map(attachment_bytes).unwrap_or_default()
        } else {
            take_attachment_content(message, *part_id)
        };
        attachments.push(Attachment { name: name.clone(), media_type: media_type.clone(), sha256: fingerprint(&content), content });
    }
    attachments
}

/// A header value as text people and rules can match: addresses as `Name <addr>, ...`.
fn header_text(value: &HeaderValue<'_>) -> String {
    match value {
        HeaderValue::Text(text) => text.to_string(),
        HeaderValue::TextList(list) => list.join(", "),
        HeaderValue::Address(address) => correspondents(Some(address)).iter().map(ToString::to_string).collect::<Vec<_>>().join(", "),
        HeaderValue::DateTime(date) => date.to_rfc3339(),
        HeaderValue::ContentType(ct) => match ct.subtype() {
            Some(sub) => format!("{}/{}", ct.ctype(), sub),
            None => ct.ctype().to_string(),
        },
        HeaderValue::Received(_) | HeaderValue::Empty => String::new(),
    }
}

/// Reads only the header of a message too large to download; the letter is flagged.
pub fn read_headers_only(header: &[u8], full_size: u64, limit: u64) -> Letter {
    let mut letter = read_letter(header);
    letter.flags.retain(|f| !matches!(f, ReviewFlag::BrokenMime { .. }));
    letter.flags.push(ReviewFlag::Oversize { size: full_size, limit });
    letter
}

/// Headers every mail carries at least one of; bytes with none of them are not mail.
fn is_mail_header(name: &str) -> bool {
    const KNOWN: [&str; 10] =
        ["from", "to", "subject", "date", "message-id", "received", "content-type", "mime-version", "sender", "return-path"];
    KNOWN.iter().any(|known| name.eq_ignore_ascii_case(known))
}

fn after_header(raw: &[u8]) -> &[u8] {
    memchr::memmem::find(raw, b"\r\n\r\n")
        .map(|i| i + 4)
        .or_else(|| memchr::memmem::find(raw, b"\n\n").map(|i| i + 2))
        .map_or(raw, |start| &raw[start..])
}

fn attachment_bytes(part: &mail_parser::MessagePart<'_>) -> Vec<u8> {
    match part.message() {
        Some(inner) => inner.raw_message().to_vec(),
        None => part.contents().to_vec(),
    }
}

fn media_type_of(part: &mail_parser::MessagePart<'_>) -> String {
    part.content_type()
        .map(|ct| match ct.subtype() {
            Some(sub) => format!("{}/{}", ct.ctype(), sub),
            None => ct.ctype().to_string(),
        })
        .unwrap_or_else(|| "application/octet-stream".to_string())
        .to_ascii_lowercase()
}

/// The content of one attachment, moved out of the parsed message (decoded content is owned
/// there already; only content that borrows the raw message is copied).
fn take_attachment_content(message: &mut mail_parser::Message<'_>, part_id: u32) -> Vec<u8> {
    use mail_parser::PartType;
    let Some(part) = message.parts.get_mut(part_id as usize) else { return Vec::new() };
    match std::mem::take(&mut part.body) {
        PartType::Binary(content) | PartType::InlineBinary(content) => content.into_owned(),
        PartType::Text(text) | PartType::Html(text) => text.into_owned().into_bytes(),
        // An attached message is kept as its own raw bytes, which is what a reader would save.
        PartType::Message(inner) => inner.raw_message().to_vec(),
        PartType::Multipart(_) => Vec::new(),
    }
}

fn correspondents(address: Option<&Address<'_>>) -> Vec<Correspondent> {
    let Some(address) = address else { return Vec::new() };
    address
        .iter()
        .filter_map(|addr| {
            let address = addr.address()?.trim().to_string();
            if address.is_empty() {
                return None;
            }
            let name = addr.name().map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
            Some(Correspondent { name, address })
        })
        .collect()
}

fn message_ids(value: &HeaderValue<'_>) -> Vec<String> {
    let ids: Vec<Cow<'_, str>> = match value {
        HeaderValue::Text(id) => vec![id.clone()],
        HeaderValue::TextList(ids) => ids.clone(),
        _ => Vec::new(),
    };
    ids.iter().map(|id| normalize_message_id(id)).filter(|id| !id.is_empty()).collect()
}

/// Message-IDs compare without angle brackets and surrounding space.
pub fn normalize_message_id(id: &str) -> String {
    id.trim().trim_start_matches('<').trim_end_matches('>').trim().to_string()
}

/// A display name for an attachment that can never be mistaken for a path.
pub fn safe_attachment_name(original: &str, position: usize) -> String {
    let last_component = original.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = last_component.chars().filter(|c| !c.is_control()).collect();
    let trimmed = cleaned.trim().trim_start_matches('.').trim();
    let short: String = trimmed.chars().take(MAX_ATTACHMENT_NAME_CHARS).collect();
    if short.is_empty() { format!("attachment-{position}") } else { short }
}

fn is_hostile_name(original: &str) -> bool {
    original.contains(['/', '\\'])
        || original.chars().any(char::is_control)
        || original.starts_with('.')
        || original.chars().count() > MAX_ATTACHMENT_NAME_CHARS
}

fn check_mime_structure(message: &mail_parser::Message<'_>, raw: &[u8], flags: &mut Vec<ReviewFlag>) {
    for part in message.parts.iter() {
        let Some(ct) = part.content_type() else { continue };
        if !ct.ctype().eq_ignore_ascii_case("multipart") {
            continue;
        }
        match ct.attribute("boundary") {
            None => {
                flags.push(ReviewFlag::BrokenMime { detail: "multipart without a boundary".into() });
                return;
            }
            Some(boundary) => {
                let closing = format!("--{boundary}--");
                if memchr_find(raw, format!("--{boundary}").as_bytes()).is_none() {
                    flags.push(ReviewFlag::BrokenMime { detail: format!("boundary {boundary:?} never appears") });
                    return;
                }
                if memchr_find(raw, closing.as_bytes()).is_none() {
                    flags.push(ReviewFlag::BrokenMime { detail: format!("multipart {boundary:?} is not closed") });
                    return;
                }
            }
        }
    }
}

fn memchr_find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(haystack, needle)
}

fn check_charsets(message: &mail_parser::Message<'_>, flags: &mut Vec<ReviewFlag>) {
    let mut unknown: Vec<String> = Vec::new();
    for part in message.parts.iter() {
        if let Some(charset) = part.content_type().and_then(|ct| ct.attribute("charset"))
            && !is_known_charset(charset)
            && !unknown.iter().any(|c| c == charset)
        {
            unknown.push(charset.to_string());
        }
    }
    // RFC 2047 encoded words carry their own charset names in the raw header.
    for (_, value) in message.headers_raw() {
        for charset in encoded_word_charsets(value) {
            if !is_known_charset(charset) && !unknown.iter().any(|c| c == charset) {
                unknown.push(charset.to_string());
            }
        }
    }
    for charset in unknown {
        flags.push(ReviewFlag::UnknownCharset { charset });
    }
}

fn encoded_word_charsets(value: &str) -> impl Iterator<Item = &str> {
    value.split("=?").skip(1).filter_map(|rest| {
        let charset = rest.split('?').next()?;
        let charset = charset.split('*').next()?; // RFC 2231 language suffix
        (!charset.is_empty() && rest.contains("?=")).then_some(charset)
    })
}

fn is_known_charset(label: &str) -> bool {
    encoding_rs::Encoding::for_label(label.trim().as_bytes()).is_some()
        || matches!(label.trim().to_ascii_lowercase().as_str(), "us-ascii" | "ascii" | "utf8" | "koi8-u" | "cp1251" | "cp1254")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attachment_names_never_become_paths() {
        assert_eq!(safe_attachment_name("../../etc/passwd", 1), "passwd");
        assert_eq!(safe_attachment_name("C:\\Windows\\system.ini", 1), "system.ini");
        assert_eq!(safe_attachment_name("evil\0name.pdf", 1), "evilname.pdf");
        assert_eq!(safe_attachment_name("../..", 3), "attachment-3");
        assert_eq!(safe_attachment_name(".bashrc", 1), "bashrc");
        let long = "a".repeat(500);
        assert_eq!(safe_attachment_name(&long, 1).chars().count(), MAX_ATTACHMENT_NAME_CHARS);
        assert!(is_hostile_name("../../etc/passwd"));
        assert!(!is_hostile_name("Müqavilə 2026.pdf"));
    }

    #[test]
    fn attachments_read_again_from_the_raw_message_are_those_of_the_letter() {
        let raw = b"From: a@x.org\r\nSubject: files\r\nContent-Type: multipart/mixed; boundary=\"B\"\r\n\r\n\
            --B\r\nContent-Type: text/plain\r\n\r\nhello\r\n\
            --B\r\nContent-Type: application/pdf; name=\"../a.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n\
            --B\r\nContent-Type: text/plain; name=\"b\x00.txt\"\r\nContent-Disposition: attachment\r\n\r\nsecond\r\n--B--\r\n";
        let letter = read_letter(raw);
        assert_eq!(letter.attachments.len(), 2);
        assert_eq!(attachments_in(raw), letter.attachments);
        assert_eq!(letter.attachments[0].content, b"%PDF-1.4\n");
        assert_eq!(letter.attachments[1].name, "b.txt");
        assert_eq!(attachment_in(raw, 2).as_ref(), letter.attachments.get(1));
        assert_eq!(attachment_in(raw, 3), None);
        assert_eq!(attachments_in(b"\x00\x01 not mail"), Vec::new());
    }

    #[test]
    fn garbage_is_a_flagged_letter() {
        let raw = b"\x00\x01\x02 not a mail at all";
        let letter = read_letter(raw);
        assert!(letter.flags.contains(&ReviewFlag::Unparsed));
        assert_eq!(letter.size, raw.len());
        assert_eq!(letter.sha256, fingerprint(raw));
    }

    /// What `ingest` refuses without `--accept-unparsed`, and what it takes as mail.
    #[test]
    fn tells_mail_from_files_that_are_not_mail() {
        let refused: [(&[u8], NotMail); 6] = [
            (b"", NotMail::Empty),
            (b"  \r\n\n\t", NotMail::Empty),
            (b"\x00\x01\x02 not a mail at all", NotMail::Binary),
            (b"%PDF-1.4\n\x00\x00\xff\xfe binary stream", NotMail::Binary),
            ("Dear colleagues,\nplease find the minutes of the meeting below.\n".as_bytes(), NotMail::NoHeaderLines),
            ("Note: this is prose with a colon.\nNothing here is a header of mail.\n".as_bytes(), NotMail::NoHeaderLines),
        ];
        for (raw, why) in refused {
            assert_eq!(check_mail(raw), Err(why), "{:?}", String::from_utf8_lossy(raw));
            assert!(read_letter(raw).flags.contains(&ReviewFlag::Unparsed), "read_letter agrees: {:?}", String::from_utf8_lossy(raw));
        }
        let mail: [&[u8]; 5] = [
            b"From: A <a@x.org>\r\nTo: r@uni.example\r\nSubject: hi\r\nMessage-ID: <m@x.org>\r\n\r\nbody\r\n",
            // As an mbox holds it: LF line ends, a quoted From line in the body.
            b"From: Old Archive <archive@partner.example>\nTo: registry@uni.example\nSubject: Mbox letter\n\n>From the archive\n",
            // Broken MIME is still mail.
            b"From: a@x.org\r\nSubject: s\r\nContent-Type: multipart/mixed; boundary=\"XX\"\r\n\r\n--XX\r\nContent-Type: text/plain\r\n\r\nhello\r\n",
            // A few headers only.
            b"Subject: minutes\n\nthe text\n",
            // NUL bytes inside an otherwise ordinary letter.
            b"From: a@x.org\r\nSubject: Pay\x00ment\r\n\r\nPay\x00 now\r\n",
        ];
        for raw in mail {
            assert_eq!(check_mail(raw), Ok(()), "{:?}", String::from_utf8_lossy(raw));
            assert!(!read_letter(raw).flags.contains(&ReviewFlag::Unparsed), "read_letter agrees: {:?}", String::from_utf8_lossy(raw));
        }
    }

    #[test]
    fn reads_threading_headers() {
        let raw = b"From: A <a@x.org>\r\nTo: r@uni.example\r\nSubject: Re: hi\r\nMessage-ID: <m2@x.org>\r\nIn-Reply-To: <m1@x.org>\r\nReferences: <m0@x.org> <m1@x.org>\r\n\r\nbody\r\n";
        let letter = read_letter(raw);
        assert_eq!(letter.message_id.as_deref(), Some("m2@x.org"));
        assert_eq!(letter.replies_to, vec!["m1@x.org".to_string(), "m0@x.org".to_string()]);
        assert_eq!(letter.from[0].to_string(), "A <a@x.org>");
        assert!(letter.flags.is_empty(), "{:?}", letter.flags);
    }

    #[test]
    fn unclosed_multipart_is_broken_mime() {
        let raw = b"From: a@x.org\r\nSubject: s\r\nContent-Type: multipart/mixed; boundary=\"XX\"\r\n\r\n--XX\r\nContent-Type: text/plain\r\n\r\nhello\r\n";
        let letter = read_letter(raw);
        assert!(letter.flags.iter().any(|f| matches!(f, ReviewFlag::BrokenMime { .. })), "{:?}", letter.flags);
        assert!(letter.body_text.contains("hello"));
    }

    #[test]
    fn unknown_charset_is_flagged_but_read() {
        let raw = b"From: a@x.org\r\nSubject: =?x-klingon?Q?hello?=\r\nContent-Type: text/plain; charset=x-martian\r\n\r\nhello\r\n";
        let letter = read_letter(raw);
        let unknown: Vec<_> = letter
            .flags
            .iter()
            .filter_map(|f| match f {
                ReviewFlag::UnknownCharset { charset } => Some(charset.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(unknown, vec!["x-martian", "x-klingon"]);
    }
}
