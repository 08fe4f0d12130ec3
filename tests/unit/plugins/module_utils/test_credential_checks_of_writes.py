"""``validate_credentials`` in ``pull_secret`` and ``global_pull_secret`` asks the registry only about the entries a
run writes, each once, before the write that carries it: the modules' cores against a fake API holding one secret
and a checker that records what it was asked. What the registry check itself does is tested in
``test_credential_flow.py`` and against real registries in the integration suite."""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import (
    ConflictError,
    NotFoundError,
    RegistryCheckError,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._global_pull_secret.apply import (
    apply_global_pull_secret,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._global_pull_secret.request import (
    GlobalPullSecretRequest,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._operation import Outcome, RunContext
from ansible_collections.openshift_ops.images.plugins.module_utils._pull_secret.apply import apply_pull_secret
from ansible_collections.openshift_ops.images.plugins.module_utils._pull_secret.request import PullSecretRequest
from ansible_collections.openshift_ops.images.plugins.module_utils._registry import check as registry_check
from ansible_collections.openshift_ops.images.plugins.module_utils._registry.check import (
    ACCEPTED,
    REJECTED,
    UNCHECKED,
    RegistryCheckResult,
)
from ansible_collections.openshift_ops.images.tests.unit.support.encoding import b64
from ansible_collections.openshift_ops.images.tests.unit.support.kube_fakes import UnexpectedRequests

NAMESPACE = "team-a"
NAME = "robot"
PATH = f"/api/v1/namespaces/{NAMESPACE}/secrets/{NAME}"
COLLECTION = f"/api/v1/namespaces/{NAMESPACE}/secrets"


def entry(user: str, password: str) -> dict[str, str]:
    """An entry as the modules build it from ``registries`` (kubectl's shape)."""
    return {"username": user, "password": password, "auth": b64(f"{user}:{password}")}


def given(*servers: tuple[str, str, str]) -> list[dict[str, str]]:
    return [{"server": server, "username": user, "password": password} for server, user, password in servers]


QUAY = ("quay.io", "q", "quay-pw")
REDHAT = ("registry.redhat.io", "r", "redhat-pw")
PRIVATE = ("registry.example.com", "p", "private-pw")


def stored_secret(auths: Mapping[str, Any]) -> dict[str, Any]:
    content = json.dumps({"auths": dict(auths)}).encode()
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": NAME, "namespace": NAMESPACE, "resourceVersion": "1"},
        "type": "kubernetes.io/dockerconfigjson",
        "data": {".dockerconfigjson": base64.b64encode(content).decode()},
    }


def stored_auths(secret: Mapping[str, Any]) -> dict[str, Any]:
    return json.loads(base64.b64decode(secret["data"][".dockerconfigjson"]))["auths"]


class OneSecret(UnexpectedRequests):
    """The API server as the two modules see it, holding at most one secret at ``PATH``. Every request and every
    registry check goes to ``events`` in the order they happen; ``concurrent_change``, when set, is what another
    writer does to the stored secret just before this task's next PUT reaches the server, which then answers 409."""

    default_namespace = NAMESPACE

    def __init__(self, stored: dict[str, Any] | None, events: list[tuple[str, Any]]) -> None:
        self.stored = copy.deepcopy(stored)
        self.events = events
        self.concurrent_change: Callable[[dict[str, Any]], None] | None = None

    def get(self, path: str, *, allow_missing: bool = False, query: Mapping[str, Any] | None = None) -> dict | None:
        if path != PATH:  # what global_pull_secret may read besides its secret (the cluster's disruption policy)
            return None
        self.events.append(("GET", path))
        if self.stored is None and not allow_missing:
            raise NotFoundError(f"GET {path}: not found", status=404, method="GET", path=path)
        return copy.deepcopy(self.stored)

    def replace(self, path: str, body: Mapping[str, Any]) -> dict:
        assert path == PATH and self.stored is not None
        self.events.append(("PUT", sorted(stored_auths(body))))
        if self.concurrent_change is not None:
            self.concurrent_change(self.stored)
            self.concurrent_change = None
            self._bump()
        if body["metadata"]["resourceVersion"] != self.stored["metadata"]["resourceVersion"]:
            raise ConflictError(f"PUT {path}: the object has been modified", status=409, method="PUT", path=path)
        self.stored = copy.deepcopy(dict(body))
        self._bump()
        return copy.deepcopy(self.stored)

    def create(self, path: str, body: Mapping[str, Any]) -> dict:
        assert path == COLLECTION and self.stored is None
        self.events.append(("POST", sorted(stored_auths(body))))
        self.stored = copy.deepcopy(dict(body)) | {"metadata": {**body["metadata"], "resourceVersion": "1"}}
        return copy.deepcopy(self.stored)

    def _bump(self) -> None:
        assert self.stored is not None
        self.stored["metadata"]["resourceVersion"] = str(int(self.stored["metadata"]["resourceVersion"]) + 1)

    def writes(self) -> list[tuple[str, Any]]:
        return [event for event in self.events if event[0] in ("PUT", "POST")]


@pytest.fixture
def events() -> list[tuple[str, Any]]:
    return []


@pytest.fixture
def refused() -> set[str]:
    """Registry keys the fake registries refuse."""
    return set()


@pytest.fixture(autouse=True)
def registries(monkeypatch: pytest.MonkeyPatch, events: list[tuple[str, Any]], refused: set[str]) -> None:
    """Every registry check goes to ``events`` instead of the network: wildcard keys are unchecked, the keys in
    ``refused`` rejected, the rest accepted."""

    def check_all(entries: Mapping[str, Mapping[str, Any]], **_tls: Any) -> list[RegistryCheckResult]:
        events.append(("CHECK", list(entries)))
        answers = []
        for key in entries:
            if key.startswith("*."):
                answers.append(RegistryCheckResult(key, False, "a wildcard key names no single registry", UNCHECKED))
            elif key in refused:
                answers.append(RegistryCheckResult(key, False, "401 from the registry", REJECTED))
            else:
                answers.append(RegistryCheckResult(key, True, "accepted", ACCEPTED))
        return answers

    monkeypatch.setattr(registry_check, "check_all", check_all)


def checks_asked(events: list[tuple[str, Any]]) -> list[list[str]]:
    return [keys for kind, keys in events if kind == "CHECK"]


def run_pull_secret(client: OneSecret, *, check_mode: bool = False, **params: Any) -> Outcome:
    request = PullSecretRequest.from_params(
        {
            "name": NAME,
            "namespace": NAMESPACE,
            "state": "present",
            "type": "kubernetes.io/dockerconfigjson",
            "merge": False,
            "remove_registries": [],
            "link_service_accounts": [],
            "validate_credentials": True,
            "registry_ca_cert": None,
            "registry_validate_certs": True,
            "force": False,
            "registries": None,
            "auth_file": None,
            "auth_content": None,
        }
        | params
    )
    return apply_pull_secret(client, request, RunContext(check_mode=check_mode))


def run_global_pull_secret(client: OneSecret, *, check_mode: bool = False, **params: Any) -> Outcome:
    request = GlobalPullSecretRequest.from_params(
        {
            "name": NAME,
            "namespace": NAMESPACE,
            "state": "present",
            "registries": None,
            "auth_file": None,
            "auth_content": None,
            "remove_registries": [],
            "replace": False,
            "allow_telemetry_change": False,
            "backup": False,
            "backup_dir": None,
            "validate_credentials": True,
            "registry_ca_cert": None,
            "registry_validate_certs": True,
            "wait": False,
            "wait_timeout": 1800,
        }
        | params
    )
    return apply_global_pull_secret(client, request, RunContext(check_mode=check_mode))


Runner = Callable[..., Outcome]
MODULES = [
    pytest.param(run_pull_secret, {"merge": True}, id="pull_secret"),
    pytest.param(run_global_pull_secret, {}, id="global_pull_secret"),
]


# --- a run that writes nothing asks no registry -----------------------------------------------------------------------


@pytest.mark.parametrize(("run", "options"), MODULES)
@pytest.mark.parametrize("check_mode", [False, True], ids=["run", "check-mode"])
def test_a_run_that_changes_nothing_asks_no_registry(
    events: list[tuple[str, Any]], *, run: Runner, options: dict[str, Any], check_mode: bool
) -> None:
    client = OneSecret(stored_secret({"quay.io": entry(*QUAY[1:]), "registry.redhat.io": entry(*REDHAT[1:])}), events)
    outcome = run(client, check_mode=check_mode, registries=given(QUAY, REDHAT), **options)
    assert outcome.result["changed"] is False
    assert outcome.result["credential_checks"] == []
    assert checks_asked(events) == []
    assert client.writes() == []
    assert not [warning for warning in outcome.warnings if "validate_credentials" in warning]


def test_a_pull_secret_replaced_with_the_entries_it_holds_asks_no_registry(events: list[tuple[str, Any]]) -> None:
    client = OneSecret(stored_secret({"quay.io": entry(*QUAY[1:])}), events)
    outcome = run_pull_secret(client, registries=given(QUAY))  # merge: false, the default
    assert (outcome.result["changed"], outcome.result["credential_checks"]) == (False, [])
    assert checks_asked(events) == []


# --- only the entries written are checked, before the write -----------------------------------------------------------


@pytest.mark.parametrize(("run", "options"), MODULES)
@pytest.mark.parametrize("check_mode", [False, True], ids=["run", "check-mode"])
def test_one_new_entry_among_stored_ones_is_the_one_checked(
    events: list[tuple[str, Any]], *, run: Runner, options: dict[str, Any], check_mode: bool
) -> None:
    client = OneSecret(stored_secret({"quay.io": entry(*QUAY[1:])}), events)
    outcome = run(client, check_mode=check_mode, registries=given(QUAY, PRIVATE), **options)
    assert outcome.result["changed"] is True
    assert [check["registry"] for check in outcome.result["credential_checks"]] == ["registry.example.com"]
    assert outcome.result["credential_checks"][0]["outcome"] == ACCEPTED
    expected_write = [] if check_mode else [("PUT", ["quay.io", "registry.example.com"])]
    assert [event for event in events if event[0] != "GET"] == [("CHECK", ["registry.example.com"]), *expected_write]


@pytest.mark.parametrize(("run", "options"), MODULES)
def test_an_entry_stored_with_other_credentials_is_checked(
    events: list[tuple[str, Any]], *, run: Runner, options: dict[str, Any]
) -> None:
    client = OneSecret(
        stored_secret({"quay.io": entry("q", "old-pw"), "registry.redhat.io": entry(*REDHAT[1:])}), events
    )
    outcome = run(client, registries=given(QUAY, REDHAT), **options)
    assert outcome.result["changed"] is True
    assert checks_asked(events) == [["quay.io"]]
    assert stored_auths(client.stored or {})["quay.io"] == entry(*QUAY[1:])


def test_every_entry_of_a_new_pull_secret_is_checked(events: list[tuple[str, Any]]) -> None:
    client = OneSecret(None, events)
    outcome = run_pull_secret(client, registries=given(QUAY, REDHAT))
    assert outcome.result["action"] == "created"
    assert [event for event in events if event[0] != "GET"] == [
        ("CHECK", ["quay.io", "registry.redhat.io"]),
        ("POST", ["quay.io", "registry.redhat.io"]),
    ]
    assert [check["registry"] for check in outcome.result["credential_checks"]] == ["quay.io", "registry.redhat.io"]


@pytest.mark.parametrize(("run", "options"), MODULES)
def test_a_refused_credential_fails_the_task_and_nothing_is_written(
    events: list[tuple[str, Any]], refused: set[str], *, run: Runner, options: dict[str, Any]
) -> None:
    refused.add("registry.example.com")
    stored = stored_secret({"quay.io": entry(*QUAY[1:])})
    client = OneSecret(stored, events)
    with pytest.raises(RegistryCheckError, match=r"nothing was written:\n- registry\.example\.com: 401"):
        run(client, registries=given(QUAY, PRIVATE), **options)
    assert checks_asked(events) == [["registry.example.com"]]
    assert client.writes() == []
    assert client.stored == stored


# --- a conflict: the plan made again is checked again, nothing twice --------------------------------------------------


def other_writer_changes_redhat(secret: dict[str, Any]) -> None:
    auths = stored_auths(secret) | {"registry.redhat.io": entry("r", "someone-elses-pw")}
    secret["data"][".dockerconfigjson"] = base64.b64encode(json.dumps({"auths": auths}).encode()).decode()


@pytest.mark.parametrize(("run", "options"), MODULES)
def test_after_a_conflict_an_entry_the_new_plan_writes_is_checked_before_that_write(
    events: list[tuple[str, Any]], *, run: Runner, options: dict[str, Any]
) -> None:
    client = OneSecret(stored_secret({"quay.io": entry(*QUAY[1:]), "registry.redhat.io": entry(*REDHAT[1:])}), events)
    client.concurrent_change = other_writer_changes_redhat
    outcome = run(client, registries=given(QUAY, REDHAT, PRIVATE), **options)
    everything = ["quay.io", "registry.example.com", "registry.redhat.io"]
    assert [event for event in events if event[0] != "GET"] == [
        ("CHECK", ["registry.example.com"]),
        ("PUT", everything),  # 409: registry.redhat.io changed meanwhile
        ("CHECK", ["registry.redhat.io"]),  # the new plan writes it back: checked first, the new entry not again
        ("PUT", everything),
    ]
    assert outcome.result["changed"] is True
    assert [check["registry"] for check in outcome.result["credential_checks"]] == [
        "registry.example.com",
        "registry.redhat.io",
    ]
    assert stored_auths(client.stored or {})["registry.redhat.io"] == entry(*REDHAT[1:])


@pytest.mark.parametrize(("run", "options"), MODULES)
def test_an_entry_refused_after_a_conflict_leaves_the_secret_as_the_other_writer_left_it(
    events: list[tuple[str, Any]], refused: set[str], *, run: Runner, options: dict[str, Any]
) -> None:
    refused.add("registry.redhat.io")
    client = OneSecret(stored_secret({"quay.io": entry(*QUAY[1:]), "registry.redhat.io": entry(*REDHAT[1:])}), events)
    client.concurrent_change = other_writer_changes_redhat
    with pytest.raises(RegistryCheckError, match=r"registry\.redhat\.io: 401"):
        run(client, registries=given(QUAY, REDHAT, PRIVATE), **options)
    assert client.writes() == [("PUT", ["quay.io", "registry.example.com", "registry.redhat.io"])]  # the 409 alone
    assert stored_auths(client.stored or {}) == {
        "quay.io": entry(*QUAY[1:]),
        "registry.redhat.io": entry("r", "someone-elses-pw"),
    }


# --- warnings, and what is never checked ------------------------------------------------------------------------------


WILDCARD = ("*.apps.example.com", "w", "wildcard-pw")


@pytest.mark.parametrize(("run", "options"), MODULES)
def test_an_unverifiable_entry_is_warned_about_when_written_and_not_when_stored_as_given(
    events: list[tuple[str, Any]], *, run: Runner, options: dict[str, Any]
) -> None:
    written = run(OneSecret(stored_secret({}), events), registries=given(WILDCARD), **options)
    assert [check["outcome"] for check in written.result["credential_checks"]] == [UNCHECKED]
    assert "validate_credentials: *.apps.example.com: a wildcard key names no single registry" in written.warnings

    stored = stored_secret({WILDCARD[0]: entry(*WILDCARD[1:])})
    unchanged = run(OneSecret(stored, events), registries=given(WILDCARD), **options)
    assert unchanged.result["credential_checks"] == []
    assert not [warning for warning in unchanged.warnings if warning.startswith("validate_credentials")]
    assert checks_asked(events) == [[WILDCARD[0]]]


def test_global_pull_secret_never_checks_the_telemetry_entry(events: list[tuple[str, Any]]) -> None:
    client = OneSecret(stored_secret({"cloud.openshift.com": entry("t", "old-token")}), events)
    outcome = run_global_pull_secret(
        client, registries=given(("cloud.openshift.com", "t", "new-token"), PRIVATE), allow_telemetry_change=True
    )
    assert outcome.result["updated"] == ["cloud.openshift.com"]
    assert checks_asked(events) == [["registry.example.com"]]


def test_removing_entries_checks_nothing(events: list[tuple[str, Any]]) -> None:
    client = OneSecret(stored_secret({"quay.io": entry(*QUAY[1:]), "registry.redhat.io": entry(*REDHAT[1:])}), events)
    outcome = run_pull_secret(client, merge=True, remove_registries=["quay.io"])
    assert outcome.result["registries_removed"] == ["quay.io"]
    assert (checks_asked(events), outcome.result["credential_checks"]) == ([], [])
