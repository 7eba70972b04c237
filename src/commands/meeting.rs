//! `!meeting`: a meeting, who takes part, and when its agenda pack goes out. Any staff member
//! may set one up; its participants must be in the staff directory. The rules (a title, a time
//! not in the past, Matrix IDs) are `core::meeting`'s; the pack is sent by the scheduler a
//! configurable time before the meeting (`[reminders] agenda_pack_hours_before`).

use crate::core::dates::parse_moment;
use crate::core::markdown;
use crate::core::meeting::{self, Meeting, check_start, check_title, parse_participants};
use crate::core::viewer::Role;
use crate::store::NewMeeting;

use super::{Args, Call, CommandError, Outcome, Reply};

pub(super) async fn run(call: &Call<'_, '_>, mut args: Args) -> Outcome {
    match args.word("what to do (add, show or cancel)")?.as_str() {
        "add" => add(call, args).await,
        "cancel" => {
            let id = meeting_id(&args.word("ID")?)?;
            let reason = args.rest();
            cancel(call, id, Some(reason.as_str()).filter(|r| !r.trim().is_empty())).await
        }
        "show" => {
            let id = meeting_id(&args.word("ID")?)?;
            args.finish()?;
            let meeting = call.store().meetings().get(id).await?;
            Ok(Reply::new(card(call, &meeting).await?))
        }
        other => {
            Err(CommandError::Usage(format!("{} is not a subcommand of !meeting (add, show, cancel)", crate::core::markdown::code(other))))
        }
    }
}

async fn add(call: &Call<'_, '_>, mut args: Args) -> Outcome {
    let title = args.word("TITLE (one word or \"a quoted title\")")?;
    let at = args.required_option("at")?;
    let participants = args.option("participants");
    args.finish()?;
    let title = check_title(&title).map_err(CommandError::usage)?;
    let starts_at = parse_moment(&at, call.now(), call.zone()).map_err(|problem| CommandError::Usage(format!("at=: {problem}")))?;
    check_start(starts_at, call.now(), call.zone()).map_err(|problem| CommandError::Refused(problem.to_string()))?;
    // Without participants=, the one who sets the meeting up is its only participant.
    let participants = match participants {
        Some(text) => parse_participants(&text).map_err(CommandError::usage)?,
        None => vec![call.actor().to_string()],
    };
    for mxid in &participants {
        if call.store().staff().find(mxid).await?.is_none() {
            return Err(CommandError::Refused(format!(
                "{mxid} is not in the staff directory (`!staff` lists who is); nothing was stored."
            )));
        }
    }
    let id = call
        .store()
        .meetings()
        .add(call.reminder_policy(), &NewMeeting { title, starts_at, participants }, call.actor(), call.now())
        .await?;
    let meeting = call.store().meetings().get(id).await?;
    Ok(Reply::new(format!(
        "Meeting {id} is set. `!agenda add {id} NUMBER TEXT` puts a document on its agenda.\n\n{}",
        card(call, &meeting).await?
    )))
}

/// Calls a meeting off: the one who set it up, or a manager (or the registry).
async fn cancel(call: &Call<'_, '_>, id: i64, reason: Option<&str>) -> Outcome {
    let meeting = call.store().meetings().get(id).await?;
    if meeting.created_by != call.actor() && !call.viewer.may(Role::Manager) {
        return Err(CommandError::Refused(format!(
            "Only {} who set meeting {id} up, or a manager, may cancel it; nothing changed.",
            meeting.created_by
        )));
    }
    let meeting = call.store().meetings().cancel(call.reminder_policy(), id, reason, call.actor(), call.now()).await?;
    let told = match meeting.participants.len() {
        1 => "its participant is told".to_string(),
        n => format!("its {n} participants are told"),
    };
    Ok(Reply::new(format!("Meeting {id} ({}) is cancelled; {told}, and its agenda pack will not be sent.", meeting.title)))
}

/// A meeting: when, who, how long its agenda is, and its agenda pack.
pub(super) async fn card(call: &Call<'_, '_>, meeting: &Meeting) -> Result<String, CommandError> {
    let mut people = Vec::new();
    for mxid in &meeting.participants {
        people.push(match call.store().staff().find(mxid).await? {
            Some(member) => format!("{} ({mxid})", markdown::literal(&member.name)),
            None => format!("{mxid} (no longer in the staff directory)"),
        });
    }
    let items = call.store().meetings().agenda(meeting.id).await?.len();
    let pack = match (call.store().meetings().pack_due(meeting.id).await?, &meeting.cancelled) {
        (Some(at), _) => format!("goes out {} to each participant", meeting::local(at, call.zone())),
        (None, Some(_)) => "not sent (cancelled)".to_string(),
        (None, None) => "sent".to_string(),
    };
    let cancelled = match &meeting.cancelled {
        Some(c) => format!(
            "\n- **cancelled** by {} on {}{}",
            c.by,
            meeting::local(c.at, call.zone()),
            c.reason.as_deref().map(|r| format!(": {r}")).unwrap_or_default()
        ),
        None => String::new(),
    };
    Ok(format!(
        "**Meeting {}**: {}\n- participants: {}\n- agenda: {items} item{} (`!agenda {}`)\n- agenda pack: {pack}\n- set up by {} on {}{cancelled}",
        meeting.id,
        markdown::literal(&meeting::headline(meeting, call.zone())),
        people.join(", "),
        if items == 1 { "" } else { "s" },
        meeting.id,
        meeting.created_by,
        meeting::local(meeting.created_at, call.zone()),
    ))
}

/// A meeting's id as typed (`3` or `#3`), or the usage.
pub(super) fn meeting_id(word: &str) -> Result<i64, CommandError> {
    word.trim_start_matches('#')
        .parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| CommandError::Usage(format!("'{word}' is not the number of a meeting (such as 3)")))
}
