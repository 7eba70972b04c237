//! What registering an outgoing letter writes besides its message, decided as data: the entry,
//! the line of its registration, and the letter it answers marked `answered`. The store takes
//! the number, has the message composed with it, and writes this plan down in the same
//! transaction (`store/register/outgoing.rs`), so the answer and the mark come together or not
//! at all.
//!
//! An answer schedules and ends no reminder: the answered letter's reminders end by themselves
//! when they fire and find it settled (`core::status::SETTLED_STATUSES`).

use super::confidentiality::Confidentiality;
use super::history::HistoryLine;
use super::intake::NewEntry;

/// The status an answered letter takes.
pub const ANSWERED: &str = "answered";

/// The registered letter an outgoing one answers, as composing the answer and planning its
/// registration need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnsweredLetter {
    pub id: i64,
    /// The first document of its thread, which the answer joins.
    pub root: i64,
    pub number: String,
    pub message_id: Option<String>,
    /// Its own References, oldest first.
    pub references: Vec<String>,
    /// Its status before the answer.
    pub status: String,
}

/// A document's status changed by the plan, with the line its history keeps of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusChange {
    pub document: i64,
    pub status: &'static str,
    pub history: HistoryLine,
}

/// An outgoing letter's registration.
#[derive(Debug, Clone)]
pub struct OutgoingPlan {
    /// The new entry: of the sender's unit, internal, in the thread of the letter it answers.
    pub entry: NewEntry,
    /// The first line of the new entry's history.
    pub registered: HistoryLine,
    /// The letter it answers, marked answered.
    pub answers: Option<StatusChange>,
}

/// The registration of the outgoing letter `number`, sent for `unit`, answering `answered`
/// when it answers a registered letter.
pub fn plan(number: &str, answered: Option<&AnsweredLetter>, unit: &str) -> OutgoingPlan {
    let entry = NewEntry {
        flags: Vec::new(),
        thread_root: answered.map(|a| a.root),
        unit: unit.to_string(),
        classification: None,
        confidentiality: Confidentiality::Internal,
        routing: None,
    };
    let registered = HistoryLine {
        action: "registered",
        field: None,
        old_value: None,
        new_value: Some(number.to_string()),
        reason: answered.map(|a| format!("answers {}", a.number)),
    };
    let answers = answered.map(|a| StatusChange {
        document: a.id,
        status: ANSWERED,
        history: HistoryLine {
            action: "answered",
            field: Some("status"),
            old_value: Some(a.status.clone()),
            new_value: Some(ANSWERED.to_string()),
            reason: Some(format!("answered by {number}")),
        },
    });
    OutgoingPlan { entry, registered, answers }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NUMBER: &str = "OUT-2026-000045";

    fn letter(status: &str) -> AnsweredLetter {
        AnsweredLetter {
            id: 7,
            root: 3,
            number: "IN-2026-000123".into(),
            message_id: Some("m1@metu.edu.tr".into()),
            references: Vec::new(),
            status: status.into(),
        }
    }

    /// A plan in a line: enough to tell plans apart in a table.
    fn summary(plan: &OutgoingPlan) -> String {
        let line = |l: &HistoryLine| {
            format!("{} {:?} {:?} -> {:?} ({})", l.action, l.field, l.old_value, l.new_value, l.reason.as_deref().unwrap_or(""))
        };
        let answers = plan.answers.as_ref().map(|a| format!("; {} is {}: {}", a.document, a.status, line(&a.history))).unwrap_or_default();
        format!(
            "{} {:?} thread {:?}: {}{answers}",
            plan.entry.unit,
            plan.entry.confidentiality,
            plan.entry.thread_root,
            line(&plan.registered)
        )
    }

    #[test]
    fn plans_follow_the_table() {
        let cases = [
            (
                "a letter of our own answers nothing",
                None,
                "registry Internal thread None: registered None None -> Some(\"OUT-2026-000045\") ()",
            ),
            (
                "an answer joins the thread and marks the letter answered",
                Some(letter("registered")),
                "international Internal thread Some(3): registered None None -> Some(\"OUT-2026-000045\") (answers IN-2026-000123); \
                 7 is answered: answered Some(\"status\") Some(\"registered\") -> Some(\"answered\") (answered by OUT-2026-000045)",
            ),
            (
                "a second answer is recorded as well",
                Some(letter("answered")),
                "international Internal thread Some(3): registered None None -> Some(\"OUT-2026-000045\") (answers IN-2026-000123); \
                 7 is answered: answered Some(\"status\") Some(\"answered\") -> Some(\"answered\") (answered by OUT-2026-000045)",
            ),
        ];
        for (name, answered, wanted) in cases {
            let unit = if answered.is_some() { "international" } else { "registry" };
            assert_eq!(summary(&plan(NUMBER, answered.as_ref(), unit)), wanted, "{name}");
        }
    }

    #[test]
    fn the_new_entry_carries_no_flags_class_or_routing() {
        let entry = plan(NUMBER, None, "registry").entry;
        assert!(entry.flags.is_empty() && entry.classification.is_none() && entry.routing.is_none(), "{entry:?}");
    }
}
