//! A letter's due date changed, and a letter moved to another unit by hand: whether it may be,
//! and what follows for its history and its reminders, as a plan the store carries out in one
//! transaction (`store/documents.rs`).
//!
//! A letter's reminders (`Kind::LetterDue` for its assignee, `Kind::LetterOverdue` for its
//! unit's managers) find their recipients when they fire, from the letter's unit and assignee.
//! So a new due date ends the pending ones and schedules them again from the new date, and a
//! reroute moves them to the new unit's people by changing the unit and, when the assignee is
//! of another unit, releasing the letter from them: nobody of the old unit is reminded of it.

use chrono::{DateTime, NaiveDate, Utc};

use super::history::HistoryLine;
use super::remind::{Kind, Policy};
use super::rules::{Routing, due_date_skipping};
use super::status::SETTLED_STATUSES;

/// The reminder kinds a letter has.
pub const LETTER_REMINDERS: [Kind; 2] = [Kind::LetterDue, Kind::LetterOverdue];

/// A letter as these decisions need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LetterState {
    pub number: String,
    pub status: String,
    pub unit: String,
    pub due_on: Option<NaiveDate>,
    /// The person it is assigned to, with their unit (`None` when not in the directory).
    pub assignee: Option<(String, Option<String>)>,
}

/// A reminder to schedule: its kind, the date it counts from and when it first fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scheduled {
    pub kind: Kind,
    pub deadline: NaiveDate,
    pub due_at: DateTime<Utc>,
}

/// A letter's due date and the reminders of it, when it is given one at registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueAtRegistration {
    pub due_on: NaiveDate,
    /// Scheduled by the register itself (`effects::ACTOR`), whoever registered the letter.
    pub scheduled: Vec<Scheduled>,
}

/// When a letter registered on `today` (the office's day of `now`) is due: its routing may give
/// it so many working days, public holidays not counted. A due date is reminded of to whoever
/// has the letter before it, and to the unit's head once it passes.
pub fn due_at_registration(
    routing: Option<&Routing>,
    today: NaiveDate,
    holidays: &[NaiveDate],
    policy: &Policy,
    now: DateTime<Utc>,
) -> Option<DueAtRegistration> {
    let days = routing?.due_in_working_days?;
    let due_on = due_date_skipping(today, days, holidays);
    Some(DueAtRegistration { due_on, scheduled: reminders_of(due_on, policy, now) })
}

/// The letter's reminders counted from `due_on`, those with a firing still after `now`.
fn reminders_of(due_on: NaiveDate, policy: &Policy, now: DateTime<Utc>) -> Vec<Scheduled> {
    LETTER_REMINDERS
        .into_iter()
        .filter_map(|kind| policy.next_firing(kind, None, due_on, now).map(|due_at| Scheduled { kind, deadline: due_on, due_at }))
        .collect()
}

/// What a new due date does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueChange {
    pub due_on: NaiveDate,
    pub history: HistoryLine,
    /// The letter's pending reminders of these kinds end (`cancelled`, by who changed the date)…
    pub ended: Vec<Kind>,
    /// …and these take their place.
    pub scheduled: Vec<Scheduled>,
}

/// Why a due date or a unit is not changed; the variants hold the letter's number and the dates
/// or unit at fault, and Display says it as a reply does.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DueError {
    #[error("{0} is annulled; it has no due date to change")]
    Annulled(String),
    #[error("{number} is {status} already; a settled letter is due no more")]
    Settled { number: String, status: String },
    #[error("{due_on} is in the past; a due date is today ({today}) or later")]
    InThePast { due_on: NaiveDate, today: NaiveDate },
    #[error("{number} is due on {due_on} already; nothing changed")]
    SameDate { number: String, due_on: NaiveDate },
    #[error("{number} is with {unit} already; nothing changed")]
    SameUnit { number: String, unit: String },
}

/// A new due date for `letter`, `today` being the office's day of `now`. Refused for a settled
/// or annulled letter, a date in the past, and the date it has.
pub fn change_due(
    letter: &LetterState,
    due_on: NaiveDate,
    reason: Option<&str>,
    policy: &Policy,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<DueChange, DueError> {
    let number = &letter.number;
    if letter.status == "annulled" {
        return Err(DueError::Annulled(number.clone()));
    }
    if SETTLED_STATUSES.contains(&letter.status.as_str()) {
        return Err(DueError::Settled { number: number.clone(), status: letter.status.clone() });
    }
    if due_on < today {
        return Err(DueError::InThePast { due_on, today });
    }
    if letter.due_on == Some(due_on) {
        return Err(DueError::SameDate { number: number.clone(), due_on });
    }
    Ok(DueChange {
        due_on,
        history: HistoryLine {
            action: "changed",
            field: Some("due_on"),
            old_value: letter.due_on.map(|day| day.to_string()),
            new_value: Some(due_on.to_string()),
            reason: reason.map(str::trim).filter(|r| !r.is_empty()).map(str::to_string),
        },
        ended: LETTER_REMINDERS.to_vec(),
        scheduled: reminders_of(due_on, policy, now),
    })
}

/// What moving a letter to another unit does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reroute {
    pub unit: String,
    /// The history: the unit changed, and (when released) the assignee.
    pub history: Vec<HistoryLine>,
    /// Whether the letter is taken from its assignee, who is of another unit.
    pub release_assignee: bool,
}

/// `letter` to `unit` by hand. Refused when it is there already.
pub fn reroute(letter: &LetterState, unit: &str, reason: &str) -> Result<Reroute, DueError> {
    if letter.unit == unit {
        return Err(DueError::SameUnit { number: letter.number.clone(), unit: unit.to_string() });
    }
    let reason = Some(reason.trim()).filter(|r| !r.is_empty()).map(str::to_string);
    let mut history = vec![HistoryLine {
        action: "changed",
        field: Some("unit"),
        old_value: Some(letter.unit.clone()),
        new_value: Some(unit.to_string()),
        reason: reason.clone(),
    }];
    // Someone of the new unit, or the registry's own people elsewhere, keeps it; anyone else
    // would go on being reminded of another unit's letter.
    let release_assignee = match &letter.assignee {
        Some((_, Some(their_unit))) => their_unit != unit,
        Some((_, None)) => true,
        None => false,
    };
    if release_assignee && let Some((who, _)) = &letter.assignee {
        history.push(HistoryLine {
            action: "unassigned",
            field: Some("assignee"),
            old_value: Some(who.clone()),
            new_value: None,
            reason: Some(format!("rerouted to {unit}")),
        });
    }
    Ok(Reroute { unit: unit.to_string(), history, release_assignee })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ZONE: chrono_tz::Tz = chrono_tz::Asia::Baku;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    /// Tuesday 1 December 2026, 10:00 in Baku.
    fn now() -> DateTime<Utc> {
        "2026-12-01T06:00:00Z".parse().unwrap()
    }

    fn letter(status: &str, due_on: Option<&str>, assignee: Option<(&str, Option<&str>)>) -> LetterState {
        LetterState {
            number: "IN-2026-000001".into(),
            status: status.into(),
            unit: "international".into(),
            due_on: due_on.map(day),
            assignee: assignee.map(|(who, unit)| (who.to_string(), unit.map(str::to_string))),
        }
    }

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn routed(due_in_working_days: Option<u32>) -> Routing {
        Routing {
            rule: None,
            unit: "registry".into(),
            classification: None,
            confidentiality: None,
            tags: Vec::new(),
            due_in_working_days,
            acknowledge: None,
            forward: false,
            notify_room: false,
            reasons: Vec::new(),
        }
    }

    #[test]
    fn a_letter_is_given_a_due_date_and_its_reminders_at_registration() {
        let policy = Policy::new(ZONE);
        let today = day("2026-12-01");
        // (routing's working days, public holidays) → the due date and the first firings of
        // letter-due and letter-overdue.
        type Wanted = Option<(&'static str, &'static [(Kind, &'static str)])>;
        type Case = (Option<Option<u32>>, &'static [&'static str], Wanted);
        let cases: &[Case] = &[
            // No rules, or a rule that gives no time: no due date, no reminders.
            (None, &[], None),
            (Some(None), &[], None),
            // Ten working days from Tuesday the 1st: Tuesday the 15th, reminded two working days
            // before (Friday the 11th, 09:00 Baku), overdue from the next working day.
            (
                Some(Some(10)),
                &[],
                Some(("2026-12-15", &[(Kind::LetterDue, "2026-12-11T05:00:00Z"), (Kind::LetterOverdue, "2026-12-16T05:00:00Z")])),
            ),
            // A public holiday is not counted.
            (
                Some(Some(10)),
                &["2026-12-08"],
                Some(("2026-12-16", &[(Kind::LetterDue, "2026-12-14T05:00:00Z"), (Kind::LetterOverdue, "2026-12-17T05:00:00Z")])),
            ),
            // Due tomorrow: the lead time has passed, only the overdue reminder is ahead.
            (Some(Some(1)), &[], Some(("2026-12-02", &[(Kind::LetterOverdue, "2026-12-03T05:00:00Z")]))),
        ];
        for &(routing, holidays, wanted) in cases {
            let routing = routing.map(routed);
            let holidays: Vec<NaiveDate> = holidays.iter().map(|h| day(h)).collect();
            let got = due_at_registration(routing.as_ref(), today, &holidays, &policy, now());
            let wanted = wanted.map(|(due_on, firings)| DueAtRegistration {
                due_on: day(due_on),
                scheduled: firings.iter().map(|&(kind, t)| Scheduled { kind, deadline: day(due_on), due_at: at(t) }).collect(),
            });
            assert_eq!(got, wanted, "{routing:?} {holidays:?}");
        }
    }

    #[test]
    fn a_new_due_date_ends_the_reminders_and_schedules_them_from_it() {
        let policy = Policy::new(ZONE);
        let today = day("2026-12-01");
        // (status, due_on, new date) → the first firings of letter-due and letter-overdue.
        type Case = (&'static str, Option<&'static str>, &'static str, &'static [(Kind, &'static str)]);
        let cases: &[Case] = &[
            // Due Friday 11th: reminded two working days before (Wed 9th, 09:00 Baku), overdue Mon 14th.
            (
                "registered",
                Some("2026-12-04"),
                "2026-12-11",
                &[(Kind::LetterDue, "2026-12-09T05:00:00Z"), (Kind::LetterOverdue, "2026-12-14T05:00:00Z")],
            ),
            // No due date before; due today: the lead time has passed, overdue tomorrow.
            ("in-progress", None, "2026-12-01", &[(Kind::LetterOverdue, "2026-12-02T05:00:00Z")]),
        ];
        for &(status, before, new, wanted) in cases {
            let plan = change_due(&letter(status, before, None), day(new), Some(" by phone "), &policy, today, now()).unwrap();
            let got: Vec<(Kind, DateTime<Utc>)> = plan.scheduled.iter().map(|s| (s.kind, s.due_at)).collect();
            let wanted: Vec<(Kind, DateTime<Utc>)> = wanted.iter().map(|&(kind, t)| (kind, at(t))).collect();
            assert_eq!(got, wanted, "{new}");
            assert_eq!(plan.ended, LETTER_REMINDERS.to_vec());
            assert!(plan.scheduled.iter().all(|s| s.deadline == day(new)));
            assert_eq!(
                plan.history,
                HistoryLine {
                    action: "changed",
                    field: Some("due_on"),
                    old_value: before.map(str::to_string),
                    new_value: Some(new.to_string()),
                    reason: Some("by phone".into()),
                }
            );
        }
    }

    #[test]
    fn what_makes_no_sense_is_refused() {
        let policy = Policy::new(ZONE);
        let today = day("2026-12-01");
        let cases = [
            ("annulled", Some("2026-12-04"), "2026-12-11", "is annulled"),
            ("answered", Some("2026-12-04"), "2026-12-11", "is answered already"),
            ("closed", None, "2026-12-11", "is closed already"),
            ("registered", Some("2026-12-04"), "2026-11-30", "2026-11-30 is in the past"),
            ("registered", Some("2026-12-04"), "2026-12-04", "is due on 2026-12-04 already"),
        ];
        for (status, before, new, wanted) in cases {
            let problem = change_due(&letter(status, before, None), day(new), None, &policy, today, now()).unwrap_err().to_string();
            assert!(problem.contains(wanted), "{status} {new}: {problem}");
        }
    }

    #[test]
    fn a_reroute_releases_an_assignee_of_another_unit_only() {
        // (assignee and their unit, new unit) → released?
        let cases = [
            (None, "finance", false),
            (Some(("@officer:uni.example", Some("international"))), "finance", true),
            (Some(("@clerk:uni.example", Some("finance"))), "finance", false),
            (Some(("@gone:uni.example", None)), "finance", true),
        ];
        for (assignee, unit, released) in cases {
            let plan = reroute(&letter("registered", None, assignee), unit, "their budget").unwrap();
            assert_eq!(plan.release_assignee, released, "{assignee:?}");
            assert_eq!(plan.history.len(), if released { 2 } else { 1 });
            assert_eq!(plan.history[0].new_value.as_deref(), Some(unit));
            assert_eq!(plan.history[0].reason.as_deref(), Some("their budget"));
        }
        let problem = reroute(&letter("registered", None, None), "international", "x").unwrap_err().to_string();
        assert!(problem.contains("with international already"), "{problem}");
    }
}
