//! "Due in N min": a next step due within the next minutes, counted from the page's clock.

use incident::{NextStep, StepStatus};

const NOW: &str = "2026-11-30T16:00:00.000Z";

fn due(at: &str) -> NextStep {
    NextStep {
        title: "Reset the CFO's password".into(),
        due: Some(at.into()),
        ..NextStep::default()
    }
}

#[test]
fn minutes_left_are_rounded_up_within_the_window() {
    assert_eq!(due("2026-11-30T16:10:00Z").due_soon(NOW, 15), Some(10));
    assert_eq!(due("2026-11-30T16:09:30Z").due_soon(NOW, 15), Some(10));
    assert_eq!(due("2026-11-30T16:00:20Z").due_soon(NOW, 15), Some(1));
    assert_eq!(due("2026-11-30T16:00:00Z").due_soon(NOW, 15), Some(0));
    assert_eq!(due("2026-11-30T16:15:00Z").due_soon(NOW, 15), Some(15));
}

#[test]
fn late_later_undated_and_done_steps_are_not_due_soon() {
    let late = due("2026-11-30T15:59:59Z");
    assert_eq!(late.due_soon(NOW, 15), None);
    assert!(late.is_overdue(NOW), "late instead");
    assert_eq!(due("2026-11-30T16:15:01Z").due_soon(NOW, 15), None);
    assert_eq!(NextStep::default().due_soon(NOW, 15), None);
    let done = NextStep {
        status: StepStatus::Done,
        ..due("2026-11-30T16:05:00Z")
    };
    assert_eq!(done.due_soon(NOW, 15), None);
    assert_eq!(due("not a time").due_soon(NOW, 15), None);
}
