//! Driving the real app in egui_kittest: step until something shows, type into a field.

use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;

/// Step the harness until `found` says yes; panic with `what` after 10 s.
pub fn step_until<S>(
    harness: &mut Harness<'_, S>,
    what: &str,
    mut found: impl FnMut(&mut Harness<'_, S>) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        harness.step();
        if found(harness) {
            return;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Focus the field labelled `label` and type `text` at its end.
pub fn type_into<S>(harness: &mut Harness<'_, S>, label: &str, text: &str) {
    harness.get_by_label(label).focus();
    harness.step();
    harness.get_by_label(label).type_text(text);
    harness.step();
}
