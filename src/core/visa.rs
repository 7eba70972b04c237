//! Visa and travel cases as plain data: what a new case must satisfy, what to warn about, and
//! when an open case is due.

use chrono::{DateTime, Days, Months, NaiveDate, Utc};

use super::partner::{PartnerError, country};

/// How far ahead an apply-by date or a visa's expiry makes an open case due.
pub const DUE_WITHIN_DAYS: u64 = 30;

/// Consulates refuse passports that run out less than this long after the return.
const PASSPORT_MARGIN_MONTHS: u32 = 6;

/// The longest traveller's name kept: a name, not a note.
const NAME_MAX_CHARS: usize = 200;

/// Why a visa case is refused; the variants hold the text as typed or the dates at fault, and
/// Display says it as a reply does.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VisaError {
    /// `kinds` are the ones configured.
    #[error("there is no visa kind '{typed}' (kinds: {})", .kinds.join(", "))]
    UnknownKind { typed: String, kinds: Vec<String> },
    #[error("the traveller's name is empty")]
    NoTraveller,
    #[error("the traveller's name is longer than {NAME_MAX_CHARS} characters")]
    LongTravellerName,
    #[error(transparent)]
    Country(#[from] PartnerError),
    #[error("the travel ends ({to}) before it starts ({from})")]
    TravelBackwards { from: NaiveDate, to: NaiveDate },
    /// `field` names the date: `travel`, `apply-by` or `visa expiry`.
    #[error("the {field} date {day} is in the past (today is {today})")]
    InThePast { field: &'static str, day: NaiveDate, today: NaiveDate },
    #[error("the apply-by date {apply_by} is after the departure on {departure}")]
    ApplyByAfterDeparture { apply_by: NaiveDate, departure: NaiveDate },
}

/// The kinds of visa a case may be for (`reminders.visa_kinds`); the default is what the office
/// uses when none is configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisaKinds(Vec<String>);

impl Default for VisaKinds {
    fn default() -> VisaKinds {
        VisaKinds(["schengen", "national", "e-visa", "other"].map(String::from).to_vec())
    }
}

impl VisaKinds {
    pub fn new(kinds: Vec<String>) -> VisaKinds {
        VisaKinds(kinds)
    }

    /// The kind as the list spells it, or a message listing the kinds there are.
    pub fn parse(&self, text: &str) -> Result<String, VisaError> {
        let wanted = text.trim();
        self.0
            .iter()
            .find(|kind| kind.eq_ignore_ascii_case(wanted))
            .cloned()
            .ok_or_else(|| VisaError::UnknownKind { typed: wanted.to_string(), kinds: self.0.clone() })
    }
}

/// Who travels where, when, and the dates that matter for the visa.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trip {
    pub traveller: String,
    /// The traveller's Matrix ID when they are in the staff directory.
    pub traveller_mxid: Option<String>,
    /// ISO 3166-1 alpha-2, upper case.
    pub country: String,
    pub kind: String,
    pub travel_from: NaiveDate,
    pub travel_to: NaiveDate,
    pub apply_by: Option<NaiveDate>,
    pub visa_expires: Option<NaiveDate>,
    pub passport_expires: Option<NaiveDate>,
}

/// A case as the office keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VisaCase {
    pub id: i64,
    pub trip: Trip,
    pub status: CaseStatus,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseStatus {
    Open,
    Done {
        at: DateTime<Utc>,
        by: String,
    },
    /// Called off (`!visa cancel`): its reminders ended with it.
    Cancelled {
        at: DateTime<Utc>,
        by: String,
    },
}

impl CaseStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            CaseStatus::Open => "open",
            CaseStatus::Done { .. } => "done",
            CaseStatus::Cancelled { .. } => "cancelled",
        }
    }
}

/// A new case as typed: the dates read already, the rest as words.
#[derive(Debug, Clone)]
pub struct Draft<'a> {
    pub traveller: &'a str,
    pub traveller_mxid: Option<String>,
    pub country: &'a str,
    pub kind: &'a str,
    pub travel: (NaiveDate, NaiveDate),
    pub apply_by: Option<NaiveDate>,
    pub visa_expires: Option<NaiveDate>,
    pub passport_expires: Option<NaiveDate>,
}

/// Something to tell whoever keeps the case; it is stored all the same.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Warning {
    /// The passport runs out less than six months after the return (or before it).
    PassportTooShort { expires: NaiveDate, needed_until: NaiveDate },
    /// The visa ends before the traveller is back.
    VisaEndsBeforeReturn { expires: NaiveDate, back: NaiveDate },
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Warning::PassportTooShort { expires, needed_until } => write!(
                f,
                "the passport expires on {expires}, less than six months after the return: \
                 most consulates want it valid until {needed_until} at least"
            ),
            Warning::VisaEndsBeforeReturn { expires, back } => {
                write!(f, "the visa expires on {expires}, before the return on {back}")
            }
        }
    }
}

/// Checks a new case against `today` (the office's date); the case, or what is wrong with it.
pub fn new_trip(draft: Draft<'_>, today: NaiveDate, kinds: &VisaKinds) -> Result<Trip, VisaError> {
    let traveller = draft.traveller.trim();
    if traveller.is_empty() {
        return Err(VisaError::NoTraveller);
    }
    if traveller.chars().count() > NAME_MAX_CHARS {
        return Err(VisaError::LongTravellerName);
    }
    let country = country(draft.country)?;
    let kind = kinds.parse(draft.kind)?;
    let (travel_from, travel_to) = draft.travel;
    if travel_to < travel_from {
        return Err(VisaError::TravelBackwards { from: travel_from, to: travel_to });
    }
    let not_past = |field: &'static str, day: Option<NaiveDate>| match day {
        Some(day) if day < today => Err(VisaError::InThePast { field, day, today }),
        _ => Ok(()),
    };
    not_past("travel", Some(travel_from))?;
    not_past("apply-by", draft.apply_by)?;
    not_past("visa expiry", draft.visa_expires)?;
    if let Some(apply_by) = draft.apply_by
        && apply_by > travel_from
    {
        return Err(VisaError::ApplyByAfterDeparture { apply_by, departure: travel_from });
    }
    Ok(Trip {
        traveller: traveller.to_string(),
        traveller_mxid: draft.traveller_mxid,
        country,
        kind,
        travel_from,
        travel_to,
        apply_by: draft.apply_by,
        visa_expires: draft.visa_expires,
        passport_expires: draft.passport_expires,
    })
}

/// What the office should know about a trip's documents.
pub fn warnings(trip: &Trip) -> Vec<Warning> {
    let mut warnings = Vec::new();
    if let Some(expires) = trip.passport_expires {
        let needed_until = trip.travel_to.checked_add_months(Months::new(PASSPORT_MARGIN_MONTHS)).unwrap_or(NaiveDate::MAX);
        if expires < needed_until {
            warnings.push(Warning::PassportTooShort { expires, needed_until });
        }
    }
    if let Some(expires) = trip.visa_expires
        && expires < trip.travel_to
    {
        warnings.push(Warning::VisaEndsBeforeReturn { expires, back: trip.travel_to });
    }
    warnings
}

/// Why an open case needs attention now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Due {
    ApplyBy(NaiveDate),
    VisaExpires(NaiveDate),
}

impl Due {
    pub fn day(self) -> NaiveDate {
        match self {
            Due::ApplyBy(day) | Due::VisaExpires(day) => day,
        }
    }

    /// "apply by 2026-12-10 (in 9 days)", as of `today`.
    pub fn describe(self, today: NaiveDate) -> String {
        let what = match self {
            Due::ApplyBy(_) => "apply by",
            Due::VisaExpires(_) if self.day() < today => "visa expired",
            Due::VisaExpires(_) => "visa expires",
        };
        let days = (self.day() - today).num_days();
        let when = match days {
            0 => "today".to_string(),
            1 => "tomorrow".to_string(),
            n if n > 1 => format!("in {n} days"),
            -1 => "1 day ago".to_string(),
            n => format!("{} days ago", -n),
        };
        format!("{what} {} ({when})", self.day())
    }
}

/// "visa case 3, Orxan Officer to DE (schengen)": how reminders and digests name a case.
pub fn case_title(id: i64, traveller: &str, country: &str, kind: &str) -> String {
    format!("visa case {id}, {traveller} to {country} ({kind})")
}

/// The last day a deadline may fall on for an open case to be due on `today`; the store
/// selects with it, `due` decides with it, so the two agree.
pub fn due_horizon(today: NaiveDate) -> NaiveDate {
    today.checked_add_days(Days::new(DUE_WITHIN_DAYS)).unwrap_or(NaiveDate::MAX)
}

/// Whether an open case is due on `today`: its apply-by date or its visa's expiry is within
/// thirty days, or already passed. The earlier of the two when both are.
pub fn due(case: &VisaCase, today: NaiveDate) -> Option<Due> {
    if case.status != CaseStatus::Open {
        return None;
    }
    let horizon = due_horizon(today);
    let apply_by = case.trip.apply_by.filter(|day| *day <= horizon).map(Due::ApplyBy);
    let expires = case.trip.visa_expires.filter(|day| *day <= horizon).map(Due::VisaExpires);
    [apply_by, expires].into_iter().flatten().min_by_key(|due| due.day())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    const TODAY: (i32, u32, u32) = (2026, 12, 1);

    fn today() -> NaiveDate {
        day(TODAY.0, TODAY.1, TODAY.2)
    }

    fn draft() -> Draft<'static> {
        Draft {
            traveller: " Orxan Officer ",
            traveller_mxid: Some("@officer:uni.example".into()),
            country: "de",
            kind: "Schengen",
            travel: (day(2026, 12, 20), day(2026, 12, 28)),
            apply_by: Some(day(2026, 12, 10)),
            visa_expires: None,
            passport_expires: Some(day(2028, 1, 1)),
        }
    }

    fn case(trip: Trip) -> VisaCase {
        VisaCase {
            id: 1,
            trip,
            status: CaseStatus::Open,
            created_by: "@officer:uni.example".into(),
            created_at: Utc.timestamp_opt(0, 0).unwrap(),
        }
    }

    #[test]
    fn a_good_case_is_taken_as_typed_with_its_names_normalised() {
        let trip = new_trip(draft(), today(), &VisaKinds::default()).unwrap();
        assert_eq!((trip.traveller.as_str(), trip.country.as_str(), trip.kind.as_str()), ("Orxan Officer", "DE", "schengen"));
        assert!(warnings(&trip).is_empty());
    }

    #[test]
    fn bad_cases_are_refused_naming_the_problem() {
        let kinds = VisaKinds::default();
        type Spoil = fn(&mut Draft<'static>);
        let cases: [(Spoil, &str); 9] = [
            (|d| d.traveller = "  ", "name is empty"),
            (|d| d.country = "Germany", "not a country code"),
            (|d| d.country = "QQ", "not a country code"),
            (|d| d.kind = "tourist", "kinds: schengen, national, e-visa, other"),
            (|d| d.travel = (day(2026, 12, 28), day(2026, 12, 20)), "ends (2026-12-20) before it starts"),
            (|d| d.travel = (day(2026, 11, 30), day(2026, 12, 20)), "travel date 2026-11-30 is in the past"),
            (|d| d.apply_by = Some(day(2026, 11, 30)), "apply-by date 2026-11-30 is in the past"),
            (|d| d.visa_expires = Some(day(2026, 11, 1)), "visa expiry date 2026-11-01 is in the past"),
            (|d| d.apply_by = Some(day(2026, 12, 21)), "after the departure"),
        ];
        for (spoil, expected) in cases {
            let mut typed = draft();
            spoil(&mut typed);
            let error = new_trip(typed, today(), &kinds).expect_err(expected).to_string();
            assert!(error.contains(expected), "{expected}: {error}");
        }
    }

    #[test]
    fn today_is_not_the_past() {
        let mut typed = draft();
        typed.travel = (today(), today());
        typed.apply_by = Some(today());
        assert!(new_trip(typed, today(), &VisaKinds::default()).is_ok());
    }

    #[test]
    fn kinds_can_come_from_elsewhere() {
        let kinds = VisaKinds::new(vec!["transit".into()]);
        assert_eq!(kinds.parse("TRANSIT"), Ok("transit".into()));
        assert_eq!(
            kinds.parse("schengen").map_err(|error| error.to_string()),
            Err("there is no visa kind 'schengen' (kinds: transit)".into())
        );
    }

    #[test]
    fn a_passport_must_last_six_months_beyond_the_return() {
        let trip = |passport| Trip { passport_expires: Some(passport), ..new_trip(draft(), today(), &VisaKinds::default()).unwrap() };
        // Back on 2026-12-28: the passport must hold until 2027-06-28.
        assert_eq!(warnings(&trip(day(2027, 6, 28))), vec![]);
        assert_eq!(
            warnings(&trip(day(2027, 6, 27))),
            vec![Warning::PassportTooShort { expires: day(2027, 6, 27), needed_until: day(2027, 6, 28) }]
        );
        let expired = warnings(&trip(day(2026, 12, 25)));
        assert!(expired[0].to_string().contains("less than six months after the return"), "{}", expired[0]);
    }

    #[test]
    fn a_visa_ending_before_the_return_is_a_warning() {
        let mut typed = draft();
        typed.visa_expires = Some(day(2026, 12, 27));
        let trip = new_trip(typed, today(), &VisaKinds::default()).unwrap();
        assert_eq!(warnings(&trip), vec![Warning::VisaEndsBeforeReturn { expires: day(2026, 12, 27), back: day(2026, 12, 28) }]);
    }

    #[test]
    fn an_open_case_is_due_thirty_days_before_its_earliest_deadline() {
        let base = new_trip(draft(), today(), &VisaKinds::default()).unwrap();
        let with = |apply_by, visa_expires| case(Trip { apply_by, visa_expires, ..base.clone() });
        let cases = [
            (with(None, None), None),
            (with(Some(day(2026, 12, 31)), None), Some(Due::ApplyBy(day(2026, 12, 31)))),
            (with(Some(day(2027, 1, 1)), None), None),
            (with(None, Some(day(2026, 12, 31))), Some(Due::VisaExpires(day(2026, 12, 31)))),
            (with(Some(day(2026, 12, 20)), Some(day(2026, 12, 5))), Some(Due::VisaExpires(day(2026, 12, 5)))),
            (with(Some(day(2026, 11, 20)), None), Some(Due::ApplyBy(day(2026, 11, 20)))),
        ];
        for (case, expected) in cases {
            assert_eq!(due(&case, today()), expected, "{:?}", case.trip);
        }
        let mut done = with(Some(day(2026, 12, 2)), None);
        done.status = CaseStatus::Done { at: done.created_at, by: "@manager:uni.example".into() };
        assert_eq!(due(&done, today()), None);
        assert_eq!(due_horizon(today()), day(2026, 12, 31));
    }

    #[test]
    fn due_dates_read_relative_to_today() {
        assert_eq!(Due::ApplyBy(day(2026, 12, 10)).describe(today()), "apply by 2026-12-10 (in 9 days)");
        assert_eq!(Due::ApplyBy(day(2026, 12, 2)).describe(today()), "apply by 2026-12-02 (tomorrow)");
        assert_eq!(Due::VisaExpires(day(2026, 12, 1)).describe(today()), "visa expires 2026-12-01 (today)");
        assert_eq!(Due::VisaExpires(day(2026, 11, 28)).describe(today()), "visa expired 2026-11-28 (3 days ago)");
    }
}
