//! The file plan: the classes documents are filed under, how long each is kept, from when, and
//! what happens when that time has run (MoReq2010's disposal schedule: trigger, period, action).

use std::fmt;
use std::str::FromStr;

use chrono::{Days, Months, NaiveDate};
use serde::Serialize;

/// The classes of the file plan, and the one a document without a classification is filed under.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FilePlan {
    pub default_class: String,
    pub classes: Vec<Class>,
}

impl FilePlan {
    pub fn class(&self, code: &str) -> Option<&Class> {
        self.classes.iter().find(|class| class.code == code)
    }

    /// The class a document is filed under: its classification, or the plan's default.
    pub fn class_of<'a>(&'a self, classification: Option<&'a str>) -> &'a str {
        classification.filter(|code| !code.trim().is_empty()).unwrap_or(&self.default_class)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Class {
    /// As registry staff write it, e.g. `03-02`.
    pub code: String,
    pub title: String,
    pub retention: Retention,
    pub trigger: Trigger,
    pub action: Action,
    /// A vital record: needed to run the university; flagged in every list.
    pub vital: bool,
}

/// How long a class is kept once its clock starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(into = "String")]
pub enum Retention {
    Permanent,
    Years(u32),
    Months(u32),
    Days(u32),
}

impl Retention {
    /// The day the retention ends for a clock started on `start`; `None` when kept permanently
    /// (or beyond the calendar).
    pub fn ends(self, start: NaiveDate) -> Option<NaiveDate> {
        match self {
            Retention::Permanent => None,
            Retention::Years(n) => start.checked_add_months(Months::new(n.checked_mul(12)?)),
            Retention::Months(n) => start.checked_add_months(Months::new(n)),
            Retention::Days(n) => start.checked_add_days(Days::new(u64::from(n))),
        }
    }
}

/// A retention as staff write it that is none of `permanent`, `10y`, `6m`, `30d`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("retention must be \"permanent\" or a period such as \"10y\", \"6m\" or \"30d\", not \"{0}\"")]
pub struct RetentionError(pub String);

impl FromStr for Retention {
    type Err = RetentionError;

    fn from_str(text: &str) -> Result<Retention, RetentionError> {
        let trimmed = text.trim();
        if trimmed.eq_ignore_ascii_case("permanent") {
            return Ok(Retention::Permanent);
        }
        let error = || RetentionError(text.to_string());
        let unit = trimmed.chars().last().ok_or_else(error)?;
        let amount = &trimmed[..trimmed.len() - unit.len_utf8()];
        if amount.is_empty() || !amount.bytes().all(|b| b.is_ascii_digit()) {
            return Err(error());
        }
        let n: u32 = amount.parse().map_err(|_| error())?;
        match unit.to_ascii_lowercase() {
            'y' if n <= 1000 => Ok(Retention::Years(n)),
            'm' if n <= 12_000 => Ok(Retention::Months(n)),
            'd' if n <= 365_000 => Ok(Retention::Days(n)),
            _ => Err(error()),
        }
    }
}

impl fmt::Display for Retention {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Retention::Permanent => f.write_str("permanent"),
            Retention::Years(n) => write!(f, "{n}y"),
            Retention::Months(n) => write!(f, "{n}m"),
            Retention::Days(n) => write!(f, "{n}d"),
        }
    }
}

impl From<Retention> for String {
    fn from(retention: Retention) -> String {
        retention.to_string()
    }
}

/// When the retention clock starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Trigger {
    /// When the case closes (a yearly case at the cutoff): "closure + N years".
    CaseClosed,
    /// When each document is registered; a case is due when its last document's time has run.
    Registered,
}

impl Trigger {
    pub const NAMES: [&'static str; 2] = ["case-closed", "registered"];

    pub fn parse(text: &str) -> Option<Trigger> {
        match text.trim() {
            "case-closed" => Some(Trigger::CaseClosed),
            "registered" => Some(Trigger::Registered),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::CaseClosed => "case-closed",
            Trigger::Registered => "registered",
        }
    }
}

/// What happens when the retention has run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Erased by an approved disposal; the entry stays.
    Destroy,
    /// Looked at again by a registrar, who keeps it longer or lets it be destroyed.
    Review,
    /// Handed to the archive as a package, then erased here.
    Transfer,
}

impl Action {
    pub const NAMES: [&'static str; 3] = ["destroy", "review", "transfer"];

    pub fn parse(text: &str) -> Option<Action> {
        match text.trim() {
            "destroy" => Some(Action::Destroy),
            "review" => Some(Action::Review),
            "transfer" => Some(Action::Transfer),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Action::Destroy => "destroy",
            Action::Review => "review",
            Action::Transfer => "transfer",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn retentions_read_as_staff_write_them_and_end_on_the_calendar() {
        let cases = [
            ("permanent", Some(Retention::Permanent), None),
            ("10y", Some(Retention::Years(10)), Some(day(2036, 12, 31))),
            ("6m", Some(Retention::Months(6)), Some(day(2027, 6, 30))),
            ("30d", Some(Retention::Days(30)), Some(day(2027, 1, 30))),
            ("0d", Some(Retention::Days(0)), Some(day(2026, 12, 31))),
            (" 5Y ", Some(Retention::Years(5)), Some(day(2031, 12, 31))),
            ("10", None, None),
            ("y", None, None),
            ("-1y", None, None),
            ("1.5y", None, None),
            ("10w", None, None),
            ("", None, None),
            ("forever", None, None),
        ];
        for (text, parsed, ends) in cases {
            let got = text.parse::<Retention>().ok();
            assert_eq!(got, parsed, "{text:?}");
            if let Some(retention) = got {
                assert_eq!(retention.ends(day(2026, 12, 31)), ends, "{text:?}");
                if text.trim() == text && text != " 5Y " {
                    assert_eq!(retention.to_string(), text);
                }
            }
        }
    }

    #[test]
    fn a_month_from_the_end_of_a_long_month_ends_on_the_last_day_of_the_short_one() {
        assert_eq!(Retention::Months(1).ends(day(2027, 1, 31)), Some(day(2027, 2, 28)));
        assert_eq!(Retention::Years(1).ends(day(2028, 2, 29)), Some(day(2029, 2, 28)));
    }

    #[test]
    fn a_document_without_a_classification_goes_to_the_default_class() {
        let plan = FilePlan { default_class: "07-01".into(), classes: Vec::new() };
        assert_eq!(plan.class_of(None), "07-01");
        assert_eq!(plan.class_of(Some(" ")), "07-01");
        assert_eq!(plan.class_of(Some("03-02")), "03-02");
    }
}
