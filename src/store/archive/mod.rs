//! The archive's view of the store, `store.archive()`: case files, holds and disposal.
//!
//! `filing`: every document into a case, and the yearly cases closed at the cutoff;
//! `cases`: named cases opened, documents added to a case, cases shown, listed and closed;
//! `package`: documents read out for a package, and a package brought in (`Import`).

mod cases;
mod filing;
mod package;

use chrono::{DateTime, Utc};
use sqlx::AnyPool;

pub use cases::{CaseDocument, CaseEvent, CaseFile, CaseFilter, CaseRecord};
pub(super) use filing::file_unfiled;
pub use package::Import;

use super::{Result, Store};
use crate::core::archive::Cutoff;

/// The archive's view of the store.
pub struct Archive<'a> {
    store: &'a Store,
    pool: &'a AnyPool,
}

impl Store {
    pub fn archive(&self) -> Archive<'_> {
        Archive { store: self, pool: &self.pool }
    }
}

/// What a catch-up did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CatchUp {
    /// Documents filed into a case.
    pub filed: u64,
    /// Yearly cases closed at their cutoff.
    pub closed: Vec<String>,
}

impl Archive<'_> {
    /// Files what is not in a case yet and closes the yearly cases whose cutoff has passed, in
    /// one transaction: what `serve`'s scheduler runs, and every archive command before it acts.
    pub async fn catch_up(&self, default_class: Option<&str>, cutoff: Cutoff, now: DateTime<Utc>) -> Result<CatchUp> {
        let mut tx = self.store.begin_write().await?;
        let filed = file_unfiled(&mut tx, default_class, now).await?;
        let closed = filing::close_yearly_cases(&mut tx, cutoff, self.store.zone, now).await?;
        tx.commit().await?;
        Ok(CatchUp { filed, closed })
    }
}
