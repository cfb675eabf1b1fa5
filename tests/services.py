"""Real services the suite talks to. Absent on a laptop: skip with a reason. Absent in CI: fail."""
import os
import socket
from urllib.parse import urlparse

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/portal_test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def _reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=1):
            return True
    except OSError:
        return False


def require(what: str, present: bool) -> None:
    if present:
        return
    message = f"{what} is not available"
    if IN_CI:
        pytest.fail(message + " (CI=true: a missing service is a failure, not a skip)")
    pytest.skip(message)


def require_postgres() -> str:
    require(f"PostgreSQL at {POSTGRES_URL}", _reachable(POSTGRES_URL, 5432))
    return POSTGRES_URL


def require_redis() -> str:
    require(f"Redis at {REDIS_URL}", _reachable(REDIS_URL, 6379))
    return REDIS_URL


def require_chromium() -> str:
    require(f"Chromium at {CHROMIUM}", os.path.exists(CHROMIUM))
    return CHROMIUM
