//! Disposal: what stops a case from being disposed of on a day, who may place holds, review
//! cases and approve a decision, and the certificate of destruction a decision leaves.
//!
//! A decision is named `D-2026-0001` (numbered per year, as registration numbers are). It is
//! proposed by one person and approved by another, an archivist or an admin; everything is
//! checked again at approval, and only then is anything erased.
//!
//! An "open document" is one whose status is not settled (`core::status::is_open`: answered,
//! closed and annulled are settled). A bounced or undelivered outgoing letter counts as open:
//! someone still has to send it again or give it up, and it must not vanish before that.

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDate;
use serde::Serialize;

use super::case::{Clock, disposal_due};
use super::plan::{Action, FilePlan, Retention};
use crate::core::markdown;
use crate::core::viewer::{Role, StaffMember};

/// A disposal decision's name: `D-2026-0001`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DecisionName {
    pub year: i32,
    pub sequence: u32,
}

impl fmt::Display for DecisionName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "D-{}-{:04}", self.year, self.sequence)
    }
}

/// Text that is not a decision's name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a disposal decision: they are named D-YEAR-NNNN (e.g. D-2026-0001)")]
pub struct DecisionNameError(pub String);

impl FromStr for DecisionName {
    type Err = DecisionNameError;

    fn from_str(text: &str) -> Result<DecisionName, DecisionNameError> {
        let error = || DecisionNameError(text.to_string());
        let upper = text.trim().to_ascii_uppercase();
        let rest = upper.strip_prefix("D-").ok_or_else(error)?;
        let (year, sequence) = rest.split_once('-').ok_or_else(error)?;
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(year) || year.len() != 4 || !digits(sequence) || sequence.len() < 4 {
            return Err(error());
        }
        let year = year.parse().map_err(|_| error())?;
        let sequence = sequence.parse().map_err(|_| error())?;
        if sequence == 0 {
            return Err(error());
        }
        Ok(DecisionName { year, sequence })
    }
}

/// What the register knows of a case when its disposal is asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseFacts {
    pub name: String,
    /// Its class in the file plan.
    pub code: String,
    pub closed_on: Option<NaiveDate>,
    pub last_registered_on: Option<NaiveDate>,
    /// A review's new retention and the day it was given.
    pub reviewed: Option<(Retention, NaiveDate)>,
    /// The decision that disposed of it.
    pub disposed_by: Option<String>,
    /// A decision proposed for it and not approved yet.
    pub proposed_in: Option<String>,
    /// The active holds that cover it: on the case, its class, or one of its documents.
    pub holds: Vec<i64>,
    /// How many of its documents are open, and the first of them.
    pub open_documents: u64,
    pub first_open: Option<String>,
}

/// Why a case cannot be disposed of on a day. Each reads after "CASE cannot be disposed of: ".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// Its retention clock has not started: it has not closed.
    Open,
    /// Held (the ids of the holds).
    Held(Vec<i64>),
    /// Its retention ends on this day.
    NotYetDue(NaiveDate),
    Permanent,
    /// Its class's action is review: someone must decide first (`archive review`).
    ToBeReviewed,
    /// Its code is not a class of the file plan in force.
    NotInThePlan(String),
    AlreadyDisposed(String),
    /// Proposed in a decision that waits for approval.
    AlreadyProposed(String),
    /// It holds open documents: how many, and the first.
    OpenDocuments {
        count: u64,
        first: Option<String>,
    },
}

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stop::Open => write!(f, "it is open"),
            Stop::Held(ids) => {
                let ids = ids.iter().map(|id| format!("hold {id}")).collect::<Vec<_>>().join(", ");
                write!(f, "it is on hold ({ids}; chancery hold list)")
            }
            Stop::NotYetDue(day) => write!(f, "it is not due yet (its retention ends on {day})"),
            Stop::Permanent => write!(f, "it is kept permanently"),
            Stop::ToBeReviewed => write!(f, "its class's action is review: review it first (chancery archive review)"),
            Stop::NotInThePlan(code) => write!(f, "its class {code} is not in the file plan"),
            Stop::AlreadyDisposed(decision) => write!(f, "it was disposed of by {decision}"),
            Stop::AlreadyProposed(decision) => write!(f, "it is proposed in {decision} already, which waits for approval"),
            Stop::OpenDocuments { count, first } => {
                let first = first.as_deref().map(|number| format!(", {number} first")).unwrap_or_default();
                let noun = if *count == 1 { "document" } else { "documents" };
                write!(f, "it holds {count} open {noun}{first}: close, answer or annul them first")
            }
        }
    }
}

/// What happens to a case at the end of its retention: its class's action, except that a
/// reviewed case of a `review` class is destroyed at the end of the retention its review gave
/// (the review was the decision; a transfer class stays a transfer).
pub fn action_of(class_action: Action, reviewed: bool) -> Action {
    if reviewed && class_action == Action::Review { Action::Destroy } else { class_action }
}

/// When a case's retention ends and what happens then, by the plan; `None` for a case whose
/// class is not in the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    pub retention: Retention,
    /// `None` while its clock has not started, or when kept permanently.
    pub due: Option<NaiveDate>,
    pub action: Action,
}

pub fn schedule(plan: &FilePlan, facts: &CaseFacts) -> Option<Schedule> {
    let class = plan.class(&facts.code)?;
    let clock = Clock { closed_on: facts.closed_on, last_registered_on: facts.last_registered_on, reviewed: facts.reviewed };
    let retention = facts.reviewed.map_or(class.retention, |(kept_for, _)| kept_for);
    Some(Schedule {
        retention,
        due: disposal_due(class.retention, class.trigger, clock),
        action: action_of(class.action, facts.reviewed.is_some()),
    })
}

/// Whether the case may be disposed of (destroyed or transferred) on `as_of`, and if so how;
/// otherwise every reason it may not.
pub fn check_disposable(plan: &FilePlan, facts: &CaseFacts, as_of: NaiveDate) -> Result<Action, Vec<Stop>> {
    if let Some(decision) = &facts.disposed_by {
        return Err(vec![Stop::AlreadyDisposed(decision.clone())]);
    }
    let Some(schedule) = schedule(plan, facts) else { return Err(vec![Stop::NotInThePlan(facts.code.clone())]) };
    let mut stops = Vec::new();
    if let Some(decision) = &facts.proposed_in {
        stops.push(Stop::AlreadyProposed(decision.clone()));
    }
    if facts.closed_on.is_none() {
        stops.push(Stop::Open);
    }
    if schedule.retention == Retention::Permanent {
        stops.push(Stop::Permanent);
    } else if let Some(due) = schedule.due.filter(|due| *due > as_of) {
        stops.push(Stop::NotYetDue(due));
    }
    if schedule.action == Action::Review && schedule.retention != Retention::Permanent {
        stops.push(Stop::ToBeReviewed);
    }
    if !facts.holds.is_empty() {
        stops.push(Stop::Held(facts.holds.clone()));
    }
    if facts.open_documents > 0 {
        stops.push(Stop::OpenDocuments { count: facts.open_documents, first: facts.first_open.clone() });
    }
    if stops.is_empty() { Ok(schedule.action) } else { Err(stops) }
}

/// What the archive refuses, each a line for the terminal and a sentence for chat.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArchiveRefusal {
    /// Cases that cannot be disposed of: one line per case and reason.
    #[error("{}", not_disposable_lines(.0).join("\n"))]
    NotDisposable(Vec<(String, Vec<Stop>)>),
    #[error("{who} proposed {decision}: another person must approve it")]
    OwnProposal { who: String, decision: String },
    #[error("{who} is {}: only an archivist or an admin may approve a disposal", role.name())]
    NotAnApprover { who: String, role: Role },
    #[error("{who} is {}: only registrars and admins may {what}", role.name())]
    NotARegistrar { who: String, role: Role, what: &'static str },
    #[error("{decision} was approved by {by} already; nothing is left to carry out")]
    AlreadyCarriedOut { decision: String, by: String },
    #[error("{0} transfers its cases: it is carried out by chancery archive export --case CASE --transfer")]
    TransferDecision(String),
    #[error("{case} is in no transfer decision waiting to be carried out: propose one first (chancery archive dispose propose)")]
    NoTransfer { case: String },
    #[error("the cases proposed together must share one action: {0}")]
    MixedActions(String),
    #[error("hold {0} was released already")]
    HoldReleased(i64),
    #[error("{case} cannot be reviewed: {why}")]
    NotReviewable { case: String, why: String },
    #[error("{who} is {}: only archivists, registrars and admins may propose a disposal", role.name())]
    NotAProposer { who: String, role: Role },
    #[error("there is no class {0} in the file plan")]
    UnknownClass(String),
    #[error("there is no case {0}")]
    NoSuchCase(String),
    #[error("there is no disposal decision {0}")]
    NoSuchDecision(String),
    #[error("a disposal names at least one case")]
    NoCases,
    #[error("there is no hold {0} (chancery hold list shows them)")]
    NoSuchHold(i64),
}

/// Each stop as a line: "03-02/2025 cannot be disposed of: it is open".
pub fn not_disposable_lines(cases: &[(String, Vec<Stop>)]) -> Vec<String> {
    cases.iter().flat_map(|(case, stops)| stops.iter().map(move |stop| format!("{case} cannot be disposed of: {stop}"))).collect()
}

/// The approver of a decision: someone other than its proposer, an archivist or an admin. A
/// registrar reaches the archivist in the order of roles, but approving is not registry work:
/// the archivist's role is named, not reached.
pub fn check_approver(decision: &str, proposed_by: &str, approver: &StaffMember) -> Result<(), ArchiveRefusal> {
    if approver.id == proposed_by {
        return Err(ArchiveRefusal::OwnProposal { who: approver.id.clone(), decision: decision.to_string() });
    }
    if !matches!(approver.role, Role::Archivist | Role::Admin) {
        return Err(ArchiveRefusal::NotAnApprover { who: approver.id.clone(), role: approver.role });
    }
    Ok(())
}

/// Disposals are proposed by those who keep the register or the archive: archivists,
/// registrars and admins.
pub fn check_proposer(member: &StaffMember) -> Result<(), ArchiveRefusal> {
    if member.role.reaches(Role::Archivist) {
        Ok(())
    } else {
        Err(ArchiveRefusal::NotAProposer { who: member.id.clone(), role: member.role })
    }
}

/// Holds are placed and released, and cases reviewed, by registrars and admins.
pub fn check_registrar(member: &StaffMember, what: &'static str) -> Result<(), ArchiveRefusal> {
    if member.role.reaches(Role::Registrar) {
        Ok(())
    } else {
        Err(ArchiveRefusal::NotARegistrar { who: member.id.clone(), role: member.role, what })
    }
}

/// Whether a case may be given a new retention: a closed case of a class that is not
/// permanent, not disposed of. A case under a hold may be reviewed (the hold still stops its
/// disposal).
pub fn check_reviewable(plan: &FilePlan, facts: &CaseFacts) -> Result<(), ArchiveRefusal> {
    let refuse = |why: String| Err(ArchiveRefusal::NotReviewable { case: facts.name.clone(), why });
    if let Some(decision) = &facts.disposed_by {
        return refuse(format!("it was disposed of by {decision}"));
    }
    let Some(class) = plan.class(&facts.code) else { return refuse(format!("its class {} is not in the file plan", facts.code)) };
    if class.retention == Retention::Permanent {
        return refuse("its class is kept permanently".into());
    }
    if facts.closed_on.is_none() {
        return refuse("it is open".into());
    }
    if let Some(decision) = &facts.proposed_in {
        return refuse(format!("it is proposed in {decision}, which waits for approval"));
    }
    Ok(())
}

/// A certificate of destruction (or transfer): the decision, who proposed and approved it and
/// when, and one line per document it erased.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Certificate {
    pub decision: String,
    pub action: String,
    pub reason: Option<String>,
    pub proposed_by: String,
    pub proposed_at: String,
    pub approved_by: Option<String>,
    pub approved_at: Option<String>,
    pub cases: Vec<String>,
    pub documents: Vec<CertificateLine>,
}

/// One erased document. `subject` is `None` for a document that was confidential (or secret):
/// the register never kept it for the certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CertificateLine {
    pub number: String,
    pub class: String,
    pub registered_at: String,
    pub disposed_on: Option<String>,
    pub sha256: String,
    pub size: i64,
    pub subject: Option<String>,
}

impl Certificate {
    /// The certificate in Markdown: what people sign and file. Subjects are text, never markup.
    pub fn to_markdown(&self) -> String {
        let title = if self.action == "transfer" { "Certificate of transfer" } else { "Certificate of destruction" };
        let mut out = format!("# {title} {}\n\n", self.decision);
        out.push_str(&format!("- Cases: {}\n", self.cases.join(", ")));
        if let Some(reason) = &self.reason {
            out.push_str(&format!("- Reason: {}\n", markdown::literal(reason)));
        }
        out.push_str(&format!("- Proposed by {} at {}\n", markdown::literal(&self.proposed_by), self.proposed_at));
        match (&self.approved_by, &self.approved_at) {
            (Some(by), Some(at)) => out.push_str(&format!("- Approved and carried out by {} at {at}\n", markdown::literal(by))),
            _ => out.push_str("- Not approved yet: nothing has been erased\n"),
        }
        out.push_str(&format!("- Documents: {}\n\n", self.documents.len()));
        if !self.documents.is_empty() {
            out.push_str("| number | class | registered | disposed | sha256 | bytes | subject |\n|---|---|---|---|---|---|---|\n");
            for line in &self.documents {
                let subject = line.subject.as_deref().map_or_else(|| "(confidential)".to_string(), markdown::literal);
                out.push_str(&format!(
                    "| {} | {} | {} | {} | {} | {} | {} |\n",
                    line.number,
                    line.class,
                    line.registered_at,
                    line.disposed_on.as_deref().unwrap_or("-"),
                    line.sha256,
                    line.size,
                    subject
                ));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::archive::{Class, Trigger};
    use crate::core::confidentiality::Confidentiality;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    type Checked = Result<Action, Vec<Stop>>;

    fn class(code: &str, retention: Retention, action: Action) -> Class {
        Class { code: code.into(), title: code.into(), retention, trigger: Trigger::CaseClosed, action, vital: false }
    }

    fn plan() -> FilePlan {
        FilePlan {
            default_class: "07-01".into(),
            classes: vec![
                class("07-02", Retention::Days(30), Action::Destroy),
                class("05-01", Retention::Permanent, Action::Review),
                class("01-02", Retention::Years(10), Action::Review),
                class("01-01", Retention::Years(5), Action::Transfer),
            ],
        }
    }

    fn closed(code: &str) -> CaseFacts {
        CaseFacts {
            name: format!("{code}/2025"),
            code: code.into(),
            closed_on: Some(day(2025, 12, 31)),
            last_registered_on: Some(day(2025, 6, 1)),
            reviewed: None,
            disposed_by: None,
            proposed_in: None,
            holds: Vec::new(),
            open_documents: 0,
            first_open: None,
        }
    }

    fn member(id: &str, role: Role) -> StaffMember {
        StaffMember { id: id.into(), name: id.into(), unit: "registry".into(), role, clearance: Confidentiality::Secret }
    }

    #[test]
    fn decision_names_read_and_print_alike() {
        for (text, parsed) in [
            ("D-2026-0001", Some(DecisionName { year: 2026, sequence: 1 })),
            ("d-2031-0004", Some(DecisionName { year: 2031, sequence: 4 })),
            ("D-2026-12345", Some(DecisionName { year: 2026, sequence: 12345 })),
            ("D-2026-1", None),
            ("D-2026-0000", None),
            ("D-26-0001", None),
            ("IN-2026-000001", None),
            ("D-2026-00x1", None),
        ] {
            let got = text.parse::<DecisionName>().ok();
            assert_eq!(got, parsed, "{text:?}");
            if let Some(name) = got {
                assert_eq!(name.to_string(), text.to_ascii_uppercase());
            }
        }
    }

    #[test]
    fn what_stops_a_disposal_on_a_day() {
        let plan = plan();
        let as_of = day(2026, 12, 7);
        let held = CaseFacts { holds: vec![3, 5], ..closed("07-02") };
        let open = CaseFacts { closed_on: None, ..closed("07-02") };
        let busy = CaseFacts { open_documents: 2, first_open: Some("IN-2025-000004".into()), ..closed("07-02") };
        let cases: [(&str, CaseFacts, NaiveDate, Checked); 11] = [
            ("due", closed("07-02"), as_of, Ok(Action::Destroy)),
            ("not due", closed("07-02"), day(2026, 1, 29), Err(vec![Stop::NotYetDue(day(2026, 1, 30))])),
            ("due that day", closed("07-02"), day(2026, 1, 30), Ok(Action::Destroy)),
            ("held", held, as_of, Err(vec![Stop::Held(vec![3, 5])])),
            ("open", open, as_of, Err(vec![Stop::Open])),
            ("permanent", closed("05-01"), as_of, Err(vec![Stop::Permanent])),
            ("review", CaseFacts { closed_on: Some(day(2010, 12, 31)), ..closed("01-02") }, as_of, Err(vec![Stop::ToBeReviewed])),
            ("not in plan", closed("99-99"), as_of, Err(vec![Stop::NotInThePlan("99-99".into())])),
            (
                "disposed",
                CaseFacts { disposed_by: Some("D-2026-0001".into()), ..closed("07-02") },
                as_of,
                Err(vec![Stop::AlreadyDisposed("D-2026-0001".into())]),
            ),
            ("open documents", busy, as_of, Err(vec![Stop::OpenDocuments { count: 2, first: Some("IN-2025-000004".into()) }])),
            (
                "reviewed: destroyed at the new end",
                CaseFacts { reviewed: Some((Retention::Years(1), day(2025, 1, 10))), ..closed("01-02") },
                as_of,
                Ok(Action::Destroy),
            ),
        ];
        for (what, facts, as_of, expected) in cases {
            assert_eq!(check_disposable(&plan, &facts, as_of), expected, "{what}");
        }
        let reviewed_later = CaseFacts { reviewed: Some((Retention::Years(5), day(2026, 12, 1))), ..closed("01-02") };
        assert_eq!(check_disposable(&plan, &reviewed_later, as_of), Err(vec![Stop::NotYetDue(day(2031, 12, 1))]));
        let proposed = CaseFacts { proposed_in: Some("D-2026-0002".into()), ..closed("07-02") };
        assert_eq!(check_disposable(&plan, &proposed, as_of), Err(vec![Stop::AlreadyProposed("D-2026-0002".into())]));
        assert_eq!(check_disposable(&plan, &closed("01-01"), day(2031, 12, 31)), Ok(Action::Transfer));
    }

    #[test]
    fn every_stop_is_a_line_naming_its_case() {
        let lines = not_disposable_lines(&[("07-02/2025".into(), vec![Stop::Held(vec![2]), Stop::Open])]);
        assert_eq!(
            lines,
            [
                "07-02/2025 cannot be disposed of: it is on hold (hold 2; chancery hold list)",
                "07-02/2025 cannot be disposed of: it is open"
            ]
        );
    }

    #[test]
    fn only_another_archivist_or_admin_approves() {
        let check = |who: &StaffMember| check_approver("D-2026-0001", "@reg:uni.example", who);
        assert!(matches!(check(&member("@reg:uni.example", Role::Admin)), Err(ArchiveRefusal::OwnProposal { .. })));
        assert!(matches!(check(&member("@other:uni.example", Role::Registrar)), Err(ArchiveRefusal::NotAnApprover { .. })));
        assert!(matches!(check(&member("@other:uni.example", Role::Manager)), Err(ArchiveRefusal::NotAnApprover { .. })));
        assert_eq!(check(&member("@arch:uni.example", Role::Archivist)), Ok(()));
        assert_eq!(check(&member("@admin:uni.example", Role::Admin)), Ok(()));
    }

    #[test]
    fn registrars_and_admins_hold_and_review() {
        assert!(check_registrar(&member("@a:x", Role::Registrar), "place holds").is_ok());
        assert!(check_registrar(&member("@a:x", Role::Admin), "place holds").is_ok());
        let refused = check_registrar(&member("@a:x", Role::Archivist), "place holds").unwrap_err();
        assert_eq!(refused.to_string(), "@a:x is archivist: only registrars and admins may place holds");
    }

    #[test]
    fn a_review_needs_a_closed_case_that_is_not_permanent_nor_disposed() {
        let plan = plan();
        assert_eq!(check_reviewable(&plan, &closed("01-02")), Ok(()));
        assert!(check_reviewable(&plan, &closed("05-01")).unwrap_err().to_string().contains("permanently"));
        assert!(check_reviewable(&plan, &CaseFacts { closed_on: None, ..closed("01-02") }).unwrap_err().to_string().contains("open"));
        let disposed = CaseFacts { disposed_by: Some("D-2026-0001".into()), ..closed("01-02") };
        assert!(check_reviewable(&plan, &disposed).unwrap_err().to_string().contains("D-2026-0001"));
    }

    #[test]
    fn a_certificate_never_shows_a_confidential_subject_and_shows_subjects_as_text() {
        let line = |number: &str, subject: Option<&str>| CertificateLine {
            number: number.into(),
            class: "07-02".into(),
            registered_at: "2025-06-01T08:00:00Z".into(),
            disposed_on: Some("2026-12-07".into()),
            sha256: "ab".repeat(32),
            size: 120,
            subject: subject.map(str::to_string),
        };
        let certificate = Certificate {
            decision: "D-2026-0001".into(),
            action: "destroy".into(),
            reason: Some("transitory mail".into()),
            proposed_by: "@reg:uni.example".into(),
            proposed_at: "2026-12-07T09:00:00Z".into(),
            approved_by: Some("@arch:uni.example".into()),
            approved_at: Some("2026-12-07T10:00:00Z".into()),
            cases: vec!["07-02/2025".into()],
            documents: vec![line("IN-2025-000001", Some("*Out* of [office](x)")), line("IN-2025-000002", None)],
        };
        let text = certificate.to_markdown();
        assert!(text.starts_with("# Certificate of destruction D-2026-0001"), "{text}");
        assert!(text.contains("\\*Out\\* of \\[office\\](x)"), "{text}");
        assert!(text.contains("| IN-2025-000002 | 07-02 |") && text.contains("(confidential)"), "{text}");
        assert_eq!(text.matches(&"ab".repeat(32)).count(), 2);
        let json = serde_json::to_value(&certificate).unwrap();
        assert_eq!(json["documents"][1]["subject"], serde_json::Value::Null);
    }
}
