#!/usr/bin/env bash
# Run the conformance suite: the official ModelArts Python SDK against a
# local easel server that the suite starts and stops itself.
#
# Usage: scripts/conformance.sh [PYTEST_ARGS...]
#
# The first run creates a virtual environment in .venv/conformance and
# installs tests/conformance/requirements.txt into it. Later runs reinstall
# only when that file has changed. The suite runs the binary named by
# EASEL_BIN, or target/debug/easel, which is built with `cargo build` when it
# is missing. A stale binary is not rebuilt, so build before running.
# The exit status is pytest's: 0 when every test passed, non-zero otherwise.
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv="$repo_root/.venv/conformance"
requirements="$repo_root/tests/conformance/requirements.txt"
installed_stamp="$venv/requirements.sha256"

if [[ ! -x "$venv/bin/python" ]]; then
    python3 -m venv "$venv"
fi

requirements_hash=$(sha256sum "$requirements" | cut -d ' ' -f 1)
if [[ ! -f "$installed_stamp" || "$(cat "$installed_stamp")" != "$requirements_hash" ]]; then
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
    echo "$requirements_hash" >"$installed_stamp"
fi

if [[ -z "${EASEL_BIN:-}" ]]; then
    EASEL_BIN="$repo_root/target/debug/easel"
    if [[ ! -x "$EASEL_BIN" ]]; then
        (cd "$repo_root" && cargo build --quiet)
    fi
fi
export EASEL_BIN

# The pytest cache (for --lf) goes inside the ignored virtual environment.
exec "$venv/bin/python" -m pytest -o cache_dir="$venv/pytest-cache" "$repo_root/tests/conformance" "$@"
