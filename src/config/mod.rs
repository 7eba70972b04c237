//! Configuration: a TOML file, every key overridable by `CHANCERY_<SECTION>__<KEY>`.

//!
//! One file per section, or per pair of sections read together: `imap`, `smtp`, `matrix`,
//! `assistant` (with `[university]`), `reminders`, `register` (with `[rules]` and
//! `[database]`), `http`, `instance` and `archive`. Here: the whole file, its loading and checks, and
//! what the sections share (passwords, TLS modes, what counts as loopback).

mod archive;
mod assistant;
mod error;
mod http;
mod imap;
mod instance;
mod matrix;
mod register;
mod reminders;
mod smtp;

use std::net::IpAddr;
use std::path::Path;

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use serde::Deserialize;

use crate::core::template::one_line;

pub use archive::ArchiveConfig;
pub use assistant::{AssistantConfig, UniversityConfig};
pub use error::ConfigError;
pub use http::HttpConfig;
pub use imap::{ImapConfig, MarkMode};
pub use instance::InstanceConfig;
pub use matrix::MatrixConfig;
pub use register::{DEFAULT_MAX_MESSAGE_BYTES, DatabaseConfig, RegisterConfig, RulesConfig};
pub use reminders::RemindersConfig;
pub use smtp::SmtpConfig;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub imap: ImapConfig,
    #[serde(default)]
    pub database: DatabaseConfig,
    #[serde(default)]
    pub register: RegisterConfig,
    #[serde(default)]
    pub log: LogConfig,
    #[serde(default)]
    pub rules: RulesConfig,
    #[serde(default)]
    pub smtp: SmtpConfig,
    #[serde(default)]
    pub matrix: MatrixConfig,
    #[serde(default)]
    pub assistant: AssistantConfig,
    #[serde(default)]
    pub university: UniversityConfig,
    #[serde(default)]
    pub reminders: RemindersConfig,
    #[serde(default)]
    pub http: HttpConfig,
    #[serde(default)]
    pub instance: InstanceConfig,
    #[serde(default)]
    pub archive: ArchiveConfig,
}

/// A password that never prints: `Debug` and logs show only that one is set.
#[derive(Clone, Default, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_empty() { "<unset>" } else { "<redacted>" })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    /// TLS from the first byte (IMAPS, port 993).
    Implicit,
    /// Plain connection upgraded with STARTTLS before login (port 143).
    Starttls,
    /// No TLS: loopback only, unless `allow_plaintext` says otherwise.
    None,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// A tracing filter such as `info` or `chancery=debug`.
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig { level: "info".into() }
    }
}

impl Config {
    /// Loads the file (if it exists; a missing default file is fine) and the environment.
    pub fn load(path: &Path, path_was_given: bool) -> Result<Config, ConfigError> {
        if path_was_given && !path.exists() {
            return Err(ConfigError::NoFile(path.to_path_buf()));
        }
        // Only CHANCERY_SECTION__KEY variables configure; others sharing the prefix do not.
        let env = Env::prefixed("CHANCERY_").filter(|key| key.as_str().contains("__")).split("__");
        let mut config: Config =
            Figment::new().merge(Toml::file(path)).merge(env).extract().map_err(|e| ConfigError::Unreadable(one_line(&e.to_string())))?;
        config.settle_message_limit()?;
        config.check()?;
        Ok(config)
    }

    /// One limit for every intake: `register.max_message_bytes`, or the old
    /// `imap.max_message_bytes` where only that is set; both, and different, is an error.
    fn settle_message_limit(&mut self) -> Result<(), ConfigError> {
        let limit = match (self.register.max_message_bytes, self.imap.max_message_bytes) {
            (Some(register), Some(imap)) if register != imap => return Err(ConfigError::MessageLimitsDiffer { register, imap }),
            (register, imap) => register.or(imap).unwrap_or(DEFAULT_MAX_MESSAGE_BYTES),
        };
        self.register.max_message_bytes = Some(limit);
        self.imap.max_message_bytes = Some(limit);
        Ok(())
    }

    fn check(&self) -> Result<(), ConfigError> {
        self.register.zone()?;
        if self.imap.enabled && self.imap.tls == TlsMode::None && !is_loopback(&self.imap.host) && !self.imap.allow_plaintext {
            return Err(ConfigError::ImapPlaintext(self.imap.host.clone()));
        }
        self.smtp.check()?;
        self.matrix.check()?;
        self.reminders.check()?;
        self.http.check()?;
        self.instance.terms()?;
        self.archive.cutoff()?;
        Ok(())
    }
}

/// A section's password: the first line of its `password_file` when one is set, else `password`.
fn password_of(section: &'static str, password: &Secret, file: Option<&Path>) -> Result<Secret, ConfigError> {
    match file {
        Some(path) => std::fs::read_to_string(path)
            .map(|text| Secret(text.lines().next().unwrap_or("").to_string()))
            .map_err(|e| ConfigError::PasswordFile { section, path: path.to_path_buf(), reason: e.to_string() }),
        None => Ok(password.clone()),
    }
}

pub fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost") || host.parse::<IpAddr>().map(|ip| ip.is_loopback()).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(clippy::result_large_err)] // figment's test jail returns its own error type
    fn load_with(toml: &str, env: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let mut result = None;
        figment::Jail::expect_with(|jail| {
            jail.create_file("chancery.toml", toml)?;
            for (k, v) in env {
                jail.set_env(k, v);
            }
            result = Some(Config::load(Path::new("chancery.toml"), true));
            Ok(())
        });
        result.expect("jail ran")
    }

    #[test]
    fn environment_overrides_the_file() {
        let config = load_with(
            "[imap]\nhost = \"imap.uni.example\"\nport = 993\nuser = \"registry\"\n",
            &[("CHANCERY_IMAP__PORT", "10993"), ("CHANCERY_IMAP__PASSWORD", "s3cret"), ("CHANCERY_TEST_IGNORED", "1")],
        )
        .unwrap();
        assert_eq!(config.imap.port(), 10993);
        assert_eq!(config.imap.host, "imap.uni.example");
        assert_eq!(config.imap.password.expose(), "s3cret");
        assert!(!format!("{config:?}").contains("s3cret"), "a password never prints");
    }

    #[test]
    fn plaintext_is_refused_off_loopback() {
        let err = load_with("[imap]\nhost = \"imap.uni.example\"\ntls = \"none\"\n", &[]).unwrap_err().to_string();
        assert!(err.contains("refused"), "{err}");
        assert!(load_with("[imap]\nhost = \"127.0.0.1\"\ntls = \"none\"\n", &[]).is_ok());
        assert!(load_with("[imap]\nhost = \"imap.uni.example\"\ntls = \"none\"\nallow_plaintext = true\n", &[]).is_ok());
    }

    #[test]
    fn smtp_plaintext_is_refused_off_loopback() {
        let on = "[smtp]\nenabled = true\nfrom = \"registry@uni.example\"\n";
        let err = load_with(&format!("{on}host = \"smtp.uni.example\"\ntls = \"none\"\n"), &[]).unwrap_err().to_string();
        assert!(err.contains("smtp.tls") && err.contains("refused"), "{err}");
        assert!(load_with(&format!("{on}host = \"127.0.0.1\"\ntls = \"none\"\n"), &[]).is_ok());
        assert!(load_with(&format!("{on}host = \"smtp.uni.example\"\ntls = \"none\"\nallow_plaintext = true\n"), &[]).is_ok());
        let err = load_with("[smtp]\nenabled = true\nhost = \"smtp.uni.example\"\n", &[]).unwrap_err().to_string();
        assert!(err.contains("smtp.from"), "{err}");
        assert!(load_with("[smtp]\nhost = \"smtp.uni.example\"\ntls = \"none\"\n", &[]).is_ok(), "checked only when enabled");
    }

    #[test]
    fn smtp_ports_follow_tls_and_the_environment_overrides() {
        let config = load_with(
            "[smtp]\nenabled = true\nhost = \"smtp.uni.example\"\nfrom = \"registry@uni.example\"\ntls = \"implicit\"\n",
            &[("CHANCERY_SMTP__PASSWORD", "s3cret"), ("CHANCERY_SMTP__USER", "registry")],
        )
        .unwrap();
        assert_eq!(config.smtp.port(), 465);
        assert_eq!(config.smtp.user, "registry");
        assert_eq!(config.smtp.password().unwrap().expose(), "s3cret");
        assert!(!format!("{config:?}").contains("s3cret"), "a password never prints");
        let starttls = SmtpConfig { tls: TlsMode::Starttls, ..SmtpConfig::default() };
        assert_eq!(starttls.port(), 587);
        assert_eq!(SmtpConfig { tls: TlsMode::None, ..starttls }.port(), 25);
    }

    #[test]
    fn the_documented_example_loads() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("chancery.example.toml");
        let config = load_with(&std::fs::read_to_string(path).expect("example config"), &[]).expect("example loads");
        assert_eq!(config.register.holidays.len(), 9);
        assert_eq!(config.imap.keyword, "$Registered");
        assert_eq!(config.register.max_message_bytes(), 52_428_800);
        assert!(!config.smtp.enabled && config.rules.enabled);
    }

    #[test]
    fn the_message_limit_lives_in_register_and_the_old_imap_key_still_counts() {
        let limit = |toml: &str| load_with(toml, &[]).map(|c| (c.register.max_message_bytes(), c.imap.max_message_bytes()));
        assert_eq!(limit(""), Ok((DEFAULT_MAX_MESSAGE_BYTES, DEFAULT_MAX_MESSAGE_BYTES)));
        assert_eq!(limit("[register]\nmax_message_bytes = 5000\n"), Ok((5000, 5000)));
        assert_eq!(limit("[imap]\nmax_message_bytes = 7000\n"), Ok((7000, 7000)));
        assert_eq!(limit("[imap]\nmax_message_bytes = 7000\n[register]\nmax_message_bytes = 7000\n"), Ok((7000, 7000)));
        let err = limit("[imap]\nmax_message_bytes = 7000\n[register]\nmax_message_bytes = 5000\n").unwrap_err().to_string();
        assert!(err.contains("register.max_message_bytes") && err.contains("imap.max_message_bytes"), "{err}");
    }

    #[test]
    fn the_http_section_is_checked_when_enabled() {
        let config = load_with("", &[]).unwrap();
        assert!(!config.http.enabled && config.http.listen == "127.0.0.1:8080");
        assert_eq!(config.http.calendar_url("s"), None, "no public_url, no address");
        let on = "[http]\nenabled = true\npublic_url = \"https://chancery.uni.example/\"\n";
        let config = load_with(on, &[]).unwrap();
        assert_eq!(config.http.calendar_url("abc").as_deref(), Some("https://chancery.uni.example/calendar/abc.ics"));
        let err = load_with(&format!("{on}listen = \"localhost\"\n"), &[]).unwrap_err().to_string();
        assert!(err.contains("http.listen 'localhost'"), "{err}");
        let err = load_with("[http]\nenabled = true\n", &[]).unwrap_err().to_string();
        assert!(err.contains("http.public_url"), "{err}");
        assert!(load_with("[http]\nlisten = \"nonsense\"\n", &[]).is_ok(), "checked only when enabled");
        let config = load_with(on, &[("CHANCERY_HTTP__LISTEN", "0.0.0.0:9000")]).unwrap();
        assert_eq!(config.http.listen_addr(), Ok("0.0.0.0:9000".parse().unwrap()));
    }

    #[test]
    fn a_feeds_window_is_90_days_back_and_550_ahead_unless_configured() {
        let days = load_with("", &[]).unwrap().http.feed_days();
        assert_eq!((days.past, days.future), (90, 550));
        let config = load_with("[http]\nfeed_past_days = 30\n", &[("CHANCERY_HTTP__FEED_FUTURE_DAYS", "365")]).unwrap();
        assert_eq!((config.http.feed_past_days, config.http.feed_future_days), (30, 365));
        assert!(load_with("[http]\nfeed_days = 30\n", &[]).is_err(), "an unknown key is an error");
    }

    #[test]
    fn the_instance_is_named_by_its_section_or_the_environment_and_its_lease_checked() {
        let config = load_with("", &[]).unwrap();
        assert_eq!((config.instance.name, config.instance.lease_secs, config.instance.renew_secs), (None, 20, 5));
        let config = load_with("[instance]\nname = \"registry-a\"\n", &[]).unwrap();
        assert_eq!(config.instance.name.as_deref(), Some("registry-a"));
        let config = load_with("", &[("CHANCERY_INSTANCE__NAME", "registry-b")]).unwrap();
        assert_eq!(config.instance.name.as_deref(), Some("registry-b"));
        let err = load_with("[instance]\nlease_secs = 10\n", &[]).unwrap_err().to_string();
        assert!(err.contains("instance.lease_secs"), "{err}");
        let err = load_with("[instance]\nnmae = \"x\"\n", &[]).unwrap_err().to_string();
        assert!(err.contains("nmae"), "{err}");
    }

    #[test]
    fn unknown_keys_are_errors() {
        let err = load_with("[imap]\nhots = \"x\"\n", &[]).unwrap_err().to_string();
        assert!(err.contains("hots"), "{err}");
    }
}
