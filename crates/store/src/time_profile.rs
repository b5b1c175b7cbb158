//! Time profiles: when things are in service, by weekly intervals and dated exceptions,
//! with the dates and times of day they are written in.

use std::fmt;

/// A day of the week in a time profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Weekday {
    /// `mon`
    Mon,
    /// `tue`
    Tue,
    /// `wed`
    Wed,
    /// `thu`
    Thu,
    /// `fri`
    Fri,
    /// `sat`
    Sat,
    /// `sun`
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

    /// The name as written in the document: `"mon"` .. `"sun"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Weekday::Mon => "mon",
            Weekday::Tue => "tue",
            Weekday::Wed => "wed",
            Weekday::Thu => "thu",
            Weekday::Fri => "fri",
            Weekday::Sat => "sat",
            Weekday::Sun => "sun",
        }
    }

    /// The day called `name` (exact, lower case).
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.as_str() == name)
    }
}

/// A time of day to the minute, `00:00` to `24:00`; `24:00` (the end of the day) only ends
/// an interval. Intervals are half-open: `08:30`-`17:30` includes 08:30 but not 17:30.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TimeOfDay {
    minutes: u16,
}

impl TimeOfDay {
    /// `00:00`, the start of the day.
    pub const MIDNIGHT: TimeOfDay = TimeOfDay { minutes: 0 };
    /// `24:00`, the end of the day.
    pub const END_OF_DAY: TimeOfDay = TimeOfDay { minutes: 24 * 60 };

    /// The time `hour:minute`: hour 0..=23 and minute 0..=59, or 24:00.
    pub fn new(hour: u8, minute: u8) -> Option<Self> {
        let ok = (hour < 24 && minute < 60) || (hour == 24 && minute == 0);
        ok.then(|| TimeOfDay {
            minutes: u16::from(hour) * 60 + u16::from(minute),
        })
    }

    /// Parses `HH:MM` (two digits each, 24-hour clock; `24:00` allowed).
    pub fn parse(s: &str) -> Option<Self> {
        let b = s.as_bytes();
        if b.len() != 5 || b[2] != b':' {
            return None;
        }
        let hour = two_digits(&b[0..2])?;
        let minute = two_digits(&b[3..5])?;
        Self::new(hour, minute)
    }

    /// Minutes since midnight (0..=1440).
    pub fn minutes(self) -> u16 {
        self.minutes
    }

    /// The hour (0..=24).
    pub fn hour(self) -> u8 {
        // At most 24: the constructor bounds the minutes to 1440.
        (self.minutes / 60) as u8
    }

    /// The minute of the hour (0..=59).
    pub fn minute(self) -> u8 {
        (self.minutes % 60) as u8
    }
}

impl fmt::Display for TimeOfDay {
    /// `HH:MM`, as written in the document.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.hour(), self.minute())
    }
}

/// A calendar date (proleptic Gregorian), years 1 to 9999.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Date {
    year: u16,
    month: u8,
    day: u8,
}

impl Date {
    /// Stands in for a date the document reader rejected (never validated or kept).
    pub(crate) const PLACEHOLDER: Date = Date {
        year: 2000,
        month: 1,
        day: 1,
    };

    /// The date `year-month-day`, if it exists in the calendar.
    pub fn new(year: u16, month: u8, day: u8) -> Option<Self> {
        // Written without `is_multiple_of`, which is newer than the workspace's Rust 1.85.
        let leap = matches!((year % 4, year % 100, year % 400), (0, 1.., _) | (_, _, 0));
        let days_in_month = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return None,
        };
        ((1..=9999).contains(&year) && (1..=days_in_month).contains(&day)).then_some(Date {
            year,
            month,
            day,
        })
    }

    /// Parses `YYYY-MM-DD`.
    pub fn parse(s: &str) -> Option<Self> {
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        let year = u16::from(two_digits(&b[0..2])?) * 100 + u16::from(two_digits(&b[2..4])?);
        Self::new(year, two_digits(&b[5..7])?, two_digits(&b[8..10])?)
    }

    /// The year.
    pub fn year(self) -> u16 {
        self.year
    }

    /// The month (1..=12).
    pub fn month(self) -> u8 {
        self.month
    }

    /// The day of the month (1..=31).
    pub fn day(self) -> u8 {
        self.day
    }

    /// The day of the week this date falls on.
    pub fn weekday(self) -> Weekday {
        // Sakamoto's method: 0 = Sunday.
        const T: [u32; 12] = [0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4];
        let m = usize::from(self.month);
        let y = u32::from(self.year) - u32::from(m < 3);
        let sunday_first = (y + y / 4 - y / 100 + y / 400 + T[m - 1] + u32::from(self.day)) % 7;
        Weekday::ALL[(sunday_first as usize + 6) % 7]
    }
}

impl fmt::Display for Date {
    /// `YYYY-MM-DD`, as written in the document.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

fn two_digits(b: &[u8]) -> Option<u8> {
    match b {
        [h, l] if h.is_ascii_digit() && l.is_ascii_digit() => Some((h - b'0') * 10 + (l - b'0')),
        _ => None,
    }
}

/// When a time profile is active (`[[time_profiles]]`): weekly intervals, overridden on
/// particular dates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimeProfile {
    /// `[a-z0-9._-]{1,32}`, unique among time profiles.
    pub name: String,
    /// The profile is active during these intervals every week.
    pub weekly: Vec<WeeklyInterval>,
    /// Exceptions on particular dates: holidays (`active = false`) and extra days.
    pub dates: Vec<DateInterval>,
}

impl TimeProfile {
    /// True when the profile is active at `time` on `date` (local time). An entry of
    /// `dates` whose window holds the moment decides (the first one listed, if several
    /// do); otherwise the weekly intervals do.
    pub fn is_active(&self, date: Date, time: TimeOfDay) -> bool {
        if let Some(d) = self
            .dates
            .iter()
            .find(|d| d.date == date && d.start <= time && time < d.end)
        {
            return d.active;
        }
        let day = date.weekday();
        self.weekly
            .iter()
            .any(|w| w.days.contains(&day) && w.start <= time && time < w.end)
    }
}

/// A weekly interval of a time profile (`[[time_profiles.weekly]]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WeeklyInterval {
    /// The days it applies on: at least one, none twice (document order).
    pub days: Vec<Weekday>,
    /// Start, included (00:00..=23:59).
    pub start: TimeOfDay,
    /// End, excluded (after `start`; `24:00` for the end of the day). An interval does not
    /// cross midnight: split it in two.
    pub end: TimeOfDay,
}

/// A date entry of a time profile (`[[time_profiles.dates]]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateInterval {
    /// The date.
    pub date: Date,
    /// Start, included (default `00:00`).
    pub start: TimeOfDay,
    /// End, excluded (after `start`; default `24:00`, the end of the day).
    pub end: TimeOfDay,
    /// True: the profile is active in this window (an extra working day); false: it is
    /// not, whatever the weekly intervals say (a holiday). Default true.
    pub active: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_weekdays() {
        assert_eq!(
            Date::parse("2026-12-25").map(Date::weekday),
            Some(Weekday::Fri)
        );
        assert_eq!(
            Date::parse("2024-02-29").map(Date::weekday),
            Some(Weekday::Thu)
        );
        assert_eq!(
            Date::parse("2000-01-01").map(Date::weekday),
            Some(Weekday::Sat)
        );
        assert_eq!(
            Date::parse("2023-01-01").map(Date::weekday),
            Some(Weekday::Sun)
        );
        assert_eq!(Date::parse("2023-02-29"), None);
        assert_eq!(Date::parse("1900-02-29"), None);
        assert_eq!(Date::parse("2026-13-01"), None);
        assert_eq!(Date::parse("2026-1-01"), None);
        assert_eq!(Date::parse("0000-01-01"), None);
        let d = Date::parse("0099-03-04").expect("valid");
        assert_eq!((d.year(), d.month(), d.day()), (99, 3, 4));
        assert_eq!(d.to_string(), "0099-03-04");
    }

    #[test]
    fn times_of_day() {
        assert_eq!(TimeOfDay::parse("08:30").map(TimeOfDay::minutes), Some(510));
        assert_eq!(TimeOfDay::parse("24:00"), Some(TimeOfDay::END_OF_DAY));
        for bad in ["24:01", "8:30", "08:60", "08-30", "0830", "08:3a", "25:00"] {
            assert_eq!(TimeOfDay::parse(bad), None, "{bad}");
        }
        assert_eq!(TimeOfDay::END_OF_DAY.to_string(), "24:00");
    }
}
