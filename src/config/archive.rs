//! `[archive]`: when the yearly cases close.

use serde::Deserialize;

use super::ConfigError;
use crate::core::archive::Cutoff;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ArchiveConfig {
    /// The day (`MM-DD`, in the office's zone) the yearly cases close at its end, and their
    /// retention starts: `12-31`, or e.g. `08-31` for an academic year.
    pub cutoff: String,
}

impl Default for ArchiveConfig {
    fn default() -> Self {
        ArchiveConfig { cutoff: Cutoff::default().to_string() }
    }
}

impl ArchiveConfig {
    pub fn cutoff(&self) -> Result<Cutoff, ConfigError> {
        Ok(self.cutoff.parse()?)
    }
}
