//! The credential commands, `easel access-key create` and `easel token create`,
//! run against a database directory of their own.

use std::path::Path;
use std::process::Command;

use crate::helpers::{json, run, stderr, EASEL, PROJECT};

fn store_args(dir: &Path, master_key: &str) -> Vec<String> {
    vec![
        "--database".into(),
        format!("sqlite://{}/easel.db", dir.display()),
        "--master-key-file".into(),
        dir.join(master_key).display().to_string(),
    ]
}

fn create_access_key(dir: &Path, master_key: &str) -> std::process::Output {
    run(Command::new(EASEL).args(["access-key", "create", "--project-id", PROJECT]).args(store_args(dir, master_key)))
}

#[test]
fn access_key_create_prints_json() {
    let dir = tempfile::tempdir().unwrap();

    let output = create_access_key(dir.path(), "master.key");

    assert!(output.status.success(), "{}", stderr(&output));
    let key = json(&output);
    assert_eq!(key["project_id"], PROJECT);
    assert_eq!(key["access"].as_str().unwrap().len(), 20);
    assert_eq!(key["secret"].as_str().unwrap().len(), 40);
}

#[test]
fn other_master_key_is_rejected_once_keys_exist() {
    let dir = tempfile::tempdir().unwrap();
    assert!(create_access_key(dir.path(), "master.key").status.success());
    std::fs::write(dir.path().join("other.key"), "ab".repeat(32)).unwrap();

    let missing = create_access_key(dir.path(), "absent.key");
    let wrong = create_access_key(dir.path(), "other.key");

    assert_eq!(missing.status.code(), Some(1));
    assert!(stderr(&missing).contains("absent.key does not exist"), "{}", stderr(&missing));
    assert!(!dir.path().join("absent.key").exists(), "a new master key file was created");
    assert_eq!(wrong.status.code(), Some(1));
    assert!(stderr(&wrong).contains("does not decrypt the stored access keys"), "{}", stderr(&wrong));
}

#[test]
fn serve_refuses_other_master_key() {
    let dir = tempfile::tempdir().unwrap();
    assert!(create_access_key(dir.path(), "master.key").status.success());

    let output = run(Command::new(EASEL)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .args(store_args(dir.path(), "absent.key")));

    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("--master-key-file"), "{}", stderr(&output));
}

#[test]
fn token_create_rejects_zero_lifetime() {
    let dir = tempfile::tempdir().unwrap();

    let output = run(Command::new(EASEL)
        .args(["token", "create", "--project-id", PROJECT, "--ttl", "0s"])
        .args(store_args(dir.path(), "master.key")));

    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("longer than zero"), "{}", stderr(&output));
}

#[cfg(unix)]
#[test]
fn database_and_master_key_are_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();

    assert!(create_access_key(dir.path(), "master.key").status.success());

    for file in ["easel.db", "master.key"] {
        let mode = std::fs::metadata(dir.path().join(file)).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{file}");
    }
}
