//! Case files: their names, when a class's yearly case closes, and when a case's retention ends.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, Days, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

use super::plan::{Retention, Trigger};

/// A case's name: `03-02/2026`, the class's yearly case, or `03-02/2026-4`, a named case.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CaseName {
    pub code: String,
    pub year: i32,
    /// A named case's number in its class and year; `None` for the yearly case.
    pub sequence: Option<u32>,
}

impl CaseName {
    pub fn yearly(code: &str, year: i32) -> CaseName {
        CaseName { code: code.to_string(), year, sequence: None }
    }
}

impl fmt::Display for CaseName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.sequence {
            None => write!(f, "{}/{}", self.code, self.year),
            Some(n) => write!(f, "{}/{}-{}", self.code, self.year, n),
        }
    }
}

/// Text that is not a case's name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a case: cases are named CODE/YEAR (a class's yearly case, e.g. 03-02/2026) or CODE/YEAR-N")]
pub struct CaseNameError(pub String);

impl FromStr for CaseName {
    type Err = CaseNameError;

    fn from_str(text: &str) -> Result<CaseName, CaseNameError> {
        let error = || CaseNameError(text.to_string());
        let (code, rest) = text.trim().rsplit_once('/').ok_or_else(error)?;
        let code = code.trim();
        if code.is_empty() || code.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(error());
        }
        let (year, sequence) = match rest.split_once('-') {
            Some((year, n)) => (year, Some(n)),
            None => (rest, None),
        };
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(year) || year.len() != 4 || sequence.is_some_and(|n| !digits(n)) {
            return Err(error());
        }
        let year = year.parse().map_err(|_| error())?;
        let sequence = sequence.map(str::parse).transpose().map_err(|_| error())?;
        if sequence == Some(0) {
            return Err(error());
        }
        Ok(CaseName { code: code.to_string(), year, sequence })
    }
}

/// The day of the year on which the yearly cases close (`[archive] cutoff`, `12-31` unless set),
/// at the end of that day in the office's zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cutoff {
    month: u32,
    day: u32,
}

impl Default for Cutoff {
    fn default() -> Cutoff {
        Cutoff { month: 12, day: 31 }
    }
}

/// A cutoff that is not a day of every year as `MM-DD`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cutoff must be a day of every year as MM-DD (e.g. \"12-31\"), not \"{0}\"")]
pub struct CutoffError(pub String);

impl FromStr for Cutoff {
    type Err = CutoffError;

    fn from_str(text: &str) -> Result<Cutoff, CutoffError> {
        let error = || CutoffError(text.to_string());
        let (month, day) = text.trim().split_once('-').ok_or_else(error)?;
        let month: u32 = month.parse().map_err(|_| error())?;
        let day: u32 = day.parse().map_err(|_| error())?;
        // 2027 is not a leap year: 02-29 is refused, as it is not a day of every year.
        NaiveDate::from_ymd_opt(2027, month, day).ok_or_else(error)?;
        Ok(Cutoff { month, day })
    }
}

impl fmt::Display for Cutoff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}-{:02}", self.month, self.day)
    }
}

impl Cutoff {
    /// The day the yearly cases of `year` close: the cutoff day of that year, or of the next
    /// when the cutoff comes before the year has ended (an academic year's `08-31`).
    pub fn closing_day(self, year: i32) -> Option<NaiveDate> {
        let this_year = NaiveDate::from_ymd_opt(year, self.month, self.day)?;
        if (self.month, self.day) == (12, 31) { Some(this_year) } else { NaiveDate::from_ymd_opt(year + 1, self.month, self.day) }
    }

    /// The moment a year's yearly cases close: the end of their closing day in `zone`.
    pub fn closes_at(self, year: i32, zone: Tz) -> Option<DateTime<Utc>> {
        let next_day = self.closing_day(year)?.checked_add_days(Days::new(1))?;
        let midnight = next_day.and_hms_opt(0, 0, 0)?;
        zone.from_local_datetime(&midnight).earliest().map(|at| at.with_timezone(&Utc))
    }

    /// The last year whose yearly cases have closed by `now`, if any has.
    pub fn last_closed_year(self, now: DateTime<Utc>, zone: Tz) -> Option<i32> {
        let this_year = now.with_timezone(&zone).year();
        (this_year - 2..=this_year).rev().find(|&year| self.closes_at(year, zone).is_some_and(|at| at <= now))
    }

    /// When the next yearly cases close after `now`.
    pub fn next_closing(self, now: DateTime<Utc>, zone: Tz) -> Option<DateTime<Utc>> {
        let this_year = now.with_timezone(&zone).year();
        (this_year - 1..=this_year + 1).filter_map(|year| self.closes_at(year, zone)).find(|&at| at > now)
    }
}

/// What a case's retention is counted from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    /// The day the case closed, if it has.
    pub closed_on: Option<NaiveDate>,
    /// The day its last document was registered, if it holds any.
    pub last_registered_on: Option<NaiveDate>,
    /// A review's new retention and the day it was given.
    pub reviewed: Option<(Retention, NaiveDate)>,
}

/// The day a case's retention ends: `None` while the clock has not started (an open case of a
/// `case-closed` class) or when the case is kept permanently.
pub fn disposal_due(retention: Retention, trigger: Trigger, clock: Clock) -> Option<NaiveDate> {
    if let Some((kept_for, reviewed_on)) = clock.reviewed {
        return kept_for.ends(reviewed_on);
    }
    let start = match trigger {
        Trigger::CaseClosed => clock.closed_on?,
        Trigger::Registered => clock.last_registered_on.or(clock.closed_on)?,
    };
    retention.ends(start)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn case_names_read_and_print_alike() {
        for (text, parsed) in [
            ("03-02/2026", Some(CaseName::yearly("03-02", 2026))),
            ("03-02/2026-4", Some(CaseName { code: "03-02".into(), year: 2026, sequence: Some(4) })),
            (" 01-01/2030 ", Some(CaseName::yearly("01-01", 2030))),
            ("03-02", None),
            ("03-02/26", None),
            ("03-02/2026-", None),
            ("03-02/2026-0", None),
            ("03-02/2026-x", None),
            ("/2026", None),
            ("a b/2026", None),
        ] {
            let got = text.parse::<CaseName>().ok();
            assert_eq!(got, parsed, "{text:?}");
            if let Some(name) = got {
                assert_eq!(name.to_string(), text.trim());
            }
        }
    }

    #[test]
    fn a_yearly_case_closes_at_the_end_of_the_cutoff_day_in_the_office_zone() {
        let zone = chrono_tz::Asia::Baku; // UTC+4
        let cutoff = Cutoff::default();
        assert_eq!(cutoff.closing_day(2026), Some(day(2026, 12, 31)));
        let at = cutoff.closes_at(2026, zone).unwrap();
        assert_eq!(at.to_rfc3339(), "2026-12-31T20:00:00+00:00");
        assert_eq!(cutoff.last_closed_year(at - chrono::Duration::seconds(1), zone), Some(2025));
        assert_eq!(cutoff.last_closed_year(at, zone), Some(2026));
        assert_eq!(cutoff.next_closing(at - chrono::Duration::seconds(1), zone), Some(at));
        assert_eq!(cutoff.next_closing(at, zone), cutoff.closes_at(2027, zone));
    }

    #[test]
    fn an_academic_cutoff_closes_a_year_in_the_next() {
        let cutoff: Cutoff = "08-31".parse().unwrap();
        assert_eq!(cutoff.closing_day(2026), Some(day(2027, 8, 31)));
        assert_eq!(cutoff.to_string(), "08-31");
        assert!("02-29".parse::<Cutoff>().is_err());
        assert!("13-01".parse::<Cutoff>().is_err());
        assert!("12/31".parse::<Cutoff>().is_err());
    }

    #[test]
    fn retention_runs_from_closing_or_from_the_last_registration() {
        let closed = Clock { closed_on: Some(day(2026, 12, 31)), last_registered_on: Some(day(2026, 12, 20)), reviewed: None };
        let open = Clock { closed_on: None, ..closed };
        assert_eq!(disposal_due(Retention::Days(30), Trigger::CaseClosed, closed), Some(day(2027, 1, 30)));
        assert_eq!(disposal_due(Retention::Days(30), Trigger::CaseClosed, open), None);
        assert_eq!(disposal_due(Retention::Days(30), Trigger::Registered, open), Some(day(2027, 1, 19)));
        assert_eq!(disposal_due(Retention::Permanent, Trigger::CaseClosed, closed), None);
        let reviewed = Clock { reviewed: Some((Retention::Years(5), day(2037, 1, 10))), ..closed };
        assert_eq!(disposal_due(Retention::Years(10), Trigger::CaseClosed, reviewed), Some(day(2042, 1, 10)));
    }
}
