//! `!contact HANDLE via=… TEXT [follow-up=DATE]`: logs a contact with a partner.

use chrono::NaiveDate;

use crate::core::dates::parse_date;
use crate::core::partner::NewContact;

use super::partner::known;
use super::{Args, Call, CommandError, Outcome, Reply};

pub(super) async fn run(call: &Call<'_, '_>, mut args: Args) -> Outcome {
    let handle = args.word("HANDLE")?;
    let via = args.required_option("via")?;
    let follow_up = args.option("follow-up");
    let summary = args.rest();
    let today = call.now().with_timezone(&call.zone()).date_naive();
    let follow_up = follow_up.map(|text| follow_up_date(&text, today)).transpose()?;
    let contact = NewContact::check(&via, &summary, follow_up, today).map_err(CommandError::usage)?;
    let partner = known(call, &handle).await?;
    let id = call.store().partners().add_contact(call.reminder_policy(), &partner.handle, &contact, call.actor(), call.now()).await?;
    let follow_up = match contact.follow_up {
        Some(day) => format!(" Follow-up on {day}: `!contacts due` lists it from that day."),
        None => String::new(),
    };
    Ok(Reply::new(format!(
        "Logged #{id}: {} with {} ({}).{follow_up}",
        contact.via.as_str(),
        partner.handle,
        crate::core::markdown::literal(&partner.name)
    )))
}

/// The follow-up day; `follow-up=next friday` without quotes arrives as `next`, so say how to
/// write a date of several words.
fn follow_up_date(text: &str, today: NaiveDate) -> Result<NaiveDate, CommandError> {
    parse_date(text, today).map_err(|problem| {
        CommandError::Usage(match text.trim().to_lowercase().as_str() {
            "next" | "in" => format!("{problem} (quote a date of several words: follow-up=\"next friday\")"),
            _ => problem.to_string(),
        })
    })
}
