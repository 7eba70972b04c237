//! `!partner`: add a partner institution, add a person there, and show one: its people, its
//! contact log and the latest letters to and from its domains (as the `Viewer` allows).

use chrono::{DateTime, Utc};

use crate::core::partner::{Partner, PartnerPerson, follow_up_due};
use crate::core::viewer::Sight;
use crate::store::{Contact, PartnerLetter};

use super::{Args, Call, CommandError, Outcome, Reply, table};
use crate::core::markdown;
use crate::core::time::local;

/// Contacts and letters `!partner show` lists, the newest.
const CONTACTS_SHOWN: i64 = 10;
const LETTERS_SHOWN: usize = 10;

pub(super) async fn run(call: &Call<'_, '_>, mut args: Args) -> Outcome {
    match args.word("what to do (add, show or person)")?.to_ascii_lowercase().as_str() {
        "add" => {
            let handle = args.word("HANDLE")?;
            let name = args.required_option("name")?;
            let country = args.required_option("country")?;
            let domains = args.required_option("domain")?;
            let kind = args.required_option("kind")?;
            args.finish()?;
            let partner = Partner::check(&handle, &name, &country, &kind, &domains).map_err(CommandError::usage)?;
            add(call, &partner).await
        }
        "show" => {
            let handle = args.word("HANDLE")?;
            args.finish()?;
            show(call, &known(call, &handle).await?).await
        }
        "person" => {
            let handle = args.word("HANDLE")?;
            let name = args.required_option("name")?;
            let email = args.required_option("email")?;
            let role = args.option("role").unwrap_or_default();
            args.finish()?;
            let person = PartnerPerson::check(&name, &email, &role).map_err(CommandError::usage)?;
            let partner = known(call, &handle).await?;
            call.store().partners().add_person(&partner.handle, &person).await?;
            let role = if person.role.is_empty() { String::new() } else { format!(", {}", person.role) };
            let who = markdown::literal(&format!("{} <{}>{role}", person.name, person.email));
            Ok(Reply::new(format!("{who} is a contact person at {} now.", partner.handle)))
        }
        other => {
            Err(CommandError::Usage(format!("{} is not a subcommand of !partner (add, show, person)", crate::core::markdown::code(other))))
        }
    }
}

/// The partner a handle names, or a refusal that says where the handles are listed.
pub(super) async fn known(call: &Call<'_, '_>, handle: &str) -> Result<Partner, CommandError> {
    let handle = handle.trim().to_lowercase();
    call.store()
        .partners()
        .find(&handle)
        .await?
        .ok_or_else(|| CommandError::NotFound(format!("There is no partner {}; `!partners` lists them.", markdown::literal(&handle))))
}

async fn add(call: &Call<'_, '_>, partner: &Partner) -> Outcome {
    let partners = call.store().partners();
    partners.add(partner, call.actor(), call.now()).await?;
    // Only a count: which letters they are is for `!partner show`, where the viewer decides.
    let letters = partners.letters(Some(&partner.handle), LETTERS_SHOWN).await?.len();
    let joined = match letters {
        0 => String::new(),
        1 => format!("\n\n1 letter in the register is to or from its domains: `!partner show {}`.", partner.handle),
        n if n >= LETTERS_SHOWN => {
            format!("\n\n{n} or more letters in the register are to or from its domains: `!partner show {}`.", partner.handle)
        }
        n => format!("\n\n{n} letters in the register are to or from its domains: `!partner show {}`.", partner.handle),
    };
    Ok(Reply::new(format!(
        "Added partner **{}**: {} ({}, {}), domains {}.{joined}",
        partner.handle,
        markdown::literal(&partner.name),
        markdown::literal(&partner.country),
        partner.kind.as_str(),
        markdown::literal(&partner.domains.join(", "))
    )))
}

async fn show(call: &Call<'_, '_>, partner: &Partner) -> Outcome {
    let partners = call.store().partners();
    let mut out = format!(
        "**{}**: {} · {} · {}\nDomains: {}\n\n",
        partner.handle,
        markdown::literal(&partner.name),
        markdown::literal(&partner.country),
        partner.kind.as_str(),
        markdown::literal(&partner.domains.join(", "))
    );
    let people = partners.people(&partner.handle).await?;
    out.push_str("**People**\n");
    if people.is_empty() {
        out.push_str(&format!("None yet: `!partner person {} name=\"…\" email=… role=\"…\"` adds one.\n", partner.handle));
    } else {
        let rows: Vec<Vec<String>> = people.iter().map(|p| vec![p.name.clone(), p.email.clone(), p.role.clone()]).collect();
        out.push_str(&table(&["name", "email", "role"], &rows));
    }
    out.push_str(&super::agreements::of_partner(call, &partner.handle).await?);
    let contacts = partners.contacts(Some(&partner.handle), CONTACTS_SHOWN).await?;
    out.push_str(&format!("\n**Contact log** (the latest {CONTACTS_SHOWN})\n"));
    if contacts.is_empty() {
        out.push_str(&format!("Nothing logged yet: `!contact {} via=call TEXT` logs a contact.\n", partner.handle));
    } else {
        let rows: Vec<Vec<String>> = contacts.iter().map(|c| contact_row(call, c)).collect();
        out.push_str(&table(&["#", "when", "via", "what", "follow-up", "who"], &rows));
    }
    let (letters, ask_privately) = seen(call, partners.letters(Some(&partner.handle), LETTERS_SHOWN).await?).await?;
    out.push_str(&format!("\n**Letters** to and from {} (the latest {LETTERS_SHOWN})\n", markdown::literal(&partner.domains.join(", "))));
    if letters.is_empty() {
        out.push_str("None in the register.\n");
    } else {
        let rows: Vec<Vec<String>> = letters
            .iter()
            .map(|l| vec![l.number.clone(), l.when.clone(), l.direction.to_string(), l.with.clone(), l.subject.clone(), l.status.clone()])
            .collect();
        out.push_str(&table(&["number", "registered", "in/out", "with", "subject", "status"], &rows));
    }
    if ask_privately {
        out.push_str(ASK_PRIVATELY);
    }
    Ok(Reply::new(out.trim_end()))
}

/// Said under a list where restricted letters were held back because others read the room.
pub(super) const ASK_PRIVATELY: &str = "\nRestricted letters show only their number, status and dates here: ask me in a direct message.\n";

/// A contact as a row: #, when, via, what, follow-up, who.
pub(super) fn contact_row(call: &Call<'_, '_>, contact: &Contact) -> Vec<String> {
    vec![
        format!("#{}", contact.id),
        when(contact.at, call.zone()),
        contact.via.as_str().to_string(),
        contact.summary.clone(),
        follow_up_text(call, contact),
        contact.logged_by.clone(),
    ]
}

/// The follow-up date, marked when it is due or done.
pub(super) fn follow_up_text(call: &Call<'_, '_>, contact: &Contact) -> String {
    let today = call.now().with_timezone(&call.zone()).date_naive();
    match contact.follow_up {
        None => String::new(),
        Some(day) if contact.follow_up_done => format!("{day} (done)"),
        Some(day) if follow_up_due(Some(day), false, today) => format!("{day} (due)"),
        Some(day) => day.to_string(),
    }
}

pub(super) fn when(at: DateTime<Utc>, zone: chrono_tz::Tz) -> String {
    at.with_timezone(&zone).format("%Y-%m-%d %H:%M").to_string()
}

/// A partner's letter as the viewer may see it.
pub(super) struct SeenLetter {
    pub handle: String,
    pub number: String,
    /// The registration stamp (sorts as time) and the same in the office's zone.
    pub registered_at: String,
    pub when: String,
    /// "in" or "out".
    pub direction: &'static str,
    /// Correspondents and subject; hidden ones are empty or a `[confidential]` notice.
    pub with: String,
    pub subject: String,
    pub status: String,
}

/// The letters as the viewer may see them (disclosures recorded), and whether one was held
/// back only because the room is shared.
pub(super) async fn seen(call: &Call<'_, '_>, letters: Vec<PartnerLetter>) -> Result<(Vec<SeenLetter>, bool), CommandError> {
    let mut shown = Vec::with_capacity(letters.len());
    let mut ask_privately = false;
    for PartnerLetter { handle, document } in letters {
        let (document, sight) = call.store().documents().show(document, call.viewer, call.now()).await?;
        ask_privately |= sight == (Sight::Redacted { ask_privately: true });
        shown.push(SeenLetter {
            handle,
            when: local(&document.registered_at, call.zone()),
            direction: if document.direction == "incoming" { "in" } else { "out" },
            with: document.correspondents().iter().map(ToString::to_string).collect::<Vec<_>>().join(", "),
            subject: document.subject,
            status: document.status,
            number: document.number,
            registered_at: document.registered_at,
        });
    }
    Ok((shown, ask_privately))
}
