//! What a package for the archive says of each document (`record.json`), and of the bag as a
//! whole (`register.csv`, `cases.csv`): plain data that the store reads out of the register and
//! writes back into another, so that an export imported into an empty register shows the same
//! entries, histories and cases.

use serde::{Deserialize, Serialize};

/// Which documents a package holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    Case(String),
    Year(i32),
    All,
}

impl Selection {
    /// The bag's `External-Identifier`: what it holds, as a person would name it.
    pub fn identifier(&self, university: &str) -> String {
        match self {
            Selection::Case(name) => format!("{university} register, case {name}"),
            Selection::Year(year) => format!("{university} register, {year}"),
            Selection::All => format!("{university} register"),
        }
    }
}

/// One registration entry, every field of the register, as `record.json` holds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocumentRecord {
    pub number: String,
    pub direction: String,
    pub year: i64,
    pub sequence: i64,
    pub subject: String,
    pub from: serde_json::Value,
    pub to: serde_json::Value,
    pub cc: serde_json::Value,
    pub from_address: String,
    pub message_id: Option<String>,
    pub replies_to: serde_json::Value,
    pub sent_at: Option<String>,
    pub received_at: String,
    pub registered_at: String,
    /// The sha256 and size of the message as received (`message.eml`, unless destroyed).
    pub sha256: String,
    pub size: i64,
    pub body_text: String,
    pub source: String,
    /// The number of its thread's first letter, when it belongs to another's thread.
    pub thread: Option<String>,
    pub flags: serde_json::Value,
    pub status: String,
    pub unit: String,
    pub classification: Option<String>,
    pub confidentiality: String,
    pub annul_reason: Option<String>,
    /// What the rules decided, and why.
    pub routing: Option<serde_json::Value>,
    pub tags: serde_json::Value,
    pub due_on: Option<String>,
    pub assignee: Option<String>,
    pub acknowledged_at: Option<String>,
    pub acknowledged_by: Option<String>,
    /// Its case file and that case's class.
    pub case: Option<String>,
    pub class: Option<String>,
    /// Set when its content was erased: by which decision, how (`destroyed`, `transferred`), when.
    pub disposed_by: Option<String>,
    pub disposal: Option<String>,
    pub disposed_on: Option<String>,
    /// The correspondents' domains it is filed under, for the partners' view.
    pub domains: Vec<String>,
    pub attachments: Vec<AttachmentRecord>,
    pub history: Vec<HistoryRecord>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentRecord {
    pub position: i64,
    /// As the sender named it: data, never a path (the file's name in the bag is `file`).
    pub name: String,
    pub media_type: String,
    pub size: i64,
    pub sha256: String,
    /// Its file in the bag, relative to the document's folder; `None` once destroyed.
    pub file: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryRecord {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub field: Option<String>,
    pub old_value: Option<String>,
    pub new_value: Option<String>,
    pub reason: Option<String>,
}

/// A case file as `cases.csv` holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseRecord {
    pub name: String,
    pub code: String,
    pub year: i64,
    pub sequence: Option<i64>,
    pub title: Option<String>,
    pub unit: Option<String>,
    pub opened_at: String,
    pub opened_by: String,
    pub closed_on: Option<String>,
    pub closed_at: Option<String>,
    pub closed_by: Option<String>,
    pub close_reason: Option<String>,
    pub kept_for: Option<String>,
    pub reviewed_on: Option<String>,
    pub disposed_by: Option<String>,
}

/// One line of `register.csv`: the bag's register, destroyed entries included and marked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterLine {
    pub number: String,
    pub direction: String,
    pub registered_at: String,
    pub case: String,
    pub class: String,
    pub unit: String,
    pub status: String,
    pub confidentiality: String,
    pub subject: String,
    pub correspondent: String,
    pub sha256: String,
    pub size: i64,
    /// `destroyed by D-2031-0004 on 2031-02-01`, or empty.
    pub disposal: String,
}

impl RegisterLine {
    pub fn of(record: &DocumentRecord) -> RegisterLine {
        let correspondents = if record.direction == "incoming" { &record.from } else { &record.to };
        let correspondent = correspondents
            .as_array()
            .and_then(|people| people.first())
            .and_then(|person| person.get("address"))
            .and_then(|address| address.as_str())
            .unwrap_or_default()
            .to_string();
        let disposal = match (&record.disposal, &record.disposed_by, &record.disposed_on) {
            (Some(how), Some(by), Some(on)) => format!("{how} by {by} on {on}"),
            _ => String::new(),
        };
        RegisterLine {
            number: record.number.clone(),
            direction: record.direction.clone(),
            registered_at: record.registered_at.clone(),
            case: record.case.clone().unwrap_or_default(),
            class: record.class.clone().unwrap_or_default(),
            unit: record.unit.clone(),
            status: record.status.clone(),
            confidentiality: record.confidentiality.clone(),
            subject: record.subject.clone(),
            correspondent,
            sha256: record.sha256.clone(),
            size: record.size,
            disposal,
        }
    }
}
