//! `easel images ...`, `easel groups ...` and `easel completions`: every
//! command in both output formats, paging with `--all`, and the exit codes
//! of API, usage and connection failures.

use std::process::Command;

use serde_json::Value;

use crate::helpers::{json, run, stderr, stdout, Service, EASEL, PROJECT};

/// Registers `team/NAME:TAG` and returns the image.
fn register(service: &Service, reference: &str) -> Value {
    json(&service.easel(&["images", "register", "--swr-path", reference, "--output", "json"]))
}

fn ids(listing: &Value) -> Vec<String> {
    listing["data"]
        .as_array()
        .unwrap_or_else(|| panic!("no data in {listing}"))
        .iter()
        .map(|item| item["id"].as_str().expect("every item has an id").to_owned())
        .collect()
}

#[test]
fn images_register_prints_table_and_json() {
    let service = Service::start();

    let table = service.easel(&[
        "images", "register", "--swr-path", "team/pytorch:2.1.0-cuda12", "--arch", "aarch64", "--description",
        "training base", "--resource-category", "CPU,ASCEND", "--services", "SSH", "--service-type", "train",
        "--visibility", "public", "--tag", "team=ml", "--tag", "stage=dev", "--read-me", "# Base",
    ]);
    let registered = json(&service.easel(&["images", "register", "--swr-path", "team/pytorch:2.2.0-cuda12", "-o", "json"]));

    assert!(table.status.success(), "{}", stderr(&table));
    let text = stdout(&table);
    assert!(text.starts_with("FIELD"), "{text}");
    for expected in ["AARCH64", "training base", "CPU,ASCEND", "SSH", "TRAIN", "PUBLIC", "team=ml,stage=dev", "DEDICATED"] {
        assert!(text.contains(expected), "the table lacks {expected}: {text}");
    }
    assert_eq!(registered["swr_path"], "localhost:5000/team/pytorch:2.2.0-cuda12");
    assert_eq!(registered["status"], "ACTIVE");
    assert_eq!(registered["arch"], "X86_64");
}

#[test]
fn images_show_sync_and_delete_in_both_formats() {
    let service = Service::start();
    let id = register(&service, "team/tensorflow:2.15.0")["id"].as_str().expect("an id").to_owned();

    let shown = json(&service.easel(&["images", "show", &id, "-o", "json"]));
    let shown_table = service.easel(&["images", "show", &id]);
    let synced = json(&service.easel(&["images", "sync", &id, "-o", "json"]));
    let deleted_table = service.easel(&["images", "delete", &id]);
    let after_delete = service.easel(&["images", "show", &id]);

    assert_eq!(shown["id"], id.as_str());
    assert!(stdout(&shown_table).contains(&id), "{}", stdout(&shown_table));
    assert_eq!(synced["id"], id.as_str());
    assert!(deleted_table.status.success(), "{}", stderr(&deleted_table));
    assert!(stdout(&deleted_table).contains("DELETED"), "{}", stdout(&deleted_table));
    assert_eq!(after_delete.status.code(), Some(1));
    assert!(stderr(&after_delete).contains("ModelArts.6797"), "{}", stderr(&after_delete));
}

#[test]
fn images_delete_force_returns_deleted_image() {
    let service = Service::start();
    let id = register(&service, "team/tensorflow:2.16.0")["id"].as_str().expect("an id").to_owned();

    let deleted = json(&service.easel(&["images", "delete", &id, "--force", "-o", "json"]));

    assert_eq!(deleted["status"], "DELETED");
}

#[test]
fn images_list_applies_filters_in_both_formats() {
    let service = Service::start();
    register(&service, "team/pytorch:2.1.0");
    register(&service, "team/pytorch:2.2.0");
    register(&service, "other/jax:0.4.30");

    let listing = json(&service.easel(&[
        "images", "list", "--type", "DEDICATED", "--namespace", "team", "--name", "pytorch", "--name-fuzzy-match",
        "false", "--sort-key", "tag", "--sort-dir", "ASC", "--workspace-id", "0", "--limit", "10", "--offset", "0",
        "-o", "json",
    ]));
    let table = service.easel(&["images", "list", "--type", "dedicated", "--service-type", "unknown"]);

    let tags: Vec<&str> = listing["data"].as_array().expect("data").iter().map(|image| image["tag"].as_str().expect("a tag")).collect();
    assert_eq!(tags, ["2.1.0", "2.2.0"]);
    assert_eq!(listing["total"], 2);
    let text = stdout(&table);
    let header = text.lines().next().expect("the table has a header");
    assert!(header.starts_with("ID"), "{header}");
    assert!(header.contains("NAMESPACE"), "{header}");
    assert!(header.contains("UPDATED"), "{header}");
    assert_eq!(text.lines().count(), 5, "header, three images and the footer: {text}");
    assert!(text.ends_with("3 of 3 images (page 1 of 1)\n"), "{text}");
}

#[test]
fn images_list_show_filters_reach_built_in_images() {
    let service = Service::start();

    let listing = json(&service.easel(&["images", "list", "--type", "BUILD_IN", "--limit", "1", "-o", "json"]));
    let show_name = listing["data"][0]["show_name"].as_str().expect("presets have a show_name").to_owned();
    let filtered = json(&service.easel(&["images", "list", "--show-name", &show_name, "-o", "json"]));

    assert!(filtered["total"].as_u64().expect("a total") >= 1);
    for image in filtered["data"].as_array().expect("data") {
        assert_eq!(image["show_name"], show_name.as_str());
    }
}

#[test]
fn images_list_all_walks_every_page() {
    let service = Service::start();
    for tag in ["1.0", "1.1", "1.2", "1.3", "1.4"] {
        register(&service, &format!("team/walk:{tag}-base"));
    }

    let one_page = json(&service.easel(&["images", "list", "--type", "DEDICATED", "--limit", "1000", "-o", "json"]));
    let walked = json(&service.easel(&["images", "list", "--type", "DEDICATED", "--limit", "2", "--all", "-o", "json"]));
    let walked_table = service.easel(&["images", "list", "--type", "DEDICATED", "--limit", "2", "--all"]);
    let first_page = json(&service.easel(&["images", "list", "--type", "DEDICATED", "--limit", "2", "-o", "json"]));

    assert_eq!(ids(&walked), ids(&one_page));
    assert_eq!(walked["size"], 5);
    assert_eq!(walked["total"], 5);
    assert_eq!(ids(&first_page).len(), 2);
    assert!(stdout(&walked_table).ends_with("5 of 5 images (page 1 of 1)\n"), "{}", stdout(&walked_table));
}

#[test]
fn groups_list_all_walks_every_page() {
    let service = Service::start();
    for name in ["alpha", "beta", "gamma"] {
        register(&service, &format!("team/{name}:1.0.0-base"));
    }

    let one_page = json(&service.easel(&["groups", "list", "-o", "json"]));
    let walked = json(&service.easel(&["groups", "list", "--limit", "4", "--all", "-o", "json"]));

    assert_eq!(ids(&walked), ids(&one_page));
    assert!(walked["total"].as_u64().expect("a total") > 4, "the walk must span pages: {}", walked["total"]);
}

#[test]
fn groups_list_applies_filters_in_both_formats() {
    let service = Service::start();
    register(&service, "team/pytorch:2.1.0");
    register(&service, "team/pytorch:2.2.0");

    let listing = json(&service.easel(&[
        "groups", "list", "--name", "pytorch", "--name-fuzzy-match", "false", "--namespace", "team", "--type",
        "dedicated", "--workspace-id", "0", "--limit", "5", "--offset", "0", "-o", "json",
    ]));
    let by_instance = json(&service.easel(&["groups", "list", "--swr-instance-id", "nothing-here", "-o", "json"]));
    let table = service.easel(&["groups", "list", "--type", "DEDICATED"]);

    assert_eq!(listing["total"], 1);
    assert_eq!(listing["data"][0]["version_count"], 2);
    assert_eq!(by_instance["total"], 0);
    let text = stdout(&table);
    assert!(text.starts_with("ID"), "{text}");
    assert!(text.contains("VERSIONS"), "{text}");
    assert!(text.contains("pytorch"), "{text}");
    assert!(text.ends_with("1 of 1 groups (page 1 of 1)\n"), "{text}");
}

#[test]
fn groups_update_and_delete_in_both_formats() {
    let service = Service::start();
    register(&service, "team/pytorch:2.1.0");
    let listing = json(&service.easel(&["groups", "list", "--type", "DEDICATED", "-o", "json"]));
    let group = listing["data"][0]["id"].as_str().expect("a group id").to_owned();
    let read_me = tempfile::NamedTempFile::new().expect("a temporary file");
    std::fs::write(read_me.path(), "# From a file").expect("the read-me is written");

    let updated = json(&service.easel(&["groups", "update", &group, "--read-me", "# PyTorch", "--tag", "k=v", "-o", "json"]));
    let from_file = service.easel(&["groups", "update", &group, "--read-me-file", &read_me.path().display().to_string()]);
    let nothing = service.easel(&["groups", "update", &group]);
    let deleted = service.easel(&["groups", "delete", &group, "--force"]);
    let gone = json(&service.easel(&["groups", "list", "--type", "DEDICATED", "-o", "json"]));

    assert_eq!(updated["read_me"], "# PyTorch");
    assert!(stdout(&from_file).contains("# From a file"), "{}", stdout(&from_file));
    assert_eq!(nothing.status.code(), Some(2), "{}", stderr(&nothing));
    assert!(deleted.status.success(), "{}", stderr(&deleted));
    assert!(stdout(&deleted).contains(&group), "{}", stdout(&deleted));
    assert_eq!(gone["total"], 0);
}

#[test]
fn token_works_instead_of_access_key() {
    let service = Service::start();
    let token = service.token();

    let output = run(service
        .client()
        .env_remove("HUAWEICLOUD_SDK_AK")
        .env_remove("HUAWEICLOUD_SDK_SK")
        .args(["groups", "list", "--token", &token, "-o", "json"]));

    assert!(output.status.success(), "{}", stderr(&output));
}

#[test]
fn bad_secret_key_exits_one_with_code() {
    let service = Service::start();

    let output = run(service.client().env("HUAWEICLOUD_SDK_SK", "not-the-secret").args(["images", "list"]));

    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("ModelArts.0206: "), "{}", stderr(&output));
    assert!(stdout(&output).is_empty(), "{}", stdout(&output));
}

#[test]
fn unknown_token_exits_one_with_code() {
    let service = Service::start();

    let output = run(service.client().args(["groups", "list", "--token", "easel_not-a-token"]));

    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("ModelArts.0203: "), "{}", stderr(&output));
}

#[test]
fn invalid_query_exits_one_with_code() {
    let service = Service::start();

    let output = service.easel(&["images", "list", "--limit", "0"]);

    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).contains("ModelArts.0101: limit"), "{}", stderr(&output));
}

#[test]
fn missing_credentials_exit_two() {
    let output = run(Command::new(EASEL)
        .env_remove("HUAWEICLOUD_SDK_AK")
        .env_remove("HUAWEICLOUD_SDK_SK")
        .env_remove("EASEL_TOKEN")
        .args(["images", "list", "--project-id", PROJECT]));

    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("no credentials"), "{}", stderr(&output));
}

#[test]
fn unreachable_service_exits_three() {
    // Port 9 (discard) on loopback has no listener here, so the connection is refused.
    let output = run(Command::new(EASEL)
        .env("EASEL_ENDPOINT", "http://127.0.0.1:9")
        .args(["images", "list", "--project-id", PROJECT, "--token", "easel_x"]));

    assert_eq!(output.status.code(), Some(3));
    assert!(stderr(&output).contains("failed to reach"), "{}", stderr(&output));
}

#[test]
fn unknown_flag_exits_two() {
    let output = run(Command::new(EASEL).args(["images", "list", "--no-such-flag"]));

    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn completions_cover_client_commands() {
    for shell in ["bash", "zsh", "fish"] {
        let output = run(Command::new(EASEL).args(["completions", shell]));

        assert!(output.status.success(), "{shell}: {}", stderr(&output));
        let script = stdout(&output);
        for word in ["images", "groups", "register", "name-fuzzy-match"] {
            assert!(script.contains(word), "the {shell} completions lack {word}");
        }
    }
}

