//! What can go wrong in the store, typed: the database, a thing the register does not hold (a
//! `Reference`), a request refused (a `Refusal`: the core's rule, or what the register holds
//! now), a row the register cannot read. The adapters put them in words for their readers; the
//! `Display` here is the words of a terminal and a log line.

use crate::core::agreement::AgreementError;
use crate::core::amend::AmendError;
use crate::core::archive::CaseError;
use crate::core::archive::disposal::ArchiveRefusal;
use crate::core::due::DueError;
use crate::core::meeting::MeetingError;
use crate::core::outbound::{ComposeError, RetryError};
use crate::core::reference::{NotHeld, Reference};
use crate::core::status::{AssignError, StatusError};
use crate::core::template::{Sentence, capitalised};
use crate::core::undo::UndoError;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{}", NotHeld(.0))]
    NotFound(Reference),
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// A stored value the register cannot read: written by hand, or by another program.
    #[error("{row} holds an unreadable {field} '{value}'")]
    Corrupt { row: String, field: &'static str, value: String },
    /// The system gave no random bytes for `purpose`.
    #[error("no randomness for {purpose}: {source}")]
    NoRandomness { purpose: &'static str, source: getrandom::Error },
    /// What the register holds does not match what it says it holds (see `verify`).
    #[error(transparent)]
    Damaged(#[from] Damage),
    /// Another registrar committed the same letter (`subject`, now `number`) while this
    /// transaction was writing it: the batch is rolled back, and registering it again finds the
    /// letter registered.
    #[error(
        "the letter {subject:?} was registered as {number} by another registrar while this batch was written; \
         the batch is rolled back and will find it registered"
    )]
    Conflict { subject: String, number: String },
    #[error("unsupported database URL '{0}': use sqlite://PATH or postgres://...")]
    UnsupportedUrl(String),
    #[error(
        "no register at {path} (database.url = {url}): point at the right one with --config or CHANCERY_DATABASE__URL, \
         or create one with `chancery db migrate`"
    )]
    Missing { path: String, url: String },
}

/// Stored bytes that do not give what the register says they hold.
#[derive(Debug, thiserror::Error)]
pub enum Damage {
    /// `of` names the document.
    #[error("the stored message of {of}, which holds its attachments, is missing")]
    StoredMessageMissing { of: String },
    /// Reading the stored MIME (`what`: "attachment 2 of IN-2026-000001") did not finish.
    #[error("decoding {what} failed: {source}")]
    Undecodable { what: String, source: tokio::task::JoinError },
    #[error("attachment {position} of {of} cannot be given out: {why}; run `chancery verify`")]
    AttachmentMismatch { position: i64, of: String, why: String },
}

/// A well-formed request the register cannot carry out, with what it found. Chat and the
/// terminal both show these words as they are.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("{}", Sentence(.0))]
    Agreement(#[from] AgreementError),
    #[error("{}", Sentence(.0))]
    Undo(#[from] UndoError),
    #[error("{}", Sentence(.0))]
    Due(#[from] DueError),
    #[error("{0}")]
    Status(#[from] StatusError),
    #[error("{0}")]
    Assign(#[from] AssignError),
    #[error("{0}")]
    Amend(#[from] AmendError),
    /// A package for the archive holds numbers the register has already: nothing was imported.
    #[error("the register already holds {}: import into a register that does not hold the package's numbers", .0.join(", "))]
    NumbersHeld(Vec<String>),
    /// Someone else changed it between reading and writing: nothing was written.
    #[error("{} was changed by someone else just now; look at it again and retry.", capitalised(&.0.to_string()))]
    ChangedMeanwhile(Reference),
    #[error("{number} is {status}; it needs no acknowledgement")]
    NeedsNoAcknowledgement { number: String, status: String },
    #[error("a note needs some text")]
    EmptyNote,
    #[error("Agreement {0} has ended; it cannot be renewed.")]
    AgreementEnded(i64),
    /// An outgoing letter that could not be written (`smtp::compose`).
    #[error("{0}")]
    Compose(#[from] ComposeError),
    /// A meeting's start the core refused (`core::meeting::check_start`).
    #[error("{0}")]
    Meeting(#[from] MeetingError),
    #[error("{0} is not in the staff directory (`!staff` lists who is); nothing was stored.")]
    ParticipantNotStaff(String),
    #[error("{number} is on the agenda of meeting {meeting} already, as item {position}; nothing was added.")]
    OnTheAgendaAlready { number: String, meeting: i64, position: i64 },
    #[error("There is a partner {handle} already: {name}.")]
    PartnerExists { handle: String, name: String },
    #[error("The domain {domain} is partner {handle}'s already.")]
    DomainTaken { domain: String, handle: String },
    #[error("{email} is at {handle} already, as {name}.")]
    PersonListed { email: String, handle: String, name: String },
    #[error("Contact #{0} has no follow-up.")]
    NoFollowUp(i64),
    #[error("The follow-up of contact #{0} is done already.")]
    FollowUpDone(i64),
    /// `closed_by` is who ended it by hand, when someone did.
    #[error("Reminder {id} has ended already ({status}{}).", closed_by.as_deref().map(|by| format!(" by {by}")).unwrap_or_default())]
    ReminderEnded { id: i64, status: String, closed_by: Option<String> },
    /// Someone edited, approved or sent the release between reading and writing.
    #[error(
        "Press release {0} changed while you asked (someone edited, approved or sent it); nothing was done. \
         Look at it again with `!press show {0}`."
    )]
    PressReleaseMoved(i64),
    #[error("{0}")]
    Retry(#[from] RetryError),
    /// A change to a case file the archive's rules refuse (`core::archive::rules`). Not its
    /// `source`: the terminal's one line would say it twice, once as a sentence.
    #[error("{}", Sentence(.0))]
    Case(CaseError),
    /// The archive's refusals (a disposal, a hold, a review), one line per reason.
    #[error("{0}")]
    Archive(#[from] ArchiveRefusal),
    /// What was asked needs the content a disposal erased: `line` is "destroyed by D-… on DAY".
    #[error("{number} was {line}")]
    Disposed { number: String, line: String },
}

impl From<CaseError> for Refusal {
    fn from(problem: CaseError) -> Refusal {
        Refusal::Case(problem)
    }
}

impl StoreError {
    /// A row the register cannot read: `row` says which ("meeting 4"), `field` what in it.
    pub(crate) fn corrupt(row: impl Into<String>, field: &'static str, value: impl Into<String>) -> StoreError {
        StoreError::Corrupt { row: row.into(), field, value: value.into() }
    }

    /// Whether the database could not be reached or was restarting (a network error, a pool
    /// that timed out, PostgreSQL starting up or shutting down): trying again later may work.
    pub fn is_unreachable(&self) -> bool {
        let error = match self {
            StoreError::Database(error) => error,
            StoreError::Migrate(sqlx::migrate::MigrateError::Execute(error) | sqlx::migrate::MigrateError::ExecuteMigration(error, _)) => {
                error
            }
            _ => return false,
        };
        match error {
            sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Tls(_) => true,
            // Class 08: connection exceptions; 57P0x: the server is shutting down or starting.
            sqlx::Error::Database(error) => error.code().is_some_and(|code| code.starts_with("08") || code.starts_with("57P")),
            _ => false,
        }
    }
}

/// The core's refusals (`AgreementError`, `UndoError`, …) as the store's error, so that `?`
/// carries them out of a transaction.
macro_rules! refused_by_the_core {
    ($($error:ty),+) => {$(
        impl From<$error> for StoreError {
            fn from(problem: $error) -> StoreError {
                StoreError::Refused(Refusal::from(problem))
            }
        }
    )+};
}

refused_by_the_core!(
    AgreementError,
    UndoError,
    DueError,
    StatusError,
    AssignError,
    AmendError,
    RetryError,
    ComposeError,
    MeetingError,
    CaseError,
    ArchiveRefusal
);
