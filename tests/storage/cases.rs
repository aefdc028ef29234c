//! The storage cases. Each takes a fresh backend and drives it only through
//! the `Store` trait, so both backends must return the same results.

use std::collections::HashMap;

use easel::catalogue::fields::{
    Arch, DevService, ImageStatus, ImageType, Origin, ProjectId, ResourceCategory, ServiceType, SortDir, SortKey,
    Visibility, WorkspaceId,
};
use easel::catalogue::model::{Group, GroupChanges, GroupQuery, Image, ImageQuery, NameFilter, PageRequest, Tag};
use easel::catalogue::presets::{parse_presets, BUNDLED_PRESETS};
use easel::error::Error;
use easel::storage::{CatalogueSize, PresetLoad, Store, StoredAccessKey, StoredToken};
use uuid::Uuid;

use crate::Backend;

const HOST: &str = "registry.test:5000";
const WORKSPACE_B: &str = "0123456789abcdefghijklmnopqrstuv";

fn project(n: u8) -> ProjectId {
    ProjectId::parse(&format!("{n:032x}")).unwrap()
}

/// Builds a dedicated image of `project` in the default workspace, created at `at`.
fn image(project: &ProjectId, namespace: &str, name: &str, tag: &str, at: i64) -> Image {
    Image {
        id: Uuid::new_v4(),
        project_id: Some(project.to_string()),
        workspace_id: "0".to_owned(),
        group_id: Uuid::nil(),
        image_type: ImageType::Dedicated,
        swr_path: format!("{HOST}/{namespace}/{name}:{tag}"),
        namespace: namespace.to_owned(),
        name: name.to_owned(),
        tag: tag.to_owned(),
        digest: None,
        arch: Arch::X86_64,
        description: format!("{name} {tag}"),
        origin: Origin::Customize,
        resource_categories: vec![ResourceCategory::Cpu, ResourceCategory::Gpu],
        service_type: ServiceType::Unknown,
        dev_services: vec![DevService::Notebook, DevService::Ssh],
        visibility: Visibility::Private,
        status: ImageStatus::Active,
        status_message: String::new(),
        flavor_type: None,
        swr_instance_id: None,
        show_name: None,
        show_tag: None,
        tags: Vec::new(),
        read_me: None,
        size: 0,
        create_at: at,
        update_at: at,
    }
}

fn page(limit: u32, offset: u64) -> PageRequest {
    PageRequest { limit, offset }
}

fn groups_of(project: &ProjectId) -> GroupQuery {
    GroupQuery {
        project_id: project.clone(),
        workspace_id: WorkspaceId::default_workspace(),
        name: None,
        namespace: None,
        image_type: Some(ImageType::Dedicated),
        swr_instance_id: None,
        page: page(1000, 0),
    }
}

fn images_of(project: &ProjectId) -> ImageQuery {
    ImageQuery {
        project_id: project.clone(),
        workspace_id: WorkspaceId::default_workspace(),
        name: None,
        namespace: None,
        service_type: None,
        image_type: Some(ImageType::Dedicated),
        show_name: None,
        show_tag: None,
        sort_keys: Vec::new(),
        sort_dir: SortDir::Desc,
        page: page(1000, 0),
    }
}

async fn insert(store: &dyn Store, image: Image) -> Image {
    store.insert_image(&image).await.unwrap()
}

async fn group(store: &dyn Store, id: Uuid) -> Group {
    store.find_group(id).await.unwrap().expect("group should exist")
}

async fn image_names(store: &dyn Store, query: &ImageQuery) -> Vec<String> {
    store.list_images(query).await.unwrap().items.into_iter().map(|i| i.name).collect()
}

async fn group_names(store: &dyn Store, query: &GroupQuery) -> Vec<String> {
    store.list_groups(query).await.unwrap().items.into_iter().map(|g| g.name).collect()
}

/// Checks that the totals of unfiltered listings, which the store keeps on
/// every write, equal the entries the listings return, for every type filter.
async fn assert_kept_totals(store: &dyn Store, project: &ProjectId, workspace: &str) {
    let workspace_id = WorkspaceId::parse("workspace_id", workspace).unwrap();
    for image_type in [None, Some(ImageType::Dedicated), Some(ImageType::BuildIn)] {
        let groups = GroupQuery { workspace_id: workspace_id.clone(), image_type, ..groups_of(project) };
        let listed = store.list_groups(&groups).await.unwrap();
        assert_eq!(listed.total, listed.items.len() as u64, "group total of {project}/{workspace}, type {image_type:?}");

        let images = ImageQuery { workspace_id: workspace_id.clone(), image_type, ..images_of(project) };
        let listed = store.list_images(&images).await.unwrap();
        assert_eq!(listed.total, listed.items.len() as u64, "image total of {project}/{workspace}, type {image_type:?}");
    }
}

pub async fn access_keys_and_tokens_round_trip(backend: Backend) {
    let store = backend.store.as_ref();
    let key = StoredAccessKey {
        access_key: "AKTEST".into(),
        project_id: project(1).to_string(),
        secret_ciphertext: vec![0, 1, 2, 255],
        create_at: 7,
    };
    store.insert_access_key(&key).await.unwrap();
    let found = store.find_access_key("AKTEST").await.unwrap().unwrap();
    assert_eq!(found.secret_ciphertext, vec![0, 1, 2, 255]);
    assert_eq!(found.project_id, key.project_id);
    assert_eq!(store.oldest_access_key().await.unwrap().unwrap().access_key, "AKTEST");
    assert!(store.find_access_key("OTHER").await.unwrap().is_none());

    let token = StoredToken { token_hash: "abc".into(), project_id: project(1).to_string(), expires_at: 99, create_at: 9 };
    store.insert_token(&token).await.unwrap();
    let found = store.find_token("abc").await.unwrap().unwrap();
    assert_eq!((found.expires_at, found.create_at), (99, 9));
    assert!(store.find_token("missing").await.unwrap().is_none());
}

pub async fn register_creates_group_and_counts_versions(backend: Backend) {
    let store = backend.store.as_ref();
    let owner = project(1);

    let first = insert(store, image(&owner, "team", "torch", "1", 100)).await;
    let second = insert(store, image(&owner, "team", "torch", "2", 200)).await;
    let other = insert(store, image(&owner, "team", "tf", "1", 150)).await;

    assert_eq!(first.group_id, second.group_id);
    assert_ne!(first.group_id, other.group_id);
    let torch = group(store, first.group_id).await;
    assert_eq!(torch.version_count, 2);
    assert_eq!(torch.create_at, 100);
    assert_eq!(torch.update_at, 200);
    assert_eq!(torch.description, "torch 2");
    assert_eq!(torch.project_id.as_deref(), Some(owner.as_str()));
    assert_eq!(store.find_image(second.id).await.unwrap().unwrap(), second);
}

pub async fn delete_image_recomputes_group(backend: Backend) {
    let store = backend.store.as_ref();
    let owner = project(1);
    let old = insert(store, image(&owner, "team", "torch", "1", 100)).await;
    let new = insert(store, image(&owner, "team", "torch", "2", 200)).await;

    let deleted = store.delete_image(new.id, 300).await.unwrap().unwrap();
    assert_eq!(deleted.status, ImageStatus::Deleted);
    assert!(store.find_image(new.id).await.unwrap().is_none());
    assert!(store.delete_image(new.id, 301).await.unwrap().is_none(), "a second delete finds nothing");

    let torch = group(store, old.group_id).await;
    assert_eq!(torch.version_count, 1);
    assert_eq!(torch.description, "torch 1", "description falls back to the newest remaining image");
    assert_eq!(torch.create_at, 100);
    assert_eq!(torch.update_at, 300);

    store.delete_image(old.id, 400).await.unwrap().unwrap();
    assert!(store.find_group(old.group_id).await.unwrap().is_none(), "an empty group is not found");
}

pub async fn deleted_group_reappears_on_register(backend: Backend) {
    let store = backend.store.as_ref();
    let owner = project(1);
    let a = insert(store, image(&owner, "team", "torch", "1", 100)).await;
    let b = insert(store, image(&owner, "team", "torch", "2", 200)).await;

    let deleted = store.delete_group(a.group_id, 300).await.unwrap().unwrap();
    assert_eq!(deleted.group.version_count, 2);
    let mut ids: Vec<Uuid> = deleted.images.iter().map(|i| i.id).collect();
    ids.sort();
    let mut expected = vec![a.id, b.id];
    expected.sort();
    assert_eq!(ids, expected);
    assert!(store.find_group(a.group_id).await.unwrap().is_none());
    assert!(store.find_image(a.id).await.unwrap().is_none());
    assert_eq!(store.list_groups(&groups_of(&owner)).await.unwrap().total, 0);
    assert!(store.delete_group(a.group_id, 301).await.unwrap().is_none());

    let again = insert(store, image(&owner, "team", "torch", "3", 500)).await;
    assert_eq!(again.group_id, a.group_id, "the group keeps its id");
    let torch = group(store, again.group_id).await;
    assert_eq!(torch.version_count, 1);
    assert_eq!(torch.create_at, 500, "an emptied group starts its history again");
}

pub async fn duplicate_reference_is_rejected(backend: Backend) {
    let store = backend.store.as_ref();
    let owner = project(1);
    let first = insert(store, image(&owner, "team", "torch", "1", 100)).await;

    let err = store.insert_image(&image(&owner, "team", "torch", "1", 200)).await.unwrap_err();
    assert!(matches!(err, Error::DuplicateTag { .. }), "{err:?}");
    assert_eq!(err.code(), "ModelArts.6737");
    assert_eq!(group(store, first.group_id).await.version_count, 1, "the failed insert left the count alone");

    // The same tag pinned to a digest is still the same tag.
    let mut pinned = image(&owner, "team", "torch", "1", 250);
    pinned.swr_path = format!("{HOST}/team/torch:1@sha256:{}", "0".repeat(64));
    pinned.digest = Some(format!("sha256:{}", "0".repeat(64)));
    let err = store.insert_image(&pinned).await.unwrap_err();
    assert!(matches!(err, Error::DuplicateTag { .. }), "{err:?}");

    // Another project may register the same reference.
    insert(store, image(&project(2), "team", "torch", "1", 300)).await;
}

pub async fn deleted_reference_can_be_registered_again(backend: Backend) {
    let store = backend.store.as_ref();
    let owner = project(1);
    let first = insert(store, image(&owner, "team", "torch", "1", 100)).await;
    store.delete_image(first.id, 150).await.unwrap().unwrap();

    let second = insert(store, image(&owner, "team", "torch", "1", 200)).await;
    assert_ne!(second.id, first.id);
    assert_eq!(group(store, second.group_id).await.version_count, 1);
}

pub async fn concurrent_registers_leave_one_image(backend: Backend) {
    let store = backend.store.clone();
    let owner = project(1);
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let store = store.clone();
            let candidate = image(&owner, "team", "torch", "1", 100 + i);
            tokio::spawn(async move { store.insert_image(&candidate).await })
        })
        .collect();

    let mut inserted = Vec::new();
    let mut duplicates = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(image) => inserted.push(image),
            Err(Error::DuplicateTag { .. }) => duplicates += 1,
            Err(other) => panic!("unexpected error: {other:?}"),
        }
    }
    assert_eq!(inserted.len(), 1, "exactly one insert wins");
    assert_eq!(duplicates, 15);
    assert_eq!(group(store.as_ref(), inserted[0].group_id).await.version_count, 1);
    assert_eq!(store.list_images(&images_of(&owner)).await.unwrap().total, 1);
}

pub async fn concurrent_register_and_delete_keep_counts(backend: Backend) {
    let store = backend.store.clone();
    let owner = project(1);
    let seed: Vec<Image> = {
        let mut seed = Vec::new();
        for tag in 0..8 {
            seed.push(insert(store.as_ref(), image(&owner, "team", "torch", &format!("seed{tag}"), 100)).await);
        }
        seed
    };
    let group_id = seed[0].group_id;

    let mut tasks = Vec::new();
    for (i, victim) in seed.into_iter().enumerate() {
        let deleter = store.clone();
        tasks.push(tokio::spawn(async move {
            deleter.delete_image(victim.id, 200).await.map(|_| ())
        }));
        let registrar = store.clone();
        let fresh = image(&owner, "team", "torch", &format!("new{i}"), 300);
        tasks.push(tokio::spawn(async move { registrar.insert_image(&fresh).await.map(|_| ()) }));
        let group_deleter = store.clone();
        if i == 4 {
            tasks.push(tokio::spawn(async move { group_deleter.delete_group(group_id, 250).await.map(|_| ()) }));
        }
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }

    let live = store.list_images(&images_of(&owner)).await.unwrap().total;
    let count = store.find_group(group_id).await.unwrap().map_or(0, |g| g.version_count);
    assert_eq!(u64::try_from(count).unwrap(), live, "version_count must equal the live images");
    assert_kept_totals(store.as_ref(), &owner, "0").await;
}

pub async fn kept_totals_follow_every_write(backend: Backend) {
    let store = backend.store.as_ref();
    let mut presets = parse_presets(BUNDLED_PRESETS, "bundled", HOST, 10).unwrap();
    store.sync_presets(&presets, 10).await.unwrap();
    let (owner, other) = (project(1), project(2));
    let torch: Vec<Image> = {
        let mut torch = Vec::new();
        for tag in ["1", "2", "3"] {
            torch.push(insert(store, image(&owner, "team", "torch", tag, 100)).await);
        }
        torch
    };
    let solo = insert(store, image(&owner, "team", "solo", "1", 110)).await;
    let doomed = insert(store, image(&owner, "team", "doomed", "1", 120)).await;
    insert(store, image(&owner, "team", "doomed", "2", 130)).await;
    insert(store, image(&other, "team", "torch", "1", 100)).await;
    let mut elsewhere = image(&owner, "team", "elsewhere", "1", 100);
    elsewhere.workspace_id = WORKSPACE_B.to_owned();
    insert(store, elsewhere).await;
    assert_kept_totals(store, &owner, "0").await;

    // A rejected duplicate changes nothing.
    let duplicate = store.insert_image(&image(&owner, "team", "torch", "1", 140)).await;
    assert!(matches!(duplicate, Err(Error::DuplicateTag { .. })), "{duplicate:?}");
    store.delete_image(torch[0].id, 150).await.unwrap();
    store.delete_image(solo.id, 160).await.unwrap();
    store.delete_group(doomed.group_id, 170).await.unwrap();
    assert_kept_totals(store, &owner, "0").await;

    // Emptied groups come back with their next image.
    insert(store, image(&owner, "team", "solo", "2", 180)).await;
    insert(store, image(&owner, "team", "doomed", "3", 190)).await;
    presets.pop();
    store.sync_presets(&presets, 200).await.unwrap();
    for (project, workspace) in [(&owner, "0"), (&owner, WORKSPACE_B), (&other, "0")] {
        assert_kept_totals(store, project, workspace).await;
    }
    let listed = store.list_groups(&groups_of(&owner)).await.unwrap();
    assert_eq!(listed.total, 3, "torch, solo and doomed");
}

pub async fn listing_is_isolated_by_project_and_workspace(backend: Backend) {
    let store = backend.store.as_ref();
    let owner = project(1);
    insert(store, image(&owner, "team", "mine", "1", 100)).await;
    insert(store, image(&project(2), "team", "theirs", "1", 100)).await;
    let mut elsewhere = image(&owner, "team", "elsewhere", "1", 100);
    elsewhere.workspace_id = WORKSPACE_B.to_owned();
    insert(store, elsewhere).await;

    assert_eq!(image_names(store, &images_of(&owner)).await, vec!["mine"]);
    assert_eq!(group_names(store, &groups_of(&owner)).await, vec!["mine"]);

    let mut in_b = groups_of(&owner);
    in_b.workspace_id = WorkspaceId::parse("workspace_id", WORKSPACE_B).unwrap();
    assert_eq!(group_names(store, &in_b).await, vec!["elsewhere"]);
}

pub async fn listing_filters_by_type_namespace_and_service(backend: Backend) {
    let store = backend.store.as_ref();
    let owner = project(1);
    let presets = parse_presets(BUNDLED_PRESETS, "bundled", HOST, 50).unwrap();
    store.sync_presets(&presets, 50).await.unwrap();
    let mut train = image(&owner, "team", "trainer", "1", 100);
    train.service_type = ServiceType::Train;
    train.show_name = Some("Trainer".into());
    insert(store, train).await;
    insert(store, image(&owner, "other", "tool", "1", 100)).await;

    let mut all = images_of(&owner);
    all.image_type = None;
    let total = store.list_images(&all).await.unwrap().total;
    assert_eq!(total, presets.len() as u64 + 2, "no type lists built-in and dedicated images");

    let mut built_in = images_of(&owner);
    built_in.image_type = Some(ImageType::BuildIn);
    assert_eq!(store.list_images(&built_in).await.unwrap().total, presets.len() as u64);

    let mut by_namespace = images_of(&owner);
    by_namespace.namespace = Some("other".into());
    assert_eq!(image_names(store, &by_namespace).await, vec!["tool"]);

    let mut by_service = images_of(&owner);
    by_service.service_type = Some(ServiceType::Train);
    assert_eq!(image_names(store, &by_service).await, vec!["trainer"]);

    let mut by_show_name = images_of(&owner);
    by_show_name.show_name = Some("Trainer".into());
    assert_eq!(image_names(store, &by_show_name).await, vec!["trainer"]);

    let mut groups_by_namespace = groups_of(&owner);
    groups_by_namespace.namespace = Some("team".into());
    assert_eq!(group_names(store, &groups_by_namespace).await, vec!["trainer"]);

    let mut all_groups = groups_of(&owner);
    all_groups.image_type = None;
    let built_in_groups = presets.iter().map(|p| p.name.as_str()).collect::<std::collections::HashSet<_>>().len();
    assert_eq!(store.list_groups(&all_groups).await.unwrap().total, built_in_groups as u64 + 2);
}

pub async fn fuzzy_name_treats_wildcards_literally(backend: Backend) {
    let store = backend.store.as_ref();
    let owner = project(1);
    for name in ["py_torch", "pyxtorch", "py%torch", "py\\torch", "mypy_torch2"] {
        insert(store, image(&owner, "team", name, "1", 100)).await;
    }

    let cases: &[(&str, &[&str])] = &[
        ("py_torch", &["mypy_torch2", "py_torch"]),
        ("y_t", &["mypy_torch2", "py_torch"]),
        ("py%", &["py%torch"]),
        ("\\", &["py\\torch"]),
        ("torch", &["mypy_torch2", "py%torch", "py\\torch", "py_torch", "pyxtorch"]),
        ("_", &["mypy_torch2", "py_torch"]),
        ("%", &["py%torch"]),
        ("nothing", &[]),
    ];
    for (needle, expected) in cases {
        let mut query = images_of(&owner);
        query.name = Some(NameFilter::Contains((*needle).to_owned()));
        query.sort_keys = vec![SortKey::Name];
        query.sort_dir = SortDir::Asc;
        assert_eq!(image_names(store, &query).await, *expected, "images containing {needle:?}");

        let mut groups = groups_of(&owner);
        groups.name = Some(NameFilter::Contains((*needle).to_owned()));
        let mut names = group_names(store, &groups).await;
        names.sort();
        assert_eq!(names, *expected, "groups containing {needle:?}");
    }
}

pub async fn exact_name_matches_whole_name(backend: Backend) {
    let store = backend.store.as_ref();
    let owner = project(1);
    insert(store, image(&owner, "team", "torch", "1", 100)).await;
    insert(store, image(&owner, "team", "torch2", "1", 100)).await;

    let mut query = groups_of(&owner);
    query.name = Some(NameFilter::Exact("torch".into()));
    assert_eq!(group_names(store, &query).await, vec!["torch"]);

    let mut images = images_of(&owner);
    images.name = Some(NameFilter::Exact("tor".into()));
    assert!(image_names(store, &images).await.is_empty());
}

pub async fn images_default_order_is_newest_first_then_id(backend: Backend) {
    let store = backend.store.as_ref();
    let owner = project(1);
    let mut expected = Vec::new();
    for (name, at) in [("a", 300), ("b", 100), ("c", 300), ("d", 200), ("e", 300)] {
        expected.push((at, insert(store, image(&owner, "team", name, "1", at)).await.id));
    }
    // update_at descending, then id ascending.
    expected.sort_by(|x, y| y.0.cmp(&x.0).then(x.1.cmp(&y.1)));

    let listed: Vec<Uuid> = store.list_images(&images_of(&owner)).await.unwrap().items.iter().map(|i| i.id).collect();
    assert_eq!(listed, expected.iter().map(|e| e.1).collect::<Vec<_>>());
}

pub async fn images_default_order_follows_sort_dir(backend: Backend) {
    let store = backend.store.as_ref();
    let owner = project(1);
    let mut expected = Vec::new();
    for (name, at) in [("a", 300), ("b", 100), ("c", 300), ("d", 200)] {
        expected.push((at, insert(store, image(&owner, "team", name, "1", at)).await.id));
    }
    // update_at ascending, then id ascending.
    expected.sort();

    let mut query = images_of(&owner);
    query.sort_dir = SortDir::Asc;
    let listed: Vec<Uuid> = store.list_images(&query).await.unwrap().items.iter().map(|i| i.id).collect();
    assert_eq!(listed, expected.iter().map(|e| e.1).collect::<Vec<_>>());
}

pub async fn group_keeps_latest_named_swr_instance(backend: Backend) {
    let store = backend.store.as_ref();
    let owner = project(1);
    let mut on_a = image(&owner, "team", "torch", "1", 100);
    on_a.swr_instance_id = Some("instance-a".into());
    let first = insert(store, on_a).await;
    insert(store, image(&owner, "team", "torch", "2", 200)).await;
    assert_eq!(group(store, first.group_id).await.swr_instance_id, "instance-a", "an image without one keeps it");

    let mut on_b = image(&owner, "team", "torch", "3", 300);
    on_b.swr_instance_id = Some("instance-b".into());
    insert(store, on_b).await;
    assert_eq!(group(store, first.group_id).await.swr_instance_id, "instance-b");

    let mut query = groups_of(&owner);
    query.swr_instance_id = Some("instance-b".into());
    assert_eq!(group_names(store, &query).await, vec!["torch"]);
    query.swr_instance_id = Some("instance-a".into());
    assert!(group_names(store, &query).await.is_empty());
}

pub async fn images_sort_by_name_in_byte_order(backend: Backend) {
    let store = backend.store.as_ref();
    let owner = project(1);
    // Byte order differs from natural-language collations on punctuation and digits.
    let names = ["ab", "a_b", "a.b", "a-c", "a1", "b"];
    for name in names {
        insert(store, image(&owner, "team", name, "1", 100)).await;
    }
    let mut sorted: Vec<&str> = names.to_vec();
    sorted.sort_unstable();

    let mut query = images_of(&owner);
    query.sort_keys = vec![SortKey::Name];
    query.sort_dir = SortDir::Asc;
    assert_eq!(image_names(store, &query).await, sorted);

    query.sort_dir = SortDir::Desc;
    sorted.reverse();
    assert_eq!(image_names(store, &query).await, sorted);
}

pub async fn paging_keeps_total_and_order(backend: Backend) {
    let store = backend.store.as_ref();
    let owner = project(1);
    for i in 0..7 {
        insert(store, image(&owner, "team", &format!("n{i}"), "1", 100 + i)).await;
    }
    let full = image_names(store, &images_of(&owner)).await;
    assert_eq!(full.len(), 7);

    let mut collected = Vec::new();
    for offset in (0..9).step_by(3) {
        let mut query = images_of(&owner);
        query.page = page(3, offset);
        let listed = store.list_images(&query).await.unwrap();
        assert_eq!(listed.total, 7, "total at offset {offset}");
        collected.extend(listed.items.into_iter().map(|i| i.name));
    }
    assert_eq!(collected, full);

    let mut past_end = groups_of(&owner);
    past_end.page = page(5, 50);
    let listed = store.list_groups(&past_end).await.unwrap();
    assert!(listed.items.is_empty());
    assert_eq!(listed.total, 7);
}

pub async fn groups_order_by_update_then_namespace_and_name(backend: Backend) {
    let store = backend.store.as_ref();
    let owner = project(1);
    for (namespace, name, at) in [("b", "x", 100), ("a", "y", 100), ("a", "x", 100), ("c", "z", 200), ("a", "a-b", 100), ("a", "a_b", 100)] {
        insert(store, image(&owner, namespace, name, "1", at)).await;
    }
    let listed: Vec<(String, String)> = store
        .list_groups(&groups_of(&owner))
        .await
        .unwrap()
        .items
        .into_iter()
        .map(|g| (g.namespace, g.name))
        .collect();
    let expected: Vec<(String, String)> =
        [("c", "z"), ("a", "a-b"), ("a", "a_b"), ("a", "x"), ("a", "y"), ("b", "x")]
            .into_iter()
            .map(|(n, m)| (n.to_owned(), m.to_owned()))
            .collect();
    assert_eq!(listed, expected);
}

pub async fn group_update_changes_read_me_and_tags(backend: Backend) {
    let store = backend.store.as_ref();
    let owner = project(1);
    let first = insert(store, image(&owner, "team", "torch", "1", 100)).await;

    let tags = vec![Tag { key: "k".into(), value: "v".into() }];
    let changes = GroupChanges { read_me: Some("# torch".into()), tags: Some(tags.clone()) };
    let updated = store.update_group(first.group_id, &changes, 500).await.unwrap().unwrap();
    assert_eq!(updated.read_me, "# torch");
    assert_eq!(updated.tags, tags);
    assert_eq!(updated.update_at, 500);

    // Unset fields stay; update_at never goes back.
    let only_read_me = GroupChanges { read_me: Some("again".into()), tags: None };
    let updated = store.update_group(first.group_id, &only_read_me, 400).await.unwrap().unwrap();
    assert_eq!(updated.tags, tags);
    assert_eq!(updated.update_at, 500);

    assert!(store.update_group(Uuid::new_v4(), &only_read_me, 600).await.unwrap().is_none());
}

pub async fn image_state_update_touches_group(backend: Backend) {
    let store = backend.store.as_ref();
    let owner = project(1);
    let first = insert(store, image(&owner, "team", "torch", "1", 100)).await;

    let mut changed = first.clone();
    changed.status = ImageStatus::Error;
    changed.status_message = "manifest missing".into();
    changed.size = 1234;
    changed.arch = Arch::Aarch64;
    changed.digest = Some("sha256:00".into());
    let updated = store.update_image_state(&changed, 700).await.unwrap().unwrap();
    assert_eq!(updated.status, ImageStatus::Error);
    assert_eq!(updated.size, 1234);
    assert_eq!(updated.arch, Arch::Aarch64);
    assert_eq!(updated.update_at, 700);
    assert_eq!(group(store, first.group_id).await.update_at, 700);

    store.delete_image(first.id, 800).await.unwrap();
    assert!(store.update_image_state(&changed, 900).await.unwrap().is_none());
}

pub async fn presets_sync_is_idempotent(backend: Backend) {
    let store = backend.store.as_ref();
    let presets = parse_presets(BUNDLED_PRESETS, "bundled", HOST, 10).unwrap();

    let first = store.sync_presets(&presets, 10).await.unwrap();
    assert_eq!(first, PresetLoad { inserted: presets.len() as u64, updated: 0, removed: 0 });
    let later = parse_presets(BUNDLED_PRESETS, "bundled", HOST, 20).unwrap();
    assert_eq!(store.sync_presets(&later, 20).await.unwrap(), PresetLoad::default());

    let mut query = images_of(&project(1));
    query.image_type = Some(ImageType::BuildIn);
    let listed = store.list_images(&query).await.unwrap();
    assert_eq!(listed.total, presets.len() as u64);
    assert!(listed.items.iter().all(|i| i.create_at == 10), "a repeated load leaves rows untouched");
}

pub async fn presets_sync_applies_changes_and_removals(backend: Backend) {
    let store = backend.store.as_ref();
    let mut presets = parse_presets(BUNDLED_PRESETS, "bundled", HOST, 10).unwrap();
    store.sync_presets(&presets, 10).await.unwrap();

    let removed = presets.pop().unwrap();
    presets[0].description = "changed".into();
    let load = store.sync_presets(&presets, 20).await.unwrap();
    assert_eq!(load, PresetLoad { inserted: 0, updated: 1, removed: 1 });
    assert!(store.find_image(removed.id).await.unwrap().is_none());
    let changed = store.find_image(presets[0].id).await.unwrap().unwrap();
    assert_eq!(changed.description, "changed");
    assert_eq!(group(store, changed.group_id).await.description, "changed");

    presets.push(removed.clone());
    let load = store.sync_presets(&presets, 30).await.unwrap();
    assert_eq!(load, PresetLoad { inserted: 1, updated: 0, removed: 0 });
    assert!(store.find_image(removed.id).await.unwrap().is_some(), "a preset listed again comes back with its id");

    // Group counts match the presets per group.
    let mut per_group: HashMap<Uuid, i64> = HashMap::new();
    for preset in &presets {
        let stored = store.find_image(preset.id).await.unwrap().unwrap();
        *per_group.entry(stored.group_id).or_default() += 1;
    }
    for (group_id, count) in per_group {
        assert_eq!(group(store, group_id).await.version_count, count);
    }
    assert_kept_totals(store, &project(1), "0").await;
}

pub async fn catalogue_size_counts_live_images_and_groups(backend: Backend) {
    let store = backend.store.as_ref();
    let presets = parse_presets(BUNDLED_PRESETS, "bundled", HOST, 10).unwrap();
    store.sync_presets(&presets, 10).await.unwrap();
    let built_in_groups: std::collections::HashSet<&str> = presets.iter().map(|preset| preset.name.as_str()).collect();
    let owner = project(1);
    let first = insert(store, image(&owner, "team", "torch", "1", 100)).await;
    let second = insert(store, image(&owner, "team", "torch", "2", 200)).await;
    insert(store, image(&project(2), "team", "torch", "1", 150)).await;

    let before = store.count_catalogue().await.unwrap();
    store.delete_image(first.id, 300).await.unwrap().unwrap();
    store.delete_image(second.id, 301).await.unwrap().unwrap();
    let after = store.count_catalogue().await.unwrap();

    let expected_before = CatalogueSize {
        dedicated_images: 3,
        built_in_images: presets.len() as u64,
        dedicated_groups: 2,
        built_in_groups: built_in_groups.len() as u64,
    };
    assert_eq!(before, expected_before);
    assert_eq!(after, CatalogueSize { dedicated_images: 1, dedicated_groups: 1, ..expected_before });
}
