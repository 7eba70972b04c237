//! `chancery calendar`: the export, and people's feed addresses.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result, bail};
use clap::Subcommand;

use super::{Invocation, require_unit};
use crate::core::calendar::{CalendarHead, render};
use crate::core::viewer::{Audience, Viewer};
use crate::store::Scope;

#[derive(Debug, Subcommand)]
pub(super) enum CalendarCommand {
    /// Write the calendar to a file (.ics): every deadline, or one unit's, or what one person's
    /// clearance lets them see. Restricted letters show their number, not their subject, except
    /// to a person cleared for them (--as).
    Export {
        #[arg(long, value_name = "FILE.ics")]
        out: std::path::PathBuf,
        /// One unit's letters; the International Relations Office (reminders.office_unit) has
        /// the visas and agreements too.
        #[arg(long, conflicts_with = "person")]
        unit: Option<String>,
        /// What this staff member's calendar feed holds.
        #[arg(long = "as", value_name = "MXID")]
        person: Option<String>,
    },
    /// Print a person's calendar feed address (http.public_url/calendar/SECRET.ics); it is
    /// made the first time. Anyone who has it reads their calendar: pass it on privately.
    Url { mxid: String },
    /// Replace a person's feed address: the old one gets 404 from then on.
    Revoke { mxid: String },
}

pub(super) async fn run(at: &Invocation<'_>, command: CalendarCommand, out: &mut impl Write) -> Result<()> {
    match command {
        CalendarCommand::Export { out: path, unit, person } => export(at, &path, unit.as_deref(), person.as_deref(), out).await?,
        CalendarCommand::Url { mxid } => {
            let url = feed_url(at, &at.store.calendar().secret(&mxid).await?)?;
            writeln!(out, "{url}")?;
            if !at.config.http.enabled {
                eprintln!("chancery: note: http.enabled is false, so `chancery serve` does not publish it yet");
            }
        }
        CalendarCommand::Revoke { mxid } => {
            let secret = at.store.calendar().replace_secret(&mxid).await?;
            writeln!(out, "{mxid}'s calendar address is replaced: the old one gets 404 from now on")?;
            if let Ok(url) = feed_url(at, &secret) {
                writeln!(out, "the new one: {url}")?;
            }
        }
    }
    Ok(())
}

fn feed_url(at: &Invocation<'_>, secret: &str) -> Result<String> {
    at.config.http.calendar_url(secret).with_context(
        || "http.public_url is not set: it is the address calendar apps reach `chancery serve` at, e.g. https://chancery.uni.example",
    )
}

async fn export(at: &Invocation<'_>, path: &Path, unit: Option<&str>, person: Option<&str>, out: &mut impl Write) -> Result<()> {
    let (config, store) = (at.config, at.store);
    let office_unit = config.reminders.office_unit.clone();
    let viewer = match person {
        Some(mxid) => {
            let Some(member) = store.staff().find(mxid).await? else { bail!("{mxid} is not in the staff directory") };
            Some(Viewer::new(member, Audience::Private))
        }
        None => None,
    };
    if let Some(unit) = unit {
        require_unit(config, unit)?;
    }
    let scope = match (&viewer, unit) {
        (Some(viewer), _) => Scope::Person(viewer),
        (None, Some(unit)) => Scope::Unit { unit, office_unit: &office_unit },
        (None, None) => Scope::All,
    };
    let events = store.calendar().events(&scope, at.now).await?;
    let feeds = crate::http::FeedSettings::from_config(config);
    let text = render(&CalendarHead { name: &feeds.name, domain: &feeds.domain, made_at: at.now }, &events);
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))?;
    writeln!(out, "{} events written to {}", events.len(), path.display())?;
    Ok(())
}
