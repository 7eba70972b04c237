//! `chancery room`: what `!room bind` and `!room list` do, from the command line.

use std::io::Write;

use anyhow::{Result, bail};
use clap::Subcommand;

use super::{Invocation, require_unit};

#[derive(Debug, Subcommand)]
pub(super) enum RoomCommand {
    /// Announce a unit's new letters in a room, as `!room bind UNIT` said in that room does:
    /// for setting up before the assistant is in the room, or from a script.
    Bind {
        /// A unit of mail-rules/units.toml.
        unit: String,
        /// The room's ID, e.g. !aBcD:uni.example (in Element: Room settings, Advanced).
        room: String,
    },
    /// The rooms bound to units; the other units use the rooms of units.toml.
    List,
}

pub(super) async fn run(at: &Invocation<'_>, command: RoomCommand, out: &mut impl Write) -> Result<()> {
    match command {
        RoomCommand::Bind { unit, room } => {
            require_unit(at.config, &unit)?;
            // The assistant reads the binding back as a room ID; an alias would be refused there.
            if let Err(problem) = matrix_sdk::ruma::RoomId::parse(room.as_str()) {
                bail!("'{room}' is not a room ID like !aBcD:uni.example ({problem})");
            }
            at.store.staff().bind_room(&unit, &room, &at.actor, at.now).await?;
            writeln!(out, "{room} is now {unit}'s room: new letters routed to {unit} are announced there")?;
        }
        RoomCommand::List => {
            let rooms = at.store.staff().bound_rooms().await?;
            if rooms.is_empty() {
                writeln!(out, "no room is bound; units use the rooms of units.toml")?;
            }
            for (unit, room) in rooms {
                writeln!(out, "{unit}\t{room}")?;
            }
        }
    }
    Ok(())
}
