//! `[matrix]`: the assistant's Matrix account and its state.

use std::path::PathBuf;

use serde::Deserialize;

use super::{ConfigError, Secret, is_loopback, password_of};

/// The Matrix side of the assistant.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MatrixConfig {
    /// Run the assistant in `serve`.
    pub enabled: bool,
    /// The homeserver's client URL, e.g. `https://matrix.uni.example`.
    pub homeserver: String,
    /// The bot's full Matrix ID, e.g. `@chancery:uni.example`.
    pub user: String,
    pub password: Secret,
    pub password_file: Option<PathBuf>,
    /// The session and the end-to-end crypto store: keep it, or each start is a new device
    /// that cannot read what was encrypted for the old one.
    pub state_dir: PathBuf,
    /// Where problems found while serving are told (rule-file errors): a room ID or alias.
    pub admin_room: Option<String>,
    /// The longest wait between two attempts to reach a lost homeserver.
    pub reconnect_max_secs: u64,
    /// The passphrase that encrypts the crypto store in `state_dir` (its first line). Unset,
    /// one is generated into `state_dir/store-passphrase` (mode 0600) on the first start.
    pub store_passphrase_file: Option<PathBuf>,
}

impl Default for MatrixConfig {
    fn default() -> Self {
        MatrixConfig {
            enabled: false,
            homeserver: String::new(),
            user: String::new(),
            password: Secret::default(),
            password_file: None,
            state_dir: PathBuf::from("matrix-state"),
            admin_room: None,
            reconnect_max_secs: 60,
            store_passphrase_file: None,
        }
    }
}

impl MatrixConfig {
    /// The password, from the config or from `password_file` (its first line).
    pub fn password(&self) -> Result<Secret, ConfigError> {
        password_of("matrix", &self.password, self.password_file.as_deref())
    }

    pub(super) fn check(&self) -> Result<(), ConfigError> {
        if !self.enabled {
            return Ok(());
        }
        if !(self.homeserver.starts_with("https://") || self.homeserver.starts_with("http://")) {
            return Err(ConfigError::HomeserverNotUrl(self.homeserver.clone()));
        }
        if self.homeserver.starts_with("http://") {
            let host = self.homeserver.trim_start_matches("http://").split(['/', ':']).next().unwrap_or("");
            if !is_loopback(host) {
                return Err(ConfigError::HomeserverPlainHttp(self.homeserver.clone()));
            }
        }
        let valid_user =
            self.user.strip_prefix('@').and_then(|rest| rest.split_once(':')).is_some_and(|(l, s)| !l.is_empty() && !s.is_empty());
        if !valid_user {
            return Err(ConfigError::MatrixUser(self.user.clone()));
        }
        Ok(())
    }
}
