//! Time profiles in call control: when a hunt group is in service, by weekly windows and
//! dated exceptions, read against the local civil time the shell gives the core.
//!
//! The core never reads a clock: the shell converts the wall clock to the system's time
//! zone and hands it in with [`crate::Pbx::set_local_time`] (at least once a second), and
//! tests inject whatever moment the story needs. The rules are those of the configuration
//! document's `[[time_profiles]]`: windows include their start and exclude their end, and
//! a dated entry whose window holds the moment overrides the weekly windows.

/// A day of the week.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Weekday {
    /// Monday.
    Mon,
    /// Tuesday.
    Tue,
    /// Wednesday.
    Wed,
    /// Thursday.
    Thu,
    /// Friday.
    Fri,
    /// Saturday.
    Sat,
    /// Sunday.
    Sun,
}

impl Weekday {
    /// Every day, Monday first.
    pub const ALL: [Weekday; 7] = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
        Weekday::Sat,
        Weekday::Sun,
    ];
}

/// A calendar date (proleptic Gregorian), years 1 to 9999.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CivilDate {
    year: u16,
    month: u8,
    day: u8,
}

impl CivilDate {
    /// The date `year-month-day`, if the calendar has it.
    pub fn new(year: u16, month: u8, day: u8) -> Option<CivilDate> {
        let leap = matches!((year % 4, year % 100, year % 400), (0, 1.., _) | (_, _, 0));
        let days = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return None,
        };
        ((1..=9999).contains(&year) && (1..=days).contains(&day)).then_some(CivilDate {
            year,
            month,
            day,
        })
    }

    /// The day of the week it falls on.
    pub fn weekday(self) -> Weekday {
        // Sakamoto's method: 0 = Sunday.
        const T: [u32; 12] = [0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4];
        let m = usize::from(self.month);
        let y = u32::from(self.year) - u32::from(m < 3);
        let sunday_first = (y + y / 4 - y / 100 + y / 400 + T[m - 1] + u32::from(self.day)) % 7;
        Weekday::ALL[(sunday_first as usize + 6) % 7]
    }
}

/// A moment of local civil time, to the minute: what time profiles are read against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LocalTime {
    date: CivilDate,
    minute: u16,
}

impl LocalTime {
    /// `hour:minute` (0..=23, 0..=59) on `date`.
    pub fn new(date: CivilDate, hour: u8, minute: u8) -> Option<LocalTime> {
        (hour < 24 && minute < 60).then(|| LocalTime {
            date,
            minute: u16::from(hour) * 60 + u16::from(minute),
        })
    }

    /// The date.
    pub fn date(self) -> CivilDate {
        self.date
    }

    /// Minutes since midnight (0..1440).
    pub fn minute_of_day(self) -> u16 {
        self.minute
    }
}

/// A weekly window of a time profile: `start..end` (minutes since midnight, end excluded,
/// 1440 for the end of the day) on each of `days`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeeklyWindow {
    /// The days it applies on.
    pub days: Vec<Weekday>,
    /// Start, included (minutes since midnight).
    pub start: u16,
    /// End, excluded (minutes since midnight; 1440 is the end of the day).
    pub end: u16,
}

/// A dated entry of a time profile: on `date`, between `start` and `end`, the profile is
/// `active` or not, whatever the weekly windows say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateWindow {
    /// The date.
    pub date: CivilDate,
    /// Start, included (minutes since midnight).
    pub start: u16,
    /// End, excluded (minutes since midnight; 1440 is the end of the day).
    pub end: u16,
    /// True: an extra window; false: a holiday.
    pub active: bool,
}

/// When something is in service: weekly windows, overridden on particular dates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeProfile {
    /// The profile's name (for causes and logs).
    pub name: String,
    /// Active in these windows every week.
    pub weekly: Vec<WeeklyWindow>,
    /// Exceptions on dates: the first whose window holds the moment decides.
    pub dates: Vec<DateWindow>,
}

impl TimeProfile {
    /// True when the profile is active at `at`.
    pub fn is_active(&self, at: LocalTime) -> bool {
        let minute = at.minute;
        if let Some(d) = self
            .dates
            .iter()
            .find(|d| d.date == at.date && d.start <= minute && minute < d.end)
        {
            return d.active;
        }
        let day = at.date.weekday();
        self.weekly
            .iter()
            .any(|w| w.days.contains(&day) && w.start <= minute && minute < w.end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(y: u16, mo: u8, d: u8, h: u8, mi: u8) -> LocalTime {
        LocalTime::new(CivilDate::new(y, mo, d).expect("date"), h, mi).expect("time")
    }

    fn office_hours() -> TimeProfile {
        TimeProfile {
            name: "office-hours".into(),
            weekly: vec![WeeklyWindow {
                days: Weekday::ALL[..5].to_vec(),
                start: 8 * 60 + 30,
                end: 17 * 60 + 30,
            }],
            dates: vec![
                DateWindow {
                    date: CivilDate::new(2026, 12, 25).expect("date"),
                    start: 0,
                    end: 1440,
                    active: false,
                },
                DateWindow {
                    date: CivilDate::new(2026, 12, 27).expect("date"),
                    start: 10 * 60,
                    end: 14 * 60,
                    active: true,
                },
            ],
        }
    }

    #[test]
    fn weekdays_of_dates() {
        let day = |y, m, d| CivilDate::new(y, m, d).expect("date").weekday();
        assert_eq!(day(2026, 12, 25), Weekday::Fri);
        assert_eq!(day(2024, 2, 29), Weekday::Thu);
        assert_eq!(day(2000, 1, 1), Weekday::Sat);
        assert_eq!(day(2023, 1, 1), Weekday::Sun);
        assert_eq!(CivilDate::new(2023, 2, 29), None);
        assert_eq!(CivilDate::new(2026, 13, 1), None);
        assert_eq!(CivilDate::new(0, 1, 1), None);
        assert!(LocalTime::new(CivilDate::new(2026, 1, 1).expect("date"), 24, 0).is_none());
    }

    #[test]
    fn weekly_windows_include_the_start_and_exclude_the_end() {
        let p = office_hours();
        // Wednesday 2026-12-23.
        assert!(!p.is_active(at(2026, 12, 23, 8, 29)));
        assert!(p.is_active(at(2026, 12, 23, 8, 30)));
        assert!(p.is_active(at(2026, 12, 23, 17, 29)));
        assert!(!p.is_active(at(2026, 12, 23, 17, 30)));
        // Saturday 2026-12-26.
        assert!(!p.is_active(at(2026, 12, 26, 11, 0)));
    }

    #[test]
    fn dates_override_the_weekly_windows() {
        let p = office_hours();
        // Friday 2026-12-25, a holiday.
        assert!(!p.is_active(at(2026, 12, 25, 11, 0)));
        // Sunday 2026-12-27, an extra window.
        assert!(p.is_active(at(2026, 12, 27, 11, 0)));
        assert!(!p.is_active(at(2026, 12, 27, 14, 0)));
        let never = TimeProfile {
            name: "never".into(),
            weekly: Vec::new(),
            dates: Vec::new(),
        };
        assert!(!never.is_active(at(2026, 12, 23, 11, 0)));
    }
}
