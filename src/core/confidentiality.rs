//! How sensitive a document is: the levels of clearance, shared by intake, the rules that set a
//! level, and the viewer that decides who sees what.

use serde::{Deserialize, Serialize};

/// How sensitive a document is; the order is the order of clearance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Confidentiality {
    Public,
    Internal,
    Confidential,
    Secret,
}

impl Confidentiality {
    pub fn as_str(self) -> &'static str {
        match self {
            Confidentiality::Public => "public",
            Confidentiality::Internal => "internal",
            Confidentiality::Confidential => "confidential",
            Confidentiality::Secret => "secret",
        }
    }

    pub fn parse(text: &str) -> Option<Confidentiality> {
        match text.trim().to_ascii_lowercase().as_str() {
            "public" => Some(Confidentiality::Public),
            "internal" => Some(Confidentiality::Internal),
            "confidential" => Some(Confidentiality::Confidential),
            "secret" => Some(Confidentiality::Secret),
            _ => None,
        }
    }

    /// Subject and correspondent of such documents are shown only to the cleared.
    pub fn is_restricted(self) -> bool {
        self >= Confidentiality::Confidential
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confidentiality_orders_by_clearance() {
        assert!(Confidentiality::Secret.is_restricted());
        assert!(Confidentiality::Confidential.is_restricted());
        assert!(!Confidentiality::Internal.is_restricted());
        assert_eq!(Confidentiality::parse("Secret"), Some(Confidentiality::Secret));
    }
}
