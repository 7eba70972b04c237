//! Disposal decisions: proposed, approved by another person, carried out one transaction per
//! case; the certificate they leave; and a review's new retention.
//!
//! Carrying out erases each document's content (subject, correspondents, text, the stored
//! message, its attachments, its search entry, its routing reasons, which quote the letter) and
//! keeps the entry: number, direction, dates, unit, class, case, correspondent's domain, and the
//! sha256 and size of what was destroyed, in `disposed_documents` (the certificate's lines) too.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{Any, AssertSqlSafe, Row, Transaction};

use super::super::rows::{Cell, insert_rows};
use super::super::search::index_words;
use super::super::{Backend, Result, StoreError};
use super::Archive;
use super::cases::event;
use super::due::{DueCase, Facts, case_facts, due_cases};
use super::holds::case_id;
use crate::core::archive::disposal::{
    ArchiveRefusal, Certificate, CertificateLine, check_approver, check_disposable, check_proposer, check_registrar, check_reviewable,
    schedule,
};
use crate::core::archive::{Action, FilePlan, Retention};
use crate::core::time::stamp;
use crate::core::viewer::StaffMember;

/// Documents whose words are read at once to take them out of SQLite's index: their text is
/// held in memory only this many at a time, however large the case.
const UNINDEX_BATCH: i64 = 500;

/// What an approval carried out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approved {
    pub decision: String,
    pub cases: Vec<String>,
    pub documents: u64,
}

impl Archive<'_> {
    /// The cases whose retention has ended by `as_of`, with what stops them.
    pub async fn due(&self, plan: &FilePlan, as_of: NaiveDate) -> Result<Vec<DueCase>> {
        let mut conn = self.pool.acquire().await?;
        due_cases(&mut conn, self.store.zone, plan, as_of).await
    }

    /// Proposes the disposal of `cases` (each disposable today, and all with one action);
    /// returns the decision's name. Nothing is written when any case is refused.
    pub async fn propose(
        &self,
        plan: &FilePlan,
        cases: &[String],
        reason: Option<&str>,
        member: &StaffMember,
        now: DateTime<Utc>,
    ) -> Result<String> {
        check_proposer(member)?;
        let today = now.with_timezone(&self.store.zone).date_naive();
        let mut tx = self.store.begin_write().await?;
        let mut found = Vec::new();
        for name in cases {
            let id = case_id(&mut tx, name).await?;
            if !found.iter().any(|case: &Facts| case.id == id) {
                found.extend(case_facts(&mut tx, self.store.zone, &format!("c.id = {id}"), &[], |_| true).await?);
            }
        }
        let action = one_action(plan, &found, today)?;
        let year = crate::core::time::year_in(now, self.store.zone);
        let sequence = next_decision(&mut tx, year).await?;
        let name = crate::core::archive::disposal::DecisionName { year, sequence }.to_string();
        let id: i64 = sqlx::query(
            "INSERT INTO disposals (name, year, sequence, action, reason, proposed_by, proposed_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(&name)
        .bind(i64::from(year))
        .bind(i64::from(sequence))
        .bind(action.as_str())
        .bind(reason)
        .bind(&member.id)
        .bind(stamp(now))
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
        for case in &found {
            sqlx::query("INSERT INTO disposal_cases (disposal_id, case_id) VALUES ($1, $2)")
                .bind(id)
                .bind(case.id)
                .execute(&mut *tx)
                .await?;
            event(&mut tx, case.id, now, &member.id, "disposal proposed", Some(&format!("{name}: {}", action.as_str())), reason).await?;
        }
        tx.commit().await?;
        Ok(name)
    }

    /// Approves a decision and carries it out, one transaction per case, after checking every
    /// case again. An approved decision whose carrying out stopped half-way is taken up again.
    pub async fn approve(&self, plan: &FilePlan, decision: &str, member: &StaffMember, now: DateTime<Utc>) -> Result<Approved> {
        let prepared = self.prepare(plan, decision, None, member, Disposal::Destroyed, now).await?;
        self.carry_out(plan, prepared, member, now).await
    }

    /// The transfer decision waiting for `case`, checked as its approval will be: what
    /// `archive export --transfer` asks before it writes the package.
    pub async fn transfer_of(&self, plan: &FilePlan, case: &str, member: &StaffMember, now: DateTime<Utc>) -> Result<String> {
        let row = sqlx::query(
            "SELECT d.name FROM disposals d JOIN disposal_cases dc ON dc.disposal_id = d.id JOIN cases c ON c.id = dc.case_id \
             WHERE c.name = $1 AND d.action = 'transfer' AND c.disposed_by IS NULL ORDER BY d.id DESC LIMIT 1",
        )
        .bind(case)
        .fetch_optional(self.pool)
        .await?
        .ok_or_else(|| ArchiveRefusal::NoTransfer { case: case.to_string() })?;
        let decision: String = row.try_get(0)?;
        self.prepare(plan, &decision, Some(case), member, Disposal::Transferred, now).await?;
        Ok(decision)
    }

    /// Carries out the transfer of `case` by `decision`, once its package is written and checked:
    /// its documents are erased as a disposal erases them, marked `transferred by D-…`.
    pub async fn approve_transfer(
        &self,
        plan: &FilePlan,
        decision: &str,
        case: &str,
        member: &StaffMember,
        now: DateTime<Utc>,
    ) -> Result<Approved> {
        let prepared = self.prepare(plan, decision, Some(case), member, Disposal::Transferred, now).await?;
        self.carry_out(plan, prepared, member, now).await
    }

    /// A decision checked for approval by `member`: its cases left to carry out (only `case`,
    /// when one is named), each as disposable as when it was proposed.
    async fn prepare(
        &self,
        plan: &FilePlan,
        decision: &str,
        case: Option<&str>,
        member: &StaffMember,
        how: Disposal,
        now: DateTime<Utc>,
    ) -> Result<Prepared> {
        let today = now.with_timezone(&self.store.zone).date_naive();
        let row = sqlx::query("SELECT id, name, action, proposed_by, approved_by FROM disposals WHERE name = $1")
            .bind(decision)
            .fetch_optional(self.pool)
            .await?
            .ok_or_else(|| ArchiveRefusal::NoSuchDecision(decision.to_string()))?;
        let (id, name, action, proposed_by, approved_by): (i64, String, String, String, Option<String>) =
            (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?, row.try_get(3)?, row.try_get(4)?);
        check_approver(&name, &proposed_by, member)?;
        let transfers = action == Action::Transfer.as_str();
        if transfers != (how == Disposal::Transferred) {
            return Err(match case {
                Some(case) => ArchiveRefusal::NoTransfer { case: case.to_string() },
                None => ArchiveRefusal::TransferDecision(name),
            }
            .into());
        }
        let its_cases = format!("c.id IN (SELECT case_id FROM disposal_cases WHERE disposal_id = {id}) AND c.disposed_by IS NULL");
        let mut conn = self.pool.acquire().await?;
        let mut remaining = self.decision_cases(&its_cases, &name, &mut conn).await?;
        drop(conn);
        if let Some(case) = case {
            remaining.retain(|c| c.facts.name == case);
        }
        if remaining.is_empty() {
            let by = approved_by.unwrap_or_default();
            return Err(ArchiveRefusal::AlreadyCarriedOut { decision: name, by }.into());
        }
        refuse_any(plan, &remaining, today)?;
        Ok(Prepared { id, name, how, cases: remaining, today })
    }

    /// Erases a prepared decision's cases, one transaction each, checking each again inside it.
    async fn carry_out(&self, plan: &FilePlan, prepared: Prepared, member: &StaffMember, now: DateTime<Utc>) -> Result<Approved> {
        let Prepared { id, name, how, cases, today } = prepared;
        let mut approved = Approved { decision: name.clone(), cases: Vec::new(), documents: 0 };
        for case in cases {
            let mut tx = self.store.begin_write().await?;
            // Checked again in the transaction that erases: a hold placed since is obeyed.
            let now_facts = self.decision_cases(&format!("c.id = {} AND c.disposed_by IS NULL", case.id), &name, &mut tx).await?;
            refuse_any(plan, &now_facts, today)?;
            sqlx::query("UPDATE disposals SET approved_by = $1, approved_at = $2 WHERE id = $3 AND approved_by IS NULL")
                .bind(&member.id)
                .bind(stamp(now))
                .bind(id)
                .execute(&mut *tx)
                .await?;
            let erasure = Erasure { disposal_id: id, decision: &name, how, actor: &member.id, now, today };
            approved.documents += erase_case(&mut tx, self.store.backend, &erasure, case.id).await?;
            tx.commit().await?;
            approved.cases.push(case.facts.name);
        }
        Ok(approved)
    }

    /// The cases of decision `name` that `clause` selects, as the decision checks them: its own
    /// proposal does not stop them.
    async fn decision_cases(&self, clause: &str, name: &str, conn: &mut sqlx::AnyConnection) -> Result<Vec<Facts>> {
        let mut cases = case_facts(conn, self.store.zone, clause, &[], |_| true).await?;
        for case in &mut cases {
            if case.facts.proposed_in.as_deref() == Some(name) {
                case.facts.proposed_in = None;
            }
        }
        Ok(cases)
    }

    /// The certificate of a decision: who proposed and approved it, and every document it erased.
    pub async fn certificate(&self, decision: &str) -> Result<Certificate> {
        let row = sqlx::query(
            "SELECT id, name, action, reason, proposed_by, proposed_at, approved_by, approved_at FROM disposals WHERE name = $1",
        )
        .bind(decision)
        .fetch_optional(self.pool)
        .await?
        .ok_or_else(|| ArchiveRefusal::NoSuchDecision(decision.to_string()))?;
        let id: i64 = row.try_get(0)?;
        let cases =
            sqlx::query("SELECT c.name FROM disposal_cases dc JOIN cases c ON c.id = dc.case_id WHERE dc.disposal_id = $1 ORDER BY c.name")
                .bind(id)
                .fetch_all(self.pool)
                .await?
                .iter()
                .map(|row| row.try_get(0))
                .collect::<std::result::Result<_, _>>()?;
        let lines = sqlx::query(
            "SELECT dd.number, dd.class_code, dd.registered_at, d.disposed_on, dd.sha256, dd.size, dd.subject \
             FROM disposed_documents dd JOIN documents d ON d.id = dd.document_id WHERE dd.disposal_id = $1 ORDER BY dd.document_id",
        )
        .bind(id)
        .fetch_all(self.pool)
        .await?;
        let documents = lines
            .iter()
            .map(|row| {
                Ok(CertificateLine {
                    number: row.try_get(0)?,
                    class: row.try_get(1)?,
                    registered_at: row.try_get(2)?,
                    disposed_on: row.try_get(3)?,
                    sha256: row.try_get(4)?,
                    size: row.try_get(5)?,
                    subject: row.try_get(6)?,
                })
            })
            .collect::<Result<_>>()?;
        Ok(Certificate {
            decision: row.try_get(1)?,
            action: row.try_get(2)?,
            reason: row.try_get(3)?,
            proposed_by: row.try_get(4)?,
            proposed_at: row.try_get(5)?,
            approved_by: row.try_get(6)?,
            approved_at: row.try_get(7)?,
            cases,
            documents,
        })
    }

    /// Gives a closed case a new retention from today (registrars and admins): it is due at
    /// today + `keep`, and then destroyed (`disposal::action_of`). Returns the new due day.
    pub async fn review(
        &self,
        plan: &FilePlan,
        case: &str,
        keep: Retention,
        reason: &str,
        member: &StaffMember,
        now: DateTime<Utc>,
    ) -> Result<Option<NaiveDate>> {
        check_registrar(member, "review cases")?;
        let today = now.with_timezone(&self.store.zone).date_naive();
        let mut tx = self.store.begin_write().await?;
        let id = case_id(&mut tx, case).await?;
        let mut found = case_facts(&mut tx, self.store.zone, &format!("c.id = {id}"), &[], |_| false).await?;
        let Some(mut case) = found.pop() else { return Err(ArchiveRefusal::NoSuchCase(case.to_string()).into()) };
        check_reviewable(plan, &case.facts)?;
        sqlx::query("UPDATE cases SET kept_for = $1, reviewed_on = $2 WHERE id = $3")
            .bind(keep.to_string())
            .bind(today.to_string())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        event(&mut tx, id, now, &member.id, "reviewed", Some(&format!("kept for {keep} from {today}")), Some(reason)).await?;
        tx.commit().await?;
        case.facts.reviewed = Some((keep, today));
        Ok(schedule(plan, &case.facts).and_then(|s| s.due))
    }
}

/// Refuses, naming every case and reason, unless each case may be disposed of today.
fn refuse_any(plan: &FilePlan, cases: &[Facts], today: NaiveDate) -> Result<Vec<Action>> {
    let mut refused = Vec::new();
    let mut actions = Vec::new();
    for case in cases {
        match check_disposable(plan, &case.facts, today) {
            Ok(action) => actions.push(action),
            Err(stops) => refused.push((case.facts.name.clone(), stops)),
        }
    }
    if refused.is_empty() { Ok(actions) } else { Err(ArchiveRefusal::NotDisposable(refused).into()) }
}

/// The one action the proposed cases share.
fn one_action(plan: &FilePlan, cases: &[Facts], today: NaiveDate) -> Result<Action> {
    let actions = refuse_any(plan, cases, today)?;
    match actions.split_first() {
        Some((first, rest)) if rest.iter().all(|action| action == first) => Ok(*first),
        Some(_) => {
            let named = cases.iter().zip(&actions).map(|(case, action)| format!("{} {}", case.facts.name, action.as_str()));
            Err(ArchiveRefusal::MixedActions(named.collect::<Vec<_>>().join(", ")).into())
        }
        None => Err(ArchiveRefusal::NoCases.into()),
    }
}

/// The next decision number of `year`, from `register_counters` (register 'D'), under its lock.
async fn next_decision(tx: &mut Transaction<'static, Any>, year: i32) -> Result<u32> {
    let row = sqlx::query(
        "INSERT INTO register_counters (register, year, last) VALUES ('D', $1, 1) \
         ON CONFLICT (register, year) DO UPDATE SET last = register_counters.last + 1 RETURNING last",
    )
    .bind(i64::from(year))
    .fetch_one(&mut **tx)
    .await?;
    let last: i64 = row.try_get(0)?;
    u32::try_from(last).map_err(|_| StoreError::corrupt(format!("counter D {year}"), "last", last.to_string()))
}

/// A decision checked for approval: what `carry_out` erases.
struct Prepared {
    id: i64,
    name: String,
    how: Disposal,
    cases: Vec<Facts>,
    today: NaiveDate,
}

/// How a disposal takes a document's content out of the register.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::store) enum Disposal {
    Destroyed,
    /// Exported to an archive first (`archive export --transfer`).
    Transferred,
}

impl Disposal {
    /// As `documents.disposal` and the history write it.
    fn as_str(self) -> &'static str {
        match self {
            Disposal::Destroyed => "destroyed",
            Disposal::Transferred => "transferred",
        }
    }
}

/// One decision's erasure: which, how, by whom, when.
pub(in crate::store) struct Erasure<'a> {
    pub disposal_id: i64,
    pub decision: &'a str,
    pub how: Disposal,
    pub actor: &'a str,
    pub now: DateTime<Utc>,
    pub today: NaiveDate,
}

/// Erases the content of every document of one case, set-based, and records it: the
/// certificate's lines first (while the subjects are there), the search entries (while their
/// words can still be read), then the entries' content, their stored bytes, a history line
/// each ("destroyed by D-2026-0001 on 2026-12-07"), the case's disposal and its event. Returns
/// how many documents. A transfer erases the same way, once its package is checked.
pub(in crate::store) async fn erase_case(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    erasure: &Erasure<'_>,
    case_id: i64,
) -> Result<u64> {
    let Erasure { disposal_id, decision, how, actor, now, today } = *erasure;
    // The subject of a confidential or secret document (or of a level the register does not
    // know) is never copied into the certificate.
    sqlx::query(
        "INSERT INTO disposed_documents (disposal_id, document_id, number, class_code, registered_at, sha256, size, subject) \
         SELECT $1, d.id, d.number, c.code, d.registered_at, d.sha256, d.size, \
         CASE WHEN d.confidentiality IN ('public', 'internal') THEN d.subject ELSE NULL END \
         FROM documents d JOIN cases c ON c.id = d.case_id WHERE d.case_id = $2 AND d.disposed_by IS NULL",
    )
    .bind(disposal_id)
    .bind(case_id)
    .execute(&mut **tx)
    .await?;
    unindex_case(tx, backend, case_id).await?;
    let of_case = "SELECT id FROM documents WHERE case_id = $1";
    let erased = sqlx::query(
        "UPDATE documents SET disposed_by = $1, disposal = $2, disposed_on = $3, subject = '', body_text = '', \
         from_json = '[]', to_json = '[]', cc_json = '[]', from_address = '', routing_json = NULL \
         WHERE case_id = $4 AND disposed_by IS NULL",
    )
    .bind(decision)
    .bind(how.as_str())
    .bind(today.to_string())
    .bind(case_id)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    for table in ["raw_messages", "attachments", "search_pending"] {
        sqlx::query(AssertSqlSafe(format!("DELETE FROM {table} WHERE document_id IN ({of_case})")))
            .bind(case_id)
            .execute(&mut **tx)
            .await?;
    }
    sqlx::query(
        "INSERT INTO history (document_id, at, actor, action, new_value) \
         SELECT id, $1, $2, $3, $4 FROM documents WHERE case_id = $5 AND disposed_by = $6",
    )
    .bind(stamp(now))
    .bind(actor)
    .bind(how.as_str())
    .bind(format!("by {decision} on {today}"))
    .bind(case_id)
    .bind(decision)
    .execute(&mut **tx)
    .await?;
    sqlx::query("UPDATE cases SET disposed_by = $1 WHERE id = $2").bind(decision).bind(case_id).execute(&mut **tx).await?;
    let detail = format!("{} by {decision} on {today}: {erased} documents", how.as_str());
    event(tx, case_id, now, actor, how.as_str(), Some(&detail), None).await?;
    Ok(erased)
}

/// Takes a case's documents out of the full-text index. PostgreSQL's index is a table; SQLite's
/// is contentless FTS5, which forgets a row only when told the words it indexed: they are read
/// again (a batch at a time) and handed back with its 'delete' command. A document still queued
/// for indexing was never indexed: its queue row goes with the rest.
async fn unindex_case(tx: &mut Transaction<'static, Any>, backend: Backend, case_id: i64) -> Result<()> {
    if backend == Backend::Postgres {
        sqlx::query("DELETE FROM document_search WHERE document_id IN (SELECT id FROM documents WHERE case_id = $1)")
            .bind(case_id)
            .execute(&mut **tx)
            .await?;
        return Ok(());
    }
    let mut after = 0_i64;
    loop {
        let rows = sqlx::query(
            "SELECT d.id, d.subject, d.body_text, \
             COALESCE((SELECT GROUP_CONCAT(a.name, ' ') FROM (SELECT name FROM attachments WHERE document_id = d.id ORDER BY position) a), '') \
             FROM documents d WHERE d.case_id = $1 AND d.disposed_by IS NULL AND d.id > $2 \
             AND NOT EXISTS (SELECT 1 FROM search_pending p WHERE p.document_id = d.id) ORDER BY d.id LIMIT $3",
        )
        .bind(case_id)
        .bind(after)
        .bind(UNINDEX_BATCH)
        .fetch_all(&mut **tx)
        .await?;
        let Some(last) = rows.last() else { return Ok(()) };
        after = last.try_get(0)?;
        let mut words = Vec::with_capacity(rows.len());
        for row in &rows {
            let (id, subject, body, names): (i64, String, String, String) =
                (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?, row.try_get(3)?);
            // As `index_pending` wrote them: the names each after a space.
            words.push((id, index_words(&subject), index_words(&body), index_words(&format!(" {names}"))));
        }
        let cells = words
            .iter()
            .map(|(id, subject, body, names)| {
                vec![Cell::Text("delete"), Cell::Int(*id), Cell::Text(subject), Cell::Text(body), Cell::Text(names)]
            })
            .collect();
        insert_rows(tx, "documents_fts", &["documents_fts", "rowid", "subject", "body", "attachment_names"], cells).await?;
    }
}
