//! `!agenda`: a meeting's agenda, each item with its document's card as `!doc` shows it (so a
//! restricted document shows only what the viewer may see), and adding registered documents to
//! it. Only what the person adding may read in full goes on an agenda; the agenda pack sends each
//! participant only what they may read.

use crate::core::markdown;
use crate::core::meeting::{self, check_item_text};
use crate::core::number::RegistrationNumber;
use crate::core::viewer::{Audience, Role, Sight, Viewer};
use crate::store::StoreError;

use super::meeting::meeting_id;
use super::{Args, Call, CommandError, Outcome, Reply, doc};

pub(super) async fn run(call: &Call<'_, '_>, mut args: Args) -> Outcome {
    let first = args.word("MEETING (its number, such as 3), add or remove")?;
    if first.eq_ignore_ascii_case("add") {
        return add(call, args).await;
    }
    if first.eq_ignore_ascii_case("remove") {
        return remove(call, args).await;
    }
    let id = meeting_id(&first)?;
    args.finish()?;
    show(call, id).await
}

async fn add(call: &Call<'_, '_>, mut args: Args) -> Outcome {
    let id = meeting_id(&args.word("MEETING")?)?;
    let number = args.word("NUMBER (a registration number such as IN-2026-000001)")?;
    let number = number.parse::<RegistrationNumber>().map_err(CommandError::usage)?.to_string();
    let text = check_item_text(&args.rest()).map_err(CommandError::usage)?;
    let meeting = call.store().meetings().get(id).await?;
    if meeting.starts_at <= call.now() {
        return Err(CommandError::Refused(format!(
            "Meeting {id} began on {}; its agenda is closed. Nothing was added.",
            meeting::local(meeting.starts_at, call.zone())
        )));
    }
    let document = match call.store().document(&number).await {
        Ok(document) => document,
        Err(StoreError::NotFound(_)) => {
            return Err(CommandError::NotFound(format!("There is no document {number} in the register; nothing was added.")));
        }
        Err(other) => return Err(other.into()),
    };
    // What you may not read you may not hand round either.
    if let Sight::Redacted { .. } = Viewer::new(call.viewer.member.clone(), Audience::Private).sight(document.restriction()) {
        return Err(CommandError::Refused(format!(
            "You may not read {number} ({}, {}), so you may not put it on an agenda; nothing was added. A registrar may.",
            document.confidentiality, document.unit
        )));
    }
    let item = call.store().meetings().add_item(id, &number, &text, call.actor(), call.now()).await?;
    let about = if item.text.is_empty() { number.clone() } else { format!("{} ({number})", markdown::literal(&item.text)) };
    let late = match call.store().meetings().pack_due(id).await? {
        Some(_) => String::new(),
        None => " The agenda pack went out already: this item is not in it.".to_string(),
    };
    Ok(Reply::new(format!("Item {} on the agenda of meeting {id} ({}): {about}.{late}", item.position, markdown::literal(&meeting.title))))
}

/// Takes an item off: who added it, who set the meeting up, or a manager (or the registry).
async fn remove(call: &Call<'_, '_>, mut args: Args) -> Outcome {
    let id = meeting_id(&args.word("MEETING")?)?;
    let item = args.word("ITEM (its number on the agenda, such as 2)")?;
    args.finish()?;
    let position = item
        .trim_start_matches('#')
        .parse::<u32>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| CommandError::Usage(format!("'{item}' is not the number of an agenda item (such as 2)")))?;
    let meeting = call.store().meetings().get(id).await?;
    let added_by = call.store().meetings().agenda(id).await?.into_iter().find(|i| i.position == position).map(|i| i.added_by);
    let actor = call.actor();
    if meeting.created_by != actor && added_by.as_deref() != Some(actor) && !call.viewer.may(Role::Manager) {
        return Err(CommandError::Refused(format!(
            "Only who added item {position}, {} who set meeting {id} up, or a manager may remove it; nothing changed.",
            meeting.created_by
        )));
    }
    let removed = call.store().meetings().remove_item(id, position, actor, call.now()).await?;
    Ok(Reply::new(format!("Item {position} ({}) is off the agenda of meeting {id} ({}).", removed.number, meeting.title)))
}

async fn show(call: &Call<'_, '_>, id: i64) -> Outcome {
    let meeting = call.store().meetings().get(id).await?;
    let items = call.store().meetings().agenda(id).await?;
    let mut out = format!("**Agenda of meeting {id}**: {}", markdown::literal(&meeting::headline(&meeting, call.zone())));
    if items.is_empty() {
        out.push_str(&format!("\n\nNothing on it yet: `!agenda add {id} NUMBER TEXT` adds a document."));
        return Ok(Reply::new(out));
    }
    for item in &items {
        let title = if item.text.is_empty() { item.number.clone() } else { markdown::literal(&item.text) };
        let card = match doc::card(call, &item.number).await {
            Ok(card) => card.markdown,
            Err(CommandError::NotFound(text)) => text,
            Err(other) => return Err(other),
        };
        out.push_str(&format!("\n\n### {}. {title}\n\n{card}", item.position));
    }
    Ok(Reply::new(out))
}
