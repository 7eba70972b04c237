//! Leases and heartbeats of several instances sharing one register, as decisions.
//!
//! An instance works on a shared resource (a mailbox) only while it holds the resource's lease,
//! which lives in the database and runs out `length` after it was last written. The holder
//! writes it again every `renew_every`. A holder that cannot (the database is unreachable, or
//! someone else holds the lease now) must stop `margin` before the lease it last wrote runs
//! out, so that no two instances ever work on the resource at once, even with clocks a little
//! apart. The lease is written from the instant the renewal started, so the holder counts from
//! then too: the margin also covers the time the write took.
//!
//! An instance's heartbeat works the same way: it is alive while its last heartbeat is no older
//! than its lease length; past that, others take over what it had claimed.

use chrono::{DateTime, Utc};
use std::time::Duration;

/// How long leases last and how often they are renewed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Terms {
    /// How long a written lease (or heartbeat) holds.
    pub length: Duration,
    /// How often the holder writes it again.
    pub renew_every: Duration,
    /// How long before the lease runs out a holder that could not renew stops.
    pub margin: Duration,
}

/// Why `[instance]`'s lease and renewal cannot work together, with the numbers as configured.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TermsError {
    #[error("instance.renew_secs must be at least 1")]
    NoRenewal,
    #[error(
        "instance.lease_secs = {lease_secs} must be at least three times instance.renew_secs = {renew_secs}, \
         so that a holder can miss a renewal and still renew before it must stop"
    )]
    LeaseTooShort { lease_secs: u64, renew_secs: u64 },
}

impl Terms {
    /// Terms from `[instance] lease_secs` and `renew_secs`. The margin is one renewal interval;
    /// the lease must leave room for two more renewals after a missed one, or a single slow
    /// write would stop the holder.
    pub fn new(lease_secs: u64, renew_secs: u64) -> Result<Terms, TermsError> {
        if renew_secs == 0 {
            return Err(TermsError::NoRenewal);
        }
        if lease_secs < 3 * renew_secs {
            return Err(TermsError::LeaseTooShort { lease_secs, renew_secs });
        }
        let renew_every = Duration::from_secs(renew_secs);
        Ok(Terms { length: Duration::from_secs(lease_secs), renew_every, margin: renew_every })
    }

    /// How long after a renewal started the holder may go on working without another one.
    pub fn working_time(&self) -> Duration {
        self.length.saturating_sub(self.margin)
    }

    /// When a lease (or heartbeat) written at `now` runs out.
    pub fn expires_at(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now + chrono::Duration::from_std(self.length).unwrap_or(chrono::Duration::MAX)
    }
}

impl Default for Terms {
    /// A 20 s lease renewed every 5 s: a dead holder is replaced within about 25 s.
    fn default() -> Terms {
        Terms { length: Duration::from_secs(20), renew_every: Duration::from_secs(5), margin: Duration::from_secs(5) }
    }
}

/// What a holder does, `since_renewal` after its last successful renewal started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// Go on working; no renewal needed yet.
    Keep,
    /// Go on working, and renew now.
    Renew,
    /// Stop working on the resource now: the lease may run out before a renewal lands.
    MustStop,
}

pub fn standing(since_renewal: Duration, terms: &Terms) -> Standing {
    if since_renewal >= terms.working_time() {
        Standing::MustStop
    } else if since_renewal >= terms.renew_every {
        Standing::Renew
    } else {
        Standing::Keep
    }
}

/// Whether an instance whose last heartbeat was at `heartbeat_at`, with a lease of `length`,
/// counts as alive at `now`. A heartbeat ahead of `now` (a clock a little ahead) is alive.
pub fn alive(heartbeat_at: DateTime<Utc>, length: Duration, now: DateTime<Utc>) -> bool {
    let length = chrono::Duration::from_std(length).unwrap_or(chrono::Duration::MAX);
    now - heartbeat_at <= length
}

/// An instance's name: the configured one, or `HOST:PID`.
pub fn instance_name(configured: Option<&str>, host: &str, pid: u32) -> String {
    match configured.map(str::trim).filter(|name| !name.is_empty()) {
        Some(name) => name.to_string(),
        None => format!("{host}:{pid}"),
    }
}

/// The lease that lets one instance listen to a mailbox.
pub fn mailbox_resource(mailbox: &str) -> String {
    format!("mailbox:{mailbox}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    #[test]
    fn a_holder_keeps_then_renews_then_stops_a_margin_before_the_lease_runs_out() {
        let terms = Terms::new(20, 5).unwrap();
        let cases = [
            (0, Standing::Keep),
            (4, Standing::Keep),
            (5, Standing::Renew),
            (10, Standing::Renew),
            (14, Standing::Renew),
            (15, Standing::MustStop),
            (19, Standing::MustStop),
            (20, Standing::MustStop),
            (3600, Standing::MustStop),
        ];
        for (elapsed, expected) in cases {
            assert_eq!(standing(secs(elapsed), &terms), expected, "{elapsed} s after the last renewal");
        }
        assert_eq!(standing(Duration::from_millis(14_999), &terms), Standing::Renew);
    }

    #[test]
    fn the_holder_stops_before_anyone_else_may_take_the_lease() {
        for (lease, renew) in [(20, 5), (3, 1), (60, 20), (30, 5)] {
            let terms = Terms::new(lease, renew).unwrap();
            assert!(terms.working_time() < terms.length, "{lease}/{renew}");
            assert!(terms.working_time() >= 2 * terms.renew_every, "{lease}/{renew}: room for a missed renewal");
        }
    }

    #[test]
    fn terms_that_leave_no_room_for_a_missed_renewal_are_refused() {
        let cases: [(u64, u64, Option<&str>); 5] =
            [(20, 5, None), (15, 5, None), (14, 5, Some("three times")), (20, 0, Some("renew_secs")), (0, 1, Some("three times"))];
        for (lease, renew, problem) in cases {
            match (Terms::new(lease, renew), problem) {
                (Ok(_), None) => {}
                (Err(error), Some(words)) => assert!(error.to_string().contains(words), "{lease}/{renew}: {error}"),
                (outcome, _) => panic!("{lease}/{renew}: {outcome:?}"),
            }
        }
        assert_eq!(Terms::new(20, 5).unwrap(), Terms::default());
    }

    #[test]
    fn a_heartbeat_older_than_the_lease_is_gone() {
        let now = DateTime::parse_from_rfc3339("2026-12-01T12:00:00Z").unwrap().with_timezone(&Utc);
        let cases = [(0, true), (5, true), (20, true), (21, false), (3600, false), (-3, true)];
        for (age, expected) in cases {
            let heartbeat = now - chrono::Duration::seconds(age);
            assert_eq!(alive(heartbeat, secs(20), now), expected, "heartbeat {age} s old");
        }
        let terms = Terms::default();
        assert_eq!(terms.expires_at(now), now + chrono::Duration::seconds(20));
    }

    #[test]
    fn an_instance_is_named_by_the_configuration_or_host_and_pid() {
        let cases = [
            (Some("registry-a"), "registry-a"),
            (Some("  registry-a  "), "registry-a"),
            (Some(""), "db1:4242"),
            (Some("   "), "db1:4242"),
            (None, "db1:4242"),
        ];
        for (configured, expected) in cases {
            assert_eq!(instance_name(configured, "db1", 4242), expected, "{configured:?}");
        }
        assert_eq!(mailbox_resource("INBOX"), "mailbox:INBOX");
    }
}
