//! `!cases [CODE] [open|closed]`: the case files, the newest first, with how many documents each
//! holds; `!case show CASE` has one in full.

use crate::core::markdown;
use crate::store::CaseFilter;

use super::case::{plan_in_force, title};
use super::{Args, Call, CommandError, Outcome, Reply, table};

/// Cases a reply lists; the rest are counted.
const CASES_SHOWN: usize = 30;

pub(super) async fn run(call: &Call<'_, '_>, mut args: Args) -> Outcome {
    let plan = plan_in_force(call).await?;
    let mut filter = CaseFilter::default();
    while let Some(word) = args.optional_word() {
        match word.to_ascii_lowercase().as_str() {
            "open" if filter.open.is_none() => filter.open = Some(true),
            "closed" if filter.open.is_none() => filter.open = Some(false),
            _ if filter.code.is_none() && plan.class(&word).is_some() => filter.code = Some(word),
            _ => {
                return Err(CommandError::Usage(format!(
                    "{} is neither a class of the file plan nor open or closed",
                    markdown::code(&word)
                )));
            }
        }
    }
    args.finish()?;
    let cases = call.store().archive().list(&filter).await?;
    if cases.is_empty() {
        return Ok(Reply::new("No case matches: `!case open CODE TITLE…` opens one."));
    }
    let rows: Vec<Vec<String>> = cases
        .iter()
        .take(CASES_SHOWN)
        .map(|case| {
            vec![
                case.name.clone(),
                case.closed_on.as_ref().map(|on| format!("closed {on}")).unwrap_or_else(|| "open".into()),
                case.unit.clone().unwrap_or_else(|| "-".into()),
                case.documents.to_string(),
                title(plan, case),
            ]
        })
        .collect();
    let mut reply = table(&["case", "state", "unit", "documents", "title"], &rows);
    if cases.len() > CASES_SHOWN {
        reply.push_str(&format!("\n…and {} more: name a class or open/closed to see fewer.", cases.len() - CASES_SHOWN));
    }
    Ok(Reply::new(format!("**Cases** ({})\n\n{reply}", cases.len())))
}
