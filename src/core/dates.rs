//! Dates and moments as people type them in chat, read in the office's time zone.
//!
//! Written on chrono rather than taken from `interim` (the maintained fork of `chrono-english`):
//! interim has no `in 3 weeks` form, reads `15.12.2026` as an informal time (`15.12` = 15:12),
//! and in its British dialect `next friday` is the Friday of next week, while the office means
//! the next Friday after today. The forms people use here are few; a table of them is simpler
//! than bending a general parser and its dialects.

use chrono::{DateTime, Datelike, Days, Months, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;

/// The accepted forms, as one line for error messages.
pub const DATE_FORMS: &str = "use 2026-12-15, 15.12.2026, today, tomorrow, yesterday, in 3 days|weeks|months, friday or next friday";

/// Why typed text is not a date, a moment or a range; each variant holds the text as typed
/// (trimmed), and its Display is the sentence a reply shows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DateError {
    #[error("'{0}' is not a date: {DATE_FORMS}")]
    NotADate(String),
    #[error("'{0}' is too far away")]
    TooFarAway(String),
    #[error("'{0}' is not a date and time: {DATE_FORMS}, optionally followed by HH:MM (2026-12-15 14:30, tomorrow 9:00)")]
    NotAMoment(String),
    /// A local time that the clocks skip when they go forward.
    #[error("'{moment}' does not exist in {zone} (the clocks skip it)")]
    SkippedByClocks { moment: String, zone: Tz },
    #[error("'{0}' is not a date range: use START..END, such as 2026-12-15..2026-12-20")]
    NotARange(String),
    #[error("the range '{0}' ends before it starts")]
    Backwards(String),
}

/// A moment given as a date alone: the start of an office working day.
const DEFAULT_HOUR: u32 = 9;

/// Reads a calendar day: `2026-12-15`, `15.12.2026`, `today`, `tomorrow`, `yesterday`,
/// `in N days|weeks|months`, a weekday (`friday`, `fri`, `next friday`: the next one after today).
pub fn parse_date(text: &str, today: NaiveDate) -> Result<NaiveDate, DateError> {
    let not_a_date = || DateError::NotADate(text.trim().to_string());
    let lowered = text.trim().to_lowercase();
    let words: Vec<&str> = lowered.split_whitespace().collect();
    match words.as_slice() {
        ["today"] => Ok(today),
        ["tomorrow"] => today.succ_opt().ok_or_else(not_a_date),
        ["yesterday"] => today.pred_opt().ok_or_else(not_a_date),
        ["in", count, unit] => {
            let count: u32 = count.parse().map_err(|_| not_a_date())?;
            let offset = Offset::from_unit(unit).ok_or_else(not_a_date)?;
            offset.add_to(today, count).ok_or_else(|| DateError::TooFarAway(text.trim().to_string()))
        }
        ["next", name] => weekday(name).map(|day| next_weekday(today, day)).ok_or_else(not_a_date),
        [single] => weekday(single).map(|day| next_weekday(today, day)).or_else(|| absolute_date(single)).ok_or_else(not_a_date),
        _ => Err(not_a_date()),
    }
}

/// Reads an instant: a date form of [`parse_date`] with an optional time `HH:MM`, after a space or
/// a `T` (`2026-12-15 14:30`, `tomorrow 9:00`, `15.12.2026T10:00`); a date alone means 09:00 in
/// `zone`. `in N minutes|hours|days|weeks|months` without a time counts from `now` to the second,
/// as a reminder set "in 2 hours" is meant.
pub fn parse_moment(text: &str, now: DateTime<Utc>, zone: Tz) -> Result<DateTime<Utc>, DateError> {
    let trimmed = text.trim();
    let local_now = now.with_timezone(&zone);
    if let Some(moment) = relative_moment(trimmed, now, zone)? {
        return Ok(moment);
    }
    let (date_text, time) = split_time(trimmed);
    let date = parse_date(date_text, local_now.date_naive()).map_err(|_| DateError::NotAMoment(trimmed.to_string()))?;
    let time = time.unwrap_or_else(|| NaiveTime::from_hms_opt(DEFAULT_HOUR, 0, 0).expect("09:00 exists"));
    in_zone(date.and_time(time), zone).ok_or_else(|| DateError::SkippedByClocks { moment: trimmed.to_string(), zone })
}

/// Reads `DATE..DATE` (each side a form of [`parse_date`]); the end is not before the start.
pub fn parse_range(text: &str, today: NaiveDate) -> Result<(NaiveDate, NaiveDate), DateError> {
    let trimmed = text.trim();
    let (start, end) = trimmed.split_once("..").ok_or_else(|| DateError::NotARange(trimmed.to_string()))?;
    let (start, end) = (parse_date(start, today)?, parse_date(end, today)?);
    if end < start {
        return Err(DateError::Backwards(trimmed.to_string()));
    }
    Ok((start, end))
}

#[derive(Clone, Copy)]
enum Offset {
    Minutes,
    Hours,
    Days,
    Weeks,
    Months,
}

impl Offset {
    fn from_unit(unit: &str) -> Option<Offset> {
        Some(match unit {
            "day" | "days" => Offset::Days,
            "week" | "weeks" => Offset::Weeks,
            "month" | "months" => Offset::Months,
            _ => return None,
        })
    }

    fn from_moment_unit(unit: &str) -> Option<Offset> {
        match unit {
            "minute" | "minutes" | "min" | "mins" => Some(Offset::Minutes),
            "hour" | "hours" => Some(Offset::Hours),
            other => Offset::from_unit(other),
        }
    }

    /// Calendar arithmetic; a month from the 31st lands on the month's last day.
    fn add_to(self, day: NaiveDate, count: u32) -> Option<NaiveDate> {
        match self {
            Offset::Minutes | Offset::Hours => None,
            Offset::Days => day.checked_add_days(Days::new(count.into())),
            Offset::Weeks => day.checked_add_days(Days::new(u64::from(count) * 7)),
            Offset::Months => day.checked_add_months(Months::new(count)),
        }
    }
}

/// `in N unit` with no time after it, counted from `now`; `None` when the text is another form.
fn relative_moment(text: &str, now: DateTime<Utc>, zone: Tz) -> Result<Option<DateTime<Utc>>, DateError> {
    let lowered = text.to_lowercase();
    let words: Vec<&str> = lowered.split_whitespace().collect();
    let ["in", count, unit] = words.as_slice() else { return Ok(None) };
    let (Ok(count), Some(offset)) = (count.parse::<u32>(), Offset::from_moment_unit(unit)) else { return Ok(None) };
    let too_far = || DateError::TooFarAway(text.to_string());
    let moment = match offset {
        Offset::Minutes => now.checked_add_signed(chrono::Duration::minutes(count.into())),
        Offset::Hours => now.checked_add_signed(chrono::Duration::hours(count.into())),
        // Days and months are counted on the office's calendar, so "in 1 month" keeps the wall-clock time.
        Offset::Days | Offset::Weeks | Offset::Months => {
            let local = now.with_timezone(&zone).naive_local();
            let day = offset.add_to(local.date(), count).ok_or_else(too_far)?;
            in_zone(day.and_time(local.time()), zone)
        }
    };
    moment.map(Some).ok_or_else(too_far)
}

/// Splits a trailing `HH:MM` off, after a space or a `T`.
fn split_time(text: &str) -> (&str, Option<NaiveTime>) {
    for separator in [' ', 'T', 't'] {
        if let Some((date, time)) = text.rsplit_once(separator)
            && let Some(time) = clock_time(time)
        {
            return (date.trim_end(), Some(time));
        }
    }
    (text, None)
}

fn clock_time(text: &str) -> Option<NaiveTime> {
    let (hours, minutes) = text.split_once(':')?;
    let all_digits = |s: &str| (1..=2).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(hours) || minutes.len() != 2 || !all_digits(minutes) {
        return None;
    }
    NaiveTime::from_hms_opt(hours.parse().ok()?, minutes.parse().ok()?, 0)
}

fn absolute_date(text: &str) -> Option<NaiveDate> {
    let iso = |s: &str| s.len() == 10 && s.as_bytes()[4] == b'-';
    let dotted = |s: &str| s.split('.').count() == 3;
    if iso(text) {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
    } else if dotted(text) {
        NaiveDate::parse_from_str(text, "%d.%m.%Y").ok().filter(|d| d.year() >= 1000)
    } else {
        None
    }
}

fn weekday(word: &str) -> Option<Weekday> {
    word.parse::<Weekday>().ok()
}

/// The next `day` strictly after `today`: on a Friday, "friday" means a week later.
fn next_weekday(today: NaiveDate, day: Weekday) -> NaiveDate {
    let ahead = (day.num_days_from_monday() + 7 - today.weekday().num_days_from_monday()) % 7;
    let ahead = if ahead == 0 { 7 } else { ahead };
    today + Days::new(ahead.into())
}

/// A wall-clock time in the zone; the earlier one when clocks go back, none when they skip it.
fn in_zone(local: NaiveDateTime, zone: Tz) -> Option<DateTime<Utc>> {
    zone.from_local_datetime(&local).earliest().map(|at| at.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    /// 2026-12-01 is a Tuesday.
    const TUESDAY: (i32, u32, u32) = (2026, 12, 1);

    #[test]
    fn date_forms_from_a_tuesday() {
        let today = day(TUESDAY.0, TUESDAY.1, TUESDAY.2);
        assert_eq!(today.weekday(), Weekday::Tue);
        let cases = [
            ("2026-12-15", day(2026, 12, 15)),
            ("15.12.2026", day(2026, 12, 15)),
            ("5.1.2027", day(2027, 1, 5)),
            ("  Today ", today),
            ("TOMORROW", day(2026, 12, 2)),
            ("yesterday", day(2026, 11, 30)),
            ("in 3 days", day(2026, 12, 4)),
            ("in 1 week", day(2026, 12, 8)),
            ("in 3 weeks", day(2026, 12, 22)),
            ("in 2 months", day(2027, 2, 1)),
            ("in 0 days", today),
            ("friday", day(2026, 12, 4)),
            ("next Friday", day(2026, 12, 4)),
            ("fri", day(2026, 12, 4)),
            ("wednesday", day(2026, 12, 2)),
            ("monday", day(2026, 12, 7)),
            ("tuesday", day(2026, 12, 8)),
            ("next tuesday", day(2026, 12, 8)),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_date(text, today), Ok(expected), "{text}");
        }
    }

    #[test]
    fn a_month_from_the_last_of_january_is_the_last_of_february() {
        assert_eq!(parse_date("in 1 month", day(2027, 1, 31)), Ok(day(2027, 2, 28)));
        assert_eq!(parse_date("in 1 month", day(2028, 1, 31)), Ok(day(2028, 2, 29)));
        assert_eq!(parse_date("in 3 months", day(2026, 11, 30)), Ok(day(2027, 2, 28)));
    }

    #[test]
    fn what_is_not_a_date_is_refused_in_one_line_naming_the_forms() {
        let today = day(TUESDAY.0, TUESDAY.1, TUESDAY.2);
        for text in [
            "",
            "someday",
            "2026-13-01",
            "2026-02-30",
            "31.02.2026",
            "15/12/2026",
            "in three days",
            "in 3 fortnights",
            "in -1 days",
            "next",
            "next month",
            "friday 2",
            "26-12-15",
            "1.1.26",
        ] {
            let error = parse_date(text, today).expect_err(text).to_string();
            assert!(error.contains("is not a date"), "{text}: {error}");
            assert!(error.contains("next friday") && !error.contains('\n'), "{error}");
        }
        assert!(parse_date("in 4000000000 days", today).expect_err("huge").to_string().contains("too far"));
    }

    #[test]
    fn moments_default_to_nine_in_the_office() {
        let baku = chrono_tz::Asia::Baku;
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap(); // 13:00 in Baku
        let at = |y, m, d, h, min| Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap();
        let cases = [
            ("2026-12-15 14:30", at(2026, 12, 15, 10, 30)),
            ("tomorrow 9:00", at(2026, 12, 2, 5, 0)),
            ("15.12.2026T10:00", at(2026, 12, 15, 6, 0)),
            ("2026-12-15t10:00", at(2026, 12, 15, 6, 0)),
            ("next friday  18:05", at(2026, 12, 4, 14, 5)),
            ("2026-12-15", at(2026, 12, 15, 5, 0)),
            ("today", at(2026, 12, 1, 5, 0)),
            ("in 3 days 8:00", at(2026, 12, 4, 4, 0)),
            ("in 90 minutes", at(2026, 12, 1, 10, 30)),
            ("in 2 hours", at(2026, 12, 1, 11, 0)),
            ("in 1 week", at(2026, 12, 8, 9, 0)),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_moment(text, now, baku), Ok(expected), "{text}");
        }
    }

    #[test]
    fn a_date_crossing_midnight_in_the_zone_is_the_office_day() {
        // 21:00 UTC on 31 December is already 1 January in Baku.
        let now = Utc.with_ymd_and_hms(2026, 12, 31, 21, 0, 0).unwrap();
        let expected = Utc.with_ymd_and_hms(2027, 1, 2, 5, 0, 0).unwrap();
        assert_eq!(parse_moment("tomorrow", now, chrono_tz::Asia::Baku), Ok(expected));
    }

    #[test]
    fn bad_moments_are_refused() {
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap();
        let baku = chrono_tz::Asia::Baku;
        for text in ["tomorrow 25:00", "tomorrow 9:60", "tomorrow 9", "soon", "2026-12-15 14:30 extra", "in 2 fortnights"] {
            let error = parse_moment(text, now, baku).expect_err(text).to_string();
            assert!(error.contains("is not a date and time"), "{text}: {error}");
        }
        // 02:30 on 29 March 2026 does not exist in Berlin: the clocks jump from 02:00 to 03:00.
        let error = parse_moment("2026-03-29 02:30", now, chrono_tz::Europe::Berlin).expect_err("gap").to_string();
        assert!(error.contains("does not exist"), "{error}");
    }

    #[test]
    fn ranges_run_forwards() {
        let today = day(TUESDAY.0, TUESDAY.1, TUESDAY.2);
        assert_eq!(parse_range("2026-12-15..2026-12-20", today), Ok((day(2026, 12, 15), day(2026, 12, 20))));
        assert_eq!(parse_range("15.12.2026..15.12.2026", today), Ok((day(2026, 12, 15), day(2026, 12, 15))));
        assert_eq!(parse_range("friday..in 2 weeks", today), Ok((day(2026, 12, 4), day(2026, 12, 15))));
        assert!(parse_range("2026-12-20..2026-12-15", today).expect_err("backwards").to_string().contains("ends before it starts"));
        assert!(parse_range("2026-12-15", today).expect_err("no dots").to_string().contains("START..END"));
        assert!(parse_range("2026-12-15..someday", today).expect_err("bad end").to_string().contains("'someday' is not a date"));
    }
}
