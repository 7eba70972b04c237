//! Annulling an entry and changing a field by hand: the store reads the entry, `core::amend`
//! decides, and the decision is written with its history line in one transaction.

use chrono::{DateTime, Utc};
use sqlx::{AssertSqlSafe, Row};

use super::{Result, Store, StoreError, write_history_in};
use crate::core::amend::{self, Changeable};
use crate::core::reference::Reference;

impl Store {
    /// Marks an entry annulled; it stays in the register, visibly annulled, with the reason.
    pub async fn annul(&self, number: &str, reason: &str, actor: &str, now: DateTime<Utc>) -> Result<()> {
        amend::annulment_reason(reason)?;
        let mut tx = self.begin_write().await?;
        let row = sqlx::query("SELECT id, status FROM documents WHERE number = $1")
            .bind(number)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::NotFound(Reference::Document(number.to_string())))?;
        let (id, status): (i64, String) = (row.try_get(0)?, row.try_get(1)?);
        let annulment = amend::annul(number, &status, reason)?;
        sqlx::query("UPDATE documents SET status = $1, annul_reason = $2 WHERE id = $3")
            .bind(amend::ANNULLED)
            .bind(&annulment.reason)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        write_history_in(&mut tx, id, now, actor, &annulment.history).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Changes what may change after registration (status, unit, classification,
    /// confidentiality), recording the change in the history.
    pub async fn change(
        &self,
        number: &str,
        field: &str,
        value: &str,
        actor: &str,
        reason: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let field = match amend::what_changes(field, value)? {
            // A reroute also moves the letter's reminders to the new unit's people.
            Changeable::Unit => return self.documents().reroute(number, value, reason.unwrap_or(""), actor, now).await.map(|_| ()),
            Changeable::Field(field) => field,
        };
        // The column is one of `amend::Field`'s fixed names, never input.
        let column = field.name();
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(AssertSqlSafe(format!("SELECT id, {column} FROM documents WHERE number = $1")))
            .bind(number)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::NotFound(Reference::Document(number.to_string())))?;
        let (id, old): (i64, Option<String>) = (row.try_get(0)?, row.try_get(1)?);
        let change = amend::change(field, old.as_deref(), value, reason);
        sqlx::query(AssertSqlSafe(format!("UPDATE documents SET {column} = $1 WHERE id = $2")))
            .bind(&change.value)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        write_history_in(&mut tx, id, now, actor, &change.history).await?;
        tx.commit().await?;
        Ok(())
    }
}
