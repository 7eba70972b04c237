//! The staff directory and the rooms bound to units: `store.staff()`.

use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

use crate::core::intake::Confidentiality;
use crate::core::time::stamp;
use crate::core::viewer::{Role, StaffMember};

use super::{Result, Store, StoreError};

/// The staff directory's view of the store.
pub struct StaffDirectory<'a> {
    pool: &'a AnyPool,
}

impl Store {
    pub fn staff(&self) -> StaffDirectory<'_> {
        StaffDirectory { pool: &self.pool }
    }
}

impl StaffDirectory<'_> {
    /// Adds a person, or replaces what the directory says of them.
    pub async fn put(&self, member: &StaffMember, by: &str, now: DateTime<Utc>) -> Result<()> {
        sqlx::query(
            "INSERT INTO staff (mxid, name, unit, role, clearance, added_at, added_by) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (mxid) DO UPDATE SET name = excluded.name, unit = excluded.unit, role = excluded.role, \
             clearance = excluded.clearance",
        )
        .bind(&member.id)
        .bind(&member.name)
        .bind(&member.unit)
        .bind(member.role.name())
        .bind(member.clearance.as_str())
        .bind(stamp(now))
        .bind(by)
        .execute(self.pool)
        .await?;
        Ok(())
    }

    pub async fn find(&self, mxid: &str) -> Result<Option<StaffMember>> {
        let row =
            sqlx::query("SELECT mxid, name, unit, role, clearance FROM staff WHERE mxid = $1").bind(mxid).fetch_optional(self.pool).await?;
        row.as_ref().map(member_from_row).transpose()
    }

    pub async fn list(&self) -> Result<Vec<StaffMember>> {
        let rows = sqlx::query("SELECT mxid, name, unit, role, clearance FROM staff ORDER BY unit, name").fetch_all(self.pool).await?;
        rows.iter().map(member_from_row).collect()
    }

    /// The members of one unit.
    pub async fn of_unit(&self, unit: &str) -> Result<Vec<StaffMember>> {
        let rows = sqlx::query("SELECT mxid, name, unit, role, clearance FROM staff WHERE unit = $1 ORDER BY name")
            .bind(unit)
            .fetch_all(self.pool)
            .await?;
        rows.iter().map(member_from_row).collect()
    }

    pub async fn remove(&self, mxid: &str) -> Result<()> {
        let done = sqlx::query("DELETE FROM staff WHERE mxid = $1").bind(mxid).execute(self.pool).await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!("{mxid} is not in the staff directory")));
        }
        Ok(())
    }

    /// Binds a unit to a room (replacing an earlier binding).
    pub async fn bind_room(&self, unit: &str, room_id: &str, by: &str, now: DateTime<Utc>) -> Result<()> {
        sqlx::query(
            "INSERT INTO unit_rooms (unit, room_id, bound_by, bound_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (unit) DO UPDATE SET room_id = excluded.room_id, bound_by = excluded.bound_by, bound_at = excluded.bound_at",
        )
        .bind(unit)
        .bind(room_id)
        .bind(by)
        .bind(stamp(now))
        .execute(self.pool)
        .await?;
        Ok(())
    }

    /// The rooms bound with `!room bind`, by unit.
    pub async fn bound_rooms(&self) -> Result<Vec<(String, String)>> {
        let rows = sqlx::query("SELECT unit, room_id FROM unit_rooms ORDER BY unit").fetch_all(self.pool).await?;
        rows.iter().map(|row| Ok((row.try_get(0)?, row.try_get(1)?))).collect()
    }
}

fn member_from_row(row: &AnyRow) -> Result<StaffMember> {
    let role: String = row.try_get(3)?;
    let clearance: String = row.try_get(4)?;
    let corrupt = |what: &str, value: &str| StoreError::Refused(format!("the staff directory holds an unknown {what} '{value}'"));
    Ok(StaffMember {
        id: row.try_get(0)?,
        name: row.try_get(1)?,
        unit: row.try_get(2)?,
        role: Role::parse(&role).map_err(|_| corrupt("role", &role))?,
        clearance: Confidentiality::parse(&clearance).ok_or_else(|| corrupt("clearance", &clearance))?,
    })
}
