//! The calendar of deadlines and the secrets of people's calendar feeds: `store.calendar()`.
//!
//! Which deadlines a calendar holds is `Scope`'s to say; how a deadline becomes an event, and
//! what of a restricted letter a person may see, the core's (`core::calendar`, `Viewer`).

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use crate::core::calendar::{
    AgreementDates, Event, LetterDue, MeetingTime, Window, agreement_events, letter_event, meeting_event, visa_events,
};
use crate::core::reference::Reference;
use crate::core::status::SETTLED_STATUSES;
use crate::core::time::{parse_stamp, stamp};
use crate::core::viewer::{Restriction, Sight, StaffMember, Viewer};

use super::{Result, Store, StoreError, VisaFilter};

/// The calendar's view of the store.
pub struct Calendar<'a> {
    store: &'a Store,
}

impl Store {
    pub fn calendar(&self) -> Calendar<'_> {
        Calendar { store: self }
    }
}

/// Which deadlines a calendar holds.
#[derive(Debug, Clone)]
pub enum Scope<'a> {
    /// Everything, for the registry's console: restricted letters without their subject.
    All,
    /// One unit's letters; the office unit (`reminders.office_unit`) has the visas and
    /// agreements too. Restricted letters without their subject.
    Unit { unit: &'a str, office_unit: &'a str },
    /// What one person's clearance allows, for their own calendar: every deadline, each letter
    /// as their `Viewer` lets them see it, and the meetings they take part in. A restricted
    /// letter they may see in full is written to its history as disclosed to them (once).
    Person(&'a Viewer),
}

/// Why a letter shown in full in someone's calendar is in its history.
const DISCLOSED_BY_CALENDAR: &str = "calendar";

/// How many random bytes a calendar secret has: 256 bits, written as 64 hex digits.
const SECRET_BYTES: usize = 32;

impl Calendar<'_> {
    /// The events of the calendar `scope` names, all of them, in no particular order (`render`
    /// sorts).
    pub async fn events(&self, scope: &Scope<'_>, now: DateTime<Utc>) -> Result<Vec<Event>> {
        self.collect(scope, None, now).await
    }

    /// The events of `scope` that happen in `window`: read through the indexes of their dates,
    /// so a feed costs what its window holds, however many deadlines lie outside it.
    pub async fn events_within(&self, scope: &Scope<'_>, window: &Window, now: DateTime<Utc>) -> Result<Vec<Event>> {
        self.collect(scope, Some(window), now).await
    }

    async fn collect(&self, scope: &Scope<'_>, window: Option<&Window>, now: DateTime<Utc>) -> Result<Vec<Event>> {
        let (unit, with_office_records, meetings_of) = match scope {
            Scope::All => (None, true, MeetingsOf::Everyone),
            Scope::Unit { unit, office_unit } => (Some(*unit), unit == office_unit, MeetingsOf::Nobody),
            Scope::Person(viewer) => (None, true, MeetingsOf::Person(viewer.member.id.as_str())),
        };
        // A case or an agreement in the window may have its other date outside it.
        let zone = self.store.zone;
        let held = |event: &Event| window.is_none_or(|window| window.holds(&event.when, zone));
        let mut events = Vec::new();
        if with_office_records {
            let cases = match window {
                Some(window) => VisaFilter::DeadlineIn { first: window.first, last: window.last },
                None => VisaFilter::Open,
            };
            for case in self.store.visas().list(cases).await? {
                events.extend(visa_events(&case).into_iter().filter(held));
            }
            for agreement in self.agreements(window).await? {
                events.extend(agreement_events(&agreement).into_iter().filter(held));
            }
        }
        let console = Viewer::console_list();
        let viewer = match scope {
            Scope::Person(viewer) => viewer,
            Scope::All | Scope::Unit { .. } => &console,
        };
        for letter in self.letters(unit, window).await? {
            let restriction = Restriction::stored(&letter.confidentiality, &letter.unit);
            let sight = viewer.sight(restriction);
            if let Some(event) = letter_event(&letter, sight) {
                if sight == (Sight::Full { disclosed: true }) {
                    self.record_disclosure_once(&letter.number, &viewer.member.id, now).await?;
                }
                events.push(event);
            }
        }
        for meeting in self.meetings(meetings_of, window.map(|w| w.instants(zone))).await? {
            events.push(meeting_event(&meeting));
        }
        Ok(events)
    }

    /// Open letters with a due date, of one unit or of all, in the window when there is one.
    async fn letters(&self, unit: Option<&str>, window: Option<&Window>) -> Result<Vec<LetterDue>> {
        let mut binds: Vec<String> = SETTLED_STATUSES.iter().map(|s| s.to_string()).collect();
        let mut clauses = String::new();
        if let Some(unit) = unit {
            binds.push(unit.to_string());
            clauses.push_str(&format!(" AND unit = ${}", binds.len()));
        }
        if let Some(window) = window {
            binds.extend([window.first.to_string(), window.last.to_string()]);
            clauses.push_str(&format!(" AND due_on >= ${} AND due_on <= ${}", binds.len() - 1, binds.len()));
        }
        let mut query = sqlx::query(AssertSqlSafe(format!(
            "SELECT number, subject, unit, confidentiality, status, due_on, assignee FROM documents \
             WHERE due_on IS NOT NULL AND status NOT IN ($1, $2, $3){clauses} ORDER BY due_on, number"
        )));
        for bind in binds {
            query = query.bind(bind);
        }
        let rows = query.fetch_all(&self.store.pool).await?;
        rows.iter().map(letter_from_row).collect()
    }

    /// Active agreements with their partner; in the window, those whose end or notice deadline
    /// falls in it (one indexed range each).
    async fn agreements(&self, window: Option<&Window>) -> Result<Vec<AgreementDates>> {
        const SELECT: &str = "SELECT a.id, p.handle, p.name, a.kind, a.ends_on, a.notice_by FROM agreements a \
                              JOIN partners p ON p.id = a.partner_id WHERE a.status = 'active'";
        let query = match window {
            None => sqlx::query(AssertSqlSafe(format!("{SELECT} ORDER BY a.ends_on, a.id"))),
            Some(window) => sqlx::query(AssertSqlSafe(format!(
                "{SELECT} AND a.ends_on >= $1 AND a.ends_on <= $2 UNION {SELECT} AND a.notice_by >= $1 AND a.notice_by <= $2 ORDER BY 5, 1"
            )))
            .bind(window.first.to_string())
            .bind(window.last.to_string()),
        };
        let rows = query.fetch_all(&self.store.pool).await?;
        rows.iter()
            .map(|row| {
                let id: i64 = row.try_get(0)?;
                let what = format!("agreement {id}");
                Ok(AgreementDates {
                    id,
                    partner_handle: row.try_get(1)?,
                    partner_name: row.try_get(2)?,
                    kind: row.try_get(3)?,
                    end_on: day(&what, "end", row.try_get(4)?)?,
                    notice_by: row.try_get::<Option<String>, _>(5)?.map(|text| day(&what, "notice deadline", text)).transpose()?,
                })
            })
            .collect()
    }

    /// The meetings a calendar holds; in a window, those starting from `.0` until `.1`.
    async fn meetings(&self, of: MeetingsOf<'_>, window: Option<(DateTime<Utc>, DateTime<Utc>)>) -> Result<Vec<MeetingTime>> {
        // A cancelled meeting is no longer in anyone's calendar.
        let (mut binds, whose) = match of {
            MeetingsOf::Nobody => return Ok(Vec::new()),
            MeetingsOf::Everyone => (Vec::new(), "1 = 1"),
            MeetingsOf::Person(mxid) => (
                vec![mxid.to_string()],
                "(m.created_by = $1 OR EXISTS (SELECT 1 FROM meeting_participants p WHERE p.meeting_id = m.id AND p.mxid = $1))",
            ),
        };
        let mut span = String::new();
        if let Some((from, until)) = window {
            // Stamps sort as time.
            binds.extend([stamp(from), stamp(until)]);
            span = format!(" AND m.starts_at >= ${} AND m.starts_at < ${}", binds.len() - 1, binds.len());
        }
        let mut query = sqlx::query(AssertSqlSafe(format!(
            "SELECT m.id, m.title, m.starts_at FROM meetings m WHERE m.cancelled_at IS NULL AND {whose}{span} ORDER BY m.starts_at, m.id"
        )));
        for bind in binds {
            query = query.bind(bind);
        }
        let rows = query.fetch_all(&self.store.pool).await?;
        rows.iter()
            .map(|row| {
                let id: i64 = row.try_get(0)?;
                let starts_at: String = row.try_get(2)?;
                Ok(MeetingTime {
                    id,
                    title: row.try_get(1)?,
                    starts_at: parse_stamp(&starts_at).ok_or_else(|| StoreError::corrupt(format!("meeting {id}"), "start", &starts_at))?,
                })
            })
            .collect()
    }

    /// Writes to a letter's history that its subject was shown in `actor`'s calendar, the first
    /// time it is: a feed is read again every hour, and once says who has seen it.
    async fn record_disclosure_once(&self, number: &str, actor: &str, now: DateTime<Utc>) -> Result<()> {
        sqlx::query(
            "INSERT INTO history (document_id, at, actor, action, reason) \
             SELECT d.id, $2, $3, 'disclosed', $4 FROM documents d WHERE d.number = $1 AND NOT EXISTS \
             (SELECT 1 FROM history h WHERE h.document_id = d.id AND h.actor = $3 AND h.action = 'disclosed' AND h.reason = $4)",
        )
        .bind(number)
        .bind(stamp(now))
        .bind(actor)
        .bind(DISCLOSED_BY_CALENDAR)
        .execute(&self.store.pool)
        .await?;
        Ok(())
    }

    /// The secret of a person's calendar feed, made the first time it is asked for.
    pub async fn secret(&self, mxid: &str) -> Result<String> {
        let row = sqlx::query("SELECT calendar_secret FROM staff WHERE mxid = $1").bind(mxid).fetch_optional(&self.store.pool).await?;
        let Some(row) = row else { return Err(not_in_directory(mxid)) };
        if let Some(secret) = row.try_get::<Option<String>, _>(0)? {
            return Ok(secret);
        }
        // Two first requests at once: the second write finds a secret already and keeps it.
        let secret = fresh_secret()?;
        sqlx::query("UPDATE staff SET calendar_secret = $1 WHERE mxid = $2 AND calendar_secret IS NULL")
            .bind(&secret)
            .bind(mxid)
            .execute(&self.store.pool)
            .await?;
        let row = sqlx::query("SELECT calendar_secret FROM staff WHERE mxid = $1").bind(mxid).fetch_optional(&self.store.pool).await?;
        row.map(|row| row.try_get::<Option<String>, _>(0)).transpose()?.flatten().ok_or_else(|| not_in_directory(mxid))
    }

    /// Replaces a person's secret: the old address of their feed is found no more. Returns
    /// the new secret.
    pub async fn replace_secret(&self, mxid: &str) -> Result<String> {
        let secret = fresh_secret()?;
        let done =
            sqlx::query("UPDATE staff SET calendar_secret = $1 WHERE mxid = $2").bind(&secret).bind(mxid).execute(&self.store.pool).await?;
        if done.rows_affected() == 0 {
            return Err(not_in_directory(mxid));
        }
        Ok(secret)
    }

    /// Whose feed a secret opens: `None` for a secret nobody has (never made, or replaced).
    pub async fn owner_of(&self, secret: &str) -> Result<Option<StaffMember>> {
        let row = sqlx::query("SELECT mxid FROM staff WHERE calendar_secret = $1").bind(secret).fetch_optional(&self.store.pool).await?;
        match row {
            Some(row) => self.store.staff().find(&row.try_get::<String, _>(0)?).await,
            None => Ok(None),
        }
    }
}

/// Whose meetings a calendar holds.
#[derive(Debug, Clone, Copy)]
enum MeetingsOf<'a> {
    Nobody,
    Everyone,
    /// The meetings a person called or takes part in.
    Person(&'a str),
}

/// A new secret: 32 bytes from the operating system's generator, as 64 hex digits (safe in a
/// URL path as it is).
fn fresh_secret() -> Result<String> {
    let mut bytes = [0u8; SECRET_BYTES];
    getrandom::fill(&mut bytes).map_err(|source| StoreError::NoRandomness { purpose: "a calendar secret", source })?;
    Ok(hex::encode(bytes))
}

fn not_in_directory(mxid: &str) -> StoreError {
    StoreError::NotFound(Reference::StaffMember(mxid.to_string()))
}

fn day(what: &str, field: &'static str, text: String) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(&text, "%Y-%m-%d").map_err(|_| StoreError::corrupt(what, field, text))
}

fn letter_from_row(row: &AnyRow) -> Result<LetterDue> {
    let number: String = row.try_get(0)?;
    let due_on = day(&number, "due date", row.try_get(5)?)?;
    Ok(LetterDue {
        subject: row.try_get(1)?,
        unit: row.try_get(2)?,
        confidentiality: row.try_get(3)?,
        status: row.try_get(4)?,
        due_on,
        assignee: row.try_get(6)?,
        number,
    })
}
