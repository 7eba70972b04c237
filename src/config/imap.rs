//! `[imap]`: the mailbox the listener registers, and how it is marked.

use std::path::PathBuf;

use serde::Deserialize;

use super::{ConfigError, DEFAULT_MAX_MESSAGE_BYTES, Secret, TlsMode, password_of};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MarkMode {
    /// Add an IMAP keyword (default `$Registered`); the message stays where it is.
    Keyword,
    /// Move the message to another folder.
    Move,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ImapConfig {
    pub enabled: bool,
    pub host: String,
    pub port: Option<u16>,
    pub tls: TlsMode,
    /// Allow `tls = "none"` to a host that is not loopback. Credentials then cross the network
    /// in the clear; say so only on a network you trust.
    pub allow_plaintext: bool,
    /// Extra CA certificate (PEM) to trust, for servers with a private CA.
    pub ca_file: Option<PathBuf>,
    pub user: String,
    pub password: Secret,
    pub password_file: Option<PathBuf>,
    pub mailbox: String,
    pub mark: MarkMode,
    pub keyword: String,
    pub move_to: String,
    /// The limit the listener applies: `register.max_message_bytes`, filled in when the
    /// configuration is loaded. In a file, `imap.max_message_bytes` is its old name, still read.
    pub max_message_bytes: Option<u64>,
    /// How much to download in one FETCH during catch-up.
    pub fetch_batch_bytes: u64,
    /// IDLE is re-issued after this long, before the server's 30-minute timeout.
    pub idle_renew_secs: u64,
    /// Polling interval for servers without IDLE.
    pub poll_secs: u64,
    /// Reconnection backoff doubles from 1 s up to this cap. A login the server refuses after
    /// it has worked is retried at this interval only, so that retries do not lock the account.
    pub reconnect_max_secs: u64,
}

impl Default for ImapConfig {
    fn default() -> Self {
        ImapConfig {
            enabled: true,
            host: "localhost".into(),
            port: None,
            tls: TlsMode::Implicit,
            allow_plaintext: false,
            ca_file: None,
            user: String::new(),
            password: Secret::default(),
            password_file: None,
            mailbox: "INBOX".into(),
            mark: MarkMode::Keyword,
            keyword: "$Registered".into(),
            move_to: "Registered".into(),
            max_message_bytes: None,
            fetch_batch_bytes: 4 * 1024 * 1024,
            idle_renew_secs: 25 * 60,
            poll_secs: 60,
            reconnect_max_secs: 60,
        }
    }
}

impl ImapConfig {
    /// Messages larger than this are registered from their headers and left in the mailbox.
    pub fn max_message_bytes(&self) -> u64 {
        self.max_message_bytes.unwrap_or(DEFAULT_MAX_MESSAGE_BYTES)
    }

    pub fn port(&self) -> u16 {
        self.port.unwrap_or(match self.tls {
            TlsMode::Implicit => 993,
            TlsMode::Starttls | TlsMode::None => 143,
        })
    }

    /// The password, from the config or from `password_file` (its first line).
    pub fn password(&self) -> Result<Secret, ConfigError> {
        password_of("imap", &self.password, self.password_file.as_deref())
    }
}
