//! How big and how slow each export is for a big incident: 5,000 timeline events and 2,000
//! indicators (all in the report, a note on every tenth indicator). Prints one line a format:
//! its size and the minimum / median / maximum time of 7 runs.
//!
//!     cargo run --release -p incident --example export_bench

use std::time::{Duration, Instant};

use incident::export::{
    import_timeline_csv, incident_file, indicators_csv, misp_event, report, stix_bundle,
    timeline_csv, to_markdown, Audience, ReportKind,
};
use incident::{Incident, IndicatorField, KillChainPhase, ProseSection, TimelineEvent, Tlp};

const EVENTS: usize = 5_000;
const INDICATORS: usize = 2_000;
const RUNS: usize = 7;

fn big_incident() -> Incident {
    let incident = Incident::create("Big incident", "2026-11-01T00:00:00Z");
    incident.set_display_zone("Europe/Berlin");
    incident.edit_section(ProseSection::Summary, &"Summary sentence. ".repeat(40));
    let mut ids = Vec::new();
    for n in 0..INDICATORS {
        let value = format!("10.{}.{}.{}", n / 65536, (n / 256) % 256, n % 256);
        let id = incident
            .add_indicator(&value, None, "Bench", "2026-11-01T01:00:00Z")
            .expect("distinct values");
        if n % 10 == 0 {
            incident.set_indicator_field(&id, IndicatorField::Note, "seen beaconing every 60 s");
        }
        ids.push(id);
    }
    for n in 0..EVENTS {
        let minute = n % 60;
        let hour = (n / 60) % 24;
        let day = 1 + (n / 1440) % 28;
        incident.add_timeline_event(
            &format!("ev{n:05}"),
            &TimelineEvent {
                occurred_at: format!("2026-11-{day:02}T{hour:02}:{minute:02}:00Z"),
                what: format!(
                    "Event {n}: process tree on host-{} spawned powershell",
                    n % 300
                ),
                source: "EDR".to_string(),
                phase: Some(KillChainPhase::ALL[n % 7]),
                indicators: vec![ids[n % INDICATORS].clone()],
                author: "Bench".to_string(),
                include_in_report: true,
                ..Default::default()
            },
        );
    }
    incident
}

fn time(label: &str, unit: &str, mut f: impl FnMut() -> usize) {
    let mut times: Vec<Duration> = Vec::new();
    let mut size = 0;
    for _ in 0..RUNS {
        let start = Instant::now();
        size = f();
        times.push(start.elapsed());
    }
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{label:<26} {:>10} {unit:<6} min {:>8.1} ms   median {:>8.1} ms   max {:>8.1} ms",
        size,
        ms(times[0]),
        ms(times[RUNS / 2]),
        ms(times[RUNS - 1])
    );
}

fn main() {
    let started = Instant::now();
    let incident = big_incident();
    println!(
        "incident: {EVENTS} events, {INDICATORS} indicators, state {} bytes, built in {:.1} s",
        incident.encode_state().len(),
        started.elapsed().as_secs_f64()
    );
    let audience = Audience {
        incident_id: "bench",
        tlp: Tlp::Amber,
        now: "2026-11-30T12:00:00Z",
    };
    time("report (Markdown)", "bytes", || {
        to_markdown(&report(&incident, &audience, ReportKind::Full)).len()
    });
    time("executive summary (MD)", "bytes", || {
        to_markdown(&report(&incident, &audience, ReportKind::Executive)).len()
    });
    time("STIX 2.1 bundle", "bytes", || {
        stix_bundle(&incident, &audience).len()
    });
    time("MISP event", "bytes", || {
        misp_event(&incident, &audience).len()
    });
    time("indicators CSV", "bytes", || {
        indicators_csv(&incident, &audience).len()
    });
    let red = Audience {
        tlp: Tlp::Red,
        ..audience.clone()
    };
    time("incident file", "bytes", || {
        incident_file(&incident, &red)
            .expect("for RED readers")
            .len()
    });
    let csv = timeline_csv(&incident, &audience);
    time("timeline CSV", "bytes", || {
        timeline_csv(&incident, &audience).len()
    });
    time("timeline CSV import", "rows", || {
        let copy = Incident::create("Copy", "2026-11-30T12:00:00Z");
        let mut n = 0;
        let result = import_timeline_csv(&copy, &csv, "Bench", "2026-11-30T12:00:00Z", || {
            n += 1;
            format!("new{n}")
        })
        .expect("our own file reads back");
        assert!(result.rejected.is_empty());
        result.added
    });
}
