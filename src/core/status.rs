//! The states a registered document can be in, reading one typed on the command line or in
//! chat, and which changes of state staff may make.

use chrono::NaiveDate;

/// Every status the register writes: `registered` on arrival, `answered` when an outgoing
/// letter answers it (or staff say so), `in-progress` while its unit works on it, `closed` when
/// it needs nothing more without an answer, `bounced` and `delivery-failed` for outgoing
/// letters that did not arrive, `annulled` by hand. A review flag is not a status: the review
/// queue is `docs list --review`.
pub const DOCUMENT_STATUSES: [&str; 7] = ["registered", "answered", "in-progress", "closed", "bounced", "delivery-failed", "annulled"];

/// The statuses staff set while working on a document (`!doc status`).
pub const WORK_STATUSES: [&str; 3] = ["in-progress", "answered", "closed"];

/// The statuses of documents that need nothing more: they are neither open nor overdue.
pub const SETTLED_STATUSES: [&str; 3] = ["answered", "closed", "annulled"];

/// Why a status cannot be read or set; the variants hold what was typed and the entry's number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatusError {
    #[error("there is no status '{0}' (statuses: {statuses})", statuses = DOCUMENT_STATUSES.join(", "))]
    Unknown(String),
    /// `review` and `flagged` are not statuses but a queue: the message says where it is.
    #[error(
        "there is no status '{0}' (statuses: {statuses}); documents waiting for review are listed by `docs list --review`",
        statuses = DOCUMENT_STATUSES.join(", ")
    )]
    Review(String),
    #[error("'{0}' is not a status you can set (set one of: {statuses})", statuses = WORK_STATUSES.join(", "))]
    NotSettable(String),
    #[error("{0} is annulled; its status stays as it is")]
    Annulled(String),
    #[error("{number} is {status} already")]
    Already { number: String, status: String },
}

/// A status as typed (any case, surrounding space), or a one-line message naming the ones there are.
pub fn parse_status(text: &str) -> Result<&'static str, StatusError> {
    let wanted = text.trim().to_ascii_lowercase();
    if let Some(status) = DOCUMENT_STATUSES.iter().find(|s| **s == wanted) {
        return Ok(status);
    }
    let typed = text.trim().to_string();
    Err(if wanted == "review" || wanted == "flagged" { StatusError::Review(typed) } else { StatusError::Unknown(typed) })
}

/// A status staff may set, as typed, or a message naming the ones they may.
pub fn parse_work_status(text: &str) -> Result<&'static str, StatusError> {
    let wanted = text.trim().to_ascii_lowercase();
    WORK_STATUSES.iter().find(|s| **s == wanted).copied().ok_or_else(|| StatusError::NotSettable(text.trim().to_string()))
}

/// Whether a document in this status still needs someone to act.
pub fn is_open(status: &str) -> bool {
    !SETTLED_STATUSES.contains(&status)
}

/// How many days an open document's answer is late on `today`, when it is (`due_on` is the
/// register's `YYYY-MM-DD`). The store's overdue list asks the same question in SQL.
pub fn days_overdue(due_on: &str, status: &str, today: NaiveDate) -> Option<i64> {
    let due = NaiveDate::parse_from_str(due_on, "%Y-%m-%d").ok()?;
    (is_open(status) && due < today).then(|| (today - due).num_days())
}

/// Whether a document in status `current` may be put in `wanted` by staff, or why not. An
/// annulled entry stays annulled; setting the status it has already would only add noise to
/// its history.
pub fn check_status_change(number: &str, current: &str, wanted: &str) -> Result<(), StatusError> {
    if current == "annulled" {
        return Err(StatusError::Annulled(number.to_string()));
    }
    if current == wanted {
        return Err(StatusError::Already { number: number.to_string(), status: wanted.to_string() });
    }
    Ok(())
}

/// Why a document cannot be given to someone.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AssignError {
    #[error("{0} is annulled; there is nothing to assign")]
    Annulled(String),
    #[error("{number} is assigned to {assignee} already")]
    Already { number: String, assignee: String },
}

/// Whether the document `number`, in `status` and with `assignee` now, may be given to `wanted`.
/// An annulled entry needs no one; giving it to who has it would only add noise to its history.
pub fn check_assignment(number: &str, status: &str, assignee: Option<&str>, wanted: &str) -> Result<(), AssignError> {
    if status == "annulled" {
        return Err(AssignError::Annulled(number.to_string()));
    }
    if assignee == Some(wanted) {
        return Err(AssignError::Already { number: number.to_string(), assignee: wanted.to_string() });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_read_or_named() {
        assert_eq!(parse_status(" Annulled "), Ok("annulled"));
        assert_eq!(parse_status("delivery-failed"), Ok("delivery-failed"));
        assert_eq!(parse_status("In-Progress"), Ok("in-progress"));
        assert_eq!(parse_status("closed"), Ok("closed"));
        let review = parse_status("review").unwrap_err().to_string();
        assert!(review.contains("registered, answered") && review.contains("--review"), "{review}");
        let typo = parse_status("anulled").unwrap_err().to_string();
        assert!(typo.contains("'anulled'") && !typo.contains("--review"), "{typo}");
    }

    #[test]
    fn staff_set_only_the_working_statuses() {
        assert_eq!(parse_work_status(" CLOSED"), Ok("closed"));
        assert_eq!(parse_work_status("in-progress"), Ok("in-progress"));
        let annul = parse_work_status("annulled").unwrap_err().to_string();
        assert!(annul.contains("'annulled'") && annul.contains("in-progress, answered, closed"), "{annul}");
    }

    #[test]
    fn answered_closed_and_annulled_documents_are_settled() {
        assert!(is_open("registered") && is_open("in-progress") && is_open("bounced"));
        assert!(!is_open("answered") && !is_open("closed") && !is_open("annulled"));
    }

    #[test]
    fn an_open_document_past_its_due_day_is_overdue() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        assert_eq!(days_overdue("2026-11-30", "registered", today), Some(1));
        assert_eq!(days_overdue("2026-12-01", "in-progress", today), None, "due today is not late yet");
        assert_eq!(days_overdue("2026-11-02", "answered", today), None);
        assert_eq!(days_overdue("garbage", "registered", today), None);
    }

    #[test]
    fn an_annulled_entry_and_a_repeated_status_are_refused() {
        assert_eq!(check_status_change("IN-2026-000001", "registered", "in-progress"), Ok(()));
        assert_eq!(check_status_change("IN-2026-000001", "closed", "in-progress"), Ok(()));
        assert!(check_status_change("IN-2026-000001", "annulled", "closed").unwrap_err().to_string().contains("annulled"));
        assert_eq!(
            check_status_change("IN-2026-000001", "answered", "answered").unwrap_err().to_string(),
            "IN-2026-000001 is answered already"
        );
    }

    #[test]
    fn who_may_be_given_a_document_follows_the_table() {
        let cases = [
            ("registered", None, Ok(())),
            ("in-progress", Some("@a:uni.example"), Ok(())),
            ("registered", Some("@b:uni.example"), Err("IN-2026-000001 is assigned to @b:uni.example already")),
            ("annulled", None, Err("IN-2026-000001 is annulled; there is nothing to assign")),
        ];
        for (status, before, wanted) in cases {
            let got = check_assignment("IN-2026-000001", status, before, "@b:uni.example").map_err(|e| e.to_string());
            assert_eq!(got, wanted.map_err(str::to_string), "{status} {before:?}");
        }
    }
}
