//! Press releases and every version of their text: `store.press()`.
//!
//! Each change is guarded by the version it was decided on, so two people editing, approving or
//! sending the same release at once never approve or send a text neither of them saw.

use chrono::{DateTime, Utc};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::core::number::RegistrationNumber;
use crate::core::outbound::{ComposeError, OutgoingMail};
use crate::core::press::{Content, Release, Status, Version};
use crate::core::reply::Language;
use crate::core::time::{parse_stamp, stamp};

use super::{Refusal, Result, Store, StoreError, document_id, outbox, record_history, register};

/// The press releases' view of the store.
pub struct PressReleases<'a> {
    store: &'a Store,
}

impl Store {
    pub fn press(&self) -> PressReleases<'_> {
        PressReleases { store: self }
    }
}

/// A release with the text of its current version.
const SELECT_RELEASES: &str = "SELECT r.id, r.title, r.lang, r.status, r.version, r.approved_version, r.approved_by, r.approved_at, \
     r.sent_at, r.out_number, r.embargo, r.created_by, r.created_at, \
     v.headline, v.dateline, v.lead, v.body, v.quote, v.boilerplate, v.media_contact \
     FROM press_releases r JOIN press_versions v ON v.release_id = r.id AND v.version = r.version";

impl PressReleases<'_> {
    /// Stores a new draft as version 1; returns its id.
    pub async fn create(&self, title: &str, language: Language, content: &Content, by: &str, now: DateTime<Utc>) -> Result<i64> {
        let mut tx = self.store.begin_write().await?;
        let row = sqlx::query(
            "INSERT INTO press_releases (title, lang, status, version, created_by, created_at) VALUES ($1, $2, 'draft', 1, $3, $4) \
             RETURNING id",
        )
        .bind(title)
        .bind(language.code())
        .bind(by)
        .bind(stamp(now))
        .fetch_one(&mut *tx)
        .await?;
        let id: i64 = row.try_get(0)?;
        insert_version(&mut tx, id, 1, content, by, now).await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn find(&self, id: i64) -> Result<Option<Release>> {
        let sql = format!("{SELECT_RELEASES} WHERE r.id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&self.store.pool).await?;
        row.as_ref().map(release_from_row).transpose()
    }

    /// The latest releases, newest first.
    pub async fn latest(&self, limit: u32) -> Result<Vec<Release>> {
        let sql = format!("{SELECT_RELEASES} ORDER BY r.id DESC LIMIT $1");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(i64::from(limit)).fetch_all(&self.store.pool).await?;
        rows.iter().map(release_from_row).collect()
    }

    /// Who made each version of a release, oldest first.
    pub async fn versions(&self, id: i64) -> Result<Vec<Version>> {
        let rows = sqlx::query("SELECT version, edited_by, edited_at FROM press_versions WHERE release_id = $1 ORDER BY version")
            .bind(id)
            .fetch_all(&self.store.pool)
            .await?;
        rows.iter()
            .map(|row| {
                Ok(Version { version: row.try_get(0)?, edited_by: row.try_get(1)?, edited_at: instant(&row.try_get::<String, _>(2)?)? })
            })
            .collect()
    }

    /// Keeps `content` as the version after `edited`, which becomes the current one, a draft
    /// (an approval was of an older text). Refused if the release moved on meanwhile.
    pub async fn add_version(&self, id: i64, edited: i64, content: &Content, by: &str, now: DateTime<Utc>) -> Result<i64> {
        let mut tx = self.store.begin_write().await?;
        let moved = sqlx::query(
            "UPDATE press_releases SET version = version + 1, status = 'draft' WHERE id = $1 AND version = $2 AND status <> 'sent'",
        )
        .bind(id)
        .bind(edited)
        .execute(&mut *tx)
        .await?;
        if moved.rows_affected() == 0 {
            return Err(changed_meanwhile(id));
        }
        insert_version(&mut tx, id, edited + 1, content, by, now).await?;
        tx.commit().await?;
        Ok(edited + 1)
    }

    /// Approves `version`, if it is still the current draft.
    pub async fn approve(&self, id: i64, version: i64, by: &str, now: DateTime<Utc>) -> Result<()> {
        let done = sqlx::query(
            "UPDATE press_releases SET status = 'approved', approved_version = $2, approved_by = $3, approved_at = $4 \
             WHERE id = $1 AND version = $2 AND status = 'draft'",
        )
        .bind(id)
        .bind(version)
        .bind(by)
        .bind(stamp(now))
        .execute(&self.store.pool)
        .await?;
        if done.rows_affected() == 0 {
            return Err(changed_meanwhile(id));
        }
        Ok(())
    }

    /// Sends the approved `version` of a release, in one transaction: it is registered as
    /// outgoing correspondence of `unit` under a new number, `compose` writes the copy the
    /// register keeps and the mails that go out, the mails are queued (held until the embargo,
    /// if any), and the release is marked sent under that number. Returns the number.
    #[allow(clippy::too_many_arguments)]
    pub async fn send<F>(
        &self,
        id: i64,
        version: i64,
        actor: &str,
        unit: &str,
        embargo: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
        compose: F,
    ) -> Result<String>
    where
        F: FnOnce(&RegistrationNumber) -> std::result::Result<(Vec<u8>, Vec<OutgoingMail>), ComposeError>,
    {
        let mut tx = self.store.begin_write().await?;
        // Claiming the row first makes a second sender wait here, then find it sent.
        let claimed = sqlx::query(
            "UPDATE press_releases SET status = 'sent', sent_at = $3, embargo = $4 \
             WHERE id = $1 AND version = $2 AND approved_version = $2 AND status = 'approved'",
        )
        .bind(id)
        .bind(version)
        .bind(stamp(now))
        .bind(embargo.map(stamp))
        .execute(&mut *tx)
        .await?;
        if claimed.rows_affected() == 0 {
            return Err(changed_meanwhile(id));
        }
        let mut more_mails = Vec::new();
        let number = register::register_outgoing(&mut tx, self.store.zone, None, actor, unit, now, |number, _| {
            let (raw, mut mails) = compose(number)?;
            if mails.is_empty() {
                return Err(ComposeError::NoRecipients);
            }
            let first = mails.remove(0);
            more_mails = mails;
            Ok((raw, first))
        })
        .await?;
        let document = document_id(&mut tx, &number).await?;
        for mail in &more_mails {
            outbox::enqueue_in(&mut tx, Some(document), mail, now).await?;
        }
        let approval = format!("press release {id}, version {version}");
        let reason = match embargo {
            Some(at) => {
                outbox::hold_until_in(&mut tx, document, at).await?;
                format!("{approval}; held until the embargo {}", stamp(at))
            }
            None => approval,
        };
        record_history(&mut tx, document, now, actor, "press-release", None, None, None, Some(&reason)).await?;
        sqlx::query("UPDATE press_releases SET out_number = $2 WHERE id = $1").bind(id).bind(&number).execute(&mut *tx).await?;
        tx.commit().await?;
        self.store.mail_committed();
        Ok(number)
    }
}

async fn insert_version(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    id: i64,
    version: i64,
    content: &Content,
    by: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO press_versions (release_id, version, headline, dateline, lead, body, quote, boilerplate, media_contact, \
         edited_by, edited_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(id)
    .bind(version)
    .bind(&content.headline)
    .bind(&content.dateline)
    .bind(&content.lead)
    .bind(&content.body)
    .bind(&content.quote)
    .bind(&content.boilerplate)
    .bind(&content.contact)
    .bind(by)
    .bind(stamp(now))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

fn changed_meanwhile(id: i64) -> StoreError {
    Refusal::PressReleaseMoved(id).into()
}

fn corrupt(what: &'static str, value: &str) -> StoreError {
    StoreError::corrupt("the press releases table", what, value)
}

fn instant(text: &str) -> Result<DateTime<Utc>> {
    parse_stamp(text).ok_or_else(|| corrupt("time", text))
}

fn optional_instant(row: &AnyRow, index: usize) -> Result<Option<DateTime<Utc>>> {
    row.try_get::<Option<String>, _>(index)?.as_deref().map(instant).transpose()
}

fn release_from_row(row: &AnyRow) -> Result<Release> {
    let language: String = row.try_get(2)?;
    let status: String = row.try_get(3)?;
    Ok(Release {
        id: row.try_get(0)?,
        title: row.try_get(1)?,
        language: Language::parse(&language).ok_or_else(|| corrupt("language", &language))?,
        status: Status::parse(&status).ok_or_else(|| corrupt("status", &status))?,
        version: row.try_get(4)?,
        approved_version: row.try_get(5)?,
        approved_by: row.try_get(6)?,
        approved_at: optional_instant(row, 7)?,
        sent_at: optional_instant(row, 8)?,
        out_number: row.try_get(9)?,
        embargo: optional_instant(row, 10)?,
        created_by: row.try_get(11)?,
        created_at: instant(&row.try_get::<String, _>(12)?)?,
        content: Content {
            headline: row.try_get(13)?,
            dateline: row.try_get(14)?,
            lead: row.try_get(15)?,
            body: row.try_get(16)?,
            quote: row.try_get(17)?,
            boilerplate: row.try_get(18)?,
            contact: row.try_get(19)?,
        },
    })
}
