//! The stops of a slider over the record: the times a person can move the incident to. One
//! stop per second that has records while that keeps them few enough to pick from, else one
//! per minute, ten minutes, hour or day that has records (the finest that fits), so an
//! incident of 5,000 records still gives a slider whose every stop can be reached. A stop's
//! time is just after its last record (the next whole second), so the state there holds
//! every record of the stop and a time typed to the second names it exactly.

use crate::when;

/// What the slider needs of one record: its receive time and who sent it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordMark {
    pub seq: u64,
    /// When the relay received it (ms since the Unix epoch).
    pub received_at_ms: i64,
    /// The sending invite's name; `None` for records no invite sent (an incident's content
    /// from before the record existed).
    pub by: Option<String>,
}

/// How wide one stop is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Grain {
    Second,
    Minute,
    TenMinutes,
    Hour,
    Day,
}

impl Grain {
    const ALL: [Grain; 5] = [
        Grain::Second,
        Grain::Minute,
        Grain::TenMinutes,
        Grain::Hour,
        Grain::Day,
    ];

    fn ms(self) -> i64 {
        match self {
            Grain::Second => 1_000,
            Grain::Minute => 60_000,
            Grain::TenMinutes => 600_000,
            Grain::Hour => 3_600_000,
            Grain::Day => 86_400_000,
        }
    }
}

/// One place the slider can be.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stop {
    /// The time to ask the past state at: the stop's last record's time, rounded up to the
    /// whole second.
    pub at_ms: i64,
    /// Who sent its records, each once, in the order they came.
    pub by: Vec<String>,
    /// How many records it holds.
    pub records: usize,
}

impl Stop {
    /// "2026-11-30 03:12:05 UTC — Ana" (the time in `zone`; the seconds only for stops of
    /// a second), "— Ana, Bo (14 changes)" when it holds several records.
    pub fn describe(&self, zone: &str, grain: Grain) -> String {
        let time = shown_time(self.at_ms, zone, grain == Grain::Second);
        let mut names: Vec<&str> = self.by.iter().map(String::as_str).take(3).collect();
        if names.is_empty() {
            names.push("no name");
        }
        let mut who = names.join(", ");
        if self.by.len() > 3 {
            who.push_str(&format!(" and {} more", self.by.len() - 3));
        }
        if self.records > 1 {
            who.push_str(&format!(" ({} changes)", self.records));
        }
        format!("{time} — {who}")
    }
}

/// `ms` in `zone` as the page shows times, to the minute or to the second:
/// "2026-11-30 03:12:05 UTC".
pub fn shown_time(ms: i64, zone: &str, seconds: bool) -> String {
    let utc = utc_of(ms);
    let shown = when::format_in_zone(&utc, zone);
    let second = (ms.div_euclid(1000)).rem_euclid(60);
    match shown.get(..16) {
        Some(minute) if seconds && shown.is_char_boundary(16) => {
            format!("{minute}:{second:02}{}", &shown[16..])
        }
        _ => shown,
    }
}

/// `ms` as the time field reads it back in `zone` (the field's zone, so none is written):
/// "2026-11-30 03:12:05".
pub fn typed_time(ms: i64, zone: &str) -> String {
    let shown = shown_time(ms, zone, true);
    shown.get(..19).unwrap_or(&shown).to_string()
}

/// The stored form (RFC 3339 UTC, whole seconds) of `ms`.
pub fn utc_of(ms: i64) -> String {
    when::utc_from_unix_seconds(ms.div_euclid(1000))
}

/// The slider's stops over `records` (in any order), at most `max` of them (at least 2 are
/// allowed), and their grain. Past a day's grain the days are thinned evenly, the last kept.
pub fn stops(records: &[RecordMark], max: usize) -> (Grain, Vec<Stop>) {
    let max = max.max(2);
    let mut sorted: Vec<&RecordMark> = records.iter().collect();
    crate::sort::sort_by_key(&mut sorted, |r| (r.received_at_ms, r.seq));
    for grain in Grain::ALL {
        let stops = group(&sorted, grain);
        if stops.len() <= max || grain == Grain::Day {
            return (grain, thin(stops, max));
        }
    }
    unreachable!("the day grain always returns")
}

fn group(sorted: &[&RecordMark], grain: Grain) -> Vec<Stop> {
    let mut out: Vec<(i64, Stop)> = Vec::new();
    for record in sorted {
        // A record at 03:12:05.200 belongs to the second ending 03:12:06.
        let bucket = record.received_at_ms.div_euclid(grain.ms());
        let at_ms = (record.received_at_ms + 999).div_euclid(1000) * 1000;
        let name = record.by.clone();
        match out.last_mut() {
            Some((b, stop)) if *b == bucket => {
                stop.at_ms = stop.at_ms.max(at_ms);
                stop.records += 1;
                if let Some(name) = name {
                    if !stop.by.contains(&name) {
                        stop.by.push(name);
                    }
                }
            }
            _ => out.push((
                bucket,
                Stop {
                    at_ms,
                    by: name.into_iter().collect(),
                    records: 1,
                },
            )),
        }
    }
    // Rounding up can carry a stop's time into the next one's second; keep them apart.
    let mut stops: Vec<Stop> = Vec::with_capacity(out.len());
    for (_, stop) in out {
        match stops.last_mut() {
            Some(last) if last.at_ms >= stop.at_ms => {
                last.records += stop.records;
                for name in stop.by {
                    if !last.by.contains(&name) {
                        last.by.push(name);
                    }
                }
            }
            _ => stops.push(stop),
        }
    }
    stops
}

/// At most `max` stops: every k-th one merged into the one after it, the last kept.
fn thin(stops: Vec<Stop>, max: usize) -> Vec<Stop> {
    if stops.len() <= max {
        return stops;
    }
    let per = stops.len().div_ceil(max);
    let mut out: Vec<Stop> = Vec::with_capacity(max);
    let mut pending: Option<Stop> = None;
    for (i, stop) in stops.into_iter().enumerate() {
        let merged = match pending.take() {
            None => stop,
            Some(mut acc) => {
                acc.at_ms = stop.at_ms;
                acc.records += stop.records;
                for name in stop.by {
                    if !acc.by.contains(&name) {
                        acc.by.push(name);
                    }
                }
                acc
            }
        };
        if (i + 1) % per == 0 {
            out.push(merged);
        } else {
            pending = Some(merged);
        }
    }
    out.extend(pending);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_764_470_000_000; // 2025-11-30 02:33:20 UTC

    fn mark(seq: u64, ms: i64, by: &str) -> RecordMark {
        RecordMark {
            seq,
            received_at_ms: ms,
            by: (!by.is_empty()).then(|| by.to_string()),
        }
    }

    #[test]
    fn few_records_give_a_stop_a_second_each_just_after_its_records() {
        let records = [
            mark(1, T0 + 200, ""),
            mark(2, T0 + 700, "Ana"),
            mark(3, T0 + 5_000, "Bo"),
            mark(4, T0 + 65_400, "Ana"),
        ];
        let (grain, stops) = stops(&records, 500);
        assert_eq!(grain, Grain::Second);
        let at: Vec<i64> = stops.iter().map(|s| s.at_ms - T0).collect();
        assert_eq!(at, [1_000, 5_000, 66_000]);
        assert_eq!(stops[0].by, ["Ana"]);
        assert_eq!(stops[0].records, 2);
        assert_eq!(
            stops[0].describe("UTC", grain),
            "2025-11-30 02:33:21 UTC — Ana (2 changes)"
        );
        assert_eq!(
            stops[2].describe("UTC", grain),
            "2025-11-30 02:34:26 UTC — Ana"
        );
        assert_eq!(
            self::stops(&[mark(1, T0, "")], 10).1[0].describe("UTC", Grain::Second),
            "2025-11-30 02:33:20 UTC — no name"
        );
    }

    #[test]
    fn a_stop_holds_every_record_up_to_its_time_and_none_after() {
        // Records on both sides of whole seconds; the state at a stop's time must take every
        // record of it and up to it, and none of the next stop's.
        let records: Vec<RecordMark> = (0..50)
            .map(|i| mark(i + 1, T0 + i as i64 * 333, "Ana"))
            .collect();
        let (_, stops) = stops(&records, 500);
        let mut taken = 0;
        for stop in &stops {
            let upto = records
                .iter()
                .filter(|r| r.received_at_ms <= stop.at_ms)
                .count();
            assert_eq!(upto, taken + stop.records);
            taken = upto;
        }
        assert_eq!(taken, records.len());
    }

    #[test]
    fn many_records_take_the_finest_grain_that_fits() {
        // 5,000 records, one every 7 s over nearly ten hours.
        let records: Vec<RecordMark> = (0..5_000)
            .map(|i| {
                mark(
                    i + 1,
                    T0 + i as i64 * 7_000,
                    if i % 2 == 0 { "Ana" } else { "Bo" },
                )
            })
            .collect();
        let (grain, stops) = stops(&records, 1_000);
        assert_eq!(grain, Grain::Minute);
        assert!(stops.len() <= 1_000 && stops.len() > 500, "{}", stops.len());
        assert_eq!(stops.iter().map(|s| s.records).sum::<usize>(), 5_000);
        assert_eq!(stops[0].by, ["Ana", "Bo"]);
        assert_eq!(stops.last().unwrap().at_ms, T0 + 4_999 * 7_000);
        let (grain, few) = self::stops(&records, 20);
        assert_eq!(grain, Grain::Hour);
        assert!(few.len() <= 20);
    }

    #[test]
    fn years_of_records_are_thinned_to_the_bound_keeping_the_last() {
        let day = Grain::Day.ms();
        let records: Vec<RecordMark> = (0..1_000)
            .map(|i| mark(i + 1, T0 + i as i64 * day, "Ana"))
            .collect();
        let (grain, stops) = stops(&records, 300);
        assert_eq!(grain, Grain::Day);
        assert!(stops.len() <= 300, "{}", stops.len());
        assert_eq!(stops.last().unwrap().at_ms, T0 + 999 * day);
        assert_eq!(stops.iter().map(|s| s.records).sum::<usize>(), 1_000);
        assert!(self::stops(&[], 10).1.is_empty());
    }

    #[test]
    fn the_typed_form_reads_back_as_the_same_time() {
        let ms = T0 + 5_000;
        let typed = typed_time(ms, "UTC");
        assert_eq!(typed, "2025-11-30 02:33:25");
        let now = when::parse_stored("2026-01-01T00:00:00Z").unwrap();
        let back = when::parse_time(&typed, "UTC", now).unwrap();
        assert_eq!(back.utc, utc_of(ms));
        assert_eq!(shown_time(ms, "UTC", false), "2025-11-30 02:33 UTC");
    }
}
