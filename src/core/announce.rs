//! What Chancery posts in Matrix rooms on its own: a short card in a unit's room for a new letter
//! that routing says to announce (`notify_room`), and rule-file errors in the admin room. Pure:
//! facts in, Markdown out. The store's room outbox keeps each message until the Matrix adapter
//! has posted it.

use chrono::NaiveDate;

use super::confidentiality::Confidentiality;
use super::letter::Correspondent;
use super::markdown;
pub use super::viewer::CONFIDENTIAL_PLACEHOLDER;
use super::viewer::{Restriction, Viewer};

/// The longest sender or subject a card shows, in characters.
const MAX_FIELD_CHARS: usize = 200;

/// Rule-file errors one admin message lists; the log has them all.
const MAX_ERRORS_LISTED: usize = 10;

/// Where a room message goes. The Matrix adapter resolves it: a unit's room is the one bound with
/// `!room bind`, else the one `units.toml` names; `Admin` is the configuration's `admin_room`;
/// a person gets a direct message; a room is named by its ID or alias.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(into = "String")]
pub enum RoomTarget {
    Unit(String),
    Admin,
    /// A direct message to a Matrix ID (`@name:server`).
    Person(String),
    /// A room ID (`!id:server`) or alias (`#name:server`).
    Room(String),
}

impl RoomTarget {
    /// How the outbox stores the admin room's target.
    pub const ADMIN: &'static str = "admin";

    /// The stored form: a Matrix ID, room ID or alias as it is (their sigils tell them apart
    /// from unit ids, which are plain words), `admin`, or the unit's id.
    pub fn as_str(&self) -> &str {
        match self {
            RoomTarget::Unit(unit) => unit,
            RoomTarget::Admin => RoomTarget::ADMIN,
            RoomTarget::Person(mxid) => mxid,
            RoomTarget::Room(room) => room,
        }
    }

    pub fn parse(text: &str) -> RoomTarget {
        match text.chars().next() {
            Some('@') => RoomTarget::Person(text.to_string()),
            Some('!' | '#') => RoomTarget::Room(text.to_string()),
            _ if text == RoomTarget::ADMIN => RoomTarget::Admin,
            _ => RoomTarget::Unit(text.to_string()),
        }
    }
}

impl From<RoomTarget> for String {
    fn from(target: RoomTarget) -> String {
        target.as_str().to_string()
    }
}

impl std::fmt::Display for RoomTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a unit's room is told about a new letter.
#[derive(Debug, Clone, Copy)]
pub struct LetterCard<'a> {
    pub number: &'a str,
    pub unit: &'a str,
    pub sender: Option<&'a Correspondent>,
    pub subject: &'a str,
    pub confidentiality: Confidentiality,
    pub due_on: Option<NaiveDate>,
}

/// The card, in Markdown, two or three lines: the number, unit and due date; then the sender and
/// the subject, or, for a confidential or secret letter, a placeholder and where to ask.
pub fn letter_card(card: &LetterCard<'_>) -> String {
    let due = card.due_on.map(|day| format!(", due {day}")).unwrap_or_default();
    let mut lines = vec![format!("New letter **{}** for {}{due}", card.number, inline(card.unit))];
    // A room is a broadcast: the viewer decides what it may read.
    if Viewer::broadcast().hides_subject(Restriction { confidentiality: card.confidentiality, unit: card.unit }) {
        lines.push(format!("{CONFIDENTIAL_PLACEHOLDER} sender and subject only in a direct message: `!doc {}`", card.number));
    } else {
        let sender = match card.sender {
            Some(Correspondent { name: Some(name), address }) if !name.trim().is_empty() => {
                format!("{} ({})", inline(name), inline(address))
            }
            Some(Correspondent { address, .. }) => inline(address),
            None => "(no sender)".to_string(),
        };
        let subject = if card.subject.trim().is_empty() { "(no subject)".to_string() } else { inline(card.subject) };
        lines.push(format!("From: {sender}"));
        lines.push(format!("Subject: {subject}"));
    }
    // Two spaces before a newline: a hard line break in Markdown, invisible in the plain-text body.
    lines.join("  \n")
}

/// The message for the admin room when the rule files turn out broken while Chancery runs.
pub fn rule_file_errors(errors: &[String]) -> String {
    let mut text = String::from("**The rule files in mail-rules/ are broken**; the rules in force stay until they are fixed:");
    for error in errors.iter().take(MAX_ERRORS_LISTED) {
        text.push_str("\n- ");
        text.push_str(&inline(error));
    }
    if errors.len() > MAX_ERRORS_LISTED {
        text.push_str(&format!("\n- … and {} more (`chancery rules check` lists them all)", errors.len() - MAX_ERRORS_LISTED));
    }
    text
}

/// Text from a letter or a file as one line of Markdown that formats nothing
/// (`markdown::literal`), cut when it is long.
fn inline(text: &str) -> String {
    let line = text.split(|c: char| c.is_whitespace() || c.is_control()).filter(|part| !part.is_empty()).collect::<Vec<_>>().join(" ");
    if line.chars().count() <= MAX_FIELD_CHARS {
        return markdown::literal(&line);
    }
    let cut: String = line.chars().take(MAX_FIELD_CHARS).collect();
    format!("{}…", markdown::literal(&cut))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kaya() -> Correspondent {
        Correspondent { name: Some("Prof. Ayşe Kaya".into()), address: "a.kaya@metu.edu.tr".into() }
    }

    fn card<'a>(sender: Option<&'a Correspondent>, subject: &'a str, confidentiality: Confidentiality) -> LetterCard<'a> {
        LetterCard {
            number: "IN-2026-000123",
            unit: "international",
            sender,
            subject,
            confidentiality,
            due_on: NaiveDate::from_ymd_opt(2026, 12, 15),
        }
    }

    #[test]
    fn a_card_shows_number_unit_due_date_sender_and_subject_on_three_lines() {
        let sender = kaya();
        let text = letter_card(&card(Some(&sender), "Joint summer school 2027", Confidentiality::Internal));
        let lines: Vec<&str> = text.lines().map(str::trim_end).collect();
        assert_eq!(
            lines,
            [
                "New letter **IN-2026-000123** for international, due 2026-12-15",
                "From: Prof. Ayşe Kaya (a.kaya@metu.edu.tr)",
                "Subject: Joint summer school 2027",
            ]
        );
        assert!(text.contains("  \n"), "lines end in hard breaks: {text:?}");
    }

    #[test]
    fn a_confidential_or_secret_card_shows_neither_subject_nor_sender() {
        let sender = kaya();
        for level in [Confidentiality::Confidential, Confidentiality::Secret] {
            let text = letter_card(&card(Some(&sender), "MƏXFİ: staff matter", level));
            assert!(text.contains(CONFIDENTIAL_PLACEHOLDER), "{text}");
            assert!(text.contains("IN-2026-000123") && text.contains("international") && text.contains("2026-12-15"), "{text}");
            for secret in ["staff matter", "Kaya", "metu"] {
                assert!(!text.contains(secret), "{secret} leaked: {text}");
            }
            assert_eq!(text.lines().count(), 2);
        }
    }

    #[test]
    fn a_card_without_due_date_sender_or_subject_says_so() {
        let text = letter_card(&LetterCard { due_on: None, ..card(None, "  ", Confidentiality::Public) });
        assert!(text.starts_with("New letter **IN-2026-000123** for international  \n"), "{text}");
        assert!(text.contains("From: (no sender)") && text.contains("Subject: (no subject)"), "{text}");
    }

    #[test]
    fn what_a_letter_says_cannot_format_the_card_or_break_its_lines() {
        let sender = Correspondent { name: Some("*Boss*".into()), address: "x_y@z.org".into() };
        let text = letter_card(&card(Some(&sender), "<img src=x> [click](http://evil)\n# big `code`", Confidentiality::Internal));
        assert!(text.contains(r"From: \*Boss\* (x\_y@z.org)"), "{text}");
        assert!(text.contains(r"Subject: \<img src=x\> \[click\](http://evil) \# big \`code\`"), "{text}");
        assert_eq!(text.lines().count(), 3);
        let long = "word ".repeat(100);
        let text = letter_card(&card(None, &long, Confidentiality::Internal));
        assert!(text.lines().last().is_some_and(|line| line.ends_with('…') && line.chars().count() < MAX_FIELD_CHARS + 20), "{text}");
    }

    #[test]
    fn rule_file_errors_are_listed_one_per_line_and_capped() {
        let errors: Vec<String> = (1..=12).map(|n| format!("20-international.toml:{n}: unknown key 'unti'")).collect();
        let text = rule_file_errors(&errors);
        assert!(text.contains("\n- 20-international.toml:1: unknown key 'unti'"), "{text}");
        assert!(!text.contains(":11:"), "{text}");
        assert!(text.contains("and 2 more"), "{text}");
        assert_eq!(rule_file_errors(&errors[..1]).lines().count(), 2);
    }

    #[test]
    fn room_targets_round_trip_as_stored() {
        assert_eq!(RoomTarget::parse("admin"), RoomTarget::Admin);
        assert_eq!(RoomTarget::parse("international"), RoomTarget::Unit("international".into()));
        assert_eq!(RoomTarget::Unit("hr".into()).as_str(), "hr");
        assert_eq!(serde_json::to_string(&RoomTarget::Admin).unwrap(), "\"admin\"");
    }
}
