//! Opening an authenticated IMAP session: implicit TLS, STARTTLS, or plain on loopback.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use anyhow::{Context as _, Result, anyhow, bail};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore};

use crate::config::{ImapConfig, Secret, TlsMode};

/// How long connecting, greeting and logging in may take before the attempt counts as failed.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// The byte stream under a session, TLS or not.
pub struct Transport(Box<dyn Io>);

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Transport")
    }
}

impl AsyncRead for Transport {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut *self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for Transport {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut *self.0).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut *self.0).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut *self.0).poll_shutdown(cx)
    }
}

pub type Session = async_imap::Session<Transport>;

/// Connects and logs in. The password goes to the server and nowhere else.
pub async fn open_session(config: &ImapConfig, password: &Secret) -> Result<Session> {
    tokio::time::timeout(CONNECT_TIMEOUT, open_session_inner(config, password))
        .await
        .map_err(|_| anyhow!("IMAP {}:{} did not answer within {:?}", config.host, config.port(), CONNECT_TIMEOUT))?
}

async fn open_session_inner(config: &ImapConfig, password: &Secret) -> Result<Session> {
    let address = (config.host.as_str(), config.port());
    let tcp = TcpStream::connect(address).await.with_context(|| format!("cannot connect to IMAP {}:{}", config.host, config.port()))?;
    tcp.set_nodelay(true).ok();
    let client = match config.tls {
        TlsMode::Implicit => {
            let tls =
                tls_connector(config)?.connect(server_name(&config.host)?, tcp).await.context("TLS handshake with the IMAP server")?;
            greeted(async_imap::Client::new(Transport(Box::new(tls)))).await?
        }
        TlsMode::Starttls => {
            let mut plain = greeted(async_imap::Client::new(tcp)).await?;
            plain.run_command_and_check_ok("STARTTLS", None).await.imap_context("the IMAP server refused STARTTLS")?;
            let tcp = plain.into_inner();
            let tls = tls_connector(config)?.connect(server_name(&config.host)?, tcp).await.context("TLS handshake after STARTTLS")?;
            // No greeting follows STARTTLS.
            async_imap::Client::new(Transport(Box::new(tls)))
        }
        TlsMode::None => greeted(async_imap::Client::new(Transport(Box::new(tcp)))).await?,
    };
    match client.login(&config.user, password.expose()).await {
        Ok(session) => Ok(session),
        Err((error, _)) => Err(login_failed(config, &error)),
    }
}

/// The server refused the login: the configured user or password is wrong, or the account is
/// disabled. Retrying soon cannot help and may lock the account.
#[derive(Debug)]
pub struct LoginRefused {
    /// `host:port`.
    pub server: String,
    pub user: String,
    /// What the server said, e.g. `[AUTHENTICATIONFAILED] Authentication failed.`
    pub words: String,
    /// Where the password comes from: `imap.password` or `imap.password_file`.
    pub password_key: &'static str,
}

impl std::fmt::Display for LoginRefused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let LoginRefused { server, user, words, password_key } = self;
        write!(f, "the IMAP server {server} refused the login as {user}: {words}")?;
        // The server's words end a sentence or not; the advice follows either way.
        let advice = if words.ends_with(['.', '!']) { " Check" } else { "; check" };
        write!(f, "{advice} imap.user and {password_key}")
    }
}

impl std::error::Error for LoginRefused {}

fn login_failed(config: &ImapConfig, error: &async_imap::error::Error) -> anyhow::Error {
    let server = format!("{}:{}", config.host, config.port());
    if let async_imap::error::Error::No(detail) | async_imap::error::Error::Bad(detail) = error {
        let words = server_words(detail);
        if refuses_credentials(&words) {
            let password_key = if config.password_file.is_some() { "imap.password_file" } else { "imap.password" };
            return anyhow::Error::new(LoginRefused { server, user: config.user.clone(), words, password_key });
        }
    }
    anyhow::Error::new(ImapError(in_words(error))).context(format!("logging in to the IMAP server {server} as {}", config.user))
}

/// Whether a NO or BAD answer to LOGIN refuses these credentials, rather than saying that the
/// server cannot check them just now (RFC 5530 response codes).
fn refuses_credentials(words: &str) -> bool {
    let words = words.to_ascii_uppercase();
    !["[UNAVAILABLE]", "[INUSE]", "[SERVERBUG]", "[LIMIT]"].iter().any(|code| words.contains(code))
}

/// An IMAP error in plain words; see `in_words`.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ImapError(String);

/// What went wrong, as people read it: what the server answered, or what became of the
/// connection. async-imap's own texts carry Rust debug output (`code: None, info: Some(..)`).
pub fn in_words(error: &async_imap::error::Error) -> String {
    use async_imap::error::Error;
    match error {
        Error::No(detail) => format!("the server answered NO: {}", server_words(detail)),
        Error::Bad(detail) => format!("the server answered BAD: {}", server_words(detail)),
        Error::Io(io) => io.to_string(),
        Error::ConnectionLost => "the server closed the connection".to_string(),
        Error::Parse(parse) => format!("an answer of the server could not be read: {parse}"),
        Error::Append => "the server did not take the message".to_string(),
        other => other.to_string(),
    }
}

/// The server's own words from async-imap's `code: Some(Alert), info: Some("...")`: the text,
/// with the response code in brackets when the text does not already carry it.
fn server_words(detail: &str) -> String {
    let Some((code, info)) = detail.strip_prefix("code: ").and_then(|rest| rest.split_once(", info: ")) else {
        return detail.trim().to_string();
    };
    let info = info.strip_prefix("Some(").and_then(|i| i.strip_suffix(')')).map(unescape_debug).unwrap_or_default();
    let code = code.strip_prefix("Some(").and_then(|c| c.strip_suffix(')')).map(|c| c.to_ascii_uppercase());
    let words = match code {
        Some(code) if !code.is_empty() && !info.to_ascii_uppercase().contains(&format!("[{code}")) => format!("[{code}] {info}"),
        _ => info,
    };
    let words = words.split_whitespace().collect::<Vec<_>>().join(" ");
    if words.is_empty() { "(no reason given)".to_string() } else { words }
}

/// A string as Rust's `{:?}` writes it (in quotes, with escapes), back to its text.
fn unescape_debug(quoted: &str) -> String {
    let inner = quoted.strip_prefix('"').and_then(|q| q.strip_suffix('"')).unwrap_or(quoted);
    let mut text = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            text.push(c);
            continue;
        }
        match chars.next() {
            Some('n' | 'r' | 't') => text.push(' '),
            Some('u') => {
                let hex: String = chars.by_ref().skip(1).take_while(|&h| h != '}').collect();
                text.extend(u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32));
            }
            Some(other) => text.push(other),
            None => {}
        }
    }
    text
}

/// `.context()` for async-imap results, with the error in plain words.
pub trait ImapContext<T> {
    fn imap_context<C: std::fmt::Display + Send + Sync + 'static>(self, context: C) -> Result<T>;
    fn with_imap_context<C: std::fmt::Display + Send + Sync + 'static>(self, context: impl FnOnce() -> C) -> Result<T>;
}

impl<T> ImapContext<T> for std::result::Result<T, async_imap::error::Error> {
    fn imap_context<C: std::fmt::Display + Send + Sync + 'static>(self, context: C) -> Result<T> {
        self.map_err(|error| anyhow::Error::new(ImapError(in_words(&error))).context(context))
    }
    fn with_imap_context<C: std::fmt::Display + Send + Sync + 'static>(self, context: impl FnOnce() -> C) -> Result<T> {
        self.map_err(|error| anyhow::Error::new(ImapError(in_words(&error))).context(context()))
    }
}

async fn greeted<T>(mut client: async_imap::Client<T>) -> Result<async_imap::Client<T>>
where
    T: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug,
{
    match client.read_response().await.context("waiting for the IMAP server's greeting")? {
        Some(_) => Ok(client),
        None => bail!("the IMAP server closed the connection before greeting"),
    }
}

fn server_name(host: &str) -> Result<ServerName<'static>> {
    ServerName::try_from(host.to_string()).map_err(|_| anyhow!("'{host}' is not a valid server name for TLS"))
}

/// A TLS client that trusts the system's roots and, if configured, one extra CA.
pub fn tls_connector(config: &ImapConfig) -> Result<TlsConnector> {
    Ok(TlsConnector::from(Arc::new(tls_client_config(config.ca_file.as_deref())?)))
}

pub fn tls_client_config(ca_file: Option<&std::path::Path>) -> Result<ClientConfig> {
    let mut roots = RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        roots.add(cert).ok();
    }
    if let Some(path) = ca_file {
        let certs = CertificateDer::pem_file_iter(path)
            .with_context(|| format!("cannot read CA file {}", path.display()))?
            .collect::<std::result::Result<Vec<_>, _>>()
            .with_context(|| format!("CA file {} is not PEM", path.display()))?;
        for cert in certs {
            roots.add(cert).with_context(|| format!("CA file {} holds an unusable certificate", path.display()))?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_servers_words_come_out_of_async_imaps_debug_text() {
        let dovecot = r#"code: None, info: Some("[AUTHENTICATIONFAILED] Authentication failed.")"#;
        assert_eq!(server_words(dovecot), "[AUTHENTICATIONFAILED] Authentication failed.");
        assert_eq!(server_words(r#"code: Some(Alert), info: Some("Account \"x\" is locked")"#), r#"[ALERT] Account "x" is locked"#);
        assert_eq!(server_words(r#"code: None, info: Some("Mailbox doesn't exist: Ar\u{15f}iv")"#), "Mailbox doesn't exist: Arşiv");
        assert_eq!(server_words("code: None, info: None"), "(no reason given)");
        assert_eq!(server_words("something else"), "something else");
    }

    #[test]
    fn errors_read_as_words_without_debug_output() {
        let no = async_imap::error::Error::No(r#"code: None, info: Some("[AUTHENTICATIONFAILED] Authentication failed.")"#.into());
        assert_eq!(in_words(&no), "the server answered NO: [AUTHENTICATIONFAILED] Authentication failed.");
        assert_eq!(in_words(&async_imap::error::Error::ConnectionLost), "the server closed the connection");
        let io = async_imap::error::Error::Io(std::io::Error::from_raw_os_error(32));
        let error: Result<()> = Err(io).imap_context("IDLE");
        let line = crate::errors::one_line_of(&error.unwrap_err());
        assert_eq!(line, "IDLE: Broken pipe (os error 32)");
    }

    #[test]
    fn a_login_refused_for_good_is_told_from_a_server_that_cannot_check_now() {
        assert!(refuses_credentials("[AUTHENTICATIONFAILED] Authentication failed."));
        assert!(refuses_credentials("[AUTHORIZATIONFAILED] Not allowed."));
        assert!(refuses_credentials("Login failed."));
        assert!(!refuses_credentials("[UNAVAILABLE] Temporary authentication failure. [host:2026-12-01 10:00:00]"));
        assert!(!refuses_credentials("[LIMIT] Too many connections"));

        let config = ImapConfig { host: "127.0.0.1".into(), port: Some(10143), user: "registry".into(), ..ImapConfig::default() };
        let no = async_imap::error::Error::No(r#"code: None, info: Some("[AUTHENTICATIONFAILED] Authentication failed.")"#.into());
        let error = login_failed(&config, &no);
        assert!(error.downcast_ref::<LoginRefused>().is_some());
        assert_eq!(
            crate::errors::one_line_of(&error),
            "the IMAP server 127.0.0.1:10143 refused the login as registry: [AUTHENTICATIONFAILED] Authentication failed. \
             Check imap.user and imap.password"
        );
        let busy = async_imap::error::Error::No(r#"code: None, info: Some("[UNAVAILABLE] Temporary authentication failure.")"#.into());
        assert!(login_failed(&config, &busy).downcast_ref::<LoginRefused>().is_none());
    }
}
