//! `!holds`: the active holds (a case, a document or a class nothing may dispose of), and for
//! registrars and admins `!holds place` and `!holds release`, each written to the history of
//! what it covers.

use crate::core::markdown;
use crate::core::number::RegistrationNumber;
use crate::store::{HoldRecord, HoldTarget};

use super::case::plan_in_force;
use super::{Args, Call, CommandError, Outcome, Reply, table};

pub(super) async fn run(call: &Call<'_, '_>, mut args: Args) -> Outcome {
    let plan = plan_in_force(call).await?;
    let Some(first) = args.optional_word() else { return list(call).await };
    match first.to_ascii_lowercase().as_str() {
        "place" => {
            let kind = args.word("what to hold (case, doc or class)")?;
            let name = args.word("the CASE, NUMBER or CODE")?;
            let reason = args.required_option("reason")?;
            args.finish()?;
            let target = match kind.to_ascii_lowercase().as_str() {
                "case" => HoldTarget::Case(name),
                "doc" | "document" => HoldTarget::Document(
                    name.parse::<RegistrationNumber>().map_err(CommandError::usage)?.to_string(),
                ),
                "class" => HoldTarget::Class(name),
                _ => return Err(CommandError::Usage(format!("{} is not case, doc or class", markdown::code(&kind)))),
            };
            let hold = call.store().archive().place_hold(plan, &target, &reason, &call.viewer.member, call.now()).await?;
            Ok(Reply::new(format!(
                "Hold {} placed on {}: {}. Nothing it covers can be disposed of until it is released.",
                hold.id,
                markdown::literal(&hold.covers()),
                markdown::literal(&hold.reason)
            )))
        }
        "release" => {
            let id = args.word("the hold's ID")?;
            let id: i64 = id.parse().map_err(|_| CommandError::Usage(format!("{} is not a hold's ID", markdown::code(&id))))?;
            let reason = args.required_option("reason")?;
            args.finish()?;
            let hold = call.store().archive().release_hold(id, &reason, &call.viewer.member, call.now()).await?;
            Ok(Reply::new(format!("Hold {} on {} released: {}.", hold.id, markdown::literal(&hold.covers()), markdown::literal(&reason))))
        }
        _ => Err(CommandError::Usage(format!("{} is not place or release", markdown::code(&first)))),
    }
}

async fn list(call: &Call<'_, '_>) -> Outcome {
    let holds = call.store().archive().holds(false).await?;
    if holds.is_empty() {
        return Ok(Reply::new("No holds: nothing stops a disposal that is due."));
    }
    let rows: Vec<Vec<String>> = holds.iter().map(row).collect();
    Ok(Reply::new(format!("**Holds** ({})\n\n{}", holds.len(), table(&["ID", "on", "placed", "by", "reason"], &rows))))
}

fn row(hold: &HoldRecord) -> Vec<String> {
    let day = hold.placed_at.get(..10).unwrap_or(&hold.placed_at).to_string();
    vec![hold.id.to_string(), hold.covers(), day, hold.placed_by.clone(), hold.reason.clone()]
}
