"""List, update and delete image groups through the official SDK."""

import time
import uuid

import pytest
from huaweicloudsdkmodelarts.v1 import (
    DeleteImageGroupRequest,
    DeleteImageGroupRequestBody,
    DeleteImageRequest,
    ListImageGroupRequest,
    ShowImageRequest,
    UpdateImageGroupRequest,
    UpdateImageGroupRequestBody,
    UpdateImageGroupRequestBodyTags,
)

from support import REGISTRATION_PAUSE_SECONDS, expect_client_error, is_canonical_uuid, send

PRESET_NAME = "mindspore1.7.0-ubuntu18.04-default"
NOT_FOUND = "ModelArts.6797"
INVALID_FIELD = "ModelArts.0101"
NOT_ALLOWED = "ModelArts.0108"


def list_groups(project, **query):
    return project.client.list_image_group(ListImageGroupRequest(**query))


def list_group_names(project, **query):
    return [group.name for group in list_groups(project, **query).data]


def only_group(project, name):
    """Return the one dedicated group with exactly this name."""
    listing = list_groups(project, name=name, name_fuzzy_match=False, type="DEDICATED")
    assert listing.total == 1, f"expected one group named {name}, got {listing.total}"
    return listing.data[0]


def preset_group(project):
    listing = list_groups(project, name=PRESET_NAME, name_fuzzy_match=False, type="BUILD_IN")
    assert listing.total == 1, f"expected one built-in group named {PRESET_NAME}, got {listing.total}"
    return listing.data[0]


def update_group(project, group_id, read_me=None, tags=None):
    body = UpdateImageGroupRequestBody(read_me=read_me, tags=tags)
    return project.client.update_image_group(UpdateImageGroupRequest(id=group_id, body=body))


# --- list -------------------------------------------------------------------


def test_listing_groups_returns_the_documented_shape(project):
    project.register("conformance/zebra:v1")

    listing = list_groups(project, type="DEDICATED")
    body = listing.to_json_object()

    assert {"current", "data", "pages", "size", "total"} <= set(body)
    assert {"id", "name", "namespace", "create_at", "update_at", "version_count"} <= set(body["data"][0])
    assert (listing.current, listing.pages, listing.size, listing.total) == (1, 1, 1, 1)


def test_group_gathers_every_version_of_a_name(project):
    images = project.register_in_order(["conformance/zebra:v1", "conformance/zebra:v2", "conformance/zebra:v3"])

    group = only_group(project, "zebra")

    assert group.name == "zebra"
    assert group.namespace == "conformance"
    assert group.version_count == 3
    assert is_canonical_uuid(group.id)
    assert group.create_at == min(image.create_at for image in images)
    assert group.update_at == max(image.update_at for image in images)


def test_same_name_in_two_namespaces_makes_two_groups(project):
    project.register_in_order(["alpha-lab/zebra:v1", "beta-lab/zebra:v1"])

    listing = list_groups(project, name="zebra", name_fuzzy_match=False, type="DEDICATED")

    assert sorted(group.namespace for group in listing.data) == ["alpha-lab", "beta-lab"]
    assert [group.version_count for group in listing.data] == [1, 1]


def test_group_description_is_the_newest_images(project):
    project.register("conformance/zebra:v1", description="first")
    time.sleep(REGISTRATION_PAUSE_SECONDS)
    project.register("conformance/zebra:v2", description="second")

    assert only_group(project, "zebra").description == "second"


def test_group_id_survives_a_new_version(project):
    project.register("conformance/zebra:v1")
    first_id = only_group(project, "zebra").id

    project.register("conformance/zebra:v2")

    assert only_group(project, "zebra").id == first_id


def test_deleted_version_no_longer_counts(project):
    images = project.register_in_order(["conformance/zebra:v1", "conformance/zebra:v2"])

    project.client.delete_image(DeleteImageRequest(id=images[0].id))

    assert only_group(project, "zebra").version_count == 1


def test_listing_groups_by_fuzzy_name_matches_substrings(project):
    project.register_in_order(["conformance/zebra:v1", "conformance/zebra-two:v1", "conformance/okapi:v1"])

    names = list_group_names(project, name="ebr")

    assert sorted(names) == ["zebra", "zebra-two"]


def test_listing_groups_by_fuzzy_name_ignores_letter_case(project):
    project.register("conformance/zebra:v1")

    names = list_group_names(project, name="ZeBrA")

    assert names == ["zebra"]


def test_listing_groups_by_exact_name_excludes_longer_names(project):
    project.register_in_order(["conformance/zebra:v1", "conformance/zebra-two:v1"])

    names = list_group_names(project, name="zebra", name_fuzzy_match=False)

    assert names == ["zebra"]


def test_listing_groups_treats_underscore_literally(project):
    project.register_in_order(["conformance/zeb_ra:v1", "conformance/zebxra:v1"])

    names = list_group_names(project, name="b_r")

    assert names == ["zeb_ra"]


def test_listing_groups_treats_dot_literally(project):
    project.register_in_order(["conformance/zeb.ra:v1", "conformance/zebxra:v1"])

    names = list_group_names(project, name="b.r")

    assert names == ["zeb.ra"]


def test_listing_groups_by_nested_name_matches_the_slash(project):
    project.register_in_order(["team/ml/zebra:v1", "teamwork/zebra:v1"])

    names = list_group_names(project, name="ml/zeb")

    assert names == ["ml/zebra"]


def test_listing_groups_with_empty_name_is_unfiltered(project):
    project.register_in_order(["conformance/zebra:v1", "conformance/okapi:v1"])

    unfiltered = list_groups(project, type="DEDICATED")
    empty_name = list_groups(project, type="DEDICATED", name="")

    assert empty_name.total == unfiltered.total
    assert empty_name.total == 2


@pytest.mark.parametrize("name", ["zeb%ra", "zeb ra", "zeb*", "z" * 513])
def test_listing_groups_rejects_invalid_name(project, name):
    error = expect_client_error(project.client.list_image_group, ListImageGroupRequest(name=name))

    assert error.status_code == 400
    assert error.error_code == INVALID_FIELD
    assert "name" in error.error_msg


def test_listing_groups_by_namespace_matches_exactly(project):
    project.register_in_order(["alpha-lab/zebra:v1", "alpha-labs/okapi:v1"])

    listing = list_groups(project, namespace="alpha-lab")

    assert [group.name for group in listing.data] == ["zebra"]
    assert listing.total == 1


def test_listing_built_in_groups_merges_preset_versions(project):
    group = preset_group(project)

    assert group.namespace == "atelier"
    assert group.version_count == 2


def test_listing_dedicated_groups_returns_only_the_projects_own(project, other_project):
    project.register("conformance/zebra:v1")
    other_project.register("conformance/okapi:v1", visibility="PUBLIC")

    names = list_group_names(project, type="DEDICATED")

    assert names == ["zebra"]


def test_listing_groups_hides_another_projects_public_image(project, other_project):
    other_project.register("conformance/okapi:v1", visibility="PUBLIC")

    names = list_group_names(project, limit=1000)

    assert "okapi" not in names


def test_listing_groups_without_a_type_includes_presets(project):
    project.register("conformance/zebra:v1")

    names = list_group_names(project, limit=1000)

    assert "zebra" in names
    assert PRESET_NAME in names


def test_listing_groups_orders_by_update_time_newest_first(project):
    project.register_in_order(["conformance/aardvark:v1", "conformance/bison:v1", "conformance/camel:v1"])

    before = list_group_names(project, type="DEDICATED")
    project.register("conformance/aardvark:v2")
    after = list_group_names(project, type="DEDICATED")

    assert before == ["camel", "bison", "aardvark"]
    assert after == ["aardvark", "camel", "bison"]


def test_listing_groups_pages_report_counts(project):
    project.register_in_order([f"conformance/zebra{number}:v1" for number in range(5)])

    first = list_groups(project, type="DEDICATED", limit=2, offset=0)
    second = list_groups(project, type="DEDICATED", limit=2, offset=2)
    last = list_groups(project, type="DEDICATED", limit=2, offset=4)

    assert (first.current, first.pages, first.size, first.total) == (1, 3, 2, 5)
    assert (second.current, second.pages, second.size, second.total) == (2, 3, 2, 5)
    assert (last.current, last.pages, last.size, last.total) == (3, 3, 1, 5)


def test_listing_groups_past_the_end_keeps_total(project):
    project.register_in_order(["conformance/zebra:v1", "conformance/okapi:v1"])

    listing = list_groups(project, type="DEDICATED", limit=10, offset=20)

    assert listing.data == []
    assert listing.size == 0
    assert listing.total == 2
    assert listing.current == 3


@pytest.mark.parametrize("limit", [0, 1001])
def test_listing_groups_rejects_out_of_range_limit(project, limit):
    error = expect_client_error(project.client.list_image_group, ListImageGroupRequest(limit=limit))

    assert error.status_code == 400
    assert error.error_code == INVALID_FIELD
    assert "limit" in error.error_msg


@pytest.mark.parametrize("value, expected_names", [("TRUE", ["zebra", "zebra-two"]), ("False", ["zebra"])])
def test_listing_groups_accepts_booleans_in_any_case(project, value, expected_names):
    # The SDK always sends lower-case booleans, so this case goes out as a raw signed request.
    project.register_in_order(["conformance/zebra:v1", "conformance/zebra-two:v1"])
    query = (("name", "zebra"), ("name_fuzzy_match", value), ("type", "DEDICATED"))

    response = send(project.sign("GET", f"{project.images_path()}/group", query=query))

    assert response.status_code == 200
    assert sorted(group["name"] for group in response.json()["data"]) == expected_names


def test_listing_groups_rejects_malformed_boolean(project):
    query = (("name", "zebra"), ("name_fuzzy_match", "yes"))

    response = send(project.sign("GET", f"{project.images_path()}/group", query=query))

    assert response.status_code == 400
    assert response.json()["error_code"] == INVALID_FIELD
    assert "name_fuzzy_match" in response.json()["error_msg"]


# --- update -----------------------------------------------------------------


def test_updating_a_group_sets_its_read_me(project):
    project.register("conformance/zebra:v1")
    group = only_group(project, "zebra")

    updated = update_group(project, group.id, read_me="# Zebra\nTraining image for stripes.")

    assert updated.status_code == 200
    assert updated.body["id"] == group.id
    assert updated.body["name"] == "zebra"
    assert updated.body["namespace"] == "conformance"
    assert updated.body["read_me"] == "# Zebra\nTraining image for stripes."
    assert updated.body["version_count"] == 1


def test_group_read_me_shows_in_group_list(project):
    project.register("conformance/zebra:v1")
    group = only_group(project, "zebra")

    update_group(project, group.id, read_me="Stripes.")

    assert only_group(project, "zebra").read_me == "Stripes."


def test_updating_a_group_moves_its_update_time(project):
    project.register("conformance/zebra:v1")
    group = only_group(project, "zebra")
    time.sleep(0.01)

    updated = update_group(project, group.id, read_me="Stripes.")

    assert updated.body["update_at"] > group.update_at


def test_updating_a_group_accepts_tags(project):
    project.register("conformance/zebra:v1")
    group = only_group(project, "zebra")

    updated = update_group(project, group.id, tags=[UpdateImageGroupRequestBodyTags(key="team", value="vision")])

    assert updated.status_code == 200
    assert updated.body["id"] == group.id


def test_updating_group_rejects_read_me_over_30000_characters(project):
    project.register("conformance/zebra:v1")
    group = only_group(project, "zebra")

    error = expect_client_error(update_group, project, group.id, read_me="r" * 30_001)

    assert error.status_code == 400
    assert error.error_code == INVALID_FIELD
    assert "read_me" in error.error_msg


def test_updating_an_unknown_group_is_not_found(project):
    error = expect_client_error(update_group, project, str(uuid.uuid4()), read_me="Stripes.")

    assert error.status_code == 404
    assert error.error_code == NOT_FOUND


def test_updating_another_projects_group_is_not_found(project, other_project):
    other_project.register("conformance/zebra:v1")
    group = only_group(other_project, "zebra")

    error = expect_client_error(update_group, project, group.id, read_me="Stripes.")

    assert error.status_code == 404
    assert error.error_code == NOT_FOUND


def test_updating_a_built_in_group_is_forbidden(project):
    group = preset_group(project)

    error = expect_client_error(update_group, project, group.id, read_me="Stripes.")

    assert error.status_code == 403
    assert error.error_code == NOT_ALLOWED


# --- delete -----------------------------------------------------------------


def test_deleting_a_group_returns_the_deleted_group(project):
    project.register_in_order(["conformance/zebra:v1", "conformance/zebra:v2"])
    group = only_group(project, "zebra")

    deleted = project.client.delete_image_group(DeleteImageGroupRequest(id=group.id))

    assert deleted.status_code == 200
    assert deleted.body["id"] == group.id
    assert deleted.body["name"] == "zebra"
    assert deleted.body["namespace"] == "conformance"


def test_deleted_group_is_gone_from_group_list(project):
    project.register_in_order(["conformance/zebra:v1", "conformance/okapi:v1"])
    group = only_group(project, "zebra")

    project.client.delete_image_group(DeleteImageGroupRequest(id=group.id))

    assert list_group_names(project, type="DEDICATED") == ["okapi"]


def test_deleting_a_group_deletes_each_of_its_images(project):
    images = project.register_in_order(["conformance/zebra:v1", "conformance/zebra:v2"])
    group = only_group(project, "zebra")

    project.client.delete_image_group(DeleteImageGroupRequest(id=group.id))

    for image in images:
        error = expect_client_error(project.client.show_image, ShowImageRequest(id=image.id))
        assert error.status_code == 404, f"image {image.tag} is still visible"
        assert error.error_code == NOT_FOUND


def test_deleting_group_accepts_is_force_body(project):
    project.register("conformance/zebra:v1")
    group = only_group(project, "zebra")

    deleted = project.client.delete_image_group(
        DeleteImageGroupRequest(id=group.id, body=DeleteImageGroupRequestBody(is_force=False))
    )

    assert deleted.body["id"] == group.id


def test_deleting_an_unknown_group_is_not_found(project):
    error = expect_client_error(project.client.delete_image_group, DeleteImageGroupRequest(id=str(uuid.uuid4())))

    assert error.status_code == 404
    assert error.error_code == NOT_FOUND


def test_deleting_another_projects_group_is_not_found(project, other_project):
    other_project.register("conformance/zebra:v1")
    group = only_group(other_project, "zebra")

    error = expect_client_error(project.client.delete_image_group, DeleteImageGroupRequest(id=group.id))

    assert error.status_code == 404
    assert error.error_code == NOT_FOUND


def test_deleting_a_built_in_group_is_forbidden(project):
    group = preset_group(project)

    error = expect_client_error(project.client.delete_image_group, DeleteImageGroupRequest(id=group.id))

    assert error.status_code == 403
    assert error.error_code == NOT_ALLOWED
