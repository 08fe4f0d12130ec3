# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Twenty writers at once on one shared object, for every module but global_pull_secret (its own test file has
one): each writer is a separate module process, all released together by a barrier.

For every case the object read back holds exactly what the writers that succeeded asked for, a writer fails only
with a message that says it gave up on conflicts, ``changed`` is true exactly for the writers whose write was
accepted (cross-checked with the audit log's accepted writes), and a second pass of the same writers writes only
what a writer that gave up the first time still needs (nothing, usually). For one tag written with twenty values the
second pass is the winner's task twenty times, which must change nothing.
"""

from __future__ import annotations

import base64
import inspect
import json
import secrets
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ansible_collections.openshift_ops.images.plugins.module_utils._kube.read_modify_write import read_modify_write
from ansible_collections.openshift_ops.images.tests.unit.support.kube_names import sa_path

from .sandbox_support import (
    AuditLog,
    AuditMark,
    Kube,
    ModuleRunner,
    imagestream_path,
    module_writes,
)

WRITERS = 20
# Generous: a case takes seconds; this only stops a hung writer from hanging the suite.
WRITER_TIMEOUT = 240.0
DOCKERCONFIGJSON = "kubernetes.io/dockerconfigjson"
PULLER = "system:image-puller"
RBAC = "/apis/rbac.authorization.k8s.io/v1"
# How many writes a module tries before it gives up on conflicts (each of these modules uses the default).
WRITE_ATTEMPTS: int = inspect.signature(read_modify_write).parameters["attempts"].default


# --- running writers together ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Writer:
    """One writer's run: its index, its module result and everything its process printed."""

    index: int
    params: Mapping[str, Any]
    result: dict[str, Any]
    output: str

    @property
    def failed(self) -> bool:
        return bool(self.result.get("failed"))


@dataclass(frozen=True)
class Pass:
    """The writers of one pass, split into those that succeeded and those that gave up on conflicts."""

    writers: list[Writer]
    seconds: float

    @property
    def succeeded(self) -> list[Writer]:
        return [writer for writer in self.writers if not writer.failed]

    @property
    def conflicted(self) -> list[Writer]:
        return [writer for writer in self.writers if writer.failed]


def gave_up_on_conflicts(message: str) -> bool:
    """Whether a failure says plainly that the write kept conflicting after every attempt (read_modify_write's
    last 409); a single 409 passed on without a retry is a bug, not this."""
    return "conflict (409)" in message and f"gave up after {WRITE_ATTEMPTS} conflicting writes" in message.lower()


def run_together(
    run_module: ModuleRunner, module: str, params: Sequence[Mapping[str, Any]], *, diff: bool = False
) -> Pass:
    """Run one module process per ``params`` item, all released at once; returns when every one has finished.

    Each thread has its own runner, so the output it inspects (``last``) is its own process's.
    """
    barrier = threading.Barrier(len(params))
    outcomes: dict[int, Writer | BaseException] = {}

    def one(index: int) -> None:
        runner = ModuleRunner(run_module.sandbox, timeout=run_module.timeout, path=run_module.path)
        try:
            barrier.wait(timeout=60)
            result = runner(module, params[index], diff=diff)
            completed = runner.last
            assert completed is not None
            outcomes[index] = Writer(index, params[index], result, completed.stdout + completed.stderr)
        except BaseException as error:  # re-raised below, in the test's thread
            outcomes[index] = error

    threads = [threading.Thread(target=one, args=(index,), name=f"writer-{index}") for index in range(len(params))]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=WRITER_TIMEOUT)
    seconds = time.monotonic() - started
    assert not any(thread.is_alive() for thread in threads), f"writers still running after {WRITER_TIMEOUT:g}s"
    writers: list[Writer] = []
    for index in range(len(params)):
        outcome = outcomes[index]
        if isinstance(outcome, BaseException):
            raise AssertionError(f"writer {index} did not finish: {outcome!r}") from outcome
        writers.append(outcome)
    for writer in writers:
        if writer.failed:
            message = str(writer.result.get("msg", ""))
            assert gave_up_on_conflicts(message), f"writer {writer.index} failed, not on conflicts: {message}"
            assert writer.result.get("changed") is not True, f"writer {writer.index} failed after a change: {message}"
    return Pass(writers, seconds)


@dataclass(frozen=True)
class Writes:
    """The collection's writes to one kind of object in the test's namespace, by response code."""

    codes: list[int]

    @property
    def accepted(self) -> int:
        return sum(1 for code in self.codes if code in (200, 201))

    @property
    def created(self) -> int:
        return self.codes.count(201)

    @property
    def conflicts(self) -> int:
        return self.codes.count(409)

    @property
    def other(self) -> list[int]:
        return [code for code in self.codes if code not in (200, 201, 409)]


def writes_of(audit: AuditLog, mark: AuditMark, namespace: str, resource: str) -> Writes:
    events = module_writes(audit, mark, namespace, resource)
    return Writes([int((event.get("responseStatus") or {}).get("code", 0)) for event in events])


@dataclass(frozen=True)
class Case:
    """One shared object and the module writing it: runs passes of writers and reports each one."""

    run_module: ModuleRunner
    audit: AuditLog
    namespace: str
    resource: str
    module: str
    title: str

    def run(self, params: Sequence[Mapping[str, Any]], *, label: str, diff: bool = False) -> tuple[Pass, Writes]:
        """Every ``params`` item as a writer, all at once; the pass and the collection's writes it caused."""
        mark = self.audit.mark()
        writers = run_together(self.run_module, self.module, params, diff=diff)
        writes = writes_of(self.audit, mark, self.namespace, self.resource)
        print(
            f"\n[concurrency] {self.title}, {label} ({self.run_module.path}): {len(writers.writers)} writers in "
            f"{writers.seconds:.1f}s, {len(writers.conflicted)} gave up on conflicts; {self.resource} writes: "
            f"{writes.accepted} accepted ({writes.created} creates), {writes.conflicts} refused with 409"
        )
        for writer in writers.conflicted:
            print(f"[concurrency]   writer {writer.index} gave up: {writer.result.get('msg')}")
        return writers, writes


def assert_changed_exactly_when_accepted(first: Pass, writes: Writes) -> None:
    """Every writer that succeeded changed the object with one accepted write; no write failed otherwise."""
    assert writes.other == [], f"unexpected response codes: {writes.codes}"
    for writer in first.succeeded:
        assert writer.result["changed"] is True, (writer.index, writer.result)
    # A conflicted writer gave up after a 409: it never wrote. Each successful one wrote exactly once.
    assert writes.accepted == len(first.succeeded), writes.codes
    # Every 409 costs a writer one of its attempts: no more of them than writers times attempts.
    assert writes.conflicts <= WRITE_ATTEMPTS * len(first.writers), writes.codes


def assert_second_pass(first: Pass, second: Pass, writes: Writes) -> set[int]:
    """The same writers again: those whose change landed change nothing and write nothing; only those that gave up
    on conflicts the first time (none, usually) write now. Returns their indexes."""
    retried = {writer.index for writer in first.conflicted}
    for writer in second.writers:
        assert not writer.failed, (writer.index, writer.result.get("msg"))
        assert writer.result["changed"] is (writer.index in retried), (writer.index, writer.result)
    if not retried:
        assert writes.codes == [], f"the second pass wrote: {writes.codes}"
    assert writes.other == [] and writes.accepted == len(retried), writes.codes
    return retried


# --- image streams --------------------------------------------------------------------------------------------------
def spec_tags(kube: Kube, namespace: str, stream: str) -> dict[str, dict[str, Any]]:
    current = kube.get(imagestream_path(namespace, stream)) or {}
    return {entry["name"]: entry for entry in (current.get("spec") or {}).get("tags") or []}


def reference_tag_params(namespace: str, dest: str, index: int, image: str) -> dict[str, Any]:
    """A reference tag: nothing to import, so no controller writes the stream while the writers do."""
    return {
        "namespace": namespace,
        "dest": dest,
        "source": image,
        "source_type": "DockerImage",
        "reference": True,
        # Every field a writer could leave to the current tag is set, so a mix of two writers would show.
        "reference_policy": "local" if index % 2 else "source",
        "import_mode": "PreserveOriginal" if index % 3 == 0 else "Legacy",
    }


def tag_signature(tag: Mapping[str, Any] | None) -> tuple[Any, ...] | None:
    """What a writer decides in a spec tag (the server adds generation and keeps the rest)."""
    if tag is None:
        return None
    from_ = tag.get("from") or {}
    return (
        from_.get("kind"),
        from_.get("name"),
        bool(tag.get("reference")),
        (tag.get("referencePolicy") or {}).get("type"),
        (tag.get("importPolicy") or {}).get("importMode"),
    )


def wanted_signature(params: Mapping[str, Any]) -> tuple[Any, ...]:
    return (
        "DockerImage",
        params["source"],
        True,
        {"local": "Local", "source": "Source"}[params["reference_policy"]],
        params["import_mode"],
    )


def test_twenty_writers_add_twenty_tags_to_one_stream(
    kube: Kube, run_module: ModuleRunner, audit: AuditLog, namespace: str
) -> None:
    case = Case(run_module, audit, namespace, "imagestreams", "image_tag", "image_tag: 20 tags of one stream")
    # The stream does not exist yet: one writer creates it, the others find it on their next read.
    params = [
        reference_tag_params(namespace, f"shared:t{index:02d}", index, f"quay.io/openshift-ops/concurrent:v{index}")
        for index in range(WRITERS)
    ]
    first, writes = case.run(params, label="first pass")
    for writer in first.succeeded:
        [tag] = writer.result["tags"]
        assert tag["action"] == "created", (writer.index, tag)
        assert tag["from"]["name"] == writer.params["source"]
    stored = spec_tags(kube, namespace, "shared")
    assert set(stored) == {f"t{writer.index:02d}" for writer in first.succeeded}
    for writer in first.succeeded:
        assert tag_signature(stored[f"t{writer.index:02d}"]) == wanted_signature(writer.params)
    assert_changed_exactly_when_accepted(first, writes)
    assert writes.created == 1, writes.codes

    second, second_writes = case.run(params, label="second pass")
    retried = assert_second_pass(first, second, second_writes)
    for writer in second.writers:
        assert writer.result["tags"][0]["action"] == ("created" if writer.index in retried else "unchanged")
    stored_again = spec_tags(kube, namespace, "shared")
    assert set(stored_again) == {f"t{index:02d}" for index in range(WRITERS)}
    assert {name: stored_again[name] for name in stored} == stored


def test_twenty_writers_of_the_same_tag_leave_one_whole_value(
    kube: Kube, run_module: ModuleRunner, audit: AuditLog, namespace: str
) -> None:
    case = Case(run_module, audit, namespace, "imagestreams", "image_tag", "image_tag: one tag from 20 sources")
    kube.create(
        imagestream_path(namespace),
        {
            "apiVersion": "image.openshift.io/v1",
            "kind": "ImageStream",
            "metadata": {"name": "shared", "namespace": namespace},
            "spec": {
                "tags": [
                    {"name": "keep-a", "reference": True, "from": {"kind": "DockerImage", "name": "quay.io/o/a:1"}},
                    {
                        "name": "keep-b",
                        "reference": True,
                        "from": {"kind": "DockerImage", "name": "quay.io/o/b:1"},
                        "referencePolicy": {"type": "Local"},
                    },
                ]
            },
        },
    )
    others = spec_tags(kube, namespace, "shared")
    assert set(others) == {"keep-a", "keep-b"}
    params = [
        reference_tag_params(namespace, "shared:contested", index, f"quay.io/openshift-ops/contested:v{index}")
        for index in range(WRITERS)
    ]
    first, writes = case.run(params, label="first pass", diff=True)

    stored = spec_tags(kube, namespace, "shared")
    contested_tag = stored.pop("contested")
    contested = tag_signature(contested_tag)
    # Exactly one writer's value, whole (every field from the same writer), and the other tags untouched.
    winners = [writer for writer in first.succeeded if wanted_signature(writer.params) == contested]
    assert len(winners) == 1, (contested, [wanted_signature(writer.params) for writer in first.succeeded])
    assert stored == others

    # Each successful writer found another value there (the values all differ), so each one wrote: changed is
    # true for all, and the tags they replaced chain them in the order their writes were accepted.
    assert_changed_exactly_when_accepted(first, writes)
    key = f"{namespace}/shared:contested"
    replaced: list[tuple[Any, ...] | None] = []
    for writer in first.succeeded:
        [tag] = writer.result["tags"]
        assert tag["from"]["name"] == writer.params["source"]
        assert tag_signature(writer.result["diff"]["after"][key]) == wanted_signature(writer.params)
        before = tag_signature(writer.result["diff"]["before"].get(key))
        assert tag["action"] == ("created" if before is None else "updated"), (writer.index, tag, before)
        replaced.append(before)
    values = {wanted_signature(writer.params) for writer in first.succeeded}
    assert replaced.count(None) == 1, replaced  # the first write created the tag
    found = [value for value in replaced if value is not None]
    assert len(set(found)) == len(found), "two writers replaced the same value: one of them wrote a stale object"
    # A conflicted writer never wrote, so no successful one can have replaced its value.
    assert set(found) <= values, set(found) - values
    # Every value but the last accepted one was replaced by exactly one writer: the winner's is the one left.
    assert values - set(found) == {contested}

    # The other writers' values were replaced: running them again would (rightly) change the tag again. The
    # second pass runs the winner twenty times at once.
    [winner] = winners
    second, second_writes = case.run([winner.params] * WRITERS, label="second pass: the winner 20 times", diff=True)
    for writer in second.writers:
        assert not writer.failed, (writer.index, writer.result.get("msg"))
        assert writer.result["changed"] is False, (writer.index, writer.result)
        assert writer.result["tags"][0]["action"] == "unchanged"
    assert second_writes.codes == [], f"the second pass wrote: {second_writes.codes}"
    assert spec_tags(kube, namespace, "shared") == {**others, "contested": contested_tag}


# --- service account links ------------------------------------------------------------------------------------------
def create_pull_secret(kube: Kube, namespace: str, name: str) -> None:
    document = {"auths": {f"{name}.example.com": {"auth": base64.b64encode(b"robot:not-a-real-one").decode()}}}
    kube.create(
        f"/api/v1/namespaces/{namespace}/secrets",
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": DOCKERCONFIGJSON,
            "metadata": {"name": name, "namespace": namespace},
            "data": {".dockerconfigjson": base64.b64encode(json.dumps(document).encode()).decode()},
        },
    )


def linked(kube: Kube, namespace: str, account: str, field: str) -> list[str]:
    return [entry["name"] for entry in kube.get(sa_path(namespace, account)).get(field) or []]


def test_twenty_writers_link_twenty_secrets_to_one_service_account(
    kube: Kube, run_module: ModuleRunner, audit: AuditLog, namespace: str
) -> None:
    case = Case(run_module, audit, namespace, "serviceaccounts", "secret_link", "secret_link: 20 secrets, one account")
    names = [f"linked-{index:02d}" for index in range(WRITERS)]
    for name in names:
        create_pull_secret(kube, namespace, name)
    pulls_before = linked(kube, namespace, "default", "imagePullSecrets")  # the managed registry secret
    mounts_before = linked(kube, namespace, "default", "secrets")
    params = [{"namespace": namespace, "service_account": "default", "secrets": [name]} for name in names]
    first, writes = case.run(params, label="first pass")
    for writer in first.succeeded:
        assert writer.result["action"] == "linked", (writer.index, writer.result)
        assert writer.result["added"] == {"pull": writer.params["secrets"]}
        assert set(writer.params["secrets"]) <= set(writer.result["service_account"]["image_pull_secrets"])
    pulls = linked(kube, namespace, "default", "imagePullSecrets")
    assert pulls[: len(pulls_before)] == pulls_before
    assert sorted(pulls[len(pulls_before) :]) == sorted(names[writer.index] for writer in first.succeeded)
    assert linked(kube, namespace, "default", "secrets") == mounts_before
    assert_changed_exactly_when_accepted(first, writes)

    second, second_writes = case.run(params, label="second pass")
    retried = assert_second_pass(first, second, second_writes)
    for writer in second.writers:
        assert writer.result["action"] == ("linked" if writer.index in retried else "unchanged")
    pulls_again = linked(kube, namespace, "default", "imagePullSecrets")
    assert pulls_again[: len(pulls)] == pulls
    assert sorted(pulls_again[len(pulls_before) :]) == sorted(names)


# --- RoleBindings ---------------------------------------------------------------------------------------------------
def binding(kube: Kube, namespace: str, name: str) -> dict[str, Any] | None:
    return kube.get(f"{RBAC}/namespaces/{namespace}/rolebindings/{name}")


def subjects_of(role_binding: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    return [(entry["kind"], entry["namespace"], entry["name"]) for entry in role_binding.get("subjects") or []]


def test_twenty_writers_bind_twenty_service_accounts_in_one_role_binding(
    kube: Kube, run_module: ModuleRunner, audit: AuditLog, namespace: str
) -> None:
    case = Case(
        run_module, audit, namespace, "rolebindings", "image_puller_binding", "image_puller_binding: 20 subjects"
    )
    accounts = [f"puller-{index:02d}" for index in range(WRITERS)]
    for account in accounts:
        kube.create(
            f"/api/v1/namespaces/{namespace}/serviceaccounts",
            {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": account}},
        )
    project_pullers = binding(kube, namespace, "system:image-pullers")
    assert binding(kube, namespace, PULLER) is None  # the module's binding is named after the role: created here
    params = [{"namespace": namespace, "service_accounts": [f"{namespace}:{account}"]} for account in accounts]
    first, writes = case.run(params, label="first pass")
    for writer in first.succeeded:
        assert writer.result["bindings"] == [PULLER], (writer.index, writer.result)
        [subject] = writer.result["subjects"]
        assert subject["action"] == "added"
        assert subject["allowed"] is True, subject
    stored = binding(kube, namespace, PULLER)
    assert stored is not None
    assert stored["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": PULLER}
    assert sorted(subjects_of(stored)) == sorted(
        ("ServiceAccount", namespace, accounts[writer.index]) for writer in first.succeeded
    )
    assert binding(kube, namespace, "system:image-pullers") == project_pullers
    assert_changed_exactly_when_accepted(first, writes)
    assert writes.created == 1, writes.codes

    second, second_writes = case.run(params, label="second pass")
    retried = assert_second_pass(first, second, second_writes)
    for writer in second.writers:
        assert writer.result["subjects"][0]["action"] == ("added" if writer.index in retried else "already_bound")
    stored_again = binding(kube, namespace, PULLER)
    assert stored_again is not None
    assert sorted(subjects_of(stored_again)) == sorted(("ServiceAccount", namespace, account) for account in accounts)


# --- namespaced pull secrets ----------------------------------------------------------------------------------------
def stored_auths(kube: Kube, namespace: str) -> dict[str, dict[str, Any]]:
    secret = kube.get(f"/api/v1/namespaces/{namespace}/secrets/shared-pull")
    assert secret is not None and secret["type"] == DOCKERCONFIGJSON, secret
    return json.loads(base64.b64decode(secret["data"][".dockerconfigjson"]))["auths"]


def test_twenty_writers_merge_twenty_registries_into_one_pull_secret(
    kube: Kube, run_module: ModuleRunner, audit: AuditLog, namespace: str
) -> None:
    case = Case(run_module, audit, namespace, "secrets", "pull_secret", "pull_secret merge: 20 registries")
    # Long, as real credentials are, so masking never garbles the output that is searched for them.
    passwords = [f"concurrent-Passw0rd-{index:02d}-{secrets.token_hex(12)}" for index in range(WRITERS)]
    servers = [f"registry-{index:02d}.example.com" for index in range(WRITERS)]
    auths = [base64.b64encode(f"robot-{index:02d}:{passwords[index]}".encode()).decode() for index in range(WRITERS)]
    params = [
        {
            "name": "shared-pull",
            "namespace": namespace,
            "merge": True,
            "registries": [{"server": servers[index], "username": f"robot-{index:02d}", "password": passwords[index]}],
        }
        for index in range(WRITERS)
    ]
    # The secret does not exist yet: one writer creates it, the others merge into it.
    first, writes = case.run(params, label="first pass")
    for writer in first.writers:
        for value in passwords + auths:
            assert value not in writer.output, f"writer {writer.index} printed a secret value"
    actions = [writer.result["action"] for writer in first.succeeded]
    assert actions.count("created") == 1 and actions.count("updated") == len(actions) - 1, actions
    for writer in first.succeeded:
        assert writer.result["registries_added"] == [servers[writer.index]], (writer.index, writer.result)
        assert writer.result["registries_updated"] == [] and writer.result["registries_removed"] == []
    stored = stored_auths(kube, namespace)
    assert {server: entry["auth"] for server, entry in stored.items()} == {
        servers[writer.index]: auths[writer.index] for writer in first.succeeded
    }
    assert_changed_exactly_when_accepted(first, writes)
    assert writes.created == 1, writes.codes

    second, second_writes = case.run(params, label="second pass")
    for writer in second.writers:
        for value in passwords + auths:
            assert value not in writer.output, f"writer {writer.index} printed a secret value (second pass)"
    retried = assert_second_pass(first, second, second_writes)
    for writer in second.writers:
        assert writer.result["action"] == ("updated" if writer.index in retried else "unchanged")
        assert writer.result["registries_added"] == ([servers[writer.index]] if writer.index in retried else [])
    stored_again = stored_auths(kube, namespace)
    assert {server: stored_again[server] for server in stored} == stored
    assert {server: entry["auth"] for server, entry in stored_again.items()} == dict(zip(servers, auths, strict=True))
