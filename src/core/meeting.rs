//! Meetings and their agendas, as rules: what a new meeting and an agenda item must satisfy,
//! how an agenda reads in chat and in mail, and what each participant's agenda pack holds.
//! Pure: the store hands in the meeting, its documents and the participant, and `now`.
//!
//! An agenda pack is one e-mail per participant: the agenda, and attached the files of the
//! documents the participant may read in full (`Viewer` with a private audience). A document
//! is attached as the files it came with; one that came without files is attached as its
//! original message (`.eml`). A document the participant may not read is named on the agenda
//! by its number only, and not attached. The mail's text is registered as an internal letter,
//! so a restricted document's subject and file names never appear in it, only in its attachments.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::core::confidentiality::Confidentiality;
use crate::core::markdown;
use crate::core::outbound::{AttachmentRef, LOOP_HEADER};
use crate::core::viewer::{Audience, Restriction, Sight, StaffMember, Viewer};

/// The longest meeting title.
pub const MAX_TITLE_CHARS: usize = 200;
/// The longest agenda item title.
pub const MAX_ITEM_CHARS: usize = 300;
/// The most participants one meeting names.
pub const MAX_PARTICIPANTS: usize = 100;
/// A document's subject on an agenda is cut here, so that no line of a mail grows too long.
const MAX_SUBJECT_CHARS: usize = 200;

/// A meeting as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meeting {
    pub id: i64,
    pub title: String,
    pub starts_at: DateTime<Utc>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    /// Matrix IDs of staff members, sorted.
    pub participants: Vec<String>,
    /// Called off (`!meeting cancel`): its pack is never sent.
    pub cancelled: Option<Cancellation>,
}

/// Who called a meeting off, when and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cancellation {
    pub at: DateTime<Utc>,
    pub by: String,
    pub reason: Option<String>,
}

/// One item of an agenda.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgendaItem {
    /// 1, 2, ... in the order added.
    pub position: u32,
    pub document_id: i64,
    /// The document's registration number.
    pub number: String,
    /// The item's title; empty when none was given.
    pub text: String,
    pub added_by: String,
    pub added_at: DateTime<Utc>,
}

/// What a new meeting or agenda item cannot be; the words are the reply's, a participant as
/// typed and times in the office's zone.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MeetingError {
    #[error("the meeting's TITLE is empty")]
    EmptyTitle,
    #[error("the meeting's TITLE must be one line")]
    TitleNotOneLine,
    #[error("the meeting's TITLE is longer than {MAX_TITLE_CHARS} characters")]
    TitleTooLong,
    #[error("the item's TEXT is longer than {MAX_ITEM_CHARS} characters")]
    ItemTooLong,
    #[error("participants=: '{0}' is not a Matrix ID such as @name:uni.example")]
    NotAMatrixId(String),
    #[error("participants=: name at least one person, such as participants=@name:uni.example")]
    NoParticipants,
    #[error("participants=: at most {MAX_PARTICIPANTS} people")]
    TooManyParticipants,
    #[error("The meeting's time {} is in the past (it is {} now); nothing was stored.", minute(.starts_at), minute(.now))]
    InThePast { starts_at: DateTime<Tz>, now: DateTime<Tz> },
}

/// A time as `local` writes it, for a time already in the office's zone.
fn minute(at: &DateTime<Tz>) -> String {
    at.format("%Y-%m-%d %H:%M").to_string()
}

/// A meeting's title: one line, not empty, not too long.
pub fn check_title(text: &str) -> Result<String, MeetingError> {
    let title = text.trim();
    if title.is_empty() {
        return Err(MeetingError::EmptyTitle);
    }
    if title.chars().any(char::is_control) {
        return Err(MeetingError::TitleNotOneLine);
    }
    if title.chars().count() > MAX_TITLE_CHARS {
        return Err(MeetingError::TitleTooLong);
    }
    Ok(title.to_string())
}

/// An agenda item's title (may be empty: the document's subject stands for it).
pub fn check_item_text(text: &str) -> Result<String, MeetingError> {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.chars().count() > MAX_ITEM_CHARS {
        return Err(MeetingError::ItemTooLong);
    }
    Ok(text)
}

/// `@a:server,@b:server` as Matrix IDs, each once, in the order named.
pub fn parse_participants(text: &str) -> Result<Vec<String>, MeetingError> {
    let mut found: Vec<String> = Vec::new();
    for part in text.split(',').map(str::trim).filter(|part| !part.is_empty()) {
        let valid = part.starts_with('@')
            && part.split_once(':').is_some_and(|(local, server)| local.len() > 1 && !server.is_empty())
            && !part.chars().any(|c| c.is_whitespace() || c.is_control());
        if !valid {
            return Err(MeetingError::NotAMatrixId(part.to_string()));
        }
        if !found.iter().any(|known| known == part) {
            found.push(part.to_string());
        }
    }
    if found.is_empty() {
        return Err(MeetingError::NoParticipants);
    }
    if found.len() > MAX_PARTICIPANTS {
        return Err(MeetingError::TooManyParticipants);
    }
    Ok(found)
}

/// A new meeting starts after `now`.
pub fn check_start(starts_at: DateTime<Utc>, now: DateTime<Utc>, zone: Tz) -> Result<(), MeetingError> {
    if starts_at <= now {
        return Err(MeetingError::InThePast { starts_at: starts_at.with_timezone(&zone), now: now.with_timezone(&zone) });
    }
    Ok(())
}

/// When a meeting's agenda pack goes out: `before` its start, or now if that has passed.
pub fn pack_due(starts_at: DateTime<Utc>, before: chrono::Duration, now: DateTime<Utc>) -> DateTime<Utc> {
    (starts_at - before).max(now)
}

/// `2026-12-10 14:00` in `zone`.
pub fn local(at: DateTime<Utc>, zone: Tz) -> String {
    minute(&at.with_timezone(&zone))
}

/// "Erasmus committee, Thursday 2026-12-10 14:00 (Asia/Baku)".
pub fn headline(meeting: &Meeting, zone: Tz) -> String {
    let when = meeting.starts_at.with_timezone(&zone);
    format!("{}, {} {} ({zone})", meeting.title, when.format("%A"), local(meeting.starts_at, zone))
}

/// A document on the agenda, as a pack needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackDocument {
    pub item: AgendaItem,
    pub subject: String,
    pub confidentiality: Confidentiality,
    pub unit: String,
    /// Its attachments: (position, file name), in order.
    pub files: Vec<(u32, String)>,
}

impl PackDocument {
    fn restriction(&self) -> Restriction<'_> {
        Restriction { confidentiality: self.confidentiality, unit: &self.unit }
    }

    /// What goes with the pack: its files, or the letter itself when it came without any.
    fn attachments(&self) -> Vec<AttachmentRef> {
        if self.files.is_empty() {
            return vec![AttachmentRef { document_id: self.item.document_id, position: 0, name: format!("{}.eml", self.item.number) }];
        }
        self.files
            .iter()
            .map(|(position, name)| AttachmentRef {
                document_id: self.item.document_id,
                position: *position,
                name: crate::core::letter::safe_attachment_name(name, *position as usize),
            })
            .collect()
    }
}

/// One participant's agenda pack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pack {
    /// The mail's subject, without the registration number.
    pub subject: String,
    /// The mail's text: the meeting, the agenda, what is attached and what is not.
    pub text: String,
    pub attachments: Vec<AttachmentRef>,
    /// Documents the participant may not read: named by number only, not attached.
    pub withheld: Vec<String>,
    /// Restricted documents the participant receives in full: their histories say so.
    pub disclosed: Vec<i64>,
}

/// What `member` gets of the agenda: every document they may read in full is attached.
pub fn pack_for(meeting: &Meeting, documents: &[PackDocument], member: &StaffMember, zone: Tz) -> Pack {
    let viewer = Viewer::new(member.clone(), Audience::Private);
    let mut text = format!("Agenda pack\n\n{}\n\nAgenda:\n", headline(meeting, zone));
    let mut attachments = Vec::new();
    let mut withheld = Vec::new();
    let mut disclosed = Vec::new();
    if documents.is_empty() {
        text.push_str("(no items yet)\n");
    }
    for document in documents {
        let item = &document.item;
        match viewer.sight(document.restriction()) {
            Sight::Full { disclosed: restricted } => {
                let files = document.attachments();
                // The text is kept in the register as an internal letter: a restricted
                // document's subject and file names stay in the attachments, which only the
                // cleared recipient gets.
                let attached = if restricted {
                    format!("{} file{} ({})", files.len(), if files.len() == 1 { "" } else { "s" }, document.confidentiality.as_str())
                } else {
                    files.iter().map(|file| file.name.as_str()).collect::<Vec<_>>().join(", ")
                };
                text.push_str(&format!("{}. {}\n   attached: {attached}\n", item.position, item_line(document, !restricted)));
                attachments.extend(files);
                if restricted {
                    disclosed.push(item.document_id);
                }
            }
            Sight::Redacted { .. } => {
                text.push_str(&format!(
                    "{}. {}\n   not attached: {} is {}; ask the registry if you need it\n",
                    item.position,
                    item_line(document, false),
                    item.number,
                    document.confidentiality.as_str()
                ));
                withheld.push(item.number.clone());
            }
        }
    }
    text.push_str(&format!(
        "\nThis pack was put together by Chancery for {} ({}). In the registry's chat, `!agenda {}` shows the agenda as it stands.\n",
        member.name, member.id, meeting.id
    ));
    Pack { subject: format!("Agenda pack: {}", headline(meeting, zone)), text, attachments, withheld, disclosed }
}

/// "Nominations (IN-2026-000001 “Erasmus+ mobility …”)"; the subject only when it may be shown.
fn item_line(document: &PackDocument, show_subject: bool) -> String {
    let item = &document.item;
    let subject: String = document.subject.chars().filter(|c| !c.is_control()).take(MAX_SUBJECT_CHARS).collect();
    let about = if show_subject { format!("{} “{subject}”", item.number) } else { item.number.clone() };
    if item.text.is_empty() { about } else { format!("{} ({about})", item.text) }
}

/// The agenda in chat, for a participant whose pack could not be e-mailed: subjects only where
/// they may read them.
pub fn pack_chat(meeting: &Meeting, documents: &[PackDocument], member: &StaffMember, reason: &str, zone: Tz) -> String {
    let viewer = Viewer::new(member.clone(), Audience::Private);
    let mut out = format!(
        "📋 The agenda pack for **{}** could not be e-mailed to you: {}. The agenda:\n",
        markdown::literal(&headline(meeting, zone)),
        markdown::literal(reason)
    );
    if documents.is_empty() {
        out.push_str("\n(no items yet)");
    }
    for document in documents {
        let full = matches!(viewer.sight(document.restriction()), Sight::Full { .. });
        let line = markdown::literal(&item_line(document, full));
        out.push_str(&format!("\n{}. {line} (`!doc {}`)", document.item.position, document.item.number));
    }
    out
}

/// The direct message to the organiser when the scheduler came to a pack only after its
/// meeting began (it was down): a pack then is no use, and none is sent.
pub fn pack_too_late_chat(meeting: &Meeting, zone: Tz) -> String {
    format!(
        "📋 The agenda pack for **{}** was not sent: the meeting had begun before it could go out. `!agenda {}` shows the agenda.",
        markdown::literal(&headline(meeting, zone)),
        meeting.id
    )
}

/// The direct message that goes with a pack that was e-mailed.
pub fn pack_sent_chat(meeting: &Meeting, pack: &Pack, number: &str, address: &str, zone: Tz) -> String {
    let files = pack.attachments.len();
    let mut out = format!(
        "📋 The agenda pack for **{}** was e-mailed to {} as **{number}** ({files} file{} attached).",
        markdown::literal(&headline(meeting, zone)),
        markdown::literal(address),
        if files == 1 { "" } else { "s" }
    );
    if !pack.withheld.is_empty() {
        out.push_str(&format!(" Not attached, as you are not cleared for them: {}.", pack.withheld.join(", ")));
    }
    out.push_str(&format!(" `!agenda {}` shows the agenda.", meeting.id));
    out
}

/// The copy of a pack's covering mail the register keeps under its OUT number: the mail's
/// headers and text (its attachments stay in the register once, under their own documents).
/// Headers are ASCII (RFC 2047 for words that are not), the text UTF-8 with CRLF line ends.
pub fn registered_copy(from: &str, to: &str, subject: &str, text: &str, message_id: &str, date: DateTime<Utc>) -> Vec<u8> {
    let address_of = |mailbox: &str| mailbox.rsplit_once('<').map_or(mailbox, |(_, rest)| rest.trim_end_matches('>')).trim().to_string();
    let from_header = match from.rsplit_once('<') {
        Some((name, _)) if !name.trim().is_empty() => {
            format!("{} <{}>", encode_words(name.trim().trim_matches('"'), "From: ".len()), address_of(from))
        }
        _ => address_of(from),
    };
    let body = text.replace("\r\n", "\n").replace('\r', "\n").replace('\n', "\r\n");
    let encoding = if body.is_ascii() { "7bit" } else { "8bit" };
    let mut raw = String::new();
    raw.push_str(&format!("From: {from_header}\r\n"));
    raw.push_str(&format!("To: {}\r\n", address_of(to)));
    raw.push_str(&format!("Subject: {}\r\n", encode_words(subject, "Subject: ".len())));
    raw.push_str(&format!("Date: {}\r\n", date.to_rfc2822()));
    raw.push_str(&format!("Message-ID: <{message_id}>\r\n"));
    raw.push_str("Auto-Submitted: auto-generated\r\n");
    raw.push_str(&format!("{LOOP_HEADER}: {}\r\n", address_of(from)));
    raw.push_str("MIME-Version: 1.0\r\n");
    raw.push_str("Content-Type: text/plain; charset=utf-8\r\n");
    raw.push_str(&format!("Content-Transfer-Encoding: {encoding}\r\n\r\n"));
    raw.push_str(&body);
    if !body.ends_with("\r\n") {
        raw.push_str("\r\n");
    }
    raw.into_bytes()
}

/// Text for a header: as it is when plain ASCII, else RFC 2047 encoded words (Q encoding), each
/// on a line of its own within 76 characters (`taken` of the first are the header's name).
fn encode_words(text: &str, taken: usize) -> String {
    let text: String = text.chars().filter(|c| !c.is_control()).collect();
    if text.is_ascii() && !text.contains("=?") {
        return text;
    }
    const OVERHEAD: usize = "=?utf-8?Q??=".len();
    let mut words = Vec::new();
    let mut current = String::new();
    for c in text.chars() {
        let mut encoded = String::new();
        if c == ' ' {
            encoded.push('_');
        } else if c.is_ascii_alphanumeric() || matches!(c, '!' | '*' | '+' | '-' | '/' | '.' | ',' | ':') {
            encoded.push(c);
        } else {
            let mut buffer = [0u8; 4];
            for byte in c.encode_utf8(&mut buffer).bytes() {
                encoded.push_str(&format!("={byte:02X}"));
            }
        }
        // Folded lines start with a space.
        let room = if words.is_empty() { 76 - taken } else { 75 } - OVERHEAD;
        if !current.is_empty() && current.len() + encoded.len() > room {
            words.push(std::mem::take(&mut current));
        }
        current.push_str(&encoded);
    }
    if !current.is_empty() {
        words.push(current);
    }
    words.iter().map(|word| format!("=?utf-8?Q?{word}?=")).collect::<Vec<_>>().join("\r\n ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::viewer::Role;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    const BAKU: Tz = chrono_tz::Asia::Baku;

    fn meeting() -> Meeting {
        Meeting {
            id: 4,
            title: "Erasmus committee".into(),
            starts_at: at("2026-12-10T10:00:00Z"),
            created_by: "@manager:uni.example".into(),
            created_at: at("2026-12-01T09:00:00Z"),
            participants: vec!["@manager:uni.example".into(), "@clerk:uni.example".into()],
            cancelled: None,
        }
    }

    fn member(id: &str, unit: &str, role: Role, clearance: Confidentiality) -> StaffMember {
        StaffMember {
            id: id.into(),
            name: id.trim_start_matches('@').split(':').next().unwrap().into(),
            unit: unit.into(),
            role,
            clearance,
        }
    }

    fn document(position: u32, number: &str, confidentiality: Confidentiality, unit: &str, files: &[&str]) -> PackDocument {
        PackDocument {
            item: AgendaItem {
                position,
                document_id: i64::from(position) * 10,
                number: number.into(),
                text: if position == 1 { "Nominations".into() } else { String::new() },
                added_by: "@manager:uni.example".into(),
                added_at: at("2026-12-01T09:00:00Z"),
            },
            subject: format!("Subject of {number}"),
            confidentiality,
            unit: unit.into(),
            files: files.iter().enumerate().map(|(i, name)| (u32::try_from(i + 1).unwrap_or(u32::MAX), name.to_string())).collect(),
        }
    }

    fn agenda() -> Vec<PackDocument> {
        vec![
            document(1, "IN-2026-000001", Confidentiality::Internal, "international", &["nominations.pdf", "../../etc/passwd"]),
            document(2, "IN-2026-000002", Confidentiality::Confidential, "international", &[]),
        ]
    }

    #[test]
    fn titles_items_and_participants_are_checked() {
        assert_eq!(check_title("  Erasmus committee ").unwrap(), "Erasmus committee");
        assert!(check_title(" ").unwrap_err().to_string().contains("empty"));
        assert!(check_title("a\nb").unwrap_err().to_string().contains("one line"));
        assert!(check_title(&"x".repeat(201)).unwrap_err().to_string().contains("200"));
        assert_eq!(check_item_text(" the  nominations\n").unwrap(), "the nominations");
        assert_eq!(
            parse_participants("@a:uni.example, @b:uni.example,@a:uni.example").unwrap(),
            vec!["@a:uni.example".to_string(), "@b:uni.example".to_string()]
        );
        assert!(parse_participants("@a:uni.example,bob").unwrap_err().to_string().contains("'bob' is not a Matrix ID"));
        assert!(parse_participants(" , ").unwrap_err().to_string().contains("at least one"));
    }

    #[test]
    fn each_meeting_error_reads_as_the_reply_says_it() {
        let cases = [
            (MeetingError::EmptyTitle, "the meeting's TITLE is empty"),
            (MeetingError::TitleNotOneLine, "the meeting's TITLE must be one line"),
            (MeetingError::TitleTooLong, "the meeting's TITLE is longer than 200 characters"),
            (MeetingError::ItemTooLong, "the item's TEXT is longer than 300 characters"),
            (MeetingError::NotAMatrixId("bob".into()), "participants=: 'bob' is not a Matrix ID such as @name:uni.example"),
            (MeetingError::NoParticipants, "participants=: name at least one person, such as participants=@name:uni.example"),
            (MeetingError::TooManyParticipants, "participants=: at most 100 people"),
            (
                MeetingError::InThePast {
                    starts_at: at("2026-12-01T08:00:00Z").with_timezone(&BAKU),
                    now: at("2026-12-01T09:00:00Z").with_timezone(&BAKU),
                },
                "The meeting's time 2026-12-01 12:00 is in the past (it is 2026-12-01 13:00 now); nothing was stored.",
            ),
        ];
        for (error, words) in cases {
            assert_eq!(error.to_string(), words);
        }
    }

    #[test]
    fn a_meeting_in_the_past_is_refused_and_a_late_pack_goes_now() {
        let now = at("2026-12-01T09:00:00Z");
        assert!(check_start(at("2026-12-01T10:00:00Z"), now, BAKU).is_ok());
        let problem = check_start(at("2026-12-01T08:00:00Z"), now, BAKU).unwrap_err().to_string();
        assert!(problem.contains("2026-12-01 12:00 is in the past (it is 2026-12-01 13:00 now)"), "{problem}");
        let day = chrono::Duration::days(1);
        assert_eq!(pack_due(at("2026-12-10T10:00:00Z"), day, now), at("2026-12-09T10:00:00Z"));
        assert_eq!(pack_due(at("2026-12-01T12:00:00Z"), day, now), now);
    }

    #[test]
    fn a_pack_attaches_what_the_participant_may_read_and_names_the_rest() {
        let manager = member("@manager:uni.example", "international", Role::Manager, Confidentiality::Confidential);
        let pack = pack_for(&meeting(), &agenda(), &manager, BAKU);
        assert_eq!(pack.subject, "Agenda pack: Erasmus committee, Thursday 2026-12-10 14:00 (Asia/Baku)");
        let names: Vec<&str> = pack.attachments.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["nominations.pdf", "passwd", "IN-2026-000002.eml"], "names are names, never paths");
        assert_eq!(pack.attachments[2].position, 0, "a letter without files goes as itself");
        assert_eq!(pack.disclosed, vec![20]);
        assert!(pack.withheld.is_empty());
        assert!(pack.text.contains("1. Nominations (IN-2026-000001 “Subject of IN-2026-000001”)\n   attached: nominations.pdf, passwd"));
        // Attached, but the text (kept in the register as an internal letter) does not say what.
        assert!(pack.text.contains("2. IN-2026-000002\n   attached: 1 file (confidential)"), "{}", pack.text);
        assert!(!pack.text.contains("Subject of IN-2026-000002"), "{}", pack.text);

        let clerk = member("@clerk:uni.example", "finance", Role::Staff, Confidentiality::Internal);
        let pack = pack_for(&meeting(), &agenda(), &clerk, BAKU);
        assert_eq!(pack.attachments.len(), 2);
        assert!(pack.attachments.iter().all(|a| a.document_id == 10));
        assert_eq!(pack.withheld, vec!["IN-2026-000002".to_string()]);
        assert!(pack.disclosed.is_empty());
        assert!(!pack.text.contains("Subject of IN-2026-000002"), "{}", pack.text);
        assert!(pack.text.contains("2. IN-2026-000002\n   not attached: IN-2026-000002 is confidential"), "{}", pack.text);
    }

    #[test]
    fn the_chat_agenda_hides_what_the_participant_may_not_read() {
        let clerk = member("@clerk:uni.example", "finance", Role::Staff, Confidentiality::Internal);
        let chat = pack_chat(&meeting(), &agenda(), &clerk, "the staff directory has no address for you", BAKU);
        assert!(chat.contains("could not be e-mailed to you: the staff directory has no address for you"), "{chat}");
        assert!(chat.contains("1. Nominations (IN-2026-000001 “Subject of IN-2026-000001”) (`!doc IN-2026-000001`)"), "{chat}");
        assert!(chat.contains("2. IN-2026-000002 (`!doc IN-2026-000002`)") && !chat.contains("Subject of IN-2026-000002"), "{chat}");
    }

    #[test]
    fn the_registered_copy_is_a_plain_mail_with_ascii_headers() {
        let raw = registered_copy(
            "Universitet Qeydiyyatı <registry@uni.example>",
            "leyla@uni.example",
            "[OUT-2026-000001] Agenda pack: Erasmus komitəsi, Thursday 2026-12-10 14:00 (Asia/Baku) with a long tail of words",
            "Agenda pack\n\n1. Müqavilə\n",
            "chancery.out.OUT-2026-000001.agenda4-1@uni.example",
            at("2026-12-09T10:00:00Z"),
        );
        let head_end = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        assert!(raw[..head_end].is_ascii());
        assert!(raw[..head_end].split(|&b| b == b'\n').filter(|line| line.contains(&b'?')).all(|line| line.len() <= 78));
        let letter = crate::core::letter::read_letter(&raw);
        assert_eq!(
            letter.subject,
            "[OUT-2026-000001] Agenda pack: Erasmus komitəsi, Thursday 2026-12-10 14:00 (Asia/Baku) with a long tail of words"
        );
        assert_eq!(letter.message_id.as_deref(), Some("chancery.out.OUT-2026-000001.agenda4-1@uni.example"));
        assert!(letter.body_text.contains("1. Müqavilə"), "{}", letter.body_text);
        assert_eq!(letter.from[0].address, "registry@uni.example");
        assert_eq!(letter.from[0].name.as_deref(), Some("Universitet Qeydiyyatı"));
    }
}
