//! A unit's weekly digest: the letters it received, had routed to it, answered and left overdue
//! in a window of time, and the deadlines ahead; as Markdown (the Matrix message and `chancery
//! report weekly`), plain text (the e-mail), CSV and JSON. Pure: the store hands in the rows,
//! the caller the window and the office's zone.
//!
//! What the counts mean (the README says the same):
//! - received: incoming letters registered in the window that are now with the unit; annulled
//!   entries are left out (they were registered by mistake).
//! - routed: of those, the ones a routing rule or a person (`docs reroute`) put with the unit,
//!   rather than the default unit taking them because no rule matched.
//! - answered: letters of the unit whose status was set to `answered` in the window (by an
//!   outgoing reply or by hand, as their history records), whenever they arrived.
//! - overdue: letters of the unit still open (not answered, closed or annulled) whose due date
//!   is before the day the window ends; a past week's report shows them as they stand now.
//! - deadlines: visa apply-by dates and expiries of open cases (only in the International
//!   Relations Office's digest), and agreements' ends and notice deadlines, from the day the
//!   window ends to 30 days after it, with those already passed but still open.

use std::fmt::Write as _;

use chrono::{DateTime, Datelike, Days, NaiveDate, Utc, Weekday};
use chrono_tz::Tz;
use serde::Serialize;

use super::markdown;
use super::remind::days_phrase;
use super::time::day_bounds;
use super::viewer::{CONFIDENTIAL_PLACEHOLDER, Restriction, Viewer};

/// A digest covers the days before it.
pub const WINDOW_DAYS: i64 = 7;

/// How far ahead a digest looks for deadlines.
pub const DEADLINE_HORIZON_DAYS: u64 = 30;

/// The most lines of each list a Matrix message or e-mail shows; `report weekly` shows them all.
pub const MESSAGE_LIST_LIMIT: usize = 30;

/// The stretch of time a digest covers: [start, end).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// Why a week as typed (`--week`) names no window; each variant holds the text, trimmed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WeekError {
    #[error("'{0}' is not an ISO week: write it as YEAR-Wnn, e.g. 2026-W49")]
    NotAWeek(String),
    #[error("'{0}' is too far in the future")]
    TooFar(String),
}

/// Why the CSV or JSON form could not be written, in the writer's words.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    #[error(transparent)]
    Csv(#[from] csv::Error),
    /// The CSV writer could not hand back its buffer.
    #[error(transparent)]
    Flush(#[from] std::io::Error),
    #[error(transparent)]
    NotUtf8(#[from] std::string::FromUtf8Error),
}

impl Window {
    /// The 7 days ending `now`.
    pub fn ending(now: DateTime<Utc>) -> Window {
        Window { start: now - chrono::Duration::days(WINDOW_DAYS), end: now }
    }

    /// An ISO week as typed (`2026-W49`, `2026-w49`): Monday 00:00 to the next Monday 00:00 in
    /// the office's zone. A message naming the form otherwise.
    pub fn iso_week(text: &str, zone: Tz) -> Result<Window, WeekError> {
        let monday = parse_iso_week(text).ok_or_else(|| WeekError::NotAWeek(text.trim().to_string()))?;
        let next = monday.checked_add_days(Days::new(7)).ok_or_else(|| WeekError::TooFar(text.trim().to_string()))?;
        Ok(Window { start: day_bounds(monday, zone).0, end: day_bounds(next, zone).0 })
    }

    /// The office day the window ends on: "today" for overdue letters and deadlines.
    pub fn as_of(&self, zone: Tz) -> NaiveDate {
        self.end.with_timezone(&zone).date_naive()
    }

    /// The last day a deadline may fall on to be listed.
    pub fn horizon(&self, zone: Tz) -> NaiveDate {
        let as_of = self.as_of(zone);
        as_of.checked_add_days(Days::new(DEADLINE_HORIZON_DAYS)).unwrap_or(as_of)
    }
}

/// The Monday of `YEAR-Wnn`, when the year has that week.
fn parse_iso_week(text: &str) -> Option<NaiveDate> {
    let (year, week) = text.trim().split_once('-')?;
    let week = week.strip_prefix('W').or_else(|| week.strip_prefix('w'))?;
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if year.len() != 4 || !all_digits(year) || week.len() > 2 || !all_digits(week) {
        return None;
    }
    NaiveDate::from_isoywd_opt(year.parse().ok()?, week.parse().ok()?, Weekday::Mon)
}

/// The subject as a digest may show it: a confidential or secret letter's (or one whose level
/// cannot be read) is `[confidential]`, since a digest is forwarded and printed.
pub fn shown_subject(subject: &str, confidentiality: &str) -> String {
    Viewer::broadcast().subject(Restriction::stored(confidentiality, ""), subject).into_owned()
}

/// Whether a document's stored routing (`documents.routing_json`) names the rule that routed
/// it; `null` there means no rule matched and the default unit took it.
pub fn routed_by_rule(routing_json: Option<&str>) -> bool {
    routing_json
        .and_then(|text| serde_json::from_str::<serde_json::Value>(text).ok())
        .is_some_and(|routing| routing.get("rule").is_some_and(|rule| rule.as_str().is_some_and(|name| !name.is_empty())))
}

/// One letter in a digest's list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LetterLine {
    pub number: String,
    /// As it may be shown (`shown_subject`).
    pub subject: String,
    pub status: String,
    pub due_on: Option<NaiveDate>,
    /// When it was registered; for an answered letter, when it was marked answered.
    pub at: DateTime<Utc>,
    /// Put with the unit by a rule or by hand (received letters only).
    pub routed: bool,
}

/// What a deadline is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeadlineKind {
    VisaApplyBy,
    VisaExpires,
    AgreementEnd,
    AgreementNotice,
}

impl DeadlineKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DeadlineKind::VisaApplyBy => "visa-apply-by",
            DeadlineKind::VisaExpires => "visa-expires",
            DeadlineKind::AgreementEnd => "agreement-end",
            DeadlineKind::AgreementNotice => "agreement-notice",
        }
    }

    fn phrase(self) -> &'static str {
        match self {
            DeadlineKind::VisaApplyBy => "apply for the visa by",
            DeadlineKind::VisaExpires => "the visa expires on",
            DeadlineKind::AgreementEnd => "the agreement ends on",
            DeadlineKind::AgreementNotice => "notice must be given by",
        }
    }
}

/// A deadline ahead (or passed, on a case still open).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deadline {
    pub kind: DeadlineKind,
    pub day: NaiveDate,
    /// What it is about: "visa case 3, Orxan Officer to DE (schengen)".
    pub title: String,
    /// The chat command that shows it: `!visa show 3`.
    pub show: Option<String>,
}

/// The four numbers of a digest.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub received: usize,
    pub routed: usize,
    pub answered: usize,
    pub overdue: usize,
}

/// One unit's digest over one window.
#[derive(Debug, Clone, PartialEq)]
pub struct Digest {
    pub unit: String,
    pub window: Window,
    pub zone: Tz,
    /// Oldest first.
    pub received: Vec<LetterLine>,
    /// In the order they were answered.
    pub answered: Vec<LetterLine>,
    /// Longest overdue first.
    pub overdue: Vec<LetterLine>,
    /// Soonest first.
    pub deadlines: Vec<Deadline>,
}

/// Markdown for Matrix and the report, or plain text for e-mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Markdown,
    Text,
}

impl Style {
    /// A subject or a title as this style shows it as text.
    fn outside_text(self, text: &str) -> String {
        match self {
            Style::Markdown => markdown::literal(text),
            Style::Text => text.to_string(),
        }
    }
}

impl Digest {
    pub fn counts(&self) -> Counts {
        Counts {
            received: self.received.len(),
            routed: self.received.iter().filter(|l| l.routed).count(),
            answered: self.answered.len(),
            overdue: self.overdue.len(),
        }
    }

    /// Puts the lists in the order the digest shows them.
    pub fn sort(&mut self) {
        self.received.sort_by(|a, b| (a.at, &a.number).cmp(&(b.at, &b.number)));
        self.answered.sort_by(|a, b| (a.at, &a.number).cmp(&(b.at, &b.number)));
        self.overdue.sort_by(|a, b| (a.due_on, &a.number).cmp(&(b.due_on, &b.number)));
        self.deadlines.sort_by(|a, b| (a.day, &a.title).cmp(&(b.day, &b.title)));
    }

    fn local(&self, at: DateTime<Utc>) -> String {
        at.with_timezone(&self.zone).format("%Y-%m-%d %H:%M").to_string()
    }

    fn period(&self) -> String {
        format!("{} to {} ({})", self.local(self.window.start), self.local(self.window.end), self.zone.name())
    }

    /// "3 received (2 routed), 1 answered, 2 overdue, 1 deadline in the next 30 days".
    fn summary(&self, style: Style) -> String {
        let c = self.counts();
        let strong = |n: usize, what: &str| match style {
            Style::Markdown => format!("**{n}** {what}"),
            Style::Text => format!("{n} {what}"),
        };
        let deadlines = match self.deadlines.len() {
            1 => "deadline".to_string(),
            _ => "deadlines".to_string(),
        };
        format!(
            "{} ({} routed), {}, {}, {} in the next {DEADLINE_HORIZON_DAYS} days",
            strong(c.received, "received"),
            c.routed,
            strong(c.answered, "answered"),
            strong(c.overdue, "overdue"),
            strong(self.deadlines.len(), &deadlines),
        )
    }

    fn about(line: &LetterLine, style: Style) -> String {
        if line.subject == CONFIDENTIAL_PLACEHOLDER { line.subject.clone() } else { format!("“{}”", style.outside_text(&line.subject)) }
    }

    fn received_line(&self, line: &LetterLine, style: Style) -> String {
        let due = line.due_on.map(|day| format!(", due {day}")).unwrap_or_default();
        format!("{} {}: {}, {}{due}", line.number, Self::about(line, style), self.local(line.at), line.status)
    }

    fn answered_line(&self, line: &LetterLine, style: Style) -> String {
        format!("{} {}: answered {}", line.number, Self::about(line, style), self.local(line.at))
    }

    fn overdue_line(&self, line: &LetterLine, style: Style) -> String {
        let as_of = self.window.as_of(self.zone);
        let late = match line.due_on {
            Some(due) => format!("due {due} ({}), {}", days_phrase(due, as_of), line.status),
            None => line.status.clone(),
        };
        format!("{} {}: {late}", line.number, Self::about(line, style))
    }

    fn deadline_line(&self, deadline: &Deadline, style: Style) -> String {
        let as_of = self.window.as_of(self.zone);
        let show = match (&deadline.show, style) {
            (Some(command), Style::Markdown) => format!(" (`{command}`)"),
            (Some(command), Style::Text) => format!(" ({command})"),
            (None, _) => String::new(),
        };
        format!(
            "{}: {} {} ({}){show}",
            style.outside_text(&deadline.title),
            deadline.kind.phrase(),
            deadline.day,
            days_phrase(deadline.day, as_of)
        )
    }

    fn render(&self, style: Style, limit: Option<usize>) -> String {
        let mut out = String::new();
        match style {
            Style::Markdown => {
                let _ = writeln!(out, "### Weekly digest of {}\n\n{}\n\n{}.", self.unit, self.period(), self.summary(style));
            }
            Style::Text => {
                let _ = writeln!(out, "Weekly digest of {}\n{}\n\n{}.", self.unit, self.period(), self.summary(style));
            }
        }
        let mut list = |title: &str, lines: Vec<String>| {
            if lines.is_empty() {
                return;
            }
            let shown = limit.unwrap_or(usize::MAX).min(lines.len());
            let (heading, bullet) = match style {
                Style::Markdown => (format!("**{title}**"), "- "),
                Style::Text => (format!("{title}:"), "  "),
            };
            let _ = writeln!(out, "\n{heading}\n");
            for line in &lines[..shown] {
                let _ = writeln!(out, "{bullet}{line}");
            }
            if shown < lines.len() {
                let _ = writeln!(out, "{bullet}… and {} more", lines.len() - shown);
            }
        };
        list("Received", self.received.iter().map(|l| self.received_line(l, style)).collect());
        list("Answered", self.answered.iter().map(|l| self.answered_line(l, style)).collect());
        list("Overdue", self.overdue.iter().map(|l| self.overdue_line(l, style)).collect());
        list(
            &format!("Deadlines in the next {DEADLINE_HORIZON_DAYS} days"),
            self.deadlines.iter().map(|d| self.deadline_line(d, style)).collect(),
        );
        out
    }

    /// The digest in Markdown, every line listed (`report weekly --format md`).
    pub fn markdown(&self) -> String {
        self.render(Style::Markdown, None)
    }

    /// The Matrix message to the unit's managers: long lists are cut.
    pub fn message(&self) -> String {
        self.render(Style::Markdown, Some(MESSAGE_LIST_LIMIT))
    }

    /// The e-mail to the unit's head: its subject and plain text.
    pub fn email(&self) -> (String, String) {
        let c = self.counts();
        let subject = format!(
            "Weekly digest of {}, {} to {}: {} received, {} answered, {} overdue",
            self.unit,
            self.window.start.with_timezone(&self.zone).format("%Y-%m-%d"),
            self.window.end.with_timezone(&self.zone).format("%Y-%m-%d"),
            c.received,
            c.answered,
            c.overdue
        );
        let mut text = self.render(Style::Text, Some(MESSAGE_LIST_LIMIT));
        text.push_str("\n-- \nChancery, the university's registry: the full list is `chancery report weekly`.\n");
        (subject, text)
    }

    fn json(&self) -> DigestJson {
        let rfc3339 = |at: DateTime<Utc>| at.with_timezone(&self.zone).to_rfc3339_opts(chrono::SecondsFormat::Secs, false);
        let as_of = self.window.as_of(self.zone);
        DigestJson {
            unit: self.unit.clone(),
            from: rfc3339(self.window.start),
            until: rfc3339(self.window.end),
            zone: self.zone.name().to_string(),
            as_of: as_of.to_string(),
            counts: self.counts(),
            received: self
                .received
                .iter()
                .map(|l| ReceivedJson {
                    number: l.number.clone(),
                    subject: l.subject.clone(),
                    status: l.status.clone(),
                    registered_at: rfc3339(l.at),
                    due_on: l.due_on.map(|d| d.to_string()),
                    routed: l.routed,
                })
                .collect(),
            answered: self
                .answered
                .iter()
                .map(|l| AnsweredJson {
                    number: l.number.clone(),
                    subject: l.subject.clone(),
                    status: l.status.clone(),
                    answered_at: rfc3339(l.at),
                })
                .collect(),
            overdue: self
                .overdue
                .iter()
                .map(|l| OverdueJson {
                    number: l.number.clone(),
                    subject: l.subject.clone(),
                    status: l.status.clone(),
                    due_on: l.due_on.map(|d| d.to_string()),
                    days_overdue: l.due_on.map(|d| (as_of - d).num_days()),
                })
                .collect(),
            deadlines: self
                .deadlines
                .iter()
                .map(|d| DeadlineJson { kind: d.kind.as_str(), date: d.day.to_string(), title: d.title.clone(), show: d.show.clone() })
                .collect(),
        }
    }

    fn csv_rows(&self) -> Vec<CsvRow> {
        let row = |item: &'static str, number: &str, subject: &str, status: &str, date: String, due: Option<NaiveDate>| CsvRow {
            unit: self.unit.clone(),
            from: self.local(self.window.start),
            until: self.local(self.window.end),
            item,
            number: number.to_string(),
            subject: subject.to_string(),
            status: status.to_string(),
            date,
            due_on: due.map(|d| d.to_string()).unwrap_or_default(),
            routed: String::new(),
        };
        let mut rows = Vec::new();
        for l in &self.received {
            let mut r = row("received", &l.number, &l.subject, &l.status, self.local(l.at), l.due_on);
            r.routed = if l.routed { "yes" } else { "no" }.into();
            rows.push(r);
        }
        for l in &self.answered {
            rows.push(row("answered", &l.number, &l.subject, &l.status, self.local(l.at), l.due_on));
        }
        for l in &self.overdue {
            rows.push(row("overdue", &l.number, &l.subject, &l.status, self.local(l.at), l.due_on));
        }
        for d in &self.deadlines {
            rows.push(row(d.kind.as_str(), "", &d.title, "", d.day.to_string(), None));
        }
        rows
    }
}

/// Several units' digests in Markdown, one section each.
pub fn markdown(digests: &[Digest]) -> String {
    digests.iter().map(Digest::markdown).collect::<Vec<_>>().join("\n")
}

/// Several units' digests as JSON: an array with one object per unit, its fields in the order
/// they are declared (unit, window, counts, lists), pretty-printed.
pub fn json(digests: &[Digest]) -> Result<String, ExportError> {
    Ok(serde_json::to_string_pretty(&digests.iter().map(Digest::json).collect::<Vec<_>>())?)
}

/// The columns of the CSV form.
pub const CSV_HEADER: [&str; 10] = ["unit", "from", "until", "item", "number", "subject", "status", "date", "due_on", "routed"];

/// Several units' digests as CSV: one line per letter or deadline, `item` saying which list it
/// is in (received, answered, overdue, visa-apply-by, visa-expires, agreement-end,
/// agreement-notice); each count is the number of lines of its item (routed: received lines
/// with routed = yes). `date`: registered (received, overdue), answered, or the deadline.
pub fn csv(digests: &[Digest]) -> Result<String, ExportError> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(CSV_HEADER)?;
    for digest in digests {
        for row in digest.csv_rows() {
            writer.write_record([
                row.unit.as_str(),
                &row.from,
                &row.until,
                row.item,
                &row.number,
                &row.subject,
                &row.status,
                &row.date,
                &row.due_on,
                &row.routed,
            ])?;
        }
    }
    let bytes = writer.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8(bytes)?)
}

struct CsvRow {
    unit: String,
    from: String,
    until: String,
    item: &'static str,
    number: String,
    subject: String,
    status: String,
    date: String,
    due_on: String,
    routed: String,
}

#[derive(Serialize)]
struct DigestJson {
    unit: String,
    from: String,
    until: String,
    zone: String,
    /// The day overdue letters and deadlines are counted from.
    as_of: String,
    counts: Counts,
    received: Vec<ReceivedJson>,
    answered: Vec<AnsweredJson>,
    overdue: Vec<OverdueJson>,
    deadlines: Vec<DeadlineJson>,
}

#[derive(Serialize)]
struct ReceivedJson {
    number: String,
    subject: String,
    status: String,
    registered_at: String,
    due_on: Option<String>,
    routed: bool,
}

#[derive(Serialize)]
struct AnsweredJson {
    number: String,
    subject: String,
    status: String,
    answered_at: String,
}

#[derive(Serialize)]
struct OverdueJson {
    number: String,
    subject: String,
    status: String,
    due_on: Option<String>,
    days_overdue: Option<i64>,
}

#[derive(Serialize)]
struct DeadlineJson {
    kind: &'static str,
    date: String,
    title: String,
    show: Option<String>,
}

/// The Monday of the ISO week an office day is in, as `YEAR-Wnn` (for messages and tests).
pub fn iso_week_of(day: NaiveDate) -> String {
    let week = day.iso_week();
    format!("{}-W{:02}", week.year(), week.week())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    const BAKU: Tz = chrono_tz::Asia::Baku;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    fn letter(number: &str, subject: &str, at_: &str, due: Option<&str>, routed: bool) -> LetterLine {
        LetterLine {
            number: number.into(),
            subject: subject.into(),
            status: "registered".into(),
            due_on: due.map(day),
            at: at(at_),
            routed,
        }
    }

    /// Tuesday 2026-12-01 13:00 in Baku.
    fn digest() -> Digest {
        let mut d = Digest {
            unit: "international".into(),
            window: Window::ending(at("2026-12-01T09:00:00Z")),
            zone: BAKU,
            received: vec![
                letter("IN-2026-000012", CONFIDENTIAL_PLACEHOLDER, "2026-11-30T06:00:00Z", None, true),
                letter("IN-2026-000010", "Erasmus+ nominations, spring", "2026-11-26T06:00:00Z", Some("2026-12-10"), true),
                letter("IN-2026-000011", "Catalogue", "2026-11-27T06:00:00Z", None, false),
            ],
            answered: vec![LetterLine {
                status: "answered".into(),
                ..letter("IN-2026-000004", "Invitation", "2026-11-28T08:00:00Z", None, false)
            }],
            overdue: vec![
                letter("IN-2026-000003", "Late one", "2026-11-01T06:00:00Z", Some("2026-11-30"), false),
                letter("IN-2026-000001", "Later one", "2026-10-01T06:00:00Z", Some("2026-11-20"), false),
            ],
            deadlines: vec![Deadline {
                kind: DeadlineKind::VisaApplyBy,
                day: day("2026-12-10"),
                title: "visa case 3, Orxan Officer to DE (schengen)".into(),
                show: Some("!visa show 3".into()),
            }],
        };
        d.sort();
        d
    }

    #[test]
    fn a_window_is_the_seven_days_before_now_or_an_iso_week_in_the_office_zone() {
        let w = Window::ending(at("2026-12-01T09:00:00Z"));
        assert_eq!((w.start, w.end), (at("2026-11-24T09:00:00Z"), at("2026-12-01T09:00:00Z")));
        assert_eq!(w.as_of(BAKU), day("2026-12-01"));
        assert_eq!(w.horizon(BAKU), day("2026-12-31"));
        // Week 49 of 2026: Monday 30 November 00:00 in Baku (UTC+4) to Monday 7 December.
        let week = Window::iso_week("2026-W49", BAKU).unwrap();
        assert_eq!((week.start, week.end), (at("2026-11-29T20:00:00Z"), at("2026-12-06T20:00:00Z")));
        assert_eq!(Window::iso_week(" 2026-w49 ", BAKU).unwrap(), week);
        assert_eq!(week.as_of(BAKU), day("2026-12-07"));
        // 2026 has 53 ISO weeks; 2027 has 52. Week 1 of 2026 starts in 2025.
        assert!(Window::iso_week("2026-W53", BAKU).is_ok());
        assert_eq!(Window::iso_week("2026-W01", BAKU).unwrap().start, at("2025-12-28T20:00:00Z"));
        assert_eq!(iso_week_of(day("2026-12-01")), "2026-W49");
        assert_eq!(iso_week_of(day("2026-01-01")), "2026-W01");
    }

    #[test]
    fn a_bad_week_is_refused_naming_the_form() {
        for bad in ["2027-W53", "2026-W00", "2026-49", "2026W49", "26-W49", "2026-W490", "2026-W+9", "next week", ""] {
            let error = Window::iso_week(bad, BAKU).unwrap_err().to_string();
            assert!(error.contains("is not an ISO week") && error.contains("2026-W49"), "{bad}: {error}");
        }
    }

    #[test]
    fn a_week_error_reads_as_the_cli_prints_it() {
        let cases = [
            (WeekError::NotAWeek("next week".into()), "'next week' is not an ISO week: write it as YEAR-Wnn, e.g. 2026-W49"),
            (WeekError::TooFar("9999-W52".into()), "'9999-W52' is too far in the future"),
        ];
        for (error, words) in cases {
            assert_eq!(error.to_string(), words);
        }
    }

    #[test]
    fn restricted_subjects_are_hidden_and_rules_are_read_from_the_stored_routing() {
        assert_eq!(shown_subject("Personal file", "confidential"), CONFIDENTIAL_PLACEHOLDER);
        assert_eq!(shown_subject("Personal file", "secret"), CONFIDENTIAL_PLACEHOLDER);
        assert_eq!(shown_subject("Personal file", "garbled"), CONFIDENTIAL_PLACEHOLDER);
        assert_eq!(shown_subject("Catalogue", "internal"), "Catalogue");
        assert_eq!(shown_subject("Catalogue", "public"), "Catalogue");
        assert!(routed_by_rule(Some(r#"{"rule":"erasmus","unit":"international","reasons":[]}"#)));
        assert!(!routed_by_rule(Some(r#"{"rule":null,"unit":"registry"}"#)));
        assert!(!routed_by_rule(Some("not json")));
        assert!(!routed_by_rule(None));
    }

    #[test]
    fn the_counts_follow_the_lists() {
        assert_eq!(digest().counts(), Counts { received: 3, routed: 2, answered: 1, overdue: 2 });
    }

    #[test]
    fn markdown_lists_each_letter_by_number_with_the_counts() {
        let text = digest().markdown();
        assert!(text.starts_with("### Weekly digest of international\n\n2026-11-24 13:00 to 2026-12-01 13:00 (Asia/Baku)\n"), "{text}");
        assert!(text.contains("**3** received (2 routed), **1** answered, **2** overdue, **1** deadline in the next 30 days."), "{text}");
        let received: Vec<&str> = text.lines().skip_while(|l| *l != "**Received**").skip(2).take_while(|l| !l.is_empty()).collect();
        assert_eq!(
            received,
            [
                "- IN-2026-000010 “Erasmus+ nominations, spring”: 2026-11-26 10:00, registered, due 2026-12-10",
                "- IN-2026-000011 “Catalogue”: 2026-11-27 10:00, registered",
                "- IN-2026-000012 [confidential]: 2026-11-30 10:00, registered",
            ]
        );
        assert!(text.contains("- IN-2026-000004 “Invitation”: answered 2026-11-28 12:00"), "{text}");
        let overdue = text.find("IN-2026-000001 “Later one”: due 2026-11-20 (11 days ago)").unwrap();
        assert!(overdue < text.find("IN-2026-000003 “Late one”: due 2026-11-30 (yesterday)").unwrap(), "longest overdue first: {text}");
        assert!(
            text.contains(
                "**Deadlines in the next 30 days**\n\n- visa case 3, Orxan Officer to DE (schengen): apply for the visa by 2026-12-10 \
                 (in 9 days) (`!visa show 3`)"
            ),
            "{text}"
        );
    }

    #[test]
    fn an_empty_week_still_says_so_and_lists_nothing() {
        let d = Digest { received: Vec::new(), answered: Vec::new(), overdue: Vec::new(), deadlines: Vec::new(), ..digest() };
        let text = d.markdown();
        assert!(text.contains("**0** received (0 routed), **0** answered, **0** overdue, **0** deadlines"), "{text}");
        assert!(!text.contains("**Received**") && !text.contains("- "), "{text}");
    }

    #[test]
    fn messages_cut_long_lists_and_the_report_does_not() {
        let mut d = digest();
        d.received = (1..=45).map(|n| letter(&format!("IN-2026-{n:06}"), "Letter", "2026-11-30T06:00:00Z", None, false)).collect();
        let message = d.message();
        assert!(message.contains("IN-2026-000030") && !message.contains("IN-2026-000031"), "{message}");
        assert!(message.contains("- … and 15 more"), "{message}");
        assert!(d.markdown().contains("IN-2026-000045"));
    }

    #[test]
    fn the_email_is_plain_text_with_the_counts_in_its_subject() {
        let (subject, text) = digest().email();
        assert_eq!(subject, "Weekly digest of international, 2026-11-24 to 2026-12-01: 3 received, 1 answered, 2 overdue");
        assert!(
            text.starts_with("Weekly digest of international\n2026-11-24 13:00 to 2026-12-01 13:00 (Asia/Baku)\n\n3 received (2 routed)")
        );
        assert!(text.contains("Received:\n\n  IN-2026-000010 “Erasmus+ nominations, spring”"), "{text}");
        assert!(text.contains("(in 9 days) (!visa show 3)"), "{text}");
        assert!(!text.contains("**"), "{text}");
    }

    #[test]
    fn csv_has_one_line_per_letter_or_deadline_and_the_counts_follow() {
        let text = csv(&[digest()]).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "unit,from,until,item,number,subject,status,date,due_on,routed");
        assert_eq!(lines.len(), 1 + 3 + 1 + 2 + 1, "{text}");
        assert_eq!(
            lines[1],
            "international,2026-11-24 13:00,2026-12-01 13:00,received,IN-2026-000010,\"Erasmus+ nominations, spring\",registered,\
             2026-11-26 10:00,2026-12-10,yes"
        );
        assert!(lines[3].contains(",received,IN-2026-000012,[confidential],"), "{text}");
        assert!(lines[5].contains(",overdue,IN-2026-000001,Later one,registered,2026-10-01 10:00,2026-11-20,"), "{text}");
        assert!(lines[7].ends_with(",visa-apply-by,,\"visa case 3, Orxan Officer to DE (schengen)\",,2026-12-10,,"), "{text}");
        assert_eq!(csv(&[]).unwrap().trim_end(), CSV_HEADER.join(","));
    }

    #[test]
    fn json_carries_the_counts_and_every_list() {
        let text = json(&[digest()]).unwrap();
        assert!(text.find("\"unit\"").unwrap() < text.find("\"counts\"").unwrap(), "fields in their order: {text}");
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        let unit = &value[0];
        assert_eq!(unit["unit"], "international");
        assert_eq!(unit["from"], "2026-11-24T13:00:00+04:00");
        assert_eq!(unit["as_of"], "2026-12-01");
        assert_eq!(unit["counts"], serde_json::json!({"received": 3, "routed": 2, "answered": 1, "overdue": 2}));
        assert_eq!(unit["received"][2]["subject"], CONFIDENTIAL_PLACEHOLDER);
        assert_eq!(unit["received"][0]["routed"], true);
        assert_eq!(unit["overdue"][0]["days_overdue"], 11);
        assert_eq!(unit["deadlines"][0]["kind"], "visa-apply-by");
        assert_eq!(json(&[]).unwrap(), "[]");
    }

    #[test]
    fn iso_weeks_follow_the_office_zone_not_utc() {
        // Sunday 23:30 in Baku is still week 49 there, though it is Sunday 19:30 UTC: in.
        let week = Window::iso_week("2026-W49", BAKU).unwrap();
        let late_sunday = BAKU.with_ymd_and_hms(2026, 12, 6, 23, 30, 0).unwrap().with_timezone(&Utc);
        assert!(week.start <= late_sunday && late_sunday < week.end);
        let next_monday = BAKU.with_ymd_and_hms(2026, 12, 7, 0, 0, 0).unwrap().with_timezone(&Utc);
        assert_eq!(next_monday, week.end);
    }
}
