//! `chancery staff`: the staff directory.

use std::io::Write;

use anyhow::Result;
use clap::Subcommand;

use super::{Invocation, require_unit, terminal_width, write_json};
use crate::commands::staff;
use crate::report;

#[derive(Debug, Subcommand)]
pub(super) enum StaffCommand {
    /// Add a person, or change what the directory says of them.
    Add {
        /// Their Matrix ID, e.g. @aysel:uni.example.
        mxid: String,
        #[arg(long)]
        name: String,
        /// A unit of mail-rules/units.toml.
        #[arg(long)]
        unit: String,
        /// staff, manager, registrar or admin.
        #[arg(long)]
        role: String,
        /// public, internal, confidential or secret: the highest level they may read.
        #[arg(long)]
        clearance: String,
        /// Their own time zone (tz database name, e.g. Europe/Berlin) for reminders; "" clears it.
        #[arg(long = "tz", value_name = "ZONE")]
        timezone: Option<String>,
        /// Their e-mail address, for reminders by mail; "" clears it.
        #[arg(long, value_name = "ADDR")]
        email: Option<String>,
    },
    /// Everyone in the directory.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Take a person out of the directory: the assistant no longer answers them.
    Remove { mxid: String },
}

pub(super) async fn run(at: &Invocation<'_>, command: StaffCommand, out: &mut impl Write) -> Result<()> {
    match command {
        StaffCommand::Add { mxid, name, unit, role, clearance, timezone, email } => {
            let member = staff::member(&mxid, &name, &unit, &role, &clearance).map_err(anyhow::Error::msg)?;
            let change = staff::reach_change(timezone.as_deref(), email.as_deref()).map_err(anyhow::Error::msg)?;
            require_unit(at.config, &member.unit)?;
            let reach = staff::add(at.store, &member, &change, &at.actor, at.now).await?;
            writeln!(
                out,
                "{} ({}): {}, {}, cleared for {}{}",
                member.name,
                member.id,
                member.unit,
                member.role.name(),
                member.clearance.as_str(),
                staff::describe_reach(&reach)
            )?;
        }
        StaffCommand::List { json } => {
            let members = at.store.staff().list_with_reach().await?;
            if json {
                write_json(out, &members)?;
            } else {
                write!(out, "{}", report::staff_table(&members, terminal_width()))?;
            }
        }
        StaffCommand::Remove { mxid } => {
            at.store.staff().remove(&mxid).await?;
            writeln!(out, "{mxid} is no longer in the staff directory")?;
        }
    }
    Ok(())
}
