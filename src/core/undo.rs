//! Taking back what was planned: a meeting called off, an item taken off an agenda, an
//! agreement ended early, a visa case cancelled. Each decision says whether it makes sense, and
//! returns what the store carries out in one transaction: what changes, which reminders end,
//! which messages go out, and what is written down with who did it.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

#[cfg(test)]
use super::meeting::Cancellation;
use super::meeting::{AgendaItem, Meeting, local};
use super::remind::{Delivery, Kind};

/// A meeting as a cancellation needs it: the meeting, and whether its pack has gone.
#[derive(Debug, Clone)]
pub struct MeetingState<'a> {
    pub meeting: &'a Meeting,
    /// Whether its agenda pack is still to go out (its reminder is active).
    pub pack_pending: bool,
}

/// Why something cannot be undone; the variants hold the ids, dates and people involved, with
/// times already in the office's zone, and Display says it as a reply does.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UndoError {
    #[error("meeting {meeting} was cancelled already, by {by} on {}", minute(.at))]
    MeetingCancelledAlready { meeting: i64, by: String, at: DateTime<Tz> },
    #[error("meeting {meeting} began at {}; there is nothing to call off", minute(.starts_at))]
    MeetingBegan { meeting: i64, starts_at: DateTime<Tz> },
    #[error("meeting {0} is cancelled; its agenda stays as it was")]
    AgendaOfCancelledMeeting(i64),
    #[error("the agenda pack of meeting {0} has been sent; the agenda stays as it was sent")]
    AgendaPackSent(i64),
    /// `items` are the positions the agenda has.
    #[error("meeting {meeting} has no item {position} (its agenda {})", agenda_items(.items))]
    NoSuchItem { meeting: i64, position: u32, items: Vec<u32> },
    #[error("agreement {agreement} has ended already (on {end})")]
    AgreementEndedAlready { agreement: i64, end: NaiveDate },
    #[error("ending agreement {0} needs a reason")]
    NoReason(i64),
    #[error("agreement {agreement} starts on {start}; it cannot end before that")]
    EndBeforeStart { agreement: i64, start: NaiveDate },
    #[error("agreement {agreement} ends on {end} already; a later end is a renewal (`!agreement renew`)")]
    EndAfterEnd { agreement: i64, end: NaiveDate },
    /// `closed` is who closed the case and when, where the register knows it.
    #[error("visa case {case} is {status} already{}; there is nothing to cancel", closed_by(.closed))]
    VisaClosedAlready { case: i64, status: String, closed: Option<(String, DateTime<Tz>)> },
}

/// A time as the refusals show it (`2026-12-10 10:00`), as `meeting::local` writes it.
fn minute(at: &DateTime<Tz>) -> String {
    at.format("%Y-%m-%d %H:%M").to_string()
}

fn agenda_items(items: &[u32]) -> String {
    if items.is_empty() {
        "has no items".to_string()
    } else {
        format!("has items {}", items.iter().map(u32::to_string).collect::<Vec<_>>().join(", "))
    }
}

fn closed_by(closed: &Option<(String, DateTime<Tz>)>) -> String {
    closed.as_ref().map(|(by, at)| format!(", by {by} on {}", minute(at))).unwrap_or_default()
}

/// What calling a meeting off does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeetingCancellation {
    pub meeting: i64,
    pub reason: Option<String>,
    /// Its agenda pack's reminder ends with it: the pack is never sent.
    pub ended: Vec<Kind>,
    /// Each participant is told, by direct message (the room outbox).
    pub messages: Vec<Delivery>,
}

/// Calls `state.meeting` off, by `by` at `now`. Refused once it has begun or been called off.
pub fn cancel_meeting(
    state: &MeetingState<'_>,
    reason: Option<&str>,
    by: &str,
    now: DateTime<Utc>,
    zone: Tz,
) -> Result<MeetingCancellation, UndoError> {
    let meeting = state.meeting;
    if let Some(cancelled) = &meeting.cancelled {
        return Err(UndoError::MeetingCancelledAlready {
            meeting: meeting.id,
            by: cancelled.by.clone(),
            at: cancelled.at.with_timezone(&zone),
        });
    }
    if now >= meeting.starts_at {
        return Err(UndoError::MeetingBegan { meeting: meeting.id, starts_at: meeting.starts_at.with_timezone(&zone) });
    }
    let reason = reason.map(str::trim).filter(|r| !r.is_empty()).map(str::to_string);
    let because = reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default();
    let pack = if state.pack_pending { " Its agenda pack will not be sent." } else { "" };
    let text = format!(
        "Meeting {} “{}” on {} is **cancelled** by {by}{because}.{pack}",
        meeting.id,
        meeting.title,
        local(meeting.starts_at, zone)
    );
    let messages = meeting.participants.iter().map(|mxid| Delivery::Direct { mxid: mxid.clone(), markdown: text.clone() }).collect();
    Ok(MeetingCancellation { meeting: meeting.id, reason, ended: vec![Kind::AgendaPack], messages })
}

/// What taking an item off an agenda does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgendaRemoval {
    pub meeting: i64,
    pub item: AgendaItem,
    /// Written to the document's history: it is no longer on this meeting's agenda.
    pub history: String,
}

/// Takes item `position` off `state.meeting`'s `agenda`. Refused for a cancelled meeting, once
/// the pack has gone (the agenda is as sent), and for an item that is not there.
pub fn remove_agenda_item(state: &MeetingState<'_>, agenda: &[AgendaItem], position: u32) -> Result<AgendaRemoval, UndoError> {
    let id = state.meeting.id;
    if state.meeting.cancelled.is_some() {
        return Err(UndoError::AgendaOfCancelledMeeting(id));
    }
    if !state.pack_pending {
        return Err(UndoError::AgendaPackSent(id));
    }
    let Some(item) = agenda.iter().find(|item| item.position == position) else {
        let items = agenda.iter().map(|item| item.position).collect();
        return Err(UndoError::NoSuchItem { meeting: id, position, items });
    };
    Ok(AgendaRemoval { meeting: id, item: item.clone(), history: format!("removed from the agenda of meeting {id} (item {position})") })
}

/// An agreement as ending it needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgreementState {
    pub id: i64,
    pub start: NaiveDate,
    pub end: NaiveDate,
    /// `active` or `ended`.
    pub status: String,
}

/// What ending an agreement early does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgreementEnding {
    pub id: i64,
    pub ends_on: NaiveDate,
    /// The end it had, kept beside the new one.
    pub previous_end: NaiveDate,
    pub reason: String,
    pub ended: Vec<Kind>,
}

/// Ends `agreement` on `on` for `reason`. Refused when it has ended, when `on` is before its
/// start or after its end (that would be a renewal), and without a reason.
pub fn end_agreement(agreement: &AgreementState, on: NaiveDate, reason: &str) -> Result<AgreementEnding, UndoError> {
    let id = agreement.id;
    if agreement.status != "active" {
        return Err(UndoError::AgreementEndedAlready { agreement: id, end: agreement.end });
    }
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(UndoError::NoReason(id));
    }
    if on < agreement.start {
        return Err(UndoError::EndBeforeStart { agreement: id, start: agreement.start });
    }
    if on > agreement.end {
        return Err(UndoError::EndAfterEnd { agreement: id, end: agreement.end });
    }
    Ok(AgreementEnding {
        id,
        ends_on: on,
        previous_end: agreement.end,
        reason: reason.to_string(),
        ended: vec![Kind::AgreementEnd, Kind::AgreementNotice],
    })
}

/// What cancelling a visa case does: its status, and its reminders end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisaCancellation {
    pub id: i64,
    pub ended: Vec<Kind>,
}

/// Cancels visa case `id` in `status` (`open`, `done`, `cancelled`). Refused unless it is open.
pub fn cancel_visa(id: i64, status: &str, closed: Option<(&str, DateTime<Utc>)>, zone: Tz) -> Result<VisaCancellation, UndoError> {
    if status != "open" {
        let closed = closed.map(|(by, at)| (by.to_string(), at.with_timezone(&zone)));
        return Err(UndoError::VisaClosedAlready { case: id, status: status.to_string(), closed });
    }
    Ok(VisaCancellation { id, ended: vec![Kind::VisaApplyBy, Kind::VisaExpiry] })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ZONE: Tz = chrono_tz::Asia::Baku;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    fn meeting() -> Meeting {
        Meeting {
            id: 3,
            title: "Erasmus committee".into(),
            starts_at: at("2026-12-10T06:00:00Z"),
            created_by: "@manager:uni.example".into(),
            created_at: at("2026-12-01T06:00:00Z"),
            participants: vec!["@manager:uni.example".into(), "@officer:uni.example".into()],
            cancelled: None,
        }
    }

    fn item(position: u32) -> AgendaItem {
        AgendaItem {
            position,
            document_id: 10 + i64::from(position),
            number: format!("IN-2026-00000{position}"),
            text: String::new(),
            added_by: "@manager:uni.example".into(),
            added_at: at("2026-12-01T06:00:00Z"),
        }
    }

    #[test]
    fn a_cancelled_meeting_tells_each_participant_and_ends_its_pack() {
        let meeting = meeting();
        let state = MeetingState { meeting: &meeting, pack_pending: true };
        let plan = cancel_meeting(&state, Some(" the chair is ill "), "@manager:uni.example", at("2026-12-02T06:00:00Z"), ZONE).unwrap();
        assert_eq!(plan.ended, vec![Kind::AgendaPack]);
        assert_eq!(plan.reason.as_deref(), Some("the chair is ill"));
        let told: Vec<&str> = plan
            .messages
            .iter()
            .map(|m| match m {
                Delivery::Direct { mxid, markdown } => {
                    assert!(markdown.contains("Meeting 3 “Erasmus committee” on 2026-12-10 10:00 is **cancelled**"), "{markdown}");
                    assert!(markdown.contains(": the chair is ill.") && markdown.contains("pack will not be sent"), "{markdown}");
                    mxid.as_str()
                }
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(told, ["@manager:uni.example", "@officer:uni.example"]);
    }

    #[test]
    fn cancelling_what_cannot_be_cancelled_is_refused() {
        let before = at("2026-12-02T06:00:00Z");
        let cancelled = Cancellation { at: before, by: "@officer:uni.example".into(), reason: None };
        // (cancelled, now) → the refusal.
        let cases = [
            (Some(cancelled), before, "was cancelled already, by @officer:uni.example on 2026-12-02 10:00"),
            (None, at("2026-12-10T06:00:00Z"), "began at 2026-12-10 10:00"),
        ];
        for (cancelled, now, wanted) in cases {
            let meeting = Meeting { cancelled, ..meeting() };
            let state = MeetingState { meeting: &meeting, pack_pending: true };
            let problem = cancel_meeting(&state, None, "@manager:uni.example", now, ZONE).unwrap_err().to_string();
            assert!(problem.contains(wanted), "{problem}");
        }
    }

    #[test]
    fn an_item_comes_off_only_a_pending_agenda_that_has_it() {
        let agenda = [item(1), item(2)];
        let cancelled = Some(Cancellation { at: at("2026-12-02T06:00:00Z"), by: "@manager:uni.example".into(), reason: None });
        // (cancelled, pack pending, position) → the item removed, or the refusal.
        type Case = (Option<Cancellation>, bool, u32, Result<u32, &'static str>);
        let cases: [Case; 4] = [
            (None, true, 2, Ok(2)),
            (None, true, 5, Err("has no item 5 (its agenda has items 1, 2)")),
            (None, false, 1, Err("has been sent")),
            (cancelled, true, 1, Err("is cancelled")),
        ];
        for (cancelled, pack_pending, position, wanted) in cases {
            let meeting = Meeting { cancelled, ..meeting() };
            let state = MeetingState { meeting: &meeting, pack_pending };
            match (remove_agenda_item(&state, &agenda, position), wanted) {
                (Ok(plan), Ok(position)) => {
                    assert_eq!(plan.item.position, position);
                    assert_eq!(plan.history, "removed from the agenda of meeting 3 (item 2)");
                }
                (Err(problem), Err(wanted)) => assert!(problem.to_string().contains(wanted), "{problem}"),
                (got, wanted) => panic!("{got:?} but wanted {wanted:?}"),
            }
        }
    }

    #[test]
    fn an_agreement_ends_within_its_term_once_with_a_reason() {
        let agreement = AgreementState { id: 4, start: day("2024-01-01"), end: day("2028-12-31"), status: "active".into() };
        let plan = end_agreement(&agreement, day("2026-12-31"), " the partner withdrew ").unwrap();
        assert_eq!((plan.ends_on, plan.previous_end), (day("2026-12-31"), day("2028-12-31")));
        assert_eq!(plan.reason, "the partner withdrew");
        assert_eq!(plan.ended, vec![Kind::AgreementEnd, Kind::AgreementNotice]);
        let ended = AgreementState { status: "ended".into(), ..agreement.clone() };
        let cases = [
            (&ended, "2026-12-31", "x", "has ended already"),
            (&agreement, "2026-12-31", "  ", "needs a reason"),
            (&agreement, "2023-12-31", "x", "cannot end before that"),
            (&agreement, "2029-01-01", "x", "a later end is a renewal"),
        ];
        for (state, on, reason, wanted) in cases {
            let problem = end_agreement(state, day(on), reason).unwrap_err().to_string();
            assert!(problem.contains(wanted), "{on}: {problem}");
        }
    }

    #[test]
    fn only_an_open_visa_case_is_cancelled() {
        let plan = cancel_visa(7, "open", None, ZONE).unwrap();
        assert_eq!(plan.ended, vec![Kind::VisaApplyBy, Kind::VisaExpiry]);
        for status in ["done", "cancelled"] {
            let problem = cancel_visa(7, status, Some(("@officer:uni.example", at("2026-12-02T06:00:00Z"))), ZONE).unwrap_err().to_string();
            assert!(problem.contains(&format!("is {status} already, by @officer:uni.example on 2026-12-02 10:00")), "{problem}");
        }
    }
}
