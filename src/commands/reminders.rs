//! `!reminders`: the asker's active reminders (personal ones and those about the matters they
//! are in charge of), soonest first, in their own zone.

use super::remind::{about, own_zone, when};
use super::{Args, Call, Outcome, Reply, markdown_table};

pub(super) async fn run(call: &Call<'_, '_>, args: Args) -> Outcome {
    args.finish()?;
    let reminders = call.store().reminders().of_owner(call.actor()).await?;
    if reminders.is_empty() {
        return Ok(Reply::new("You have no active reminders. `!remind me tomorrow 9:00 TEXT` sets one."));
    }
    let zone = own_zone(call).await?;
    let rows: Vec<Vec<String>> = reminders
        .iter()
        .map(|record| &record.reminder)
        .map(|reminder| vec![reminder.id.to_string(), when(reminder.due_at, zone), reminder.kind.as_str().to_string(), about(reminder)])
        .collect();
    Ok(Reply::new(format!(
        "Your active reminders (times in {}):\n\n{}\n`!remind done ID` ends one, `!remind snooze ID 2d` puts it off.",
        zone.name(),
        markdown_table(&["ID", "next", "kind", "about"], &rows)
    )))
}
