//! `!disposal`: the cases due by the file plan, and disposal decisions: proposed by one
//! person, approved and carried out by another (an archivist or an admin), and shown as their
//! certificate. The rules are the core's (`core::archive::disposal`), the work the store's, as
//! for `chancery archive`.

use crate::core::archive::FilePlan;
use crate::core::archive::disposal::DecisionName;
use crate::core::markdown;
use crate::core::time::parse_day;
use crate::store::DueCase;

use super::{Args, Call, CommandError, Outcome, Reply, table};

/// Certificate lines a reply shows; the rest are counted (`chancery archive certificate` has all).
const LINES_SHOWN: usize = 20;

pub(super) async fn run(call: &Call<'_, '_>, mut args: Args) -> Outcome {
    let plan = super::case::plan_in_force(call).await?;
    let what = args.word("what (due, propose, approve or show)")?;
    match what.to_ascii_lowercase().as_str() {
        "due" => {
            let today = call.now().with_timezone(&call.zone()).date_naive();
            let as_of = match args.optional_word() {
                Some(day) => parse_day(&day, call.now(), call.zone()).map_err(|problem| CommandError::Usage(format!("DATE: {problem}")))?,
                None => today,
            };
            args.finish()?;
            due(call, plan, as_of).await
        }
        "propose" => {
            let reason = args.option("reason");
            let mut cases = Vec::new();
            while let Some(case) = args.optional_word() {
                cases.push(case);
            }
            if cases.is_empty() {
                return Err(CommandError::Usage("the CASE is missing".into()));
            }
            let name = call.store().archive().propose(plan, &cases, reason.as_deref(), &call.viewer.member, call.now()).await?;
            Ok(Reply::new(format!(
                "Proposed {name}: the disposal of {}. An archivist or an admin other than you approves it with `!disposal approve {name}`.",
                markdown::literal(&cases.join(", "))
            )))
        }
        "approve" => {
            let name = decision(&args.word("the decision (D-YEAR-NNNN)")?)?;
            args.finish()?;
            let done = call.store().archive().approve(plan, &name, &call.viewer.member, call.now()).await?;
            let noun = if done.documents == 1 { "document" } else { "documents" };
            Ok(Reply::new(format!(
                "{} approved and carried out: {} {noun} of {} destroyed; their entries stay. `!disposal show {}` has the certificate.",
                done.decision,
                done.documents,
                markdown::literal(&done.cases.join(", ")),
                done.decision
            )))
        }
        "show" => {
            let name = decision(&args.word("the decision (D-YEAR-NNNN)")?)?;
            args.finish()?;
            show(call, &name).await
        }
        _ => Err(CommandError::Usage(format!("{} is not due, propose, approve or show", markdown::code(&what)))),
    }
}

fn decision(text: &str) -> Result<String, CommandError> {
    text.parse::<DecisionName>().map(|name| name.to_string()).map_err(|problem| CommandError::Usage(markdown::literal(&problem.to_string())))
}

async fn due(call: &Call<'_, '_>, plan: &FilePlan, as_of: chrono::NaiveDate) -> Outcome {
    let due = call.store().archive().due(plan, as_of).await?;
    if due.is_empty() {
        return Ok(Reply::new(format!("No case is due by {as_of}.")));
    }
    let rows: Vec<Vec<String>> = due.iter().map(due_row).collect();
    Ok(Reply::new(format!(
        "**Due by {as_of}** ({})\n\n{}",
        due.len(),
        table(&["case", "class", "due", "action", "documents", "bytes", "stopped by"], &rows)
    )))
}

fn due_row(case: &DueCase) -> Vec<String> {
    vec![
        case.case.clone(),
        case.class.clone(),
        case.due.map(|day| day.to_string()).unwrap_or_default(),
        case.action.clone(),
        case.documents.to_string(),
        case.bytes.to_string(),
        if case.stops.is_empty() { "nothing: ready".to_string() } else { case.stops.join("; ") },
    ]
}

/// A decision and its certificate: a confidential document's subject is never in it.
async fn show(call: &Call<'_, '_>, name: &str) -> Outcome {
    let certificate = call.store().archive().certificate(name).await?;
    let approved = match (&certificate.approved_by, &certificate.approved_at) {
        (Some(by), Some(at)) => format!("approved and carried out by {by} at {at}"),
        _ => "waiting for approval".to_string(),
    };
    let mut reply = format!(
        "**{}** ({}): {}; proposed by {} at {}, {approved}.",
        certificate.decision,
        certificate.action,
        markdown::literal(&certificate.cases.join(", ")),
        certificate.proposed_by,
        certificate.proposed_at
    );
    if let Some(reason) = &certificate.reason {
        reply.push_str(&format!(" Reason: {}.", markdown::literal(reason)));
    }
    if !certificate.documents.is_empty() {
        let rows: Vec<Vec<String>> = certificate
            .documents
            .iter()
            .take(LINES_SHOWN)
            .map(|line| {
                let subject = line.subject.clone().unwrap_or_else(|| "(confidential)".into());
                vec![line.number.clone(), line.class.clone(), line.sha256.clone(), line.size.to_string(), subject]
            })
            .collect();
        reply.push_str(&format!("\n\n{}", table(&["number", "class", "sha256", "bytes", "subject"], &rows)));
        if certificate.documents.len() > LINES_SHOWN {
            reply.push_str(&format!(
                "\n…and {} more: `chancery archive certificate {name}` prints them all.",
                certificate.documents.len() - LINES_SHOWN
            ));
        }
    }
    Ok(Reply::new(reply))
}
