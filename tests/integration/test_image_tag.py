# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""image_tag against the sandbox cluster: what the API server stored, and the writes the audit log saw.

The image API is the real openshift-apiserver: images are pushed to the sandbox registry and imported for real
(``images.import_tag``), the server resolves, tracks and defaults tags itself, and users hold OpenShift's own roles
(``edit``, ``view``, ``system:image-puller``). Every assertion reads the ImageStream back from the API server.
"""

from __future__ import annotations

import secrets
import textwrap
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from ansible_collections.openshift_ops.images.plugins.module_utils._image_tag.apply import apply_image_tags
from ansible_collections.openshift_ops.images.plugins.module_utils._image_tag.request import ImageTagRequest
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.client import KubeClient
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.cluster_config_resolution import (
    resolve_cluster_config,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.connection_options import ConnectionOptions
from ansible_collections.openshift_ops.images.plugins.module_utils._operation import RunContext

from .sandbox_support import (
    AuditLog,
    Images,
    Kube,
    ModuleRunner,
    PlaybookRunner,
    Sandbox,
    allowed_registries_for_import,
    imagestream_path,
    spec_tag,
)

MODULE = "image_tag"
RBAC = "/apis/rbac.authorization.k8s.io/v1"


# --- helpers ----------------------------------------------------------------------------------------------------------
def without_generation(tag: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if tag is None else {key: value for key, value in tag.items() if key != "generation"}


def status_tags(kube: Kube, namespace: str, stream: str) -> list[str]:
    current = kube.get(imagestream_path(namespace, stream)) or {}
    return [entry["tag"] for entry in (current.get("status") or {}).get("tags") or []]


def streams_snapshot(kube: Kube, namespace: str) -> dict[str, str]:
    """name -> resourceVersion of every ImageStream in the namespace: equal snapshots mean nothing was written."""
    listing = kube.get(imagestream_path(namespace))
    return {item["metadata"]["name"]: item["metadata"]["resourceVersion"] for item in listing["items"]}


def add_spec_tag(kube: Kube, namespace: str, stream: str, tag: dict[str, Any]) -> None:
    path = imagestream_path(namespace, stream)
    if kube.get(path) is None:
        kube.create(
            imagestream_path(namespace),
            {
                "apiVersion": "image.openshift.io/v1",
                "kind": "ImageStream",
                "metadata": {"name": stream, "namespace": namespace},
                "spec": {"tags": [tag]},
            },
        )
        return

    def change(current: dict[str, Any]) -> bool:
        tags = [entry for entry in current["spec"].get("tags") or [] if entry["name"] != tag["name"]]
        current["spec"]["tags"] = [*tags, tag]
        return True

    kube.update_with_retry(path, change)


def wait_for_failed_import(kube: Kube, namespace: str, stream: str, tag: str) -> None:
    def failed() -> bool:
        current = kube.get(imagestream_path(namespace, stream)) or {}
        for entry in (current.get("status") or {}).get("tags") or []:
            if entry["tag"] == tag:
                return any(c.get("type") == "ImportSuccess" for c in entry.get("conditions") or [])
        return False

    kube.wait_for(failed, timeout=60, what=f"the import of {namespace}/{stream}:{tag} to fail")


def grant(kube: Kube, namespace: str, *, role: str, kind: str = "ClusterRole", user: str = "sandbox-user") -> None:
    kube.create(
        f"{RBAC}/namespaces/{namespace}/rolebindings",
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": f"{role.replace(':', '-')}-{secrets.token_hex(3)}", "namespace": namespace},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": role},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}],
        },
    )


class Converger:
    """check mode → apply → apply again, with the audit log watching every namespace involved."""

    def __init__(self, run_module: ModuleRunner, audit: AuditLog) -> None:
        self.run_module = run_module
        self.audit = audit

    def writes(self, mark: Any, namespaces: Sequence[str]) -> list[dict[str, Any]]:
        """The collection's writes to image streams and their tags (controllers write too: imports, bindings)."""
        return [
            event
            for namespace in namespaces
            for resource in ("imagestreams", "imagestreamtags")
            for event in self.audit.writes(since=mark, resource=resource, namespace=namespace)
            if str(event.get("userAgent", "")).startswith("openshift_ops.images")
        ]

    def __call__(
        self,
        params: dict[str, Any],
        namespaces: Sequence[str],
        *,
        expected_writes: int,
        kubeconfig: str | None = None,
    ) -> dict[str, Any]:
        mark = self.audit.mark()
        predicted = self.run_module(MODULE, params, check=True, diff=True, kubeconfig=kubeconfig)
        assert not predicted.get("failed"), predicted.get("msg")
        assert self.writes(mark, namespaces) == [], "check mode wrote to the cluster"

        mark = self.audit.mark()
        applied = self.run_module(MODULE, params, diff=True, kubeconfig=kubeconfig)
        assert not applied.get("failed"), applied.get("msg")
        # check mode predicted exactly what the real run did
        assert (applied["changed"], applied["tags"], applied["diff"]) == (
            predicted["changed"],
            predicted["tags"],
            predicted["diff"],
        )
        # a write refused with 409 lost a race with openshift-controller-manager (it writes the stream when it
        # imports) and was sent again after a fresh read: the writes that count are the ones that were accepted
        writes = [w for w in self.writes(mark, namespaces) if w.get("responseStatus", {}).get("code") != 409]
        assert len(writes) == expected_writes, [(w["verb"], w["requestURI"]) for w in writes]

        mark = self.audit.mark()
        again = self.run_module(MODULE, params, kubeconfig=kubeconfig)
        assert not again.get("failed"), again.get("msg")
        assert again["changed"] is False
        assert {tag["action"] for tag in again["tags"]} <= {"unchanged", "absent"}
        assert self.writes(mark, namespaces) == [], "the second run wrote to the cluster"
        return applied


@pytest.fixture
def converge(run_module: ModuleRunner, audit: AuditLog) -> Converger:
    return Converger(run_module, audit)


@pytest.fixture
def second_namespace(kube: Kube) -> Iterator[str]:
    name = f"it-image-tag-b-{secrets.token_hex(3)}"
    kube.create("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    yield name
    kube.delete(f"/api/v1/namespaces/{name}")


# --- permanent tags ---------------------------------------------------------------------------------------------------
def test_permanent_tag_from_image_stream_tag(images: Images, kube: Kube, namespace: str, converge: Converger) -> None:
    digest = images.import_tag(namespace, "ruby", "2.0")
    keep = {"name": "keep", "annotations": {"owner": "me"}, "from": {"kind": "DockerImage", "name": "quay.io/a/b:1"}}
    add_spec_tag(kube, namespace, "ruby", keep)
    keep_stored = without_generation(spec_tag(kube, namespace, "ruby", "keep"))
    params = {"source": "ruby:2.0", "dest": "ruby:static-2.0", "namespace": namespace}

    result = converge(params, [namespace], expected_writes=1)
    assert result["changed"] is True
    assert result["tags"] == [
        {
            "namespace": namespace,
            "image_stream": "ruby",
            "tag": "static-2.0",
            "action": "created",
            "from": {"kind": "ImageStreamImage", "name": f"ruby@{digest}", "namespace": namespace},
            "image": digest,
        }
    ]
    stored = spec_tag(kube, namespace, "ruby", "static-2.0")
    assert stored is not None
    assert stored["from"] == {"kind": "ImageStreamImage", "name": f"ruby@{digest}"}
    # the server always sets a spec tag's generation (the module sends none for a pin: 0 would ask for an import)
    assert isinstance(stored["generation"], int) and stored["generation"] > 0
    # the failed import of quay.io/a/b:1 (no network here) is retried by openshift-controller-manager whenever the
    # stream's generation moves, which renumbers the tag's generation: everything else is as it was
    assert without_generation(spec_tag(kube, namespace, "ruby", "keep")) == keep_stored

    # someone annotates the tag, then the source moves: a re-run re-pins, keeps the annotations, leaves "keep" alone
    def annotate(current: dict[str, Any]) -> bool:
        for entry in current["spec"]["tags"]:
            if entry["name"] == "static-2.0":
                entry["annotations"] = {"description": "Ruby 2.0", "tags": "builder"}
        return True

    kube.update_with_retry(imagestream_path(namespace, "ruby"), annotate)
    moved = images.import_tag(namespace, "ruby", "2.0")
    result = converge(params, [namespace], expected_writes=1)
    assert [(tag["action"], tag["image"]) for tag in result["tags"]] == [("updated", moved)]
    stored = spec_tag(kube, namespace, "ruby", "static-2.0")
    assert stored is not None
    assert stored["from"]["name"] == f"ruby@{moved}"
    assert stored["annotations"] == {"description": "Ruby 2.0", "tags": "builder"}
    # the failed import of quay.io/a/b:1 (no network here) is retried by openshift-controller-manager whenever the
    # stream's generation moves, which renumbers the tag's generation: everything else is as it was
    assert without_generation(spec_tag(kube, namespace, "ruby", "keep")) == keep_stored
    assert result["diff"]["before"][f"{namespace}/ruby:static-2.0"]["from"]["name"] == f"ruby@{digest}"
    assert result["diff"]["after"][f"{namespace}/ruby:static-2.0"]["from"]["name"] == f"ruby@{moved}"


def test_permanent_tag_from_a_reference_tag_copies_its_pull_spec(
    kube: Kube, namespace: str, converge: Converger
) -> None:
    # the server records a reference tag in status at once, with no image ID: a permanent tag from it copies its
    # pull spec as a DockerImage, as oc does
    add_spec_tag(
        kube,
        namespace,
        "ext",
        {"name": "1", "reference": True, "from": {"kind": "DockerImage", "name": "quay.io/org/ext:1"}},
    )
    assert status_tags(kube, namespace, "ext") == ["1"]
    result = converge({"source": "ext:1", "dest": "ext:pinned", "namespace": namespace}, [namespace], expected_writes=1)
    assert result["tags"][0]["from"] == {"kind": "DockerImage", "name": "quay.io/org/ext:1", "namespace": None}
    stored = spec_tag(kube, namespace, "ext", "pinned")
    assert stored is not None
    assert stored["from"] == {"kind": "DockerImage", "name": "quay.io/org/ext:1"}
    assert isinstance(stored["generation"], int) and stored["generation"] > 0


@pytest.mark.parametrize(
    ("source", "source_type", "from_name"),
    [
        ("quay.io/org/tool:1.4", "auto", "quay.io/org/tool:1.4"),
        ("mysql:8.0", "DockerImage", "mysql:8.0"),  # without source_type this is an image stream tag
        ("mysql", "auto", "mysql"),  # no tag: a container image, written as it is
    ],
)
def test_permanent_tag_from_container_image(
    kube: Kube, namespace: str, converge: Converger, *, source: str, source_type: str, from_name: str
) -> None:
    params = {"source": source, "source_type": source_type, "dest": "tool:v1", "namespace": namespace}
    result = converge(params, [namespace], expected_writes=1)
    assert result["tags"][0]["action"] == "created"
    stored = spec_tag(kube, namespace, "tool", "v1")
    assert stored is not None
    assert stored["from"] == {"kind": "DockerImage", "name": from_name}
    assert isinstance(stored["generation"], int) and stored["generation"] > 0
    assert stored["importPolicy"].get("scheduled") is not True
    # openshift-apiserver fills in its defaults; they are not a change on the second run
    assert stored["referencePolicy"] == {"type": "Source"}
    assert stored["importPolicy"]["importMode"] == "Legacy"


# --- alias and the other flags ----------------------------------------------------------------------------------------
def test_alias(images: Images, kube: Kube, namespace: str, converge: Converger) -> None:
    images.import_tag(namespace, "ruby", "stable")
    params = {"source": "ruby:stable", "dest": ["ruby:latest"], "alias": True, "namespace": namespace}
    result = converge(params, [namespace], expected_writes=1)
    assert result["tags"][0]["from"] == {"kind": "ImageStreamTag", "name": "ruby:stable", "namespace": namespace}
    assert result["tags"][0]["image"] is None
    stored = spec_tag(kube, namespace, "ruby", "latest")
    assert stored is not None
    assert stored["from"] == {"kind": "ImageStreamTag", "name": "ruby:stable"}


def test_alias_of_an_unimported_tag_is_allowed(kube: Kube, namespace: str, converge: Converger) -> None:
    params = {"source": "app:next", "dest": "app:latest", "alias": True, "namespace": namespace}
    converge(params, [namespace], expected_writes=1)  # the stream is created
    stored = spec_tag(kube, namespace, "app", "latest")
    assert stored is not None
    assert stored["from"] == {"kind": "ImageStreamTag", "name": "app:next"}


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"scheduled": True}, {"importPolicy": {"scheduled": True, "importMode": "Legacy"}}),
        ({"insecure": True}, {"importPolicy": {"insecure": True, "importMode": "Legacy"}}),
        ({"reference": True}, {"reference": True, "importPolicy": {"importMode": "Legacy"}}),
        ({"reference_policy": "local"}, {"referencePolicy": {"type": "Local"}}),
        ({"import_mode": "PreserveOriginal"}, {"importPolicy": {"importMode": "PreserveOriginal"}}),
    ],
)
def test_tag_flags(
    kube: Kube, namespace: str, converge: Converger, options: dict[str, Any], expected: dict[str, Any]
) -> None:
    params = {"source": "registry.example.com/org/app:2", "dest": "app:2", "namespace": namespace, **options}
    converge(params, [namespace], expected_writes=1)
    stored = spec_tag(kube, namespace, "app", "2")
    assert stored is not None
    for key, value in expected.items():
        assert stored[key] == value, key
    # the server sets every spec tag's generation, the one it imports (or records a reference) at
    assert isinstance(stored["generation"], int) and stored["generation"] > 0


def test_unset_import_mode_keeps_the_current_one(kube: Kube, namespace: str, converge: Converger) -> None:
    base = {"source": "quay.io/org/app:1", "dest": "app:1", "namespace": namespace}
    converge(base | {"import_mode": "PreserveOriginal"}, [namespace], expected_writes=1)
    converge(base, [namespace], expected_writes=0)  # import_mode not set: PreserveOriginal stays, nothing written
    stored = spec_tag(kube, namespace, "app", "1")
    assert stored is not None
    assert stored["importPolicy"]["importMode"] == "PreserveOriginal"


def test_reimport_asks_for_an_import_every_run(kube: Kube, namespace: str, run_module: ModuleRunner) -> None:
    params = {"source": "quay.io/org/app:1", "dest": "app:1", "namespace": namespace}
    assert run_module(MODULE, params)["changed"] is True
    assert run_module(MODULE, params)["changed"] is False
    before = spec_tag(kube, namespace, "app", "1")
    again = run_module(MODULE, params | {"reimport": True})
    assert (again["changed"], again["tags"][0]["action"]) == (True, "updated")
    stored = spec_tag(kube, namespace, "app", "1")
    assert before is not None and stored is not None
    # generation 0 asks for an import: the server gives the tag the stream's new generation
    assert stored["generation"] > before["generation"]


# --- deleting ---------------------------------------------------------------------------------------------------------
def test_delete(images: Images, kube: Kube, namespace: str, converge: Converger, audit: AuditLog) -> None:
    images.import_tag(namespace, "ruby", "2.0")
    images.import_tag(namespace, "ruby", "old")  # history in status
    add_spec_tag(kube, namespace, "ruby", {"name": "old", "from": {"kind": "DockerImage", "name": "quay.io/a/ruby:1"}})
    add_spec_tag(kube, namespace, "ruby", {"name": "spec-only", "from": {"kind": "DockerImage", "name": "x/y:1"}})
    params = {"dest": ["ruby:old", "ruby:spec-only", "ruby:never", "gone:x"], "namespace": namespace, "state": "absent"}

    mark = audit.mark()
    # one DELETE of imagestreamtags per tag, as `oc tag -d`; "gone" does not exist: nothing to do there
    result = converge(params, [namespace], expected_writes=2)
    assert [tag["action"] for tag in result["tags"]] == ["deleted", "deleted", "absent", "absent"]
    verbs = [
        (w["verb"], w["objectRef"]["resource"], w["objectRef"]["name"]) for w in converge.writes(mark, [namespace])
    ]
    assert verbs == [("delete", "imagestreamtags", "ruby:old"), ("delete", "imagestreamtags", "ruby:spec-only")]
    assert spec_tag(kube, namespace, "ruby", "old") is None
    assert spec_tag(kube, namespace, "ruby", "spec-only") is None
    assert status_tags(kube, namespace, "ruby") == ["2.0"]
    assert kube.get(imagestream_path(namespace, "gone")) is None
    assert result["tags"][0]["from"] == {"kind": "DockerImage", "name": "quay.io/a/ruby:1", "namespace": None}
    assert f"{namespace}/ruby:old" in result["diff"]["before"]
    assert result["diff"]["after"] == {}


def test_delete_as_edit_user_removes_history(
    images: Images, kube: Kube, sandbox: Sandbox, namespace: str, run_module: ModuleRunner
) -> None:
    # failed before: OpenShift's edit role may not write imagestreams/status, so removing the history was a 403
    grant(kube, namespace, role="edit")
    images.import_tag(namespace, "ruby", "2.0")
    params = {"dest": "ruby:2.0", "namespace": namespace, "state": "absent"}
    first = run_module(MODULE, params, kubeconfig=sandbox.user_kubeconfig)
    assert not first.get("failed"), first.get("msg")
    assert (first["changed"], first["tags"][0]["action"]) == (True, "deleted")
    assert spec_tag(kube, namespace, "ruby", "2.0") is None
    assert status_tags(kube, namespace, "ruby") == []
    again = run_module(MODULE, params, kubeconfig=sandbox.user_kubeconfig)
    assert (again.get("failed"), again["changed"]) == (None, False)


def test_delete_ignores_tag_options_and_accepts_odd_tag_names(kube: Kube, namespace: str, converge: Converger) -> None:
    add_spec_tag(kube, namespace, "ruby", {"name": "-odd", "from": {"kind": "DockerImage", "name": "x/y:1"}})
    params = {"dest": "ruby:-odd", "alias": True, "source": "ignored:1", "namespace": namespace, "state": "absent"}
    result = converge(params, [namespace], expected_writes=1)
    assert result["tags"][0]["action"] == "deleted"
    assert spec_tag(kube, namespace, "ruby", "-odd") is None


# --- several destinations ---------------------------------------------------------------------------------------------
def test_several_destinations_in_two_namespaces(
    images: Images, kube: Kube, namespace: str, second_namespace: str, converge: Converger
) -> None:
    digest = images.import_tag(namespace, "ruby", "2.0")
    dests = ["ruby:a", "ruby:b", "other:x", f"{second_namespace}/ruby:prod", f"{second_namespace}/ruby:stage"]
    params = {"source": "ruby:2.0", "dest": dests, "namespace": namespace}
    # one write per destination stream: ruby (PUT) and other (POST) here, ruby (POST) in the second namespace
    result = converge(params, [namespace, second_namespace], expected_writes=3)
    assert [(t["namespace"], t["image_stream"], t["tag"], t["action"]) for t in result["tags"]] == [
        (namespace, "ruby", "a", "created"),
        (namespace, "ruby", "b", "created"),
        (namespace, "other", "x", "created"),
        (second_namespace, "ruby", "prod", "created"),
        (second_namespace, "ruby", "stage", "created"),
    ]
    for ns, stream, tag in [(namespace, "ruby", "a"), (namespace, "other", "x")]:
        stored = spec_tag(kube, ns, stream, tag)
        assert stored is not None
        assert stored["from"] == {"kind": "ImageStreamImage", "name": f"ruby@{digest}"}
    for tag in ("prod", "stage"):
        stored = spec_tag(kube, second_namespace, "ruby", tag)
        assert stored is not None
        assert stored["from"] == {"kind": "ImageStreamImage", "name": f"ruby@{digest}", "namespace": namespace}


def test_many_streams_of_one_namespace_as_an_edit_user(
    kube: Kube, sandbox: Sandbox, *, user_namespace: str, converge: Converger
) -> None:
    """Ten destination streams of one namespace are read with one LIST (``LIST_FROM``), which ``edit`` may send: the
    eight that exist keep their other tags and are written with the resourceVersion the list gave, the two new ones
    are created, and a second run writes nothing."""
    names = [f"app{index}" for index in range(10)]
    keep = {"name": "keep", "from": {"kind": "DockerImage", "name": "registry.example.com/keep:1"}, "reference": True}
    for name in names[:8]:
        kube.create(
            f"/apis/image.openshift.io/v1/namespaces/{user_namespace}/imagestreams",
            {
                "apiVersion": "image.openshift.io/v1",
                "kind": "ImageStream",
                "metadata": {"name": name},
                "spec": {"tags": [keep]},
            },
        )
    params = {
        "source": "registry.example.com/app:1.0",
        "source_type": "DockerImage",
        "reference": True,
        "dest": [f"{name}:prod" for name in names],
        "namespace": user_namespace,
    }
    result = converge(params, [user_namespace], expected_writes=10, kubeconfig=sandbox.user_kubeconfig)
    assert [(t["image_stream"], t["action"]) for t in result["tags"]] == [(name, "created") for name in names]
    for name in names:
        assert spec_tag(kube, user_namespace, name, "prod") is not None
    assert all(spec_tag(kube, user_namespace, name, "keep") is not None for name in names[:8])


# --- conflicts: a concurrent writer between our GET and our PUT -------------------------------------------------------
class _InterleavingClient:
    """The collection's real client; after its first GET of ``path`` another writer changes the stream for real."""

    def __init__(self, client: Any, path: str, interleave: Any) -> None:
        self._client = client
        self._path = path
        self._interleave = interleave
        self.gets: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def get(self, path: str, **kwargs: Any) -> Any:
        answer = self._client.get(path, **kwargs)
        self.gets.append(path)
        if path == self._path and self.gets.count(path) == 1:
            self._interleave()
        return answer


def test_conflict_is_retried_with_a_fresh_read(
    images: Images, kube: Kube, sandbox: Sandbox, namespace: str, audit: AuditLog
) -> None:
    digest = images.import_tag(namespace, "ruby", "2.0")
    path = imagestream_path(namespace, "ruby")
    # a reference tag: openshift-controller-manager never imports one (tagImportable), so no controller write
    # races ours and exactly one conflict is seen
    other = {"name": "theirs", "from": {"kind": "DockerImage", "name": "quay.io/a/theirs:1"}, "reference": True}
    client = _InterleavingClient(
        KubeClient(resolve_cluster_config(ConnectionOptions(kubeconfig=sandbox.kubeconfig), {})),
        path,
        lambda: add_spec_tag(kube, namespace, "ruby", other),
    )
    request = ImageTagRequest(source="ruby:2.0", dest=("ruby:static-2.0",), namespace=namespace)
    mark = audit.mark()
    result = apply_image_tags(client, request, RunContext()).result
    assert [tag["action"] for tag in result["tags"]] == ["created"]
    assert client.gets == [path, path]  # the conflict made it read again
    updates = [
        e for e in audit.writes(since=mark, resource="imagestreams", namespace=namespace) if e["verb"] == "update"
    ]
    # ours: PUT refused with 409, then PUT after a fresh read (the other writer's PUT is the test helper's)
    codes = [e["responseStatus"]["code"] for e in updates if e.get("userAgent") != "sandbox-tests"]
    assert codes == [409, 200], codes
    # both writers' tags are there: nothing was overwritten
    assert spec_tag(kube, namespace, "ruby", "theirs") is not None
    stored = spec_tag(kube, namespace, "ruby", "static-2.0")
    assert stored is not None
    assert stored["from"] == {"kind": "ImageStreamImage", "name": f"ruby@{digest}"}


# --- across namespaces, as a user with limited rights -----------------------------------------------------------------
@pytest.fixture
def user_namespace(kube: Kube, namespace: str) -> str:
    """``namespace`` where sandbox-user has OpenShift's ``edit`` role."""
    grant(kube, namespace, role="edit")
    return namespace


def test_cross_namespace_source_allowed(
    images: Images, kube: Kube, sandbox: Sandbox, *, user_namespace: str, second_namespace: str, converge: Converger
) -> None:
    source_ns = second_namespace
    digest = images.import_tag(source_ns, "ruby", "2.0")
    # view is enough on OpenShift: it reads the source stream (a permanent tag pins its image) and, through
    # registry-viewer, grants get imagestreams/layers, which the TagVerifier asks for
    grant(kube, source_ns, role="view")
    params = {"source": f"{source_ns}/ruby:2.0", "dest": "ruby:prod", "namespace": user_namespace}
    result = converge(params, [user_namespace, source_ns], expected_writes=1, kubeconfig=sandbox.user_kubeconfig)
    assert result["tags"][0]["from"] == {"kind": "ImageStreamImage", "name": f"ruby@{digest}", "namespace": source_ns}
    stored = spec_tag(kube, user_namespace, "ruby", "prod")
    assert stored is not None
    assert stored["from"] == {"kind": "ImageStreamImage", "name": f"ruby@{digest}", "namespace": source_ns}


def test_cross_namespace_image_needs_only_image_puller(
    images: Images, kube: Kube, sandbox: Sandbox, *, user_namespace: str, second_namespace: str, converge: Converger
) -> None:
    digest = images.import_tag(second_namespace, "ruby", "2.0")
    grant(kube, second_namespace, role="system:image-puller")
    params = {"source": f"{second_namespace}/ruby@{digest}", "dest": "ruby:prod", "namespace": user_namespace}
    converge(params, [user_namespace], expected_writes=1, kubeconfig=sandbox.user_kubeconfig)
    stored = spec_tag(kube, user_namespace, "ruby", "prod")
    assert stored is not None
    assert stored["from"]["namespace"] == second_namespace


@pytest.mark.parametrize("source_kind", ["istag", "isimage"])
def test_cross_namespace_source_refused_without_image_puller(
    images: Images,
    kube: Kube,
    *,
    sandbox: Sandbox,
    user_namespace: str,
    second_namespace: str,
    run_module: ModuleRunner,
    audit: AuditLog,
    source_kind: str,
) -> None:
    digest = images.import_tag(second_namespace, "ruby", "2.0")
    # no role in the source namespace: tagging across namespaces needs imagestreams/layers there
    source = f"{second_namespace}/ruby:2.0" if source_kind == "istag" else f"{second_namespace}/ruby@{digest}"
    params = {"source": source, "dest": "ruby:prod", "namespace": user_namespace}
    mark = audit.mark()
    for check in (True, False):
        result = run_module(MODULE, params, check=check, kubeconfig=sandbox.user_kubeconfig)
        assert result.get("failed") is True
        assert "system:image-puller" in result["msg"]
        assert f"oc policy add-role-to-user system:image-puller $(oc whoami) -n {second_namespace}" in result["msg"]
    assert audit.writes(since=mark, resource="imagestreams", namespace=user_namespace) == []
    assert kube.get(imagestream_path(user_namespace, "ruby")) is None


# --- refusals of the real server that no role fixes -------------------------------------------------------------------
def test_a_limit_range_refusal_names_the_limit_not_a_permission(
    kube: Kube, namespace: str, run_module: ModuleRunner, audit: AuditLog
) -> None:
    kube.create(
        f"/api/v1/namespaces/{namespace}/limitranges",
        {
            "apiVersion": "v1",
            "kind": "LimitRange",
            "metadata": {"name": "image-streams"},
            "spec": {"limits": [{"type": "openshift.io/ImageStream", "max": {"openshift.io/image-tags": "2"}}]},
        },
    )
    reference = {"reference": True}
    for tag in ("1", "2"):
        add_spec_tag(
            kube,
            namespace,
            "tool",
            {"name": tag, "from": {"kind": "DockerImage", "name": f"quay.io/o/t:{tag}"}} | reference,
        )
    mark = audit.mark()
    params = {
        "source": "quay.io/o/t:3",
        "source_type": "DockerImage",
        "dest": "tool:3",
        "reference": True,
        "namespace": namespace,
    }
    for check in (True, False):
        result = run_module(MODULE, params, check=check)
        if check:  # server-side dry run is not used by image_tag's check mode: it predicts the write
            assert result["changed"] is True, result
            continue
        assert result["failed"] is True
        assert f"by the LimitRange of namespace {namespace!r}" in result["msg"]
        assert "would hold 3 distinct images its spec tags reference" in result["msg"]
        assert "allows 2 (openshift.io/image-tags)" in result["msg"]
        assert "needs permission" not in result["msg"]
    assert spec_tag(kube, namespace, "tool", "3") is None
    assert [w for w in audit.writes(since=mark, namespace=namespace) if w["responseStatus"]["code"] < 400] == []


def test_a_registry_outside_allowed_registries_for_import_is_explained(
    kube: Kube, namespace: str, run_module: ModuleRunner, audit: AuditLog
) -> None:
    params = {"source_type": "DockerImage", "reference": True, "namespace": namespace}
    with allowed_registries_for_import(kube, [{"domainName": "quay.io"}, {"domainName": "*.example.com"}]):
        mark = audit.mark()
        refused = run_module(MODULE, {**params, "source": "ghcr.io/o/t:1", "dest": "tool:1"})
        allowed = run_module(MODULE, {**params, "source": "registry.example.com/o/t:1", "dest": "tool:2"})
    assert refused["failed"] is True
    assert "the cluster does not allow images from registry 'ghcr.io' (422)" in refused["msg"]
    assert "spec.allowedRegistriesForImport of images.config.openshift.io/cluster" in refused["msg"]
    assert '"quay.io:443"' in refused["msg"]
    assert allowed["changed"] is True, allowed.get("msg")
    assert spec_tag(kube, namespace, "tool", "1") is None
    assert spec_tag(kube, namespace, "tool", "2") is not None
    accepted = [w for w in audit.writes(since=mark, namespace=namespace) if w["responseStatus"]["code"] < 400]
    assert [(w["verb"], w["objectRef"]["resource"]) for w in accepted] == [("create", "imagestreams")]


# --- bad input: a clear error and the cluster unchanged ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"dest": "ruby:-bad"}, 'invalid tag "-bad" format, tags must start with an alphanumeric character'),
        ({"dest": "ruby:" + "t" * 129}, "have a maximum of 128 characters"),
        ({"dest": "Ruby:x"}, 'invalid image stream name "Ruby": must match'),
        ({"dest": "ruby.:x"}, 'invalid image stream name "ruby."'),
        ({"dest": "a/b/c:d"}, 'invalid image stream "a/b/c:d"'),
        ({"dest": "ruby"}, '"ruby" must be of the form <stream_name>:<tag>'),
        ({"dest": ["ruby:ok", "ruby"]}, '"ruby" must be of the form <stream_name>:<tag>'),  # nothing half-done
        ({"dest": ["ruby:ok", "ruby:ok"]}, "twice"),
        ({"dest": "ruby:x", "alias": True, "source": "other:1"}, "cannot set alias across different image streams"),
        ({"dest": "ruby:x", "scheduled": True}, "only container images can have importing flags set"),
        ({"dest": "ruby:x", "insecure": True}, "only container images can have importing flags set"),
        ({"dest": "ruby:x", "alias": True, "source": "quay.io/a/b:1"}, "source must be an image stream tag"),
        ({"dest": "ruby:x", "reimport": True}, "reimport: true asks OpenShift to import the image again"),
        ({"dest": "ruby:x", "source": "quay.io/a/ruby:2.0", "source_type": "istag"}, "a registry is only allowed"),
        ({"dest": "ruby:x", "source": "nope:1"}, "image stream {ns}/nope does not exist"),
        ({"dest": "ruby:x", "source": "ruby:unimported"}, "image stream tag {ns}/ruby:unimported has no image yet"),
        ({"dest": ["ruby:ok", "ruby:x"], "source": "ruby:unimported"}, "import it first or use alias: true"),
    ],
)
def test_bad_input_changes_nothing(
    images: Images,
    kube: Kube,
    *,
    namespace: str,
    run_module: ModuleRunner,
    audit: AuditLog,
    params: dict[str, Any],
    message: str,
) -> None:
    images.import_tag(namespace, "ruby", "2.0")
    add_spec_tag(kube, namespace, "ruby", {"name": "unimported", "from": {"kind": "DockerImage", "name": "x/y:1"}})
    # openshift-controller-manager tries to import x/y:1 (docker.io is unreachable here) and records the failure:
    # let it finish, so the snapshot below sees only what the module does
    wait_for_failed_import(kube, namespace, "ruby", "unimported")
    before = streams_snapshot(kube, namespace)
    mark = audit.mark()
    result = run_module(MODULE, {"source": "ruby:2.0", "namespace": namespace, **params})
    assert result.get("failed") is True
    assert message.format(ns=namespace) in result["msg"]
    assert audit.writes(since=mark, resource="imagestreams", namespace=namespace) == []
    assert streams_snapshot(kube, namespace) == before


def test_source_is_required_when_present(namespace: str, run_module: ModuleRunner) -> None:
    result = run_module(MODULE, {"dest": "ruby:x", "namespace": namespace})
    assert result.get("failed") is True
    assert "source" in result["msg"]


# --- as a playbook user runs it ---------------------------------------------------------------------------------------
def test_playbook_with_diff(images: Images, kube: Kube, namespace: str, run_playbook: PlaybookRunner) -> None:
    digest = images.import_tag(namespace, "ruby", "2.0")
    playbook = textwrap.dedent(
        """
        - hosts: localhost
          gather_facts: false
          tasks:
            - name: Pin a tag
              openshift_ops.images.image_tag:
                source: ruby:2.0
                dest: [ruby:static-2.0]
                namespace: "{{ ns }}"
              register: tagged
            - name: The pinned digest is returned
              ansible.builtin.assert:
                that:
                  - tagged.tags[0].image == digest
                  - (tagged.tags[0].from.name | openshift_ops.images.image_ref).digest == digest
        """
    )
    completed = run_playbook(playbook, extra_vars={"ns": namespace, "digest": digest}, diff=True)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "ruby@" + digest in completed.stdout  # the diff shows the new tag
    assert "changed=1" in completed.stdout
