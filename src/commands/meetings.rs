//! `!meetings`: the meetings to come, soonest first.

use crate::core::meeting;

use super::{Args, Call, Outcome, Reply, table};

/// The most meetings one list shows.
const SHOWN: u32 = 50;

pub(super) async fn run(call: &Call<'_, '_>, args: Args) -> Outcome {
    args.finish()?;
    let meetings = call.store().meetings().upcoming(call.now(), SHOWN).await?;
    if meetings.is_empty() {
        return Ok(Reply::new("No meetings are coming up: `!meeting add TITLE at=DATETIME` sets one up."));
    }
    let mut rows = Vec::new();
    for m in &meetings {
        let items = call.store().meetings().agenda(m.id).await?.len();
        rows.push(vec![
            m.id.to_string(),
            meeting::local(m.starts_at, call.zone()),
            m.title.clone(),
            m.participants.len().to_string(),
            items.to_string(),
        ]);
    }
    Ok(Reply::new(table(&["ID", "when", "title", "participants", "agenda items"], &rows).trim_end()))
}
