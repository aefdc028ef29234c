"""Register, show, list, sync and delete images through the official SDK."""

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkmodelarts.v1 import (
    DeleteImageRequest,
    DeleteImageRequestBody,
    ListImageRequest,
    ShowImageRequest,
    SyncImageRequest,
)

from support import expect_client_error, is_canonical_uuid, now_ms

DEFAULT_REGISTRY_HOST = "localhost:5000"
PRESET_NAME = "mindspore1.7.0-ubuntu18.04-default"
NOT_FOUND = "ModelArts.6797"
INVALID_FIELD = "ModelArts.0101"
NOT_ALLOWED = "ModelArts.0108"
# How far apart the server's and the suite's clocks may read when times are
# compared. Both run on this machine, so only the request round trip separates them.
CLOCK_SLACK_MS = 5_000


def list_images(project, **query):
    return project.client.list_image(ListImageRequest(**query))


def list_image_names(project, **query):
    return [image.name for image in list_images(project, **query).data]


# --- register ---------------------------------------------------------------


def test_registering_an_image_fills_in_the_defaults(project):
    before_ms = now_ms()
    image = project.register("conformance/zebra:v1")
    after_ms = now_ms()

    assert image.status_code == 200
    assert image.swr_path == f"{DEFAULT_REGISTRY_HOST}/conformance/zebra:v1"
    assert image.namespace == "conformance"
    assert image.name == "zebra"
    assert image.tag == "v1"
    assert image.arch == "X86_64"
    assert image.origin == "CUSTOMIZE"
    assert image.resource_categories == ["CPU", "GPU"]
    assert image.service_type == "UNKNOWN"
    assert image.dev_services == ["NOTEBOOK", "SSH"]
    assert image.visibility == "PRIVATE"
    assert image.workspace_id == "0"
    assert image.type == "DEDICATED"
    assert image.status == "ACTIVE"
    assert image.size == 0
    assert is_canonical_uuid(image.id)
    assert before_ms - CLOCK_SLACK_MS <= image.create_at <= after_ms + CLOCK_SLACK_MS
    assert image.update_at >= image.create_at


def test_registering_returns_times_as_integer_milliseconds(project):
    image = project.register("conformance/zebra:v1")

    body = image.to_json_object()

    assert isinstance(body["create_at"], int)
    assert isinstance(body["update_at"], int)
    # Milliseconds since the epoch have 13 digits until the year 2286.
    assert len(str(body["create_at"])) == 13


def test_registering_keeps_every_field_the_caller_sets(project):
    workspace_id = uuid.uuid4().hex

    image = project.register(
        "conformance/zebra:v2",
        arch="AARCH64",
        description="Zebra training image",
        origin="IMAGE_SAVE",
        resource_category=["ASCEND"],
        service_type="TRAIN",
        services=["SSH"],
        visibility="PUBLIC",
        workspace_id=workspace_id,
        flavor_type="modelarts.vm.cpu.2u",
    )

    assert image.arch == "AARCH64"
    assert image.description == "Zebra training image"
    assert image.origin == "IMAGE_SAVE"
    assert image.resource_categories == ["ASCEND"]
    assert image.service_type == "TRAIN"
    assert image.dev_services == ["SSH"]
    assert image.visibility == "PUBLIC"
    assert image.workspace_id == workspace_id
    assert image.flavor_type == "modelarts.vm.cpu.2u"
    assert image.type == "DEDICATED"
    assert image.status == "ACTIVE"


def test_registering_accepts_enums_in_any_case(project):
    image = project.register(
        "conformance/zebra:v3",
        arch="aarch64",
        origin="Image_Save",
        resource_category=["cpu", "Ascend"],
        service_type="inference",
        services=["notebook"],
        visibility="public",
    )

    assert image.arch == "AARCH64"
    assert image.origin == "IMAGE_SAVE"
    assert image.resource_categories == ["CPU", "ASCEND"]
    assert image.service_type == "INFERENCE"
    assert image.dev_services == ["NOTEBOOK"]
    assert image.visibility == "PUBLIC"


def test_registering_keeps_tags_as_key_value_pairs(project):
    # The SDK types ImageRegRequest.tags as a list of strings, but it serializes
    # dictionaries unchanged, and the API takes {key, value} objects.
    image = project.register(
        "conformance/zebra:tagged",
        tags=[{"key": "team", "value": "vision"}],
    )

    assert len(image.tags) == 1
    assert image.tags[0].key == "team"
    assert image.tags[0].value == "vision"


def test_registering_a_nested_repository_splits_namespace_and_name(project):
    image = project.register("team/ml/pytorch:2.1")

    assert image.namespace == "team"
    assert image.name == "ml/pytorch"
    assert image.tag == "2.1"
    assert image.swr_path == f"{DEFAULT_REGISTRY_HOST}/team/ml/pytorch:2.1"


def test_registering_with_explicit_default_host(project):
    image = project.register(f"{DEFAULT_REGISTRY_HOST}/conformance/zebra:v1")

    assert image.swr_path == f"{DEFAULT_REGISTRY_HOST}/conformance/zebra:v1"
    assert image.namespace == "conformance"
    assert image.name == "zebra"
    assert image.tag == "v1"


def test_registering_with_a_digest_keeps_the_tag(project):
    digest = "sha256:" + "ab" * 32

    image = project.register(f"conformance/zebra:v1@{digest}")

    assert image.name == "zebra"
    assert image.tag == "v1"
    assert digest in image.swr_path


def test_registering_the_same_swr_path_twice_is_a_conflict(project):
    project.register("conformance/zebra:v1")

    error = expect_client_error(project.register, "conformance/zebra:v1")

    assert error.status_code == 400
    assert error.error_code == "ModelArts.6737"
    assert error.error_msg == "Conflict tag v1 for image zebra, tag cannot be duplicated."


def test_concurrent_registrations_of_one_path_leave_one_image(project):
    attempts = 4
    with ThreadPoolExecutor(max_workers=attempts) as pool:
        outcomes = list(pool.map(lambda _: registration_outcome(project, "conformance/zebra:v1"), range(attempts)))

    listing = list_images(project, type="DEDICATED")

    assert outcomes.count("registered") == 1
    assert outcomes.count("ModelArts.6737") == attempts - 1
    assert listing.total == 1


def registration_outcome(project, swr_path):
    """Register swr_path and return "registered", or the error code of the rejection."""
    try:
        project.register(swr_path)
    except ClientRequestException as error:
        return error.error_code
    return "registered"


def test_registering_same_path_in_two_projects(project, other_project):
    first = project.register("conformance/zebra:v1")
    second = other_project.register("conformance/zebra:v1")

    assert first.id != second.id
    assert second.swr_path == first.swr_path


# Each case: the request fields, and the text its error message must contain,
# which is the invalid field's name or, for a path component, its value.
INVALID_REGISTRATIONS = [
    pytest.param({"swr_path": f"{DEFAULT_REGISTRY_HOST}/conformance/zebra"}, "tag", id="port-is-not-a-tag"),
    pytest.param({"swr_path": "conformance/zebra-without-tag"}, "tag", id="missing-tag"),
    pytest.param({"swr_path": "Conformance/zebra:v1"}, "Conformance", id="upper-case-namespace"),
    pytest.param({"swr_path": "conformance/Zebra:v1"}, "Zebra", id="upper-case-name"),
    pytest.param({"swr_path": "conformance/zebra:-v1"}, "tag", id="tag-starts-with-dash"),
    pytest.param({"swr_path": "ab/cd:v1"}, "swr_path", id="swr-path-under-16-characters"),
    pytest.param({"swr_path": "conformance/zebra:v1", "arch": "SPARC"}, "arch", id="unknown-arch"),
    pytest.param({"swr_path": "conformance/zebra:v1", "visibility": "SHARED"}, "visibility", id="unknown-visibility"),
    pytest.param({"swr_path": "conformance/zebra:v1", "workspace_id": "not-a-workspace"}, "workspace_id", id="bad-workspace"),
    pytest.param({"swr_path": "conformance/zebra:v1", "description": "d" * 513}, "description", id="long-description"),
    pytest.param({"swr_path": f"{'n' * 65}/zebra:v1"}, "namespace", id="namespace-over-64-characters"),
    pytest.param({"swr_path": f"conformance/{'z' * 513}:v1"}, "name", id="name-over-512-characters"),
    pytest.param({"swr_path": "conformance/zebra:v1@sha256:abc"}, "digest", id="short-digest"),
    pytest.param(
        {"swr_path": "conformance/zebra:v1", "tags": [{"key": f"k{number}", "value": "v"} for number in range(21)]},
        "tags",
        id="over-20-tags",
    ),
]


@pytest.mark.parametrize("fields, expected_in_message", INVALID_REGISTRATIONS)
def test_registering_an_invalid_field_is_rejected(project, fields, expected_in_message):
    fields = dict(fields)
    swr_path = fields.pop("swr_path")

    error = expect_client_error(project.register, swr_path, **fields)

    assert error.status_code == 400
    assert error.error_code == INVALID_FIELD
    assert expected_in_message in error.error_msg


# --- show -------------------------------------------------------------------


def test_showing_an_image_returns_what_registering_returned(project):
    registered = project.register("conformance/zebra:v1", description="Zebra, as shown")

    shown_image = project.client.show_image(ShowImageRequest(id=registered.id))

    assert shown_image.to_json_object() == registered.to_json_object()


def test_showing_malformed_id_is_client_error(project):
    error = expect_client_error(project.client.show_image, ShowImageRequest(id="not-a-uuid"))

    assert 400 <= error.status_code < 500


def test_showing_an_unknown_image_is_not_found(project):
    error = expect_client_error(project.client.show_image, ShowImageRequest(id=str(uuid.uuid4())))

    assert error.status_code == 404
    assert error.error_code == NOT_FOUND


def test_showing_another_projects_private_image_is_not_found(project, other_project):
    image = other_project.register("conformance/zebra:v1")

    error = expect_client_error(project.client.show_image, ShowImageRequest(id=image.id))

    assert error.status_code == 404
    assert error.error_code == NOT_FOUND


def test_showing_another_projects_public_image_is_allowed(project, other_project):
    image = other_project.register("conformance/zebra:v1", visibility="PUBLIC")

    shown_image = project.client.show_image(ShowImageRequest(id=image.id))

    assert shown_image.id == image.id
    assert shown_image.visibility == "PUBLIC"


def test_deleting_another_projects_public_image_is_forbidden(project, other_project):
    image = other_project.register("conformance/zebra:v1", visibility="PUBLIC")

    error = expect_client_error(project.client.delete_image, DeleteImageRequest(id=image.id))

    assert error.status_code == 403
    assert error.error_code == NOT_ALLOWED


# --- list -------------------------------------------------------------------


def test_listing_without_type_includes_both_kinds(project):
    image = project.register("conformance/zebra:v1")

    listing = list_images(project, limit=1000)

    assert image.id in [listed_image.id for listed_image in listing.data]
    assert {listed_image.type for listed_image in listing.data} == {"BUILD_IN", "DEDICATED"}


def test_listing_dedicated_images_returns_only_the_projects_own(project, other_project):
    own = project.register("conformance/zebra:v1")
    other_project.register("conformance/okapi:v1", visibility="PUBLIC")

    listing = list_images(project, type="DEDICATED")

    assert [image.id for image in listing.data] == [own.id]
    assert listing.total == 1


def test_listing_built_in_images_returns_the_presets_only(project):
    project.register("conformance/zebra:v1")

    listing = list_images(project, type="BUILD_IN", limit=1000)

    assert listing.total > 0
    assert {image.type for image in listing.data} == {"BUILD_IN"}


def test_listing_preset_by_exact_name(project):
    listing = list_images(project, name=PRESET_NAME, name_fuzzy_match=False)

    assert listing.total == 2
    assert [image.name for image in listing.data] == [PRESET_NAME, PRESET_NAME]
    assert {image.namespace for image in listing.data} == {"atelier"}
    assert {image.type for image in listing.data} == {"BUILD_IN"}
    # A preset's name is its published name, which differs from its repository name.
    for image in listing.data:
        assert "atelier/mindspore_1_7_0:" in image.swr_path


def test_presets_carry_display_name_and_tag(project):
    listing = list_images(project, name=PRESET_NAME, name_fuzzy_match=False)

    for image in listing.data:
        assert image.show_name, f"preset {image.swr_path} has no show_name"
        assert image.show_tag, f"preset {image.swr_path} has no show_tag"


def test_listing_by_fuzzy_name_matches_substrings(project):
    project.register_in_order(["conformance/zebra:v1", "conformance/zebra-two:v1", "conformance/okapi:v1"])

    names = list_image_names(project, name="ebr")

    assert sorted(names) == ["zebra", "zebra-two"]


def test_listing_by_fuzzy_name_ignores_letter_case(project):
    project.register("conformance/zebra:v1")

    names = list_image_names(project, name="ZEBRA")

    assert names == ["zebra"]


def test_listing_by_exact_name_excludes_longer_names(project):
    project.register_in_order(["conformance/zebra:v1", "conformance/zebra-two:v1"])

    names = list_image_names(project, name="zebra", name_fuzzy_match=False)

    assert names == ["zebra"]


def test_listing_by_name_treats_underscore_literally(project):
    project.register_in_order(["conformance/zeb_ra:v1", "conformance/zebxra:v1"])

    names = list_image_names(project, name="b_r")

    assert names == ["zeb_ra"]


def test_listing_by_namespace_matches_exactly(project):
    project.register_in_order(["alpha-lab/zebra:v1", "alpha-labs/zebra:v1"])

    listing = list_images(project, namespace="alpha-lab")

    assert [image.namespace for image in listing.data] == ["alpha-lab"]
    assert listing.total == 1


def test_listing_by_service_type_filters(project):
    project.register("conformance/zebra:v1", service_type="TRAIN")
    project.register("conformance/okapi:v1", service_type="INFERENCE")

    names = list_image_names(project, type="DEDICATED", service_type="TRAIN")

    assert names == ["zebra"]


def test_listing_defaults_to_workspace_zero(project):
    workspace_id = uuid.uuid4().hex
    project.register("conformance/zebra:v1")
    project.register("conformance/okapi:v1", workspace_id=workspace_id)

    default_names = list_image_names(project, type="DEDICATED")
    workspace_names = list_image_names(project, type="DEDICATED", workspace_id=workspace_id)

    assert default_names == ["zebra"]
    assert workspace_names == ["okapi"]


def test_listing_shows_built_in_images_in_every_workspace(project):
    workspace_id = uuid.uuid4().hex

    listing = list_images(project, name=PRESET_NAME, name_fuzzy_match=False, workspace_id=workspace_id)

    assert listing.total == 2


def test_listing_rejects_invalid_name(project):
    error = expect_client_error(project.client.list_image, ListImageRequest(name="zeb%ra"))

    assert error.status_code == 400
    assert error.error_code == INVALID_FIELD
    assert "name" in error.error_msg


def test_listing_orders_newest_update_first(project):
    project.register_in_order(["conformance/aardvark:v1", "conformance/bison:v1", "conformance/camel:v1"])

    names = list_image_names(project, type="DEDICATED")

    assert names == ["camel", "bison", "aardvark"]


def test_listing_sorts_by_name_in_either_direction(project):
    project.register_in_order(["conformance/bison:v1", "conformance/camel:v1", "conformance/aardvark:v1"])

    ascending = list_image_names(project, type="DEDICATED", sort_key="name", sort_dir="ASC")
    descending = list_image_names(project, type="DEDICATED", sort_key="name", sort_dir="DESC")

    assert ascending == ["aardvark", "bison", "camel"]
    assert descending == ["camel", "bison", "aardvark"]


def test_listing_sorts_by_several_keys(project):
    project.register_in_order(["beta-lab/zebra:v1", "alpha-lab/zebra:v1", "alpha-lab/okapi:v1"])

    listing = list_images(project, type="DEDICATED", sort_key="namespace,name", sort_dir="ASC")

    assert [(image.namespace, image.name) for image in listing.data] == [
        ("alpha-lab", "okapi"),
        ("alpha-lab", "zebra"),
        ("beta-lab", "zebra"),
    ]


def test_listing_accepts_create_time_alias(project):
    project.register_in_order(["conformance/camel:v1", "conformance/aardvark:v1", "conformance/bison:v1"])

    names = list_image_names(project, type="DEDICATED", sort_key="createTime", sort_dir="ASC")

    assert names == ["camel", "aardvark", "bison"]


def test_listing_pages_report_counts(project):
    project.register_in_order([f"conformance/zebra:v{number}" for number in range(5)])

    first = list_images(project, type="DEDICATED", limit=2, offset=0)
    second = list_images(project, type="DEDICATED", limit=2, offset=2)
    last = list_images(project, type="DEDICATED", limit=2, offset=4)

    assert (first.current, first.pages, first.size, first.total) == (1, 3, 2, 5)
    assert (second.current, second.pages, second.size, second.total) == (2, 3, 2, 5)
    assert (last.current, last.pages, last.size, last.total) == (3, 3, 1, 5)


def test_listing_pages_cover_every_image_once(project):
    images = project.register_in_order([f"conformance/zebra:v{number}" for number in range(5)])

    paged_ids = []
    for offset in (0, 2, 4):
        paged_ids += [image.id for image in list_images(project, type="DEDICATED", limit=2, offset=offset).data]

    assert sorted(paged_ids) == sorted(image.id for image in images)


def test_listing_past_the_end_keeps_total(project):
    project.register_in_order(["conformance/zebra:v1", "conformance/zebra:v2"])

    listing = list_images(project, type="DEDICATED", limit=2, offset=10)

    assert listing.data == []
    assert listing.size == 0
    assert listing.total == 2


@pytest.mark.parametrize("limit", [0, 1001, -1])
def test_listing_rejects_out_of_range_limit(project, limit):
    error = expect_client_error(project.client.list_image, ListImageRequest(limit=limit))

    assert error.status_code == 400
    assert error.error_code == INVALID_FIELD
    assert "limit" in error.error_msg


def test_listing_rejects_negative_offset(project):
    error = expect_client_error(project.client.list_image, ListImageRequest(offset=-1))

    assert error.status_code == 400
    assert error.error_code == INVALID_FIELD
    assert "offset" in error.error_msg


def test_listing_rejects_unsortable_sort_key(project):
    error = expect_client_error(project.client.list_image, ListImageRequest(sort_key="size"))

    assert error.status_code == 400
    assert error.error_code == "ModelArts.6303"


def test_listing_rejects_unknown_sort_dir(project):
    error = expect_client_error(project.client.list_image, ListImageRequest(sort_dir="SIDEWAYS"))

    assert error.status_code == 400
    assert error.error_code == INVALID_FIELD
    assert "sort_dir" in error.error_msg


def test_listing_does_not_show_another_projects_public_image(project, other_project):
    image = other_project.register("conformance/zebra:v1", visibility="PUBLIC")

    listing = list_images(project, limit=1000)

    assert image.id not in [listed_image.id for listed_image in listing.data]


# --- sync -------------------------------------------------------------------


def test_syncing_without_registry_keeps_image(project):
    image = project.register("conformance/zebra:v1")

    synced = project.client.sync_image(SyncImageRequest(image_id=image.id))

    assert synced.id == image.id
    assert synced.status == "ACTIVE"
    assert synced.swr_path == image.swr_path
    assert synced.name == image.name
    assert synced.tag == image.tag
    assert synced.arch == image.arch
    assert synced.size == image.size


def test_syncing_an_unknown_image_is_not_found(project):
    error = expect_client_error(project.client.sync_image, SyncImageRequest(image_id=str(uuid.uuid4())))

    assert error.status_code == 404
    assert error.error_code == NOT_FOUND


# --- delete -----------------------------------------------------------------


def test_deleting_an_image_returns_it_marked_deleted(project):
    image = project.register("conformance/zebra:v1")

    deleted = project.client.delete_image(DeleteImageRequest(id=image.id))

    assert deleted.status_code == 200
    assert deleted.id == image.id
    assert deleted.status == "DELETED"
    assert deleted.swr_path == image.swr_path


def test_deleted_image_is_not_found(project):
    image = project.register("conformance/zebra:v1")
    project.client.delete_image(DeleteImageRequest(id=image.id))

    error = expect_client_error(project.client.show_image, ShowImageRequest(id=image.id))

    assert error.status_code == 404
    assert error.error_code == NOT_FOUND


def test_deleted_image_is_gone_from_list(project):
    kept_image = project.register("conformance/zebra:v1")
    removed_image = project.register("conformance/zebra:v2")
    project.client.delete_image(DeleteImageRequest(id=removed_image.id))

    listing = list_images(project, type="DEDICATED")

    assert [image.id for image in listing.data] == [kept_image.id]
    assert listing.total == 1


def test_deleting_an_image_twice_is_not_found(project):
    image = project.register("conformance/zebra:v1")
    project.client.delete_image(DeleteImageRequest(id=image.id))

    error = expect_client_error(project.client.delete_image, DeleteImageRequest(id=image.id))

    assert error.status_code == 404
    assert error.error_code == NOT_FOUND


def test_deleting_image_accepts_is_force_body(project):
    image = project.register("conformance/zebra:v1")

    deleted = project.client.delete_image(
        DeleteImageRequest(id=image.id, body=DeleteImageRequestBody(is_force=False))
    )

    assert deleted.status == "DELETED"


def test_deleted_swr_path_can_be_registered_again(project):
    image = project.register("conformance/zebra:v1")
    project.client.delete_image(DeleteImageRequest(id=image.id))

    again = project.register("conformance/zebra:v1")

    assert again.id != image.id
    assert again.status == "ACTIVE"


def test_deleting_another_projects_private_image_is_not_found(project, other_project):
    image = other_project.register("conformance/zebra:v1")

    error = expect_client_error(project.client.delete_image, DeleteImageRequest(id=image.id))

    assert error.status_code == 404
    assert error.error_code == NOT_FOUND


def test_deleting_a_built_in_image_is_forbidden(project):
    preset = list_images(project, name=PRESET_NAME, name_fuzzy_match=False).data[0]

    error = expect_client_error(project.client.delete_image, DeleteImageRequest(id=preset.id))

    assert error.status_code == 403
    assert error.error_code == NOT_ALLOWED
