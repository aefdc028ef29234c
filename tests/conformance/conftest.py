"""Fixtures: one easel server for the whole session, and a fresh project per test.

The server runs with a temporary SQLite database and no registry configured,
so it stores every `swr_path` under the default registry host localhost:5000.
Each test gets projects of its own, so that the images one test registers never
show up in another test's lists. Built-in images are shared by all projects.
"""

import pytest

from support import EaselServer, Project, easel_binary

_server_for_report = None


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    global _server_for_report

    data_dir = tmp_path_factory.mktemp("easel")
    easel = EaselServer(easel_binary(), data_dir)
    _server_for_report = easel
    easel.start()
    yield easel
    easel.stop()


@pytest.fixture
def project(server) -> Project:
    """A fresh project with an access key and an SDK client signed with it."""
    return Project.create(server)


@pytest.fixture
def other_project(server) -> Project:
    """A second fresh project, for checks that one project cannot see another's images."""
    return Project.create(server)


def pytest_terminal_summary(terminalreporter, exitstatus):
    """Point at the server log when a test failed, since the cause is often there."""
    if exitstatus != 0 and _server_for_report is not None:
        terminalreporter.write_line(f"easel server log: {_server_for_report.log_path}")
