//! `!room bind UNIT`: the room this is said in becomes the unit's room for its cards;
//! `!room list` shows the bindings.

use crate::core::viewer::Role;

use super::{Args, Call, CommandError, Outcome, Reply, table};

pub(super) async fn run(call: &Call<'_, '_>, mut args: Args) -> Outcome {
    match args.word("bind UNIT or list")?.as_str() {
        "bind" => {
            call.require(Role::Registrar)?;
            let unit = args.word("UNIT")?;
            args.finish()?;
            let unit = super::staff::known_unit(call, &unit)?;
            let room = call
                .request
                .room
                .ok_or_else(|| CommandError::Refused("Say `!room bind UNIT` in the room the unit should be told in.".into()))?;
            call.store().staff().bind_room(&unit, room, call.actor(), call.now()).await?;
            Ok(Reply::new(format!("This room is now {unit}'s: new letters routed to {unit} are announced here.")))
        }
        "list" => {
            args.finish()?;
            let rooms = call.store().staff().bound_rooms().await?;
            if rooms.is_empty() {
                return Ok(Reply::new("No room is bound with `!room bind`; units use the rooms of units.toml."));
            }
            let rows: Vec<Vec<String>> = rooms.into_iter().map(|(unit, room)| vec![unit, room]).collect();
            Ok(Reply::new(table(&["unit", "room"], &rows)))
        }
        other => Err(CommandError::Usage(format!("{} is not a subcommand of !room", crate::core::markdown::code(other)))),
    }
}
