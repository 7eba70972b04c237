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
            plain.run_command_and_check_ok("STARTTLS", None).await.context("the IMAP server refused STARTTLS")?;
            let tcp = plain.into_inner();
            let tls = tls_connector(config)?.connect(server_name(&config.host)?, tcp).await.context("TLS handshake after STARTTLS")?;
            // No greeting follows STARTTLS.
            async_imap::Client::new(Transport(Box::new(tls)))
        }
        TlsMode::None => greeted(async_imap::Client::new(Transport(Box::new(tcp)))).await?,
    };
    client.login(&config.user, password.expose()).await.map_err(|(error, _)| anyhow!("IMAP login as {} failed: {error}", config.user))
}

async fn greeted<T>(mut client: async_imap::Client<T>) -> Result<async_imap::Client<T>>
where
    T: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug,
{
    match client.read_response().await? {
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
