//! The archive's view of the store, `store.archive()`: case files, holds and disposal.
//!
//! `filing`: every document into a case, and the yearly cases closed at the cutoff;
//! `cases`: named cases opened, documents added to a case, cases shown, listed and closed;
//! `holds`: holds placed and released; `due`: the facts a disposal is checked against, and
//! `archive due`; `disposal`: decisions proposed, approved and carried out, their certificates,
//! reviews; `package`: documents read out for a package, and a package brought in (`Import`).

mod cases;
mod disposal;
mod due;
mod filing;
mod holds;
mod package;

use chrono::{DateTime, Utc};
use sqlx::AnyPool;

pub use cases::{CaseDocument, CaseEvent, CaseFile, CaseFilter, CaseRecord};
pub use disposal::Approved;
pub use due::DueCase;
pub(super) use filing::file_unfiled;
pub use holds::{HoldRecord, HoldTarget};
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
