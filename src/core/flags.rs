//! Review flags: why a registered document needs a person's eye.

use serde::{Deserialize, Serialize};

/// Something about a letter that registry staff should look at. Flagged letters are still
/// registered in full; the flag only asks for review.
/// Stored as JSON (`{"flag":"oversize","size":...}`) and read back into this type, so that one
/// place turns a stored flag into words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
    /// A flag a later version of Chancery wrote; it is shown, not understood.
    #[serde(other)]
    Unknown,
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
            ReviewFlag::Unknown => "unknown",
        }
    }

    /// A sentence for people.
    pub fn describe(&self) -> String {
        match self {
            ReviewFlag::Unparsed => "not a mail message (no mail headers); kept raw".into(),
            ReviewFlag::BrokenMime { detail } => format!("broken MIME structure: {detail}"),
            ReviewFlag::UnknownCharset { charset } => format!("unknown charset {charset:?}"),
            ReviewFlag::HostileAttachmentName { original } => {
                format!("attachment name {original:?} was unsafe and has been cleaned")
            }
            ReviewFlag::Oversize { size, limit } => {
                format!(
                    "message of {size} bytes exceeds the {limit}-byte limit: registered from its headers; \
                     the whole message stays where it came from (the mailbox or the file)"
                )
            }
            ReviewFlag::PossibleDuplicate { message_id, of } => {
                format!("Message-ID <{message_id}> was already registered as {of} with different content")
            }
            ReviewFlag::Unknown => "a review flag this version of Chancery does not know".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_flags_read_back_into_words() {
        let flags = [
            ReviewFlag::Unparsed,
            ReviewFlag::Oversize { size: 6000, limit: 5000 },
            ReviewFlag::PossibleDuplicate { message_id: "a@b".into(), of: "IN-2026-000001".into() },
        ];
        for flag in flags {
            let stored = serde_json::to_value(&flag).unwrap();
            assert_eq!(stored["flag"], flag.name());
            assert_eq!(serde_json::from_value::<ReviewFlag>(stored).unwrap(), flag);
        }
        let oversize: ReviewFlag = serde_json::from_str(r#"{"flag":"oversize","size":6000,"limit":5000}"#).unwrap();
        assert!(oversize.describe().starts_with("message of 6000 bytes exceeds the 5000-byte limit"), "{}", oversize.describe());
        let later: ReviewFlag = serde_json::from_str(r#"{"flag":"virus-suspected","engine":"x"}"#).unwrap();
        assert_eq!(later, ReviewFlag::Unknown);
    }
}
