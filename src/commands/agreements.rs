//! `!agreements`: the active agreements, soonest end first; `!agreements expiring [DAYS]`: those
//! that end within DAYS days (180 unless said), each with its notice deadline.

use chrono::NaiveDate;

use crate::core::agreement::{Agreement, DEFAULT_EXPIRING_DAYS, expiring_horizon, parse_days};
use crate::core::remind::days_phrase;

use super::{Args, Call, CommandError, Outcome, Reply, table};

pub(super) async fn run(call: &Call<'_, '_>, mut args: Args) -> Outcome {
    let today = call.now().with_timezone(&call.zone()).date_naive();
    match args.optional_word() {
        None => {
            args.finish()?;
            let agreements = call.store().agreements().active().await?;
            if agreements.is_empty() {
                return Ok(Reply::new("There are no active agreements: `!agreement add` records one."));
            }
            Ok(Reply::new(listing(&agreements, today)))
        }
        Some(word) if word.eq_ignore_ascii_case("expiring") => {
            let days = args.optional_word().map(|typed| parse_days(&typed).map_err(CommandError::usage)).transpose()?;
            args.finish()?;
            let days = days.unwrap_or(DEFAULT_EXPIRING_DAYS);
            let horizon = expiring_horizon(today, days);
            let agreements = call.store().agreements().expiring(today, horizon).await?;
            if agreements.is_empty() {
                return Ok(Reply::new(format!("No active agreement ends within {days} days (by {horizon}).")));
            }
            Ok(Reply::new(format!("**Agreements ending within {days} days** (by {horizon})\n\n{}", listing(&agreements, today))))
        }
        Some(other) => Err(CommandError::Usage(format!(
            "{} is not a list: use `!agreements` or `!agreements expiring [DAYS]`",
            crate::core::markdown::code(&other)
        ))),
    }
}

/// Agreements as a table: each with its end and its notice deadline, and how far off they are.
fn listing(agreements: &[Agreement], today: NaiveDate) -> String {
    let rows: Vec<Vec<String>> = agreements
        .iter()
        .map(|a| {
            let terms = &a.terms;
            let notice_by = match terms.notice_deadline() {
                Some(day) if day < today => format!("{day} (passed)"),
                Some(day) => format!("{day} ({})", days_phrase(day, today)),
                None => "—".to_string(),
            };
            vec![
                a.id.to_string(),
                format!("{} ({})", terms.partner, a.partner_name),
                terms.kind.label().to_string(),
                terms.start.to_string(),
                format!("{} ({})", terms.end, days_phrase(terms.end, today)),
                notice_by,
            ]
        })
        .collect();
    table(&["ID", "partner", "kind", "from", "ends", "notice by"], &rows)
}

/// The "Agreements" section of `!partner show`: the partner's agreements, the latest end first,
/// with the letters that carry them.
pub(super) async fn of_partner(call: &Call<'_, '_>, handle: &str) -> Result<String, CommandError> {
    let agreements = call.store().agreements().of_partner(handle).await?;
    let mut out = String::from("\n**Agreements**\n");
    if agreements.is_empty() {
        out.push_str(&format!("None recorded: `!agreement add {handle} kind=… start=… end=…` records one.\n"));
        return Ok(out);
    }
    let rows: Vec<Vec<String>> = agreements
        .iter()
        .map(|a| {
            let terms = &a.terms;
            let letters = terms.letters.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
            vec![
                a.id.to_string(),
                terms.kind.label().to_string(),
                terms.start.to_string(),
                terms.end.to_string(),
                terms.notice_deadline().map(|day| day.to_string()).unwrap_or_else(|| "—".into()),
                letters,
            ]
        })
        .collect();
    out.push_str(&table(&["ID", "kind", "from", "ends", "notice by", "letters"], &rows));
    Ok(out)
}
