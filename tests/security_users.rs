//! The users file and logins: `plantview user add` through the real binary with the password on
//! stdin; `users.json` is 0600, holds argon2id hashes, is git-ignored, and no password or hash
//! reaches `project.json`, the program's output or the log; failed logins are rate-limited and
//! logins, failures and user changes are in the audit trail.

mod common;

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use plantview::security::{
    FIRST_LOCKOUT, FREE_FAILURES, LoginError, Role, Users, audit_path, users_path,
};

const PROJECT: &str = r#"{
  "format": 1,
  "name": "Users",
  "security": { "login": "required", "lock_after_s": 600 },
  "tags": [ { "name": "T", "topic": "t" } ]
}
"#;

/// Run `plantview user ...` with `stdin` piped in; (success, stdout + stderr).
fn plantview_user(args: &[&str], stdin: &str) -> (bool, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_plantview"))
        .arg("user")
        .args(args)
        .env("RUST_LOG", "trace")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run plantview");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    let out = child.wait_with_output().expect("wait");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn hashes(dir: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(users_path(dir)).expect("users.json");
    let v: serde_json::Value = serde_json::from_str(&text).expect("json");
    v["users"]
        .as_array()
        .expect("users")
        .iter()
        .map(|u| u["hash"].as_str().expect("hash").to_owned())
        .collect()
}

#[test]
fn user_add_via_the_binary_writes_a_private_git_ignored_argon2id_file() {
    let dir = tempfile::tempdir().expect("tmp");
    common::write_project(dir.path(), PROJECT, &[]);
    let project_dir = dir.path().to_str().expect("utf-8 path");
    let before = std::fs::read_to_string(dir.path().join("project.json")).expect("read");

    let (ok, out) = plantview_user(
        &["add", project_dir, "ada", "--role", "admin"],
        "correct horse battery\n",
    );
    assert!(ok, "{out}");
    let (ok, out2) = plantview_user(
        &["add", project_dir, "otto", "--role", "operator"],
        "operator-secret-1\n",
    );
    assert!(ok, "{out2}");
    let (ok, short) = plantview_user(&["add", project_dir, "x", "--role", "viewer"], "short\n");
    assert!(!ok && short.contains("at least 8"), "{short}");
    let (ok, dup) = plantview_user(
        &["add", project_dir, "otto", "--role", "viewer"],
        "another-password\n",
    );
    assert!(!ok && dup.contains("already exists"), "{dup}");
    let (ok, out3) = plantview_user(&["role", project_dir, "otto", "engineer"], "");
    assert!(ok, "{out3}");
    let (ok, last) = plantview_user(&["remove", project_dir, "ada"], "");
    assert!(!ok && last.contains("last admin"), "{last}");
    let (ok, list) = plantview_user(&["list", project_dir], "");
    assert!(
        ok && list.contains("ada\tadmin") && list.contains("otto\tengineer"),
        "{list}"
    );

    // 0600, argon2id, beside the project and git-ignored.
    let path = users_path(dir.path());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "users.json mode {mode:o}");
    }
    let hashes = hashes(dir.path());
    assert_eq!(hashes.len(), 2);
    assert!(
        hashes.iter().all(|h| h.starts_with("$argon2id$")),
        "{hashes:?}"
    );
    let ignore = std::fs::read_to_string(dir.path().join(".gitignore")).expect(".gitignore");
    assert!(
        ignore.lines().any(|l| l.trim() == "/users.json"),
        "{ignore}"
    );

    // No secret anywhere else: project.json unchanged, output and trace log clean.
    let after = std::fs::read_to_string(dir.path().join("project.json")).expect("read");
    assert_eq!(before, after, "project.json untouched");
    let users_text = std::fs::read_to_string(&path).expect("users.json");
    assert!(
        !users_text.contains("correct horse"),
        "no plain password stored"
    );
    for text in [&out, &out2, &out3, &list, &after] {
        assert!(!text.contains("correct horse battery"), "{text}");
        assert!(!text.contains("operator-secret-1"), "{text}");
        for h in &hashes {
            assert!(!text.contains(h.as_str()), "hash leaked: {text}");
        }
        assert!(!text.contains("$argon2"), "hash leaked: {text}");
    }

    // The binary's users log in; the changes are in the audit trail under the OS user.
    let users = Users::load(dir.path()).expect("load");
    assert!(!users.needs_first_admin());
    let s = users
        .verify("otto", "operator-secret-1")
        .expect("otto logs in");
    assert_eq!(s.role, Role::Engineer);
    let log =
        plantview::security::AuditLog::open(&audit_path(&dir.path().join("data"))).expect("audit");
    let rows = log.recent(None, 50).expect("rows");
    let actions: Vec<&str> = rows.iter().map(|r| r.action.as_str()).collect();
    assert_eq!(actions, ["user_role", "user_add", "user_add"], "{rows:?}");
    assert!(
        rows.iter()
            .all(|r| r.user == plantview::security::operator_name())
    );
    assert_eq!(rows[0].tag, "otto");
    assert!(rows[0].detail.contains("from operator to engineer"));
    // A project still loads and checks with a users file beside it.
    plantview::project::load(dir.path()).expect("project loads");
}

/// A tracing writer into a shared buffer.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn failed_logins_are_rate_limited_audited_and_never_logged_with_secrets() {
    let dir = tempfile::tempdir().expect("tmp");
    common::write_project(dir.path(), PROJECT, &[]);
    let data = dir.path().join("data");
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let password = "s3cret-password";
    tracing::subscriber::with_default(subscriber, || {
        let mut users = Users::load(dir.path()).expect("no file yet");
        assert!(users.needs_first_admin());
        users.add("ada", Role::Admin, password).expect("add");
        users
            .add("vera", Role::Viewer, "viewer-password")
            .expect("add");
        users.save().expect("save");
        tracing::info!(?users, "users (Debug must not show hashes)");

        let ok = users.login(&data, "ada", password).expect("login");
        assert_eq!(ok.role, Role::Admin);
        plantview::security::record_logout(&data, &ok, "logout").expect("logout");

        // FREE_FAILURES wrong passwords lock the user out, even for the right password.
        for _ in 0..FREE_FAILURES {
            assert_eq!(
                users.login(&data, "ada", "wrong-password"),
                Err(LoginError::Invalid)
            );
        }
        let locked_at = Instant::now();
        match users.login(&data, "ada", password) {
            Err(LoginError::TooManyAttempts { retry_after, .. }) => {
                assert!(retry_after <= FIRST_LOCKOUT, "{retry_after:?}");
            }
            other => panic!("expected a lockout, got {other:?}"),
        }
        // Other users are not affected; unknown users fail like a wrong password.
        assert!(users.verify("vera", "viewer-password").is_ok());
        assert_eq!(
            users.verify("mallory", "whatever-pass"),
            Err(LoginError::Invalid)
        );
        // After the lockout the right password works; one more failure then locks longer.
        std::thread::sleep(
            FIRST_LOCKOUT.saturating_sub(locked_at.elapsed()) + Duration::from_millis(50),
        );
        assert!(users.login(&data, "ada", password).is_ok(), "lockout over");
        for _ in 0..FREE_FAILURES {
            let _ = users.verify("ada", "wrong-password");
        }
        // Attempts while locked out are not even checked; the next failure after it doubles.
        std::thread::sleep(FIRST_LOCKOUT + Duration::from_millis(50));
        let _ = users.verify("ada", "wrong-password");
        match users.verify("ada", password) {
            Err(LoginError::TooManyAttempts { retry_after, .. }) => {
                assert!(retry_after > FIRST_LOCKOUT, "doubles: {retry_after:?}");
            }
            other => panic!("expected a longer lockout, got {other:?}"),
        }
    });

    let log = String::from_utf8(captured.0.lock().clone()).expect("utf-8 log");
    assert!(log.contains("ada"), "the log was captured: {log}");
    assert!(!log.contains(password), "{log}");
    assert!(!log.contains("$argon2"), "{log}");
    for h in hashes(dir.path()) {
        assert!(!log.contains(&h), "{log}");
    }

    let rows = plantview::security::AuditLog::open(&audit_path(&data))
        .expect("audit")
        .recent(None, 50)
        .expect("rows");
    let mut seen: Vec<(String, String)> = rows
        .iter()
        .rev()
        .map(|r| (r.action.clone(), r.result.clone()))
        .collect();
    seen.dedup();
    let expect: Vec<(String, String)> = [
        ("login", "ok"),
        ("logout", "ok"),
        ("login", "failed"),
        ("login", "locked"),
        ("login", "ok"),
    ]
    .iter()
    .map(|(a, r)| ((*a).to_owned(), (*r).to_owned()))
    .collect();
    assert_eq!(seen, expect);
    assert!(rows.iter().all(|r| r.user == "ada"));
    assert!(rows.iter().all(|r| !r.detail.contains(password)));
}
