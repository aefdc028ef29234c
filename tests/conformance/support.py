"""Start an easel server for the suite and reach it through the official SDK.

Everything here talks only to the loopback address that the server listens on.
"""

import json
import os
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Optional

import pytest
import requests
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.exceptions.exceptions import ClientRequestException
from huaweicloudsdkcore.http.http_config import HttpConfig
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer.signer import Signer
from huaweicloudsdkmodelarts.v1 import (
    ImageRegRequest,
    ModelArtsClient,
    RegisterImageRequest,
)

REPO_ROOT = Path(__file__).resolve().parents[2]

HEALTH_CHECK_ATTEMPTS = 100
HEALTH_CHECK_INTERVAL_SECONDS = 0.1
CLI_TIMEOUT_SECONDS = 30
SERVER_STOP_TIMEOUT_SECONDS = 10
# (connect, read) timeouts for every request the suite sends, so that a hung
# server fails a test instead of stalling the run.
HTTP_TIMEOUT_SECONDS = (5, 30)

# Pause between registrations whose order a test checks, since the service
# stores times in milliseconds.
REGISTRATION_PAUSE_SECONDS = 0.01

# The format of the X-Sdk-Date header, as the SDK's signer writes it.
SDK_DATE_FORMAT = "%Y%m%dT%H%M%SZ"


def new_project_id() -> str:
    """Return a fresh project id: 32 lower-case hex characters."""
    return uuid.uuid4().hex


def free_loopback_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def now_ms() -> int:
    return int(time.time() * 1000)


def is_canonical_uuid(text: str) -> bool:
    """Return whether text is a UUID in its lower-case, hyphenated form."""
    try:
        return str(uuid.UUID(text)) == text
    except (TypeError, ValueError):
        return False


def easel_binary() -> Path:
    """Return the binary under test: $EASEL_BIN, else target/debug/easel."""
    configured = os.environ.get("EASEL_BIN")
    binary = Path(configured) if configured else REPO_ROOT / "target" / "debug" / "easel"
    if not binary.is_file():
        pytest.exit(
            f"easel binary not found at {binary}: run `cargo build` or set EASEL_BIN",
            returncode=2,
        )
    return binary


class EaselServer:
    """One `easel serve` process on a loopback port, with its own database."""

    def __init__(self, binary: Path, data_dir: Path):
        self.binary = binary
        self.data_dir = data_dir
        self.database_url = f"sqlite://{data_dir / 'easel.db'}"
        self.master_key_file = data_dir / "master.key"
        self.log_path = data_dir / "easel.log"
        self.port = free_loopback_port()
        self.host = f"127.0.0.1:{self.port}"
        self.endpoint = f"http://{self.host}"
        self._process: Optional[subprocess.Popen] = None
        self._log_file = None

    def storage_args(self) -> list:
        return [
            "--database",
            self.database_url,
            "--master-key-file",
            str(self.master_key_file),
        ]

    def start(self) -> None:
        """Start `easel serve` and wait until GET /health returns 200."""
        self._log_file = open(self.log_path, "wb")
        self._process = subprocess.Popen(
            [str(self.binary), "serve", "--listen", self.host, *self.storage_args()],
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
        )

        for _ in range(HEALTH_CHECK_ATTEMPTS):
            if self._process.poll() is not None:
                raise RuntimeError(
                    f"easel serve exited with status {self._process.returncode} "
                    f"before it was ready; its log follows:\n{self.log_tail()}"
                )
            try:
                health = requests.get(f"{self.endpoint}/health", timeout=1)
                if health.status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(HEALTH_CHECK_INTERVAL_SECONDS)

        self.stop()
        waited_seconds = HEALTH_CHECK_ATTEMPTS * HEALTH_CHECK_INTERVAL_SECONDS
        raise RuntimeError(
            f"easel serve did not answer GET /health with 200 within about "
            f"{waited_seconds:.0f} s on {self.endpoint}; its log follows:\n{self.log_tail()}"
        )

    def stop(self) -> None:
        """Stop the server: SIGTERM first, SIGKILL if it does not exit in time."""
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=SERVER_STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=SERVER_STOP_TIMEOUT_SECONDS)
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def log_tail(self, line_count: int = 40) -> str:
        if not self.log_path.exists():
            return "(no log written)"
        lines = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(lines[-line_count:])

    def run_cli(self, *args: str) -> dict:
        """Run an easel subcommand on the server's database and parse its JSON output line."""
        command = [str(self.binary), *args, *self.storage_args()]
        completed = subprocess.run(
            command,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=CLI_TIMEOUT_SECONDS,
        )
        if completed.returncode != 0:
            raise RuntimeError(
                f"{' '.join(args)} exited with status {completed.returncode}: "
                f"{completed.stderr.strip()}"
            )
        output_lines = completed.stdout.strip().splitlines()
        if not output_lines:
            raise RuntimeError(f"{' '.join(args)} printed nothing on standard output")
        return json.loads(output_lines[-1])

    def create_access_key(self, project_id: str) -> dict:
        return self.run_cli("access-key", "create", "--project-id", project_id)

    def create_token(self, project_id: str, ttl: Optional[str] = None) -> dict:
        args = ["token", "create", "--project-id", project_id]
        if ttl is not None:
            args += ["--ttl", ttl]
        return self.run_cli(*args)


def build_sdk_client(endpoint: str, access_key: str, secret_key: str, project_id: str) -> ModelArtsClient:
    """Build the SDK's own client for a plain-HTTP endpoint.

    The builder keeps an endpoint that already starts with "http" as it is and
    prefixes "https://" only to bare host names. With the project id in the
    credentials and no region set, the SDK never requests a project id from IAM,
    so every request it sends goes to this endpoint.
    """
    config = HttpConfig.get_default_config()
    config.timeout = HTTP_TIMEOUT_SECONDS
    credentials = BasicCredentials(access_key, secret_key, project_id)
    return (
        ModelArtsClient.new_builder()
        .with_http_config(config)
        .with_credentials(credentials)
        .with_endpoint(endpoint)
        .build()
    )


@dataclass
class Project:
    """A project with its own access key, and an SDK client that signs with it."""

    server: EaselServer
    project_id: str
    access_key: str
    secret_key: str
    client: ModelArtsClient

    @classmethod
    def create(cls, server: EaselServer) -> "Project":
        project_id = new_project_id()
        key = server.create_access_key(project_id)
        client = build_sdk_client(server.endpoint, key["access"], key["secret"], project_id)
        return cls(server, project_id, key["access"], key["secret"], client)

    def register(self, swr_path: str, **fields):
        """Register an image through the SDK and return the RegisterImageResponse."""
        body = ImageRegRequest(swr_path=swr_path, **fields)
        return self.client.register_image(RegisterImageRequest(body=body))

    def register_in_order(self, swr_paths: list) -> list:
        """Register each path in turn, pausing so that no two images share a millisecond timestamp."""
        images = []
        for swr_path in swr_paths:
            images.append(self.register(swr_path))
            time.sleep(REGISTRATION_PAUSE_SECONDS)
        return images

    def sign(
        self,
        method: str,
        path: str,
        query: tuple = (),
        body: Optional[bytes] = None,
        sdk_date: Optional[datetime] = None,
        project_header: Optional[str] = None,
    ) -> SdkRequest:
        """Sign a raw request with the SDK's own signer, as the SDK client would.

        The signed headers are Content-Type, Host, X-Project-Id and X-Sdk-Date.
        `sdk_date` replaces the current time in X-Sdk-Date, and
        `project_header` replaces this project's id in X-Project-Id.
        """
        headers = {
            "Content-Type": "application/json",
            "X-Project-Id": project_header or self.project_id,
        }
        if sdk_date is not None:
            headers["X-Sdk-Date"] = sdk_date.strftime(SDK_DATE_FORMAT)
        request = SdkRequest(
            method=method,
            schema="http",
            host=self.server.host,
            resource_path=path,
            query_params=list(query),
            header_params=headers,
            body=body,
        )
        credentials = BasicCredentials(self.access_key, self.secret_key, self.project_id)
        return Signer(credentials).sign(request)

    def images_path(self) -> str:
        return f"/v1/{self.project_id}/images"


def send(request: SdkRequest, uri: Optional[str] = None, extra_headers: Optional[dict] = None) -> requests.Response:
    """Send a signed request as it is, or to `uri` in place of the signed path and query."""
    headers = dict(request.header_params)
    headers.update(extra_headers or {})
    url = f"{request.schema}://{request.host}{uri if uri is not None else request.uri}"
    return requests.request(
        request.method,
        url,
        headers=headers,
        data=request.body,
        timeout=HTTP_TIMEOUT_SECONDS,
    )


def minutes_ago(minutes: int) -> datetime:
    return datetime.now(timezone.utc) - timedelta(minutes=minutes)


def expect_client_error(call, *args, **kwargs) -> ClientRequestException:
    """Call an SDK method that must fail with a 4xx, and return the SDK's exception."""
    with pytest.raises(ClientRequestException) as caught:
        call(*args, **kwargs)
    return caught.value
