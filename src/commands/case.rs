//! `!case`: case files. Anyone on the staff may look at a case; opening one, adding documents to
//! it and closing it are for registrars, admins and the managers of the case's unit
//! (`core::archive::rules`, asked by the store). Titles and subjects are shown as text.

use std::fmt::Write as _;

use crate::core::archive::rules::{self, CaseError};
use crate::core::archive::{CaseName, FilePlan, Filing};
use crate::core::markdown;
use crate::core::number::RegistrationNumber;
use crate::core::time::local;
use crate::store::{CaseFile, CaseRecord};

use super::{Args, Call, CommandError, Outcome, Reply, table};

/// Events a case's reply shows, the newest.
const EVENTS_SHOWN: usize = 8;

pub(super) async fn run(call: &Call<'_, '_>, mut args: Args) -> Outcome {
    let plan = plan_in_force(call).await?;
    match args.word("what to do (open, add, show or close)")?.to_ascii_lowercase().as_str() {
        "open" => open(call, plan, args).await,
        "add" => add(call, args).await,
        "show" => {
            let name = case_name(&args.word("CASE")?)?;
            args.finish()?;
            let file = call.store().archive().show(&name, call.viewer).await?;
            // A restricted subject shown is a disclosure, recorded as a card's is.
            for document in file.documents.iter().filter(|d| d.disclosed) {
                call.store().record_disclosure(&document.number, call.actor(), call.now()).await?;
            }
            Ok(Reply::new(card(call, plan, &file)))
        }
        "close" => close(call, plan, args).await,
        other => Err(CommandError::Usage(format!("{} is not a subcommand of !case (open, add, show, close)", markdown::code(other)))),
    }
}

/// The file plan, after the register has been brought up to date with it (every document
/// filed, the yearly cases closed whose cutoff has passed), as every archive command does.
pub(super) async fn plan_in_force<'s>(call: &Call<'_, 's>) -> Result<&'s FilePlan, CommandError> {
    let settings = call.context.settings;
    let Some(plan) = settings.file_plan.as_ref() else {
        return Err(CommandError::Refused("There is no file plan: registry staff add `file-plan.toml` to the rules first.".into()));
    };
    call.store().archive().catch_up(Some(&plan.default_class), settings.cutoff, call.now()).await?;
    Ok(plan)
}

/// A case's name as typed, as the register writes it.
pub(super) fn case_name(text: &str) -> Result<String, CommandError> {
    text.parse::<CaseName>().map(|name| name.to_string()).map_err(|problem| CommandError::Usage(markdown::literal(&problem.to_string())))
}

/// `!case open CODE TITLE… [unit=UNIT]`: the unit is the asker's unless named.
async fn open(call: &Call<'_, '_>, plan: &FilePlan, mut args: Args) -> Outcome {
    let code = args.word("CODE (a class of the file plan)")?;
    let unit = args.option("unit").unwrap_or_else(|| call.viewer.member.unit.clone());
    let title = args.rest();
    let (class, title) = rules::new_case(plan, &code, &title).map_err(|problem| match problem {
        CaseError::NoTitle => CommandError::Usage("the TITLE is missing".into()),
        CaseError::UnknownClass { code } => {
            CommandError::Refused(format!("There is no class {} in the file plan; `!cases` shows the cases there are.", markdown::literal(&code)))
        }
        other => CommandError::refusal(other),
    })?;
    let units = &call.context.settings.units;
    if !units.is_empty() && !units.contains(&unit) {
        return Err(CommandError::Refused(format!("There is no unit {} (units: {}).", markdown::literal(&unit), units.join(", "))));
    }
    let name = call.store().archive().open_case(class, &title, Some(&unit), &call.viewer.member, call.now()).await?;
    Ok(Reply::new(format!(
        "Case **{name}** is open for {unit}: {}\n\nClass: {}. `!case add {name} NUMBER…` files letters in it.",
        markdown::literal(&title),
        markdown::literal(&rules::class_words(class))
    )))
}

/// `!case add CASE NUMBER…`: all or none.
async fn add(call: &Call<'_, '_>, mut args: Args) -> Outcome {
    let name = case_name(&args.word("CASE")?)?;
    let mut numbers = Vec::new();
    while let Some(word) = args.optional_word() {
        let number = word.parse::<RegistrationNumber>().map_err(CommandError::usage)?;
        numbers.push(number.to_string());
    }
    args.finish()?;
    if numbers.is_empty() {
        return Err(CommandError::Usage("the NUMBER of a letter to add is missing".into()));
    }
    let filed = call.store().archive().add(&name, &numbers, &call.viewer.member, call.now()).await?;
    let lines: Vec<String> = filed
        .iter()
        .map(|(number, filing)| match filing {
            Filing::Moved { from: Some(from) } => format!("- {number} added (it was in {from})"),
            Filing::Moved { from: None } => format!("- {number} added"),
            Filing::Already => format!("- {number} is in {name} already"),
        })
        .collect();
    Ok(Reply::new(format!("Case **{name}**:\n\n{}", lines.join("\n"))))
}

/// `!case close CASE [reason…]`: named cases only.
async fn close(call: &Call<'_, '_>, plan: &FilePlan, mut args: Args) -> Outcome {
    let name = case_name(&args.word("CASE")?)?;
    let reason = Some(args.rest()).filter(|reason| !reason.trim().is_empty());
    let archive = call.store().archive();
    let on = archive.close(&name, reason.as_deref(), &call.viewer.member, call.context.settings.cutoff, call.now()).await?;
    let case = archive.case(&name).await?;
    Ok(Reply::new(format!("Case **{name}** is closed as of {on}; disposal {}.", due_words(call, plan, &case))))
}

/// When a case's retention ends and what happens then.
pub(super) fn due_words(call: &Call<'_, '_>, plan: &FilePlan, case: &CaseRecord) -> String {
    let class = plan.class(&case.code);
    rules::disposal_words(class, class.and_then(|class| case.disposal_due(class, call.zone())))
}

/// A named case's title, or a yearly case's class's (outside text: shown through `literal`).
pub(super) fn title(plan: &FilePlan, case: &CaseRecord) -> String {
    case.title.clone().or_else(|| plan.class(&case.code).map(|class| class.title.clone())).unwrap_or_else(|| "-".into())
}

fn card(call: &Call<'_, '_>, plan: &FilePlan, file: &CaseFile) -> String {
    let case = &file.case;
    let zone = call.zone();
    let state = match &case.closed_on {
        Some(on) => format!("closed {on}"),
        None => "open".to_string(),
    };
    let mut out = format!("**Case {}** · {state} · {}\n\n", case.name, markdown::literal(case.unit.as_deref().unwrap_or("registry")));
    let _ = writeln!(out, "- Title: {}", markdown::literal(&title(plan, case)));
    let class = plan.class(&case.code).map(rules::class_words).unwrap_or_else(|| format!("{} (not in the file plan)", case.code));
    let _ = writeln!(out, "- Class: {}", markdown::literal(&class));
    let _ = writeln!(out, "- Opened: {} by {}", local(&case.opened_at, zone), markdown::literal(&case.opened_by));
    if let Some(on) = &case.closed_on {
        let reason = case.close_reason.as_deref().map(|r| format!(": {}", markdown::literal(r))).unwrap_or_default();
        let _ = writeln!(out, "- Closed: {on} by {}{reason}", markdown::literal(case.closed_by.as_deref().unwrap_or("-")));
    }
    let _ = writeln!(out, "- Disposal: {}", due_words(call, plan, case));
    let _ = writeln!(out, "- Documents: {} ({} bytes)", case.documents, case.size);
    if !file.documents.is_empty() {
        let rows: Vec<Vec<String>> = file
            .documents
            .iter()
            .map(|d| vec![d.number.clone(), local(&d.registered_at, zone), d.status.clone(), d.subject.clone()])
            .collect();
        let _ = write!(out, "\n{}", table(&["number", "registered", "status", "subject"], &rows));
    }
    let recent = &file.events[file.events.len().saturating_sub(EVENTS_SHOWN)..];
    if !recent.is_empty() {
        let rows: Vec<Vec<String>> = recent
            .iter()
            .map(|e| {
                let what = [Some(e.action.clone()), e.detail.clone(), e.reason.as_ref().map(|r| format!("({r})"))];
                vec![local(&e.at, zone), e.actor.clone(), what.into_iter().flatten().collect::<Vec<_>>().join(" ")]
            })
            .collect();
        let _ = write!(out, "\nHistory:\n\n{}", table(&["when", "who", "what"], &rows));
    }
    out
}
