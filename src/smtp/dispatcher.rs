//! Sends the outbox: claim one due mail, send it, mark it; repeat until none is due; then sleep
//! until woken (mail enqueued in this process), until the next retry falls due, or for the poll
//! interval (mail enqueued by other processes), whichever comes first.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Result, bail};
use chrono::{DateTime, Utc};
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use tokio::sync::{Notify, watch};
use tracing::{debug, error, info, warn};

use super::compose::{AttachedFile, compose_with_attachments};
use super::failure::{Failure, classify, login_refused};
use super::transport::transport;
use crate::config::{Secret, SmtpConfig};
use crate::core::outbound::MailKind;
use crate::errors::one_line_of;
use crate::store::outbox::OutboxItem;
use crate::store::{Store, StoreError};

/// Counters for operators and tests.
#[derive(Debug, Default)]
pub struct DispatchStats {
    pub sent: AtomicU64,
    /// Temporary failures, each followed by a retry.
    pub retried: AtomicU64,
    pub failed: AtomicU64,
}

/// The delay before attempt `attempts + 1`, after `attempts` failed ones: `base`, doubling,
/// at most `max`.
pub fn backoff(attempts: u32, base: Duration, max: Duration) -> Duration {
    let doublings = attempts.saturating_sub(1).min(30);
    base.saturating_mul(1u32 << doublings).min(max)
}

/// What became of one attempt to send a mail; the outbox row says the same.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    Sent,
    /// Refused for good, or still failing after `smtp.give_up_after_secs`: marked failed.
    Failed(String),
    /// The server refused our login (the reason says so in words): the mail stays pending
    /// and is tried again at `retry_at`, the longest interval.
    LoginRefused {
        reason: String,
        retry_at: DateTime<Utc>,
    },
    /// Not sent this time (the server is down, or answered 4xx); tried again at `retry_at`.
    WillRetry {
        reason: String,
        retry_at: DateTime<Utc>,
    },
}

pub struct Dispatcher {
    store: Store,
    /// `host:port` and the login, to say whose login a server refused.
    server: String,
    user: String,
    transport: AsyncSmtpTransport<Tokio1Executor>,
    poll: Duration,
    retry_base: Duration,
    retry_max: Duration,
    give_up_after: chrono::Duration,
    /// How long a claimed mail stays ours: every step of one send may take the timeout. Under
    /// `serve`, another instance takes it sooner only once this instance's heartbeat lapses (it
    /// died), so this long lease only holds for a claimer that is no instance (`chancery send`)
    /// or a dispatcher stuck while its instance lives.
    lease: chrono::Duration,
    wake: Arc<Notify>,
    stats: Arc<DispatchStats>,
}

impl Dispatcher {
    /// A dispatcher for the configured server. Nothing connects until there is mail.
    pub fn new(config: &SmtpConfig, password: Secret, store: Store) -> Result<Dispatcher> {
        if let Err(error) = config.from.parse::<Mailbox>() {
            bail!("smtp.from {:?} is not an address: {error}", config.from);
        }
        let seconds = |s: u64| chrono::Duration::seconds(i64::try_from(s).unwrap_or(i64::MAX / 1000));
        Ok(Dispatcher {
            store,
            server: format!("{}:{}", config.host, config.port()),
            user: config.user.clone(),
            transport: transport(config, &password)?,
            poll: Duration::from_secs(config.poll_secs.max(1)),
            retry_base: Duration::from_secs(config.retry_base_secs.max(1)),
            retry_max: Duration::from_secs(config.retry_max_secs.max(config.retry_base_secs).max(1)),
            give_up_after: seconds(config.give_up_after_secs),
            lease: seconds(config.timeout_secs.max(1).saturating_mul(10).max(120)),
            wake: Arc::new(Notify::new()),
            stats: Arc::default(),
        })
    }

    /// Call `notify_one()` on this after committing mail to the outbox: the dispatcher sends it
    /// at once instead of at the next poll.
    pub fn waker(&self) -> Arc<Notify> {
        Arc::clone(&self.wake)
    }

    /// Uses a waker made elsewhere (by whoever enqueues, before the dispatcher exists).
    pub fn with_waker(mut self, wake: Arc<Notify>) -> Dispatcher {
        self.wake = wake;
        self
    }

    pub fn stats(&self) -> Arc<DispatchStats> {
        Arc::clone(&self.stats)
    }

    /// Runs until `shutdown` turns true (or its sender is gone). A mail being sent when it turns
    /// is finished first.
    pub async fn run(&self, mut shutdown: watch::Receiver<bool>) -> Result<()> {
        info!("SMTP dispatcher running");
        loop {
            if *shutdown.borrow() {
                return Ok(());
            }
            let mut login_refused = false;
            loop {
                match self.dispatch_next().await {
                    Ok(Some(Delivery::LoginRefused { .. })) => {
                        login_refused = true;
                        break;
                    }
                    Ok(Some(_)) if !*shutdown.borrow() => continue,
                    Ok(_) => break,
                    Err(error) => {
                        warn!(error = %one_line_of(&error), "outbox unavailable; trying again at the next poll");
                        break;
                    }
                }
            }
            if login_refused {
                // The other mail would be refused too, one failed login each: wait the longest
                // interval, whatever is enqueued meanwhile.
                tokio::select! {
                    _ = tokio::time::sleep(self.retry_max) => {}
                    changed = shutdown.changed() => if changed.is_err() { return Ok(()) },
                }
                continue;
            }
            let wait = match self.store.outbox().next_due().await {
                Ok(Some(due)) => (due - Utc::now()).to_std().unwrap_or(Duration::ZERO).min(self.poll),
                Ok(None) | Err(_) => self.poll,
            };
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(wait) => {}
                changed = shutdown.changed() => if changed.is_err() { return Ok(()) },
            }
        }
    }

    /// Claims and sends one due mail; false when none was due.
    pub async fn dispatch_one(&self) -> Result<bool> {
        Ok(self.dispatch_next().await?.is_some())
    }

    /// Claims, sends and logs one due mail; what became of it, or `None` when none was due.
    async fn dispatch_next(&self) -> Result<Option<Delivery>> {
        let Some(item) = self.store.outbox().claim_due(Utc::now(), 1, self.lease).await?.pop() else { return Ok(None) };
        let delivery = self.attempt(&item).await?;
        self.log(&item, &delivery);
        Ok(Some(delivery))
    }

    /// Sends one mail of the outbox now, due or not, and marks it as `dispatch_one` would; the
    /// caller says what happened. `None` when the mail is not waiting to be sent (it was sent,
    /// it failed, or another process is sending it).
    pub async fn dispatch_now(&self, id: i64) -> Result<Option<Delivery>> {
        let Some(item) = self.store.outbox().claim(id, Utc::now(), self.lease).await? else { return Ok(None) };
        self.attempt(&item).await.map(Some)
    }

    /// Sends a claimed mail and writes down the outcome.
    async fn attempt(&self, item: &OutboxItem) -> Result<Delivery> {
        let outcome = self.send(item).await;
        let now = Utc::now();
        let id = item.id;
        Ok(match outcome {
            Ok(()) => {
                self.store.outbox().mark_sent(id, now).await?;
                self.stats.sent.fetch_add(1, Ordering::Relaxed);
                Delivery::Sent
            }
            Err(Failure::Permanent(reason)) => {
                self.store.outbox().mark_failed(id, &reason, now).await?;
                self.stats.failed.fetch_add(1, Ordering::Relaxed);
                Delivery::Failed(reason)
            }
            Err(Failure::LoginRefused(reason)) => {
                // Every attempt will be refused until someone fixes the password, and a server
                // may lock an account that keeps failing: wait the longest interval.
                let reason = login_refused(&self.server, &self.user, &reason);
                let retry_at = now + chrono::Duration::from_std(self.retry_max).unwrap_or(self.lease);
                self.store.outbox().mark_retry(id, &reason, retry_at).await?;
                self.stats.retried.fetch_add(1, Ordering::Relaxed);
                Delivery::LoginRefused { reason, retry_at }
            }
            Err(Failure::Transient(reason)) if now - item.created_at >= self.give_up_after => {
                let reason =
                    format!("{reason} (still failing {} hours after it was written; given up)", (now - item.created_at).num_hours());
                self.store.outbox().mark_failed(id, &reason, now).await?;
                self.stats.failed.fetch_add(1, Ordering::Relaxed);
                Delivery::Failed(reason)
            }
            Err(Failure::Transient(reason)) => {
                let delay = backoff(item.attempts, self.retry_base, self.retry_max);
                let retry_at = now + chrono::Duration::from_std(delay).unwrap_or(self.lease);
                self.store.outbox().mark_retry(id, &reason, retry_at).await?;
                self.stats.retried.fetch_add(1, Ordering::Relaxed);
                Delivery::WillRetry { reason, retry_at }
            }
        })
    }

    fn log(&self, item: &OutboxItem, delivery: &Delivery) {
        let (id, kind, to) = (item.id, item.mail.kind.as_str(), item.mail.to.join(", "));
        match delivery {
            Delivery::Sent => info!(id, kind, %to, message_id = %item.mail.message_id, "mail sent"),
            Delivery::Failed(reason) => error!(id, kind, %to, %reason, "mail not sent and marked failed; it will not be tried again"),
            Delivery::LoginRefused { reason, .. } => error!(
                id,
                kind,
                %to,
                retry_in = ?self.retry_max,
                "{reason}; check smtp.user and smtp.password (or smtp.password_file); the mail stays in the outbox"
            ),
            Delivery::WillRetry { reason, retry_at } => {
                let retry_in = (*retry_at - Utc::now()).to_std().unwrap_or(Duration::ZERO);
                warn!(id, kind, %to, %reason, attempts = item.attempts, ?retry_in, "mail not sent; will retry");
            }
        }
    }

    async fn send(&self, item: &OutboxItem) -> Result<(), Failure> {
        // A letter with files attached by reference (an agenda pack) is built from its parts;
        // the register keeps its text under its number and each file under its own document.
        if let (MailKind::Correspondence, Some(document_id)) = (item.mail.kind, item.document_id)
            && item.mail.attachments.is_empty()
        {
            return self.send_registered(item, document_id).await;
        }
        let original = match (item.mail.attach_original, item.document_id) {
            (false, _) => None,
            (true, None) => return Err(Failure::Permanent("a forward without a registered letter to attach".into())),
            (true, Some(document_id)) => match self.store.outbox().raw_of_document(document_id).await {
                Ok(raw) => Some(raw),
                Err(missing @ StoreError::NotFound(_)) => return Err(Failure::Permanent(missing.to_string())),
                Err(other) => return Err(Failure::Transient(format!("cannot read the letter to attach: {other}"))),
            },
        };
        let mut loaded = Vec::with_capacity(item.mail.attachments.len());
        for file in &item.mail.attachments {
            match self.store.attached_file(file).await {
                Ok(stored) => loaded.push(stored),
                Err(missing @ StoreError::NotFound(_)) => return Err(Failure::Permanent(missing.to_string())),
                Err(other) => return Err(Failure::Transient(format!("cannot read a file to attach: {other}"))),
            }
        }
        let files: Vec<AttachedFile<'_>> =
            loaded.iter().map(|f| AttachedFile { name: &f.name, media_type: &f.media_type, content: &f.content }).collect();
        let message = compose_with_attachments(&item.mail, original.as_deref(), &files)?;
        debug!(id = item.id, "sending");
        self.transport.send(message).await.map(|_| ()).map_err(|e| classify(&e))
    }
}

impl Dispatcher {
    /// Outgoing correspondence is sent as the register holds it, byte for byte.
    async fn send_registered(&self, item: &OutboxItem, document_id: i64) -> Result<(), Failure> {
        let raw = match self.store.outbox().raw_of_document(document_id).await {
            Ok(raw) => raw,
            Err(missing @ StoreError::NotFound(_)) => return Err(Failure::Permanent(missing.to_string())),
            Err(other) => return Err(Failure::Transient(format!("cannot read the letter to send: {other}"))),
        };
        let address = |text: &str| -> Result<lettre::Address, Failure> {
            let mailbox: Mailbox = text.parse().map_err(|e| Failure::Permanent(format!("{text:?} is not an address: {e}")))?;
            Ok(mailbox.email)
        };
        let to = item.mail.to.iter().map(|t| address(t)).collect::<Result<Vec<_>, _>>()?;
        let envelope = lettre::address::Envelope::new(Some(address(&item.mail.from)?), to)
            .map_err(|e| Failure::Permanent(format!("envelope: {e}")))?;
        debug!(id = item.id, "sending registered correspondence");
        // The transport ends the data with CRLF . CRLF whatever the message ends with; without
        // the message's own last CRLF the recipient gets exactly the registered bytes.
        let data = raw.strip_suffix(b"\r\n").unwrap_or(&raw);
        self.transport.send_raw(&envelope, data).await.map(|_| ()).map_err(|e| classify(&e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let (base, max) = (Duration::from_secs(5), Duration::from_secs(600));
        let delays: Vec<u64> = (1..=10).map(|n| backoff(n, base, max).as_secs()).collect();
        assert_eq!(delays, vec![5, 10, 20, 40, 80, 160, 320, 600, 600, 600]);
        assert_eq!(backoff(0, base, max).as_secs(), 5);
        assert_eq!(backoff(u32::MAX, base, max).as_secs(), 600);
    }
}
