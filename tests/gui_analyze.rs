//! `plantview analyze`: a history file opened with no plant attached — the file's tags are
//! listed, a pen added by name loads the last day from the file, and nothing connects anywhere.

mod common;

use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use plantview::gui::analyze::AnalyzeApp;

#[test]
fn analyze_opens_a_history_file_offline_and_draws_a_pen() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("history.sqlite");
    let project = plantview::project::load(&common::demo_project_dir()).expect("demo");
    // A day and a bit of the demo plant, ending a month ago: "last month's history file".
    let end = plantview::engine::now_ms() - 30 * 86_400_000;
    plantview::sim::backfill(&project, &path, 26.0, end, "plant", 3).expect("backfill");

    let app = AnalyzeApp::open(&path).expect("opens");
    let mut harness = Harness::builder()
        .with_size([1400.0, 850.0])
        .build_ui_state(|ui, app: &mut AnalyzeApp| app.ui_root(ui), app);
    harness.step();
    assert!(
        harness
            .query_by_label_contains("not connected to any plant")
            .is_some()
    );
    harness.get_by_label("Search tags").focus();
    harness.step();
    harness.get_by_label("Search tags").type_text("AHU1.Supply");
    harness.step();
    harness.get_by_label("Add pen AHU1.SupplyTemp").click();
    harness.run_steps(2);
    // A second pen dragged from the list onto the plot.
    let from = harness
        .get_by_label("Add pen AHU1.SupplySetpoint")
        .rect()
        .center();
    let to = harness
        .get_by_label("Trend of AHU1.SupplyTemp")
        .rect()
        .center();
    harness.hover_at(from);
    harness.step();
    harness.drag_at(from);
    harness.step();
    for i in 1..=6 {
        harness.hover_at(from + (to - from) * (i as f32 / 6.0));
        harness.step();
    }
    harness.drop_at(to);
    harness.run_steps(2);
    assert_eq!(
        harness.state_mut().page().pens(),
        ["AHU1.SupplyTemp", "AHU1.SupplySetpoint"]
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        harness.step();
        if harness.state_mut().page().loaded_buckets("AHU1.SupplyTemp") > 0 {
            break;
        }
        assert!(Instant::now() < deadline, "history loaded from the file");
        std::thread::sleep(Duration::from_millis(20));
    }
    let page = harness.state_mut().page();
    assert!(
        !page.is_live(),
        "analysis starts on the file's last day, not on now"
    );
    let (from, to) = page.view_at(plantview::engine::now_ms());
    assert!(
        to <= end + 120_000 && to - from >= 23 * 3_600_000,
        "the last day in the file"
    );
}

/// Two tags with known samples: the statistics table and the two cursors agree with a brute
/// force computation over the same samples.
#[test]
fn statistics_table_and_cursors_of_two_pens() {
    use plantview::engine::Quality;
    use plantview::history::{Sample, Stored, insert_batch, open_writer, tag_ids};

    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("history.sqlite");
    let t0: i64 = 1_793_577_600_000; // 2026-11-02T00:00Z
    let min = 60_000;
    let mut conn = open_writer(&path).expect("history");
    let ids = tag_ids(&conn, &[("Line.Flow", "m³/h"), ("Line.Temp", "°C")]).expect("ids");
    // Flow: 0, 1, … 59 once a minute; temp: 20 for 40 minutes then 50 for 20 minutes.
    let flow: Vec<(i64, f64)> = (0..60).map(|m| (t0 + m * min, m as f64)).collect();
    let temp = [(t0, 20.0), (t0 + 40 * min, 50.0)];
    let mut batch: Vec<Sample> = flow
        .iter()
        .map(|&(ts, v)| Sample {
            tag: ids[0],
            ts_ms: ts,
            value: Stored::Number(v),
            quality: Quality::Good,
        })
        .collect();
    // The same hour a day earlier, at half the flow (to compare against).
    batch.extend(flow.iter().map(|&(ts, v)| Sample {
        tag: ids[0],
        ts_ms: ts - 86_400_000,
        value: Stored::Number(v / 2.0),
        quality: Quality::Good,
    }));
    batch.extend(temp.iter().map(|&(ts, v)| Sample {
        tag: ids[1],
        ts_ms: ts,
        value: Stored::Number(v),
        quality: Quality::Good,
    }));
    insert_batch(&mut conn, &batch).expect("insert");
    drop(conn);

    let app = AnalyzeApp::open(&path).expect("opens");
    let mut h = Harness::builder()
        .with_size([1400.0, 900.0])
        .build_ui_state(|ui, app: &mut AnalyzeApp| app.ui_root(ui), app);
    h.step();
    // The tag list shows each tag's span and sample count (no scan of the samples).
    let deadline = Instant::now() + Duration::from_secs(10);
    while h.query_by_label_contains("· ≈120").is_none() {
        assert!(Instant::now() < deadline, "tag notes");
        h.step();
        std::thread::sleep(Duration::from_millis(20));
    }
    let first = plantview::gui::format::local_datetime(t0 - 86_400_000);
    assert!(
        h.query_by_label_contains(first.get(..16).expect("date"))
            .is_some(),
        "the span starts at the first sample"
    );
    // A custom range typed in: refused the wrong way round, shown when right.
    h.get_by_label("Range…").click();
    h.run_steps(2);
    let set = |h: &mut Harness<'_, AnalyzeApp>, label: &str, text: &str| {
        h.get_by_label(label).focus();
        h.step();
        h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
        h.step();
        h.get_by_label(label).type_text(text);
        h.step();
    };
    set(&mut h, "From", "2026-11-02T01:00:00Z");
    set(&mut h, "To", "2026-11-02T00:00:00Z");
    h.get_by_label("Show range").click();
    h.run_steps(2);
    assert!(
        h.query_by_label_contains("From must be before To")
            .is_some()
    );
    set(&mut h, "From", "2026-11-02T00:00:00Z");
    set(&mut h, "To", "2026-11-02T01:00:00Z");
    h.get_by_label("Show range").click();
    h.run_steps(2);
    assert_eq!(
        h.state_mut().page().view_at(plantview::engine::now_ms()),
        (t0, t0 + 60 * min)
    );
    for tag in ["Line.Flow", "Line.Temp"] {
        h.get_by_label(&format!("Add pen {tag}")).click();
        h.run_steps(2);
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        h.step();
        if h.state().statistics().is_some_and(|s| s.len() == 2) {
            break;
        }
        assert!(Instant::now() < deadline, "statistics computed");
        std::thread::sleep(Duration::from_millis(20));
    }
    // Brute force over the same samples.
    let n = flow.len() as f64;
    let mean = flow.iter().map(|f| f.1).sum::<f64>() / n;
    let sd = (flow.iter().map(|f| (f.1 - mean).powi(2)).sum::<f64>() / n).sqrt();
    let stats = h.state().statistics().expect("stats").to_vec();
    let f = &stats[0].stats;
    assert_eq!((f.count, f.min, f.max), (60, Some(0.0), Some(59.0)));
    assert!((f.mean.expect("mean") - mean).abs() < 1e-9);
    assert!((f.std_dev.expect("sd") - sd).abs() < 1e-9);
    // Each flow value holds one minute; the last holds to the end of the range.
    assert!((f.time_weighted_mean.expect("twavg") - mean).abs() < 1e-9);
    let t = &stats[1].stats;
    // 20 for 40 min, 50 for 20 min: time-weighted 30, arithmetic 35.
    assert!((t.time_weighted_mean.expect("twavg") - 30.0).abs() < 1e-9);
    assert!((t.mean.expect("mean") - 35.0).abs() < 1e-9);
    assert_eq!(t.first, Some((t0, 20.0)));
    assert_eq!(t.last, Some((t0 + 40 * min, 50.0)));
    // The table shows them, found by label.
    h.run_steps(2);
    assert!(
        h.query_by_label_contains("Line.Temp time-weighted mean: 30.00 °C")
            .is_some()
    );
    assert!(h.query_by_label_contains("Line.Flow count: 60").is_some());

    // Cursors A and B: values and Δ per pen.
    h.state_mut()
        .page()
        .set_cursors(Some(t0 + 10 * min), Some(t0 + 45 * min));
    // The values come from the pens' loaded history (a query thread): wait for it.
    let deadline = Instant::now() + Duration::from_secs(10);
    while h
        .query_by_label_contains("Line.Temp delta: 30.0 °C")
        .is_none()
    {
        assert!(Instant::now() < deadline, "Δ of Line.Temp shown");
        h.step();
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        h.query_by_label_contains("Δt 00:35:00").is_some(),
        "Δt shown"
    );

    // Compare with the day before: its lines laid over this range (shifted by a day), dashed.
    h.state_mut().set_compare(86_400_000);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        h.step();
        let overlay = h.state_mut().page().overlay.clone();
        if overlay
            .iter()
            .any(|(name, _, pts)| &**name == "Line.Flow" && !pts.is_empty())
        {
            let pts: Vec<[f64; 2]> = overlay.iter().flat_map(|(_, _, p)| p.clone()).collect();
            let (lo, hi) = (t0 as f64 - 1.0, (t0 + 60 * min) as f64 + 1.0);
            assert!(
                pts.iter().all(|p| p[0] >= lo && p[0] <= hi),
                "shifted onto this hour"
            );
            // Half of this hour's flow: at most 29.5 (the temp pen has no data a day earlier).
            assert!(
                pts.iter().all(|p| p[1] <= 29.5 + 1e-9),
                "the earlier day's values"
            );
            break;
        }
        assert!(Instant::now() < deadline, "compared range loaded");
        std::thread::sleep(Duration::from_millis(20));
    }

    // Export the pens over the visible range from the GUI (on its own thread, with progress):
    // every sample of the range, in time order per tag.
    let out = dir.path().join("pens.csv");
    h.state_mut().export_to(out.clone());
    let deadline = Instant::now() + Duration::from_secs(10);
    let outcome = loop {
        h.step();
        if let Some(o) = h.state().export_outcome() {
            break o;
        }
        assert!(Instant::now() < deadline, "export finished");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(
        outcome.as_ref().is_ok_and(|s| s.contains("62 rows")),
        "{outcome:?}"
    );
    let mut csv = csv::Reader::from_path(&out).expect("csv");
    let rows: Vec<csv::StringRecord> = csv.records().map(|r| r.expect("row")).collect();
    assert_eq!(rows.len(), 62);
    assert_eq!(&rows[0][1], "Line.Flow");
    assert_eq!(rows.iter().filter(|r| &r[1] == "Line.Temp").count(), 2);
}
