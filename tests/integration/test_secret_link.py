"""secret_link against the sandbox cluster: the ServiceAccount as stored, read with the independent admin client.

The real openshift-controller-manager runs here: every service account gets its managed registry pull secret
(``<sa>-dockercfg-xxxxx``) in both ``imagePullSecrets`` and ``secrets``, shortly after it is created. Tests that
create a service account wait for that first (``set_up_service_account``), so the lists they assert are the
ones a real cluster shows and nothing the controller does later races with them.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import threading
import time
from typing import Any

import pytest

from ansible_collections.openshift_ops.images.plugins.module_utils._service_accounts.secret_links import (
    managed_secret_name_prefix,
)
from ansible_collections.openshift_ops.images.tests.unit.support.encoding import b64
from ansible_collections.openshift_ops.images.tests.unit.support.kube_names import sa_path, secret_path

from .sandbox_support import (
    AuditLog,
    Kube,
    ModuleRunner,
    assert_ok,
    managed_pull_secret,
    module_writes,
    warnings_of,
)

DOCKERCONFIGJSON = "kubernetes.io/dockerconfigjson"
PULL_SECRET_REF = "openshift.io/internal-registry-pull-secret-ref"
INTERNAL_REGISTRY = "image-registry.openshift-image-registry.svc:5000"


def make_secret(kube: Kube, namespace: str, name: str, *, secret_type: str = DOCKERCONFIGJSON) -> None:
    data: dict[str, str] = {}
    if secret_type == DOCKERCONFIGJSON:
        document = {"auths": {"registry.example.com": {"auth": b64("robot:robot-Passw0rd")}}}
        data = {".dockerconfigjson": b64(json.dumps(document))}
    elif secret_type == "kubernetes.io/basic-auth":
        data = {"username": b64("git"), "password": b64("git-Passw0rd")}
    kube.create(
        f"/api/v1/namespaces/{namespace}/secrets",
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, "type": secret_type, "data": data},
    )


def make_sa(
    kube: Kube,
    namespace: str,
    name: str,
    *,
    pull: list[str] | None = None,
    mount: list[str] | None = None,
    annotations: dict[str, str] | None = None,
) -> None:
    body: dict[str, Any] = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": name}}
    if annotations:
        body["metadata"]["annotations"] = annotations
    if pull is not None:
        body["imagePullSecrets"] = [{"name": n} for n in pull]
    if mount is not None:
        body["secrets"] = [{"name": n} for n in mount]
    kube.create(f"/api/v1/namespaces/{namespace}/serviceaccounts", body)


def wait_for_managed(kube: Kube, namespace: str, name: str) -> str:
    """The managed pull secret openshift-controller-manager gives the service account, once it holds a token."""
    managed: str = kube.wait_for(
        functools.partial(managed_pull_secret, kube, namespace, name),
        timeout=60,
        what=f"openshift-controller-manager to give {namespace}/{name} its managed pull secret",
    )
    return managed


def set_up_service_account(kube: Kube, namespace: str, name: str, **lists: list[str] | None) -> str:
    """Create the service account and wait until the controller has set it up; returns the managed secret."""
    make_sa(kube, namespace, name, **lists)
    return wait_for_managed(kube, namespace, name)


def sa_lists(kube: Kube, namespace: str, name: str) -> dict[str, list[str]]:
    """Both lists, keyed as the module's diff keys them."""
    sa = kube.get(sa_path(namespace, name))
    return {
        "imagePullSecrets": [ref["name"] for ref in sa.get("imagePullSecrets") or []],
        "secrets": [ref["name"] for ref in sa.get("secrets") or []],
    }


def received(event: dict[str, Any]) -> dt.datetime:
    return dt.datetime.fromisoformat(event["requestReceivedTimestamp"])


def apply_checked(
    run_module: ModuleRunner, audit: AuditLog, kube: Kube, namespace: str, params: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Check mode (no write, nothing changes), the real run (exactly what check mode predicted, what is stored is
    what the diff says), then the same task again (unchanged, no write). Returns (prediction, result)."""
    name = params["service_account"]
    before = sa_lists(kube, namespace, name)
    mark = audit.mark()
    predicted = assert_ok(run_module("secret_link", params, check=True, diff=True))
    assert predicted["changed"] is True
    assert module_writes(audit, mark, namespace) == []
    assert sa_lists(kube, namespace, name) == before

    result = assert_ok(run_module("secret_link", params, diff=True))
    assert result["changed"] is True
    for key in ("action", "added", "removed", "missing_secrets", "service_account", "diff"):
        assert result[key] == predicted[key], key
    assert result["diff"]["before"] == before
    assert result["diff"]["after"] == sa_lists(kube, namespace, name)

    mark = audit.mark()
    again = assert_ok(run_module("secret_link", params, diff=True))
    assert again["changed"] is False
    assert again["action"] == "unchanged"
    assert again["diff"]["before"] == again["diff"]["after"] == result["diff"]["after"]
    assert module_writes(audit, mark, namespace) == []
    assert assert_ok(run_module("secret_link", params, check=True))["changed"] is False
    return predicted, result


# --- linking ------------------------------------------------------------------------------------------------------


def test_link_keeps_other_entries_check_mode_diff_and_idempotence(
    kube: Kube, namespace: str, run_module: ModuleRunner, audit: AuditLog
) -> None:
    make_secret(kube, namespace, "company-registry")
    make_secret(kube, namespace, "other-registry")
    managed = set_up_service_account(
        kube, namespace, "pipeline", pull=["other-registry", "other-registry"], mount=["pipeline-token-abcde"]
    )
    # The controller appended its secret to both lists and kept what was there, duplicates included.
    assert sa_lists(kube, namespace, "pipeline") == {
        "imagePullSecrets": ["other-registry", "other-registry", managed],
        "secrets": ["pipeline-token-abcde", managed],
    }
    params = {"service_account": "pipeline", "namespace": namespace, "secrets": ["secret/company-registry"]}

    predicted, result = apply_checked(run_module, audit, kube, namespace, params)
    assert predicted["action"] == "linked"
    assert predicted["added"] == {"pull": ["company-registry"]}
    assert predicted["removed"] == {}
    expected = ["other-registry", "other-registry", managed, "company-registry"]
    assert sa_lists(kube, namespace, "pipeline") == {
        "imagePullSecrets": expected,
        # The mount list was not named, so it is untouched.
        "secrets": ["pipeline-token-abcde", managed],
    }
    assert result["service_account"] == {
        "name": "pipeline",
        "namespace": namespace,
        "image_pull_secrets": expected,
        "secrets": ["pipeline-token-abcde", managed],
    }
    assert result["diff"]["before_header"] == f"serviceaccount {namespace}/pipeline"

    # Another spelling of the same secret is the same link.
    mark = audit.mark()
    other_spelling = assert_ok(run_module("secret_link", {**params, "secrets": ["secrets/company-registry"]}))
    assert other_spelling["changed"] is False
    assert module_writes(audit, mark, namespace) == []


def test_link_for_pull_and_mount_then_unlink_one_purpose_at_a_time(
    kube: Kube, namespace: str, run_module: ModuleRunner, audit: AuditLog
) -> None:
    make_secret(kube, namespace, "git-credentials", secret_type="kubernetes.io/basic-auth")
    managed = set_up_service_account(kube, namespace, "pipeline", mount=["pipeline-token-q1w2e"])
    params = {"service_account": "pipeline", "namespace": namespace, "secrets": ["git-credentials"]}

    _predicted, linked = apply_checked(run_module, audit, kube, namespace, {**params, "purpose": ["mount", "pull"]})
    assert linked["added"] == {"pull": ["git-credentials"], "mount": ["git-credentials"]}
    # The kubelet ignores basic-auth secrets for pulls: say so.
    assert any("ignores it for pulls" in w for w in warnings_of(linked))
    assert sa_lists(kube, namespace, "pipeline") == {
        "imagePullSecrets": [managed, "git-credentials"],
        "secrets": ["pipeline-token-q1w2e", managed, "git-credentials"],
    }

    # With purpose, only the lists it names.
    _predicted, unlinked = apply_checked(
        run_module, audit, kube, namespace, {**params, "purpose": ["pull"], "state": "absent"}
    )
    assert unlinked["action"] == "unlinked"
    assert unlinked["removed"] == {"pull": ["git-credentials"]}
    assert sa_lists(kube, namespace, "pipeline") == {
        "imagePullSecrets": [managed],
        "secrets": ["pipeline-token-q1w2e", managed, "git-credentials"],
    }

    _predicted, unmounted = apply_checked(
        run_module, audit, kube, namespace, {**params, "purpose": ["mount"], "state": "absent"}
    )
    assert unmounted["removed"] == {"mount": ["git-credentials"]}
    assert sa_lists(kube, namespace, "pipeline") == {
        "imagePullSecrets": [managed],
        "secrets": ["pipeline-token-q1w2e", managed],
    }
    assert warnings_of(unmounted) == []


# --- unlinking ----------------------------------------------------------------------------------------------------


def test_unlink_without_purpose_removes_from_both_lists_like_oc_secrets_unlink(
    kube: Kube, namespace: str, run_module: ModuleRunner, audit: AuditLog
) -> None:
    # robot is in both lists; git-credentials only in secrets (where `oc secrets link` puts it by default).
    managed = set_up_service_account(
        kube, namespace, "pipeline", pull=["robot", "kept"], mount=["robot", "git-credentials", "kept"]
    )
    params = {
        "service_account": "pipeline",
        "namespace": namespace,
        "secrets": ["robot", "git-credentials"],
        "state": "absent",
    }
    predicted, result = apply_checked(run_module, audit, kube, namespace, params)
    assert predicted["removed"] == {"pull": ["robot"], "mount": ["robot", "git-credentials"]}
    assert predicted["diff"]["after"] == {"imagePullSecrets": ["kept", managed], "secrets": ["kept", managed]}
    assert sa_lists(kube, namespace, "pipeline") == {
        "imagePullSecrets": ["kept", managed],
        "secrets": ["kept", managed],
    }
    assert result["action"] == "unlinked"
    assert warnings_of(result) == []


def test_unlink_removes_duplicates_and_works_for_deleted_secrets(
    kube: Kube, namespace: str, run_module: ModuleRunner, audit: AuditLog
) -> None:
    # None of these secrets exists: unlinking does not need them.
    managed = set_up_service_account(kube, namespace, "app", pull=["gone", "kept", "gone"])
    params = {"service_account": "app", "namespace": namespace, "secrets": ["gone"], "state": "absent"}
    _predicted, result = apply_checked(run_module, audit, kube, namespace, params)
    assert result["removed"] == {"pull": ["gone"]}
    assert sa_lists(kube, namespace, "app") == {"imagePullSecrets": ["kept", managed], "secrets": [managed]}


@pytest.mark.parametrize(
    ("purpose", "lists"),
    [(None, "imagePullSecrets and secrets"), (["mount"], "secrets"), (["pull"], "imagePullSecrets")],
)
def test_unlinking_the_managed_secret_warns_and_the_controller_puts_it_back(
    kube: Kube, namespace: str, run_module: ModuleRunner, audit: AuditLog, *, purpose: list[str] | None, lists: str
) -> None:
    managed = managed_pull_secret(kube, namespace, "deployer")
    assert managed is not None
    set_up = {"imagePullSecrets": [managed], "secrets": [managed]}
    assert sa_lists(kube, namespace, "deployer") == set_up
    params: dict[str, Any] = {
        "service_account": "deployer",
        "namespace": namespace,
        "secrets": [managed],
        "state": "absent",
    }
    if purpose is not None:
        params["purpose"] = purpose

    mark = audit.mark()
    predicted = assert_ok(run_module("secret_link", params, check=True))
    assert predicted["changed"] is True
    assert module_writes(audit, mark, namespace) == []

    result = assert_ok(run_module("secret_link", params))
    assert result["changed"] is True
    assert result["removed"] == predicted["removed"]
    assert (
        f"{managed} is the service account's managed registry secret; OpenShift's controller adds it back to {lists}"
        in warnings_of(result)
    )
    assert len(module_writes(audit, mark, namespace, "serviceaccounts")) == 1
    # What the warning says: the removal does not last (so a second run would unlink it again).
    kube.wait_for(
        lambda: sa_lists(kube, namespace, "deployer") == set_up,
        timeout=30,
        what="openshift-controller-manager to list the managed secret again",
    )


# --- missing things and bad input -------------------------------------------------------------------------------------


def test_missing_secret_is_an_error_unless_allowed(
    kube: Kube, namespace: str, run_module: ModuleRunner, audit: AuditLog
) -> None:
    managed = set_up_service_account(kube, namespace, "app")
    params = {"service_account": "app", "namespace": namespace, "secrets": ["not-yet"]}

    mark = audit.mark()
    failed = run_module("secret_link", params)
    assert failed.get("failed") is True
    assert f"secret {namespace}/not-yet does not exist" in failed["msg"]
    assert "allow_missing" in failed["msg"]
    assert module_writes(audit, mark, namespace) == []

    _predicted, allowed = apply_checked(run_module, audit, kube, namespace, {**params, "allow_missing": True})
    assert allowed["missing_secrets"] == ["not-yet"]
    assert any(f"secret {namespace}/not-yet does not exist yet" in w for w in warnings_of(allowed))
    assert sa_lists(kube, namespace, "app") == {"imagePullSecrets": [managed, "not-yet"], "secrets": [managed]}


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"service_account": "nobody", "secrets": ["company-registry"]}, "service account {ns}/nobody does not exist"),
        ({"service_account": "default", "secrets": ["configmap/company-registry"]}, "expected a secret"),
        (
            {"service_account": "default", "secrets": ["Company_Registry"]},
            "secrets: 'Company_Registry' is not a valid secret name",
        ),
        (
            {"service_account": "Default", "secrets": ["company-registry"]},
            "service_account: 'Default' is not a valid service account name",
        ),
        ({"service_account": "default", "secrets": ["company-registry"], "purpose": ["push"]}, "purpose"),
        ({"service_account": "default", "secrets": ["company-registry"], "wait_timeout": -1}, "wait_timeout"),
    ],
)
def test_bad_input_and_missing_service_account_write_nothing(
    kube: Kube, namespace: str, run_module: ModuleRunner, audit: AuditLog, *, params: dict[str, Any], fragment: str
) -> None:
    make_secret(kube, namespace, "company-registry")
    before = sa_lists(kube, namespace, "default")
    mark = audit.mark()
    failed = run_module("secret_link", {**params, "namespace": namespace})
    assert failed.get("failed") is True
    assert fragment.format(ns=namespace) in failed["msg"]
    assert "Traceback" not in failed["msg"]
    assert module_writes(audit, mark, namespace) == []
    assert sa_lists(kube, namespace, "default") == before


def test_unlinking_from_a_missing_service_account_is_already_done(
    kube: Kube, namespace: str, run_module: ModuleRunner, audit: AuditLog
) -> None:
    mark = audit.mark()
    absent = assert_ok(
        run_module(
            "secret_link",
            {"service_account": "nobody", "namespace": namespace, "secrets": ["company-registry"], "state": "absent"},
        )
    )
    assert absent["changed"] is False
    assert any(f"service account {namespace}/nobody does not exist" in w for w in warnings_of(absent))
    assert module_writes(audit, mark, namespace) == []
    assert kube.get(sa_path(namespace, "nobody")) is None


# --- wait_for_service_account -----------------------------------------------------------------------------------------


class ModuleInBackground:
    """Run a module in a thread (it waits for something the test does meanwhile); ``finished`` is monotonic time."""

    def __init__(self, run_module: ModuleRunner, name: str, params: dict[str, Any]) -> None:
        self.outcome: dict[str, Any] = {}
        self._thread = threading.Thread(target=self._run, args=(run_module, name, params), daemon=True)

    def _run(self, run_module: ModuleRunner, name: str, params: dict[str, Any]) -> None:
        self.outcome["result"] = run_module(name, params)
        self.outcome["finished"] = time.monotonic()

    def start(self) -> ModuleInBackground:
        self._thread.start()
        return self

    @property
    def done(self) -> bool:
        return "finished" in self.outcome

    def join(self, timeout: float = 120) -> dict[str, Any]:
        self._thread.join(timeout=timeout)
        assert not self._thread.is_alive(), "the module did not finish"
        result: dict[str, Any] = self.outcome["result"]
        return result


def test_wait_for_a_long_named_service_account_created_later(
    kube: Kube, namespace: str, run_module: ModuleRunner, audit: AuditLog
) -> None:
    # 55 characters: the controller names the secret with a cut name and an FNV-1a hash (library-go naming.GetName).
    name = "release-train-pipeline-runner-for-the-platform-team-x12"
    assert len(name) == 55
    make_secret(kube, namespace, "company-registry")
    params = {
        "service_account": name,
        "namespace": namespace,
        "secrets": ["company-registry"],
        "wait_for_service_account": True,
        "wait_timeout": 90,
    }
    mark = audit.mark()
    module = ModuleInBackground(run_module, "secret_link", params).start()
    time.sleep(2)  # the module is polling for a service account that does not exist yet
    assert not module.done
    make_sa(kube, namespace, name)
    result = assert_ok(module.join())
    assert result["changed"] is True
    assert result["added"] == {"pull": ["company-registry"]}

    managed = kube.get(sa_path(namespace, name))["metadata"]["annotations"][PULL_SECRET_REF]
    # Our idea of the controller's name is the controller's: the prefix, then the 5 random characters.
    prefix = managed_secret_name_prefix(name)
    assert len(prefix) == 58
    assert managed.startswith(prefix)
    assert len(managed) == len(prefix) + 5
    # The module linked after the controller had listed its secret (else that would come last) and left it alone.
    lists = {"imagePullSecrets": [managed, "company-registry"], "secrets": [managed]}
    assert sa_lists(kube, namespace, name) == lists
    assert result["service_account"]["image_pull_secrets"] == lists["imagePullSecrets"]
    assert managed_pull_secret(kube, namespace, name) == managed
    # And only after the controller had written the token into it.
    [write] = module_writes(audit, mark, namespace, "serviceaccounts")
    token_writes = [
        event
        for event in audit.writes(
            since=mark, namespace=namespace, resource="secrets", name=managed, include_system=True
        )
        if "image-pull-secret-controller" in event["requestURI"]
    ]
    assert token_writes, "no write of the token into the managed secret in the audit log"
    assert received(write) > received(token_writes[0])


def make_held_pull_secret(kube: Kube, namespace: str, service_account: str) -> str:
    """A service account whose managed pull secret is listed but holds no credentials until the test fills it in.

    The controller links a new service account's secret with ``.dockercfg`` ``{}`` and writes the token a few
    milliseconds later: too quick to hold. So the secret here is one it leaves alone, a legacy managed pull secret
    (clusters upgraded from before 4.16), recognised by its annotations; the service account names it as the
    controller does, and the controller lists it in ``secrets`` too."""
    name = f"{service_account}-dockercfg-hold1"
    kube.create(
        f"/api/v1/namespaces/{namespace}/secrets",
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {
                "name": name,
                "annotations": {
                    "kubernetes.io/service-account.name": service_account,
                    "kubernetes.io/service-account.uid": "",
                    "openshift.io/token-secret.name": f"{service_account}-token-hold1",
                    "openshift.io/token-secret.value": "",
                },
            },
            "type": "kubernetes.io/dockercfg",
            "data": {".dockercfg": b64("{}")},
        },
    )
    make_sa(kube, namespace, service_account, pull=[name], annotations={PULL_SECRET_REF: name})
    kube.wait_for(
        lambda: sa_lists(kube, namespace, service_account) == {"imagePullSecrets": [name], "secrets": [name]},
        timeout=60,
        what=f"openshift-controller-manager to set {namespace}/{service_account} up",
    )
    return name


def fill_in_credentials(kube: Kube, namespace: str, name: str) -> None:
    document = {INTERNAL_REGISTRY: {"auth": b64("<token>:eyJhbGciOiJSUzI1NiJ9.e30.c2lnbmF0dXJl")}}

    def fill(secret: dict[str, Any]) -> bool:
        secret["data"] = {".dockercfg": b64(json.dumps(document))}
        return True

    kube.update_with_retry(secret_path(namespace, name), fill)


def test_wait_returns_only_once_the_managed_secret_holds_credentials(
    kube: Kube, namespace: str, run_module: ModuleRunner, audit: AuditLog
) -> None:
    make_secret(kube, namespace, "company-registry")
    held = make_held_pull_secret(kube, namespace, "upgraded")
    params = {
        "service_account": "upgraded",
        "namespace": namespace,
        "secrets": ["company-registry"],
        "wait_for_service_account": True,
        "wait_timeout": 90,
    }
    mark = audit.mark()
    module = ModuleInBackground(run_module, "secret_link", params).start()
    time.sleep(4)  # the service account and its listed secret are there: only the credentials are missing
    assert not module.done, module.outcome.get("result")
    fill_in_credentials(kube, namespace, held)
    filled_at = time.monotonic()
    result = assert_ok(module.join())
    assert module.outcome["finished"] > filled_at
    assert result["changed"] is True
    assert sa_lists(kube, namespace, "upgraded") == {"imagePullSecrets": [held, "company-registry"], "secrets": [held]}
    [write] = module_writes(audit, mark, namespace, "serviceaccounts")
    [fill] = audit.writes(since=mark, namespace=namespace, resource="secrets", name=held)
    assert received(write) > received(fill)


def test_wait_times_out_while_the_managed_secret_holds_no_credentials(
    kube: Kube, namespace: str, run_module: ModuleRunner, audit: AuditLog
) -> None:
    make_secret(kube, namespace, "company-registry")
    held = make_held_pull_secret(kube, namespace, "upgraded")
    mark = audit.mark()
    started = time.monotonic()
    failed = run_module(
        "secret_link",
        {
            "service_account": "upgraded",
            "namespace": namespace,
            "secrets": ["company-registry"],
            "wait_for_service_account": True,
            "wait_timeout": 3,
        },
    )
    elapsed = time.monotonic() - started
    assert failed.get("failed") is True
    assert (
        f"service account {namespace}/upgraded lists its managed registry pull secret {held}, but after 3s "
        "(wait_timeout) the secret still holds no credentials"
    ) in failed["msg"]
    assert 3 <= elapsed < 30
    assert module_writes(audit, mark, namespace) == []
    assert sa_lists(kube, namespace, "upgraded") == {"imagePullSecrets": [held], "secrets": [held]}


def test_wait_for_a_service_account_that_never_appears_times_out(
    kube: Kube, namespace: str, run_module: ModuleRunner, audit: AuditLog
) -> None:
    make_secret(kube, namespace, "company-registry")
    mark = audit.mark()
    started = time.monotonic()
    failed = run_module(
        "secret_link",
        {
            "service_account": "never",
            "namespace": namespace,
            "secrets": ["company-registry"],
            "wait_for_service_account": True,
            "wait_timeout": 3,
        },
    )
    elapsed = time.monotonic() - started
    assert failed.get("failed") is True
    assert failed["msg"] == (
        f"service account {namespace}/never did not appear within 3s (wait_timeout); create it first or raise "
        "wait_timeout"
    )
    assert 3 <= elapsed < 30
    assert module_writes(audit, mark, namespace) == []
    assert kube.get(sa_path(namespace, "never")) is None


def test_wait_on_a_set_up_service_account_links_at_once(
    kube: Kube, namespace: str, run_module: ModuleRunner, audit: AuditLog
) -> None:
    make_secret(kube, namespace, "company-registry")
    managed = managed_pull_secret(kube, namespace, "builder")
    params = {
        "service_account": "builder",
        "namespace": namespace,
        "secrets": ["company-registry"],
        "wait_for_service_account": True,
        "wait_timeout": 60,
    }
    started = time.monotonic()
    _predicted, result = apply_checked(run_module, audit, kube, namespace, params)
    # Four runs; none of them waited for anything (each poll is a second).
    assert time.monotonic() - started < 20
    assert result["added"] == {"pull": ["company-registry"]}
    assert sa_lists(kube, namespace, "builder") == {
        "imagePullSecrets": [managed, "company-registry"],
        "secrets": [managed],
    }


def test_check_mode_does_not_wait_for_a_missing_service_account(
    kube: Kube, namespace: str, run_module: ModuleRunner, audit: AuditLog
) -> None:
    make_secret(kube, namespace, "company-registry")
    params = {
        "service_account": "later",
        "namespace": namespace,
        "secrets": ["company-registry"],
        "wait_for_service_account": True,
        "wait_timeout": 30,
    }
    mark = audit.mark()
    started = time.monotonic()
    result = assert_ok(run_module("secret_link", params, check=True, diff=True))
    assert time.monotonic() - started < 15
    assert result["changed"] is True
    assert result["added"] == {"pull": ["company-registry"]}
    assert result["diff"]["after"] == {"imagePullSecrets": ["company-registry"], "secrets": []}
    assert any("check mode did not wait" in w for w in warnings_of(result))
    assert module_writes(audit, mark, namespace) == []
    assert kube.get(sa_path(namespace, "later")) is None
