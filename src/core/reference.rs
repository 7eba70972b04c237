//! What a request names in the register: a document by its number, an agreement or a meeting by
//! its id. The store says which one it did not find, or which one changed under a request; the
//! adapters put it in their own words (`chancery` on a terminal, the assistant in chat).

use std::fmt;

/// One thing in the register, as a request names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reference {
    /// A registered letter, by its number (`IN-2026-000001`).
    Document(String),
    /// The message a document was registered from, by the document's number or id.
    StoredMessage(String),
    /// Attachment `position` (from 1) of a document.
    Attachment {
        of: String,
        position: i64,
    },
    Agreement(i64),
    /// A partner institution, by its handle.
    Partner(String),
    /// A line of the partner contact log.
    Contact(i64),
    Meeting(i64),
    AgendaItem {
        meeting: i64,
        position: i64,
    },
    VisaCase(i64),
    Reminder(i64),
    /// A person, by Matrix ID, looked up in the staff directory.
    StaffMember(String),
    /// A mail in the outbox, by its id.
    OutboxMail(i64),
    /// A case file, by its name (`03-02/2026`, `03-02/2026-4`).
    Case(String),
}

/// The reference as a noun phrase: "document IN-2026-000001", "item 2 of meeting 4".
impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reference::Document(number) => write!(f, "document {number}"),
            Reference::StoredMessage(of) => write!(f, "stored message for {of}"),
            Reference::Attachment { of, position } => write!(f, "attachment {position} of {of}"),
            Reference::Agreement(id) => write!(f, "agreement {id}"),
            Reference::Partner(handle) => write!(f, "partner {handle}"),
            Reference::Contact(id) => write!(f, "contact #{id}"),
            Reference::Meeting(id) => write!(f, "meeting {id}"),
            Reference::AgendaItem { meeting, position } => write!(f, "item {position} of meeting {meeting}"),
            Reference::VisaCase(id) => write!(f, "visa case {id}"),
            Reference::Reminder(id) => write!(f, "reminder {id}"),
            Reference::StaffMember(mxid) => write!(f, "{mxid}"),
            Reference::OutboxMail(id) => write!(f, "mail {id}"),
            Reference::Case(name) => write!(f, "case {name}"),
        }
    }
}

/// That the register holds no such thing, in the words of a terminal and a log line:
/// "no document IN-2026-000009".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotHeld<'a>(pub &'a Reference);

impl fmt::Display for NotHeld<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Reference::StoredMessage(of) => write!(f, "no stored message for {of}"),
            Reference::Attachment { of, position } => write!(f, "{of} has no attachment {position}"),
            Reference::StaffMember(mxid) => write!(f, "{mxid} is not in the staff directory"),
            Reference::OutboxMail(id) => write!(f, "no mail {id} in the outbox (see `chancery outbox`)"),
            other => write!(f, "no {other}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_reference_reads_as_a_terminal_says_it_is_missing() {
        let cases = [
            (Reference::Document("IN-2026-000009".into()), "no document IN-2026-000009"),
            (Reference::StoredMessage("IN-2026-000009".into()), "no stored message for IN-2026-000009"),
            (Reference::Attachment { of: "IN-2026-000009".into(), position: 3 }, "IN-2026-000009 has no attachment 3"),
            (Reference::Agreement(4), "no agreement 4"),
            (Reference::Partner("leuven".into()), "no partner leuven"),
            (Reference::Contact(7), "no contact #7"),
            (Reference::Meeting(2), "no meeting 2"),
            (Reference::AgendaItem { meeting: 2, position: 5 }, "no item 5 of meeting 2"),
            (Reference::VisaCase(3), "no visa case 3"),
            (Reference::Reminder(8), "no reminder 8"),
            (Reference::StaffMember("@ghost:uni.example".into()), "@ghost:uni.example is not in the staff directory"),
            (Reference::OutboxMail(6), "no mail 6 in the outbox (see `chancery outbox`)"),
        ];
        for (reference, words) in cases {
            assert_eq!(NotHeld(&reference).to_string(), words);
        }
    }
}
