//! Registration numbers: `IN-2026-000123`, one series per register and year.

use std::fmt;
use std::str::FromStr;
use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

/// Which way a document travels; each direction keeps its own register.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Incoming,
    Outgoing,
}

impl Direction {
    /// The register's prefix in a number.
    pub fn register(self) -> &'static str {
        match self {
            Direction::Incoming => "IN",
            Direction::Outgoing => "OUT",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Incoming => "incoming",
            Direction::Outgoing => "outgoing",
        }
    }

    pub fn parse(text: &str) -> Option<Direction> {
        match text {
            "incoming" => Some(Direction::Incoming),
            "outgoing" => Some(Direction::Outgoing),
            _ => None,
        }
    }
}

/// A registration number: register, year and a sequence that restarts at 1 each year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RegistrationNumber {
    pub direction: Direction,
    pub year: i32,
    pub sequence: i64,
}

impl fmt::Display for RegistrationNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}-{:06}", self.direction.register(), self.year, self.sequence)
    }
}

/// Numbers as they appear in text: in a subject tag, bracketed or not, any case.
static NUMBER_IN_TEXT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\b(IN|OUT)-(\d{4})-(\d{6,})\b").expect("number pattern compiles"));

/// Text that is not a registration number, as typed (trimmed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a registration number (expected like IN-2026-000123)")]
pub struct NotARegistrationNumber(pub String);

impl FromStr for RegistrationNumber {
    type Err = NotARegistrationNumber;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        let invalid = || NotARegistrationNumber(text.to_string());
        let caps = NUMBER_IN_TEXT.captures(text).ok_or_else(invalid)?;
        if caps.get(0).map(|m| m.as_str().len()) != Some(text.len()) {
            return Err(invalid());
        }
        number_from_captures(&caps).ok_or_else(invalid)
    }
}

fn number_from_captures(caps: &regex::Captures<'_>) -> Option<RegistrationNumber> {
    let direction = if caps[1].eq_ignore_ascii_case("IN") { Direction::Incoming } else { Direction::Outgoing };
    Some(RegistrationNumber { direction, year: caps[2].parse().ok()?, sequence: caps[3].parse().ok()? })
}

/// Every registration number named in a piece of text, in order of appearance.
pub fn numbers_in(text: &str) -> Vec<RegistrationNumber> {
    NUMBER_IN_TEXT.captures_iter(text).filter_map(|caps| number_from_captures(&caps)).collect()
}

/// The text with every registration number in it taken out (each leaves a space).
pub fn without_numbers(text: &str) -> String {
    NUMBER_IN_TEXT.replace_all(text, " ").into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_with_six_digits() {
        let n = RegistrationNumber { direction: Direction::Incoming, year: 2026, sequence: 123 };
        assert_eq!(n.to_string(), "IN-2026-000123");
        let out = RegistrationNumber { direction: Direction::Outgoing, year: 2027, sequence: 1_234_567 };
        assert_eq!(out.to_string(), "OUT-2027-1234567");
    }

    #[test]
    fn parses_and_rejects() {
        let n: RegistrationNumber = "in-2026-000123".parse().unwrap();
        assert_eq!(n.to_string(), "IN-2026-000123");
        assert!("IN-2026-12".parse::<RegistrationNumber>().is_err());
        assert!("xIN-2026-000123".parse::<RegistrationNumber>().is_err());
        assert!("IN-2026-000123 and more".parse::<RegistrationNumber>().is_err());
    }

    #[test]
    fn finds_numbers_behind_localised_reply_prefixes() {
        for subject in [
            "Re: [IN-2026-000123] Erasmus+ agreement",
            "AW: AW: [IN-2026-000123] Erasmus+ agreement",
            "Ynt: Fwd: [IN-2026-000123]",
            "Отв: [IN-2026-000123] Соглашение",
            "RE:[in-2026-000123]",
        ] {
            assert_eq!(numbers_in(subject).len(), 1, "{subject}");
            assert_eq!(numbers_in(subject)[0].sequence, 123, "{subject}");
        }
        assert!(numbers_in("Invoice XIN-2026-000123X").is_empty());
    }

    #[test]
    fn numbers_come_out_of_a_search_text() {
        assert_eq!(numbers_in("in-2026-000123")[0].to_string(), "IN-2026-000123");
        assert_eq!(without_numbers("visa IN-2026-000123 out-2026-000045").split_whitespace().collect::<Vec<_>>(), ["visa"]);
    }
}
