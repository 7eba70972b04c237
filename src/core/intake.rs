//! Deciding what becomes of an arriving letter: a new entry, or one already in the register.

use std::sync::Arc;

use super::confidentiality::Confidentiality;
use super::flags::ReviewFlag;
use super::letter::Letter;
use super::number::{RegistrationNumber, numbers_in};
use super::reply::ReplyPolicy;
use super::rules::{Routing, RuleBook};

/// Where a letter came from, so the adapters can record their progress with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Imap {
        mailbox: String,
        uid_validity: u32,
        uid: u32,
    },
    File {
        path: String,
    },
    /// Written here and sent by Chancery (outgoing correspondence), by whom.
    Composed {
        by: String,
    },
}

impl Source {
    pub fn describe(&self) -> String {
        match self {
            Source::Imap { mailbox, uid_validity, uid } => format!("imap:{mailbox};uidvalidity={uid_validity};uid={uid}"),
            Source::File { path } => format!("file:{path}"),
            Source::Composed { by } => format!("composed:{by}"),
        }
    }
}

/// Where to look for the thread a letter belongs to: numbers in its subject first, then the
/// messages it says it answers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ThreadClues {
    pub numbers: Vec<RegistrationNumber>,
    pub message_ids: Vec<String>,
}

pub fn thread_clues(letter: &Letter) -> ThreadClues {
    ThreadClues { numbers: numbers_in(&letter.subject), message_ids: letter.replies_to.clone() }
}

/// What the register already holds that bears on a new letter, looked up by the store.
#[derive(Debug, Clone, Default)]
pub struct Known {
    /// A document with exactly the same bytes.
    pub same_bytes: Option<String>,
    /// The first document carrying the same Message-ID (with other bytes).
    pub same_message_id: Option<String>,
    /// The first document of the thread this letter continues.
    pub thread_root: Option<i64>,
}

/// What shapes a new entry: the rules in force, and defaults for what no rule decides.
#[derive(Debug, Clone)]
pub struct IntakePolicy {
    pub default_unit: String,
    pub default_confidentiality: Confidentiality,
    /// The routing rules; without them every letter stays with the default unit.
    pub rules: Option<Arc<RuleBook>>,
    /// How to answer and forward; without it nothing is sent.
    pub replies: Option<Arc<ReplyPolicy>>,
    /// Public holidays: not counted when a rule gives "due in N working days".
    pub holidays: Vec<chrono::NaiveDate>,
    /// Post the room cards routing asks for (`notify_room`); off where no assistant posts them
    /// (imports of old mail, `serve` without Matrix), as replies are off without SMTP.
    pub notify_rooms: bool,
}

/// A new entry as the core decided it; the store adds the number and the times.
#[derive(Debug, Clone)]
pub struct NewEntry {
    pub flags: Vec<ReviewFlag>,
    pub thread_root: Option<i64>,
    pub unit: String,
    pub classification: Option<String>,
    pub confidentiality: Confidentiality,
    /// What the rules decided and why; `None` when no rules are configured.
    pub routing: Option<Routing>,
}

#[derive(Debug, Clone)]
pub enum Decision {
    /// The same bytes are registered already: one letter, whatever path it took.
    AlreadyRegistered {
        number: String,
    },
    Register(Box<NewEntry>),
}

/// Decides what becomes of a letter. Losing a letter is worse than registering one twice, so a
/// letter that only shares a Message-ID is registered and flagged, never dropped.
pub fn decide(letter: &Letter, known: &Known, policy: &IntakePolicy) -> Decision {
    if let Some(number) = &known.same_bytes {
        return Decision::AlreadyRegistered { number: number.clone() };
    }
    let mut flags = letter.flags.clone();
    if let (Some(of), Some(message_id)) = (&known.same_message_id, &letter.message_id) {
        flags.push(ReviewFlag::PossibleDuplicate { message_id: message_id.clone(), of: of.clone() });
    }
    let routing = policy.rules.as_ref().map(|book| book.route(letter));
    let (unit, classification, confidentiality) = match &routing {
        Some(r) => (r.unit.clone(), r.classification.clone(), r.confidentiality.unwrap_or(policy.default_confidentiality)),
        None => (policy.default_unit.clone(), None, policy.default_confidentiality),
    };
    Decision::Register(Box::new(NewEntry { flags, thread_root: known.thread_root, unit, classification, confidentiality, routing }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::letter::read_letter;

    fn policy() -> IntakePolicy {
        // The shipped defaults: the registry, internal, no rules, no replies.
        crate::config::RegisterConfig::default().policy()
    }

    #[test]
    fn same_bytes_are_one_letter() {
        let letter = read_letter(b"From: a@x.org\r\nSubject: s\r\n\r\nb\r\n");
        let known = Known { same_bytes: Some("IN-2026-000001".into()), ..Known::default() };
        assert!(matches!(decide(&letter, &known, &policy()), Decision::AlreadyRegistered { number } if number == "IN-2026-000001"));
    }

    #[test]
    fn shared_message_id_is_registered_and_flagged() {
        let letter = read_letter(b"From: a@x.org\r\nMessage-ID: <same@x.org>\r\nSubject: s\r\n\r\nother\r\n");
        let known = Known { same_message_id: Some("IN-2026-000001".into()), ..Known::default() };
        let Decision::Register(entry) = decide(&letter, &known, &policy()) else { panic!("must register") };
        assert_eq!(entry.flags.len(), 1);
        assert_eq!(entry.flags[0].name(), "possible-duplicate");
        assert_eq!(entry.unit, "registry");
    }
}
