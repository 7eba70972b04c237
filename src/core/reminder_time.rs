//! The times of personal reminders as people type them: WHEN (`2026-12-15 14:30`,
//! `tomorrow 9:00`, `in 2 hours`) at the start of `!remind me WHEN TEXT`, unquoted or quoted,
//! and a snooze's length (`30m`, `2h`, `2d`, `1w`). Pure: the clock and the zone come in.
//!
//! The date forms are `core::dates`'; this module only finds where WHEN ends and the text
//! begins, and reads durations.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

use super::dates::{DateError, parse_moment};

/// The most words a WHEN takes unquoted (`in 3 days at 8:00`, `next friday 18:05`).
const MAX_WHEN_WORDS: usize = 5;

/// The longest snooze: a year. Longer is a new reminder, not a snooze.
const MAX_SNOOZE_DAYS: i64 = 366;

/// The accepted durations, for error messages.
pub const DURATION_FORMS: &str = "use a number and m, h, d or w, such as 30m, 2h, 2d or 1w";

/// Why a WHEN or a snooze's length cannot be read; each variant holds the words as typed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReminderTimeError {
    #[error("WHEN is missing")]
    Missing,
    #[error(transparent)]
    Date(#[from] DateError),
    /// A time right after the date that is not HH:MM (`2pm`), with the date it followed.
    #[error("'{unread}' is not a time I can read: write the time as HH:MM, such as {when} 14:30")]
    UnreadTime { unread: String, when: String },
    #[error("'{0}' is not a date and time")]
    NotAMoment(String),
    #[error("'{0}' is not a duration: {DURATION_FORMS}")]
    NotADuration(String),
    #[error("'{0}' is no time at all: {DURATION_FORMS}")]
    NoTime(String),
    #[error("'{0}' is longer than a year; set a new reminder instead")]
    LongerThanAYear(String),
}

/// Reads WHEN from the start of `words` (the words after the target), taking as many words as
/// still form a date and time, so that `tomorrow 9:00 call the embassy` is 09:00 tomorrow and
/// `tomorrow call the embassy` is 09:00 (a date alone) tomorrow; `at` before a time is allowed
/// (`tomorrow at 14:00`). Returns the moment and how many words it took. A date alone is 09:00
/// in `zone`, the zone of the person who asks; `in N minutes|hours|days|weeks` counts from
/// `now` to the second.
///
/// A time it cannot read right after the date (`tomorrow 2pm`, `tomorrow 25:00`) is an error,
/// not the start of the text: a reminder silently set for 09:00 would be worse than none.
pub fn split_when(words: &[&str], now: DateTime<Utc>, zone: Tz) -> Result<(DateTime<Utc>, usize), ReminderTimeError> {
    let Some(first) = words.first() else { return Err(ReminderTimeError::Missing) };
    for taken in (1..=words.len().min(MAX_WHEN_WORDS)).rev() {
        let when = when_text(&words[..taken], false);
        match parse_moment(&when, now, zone) {
            Ok(moment) => {
                let next = words.get(taken).copied().unwrap_or_default();
                let after = words.get(taken + 1).copied().unwrap_or_default();
                let unread = if looks_like_time(next) {
                    Some(next)
                } else if next.eq_ignore_ascii_case("at") && looks_like_time(after) {
                    Some(after)
                } else {
                    None
                };
                if let Some(unread) = unread {
                    return Err(ReminderTimeError::UnreadTime { unread: unread.to_string(), when });
                }
                return Ok((moment, taken));
            }
            // `tomorrow 25:00`, or a time the clocks skip: a date with a clock time that is
            // wrong, not a date followed by text that looks like a time.
            Err(problem)
                if taken > 1
                    && looks_like_clock(words[taken - 1])
                    && parse_moment(&when_text(&words[..taken - 1], true), now, zone).is_ok() =>
            {
                return Err(problem.into());
            }
            Err(_) => {}
        }
    }
    // Neither the first word nor any run of words is a time: name the first word's problem,
    // or that of the `in N unit` it starts.
    let tried = if first.eq_ignore_ascii_case("in") { words[..words.len().min(3)].join(" ") } else { (*first).to_string() };
    Err(parse_moment(&tried, now, zone).err().map_or(ReminderTimeError::NotAMoment(tried), ReminderTimeError::Date))
}

/// The words of a WHEN as `core::dates` reads them: without an `at` before a clock time (and,
/// when `trailing_at`, without one at the end).
fn when_text(words: &[&str], trailing_at: bool) -> String {
    let kept = words.iter().enumerate().filter(|&(i, word)| {
        let at = i > 0 && word.eq_ignore_ascii_case("at");
        let before_clock = words.get(i + 1).is_some_and(|next| looks_like_clock(next));
        !(at && (before_clock || (trailing_at && i + 1 == words.len())))
    });
    kept.map(|(_, word)| *word).collect::<Vec<_>>().join(" ")
}

/// `14:30`, `9:00`, `25:00`: digits around a colon.
fn looks_like_clock(word: &str) -> bool {
    word.contains(':') && word.chars().all(|c| c.is_ascii_digit() || c == ':')
}

/// A clock time, or an hour with am/pm or h (`2pm`, `9am`, `14h`, `2.30pm`).
fn looks_like_time(word: &str) -> bool {
    let lowered = word.to_ascii_lowercase();
    let hour = ["am", "pm", "a.m.", "p.m.", "h"].iter().find_map(|suffix| lowered.strip_suffix(suffix));
    looks_like_clock(word) || hour.is_some_and(|hour| !hour.is_empty() && hour.chars().all(|c| c.is_ascii_digit() || c == ':' || c == '.'))
}

/// Reads a snooze's length: `30m`, `90min`, `2h`, `2d`, `1w` (at least a minute, at most a year).
pub fn parse_duration(text: &str) -> Result<Duration, ReminderTimeError> {
    let typed = text.trim();
    let lowered = typed.to_ascii_lowercase();
    let digits_end = lowered.find(|c: char| !c.is_ascii_digit()).unwrap_or(lowered.len());
    let (count, unit) = lowered.split_at(digits_end);
    let not_a_duration = || ReminderTimeError::NotADuration(typed.to_string());
    let count: i64 = count.parse().map_err(|_| not_a_duration())?;
    let minutes_per = match unit.trim() {
        "m" | "min" | "mins" | "minute" | "minutes" => 1,
        "h" | "hour" | "hours" => 60,
        "d" | "day" | "days" => 24 * 60,
        "w" | "week" | "weeks" => 7 * 24 * 60,
        _ => return Err(not_a_duration()),
    };
    if count == 0 {
        return Err(ReminderTimeError::NoTime(typed.to_string()));
    }
    let minutes = count.checked_mul(minutes_per).filter(|&m| m <= MAX_SNOOZE_DAYS * 24 * 60);
    minutes.map(Duration::minutes).ok_or_else(|| ReminderTimeError::LongerThanAYear(typed.to_string()))
}

/// A moment as a reminder's reply shows it: `Tue 2026-12-15 14:30 (Asia/Baku)`.
pub fn describe_moment(at: DateTime<Utc>, zone: Tz) -> String {
    format!("{} ({})", at.with_timezone(&zone).format("%a %Y-%m-%d %H:%M"), zone.name())
}

/// A person's zone: their own (`staff.timezone`) when it is a known one, else the office's.
pub fn person_zone(own: Option<&str>, office: Tz) -> Tz {
    own.and_then(|name| name.parse::<Tz>().ok()).unwrap_or(office)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    const BAKU: Tz = chrono_tz::Asia::Baku;
    const BERLIN: Tz = chrono_tz::Europe::Berlin;

    /// Tuesday 2026-12-01, 13:00 in Baku (UTC+4 all year), 10:00 in Berlin (UTC+1 in winter).
    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap()
    }

    fn at(y: i32, m: u32, d: u32, h: u32, min: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, s).unwrap()
    }

    fn split(text: &str, zone: Tz) -> Result<(DateTime<Utc>, usize), ReminderTimeError> {
        split_when(&text.split_whitespace().collect::<Vec<_>>(), now(), zone)
    }

    #[test]
    fn when_takes_as_many_words_as_form_a_time() {
        let cases = [
            ("2026-12-15 14:30 call the embassy", at(2026, 12, 15, 10, 30, 0), 2),
            ("tomorrow 9:00 call", at(2026, 12, 2, 5, 0, 0), 2),
            ("tomorrow call the embassy", at(2026, 12, 2, 5, 0, 0), 1),
            ("next friday 18:05 send the pack", at(2026, 12, 4, 14, 5, 0), 3),
            ("in 3 days 8:00 ask again", at(2026, 12, 4, 4, 0, 0), 4),
            ("in 2 hours check", at(2026, 12, 1, 11, 0, 0), 3),
            ("15.12.2026 ring", at(2026, 12, 15, 5, 0, 0), 1),
            ("tomorrow 9:00", at(2026, 12, 2, 5, 0, 0), 2),
            ("tomorrow at 14:00 call", at(2026, 12, 2, 10, 0, 0), 3),
            ("in 3 days at 8:00 ask again", at(2026, 12, 4, 4, 0, 0), 5),
            // "at" before words that are not a time belongs to the text.
            ("tomorrow at the office bring the keys", at(2026, 12, 2, 5, 0, 0), 1),
            ("tomorrow at", at(2026, 12, 2, 5, 0, 0), 1),
        ];
        for (text, moment, taken) in cases {
            assert_eq!(split(text, BAKU), Ok((moment, taken)), "{text}");
        }
    }

    #[test]
    fn in_n_units_counts_from_the_command_to_the_second() {
        let now = at(2026, 12, 1, 9, 0, 37);
        let words = ["in", "30", "minutes", "tea"];
        assert_eq!(split_when(&words, now, BAKU), Ok((at(2026, 12, 1, 9, 30, 37), 3)));
        let words = ["in", "2", "weeks", "tea"];
        assert_eq!(split_when(&words, now, BAKU), Ok((at(2026, 12, 15, 9, 0, 37), 3)));
        let words = ["in", "1", "day", "tea"];
        assert_eq!(split_when(&words, now, BERLIN), Ok((at(2026, 12, 2, 9, 0, 37), 3)));
    }

    #[test]
    fn a_date_alone_is_nine_in_the_persons_zone() {
        // Baku keeps UTC+4 all year.
        assert_eq!(split("2026-12-15 x", BAKU).unwrap().0, at(2026, 12, 15, 5, 0, 0));
        assert_eq!(split("2027-07-01 x", BAKU).unwrap().0, at(2027, 7, 1, 5, 0, 0));
        // Berlin is UTC+1 in winter and UTC+2 in summer: 09:00 there moves in UTC.
        assert_eq!(split("2026-12-15 x", BERLIN).unwrap().0, at(2026, 12, 15, 8, 0, 0));
        assert_eq!(split("2027-07-01 x", BERLIN).unwrap().0, at(2027, 7, 1, 7, 0, 0));
        // The last Sunday of March 2027 (the 28th) is the day Berlin moves its clocks on.
        assert_eq!(split("2027-03-27 x", BERLIN).unwrap().0, at(2027, 3, 27, 8, 0, 0));
        assert_eq!(split("2027-03-29 x", BERLIN).unwrap().0, at(2027, 3, 29, 7, 0, 0));
        // "tomorrow" is the person's tomorrow: at 01:30 UTC it is already Wednesday in Baku.
        let late = at(2026, 12, 1, 21, 30, 0);
        assert_eq!(split_when(&["tomorrow", "x"], late, BAKU), Ok((at(2026, 12, 3, 5, 0, 0), 1)));
        assert_eq!(split_when(&["tomorrow", "x"], late, BERLIN), Ok((at(2026, 12, 2, 8, 0, 0), 1)));
    }

    #[test]
    fn what_is_not_a_time_is_named() {
        let error = split("someday call", BAKU).unwrap_err().to_string();
        assert!(error.contains("'someday' is not a date and time") && error.contains("tomorrow 9:00"), "{error}");
        let error = split("in 2 fortnights call", BAKU).unwrap_err().to_string();
        assert!(error.contains("'in 2 fortnights'"), "{error}");
        assert_eq!(split_when(&[], now(), BAKU).unwrap_err().to_string(), "WHEN is missing");
        // A time the clocks skip in Berlin (2027-03-28 02:30) is said to be so.
        let error = split("2027-03-28 02:30 call", BERLIN).unwrap_err().to_string();
        assert!(error.contains("does not exist"), "{error}");
        let error = split("tomorrow 25:00 call", BAKU).unwrap_err().to_string();
        assert!(error.contains("'tomorrow 25:00' is not a date and time"), "{error}");
        let error = split("tomorrow at 25:00 call", BAKU).unwrap_err().to_string();
        assert!(error.contains("'tomorrow 25:00' is not a date and time"), "{error}");
        // A time it cannot read is not taken for the start of the text.
        for (text, unread) in [("tomorrow 2pm call", "2pm"), ("friday at 9am call", "9am"), ("2026-12-15 14h call", "14h")] {
            let error = split(text, BAKU).unwrap_err().to_string();
            assert!(error.contains(&format!("'{unread}' is not a time I can read")) && error.contains("HH:MM"), "{text}: {error}");
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30m"), Ok(Duration::minutes(30)));
        assert_eq!(parse_duration("90min"), Ok(Duration::minutes(90)));
        assert_eq!(parse_duration("2h"), Ok(Duration::hours(2)));
        assert_eq!(parse_duration(" 2D "), Ok(Duration::days(2)));
        assert_eq!(parse_duration("1w"), Ok(Duration::weeks(1)));
        assert_eq!(parse_duration("3 days"), Ok(Duration::days(3)));
        for bad in ["", "2", "d", "2x", "-2d", "2.5h", "two days"] {
            assert!(parse_duration(bad).unwrap_err().to_string().contains("is not a duration"), "{bad}");
        }
        assert!(parse_duration("0m").unwrap_err().to_string().contains("no time at all"));
        assert!(parse_duration("53w").unwrap_err().to_string().contains("longer than a year"));
        assert!(parse_duration("99999999999999999w").unwrap_err().to_string().contains("longer than a year"));
    }

    #[test]
    fn moments_are_shown_in_the_persons_zone() {
        assert_eq!(describe_moment(at(2026, 12, 15, 10, 30, 0), BAKU), "Tue 2026-12-15 14:30 (Asia/Baku)");
        assert_eq!(describe_moment(at(2026, 12, 15, 10, 30, 0), BERLIN), "Tue 2026-12-15 11:30 (Europe/Berlin)");
        assert_eq!(person_zone(Some("Europe/Berlin"), BAKU), BERLIN);
        assert_eq!(person_zone(Some("Mars/Olympus"), BAKU), BAKU);
        assert_eq!(person_zone(None, BAKU), BAKU);
    }
}
