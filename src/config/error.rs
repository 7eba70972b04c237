//! What is wrong with a configuration: each variant holds the section, key and value it is
//! about, and its Display is the one line `chancery` prints before it stops.

use std::path::PathBuf;

use crate::core::lease::TermsError;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// `--config` named a file that is not there (a missing default file is fine).
    #[error("config file {} does not exist", .0.display())]
    NoFile(PathBuf),
    /// The file or the environment does not read as the sections and keys there are; figment's
    /// words on one line, so that the error stays comparable.
    #[error("configuration: {0}")]
    Unreadable(String),
    /// A section's `password_file` cannot be read; the reason is the system's words for it.
    #[error("cannot read {section}.password_file {}: {reason}", .path.display())]
    PasswordFile { section: &'static str, path: PathBuf, reason: String },
    #[error(
        "register.max_message_bytes = {register} and imap.max_message_bytes = {imap} differ: \
         keep register.max_message_bytes (it holds for ingest too) and remove the old imap key"
    )]
    MessageLimitsDiffer { register: u64, imap: u64 },
    #[error("register.timezone '{0}' is not a time zone name such as Asia/Baku")]
    TimeZone(String),
    #[error(
        "imap.tls = \"none\" refused for {0}: it is not loopback, and the password would cross the network in clear. \
         Use implicit or starttls, or set imap.allow_plaintext = true on a network you trust"
    )]
    ImapPlaintext(String),
    #[error(
        "smtp.tls = \"none\" refused for {0}: it is not loopback, and the password and mail would cross the network in clear. \
         Use implicit or starttls, or set smtp.allow_plaintext = true on a network you trust"
    )]
    SmtpPlaintext(String),
    #[error("smtp.from must be the address Chancery writes from, e.g. \"University Registry <registry@uni.example>\"")]
    SmtpFrom,
    #[error("smtp.retry_base_secs must be at least 1 and smtp.retry_max_secs at least as large")]
    SmtpRetry,
    #[error("matrix.homeserver must be a URL like https://matrix.uni.example, not '{0}'")]
    HomeserverNotUrl(String),
    #[error("matrix.homeserver {0} is plain http to a host that is not loopback: use https")]
    HomeserverPlainHttp(String),
    #[error("matrix.user must be a full Matrix ID like @chancery:uni.example, not '{0}'")]
    MatrixUser(String),
    #[error("reminders.digest_day '{0}' is not a day of the week such as monday")]
    DigestDay(String),
    #[error("reminders.hour ({hour}) and reminders.digest_hour ({digest_hour}) are hours: 0 to 23")]
    Hours { hour: u32, digest_hour: u32 },
    #[error("reminders.visa_kinds is empty: list the visa kinds `!visa add` accepts")]
    NoVisaKinds,
    #[error("archive.{0}")]
    Cutoff(#[from] crate::core::archive::case::CutoffError),
    #[error("http.listen '{0}' is not an address and port such as 127.0.0.1:8080")]
    Listen(String),
    /// `http.public_url` as written, trimmed.
    #[error("http.public_url must be the address calendar apps reach Chancery at, like https://chancery.uni.example, not '{0}'")]
    PublicUrl(String),
    /// `[instance]`'s lease and renewal, in `core::lease`'s words.
    #[error(transparent)]
    Lease(#[from] TermsError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_problem_reads_as_it_always_has() {
        let cases: [(ConfigError, &str); 20] = [
            (ConfigError::NoFile("/etc/chancery.toml".into()), "config file /etc/chancery.toml does not exist"),
            (ConfigError::Unreadable("unknown field `hots`".into()), "configuration: unknown field `hots`"),
            (
                ConfigError::PasswordFile {
                    section: "imap",
                    path: "/run/pw".into(),
                    reason: "No such file or directory (os error 2)".into(),
                },
                "cannot read imap.password_file /run/pw: No such file or directory (os error 2)",
            ),
            (
                ConfigError::MessageLimitsDiffer { register: 5000, imap: 7000 },
                "register.max_message_bytes = 5000 and imap.max_message_bytes = 7000 differ: \
                 keep register.max_message_bytes (it holds for ingest too) and remove the old imap key",
            ),
            (ConfigError::TimeZone("Mars/Olympus".into()), "register.timezone 'Mars/Olympus' is not a time zone name such as Asia/Baku"),
            (
                ConfigError::ImapPlaintext("imap.uni.example".into()),
                "imap.tls = \"none\" refused for imap.uni.example: it is not loopback, and the password would cross the network in clear. \
                 Use implicit or starttls, or set imap.allow_plaintext = true on a network you trust",
            ),
            (
                ConfigError::SmtpPlaintext("smtp.uni.example".into()),
                "smtp.tls = \"none\" refused for smtp.uni.example: it is not loopback, and the password and mail would cross the network \
                 in clear. Use implicit or starttls, or set smtp.allow_plaintext = true on a network you trust",
            ),
            (
                ConfigError::SmtpFrom,
                "smtp.from must be the address Chancery writes from, e.g. \"University Registry <registry@uni.example>\"",
            ),
            (ConfigError::SmtpRetry, "smtp.retry_base_secs must be at least 1 and smtp.retry_max_secs at least as large"),
            (
                ConfigError::HomeserverNotUrl("matrix.uni.example".into()),
                "matrix.homeserver must be a URL like https://matrix.uni.example, not 'matrix.uni.example'",
            ),
            (
                ConfigError::HomeserverPlainHttp("http://matrix.uni.example".into()),
                "matrix.homeserver http://matrix.uni.example is plain http to a host that is not loopback: use https",
            ),
            (ConfigError::MatrixUser("chancery".into()), "matrix.user must be a full Matrix ID like @chancery:uni.example, not 'chancery'"),
            (ConfigError::DigestDay("someday".into()), "reminders.digest_day 'someday' is not a day of the week such as monday"),
            (ConfigError::Hours { hour: 24, digest_hour: 8 }, "reminders.hour (24) and reminders.digest_hour (8) are hours: 0 to 23"),
            (ConfigError::NoVisaKinds, "reminders.visa_kinds is empty: list the visa kinds `!visa add` accepts"),
            (
                ConfigError::Cutoff(crate::core::archive::case::CutoffError("02-29".into())),
                "archive.cutoff must be a day of every year as MM-DD (e.g. \"12-31\"), not \"02-29\"",
            ),
            (ConfigError::Listen("localhost".into()), "http.listen 'localhost' is not an address and port such as 127.0.0.1:8080"),
            (
                ConfigError::PublicUrl("ftp://x".into()),
                "http.public_url must be the address calendar apps reach Chancery at, like https://chancery.uni.example, not 'ftp://x'",
            ),
            (ConfigError::Lease(TermsError::NoRenewal), "instance.renew_secs must be at least 1"),
            (
                ConfigError::Lease(TermsError::LeaseTooShort { lease_secs: 10, renew_secs: 5 }),
                "instance.lease_secs = 10 must be at least three times instance.renew_secs = 5, \
                 so that a holder can miss a renewal and still renew before it must stop",
            ),
        ];
        for (error, words) in cases {
            assert_eq!(error.to_string(), words, "{error:?}");
        }
    }
}
