//! A sender's wake-up, kept by the store: whatever commits work for the sender (mail, a room
//! message, a reminder) tells it, so it acts at once rather than at its next look.

use std::sync::{Arc, OnceLock};

use tokio::sync::Notify;

/// One sender's wake-up. Clones of the store share it; until a sender sets it, waking it does
/// nothing (a CLI command, a test without that sender).
#[derive(Clone, Default)]
pub(super) struct Waker(Arc<OnceLock<Arc<Notify>>>);

impl Waker {
    /// Whom `wake` tells. Set once: the first sender to ask is the one woken.
    pub(super) fn set(&self, notify: Arc<Notify>) {
        self.0.set(notify).ok();
    }

    /// Tells the sender, if one is set, that there is work for it.
    pub(super) fn wake(&self) {
        if let Some(notify) = self.0.get() {
            notify.notify_one();
        }
    }
}
