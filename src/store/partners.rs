//! Partner institutions, the people there and the contact log: `store.partners()`.
//!
//! Letters are not copied into the log. They belong to a partner by their correspondents'
//! domains, looked up when asked, so letters registered before the partner was added join it.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use crate::core::partner::{Channel, NewContact, Partner, PartnerKind, PartnerPerson, address_domain, domain_covers};
use crate::core::reference::Reference;
use crate::core::remind::{Kind, Policy};
use crate::core::time::{parse_stamp, stamp};

use super::{DocumentRecord, Refusal, Result, Store, StoreError};

/// The partners' view of the store.
pub struct Partners<'a> {
    store: &'a Store,
}

impl Store {
    pub fn partners(&self) -> Partners<'_> {
        Partners { store: self }
    }
}

/// Which partners `list` returns.
#[derive(Debug, Clone, Default)]
pub struct PartnerFilter {
    pub country: Option<String>,
    pub kind: Option<PartnerKind>,
}

/// One entry of the contact log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    pub id: i64,
    /// The partner's handle.
    pub handle: String,
    pub at: DateTime<Utc>,
    pub via: Channel,
    pub summary: String,
    pub follow_up: Option<NaiveDate>,
    pub follow_up_done: bool,
    /// Who logged it (a Matrix ID).
    pub logged_by: String,
}

/// A registered letter to or from one of a partner's domains.
#[derive(Debug, Clone)]
pub struct PartnerLetter {
    pub handle: String,
    pub document: DocumentRecord,
}

const CONTACT_COLUMNS: &str = "c.id, p.handle, c.at, c.via, c.summary, c.follow_up, c.follow_up_done, c.logged_by FROM contacts c JOIN partners p ON p.id = c.partner_id";

impl Partners<'_> {
    /// Adds a partner with its domains; refuses a handle or a domain that is taken.
    pub async fn add(&self, partner: &Partner, by: &str, now: DateTime<Utc>) -> Result<()> {
        let mut tx = self.store.begin_write().await?;
        if let Some(row) = sqlx::query("SELECT name FROM partners WHERE handle = $1").bind(&partner.handle).fetch_optional(&mut *tx).await?
        {
            let name: String = row.try_get(0)?;
            return Err(Refusal::PartnerExists { handle: partner.handle.clone(), name }.into());
        }
        for domain in &partner.domains {
            let owner = sqlx::query("SELECT p.handle FROM partner_domains pd JOIN partners p ON p.id = pd.partner_id WHERE pd.domain = $1")
                .bind(domain)
                .fetch_optional(&mut *tx)
                .await?;
            if let Some(row) = owner {
                let handle: String = row.try_get(0)?;
                return Err(Refusal::DomainTaken { domain: domain.clone(), handle }.into());
            }
        }
        let row = sqlx::query(
            "INSERT INTO partners (handle, name, country, kind, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(&partner.handle)
        .bind(&partner.name)
        .bind(&partner.country)
        .bind(partner.kind.as_str())
        .bind(by)
        .bind(stamp(now))
        .fetch_one(&mut *tx)
        .await?;
        let id: i64 = row.try_get(0)?;
        for domain in &partner.domains {
            sqlx::query("INSERT INTO partner_domains (partner_id, domain) VALUES ($1, $2)").bind(id).bind(domain).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn find(&self, handle: &str) -> Result<Option<Partner>> {
        let row = sqlx::query("SELECT id, handle, name, country, kind FROM partners WHERE handle = $1")
            .bind(handle)
            .fetch_optional(&self.store.pool)
            .await?;
        let Some(row) = row else { return Ok(None) };
        let mut partners = self.with_domains(vec![row]).await?;
        Ok(partners.pop())
    }

    /// Partners by handle, of one country or kind when the filter says so.
    pub async fn list(&self, filter: &PartnerFilter) -> Result<Vec<Partner>> {
        let mut conditions = Vec::new();
        let mut binds = Vec::new();
        if let Some(country) = &filter.country {
            binds.push(country.clone());
            conditions.push(format!("country = ${}", binds.len()));
        }
        if let Some(kind) = filter.kind {
            binds.push(kind.as_str().to_string());
            conditions.push(format!("kind = ${}", binds.len()));
        }
        let clause = if conditions.is_empty() { "1 = 1".to_string() } else { conditions.join(" AND ") };
        let sql = format!("SELECT id, handle, name, country, kind FROM partners WHERE {clause} ORDER BY handle");
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for bind in binds {
            query = query.bind(bind);
        }
        let rows = query.fetch_all(&self.store.pool).await?;
        self.with_domains(rows).await
    }

    /// Adds a person to a partner; one entry per address.
    pub async fn add_person(&self, handle: &str, person: &PartnerPerson) -> Result<()> {
        let mut tx = self.store.begin_write().await?;
        let id = partner_id(&mut tx, handle).await?;
        let existing = sqlx::query("SELECT name FROM partner_people WHERE partner_id = $1 AND email = $2")
            .bind(id)
            .bind(&person.email)
            .fetch_optional(&mut *tx)
            .await?;
        if let Some(row) = existing {
            let name: String = row.try_get(0)?;
            return Err(Refusal::PersonListed { email: person.email.clone(), handle: handle.to_string(), name }.into());
        }
        sqlx::query("INSERT INTO partner_people (partner_id, name, email, role) VALUES ($1, $2, $3, $4)")
            .bind(id)
            .bind(&person.name)
            .bind(&person.email)
            .bind(&person.role)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The people at a partner, by name.
    pub async fn people(&self, handle: &str) -> Result<Vec<PartnerPerson>> {
        let rows = sqlx::query(
            "SELECT pp.name, pp.email, pp.role FROM partner_people pp JOIN partners p ON p.id = pp.partner_id WHERE p.handle = $1 ORDER BY pp.name",
        )
        .bind(handle)
        .fetch_all(&self.store.pool)
        .await?;
        rows.iter().map(|row| Ok(PartnerPerson { name: row.try_get(0)?, email: row.try_get(1)?, role: row.try_get(2)? })).collect()
    }

    /// (handle, name, email) of every person at partners of one kind (`media` for press releases).
    pub async fn people_of_kind(&self, kind: &str) -> Result<Vec<(String /*handle*/, String /*name*/, String /*email*/)>> {
        let rows = sqlx::query(
            "SELECT p.handle, pp.name, pp.email FROM partner_people pp JOIN partners p ON p.id = pp.partner_id \
             WHERE p.kind = $1 ORDER BY p.handle, pp.name",
        )
        .bind(kind)
        .fetch_all(&self.store.pool)
        .await?;
        rows.iter().map(|row| Ok((row.try_get(0)?, row.try_get(1)?, row.try_get(2)?))).collect()
    }

    /// Logs a contact with a partner at `now`; returns its id.
    pub async fn add_contact(&self, policy: &Policy, handle: &str, contact: &NewContact, by: &str, now: DateTime<Utc>) -> Result<i64> {
        let mut tx = self.store.begin_write().await?;
        let id = partner_id(&mut tx, handle).await?;
        let row = sqlx::query(
            "INSERT INTO contacts (partner_id, at, via, summary, follow_up, follow_up_done, logged_by) \
             VALUES ($1, $2, $3, $4, $5, 0, $6) RETURNING id",
        )
        .bind(id)
        .bind(stamp(now))
        .bind(contact.via.as_str())
        .bind(&contact.summary)
        .bind(contact.follow_up.map(|day| day.to_string()))
        .bind(by)
        .fetch_one(&mut *tx)
        .await?;
        let contact_id = row.try_get(0)?;
        if let Some(day) = contact.follow_up {
            super::reminders::schedule_deadline_in(&mut tx, policy, Kind::FollowUp, contact_id, day, None, by, now).await?;
        }
        tx.commit().await?;
        self.store.reminder_committed();
        Ok(contact_id)
    }

    /// The latest contacts, newest first: of one partner, or of all.
    pub async fn contacts(&self, handle: Option<&str>, limit: i64) -> Result<Vec<Contact>> {
        let rows = match handle {
            Some(handle) => {
                sqlx::query(AssertSqlSafe(format!("SELECT {CONTACT_COLUMNS} WHERE p.handle = $1 ORDER BY c.at DESC, c.id DESC LIMIT $2")))
                    .bind(handle)
                    .bind(limit)
                    .fetch_all(&self.store.pool)
                    .await?
            }
            None => {
                sqlx::query(AssertSqlSafe(format!("SELECT {CONTACT_COLUMNS} ORDER BY c.at DESC, c.id DESC LIMIT $1")))
                    .bind(limit)
                    .fetch_all(&self.store.pool)
                    .await?
            }
        };
        rows.iter().map(contact_from_row).collect()
    }

    /// Open follow-ups dated `day` or earlier, the oldest first.
    pub async fn follow_ups_due(&self, day: NaiveDate) -> Result<Vec<Contact>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {CONTACT_COLUMNS} WHERE c.follow_up_done = 0 AND c.follow_up IS NOT NULL AND c.follow_up <= $1 ORDER BY c.follow_up, c.id"
        )))
        .bind(day.to_string())
        .fetch_all(&self.store.pool)
        .await?;
        rows.iter().map(contact_from_row).collect()
    }

    /// Marks a contact's follow-up done, and its reminder with it; returns the contact as it was.
    pub async fn settle_follow_up(&self, id: i64, by: &str, now: DateTime<Utc>) -> Result<Contact> {
        let mut tx = self.store.begin_write().await?;
        let row = sqlx::query(AssertSqlSafe(format!("SELECT {CONTACT_COLUMNS} WHERE c.id = $1")))
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::NotFound(Reference::Contact(id)))?;
        let contact = contact_from_row(&row)?;
        if contact.follow_up.is_none() {
            return Err(Refusal::NoFollowUp(id).into());
        }
        if contact.follow_up_done {
            return Err(Refusal::FollowUpDone(id).into());
        }
        sqlx::query("UPDATE contacts SET follow_up_done = 1 WHERE id = $1").bind(id).execute(&mut *tx).await?;
        super::reminders::close_subject_in(&mut tx, &[Kind::FollowUp], id, by, now).await?;
        tx.commit().await?;
        Ok(contact)
    }

    /// The latest letters from or to partners' domains, newest first: of one partner, or of
    /// all. A letter is a partner's when its sender (incoming) or a recipient (outgoing) is on
    /// one of the partner's domains or their subdomains; a letter on the domains of two
    /// partners is each one's.
    pub async fn letters(&self, handle: Option<&str>, limit: usize) -> Result<Vec<PartnerLetter>> {
        // A letter matching two domains of one partner comes twice: room for those.
        let wanted = limit.saturating_mul(2);
        let mut candidates = Vec::new();
        for (handle, domain) in self.domains_of(handle).await? {
            for (id, number) in self.latest_filed_under(&domain, wanted).await? {
                candidates.push((id, number, handle.clone(), domain.clone()));
            }
        }
        // Each domain's newest `wanted`, merged: the newest `wanted` of all.
        candidates.sort_by_key(|candidate| std::cmp::Reverse(candidate.0));
        candidates.truncate(wanted);
        let mut letters: Vec<PartnerLetter> = Vec::new();
        for (_, number, handle, domain) in candidates {
            if letters.len() == limit || letters.iter().any(|l| l.document.number == number && l.handle == handle) {
                continue;
            }
            // One number at a time: the shared reader loads attachments by a range of ids,
            // which for letters years apart would be most of the register's.
            let Some(document) = self.store.documents_where("d.number = $1", &[number]).await?.pop() else { continue };
            let on_domain =
                document.correspondents().iter().any(|c| address_domain(&c.address).is_some_and(|d| domain_covers(&domain, &d)));
            if on_domain {
                letters.push(PartnerLetter { handle, document });
            }
        }
        Ok(letters)
    }

    /// (handle, domain) of one partner's domains, or of every partner's.
    async fn domains_of(&self, handle: Option<&str>) -> Result<Vec<(String, String)>> {
        let which = if handle.is_some() { "WHERE p.handle = $1" } else { "" };
        let sql = format!(
            "SELECT p.handle, pd.domain FROM partner_domains pd JOIN partners p ON p.id = pd.partner_id {which} ORDER BY p.handle, pd.domain"
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        if let Some(handle) = handle {
            query = query.bind(handle);
        }
        let rows = query.fetch_all(&self.store.pool).await?;
        rows.iter().map(|row| Ok((row.try_get(0)?, row.try_get(1)?))).collect()
    }

    /// (id, number) of the newest `limit` letters filed under `domain` (migration 0017), newest
    /// first: one walk down the end of the index.
    async fn latest_filed_under(&self, domain: &str, limit: usize) -> Result<Vec<(i64, String)>> {
        let rows = sqlx::query(
            "SELECT dd.document_id, d.number FROM document_domains dd JOIN documents d ON d.id = dd.document_id \
             WHERE dd.domain = $1 ORDER BY dd.document_id DESC LIMIT $2",
        )
        .bind(domain)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(&self.store.pool)
        .await?;
        rows.iter().map(|row| Ok((row.try_get(0)?, row.try_get(1)?))).collect()
    }

    /// Partners from rows of (id, handle, name, country, kind), with their domains.
    async fn with_domains(&self, rows: Vec<AnyRow>) -> Result<Vec<Partner>> {
        let mut partners = Vec::with_capacity(rows.len());
        for row in &rows {
            let id: i64 = row.try_get(0)?;
            let kind: String = row.try_get(4)?;
            let domains = sqlx::query("SELECT domain FROM partner_domains WHERE partner_id = $1 ORDER BY domain")
                .bind(id)
                .fetch_all(&self.store.pool)
                .await?
                .iter()
                .map(|r| r.try_get(0))
                .collect::<std::result::Result<Vec<String>, _>>()?;
            partners.push(Partner {
                handle: row.try_get(1)?,
                name: row.try_get(2)?,
                country: row.try_get(3)?,
                kind: PartnerKind::parse(&kind).map_err(|_| corrupt("partner kind", &kind))?,
                domains,
            });
        }
        Ok(partners)
    }
}

async fn partner_id(tx: &mut sqlx::Transaction<'static, sqlx::Any>, handle: &str) -> Result<i64> {
    sqlx::query("SELECT id FROM partners WHERE handle = $1")
        .bind(handle)
        .fetch_optional(&mut **tx)
        .await?
        .map(|row| row.try_get(0))
        .transpose()?
        .ok_or_else(|| StoreError::NotFound(Reference::Partner(handle.to_string())))
}

fn contact_from_row(row: &AnyRow) -> Result<Contact> {
    let at: String = row.try_get(2)?;
    let via: String = row.try_get(3)?;
    let follow_up: Option<String> = row.try_get(5)?;
    let follow_up = match follow_up {
        Some(text) => Some(NaiveDate::parse_from_str(&text, "%Y-%m-%d").map_err(|_| corrupt("follow-up date", &text))?),
        None => None,
    };
    Ok(Contact {
        id: row.try_get(0)?,
        handle: row.try_get(1)?,
        at: parse_stamp(&at).ok_or_else(|| corrupt("contact time", &at))?,
        via: Channel::parse(&via).map_err(|_| corrupt("way of contact", &via))?,
        summary: row.try_get(4)?,
        follow_up,
        follow_up_done: row.try_get::<i64, _>(6)? != 0,
        logged_by: row.try_get(7)?,
    })
}

fn corrupt(what: &'static str, value: &str) -> StoreError {
    StoreError::corrupt("the partner log", what, value)
}
