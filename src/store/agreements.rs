//! Agreements with partners: `store.agreements()`. (Being written: the reminders' hook first.)

use sqlx::{Any, Transaction};

use super::Result;
use crate::core::remind::{Kind, Policy, Subject};

/// What an agreement reminder is about, read in the scheduler's firing transaction: the
/// agreement's title and whether it still ends on the reminder's date; the office's managers
/// and the person who added it hear of it. `None` when it no longer exists.
pub(super) async fn reminder_subject_in(
    _tx: &mut Transaction<'static, Any>,
    _policy: &Policy,
    _kind: Kind,
    _id: i64,
) -> Result<Option<Subject>> {
    Ok(None)
}
