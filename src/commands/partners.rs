//! `!partners [COUNTRY|KIND]`: the partner institutions, all or of one country or kind.

use crate::core::partner::{self, PartnerKind};
use crate::store::PartnerFilter;

use super::{Args, Call, CommandError, Outcome, Reply, table};

pub(super) async fn run(call: &Call<'_, '_>, mut args: Args) -> Outcome {
    let filter = match args.optional_word() {
        None => PartnerFilter::default(),
        Some(word) => filter(&word)?,
    };
    args.finish()?;
    let partners = call.store().partners().list(&filter).await?;
    if partners.is_empty() {
        return Ok(Reply::new(match (&filter.country, filter.kind) {
            (Some(country), _) => format!("No partners in {}.", crate::core::markdown::literal(country)),
            (None, Some(kind)) => format!("No partners of the kind {}.", kind.as_str()),
            (None, None) => "No partners yet: `!partner add` adds one.".to_string(),
        }));
    }
    let rows: Vec<Vec<String>> = partners
        .iter()
        .map(|p| vec![p.handle.clone(), p.name.clone(), p.country.clone(), p.kind.as_str().to_string(), p.domains.join(", ")])
        .collect();
    Ok(Reply::new(table(&["handle", "name", "country", "kind", "domains"], &rows).trim_end()))
}

/// A kind (`media`) or a country code (`TR`); kinds are words of more than two letters, so
/// the two never collide.
fn filter(word: &str) -> Result<PartnerFilter, CommandError> {
    if let Ok(kind) = PartnerKind::parse(word) {
        return Ok(PartnerFilter { kind: Some(kind), ..PartnerFilter::default() });
    }
    match partner::country(word) {
        Ok(country) => Ok(PartnerFilter { country: Some(country), ..PartnerFilter::default() }),
        Err(_) => Err(CommandError::Usage(format!("'{word}' is neither a country code (like TR) nor a kind ({})", PartnerKind::names()))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_word_filters_by_kind_or_by_country() {
        assert_eq!(filter("Media").unwrap().kind, Some(PartnerKind::Media));
        assert_eq!(filter("tr").unwrap().country.as_deref(), Some("TR"));
        assert!(filter("schools").unwrap_err().to_string().contains("neither a country code"));
    }
}
