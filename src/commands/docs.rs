//! `!docs`: lists of documents: a search, the caller's, a unit's open ones, the overdue ones.
//! Each document in a list is shown as the `Viewer` allows, as on its card.

use crate::core::status::days_overdue;
use crate::core::viewer::Sight;
use crate::store::DocumentRecord;

use super::{Args, Call, CommandError, Outcome, Reply, table};
use crate::core::time::local;

/// Rows a list shows; more would not be read in a chat.
const SHOWN: usize = 20;

pub(super) async fn run(call: &Call<'_, '_>, mut args: Args) -> Outcome {
    let documents = call.store().documents();
    match args.word("what to list (search TEXT, mine, unit [UNIT] or overdue)")?.to_ascii_lowercase().as_str() {
        "search" => {
            let text = args.rest();
            if text.trim().is_empty() {
                return Err(CommandError::Usage("the TEXT to search for is missing".into()));
            }
            let mut found = call.store().search(&text).await?;
            let more = found.len().saturating_sub(SHOWN);
            found.truncate(SHOWN);
            let note = (more > 0).then(|| format!("…and {more} more: add words to narrow the search."));
            listing(call, found, &format!("Nothing in the register matches “{}”.", crate::core::markdown::literal(&text)), note).await
        }
        "mine" => {
            args.finish()?;
            let found = documents.assigned_to(call.actor(), SHOWN + 1).await?;
            listing(call, found, "Nothing open is assigned to you.", None).await
        }
        "unit" => {
            let unit = match args.optional_word() {
                Some(typed) => super::staff::known_unit(call, &typed)?,
                None => call.viewer.member.unit.clone(),
            };
            args.finish()?;
            let found = documents.open_of_unit(&unit, SHOWN + 1).await?;
            listing(call, found, &format!("{unit} has no open documents."), None).await
        }
        "overdue" => {
            args.finish()?;
            let found = documents.overdue(today(call), SHOWN + 1).await?;
            listing(call, found, "No open document is overdue.", None).await
        }
        other => Err(CommandError::Usage(format!("{} is not a subcommand of !docs", crate::core::markdown::code(other)))),
    }
}

fn today(call: &Call<'_, '_>) -> chrono::NaiveDate {
    call.now().with_timezone(&call.zone()).date_naive()
}

/// A table of the documents, newest first, each as the viewer may see it (disclosures
/// recorded); `SHOWN` at most, with `note` under it, or a note that there are more.
async fn listing(call: &Call<'_, '_>, documents: Vec<DocumentRecord>, empty: &str, note: Option<String>) -> Outcome {
    if documents.is_empty() {
        return Ok(Reply::new(empty));
    }
    let note = note.or_else(|| (documents.len() > SHOWN).then(|| format!("Only the newest {SHOWN} are shown.")));
    let today = today(call);
    let mut rows = Vec::new();
    let mut ask_privately = false;
    for document in documents.into_iter().take(SHOWN) {
        let (d, sight) = call.store().documents().show(document, call.viewer, call.now()).await?;
        ask_privately |= sight == (Sight::Redacted { ask_privately: true });
        rows.push(row(&d, sight, call.zone(), today));
    }
    let mut out = table(&["number", "registered", "due", "status", "unit", "correspondent", "subject"], &rows);
    if ask_privately {
        out.push_str("\nRestricted documents show only their number, status and unit here: ask me in a direct message.\n");
    }
    if let Some(note) = note {
        out.push('\n');
        out.push_str(&note);
    }
    Ok(Reply::new(out.trim_end()))
}

/// One row; a restricted document in a shared room keeps its number, status and unit only.
fn row(d: &DocumentRecord, sight: Sight, zone: chrono_tz::Tz, today: chrono::NaiveDate) -> Vec<String> {
    if sight == (Sight::Redacted { ask_privately: true }) {
        return vec![
            d.number.clone(),
            String::new(),
            String::new(),
            d.status.clone(),
            d.unit.clone(),
            String::new(),
            format!("[{}]", d.confidentiality),
        ];
    }
    let due = match &d.due_on {
        Some(due) => match days_overdue(due, &d.status, today) {
            Some(days) => format!("{due} (late {days}d)"),
            None => due.clone(),
        },
        None => String::new(),
    };
    let registered = local(&d.registered_at, zone).split(' ').next().unwrap_or_default().to_string();
    let people = d.correspondents().iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
    vec![d.number.clone(), registered, due, d.status.clone(), d.unit.clone(), people, d.subject.clone()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::doc::tests::personal_file;

    const ZONE: chrono_tz::Tz = chrono_tz::Asia::Baku;

    fn today() -> chrono::NaiveDate {
        chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()
    }

    #[test]
    fn a_row_shows_what_the_viewer_may_see() {
        let full = row(&personal_file(), Sight::Full { disclosed: true }, ZONE, today());
        assert_eq!(full[..4], ["IN-2026-000002", "2026-11-16", "2026-11-23 (late 8d)", "registered"]);
        assert_eq!(full[5..], ["Ministry HR <hr@ministry.example>", "Personal file of Dr. Rashad Mammadov"]);
        let uncleared = row(&personal_file().redacted(), Sight::Redacted { ask_privately: false }, ZONE, today());
        assert_eq!(uncleared[5..], ["", "[confidential]"]);
        let shared = row(&personal_file().redacted(), Sight::Redacted { ask_privately: true }, ZONE, today());
        assert_eq!(shared, ["IN-2026-000002", "", "", "registered", "hr", "", "[confidential]"]);
    }
}
