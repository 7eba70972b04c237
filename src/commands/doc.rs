//! `!doc`: one document's card, and the work on it: acknowledge, assign, set the status, add a
//! note, move the due date or route it to another unit. Anyone on the staff may ask for a card, and sees of it what the
//! `Viewer` allows. A document is changed by its unit's staff, the person it is assigned to, and
//! the registry (registrars and admins): `Viewer::may_work_on`; its due date and unit only by the
//! registry and its unit's managers (`Viewer::may_reschedule`). Every change is written to the document's
//! history under the Matrix ID of who made it.

use std::fmt::Write as _;

use chrono::NaiveDate;

use crate::core::dates::parse_date;
use crate::core::markdown;
use crate::core::number::RegistrationNumber;
use crate::core::status::{days_overdue, parse_work_status};
use crate::core::time::local;
use crate::core::viewer::{Audience, Sight, Viewer};
use crate::store::{Acknowledgement, DocumentRecord, HistoryEntry, ThreadMember};

use super::{Args, Call, CommandError, Outcome, Reply, table};

/// History entries a card shows, the newest.
const HISTORY_SHOWN: usize = 5;

pub(super) async fn run(call: &Call<'_, '_>, mut args: Args) -> Outcome {
    let first = args.word("NUMBER")?;
    match first.to_ascii_lowercase().as_str() {
        "ack" => {
            let number = number(&args.word("NUMBER")?)?;
            args.finish()?;
            acknowledge(call, &number).await
        }
        "assign" => {
            let number = number(&args.word("NUMBER")?)?;
            let person = args.word("the person (@user:server)")?;
            args.finish()?;
            assign(call, &number, &person).await
        }
        "status" => {
            let number = number(&args.word("NUMBER")?)?;
            let status = parse_work_status(&args.word("the status (in-progress, answered or closed)")?).map_err(CommandError::usage)?;
            args.finish()?;
            set_status(call, &number, status).await
        }
        "due" => {
            let number = number(&args.word("NUMBER")?)?;
            let reason = args.option("reason");
            let date = args.rest();
            if date.trim().is_empty() {
                return Err(CommandError::Usage("the new due DATE is missing".into()));
            }
            change_due(call, &number, &date, reason.as_deref()).await
        }
        "route" => {
            let number = number(&args.word("NUMBER")?)?;
            let unit = args.word("the UNIT")?;
            let reason = args.required_option("reason")?;
            args.finish()?;
            reroute(call, &number, &unit, &reason).await
        }
        "note" => {
            let number = number(&args.word("NUMBER")?)?;
            let text = args.rest();
            if text.trim().is_empty() {
                return Err(CommandError::Usage("the note's TEXT is missing".into()));
            }
            note(call, &number, &text).await
        }
        _ => {
            let number = number(&first)?;
            args.finish()?;
            card(call, &number).await
        }
    }
}

/// The card of one document, as `!doc NUMBER` shows it (also for numbers mentioned in passing).
pub(super) async fn card(call: &Call<'_, '_>, number: &str) -> Outcome {
    let document = find(call, number).await?;
    let (document, sight) = call.store().documents().show(document, call.viewer, call.now()).await?;
    let assignee = match &document.assignee {
        Some(id) => Some(match call.store().staff().find(id).await? {
            Some(member) => format!("{} ({id})", markdown::literal(&member.name)),
            None => id.clone(),
        }),
        None => None,
    };
    let thread = call.store().documents().thread(number).await?;
    let today = call.now().with_timezone(&call.zone()).date_naive();
    Ok(Reply::new(card_text(&document, sight, assignee.as_deref(), &thread, call.zone(), today)))
}

async fn acknowledge(call: &Call<'_, '_>, number: &str) -> Outcome {
    let document = find_to_change(call, number).await?;
    match call.store().documents().acknowledge(number, call.actor(), call.now()).await? {
        Acknowledgement::Recorded => Ok(Reply::new(format!("Acknowledged: {} has {number}.", document.unit))),
        Acknowledgement::Earlier { by, at } => {
            Ok(Reply::new(format!("{number} was acknowledged already, by {by} on {}; nothing changed.", local(&at, call.zone()))))
        }
    }
}

async fn assign(call: &Call<'_, '_>, number: &str, person: &str) -> Outcome {
    let document = find_to_change(call, number).await?;
    let Some(member) = call.store().staff().find(person).await? else {
        return Err(CommandError::Refused(format!("{person} is not in the staff directory (`!staff` lists who is); nothing changed.")));
    };
    // A document given to someone who may not read it could not be worked on.
    if let Sight::Redacted { .. } = Viewer::new(member.clone(), Audience::Private).sight(document.restriction()) {
        return Err(CommandError::Refused(format!(
            "{} may not read {number} ({}, {}): assign it to someone of {} cleared for it, or to a registrar.",
            markdown::literal(&member.name),
            document.confidentiality,
            document.unit,
            document.unit
        )));
    }
    let before = call.store().documents().assign(number, &member.id, call.actor(), call.now()).await?;
    let was = before.map(|id| format!(" It was with {id}.")).unwrap_or_default();
    Ok(Reply::new(format!("{number} is now assigned to {} ({}).{was}", markdown::literal(&member.name), member.id)))
}

async fn set_status(call: &Call<'_, '_>, number: &str, status: &str) -> Outcome {
    find_to_change(call, number).await?;
    let before = call.store().documents().set_status(number, status, call.actor(), call.now()).await?;
    Ok(Reply::new(format!("{number} is now {status} (it was {before}).")))
}

/// `!doc due NUMBER DATE [reason=…]`: for the registry and the managers of the letter's unit.
async fn change_due(call: &Call<'_, '_>, number: &str, date: &str, reason: Option<&str>) -> Outcome {
    let today = call.now().with_timezone(&call.zone()).date_naive();
    let due_on = parse_date(date, today).map_err(|problem| CommandError::Usage(format!("DATE: {problem}")))?;
    let document = find(call, number).await?;
    if !call.viewer.may_reschedule(&document.unit) {
        return Err(CommandError::Refused(format!(
            "Only the managers of {} and the registry may change the due date of {number}; nothing changed.",
            document.unit
        )));
    }
    let before = call.store().documents().change_due(call.reminder_policy(), number, due_on, reason, call.actor(), call.now()).await?;
    let was = before.map(|day| format!(" (it was {day})")).unwrap_or_default();
    Ok(Reply::new(format!("{number} is now due on {due_on}{was}; its reminders are rescheduled.")))
}

/// `!doc route NUMBER UNIT reason=…`: as `chancery docs reroute`, for whom `!doc due` is for.
async fn reroute(call: &Call<'_, '_>, number: &str, unit: &str, reason: &str) -> Outcome {
    let unit = super::staff::known_unit(call, unit)?;
    let document = find(call, number).await?;
    if !call.viewer.may_reschedule(&document.unit) {
        return Err(CommandError::Refused(format!(
            "Only the managers of {} and the registry may route {number} elsewhere; nothing changed.",
            document.unit
        )));
    }
    let released = call.store().documents().reroute(number, &unit, reason, call.actor(), call.now()).await?;
    let released = released.map(|who| format!(" {who}, of another unit, no longer has it.")).unwrap_or_default();
    Ok(Reply::new(format!(
        "{number} is now with {unit} (it was with {}); its pending reminders go to {unit}'s people.{released}",
        document.unit
    )))
}

async fn note(call: &Call<'_, '_>, number: &str, text: &str) -> Outcome {
    find_to_change(call, number).await?;
    call.store().documents().note(number, text, call.actor(), call.now()).await?;
    Ok(Reply::new(format!("Note added to {number}'s history.")))
}

/// A registration number as typed (`in-2026-000001` too), or the usage.
fn number(text: &str) -> Result<String, CommandError> {
    text.parse::<RegistrationNumber>().map(|n| n.to_string()).map_err(CommandError::usage)
}

async fn find(call: &Call<'_, '_>, number: &str) -> Result<DocumentRecord, CommandError> {
    Ok(call.store().document(number).await?)
}

/// The document, when the caller may change it.
async fn find_to_change(call: &Call<'_, '_>, number: &str) -> Result<DocumentRecord, CommandError> {
    let document = find(call, number).await?;
    if !call.viewer.may_work_on(&document.unit, document.assignee.as_deref()) {
        return Err(CommandError::Refused(format!(
            "Only the staff of {}, the person it is assigned to, or a registrar may change {number}; nothing changed.",
            document.unit
        )));
    }
    Ok(document)
}

/// The card, as the viewer's `sight` allows: in a shared room a restricted document shows its
/// number, status and unit only; to the uncleared it shows its dates too, never its subject,
/// correspondents or history (notes may quote them).
fn card_text(
    d: &DocumentRecord,
    sight: Sight,
    assignee: Option<&str>,
    thread: &[ThreadMember],
    zone: chrono_tz::Tz,
    today: NaiveDate,
) -> String {
    let mut out = format!("**{}** · {} · {}\n\n", d.number, d.status, d.unit);
    if let Some(disposed) = &d.disposed {
        let _ = writeln!(out, "- {} was {}: its content was erased; the entry stays.", d.number, disposed.line());
    }
    for hold in &d.holds {
        let _ = writeln!(out, "- On hold: hold {} on {} ({})", hold.id, markdown::literal(&hold.covers()), markdown::literal(&hold.reason));
    }
    if sight == (Sight::Redacted { ask_privately: true }) {
        out.push_str(&format!("This document is {}: ask me in a direct message.", d.confidentiality));
        return out;
    }
    let full = matches!(sight, Sight::Full { .. });
    if full {
        let _ = writeln!(out, "- Subject: {}", markdown::literal(&d.subject));
        let people = d.correspondents().iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
        let _ = writeln!(
            out,
            "- {}: {}",
            if d.direction == "incoming" { "From" } else { "To" },
            if people.is_empty() { "-".to_string() } else { markdown::literal(&people) }
        );
    }
    let _ = writeln!(out, "- Registered: {}", local(&d.registered_at, zone));
    if let Some(case) = &d.case {
        let _ = writeln!(out, "- Case: {}", markdown::literal(case));
    }
    if let Some(due) = &d.due_on {
        let late = days_overdue(due, &d.status, today).map(|days| format!(" (overdue by {days} day{})", if days == 1 { "" } else { "s" }));
        let _ = writeln!(out, "- Due: {due}{}", late.unwrap_or_default());
    }
    if !full {
        let _ = write!(
            out,
            "\nIts subject and correspondents are for staff of {} cleared for {} documents, and the registry.",
            d.unit, d.confidentiality
        );
        return out;
    }
    let _ = writeln!(out, "- Assigned to: {}", assignee.unwrap_or("nobody yet"));
    match (&d.acknowledged_by, &d.acknowledged_at) {
        (Some(by), Some(at)) => {
            let _ = writeln!(out, "- Acknowledged: {} by {by}", local(at, zone));
        }
        _ => {
            let _ = writeln!(out, "- Acknowledged: not yet");
        }
    }
    if thread.len() > 1 {
        let members: Vec<String> = thread.iter().map(|m| format!("{} ({})", m.number, m.status)).collect();
        let _ = writeln!(out, "- Thread: {}", members.join(", "));
    }
    // Disclosures are the audit trail (`chancery docs show`), not work on the document: each
    // showing adds one, and they would crowd out what people did.
    let history: Vec<&HistoryEntry> = d.history.iter().flatten().filter(|h| h.action != "disclosed").collect();
    let recent = &history[history.len().saturating_sub(HISTORY_SHOWN)..];
    if !recent.is_empty() {
        let rows: Vec<Vec<String>> = recent.iter().map(|h| vec![local(&h.at, zone), h.actor.clone(), history_text(h)]).collect();
        let _ = write!(out, "\nLatest history:\n\n{}", table(&["when", "who", "what"], &rows));
    }
    out
}

/// One history entry in words: `changed status: registered → in-progress`, `note: …`.
fn history_text(h: &HistoryEntry) -> String {
    let mut text = h.action.clone();
    match (&h.field, &h.new_value) {
        (Some(field), Some(new)) => {
            let _ = write!(text, " {field}: {} → {new}", h.old_value.as_deref().unwrap_or("-"));
        }
        (None, Some(new)) => {
            let _ = write!(text, ": {new}");
        }
        (Some(field), None) if h.old_value.is_some() => {
            let _ = write!(text, " {field}: {} → -", h.old_value.as_deref().unwrap_or_default());
        }
        _ => {}
    }
    if let Some(reason) = &h.reason {
        let _ = write!(text, " ({reason})");
    }
    text
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::core::letter::Correspondent;

    const ZONE: chrono_tz::Tz = chrono_tz::Asia::Baku;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()
    }

    /// IN-2026-000002 of the seeded store: confidential, of hr, with a note in its history.
    pub(in crate::commands) fn personal_file() -> DocumentRecord {
        let entry = |action: &str, new: Option<&str>| HistoryEntry {
            at: "2026-11-16T09:00:00.000000Z".into(),
            actor: "@hr:uni.example".into(),
            action: action.into(),
            field: None,
            old_value: None,
            new_value: new.map(str::to_string),
            reason: None,
        };
        DocumentRecord {
            id: 2,
            number: "IN-2026-000002".into(),
            direction: "incoming".into(),
            status: "registered".into(),
            unit: "hr".into(),
            classification: None,
            confidentiality: "confidential".into(),
            subject: "Personal file of Dr. Rashad Mammadov".into(),
            from: vec![Correspondent { name: Some("Ministry HR".into()), address: "hr@ministry.example".into() }],
            to: Vec::new(),
            cc: Vec::new(),
            message_id: None,
            sha256: String::new(),
            size: 0,
            sent_at: None,
            received_at: "2026-11-16T09:00:00.000000Z".into(),
            registered_at: "2026-11-16T09:00:00.000000Z".into(),
            thread: "IN-2026-000002".into(),
            attachments: Vec::new(),
            flags: Vec::new(),
            source: String::new(),
            annul_reason: None,
            routing: None,
            tags: Vec::new(),
            due_on: Some("2026-11-23".into()),
            assignee: None,
            acknowledged_at: None,
            acknowledged_by: None,
            case: None,
            disposed: None,
            holds: Vec::new(),
            history: Some(vec![
                entry("registered", None),
                entry("note", Some("Mammadov's transfer")),
                entry("disclosed", None),
                entry("acknowledged", None),
            ]),
        }
    }

    #[test]
    fn the_cleared_in_private_see_everything_but_the_disclosures() {
        let card = card_text(&personal_file(), Sight::Full { disclosed: true }, Some("Həcər HR (@hr:uni.example)"), &[], ZONE, today());
        assert!(card.starts_with("**IN-2026-000002** · registered · hr"), "{card}");
        // The sender's address is text, not an autolink: the plain text shows it as it came.
        let shown = crate::core::markdown::plain_text(&card);
        for wanted in ["Personal file of Dr. Rashad Mammadov", "From: Ministry HR <hr@ministry.example>", "overdue by 8 days", "Həcər HR"]
        {
            assert!(shown.contains(wanted), "{wanted}: {card}");
        }
        assert!(
            card.contains("note: Mammadov's transfer") && card.contains("| 2026-11-16 13:00 | @hr:uni.example | acknowledged |"),
            "{card}"
        );
        assert!(!card.contains("disclosed"), "{card}");
    }

    #[test]
    fn the_viewer_decides_what_a_record_shows_at_the_console_as_in_chat() {
        let (listed, sight) = personal_file().seen_by(&Viewer::console_list());
        assert_eq!(sight, Sight::Redacted { ask_privately: false });
        assert!(listed.subject == "[confidential]" && listed.from.is_empty(), "{listed:?}");
        let (shown, sight) = personal_file().seen_by(&Viewer::console_operator("operator"));
        assert_eq!(sight, Sight::Full { disclosed: true });
        assert_eq!(shown.subject, "Personal file of Dr. Rashad Mammadov");
        let mut internal = personal_file();
        internal.confidentiality = "internal".into();
        let (internal, sight) = internal.seen_by(&Viewer::console_list());
        assert_eq!((internal.subject.as_str(), sight), ("Personal file of Dr. Rashad Mammadov", Sight::Full { disclosed: false }));
        let mut damaged = personal_file();
        damaged.confidentiality = "top".into();
        assert_eq!(damaged.seen_by(&Viewer::console_list()).0.subject, "[top]", "an unknown level is hidden");
    }

    #[test]
    fn a_shared_room_gets_number_status_and_unit_only() {
        let d = personal_file().redacted();
        let card = card_text(&d, Sight::Redacted { ask_privately: true }, None, &[], ZONE, today());
        assert_eq!(card, "**IN-2026-000002** · registered · hr\n\nThis document is confidential: ask me in a direct message.");
    }

    #[test]
    fn the_uncleared_get_dates_and_never_notes() {
        let d = personal_file().redacted();
        let card = card_text(&d, Sight::Redacted { ask_privately: false }, None, &[], ZONE, today());
        assert!(card.contains("Due: 2026-11-23 (overdue by 8 days)") && card.contains("cleared for confidential"), "{card}");
        assert!(!card.contains("Mammadov") && !card.contains("Ministry") && !card.contains("history"), "{card}");
    }

    #[test]
    fn history_entries_read_as_changes() {
        let mut h = personal_file().history.unwrap().remove(0);
        (h.action, h.field, h.old_value, h.new_value) =
            ("changed".into(), Some("status".into()), Some("registered".into()), Some("closed".into()));
        assert_eq!(history_text(&h), "changed status: registered → closed");
        h.reason = Some("by phone".into());
        assert!(history_text(&h).ends_with("(by phone)"));
    }

    #[test]
    fn numbers_are_read_in_any_case_and_others_get_the_usage() {
        assert_eq!(number("in-2026-000001").unwrap(), "IN-2026-000001");
        assert!(matches!(number("foo"), Err(CommandError::Usage(m)) if m.contains("not a registration number")));
    }
}
