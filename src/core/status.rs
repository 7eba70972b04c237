//! The states a registered document can be in, and reading one typed on the command line.

/// Every status the register writes: `registered` on arrival, `answered` when an outgoing
/// letter answers it, `bounced` and `delivery-failed` for outgoing letters that did not
/// arrive, `annulled` by hand. A review flag is not a status: the review queue is
/// `docs list --review`.
pub const DOCUMENT_STATUSES: [&str; 5] = ["registered", "answered", "bounced", "delivery-failed", "annulled"];

/// A status as typed (any case, surrounding space), or a one-line message naming the ones there are.
pub fn parse_status(text: &str) -> Result<&'static str, String> {
    let wanted = text.trim().to_ascii_lowercase();
    if let Some(status) = DOCUMENT_STATUSES.iter().find(|s| **s == wanted) {
        return Ok(status);
    }
    let hint =
        if wanted == "review" || wanted == "flagged" { "; documents waiting for review are listed by `docs list --review`" } else { "" };
    Err(format!("there is no status '{}' (statuses: {}){hint}", text.trim(), DOCUMENT_STATUSES.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_read_or_named() {
        assert_eq!(parse_status(" Annulled "), Ok("annulled"));
        assert_eq!(parse_status("delivery-failed"), Ok("delivery-failed"));
        let review = parse_status("review").unwrap_err();
        assert!(review.contains("registered, answered") && review.contains("--review"), "{review}");
        let typo = parse_status("anulled").unwrap_err();
        assert!(typo.contains("'anulled'") && !typo.contains("--review"), "{typo}");
    }
}
