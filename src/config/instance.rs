//! `[instance]`: this `serve` among several sharing one register.

use serde::Deserialize;

use super::ConfigError;

/// This `serve` among several sharing one PostgreSQL register.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct InstanceConfig {
    /// Its name in `chancery status` and on what it claims; `HOST:PID` when unset. Two running
    /// instances must not share one.
    pub name: Option<String>,
    /// How long its heartbeat and the mailbox lease hold: within about this long after it dies,
    /// another instance takes over.
    pub lease_secs: u64,
    /// How often it renews them; a holder that could not renew for `lease_secs - renew_secs`
    /// stops listening.
    pub renew_secs: u64,
}

impl Default for InstanceConfig {
    fn default() -> Self {
        InstanceConfig { name: None, lease_secs: 20, renew_secs: 5 }
    }
}

impl InstanceConfig {
    pub fn terms(&self) -> Result<crate::core::lease::Terms, ConfigError> {
        Ok(crate::core::lease::Terms::new(self.lease_secs, self.renew_secs)?)
    }
}
