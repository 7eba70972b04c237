//! What may be done to a case file, and by whom: opening a named case, adding documents to a
//! case (moving them from another open case), closing a named case. The store asks these before
//! it writes; the refusals are `CaseError`, worded for both the terminal and chat.

use chrono::NaiveDate;

use super::case::{CaseName, Cutoff};
use super::plan::{Class, FilePlan, Retention, Trigger};
use crate::core::viewer::{Role, StaffMember};

/// A case as these rules need to know it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseState {
    pub name: CaseName,
    /// Whose managers may change it; `None` (a yearly case): the registry only.
    pub unit: Option<String>,
    pub closed_on: Option<NaiveDate>,
    /// The disposal decision that carried it out ('D-2031-0004'), once disposed of.
    pub disposed_by: Option<String>,
}

/// A change to a case the rules refuse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CaseError {
    #[error("{} may change case {case}", who_may_change(unit.as_deref()))]
    NotAllowed { case: String, unit: Option<String> },
    #[error("case {case} is closed (since {on}); nothing can be added to it")]
    Closed { case: String, on: NaiveDate },
    #[error("case {case} was disposed of by {by}; it takes nothing")]
    Disposed { case: String, by: String },
    #[error("{number} is in case {case}, which is closed (since {on}); it stays there")]
    LeavesClosedCase { number: String, case: String, on: NaiveDate },
    #[error("{case} is a yearly case: it closes by itself at the cutoff, on {on}")]
    ClosesAtCutoff { case: String, on: NaiveDate },
    #[error("case {case} is closed already (since {on})")]
    ClosedAlready { case: String, on: NaiveDate },
    #[error("there is no class {code} in the file plan")]
    UnknownClass { code: String },
    #[error("a case needs a title")]
    NoTitle,
}

/// Who may change a case of `unit`, in words.
fn who_may_change(unit: Option<&str>) -> String {
    match unit {
        Some(unit) => format!("only registrars, admins and the managers of {unit}"),
        None => "only registrars and admins".to_string(),
    }
}

/// Who may change a case (open it, add to it, close it): registrars and admins, who keep the
/// register as a whole, and the managers of the case's unit. An archivist keeps the archive but
/// does not make the files.
pub fn may_change(member: &StaffMember, case_unit: Option<&str>) -> bool {
    member.role.reaches(Role::Registrar) || (member.role == Role::Manager && case_unit == Some(member.unit.as_str()))
}

/// Refuses `member` unless they may change `case`. A yearly case holds a whole class's letters,
/// whatever their units (its stored unit is only the first of them): only the registry changes it.
pub fn check_may_change(member: &StaffMember, case: &CaseState) -> Result<(), CaseError> {
    let unit = if case.name.sequence.is_some() { case.unit.as_deref() } else { None };
    if may_change(member, unit) {
        Ok(())
    } else {
        Err(CaseError::NotAllowed { case: case.name.to_string(), unit: unit.map(str::to_string) })
    }
}

/// The class a new named case is opened in, and its title as it will be kept (trimmed).
pub fn new_case<'p>(plan: &'p FilePlan, code: &str, title: &str) -> Result<(&'p Class, String), CaseError> {
    let class = plan.class(code.trim()).ok_or_else(|| CaseError::UnknownClass { code: code.trim().to_string() })?;
    let title = title.split_whitespace().collect::<Vec<_>>().join(" ");
    if title.is_empty() {
        return Err(CaseError::NoTitle);
    }
    Ok((class, title))
}

/// What adding a document to a case does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filing {
    /// The document goes into the case, from the case it was in (if any).
    Moved { from: Option<String> },
    /// It is in that case already: nothing to do.
    Already,
}

/// Whether a case takes documents at all: not once closed or disposed of.
pub fn check_takes_documents(case: &CaseState) -> Result<(), CaseError> {
    if let Some(by) = &case.disposed_by {
        return Err(CaseError::Disposed { case: case.name.to_string(), by: by.clone() });
    }
    if let Some(on) = case.closed_on {
        return Err(CaseError::Closed { case: case.name.to_string(), on });
    }
    Ok(())
}

/// Adding document `number`, now in `current` (if any), to `target`. A document leaves an open
/// case for another (that is what adding is for); a closed case keeps what it holds, since its
/// retention has started.
pub fn file_into(target: &CaseState, number: &str, current: Option<&CaseState>) -> Result<Filing, CaseError> {
    if current.is_some_and(|case| case.name == target.name) {
        return Ok(Filing::Already);
    }
    check_takes_documents(target)?;
    if let Some(case) = current {
        if let Some(by) = &case.disposed_by {
            return Err(CaseError::Disposed { case: case.name.to_string(), by: by.clone() });
        }
        if let Some(on) = case.closed_on {
            return Err(CaseError::LeavesClosedCase { number: number.to_string(), case: case.name.to_string(), on });
        }
    }
    Ok(Filing::Moved { from: current.map(|case| case.name.to_string()) })
}

/// Closing a case by hand: named cases only (a yearly case closes at `cutoff`), and once.
pub fn check_close(case: &CaseState, cutoff: Cutoff) -> Result<(), CaseError> {
    if let Some(by) = &case.disposed_by {
        return Err(CaseError::Disposed { case: case.name.to_string(), by: by.clone() });
    }
    if let Some(on) = case.closed_on {
        return Err(CaseError::ClosedAlready { case: case.name.to_string(), on });
    }
    if case.name.sequence.is_none() {
        let on = cutoff.closing_day(case.name.year).unwrap_or_default();
        return Err(CaseError::ClosesAtCutoff { case: case.name.to_string(), on });
    }
    Ok(())
}

/// A class as a case shows it: `03-01 Invoices and payments (kept 10y from closing, then
/// destroy)`.
pub fn class_words(class: &Class) -> String {
    let kept = match class.retention {
        Retention::Permanent => "kept permanently".to_string(),
        retention => {
            let from = if class.trigger == Trigger::Registered { "the last registration" } else { "closing" };
            return format!("{} {} (kept {retention} from {from}, then {})", class.code, class.title, class.action.as_str());
        }
    };
    format!("{} {} ({kept})", class.code, class.title)
}

/// When a case's retention ends (`due`, from `disposal_due`) and what happens then, in words.
pub fn disposal_words(class: Option<&Class>, due: Option<NaiveDate>) -> String {
    let Some(class) = class else { return "unknown: its class is not in the file plan".into() };
    if class.retention == Retention::Permanent {
        return "never: kept permanently".into();
    }
    match due {
        Some(day) => format!("due {day} ({})", class.action.as_str()),
        None => "not yet due: its retention starts when it closes".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::archive::plan::Action;
    use crate::core::confidentiality::Confidentiality;

    fn member(role: Role, unit: &str) -> StaffMember {
        StaffMember { id: "@p:x".into(), name: "P".into(), unit: unit.into(), role, clearance: Confidentiality::Internal }
    }

    fn case(name: &str, unit: Option<&str>) -> CaseState {
        CaseState { name: name.parse().unwrap(), unit: unit.map(str::to_string), closed_on: None, disposed_by: None }
    }

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn registrars_admins_and_the_units_managers_change_a_case() {
        // (role, unit of the person, unit of the case, may change)
        let table = [
            (Role::Admin, "it", Some("international"), true),
            (Role::Registrar, "registry", Some("international"), true),
            (Role::Registrar, "registry", None, true),
            (Role::Manager, "international", Some("international"), true),
            (Role::Manager, "finance", Some("international"), false),
            (Role::Manager, "international", None, false),
            (Role::Archivist, "registry", Some("registry"), false),
            (Role::Staff, "international", Some("international"), false),
        ];
        for (role, unit, case_unit, allowed) in table {
            assert_eq!(may_change(&member(role, unit), case_unit), allowed, "{role:?} of {unit} on {case_unit:?}");
        }
        let refused = check_may_change(&member(Role::Staff, "hr"), &case("03-02/2026-1", Some("finance"))).unwrap_err();
        assert_eq!(refused.to_string(), "only registrars, admins and the managers of finance may change case 03-02/2026-1");
        let yearly = check_may_change(&member(Role::Manager, "finance"), &case("03-02/2026", Some("finance"))).unwrap_err();
        assert_eq!(yearly.to_string(), "only registrars and admins may change case 03-02/2026");
    }

    #[test]
    fn a_document_moves_between_open_cases_and_is_refused_by_a_closed_or_disposed_one() {
        let target = case("01-01/2026-2", Some("rectorate"));
        let yearly = case("01-01/2026", None);
        assert_eq!(file_into(&target, "IN-2026-000001", Some(&yearly)), Ok(Filing::Moved { from: Some("01-01/2026".into()) }));
        assert_eq!(file_into(&target, "IN-2026-000001", None), Ok(Filing::Moved { from: None }));
        assert_eq!(file_into(&target, "IN-2026-000001", Some(&target)), Ok(Filing::Already));

        let closed = CaseState { closed_on: Some(day(2026, 12, 31)), ..target.clone() };
        let refused = file_into(&closed, "IN-2026-000001", Some(&yearly)).unwrap_err();
        assert_eq!(refused.to_string(), "case 01-01/2026-2 is closed (since 2026-12-31); nothing can be added to it");
        let disposed = CaseState { disposed_by: Some("D-2031-0004".into()), ..closed.clone() };
        assert_eq!(
            file_into(&disposed, "IN-2026-000001", None).unwrap_err().to_string(),
            "case 01-01/2026-2 was disposed of by D-2031-0004; it takes nothing"
        );
        let closed_yearly = CaseState { closed_on: Some(day(2025, 12, 31)), ..case("01-01/2025", None) };
        assert_eq!(
            file_into(&target, "IN-2025-000004", Some(&closed_yearly)).unwrap_err().to_string(),
            "IN-2025-000004 is in case 01-01/2025, which is closed (since 2025-12-31); it stays there"
        );
    }

    #[test]
    fn only_an_open_named_case_is_closed_by_hand() {
        let cutoff = Cutoff::default();
        assert_eq!(check_close(&case("03-02/2026-1", None), cutoff), Ok(()));
        assert_eq!(
            check_close(&case("03-02/2026", None), cutoff).unwrap_err().to_string(),
            "03-02/2026 is a yearly case: it closes by itself at the cutoff, on 2026-12-31"
        );
        let academic: Cutoff = "08-31".parse().unwrap();
        assert_eq!(
            check_close(&case("03-02/2026", None), academic).unwrap_err(),
            CaseError::ClosesAtCutoff { case: "03-02/2026".into(), on: day(2027, 8, 31) }
        );
        let closed = CaseState { closed_on: Some(day(2026, 12, 2)), ..case("03-02/2026-1", None) };
        assert_eq!(check_close(&closed, cutoff).unwrap_err().to_string(), "case 03-02/2026-1 is closed already (since 2026-12-02)");
    }

    #[test]
    fn a_new_case_needs_a_class_of_the_plan_and_a_title() {
        let class = Class {
            code: "01-01".into(),
            title: "Ministry".into(),
            retention: Retention::Years(10),
            trigger: Trigger::CaseClosed,
            action: Action::Transfer,
            vital: false,
        };
        let plan = FilePlan { default_class: "01-01".into(), classes: vec![class] };
        assert_eq!(new_case(&plan, "09-09", "x").unwrap_err().to_string(), "there is no class 09-09 in the file plan");
        assert_eq!(new_case(&plan, "09-09", "x").unwrap_err(), CaseError::UnknownClass { code: "09-09".into() });
        assert_eq!(new_case(&plan, " 01-01 ", "  "), Err(CaseError::NoTitle));
        let (class, title) = new_case(&plan, "01-01", " Visit of\nthe  minister ").unwrap();
        assert_eq!((class.code.as_str(), title.as_str()), ("01-01", "Visit of the minister"));
        assert_eq!(class_words(class), "01-01 Ministry (kept 10y from closing, then transfer)");
        assert_eq!(disposal_words(Some(class), None), "not yet due: its retention starts when it closes");
        assert_eq!(disposal_words(Some(class), Some(day(2037, 1, 1))), "due 2037-01-01 (transfer)");
        let permanent = Class { retention: Retention::Permanent, ..class.clone() };
        assert_eq!(class_words(&permanent), "01-01 Ministry (kept permanently)");
        assert_eq!(disposal_words(Some(&permanent), None), "never: kept permanently");
    }
}
