//! `!staff`: the staff directory. Everyone in it may list it; admins add and remove.
//! `chancery staff …` on the command line calls the same functions.

use chrono::{DateTime, Utc};

use crate::core::confidentiality::Confidentiality;
use crate::core::viewer::{Role, StaffMember};
use crate::store::{DirectoryEntry, Reach, Store};

use super::{Args, Call, CommandError, Outcome, Reply, table};

pub(super) async fn run(call: &Call<'_, '_>, mut args: Args) -> Outcome {
    match args.optional_word().as_deref() {
        None | Some("list") => {
            args.finish()?;
            Ok(Reply::new(directory_table(&call.store().staff().list_with_reach().await?)))
        }
        Some("add") => {
            call.require(Role::Admin)?;
            let id = args.word("MXID")?;
            let name = args.required_option("name")?;
            let unit = known_unit(call, &args.required_option("unit")?)?;
            let role = args.required_option("role")?;
            let clearance = args.required_option("clearance")?;
            let timezone = args.option("tz");
            let email = args.option("email");
            args.finish()?;
            let member = member(&id, &name, &unit, &role, &clearance).map_err(CommandError::usage)?;
            let reach = reach_change(timezone.as_deref(), email.as_deref()).map_err(CommandError::usage)?;
            let reach = add(call.store(), &member, &reach, call.actor(), call.now()).await?;
            Ok(Reply::new(format!(
                "{} ({}) is in the directory: {}, {}, cleared for {}{}.",
                crate::core::markdown::literal(&member.name),
                member.id,
                member.unit,
                member.role.name(),
                member.clearance.as_str(),
                describe_reach(&reach)
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
        Some(other) => Err(CommandError::Usage(format!("{} is not a subcommand of !staff", crate::core::markdown::code(other)))),
    }
}

/// Why a directory entry or a way of reaching someone is refused, holding what was typed; the
/// chat reply and the CLI message are its Display.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StaffError {
    #[error("'{0}' is not a Matrix ID (like @name:uni.example)")]
    NotAMatrixId(String),
    #[error("the name is empty")]
    EmptyName,
    /// `core::viewer::Role::parse`'s refusal, in its words.
    #[error(transparent)]
    UnknownRole(#[from] crate::core::viewer::UnknownRole),
    #[error("there is no clearance '{0}' (public, internal, confidential, secret)")]
    UnknownClearance(String),
    #[error("'{0}' is not a time zone: use a name of the tz database, such as Asia/Baku, Europe/Berlin or UTC")]
    NotATimeZone(String),
    #[error("'{0}' is not an e-mail address: use name@domain, such as aysel@uni.example")]
    NotAnEmailAddress(String),
}

/// A directory entry from what was typed, or what is wrong with it.
pub fn member(id: &str, name: &str, unit: &str, role: &str, clearance: &str) -> Result<StaffMember, StaffError> {
    if !is_matrix_id(id) {
        return Err(StaffError::NotAMatrixId(id.to_string()));
    }
    if name.trim().is_empty() {
        return Err(StaffError::EmptyName);
    }
    let clearance = Confidentiality::parse(clearance).ok_or_else(|| StaffError::UnknownClearance(clearance.to_string()))?;
    let role = Role::parse(role)?;
    Ok(StaffMember { id: id.to_string(), name: name.trim().to_string(), unit: unit.to_string(), role, clearance })
}

/// A change to how a person is reached, as typed: for each of zone and address, `None` keeps
/// what the directory has, `Some(None)` clears it (an empty value), `Some(Some(_))` sets it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReachChange {
    pub timezone: Option<Option<String>>,
    pub email: Option<Option<String>>,
}

/// Checks a typed zone (`tz=`, `--tz`) and address (`email=`, `--email`); an empty value clears.
pub fn reach_change(timezone: Option<&str>, email: Option<&str>) -> Result<ReachChange, StaffError> {
    let timezone = timezone.map(|typed| nonempty(typed).map(zone_name).transpose()).transpose()?;
    let email = email.map(|typed| nonempty(typed).map(email_address).transpose()).transpose()?;
    Ok(ReachChange { timezone, email })
}

fn nonempty(text: &str) -> Option<&str> {
    Some(text.trim()).filter(|text| !text.is_empty())
}

/// A zone of the tz database by its name in any case, spelt as the database spells it.
pub fn zone_name(typed: &str) -> Result<String, StaffError> {
    chrono_tz::TZ_VARIANTS
        .iter()
        .find(|zone| zone.name().eq_ignore_ascii_case(typed))
        .map(|zone| zone.name().to_string())
        .ok_or_else(|| StaffError::NotATimeZone(typed.to_string()))
}

/// An e-mail address, `name@domain`, as lettre reads one.
pub fn email_address(typed: &str) -> Result<String, StaffError> {
    typed.parse::<lettre::Address>().map(|address| address.to_string()).map_err(|_| StaffError::NotAnEmailAddress(typed.to_string()))
}

/// Adds or replaces a directory entry and applies a change to how the person is reached (what
/// it does not name stays as it was); returns how they are reached now.
pub async fn add(store: &Store, member: &StaffMember, change: &ReachChange, by: &str, now: DateTime<Utc>) -> crate::store::Result<Reach> {
    store.staff().put(member, by, now).await?;
    let current = store.staff().reach(&member.id).await?;
    if change == &ReachChange::default() {
        return Ok(current);
    }
    let reach =
        Reach { timezone: change.timezone.clone().unwrap_or(current.timezone), email: change.email.clone().unwrap_or(current.email) };
    store.staff().set_reach(&member.id, reach.timezone.as_deref(), reach.email.as_deref()).await?;
    Ok(reach)
}

/// `, zone Asia/Baku, e-mail a@uni.example` for what is known.
pub fn describe_reach(reach: &Reach) -> String {
    let mut text = String::new();
    if let Some(zone) = &reach.timezone {
        text.push_str(&format!(", zone {zone}"));
    }
    if let Some(email) = &reach.email {
        text.push_str(&format!(", e-mail {email}"));
    }
    text
}

pub fn directory_table(entries: &[DirectoryEntry]) -> String {
    if entries.is_empty() {
        return "The staff directory is empty.".into();
    }
    let rows: Vec<Vec<String>> = entries.iter().map(|entry| entry.cells("")).collect();
    table(&["Matrix ID", "name", "unit", "role", "clearance", "zone", "e-mail"], &rows)
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
    units.iter().find(|u| u.eq_ignore_ascii_case(typed)).cloned().ok_or_else(|| {
        CommandError::Refused(format!("There is no unit '{}'. Units: {}.", crate::core::markdown::literal(typed), units.join(", ")))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_member_is_checked_as_typed() {
        let m = member("@aysel:uni.example", "Aysel Quliyeva", "international", "manager", "confidential").unwrap();
        assert_eq!((m.role, m.clearance), (Role::Manager, Confidentiality::Confidential));
        assert!(member("aysel", "A", "x", "staff", "public").unwrap_err().to_string().contains("not a Matrix ID"));
        assert!(member("@a:x", "A", "x", "boss", "public").unwrap_err().to_string().contains("no role 'boss'"));
        assert!(member("@a:x", "A", "x", "staff", "top").unwrap_err().to_string().contains("no clearance 'top'"));
    }

    #[test]
    fn zones_and_addresses_are_checked_and_an_empty_value_clears() {
        assert_eq!(zone_name("europe/berlin").unwrap(), "Europe/Berlin");
        assert_eq!(zone_name("Asia/Baku").unwrap(), "Asia/Baku");
        assert!(zone_name("Baku").unwrap_err().to_string().contains("'Baku' is not a time zone"));
        assert_eq!(email_address("aysel@uni.example").unwrap(), "aysel@uni.example");
        for bad in ["aysel", "aysel@", "@uni.example", "a b@uni.example", "a@@b"] {
            assert!(email_address(bad).unwrap_err().to_string().contains("is not an e-mail address"), "{bad}");
        }
        let change = reach_change(Some("asia/baku"), Some("")).unwrap();
        assert_eq!(change, ReachChange { timezone: Some(Some("Asia/Baku".into())), email: Some(None) });
        assert_eq!(reach_change(None, None).unwrap(), ReachChange::default());
        assert!(reach_change(Some("Mars/Olympus"), None).is_err());
    }
}
