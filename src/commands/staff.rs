//! `!staff`: the staff directory. Everyone in it may list it; admins add and remove.
//! `chancery staff …` on the command line calls the same functions.

use chrono::{DateTime, Utc};

use crate::core::intake::Confidentiality;
use crate::core::viewer::{Role, StaffMember};
use crate::store::Store;

use super::{Args, Call, CommandError, Outcome, Reply, table};

pub(super) async fn run(call: &Call<'_, '_>, mut args: Args) -> Outcome {
    match args.optional_word().as_deref() {
        None | Some("list") => {
            args.finish()?;
            Ok(Reply::new(directory_table(&call.store().staff().list().await?)))
        }
        Some("add") => {
            call.require(Role::Admin)?;
            let id = args.word("MXID")?;
            let name = args.required_option("name")?;
            let unit = known_unit(call, &args.required_option("unit")?)?;
            let role = args.required_option("role")?;
            let clearance = args.required_option("clearance")?;
            args.finish()?;
            let member = member(&id, &name, &unit, &role, &clearance).map_err(CommandError::Usage)?;
            add(call.store(), &member, call.actor(), call.now()).await?;
            Ok(Reply::new(format!(
                "{} ({}) is in the directory: {}, {}, cleared for {}.",
                member.name,
                member.id,
                member.unit,
                member.role.name(),
                member.clearance.as_str()
            )))
        }
        Some("remove") => {
            call.require(Role::Admin)?;
            let id = args.word("MXID")?;
            args.finish()?;
            if id == call.actor() {
                return Err(CommandError::Refused("You cannot remove yourself; ask another admin.".into()));
            }
            call.store().staff().remove(&id).await?;
            Ok(Reply::new(format!("{id} is no longer in the staff directory.")))
        }
        Some(other) => Err(CommandError::Usage(format!("`{other}` is not a subcommand of !staff"))),
    }
}

/// A directory entry from what was typed, or what is wrong with it.
pub fn member(id: &str, name: &str, unit: &str, role: &str, clearance: &str) -> Result<StaffMember, String> {
    if !is_matrix_id(id) {
        return Err(format!("'{id}' is not a Matrix ID (like @name:uni.example)"));
    }
    if name.trim().is_empty() {
        return Err("the name is empty".into());
    }
    let clearance = Confidentiality::parse(clearance)
        .ok_or_else(|| format!("there is no clearance '{clearance}' (public, internal, confidential, secret)"))?;
    Ok(StaffMember { id: id.to_string(), name: name.trim().to_string(), unit: unit.to_string(), role: Role::parse(role)?, clearance })
}

pub async fn add(store: &Store, member: &StaffMember, by: &str, now: DateTime<Utc>) -> crate::store::Result<()> {
    store.staff().put(member, by, now).await
}

pub fn directory_table(members: &[StaffMember]) -> String {
    if members.is_empty() {
        return "The staff directory is empty.".into();
    }
    let rows: Vec<Vec<String>> = members
        .iter()
        .map(|m| vec![m.id.clone(), m.name.clone(), m.unit.clone(), m.role.name().into(), m.clearance.as_str().into()])
        .collect();
    table(&["Matrix ID", "name", "unit", "role", "clearance"], &rows)
}

/// `@localpart:server`, as the Matrix spec draws it.
pub fn is_matrix_id(text: &str) -> bool {
    let Some((local, server)) = text.strip_prefix('@').and_then(|rest| rest.split_once(':')) else { return false };
    !local.is_empty()
        && local.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._=-/+".contains(c))
        && !server.is_empty()
        && !server.contains(char::is_whitespace)
}

/// The unit as `units.toml` spells it, or a refusal naming the units there are.
pub(super) fn known_unit(call: &Call<'_, '_>, typed: &str) -> Result<String, CommandError> {
    let units = &call.context.settings.units;
    if units.is_empty() {
        return Ok(typed.to_string());
    }
    units
        .iter()
        .find(|u| u.eq_ignore_ascii_case(typed))
        .cloned()
        .ok_or_else(|| CommandError::Refused(format!("There is no unit '{typed}'. Units: {}.", units.join(", "))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_member_is_checked_as_typed() {
        let m = member("@aysel:uni.example", "Aysel Quliyeva", "international", "manager", "confidential").unwrap();
        assert_eq!((m.role, m.clearance), (Role::Manager, Confidentiality::Confidential));
        assert!(member("aysel", "A", "x", "staff", "public").unwrap_err().contains("not a Matrix ID"));
        assert!(member("@a:x", "A", "x", "boss", "public").unwrap_err().contains("no role 'boss'"));
        assert!(member("@a:x", "A", "x", "staff", "top").unwrap_err().contains("no clearance 'top'"));
    }
}
