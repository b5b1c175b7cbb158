//! The wall clock in the system's time zone, handed to the call-server core: the core
//! never reads a clock, so time profiles (a hunt group's office hours) are read against the
//! local civil time given here, at least once a second.

use anyhow::Context as _;
use jiff::{tz::TimeZone, Timestamp};
use std::time::{Duration, Instant};

/// How often the core is told the local time: well within the minute the profiles resolve.
const TICK: Duration = Duration::from_secs(1);

/// The time zone time profiles are read in, and when the core was last told the time.
pub struct LocalClock {
    zone: TimeZone,
    told: Option<Instant>,
}

impl LocalClock {
    /// The clock of `system.timezone` (an IANA name), or the machine's own time zone.
    pub fn new(timezone: Option<&str>) -> anyhow::Result<LocalClock> {
        let zone = match timezone {
            Some(name) => TimeZone::get(name).with_context(|| format!("time zone {name:?}"))?,
            // jiff falls back to UTC (with a warning) when the machine's zone is unknown.
            None => TimeZone::system(),
        };
        Ok(LocalClock { zone, told: None })
    }

    /// The zone's name for logs: `Europe/London`, or `UTC+01:00` for a fixed offset.
    pub fn zone_name(&self) -> String {
        match self.zone.iana_name() {
            Some(name) => name.to_string(),
            None => format!("{:?}", self.zone),
        }
    }

    /// Tells the core the local time if a second has passed since it was last told.
    pub fn tick(&mut self, pbx: &mut pbx::Pbx, now: Instant) {
        if self.told.is_some_and(|t| now.duration_since(t) < TICK) {
            return;
        }
        if let Some(local) = local_time(&self.zone, Timestamp::now()) {
            pbx.set_local_time(local);
        }
        self.told = Some(now);
    }
}

/// The civil time at `at` in `zone`, to the minute (`None` only for years the core's
/// calendar does not hold, before 1 or after 9999).
fn local_time(zone: &TimeZone, at: Timestamp) -> Option<pbx::LocalTime> {
    let dt = zone.to_datetime(at);
    let date = pbx::CivilDate::new(
        u16::try_from(dt.year()).ok()?,
        u8::try_from(dt.month()).ok()?,
        u8::try_from(dt.day()).ok()?,
    )?;
    pbx::LocalTime::new(
        date,
        u8::try_from(dt.hour()).ok()?,
        u8::try_from(dt.minute()).ok()?,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(zone: &str, instant: &str) -> pbx::LocalTime {
        let zone = TimeZone::get(zone).expect("zone");
        local_time(&zone, instant.parse().expect("timestamp")).expect("local time")
    }

    fn civil(y: u16, mo: u8, d: u8, h: u8, mi: u8) -> pbx::LocalTime {
        pbx::LocalTime::new(pbx::CivilDate::new(y, mo, d).unwrap(), h, mi).unwrap()
    }

    #[test]
    fn instants_become_local_civil_time_with_summer_time() {
        // 08:30 UTC is 08:30 in London in winter and 09:30 in summer (BST).
        assert_eq!(
            at("Europe/London", "2026-01-14T08:30:00Z"),
            civil(2026, 1, 14, 8, 30)
        );
        assert_eq!(
            at("Europe/London", "2026-07-15T08:30:59Z"),
            civil(2026, 7, 15, 9, 30)
        );
        // Across the date line: still Sunday in UTC, Monday in Auckland.
        assert_eq!(
            at("Pacific/Auckland", "2026-03-01T20:00:00Z"),
            civil(2026, 3, 2, 9, 0)
        );
        assert_eq!(at("UTC", "2026-03-01T20:00:00Z"), civil(2026, 3, 1, 20, 0));
    }

    #[test]
    fn a_named_zone_must_exist_and_the_machines_is_the_default() {
        assert!(LocalClock::new(Some("Mars/Olympus_Mons")).is_err());
        let clock = LocalClock::new(Some("Europe/London")).expect("known zone");
        assert_eq!(clock.zone_name(), "Europe/London");
        assert!(LocalClock::new(None).is_ok());
    }
}
