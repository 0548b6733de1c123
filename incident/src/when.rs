//! Times as responders type them, and as the document stores them.
//!
//! The document stores every time as an RFC 3339 UTC string with seconds precision and a `Z`
//! (`2026-11-22T02:14:00Z`), so stored times sort as text and mean the same everywhere. What
//! the responder typed and the zone they meant are kept beside it ([`TypedTime`]).
//!
//! Nothing here reads the clock: "now" is always passed in.
//!
//! # Named zones
//!
//! UTC and numeric offsets (`+02:00`) are always understood. Named IANA zones
//! (`Europe/Berlin`) come from a [`ZoneDatabase`]:
//! - the one given to [`install_zone_database`], if any (the browser app installs one backed by
//!   the browser's own `Intl.DateTimeFormat`, so it ships no zone data of its own);
//! - otherwise, with the `bundled-tz` cargo feature (on by default), `BundledZones`, the
//!   database compiled in by chrono-tz;
//! - otherwise none: every named zone other than UTC's own names (`UTC`, `Etc/UTC`, `GMT`,
//!   `Zulu`, …) is unknown, so a time typed in one is refused with [`TimeError::UnknownZone`],
//!   [`is_known_zone`] says no, and [`format_in_zone`] shows UTC.
//!
//! A database only answers "what is this zone's name" and "what is its offset at this
//! instant"; turning a wall-clock time into an instant (clocks skipping forward or falling
//! back) is done here, the same way for every database.

use std::sync::OnceLock;

use chrono::{
    DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, TimeZone, Utc,
};

/// Where named time zones come from: their names and their UTC offsets over time.
///
/// Install one with [`install_zone_database`]. Implementations only look things up; the rules
/// for wall-clock times the clocks skip or repeat live in this module.
pub trait ZoneDatabase: Send + Sync {
    /// The canonical IANA name for `name` (`europe/berlin` → `Europe/Berlin`), or `None` if
    /// the zone is not known. Case does not matter. Callers pass the name trimmed, with `_`
    /// for spaces, and never UTC's own names or numeric offsets (those are handled here).
    /// An alias may be answered with itself or with the zone it stands for.
    fn canonical_name(&self, name: &str) -> Option<String>;

    /// The UTC offset of zone `name` (a name [`canonical_name`](Self::canonical_name)
    /// returned) at the instant `utc`, in seconds east of UTC, with the zone's abbreviation at
    /// that instant if it is made of letters (`CET`, `EDT`), else `None` (zones known only by
    /// an offset, like `+04`). `None` if the zone is unknown or the instant is out of the
    /// database's range.
    fn offset_at(&self, name: &str, utc: DateTime<Utc>) -> Option<(i32, Option<String>)>;
}

static INSTALLED: OnceLock<Box<dyn ZoneDatabase>> = OnceLock::new();

/// Makes `db` the source of named time zones for the whole program (see the
/// [module documentation](self)). The first database installed stays: a later call leaves it
/// in place, drops `db` and returns `false`. Calls to this module made before a database is
/// installed use the built-in fallback (chrono-tz with `bundled-tz`, else no named zones).
pub fn install_zone_database(db: Box<dyn ZoneDatabase>) -> bool {
    INSTALLED.set(db).is_ok()
}

/// The database in use now: the installed one, else the built-in fallback.
fn zone_database() -> &'static dyn ZoneDatabase {
    match INSTALLED.get() {
        Some(db) => db.as_ref(),
        None => &FALLBACK,
    }
}

#[cfg(feature = "bundled-tz")]
static FALLBACK: BundledZones = BundledZones;
#[cfg(not(feature = "bundled-tz"))]
static FALLBACK: NoNamedZones = NoNamedZones;

/// Knows no named zones (the fallback without the `bundled-tz` feature).
#[cfg(not(feature = "bundled-tz"))]
struct NoNamedZones;

#[cfg(not(feature = "bundled-tz"))]
impl ZoneDatabase for NoNamedZones {
    fn canonical_name(&self, _name: &str) -> Option<String> {
        None
    }

    fn offset_at(&self, _name: &str, _utc: DateTime<Utc>) -> Option<(i32, Option<String>)> {
        None
    }
}

/// The IANA database compiled in by chrono-tz (the `bundled-tz` feature). Used when no other
/// database was installed; about 150 KB gzip in a wasm build.
#[cfg(feature = "bundled-tz")]
#[derive(Clone, Copy, Debug, Default)]
pub struct BundledZones;

#[cfg(feature = "bundled-tz")]
impl BundledZones {
    fn find(name: &str) -> Option<chrono_tz::Tz> {
        use std::str::FromStr;
        if let Ok(tz) = chrono_tz::Tz::from_str(name) {
            return Some(tz);
        }
        let name = name.trim().replace(' ', "_");
        chrono_tz::TZ_VARIANTS
            .iter()
            .copied()
            .find(|tz| tz.name().eq_ignore_ascii_case(&name))
    }
}

#[cfg(feature = "bundled-tz")]
impl ZoneDatabase for BundledZones {
    fn canonical_name(&self, name: &str) -> Option<String> {
        Self::find(name).map(|tz| tz.name().to_string())
    }

    fn offset_at(&self, name: &str, utc: DateTime<Utc>) -> Option<(i32, Option<String>)> {
        use chrono::Offset;
        use chrono_tz::OffsetName;
        let offset = Self::find(name)?.offset_from_utc_datetime(&utc.naive_utc());
        let abbreviation = offset
            .abbreviation()
            .filter(|a| a.starts_with(|c: char| c.is_ascii_alphabetic()))
            .map(str::to_string);
        Some((offset.fix().local_minus_utc(), abbreviation))
    }
}

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
    /// An IANA zone, by the name its database gave.
    Named(String),
}

impl Zone {
    /// What [`TypedTime::zone`] records for this zone.
    fn recorded(&self) -> Option<String> {
        match self {
            Zone::Utc => None,
            Zone::Fixed(_, typed) => Some(typed.clone()),
            Zone::Named(name) => Some(name.clone()),
        }
    }

    /// Today's date in this zone.
    fn date_of(&self, db: &dyn ZoneDatabase, now: DateTime<Utc>) -> NaiveDate {
        match self {
            Zone::Utc => now.date_naive(),
            Zone::Fixed(offset, _) => now.with_timezone(offset).date_naive(),
            Zone::Named(name) => match fixed_offset_at(db, name, now) {
                Some((offset, _)) => now.with_timezone(&offset).date_naive(),
                None => now.date_naive(),
            },
        }
    }

    /// The instant a wall-clock time in this zone stands for. When the clocks fall back and a
    /// wall-clock time happens twice, the earlier instant is taken.
    fn resolve(
        &self,
        db: &dyn ZoneDatabase,
        local: NaiveDateTime,
    ) -> Result<DateTime<Utc>, TimeError> {
        match self {
            Zone::Utc => Ok(Utc.from_utc_datetime(&local)),
            Zone::Fixed(offset, _) => Ok(Utc.from_utc_datetime(
                &local
                    .checked_sub_offset(*offset)
                    .ok_or_else(|| TimeError::OutOfRange(local.to_string()))?,
            )),
            Zone::Named(name) => resolve_named(db, name, local),
        }
    }
}

/// The offset of zone `name` at `utc` as a chrono offset, with its letter abbreviation.
fn fixed_offset_at(
    db: &dyn ZoneDatabase,
    name: &str,
    utc: DateTime<Utc>,
) -> Option<(FixedOffset, Option<String>)> {
    let (seconds, abbreviation) = db.offset_at(name, utc)?;
    Some((FixedOffset::east_opt(seconds)?, abbreviation))
}

/// The instant a wall-clock time in the named zone stands for, from the zone's offsets alone.
///
/// Every real offset is within a day of UTC, so the instant is within a day of the
/// wall-clock time read as if it were UTC (`guess`). The offsets the zone has a day before
/// `guess`, at it and a day after are the candidates; an offset fits if the zone really has
/// that offset at the instant it gives (`guess − offset`). No fitting offset means the clocks
/// skipped the time; two mean it happened twice, and the earlier instant is taken.
fn resolve_named(
    db: &dyn ZoneDatabase,
    name: &str,
    local: NaiveDateTime,
) -> Result<DateTime<Utc>, TimeError> {
    let shown = || local.format("%Y-%m-%d %H:%M").to_string();
    let guess = Utc.from_utc_datetime(&local);
    let day = TimeDelta::days(1);
    let probes = [
        guess.checked_sub_signed(day),
        Some(guess),
        guess.checked_add_signed(day),
    ];
    let mut tried: Vec<i32> = Vec::with_capacity(probes.len());
    let mut earliest: Option<DateTime<Utc>> = None;
    for probe in probes.into_iter().flatten() {
        let Some((offset, _)) = db.offset_at(name, probe) else {
            continue;
        };
        if tried.contains(&offset) {
            continue;
        }
        tried.push(offset);
        let Some(instant) = guess.checked_sub_signed(TimeDelta::seconds(offset.into())) else {
            continue;
        };
        if db.offset_at(name, instant).map(|(o, _)| o) == Some(offset) {
            earliest = Some(earliest.map_or(instant, |e| e.min(instant)));
        }
    }
    match earliest {
        Some(instant) => Ok(instant),
        None if tried.is_empty() => Err(TimeError::OutOfRange(shown())),
        None => Err(TimeError::Nonexistent(shown(), name.to_string())),
    }
}

/// IANA names that are just UTC (or GMT) under another name: a time typed in one of them is
/// recorded as UTC, with no zone. They are known whatever the zone database.
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

/// The canonical name of the zone named `name`, without regard to ASCII case; spaces may
/// stand for `_`. UTC's own names are answered here; other names by `db`.
fn lookup_zone(db: &dyn ZoneDatabase, name: &str) -> Option<String> {
    let name = name.trim();
    // Every IANA name starts with a letter; this keeps offsets like `+02:00` (which some
    // databases read as zones) out.
    if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return None;
    }
    let name = name.replace(' ', "_");
    if let Some(utc) = UTC_NAMES.iter().find(|u| u.eq_ignore_ascii_case(&name)) {
        return Some(utc.to_string());
    }
    db.canonical_name(&name)
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
fn parse_zone(db: &dyn ZoneDatabase, text: &str) -> Result<Zone, TimeError> {
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
    match lookup_zone(db, text) {
        Some(name) if UTC_NAMES.contains(&name.as_str()) => Ok(Zone::Utc),
        Some(name) => Ok(Zone::Named(name)),
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
/// `GMT-05:00`); or an IANA name such as `Europe/Berlin`, in any case (named zones need a
/// zone database, see the [module documentation](self)). Without a zone, `default_zone` (the
/// same kinds of text) is used, and recorded as the zone of the time.
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
    parse_time_with(zone_database(), input, default_zone, now)
}

/// [`parse_time`] with zone database `db`.
fn parse_time_with(
    db: &dyn ZoneDatabase,
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
        parse_zone(db, default_zone)?
    } else {
        parse_zone(db, parts.zone)?
    };
    let date = match parts.date {
        Some((year, month, day)) => NaiveDate::from_ymd_opt(year, month, day)
            .ok_or_else(|| TimeError::OutOfRange(original.into()))?,
        None => zone.date_of(db, now),
    };
    let time = NaiveTime::from_hms_opt(parts.hour, parts.minute, parts.second)
        .ok_or_else(|| TimeError::OutOfRange(original.into()))?;
    let utc = zone.resolve(db, date.and_time(time))?;
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
///
/// The abbreviations come from the zone database, so they may differ between databases
/// (the browser's says `GST` for Asia/Dubai, where chrono-tz has no letters).
pub fn format_in_zone(utc: &str, zone: &str) -> String {
    format_in_zone_with(zone_database(), utc, zone)
}

/// [`format_in_zone`] with zone database `db`.
fn format_in_zone_with(db: &dyn ZoneDatabase, utc: &str, zone: &str) -> String {
    let Some(t) = parse_stored(utc) else {
        return utc.to_string();
    };
    let in_utc = || t.format("%Y-%m-%d %H:%M UTC").to_string();
    match parse_zone(db, zone).unwrap_or(Zone::Utc) {
        Zone::Utc => in_utc(),
        Zone::Fixed(offset, _) => t
            .with_timezone(&offset)
            .format("%Y-%m-%d %H:%M %:z")
            .to_string(),
        Zone::Named(name) => match fixed_offset_at(db, &name, t) {
            Some((offset, abbreviation)) => {
                let local = t.with_timezone(&offset);
                let abbreviation = abbreviation
                    .filter(|a| a.starts_with(|c: char| c.is_ascii_alphabetic()))
                    .unwrap_or_else(|| local.format("%:z").to_string());
                format!("{} {abbreviation}", local.format("%Y-%m-%d %H:%M"))
            }
            None => in_utc(),
        },
    }
}

/// True if `zone` is `UTC` or a known IANA zone name, in any case.
pub fn is_known_zone(zone: &str) -> bool {
    canonical_zone(zone).is_some()
}

/// The IANA name with its canonical capitalization (`europe/berlin` → `Europe/Berlin`,
/// `utc` → `UTC`); `None` for a name that is not known. Spaces may stand for `_`. Only UTC's
/// own names are known without a zone database (see the [module documentation](self)).
pub fn canonical_zone(zone: &str) -> Option<String> {
    lookup_zone(zone_database(), zone)
}

/// The stored form (RFC 3339 UTC, whole seconds, `Z`) of `secs` seconds since the Unix
/// epoch; for callers whose clock gives numbers, such as the relay.
pub fn utc_from_unix_seconds(secs: i64) -> String {
    DateTime::<Utc>::from_timestamp(secs, 0)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
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

    #[cfg(feature = "bundled-tz")]
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

    #[cfg(feature = "bundled-tz")]
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

    #[cfg(feature = "bundled-tz")]
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

    #[cfg(feature = "bundled-tz")]
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

    #[cfg(feature = "bundled-tz")]
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

    #[cfg(feature = "bundled-tz")]
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

    #[cfg(feature = "bundled-tz")]
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

    #[cfg(feature = "bundled-tz")]
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

/// The wall-clock → instant rules, run against a small zone database that knows nothing of
/// chrono-tz: a few zones with DST rules written out by hand.
#[cfg(test)]
mod database_tests {
    use super::*;
    use chrono::{Datelike, Weekday};

    /// Test zones. New York and Berlin follow their 2007– and 1996– rules (which give the
    /// real 2026 offsets); Test/Dateline skips a whole day (as Samoa did in 2011) and
    /// Test/Repeat lives one day twice; Test/Broken has a name but no offsets.
    struct RuleZones;

    const RULE_ZONES: &[&str] = &[
        "America/New_York",
        "Europe/Berlin",
        "Asia/Kolkata",
        "Asia/Dubai",
        "Test/Dateline",
        "Test/Repeat",
        "Test/Broken",
    ];

    fn at(text: &str) -> DateTime<Utc> {
        parse_stored(text).unwrap()
    }

    /// The `n`th Sunday of the month (`n` = 5: the last), at `hour`:00 UTC.
    fn sunday(year: i32, month: u32, n: u8, hour: u32) -> DateTime<Utc> {
        let day = (1..=n)
            .rev()
            .find_map(|n| NaiveDate::from_weekday_of_month_opt(year, month, Weekday::Sun, n))
            .unwrap();
        Utc.from_utc_datetime(&day.and_hms_opt(hour, 0, 0).unwrap())
    }

    impl ZoneDatabase for RuleZones {
        fn canonical_name(&self, name: &str) -> Option<String> {
            if name.eq_ignore_ascii_case("Asia/Calcutta") {
                return Some("Asia/Kolkata".into());
            }
            RULE_ZONES
                .iter()
                .find(|z| z.eq_ignore_ascii_case(name))
                .map(|z| z.to_string())
        }

        fn offset_at(&self, name: &str, utc: DateTime<Utc>) -> Option<(i32, Option<String>)> {
            const H: i32 = 3600;
            let year = utc.year();
            let (offset, abbreviation) = match name {
                "America/New_York" => {
                    // From 02:00 EST on the second Sunday of March to 02:00 EDT on the first
                    // Sunday of November.
                    if (sunday(year, 3, 2, 7)..sunday(year, 11, 1, 6)).contains(&utc) {
                        (-4 * H, "EDT")
                    } else {
                        (-5 * H, "EST")
                    }
                }
                "Europe/Berlin" => {
                    // From 01:00 UTC on the last Sunday of March to 01:00 UTC on the last
                    // Sunday of October.
                    if (sunday(year, 3, 5, 1)..sunday(year, 10, 5, 1)).contains(&utc) {
                        (2 * H, "CEST")
                    } else {
                        (H, "CET")
                    }
                }
                "Asia/Kolkata" => (5 * H + 30 * 60, "IST"),
                "Asia/Dubai" => (4 * H, ""),
                "Test/Dateline" if utc < at("2011-12-30T10:00:00Z") => (-10 * H, ""),
                "Test/Dateline" => (14 * H, ""),
                "Test/Repeat" if utc < at("2011-12-30T10:00:00Z") => (14 * H, ""),
                "Test/Repeat" => (-10 * H, ""),
                _ => return None,
            };
            Some((
                offset,
                Some(abbreviation.to_string()).filter(|a| !a.is_empty()),
            ))
        }
    }

    fn now() -> DateTime<Utc> {
        at("2026-11-22T02:14:00Z")
    }

    fn parse(input: &str, default_zone: &str) -> Result<TypedTime, TimeError> {
        parse_time_with(&RuleZones, input, default_zone, now())
    }

    fn utc(input: &str) -> String {
        parse(input, "UTC")
            .unwrap_or_else(|e| panic!("{input}: {e}"))
            .utc
    }

    fn format(stored: &str, zone: &str) -> String {
        format_in_zone_with(&RuleZones, stored, zone)
    }

    fn nonexistent(input: &str) -> TimeError {
        parse(input, "UTC").unwrap_err()
    }

    #[test]
    fn new_york_clock_changes() {
        assert_eq!(
            utc("2026-03-08 01:59 America/New_York"),
            "2026-03-08T06:59:00Z"
        );
        assert_eq!(
            utc("2026-03-08 03:00 America/New_York"),
            "2026-03-08T07:00:00Z"
        );
        assert_eq!(
            nonexistent("2026-03-08 02:30 America/New_York"),
            TimeError::Nonexistent("2026-03-08 02:30".into(), "America/New_York".into())
        );
        assert_eq!(
            nonexistent("2026-03-08 02:00 america/new york"),
            TimeError::Nonexistent("2026-03-08 02:00".into(), "America/New_York".into())
        );
        assert_eq!(
            utc("2026-11-01 01:30 America/New_York"),
            "2026-11-01T05:30:00Z"
        );
        assert_eq!(
            utc("2026-11-01 00:59 America/New_York"),
            "2026-11-01T04:59:00Z"
        );
        assert_eq!(
            utc("2026-11-01 02:00 America/New_York"),
            "2026-11-01T07:00:00Z"
        );
        assert_eq!(
            utc("2026-11-21 9:14 PM America/New_York"),
            "2026-11-22T02:14:00Z"
        );
    }

    #[test]
    fn berlin_clock_changes() {
        let winter = parse("2026-01-15 10:00 europe/berlin", "UTC").unwrap();
        assert_eq!(winter.utc, "2026-01-15T09:00:00Z");
        assert_eq!(winter.zone.as_deref(), Some("Europe/Berlin"));
        assert_eq!(
            utc("2026-07-15T10:00 Europe/Berlin"),
            "2026-07-15T08:00:00Z"
        );
        // Spring forward, 2026-03-29: 02:00 CET jumps to 03:00 CEST.
        assert_eq!(
            utc("2026-03-29 01:59 Europe/Berlin"),
            "2026-03-29T00:59:00Z"
        );
        assert_eq!(
            nonexistent("2026-03-29 02:00 Europe/Berlin"),
            TimeError::Nonexistent("2026-03-29 02:00".into(), "Europe/Berlin".into())
        );
        assert_eq!(
            nonexistent("2026-03-29 02:59:59 Europe/Berlin"),
            TimeError::Nonexistent("2026-03-29 02:59".into(), "Europe/Berlin".into())
        );
        assert_eq!(
            utc("2026-03-29 03:00 Europe/Berlin"),
            "2026-03-29T01:00:00Z"
        );
        // Fall back, 2026-10-25: 02:00–02:59 happen in CEST, then again in CET.
        assert_eq!(
            utc("2026-10-25 01:59 Europe/Berlin"),
            "2026-10-24T23:59:00Z"
        );
        assert_eq!(
            utc("2026-10-25 02:00 Europe/Berlin"),
            "2026-10-25T00:00:00Z"
        );
        assert_eq!(
            utc("2026-10-25 02:30 Europe/Berlin"),
            "2026-10-25T00:30:00Z"
        );
        assert_eq!(
            utc("2026-10-25 03:00 Europe/Berlin"),
            "2026-10-25T02:00:00Z"
        );
    }

    #[test]
    fn a_skipped_day_and_a_repeated_day() {
        assert_eq!(
            utc("2011-12-29 23:59 Test/Dateline"),
            "2011-12-30T09:59:00Z"
        );
        for skipped in ["2011-12-30 00:00", "2011-12-30 12:00", "2011-12-30 23:59"] {
            assert_eq!(
                nonexistent(&format!("{skipped} Test/Dateline")),
                TimeError::Nonexistent(skipped.into(), "Test/Dateline".into())
            );
        }
        assert_eq!(
            utc("2011-12-31 00:00 Test/Dateline"),
            "2011-12-30T10:00:00Z"
        );
        // Test/Repeat goes from +14 to −10: the 24 hours from 2011-12-30 00:00 happen twice.
        assert_eq!(utc("2011-12-29 23:59 Test/Repeat"), "2011-12-29T09:59:00Z");
        assert_eq!(utc("2011-12-30 00:00 Test/Repeat"), "2011-12-29T10:00:00Z");
        assert_eq!(utc("2011-12-30 23:59 Test/Repeat"), "2011-12-30T09:59:00Z");
        assert_eq!(utc("2011-12-31 00:00 Test/Repeat"), "2011-12-31T10:00:00Z");
    }

    #[test]
    fn the_default_zone_and_today_come_from_the_database() {
        let typed = parse("2026-11-22 03:14", "europe/berlin").unwrap();
        assert_eq!(typed.utc, "2026-11-22T02:14:00Z");
        assert_eq!(typed.zone.as_deref(), Some("Europe/Berlin"));
        // now is 2026-11-22 02:14 UTC, which is still 2026-11-21 21:14 in New York.
        assert_eq!(utc("20:00 America/New_York"), "2026-11-22T01:00:00Z");
        assert_eq!(utc("03:00 Europe/Berlin"), "2026-11-22T02:00:00Z");
        let typed = parse("13:05", "Asia/Calcutta").unwrap();
        assert_eq!(typed.utc, "2026-11-22T07:35:00Z");
        assert_eq!(typed.zone.as_deref(), Some("Asia/Kolkata"));
        assert_eq!(
            parse("2026-11-22 02:14", "Mars/Olympus").unwrap_err(),
            TimeError::UnknownZone("Mars/Olympus".into())
        );
        assert_eq!(
            parse("10:00 PST", "UTC").unwrap_err(),
            TimeError::UnknownZone("PST".into())
        );
        assert_eq!(parse("2026-11-22 02:14 zulu", "UTC").unwrap().zone, None);
    }

    #[test]
    fn a_zone_without_offsets_is_out_of_range() {
        assert_eq!(
            parse("2026-11-22 02:14 Test/Broken", "UTC").unwrap_err(),
            TimeError::OutOfRange("2026-11-22 02:14".into())
        );
        assert_eq!(
            format("2026-11-22T02:14:00Z", "Test/Broken"),
            "2026-11-22 02:14 UTC"
        );
    }

    #[test]
    fn format_shows_the_database_abbreviation_or_the_offset() {
        let stored = "2026-11-22T02:14:00Z";
        assert_eq!(format(stored, "Europe/Berlin"), "2026-11-22 03:14 CET");
        assert_eq!(
            format("2026-07-15T08:00:00Z", "europe/berlin"),
            "2026-07-15 10:00 CEST"
        );
        assert_eq!(format(stored, "America/New_York"), "2026-11-21 21:14 EST");
        assert_eq!(format(stored, "Asia/Kolkata"), "2026-11-22 07:44 IST");
        assert_eq!(format(stored, "Asia/Dubai"), "2026-11-22 06:14 +04:00");
        assert_eq!(
            format("2011-12-30T10:00:00Z", "Test/Dateline"),
            "2011-12-31 00:00 +14:00"
        );
        assert_eq!(format(stored, "Etc/UTC"), "2026-11-22 02:14 UTC");
        assert_eq!(format(stored, "Nowhere/Else"), "2026-11-22 02:14 UTC");
    }

    /// Every instant shown in a zone and typed back in reads as itself, except the second
    /// pass through a repeated wall-clock time, which reads as the first.
    #[test]
    fn format_and_parse_round_trip_across_every_change() {
        let windows = [
            ("America/New_York", "2026-03-07T00:00:00Z"),
            ("America/New_York", "2026-10-31T00:00:00Z"),
            ("Europe/Berlin", "2026-03-28T00:00:00Z"),
            ("Europe/Berlin", "2026-10-24T00:00:00Z"),
            ("Asia/Kolkata", "2026-01-01T00:00:00Z"),
            ("Test/Dateline", "2011-12-29T00:00:00Z"),
            ("Test/Repeat", "2011-12-29T00:00:00Z"),
        ];
        for (zone, start) in windows {
            let mut t = at(start);
            for _ in 0..(3 * 24 * 4) {
                let stored = format_utc(t);
                let shown = format(&stored, zone);
                let typed = parse(&shown[..16], zone).unwrap_or_else(|e| panic!("{shown}: {e}"));
                let back = at(&typed.utc);
                if back != t {
                    assert!(back < t, "{stored} in {zone} shown as {shown}");
                    assert_eq!(format(&typed.utc, zone)[..16], shown[..16], "{stored}");
                }
                t += TimeDelta::minutes(15);
            }
        }
    }

    #[test]
    fn names_are_looked_up_without_case_and_with_spaces() {
        let name = |text: &str| lookup_zone(&RuleZones, text);
        assert_eq!(
            name("america/new york").as_deref(),
            Some("America/New_York")
        );
        assert_eq!(name(" EUROPE/BERLIN ").as_deref(), Some("Europe/Berlin"));
        assert_eq!(name("asia/calcutta").as_deref(), Some("Asia/Kolkata"));
        assert_eq!(name("utc").as_deref(), Some("UTC"));
        assert_eq!(name("etc/zulu").as_deref(), Some("Etc/Zulu"));
        assert_eq!(name("+02:00"), None);
        assert_eq!(name(""), None);
        assert_eq!(name("Mars/Olympus"), None);
    }

    /// The generic rules give the same instants as chrono-tz's own, for every zone chrono-tz
    /// knows, around every change of offset in 2026 and in 2011.
    #[cfg(feature = "bundled-tz")]
    #[test]
    fn agrees_with_chrono_tz_everywhere() {
        use chrono::LocalResult;
        let mut checked = 0;
        for tz in chrono_tz::TZ_VARIANTS {
            let name = tz.name();
            for year in [2011, 2026] {
                let mut t = Utc.with_ymd_and_hms(year, 1, 1, 0, 0, 0).unwrap();
                let end = Utc.with_ymd_and_hms(year + 1, 1, 1, 0, 0, 0).unwrap();
                let offset = |t: DateTime<Utc>| {
                    use chrono::Offset;
                    tz.offset_from_utc_datetime(&t.naive_utc())
                        .fix()
                        .local_minus_utc()
                };
                let mut before = offset(t);
                while t < end {
                    t += TimeDelta::hours(1);
                    let after = offset(t);
                    if after == before {
                        continue;
                    }
                    before = after;
                    let around = t.naive_utc() + TimeDelta::seconds(after.into());
                    for minutes in (-26 * 60..=26 * 60).step_by(15) {
                        let local = around + TimeDelta::minutes(minutes);
                        let expected = match tz.from_local_datetime(&local) {
                            LocalResult::Single(t) => Ok(t.with_timezone(&Utc)),
                            LocalResult::Ambiguous(a, b) => {
                                Ok(a.with_timezone(&Utc).min(b.with_timezone(&Utc)))
                            }
                            LocalResult::None => Err(TimeError::Nonexistent(
                                local.format("%Y-%m-%d %H:%M").to_string(),
                                name.to_string(),
                            )),
                        };
                        assert_eq!(
                            resolve_named(&BundledZones, name, local),
                            expected,
                            "{local} in {name}"
                        );
                        checked += 1;
                    }
                }
            }
        }
        assert!(checked > 10_000, "only {checked} wall-clock times checked");
    }
}

/// Without `bundled-tz` and with no database installed, only UTC and offsets are known.
#[cfg(all(test, not(feature = "bundled-tz")))]
mod no_database_tests {
    use super::*;

    #[test]
    fn named_zones_are_unknown() {
        let now = parse_stored("2026-11-22T02:14:00Z").unwrap();
        assert_eq!(
            parse_time("2026-11-22 03:14 Europe/Berlin", "UTC", now).unwrap_err(),
            TimeError::UnknownZone("Europe/Berlin".into())
        );
        assert_eq!(
            parse_time("03:14", "Europe/Berlin", now).unwrap_err(),
            TimeError::UnknownZone("Europe/Berlin".into())
        );
        assert_eq!(
            parse_time("2026-11-22 03:14 +01:00", "Europe/Berlin", now)
                .unwrap()
                .utc,
            "2026-11-22T02:14:00Z"
        );
        assert_eq!(
            parse_time("2026-11-22 02:14 Etc/UTC", "UTC", now)
                .unwrap()
                .zone,
            None
        );
        assert!(!is_known_zone("Europe/Berlin"));
        assert!(is_known_zone("utc"));
        assert_eq!(canonical_zone("etc/utc").as_deref(), Some("Etc/UTC"));
        assert_eq!(
            format_in_zone("2026-11-22T02:14:00Z", "Europe/Berlin"),
            "2026-11-22 02:14 UTC"
        );
    }
}
