//! International agreements with partner institutions, as plain data: what a new agreement and
//! a renewal must satisfy, notice periods and the deadline they set, the card `!agreement show`
//! prints and the horizon `!agreements expiring` looks ahead to.
//!
//! An agreement's notice deadline is the last day either side may give notice: its end less its
//! notice period (90 days unless said otherwise; `none` for an agreement that has no notice
//! clause, which then has no notice deadline and no notice reminders).

use chrono::{DateTime, Days, Months, NaiveDate, Utc};
use chrono_tz::Tz;

use super::markdown;
use super::number::{NotARegistrationNumber, RegistrationNumber};
use super::remind::{Kind, days_phrase};
use super::template::capitalised;

/// The notice period of an agreement added without `notice=`.
pub const DEFAULT_NOTICE: Notice = Notice { count: 90, unit: NoticeUnit::Days };

/// How far ahead `!agreements expiring` looks without a number of days.
pub const DEFAULT_EXPIRING_DAYS: u32 = 180;

/// The farthest `!agreements expiring DAYS` may look: ten years.
pub const MAX_EXPIRING_DAYS: u32 = 3660;

/// The longest notice period taken: a typing slip (`900m`) is refused rather than stored.
const MAX_NOTICE_DAYS: u64 = 5 * 366;

/// Why an agreement, a renewal or a number of days is refused; the variants hold the text as
/// typed or the dates at fault, and Display says it as a reply does.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AgreementError {
    #[error("there is no agreement kind '{0}' (kinds: {kinds})", kinds = AgreementKind::names())]
    UnknownKind(String),
    #[error("'{0}' is not a notice period: use a number of days, weeks, months or years (90d, 12w, 3m, 1y), or none")]
    NotANotice(String),
    #[error("a notice period of '{0}' is no notice period: say notice=none")]
    ZeroNotice(String),
    #[error("the notice period '{0}' is longer than five years")]
    NoticeTooLong(String),
    #[error(transparent)]
    Letter(#[from] NotARegistrationNumber),
    #[error("the agreement ends ({end}) before it starts ({start})")]
    EndsBeforeStart { start: NaiveDate, end: NaiveDate },
    #[error("the end date {end} is in the past (today is {today})")]
    EndInPast { end: NaiveDate, today: NaiveDate },
    #[error("a notice period of {notice} before the end on {end} reaches back to {deadline}, before the agreement starts ({start})")]
    NoticeBeforeStart { notice: Notice, end: NaiveDate, deadline: NaiveDate, start: NaiveDate },
    #[error("a notice period of {notice} before {end} is off the calendar")]
    NoticeOffCalendar { notice: Notice, end: NaiveDate },
    #[error("the new end {new_end} is not after the current end {old_end}")]
    RenewalNotLater { old_end: NaiveDate, new_end: NaiveDate },
    #[error("the new end date {new_end} is in the past (today is {today})")]
    RenewalInPast { new_end: NaiveDate, today: NaiveDate },
    #[error("a notice period of {notice} before {new_end} reaches back before the agreement starts ({start})")]
    RenewalNoticeBeforeStart { notice: Notice, new_end: NaiveDate, start: NaiveDate },
    #[error("'{0}' is out of range: look 1 to {MAX_EXPIRING_DAYS} days ahead")]
    DaysOutOfRange(String),
    #[error("'{0}' is not a number of days (such as 90)")]
    NotDays(String),
}

/// What sort of agreement it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AgreementKind {
    /// An Erasmus+ inter-institutional agreement.
    ErasmusIia,
    /// A memorandum of understanding.
    Mou,
    Bilateral,
    Other,
}

impl AgreementKind {
    pub const ALL: [AgreementKind; 4] = [AgreementKind::ErasmusIia, AgreementKind::Mou, AgreementKind::Bilateral, AgreementKind::Other];

    /// The kind as typed and stored: `erasmus-iia`.
    pub fn as_str(self) -> &'static str {
        match self {
            AgreementKind::ErasmusIia => "erasmus-iia",
            AgreementKind::Mou => "mou",
            AgreementKind::Bilateral => "bilateral",
            AgreementKind::Other => "other",
        }
    }

    /// The kind in a sentence: "Erasmus+ IIA".
    pub fn label(self) -> &'static str {
        match self {
            AgreementKind::ErasmusIia => "Erasmus+ IIA",
            AgreementKind::Mou => "MoU",
            AgreementKind::Bilateral => "bilateral agreement",
            AgreementKind::Other => "agreement",
        }
    }

    /// A kind as typed (any case), or a message listing the kinds there are.
    pub fn parse(text: &str) -> Result<AgreementKind, AgreementError> {
        let wanted = text.trim().to_ascii_lowercase();
        AgreementKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == wanted)
            .ok_or_else(|| AgreementError::UnknownKind(text.trim().to_string()))
    }

    /// "erasmus-iia, mou, bilateral, other", for messages.
    pub fn names() -> String {
        AgreementKind::ALL.map(AgreementKind::as_str).join(", ")
    }
}

/// The unit of a notice period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NoticeUnit {
    Days,
    Weeks,
    Months,
    Years,
}

impl NoticeUnit {
    fn letter(self) -> char {
        match self {
            NoticeUnit::Days => 'd',
            NoticeUnit::Weeks => 'w',
            NoticeUnit::Months => 'm',
            NoticeUnit::Years => 'y',
        }
    }
}

/// How long before its end notice must be given: `90d`, `12w`, `3m`, `1y`. Months and years are
/// calendar ones (three months before 30 June is 30 March), as agreements count them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Notice {
    pub count: u32,
    pub unit: NoticeUnit,
}

impl std::fmt::Display for Notice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}{}", self.count, self.unit.letter())
    }
}

impl Notice {
    /// Reads `90d`, `90 days`, `12w`, `3m`, `3 months`, `1y`; `none` is no notice period (`Ok(None)`).
    pub fn parse(text: &str) -> Result<Option<Notice>, AgreementError> {
        let typed = text.trim();
        let problem = || AgreementError::NotANotice(typed.to_string());
        let lowered = typed.to_lowercase();
        if lowered == "none" {
            return Ok(None);
        }
        let digits = lowered.chars().take_while(char::is_ascii_digit).count();
        let (number, unit) = lowered.split_at(digits);
        let count: u32 = number.parse().map_err(|_| problem())?;
        let unit = match unit.trim() {
            "d" | "day" | "days" => NoticeUnit::Days,
            "w" | "week" | "weeks" => NoticeUnit::Weeks,
            "m" | "month" | "months" => NoticeUnit::Months,
            "y" | "year" | "years" => NoticeUnit::Years,
            _ => return Err(problem()),
        };
        if count == 0 {
            return Err(AgreementError::ZeroNotice(typed.to_string()));
        }
        let notice = Notice { count, unit };
        // Measured from a fixed day, so that "61m" and "1900d" are judged alike.
        let from = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or(NaiveDate::MIN);
        let too_long = notice.deadline(from).is_none_or(|day| (from - day).num_days().unsigned_abs() > MAX_NOTICE_DAYS);
        if too_long {
            return Err(AgreementError::NoticeTooLong(typed.to_string()));
        }
        Ok(Some(notice))
    }

    /// The last day notice may be given on an agreement that ends on `end`; `None` only for a
    /// date at the calendar's edge.
    pub fn deadline(self, end: NaiveDate) -> Option<NaiveDate> {
        match self.unit {
            NoticeUnit::Days => end.checked_sub_days(Days::new(self.count.into())),
            NoticeUnit::Weeks => end.checked_sub_days(Days::new(u64::from(self.count) * 7)),
            NoticeUnit::Months => end.checked_sub_months(Months::new(self.count)),
            NoticeUnit::Years => end.checked_sub_months(Months::new(self.count.checked_mul(12)?)),
        }
    }
}

/// What an agreement commits to, checked: the partner (its handle), the kind, the dates, the
/// notice period and the registered letters that carry it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Terms {
    pub partner: String,
    pub kind: AgreementKind,
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub notice: Option<Notice>,
    pub letters: Vec<RegistrationNumber>,
}

impl Terms {
    /// The last day notice may be given; `None` without a notice period.
    pub fn notice_deadline(&self) -> Option<NaiveDate> {
        self.notice.and_then(|notice| notice.deadline(self.end))
    }
}

/// A new agreement as typed: the dates read already, the rest as words.
#[derive(Debug, Clone)]
pub struct Draft<'a> {
    pub partner: &'a str,
    pub kind: &'a str,
    pub start: NaiveDate,
    pub end: NaiveDate,
    /// `notice=` as typed; `None` for the default.
    pub notice: Option<&'a str>,
    /// Each `letter=` as typed (each may list several numbers, comma-separated).
    pub letters: &'a [String],
}

/// Checks a new agreement against `today` (the office's date): it may have started long ago,
/// but must not have ended. The terms, or what is wrong with them.
pub fn new_agreement(draft: Draft<'_>, today: NaiveDate) -> Result<Terms, AgreementError> {
    let kind = AgreementKind::parse(draft.kind)?;
    let notice = match draft.notice {
        Some(text) => Notice::parse(text)?,
        None => Some(DEFAULT_NOTICE),
    };
    let letters = letter_numbers(draft.letters)?;
    let (start, end) = (draft.start, draft.end);
    if end < start {
        return Err(AgreementError::EndsBeforeStart { start, end });
    }
    if end < today {
        return Err(AgreementError::EndInPast { end, today });
    }
    let terms = Terms { partner: draft.partner.trim().to_lowercase(), kind, start, end, notice, letters };
    if let Some(notice) = terms.notice {
        match terms.notice_deadline() {
            Some(deadline) if deadline >= start => {}
            Some(deadline) => {
                return Err(AgreementError::NoticeBeforeStart { notice, end, deadline, start });
            }
            None => return Err(AgreementError::NoticeOffCalendar { notice, end }),
        }
    }
    Ok(terms)
}

/// Registration numbers from `letter=` values (each comma-separated), each once, in the order
/// given; what is not a number is named.
pub fn letter_numbers(typed: &[String]) -> Result<Vec<RegistrationNumber>, NotARegistrationNumber> {
    let mut numbers: Vec<RegistrationNumber> = Vec::new();
    for piece in typed.iter().flat_map(|value| value.split(',')).map(str::trim).filter(|piece| !piece.is_empty()) {
        let number: RegistrationNumber = piece.parse()?;
        if !numbers.contains(&number) {
            numbers.push(number);
        }
    }
    Ok(numbers)
}

/// Whether an agreement that ends on `old_end` may be renewed to `new_end`: the new end is after
/// the old one, and not in the past.
pub fn check_renewal(
    old_end: NaiveDate,
    new_end: NaiveDate,
    notice: Option<Notice>,
    start: NaiveDate,
    today: NaiveDate,
) -> Result<(), AgreementError> {
    if new_end <= old_end {
        return Err(AgreementError::RenewalNotLater { old_end, new_end });
    }
    if new_end < today {
        return Err(AgreementError::RenewalInPast { new_end, today });
    }
    if let Some(notice) = notice
        && notice.deadline(new_end).is_none_or(|deadline| deadline < start)
    {
        return Err(AgreementError::RenewalNoticeBeforeStart { notice, new_end, start });
    }
    Ok(())
}

/// What a renewal changes once it is allowed (`check_renewal`): the end and the notice deadline,
/// and the reminders: those about the old dates end, new ones are counted from the new dates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenewalPlan {
    pub end: NaiveDate,
    pub notice_by: Option<NaiveDate>,
    pub closed: [Kind; 2],
    pub scheduled: Vec<(Kind, NaiveDate)>,
}

pub fn plan_renewal(
    old_end: NaiveDate,
    new_end: NaiveDate,
    notice: Option<Notice>,
    start: NaiveDate,
    today: NaiveDate,
) -> Result<RenewalPlan, AgreementError> {
    check_renewal(old_end, new_end, notice, start, today)?;
    let notice_by = notice.and_then(|notice| notice.deadline(new_end));
    Ok(RenewalPlan {
        end: new_end,
        notice_by,
        closed: [Kind::AgreementEnd, Kind::AgreementNotice],
        scheduled: reminders(new_end, notice_by),
    })
}

/// The reminders an agreement has: before its end, and before its notice deadline when it has
/// one.
pub fn reminders(end: NaiveDate, notice_by: Option<NaiveDate>) -> Vec<(Kind, NaiveDate)> {
    let mut reminders = vec![(Kind::AgreementEnd, end)];
    reminders.extend(notice_by.map(|day| (Kind::AgreementNotice, day)));
    reminders
}

/// The last day an agreement may end on to be listed as expiring on `today`, looking `days`
/// ahead; the store selects with it, so the list and its heading agree.
pub fn expiring_horizon(today: NaiveDate, days: u32) -> NaiveDate {
    today.checked_add_days(Days::new(days.into())).unwrap_or(NaiveDate::MAX)
}

/// A number of days as typed for `!agreements expiring DAYS` (`90`, `90d`).
pub fn parse_days(text: &str) -> Result<u32, AgreementError> {
    let typed = text.trim();
    let digits = typed.strip_suffix(['d', 'D']).unwrap_or(typed);
    match digits.parse::<u32>() {
        Ok(days) if (1..=MAX_EXPIRING_DAYS).contains(&days) => Ok(days),
        Ok(_) => Err(AgreementError::DaysOutOfRange(typed.to_string())),
        Err(_) => Err(AgreementError::NotDays(typed.to_string())),
    }
}

/// A renewal as recorded: the last one only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Renewal {
    pub at: DateTime<Utc>,
    pub by: String,
    /// The end the agreement had before.
    pub previous_end: NaiveDate,
}

/// An agreement ended before its term (`!agreement end`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ending {
    pub at: DateTime<Utc>,
    pub by: String,
    pub reason: String,
    /// The end it had before.
    pub planned_end: NaiveDate,
}

/// An agreement as the office keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agreement {
    pub id: i64,
    pub terms: Terms,
    /// The partner's full name.
    pub partner_name: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub renewal: Option<Renewal>,
    pub ending: Option<Ending>,
}

impl Agreement {
    /// One line naming it, for reminders and lists: "agreement 4, Erasmus+ IIA with METU (Middle
    /// East Technical University)".
    pub fn title(&self) -> String {
        title(self.id, self.terms.kind, &self.terms.partner, &self.partner_name)
    }
}

/// "agreement 4, Erasmus+ IIA with METU (Middle East Technical University)".
pub fn title(id: i64, kind: AgreementKind, handle: &str, partner_name: &str) -> String {
    format!("agreement {id}, {} with {} ({partner_name})", kind.label(), handle.to_uppercase())
}

/// A reminder of an agreement as its card lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduledReminder {
    pub id: i64,
    pub kind: Kind,
    pub due_at: DateTime<Utc>,
}

/// The card of `!agreement show`: dates, notice, letters, who added and renewed it, and the
/// reminders still to come, as of `today` in `zone`.
pub fn card(agreement: &Agreement, reminders: &[ScheduledReminder], today: NaiveDate, zone: Tz) -> String {
    let terms = &agreement.terms;
    let office_day = |at: DateTime<Utc>| at.with_timezone(&zone).date_naive();
    let title = capitalised(&agreement.title());
    let mut lines = vec![
        format!("**{}**", markdown::literal(&title)),
        String::new(),
        format!("- runs: {} – {} (ends {})", terms.start, terms.end, days_phrase(terms.end, today)),
    ];
    lines.push(match (terms.notice, terms.notice_deadline()) {
        (Some(notice), Some(deadline)) if deadline < today => {
            format!("- notice: {notice}, the deadline {deadline} has passed ({})", days_phrase(deadline, today))
        }
        (Some(notice), Some(deadline)) => format!("- notice: {notice}, to be given by {deadline} ({})", days_phrase(deadline, today)),
        _ => "- notice: none".to_string(),
    });
    let letters = if terms.letters.is_empty() {
        "—".to_string()
    } else {
        terms.letters.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
    };
    lines.push(format!("- letters: {letters}"));
    lines.push(format!("- added by {} on {}", agreement.created_by, office_day(agreement.created_at)));
    if let Some(renewal) = &agreement.renewal {
        lines.push(format!("- renewed by {} on {} (it was to end on {})", renewal.by, office_day(renewal.at), renewal.previous_end));
    }
    if let Some(ending) = &agreement.ending {
        lines.push(format!(
            "- **ended** by {} on {}: {} (it was to end on {})",
            ending.by,
            office_day(ending.at),
            ending.reason,
            ending.planned_end
        ));
    }
    if reminders.is_empty() {
        lines.push("- reminders: none to come".to_string());
    } else {
        let next = reminders
            .iter()
            .map(|r| {
                let what = if r.kind == Kind::AgreementNotice { "notice" } else { "end" };
                format!("#{} on {} ({what})", r.id, r.due_at.with_timezone(&zone).format("%Y-%m-%d %H:%M"))
            })
            .collect::<Vec<_>>();
        lines.push(format!("- reminders: {}", next.join(", ")));
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn today() -> NaiveDate {
        day(2026, 12, 1)
    }

    fn draft<'a>(letters: &'a [String]) -> Draft<'a> {
        Draft { partner: " METU ", kind: "Erasmus-IIA", start: day(2021, 9, 1), end: day(2027, 6, 30), notice: None, letters }
    }

    #[test]
    fn a_good_agreement_is_taken_with_the_default_notice() {
        let letters = vec!["in-2026-000001, OUT-2026-000002".to_string(), "IN-2026-000001".to_string()];
        let terms = new_agreement(draft(&letters), today()).unwrap();
        assert_eq!(terms.partner, "metu");
        assert_eq!(terms.kind, AgreementKind::ErasmusIia);
        assert_eq!(terms.notice, Some(DEFAULT_NOTICE));
        assert_eq!(terms.notice_deadline(), Some(day(2027, 4, 1)));
        let numbers: Vec<String> = terms.letters.iter().map(ToString::to_string).collect();
        assert_eq!(numbers, ["IN-2026-000001", "OUT-2026-000002"]);
    }

    #[test]
    fn bad_agreements_are_refused_naming_the_problem() {
        type Spoil = fn(&mut Draft<'static>);
        let cases: [(Spoil, &str); 7] = [
            (|d| d.kind = "treaty", "there is no agreement kind 'treaty' (kinds: erasmus-iia, mou, bilateral, other)"),
            (|d| d.end = day(2026, 11, 30), "the end date 2026-11-30 is in the past (today is 2026-12-01)"),
            (|d| d.end = day(2021, 8, 31), "the agreement ends (2021-08-31) before it starts (2021-09-01)"),
            (|d| d.notice = Some("soon"), "'soon' is not a notice period"),
            (|d| d.notice = Some("0d"), "say notice=none"),
            (|d| d.notice = Some("70y"), "longer than five years"),
            (|d| (d.start, d.end) = (day(2027, 1, 1), day(2027, 2, 1)), "reaches back to 2026-11-03, before the agreement starts"),
        ];
        for (spoil, expected) in cases {
            let mut typed = draft(&[]);
            spoil(&mut typed);
            let error = new_agreement(typed, today()).expect_err(expected).to_string();
            assert!(error.contains(expected), "{expected}: {error}");
        }
    }

    #[test]
    fn a_start_in_the_past_and_an_end_today_are_fine() {
        let mut typed = draft(&[]);
        typed.end = today();
        typed.start = day(2020, 1, 1);
        assert!(new_agreement(typed, today()).is_ok());
    }

    #[test]
    fn letters_must_be_registration_numbers() {
        assert_eq!(letter_numbers(&[" , ".to_string()]), Ok(vec![]));
        let error = letter_numbers(&["IN-2026-000001,IN-26-1".to_string()]).unwrap_err().to_string();
        assert_eq!(error, "'IN-26-1' is not a registration number (expected like IN-2026-000123)");
    }

    #[test]
    fn notice_periods_read_in_days_weeks_months_and_years() {
        let end = day(2027, 6, 30);
        let deadline = |text: &str| Notice::parse(text).unwrap().and_then(|n| n.deadline(end));
        assert_eq!(deadline("90d"), Some(day(2027, 4, 1)));
        assert_eq!(deadline("90 days"), Some(day(2027, 4, 1)));
        assert_eq!(deadline("12w"), Some(day(2027, 4, 7)));
        assert_eq!(deadline("3m"), Some(day(2027, 3, 30)));
        assert_eq!(deadline("6 Months"), Some(day(2026, 12, 30)));
        assert_eq!(deadline("1y"), Some(day(2026, 6, 30)));
        assert_eq!(deadline("none"), None);
        assert_eq!(Notice::parse("3m").unwrap().unwrap().to_string(), "3m");
        for bad in ["", "d", "90", "-3m", "3 fortnights", "1.5m", "soon"] {
            assert!(Notice::parse(bad).unwrap_err().to_string().contains("is not a notice period"), "{bad}");
        }
        assert!(Notice::parse("5y").is_ok());
        assert!(Notice::parse("61m").unwrap_err().to_string().contains("longer than five years"));
        assert!(Notice::parse("99999999y").is_err());
    }

    #[test]
    fn a_renewal_moves_the_end_later_and_not_into_the_past() {
        let start = day(2021, 9, 1);
        let notice = Some(DEFAULT_NOTICE);
        assert!(check_renewal(day(2027, 6, 30), day(2032, 6, 30), notice, start, today()).is_ok());
        let same = check_renewal(day(2027, 6, 30), day(2027, 6, 30), notice, start, today()).unwrap_err().to_string();
        assert_eq!(same, "the new end 2027-06-30 is not after the current end 2027-06-30");
        let past = check_renewal(day(2026, 1, 31), day(2026, 6, 30), notice, start, today()).unwrap_err().to_string();
        assert!(past.contains("the new end date 2026-06-30 is in the past"), "{past}");
    }

    #[test]
    fn a_renewal_ends_the_old_reminders_and_counts_new_ones_from_the_new_dates() {
        let (start, old_end, new_end) = (day(2021, 9, 1), day(2027, 6, 30), day(2032, 6, 30));
        let deadline = DEFAULT_NOTICE.deadline(new_end);
        // (notice period, the new notice deadline, the reminders scheduled)
        let table = [
            (Some(DEFAULT_NOTICE), deadline, vec![(Kind::AgreementEnd, new_end), (Kind::AgreementNotice, deadline.unwrap())]),
            (None, None, vec![(Kind::AgreementEnd, new_end)]),
        ];
        for (notice, notice_by, scheduled) in table {
            let plan = plan_renewal(old_end, new_end, notice, start, today()).unwrap();
            let closed = [Kind::AgreementEnd, Kind::AgreementNotice];
            assert_eq!(plan, RenewalPlan { end: new_end, notice_by, closed, scheduled }, "{notice:?}");
        }
        assert!(plan_renewal(old_end, old_end, None, start, today()).is_err(), "refused as check_renewal refuses");
    }

    #[test]
    fn expiring_looks_ahead_a_number_of_days() {
        assert_eq!(expiring_horizon(today(), DEFAULT_EXPIRING_DAYS), day(2027, 5, 30));
        assert_eq!(expiring_horizon(today(), 30), day(2026, 12, 31));
        assert_eq!(parse_days("90"), Ok(90));
        assert_eq!(parse_days("90d"), Ok(90));
        assert_eq!(parse_days("soon").map_err(|error| error.to_string()), Err("'soon' is not a number of days (such as 90)".into()));
        assert!(parse_days("0").unwrap_err().to_string().contains("out of range"));
        assert!(parse_days("100000").unwrap_err().to_string().contains("out of range"));
    }

    #[test]
    fn the_card_names_the_dates_the_letters_and_what_comes() {
        let zone = chrono_tz::Asia::Baku;
        let letters = vec!["IN-2026-000001".to_string()];
        let agreement = Agreement {
            id: 4,
            terms: new_agreement(draft(&letters), today()).unwrap(),
            partner_name: "Middle East Technical University".into(),
            created_by: "@officer:uni.example".into(),
            created_at: Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap(),
            renewal: None,
            ending: None,
        };
        assert_eq!(agreement.title(), "agreement 4, Erasmus+ IIA with METU (Middle East Technical University)");
        let reminders =
            [ScheduledReminder { id: 7, kind: Kind::AgreementNotice, due_at: Utc.with_ymd_and_hms(2027, 1, 1, 5, 0, 0).unwrap() }];
        let card = card(&agreement, &reminders, today(), zone);
        assert_eq!(
            card,
            "**Agreement 4, Erasmus+ IIA with METU (Middle East Technical University)**\n\n\
             - runs: 2021-09-01 – 2027-06-30 (ends in 211 days)\n\
             - notice: 90d, to be given by 2027-04-01 (in 121 days)\n\
             - letters: IN-2026-000001\n\
             - added by @officer:uni.example on 2026-12-01\n\
             - reminders: #7 on 2027-01-01 09:00 (notice)"
        );
        let renewed = Agreement {
            renewal: Some(Renewal { at: agreement.created_at, by: "@manager:uni.example".into(), previous_end: day(2026, 12, 31) }),
            terms: Terms { notice: None, letters: vec![], ..agreement.terms.clone() },
            ..agreement
        };
        let card = super::card(&renewed, &[], today(), zone);
        assert!(card.contains("- notice: none"), "{card}");
        assert!(card.contains("- letters: —"), "{card}");
        assert!(card.contains("- renewed by @manager:uni.example on 2026-12-01 (it was to end on 2026-12-31)"), "{card}");
        assert!(card.contains("- reminders: none to come"), "{card}");
    }
}
