//! Times as responders type them, and as the document stores them.
//!
//! The document stores every time as an RFC 3339 UTC string with seconds precision and a `Z`
//! (`2026-11-22T02:14:00Z`), so stored times sort as text and mean the same everywhere. What
//! the responder typed and the zone they meant are kept beside it ([`TypedTime`]).
//!
//! Nothing here reads the clock: "now" is always passed in.

use std::str::FromStr;

use chrono::{
    DateTime, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc,
};
use chrono_tz::{OffsetName, Tz, TZ_VARIANTS};

/// A time a responder typed, read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TypedTime {
    /// The instant, as stored: RFC 3339 UTC, seconds precision, `Z`.
    pub utc: String,
    /// The zone the time was meant in: the IANA name (canonical capitalization) or the offset
    /// as typed (`+0200`, `UTC-5`). `None` when the time was given in UTC.
    pub zone: Option<String>,
    /// The input, trimmed.
    pub original: String,
}

/// Why a typed time was not accepted. The messages are meant for the responder.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeError {
    #[error(
        "“{0}” is not a time I can read — type it like 2026-11-22 14:05, \
         2026-11-22 14:05 Europe/Berlin, 2026-11-22T13:05:00Z, or 14:05 for today"
    )]
    Unreadable(String),
    #[error("“{0}” is not a real date and time — check the month, day, hour and minute")]
    OutOfRange(String),
    #[error(
        "unknown time zone “{0}” — use a name like Europe/Berlin, UTC, or an offset like +02:00"
    )]
    UnknownZone(String),
    #[error("{0} does not exist in {1} (the clocks skip it)")]
    Nonexistent(String, String),
}

/// A zone a time is typed or shown in.
#[derive(Clone, Debug, PartialEq)]
enum Zone {
    Utc,
    /// A fixed offset, with the text the responder typed for it.
    Fixed(FixedOffset, String),
    Named(Tz),
}

impl Zone {
    /// What [`TypedTime::zone`] records for this zone.
    fn recorded(&self) -> Option<String> {
        match self {
            Zone::Utc => None,
            Zone::Fixed(_, typed) => Some(typed.clone()),
            Zone::Named(tz) => Some(tz.name().to_string()),
        }
    }

    /// Today's date in this zone.
    fn date_of(&self, now: DateTime<Utc>) -> NaiveDate {
        match self {
            Zone::Utc => now.date_naive(),
            Zone::Fixed(offset, _) => now.with_timezone(offset).date_naive(),
            Zone::Named(tz) => now.with_timezone(tz).date_naive(),
        }
    }

    /// The instant a wall-clock time in this zone stands for. When the clocks fall back and a
    /// wall-clock time happens twice, the earlier instant is taken.
    fn resolve(&self, local: NaiveDateTime) -> Result<DateTime<Utc>, TimeError> {
        match self {
            Zone::Utc => Ok(Utc.from_utc_datetime(&local)),
            Zone::Fixed(offset, _) => Ok(Utc.from_utc_datetime(
                &local
                    .checked_sub_offset(*offset)
                    .ok_or_else(|| TimeError::OutOfRange(local.to_string()))?,
            )),
            Zone::Named(tz) => match tz.from_local_datetime(&local) {
                LocalResult::Single(t) => Ok(t.with_timezone(&Utc)),
                LocalResult::Ambiguous(a, b) => {
                    Ok(a.with_timezone(&Utc).min(b.with_timezone(&Utc)))
                }
                LocalResult::None => Err(TimeError::Nonexistent(
                    local.format("%Y-%m-%d %H:%M").to_string(),
                    tz.name().to_string(),
                )),
            },
        }
    }
}

/// IANA names that are just UTC (or GMT) under another name: a time typed in one of them is
/// recorded as UTC, with no zone.
const UTC_NAMES: &[&str] = &[
    "UTC",
    "UCT",
    "GMT",
    "GMT0",
    "Greenwich",
    "Universal",
    "Zulu",
    "Etc/UTC",
    "Etc/UCT",
    "Etc/GMT",
    "Etc/GMT0",
    "Etc/GMT+0",
    "Etc/GMT-0",
    "Etc/Greenwich",
    "Etc/Universal",
    "Etc/Zulu",
];

/// The IANA zone named `name`, without regard to ASCII case; spaces may stand for `_`.
fn lookup_tz(name: &str) -> Option<Tz> {
    let name = name.trim();
    if name.is_empty() {
        return None;
    }
    if let Ok(tz) = Tz::from_str(name) {
        return Some(tz);
    }
    let name = name.replace(' ', "_");
    TZ_VARIANTS
        .iter()
        .copied()
        .find(|tz| tz.name().eq_ignore_ascii_case(&name))
}

/// `+02:00`, `+0200`, `+02`, `-5`: the offset in seconds east of UTC.
fn parse_offset(text: &str) -> Option<i32> {
    let (sign, digits) = match text.as_bytes().first()? {
        b'+' => (1, &text[1..]),
        b'-' => (-1, &text[1..]),
        _ => return None,
    };
    if !digits.bytes().all(|b| b.is_ascii_digit() || b == b':') {
        return None;
    }
    let (hours, minutes) = match digits.split_once(':') {
        Some((h, m)) if (1..=2).contains(&h.len()) && m.len() == 2 => (h, m),
        Some(_) => return None,
        None => match digits.len() {
            1 | 2 => (digits, "0"),
            4 => digits.split_at(2),
            _ => return None,
        },
    };
    let hours: i32 = hours.parse().ok()?;
    let minutes: i32 = minutes.parse().ok()?;
    if hours > 23 || minutes > 59 {
        return None;
    }
    Some(sign * (hours * 3600 + minutes * 60))
}

/// Reads a zone: `UTC`, `Z`, `GMT`; an offset (`+02:00`, `UTC+2`, `GMT-05:00`); or an IANA
/// name.
fn parse_zone(text: &str) -> Result<Zone, TimeError> {
    let text = text.trim();
    if ["z", "utc", "gmt", "ut"]
        .iter()
        .any(|u| text.eq_ignore_ascii_case(u))
    {
        return Ok(Zone::Utc);
    }
    let offset_text = ["utc", "gmt"]
        .iter()
        .find_map(|prefix| {
            let head = text.get(..prefix.len())?;
            head.eq_ignore_ascii_case(prefix)
                .then(|| &text[prefix.len()..])
        })
        .unwrap_or(text);
    if let Some(seconds) = parse_offset(offset_text) {
        return match FixedOffset::east_opt(seconds) {
            Some(_) if seconds == 0 => Ok(Zone::Utc),
            Some(offset) => Ok(Zone::Fixed(offset, text.to_string())),
            None => Err(TimeError::UnknownZone(text.to_string())),
        };
    }
    match lookup_tz(text) {
        Some(tz) if UTC_NAMES.contains(&tz.name()) => Ok(Zone::Utc),
        Some(tz) => Ok(Zone::Named(tz)),
        None => Err(TimeError::UnknownZone(text.to_string())),
    }
}

/// A small reader over ASCII digits and separators.
struct Scan<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Scan<'a> {
    /// Between `min` and `max` ASCII digits, as a number.
    fn number(&mut self, min: usize, max: usize) -> Option<u32> {
        let len = self.text[self.pos..]
            .bytes()
            .take(max)
            .take_while(u8::is_ascii_digit)
            .count();
        if len < min {
            return None;
        }
        let value = self.text[self.pos..self.pos + len].parse().ok()?;
        self.pos += len;
        Some(value)
    }

    fn eat(&mut self, byte: u8) -> bool {
        let found = self.text.as_bytes().get(self.pos) == Some(&byte);
        if found {
            self.pos += 1;
        }
        found
    }

    fn rest(&self) -> &'a str {
        &self.text[self.pos..]
    }
}

/// The parts of a typed time, before they are checked against the calendar.
struct Parts<'a> {
    date: Option<(i32, u32, u32)>,
    hour: u32,
    minute: u32,
    second: u32,
    zone: &'a str,
}

/// `[YYYY-MM-DD(T| )]HH:MM[:SS[.fraction]][ am|pm][ zone]`, or `None` when the text has no
/// such shape.
fn split_input(text: &str) -> Option<Parts<'_>> {
    let mut scan = Scan { text, pos: 0 };
    let date = {
        let mut date_scan = Scan { text, pos: 0 };
        let date = (|| {
            let year = date_scan.number(4, 4)?;
            date_scan.eat(b'-').then_some(())?;
            let month = date_scan.number(1, 2)?;
            date_scan.eat(b'-').then_some(())?;
            let day = date_scan.number(1, 2)?;
            Some((i32::try_from(year).ok()?, month, day))
        })();
        match date {
            Some(date) => {
                let separated = date_scan.eat(b'T') || date_scan.eat(b't');
                let spaces = date_scan.rest().len() - date_scan.rest().trim_start().len();
                if !separated && spaces == 0 {
                    return None;
                }
                scan.pos = date_scan.pos + spaces;
                Some(date)
            }
            None => None,
        }
    };
    let hour = scan.number(1, 2)?;
    scan.eat(b':').then_some(())?;
    let minute = scan.number(2, 2)?;
    let mut second = 0;
    if scan.eat(b':') {
        second = scan.number(2, 2)?;
        if scan.eat(b'.') || scan.eat(b',') {
            scan.number(1, usize::MAX)?;
        }
    }
    let mut rest = scan.rest();
    let mut hour = hour;
    let after_space = rest.trim_start();
    for (marker, add) in [("am", 0), ("pm", 12)] {
        let Some(head) = after_space.get(..2) else {
            continue;
        };
        let tail = &after_space[2..];
        let ends = tail.is_empty() || tail.starts_with([' ', '\t', '+', '-']);
        if head.eq_ignore_ascii_case(marker) && ends {
            if !(1..=12).contains(&hour) {
                return None;
            }
            hour = hour % 12 + add;
            rest = tail;
        }
    }
    let starts_ok = rest.is_empty()
        || rest.starts_with(char::is_whitespace)
        || rest.starts_with(['+', '-', 'Z', 'z']);
    if !starts_ok {
        return None;
    }
    Some(Parts {
        date,
        hour,
        minute,
        second,
        zone: rest.trim(),
    })
}

fn format_utc(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Reads a time a responder typed.
///
/// Accepted forms (surrounding whitespace is ignored):
/// - nothing, or `now`: the `now` passed in;
/// - RFC 3339: `2026-11-22T03:14:00+01:00`, `2026-11-22T02:14:00Z`;
/// - `YYYY-MM-DD HH:MM`, `YYYY-MM-DD HH:MM:SS`, or the same with `T` between date and time,
///   then optionally a zone; fractions of seconds are dropped;
/// - `HH:MM` (or `HH:MM:SS`), optionally with a zone: that time on today's date (today as
///   the date of `now` in that zone);
/// - after the time, `am`/`pm` may follow for hours 1–12.
///
/// A zone is `UTC`, `Z` or `GMT`; a numeric offset (`+02:00`, `+0200`, `-05`, `UTC+2`,
/// `GMT-05:00`); or an IANA name such as `Europe/Berlin`, in any case. Without a zone,
/// `default_zone` (the same kinds of text) is used, and recorded as the zone of the time.
///
/// When the clocks fall back and the wall-clock time happens twice (01:30 on the first
/// Sunday of November in New York), the earlier instant is taken. A wall-clock time the
/// clocks skip (02:30 on the second Sunday of March in New York) is refused with
/// [`TimeError::Nonexistent`].
pub fn parse_time(
    input: &str,
    default_zone: &str,
    now: DateTime<Utc>,
) -> Result<TypedTime, TimeError> {
    let original = input.trim();
    if original.is_empty() || original.eq_ignore_ascii_case("now") {
        return Ok(TypedTime {
            utc: format_utc(now),
            zone: None,
            original: original.to_string(),
        });
    }
    let parts = split_input(original).ok_or_else(|| TimeError::Unreadable(original.into()))?;
    let zone = if parts.zone.is_empty() {
        parse_zone(default_zone)?
    } else {
        parse_zone(parts.zone)?
    };
    let date = match parts.date {
        Some((year, month, day)) => NaiveDate::from_ymd_opt(year, month, day)
            .ok_or_else(|| TimeError::OutOfRange(original.into()))?,
        None => zone.date_of(now),
    };
    let time = NaiveTime::from_hms_opt(parts.hour, parts.minute, parts.second)
        .ok_or_else(|| TimeError::OutOfRange(original.into()))?;
    let utc = zone.resolve(date.and_time(time))?;
    Ok(TypedTime {
        utc: format_utc(utc),
        zone: zone.recorded(),
        original: original.to_string(),
    })
}

/// Shows a stored UTC time in a zone, to the minute: `2026-11-22 03:14 CET`, with the
/// zone's abbreviation at that instant (`UTC` for UTC; the offset, like `+04:00`, for zones
/// that have no letters for it or for fixed offsets). An unknown zone shows the time in UTC.
/// A stored value that is not an RFC 3339 time is returned unchanged.
pub fn format_in_zone(utc: &str, zone: &str) -> String {
    let Some(t) = parse_stored(utc) else {
        return utc.to_string();
    };
    match parse_zone(zone).unwrap_or(Zone::Utc) {
        Zone::Utc => t.format("%Y-%m-%d %H:%M UTC").to_string(),
        Zone::Fixed(offset, _) => t
            .with_timezone(&offset)
            .format("%Y-%m-%d %H:%M %:z")
            .to_string(),
        Zone::Named(tz) => {
            let local = t.with_timezone(&tz);
            let abbreviation = local
                .offset()
                .abbreviation()
                .filter(|a| a.starts_with(|c: char| c.is_ascii_alphabetic()))
                .map(str::to_string)
                .unwrap_or_else(|| local.format("%:z").to_string());
            format!("{} {abbreviation}", local.format("%Y-%m-%d %H:%M"))
        }
    }
}

/// True if `zone` is `UTC` or a known IANA zone name, in any case.
pub fn is_known_zone(zone: &str) -> bool {
    canonical_zone(zone).is_some()
}

/// The IANA name with its canonical capitalization (`europe/berlin` → `Europe/Berlin`,
/// `utc` → `UTC`); `None` for a name that is not known. Spaces may stand for `_`.
pub fn canonical_zone(zone: &str) -> Option<String> {
    lookup_tz(zone).map(|tz| tz.name().to_string())
}

/// A stored RFC 3339 time as an instant (for sorting and comparing); `None` if unreadable.
pub fn parse_stored(utc: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(utc.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        parse_stored("2026-11-22T02:14:00Z").unwrap()
    }

    fn utc(input: &str, default_zone: &str) -> String {
        parse_time(input, default_zone, now())
            .unwrap_or_else(|e| panic!("{input}: {e}"))
            .utc
    }

    #[test]
    fn empty_or_now_is_now() {
        let precise = parse_stored("2026-11-22T02:14:05.789Z").unwrap();
        let typed = parse_time("   ", "Europe/Berlin", precise).unwrap();
        assert_eq!(
            typed,
            TypedTime {
                utc: "2026-11-22T02:14:05Z".into(),
                zone: None,
                original: String::new()
            }
        );
        assert_eq!(
            parse_time("Now", "UTC", now()).unwrap().utc,
            "2026-11-22T02:14:00Z"
        );
    }

    #[test]
    fn rfc3339_with_z_or_offset() {
        let typed = parse_time("2026-11-22T03:14:00+01:00", "UTC", now()).unwrap();
        assert_eq!(typed.utc, "2026-11-22T02:14:00Z");
        assert_eq!(typed.zone.as_deref(), Some("+01:00"));
        let typed = parse_time(" 2026-11-22T02:14:00Z ", "Europe/Berlin", now()).unwrap();
        assert_eq!(typed.utc, "2026-11-22T02:14:00Z");
        assert_eq!(typed.zone, None);
        assert_eq!(typed.original, "2026-11-22T02:14:00Z");
        assert_eq!(
            utc("2026-11-22T02:14:00.999z", "UTC"),
            "2026-11-22T02:14:00Z"
        );
        assert_eq!(
            utc("2026-11-22t02:14:00-00:00", "UTC"),
            "2026-11-22T02:14:00Z"
        );
    }

    #[test]
    fn numeric_offsets_in_every_spelling() {
        for (input, zone) in [
            ("2026-11-22 04:14 +02:00", "+02:00"),
            ("2026-11-22 04:14 +0200", "+0200"),
            ("2026-11-22 04:14 +02", "+02"),
            ("2026-11-22 04:14+02:00", "+02:00"),
            ("2026-11-22 04:14 UTC+2", "UTC+2"),
            ("2026-11-22T04:14:00 GMT+02:00", "GMT+02:00"),
        ] {
            let typed = parse_time(input, "UTC", now()).unwrap();
            assert_eq!(typed.utc, "2026-11-22T02:14:00Z", "{input}");
            assert_eq!(typed.zone.as_deref(), Some(zone), "{input}");
        }
        assert_eq!(utc("2026-11-21 21:14 -05", "UTC"), "2026-11-22T02:14:00Z");
        assert_eq!(utc("2026-11-21 21:14 -5", "UTC"), "2026-11-22T02:14:00Z");
        assert_eq!(
            utc("2026-11-22 07:44 +05:30", "UTC"),
            "2026-11-22T02:14:00Z"
        );
        let zero = parse_time("2026-11-22 02:14 +00:00", "Europe/Berlin", now()).unwrap();
        assert_eq!(zero.zone, None);
    }

    #[test]
    fn utc_names_record_no_zone() {
        for input in [
            "2026-11-22 02:14 UTC",
            "2026-11-22 02:14 utc",
            "2026-11-22 02:14 Z",
            "2026-11-22 02:14 GMT",
            "2026-11-22 02:14 Etc/UTC",
            "2026-11-22 02:14:00",
        ] {
            let typed = parse_time(input, "UTC", now()).unwrap();
            assert_eq!(typed.utc, "2026-11-22T02:14:00Z", "{input}");
            assert_eq!(typed.zone, None, "{input}");
        }
    }

    #[test]
    fn berlin_winter_and_summer() {
        let winter = parse_time("2026-01-15 10:00 Europe/Berlin", "UTC", now()).unwrap();
        assert_eq!(winter.utc, "2026-01-15T09:00:00Z");
        assert_eq!(winter.zone.as_deref(), Some("Europe/Berlin"));
        let summer = parse_time("2026-07-15T10:00 europe/berlin", "UTC", now()).unwrap();
        assert_eq!(summer.utc, "2026-07-15T08:00:00Z");
        assert_eq!(summer.zone.as_deref(), Some("Europe/Berlin"));
        assert_eq!(summer.original, "2026-07-15T10:00 europe/berlin");
    }

    #[test]
    fn new_york_clock_changes() {
        // Spring forward, 2026-03-08: 02:00 EST jumps to 03:00 EDT.
        assert_eq!(
            utc("2026-03-08 01:59 America/New_York", "UTC"),
            "2026-03-08T06:59:00Z"
        );
        assert_eq!(
            utc("2026-03-08 03:00 America/New_York", "UTC"),
            "2026-03-08T07:00:00Z"
        );
        let skipped = parse_time("2026-03-08 02:30 America/New_York", "UTC", now()).unwrap_err();
        assert_eq!(
            skipped,
            TimeError::Nonexistent("2026-03-08 02:30".into(), "America/New_York".into())
        );
        assert_eq!(
            skipped.to_string(),
            "2026-03-08 02:30 does not exist in America/New_York (the clocks skip it)"
        );
        // Fall back, 2026-11-01: 01:30 happens at 05:30Z (EDT) and again at 06:30Z (EST);
        // the earlier is taken.
        assert_eq!(
            utc("2026-11-01 01:30 America/New_York", "UTC"),
            "2026-11-01T05:30:00Z"
        );
        assert_eq!(
            utc("2026-11-01 00:59 America/New_York", "UTC"),
            "2026-11-01T04:59:00Z"
        );
        assert_eq!(
            utc("2026-11-01 02:00 America/New_York", "UTC"),
            "2026-11-01T07:00:00Z"
        );
    }

    #[test]
    fn default_zone_applies_when_none_is_typed() {
        let typed = parse_time("2026-11-22 03:14", "Europe/Berlin", now()).unwrap();
        assert_eq!(typed.utc, "2026-11-22T02:14:00Z");
        assert_eq!(typed.zone.as_deref(), Some("Europe/Berlin"));
        let typed = parse_time("2026-11-22 03:14", "europe/berlin", now()).unwrap();
        assert_eq!(typed.zone.as_deref(), Some("Europe/Berlin"));
        let typed = parse_time("2026-11-22 02:14", "UTC", now()).unwrap();
        assert_eq!(typed.utc, "2026-11-22T02:14:00Z");
        assert_eq!(typed.zone, None);
        // A typed zone wins over the default.
        assert_eq!(
            utc("2026-11-22 02:14 UTC", "Asia/Tokyo"),
            "2026-11-22T02:14:00Z"
        );
        assert_eq!(
            parse_time("2026-11-22 02:14", "Mars/Olympus", now()).unwrap_err(),
            TimeError::UnknownZone("Mars/Olympus".into())
        );
    }

    #[test]
    fn time_alone_is_today_in_its_zone() {
        // now is 2026-11-22 02:14 UTC, which is still 2026-11-21 21:14 in New York.
        assert_eq!(utc("01:00", "UTC"), "2026-11-22T01:00:00Z");
        assert_eq!(utc("1:00", "UTC"), "2026-11-22T01:00:00Z");
        assert_eq!(utc("03:00", "Europe/Berlin"), "2026-11-22T02:00:00Z");
        assert_eq!(utc("20:00 America/New_York", "UTC"), "2026-11-22T01:00:00Z");
        assert_eq!(utc("20:00:30 -05:00", "UTC"), "2026-11-22T01:00:30Z");
        let typed = parse_time("13:05 Asia/Tokyo", "UTC", now()).unwrap();
        assert_eq!(typed.utc, "2026-11-22T04:05:00Z");
        assert_eq!(typed.zone.as_deref(), Some("Asia/Tokyo"));
        assert_eq!(typed.original, "13:05 Asia/Tokyo");
    }

    #[test]
    fn am_and_pm() {
        assert_eq!(utc("2026-11-22 2:14 am", "UTC"), "2026-11-22T02:14:00Z");
        assert_eq!(utc("2026-11-22 12:05 AM", "UTC"), "2026-11-22T00:05:00Z");
        assert_eq!(utc("2026-11-22 12:05pm", "UTC"), "2026-11-22T12:05:00Z");
        assert_eq!(
            utc("2026-11-21 9:14 PM America/New_York", "UTC"),
            "2026-11-22T02:14:00Z"
        );
        assert!(matches!(
            parse_time("13:00 pm", "UTC", now()),
            Err(TimeError::Unreadable(_))
        ));
    }

    #[test]
    fn unknown_zone_is_named_in_the_error() {
        let err = parse_time("2026-11-22 03:14 Europe/Berlinn", "UTC", now()).unwrap_err();
        assert_eq!(err, TimeError::UnknownZone("Europe/Berlinn".into()));
        assert_eq!(
            err.to_string(),
            "unknown time zone “Europe/Berlinn” — use a name like Europe/Berlin, UTC, \
             or an offset like +02:00"
        );
        assert_eq!(
            parse_time("10:00 PST", "UTC", now()).unwrap_err(),
            TimeError::UnknownZone("PST".into())
        );
        assert_eq!(
            parse_time("10:00 +25:00", "UTC", now()).unwrap_err(),
            TimeError::UnknownZone("+25:00".into())
        );
    }

    #[test]
    fn junk_is_refused_with_a_readable_message() {
        for junk in [
            "yesterday",
            "2026-11-22",
            "2026/11/22 10:00",
            "10",
            "10:5",
            "2026-11-2210:00",
            "10:00abc",
            "<script>alert(1)</script>",
        ] {
            let err = parse_time(junk, "UTC", now()).unwrap_err();
            assert_eq!(err, TimeError::Unreadable(junk.into()), "{junk}");
            assert!(err.to_string().contains(junk));
            assert!(err.to_string().contains("2026-11-22 14:05"));
        }
        for impossible in [
            "2026-02-30 10:00",
            "2026-13-01 10:00",
            "24:00",
            "10:60",
            "10:00:61",
        ] {
            assert_eq!(
                parse_time(impossible, "UTC", now()).unwrap_err(),
                TimeError::OutOfRange(impossible.into()),
                "{impossible}"
            );
        }
    }

    #[test]
    fn format_in_zone_shows_abbreviations() {
        let stored = "2026-11-22T02:14:00Z";
        assert_eq!(
            format_in_zone(stored, "Europe/Berlin"),
            "2026-11-22 03:14 CET"
        );
        assert_eq!(
            format_in_zone("2026-07-15T08:00:00Z", "Europe/Berlin"),
            "2026-07-15 10:00 CEST"
        );
        assert_eq!(
            format_in_zone(stored, "America/New_York"),
            "2026-11-21 21:14 EST"
        );
        assert_eq!(format_in_zone(stored, "UTC"), "2026-11-22 02:14 UTC");
        assert_eq!(format_in_zone(stored, "+05:30"), "2026-11-22 07:44 +05:30");
        assert_eq!(
            format_in_zone(stored, "Asia/Dubai"),
            "2026-11-22 06:14 +04:00"
        );
        assert_eq!(
            format_in_zone(stored, "Nowhere/Else"),
            "2026-11-22 02:14 UTC"
        );
        assert_eq!(format_in_zone("not a time", "Europe/Berlin"), "not a time");
        assert_eq!(format_in_zone("", "UTC"), "");
    }

    #[test]
    fn format_in_zone_round_trips_through_parse_time() {
        for stored in [
            "2026-11-22T02:14:00Z",
            "2026-07-15T08:00:00Z",
            "2026-03-08T07:00:00Z",
            "2026-11-01T07:00:00Z",
        ] {
            for zone in ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"] {
                let shown = format_in_zone(stored, zone);
                let local = &shown[..16];
                let typed = parse_time(local, zone, now()).unwrap();
                assert_eq!(typed.utc, stored, "{stored} in {zone} shown as {shown}");
            }
        }
    }

    #[test]
    fn zone_names() {
        assert!(is_known_zone("UTC"));
        assert!(is_known_zone("utc"));
        assert!(is_known_zone("Europe/Berlin"));
        assert!(is_known_zone("EUROPE/BERLIN"));
        assert!(!is_known_zone("Europe/Berlinn"));
        assert!(!is_known_zone(""));
        assert!(!is_known_zone("+02:00"));
        assert_eq!(
            canonical_zone("europe/berlin").as_deref(),
            Some("Europe/Berlin")
        );
        assert_eq!(canonical_zone("utc").as_deref(), Some("UTC"));
        assert_eq!(
            canonical_zone("america/new york").as_deref(),
            Some("America/New_York")
        );
        assert_eq!(canonical_zone("Mars/Olympus"), None);
    }

    #[test]
    fn stored_times_parse_for_sorting() {
        let a = parse_stored("2026-11-22T02:14:00Z").unwrap();
        let b = parse_stored("2026-11-22T03:14:00+01:00").unwrap();
        assert_eq!(a, b);
        assert!(parse_stored("2026-11-22T02:15:00Z").unwrap() > a);
        assert_eq!(parse_stored("yesterday"), None);
        assert_eq!(parse_stored(""), None);
        assert_eq!(
            format_utc(parse_stored(&format_utc(a)).unwrap()),
            "2026-11-22T02:14:00Z"
        );
    }
}
