//! Review flags: why a registered document needs a person's eye.

use serde::Serialize;

/// Something about a letter that registry staff should look at. Flagged letters are still
/// registered in full; the flag only asks for review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "flag", rename_all = "kebab-case")]
pub enum ReviewFlag {
    /// The bytes are not a mail message; they are kept raw.
    Unparsed,
    BrokenMime {
        detail: String,
    },
    UnknownCharset {
        charset: String,
    },
    /// An attachment name tried to be a path, held control characters, or was too long.
    HostileAttachmentName {
        original: String,
    },
    /// Larger than the configured limit: registered from its headers, left in the mailbox.
    Oversize {
        size: u64,
        limit: u64,
    },
    /// Another, different letter already carries this Message-ID.
    PossibleDuplicate {
        message_id: String,
        of: String,
    },
}

impl ReviewFlag {
    /// The short name used in listings and filters.
    pub fn name(&self) -> &'static str {
        match self {
            ReviewFlag::Unparsed => "unparsed",
            ReviewFlag::BrokenMime { .. } => "broken-mime",
            ReviewFlag::UnknownCharset { .. } => "unknown-charset",
            ReviewFlag::HostileAttachmentName { .. } => "hostile-attachment-name",
            ReviewFlag::Oversize { .. } => "oversize",
            ReviewFlag::PossibleDuplicate { .. } => "possible-duplicate",
        }
    }

    /// A sentence for people.
    pub fn describe(&self) -> String {
        match self {
            ReviewFlag::Unparsed => "the message could not be parsed; kept raw".into(),
            ReviewFlag::BrokenMime { detail } => format!("broken MIME structure: {detail}"),
            ReviewFlag::UnknownCharset { charset } => format!("unknown charset {charset:?}"),
            ReviewFlag::HostileAttachmentName { original } => {
                format!("attachment name {original:?} was unsafe and has been cleaned")
            }
            ReviewFlag::Oversize { size, limit } => {
                format!("message of {size} bytes exceeds the {limit}-byte limit: registered from its headers and left in the mailbox")
            }
            ReviewFlag::PossibleDuplicate { message_id, of } => {
                format!("Message-ID <{message_id}> was already registered as {of} with different content")
            }
        }
    }
}
