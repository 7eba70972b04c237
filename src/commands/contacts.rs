//! `!contacts [HANDLE]`: the contact log, with the letters to and from partners' domains
//! joining it; `!contacts due`: follow-ups due today or earlier; `!contacts done ID`.

use crate::core::time::stamp;

use super::partner::{ASK_PRIVATELY, contact_row, follow_up_text, known, seen, when};
use super::{Args, Call, CommandError, Outcome, Reply, table};

/// Entries of the log shown, the newest.
const LOG_SHOWN: usize = 20;

pub(super) async fn run(call: &Call<'_, '_>, mut args: Args) -> Outcome {
    match args.optional_word() {
        Some(word) if word.eq_ignore_ascii_case("due") => {
            args.finish()?;
            due(call).await
        }
        Some(word) if word.eq_ignore_ascii_case("done") => {
            let typed = args.word("the contact's ID (#12)")?;
            args.finish()?;
            let id = typed
                .trim_start_matches('#')
                .parse::<i64>()
                .map_err(|_| CommandError::Usage(format!("'{typed}' is not a contact's ID (like #12)")))?;
            let contact = call.store().partners().settle_follow_up(id, call.actor(), call.now()).await?;
            let on = contact.follow_up.map(|day| day.to_string()).unwrap_or_default();
            Ok(Reply::new(format!("The follow-up of #{id} ({} with {}, on {on}) is done.", contact.via.as_str(), contact.handle)))
        }
        Some(handle) => {
            args.finish()?;
            let partner = known(call, &handle).await?;
            log(call, Some(&partner.handle)).await
        }
        None => log(call, None).await,
    }
}

/// Contacts and letters together, newest first.
async fn log(call: &Call<'_, '_>, handle: Option<&str>) -> Outcome {
    let partners = call.store().partners();
    let contacts = partners.contacts(handle, i64::try_from(LOG_SHOWN).unwrap_or(i64::MAX)).await?;
    let (letters, ask_privately) = seen(call, partners.letters(handle, LOG_SHOWN).await?).await?;
    // (sort key, row): stamps sort as time.
    let mut entries: Vec<(String, Vec<String>)> = Vec::with_capacity(contacts.len() + letters.len());
    for contact in &contacts {
        let mut row = contact_row(call, contact);
        row.insert(2, contact.handle.clone());
        entries.push((stamp(contact.at), row));
    }
    for letter in letters {
        let via = format!("letter {} ({})", letter.number, letter.direction);
        entries
            .push((letter.registered_at, vec![String::new(), letter.when, letter.handle, via, letter.subject, String::new(), letter.with]));
    }
    if entries.is_empty() {
        return Ok(Reply::new(match handle {
            Some(handle) => format!("Nothing logged with {handle} yet, and no letters to or from its domains."),
            None => "The contact log is empty: `!contact HANDLE via=call TEXT` logs a contact.".to_string(),
        }));
    }
    entries.sort_by(|a, b| b.0.cmp(&a.0));
    entries.truncate(LOG_SHOWN);
    let rows: Vec<Vec<String>> = entries.into_iter().map(|(_, row)| row).collect();
    let mut out = table(&["#", "when", "partner", "via", "what", "follow-up", "who"], &rows);
    if ask_privately {
        out.push_str(ASK_PRIVATELY);
    }
    Ok(Reply::new(out.trim_end()))
}

async fn due(call: &Call<'_, '_>) -> Outcome {
    let today = call.now().with_timezone(&call.zone()).date_naive();
    let due = call.store().partners().follow_ups_due(today).await?;
    if due.is_empty() {
        return Ok(Reply::new("No follow-ups are due."));
    }
    let rows: Vec<Vec<String>> = due
        .iter()
        .map(|c| {
            vec![
                format!("#{}", c.id),
                follow_up_text(call, c),
                c.handle.clone(),
                c.via.as_str().to_string(),
                c.summary.clone(),
                when(c.at, call.zone()),
                c.logged_by.clone(),
            ]
        })
        .collect();
    let mut out = table(&["#", "follow-up", "partner", "via", "what", "logged", "who"], &rows);
    out.push_str("\n`!contacts done ID` marks one done.");
    Ok(Reply::new(out))
}
