//! `[register]`, `[rules]` and `[database]`: the register, its routing rules and where it is kept.

use std::path::PathBuf;

use serde::Deserialize;

use super::ConfigError;
use crate::core::confidentiality::Confidentiality;
use crate::core::intake::IntakePolicy;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RulesConfig {
    /// Route letters by the rules in `dir`; without rules every letter stays with the default unit.
    pub enabled: bool,
    /// The folder of routing rules and units that registry staff edit.
    pub dir: PathBuf,
}

impl Default for RulesConfig {
    fn default() -> Self {
        RulesConfig { enabled: true, dir: PathBuf::from("mail-rules") }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// `sqlite://chancery.db` (embedded) or `postgres://host/db` (shared by several instances).
    pub url: String,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig { url: "sqlite://chancery.db".into() }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RegisterConfig {
    /// The office's time zone: registration years and the daily register follow its calendar.
    pub timezone: String,
    /// The unit that holds letters until routing sends them elsewhere (the registry itself).
    pub default_unit: String,
    pub default_confidentiality: Confidentiality,
    /// Public holidays (`"2027-03-20"`), skipped when counting working days to a due date.
    pub holidays: Vec<chrono::NaiveDate>,
    /// Messages larger than this, from the mailbox or from files, are registered from their
    /// headers and flagged `oversize`; the whole message stays where it is.
    pub max_message_bytes: Option<u64>,
}

/// 50 MB: larger than what mail servers accept, smaller than what fits in memory twice.
pub const DEFAULT_MAX_MESSAGE_BYTES: u64 = 50 * 1024 * 1024;

impl Default for RegisterConfig {
    fn default() -> Self {
        RegisterConfig {
            timezone: "Asia/Baku".into(),
            default_unit: "registry".into(),
            default_confidentiality: Confidentiality::Internal,
            holidays: Vec::new(),
            max_message_bytes: None,
        }
    }
}

impl RegisterConfig {
    pub fn max_message_bytes(&self) -> u64 {
        self.max_message_bytes.unwrap_or(DEFAULT_MAX_MESSAGE_BYTES)
    }

    pub fn zone(&self) -> Result<chrono_tz::Tz, ConfigError> {
        self.timezone.parse().map_err(|_| ConfigError::TimeZone(self.timezone.clone()))
    }

    pub fn policy(&self) -> IntakePolicy {
        IntakePolicy {
            default_unit: self.default_unit.clone(),
            default_confidentiality: self.default_confidentiality,
            rules: None,
            replies: None,
            holidays: self.holidays.clone(),
            notify_rooms: false,
        }
    }
}
