# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures for the integration tests: they run against the sandbox cluster (`make sandbox-up`), never a mock.

Fixtures: ``sandbox``, ``kube``, ``namespace``, ``run_module``, ``run_playbook``, ``audit``, ``user_kube``,
``images``.
Helpers live in ``sandbox_support`` (import it as ``from .sandbox_support import ...`` or
``from sandbox_support import ...``: both names are the same module).
"""

from __future__ import annotations

import os
import re
import secrets
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from . import sandbox_support
from .leak_scan import LEAKS, sandbox_secrets
from .runbook_support import Projects
from .sandbox_support import (
    EXECUTION_PATHS,
    AuditLog,
    Images,
    Kube,
    KubeTestError,
    ModuleRunner,
    PlaybookRunner,
    Sandbox,
    SandboxUnavailableError,
    load_sandbox,
)

# One module object under both names, so `except KubeTestError` works whichever import style a test uses.
sys.modules.setdefault("sandbox_support", sandbox_support)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every test that runs a module or a playbook runs on both execution paths, with the same assertions."""
    if {"run_module", "run_playbook"} & set(metafunc.fixturenames):
        metafunc.parametrize("execution_path", EXECUTION_PATHS)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def sandbox() -> Sandbox:
    """The running sandbox's coordinates; an error (not a skip) when it is down, so nothing passes unseen."""
    try:
        env = load_sandbox()
        answer = Kube(env.kubeconfig).request("GET", "/readyz", timeout=10)
    except (SandboxUnavailableError, OSError, KubeTestError) as error:
        pytest.fail(f"sandbox cluster unavailable: {error}. Start it with `make sandbox-up`.", pytrace=False)
    if str(answer).strip() != "ok":
        pytest.fail(f"sandbox API server is not ready: {answer!r}", pytrace=False)
    sandbox_secrets(LEAKS, env.env)
    return env


# --- the leak scan of the whole session (leak_scan.py) --------------------------------------------------------------

_LEAK_REPORT: list[str] = []


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Every secret the session used, searched in all it showed: a hit fails the session however the tests did."""
    if not LEAKS.runs:
        return
    hits = LEAKS.hits()
    _LEAK_REPORT.extend([LEAKS.summary(), *(f"LEAK {hit}" for hit in hits)])
    _LEAK_REPORT.extend(f"BACKUP NOT PRIVATE {entry}" for entry in LEAKS.bad_backup_modes)
    if hits or LEAKS.bad_backup_modes:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    else:
        _LEAK_REPORT.append("leak scan: zero hits")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for line in _LEAK_REPORT[:200]:
        terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def kube(sandbox: Sandbox) -> Kube:
    """Admin API client for assertions (independent of the collection's code)."""
    return Kube(sandbox.kubeconfig)


@pytest.fixture(scope="session", autouse=True)
def seeded_state(sandbox: Sandbox, kube: Kube) -> None:
    """Put the seeded cluster-wide objects back before the suite starts: `make demo` (or a stopped run) may have
    changed the global pull secret or the pools of a sandbox that is still up."""
    sandbox_support.seed(kube, reset=True)


@pytest.fixture(scope="session")
def images(sandbox: Sandbox, kube: Kube) -> Images:
    """``images.push(repo, tag)``, ``images.import_tag(ns, stream, tag)``, ``images.wait_for_tag(...)``: real
    pushes to the sandbox registry and real imports by openshift-apiserver."""
    return Images(sandbox, kube, ModuleRunner(sandbox))


@pytest.fixture(scope="session")
def user_kube(sandbox: Sandbox) -> Kube:
    """API client as the low-privileged ``sandbox-user`` (no rights until a test grants a Role)."""
    return Kube(sandbox.user_kubeconfig)


@pytest.fixture
def projects(kube: Kube, request: pytest.FixtureRequest) -> Iterator[Projects]:
    """Fresh projects for the runbook and AWX job tests, deleted afterwards (kept with SANDBOX_KEEP_NAMESPACES=1)."""
    made = Projects(kube, request.node.name)
    yield made
    if os.environ.get("SANDBOX_KEEP_NAMESPACES") != "1":
        made.delete_all()


@pytest.fixture
def namespace(kube: Kube, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh namespace as OpenShift sets one up (service accounts with their managed pull secrets,
    ``system:image-pullers``), deleted afterwards (kept when SANDBOX_KEEP_NAMESPACES=1, for debugging)."""
    stem = re.sub(r"[^a-z0-9-]+", "-", request.node.name.lower()).strip("-")[:40].strip("-")
    name = f"it-{stem}-{secrets.token_hex(3)}"
    kube.create("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    sandbox_support.wait_for_project_setup(kube, name)
    yield name
    if os.environ.get("SANDBOX_KEEP_NAMESPACES") != "1":
        kube.delete(f"/api/v1/namespaces/{name}")


@pytest.fixture
def run_module(sandbox: Sandbox, execution_path: str) -> ModuleRunner:
    """``run_module(name, params, check=False, diff=False, kubeconfig=None, env=None) -> dict``, on the test's
    execution path (the shipped module, or its core as the action plugin runs it)."""
    return ModuleRunner(sandbox, path=execution_path)


@pytest.fixture
def run_playbook(sandbox: Sandbox, execution_path: str) -> PlaybookRunner:
    """``run_playbook(yaml_text, *, extra_vars=None, check=False, diff=False, verbosity=0, env=None)``, with the
    collection's tasks on the test's execution path."""
    return PlaybookRunner(sandbox, path=execution_path)


@pytest.fixture
def audit(sandbox: Sandbox, kube: Kube) -> AuditLog:
    """``mark = audit.mark()`` then ``audit.writes(since=mark, resource="imagestreams", namespace=ns)``."""
    return AuditLog(Path(sandbox.state_dir) / "logs" / "audit.log", kube)


@pytest.fixture
def restore_seed(kube: Kube) -> Iterator[None]:
    """Puts the seeded cluster-wide objects (openshift-config/pull-secret, pools) back afterwards."""
    yield
    sandbox_support.seed(kube, reset=True)
