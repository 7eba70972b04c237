//! Reminders as rules: when each kind fires, what it says and to whom, and when it fires next.
//! Pure: the store hands in the reminder, what it is about (a `Subject`) and `now`; the answer
//! (`Firing`) is written down by the store in the same transaction that claims the reminder.
//!
//! A reminder counted from an office date (a visa's apply-by date, an agreement's end, a
//! letter's due date, a contact's follow-up) fires at `Policy::hour` on the office's calendar,
//! moved off weekends and holidays to the working day before; its lead times count back from
//! the date. A personal reminder fires at the instant it was given, a digest at its weekly hour,
//! an agenda pack a fixed time before its meeting: those are never moved.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Days, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;

use super::markdown;

/// More than this after its time, a firing is marked late.
pub const LATE_AFTER: chrono::Duration = chrono::Duration::minutes(1);

/// What a reminder is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A visa case's apply-by date.
    VisaApplyBy,
    /// A visa case's visa expiry.
    VisaExpiry,
    /// An agreement's end.
    AgreementEnd,
    /// The last day to give notice on an agreement (its end less its notice period).
    AgreementNotice,
    /// A letter's due date, for its assignee.
    LetterDue,
    /// A letter past its due date, for its unit's head, weekly while it stays open.
    LetterOverdue,
    /// A contact log entry's follow-up date, for whoever logged it.
    FollowUp,
    /// `!remind me|@user|#room WHEN TEXT`.
    Personal,
    /// A unit's weekly digest.
    Digest,
    /// A meeting's agenda pack, sent to its participants before it.
    AgendaPack,
}

impl Kind {
    pub const ALL: [Kind; 10] = [
        Kind::VisaApplyBy,
        Kind::VisaExpiry,
        Kind::AgreementEnd,
        Kind::AgreementNotice,
        Kind::LetterDue,
        Kind::LetterOverdue,
        Kind::FollowUp,
        Kind::Personal,
        Kind::Digest,
        Kind::AgendaPack,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::VisaApplyBy => "visa-apply-by",
            Kind::VisaExpiry => "visa-expiry",
            Kind::AgreementEnd => "agreement-end",
            Kind::AgreementNotice => "agreement-notice",
            Kind::LetterDue => "letter-due",
            Kind::LetterOverdue => "letter-overdue",
            Kind::FollowUp => "follow-up",
            Kind::Personal => "personal",
            Kind::Digest => "digest",
            Kind::AgendaPack => "agenda-pack",
        }
    }

    pub fn parse(text: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|kind| kind.as_str() == text)
    }

    /// Counted from an office date: fires at the office's hour, off weekends and holidays.
    pub fn from_office_date(self) -> bool {
        matches!(
            self,
            Kind::VisaApplyBy
                | Kind::VisaExpiry
                | Kind::AgreementEnd
                | Kind::AgreementNotice
                | Kind::LetterDue
                | Kind::LetterOverdue
                | Kind::FollowUp
        )
    }

    /// What is due, in the words of a reminder: "apply for the visa by 2026-12-10".
    fn deadline_phrase(self, deadline: NaiveDate) -> String {
        match self {
            Kind::VisaApplyBy => format!("apply for the visa by {deadline}"),
            Kind::VisaExpiry => format!("the visa expires on {deadline}"),
            Kind::AgreementEnd => format!("the agreement ends on {deadline}"),
            Kind::AgreementNotice => format!("notice on the agreement must be given by {deadline}"),
            Kind::LetterDue => format!("the letter is due on {deadline}"),
            Kind::LetterOverdue => format!("the letter was due on {deadline} and is still open"),
            Kind::FollowUp => format!("follow up by {deadline}"),
            Kind::Personal | Kind::Digest | Kind::AgendaPack => deadline.to_string(),
        }
    }
}

/// How far before its date a step fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lead {
    /// Calendar days; a day off moves the firing to the working day before.
    Days(u32),
    /// Working days, counted back over weekends and holidays.
    WorkingDays(u32),
}

/// What happens once the date itself is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repeat {
    /// Nothing more: the last lead time was the last firing.
    Never,
    /// Once more on the date itself (the working day before a day off): a date too near for
    /// any lead time still gets its reminder.
    OnDeadline,
    /// On the date, then every working day until marked done.
    DailyFromDeadline,
    /// The first working day after the date, then every 7 days while the subject stays open.
    WeeklyAfterDeadline,
}

/// When the reminders fire: the configuration's `[reminders]`, with the office's calendar.
#[derive(Debug, Clone)]
pub struct Policy {
    pub zone: Tz,
    pub holidays: Vec<NaiveDate>,
    /// The hour of the office's day reminders counted from dates fire at.
    pub hour: u32,
    /// Days before a visa's apply-by date and expiry, by visa kind; `default_visa_leads` for
    /// a kind not listed.
    pub visa_leads: HashMap<String, Vec<u32>>,
    pub default_visa_leads: Vec<u32>,
    /// Days before an agreement's end and its notice deadline.
    pub agreement_leads: Vec<u32>,
    /// Working days before a letter's due date its assignee is reminded.
    pub letter_lead_working_days: u32,
    /// How long before a meeting its participants get the agenda pack.
    pub agenda_pack_before: chrono::Duration,
    /// The weekly digest: day and hour in the office's zone.
    pub digest_day: Weekday,
    pub digest_hour: u32,
    /// The International Relations Office's unit: its managers hear of visas and agreements.
    pub office_unit: String,
    /// Each unit's head's address (`units.toml`), for overdue letters and digests.
    pub unit_head_emails: HashMap<String, String>,
    /// The address reminders are e-mailed from; `None` when mail is off (Matrix only).
    pub mail_from: Option<String>,
}

impl Policy {
    /// The defaults of the issue that asked for reminders, in `zone`.
    pub fn new(zone: Tz) -> Policy {
        Policy {
            zone,
            holidays: Vec::new(),
            hour: 9,
            visa_leads: HashMap::new(),
            default_visa_leads: vec![60, 30, 14, 7, 1],
            agreement_leads: vec![180, 90, 30],
            letter_lead_working_days: 2,
            agenda_pack_before: chrono::Duration::days(1),
            digest_day: Weekday::Mon,
            digest_hour: 8,
            office_unit: "international".into(),
            unit_head_emails: HashMap::new(),
            mail_from: None,
        }
    }

    /// The lead times and what follows them for a reminder counted from a date; `visa_kind`
    /// picks a visa kind's own lead times.
    pub fn schedule(&self, kind: Kind, visa_kind: Option<&str>) -> (Vec<Lead>, Repeat) {
        let days = |leads: &[u32]| leads.iter().map(|&d| Lead::Days(d)).collect::<Vec<_>>();
        match kind {
            Kind::VisaApplyBy | Kind::VisaExpiry => {
                let leads = visa_kind.and_then(|k| self.visa_leads.get(k)).unwrap_or(&self.default_visa_leads);
                (days(leads), Repeat::DailyFromDeadline)
            }
            Kind::AgreementEnd | Kind::AgreementNotice => (days(&self.agreement_leads), Repeat::OnDeadline),
            Kind::LetterDue => (vec![Lead::WorkingDays(self.letter_lead_working_days)], Repeat::Never),
            Kind::LetterOverdue => (Vec::new(), Repeat::WeeklyAfterDeadline),
            Kind::FollowUp => (vec![Lead::Days(0)], Repeat::Never),
            Kind::Personal | Kind::Digest | Kind::AgendaPack => (Vec::new(), Repeat::Never),
        }
    }

    pub fn is_working_day(&self, day: NaiveDate) -> bool {
        !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) && !self.holidays.contains(&day)
    }

    /// `day`, or the working day before it.
    pub fn working_day_on_or_before(&self, mut day: NaiveDate) -> NaiveDate {
        // A year of holidays cannot hide every working day: the bound only stops a bad config.
        for _ in 0..366 {
            if self.is_working_day(day) {
                return day;
            }
            day = day.pred_opt().unwrap_or(day);
        }
        day
    }

    /// `day`, or the first working day after it.
    pub fn working_day_on_or_after(&self, mut day: NaiveDate) -> NaiveDate {
        for _ in 0..366 {
            if self.is_working_day(day) {
                return day;
            }
            day = day.succ_opt().unwrap_or(day);
        }
        day
    }

    /// The office day a lead time before `deadline` falls on.
    pub fn lead_day(&self, deadline: NaiveDate, lead: Lead) -> NaiveDate {
        match lead {
            Lead::Days(days) => self.working_day_on_or_before(deadline.checked_sub_days(Days::new(days.into())).unwrap_or(deadline)),
            Lead::WorkingDays(mut left) => {
                let mut day = self.working_day_on_or_before(deadline);
                while left > 0 {
                    day = self.working_day_on_or_before(day.pred_opt().unwrap_or(day));
                    left -= 1;
                }
                day
            }
        }
    }

    /// The instant of the office's hour on `day`.
    pub fn at_office_hour(&self, day: NaiveDate) -> DateTime<Utc> {
        at_local(day, NaiveTime::from_hms_opt(self.hour.min(23), 0, 0).unwrap_or(NaiveTime::MIN), self.zone)
    }

    /// The first firing of a reminder counted from `deadline` that is later than `after`;
    /// `None` when it has no firing left.
    pub fn next_firing(&self, kind: Kind, visa_kind: Option<&str>, deadline: NaiveDate, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let (leads, repeat) = self.schedule(kind, visa_kind);
        let mut firings: Vec<DateTime<Utc>> = leads.iter().map(|&lead| self.at_office_hour(self.lead_day(deadline, lead))).collect();
        firings.sort();
        if let Some(next) = firings.into_iter().find(|&at| at > after) {
            return Some(next);
        }
        let after_day = after.with_timezone(&self.zone).date_naive();
        match repeat {
            Repeat::Never => None,
            Repeat::OnDeadline => Some(self.at_office_hour(self.working_day_on_or_before(deadline))).filter(|&at| at > after),
            Repeat::DailyFromDeadline => {
                let mut day = self.working_day_on_or_after(deadline.max(after_day));
                loop {
                    let at = self.at_office_hour(day);
                    if at > after {
                        return Some(at);
                    }
                    day = self.working_day_on_or_after(day.succ_opt()?);
                }
            }
            Repeat::WeeklyAfterDeadline => {
                let first = self.working_day_on_or_after(deadline.succ_opt()?);
                let mut day = first;
                if after_day > first {
                    let weeks = (after_day - first).num_days() / 7;
                    day = first.checked_add_days(Days::new(u64::try_from(weeks * 7).ok()?))?;
                }
                loop {
                    let at = self.at_office_hour(day);
                    if at > after {
                        return Some(at);
                    }
                    day = day.checked_add_days(Days::new(7))?;
                }
            }
        }
    }

    /// The next weekly digest after `after`.
    pub fn next_digest(&self, after: DateTime<Utc>) -> DateTime<Utc> {
        let mut day = after.with_timezone(&self.zone).date_naive();
        let time = NaiveTime::from_hms_opt(self.digest_hour.min(23), 0, 0).unwrap_or(NaiveTime::MIN);
        loop {
            if day.weekday() == self.digest_day {
                let at = at_local(day, time, self.zone);
                if at > after {
                    return at;
                }
            }
            day = day.succ_opt().unwrap_or(day);
        }
    }
}

/// A local time on a day in `zone` as an instant (the earlier of two in a repeated hour, the
/// hour after a skipped one).
pub fn at_local(day: NaiveDate, time: NaiveTime, zone: Tz) -> DateTime<Utc> {
    let local = day.and_time(time);
    match zone.from_local_datetime(&local).earliest() {
        Some(at) => at.with_timezone(&Utc),
        None => zone.from_utc_datetime(&(local + chrono::Duration::hours(1))).with_timezone(&Utc),
    }
}

/// A stored reminder, as the scheduler claims it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Reminder {
    pub id: i64,
    #[serde(serialize_with = "kind_name")]
    pub kind: Kind,
    pub subject_id: Option<i64>,
    pub subject_key: Option<String>,
    pub deadline: Option<NaiveDate>,
    /// How many times it has fired.
    pub step: u32,
    pub due_at: DateTime<Utc>,
    pub owner: String,
    pub target: Option<String>,
    pub body: Option<String>,
}

fn kind_name<S: serde::Serializer>(kind: &Kind, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(kind.as_str())
}

/// Someone a reminder reaches: in Matrix by direct message, by e-mail, or both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub mxid: Option<String>,
    pub email: Option<String>,
    /// Their own zone, for the times a reminder shows.
    pub zone: Option<Tz>,
}

/// What the store found about a reminder's subject when it came due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    /// One line naming it, safe for every recipient: "visa case 3, Orxan Officer to DE (schengen)".
    pub title: String,
    /// Closed (the visa granted, the letter answered, the agreement renewed past this date):
    /// the reminder ends without a word.
    pub open: bool,
    /// A visa case's kind, for its own lead times.
    pub visa_kind: Option<String>,
    pub recipients: Vec<Recipient>,
    /// A command that shows the subject: `!visa show 3`.
    pub show: Option<String>,
}

/// Where one message of a firing goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// A direct message to a person.
    Direct { mxid: String, markdown: String },
    /// A message in a room (a room ID or alias).
    Room { room: String, markdown: String },
    /// An e-mail.
    Email { to: String, subject: String, text: String },
}

/// What one firing does: its messages, and when the reminder fires next (`None`: it is done).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Firing {
    pub deliveries: Vec<Delivery>,
    pub next: Option<DateTime<Utc>>,
}

/// "late: was due at 09:00" when `now` is more than a minute after `due_at` (the date too when
/// it was another day), in `zone`.
pub fn late_note(due_at: DateTime<Utc>, now: DateTime<Utc>, zone: Tz) -> Option<String> {
    if now - due_at <= LATE_AFTER {
        return None;
    }
    let (due, today) = (due_at.with_timezone(&zone), now.with_timezone(&zone));
    Some(if due.date_naive() == today.date_naive() {
        format!("late: was due at {}", due.format("%H:%M"))
    } else {
        format!("late: was due at {}", due.format("%Y-%m-%d %H:%M"))
    })
}

/// "in 9 days", "today", "2 days ago".
pub fn days_phrase(day: NaiveDate, today: NaiveDate) -> String {
    match (day - today).num_days() {
        0 => "today".into(),
        1 => "tomorrow".into(),
        -1 => "yesterday".into(),
        n if n > 1 => format!("in {n} days"),
        n => format!("{} days ago", -n),
    }
}

/// Fires a reminder counted from a date (visa, agreement, letter, follow-up) or a personal one.
/// `subject` is `None` for a personal reminder and for a subject that no longer exists.
pub fn fire(reminder: &Reminder, subject: Option<&Subject>, now: DateTime<Utc>, policy: &Policy) -> Firing {
    if reminder.kind == Kind::Personal {
        return fire_personal(reminder, now, policy);
    }
    let (Some(subject), Some(deadline)) = (subject, reminder.deadline) else {
        return Firing { deliveries: Vec::new(), next: None };
    };
    if !subject.open {
        return Firing { deliveries: Vec::new(), next: None };
    }
    let today = now.with_timezone(&policy.zone).date_naive();
    let next = policy.next_firing(reminder.kind, subject.visa_kind.as_deref(), deadline, now);
    let stops = match (reminder.kind, next) {
        (_, None) => String::new(),
        (Kind::LetterOverdue | Kind::FollowUp, _) => String::new(),
        _ => format!(" `!remind done {id}` stops it; `!remind snooze {id} 2d` puts it off.", id = reminder.id),
    };
    let show = subject.show.as_ref().map(|command| format!(" (`{command}`)")).unwrap_or_default();
    let headline = format!("{} ({})", reminder.kind.deadline_phrase(deadline), days_phrase(deadline, today));
    let mut deliveries = Vec::new();
    for recipient in &subject.recipients {
        let zone = recipient.zone.unwrap_or(policy.zone);
        let late = late_note(reminder.due_at, now, zone).map(|note| format!(" _({note})_")).unwrap_or_default();
        if let Some(mxid) = &recipient.mxid {
            let markdown =
                format!("⏰ **Reminder {}**: {headline}: {}{show}.{late}{stops}", reminder.id, markdown::literal(&subject.title));
            deliveries.push(Delivery::Direct { mxid: mxid.clone(), markdown });
        }
        if let Some(email) = &recipient.email {
            let late = late_note(reminder.due_at, now, zone).map(|note| format!("\n({note})")).unwrap_or_default();
            let text = format!(
                "Reminder {id}: {headline}.\n\n{}\n{late}\nIn the registry's chat, {}`!remind done {id}` stops this reminder.\n",
                subject.title,
                subject.show.as_ref().map(|command| format!("`{command}` shows it; ")).unwrap_or_default(),
                id = reminder.id,
            );
            deliveries.push(Delivery::Email { to: email.clone(), subject: format!("Reminder: {headline}"), text });
        }
    }
    Firing { deliveries, next }
}

fn fire_personal(reminder: &Reminder, now: DateTime<Utc>, policy: &Policy) -> Firing {
    let text = reminder.body.clone().unwrap_or_default();
    let late = late_note(reminder.due_at, now, policy.zone).map(|note| format!(" _({note})_")).unwrap_or_default();
    let target = reminder.target.clone().unwrap_or_else(|| reminder.owner.clone());
    let from = if target == reminder.owner { String::new() } else { format!(" from {}", reminder.owner) };
    let markdown = format!("⏰ **Reminder {}**{from}: {}{late}", reminder.id, markdown::literal(&text));
    let delivery =
        if target.starts_with('@') { Delivery::Direct { mxid: target, markdown } } else { Delivery::Room { room: target, markdown } };
    Firing { deliveries: vec![delivery], next: None }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap()
    }

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    fn policy() -> Policy {
        Policy { holidays: vec![day("2027-01-01")], ..Policy::new(chrono_tz::Asia::Baku) }
    }

    #[test]
    fn kinds_round_trip() {
        for kind in Kind::ALL {
            assert_eq!(Kind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(Kind::parse("visa"), None);
    }

    #[test]
    fn lead_times_move_off_weekends_and_holidays_to_the_day_before() {
        let p = policy();
        // 2027-01-10 is a Sunday: 7 days before is Sunday 2027-01-03 → Friday 2027-01-01 is a
        // holiday → Thursday 2026-12-31.
        assert_eq!(p.lead_day(day("2027-01-10"), Lead::Days(7)), day("2026-12-31"));
        assert_eq!(p.lead_day(day("2026-12-16"), Lead::Days(1)), day("2026-12-15"));
        // Two working days before Monday 2026-12-14: Thursday 2026-12-10.
        assert_eq!(p.lead_day(day("2026-12-14"), Lead::WorkingDays(2)), day("2026-12-10"));
        // 09:00 in Baku (UTC+4).
        assert_eq!(p.at_office_hour(day("2026-12-15")), at("2026-12-15T05:00:00Z"));
    }

    #[test]
    fn a_visa_fires_at_each_lead_time_then_daily_on_working_days() {
        let p = policy();
        let deadline = day("2026-12-16"); // a Wednesday
        let mut firings = Vec::new();
        let mut after = at("2026-12-01T00:00:00Z");
        while firings.len() < 6 {
            let next = p.next_firing(Kind::VisaApplyBy, Some("schengen"), deadline, after).unwrap();
            firings.push(next.with_timezone(&p.zone).format("%a %Y-%m-%d %H:%M").to_string());
            after = next;
        }
        // 60 and 30 days before are past; 14 → Wed 12-02, 7 → Wed 12-09, 1 → Tue 12-15, then
        // the day itself and every working day after.
        assert_eq!(
            firings,
            [
                "Wed 2026-12-02 09:00",
                "Wed 2026-12-09 09:00",
                "Tue 2026-12-15 09:00",
                "Wed 2026-12-16 09:00",
                "Thu 2026-12-17 09:00",
                "Fri 2026-12-18 09:00"
            ]
        );
        let next = p.next_firing(Kind::VisaApplyBy, None, deadline, at("2026-12-18T06:00:00Z")).unwrap();
        assert_eq!(next.with_timezone(&p.zone).format("%a %d %H:%M").to_string(), "Mon 21 09:00");
    }

    #[test]
    fn a_visa_kind_may_have_its_own_lead_times() {
        let mut p = policy();
        p.visa_leads.insert("e-visa".into(), vec![3]);
        let next = p.next_firing(Kind::VisaExpiry, Some("e-visa"), day("2026-12-16"), at("2026-12-01T00:00:00Z")).unwrap();
        assert_eq!(next, p.at_office_hour(day("2026-12-11")));
    }

    #[test]
    fn agreements_stop_after_the_last_lead_time_and_overdue_letters_repeat_weekly() {
        let p = policy();
        let end = day("2027-06-30"); // a Wednesday
        let last_lead = p.at_office_hour(p.lead_day(end, Lead::Days(30)));
        let on_the_day = p.next_firing(Kind::AgreementEnd, None, end, last_lead).unwrap();
        assert_eq!(on_the_day, p.at_office_hour(end), "the day itself");
        assert_eq!(p.next_firing(Kind::AgreementEnd, None, end, on_the_day), None, "then no more");
        // An agreement added 20 days before its end is still reminded, on the day.
        let late_start = p.at_office_hour(end) - chrono::Duration::days(20);
        assert_eq!(p.next_firing(Kind::AgreementNotice, None, end, late_start), Some(p.at_office_hour(end)));
        // Due Friday 2026-12-11: overdue from Monday 12-14, then each Monday.
        let due = day("2026-12-11");
        let first = p.next_firing(Kind::LetterOverdue, None, due, at("2026-12-01T00:00:00Z")).unwrap();
        assert_eq!(first, p.at_office_hour(day("2026-12-14")));
        assert_eq!(p.next_firing(Kind::LetterOverdue, None, due, first).unwrap(), p.at_office_hour(day("2026-12-21")));
        // After a month away, the next is still a Monday, not a catch-up of every week.
        assert_eq!(p.next_firing(Kind::LetterOverdue, None, due, at("2027-01-13T12:00:00Z")).unwrap(), p.at_office_hour(day("2027-01-18")));
    }

    #[test]
    fn digests_come_on_their_weekday() {
        let p = policy();
        // Tuesday 2026-12-01 → Monday 2026-12-07 08:00 Baku.
        assert_eq!(p.next_digest(at("2026-12-01T10:00:00Z")), at("2026-12-07T04:00:00Z"));
        assert_eq!(p.next_digest(at("2026-12-07T04:00:00Z")), at("2026-12-14T04:00:00Z"));
    }

    #[test]
    fn late_firings_say_so() {
        let zone = chrono_tz::Asia::Baku;
        assert_eq!(late_note(at("2026-12-01T05:00:00Z"), at("2026-12-01T05:00:59Z"), zone), None);
        assert_eq!(late_note(at("2026-12-01T05:00:00Z"), at("2026-12-01T07:30:00Z"), zone).unwrap(), "late: was due at 09:00");
        assert_eq!(late_note(at("2026-11-30T05:00:00Z"), at("2026-12-01T07:30:00Z"), zone).unwrap(), "late: was due at 2026-11-30 09:00");
    }

    fn reminder(kind: Kind, deadline: &str, due_at: &str) -> Reminder {
        Reminder {
            id: 7,
            kind,
            subject_id: Some(3),
            subject_key: None,
            deadline: Some(day(deadline)),
            step: 0,
            due_at: at(due_at),
            owner: "@officer:uni.example".into(),
            target: None,
            body: None,
        }
    }

    fn subject(open: bool) -> Subject {
        Subject {
            title: "visa case 3, Orxan Officer to DE (schengen)".into(),
            open,
            visa_kind: Some("schengen".into()),
            recipients: vec![
                Recipient { mxid: Some("@officer:uni.example".into()), email: Some("officer@uni.example".into()), zone: None },
                Recipient { mxid: Some("@manager:uni.example".into()), email: None, zone: None },
            ],
            show: Some("!visa show 3".into()),
        }
    }

    #[test]
    fn a_firing_tells_each_recipient_once_per_way_and_names_the_next() {
        let p = policy();
        let r = reminder(Kind::VisaApplyBy, "2026-12-16", "2026-12-09T05:00:00Z");
        let firing = fire(&r, Some(&subject(true)), at("2026-12-09T05:00:10Z"), &p);
        assert_eq!(firing.next, Some(p.at_office_hour(day("2026-12-15"))));
        assert_eq!(firing.deliveries.len(), 3);
        let Delivery::Direct { mxid, markdown } = &firing.deliveries[0] else { panic!("{:?}", firing.deliveries) };
        assert_eq!(mxid, "@officer:uni.example");
        assert_eq!(
            markdown,
            "⏰ **Reminder 7**: apply for the visa by 2026-12-16 (in 7 days): visa case 3, Orxan Officer to DE (schengen) \
             (`!visa show 3`). `!remind done 7` stops it; `!remind snooze 7 2d` puts it off."
        );
        assert!(
            matches!(&firing.deliveries[1], Delivery::Email { to, subject, .. } if to == "officer@uni.example" && subject == "Reminder: apply for the visa by 2026-12-16 (in 7 days)")
        );
        assert!(matches!(&firing.deliveries[2], Delivery::Direct { mxid, .. } if mxid == "@manager:uni.example"));
    }

    #[test]
    fn a_late_firing_is_marked_and_a_closed_subject_ends_quietly() {
        let p = policy();
        let r = reminder(Kind::VisaApplyBy, "2026-12-16", "2026-12-09T05:00:00Z");
        let firing = fire(&r, Some(&subject(true)), at("2026-12-09T08:12:00Z"), &p);
        let Delivery::Direct { markdown, .. } = &firing.deliveries[0] else { panic!() };
        assert!(markdown.contains("_(late: was due at 09:00)_"), "{markdown}");
        let quiet = fire(&r, Some(&subject(false)), at("2026-12-09T05:00:10Z"), &p);
        assert_eq!(quiet, Firing { deliveries: Vec::new(), next: None });
        assert_eq!(fire(&r, None, at("2026-12-09T05:00:10Z"), &p).next, None);
    }

    #[test]
    fn a_personal_reminder_fires_once_where_it_was_asked() {
        let p = policy();
        let mut r = reminder(Kind::Personal, "2026-12-16", "2026-12-09T05:00:00Z");
        r.deadline = None;
        r.body = Some("call the embassy".into());
        let firing = fire(&r, None, at("2026-12-09T05:00:00Z"), &p);
        assert_eq!(firing.next, None);
        assert_eq!(
            firing.deliveries,
            [Delivery::Direct { mxid: "@officer:uni.example".into(), markdown: "⏰ **Reminder 7**: call the embassy".into() }]
        );
        r.target = Some("!room:uni.example".into());
        let firing = fire(&r, None, at("2026-12-09T05:00:00Z"), &p);
        assert!(
            matches!(&firing.deliveries[0], Delivery::Room { room, markdown } if room == "!room:uni.example" && markdown.contains("from @officer:uni.example: call the embassy"))
        );
    }
}
