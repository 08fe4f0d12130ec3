"""Shared settings and fixtures for the unit tests: pure logic and loopback servers, no cluster."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from ansible_collections.openshift_ops.images.tests.unit.support.kubeconfigs import service_account_files

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
    """Only the ``K8S_AUTH_*`` settings and the ``KUBECONFIG`` a test sets: the connection options fall back on them,
    and kubeconfig discovery reads ``KUBECONFIG``, wherever the test runs."""
    for name in list(os.environ):
        if name.startswith("K8S_AUTH_") or name == "KUBECONFIG":
            monkeypatch.delenv(name)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """An empty home directory: no ``~/.kube/config`` unless the test writes one."""
    directory = tmp_path / "home"
    directory.mkdir()
    return directory


@pytest.fixture
def service_account(tmp_path: Path) -> Path:
    """A pod's service account mount (token, CA, namespace) for the in-cluster configuration."""
    return service_account_files(tmp_path / "serviceaccount")
