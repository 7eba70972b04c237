//! Which failures pass and which do not. A 4xx reply, a server that is down or slow, a TLS
//! handshake that breaks off: try again later. A 5xx reply: this mail will never be accepted.
//! Except a refused login (535 and friends): that is our configuration, not the mail, and
//! failing every queued mail for it would lose them all; it is retried (and logged as an
//! error) until someone fixes the password.

/// A failed attempt, with what happened on one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// Try again later.
    Transient(String),
    /// This mail will not be accepted.
    Permanent(String),
    /// The server refused our login: no mail goes until the configuration is fixed, and none
    /// fails for it.
    LoginRefused(String),
}

/// A mail that cannot be written is a registration that cannot be made: the failure's words
/// become the refusal's.
impl From<Failure> for crate::core::outbound::ComposeError {
    fn from(failure: Failure) -> Self {
        crate::core::outbound::ComposeError::Unwritable(failure.message().to_string())
    }
}

impl Failure {
    pub fn message(&self) -> &str {
        match self {
            Failure::Transient(message) | Failure::Permanent(message) | Failure::LoginRefused(message) => message,
        }
    }

    pub fn is_permanent(&self) -> bool {
        matches!(self, Failure::Permanent(_))
    }
}

/// A refused login in words: whose login, which server, and what it said.
pub fn login_refused(server: &str, user: &str, reply: &str) -> String {
    if user.is_empty() {
        format!("the SMTP server {server} wants a login (smtp.user is empty): {reply}")
    } else {
        format!("the SMTP server {server} refused the login as {user}: {reply}")
    }
}

/// Classifies an error of lettre's SMTP transport.
pub fn classify(error: &lettre::transport::smtp::Error) -> Failure {
    let code = error.status().and_then(|code| code.to_string().parse::<u16>().ok());
    failure_of(code, crate::errors::one_line(error))
}

/// What a reply (its code, or none when the server never answered) and its text amount to.
fn failure_of(code: Option<u16>, text: String) -> Failure {
    if matches!(code, Some(500..=599)) && is_login_refused(code, &text) {
        Failure::LoginRefused(text)
    } else if classify_reply(code, &text) {
        Failure::Permanent(text)
    } else {
        Failure::Transient(text)
    }
}

/// Whether a reply (its code, or none for connection, TLS and timeout errors) and its text mean
/// the mail will never be accepted.
pub fn classify_reply(code: Option<u16>, text: &str) -> bool {
    match code {
        Some(500..=599) => !is_login_refused(code, text),
        Some(_) => false,
        // No reply at all: connection refused, timeout, TLS, network. Only two client-side
        // refusals concern the mail itself: it needs an extension this server lacks.
        None => text.contains("does not support SMTPUTF8") || text.contains("does not support 8BITMIME"),
    }
}

fn is_login_refused(code: Option<u16>, text: &str) -> bool {
    matches!(code, Some(530 | 534 | 535 | 538)) || ["5.7.8", "5.7.9", "5.7.11", "5.7.14"].iter().any(|status| text.contains(status))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_are_classified() {
        // What the dev Postfix answers to a recipient it cannot parse.
        assert!(classify_reply(Some(501), "permanent error (501): 5.1.3 Bad recipient address syntax"));
        assert!(classify_reply(Some(550), "permanent error (550): 5.1.1 <nobody@x.org>: Recipient address rejected: User unknown"));
        assert!(classify_reply(Some(552), "permanent error (552): 5.3.4 Message size exceeds fixed limit"));
        assert!(classify_reply(Some(554), "permanent error (554): 5.7.1 Relay access denied"));
        assert!(!classify_reply(Some(450), "transient error (450): 4.2.0 Mailbox busy"));
        assert!(!classify_reply(Some(421), "transient error (421): 4.3.2 Service shutting down"));
        assert!(!classify_reply(Some(451), "transient error (451): 4.3.0 Temporary lookup failure"));
        assert!(!classify_reply(None, "Connection error: Connection refused (os error 111)"));
        assert!(!classify_reply(None, "network error: timed out"));
        assert!(!classify_reply(None, "TLS error: received fatal alert: HandshakeFailure"));
        // A refused login is our configuration: never failing the mail (`classify` tells it apart).
        assert!(!classify_reply(Some(535), "permanent error (535): 5.7.8 Error: authentication failed"));
        assert!(!classify_reply(Some(530), "permanent error (530): 5.7.0 Must issue a STARTTLS command first"));
        assert!(classify_reply(None, "Envelope contains non-ascii chars but server does not support SMTPUTF8"));
    }

    #[test]
    fn a_refused_login_is_told_apart_from_a_refused_mail() {
        let login = "permanent error (535): 5.7.8 Error: authentication failed: authentication failure";
        assert_eq!(failure_of(Some(535), login.into()), Failure::LoginRefused(login.into()));
        let recipient = "permanent error (550): 5.1.1 <nobody@x.org>: Recipient address rejected: User unknown";
        assert_eq!(failure_of(Some(550), recipient.into()), Failure::Permanent(recipient.into()));
        let busy = "transient error (454): 4.7.0 Temporary authentication failure";
        assert_eq!(failure_of(Some(454), busy.into()), Failure::Transient(busy.into()));
        let down = "Connection error: Connection refused (os error 111)";
        assert_eq!(failure_of(None, down.into()), Failure::Transient(down.into()));
    }
}
