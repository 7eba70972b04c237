//! `!visa`: visa and travel cases. Any staff member may open, list, close and cancel them; the rules
//! (what a new case must satisfy, what is due) are `core::visa`'s.

use chrono::NaiveDate;

use crate::core::dates::{parse_date, parse_range};
use crate::core::visa::{CaseStatus, Draft, VisaCase, due, due_horizon, new_trip, warnings};
use crate::store::{Closing, VisaFilter};

use super::{Args, Call, CommandError, Outcome, Reply, table};

pub(super) async fn run(call: &Call<'_, '_>, mut args: Args) -> Outcome {
    match args.word("what to do (add, list, show, done or cancel)")?.as_str() {
        "add" => add(call, args).await,
        "list" => list(call, args).await,
        "show" => {
            let id = case_id(&args.word("ID")?)?;
            args.finish()?;
            let case = call.store().visas().get(id).await?;
            Ok(Reply::new(card(call, &case)))
        }
        "done" => {
            let id = case_id(&args.word("ID")?)?;
            args.finish()?;
            match call.store().visas().mark_done(id, call.actor(), call.now()).await? {
                Closing::Closed(case) => Ok(Reply::new(format!(
                    "Visa case {id} ({}, {}) is done.",
                    crate::core::markdown::literal(&case.trip.traveller),
                    crate::core::markdown::literal(&case.trip.country)
                ))),
                Closing::AlreadyDone(case) => Err(CommandError::Refused(match &case.status {
                    CaseStatus::Done { at, by } => format!("Visa case {id} is done already: {by} closed it on {}.", office_day(call, *at)),
                    CaseStatus::Cancelled { at, by } => format!("Visa case {id} was cancelled: {by} on {}.", office_day(call, *at)),
                    CaseStatus::Open => format!("Visa case {id} could not be closed; try again."),
                })),
            }
        }
        "cancel" => {
            let id = case_id(&args.word("ID")?)?;
            args.finish()?;
            let case = call.store().visas().cancel(call.reminder_policy(), id, call.actor(), call.now()).await?;
            Ok(Reply::new(format!(
                "Visa case {id} ({}, {}) is cancelled; its reminders are closed.",
                crate::core::markdown::literal(&case.trip.traveller),
                crate::core::markdown::literal(&case.trip.country)
            )))
        }
        other => Err(CommandError::Usage(format!(
            "{} is not a subcommand of !visa (add, list, show, done, cancel)",
            crate::core::markdown::code(other)
        ))),
    }
}

async fn add(call: &Call<'_, '_>, mut args: Args) -> Outcome {
    let name = args.word("NAME (the traveller: one word, \"a quoted name\" or a Matrix ID)")?;
    let country = args.required_option("country")?;
    let kind = args.required_option("kind")?;
    let travel = args.required_option("travel")?;
    let apply_by = args.option("apply-by");
    let visa_expires = args.option("visa-expires");
    let passport_expires = args.option("passport-expires");
    args.finish()?;

    let today = today(call);
    let travel = parse_range(&travel, today).map_err(|problem| CommandError::Usage(format!("travel=: {problem}")))?;
    let day = |key: &str, text: Option<String>| -> Result<Option<NaiveDate>, CommandError> {
        text.map(|text| parse_date(&text, today).map_err(|problem| CommandError::Usage(format!("{key}=: {problem}")))).transpose()
    };
    let (apply_by, visa_expires, passport_expires) =
        (day("apply-by", apply_by)?, day("visa-expires", visa_expires)?, day("passport-expires", passport_expires)?);

    // A Matrix ID names someone in the directory: the case is then theirs too (`!visa list mine`).
    let (traveller, traveller_mxid) = if name.starts_with('@') {
        let member = call.store().staff().find(&name).await?.ok_or_else(|| {
            CommandError::Refused(format!(
                "{name} is not in the staff directory; give the traveller's name instead, such as \"Ayşe Yılmaz\"."
            ))
        })?;
        (member.name, Some(member.id))
    } else {
        (name, None)
    };
    let draft =
        Draft { traveller: &traveller, traveller_mxid, country: &country, kind: &kind, travel, apply_by, visa_expires, passport_expires };
    let trip = new_trip(draft, today, &call.context.settings.visa_kinds).map_err(CommandError::refusal)?;
    let id = call.store().visas().add(call.reminder_policy(), &trip, call.actor(), call.now()).await?;
    let case = call.store().visas().get(id).await?;
    // The office's managers hear of a passport or visa that will not do, not only the asker.
    let warned = warnings(&case.trip);
    let mut told = String::new();
    if !warned.is_empty() {
        let markdown = format!(
            "⚠️ **Visa case {id}** ({}, {}, travel {} – {}), opened by {}:\n\n{}\n\n`!visa show {id}`",
            crate::core::markdown::literal(&case.trip.traveller),
            crate::core::markdown::literal(&case.trip.country),
            case.trip.travel_from,
            case.trip.travel_to,
            call.actor(),
            warned.iter().map(|warning| format!("- {warning}")).collect::<Vec<_>>().join("\n")
        );
        let managers = call.store().staff().notify_office_managers(&call.reminder_policy().office_unit, &markdown, call.now()).await?;
        if managers > 0 {
            told = format!("\n\nThe warning was sent to the office's managers ({managers}).");
        }
    }
    Ok(Reply::new(format!("Visa case {id} is open.\n\n{}{told}", card(call, &case))))
}

async fn list(call: &Call<'_, '_>, mut args: Args) -> Outcome {
    let which = args.optional_word();
    args.finish()?;
    let today = today(call);
    let (filter, empty) = match which.as_deref() {
        None => (VisaFilter::Open, "There are no open visa cases.".to_string()),
        Some("due") => (VisaFilter::DueBy(due_horizon(today)), format!("No open visa case is due by {}.", due_horizon(today))),
        Some("mine") => (VisaFilter::Of(call.actor()), "You have no open visa cases (opened by you or for you).".to_string()),
        Some(other) => {
            return Err(CommandError::Usage(format!(
                "{} is not a list: use `!visa list`, `!visa list due` or `!visa list mine`",
                crate::core::markdown::code(other)
            )));
        }
    };
    let cases = call.store().visas().list(filter).await?;
    if cases.is_empty() {
        return Ok(Reply::new(empty));
    }
    let rows: Vec<Vec<String>> = cases
        .iter()
        .map(|case| {
            let trip = &case.trip;
            vec![
                case.id.to_string(),
                trip.traveller.clone(),
                trip.country.clone(),
                trip.kind.clone(),
                format!("{} – {}", trip.travel_from, trip.travel_to),
                or_dash(trip.apply_by),
                or_dash(trip.visa_expires),
                due(case, today).map(|due| due.describe(today)).unwrap_or_default(),
            ]
        })
        .collect();
    Ok(Reply::new(table(&["ID", "traveller", "country", "kind", "travel", "apply by", "visa expires", "due"], &rows)))
}

/// One case with its dates, what is due and what to watch.
fn card(call: &Call<'_, '_>, case: &VisaCase) -> String {
    let trip = &case.trip;
    let today = today(call);
    let traveller = match &trip.traveller_mxid {
        Some(mxid) => format!("{} ({mxid})", crate::core::markdown::literal(&trip.traveller)),
        None => crate::core::markdown::literal(&trip.traveller),
    };
    let mut lines = vec![
        format!(
            "**Visa case {}**: {traveller}, {} ({}), {}",
            case.id,
            crate::core::markdown::literal(&trip.country),
            crate::core::markdown::literal(&trip.kind),
            case.status.as_str()
        ),
        String::new(),
        format!("- travel: {} – {}", trip.travel_from, trip.travel_to),
        format!("- apply by: {}", or_dash(trip.apply_by)),
        format!("- visa expires: {}", or_dash(trip.visa_expires)),
        format!("- passport expires: {}", or_dash(trip.passport_expires)),
        format!("- opened by {} on {}", case.created_by, office_day(call, case.created_at)),
    ];
    match &case.status {
        CaseStatus::Open => lines.extend(due(case, today).map(|due| format!("- **due**: {}", due.describe(today)))),
        CaseStatus::Done { at, by } => lines.push(format!("- done by {by} on {}", office_day(call, *at))),
        CaseStatus::Cancelled { at, by } => lines.push(format!("- cancelled by {by} on {}", office_day(call, *at))),
    }
    let warnings = warnings(trip);
    if !warnings.is_empty() {
        lines.push(String::new());
        lines.extend(warnings.iter().map(|warning| format!("⚠️ Warning: {warning}.")));
    }
    lines.join("\n")
}

fn case_id(text: &str) -> Result<i64, CommandError> {
    text.trim_start_matches('#')
        .parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| CommandError::Usage(format!("'{text}' is not a visa case number")))
}

fn today(call: &Call<'_, '_>) -> NaiveDate {
    call.now().with_timezone(&call.zone()).date_naive()
}

fn office_day(call: &Call<'_, '_>, at: chrono::DateTime<chrono::Utc>) -> NaiveDate {
    at.with_timezone(&call.zone()).date_naive()
}

fn or_dash(day: Option<NaiveDate>) -> String {
    day.map(|day| day.to_string()).unwrap_or_else(|| "—".into())
}
