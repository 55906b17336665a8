//! Time spellings written into records and paths, allocation-free.
//!
//! [`TimeBuf`] holds `YYYY-MM-DDTHH:MM:SSZ` (CloudTrail's `eventTime`,
//! second resolution as delivered); the helpers give the compact forms of
//! object keys and the console form of credential expirations
//! (`Sep 14, 2020, 7:14:11 AM`), using the model crate's calendar.

use backtrail_model::time::civil_from_days;

/// Microseconds in a second.
pub const SEC: i64 = 1_000_000;
/// Microseconds in a minute.
pub const MIN: i64 = 60 * SEC;
/// Microseconds in an hour.
pub const HOUR: i64 = 60 * MIN;
/// Microseconds in a day.
pub const DAY: i64 = 24 * HOUR;

/// Broken-down UTC time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Civil {
    /// Year.
    pub y: i64,
    /// Month 1–12.
    pub mo: u32,
    /// Day 1–31.
    pub d: u32,
    /// Hour.
    pub h: u32,
    /// Minute.
    pub mi: u32,
    /// Second.
    pub s: u32,
}

/// Splits UTC microseconds into calendar fields.
pub fn civil(us: i64) -> Civil {
    let secs = us.div_euclid(SEC);
    let (y, mo, d) = civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400) as u32;
    Civil {
        y,
        mo,
        d,
        h: sod / 3600,
        mi: sod % 3600 / 60,
        s: sod % 60,
    }
}

/// A formatted `eventTime` in a fixed buffer.
#[derive(Debug, Clone, Copy)]
pub struct TimeBuf {
    bytes: [u8; 20],
}

impl Default for TimeBuf {
    fn default() -> Self {
        let mut t = TimeBuf { bytes: [b'0'; 20] };
        t.set(0);
        t
    }
}

fn put2(b: &mut [u8], v: u32) {
    b[0] = b'0' + (v / 10 % 10) as u8;
    b[1] = b'0' + (v % 10) as u8;
}

impl TimeBuf {
    /// The time `us`, truncated to the second.
    pub fn new(us: i64) -> Self {
        let mut t = TimeBuf { bytes: [0; 20] };
        t.set(us);
        t
    }

    /// Re-formats in place.
    pub fn set(&mut self, us: i64) {
        let c = civil(us);
        let b = &mut self.bytes;
        let y = c.y.clamp(0, 9999) as u32;
        put2(&mut b[0..2], y / 100);
        put2(&mut b[2..4], y % 100);
        b[4] = b'-';
        put2(&mut b[5..7], c.mo);
        b[7] = b'-';
        put2(&mut b[8..10], c.d);
        b[10] = b'T';
        put2(&mut b[11..13], c.h);
        b[13] = b':';
        put2(&mut b[14..16], c.mi);
        b[16] = b':';
        put2(&mut b[17..19], c.s);
        b[19] = b'Z';
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        // Only ASCII digits and separators are ever written.
        std::str::from_utf8(&self.bytes).unwrap_or("1970-01-01T00:00:00Z")
    }
}

/// `eventTime` text of `us`.
pub fn event_time(us: i64) -> String {
    TimeBuf::new(us).as_str().to_owned()
}

/// `YYYYMMDDTHHMMZ` (log file names).
pub fn compact_minute(us: i64) -> String {
    let c = civil(us);
    format!("{:04}{:02}{:02}T{:02}{:02}Z", c.y, c.mo, c.d, c.h, c.mi)
}

/// `YYYYMMDDTHHMMSSZ` (digest file names).
pub fn compact_second(us: i64) -> String {
    let c = civil(us);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        c.y, c.mo, c.d, c.h, c.mi, c.s
    )
}

/// `YYYY/MM/DD` (object key folders).
pub fn date_path(us: i64) -> String {
    let c = civil(us);
    format!("{:04}/{:02}/{:02}", c.y, c.mo, c.d)
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// `Sep 14, 2020, 7:14:11 AM` — the form STS writes credential expirations in.
pub fn console_form(us: i64) -> String {
    let c = civil(us);
    let (h12, ampm) = match c.h {
        0 => (12, "AM"),
        1..=11 => (c.h, "AM"),
        12 => (12, "PM"),
        _ => (c.h - 12, "PM"),
    };
    format!(
        "{} {}, {}, {}:{:02}:{:02} {}",
        MONTHS[(c.mo - 1) as usize],
        c.d,
        c.y,
        h12,
        c.mi,
        c.s,
        ampm
    )
}

/// Parses `YYYY-MM-DDTHH:MM:SSZ` for configuration (delegates to the model).
pub fn parse(s: &str) -> Option<i64> {
    backtrail_model::time::parse_iso8601(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use backtrail_model::time::{format_event_time, parse_expiration};

    #[test]
    fn forms() {
        let t = parse("2020-09-14T07:14:11Z").unwrap();
        assert_eq!(TimeBuf::new(t).as_str(), "2020-09-14T07:14:11Z");
        assert_eq!(compact_minute(t), "20200914T0714Z");
        assert_eq!(compact_second(t), "20200914T071411Z");
        assert_eq!(date_path(t), "2020/09/14");
        assert_eq!(console_form(t), "Sep 14, 2020, 7:14:11 AM");
        assert_eq!(console_form(t + 12 * HOUR), "Sep 14, 2020, 7:14:11 PM");
        assert_eq!(console_form(t - 7 * HOUR), "Sep 14, 2020, 12:14:11 AM");
    }

    proptest::proptest! {
        #[test]
        fn agrees_with_model(secs in 0i64..4_000_000_000) {
            let us = secs * SEC;
            let t = TimeBuf::new(us);
            proptest::prop_assert_eq!(t.as_str(), format_event_time(us));
            proptest::prop_assert_eq!(parse_expiration(&console_form(us)), Some(us));
        }
    }
}
