//! Meetings and their agendas. (Being written: the scheduler's hook first.)

use chrono::{DateTime, Utc};
use sqlx::{Any, Transaction};

use super::Result;
use crate::core::remind::{Delivery, Policy};

/// Sends a meeting's agenda pack, in the scheduler's firing transaction: registers the outgoing
/// mail to each participant and returns the chat messages that go with it.
pub(super) async fn fire_agenda_pack_in(
    _tx: &mut Transaction<'static, Any>,
    _policy: &Policy,
    _meeting: i64,
    _now: DateTime<Utc>,
) -> Result<Vec<Delivery>> {
    Ok(Vec::new())
}
