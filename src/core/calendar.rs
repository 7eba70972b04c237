//! The calendar of deadlines as plain data, and its iCalendar text (RFC 5545).
//!
//! One all-day event per deadline (a visa's apply-by date and expiry, an agreement's end and
//! notice deadline, an open letter's due date) and one timed event per meeting. Each event's
//! UID is made from what it is about (`visa-3-apply-by@DOMAIN`), never from the time of the
//! export, so a calendar app that reads the feed again updates its events instead of adding
//! them twice.
//!
//! The text is written here rather than with the `icalendar` crate: that crate's `all_day`
//! writes a DTEND equal to DTSTART (an event of no length, which some apps drop) and its line
//! folding mixes character and byte positions. What a feed of deadlines needs is small: CRLF
//! line ends, folding at 75 octets on character boundaries, TEXT escaping, DTSTAMP, and
//! `VALUE=DATE` days ending the day after.
//!
//! Restricted documents: who sees what is `Viewer`'s to say. A document the viewer may see in
//! full shows its subject; one they may not shows its number and `[confidential]` (or
//! `[secret]`) only, never its subject.

use chrono::{DateTime, Days, Duration, NaiveDate, Utc};
use chrono_tz::Tz;

use super::time::day_bounds;
use super::viewer::Sight;
use super::visa::VisaCase;

/// How long a meeting lasts in the calendar: meetings are kept with their start only.
pub const MEETING_LENGTH: Duration = Duration::hours(1);

/// The longest a content line may be, in octets, without its CRLF (RFC 5545, 3.1).
const LINE_OCTETS: usize = 75;

/// When an event happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// A whole day: a deadline.
    Day(NaiveDate),
    /// A stretch of time: a meeting.
    Span { start: DateTime<Utc>, end: DateTime<Utc> },
}

impl When {
    /// The instant the event begins, for ordering (a day begins at its midnight, UTC).
    fn sort_key(&self) -> DateTime<Utc> {
        match self {
            When::Day(day) => day.and_hms_opt(0, 0, 0).map(|t| t.and_utc()).unwrap_or_default(),
            When::Span { start, .. } => *start,
        }
    }
}

/// One event of the calendar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// What the event is about, unique and stable: `visa-3-apply-by`; the UID adds `@DOMAIN`.
    pub key: String,
    pub when: When,
    pub summary: String,
    pub description: String,
    /// Visa, Agreement, Letter or Meeting.
    pub category: &'static str,
}

/// An open letter's due date and what decides who may read its subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LetterDue {
    pub number: String,
    pub subject: String,
    pub unit: String,
    pub confidentiality: String,
    pub status: String,
    pub due_on: NaiveDate,
    pub assignee: Option<String>,
}

/// An agreement's dates, with its partner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgreementDates {
    pub id: i64,
    pub partner_handle: String,
    pub partner_name: String,
    pub kind: String,
    pub end_on: NaiveDate,
    /// The last day notice may be given (its end less the notice period), when it has one.
    pub notice_by: Option<NaiveDate>,
}

/// A meeting, by its start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeetingTime {
    pub id: i64,
    pub title: String,
    pub starts_at: DateTime<Utc>,
}

/// The apply-by date and the visa's expiry of an open case (a closed case has no deadlines).
pub fn visa_events(case: &VisaCase) -> Vec<Event> {
    if case.status.as_str() != "open" {
        return Vec::new();
    }
    let trip = &case.trip;
    let who = format!("{}, {} ({})", trip.traveller, trip.country, trip.kind);
    let about = format!("Visa case {}: travel {} – {}. `!visa show {}`", case.id, trip.travel_from, trip.travel_to, case.id);
    let mut events = Vec::new();
    if let Some(day) = trip.apply_by {
        events.push(Event {
            key: format!("visa-{}-apply-by", case.id),
            when: When::Day(day),
            summary: format!("Visa application due – {who}"),
            description: about.clone(),
            category: "Visa",
        });
    }
    if let Some(day) = trip.visa_expires {
        events.push(Event {
            key: format!("visa-{}-expiry", case.id),
            when: When::Day(day),
            summary: format!("Visa expires – {who}"),
            description: about,
            category: "Visa",
        });
    }
    events
}

/// An agreement's end and, when it has one, its notice deadline.
pub fn agreement_events(agreement: &AgreementDates) -> Vec<Event> {
    let who = format!("{} ({})", agreement.partner_name, agreement.kind);
    let about = format!(
        "Agreement {} with {} ({}). `!agreement show {}`",
        agreement.id, agreement.partner_name, agreement.partner_handle, agreement.id
    );
    let mut events = vec![Event {
        key: format!("agreement-{}-end", agreement.id),
        when: When::Day(agreement.end_on),
        summary: format!("Agreement ends – {who}"),
        description: about.clone(),
        category: "Agreement",
    }];
    if let Some(day) = agreement.notice_by {
        events.push(Event {
            key: format!("agreement-{}-notice", agreement.id),
            when: When::Day(day),
            summary: format!("Agreement notice deadline – {who}"),
            description: format!("The last day to give notice before it ends on {}. {about}", agreement.end_on),
            category: "Agreement",
        });
    }
    events
}

/// A letter's due date, as `sight` lets the viewer see it; `None` when the letter is settled.
pub fn letter_event(letter: &LetterDue, sight: Sight) -> Option<Event> {
    if !super::status::is_open(&letter.status) {
        return None;
    }
    let subject = match sight {
        Sight::Full { .. } => letter.subject.clone(),
        Sight::Redacted { .. } => format!("[{}]", letter.confidentiality),
    };
    let assignee = letter.assignee.as_deref().map(|who| format!(", assigned to {who}")).unwrap_or_default();
    Some(Event {
        key: format!("letter-{}-due", letter.number),
        when: When::Day(letter.due_on),
        summary: format!("Due: {} {subject}", letter.number),
        description: format!("{} ({}, {}{assignee}). `!doc {}`", letter.number, letter.unit, letter.status, letter.number),
        category: "Letter",
    })
}

/// A meeting, an hour long from its start.
pub fn meeting_event(meeting: &MeetingTime) -> Event {
    Event {
        key: format!("meeting-{}", meeting.id),
        when: When::Span { start: meeting.starts_at, end: meeting.starts_at + MEETING_LENGTH },
        summary: meeting.title.clone(),
        description: format!("Meeting {}. `!meeting show {}`", meeting.id, meeting.id),
        category: "Meeting",
    }
}

/// How far a person's feed reaches (`[http] feed_past_days` and `feed_future_days`): calendar
/// apps read a feed every hour, and someone with years of deadlines needs the weeks around
/// today, not all of them (`?all=1` still gives all).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeedDays {
    pub past: u32,
    pub future: u32,
}

impl Default for FeedDays {
    fn default() -> Self {
        FeedDays { past: 90, future: 550 }
    }
}

/// The days a feed holds, both included, in the office's zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub first: NaiveDate,
    pub last: NaiveDate,
}

impl Window {
    /// From `days.past` days before `today` to `days.future` days after it.
    pub fn around(today: NaiveDate, days: FeedDays) -> Window {
        Window {
            first: today.checked_sub_days(Days::new(days.past.into())).unwrap_or(NaiveDate::MIN),
            last: today.checked_add_days(Days::new(days.future.into())).unwrap_or(NaiveDate::MAX),
        }
    }

    /// The window as instants: from the first day's midnight until the midnight after the
    /// last, in `zone` (the end excluded).
    pub fn instants(&self, zone: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
        (day_bounds(self.first, zone).0, day_bounds(self.last, zone).1)
    }

    /// Whether an event happens in the window: a deadline on one of its days, a meeting that
    /// starts in it.
    pub fn holds(&self, when: &When, zone: Tz) -> bool {
        match when {
            When::Day(day) => (self.first..=self.last).contains(day),
            When::Span { start, .. } => {
                let (from, until) = self.instants(zone);
                (from..until).contains(start)
            }
        }
    }
}

/// What the calendar says of itself.
#[derive(Debug, Clone)]
pub struct CalendarHead<'a> {
    /// Shown by calendar apps as the calendar's name.
    pub name: &'a str,
    /// The right-hand side of every UID: the service's own domain.
    pub domain: &'a str,
    /// When this copy was made: every event's DTSTAMP.
    pub made_at: DateTime<Utc>,
}

/// The calendar as iCalendar text: events by date, then by key, so that two exports of the
/// same deadlines differ only in their DTSTAMP.
pub fn render(head: &CalendarHead<'_>, events: &[Event]) -> String {
    let mut ordered: Vec<&Event> = events.iter().collect();
    ordered.sort_by(|a, b| a.when.sort_key().cmp(&b.when.sort_key()).then_with(|| a.key.cmp(&b.key)));
    let mut out = String::new();
    let mut line = |text: &str| {
        out.push_str(&fold(text));
        out.push_str("\r\n");
    };
    line("BEGIN:VCALENDAR");
    line("VERSION:2.0");
    line("PRODID:-//Chancery//Calendar of deadlines//EN");
    line("CALSCALE:GREGORIAN");
    line("METHOD:PUBLISH");
    line(&format!("X-WR-CALNAME:{}", escape_text(head.name)));
    // Calendar apps that read these look again within the hour.
    line("REFRESH-INTERVAL;VALUE=DURATION:PT1H");
    line("X-PUBLISHED-TTL:PT1H");
    let stamp = utc_text(head.made_at);
    for event in ordered {
        line("BEGIN:VEVENT");
        line(&format!("UID:{}@{}", event.key, head.domain));
        line(&format!("DTSTAMP:{stamp}"));
        match event.when {
            When::Day(day) => {
                line(&format!("DTSTART;VALUE=DATE:{}", day.format("%Y%m%d")));
                // DTEND is exclusive: a one-day event ends the next day.
                let next = day.succ_opt().unwrap_or(day);
                line(&format!("DTEND;VALUE=DATE:{}", next.format("%Y%m%d")));
                // A deadline does not make anyone busy.
                line("TRANSP:TRANSPARENT");
            }
            When::Span { start, end } => {
                line(&format!("DTSTART:{}", utc_text(start)));
                line(&format!("DTEND:{}", utc_text(end)));
            }
        }
        line(&format!("SUMMARY:{}", escape_text(&event.summary)));
        if !event.description.is_empty() {
            line(&format!("DESCRIPTION:{}", escape_text(&event.description)));
        }
        line(&format!("CATEGORIES:{}", escape_text(event.category)));
        line("END:VEVENT");
    }
    line("END:VCALENDAR");
    out
}

/// A UTC DATE-TIME: `20261201T090000Z`.
fn utc_text(at: DateTime<Utc>) -> String {
    at.format("%Y%m%dT%H%M%SZ").to_string()
}

/// A TEXT value (RFC 5545, 3.3.11): backslash, semicolon and comma escaped, line breaks as
/// `\n`; other control characters, which TEXT may not hold, become spaces.
pub fn escape_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' => {
                chars.next_if_eq(&'\n');
                out.push_str("\\n");
            }
            '\n' => out.push_str("\\n"),
            '\t' => out.push('\t'),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// One content line folded (RFC 5545, 3.1): no line longer than 75 octets, each continuation
/// starting with a space, and never inside a UTF-8 character.
pub fn fold(line: &str) -> String {
    if line.len() <= LINE_OCTETS {
        return line.to_string();
    }
    let mut out = String::with_capacity(line.len() + line.len() / 24);
    let mut used = 0;
    let mut limit = LINE_OCTETS;
    for c in line.chars() {
        if used + c.len_utf8() > limit {
            out.push_str("\r\n ");
            // The leading space counts: a continuation holds 74 octets of the line.
            used = 1;
            limit = LINE_OCTETS;
        }
        out.push(c);
        used += c.len_utf8();
    }
    out
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::core::visa::{CaseStatus, Trip};

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn a_window_holds_its_first_and_last_days_and_meetings_by_the_offices_day() {
        let window = Window::around(day("2026-12-01"), FeedDays::default());
        assert_eq!((window.first, window.last), (day("2026-09-02"), day("2028-06-03")));
        for (when, held) in [("2026-09-01", false), ("2026-09-02", true), ("2028-06-03", true), ("2028-06-04", false)] {
            assert_eq!(window.holds(&When::Day(day(when)), chrono_tz::Asia::Baku), held, "{when}");
        }
        let meeting = |at: DateTime<Utc>| When::Span { start: at, end: at + MEETING_LENGTH };
        // Baku is four hours ahead: 2 September begins at 20:00 UTC on 1 September.
        let zone = chrono_tz::Asia::Baku;
        assert!(window.holds(&meeting(Utc.with_ymd_and_hms(2026, 9, 1, 20, 0, 0).unwrap()), zone));
        assert!(!window.holds(&meeting(Utc.with_ymd_and_hms(2026, 9, 1, 19, 59, 0).unwrap()), zone));
        assert!(window.holds(&meeting(Utc.with_ymd_and_hms(2028, 6, 3, 19, 59, 0).unwrap()), zone));
        assert!(!window.holds(&meeting(Utc.with_ymd_and_hms(2028, 6, 3, 20, 0, 0).unwrap()), zone));
        let endless = Window::around(day("2026-12-01"), FeedDays { past: u32::MAX, future: u32::MAX });
        assert_eq!((endless.first, endless.last), (NaiveDate::MIN, NaiveDate::MAX), "no panic at the ends of time");
    }

    fn head() -> CalendarHead<'static> {
        CalendarHead { name: "Chancery", domain: "chancery.uni.example", made_at: Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap() }
    }

    fn case(status: CaseStatus) -> VisaCase {
        VisaCase {
            id: 3,
            trip: Trip {
                traveller: "Orxan Officer".into(),
                traveller_mxid: None,
                country: "DE".into(),
                kind: "schengen".into(),
                travel_from: day("2026-12-20"),
                travel_to: day("2026-12-28"),
                apply_by: Some(day("2026-12-10")),
                visa_expires: Some(day("2027-06-28")),
                passport_expires: None,
            },
            status,
            created_by: "@officer:uni.example".into(),
            created_at: Utc.with_ymd_and_hms(2026, 11, 1, 9, 0, 0).unwrap(),
        }
    }

    fn personal_file() -> LetterDue {
        LetterDue {
            number: "IN-2026-000002".into(),
            subject: "Personal file of Dr. Rashad Mammadov".into(),
            unit: "hr".into(),
            confidentiality: "confidential".into(),
            status: "registered".into(),
            due_on: day("2026-11-23"),
            assignee: None,
        }
    }

    /// The lines of a calendar, unfolded, without their CRLF.
    fn unfolded(text: &str) -> Vec<String> {
        text.replace("\r\n ", "").split("\r\n").filter(|l| !l.is_empty()).map(String::from).collect()
    }

    #[test]
    fn an_open_visa_case_has_two_all_day_deadlines_with_stable_uids() {
        let events = visa_events(&case(CaseStatus::Open));
        let keys: Vec<&str> = events.iter().map(|e| e.key.as_str()).collect();
        assert_eq!(keys, ["visa-3-apply-by", "visa-3-expiry"]);
        assert_eq!(events[0].when, When::Day(day("2026-12-10")));
        assert!(events[0].summary.contains("Orxan Officer, DE (schengen)"), "{}", events[0].summary);
        let done = CaseStatus::Done { at: Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap(), by: "@x:y".into() };
        assert!(visa_events(&case(done)).is_empty(), "a closed case has no deadlines");
    }

    #[test]
    fn an_all_day_event_ends_the_next_day_and_does_not_make_anyone_busy() {
        let text = render(&head(), &visa_events(&case(CaseStatus::Open)));
        let lines = unfolded(&text);
        assert!(lines.contains(&"UID:visa-3-apply-by@chancery.uni.example".to_string()), "{text}");
        assert!(lines.contains(&"DTSTART;VALUE=DATE:20261210".to_string()), "{text}");
        assert!(lines.contains(&"DTEND;VALUE=DATE:20261211".to_string()), "{text}");
        assert!(lines.contains(&"DTSTAMP:20261201T090000Z".to_string()), "{text}");
        assert!(lines.contains(&"TRANSP:TRANSPARENT".to_string()), "{text}");
        assert!(text.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n") && text.ends_with("END:VCALENDAR\r\n"), "{text}");
        assert!(!text.replace("\r\n", "").contains('\n'), "every line ends in CRLF");
        assert_eq!(text.matches("BEGIN:VEVENT").count(), 2);
    }

    #[test]
    fn a_meeting_is_timed_in_utc_and_lasts_an_hour() {
        let meeting =
            MeetingTime { id: 4, title: "Erasmus committee".into(), starts_at: Utc.with_ymd_and_hms(2026, 12, 10, 7, 30, 0).unwrap() };
        let lines = unfolded(&render(&head(), &[meeting_event(&meeting)]));
        assert!(lines.contains(&"UID:meeting-4@chancery.uni.example".to_string()));
        assert!(lines.contains(&"DTSTART:20261210T073000Z".to_string()), "{lines:?}");
        assert!(lines.contains(&"DTEND:20261210T083000Z".to_string()), "{lines:?}");
        assert!(!lines.iter().any(|l| l.starts_with("TRANSP")), "a meeting makes its people busy");
    }

    #[test]
    fn an_agreement_has_its_end_and_its_notice_deadline() {
        let agreement = AgreementDates {
            id: 5,
            partner_handle: "ut".into(),
            partner_name: "University of Tartu".into(),
            kind: "erasmus-iia".into(),
            end_on: day("2027-08-31"),
            notice_by: Some(day("2027-06-02")),
        };
        let events = agreement_events(&agreement);
        assert_eq!(
            events.iter().map(|e| (e.key.as_str(), e.when)).collect::<Vec<_>>(),
            [("agreement-5-end", When::Day(day("2027-08-31"))), ("agreement-5-notice", When::Day(day("2027-06-02")))]
        );
        assert_eq!(agreement_events(&AgreementDates { notice_by: None, ..agreement }).len(), 1);
    }

    #[test]
    fn a_restricted_letter_shows_its_subject_only_to_those_the_viewer_lets_see_it() {
        let full = letter_event(&personal_file(), Sight::Full { disclosed: true }).unwrap();
        assert_eq!(full.summary, "Due: IN-2026-000002 Personal file of Dr. Rashad Mammadov");
        assert_eq!(full.key, "letter-IN-2026-000002-due");
        let redacted = letter_event(&personal_file(), Sight::Redacted { ask_privately: false }).unwrap();
        assert_eq!(redacted.summary, "Due: IN-2026-000002 [confidential]");
        assert!(!redacted.description.contains("Personal"), "{}", redacted.description);
        let answered = LetterDue { status: "answered".into(), ..personal_file() };
        assert_eq!(letter_event(&answered, Sight::Full { disclosed: false }), None, "a settled letter is due no more");
    }

    #[test]
    fn text_values_escape_commas_semicolons_backslashes_and_line_breaks() {
        assert_eq!(escape_text("a,b;c\\d"), "a\\,b\\;c\\\\d");
        assert_eq!(escape_text("one\r\ntwo\nthree\rfour"), "one\\ntwo\\nthree\\nfour");
        assert_eq!(escape_text("bell\u{7}here"), "bell here");
        let event = Event {
            key: "letter-IN-2026-000009-due".into(),
            when: When::Day(day("2026-12-15")),
            summary: "Invoice; VAT, 18%\nsecond line".into(),
            description: String::new(),
            category: "Letter",
        };
        let lines = unfolded(&render(&head(), &[event]));
        assert!(lines.contains(&"SUMMARY:Invoice\\; VAT\\, 18%\\nsecond line".to_string()), "{lines:?}");
        assert!(!lines.iter().any(|l| l.starts_with("DESCRIPTION")), "an empty description is left out");
    }

    #[test]
    fn long_lines_fold_at_75_octets_without_splitting_a_character() {
        let short = "SUMMARY:short";
        assert_eq!(fold(short), short);
        let exactly = format!("SUMMARY:{}", "x".repeat(67));
        assert_eq!(exactly.len(), 75);
        assert_eq!(fold(&exactly), exactly, "75 octets fit on one line");
        let long = format!("SUMMARY:{}", "Ayşe Yılmaz – Əliyeva ".repeat(12));
        let folded = fold(&long);
        for piece in folded.split("\r\n") {
            assert!(piece.len() <= 75, "{} octets: {piece:?}", piece.len());
        }
        assert!(folded.split("\r\n").skip(1).all(|piece| piece.starts_with(' ')), "continuations start with a space");
        assert_eq!(folded.replace("\r\n ", ""), long, "unfolding gives the line back");
        let text = render(
            &head(),
            &[Event {
                key: "k".into(),
                when: When::Day(day("2026-12-15")),
                summary: "ü".repeat(100),
                description: String::new(),
                category: "Letter",
            }],
        );
        assert!(text.split("\r\n").all(|line| line.len() <= 75), "{text}");
    }

    #[test]
    fn events_come_in_date_order_whatever_order_they_are_given_in() {
        let mut events = visa_events(&case(CaseStatus::Open));
        events.reverse();
        let text = render(&head(), &events);
        assert!(text.find("visa-3-apply-by").unwrap() < text.find("visa-3-expiry").unwrap());
    }
}
