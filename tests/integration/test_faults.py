# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Faults between the modules and the real API server: resets, 5xx, 429, slow and truncated answers, conflicts.

Every module run goes through ``fault_proxy.FaultProxy``, as sandbox-user bound to OpenShift's ``admin`` role in
the project. For each fault the stored object is read before and after and must be one of the two states a
correct client can leave: as it was, or exactly as a fault-free run leaves it. Safe requests are retried; a write
whose answer was lost is never sent again as it was (the proxy's log counts what reached the server); when retries
run out the message names the request, the fault and what was or was not changed.
"""

from __future__ import annotations

import importlib
import re
import secrets
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from .fault_proxy import Fault, FaultProxy
from .sandbox_support import Kube, ModuleRunner, Sandbox, imagestream_path, wait_for_project_setup

USER = "sandbox-user"
SOURCE_IMAGE = "quay.io/openshift-ops/app:1"
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Short enough that a slow answer costs little, long enough for a PUT on two loaded cores.
REQUEST_TIMEOUT = 3.0


@pytest.fixture(scope="module")
def proxy(sandbox: Sandbox) -> Iterator[FaultProxy]:
    pki = Path(sandbox.state_dir) / "pki"
    with FaultProxy(
        sandbox.api, cert=str(pki / "apiserver.crt"), key=str(pki / "apiserver.key"), ca=sandbox.ca
    ) as running:
        yield running


@pytest.fixture(scope="module")
def project(kube: Kube) -> Iterator[str]:
    """One project for every case (each case uses objects of its own), where sandbox-user is an ``admin``."""
    name = f"it-faults-{secrets.token_hex(3)}"
    kube.create("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    wait_for_project_setup(kube, name)
    kube.create(
        f"/apis/rbac.authorization.k8s.io/v1/namespaces/{name}/rolebindings",
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": "faults-admin"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "admin"},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": USER}],
        },
    )
    yield name
    kube.delete(f"/api/v1/namespaces/{name}")


@pytest.fixture(scope="module")
def proxied_kubeconfig(proxy: FaultProxy, sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> str:
    return proxy.kubeconfig(sandbox.user_kubeconfig, tmp_path_factory.mktemp("faults") / "kubeconfig")


# --------------------------------------------------------------------------------------------------------------------
# The operations faults are injected into: each prepares its objects and reads back what it writes


@dataclass(frozen=True)
class Target:
    """One module run and the object it writes, by a name unique to the case."""

    namespace: str
    name: str

    def _stream(self, kube: Kube, *tags: dict[str, Any]) -> None:
        kube.create(
            imagestream_path(self.namespace),
            {
                "apiVersion": "image.openshift.io/v1",
                "kind": "ImageStream",
                "metadata": {"name": self.name},
                "spec": {"tags": list(tags)},
            },
        )


def _reference_tag(name: str, image: str) -> dict[str, Any]:
    return {"name": name, "from": {"kind": "DockerImage", "name": image}, "reference": True}


def _stream_state(kube: Kube, target: Target) -> Any:
    stream = kube.get(imagestream_path(target.namespace, target.name))
    if stream is None:
        return None
    return sorted(
        (tag["name"], tag.get("from", {}).get("name"), bool(tag.get("reference")))
        for tag in stream.get("spec", {}).get("tags") or []
    )


@dataclass(frozen=True)
class Operation:
    name: str
    module: str
    prepare: Callable[[Kube, Target], None]
    params: Callable[[Target], dict[str, Any]]
    state: Callable[[Kube, Target], Any]
    # the write the faults aim at: (method, a fragment of its path)
    write: tuple[str, str]


def _tag_params(target: Target) -> dict[str, Any]:
    return {
        "source": SOURCE_IMAGE,
        "source_type": "DockerImage",
        "dest": f"{target.name}:v1",
        "namespace": target.namespace,
        "reference": True,
    }


def _nothing(_kube: Kube, _target: Target) -> None:
    pass


def _prepare_stream(kube: Kube, target: Target) -> None:
    target._stream(kube, _reference_tag("other", "quay.io/openshift-ops/other:7"))


def _prepare_stream_with_v1(kube: Kube, target: Target) -> None:
    target._stream(kube, _reference_tag("other", "quay.io/openshift-ops/other:7"), _reference_tag("v1", SOURCE_IMAGE))


def _secret_path(target: Target, name: str | None = None) -> str:
    return f"/api/v1/namespaces/{target.namespace}/secrets/{name or target.name}"


def _prepare_secret(kube: Kube, target: Target) -> None:
    kube.create(
        f"/api/v1/namespaces/{target.namespace}/secrets",
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": target.name},
            "type": "kubernetes.io/dockerconfigjson",
            "stringData": {".dockerconfigjson": '{"auths": {"old.example.com": {"auth": "b2xkOnBhc3M="}}}'},
        },
    )


def _secret_params(target: Target) -> dict[str, Any]:
    return {
        "name": target.name,
        "namespace": target.namespace,
        "merge": True,
        "registries": [{"server": "faults.example.com", "username": "robot", "password": FAULT_PASSWORD}],
        "validate_credentials": False,
    }


FAULT_PASSWORD = "fault-case-password-" + secrets.token_hex(4)


def _secret_state(kube: Kube, target: Target) -> Any:
    secret = kube.get(_secret_path(target))
    return None if secret is None else (secret.get("type"), secret.get("data"))


def _prepare_account(kube: Kube, target: Target) -> None:
    _prepare_secret(kube, target)
    kube.create(
        f"/api/v1/namespaces/{target.namespace}/serviceaccounts",
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": target.name}},
    )


def _account_state(kube: Kube, target: Target) -> Any:
    account = kube.get(f"/api/v1/namespaces/{target.namespace}/serviceaccounts/{target.name}")
    # openshift-controller-manager links the account's own <sa>-dockercfg-* secret whenever it gets to it
    return sorted(item["name"] for item in account.get("imagePullSecrets") or [] if "-dockercfg-" not in item["name"])


def _puller_binding_path(target: Target) -> str:
    # oc policy add-role-to-user's name for the binding, which the module follows
    return f"/apis/rbac.authorization.k8s.io/v1/namespaces/{target.namespace}/rolebindings/system:image-puller"


def _prepare_binding(kube: Kube, target: Target) -> None:
    """The binding exists (its first grant created it), so each case's write is a PUT of it."""
    if kube.get(_puller_binding_path(target)) is None:
        kube.create(
            _puller_binding_path(target).rsplit("/", 1)[0],
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "RoleBinding",
                "metadata": {"name": "system:image-puller"},
                "roleRef": {
                    "apiGroup": "rbac.authorization.k8s.io",
                    "kind": "ClusterRole",
                    "name": "system:image-puller",
                },
                "subjects": [{"kind": "ServiceAccount", "namespace": "openshift-config", "name": "first"}],
            },
        )


def _binding_state(kube: Kube, target: Target) -> Any:
    binding = kube.get(_puller_binding_path(target))
    subjects = (binding or {}).get("subjects") or []
    return sorted((subject["kind"], subject.get("namespace"), subject["name"]) for subject in subjects)


OPERATIONS = {
    operation.name: operation
    for operation in (
        Operation("tag", "image_tag", _prepare_stream, _tag_params, _stream_state, ("PUT", "/imagestreams/")),
        Operation(
            "new_stream",
            "image_tag",
            _nothing,
            _tag_params,
            _stream_state,
            ("POST", "/imagestreams"),
        ),
        Operation(
            "untag",
            "image_tag",
            _prepare_stream_with_v1,
            lambda target: {**_tag_params(target), "state": "absent"},
            _stream_state,
            ("DELETE", "/imagestreamtags/"),
        ),
        Operation("secret", "pull_secret", _prepare_secret, _secret_params, _secret_state, ("PUT", "/secrets/")),
        Operation(
            "link",
            "secret_link",
            _prepare_account,
            lambda target: {"service_account": target.name, "namespace": target.namespace, "secrets": [target.name]},
            _account_state,
            ("PUT", "/serviceaccounts/"),
        ),
        Operation(
            "binding",
            "image_puller_binding",
            _prepare_binding,
            lambda target: {"namespace": target.namespace, "service_accounts": [f"openshift-config:{target.name}"]},
            _binding_state,
            ("PUT", "/rolebindings/system:image-puller"),
        ),
    )
}


# --------------------------------------------------------------------------------------------------------------------
# The cases


@dataclass(frozen=True)
class Case:
    id: str
    operation: str
    faults: tuple[Fault, ...]
    # "survived": the run succeeds with changed=true and the object as a fault-free run leaves it
    survives: bool = True
    # how many of the aimed writes reached the server, when the case decides it
    writes_forwarded: int | None = None
    # fragments the failure message must hold (when it does not survive)
    message: tuple[str, ...] = ()
    params: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.id


def _on(method: str, path: str, kind: Any, **options: Any) -> Fault:
    return Fault(kind, methods=frozenset({method}), path_contains=path, **options)


def _get(path: str, kind: Any, **options: Any) -> Fault:
    return _on("GET", path, kind, **options)


def _write(operation: str, kind: Any, **options: Any) -> Fault:
    method, path = OPERATIONS[operation].write
    return _on(method, path, kind, **options)


CASES = [
    # safe requests: retried
    Case("get-reset", "tag", (_get("/imagestreams/", "reset_before"),), writes_forwarded=1),
    Case("get-reset-after", "secret", (_get("/secrets/", "reset_after"),), writes_forwarded=1),
    Case("get-500", "link", (_get("/serviceaccounts/", "status", status=500),), writes_forwarded=1),
    Case("get-502", "tag", (_get("/imagestreams/", "status", status=502, times=2),), writes_forwarded=1),
    Case("get-503", "secret", (_get("/secrets/", "status", status=503),), writes_forwarded=1),
    Case("get-504", "tag", (_get("/imagestreams/", "status", status=504),), writes_forwarded=1),
    Case("get-429-retry-after", "link", (_get("/serviceaccounts/", "status", status=429, retry_after="1"),)),
    Case(
        "get-slow",
        "tag",
        (_get("/imagestreams/", "slow", delay=REQUEST_TIMEOUT + 1),),
        writes_forwarded=1,
        params={"request_timeout": REQUEST_TIMEOUT},
    ),
    Case("get-truncated", "secret", (_get("/secrets/", "truncate"),), writes_forwarded=1),
    Case(
        "review-reset",
        "binding",
        (_on("POST", "subjectaccessreviews", "reset_before"),),
        writes_forwarded=1,
    ),
    # writes the server never saw: sent again after a fresh read
    Case("put-reset-before", "tag", (_write("tag", "reset_before"),), writes_forwarded=1),
    Case("post-reset-before", "new_stream", (_write("new_stream", "reset_before"),), writes_forwarded=1),
    Case("put-503", "secret", (_write("secret", "status", status=503),), writes_forwarded=1),
    Case("put-502-unapplied", "link", (_write("link", "status", status=502),), writes_forwarded=1),
    Case("put-429-retry-after", "tag", (_write("tag", "status", status=429, retry_after="1"),), writes_forwarded=1),
    Case("put-conflict", "secret", (_write("secret", "conflict"),), writes_forwarded=1),
    Case("binding-put-conflict", "binding", (_write("binding", "conflict"),), writes_forwarded=1),
    # writes the server applied but whose answer was lost: read again, never sent again
    Case("put-reset-after", "tag", (_write("tag", "reset_after"),), writes_forwarded=1),
    Case("post-reset-after", "new_stream", (_write("new_stream", "reset_after"),), writes_forwarded=1),
    Case("put-500-after", "secret", (_write("secret", "status_after", status=500),), writes_forwarded=1),
    Case("put-504-after", "link", (_write("link", "status_after", status=504),), writes_forwarded=1),
    Case(
        "put-slow-after",
        "tag",
        (_write("tag", "slow_after", delay=REQUEST_TIMEOUT + 1),),
        writes_forwarded=1,
        params={"request_timeout": REQUEST_TIMEOUT},
    ),
    Case("put-truncated", "link", (_write("link", "truncate"),), writes_forwarded=1),
    Case("binding-put-reset-after", "binding", (_write("binding", "reset_after"),), writes_forwarded=1),
    # a lost DELETE is sent again under its preconditions: the 404 to the repeat says the first was applied
    Case("delete-reset-after", "untag", (_write("untag", "reset_after"),), writes_forwarded=2),
    Case("delete-reset-before", "untag", (_write("untag", "reset_before"),), writes_forwarded=1),
    # retries run out: the message says which request, what failed and what the object holds
    Case(
        "get-503-persists",
        "tag",
        (_get("/imagestreams/", "status", status=503, times=100),),
        survives=False,
        writes_forwarded=0,
        message=("GET /apis/image.openshift.io/v1/namespaces/", "503", "after 4 attempts"),
    ),
    Case(
        "get-reset-persists",
        "secret",
        (_get("/secrets/", "reset_before", times=100),),
        survives=False,
        writes_forwarded=0,
        message=("GET /api/v1/namespaces/", "broke before an answer arrived", "after 4 attempts"),
    ),
    Case(
        "put-unapplied-every-time",
        "link",
        (_write("link", "reset_before", times=100),),
        survives=False,
        writes_forwarded=0,
        message=("PUT /api/v1/namespaces/", "broke before an answer arrived", "5 writes of", "nothing was changed"),
    ),
    Case(
        "put-lost-then-unreadable",
        "tag",
        (_write("tag", "reset_after"), _get("/imagestreams/", "status", status=503, times=100, skip=1)),
        survives=False,
        writes_forwarded=1,
        message=(
            "PUT /apis/image.openshift.io/v1/namespaces/",
            "may or may not have been applied",
            "reading /apis/image.openshift.io/v1/namespaces/",
            "never in between",
        ),
    ),
    Case(
        "put-conflict-every-time",
        "secret",
        (_write("secret", "conflict", times=100),),
        survives=False,
        writes_forwarded=0,
        message=("PUT /api/v1/namespaces/", "conflict (409)", "gave up after 10 conflicting writes"),
    ),
]


def _aimed_writes(proxy: FaultProxy, operation: Operation) -> list[Any]:
    method, fragment = operation.write
    return [event for event in proxy.requests(method, forwarded=True) if fragment in event.path.split("?", 1)[0]]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_fault(
    *,
    case: Case,
    kube: Kube,
    proxy: FaultProxy,
    project: str,
    proxied_kubeconfig: str,
    run_module: ModuleRunner,
    execution_path: str,
) -> None:
    operation = OPERATIONS[case.operation]
    target = Target(project, f"{case.id}-{execution_path.replace('_', '-')}"[:60])
    operation.prepare(kube, target)
    before = operation.state(kube, target)
    params = {**operation.params(target), **case.params}

    proxy.inject(*case.faults)
    result = run_module(operation.module, params, kubeconfig=proxied_kubeconfig)
    applied = proxy.faults_applied()
    after_fault = operation.state(kube, target)
    aimed = _aimed_writes(proxy, operation)
    seen = "\n".join(f"  {event}" for event in proxy.requests())
    proxy.inject()
    assert applied >= 1, f"the fault never met a request: {proxy.requests()}"
    assert FAULT_PASSWORD not in repr(result)

    # What a fault-free run leaves, from where the faulty one stopped; a second one must change nothing.
    converged = run_module(operation.module, params, kubeconfig=proxied_kubeconfig)
    assert not converged.get("failed"), converged
    wanted = operation.state(kube, target)
    assert wanted != before, "the operation must change its object, or the case proves nothing"
    # never half-written: as before, or as wanted
    assert after_fault in (before, wanted), f"half-written: {after_fault!r} is neither {before!r} nor {wanted!r}"

    if case.survives:
        assert not result.get("failed"), result
        assert result["changed"] is True, f"{result}\n{seen}"
        assert after_fault == wanted, seen
        assert converged["changed"] is False, converged
    else:
        assert result.get("failed") is True, result
        for fragment in case.message:
            assert fragment in result["msg"], f"{fragment!r} not in {result['msg']!r}\n{seen}"
        if after_fault == before:
            assert converged["changed"] is True
    if case.writes_forwarded is not None:
        assert len(aimed) == case.writes_forwarded, aimed


def test_retry_after_is_waited_for(
    kube: Kube, proxy: FaultProxy, project: str, proxied_kubeconfig: str, run_module: ModuleRunner
) -> None:
    """A 429's Retry-After of 2 s is honoured before the PUT is sent again."""
    operation = OPERATIONS["secret"]
    target = Target(project, f"retry-after-{secrets.token_hex(2)}")
    operation.prepare(kube, target)
    proxy.inject(_write("secret", "status", status=429, retry_after="2"))
    result = run_module(operation.module, operation.params(target), kubeconfig=proxied_kubeconfig)
    puts = proxy.requests("PUT")
    proxy.inject()
    assert not result.get("failed") and result["changed"] is True, result
    assert [event.client_status for event in puts] == [429, 200]
    assert puts[1].at - puts[0].at >= 1.9


def test_counts() -> None:
    """The suite's size, so it cannot shrink unnoticed: cases, faults and operations."""
    assert len(CASES) >= 30
    assert {case.operation for case in CASES} == set(OPERATIONS)
    kinds = {fault.kind for case in CASES for fault in case.faults}
    assert kinds == {
        "reset_before",
        "reset_after",
        "status",
        "status_after",
        "slow",
        "slow_after",
        "truncate",
        "conflict",
    }


# --------------------------------------------------------------------------------------------------------------------
# openshift-apiserver restarted in the middle of a run

# image_tag writes 8 streams at a time: 40 streams are 5 waves, so the restart lands while some are still to go
RESTART_STREAMS = 40


def _restart_openshift_apiserver() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sandbox"))
    importlib.import_module("sandbox").restart_openshift_apiserver()


def test_openshift_apiserver_restarted_during_a_run(
    *,
    kube: Kube,
    proxy: FaultProxy,
    project: str,
    proxied_kubeconfig: str,
    run_module: ModuleRunner,
    execution_path: str,
) -> None:
    """One task tags 40 streams, each request slowed down so that the run is still going when openshift-apiserver
    (the image API) is stopped and started again, as its pods roll on a real cluster. The run survives or fails
    naming the request and the fault and listing exactly the streams it changed; every stream holds the tag whole
    or not at all; a second run completes the rest and a third changes nothing."""
    names = [f"restart-{execution_path.replace('_', '-')}-{index:02d}" for index in range(RESTART_STREAMS)]
    for name in names:
        _prepare_stream(kube, Target(project, name))
    params = {**_tag_params(Target(project, names[0])), "dest": [f"{name}:v1" for name in names]}
    proxy.inject(Fault("slow", delay=0.3, times=10_000))
    outcome: dict[str, Any] = {}
    runner = threading.Thread(
        target=lambda: outcome.update(result=run_module("image_tag", params, kubeconfig=proxied_kubeconfig))
    )
    runner.start()
    deadline = time.monotonic() + 60
    while len(proxy.requests("PUT", forwarded=True)) < 3 and time.monotonic() < deadline and runner.is_alive():
        time.sleep(0.1)
    assert runner.is_alive(), f"the run ended before the restart: {outcome}"
    _restart_openshift_apiserver()
    runner.join(timeout=300)
    proxy.inject()
    result = outcome["result"]

    states = {name: _stream_state(kube, Target(project, name)) for name in names}
    tagged = {name for name, state in states.items() if ("v1", SOURCE_IMAGE, True) in state}
    for name, state in states.items():  # whole or not at all, and the other tag untouched
        assert state in (
            [("other", "quay.io/openshift-ops/other:7", True)],
            [("other", "quay.io/openshift-ops/other:7", True), ("v1", SOURCE_IMAGE, True)],
        ), (name, state)
    if result.get("failed"):
        message = result["msg"]
        assert "/imagestreams/" in message and ("503" in message or "connection" in message), message
        before_error, _sep, changed_part = message.partition("already changed before this error:")
        listed = set(re.findall(r"restart-[a-z-]+-\d\d", changed_part))
        # the stream whose write was lost and could not be read back may hold the tag: the message says so
        uncertain = (
            set(re.findall(r"restart-[a-z-]+-\d\d", before_error)) if "may or may not" in before_error else set()
        )
        assert listed <= tagged <= listed | uncertain, (listed, tagged, message)
        assert result.get("changed", False) is bool(listed)
    else:
        assert result["changed"] is True and tagged == set(names), result
    print(f"restart during the run: {'failed' if result.get('failed') else 'survived'}, {len(tagged)} of {len(names)}")
    print(result.get("msg", "")[:800])

    again = run_module("image_tag", params, kubeconfig=proxied_kubeconfig)
    assert not again.get("failed"), again
    assert again["changed"] is (tagged != set(names))
    assert all(("v1", SOURCE_IMAGE, True) in _stream_state(kube, Target(project, name)) for name in names)
    assert run_module("image_tag", params, kubeconfig=proxied_kubeconfig)["changed"] is False


# --------------------------------------------------------------------------------------------------------------------
# The registry's side: the credential check behind the same proxy


@pytest.fixture(scope="module")
def registry_proxy(sandbox: Sandbox) -> Iterator[FaultProxy]:
    pki = Path(sandbox.state_dir) / "pki"
    with FaultProxy(
        f"https://{sandbox.registry}",
        cert=str(pki / "registry.crt"),
        key=str(pki / "registry.key"),
        ca=sandbox.registry_ca,
    ) as running:
        yield running


REGISTRY_CASES = [
    ("ping-reset", (_get("/v2/", "reset_before"),), True),
    ("ping-503", (_get("/v2/", "status", status=503),), True),
    ("ping-429-retry-after", (_get("/v2/", "status", status=429, retry_after="1"),), True),
    ("ping-truncated", (_get("/v2/", "truncate", skip=1),), True),  # the authenticated GET's answer is cut
    ("ping-reset-persists", (_get("/v2/", "reset_before", times=100),), False),
]


@pytest.mark.parametrize(("name", "faults", "survives"), REGISTRY_CASES, ids=[case[0] for case in REGISTRY_CASES])
def test_registry_fault_during_the_credential_check(
    *,
    name: str,
    faults: tuple[Fault, ...],
    survives: bool,
    sandbox: Sandbox,
    kube: Kube,
    registry_proxy: FaultProxy,
    project: str,
    proxied_kubeconfig: str,
    run_module: ModuleRunner,
    execution_path: str,
) -> None:
    """The GETs of the v2 handshake are retried; when the registry stays unreachable the task fails before writing
    anything, saying so."""
    target = Target(project, f"registry-{name}-{execution_path.replace('_', '-')}")
    server = registry_proxy.url.removeprefix("https://")
    params = {
        "name": target.name,
        "namespace": project,
        "registries": [{"server": server, "username": sandbox.registry_user, "password": sandbox.registry_password}],
        "validate_credentials": True,
        "registry_ca_cert": sandbox.registry_ca,
    }
    registry_proxy.inject(*faults)
    result = run_module("pull_secret", params, kubeconfig=proxied_kubeconfig)
    applied = registry_proxy.faults_applied()
    seen = "\n".join(f"  {event}" for event in registry_proxy.requests())
    registry_proxy.inject()
    assert applied >= 1, f"the fault never met a request:\n{seen}"
    assert sandbox.registry_password not in repr(result)
    stored = _secret_state(kube, target)
    if survives:
        assert not result.get("failed"), f"{result}\n{seen}"
        assert result["changed"] is True and stored is not None
    else:
        assert result.get("failed") is True, result
        assert stored is None, "nothing may be written when the credentials could not be checked"
        for fragment in (server, "after 3 attempts"):
            assert fragment in result["msg"], f"{fragment!r} not in {result['msg']!r}"
