//! Project files are untrusted input: an oversized file is refused before it is read, and a
//! deeply nested one gives a clear error (serde_json's recursion limit), never a crash; both
//! name the file.

mod common;

use common::write_project;
use plantview::project::{MAX_FILE_BYTES, load};

const VALID: &str =
    r#"{ "format": 1, "name": "Untrusted", "tags": [ { "name": "T", "topic": "t" } ] }"#;

#[test]
fn oversized_project_and_screen_files_are_refused_naming_the_file() {
    assert_eq!(MAX_FILE_BYTES, 16 * 1024 * 1024);
    let dir = tempfile::tempdir().expect("tmp");
    write_project(dir.path(), VALID, &[]);
    // Sparse files: the size is what counts, nothing is read.
    let screen = dir.path().join("screens/huge.json");
    std::fs::File::create(&screen)
        .and_then(|f| f.set_len(MAX_FILE_BYTES + 1))
        .expect("sparse screen");
    let err = load(dir.path()).expect_err("refused");
    let p = err
        .problems
        .iter()
        .find(|p| p.file == "screens/huge.json")
        .expect("names the screen file");
    assert!(p.message.contains("more than the limit"), "{p}");

    std::fs::remove_file(&screen).expect("rm");
    std::fs::File::options()
        .write(true)
        .open(dir.path().join("project.json"))
        .and_then(|f| f.set_len(MAX_FILE_BYTES + 1))
        .expect("grow project.json");
    let err = load(dir.path()).expect_err("refused");
    assert_eq!(err.problems.len(), 1, "{err}");
    assert_eq!(err.problems[0].file, "project.json");
    assert!(err.to_string().contains("more than the limit"), "{err}");
}

#[test]
fn deeply_nested_files_give_a_clear_error_not_a_crash() {
    // serde_json refuses nesting past 128 levels by default (no stack overflow on any input).
    let nest = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
    assert!(serde_json::from_str::<serde_json::Value>(&nest(127)).is_ok());
    let e = serde_json::from_str::<serde_json::Value>(&nest(129)).expect_err("too deep");
    assert!(e.to_string().contains("recursion limit exceeded"), "{e}");

    let depth = 200_000;
    let dir = tempfile::tempdir().expect("tmp");
    // A whole file that is one deep nest, and a screen with one where a list is expected.
    let screen = format!(
        r#"{{ "format": 1, "title": "Deep", "widgets": {} }}"#,
        nest(depth)
    );
    write_project(dir.path(), &nest(depth), &[("deep", &screen)]);
    let err = load(dir.path()).expect_err("refused");
    for file in ["project.json", "screens/deep.json"] {
        let p = err
            .problems
            .iter()
            .find(|p| p.file == file)
            .unwrap_or_else(|| panic!("names {file}: {err}"));
        assert!(!p.message.is_empty(), "{p}");
    }
}

#[test]
fn check_cli_reports_the_nested_file_and_exits_1() {
    let depth = 100_000;
    let nested = format!("{}{}", "{\"a\":".repeat(depth), "}".repeat(depth));
    let dir = tempfile::tempdir().expect("tmp");
    write_project(
        dir.path(),
        &format!(r#"{{ "format": 1, "name": "N", "tags": [], "x": {nested} }}"#),
        &[],
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_plantview"))
        .arg("check")
        .arg(dir.path())
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("project.json"), "{stdout}");
}
