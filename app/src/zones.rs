//! Named time zones from the browser's own IANA database (`Intl.DateTimeFormat`), so the app
//! ships no zone data: the `incident` crate is built without its `bundled-tz` feature and
//! [`install`] hands it [`IntlZones`] at startup.
//!
//! A zone's offset at an instant is read by formatting the instant in that zone
//! (`formatToParts`) and subtracting the instant from the wall-clock time shown. Its
//! abbreviation is the `timeZoneName: "short"` part — but each English locale knows letters
//! only for its own region's zones (en-US: `EST`, `GMT+1` for Berlin; en-GB: `CET`, `GMT-5` for
//! New York), so each zone gets the first of [`LOCALES`] that names it with letters both in
//! January and in July; zones no locale names that way (Asia/Tokyo) are shown with their offset.
//!
//! `DateTimeFormat` objects are costly to create, so one is kept per zone for the life of the
//! page (a `thread_local!`: wasm32 has one thread, and the database itself holds nothing).

use std::cell::RefCell;
use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use incident::when::{install_zone_database, ZoneDatabase};
use js_sys::{Array, Object, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

#[wasm_bindgen]
extern "C" {
    /// `Intl.DateTimeFormat`, with a constructor that reports the `RangeError` an unknown
    /// `timeZone` raises instead of throwing through Rust.
    #[wasm_bindgen(js_namespace = Intl, js_name = DateTimeFormat)]
    type Formatter;

    #[wasm_bindgen(catch, constructor, js_namespace = Intl, js_class = "DateTimeFormat")]
    fn new(locale: &str, options: &Object) -> Result<Formatter, JsValue>;

    /// `formatToParts(epochMilliseconds)`; a `RangeError` for an instant out of `Date`'s range.
    #[wasm_bindgen(catch, method, js_class = "DateTimeFormat", js_name = formatToParts)]
    fn format_to_parts(this: &Formatter, epoch_ms: f64) -> Result<Array, JsValue>;

    #[wasm_bindgen(method, js_class = "DateTimeFormat", js_name = resolvedOptions)]
    fn resolved_options(this: &Formatter) -> Resolved;

    type Resolved;

    #[wasm_bindgen(method, getter, js_name = timeZone)]
    fn time_zone(this: &Resolved) -> String;

    /// One `{ type, value }` of `formatToParts`.
    type Part;

    #[wasm_bindgen(method, getter, js_name = type)]
    fn kind(this: &Part) -> String;

    #[wasm_bindgen(method, getter)]
    fn value(this: &Part) -> String;
}

/// Locales tried, in order, for a zone's letter abbreviation.
const LOCALES: &[&str] = &[
    "en-US", "en-GB", "en-CA", "en-AU", "en-IN", "en-IE", "en-ZA", "en-NZ",
];

/// `Date` covers ±8.64e15 ms around 1970.
const MAX_EPOCH_MS: f64 = 8.64e15;

/// The only IANA zone names of three letters. Browsers accept more (ICU keeps old Java ids
/// like `PST` and `IST`), but those are abbreviations that mean different zones to different
/// people, so they are refused, as chrono-tz does.
const IANA_THREE_LETTER: &[&str] = &[
    "CET", "EET", "EST", "GMT", "HST", "MET", "MST", "PRC", "ROC", "ROK", "UCT", "UTC", "WET",
];

thread_local! {
    /// Canonical name by name as asked (lowercase); `None` for names the browser refused.
    static NAMES: RefCell<HashMap<String, Option<String>>> = RefCell::new(HashMap::new());
    /// The formatter used for each zone (by canonical name); `None` if it cannot be made.
    static FORMATTERS: RefCell<HashMap<String, Option<Formatter>>> = RefCell::new(HashMap::new());
}

/// Makes the browser's zone database the one `incident::when` uses. Call once, before any
/// time is read or shown.
pub fn install() {
    install_zone_database(Box::new(IntlZones));
}

/// The browser's IANA zone database, through `Intl.DateTimeFormat`.
pub struct IntlZones;

impl ZoneDatabase for IntlZones {
    fn canonical_name(&self, name: &str) -> Option<String> {
        let name = name.trim().replace(' ', "_");
        if !looks_like_iana_name(&name) {
            return None;
        }
        let key = name.to_ascii_lowercase();
        if let Some(known) = NAMES.with_borrow(|names| names.get(&key).cloned()) {
            return known;
        }
        let canonical = formatter("en-US", &name, false)
            .map(|f| f.resolved_options().time_zone())
            .filter(|c| looks_like_iana_name(c));
        NAMES.with_borrow_mut(|names| names.insert(key, canonical.clone()));
        canonical
    }

    fn offset_at(&self, name: &str, utc: DateTime<Utc>) -> Option<(i32, Option<String>)> {
        let epoch_seconds = utc.timestamp();
        let epoch_ms = epoch_seconds as f64 * 1000.0;
        if epoch_ms.abs() > MAX_EPOCH_MS {
            return None;
        }
        if let Some(found) = FORMATTERS.with_borrow(|all| {
            all.get(name)
                .map(|f| f.as_ref().and_then(|f| wall_clock(f, epoch_ms)))
        }) {
            return found.and_then(|w| w.offset_from(epoch_seconds));
        }
        let chosen = choose_formatter(name);
        let found = chosen.as_ref().and_then(|f| wall_clock(f, epoch_ms));
        FORMATTERS.with_borrow_mut(|all| all.insert(name.to_string(), chosen));
        found.and_then(|w| w.offset_from(epoch_seconds))
    }
}

/// IANA names start with a letter and hold only letters, digits, `/`, `_`, `-` and `+`. This
/// also keeps out offsets (`+02:00`), which browsers now take as zones too.
fn looks_like_iana_name(name: &str) -> bool {
    let shaped = name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '-' | '+'));
    let abbreviation = name.len() == 3
        && !IANA_THREE_LETTER
            .iter()
            .any(|n| n.eq_ignore_ascii_case(name));
    let legacy = name.to_ascii_lowercase().starts_with("systemv/");
    shaped && !abbreviation && !legacy
}

/// An `Intl.DateTimeFormat` for zone `zone` in `locale`; with `fields`, it shows every
/// wall-clock field (Gregorian, Latin digits, 00–23 hours) and the short zone name. `None`
/// if the browser does not know the zone.
fn formatter(locale: &str, zone: &str, fields: bool) -> Option<Formatter> {
    let options = Object::new();
    let set = |key: &str, value: &str| {
        // Setting a property on a fresh plain object cannot fail.
        let _ = Reflect::set(&options, &key.into(), &value.into());
    };
    set("timeZone", zone);
    if fields {
        set("calendar", "gregory");
        set("numberingSystem", "latn");
        set("hourCycle", "h23");
        set("era", "short");
        for key in ["year", "month", "day", "hour", "minute", "second"] {
            set(key, "numeric");
        }
        set("timeZoneName", "short");
    }
    Formatter::new(locale, &options).ok()
}

/// For zone `name`, the formatter in the first of [`LOCALES`] whose short names for the zone
/// are letters in both January and July, else in the first locale.
fn choose_formatter(name: &str) -> Option<Formatter> {
    let probes = [1_768_435_200_000.0, 1_784_073_600_000.0]; // 2026-01-15, 2026-07-15
    let mut first = None;
    for locale in LOCALES {
        let Some(f) = formatter(locale, name, true) else {
            break;
        };
        let named = probes
            .iter()
            .all(|&ms| wall_clock(&f, ms).is_some_and(|w| w.abbreviation.is_some()));
        if named {
            return Some(f);
        }
        first.get_or_insert(f);
    }
    first
}

/// What a zone's clock shows at an instant.
struct WallClock {
    /// The wall-clock time read as if it were UTC, in seconds since the epoch.
    as_utc_seconds: i64,
    abbreviation: Option<String>,
}

impl WallClock {
    fn offset_from(self, epoch_seconds: i64) -> Option<(i32, Option<String>)> {
        let offset = i32::try_from(self.as_utc_seconds - epoch_seconds).ok()?;
        (offset.abs() < 86_400).then_some((offset, self.abbreviation))
    }
}

/// Reads the wall-clock fields (and the short zone name) the formatter shows for an instant.
fn wall_clock(f: &Formatter, epoch_ms: f64) -> Option<WallClock> {
    let parts = f.format_to_parts(epoch_ms).ok()?;
    let (mut year, mut month, mut day) = (None, None, None);
    let (mut hour, mut minute, mut second) = (None, None, None);
    let mut before_christ = false;
    let mut abbreviation = None;
    for part in parts.iter() {
        let part: Part = part.unchecked_into();
        let value = part.value();
        let number = || value.parse::<u32>().ok();
        match part.kind().as_str() {
            "year" => year = number(),
            "month" => month = number(),
            "day" => day = number(),
            "hour" => hour = number(),
            "minute" => minute = number(),
            "second" => second = number(),
            "era" => before_christ = value.starts_with('B'),
            "timeZoneName" => {
                abbreviation = Some(value.clone())
                    .filter(|v| !v.is_empty() && v.chars().all(|c| c.is_ascii_alphabetic()))
            }
            _ => {}
        }
    }
    let year = i32::try_from(year?).ok()?;
    let year = if before_christ { 1 - year } else { year };
    let wall =
        NaiveDate::from_ymd_opt(year, month?, day?)?.and_hms_opt(hour? % 24, minute?, second?)?;
    Some(WallClock {
        as_utc_seconds: wall.and_utc().timestamp(),
        abbreviation,
    })
}
