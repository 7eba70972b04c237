//! `!calendar`: the address of your own calendar of deadlines, and replacing it when it has
//! been passed on. The address is a secret (anyone who has it reads the calendar), so it is
//! given only in a direct message.

use crate::core::viewer::Audience;

use super::{Args, Call, CommandError, Outcome, Reply};

pub(super) async fn run(call: &Call<'_, '_>, mut args: Args) -> Outcome {
    let action = args.optional_word();
    args.finish()?;
    let replace = match action.as_deref().map(str::to_lowercase).as_deref() {
        None => false,
        Some("revoke") => true,
        Some(other) => {
            return Err(CommandError::Usage(format!("{} is not a subcommand of !calendar (revoke)", crate::core::markdown::code(other))));
        }
    };
    if call.request.audience == Audience::Shared {
        return Err(CommandError::Refused(
            "Your calendar's address is a secret: anyone who has it reads your deadlines. Ask me in a direct message.".into(),
        ));
    }
    let http = &call.context.settings.http;
    if !http.enabled || http.calendar_url("x").is_none() {
        return Err(CommandError::Refused(
            "Calendar feeds are not published here: an administrator turns them on with http.enabled and http.public_url.".into(),
        ));
    }
    let calendar = call.store().calendar();
    let secret = if replace { calendar.replace_secret(call.actor()).await? } else { calendar.secret(call.actor()).await? };
    let url = http.calendar_url(&secret).unwrap_or_default();
    let lead = if replace {
        "Your calendar has a new address; the old one no longer works. Subscribe to the new one:"
    } else {
        "Your calendar of deadlines (visas, agreements, letters due, your meetings), for any calendar app that subscribes by URL:"
    };
    Ok(Reply::new(format!(
        "{lead}\n\n{url}\n\nKeep it to yourself: whoever has it reads your calendar. If it has been passed on, `!calendar revoke` gives you a new one."
    )))
}
