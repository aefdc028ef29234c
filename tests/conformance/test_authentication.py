"""Authenticate raw HTTP requests: AK/SK signatures made by the SDK's own signer, and tokens.

These cases need requests that the SDK client never sends (a tampered
signature, an old X-Sdk-Date, a token header), so they use `requests`
directly, signing with huaweicloudsdkcore's Signer where a signature is needed.
"""

import time
import uuid

import requests
from huaweicloudsdkmodelarts.v1 import ListImageRequest

from support import (
    HTTP_TIMEOUT_SECONDS,
    build_sdk_client,
    expect_client_error,
    is_canonical_uuid,
    minutes_ago,
    now_ms,
    send,
)

BAD_SIGNATURE = "ModelArts.0206"


def flip_last_hex_digit(signature: str) -> str:
    last = signature[-1]
    return signature[:-1] + ("0" if last != "0" else "1")


def get_with_token(project, token):
    return requests.get(
        f"{project.server.endpoint}{project.images_path()}",
        headers={"X-Auth-Token": token},
        timeout=HTTP_TIMEOUT_SECONDS,
    )


# --- AK/SK signatures -------------------------------------------------------


def test_sdk_signed_request_is_accepted(project):
    # Checks the suite's own signing, so that the rejections below mean something.
    response = send(project.sign("GET", project.images_path(), query=(("limit", "5"),)))

    assert response.status_code == 200
    assert response.json()["size"] == 5


def test_query_order_on_the_wire_does_not_matter(project):
    request = project.sign("GET", project.images_path(), query=(("limit", "5"), ("offset", "0")))

    response = send(request, uri=f"{project.images_path()}?offset=0&limit=5")

    assert response.status_code == 200


def test_signed_json_post_is_accepted(project):
    body = b'{"swr_path": "conformance/zebra:v1"}'

    response = send(project.sign("POST", project.images_path(), body=body))

    assert response.status_code == 200
    assert response.json()["name"] == "zebra"


def test_tampered_signature_is_rejected(project):
    request = project.sign("GET", project.images_path())
    authorization = request.header_params["Authorization"]
    prefix, signature = authorization.rsplit("Signature=", 1)
    request.header_params["Authorization"] = f"{prefix}Signature={flip_last_hex_digit(signature)}"

    response = send(request)

    assert response.status_code == 401
    assert response.json()["error_code"] == BAD_SIGNATURE


def test_query_changed_after_signing_is_rejected(project):
    request = project.sign("GET", project.images_path(), query=(("limit", "5"),))

    response = send(request, uri=f"{project.images_path()}?limit=6")

    assert response.status_code == 401
    assert response.json()["error_code"] == BAD_SIGNATURE


def test_body_changed_after_signing_is_rejected(project):
    request = project.sign("POST", project.images_path(), body=b'{"swr_path": "conformance/zebra:v1"}')
    request.body = b'{"swr_path": "conformance/okapi:v1"}'

    response = send(request)

    assert response.status_code == 401
    assert response.json()["error_code"] == BAD_SIGNATURE


def test_signature_dated_20_minutes_ago_is_rejected(project):
    request = project.sign("GET", project.images_path(), sdk_date=minutes_ago(20))

    response = send(request)

    assert response.status_code == 401
    assert response.json()["error_code"] == BAD_SIGNATURE


def test_signature_dated_5_minutes_ago_is_accepted(project):
    request = project.sign("GET", project.images_path(), sdk_date=minutes_ago(5))

    response = send(request)

    assert response.status_code == 200


def test_unknown_access_key_is_rejected(project):
    client = build_sdk_client(project.server.endpoint, "UNKNOWNACCESSKEY0000", "no-such-secret", project.project_id)

    error = expect_client_error(client.list_image, ListImageRequest())

    assert error.status_code == 401
    assert error.error_code == BAD_SIGNATURE


def test_wrong_secret_key_is_rejected(project):
    client = build_sdk_client(project.server.endpoint, project.access_key, "wrong-secret", project.project_id)

    error = expect_client_error(client.list_image, ListImageRequest())

    assert error.status_code == 401
    assert error.error_code == BAD_SIGNATURE


def test_malformed_authorization_header_is_rejected(project):
    request = project.sign("GET", project.images_path())
    request.header_params["Authorization"] = "SDK-HMAC-SHA256 garbage"

    response = send(request)

    assert response.status_code == 401
    assert response.json()["error_code"] == BAD_SIGNATURE


def test_request_without_credentials_is_rejected(project):
    response = requests.get(f"{project.server.endpoint}{project.images_path()}", timeout=HTTP_TIMEOUT_SECONDS)

    assert response.status_code == 401
    assert response.json()["error_code"] == "ModelArts.0201"


# --- projects ---------------------------------------------------------------


def test_access_key_for_another_project_is_forbidden(project, other_project):
    request = project.sign("GET", other_project.images_path(), project_header=other_project.project_id)

    response = send(request)

    assert response.status_code == 403
    assert response.json()["error_code"] == "ModelArts.0210"


def test_x_project_id_differing_from_path_is_forbidden(project, other_project):
    request = project.sign("GET", project.images_path(), project_header=other_project.project_id)

    response = send(request)

    assert response.status_code == 403
    assert response.json()["error_code"] == "ModelArts.0210"


def test_malformed_project_id_in_path_is_rejected(project):
    request = project.sign("GET", "/v1/NOT-A-PROJECT/images", project_header="NOT-A-PROJECT")

    response = send(request)

    assert response.status_code == 400
    assert response.json()["error_code"] == "ModelArts.0210"


# --- tokens -----------------------------------------------------------------


def test_token_from_the_cli_is_accepted(project):
    token = project.server.create_token(project.project_id)

    response = get_with_token(project, token["token"])

    assert response.status_code == 200
    assert token["project_id"] == project.project_id


def test_token_expiry_is_in_utc_milliseconds(project):
    before_ms = now_ms()
    token = project.server.create_token(project.project_id, ttl="1h")

    expected_ms = before_ms + 3_600_000

    assert isinstance(token["expires_at"], int)
    assert abs(token["expires_at"] - expected_ms) < 60_000


def test_expired_token_is_rejected(project):
    token = project.server.create_token(project.project_id, ttl="1s")
    time.sleep(2)

    response = get_with_token(project, token["token"])

    assert response.status_code == 401
    assert response.json()["error_code"] == "ModelArts.0202"


def test_unknown_token_is_rejected(project):
    response = get_with_token(project, uuid.uuid4().hex)

    assert response.status_code == 401
    assert response.json()["error_code"] == "ModelArts.0203"


def test_token_for_another_project_is_forbidden(project, other_project):
    token = project.server.create_token(other_project.project_id)

    response = get_with_token(project, token["token"])

    assert response.status_code == 403
    assert response.json()["error_code"] == "ModelArts.0210"


# --- envelope ---------------------------------------------------------------


def test_health_needs_no_credentials(server):
    response = requests.get(f"{server.endpoint}/health", timeout=HTTP_TIMEOUT_SECONDS)

    assert response.status_code == 200


def test_every_response_carries_a_request_id(project):
    accepted = send(project.sign("GET", project.images_path()))
    rejected = requests.get(f"{project.server.endpoint}{project.images_path()}", timeout=HTTP_TIMEOUT_SECONDS)

    assert is_canonical_uuid(accepted.headers.get("X-Request-Id"))
    assert is_canonical_uuid(rejected.headers.get("X-Request-Id"))
    assert accepted.headers["X-Request-Id"] != rejected.headers["X-Request-Id"]


def test_client_request_id_is_echoed(project):
    request_id = str(uuid.uuid4())

    response = send(project.sign("GET", project.images_path()), extra_headers={"X-Request-Id": request_id})

    assert response.headers["X-Request-Id"] == request_id


def test_body_that_is_not_json_is_rejected(project):
    response = send(project.sign("POST", project.images_path(), body=b"swr_path=conformance/zebra:v1"))

    assert response.status_code == 400
    assert response.json()["error_code"] == "ModelArts.6400"


def test_body_that_is_a_json_array_is_rejected(project):
    response = send(project.sign("POST", project.images_path(), body=b'["conformance/zebra:v1"]'))

    assert response.status_code == 400
    assert response.json()["error_code"] == "ModelArts.6400"


def test_unknown_body_fields_are_ignored(project):
    body = b'{"swr_path": "conformance/zebra:v1", "no_such_field": 1}'

    response = send(project.sign("POST", project.images_path(), body=body))

    assert response.status_code == 200
    assert response.json()["name"] == "zebra"


def test_body_over_one_mebibyte_is_rejected(project):
    padding = "x" * (1024 * 1024)
    body = f'{{"swr_path": "conformance/zebra:v1", "description": "{padding}"}}'.encode()

    response = send(project.sign("POST", project.images_path(), body=body))

    assert response.status_code == 413
    assert response.json()["error_code"] == "ModelArts.0101"


def test_error_body_has_only_code_and_message(project):
    response = requests.get(f"{project.server.endpoint}{project.images_path()}", timeout=HTTP_TIMEOUT_SECONDS)

    assert set(response.json()) == {"error_code", "error_msg"}
    assert response.json()["error_msg"]
