//! The staff directory and the rooms bound to units: `store.staff()`.

use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use sqlx::{Any, AnyPool, Row, Transaction};

use crate::core::announce::RoomTarget;
use crate::core::confidentiality::Confidentiality;
use crate::core::reference::Reference;
use crate::core::remind::Recipient;
use crate::core::time::stamp;
use crate::core::viewer::{MemberWithAddress, Role, StaffMember};

use super::{Result, Store, StoreError, room_outbox};

/// The staff directory's view of the store.
pub struct StaffDirectory<'a> {
    pool: &'a AnyPool,
    store: &'a Store,
}

impl Store {
    pub fn staff(&self) -> StaffDirectory<'_> {
        StaffDirectory { pool: &self.pool, store: self }
    }
}

/// How to reach a person outside the chat (`staff add … --tz --email`): their own time zone,
/// for the times reminders show and "a date alone is 09:00", and an address for e-mail
/// reminders. Kept apart from `StaffMember`, which says what a person may see and do.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Reach {
    /// A name of the tz database (`Asia/Baku`); `None`: the office's zone.
    pub timezone: Option<String>,
    pub email: Option<String>,
}

impl Reach {
    /// The person's own zone, when they have a known one.
    pub fn zone(&self) -> Option<chrono_tz::Tz> {
        self.timezone.as_deref().and_then(|name| name.parse().ok())
    }
}

/// One line of the directory with how to reach the person (`staff list`, `!staff`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DirectoryEntry {
    #[serde(flatten)]
    pub member: StaffMember,
    #[serde(flatten)]
    pub reach: Reach,
}

impl DirectoryEntry {
    /// The line as the directory's tables show it: Matrix ID, name, unit, role, clearance, zone,
    /// e-mail; a zone or an address not given reads as `not_given`.
    pub fn cells(&self, not_given: &str) -> Vec<String> {
        let (member, reach) = (&self.member, &self.reach);
        let given = |value: &Option<String>| value.clone().unwrap_or_else(|| not_given.to_string());
        vec![
            member.id.clone(),
            member.name.clone(),
            member.unit.clone(),
            member.role.name().into(),
            member.clearance.as_str().into(),
            given(&reach.timezone),
            given(&reach.email),
        ]
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
            return Err(StoreError::NotFound(Reference::StaffMember(mxid.to_string())));
        }
        Ok(())
    }

    /// Sets how to reach a person: both values as given (`None` clears one). NotFound when they
    /// are not in the directory.
    pub async fn set_reach(&self, mxid: &str, timezone: Option<&str>, email: Option<&str>) -> Result<()> {
        let done = sqlx::query("UPDATE staff SET timezone = $1, email = $2 WHERE mxid = $3")
            .bind(timezone)
            .bind(email)
            .bind(mxid)
            .execute(self.pool)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(Reference::StaffMember(mxid.to_string())));
        }
        Ok(())
    }

    /// How to reach a person; nothing known (the default) when they are not in the directory.
    pub async fn reach(&self, mxid: &str) -> Result<Reach> {
        let row = sqlx::query("SELECT timezone, email FROM staff WHERE mxid = $1").bind(mxid).fetch_optional(self.pool).await?;
        match row {
            Some(row) => Ok(Reach { timezone: row.try_get(0)?, email: row.try_get(1)? }),
            None => Ok(Reach::default()),
        }
    }

    /// Everyone in the directory with how to reach them, by unit and name.
    pub async fn list_with_reach(&self) -> Result<Vec<DirectoryEntry>> {
        let rows = sqlx::query("SELECT mxid, name, unit, role, clearance, timezone, email FROM staff ORDER BY unit, name")
            .fetch_all(self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                Ok(DirectoryEntry { member: member_from_row(row)?, reach: Reach { timezone: row.try_get(5)?, email: row.try_get(6)? } })
            })
            .collect()
    }

    /// A direct message to each manager of the International Relations Office's unit
    /// (`office_unit`, the reminder policy's), all written to the room outbox in one
    /// transaction. Returns how many were told (none when the unit has no manager).
    pub async fn notify_office_managers(&self, office_unit: &str, markdown: &str, now: DateTime<Utc>) -> Result<usize> {
        let mut tx = self.store.begin_write().await?;
        let managers: Vec<String> = managers_in(&mut tx, office_unit).await?.into_iter().filter_map(|m| m.mxid).collect();
        tx.commit().await?;
        self.message_each(&managers, markdown, now).await
    }

    /// One direct message to each of these people (each once), all or none: written to the room
    /// outbox in one transaction. Returns how many messages were written.
    pub async fn message_each(&self, mxids: &[String], markdown: &str, now: DateTime<Utc>) -> Result<usize> {
        let mut seen = std::collections::HashSet::new();
        let mut tx = self.store.begin_write().await?;
        let mut told = 0;
        for mxid in mxids.iter().filter(|mxid| seen.insert(mxid.as_str())) {
            room_outbox::enqueue_in(&mut tx, None, &RoomTarget::Person(mxid.clone()), markdown, now).await?;
            told += 1;
        }
        tx.commit().await?;
        if told > 0 {
            self.store.room_message_committed();
        }
        Ok(told)
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

/// How to reach a person: their Matrix ID, and their address and zone when the staff directory
/// has them.
pub(super) async fn recipient_in(tx: &mut Transaction<'static, Any>, mxid: &str) -> Result<Recipient> {
    let row = sqlx::query("SELECT email, timezone FROM staff WHERE mxid = $1").bind(mxid).fetch_optional(&mut **tx).await?;
    let (email, zone) = match row {
        Some(row) => (row.try_get::<Option<String>, _>(0)?, row.try_get::<Option<String>, _>(1)?.and_then(|tz| tz.parse().ok())),
        None => (None, None),
    };
    Ok(Recipient { mxid: Some(mxid.to_string()), email, zone })
}

/// The managers of a unit (its head in the chat), with their addresses and zones.
pub(super) async fn managers_in(tx: &mut Transaction<'static, Any>, unit: &str) -> Result<Vec<Recipient>> {
    let rows = sqlx::query("SELECT mxid, email, timezone FROM staff WHERE unit = $1 AND role = 'manager' ORDER BY mxid")
        .bind(unit)
        .fetch_all(&mut **tx)
        .await?;
    rows.iter()
        .map(|row| {
            Ok(Recipient {
                mxid: Some(row.try_get(0)?),
                email: row.try_get(1)?,
                zone: row.try_get::<Option<String>, _>(2)?.and_then(|tz| tz.parse().ok()),
            })
        })
        .collect()
}

/// A staff member with their address, if the directory has them.
pub(super) async fn member_in(tx: &mut Transaction<'static, Any>, mxid: &str) -> Result<Option<MemberWithAddress>> {
    let Some(row) = sqlx::query("SELECT mxid, name, unit, role, clearance, email FROM staff WHERE mxid = $1")
        .bind(mxid)
        .fetch_optional(&mut **tx)
        .await?
    else {
        return Ok(None);
    };
    let email = row.try_get::<Option<String>, _>(5)?.map(|e| e.trim().to_string()).filter(|e| !e.is_empty());
    Ok(Some((member_from_row(&row)?, email)))
}

fn member_from_row(row: &AnyRow) -> Result<StaffMember> {
    let role: String = row.try_get(3)?;
    let clearance: String = row.try_get(4)?;
    let corrupt = |what: &'static str, value: &str| StoreError::corrupt("the staff directory", what, value);
    Ok(StaffMember {
        id: row.try_get(0)?,
        name: row.try_get(1)?,
        unit: row.try_get(2)?,
        role: Role::parse(&role).map_err(|_| corrupt("role", &role))?,
        clearance: Confidentiality::parse(&clearance).ok_or_else(|| corrupt("clearance", &clearance))?,
    })
}
