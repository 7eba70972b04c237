//! `!agreement`: international agreements with partner institutions. Any staff member may add
//! and show one; renewing it (which moves its end and replaces its reminders) and ending it
//! early (which closes them) are for managers.
//! What a new agreement and a renewal must satisfy, and the card, are `core::agreement`'s.

use chrono::NaiveDate;

use crate::core::agreement::{self, Agreement, Draft, ScheduledReminder, letter_numbers, new_agreement};
use crate::core::dates::parse_date;
use crate::core::markdown;
use crate::core::reference::Reference;
use crate::core::viewer::Role;
use crate::store::{AGREEMENT_REMINDERS, StoreError};

use super::partner::known;
use super::{Args, Call, CommandError, Outcome, Reply};

pub(super) async fn run(call: &Call<'_, '_>, mut args: Args) -> Outcome {
    match args.word("what to do (add, show, renew or end)")?.to_ascii_lowercase().as_str() {
        "add" => add(call, args).await,
        "show" => {
            let id = agreement_id(&args.word("ID")?)?;
            args.finish()?;
            let agreement = call.store().agreements().get(id).await?;
            Ok(Reply::new(card(call, &agreement).await?))
        }
        "renew" => renew(call, args).await,
        "end" => end(call, args).await,
        other => Err(CommandError::Usage(format!(
            "{} is not a subcommand of !agreement (add, show, renew, end)",
            crate::core::markdown::code(other)
        ))),
    }
}

async fn add(call: &Call<'_, '_>, mut args: Args) -> Outcome {
    let handle = args.word("HANDLE (the partner, as `!partners` lists it)")?;
    let kind = args.required_option("kind")?;
    let start = args.required_option("start")?;
    let end = args.required_option("end")?;
    let notice = args.option("notice");
    let letters = all_letters(&mut args);
    args.finish()?;

    let today = today(call);
    let (start, end) = (date("start", &start, today)?, date("end", &end, today)?);
    let partner = known(call, &handle).await?;
    let draft = Draft { partner: &partner.handle, kind: &kind, start, end, notice: notice.as_deref(), letters: &letters };
    let terms = new_agreement(draft, today).map_err(CommandError::refusal)?;
    let added = call.store().agreements().add(call.reminder_policy(), &terms, call.actor(), call.now()).await;
    let id = added.map_err(letter_not_held)?;
    let agreement = call.store().agreements().get(id).await?;
    Ok(Reply::new(format!("Agreement {id} is recorded.\n\n{}", card(call, &agreement).await?)))
}

async fn renew(call: &Call<'_, '_>, mut args: Args) -> Outcome {
    call.require(Role::Manager)?;
    let id = agreement_id(&args.word("ID")?)?;
    let end = args.required_option("end")?;
    let letters = all_letters(&mut args);
    args.finish()?;
    let today = today(call);
    let end = date("end", &end, today)?;
    let letters = letter_numbers(&letters).map_err(CommandError::refusal)?;
    let agreement = call
        .store()
        .agreements()
        .renew(call.reminder_policy(), id, end, &letters, call.actor(), today, call.now())
        .await
        .map_err(letter_not_held)?;
    let previous = agreement.renewal.as_ref().map(|r| format!(" (it was to end on {})", r.previous_end)).unwrap_or_default();
    Ok(Reply::new(format!(
        "Agreement {id} is renewed until {end}{previous}; its reminders are rescheduled.\n\n{}",
        card(call, &agreement).await?
    )))
}

/// `!agreement end ID DATE reason=…`: for managers, as a renewal is.
async fn end(call: &Call<'_, '_>, mut args: Args) -> Outcome {
    call.require(Role::Manager)?;
    let id = agreement_id(&args.word("ID")?)?;
    let reason = args.required_option("reason")?;
    let on = args.rest();
    if on.trim().is_empty() {
        return Err(CommandError::Usage("the DATE it ends on is missing".into()));
    }
    let on = parse_date(&on, today(call)).map_err(|problem| CommandError::Usage(format!("DATE: {problem}")))?;
    let agreement = call.store().agreements().end(id, on, &reason, call.actor(), call.now()).await?;
    Ok(Reply::new(format!("Agreement {id} ends on {on}; its reminders are closed.\n\n{}", card(call, &agreement).await?)))
}

/// Each `letter=` given (it may be repeated), as typed.
fn all_letters(args: &mut Args) -> Vec<String> {
    std::iter::from_fn(|| args.option("letter")).collect()
}

/// The card with the agreement's reminders still to come.
async fn card(call: &Call<'_, '_>, agreement: &Agreement) -> Result<String, CommandError> {
    let reminders = call.store().reminders().of_subject(&AGREEMENT_REMINDERS, agreement.id).await?;
    let reminders: Vec<ScheduledReminder> =
        reminders.iter().map(|r| &r.reminder).map(|r| ScheduledReminder { id: r.id, kind: r.kind, due_at: r.due_at }).collect();
    Ok(agreement::card(agreement, &reminders, today(call), call.zone()))
}

fn date(key: &str, text: &str, today: NaiveDate) -> Result<NaiveDate, CommandError> {
    parse_date(text, today).map_err(|problem| CommandError::Usage(format!("{key}=: {problem}")))
}

fn agreement_id(text: &str) -> Result<i64, CommandError> {
    text.trim_start_matches('#')
        .parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| CommandError::Usage(format!("'{text}' is not an agreement number")))
}

fn today(call: &Call<'_, '_>) -> NaiveDate {
    call.now().with_timezone(&call.zone()).date_naive()
}

/// The documents an agreement names are its letters: a missing one is said so.
fn letter_not_held(error: StoreError) -> CommandError {
    match error {
        StoreError::NotFound(Reference::Document(number)) => {
            CommandError::NotFound(format!("There is no letter {} in the register.", markdown::literal(&number)))
        }
        other => other.into(),
    }
}
