//! `chancery archive export` and `archive import`: packages for the archive (`crate::package`).

use std::io::Write;
use std::path::PathBuf;

use anyhow::Result;
use clap::{ArgGroup, Args};

use super::{Invocation, acting_as, archive_in_force};
use crate::core::archive::package::Selection;
use crate::package::{self, Labels};

/// Write a BagIt 1.0 bag (RFC 8493) of a case, a year or the whole register, for an archive
/// that outlives Chancery; `bagit.py --validate DIR` accepts it.
///
/// Under `data/`, one folder per document named by its number: `message.eml` (the bytes as
/// received), `attachments/` (names made safe) and `record.json` (every field, routing reasons,
/// history, case and class); `register.csv` (destroyed entries included and marked), `cases.csv`
/// and `file-plan.json`. Confidential and secret documents are exported in full: the archive is a
/// trusted custodian, and the bag must be kept as such.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("what").required(true).args(["case", "year", "all"])))]
pub(super) struct ExportArgs {
    /// The documents of one case (e.g. 03-02/2026).
    #[arg(long, value_name = "CASE")]
    case: Option<String>,
    /// The documents registered in one year.
    #[arg(long, value_name = "YYYY")]
    year: Option<i32>,
    /// Every document of the register.
    #[arg(long)]
    all: bool,
    /// The bag's folder; it must not exist, or be empty.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Transfer the case to the archive: its transfer decision (proposed with `archive dispose
    /// propose`) is approved by --as, the bag written and checked, then the case's content is
    /// erased here as a disposal erases it, each entry marked `transferred by D-…`.
    #[arg(long, requires_all = ["case", "person"])]
    transfer: bool,
    /// Who approves the transfer: an archivist or an admin other than its proposer.
    #[arg(long = "as", value_name = "MXID")]
    person: Option<String>,
}

/// Check a bag made by `archive export` and bring it into this register: documents with their
/// numbers, histories, cases and destroyed entries. A file that does not match the bag's
/// manifest is named and nothing is imported; so is a number this register holds already.
/// Numbering continues after the highest number imported.
#[derive(Debug, Args)]
pub(super) struct ImportArgs {
    #[arg(value_name = "DIR")]
    dir: PathBuf,
}

pub(super) async fn export(at: &Invocation<'_>, args: ExportArgs, out: &mut impl Write) -> Result<i32> {
    let plan = archive_in_force(at).await?;
    let selection = match (&args.case, args.year) {
        (Some(case), _) => Selection::Case(case.parse::<crate::core::archive::CaseName>()?.to_string()),
        (None, Some(year)) => Selection::Year(year),
        (None, None) => Selection::All,
    };
    // A transfer is refused before anything is written if it could not be carried out.
    let transfer = match (&selection, args.transfer, &args.person) {
        (Selection::Case(case), true, Some(person)) => {
            let member = acting_as(at, person).await?;
            let decision = at.store.archive().transfer_of(&plan, case, &member, at.now).await?;
            Some((case.clone(), member, decision))
        }
        _ => None,
    };
    let labels = Labels { university: &at.config.university.name, today: at.now.with_timezone(&at.zone).date_naive() };
    let exported = package::export(at.store, &plan, &selection, labels, &args.out).await?;
    writeln!(
        out,
        "exported {} documents ({} destroyed entries without files): {} bytes in {} files",
        exported.documents, exported.destroyed, exported.bag.octets, exported.bag.files
    )?;
    if let Some((case, member, decision)) = transfer {
        package::check_for_transfer(&args.out)?;
        let approved = at.store.archive().approve_transfer(&plan, &decision, &case, &member, at.now).await?;
        writeln!(
            out,
            "{case} transferred by {decision}: the content of its {} documents is erased here, the bag holds it",
            approved.documents
        )?;
    }
    writeln!(out, "{}", args.out.display())?;
    Ok(0)
}

pub(super) async fn import(at: &Invocation<'_>, args: ImportArgs, out: &mut impl Write) -> Result<i32> {
    let imported = package::import(at.store, &args.dir).await?;
    writeln!(out, "imported {} documents and {} cases from {}", imported.documents, imported.cases, args.dir.display())?;
    Ok(0)
}
