//! Time as the register writes it: UTC instants as fixed-width text, days in the office's zone.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

/// The stored form of an instant; fixed width, so text order is time order.
pub fn stamp(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

pub fn parse_stamp(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text).ok().map(|d| d.with_timezone(&Utc))
}

/// A stored instant in the office's zone, as people read it (`2026-12-01 13:00`); text that is
/// not an instant is shown as it is.
pub fn local(stamp: &str, zone: Tz) -> String {
    parse_stamp(stamp).map(|at| at.with_timezone(&zone).format("%Y-%m-%d %H:%M").to_string()).unwrap_or_else(|| stamp.to_string())
}

/// The UTC instants that bound one calendar day in the office's time zone: [start, end).
pub fn day_bounds(day: NaiveDate, zone: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
    let start_of = |d: NaiveDate| {
        let midnight = d.and_hms_opt(0, 0, 0).expect("midnight exists");
        zone.from_local_datetime(&midnight).earliest().unwrap_or_else(|| zone.from_utc_datetime(&midnight)).with_timezone(&Utc)
    };
    let next = day.succ_opt().unwrap_or(day);
    (start_of(day), start_of(next))
}

/// The calendar year of an instant in the office's zone: numbers restart with it.
pub fn year_in(at: DateTime<Utc>, zone: Tz) -> i32 {
    use chrono::Datelike;
    at.with_timezone(&zone).year()
}

/// Reads a date as people type it (the forms of `dates::parse_date`), on the office's calendar.
pub fn parse_day(text: &str, now: DateTime<Utc>, zone: Tz) -> Result<NaiveDate, super::dates::DateError> {
    super::dates::parse_date(text, now.with_timezone(&zone).date_naive())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn baku_day_starts_at_20_utc() {
        let (start, end) = day_bounds(NaiveDate::from_ymd_opt(2026, 11, 28).unwrap(), chrono_tz::Asia::Baku);
        assert_eq!(stamp(start), "2026-11-27T20:00:00.000000Z");
        assert_eq!(stamp(end), "2026-11-28T20:00:00.000000Z");
    }

    #[test]
    fn year_follows_the_office_clock() {
        let new_year_in_baku = Utc.with_ymd_and_hms(2026, 12, 31, 21, 0, 0).unwrap();
        assert_eq!(year_in(new_year_in_baku, chrono_tz::Asia::Baku), 2027);
        assert_eq!(year_in(new_year_in_baku, chrono_tz::UTC), 2026);
    }

    #[test]
    fn stored_instants_are_shown_in_the_office_zone() {
        assert_eq!(local("2026-12-01T09:00:00.000000Z", chrono_tz::Asia::Baku), "2026-12-01 13:00");
        assert_eq!(local("not a stamp", chrono_tz::Asia::Baku), "not a stamp");
    }

    #[test]
    fn stamps_round_trip_and_sort() {
        let a = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
        assert_eq!(parse_stamp(&stamp(a)), Some(a));
        assert!(stamp(a) < stamp(a + chrono::Duration::microseconds(1)));
    }
}
