//! Amending an entry after registration by hand: annulling it, and changing one of the few
//! fields that may change. Whether it may be, and the history line it leaves, decided as data;
//! the store reads the entry, asks here, and writes the answer in one transaction.
//!
//! The words of a refusal (`AmendError`) are shown to whoever asked, as they are.

use super::confidentiality::Confidentiality;
use super::history::HistoryLine;

/// The status of an annulled entry: it stays in the register, visibly annulled.
pub const ANNULLED: &str = "annulled";

/// Why an entry cannot be amended as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmendError {
    #[error("an annulment needs a reason")]
    NoReason,
    #[error("{0} is already annulled")]
    AlreadyAnnulled(String),
    #[error("'{0}' cannot be changed; only status, unit, classification and confidentiality can")]
    NotChangeable(String),
    #[error("'{0}' is not a confidentiality level (public, internal, confidential, secret)")]
    NotALevel(String),
}

/// An annulment as the register writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Annulment {
    /// Kept beside the entry, as given.
    pub reason: String,
    pub history: HistoryLine,
}

/// The reason given for an annulment, refused when blank. Asked before the entry is read: an
/// annulment without a reason is refused whatever the entry.
pub fn annulment_reason(reason: &str) -> Result<&str, AmendError> {
    if reason.trim().is_empty() {
        return Err(AmendError::NoReason);
    }
    Ok(reason)
}

/// Annulling the entry `number`, in `status` now, for `reason`. An entry is annulled once.
pub fn annul(number: &str, status: &str, reason: &str) -> Result<Annulment, AmendError> {
    let reason = annulment_reason(reason)?;
    if status == ANNULLED {
        return Err(AmendError::AlreadyAnnulled(number.to_string()));
    }
    Ok(Annulment {
        reason: reason.to_string(),
        history: HistoryLine {
            action: "annulled",
            field: Some("status"),
            old_value: Some(status.to_string()),
            new_value: Some(ANNULLED.to_string()),
            reason: Some(reason.to_string()),
        },
    })
}

/// What a change by hand changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Changeable {
    /// The unit: a reroute (`core::due::reroute`), which also moves the letter's reminders.
    Unit,
    /// A field set to the value given, with a line in the history.
    Field(Field),
}

/// A field set as it is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Status,
    Classification,
    Confidentiality,
}

impl Field {
    /// Its name, in the history and as the register's column.
    pub fn name(self) -> &'static str {
        match self {
            Field::Status => "status",
            Field::Classification => "classification",
            Field::Confidentiality => "confidentiality",
        }
    }
}

/// Which field `field` names and whether `value` suits it, asked before the entry is read. Only
/// the status, the unit, the classification and the confidentiality change after registration;
/// the rest is what the letter was.
pub fn what_changes(field: &str, value: &str) -> Result<Changeable, AmendError> {
    let field = match field {
        "unit" => return Ok(Changeable::Unit),
        "status" => Field::Status,
        "classification" => Field::Classification,
        "confidentiality" => Field::Confidentiality,
        other => return Err(AmendError::NotChangeable(other.to_string())),
    };
    if field == Field::Confidentiality && Confidentiality::parse(value).is_none() {
        return Err(AmendError::NotALevel(value.to_string()));
    }
    Ok(Changeable::Field(field))
}

/// A field changed from `old` to `value`, as the register writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldChange {
    pub field: Field,
    pub value: String,
    pub history: HistoryLine,
}

/// Setting `field`, which holds `old`, to `value`, for `reason` when one is given.
pub fn change(field: Field, old: Option<&str>, value: &str, reason: Option<&str>) -> FieldChange {
    FieldChange {
        field,
        value: value.to_string(),
        history: HistoryLine {
            action: "changed",
            field: Some(field.name()),
            old_value: old.map(str::to_string),
            new_value: Some(value.to_string()),
            reason: reason.map(str::to_string),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NUMBER: &str = "IN-2026-000001";

    #[test]
    fn annulments_follow_the_table() {
        // (status now, reason) → the history line's old value and reason, or the refusal.
        type Case = (&'static str, &'static str, Result<(&'static str, &'static str), &'static str>);
        let cases: [Case; 5] = [
            ("registered", "sent to us by mistake", Ok(("registered", "sent to us by mistake"))),
            ("answered", " a duplicate of a paper letter ", Ok(("answered", " a duplicate of a paper letter "))),
            ("registered", "", Err("an annulment needs a reason")),
            ("registered", "   ", Err("an annulment needs a reason")),
            ("annulled", "again", Err("IN-2026-000001 is already annulled")),
        ];
        for (status, reason, wanted) in cases {
            let got = annul(NUMBER, status, reason);
            match wanted {
                Ok((old, why)) => {
                    let annulment = got.unwrap_or_else(|e| panic!("{status} {reason:?}: {e}"));
                    assert_eq!(annulment.reason, reason);
                    assert_eq!(
                        annulment.history,
                        HistoryLine {
                            action: "annulled",
                            field: Some("status"),
                            old_value: Some(old.into()),
                            new_value: Some("annulled".into()),
                            reason: Some(why.into()),
                        }
                    );
                }
                Err(problem) => assert_eq!(got.map_err(|e| e.to_string()), Err(problem.to_string()), "{status} {reason:?}"),
            }
        }
    }

    #[test]
    fn a_blank_reason_is_refused_before_the_entry_is_read() {
        assert_eq!(annulment_reason(" \t").map_err(|e| e.to_string()), Err("an annulment needs a reason".to_string()));
        assert_eq!(annulment_reason(" why "), Ok(" why "));
    }

    #[test]
    fn what_may_change_follows_the_table() {
        let cases = [
            ("unit", "finance", Ok(Changeable::Unit)),
            ("status", "in-progress", Ok(Changeable::Field(Field::Status))),
            ("classification", "05-01", Ok(Changeable::Field(Field::Classification))),
            ("confidentiality", "secret", Ok(Changeable::Field(Field::Confidentiality))),
            ("confidentiality", "top-secret", Err("'top-secret' is not a confidentiality level (public, internal, confidential, secret)")),
            ("subject", "x", Err("'subject' cannot be changed; only status, unit, classification and confidentiality can")),
            ("number", "IN-2026-000002", Err("'number' cannot be changed; only status, unit, classification and confidentiality can")),
        ];
        for (field, value, wanted) in cases {
            assert_eq!(what_changes(field, value).map_err(|e| e.to_string()), wanted.map_err(str::to_string), "{field} {value}");
        }
    }

    #[test]
    fn a_change_is_written_as_given_with_its_history_line() {
        let cases = [(Field::Classification, None, "05-01", None), (Field::Status, Some("registered"), "closed", Some("no answer needed"))];
        for (field, old, value, reason) in cases {
            let change = change(field, old, value, reason);
            assert_eq!((change.field, change.value.as_str()), (field, value));
            assert_eq!(
                change.history,
                HistoryLine {
                    action: "changed",
                    field: Some(field.name()),
                    old_value: old.map(str::to_string),
                    new_value: Some(value.to_string()),
                    reason: reason.map(str::to_string),
                }
            );
        }
    }
}
