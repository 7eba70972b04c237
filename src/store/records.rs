//! What the store hands out: plain records, serializable for `--json`.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::core::flags::ReviewFlag;
use crate::core::letter::Correspondent;
use crate::core::viewer::{Restriction, Sight, Viewer};

use super::Result;

#[derive(Debug, Clone, Serialize)]
pub struct AttachmentInfo {
    pub position: i64,
    pub name: String,
    pub media_type: String,
    pub size: i64,
    pub sha256: String,
}

#[derive(Debug, Clone)]
pub struct StoredAttachment {
    pub name: String,
    pub media_type: String,
    pub content: Vec<u8>,
}

/// A line of a document's history: the one type a package's `record.json` carries too.
pub use crate::core::archive::package::HistoryRecord as HistoryEntry;

/// A registration entry as shown to staff and scripts.
#[derive(Debug, Clone, Serialize)]
pub struct DocumentRecord {
    #[serde(skip)]
    pub id: i64,
    pub number: String,
    pub direction: String,
    pub status: String,
    pub unit: String,
    pub classification: Option<String>,
    pub confidentiality: String,
    pub subject: String,
    pub from: Vec<Correspondent>,
    pub to: Vec<Correspondent>,
    pub cc: Vec<Correspondent>,
    pub message_id: Option<String>,
    pub sha256: String,
    pub size: i64,
    pub sent_at: Option<String>,
    pub received_at: String,
    pub registered_at: String,
    /// The number of the first document of this letter's thread (its own when it starts one).
    pub thread: String,
    pub attachments: Vec<AttachmentInfo>,
    pub flags: Vec<serde_json::Value>,
    pub source: String,
    pub annul_reason: Option<String>,
    /// What the rules decided and why (rule, conditions, matched text).
    pub routing: Option<serde_json::Value>,
    pub tags: Vec<String>,
    /// The answer is due on this day (working days from registration, as the rule said).
    pub due_on: Option<String>,
    /// The Matrix ID of the person working on it (`!doc assign`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    /// When and by whom its unit confirmed having it (`!doc ack`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acknowledged_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acknowledged_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<Vec<HistoryEntry>>,
    /// The case file it is filed in (`03-02/2026`), once filed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub case: Option<String>,
    /// How its content left the register, when a disposal erased it; the entry stays.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disposed: Option<Disposed>,
    /// The active holds that cover it (on it, its case or its class): read with its history.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub holds: Vec<super::HoldRecord>,
}

/// A disposal that erased a document's content: how (`destroyed` or `transferred`), by which
/// decision, on which day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Disposed {
    pub how: String,
    pub by: String,
    pub on: String,
}

impl Disposed {
    /// "destroyed by D-2031-0004 on 2031-02-01".
    pub fn line(&self) -> String {
        format!("{} by {} on {}", self.how, self.by, self.on)
    }

    /// From the register's columns `disposal`, `disposed_by`, `disposed_on`.
    pub(super) fn from_columns(how: Option<String>, by: Option<String>, on: Option<String>) -> Option<Disposed> {
        let by = by?;
        Some(Disposed { how: how.unwrap_or_else(|| "destroyed".into()), by, on: on.unwrap_or_default() })
    }
}

/// Which documents `list` returns.
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    pub status: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// Only documents with review flags, the review queue; annulled ones have been dealt with
    /// and are left out unless `status` asks for them.
    pub review: bool,
}

/// Something `verify` found wrong.
#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    pub number: String,
    pub item: String,
    pub detail: String,
}

pub(super) fn document_from_row(row: &AnyRow) -> Result<DocumentRecord> {
    let people = |i: usize| -> Result<Vec<Correspondent>> {
        let text: String = row.try_get(i)?;
        Ok(serde_json::from_str(&text).unwrap_or_default())
    };
    let flags_json: String = row.try_get(18)?;
    Ok(DocumentRecord {
        id: row.try_get(0)?,
        number: row.try_get(1)?,
        direction: row.try_get(2)?,
        status: row.try_get(3)?,
        unit: row.try_get(4)?,
        classification: row.try_get(5)?,
        confidentiality: row.try_get(6)?,
        subject: row.try_get(7)?,
        from: people(8)?,
        to: people(9)?,
        cc: people(10)?,
        message_id: row.try_get(11)?,
        sha256: row.try_get(12)?,
        size: row.try_get(13)?,
        sent_at: row.try_get(14)?,
        received_at: row.try_get(15)?,
        registered_at: row.try_get(16)?,
        thread: row.try_get(17)?,
        attachments: Vec::new(),
        flags: serde_json::from_str(&flags_json).unwrap_or_default(),
        source: row.try_get(19)?,
        annul_reason: row.try_get(20)?,
        routing: row.try_get::<Option<String>, _>(21)?.and_then(|text| serde_json::from_str(&text).ok()),
        tags: serde_json::from_str(&row.try_get::<String, _>(22)?).unwrap_or_default(),
        due_on: row.try_get(23)?,
        assignee: row.try_get(24)?,
        acknowledged_at: row.try_get(25)?,
        acknowledged_by: row.try_get(26)?,
        history: None,
        case: row.try_get(27)?,
        disposed: Disposed::from_columns(row.try_get(28)?, row.try_get(29)?, row.try_get(30)?),
        holds: Vec::new(),
    })
}

impl DocumentRecord {
    /// The review flags, read back from what the register stored.
    pub fn review_flags(&self) -> Vec<ReviewFlag> {
        self.flags.iter().map(|flag| serde_json::from_value(flag.clone()).unwrap_or(ReviewFlag::Unknown)).collect()
    }

    /// Who the letter is with: the sender of an incoming letter, the recipients of an
    /// outgoing one (never the university itself).
    pub fn correspondents(&self) -> &[Correspondent] {
        if self.direction == "incoming" { &self.from } else { &self.to }
    }

    /// The facts the viewer decides by (a level the register does not know counts as secret).
    pub fn restriction(&self) -> Restriction<'_> {
        Restriction::stored(&self.confidentiality, &self.unit)
    }

    /// This record as `viewer` may see it, and what they see: the viewer decides, this only
    /// hides what it said to hide. A `Sight::Full { disclosed: true }` must be written to the
    /// history (`store.documents().show` does both).
    pub fn seen_by(self, viewer: &Viewer) -> (DocumentRecord, Sight) {
        match viewer.sight(self.restriction()) {
            full @ Sight::Full { .. } => (self, full),
            redacted @ Sight::Redacted { .. } => (self.redacted(), redacted),
        }
    }

    /// The same record with what the uncleared may not see replaced by a notice. Who is
    /// uncleared is the `Viewer`'s to say: show documents through `seen_by`; this only never
    /// hides anything of an unrestricted document.
    pub fn redacted(mut self) -> DocumentRecord {
        if self.restriction().confidentiality.is_restricted() {
            self.subject = format!("[{}]", self.confidentiality);
            self.from = Vec::new();
            self.to = Vec::new();
            self.cc = Vec::new();
            for attachment in &mut self.attachments {
                attachment.name = format!("attachment-{}", attachment.position);
            }
        }
        self
    }
}
