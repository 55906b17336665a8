//! CloudTrail's time forms, to and from UTC microseconds since the epoch.
//!
//! `eventTime` is ISO 8601 in UTC (`2020-09-14T07:14:11Z`). Credential
//! expirations appear in several spellings: ISO 8601, `Sep 14, 2020,
//! 7:14:11 AM` and `Oct 2, 2019 11:12:29 PM` (the console's locale form),
//! sometimes epoch milliseconds. Parsers return `None` rather than guess;
//! callers keep the original text beside the parsed value.

/// Microseconds in one second.
pub const MICROS_PER_SEC: i64 = 1_000_000;
/// Microseconds in one day.
pub const MICROS_PER_DAY: i64 = 86_400 * MICROS_PER_SEC;

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date `(year, month, day)` of a day number since 1970-01-01.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

fn num(b: &[u8]) -> Option<u32> {
    if b.is_empty() || b.len() > 9 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0u32, |a, c| a * 10 + u32::from(c - b'0')))
}

fn micros(y: i64, mo: u32, d: u32, h: u32, mi: u32, s: u32, frac_us: i64) -> Option<i64> {
    if !(1..=12).contains(&mo) || d == 0 || d > days_in_month(y, mo) || h > 23 || mi > 59 || s > 60
    {
        return None;
    }
    let secs = days_from_civil(y, mo, d) * 86_400 + i64::from(h * 3600 + mi * 60 + s);
    secs.checked_mul(MICROS_PER_SEC)?.checked_add(frac_us)
}

/// Parses ISO 8601 / RFC 3339 date-times: `YYYY-MM-DDTHH:MM:SS[.f+](Z|±HH:MM)`.
/// A missing zone is taken as UTC (CloudTrail never writes local times).
pub fn parse_iso8601(s: &str) -> Option<i64> {
    let b = s.trim().as_bytes();
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let y = i64::from(num(&b[0..4])?);
    let (mo, d) = (num(&b[5..7])?, num(&b[8..10])?);
    let (h, mi, sec) = (num(&b[11..13])?, num(&b[14..16])?, num(&b[17..19])?);
    let mut rest = &b[19..];
    let mut frac = 0i64;
    if let Some(r) = rest.strip_prefix(b".") {
        let n = r.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return None;
        }
        let mut us = 0i64;
        for (i, c) in r[..n].iter().enumerate() {
            if i < 6 {
                us = us * 10 + i64::from(c - b'0');
            }
        }
        for _ in n..6 {
            us *= 10;
        }
        frac = us;
        rest = &r[n..];
    }
    let offset = match rest {
        b"" | b"Z" | b"z" => 0,
        [sign @ (b'+' | b'-'), hh1, hh2, b':', mm1, mm2]
        | [sign @ (b'+' | b'-'), hh1, hh2, mm1, mm2] => {
            let hh = num(&[*hh1, *hh2])?;
            let mm = num(&[*mm1, *mm2])?;
            let o = i64::from(hh * 3600 + mm * 60) * MICROS_PER_SEC;
            if *sign == b'+' { o } else { -o }
        }
        _ => return None,
    };
    Some(micros(y, mo, d, h, mi, sec, frac)? - offset)
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

/// Parses `Sep 14, 2020, 7:14:11 AM` and `Oct 2, 2019 11:12:29 PM`
/// (month name, day, year, 12-hour clock), taken as UTC.
pub fn parse_console_form(s: &str) -> Option<i64> {
    let cleaned: String = s.replace(',', " ");
    let parts: Vec<&str> = cleaned.split_whitespace().collect();
    if parts.len() != 5 {
        return None;
    }
    let mon = parts[0].get(..3)?.to_ascii_lowercase();
    let mo = MONTHS.iter().position(|m| *m == mon)? as u32 + 1;
    let d = num(parts[1].as_bytes())?;
    let y = i64::from(num(parts[2].as_bytes())?);
    let hms: Vec<&str> = parts[3].split(':').collect();
    if hms.len() != 3 {
        return None;
    }
    let (h12, mi, sec) = (
        num(hms[0].as_bytes())?,
        num(hms[1].as_bytes())?,
        num(hms[2].as_bytes())?,
    );
    if !(1..=12).contains(&h12) {
        return None;
    }
    let h = match parts[4].to_ascii_uppercase().as_str() {
        "AM" => h12 % 12,
        "PM" => h12 % 12 + 12,
        _ => return None,
    };
    micros(y, mo, d, h, mi, sec, 0)
}

/// Parses a credential expiration in any form CloudTrail writes: ISO 8601,
/// the console form, or epoch milliseconds (13 digits) / seconds (10 digits).
pub fn parse_expiration(s: &str) -> Option<i64> {
    let t = s.trim();
    if t.bytes().all(|c| c.is_ascii_digit()) && !t.is_empty() {
        let n: i64 = t.parse().ok()?;
        return match t.len() {
            13 => n.checked_mul(1000),
            10 => n.checked_mul(MICROS_PER_SEC),
            _ => None,
        };
    }
    parse_iso8601(t).or_else(|| parse_console_form(t))
}

/// Formats UTC microseconds the way CloudTrail writes `eventTime`:
/// `YYYY-MM-DDTHH:MM:SSZ`, with `.ffffff` (trailing zeros trimmed) only when
/// the time has a fraction.
pub fn format_event_time(us: i64) -> String {
    let secs = us.div_euclid(MICROS_PER_SEC);
    let frac = us.rem_euclid(MICROS_PER_SEC);
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400);
    let mut out = format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    );
    if frac != 0 {
        let f = format!("{frac:06}");
        out.push('.');
        out.push_str(f.trim_end_matches('0'));
    }
    out.push('Z');
    out
}

/// `YYYY-MM-DD` of a UTC microsecond time (the Hive partition value).
pub fn format_date(us: i64) -> String {
    let (y, m, d) = civil_from_days(us.div_euclid(MICROS_PER_DAY));
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_forms() {
        let base = parse_iso8601("2020-09-14T07:14:11Z").unwrap();
        assert_eq!(base, 1_600_067_651 * MICROS_PER_SEC);
        assert_eq!(
            parse_iso8601("2020-09-14T07:14:11.5Z"),
            Some(base + 500_000)
        );
        assert_eq!(parse_iso8601("2020-09-14T09:14:11+02:00"), Some(base));
        assert_eq!(parse_iso8601("2020-09-14T07:14:11"), Some(base));
        assert_eq!(parse_iso8601("2020-09-14 07:14:11Z"), Some(base));
        assert_eq!(parse_iso8601("2025-10-21TT00:52:27Z"), None);
        assert_eq!(parse_iso8601("2020-02-30T00:00:00Z"), None);
        assert_eq!(parse_iso8601(""), None);
    }

    #[test]
    fn expiration_forms() {
        let iso = parse_iso8601("2020-09-14T07:14:11Z").unwrap();
        assert_eq!(parse_expiration("Sep 14, 2020, 7:14:11 AM"), Some(iso));
        assert_eq!(
            parse_expiration("Oct 2, 2019 11:12:29 PM"),
            parse_iso8601("2019-10-02T23:12:29Z")
        );
        assert_eq!(
            parse_expiration("Oct 2, 2019 12:00:00 AM"),
            parse_iso8601("2019-10-02T00:00:00Z")
        );
        assert_eq!(parse_expiration("2020-09-14T07:14:11Z"), Some(iso));
        assert_eq!(parse_expiration("1600067651000"), Some(iso));
        assert_eq!(parse_expiration("soon"), None);
    }

    #[test]
    fn format_round_trips() {
        for s in [
            "2020-09-14T07:14:11Z",
            "1999-12-31T23:59:59.25Z",
            "2024-02-29T00:00:00.000001Z",
        ] {
            assert_eq!(format_event_time(parse_iso8601(s).unwrap()), s);
        }
        assert_eq!(
            format_date(parse_iso8601("2024-02-29T23:59:59Z").unwrap()),
            "2024-02-29"
        );
        assert_eq!(format_date(-1), "1969-12-31");
    }

    proptest::proptest! {
        #[test]
        fn civil_round_trip(z in -1_000_000i64..1_000_000) {
            let (y, m, d) = civil_from_days(z);
            proptest::prop_assert_eq!(days_from_civil(y, m, d), z);
        }

        #[test]
        fn event_time_round_trip(us in -10_000_000_000_000_000i64..10_000_000_000_000_000) {
            proptest::prop_assert_eq!(parse_iso8601(&format_event_time(us)), Some(us));
        }

        #[test]
        fn parsers_never_panic(s in ".{0,40}") {
            let _ = parse_expiration(&s);
        }
    }
}
