//! `!abroad`: who travels where on a day, from the open visa and travel cases, with how to
//! reach them, for the office's emergency duty; `!abroad notify COUNTRY TEXT` sends everyone
//! on staff travelling in a country today one direct message (managers).

use chrono::NaiveDate;

use crate::core::dates::parse_date;
use crate::core::markdown;
use crate::core::partner::country;
use crate::core::remind::days_phrase;
use crate::core::viewer::Role;
use crate::core::visa::VisaCase;

use super::{Args, Call, CommandError, Outcome, Reply, markdown_table};

/// The longest message `!abroad notify` sends, in characters.
const MAX_TEXT_CHARS: usize = 2000;

pub(super) async fn run(call: &Call<'_, '_>, mut args: Args) -> Outcome {
    let first = args.optional_word();
    if first.as_deref() == Some("notify") {
        return notify(call, args).await;
    }
    let rest = args.rest();
    let today = today(call);
    // `!abroad in 3 days` is a date; `!abroad IN` and `!abroad IN in 3 days` name India.
    let words: Vec<&str> = first.iter().map(String::as_str).chain(rest.split_whitespace()).collect();
    let (country, day) = match (words.split_first(), parse_date(&words.join(" "), today)) {
        (None, _) => (None, today),
        (Some(_), Ok(day)) => (None, day),
        (Some((first, date)), Err(_)) => {
            let code = country(first).map_err(|problem| CommandError::Usage(format!("{problem}; or give a date")))?;
            let day = if date.is_empty() { today } else { parse_date(&date.join(" "), today).map_err(CommandError::usage)? };
            (Some(code), day)
        }
    };
    let cases = call.store().visas().abroad_on(day, country.as_deref()).await?;
    let place = country.as_deref().map(|code| format!("in {code}")).unwrap_or_else(|| "abroad".into());
    let on = format!("{day} ({})", days_phrase(day, today));
    if cases.is_empty() {
        return Ok(Reply::new(format!("Nobody is {place} on {on}, as far as the open visa and travel cases tell.")));
    }
    let mut rows = Vec::new();
    for case in &cases {
        rows.push(vec![
            markdown::literal(&case.trip.traveller),
            markdown::literal(&case.trip.country),
            format!("{} – {}", case.trip.travel_from, case.trip.travel_to),
            markdown::literal(&contact(call, case).await?),
            format!("`!visa show {}`", case.id),
        ]);
    }
    Ok(Reply::new(format!(
        "{} {place} on {on}:\n\n{}",
        people(cases.len()),
        markdown_table(&["traveller", "country", "travel", "contact", "case"], &rows)
    )))
}

/// `!abroad notify COUNTRY TEXT`: one direct message to each traveller on staff in the country
/// today, all written together; the reply names who could not be told.
async fn notify(call: &Call<'_, '_>, mut args: Args) -> Outcome {
    call.require(Role::Manager)?;
    let code = country(&args.word("COUNTRY")?).map_err(CommandError::usage)?;
    let text = args.rest();
    let text = text.trim();
    if text.is_empty() {
        return Err(CommandError::Usage("TEXT is missing: what should the travellers be told?".into()));
    }
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(CommandError::Usage(format!("the text is longer than {MAX_TEXT_CHARS} characters")));
    }
    let today = today(call);
    let cases = call.store().visas().abroad_on(today, Some(&code)).await?;
    if cases.is_empty() {
        return Err(CommandError::Refused(format!(
            "Nobody is in {code} today ({today}), as far as the open visa and travel cases tell; nothing was sent."
        )));
    }
    let (on_staff, not_on_staff): (Vec<&VisaCase>, Vec<&VisaCase>) = cases.iter().partition(|case| case.trip.traveller_mxid.is_some());
    let mxids: Vec<String> = on_staff.iter().filter_map(|case| case.trip.traveller_mxid.clone()).collect();
    let message = format!(
        "📢 **To everyone travelling in {code}**, from {} ({}):\n\n{}",
        markdown::literal(&call.viewer.member.name),
        call.actor(),
        markdown::literal(text)
    );
    let told = if mxids.is_empty() { 0 } else { call.store().staff().message_each(&mxids, &message, call.now()).await? };
    let mut reply = if told == 0 {
        format!("Nobody in {code} could be told: no traveller there today is on staff.")
    } else {
        let mut names: Vec<String> = on_staff
            .iter()
            .map(|case| {
                format!("{} ({})", markdown::literal(&case.trip.traveller), case.trip.traveller_mxid.as_deref().unwrap_or_default())
            })
            .collect();
        names.dedup();
        format!("Told {} in {code} by direct message: {}.", people(told), names.join(", "))
    };
    if !not_on_staff.is_empty() {
        let names: Vec<String> =
            not_on_staff.iter().map(|case| format!("{} (visa case {})", markdown::literal(&case.trip.traveller), case.id)).collect();
        reply.push_str(&format!(
            "\n\nCould not tell {} (not on staff; reach them another way): {}.",
            people(not_on_staff.len()),
            names.join(", ")
        ));
    }
    Ok(Reply::new(reply))
}

/// The traveller's Matrix ID and address when they are on staff.
async fn contact(call: &Call<'_, '_>, case: &VisaCase) -> Result<String, CommandError> {
    let Some(mxid) = &case.trip.traveller_mxid else { return Ok("not on staff".into()) };
    let reach = call.store().staff().reach(mxid).await?;
    Ok(match reach.email {
        Some(email) => format!("{mxid}, {email}"),
        None => mxid.clone(),
    })
}

fn people(count: usize) -> String {
    if count == 1 { "1 person".into() } else { format!("{count} people") }
}

fn today(call: &Call<'_, '_>) -> NaiveDate {
    call.now().with_timezone(&call.zone()).date_naive()
}
