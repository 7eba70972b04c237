//! The SMTP connection: implicit TLS, STARTTLS, or plain on loopback (the configuration refuses
//! plain elsewhere). TLS is rustls with ring, trusting the system's roots and the configured CA.

use std::time::Duration;

use anyhow::{Context, Result};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, Tokio1Executor};

use crate::config::{Secret, SmtpConfig, TlsMode};

/// A transport for the configured server. Nothing connects until the first send. The password
/// goes to the server and nowhere else.
pub fn transport(config: &SmtpConfig, password: &Secret) -> Result<AsyncSmtpTransport<Tokio1Executor>> {
    let parameters = || -> Result<TlsParameters> {
        // lettre builds its own rustls ClientConfig (it takes none from outside): the same roots
        // as the IMAP side, the system's and the configured CA.
        let mut builder = TlsParameters::builder(config.host.clone());
        if let Some(path) = &config.ca_file {
            let pem = std::fs::read(path).with_context(|| format!("cannot read smtp.ca_file {}", path.display()))?;
            let certificate = Certificate::from_pem(&pem).with_context(|| format!("smtp.ca_file {} is not PEM", path.display()))?;
            builder = builder.add_root_certificate(certificate);
        }
        builder.build_rustls().context("TLS settings for SMTP")
    };
    let tls = match config.tls {
        TlsMode::Implicit => Tls::Wrapper(parameters()?),
        TlsMode::Starttls => Tls::Required(parameters()?),
        TlsMode::None => Tls::None,
    };
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(config.host.as_str())
        .port(config.port())
        .tls(tls)
        .timeout(Some(Duration::from_secs(config.timeout_secs.max(1))));
    if !config.user.is_empty() {
        builder = builder.credentials(Credentials::new(config.user.clone(), password.expose().to_string()));
    }
    if let Some(name) = &config.hello_name {
        builder = builder.hello_name(ClientId::Domain(name.clone()));
    }
    Ok(builder.build())
}
