//! `[smtp]`: outgoing mail.

use std::path::PathBuf;

use serde::Deserialize;

use super::{ConfigError, Secret, TlsMode, is_loopback, password_of};

/// Outgoing mail: acknowledgements, forwards to units, the university's own letters.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmtpConfig {
    /// Answer, forward and send mail. Off by default: then no acknowledgement or forward is
    /// written at all (nothing piles up to go out later), and `chancery send` refuses.
    pub enabled: bool,
    /// The submission server (the university's relay).
    pub host: String,
    pub port: Option<u16>,
    /// `implicit` (port 465), `starttls` (587) or `none` (25; loopback only).
    pub tls: TlsMode,
    /// Allow `tls = "none"` to a host that is not loopback (credentials and mail in the clear).
    pub allow_plaintext: bool,
    /// Extra CA certificate (PEM) to trust, for servers with a private CA.
    pub ca_file: Option<PathBuf>,
    /// Login; empty for a relay that trusts the network.
    pub user: String,
    pub password: Secret,
    pub password_file: Option<PathBuf>,
    /// The sender of every mail Chancery writes, e.g. `University Registry <registry@uni.example>`.
    pub from: String,
    /// The name Chancery gives itself in EHLO; the machine's host name when unset.
    pub hello_name: Option<String>,
    /// The university's domains (and their subdomains): no acknowledgement is sent to them.
    /// The domain of `from` is one without being listed.
    pub own_domains: Vec<String>,
    /// Acknowledgements one sender address gets per day at most.
    pub max_acks_per_sender_per_day: u32,
    /// The acknowledgement and forward templates.
    pub templates_dir: PathBuf,
    /// Connecting, and each SMTP command, may take this long.
    pub timeout_secs: u64,
    /// How often to look for mail that other processes enqueued.
    pub poll_secs: u64,
    /// Retry after a temporary failure: first after `retry_base_secs`, doubling up to
    /// `retry_max_secs`. A refused login waits `retry_max_secs` before the next mail is tried.
    pub retry_base_secs: u64,
    pub retry_max_secs: u64,
    /// A mail still failing temporarily after this long fails for good.
    pub give_up_after_secs: u64,
}

impl Default for SmtpConfig {
    fn default() -> Self {
        SmtpConfig {
            enabled: false,
            host: "localhost".into(),
            port: None,
            tls: TlsMode::Starttls,
            allow_plaintext: false,
            ca_file: None,
            user: String::new(),
            password: Secret::default(),
            password_file: None,
            from: String::new(),
            hello_name: None,
            own_domains: Vec::new(),
            max_acks_per_sender_per_day: 5,
            templates_dir: PathBuf::from("mail-rules/templates"),
            timeout_secs: 60,
            poll_secs: 5,
            retry_base_secs: 5,
            retry_max_secs: 600,
            give_up_after_secs: 3 * 24 * 3600,
        }
    }
}

impl SmtpConfig {
    pub fn port(&self) -> u16 {
        self.port.unwrap_or(match self.tls {
            TlsMode::Implicit => 465,
            TlsMode::Starttls => 587,
            TlsMode::None => 25,
        })
    }

    /// The password, from the config or from `password_file` (its first line).
    pub fn password(&self) -> Result<Secret, ConfigError> {
        password_of("smtp", &self.password, self.password_file.as_deref())
    }

    pub(super) fn check(&self) -> Result<(), ConfigError> {
        if !self.enabled {
            return Ok(());
        }
        if self.tls == TlsMode::None && !is_loopback(&self.host) && !self.allow_plaintext {
            return Err(ConfigError::SmtpPlaintext(self.host.clone()));
        }
        if !self.from.contains('@') {
            return Err(ConfigError::SmtpFrom);
        }
        if self.retry_base_secs == 0 || self.retry_max_secs < self.retry_base_secs {
            return Err(ConfigError::SmtpRetry);
        }
        Ok(())
    }
}
