//! The Matrix adapter: the assistant's session on the homeserver. It turns room messages into
//! `commands::Request`s and posts the answers and the room cards of the outbox; it decides
//! nothing itself.
//!
//! - `session`: logging in once and restoring the same device afterwards (end-to-end
//!   encryption needs the same device and its crypto store across restarts).
//! - `rooms`: which room a unit's cards go to.
//! - `sync`: the long-polling loop that keeps the session in step with the homeserver.
//! - `handlers`: invites, messages and the assistant's own membership.
//! - `answering`: each question answered in a task of its own, in order within its room.
//! - `content`: what a reply or a room message is sent as: its HTML, and its plain body.

mod answering;
pub mod content;
mod handlers;
mod rooms;
mod session;
mod sync;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Result;
use matrix_sdk::Client;
use matrix_sdk::config::SyncSettings;
use tokio::sync::{Notify, watch};
use tracing::{info, warn};

use crate::commands::{Catalog, Settings};
use crate::config::{Config, MatrixConfig, Secret};
use crate::store::Store;

pub use rooms::RoomDirectory;

/// How often the poster looks for messages that another process queued (`chancery chat`,
/// another instance) or that a retry made due: those it is not woken for leave within this.
const LOOK_FOR_CARDS: Duration = Duration::from_secs(1);

/// How long a posted room card may stay claimed before another instance may post it.
const CARD_LEASE: chrono::Duration = chrono::Duration::minutes(2);

/// What the assistant answers with: the commands, their settings, and the rooms `units.toml`
/// names for units. `service::assistant_parts` makes them from the configuration and the rules.
pub struct AssistantParts {
    pub catalog: Arc<Catalog>,
    pub settings: Arc<Settings>,
    /// (unit, room ID or alias) from `units.toml`.
    pub unit_rooms: Vec<(String, String)>,
}

/// The assistant as `serve` runs it: reconnects with backoff, never stops the register.
pub struct Assistant {
    config: MatrixConfig,
    password: Secret,
    store: Store,
    parts: Arc<AssistantParts>,
    /// This instance's name, for the claim on each message it answers.
    instance: Arc<str>,
    /// Woken when a registration queues a room card.
    cards: Arc<Notify>,
}

/// How a session with the homeserver ended.
enum SessionEnd {
    /// `serve` is stopping.
    Stopped,
    /// The homeserver no longer accepts the access token (401 `M_UNKNOWN_TOKEN`): log in again.
    Refused,
}

impl Assistant {
    pub fn new(config: &Config, store: Store, parts: AssistantParts, instance: &str) -> Result<Assistant> {
        let password = config.matrix.password().map_err(anyhow::Error::msg)?;
        let cards = Arc::new(Notify::new());
        store.wake_on_room_message(Arc::clone(&cards));
        Ok(Assistant { config: config.matrix.clone(), password, store, parts: Arc::new(parts), instance: instance.into(), cards })
    }

    /// Serves until `stopped` turns true. Losing the homeserver (or a refused login) is logged
    /// and retried with a growing pause; it never ends the register's other work.
    pub async fn run(self, mut stopped: watch::Receiver<bool>) -> Result<()> {
        let mut failures = 0u32;
        // Only the first session of this `serve` skips what was said before it started; a
        // session after a lost connection answers what was asked meanwhile.
        let mut backlog_skipped = false;
        loop {
            if *stopped.borrow() {
                return Ok(());
            }
            let started = std::time::Instant::now();
            let outcome = tokio::select! {
                outcome = self.session(&mut backlog_skipped, stopped.clone()) => outcome,
                _ = stopped.changed() => Ok(SessionEnd::Stopped),
            };
            match outcome {
                Ok(SessionEnd::Stopped) => return Ok(()),
                // The next session finds the saved token refused and logs in again; the pause
                // keeps a homeserver that refuses every token from being asked in a loop.
                Ok(SessionEnd::Refused) => {
                    warn!(user = %self.config.user, "the homeserver refused the access token; logging in again as the same device");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                Err(error) => {
                    // A session that ran a while was a success: start the backoff over.
                    if started.elapsed() > Duration::from_secs(60) {
                        failures = 0;
                    }
                    failures += 1;
                    let pause = reconnect_pause(failures, self.config.reconnect_max_secs);
                    warn!(
                        homeserver = %self.config.homeserver,
                        error = %crate::errors::one_line_of(&error),
                        retry_in_secs = pause.as_secs(),
                        "cannot reach the Matrix homeserver; the register goes on, and the assistant reconnects"
                    );
                    tokio::select! {
                        _ = tokio::time::sleep(pause) => {}
                        _ = stopped.changed() => return Ok(()),
                    }
                }
            }
        }
    }

    /// One session: log in (or restore), skip what was said before `serve` started (the first
    /// time only), then answer and post cards until stopped or the token is refused. A lost
    /// connection inside the session is retried with the same client, from its sync token.
    async fn session(&self, backlog_skipped: &mut bool, stopped: watch::Receiver<bool>) -> Result<SessionEnd> {
        let client = session::connect(&self.config, &self.password).await?;
        if !*backlog_skipped {
            // What was said before this start was answered by the last run (or not meant for a
            // bot that was away): only what arrives after this sync gets an answer. It returns
            // at once with what is new since the saved sync token.
            match client.sync_once(SyncSettings::default().timeout(Duration::ZERO)).await {
                Ok(_) => *backlog_skipped = true,
                Err(error) if session::is_refused_token(&error) => return Ok(SessionEnd::Refused),
                Err(error) => return Err(error.into()),
            }
        }
        handlers::install(&client, self.store.clone(), Arc::clone(&self.parts), Arc::clone(&self.instance));
        handlers::answer_pending_invites(&client, &self.store).await;
        if let Err(error) = self.store.answered_events().prune(chrono::Utc::now()).await {
            warn!(error = %crate::errors::one_line(&error), "cannot forget old answered messages");
        }
        info!(user = %self.config.user, "the assistant is online");
        // Ends with the session, however it ends: a poster left behind would keep the old
        // client, and its crypto store, open beside the next session's.
        let _poster = AbortOnDrop(tokio::spawn(post_cards(
            client.clone(),
            self.store.clone(),
            Arc::clone(&self.parts),
            self.config.admin_room.clone(),
            Arc::clone(&self.cards),
            stopped,
        )));
        Ok(sync::keep_in_sync(&client, self.config.reconnect_max_secs).await)
    }
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// 1, 2, 4, … seconds, up to `max_secs`.
fn reconnect_pause(failures: u32, max_secs: u64) -> Duration {
    let secs = 1u64.checked_shl(failures.saturating_sub(1)).unwrap_or(u64::MAX);
    Duration::from_secs(secs.min(max_secs.max(1)))
}

/// Posts the room cards of the outbox as they come due: claimed, posted, marked, so that each
/// is posted once even with several instances.
async fn post_cards(
    client: Client,
    store: Store,
    parts: Arc<AssistantParts>,
    admin_room: Option<String>,
    wake: Arc<Notify>,
    mut stopped: watch::Receiver<bool>,
) {
    let rooms = RoomDirectory::new(&parts.unit_rooms, admin_room.as_deref());
    loop {
        let now = chrono::Utc::now();
        let mut posted_any = false;
        match store.room_messages().claim_due(now, 20, CARD_LEASE).await {
            Ok(messages) => {
                posted_any = !messages.is_empty();
                for message in messages {
                    rooms::post(&client, &store, &rooms, message).await;
                }
            }
            Err(error) => warn!(error = %crate::errors::one_line(&error), "cannot read the room outbox"),
        }
        let next = store.room_messages().next_due().await.ok().flatten();
        let pause =
            next.map(|at| (at - chrono::Utc::now()).to_std().unwrap_or(Duration::ZERO)).unwrap_or(LOOK_FOR_CARDS).min(LOOK_FOR_CARDS);
        // Due but not claimable by this instance (another holds it): look again shortly, not
        // in a tight loop.
        let pause = if posted_any { pause } else { pause.max(Duration::from_millis(100)) };
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(pause) => {}
            _ = stopped.changed() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reconnecting_waits_longer_each_time_up_to_the_limit() {
        let pauses: Vec<u64> = (1..=8).map(|n| reconnect_pause(n, 60).as_secs()).collect();
        assert_eq!(pauses, vec![1, 2, 4, 8, 16, 32, 60, 60]);
        assert_eq!(reconnect_pause(200, 60).as_secs(), 60);
    }
}
