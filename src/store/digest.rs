//! The weekly digest of a unit. (Being written: the scheduler's hook first.)

use chrono::{DateTime, Utc};
use sqlx::{Any, Transaction};

use super::Result;
use crate::core::remind::{Delivery, Policy};

/// The messages of a unit's weekly digest (the 7 days ending `now`) to its head, in Matrix and
/// by e-mail, read in the scheduler's firing transaction.
pub(super) async fn fire_digest_in(
    _tx: &mut Transaction<'static, Any>,
    _policy: &Policy,
    _unit: &str,
    _now: DateTime<Utc>,
) -> Result<Vec<Delivery>> {
    Ok(Vec::new())
}
