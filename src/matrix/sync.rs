//! Keeping in step with the homeserver: one long poll after another, each returning as soon as
//! anything happens for the assistant.
//!
//! The SDK's own `Client::sync` sleeps a second after any sync that returned within a second
//! (`delay_sync`), which is every sync of a bot that is busy answering: every reply waited for
//! it. This loop asks again at once, and pauses only after an error.

use std::time::Duration;

use matrix_sdk::Client;
use matrix_sdk::config::SyncSettings;
use tracing::{info, warn};

use super::SessionEnd;
use super::session::is_refused_token;

/// How long the homeserver may hold one sync open when nothing happens.
const LONG_POLL: Duration = Duration::from_secs(30);

/// Syncs until the homeserver refuses the token (`Refused`); a network error or a 5xx is
/// retried with the same client and sync token, after 1, 2, 4 … seconds up to `max_pause_secs`,
/// so what was said meanwhile is answered once the homeserver is back. Ends only by being
/// dropped otherwise (`serve` stopping).
pub(super) async fn keep_in_sync(client: &Client, max_pause_secs: u64) -> SessionEnd {
    let mut failures = 0u32;
    loop {
        match client.sync_once(SyncSettings::default().timeout(LONG_POLL)).await {
            Ok(_) => {
                if failures > 0 {
                    info!(after_failures = failures, "the Matrix homeserver answers again; answering what was asked meanwhile");
                }
                failures = 0;
            }
            Err(error) if is_refused_token(&error) => return SessionEnd::Refused,
            Err(error) => {
                failures += 1;
                let pause = super::reconnect_pause(failures, max_pause_secs);
                warn!(%error, retry_in_secs = pause.as_secs(), "a sync with the Matrix homeserver failed; trying again");
                tokio::time::sleep(pause).await;
            }
        }
    }
}
