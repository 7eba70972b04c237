//! `!remind`: personal reminders (`!remind me|@user|#room WHEN TEXT`), and ending or putting off
//! any reminder (`done`, `snooze`, `cancel`). When and how reminders fire is `core::remind`'s;
//! how WHEN and durations are read is `core::reminder_time`'s.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::core::remind::{Kind, Reminder};
use crate::core::reminder_time::{describe_moment, parse_duration, split_when};
use crate::core::viewer::Role;

use super::staff::is_matrix_id;
use super::{Args, Call, CommandError, Outcome, Reply};

/// The longest text a personal reminder carries, in characters.
const MAX_TEXT_CHARS: usize = 1000;

pub(super) async fn run(call: &Call<'_, '_>, mut args: Args) -> Outcome {
    let first = args.word("whom to remind (me, @user:server or #room:server), or cancel, done or snooze")?;
    match first.as_str() {
        "cancel" | "done" | "snooze" => settle(call, &first, args).await,
        _ => set(call, &first, args).await,
    }
}

/// Where a personal reminder goes.
enum Target {
    Me,
    Person(String),
    Room(String),
}

async fn set(call: &Call<'_, '_>, whom: &str, mut args: Args) -> Outcome {
    let target = match whom {
        "me" => Target::Me,
        person if person.starts_with('@') => {
            if !is_matrix_id(person) {
                return Err(CommandError::Usage(format!("'{person}' is not a Matrix ID (like @name:uni.example)")));
            }
            if call.store().staff().find(person).await?.is_none() {
                return Err(CommandError::Refused(format!(
                    "{person} is not in the staff directory: I remind only staff (`!staff` lists them)."
                )));
            }
            if person == call.actor() { Target::Me } else { Target::Person(person.to_string()) }
        }
        room if is_room(room) => Target::Room(room.to_string()),
        other => {
            return Err(CommandError::Usage(format!(
                "{} is not whom to remind: use me, a Matrix ID (@name:server) or a room (#alias:server or !id:server)",
                crate::core::markdown::code(other)
            )));
        }
    };
    let zone = own_zone(call).await?;
    let when = args.word("WHEN (a date and time, such as tomorrow 9:00)")?;
    let rest = args.rest();
    // A quoted WHEN is one word with a space in it: it is all of WHEN. Unquoted, WHEN takes as
    // many of the words as still form a date and time.
    let (due_at, text) = if when.contains(char::is_whitespace) {
        let words: Vec<&str> = when.split_whitespace().collect();
        let (due_at, taken) = split_when(&words, call.now(), zone).map_err(CommandError::usage)?;
        if taken < words.len() {
            return Err(CommandError::Usage(format!(
                "\"{when}\" is not a date and time: use 2026-12-15 14:30, tomorrow 9:00, friday, in 2 hours"
            )));
        }
        (due_at, rest)
    } else {
        let mut words = vec![when.as_str()];
        words.extend(rest.split_whitespace());
        let (due_at, taken) = split_when(&words, call.now(), zone).map_err(CommandError::usage)?;
        (due_at, words[taken..].join(" "))
    };
    let text = text.trim();
    if text.is_empty() {
        return Err(CommandError::Usage("TEXT is missing: what should the reminder say?".into()));
    }
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(CommandError::Usage(format!("the text is longer than {MAX_TEXT_CHARS} characters")));
    }
    if due_at <= call.now() {
        return Err(CommandError::Refused(format!(
            "{} is in the past (it is {} now); nothing was set.",
            describe_moment(due_at, zone),
            call.now().with_timezone(&zone).format("%a %Y-%m-%d %H:%M")
        )));
    }
    let (stored_target, told) = match &target {
        Target::Me => (call.actor().to_string(), "I will remind you".to_string()),
        Target::Person(mxid) => (mxid.clone(), format!("I will remind {mxid} (a direct message)")),
        Target::Room(room) => (room.clone(), format!("I will say it in {room}")),
    };
    let id = call.store().reminders().add_personal(call.actor(), &stored_target, due_at, text, call.now()).await?;
    Ok(Reply::new(format!(
        "Reminder {id} set for {}: {told}: “{}”. `!remind cancel {id}` cancels it.",
        describe_moment(due_at, zone),
        crate::core::markdown::literal(text)
    )))
}

/// `done`, `snooze` and `cancel`: on a reminder the person may settle.
async fn settle(call: &Call<'_, '_>, what: &str, mut args: Args) -> Outcome {
    let id = reminder_id(&args.word("ID")?)?;
    let snooze_for =
        if what == "snooze" { Some(parse_duration(&args.word("how long (30m, 2h, 2d, 1w)")?).map_err(CommandError::usage)?) } else { None };
    args.finish()?;
    let record = call.store().reminders().get(id).await?;
    let reminder = &record.reminder;
    let office_unit = call.reminder_policy().office_unit.clone();
    if !may_settle(call, reminder, &office_unit) {
        return Err(CommandError::Refused(if reminder.kind == Kind::Personal {
            format!("Reminder {id} is not yours: only the person who set it (or an admin) may change it.")
        } else {
            format!(
                "Reminder {id} is not yours: only its owner ({}), a manager of {office_unit}, a registrar or an admin may change it.",
                reminder.owner
            )
        }));
    }
    let zone = own_zone(call).await?;
    match (what, snooze_for) {
        ("cancel", _) => {
            if reminder.kind != Kind::Personal {
                return Err(CommandError::Refused(format!(
                    "Reminder {id} is a {} reminder, not a personal one: `!remind done {id}` ends it.",
                    reminder.kind.as_str()
                )));
            }
            call.store().reminders().close(id, "cancelled", call.actor(), call.now()).await?;
            Ok(Reply::new(format!("Reminder {id} is cancelled: {}.", about(reminder))))
        }
        ("snooze", Some(length)) => {
            let until = call.now() + length;
            if until < reminder.due_at && record.status == "active" {
                return Err(CommandError::Refused(format!(
                    "Reminder {id} fires next on {}, later than that already; nothing was changed.",
                    describe_moment(reminder.due_at, zone)
                )));
            }
            call.store().reminders().snooze(id, until).await?;
            let after = if reminder.kind == Kind::Personal { "" } else { " and then goes on as before" };
            Ok(Reply::new(format!("Reminder {id} is put off until {}{after}: {}.", describe_moment(until, zone), about(reminder))))
        }
        _ => {
            call.store().reminders().close(id, "done", call.actor(), call.now()).await?;
            Ok(Reply::new(format!("Reminder {id} is done and fires no more: {}.", about(reminder))))
        }
    }
}

/// Its owner, an admin; for a reminder about a matter (a visa, an agreement, a letter, a
/// follow-up) also the office unit's managers and the registrars. A personal reminder is its
/// owner's.
fn may_settle(call: &Call<'_, '_>, reminder: &Reminder, office_unit: &str) -> bool {
    let member = &call.viewer.member;
    if reminder.owner == member.id || member.role.reaches(Role::Admin) {
        return true;
    }
    if reminder.kind == Kind::Personal {
        return false;
    }
    member.role.reaches(Role::Registrar) || (member.role.reaches(Role::Manager) && member.unit == office_unit)
}

/// What a reminder is about, in one line (`!reminders`, replies).
pub(super) fn about(reminder: &Reminder) -> String {
    let subject = reminder.subject_id.map(|id| id.to_string()).unwrap_or_else(|| "?".into());
    let deadline = reminder.deadline.map(|day| day.to_string()).unwrap_or_else(|| "?".into());
    match reminder.kind {
        Kind::Personal => {
            let text = format!("“{}”", crate::core::markdown::literal(reminder.body.as_deref().unwrap_or_default()));
            match reminder.target.as_deref() {
                Some(target) if target != reminder.owner => format!("{text} for {target}"),
                _ => text,
            }
        }
        Kind::VisaApplyBy => format!("visa case {subject}: apply by {deadline} (`!visa show {subject}`)"),
        Kind::VisaExpiry => format!("visa case {subject}: the visa expires on {deadline} (`!visa show {subject}`)"),
        Kind::AgreementEnd => format!("agreement {subject}: ends on {deadline}"),
        Kind::AgreementNotice => format!("agreement {subject}: notice by {deadline}"),
        Kind::LetterDue => format!("a letter (document {subject}): due on {deadline}"),
        Kind::LetterOverdue => format!("a letter (document {subject}): overdue since {deadline}"),
        Kind::FollowUp => format!("contact {subject}: follow up by {deadline}"),
        Kind::Digest => format!("the weekly digest of {}", reminder.subject_key.as_deref().unwrap_or("a unit")),
        Kind::AgendaPack => format!("the agenda pack of meeting {subject}"),
    }
}

/// The asker's own zone (`staff.timezone`), else the office's.
pub(super) async fn own_zone(call: &Call<'_, '_>) -> Result<Tz, CommandError> {
    Ok(call.store().staff().reach(call.actor()).await?.zone().unwrap_or_else(|| call.zone()))
}

/// A room ID (`!id:server`) or alias (`#name:server`).
fn is_room(text: &str) -> bool {
    let Some(rest) = text.strip_prefix('#').or_else(|| text.strip_prefix('!')) else { return false };
    matches!(rest.split_once(':'), Some((local, server)) if !local.is_empty() && !server.is_empty()) && !text.contains(char::is_whitespace)
}

fn reminder_id(text: &str) -> Result<i64, CommandError> {
    text.trim_start_matches('#')
        .parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| CommandError::Usage(format!("'{text}' is not a reminder number")))
}

/// When a reminder fires next, as `!reminders` shows it.
pub(super) fn when(at: DateTime<Utc>, zone: Tz) -> String {
    at.with_timezone(&zone).format("%a %Y-%m-%d %H:%M").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rooms_are_ids_or_aliases_with_a_server() {
        assert!(is_room("#iro:uni.example"));
        assert!(is_room("!abc123:uni.example"));
        assert!(!is_room("#iro"));
        assert!(!is_room("!:uni.example"));
        assert!(!is_room("iro:uni.example"));
    }
}
