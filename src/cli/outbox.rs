//! `chancery send` and `chancery outbox`: outgoing letters, the mail waiting, sent and failed,
//! and sending a mail again.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Subcommand;

use super::{Invocation, canonical_number, write_json};
use crate::config::Config;
use crate::smtp::{Delivery, Dispatcher};
use crate::store::Store;

#[derive(Debug, Subcommand)]
pub(super) enum OutboxCommand {
    /// Send a failed (or waiting) mail again now: it goes back in the outbox, due at once with
    /// its attempts counted afresh (recorded in the document's history), and is sent as `send`
    /// sends. Exit 0 when sent or safely queued for `serve`, 1 when refused.
    Retry {
        /// The mail's number in `chancery outbox` (the first column).
        id: i64,
    },
}

/// An outgoing letter as `chancery send` was given it.
pub(super) struct Letter {
    pub to: Vec<String>,
    pub subject: String,
    pub body: PathBuf,
    pub attach: Vec<PathBuf>,
    pub in_reply_to: Option<String>,
    pub unit: Option<String>,
}

/// `chancery send`: registers the letter, then sends it at once.
pub(super) async fn send(at: &Invocation<'_>, letter: Letter, out: &mut impl Write) -> Result<i32> {
    let (config, store) = (at.config, at.store);
    let dispatcher = dispatcher_for_now(config, store)?;
    let text = std::fs::read_to_string(&letter.body).with_context(|| format!("cannot read {}", letter.body.display()))?;
    let files = read_attachments(&letter.attach)?;
    let answers = letter.in_reply_to.as_deref().map(canonical_number).transpose()?;
    let from = config.smtp.from.clone();
    let to = &letter.to;
    let mail = crate::smtp::Correspondence { from: &from, to, subject: &letter.subject, text: &text, attachments: &files };
    let unit = letter.unit.unwrap_or_else(|| config.register.default_unit.clone());
    let number = store
        .register_outgoing(answers.as_deref(), &at.actor, &unit, at.now, |number, answered| {
            let message_id = crate::smtp::fresh_message_id(crate::core::outbound::MailKind::Correspondence, &number.to_string(), &from);
            crate::smtp::compose_correspondence(&mail, number, answered, message_id)
        })
        .await?;
    store.index_before_exit().await;
    writeln!(out, "{number} registered and queued for {}", to.join(", "))?;
    if let Some(answered) = answers {
        writeln!(out, "{answered} marked answered")?;
    }
    // Deliver now rather than wait for `serve`; claims are atomic, so a running
    // dispatcher and this one never send the same mail twice.
    let id = store.outbox().mail_of_document(&number).await?.context("the letter was registered without its mail")?;
    send_now(&dispatcher, config, store, id, &number, out).await
}

/// The files to attach, each under its file name.
fn read_attachments(paths: &[PathBuf]) -> Result<Vec<(String, Vec<u8>)>> {
    let mut files = Vec::new();
    for path in paths {
        let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "attachment".into());
        files.push((name, bytes));
    }
    Ok(files)
}

/// `chancery outbox retry ID`: the mail back in the outbox, then sent at once.
pub(super) async fn retry(at: &Invocation<'_>, id: i64, out: &mut impl Write) -> Result<i32> {
    let (config, store) = (at.config, at.store);
    let dispatcher = dispatcher_for_now(config, store)?;
    store.outbox().retry(id, &at.actor, at.now).await?;
    let mail = store.outbox().mail(id).await?;
    let label = format!("mail {id} ({} to {})", mail.kind, mail.recipients.join(", "));
    writeln!(out, "{label} is back in the outbox; sending it now")?;
    send_now(&dispatcher, config, store, id, &label, out).await
}

/// `chancery outbox`: the mail, then the messages for Matrix rooms (not in JSON).
pub(super) async fn list(at: &Invocation<'_>, json: bool, status: Option<&str>, out: &mut impl Write) -> Result<()> {
    let store = at.store;
    let rows: Vec<_> = store.outbox().list().await?.into_iter().filter(|row| status.is_none_or(|s| row.status == s)).collect();
    if json {
        return write_json(out, &rows);
    }
    for row in &rows {
        let error = row.last_error.as_deref().map(|e| format!("  ({e})")).unwrap_or_default();
        writeln!(out, "{:>6}  {:<16} {:<8} {:<40} {}{error}", row.id, row.kind, row.status, row.recipients.join(", "), row.mail.subject)?;
    }
    if rows.is_empty() {
        writeln!(out, "no mail")?;
    }
    let posts: Vec<_> = store.room_messages().list().await?.into_iter().filter(|post| status.is_none_or(|s| post.status == s)).collect();
    if !posts.is_empty() {
        writeln!(out, "\nroom messages (Matrix):")?;
    }
    for post in &posts {
        let error = post.last_error.as_deref().map(|e| format!("  ({e})")).unwrap_or_default();
        let shown = crate::core::markdown::plain_text(&post.markdown);
        let first_line = shown.lines().next().unwrap_or("").trim_end();
        writeln!(out, "{:>6}  {:<16} {:<8} {first_line}{error}", post.id, post.target.as_str(), post.status)?;
    }
    Ok(())
}

/// A dispatcher for sending one mail at once, from the command line.
fn dispatcher_for_now(config: &Config, store: &Store) -> Result<Dispatcher> {
    if !config.smtp.enabled {
        bail!("sending needs smtp.enabled = true and an [smtp] section");
    }
    let password = config.smtp.password().map_err(anyhow::Error::msg)?;
    Dispatcher::new(&config.smtp, password, store.clone())
}

/// Sends one mail of the outbox now, as `serve` would, and says what became of it: on standard
/// output when it went or waits safely for `serve` (exit code 0), on standard error when a
/// person must act (1). `label` names the mail for people.
async fn send_now(dispatcher: &Dispatcher, config: &Config, store: &Store, id: i64, label: &str, out: &mut impl Write) -> Result<i32> {
    let retry = format!("chancery outbox retry {id}");
    match dispatcher.dispatch_now(id).await? {
        Some(Delivery::Sent) => {
            writeln!(out, "{label}: sent")?;
            Ok(0)
        }
        Some(Delivery::Failed(reason)) => {
            eprintln!(
                "chancery: {label} was not sent and is marked failed: {reason}; once that is put right, send it again with `{retry}`"
            );
            Ok(1)
        }
        Some(Delivery::LoginRefused { reason, .. }) => {
            let password = if config.smtp.password_file.is_some() { "smtp.password_file" } else { "smtp.password" };
            eprintln!(
                "chancery: {reason}; check smtp.user and {password}. {label} is registered and stays in the outbox: it goes when \
                 `chancery serve` runs with the right password, or with `{retry}`"
            );
            Ok(1)
        }
        Some(Delivery::WillRetry { reason, .. }) => {
            writeln!(out, "{label} is in the outbox but not sent yet: {reason}; `chancery serve` will retry it (outbox mail {id})")?;
            Ok(0)
        }
        None => {
            // Another process claimed it between our write and our claim: a running `serve`.
            let status = store.outbox().mail(id).await?.status;
            writeln!(out, "{label}: {status}; a running `chancery serve` is sending it (see `chancery outbox`)")?;
            Ok(0)
        }
    }
}
