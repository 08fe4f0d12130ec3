"""Shared settings and fixtures for the unit tests: pure logic and loopback servers, no cluster."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings

from ansible_collections.openshift_ops.images.plugins.module_utils._kube.connection_options import CONNECTION_ENV_VARS

CONNECTION_VARIABLES = [name for names in CONNECTION_ENV_VARS.values() for name in names]

# CI machines are small and shared; a property test must fail on a wrong answer, never on a slow one.
settings.register_profile("ci", deadline=None, max_examples=200, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci")


@pytest.fixture(autouse=True)
def no_proxy_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the proxies a test sets: the registry check reads these variables, and a proxy of whoever runs the tests
    must not stand between it and the loopback servers."""
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def no_connection_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the ``K8S_AUTH_*`` settings a test sets: the connection options fall back on them, wherever the test
    runs."""
    for name in CONNECTION_VARIABLES:
        monkeypatch.delenv(name, raising=False)
