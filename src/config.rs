//! Configuration: a TOML file, every key overridable by `CHANCERY_<SECTION>__<KEY>`.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use serde::Deserialize;

use crate::core::intake::{Confidentiality, IntakePolicy};
use crate::core::template::one_line;

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
}

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
    pub fn terms(&self) -> Result<crate::core::lease::Terms, String> {
        crate::core::lease::Terms::new(self.lease_secs, self.renew_secs)
    }
}

/// The HTTP server of `serve`: people's calendar feeds.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// Publish calendar feeds in `serve`.
    pub enabled: bool,
    /// The address and port to listen on. Keep it on loopback behind a reverse proxy that
    /// adds TLS: a feed's address is its only key.
    pub listen: String,
    /// Where people's calendar apps reach it, e.g. `https://chancery.uni.example`: a feed is
    /// `PUBLIC_URL/calendar/SECRET.ics`.
    pub public_url: String,
    /// A feed holds the deadlines and meetings from this many days before today…
    pub feed_past_days: u32,
    /// …to this many days after it; `?all=1` on a feed's address gives all of them.
    pub feed_future_days: u32,
}

impl Default for HttpConfig {
    fn default() -> Self {
        let days = crate::core::calendar::FeedDays::default();
        HttpConfig {
            enabled: false,
            listen: "127.0.0.1:8080".into(),
            public_url: String::new(),
            feed_past_days: days.past,
            feed_future_days: days.future,
        }
    }
}

impl HttpConfig {
    /// The address to listen on.
    pub fn listen_addr(&self) -> Result<std::net::SocketAddr, String> {
        self.listen.parse().map_err(|_| format!("http.listen '{}' is not an address and port such as 127.0.0.1:8080", self.listen))
    }

    /// How far a feed reaches.
    pub fn feed_days(&self) -> crate::core::calendar::FeedDays {
        crate::core::calendar::FeedDays { past: self.feed_past_days, future: self.feed_future_days }
    }

    /// The address of a feed, from its secret; `None` when `public_url` is not set.
    pub fn calendar_url(&self, secret: &str) -> Option<String> {
        let base = self.public_url.trim().trim_end_matches('/');
        (!base.is_empty()).then(|| format!("{base}/calendar/{secret}.ics"))
    }

    fn check(&self) -> Result<(), String> {
        if !self.enabled {
            return Ok(());
        }
        self.listen_addr()?;
        let url = self.public_url.trim();
        if !(url.starts_with("https://") || url.starts_with("http://")) || url.len() <= "https://".len() {
            return Err(format!(
                "http.public_url must be the address calendar apps reach Chancery at, like https://chancery.uni.example, not '{url}'"
            ));
        }
        Ok(())
    }
}

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
    pub fn password(&self) -> Result<Secret, String> {
        password_of("imap", &self.password, self.password_file.as_deref())
    }
}

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
    pub fn password(&self) -> Result<Secret, String> {
        password_of("smtp", &self.password, self.password_file.as_deref())
    }

    fn check(&self) -> Result<(), String> {
        if !self.enabled {
            return Ok(());
        }
        if self.tls == TlsMode::None && !is_loopback(&self.host) && !self.allow_plaintext {
            return Err(format!(
                "smtp.tls = \"none\" refused for {}: it is not loopback, and the password and mail would cross the network in clear. \
                 Use implicit or starttls, or set smtp.allow_plaintext = true on a network you trust",
                self.host
            ));
        }
        if !self.from.contains('@') {
            return Err("smtp.from must be the address Chancery writes from, e.g. \"University Registry <registry@uni.example>\"".into());
        }
        if self.retry_base_secs == 0 || self.retry_max_secs < self.retry_base_secs {
            return Err("smtp.retry_base_secs must be at least 1 and smtp.retry_max_secs at least as large".into());
        }
        Ok(())
    }
}

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
    pub fn password(&self) -> Result<Secret, String> {
        password_of("matrix", &self.password, self.password_file.as_deref())
    }

    fn check(&self) -> Result<(), String> {
        if !self.enabled {
            return Ok(());
        }
        if !(self.homeserver.starts_with("https://") || self.homeserver.starts_with("http://")) {
            return Err(format!("matrix.homeserver must be a URL like https://matrix.uni.example, not '{}'", self.homeserver));
        }
        if self.homeserver.starts_with("http://") {
            let host = self.homeserver.trim_start_matches("http://").split(['/', ':']).next().unwrap_or("");
            if !is_loopback(host) {
                return Err(format!("matrix.homeserver {} is plain http to a host that is not loopback: use https", self.homeserver));
            }
        }
        let valid_user =
            self.user.strip_prefix('@').and_then(|rest| rest.split_once(':')).is_some_and(|(l, s)| !l.is_empty() && !s.is_empty());
        if !valid_user {
            return Err(format!("matrix.user must be a full Matrix ID like @chancery:uni.example, not '{}'", self.user));
        }
        Ok(())
    }
}

/// The chat commands, for Matrix and `chancery chat` alike.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AssistantConfig {
    /// The folder of command files (`commands/NAME.toml`).
    pub commands_dir: PathBuf,
}

impl Default for AssistantConfig {
    fn default() -> Self {
        AssistantConfig { commands_dir: PathBuf::from("commands") }
    }
}

/// What press releases say about the university.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct UniversityConfig {
    pub name: String,
    /// The city of press releases' dateline.
    pub city: String,
    /// The paragraph "About the university" at the end of a press release.
    pub boilerplate: String,
    /// Who journalists write to: name, address, telephone.
    pub media_contact: String,
}

impl Default for UniversityConfig {
    fn default() -> Self {
        UniversityConfig {
            name: "The University".into(),
            city: "Baku".into(),
            boilerplate: "The University is a public research university.".into(),
            media_contact: "International Relations Office".into(),
        }
    }
}

/// When reminders and digests fire, and the visa kinds they know.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RemindersConfig {
    /// Run the scheduler in `serve`.
    pub enabled: bool,
    /// The hour of the office's day reminders counted from dates fire at.
    pub hour: u32,
    /// The visa kinds `!visa add` accepts.
    pub visa_kinds: Vec<String>,
    /// Days before a visa's apply-by date and its expiry.
    pub visa_lead_days: Vec<u32>,
    /// A visa kind's own lead days, e.g. `{ "e-visa" = [14, 3] }`.
    pub visa_lead_days_by_kind: std::collections::HashMap<String, Vec<u32>>,
    /// Days before an agreement's end and its notice deadline.
    pub agreement_lead_days: Vec<u32>,
    /// Working days before a letter's due date its assignee is reminded.
    pub letter_lead_working_days: u32,
    /// Hours before a meeting its participants get the agenda pack.
    pub agenda_pack_hours_before: u32,
    /// The weekly digest's day (`monday` … `sunday`) and hour, in the office's zone.
    pub digest_day: String,
    pub digest_hour: u32,
    /// The International Relations Office's unit: its managers hear of visas and agreements.
    pub office_unit: String,
}

impl Default for RemindersConfig {
    fn default() -> Self {
        RemindersConfig {
            enabled: true,
            hour: 9,
            visa_kinds: ["schengen", "national", "e-visa", "other"].map(String::from).to_vec(),
            visa_lead_days: vec![60, 30, 14, 7, 1],
            visa_lead_days_by_kind: Default::default(),
            agreement_lead_days: vec![180, 90, 30],
            letter_lead_working_days: 2,
            agenda_pack_hours_before: 24,
            digest_day: "monday".into(),
            digest_hour: 8,
            office_unit: "international".into(),
        }
    }
}

impl RemindersConfig {
    fn digest_weekday(&self) -> Result<chrono::Weekday, String> {
        self.digest_day.parse().map_err(|_| format!("reminders.digest_day '{}' is not a day of the week such as monday", self.digest_day))
    }

    fn check(&self) -> Result<(), String> {
        self.digest_weekday()?;
        if self.hour > 23 || self.digest_hour > 23 {
            return Err(format!("reminders.hour ({}) and reminders.digest_hour ({}) are hours: 0 to 23", self.hour, self.digest_hour));
        }
        if self.visa_kinds.is_empty() {
            return Err("reminders.visa_kinds is empty: list the visa kinds `!visa add` accepts".into());
        }
        Ok(())
    }

    /// The scheduler's rules: these settings with the office's calendar, the units' heads and
    /// the address reminders are e-mailed from (`None`: Matrix only).
    pub fn policy(
        &self,
        register: &RegisterConfig,
        unit_head_emails: std::collections::HashMap<String, String>,
        mail_from: Option<String>,
    ) -> Result<crate::core::remind::Policy, String> {
        let mut policy = crate::core::remind::Policy::new(register.zone()?);
        policy.holidays = register.holidays.clone();
        policy.hour = self.hour;
        policy.visa_leads = self.visa_lead_days_by_kind.clone();
        policy.default_visa_leads = self.visa_lead_days.clone();
        policy.agreement_leads = self.agreement_lead_days.clone();
        policy.letter_lead_working_days = self.letter_lead_working_days;
        policy.agenda_pack_before = chrono::Duration::hours(i64::from(self.agenda_pack_hours_before));
        policy.digest_day = self.digest_weekday()?;
        policy.digest_hour = self.digest_hour;
        policy.office_unit = self.office_unit.clone();
        policy.unit_head_emails = unit_head_emails;
        policy.mail_from = mail_from;
        Ok(policy)
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

    pub fn zone(&self) -> Result<chrono_tz::Tz, String> {
        self.timezone.parse().map_err(|_| format!("register.timezone '{}' is not a time zone name such as Asia/Baku", self.timezone))
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
    pub fn load(path: &Path, path_was_given: bool) -> Result<Config, String> {
        if path_was_given && !path.exists() {
            return Err(format!("config file {} does not exist", path.display()));
        }
        // Only CHANCERY_SECTION__KEY variables configure; others sharing the prefix do not.
        let env = Env::prefixed("CHANCERY_").filter(|key| key.as_str().contains("__")).split("__");
        let mut config: Config = Figment::new()
            .merge(Toml::file(path))
            .merge(env)
            .extract()
            .map_err(|e| format!("configuration: {}", one_line(&e.to_string())))?;
        config.settle_message_limit()?;
        config.check()?;
        Ok(config)
    }

    /// One limit for every intake: `register.max_message_bytes`, or the old
    /// `imap.max_message_bytes` where only that is set; both, and different, is an error.
    fn settle_message_limit(&mut self) -> Result<(), String> {
        let limit = match (self.register.max_message_bytes, self.imap.max_message_bytes) {
            (Some(register), Some(imap)) if register != imap => {
                return Err(format!(
                    "register.max_message_bytes = {register} and imap.max_message_bytes = {imap} differ: \
                     keep register.max_message_bytes (it holds for ingest too) and remove the old imap key"
                ));
            }
            (register, imap) => register.or(imap).unwrap_or(DEFAULT_MAX_MESSAGE_BYTES),
        };
        self.register.max_message_bytes = Some(limit);
        self.imap.max_message_bytes = Some(limit);
        Ok(())
    }

    fn check(&self) -> Result<(), String> {
        self.register.zone()?;
        if self.imap.enabled && self.imap.tls == TlsMode::None && !is_loopback(&self.imap.host) && !self.imap.allow_plaintext {
            return Err(format!(
                "imap.tls = \"none\" refused for {}: it is not loopback, and the password would cross the network in clear. \
                 Use implicit or starttls, or set imap.allow_plaintext = true on a network you trust",
                self.imap.host
            ));
        }
        self.smtp.check()?;
        self.matrix.check()?;
        self.reminders.check()?;
        self.http.check()?;
        self.instance.terms()?;
        Ok(())
    }
}

/// A section's password: the first line of its `password_file` when one is set, else `password`.
fn password_of(section: &str, password: &Secret, file: Option<&Path>) -> Result<Secret, String> {
    match file {
        Some(path) => std::fs::read_to_string(path)
            .map(|text| Secret(text.lines().next().unwrap_or("").to_string()))
            .map_err(|e| format!("cannot read {section}.password_file {}: {e}", path.display())),
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
    fn load_with(toml: &str, env: &[(&str, &str)]) -> Result<Config, String> {
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
        let err = load_with("[imap]\nhost = \"imap.uni.example\"\ntls = \"none\"\n", &[]).unwrap_err();
        assert!(err.contains("refused"), "{err}");
        assert!(load_with("[imap]\nhost = \"127.0.0.1\"\ntls = \"none\"\n", &[]).is_ok());
        assert!(load_with("[imap]\nhost = \"imap.uni.example\"\ntls = \"none\"\nallow_plaintext = true\n", &[]).is_ok());
    }

    #[test]
    fn smtp_plaintext_is_refused_off_loopback() {
        let on = "[smtp]\nenabled = true\nfrom = \"registry@uni.example\"\n";
        let err = load_with(&format!("{on}host = \"smtp.uni.example\"\ntls = \"none\"\n"), &[]).unwrap_err();
        assert!(err.contains("smtp.tls") && err.contains("refused"), "{err}");
        assert!(load_with(&format!("{on}host = \"127.0.0.1\"\ntls = \"none\"\n"), &[]).is_ok());
        assert!(load_with(&format!("{on}host = \"smtp.uni.example\"\ntls = \"none\"\nallow_plaintext = true\n"), &[]).is_ok());
        let err = load_with("[smtp]\nenabled = true\nhost = \"smtp.uni.example\"\n", &[]).unwrap_err();
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
        let err = limit("[imap]\nmax_message_bytes = 7000\n[register]\nmax_message_bytes = 5000\n").unwrap_err();
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
        let err = load_with(&format!("{on}listen = \"localhost\"\n"), &[]).unwrap_err();
        assert!(err.contains("http.listen 'localhost'"), "{err}");
        let err = load_with("[http]\nenabled = true\n", &[]).unwrap_err();
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
        let err = load_with("[instance]\nlease_secs = 10\n", &[]).unwrap_err();
        assert!(err.contains("instance.lease_secs"), "{err}");
        let err = load_with("[instance]\nnmae = \"x\"\n", &[]).unwrap_err();
        assert!(err.contains("nmae"), "{err}");
    }

    #[test]
    fn unknown_keys_are_errors() {
        let err = load_with("[imap]\nhots = \"x\"\n", &[]).unwrap_err();
        assert!(err.contains("hots"), "{err}");
    }
}
