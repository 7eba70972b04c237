//! The SMTP adapter: sends the outbox through the university's mail server with lettre.
//!
//! - `dispatcher`: claims due mail, sends it, marks it sent, to retry, or failed; wakes when
//!   mail is enqueued and polls for mail other processes enqueued.
//! - `compose`: an `OutgoingMail` (and the registered letter and files it attaches) into a MIME
//!   message.
//! - `failure`: which SMTP errors pass (4xx, a server that is down) and which do not (5xx).
//! - `transport`: the connection: implicit TLS, STARTTLS, or plain on loopback.
//! - `templates`: reads `mail-rules/templates/` for the core to check.

mod compose;
mod dispatcher;
mod failure;
mod templates;
mod transport;

use std::sync::atomic::{AtomicU64, Ordering};

pub use compose::{AttachedFile, Correspondence, compose, compose_correspondence, compose_with_attachments};
pub use dispatcher::{Delivery, DispatchStats, Dispatcher, backoff};
pub use failure::{Failure, classify, classify_reply, login_refused};
pub use templates::{load_templates, reply_policy};
pub use transport::transport;

use crate::core::outbound::{self, MailKind, domain_of};

/// A Message-ID (without angle brackets) for a new mail from `from`, unique across processes
/// and restarts: the clock in nanoseconds, the process id and a counter.
pub fn fresh_message_id(kind: MailKind, number: &str, from: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    let unique = format!(
        "{}.{}.{}",
        base36(nanos),
        base36(u128::from(std::process::id())),
        base36(u128::from(COUNTER.fetch_add(1, Ordering::Relaxed)))
    );
    let domain = domain_of(from).unwrap_or_else(|| "chancery.invalid".into());
    outbound::message_id(kind, number, &unique, &domain)
}

fn base36(mut n: u128) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    loop {
        out.push(DIGITS[(n % 36) as usize]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fresh_message_ids_differ_and_carry_the_number() {
        let a = fresh_message_id(MailKind::Acknowledgement, "IN-2026-000123", "Registry <registry@uni.example>");
        let b = fresh_message_id(MailKind::Acknowledgement, "IN-2026-000123", "Registry <registry@uni.example>");
        assert_ne!(a, b);
        assert!(a.starts_with("chancery.ack.IN-2026-000123.") && a.ends_with("@uni.example"), "{a}");
    }
}
