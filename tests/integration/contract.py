# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The contract corpus: exchanges with OpenShift's image API, recorded once from the real openshift-apiserver and
openshift-controller-manager and replayed against the sandbox's own servers in `make test` (test_contract.py).

An exchange is a request as the modules and tests send them, by a user holding one of OpenShift's roles in the
namespace it targets (``edit`` in A, ``view`` in B, ``admin`` in C, nothing in D) or by the cluster admin, and the
answer: status code and body, normalised (uids, times, resourceVersions, the run's namespace names, registry ports
and the managed secrets' random suffixes and tokens replaced by placeholders). Steps marked ``setup`` prepare
objects through kube-apiserver itself and are not compared.

Recording, with real binaries (never committed, never built by this repository; docs/sandbox.md says where to get
them)::

    SANDBOX_OPENSHIFT_BIN=DIR make sandbox-up
    .venv/bin/python tests/integration/contract.py record   # writes tests/integration/contract/corpus.json

Replaying against whatever sandbox is up: ``.venv/bin/python tests/integration/contract.py compare``.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
if __package__:
    from .sandbox_support import Images, Kube, Sandbox, load_sandbox, runs_real_openshift, wait_for_project_setup
else:  # run as a script
    sys.path.insert(0, str(HERE))
    from sandbox_support import (  # type: ignore[no-redef]
        Images,
        Kube,
        Sandbox,
        load_sandbox,
        runs_real_openshift,
        wait_for_project_setup,
    )

CORPUS = HERE / "contract" / "corpus.json"
IMAGE_API = "/apis/image.openshift.io/v1"
RBAC_API = "/apis/rbac.authorization.k8s.io/v1"
# The role sandbox-user holds in each namespace of the corpus (D: none).
ROLES = {"a": "edit", "b": "view", "c": "admin"}
# Deterministic image contents: the same digests on every run and on every server.
IMAGES = {"app:1": "contract app 1\n", "app:2": "contract app 2\n", "lib:1": "contract lib 1\n"}
# Keys whose values differ on every run and say nothing about the server's behaviour.
VOLATILE_KEYS = frozenset(
    {
        "uid",
        "creationTimestamp",
        "managedFields",
        "selfLink",
        "created",
        "lastTransitionTime",
        "openshift.io/image.dockerRepositoryCheck",
    }
)


@dataclass(frozen=True)
class Exchange:
    """One request; ``as_user`` is ``cluster-admin`` or ``user`` (sandbox-user, whose rights are ROLES)."""

    name: str
    method: str
    path: str
    body: Any = None
    as_user: str = "cluster-admin"
    content_type: str = "application/json"
    setup: bool = False
    # Poll (GET ``path``) until this holds, then record that answer: what a controller eventually writes.
    until: Callable[[Any], bool] | None = field(default=None, compare=False)


def _stream(name: str, tags: list[dict[str, Any]], **metadata: Any) -> dict[str, Any]:
    return {
        "apiVersion": "image.openshift.io/v1",
        "kind": "ImageStream",
        "metadata": {"name": name, **metadata},
        "spec": {"tags": tags},
    }


def _tag(name: str, kind: str, source: str, **extra: Any) -> dict[str, Any]:
    return {"name": name, "from": {"kind": kind, "name": source}, **extra}


def _isi(name: str, images: list[tuple[str, str]], *, do_import: bool = True) -> dict[str, Any]:
    return {
        "apiVersion": "image.openshift.io/v1",
        "kind": "ImageStreamImport",
        "metadata": {"name": name},
        "spec": {
            "import": do_import,
            "images": [
                {"from": {"kind": "DockerImage", "name": source}, "to": {"name": tag}} for source, tag in images
            ],
        },
    }


def _tag_imported(tag: str) -> Callable[[Any], bool]:
    def imported(stream: Any) -> bool:
        for entry in ((stream or {}).get("status") or {}).get("tags") or []:
            if entry.get("tag") == tag and (entry.get("items") or entry.get("conditions")):
                return True
        return False

    return imported


def exchanges() -> Iterator[Exchange]:
    """The corpus, in order. Paths and bodies hold {a}, {b}, {c}, {d} (the namespaces), {registry}, {digest:<image>}
    and {short:<image>} (the first 12 hex digits)."""
    streams = f"{IMAGE_API}/namespaces/{{a}}/imagestreams"
    reg = "{registry}/contract"
    # --- discovery
    yield Exchange("discovery", "GET", IMAGE_API)
    # --- image streams: create, read, write, concurrency, dry run
    yield Exchange(
        "create stream: spec tags sorted, defaulted, a reference tag resolved at once",
        "POST",
        streams,
        _stream(
            "web",
            [
                _tag("c", "DockerImage", "quay.io/example/web:3", reference=True),
                _tag("b", "DockerImage", "quay.io/example/web:2", reference=True),
            ],
        ),
    )
    yield Exchange("get stream", "GET", f"{streams}/web")
    yield Exchange("list streams", "GET", streams)
    yield Exchange("create the same stream again", "POST", streams, _stream("web", []))
    yield Exchange(
        "replace with a stale resourceVersion",
        "PUT",
        f"{streams}/web",
        {**_stream("web", []), "metadata": {"name": "web", "resourceVersion": "1"}},
    )
    yield Exchange(
        "merge patch replaces the tags",
        "PATCH",
        f"{streams}/web",
        {
            "spec": {
                "tags": [
                    _tag("b", "DockerImage", "quay.io/example/web:2", reference=True),
                    _tag("c", "DockerImage", "quay.io/example/web:3", reference=True),
                ]
            }
        },
        content_type="application/merge-patch+json",
    )
    yield Exchange(
        "strategic merge patch adds a tag and keeps the others",
        "PATCH",
        f"{streams}/web",
        {"spec": {"tags": [_tag("d", "DockerImage", "quay.io/example/web:4", reference=True)]}},
        content_type="application/strategic-merge-patch+json",
    )
    yield Exchange(
        "generation 0 asks for the tag again",
        "PATCH",
        f"{streams}/web",
        {"spec": {"tags": [{**_tag("d", "DockerImage", "quay.io/example/web:4", reference=True), "generation": 0}]}},
        content_type="application/strategic-merge-patch+json",
    )
    yield Exchange(
        "a client's own generation is ignored",
        "PATCH",
        f"{streams}/web",
        {"spec": {"tags": [{**_tag("d", "DockerImage", "quay.io/example/web:4", reference=True), "generation": 99}]}},
        content_type="application/strategic-merge-patch+json",
    )
    yield Exchange("dry-run create", "POST", f"{streams}?dryRun=All", _stream("dry", []))
    yield Exchange("the dry-run stream does not exist", "GET", f"{streams}/dry")
    yield Exchange("get a stream that does not exist", "GET", f"{streams}/nope")
    # Added last, and waited for: the controller imports it at once, so no answer before the wait may hold it.
    yield Exchange(
        "a DockerImage tag to import",
        "PATCH",
        f"{streams}/web",
        {"spec": {"tags": [_tag("a", "DockerImage", f"{reg}/app:1")]}},
        content_type="application/strategic-merge-patch+json",
    )
    yield Exchange("the controller imports the new DockerImage tag", "GET", f"{streams}/web", until=_tag_imported("a"))
    # --- image stream tags and images
    yield Exchange("get an imported tag", "GET", f"{IMAGE_API}/namespaces/{{a}}/imagestreamtags/web:a")
    yield Exchange("a reference tag has no image", "GET", f"{IMAGE_API}/namespaces/{{a}}/imagestreamtags/web:b")
    yield Exchange("a tag that does not exist", "GET", f"{IMAGE_API}/namespaces/{{a}}/imagestreamtags/web:nope")
    yield Exchange("a tag name without a colon", "GET", f"{IMAGE_API}/namespaces/{{a}}/imagestreamtags/web")
    yield Exchange(
        "get the image by digest", "GET", f"{IMAGE_API}/namespaces/{{a}}/imagestreamimages/web@{{digest:app:1}}"
    )
    yield Exchange(
        "get the image by a digest prefix", "GET", f"{IMAGE_API}/namespaces/{{a}}/imagestreamimages/web@{{short:app:1}}"
    )
    yield Exchange(
        "an image the stream does not hold",
        "GET",
        f"{IMAGE_API}/namespaces/{{a}}/imagestreamimages/web@sha256:0000000000000000000000000000000000000000000000000000000000000000",
    )
    yield Exchange("an image name without @", "GET", f"{IMAGE_API}/namespaces/{{a}}/imagestreamimages/web")
    yield Exchange("the cluster-scoped image", "GET", f"{IMAGE_API}/images/{{digest:app:1}}")
    yield Exchange("delete a tag", "DELETE", f"{IMAGE_API}/namespaces/{{a}}/imagestreamtags/web:c")
    yield Exchange("delete the same tag again", "DELETE", f"{IMAGE_API}/namespaces/{{a}}/imagestreamtags/web:c")
    yield Exchange("the stream after the delete", "GET", f"{streams}/web")
    # --- imports
    isi = f"{IMAGE_API}/namespaces/{{a}}/imagestreamimports"
    yield Exchange("import into a new stream", "POST", isi, _isi("imp", [(f"{reg}/app:2", "2")]))
    yield Exchange("the stream the import made", "GET", f"{streams}/imp")
    yield Exchange("import the same image again", "POST", isi, _isi("imp", [(f"{reg}/app:2", "2")]))
    yield Exchange("import a tag the registry lacks", "POST", isi, _isi("imp", [(f"{reg}/app:missing", "missing")]))
    yield Exchange("the failed import's condition", "GET", f"{streams}/imp")
    yield Exchange(
        "import without writing (import: false)", "POST", isi, _isi("peek", [(f"{reg}/lib:1", "1")], do_import=False)
    )
    yield Exchange("the stream an import:false did not make", "GET", f"{streams}/peek")
    yield Exchange(
        "import from a repository nobody may read", "POST", isi, _isi("imp", [("{registry}/private/none:1", "none")])
    )
    yield Exchange(
        "import of a kind other than DockerImage",
        "POST",
        isi,
        {**_isi("bad", []), "spec": {"import": True, "images": [{"from": {"kind": "ImageStreamTag", "name": "x:1"}}]}},
    )
    yield Exchange("import of nothing", "POST", isi, {**_isi("bad", []), "spec": {"import": True}})
    # --- validation (each a 422 with the field's path)
    invalid: list[tuple[str, dict[str, Any]]] = [
        ("from.kind that is no kind", _tag("t", "Pod", "x")),
        ("from without a name", {"name": "t", "from": {"kind": "DockerImage"}}),
        (
            "a reference policy that does not exist",
            {**_tag("t", "DockerImage", "quay.io/a/b:1"), "referencePolicy": {"type": "Remote"}},
        ),
        (
            "an import mode that does not exist",
            {**_tag("t", "DockerImage", "quay.io/a/b:1"), "importPolicy": {"importMode": "Copy"}},
        ),
        ("a scheduled image stream tag", {**_tag("t", "ImageStreamTag", "web:a"), "importPolicy": {"scheduled": True}}),
        ("a DockerImage name that does not parse", _tag("t", "DockerImage", "Not A Reference")),
        ("an ImageStreamImage source the stream lacks", _tag("t", "ImageStreamImage", "web@sha256:0000")),
        ("an ImageStreamTag source stream that does not exist", _tag("t", "ImageStreamTag", "nosuch:1")),
        ("a source name with two colons", _tag("t", "ImageStreamTag", "a:b:c")),
    ]
    for name, tag in invalid:
        yield Exchange(f"refused on create: {name}", "POST", streams, _stream("bad", [tag]))
        yield Exchange(
            f"refused on update, as edit: {name}",
            "PATCH",
            f"{streams}/web",
            {"spec": {"tags": [tag]}},
            as_user="user",
            content_type="application/strategic-merge-patch+json",
        )
    yield Exchange("a stream name with capitals", "POST", streams, _stream("Bad", []))
    yield Exchange("a stream name with a double dash", "POST", streams, _stream("a--b", []))
    yield Exchange(
        "a repository with a tag",
        "POST",
        streams,
        {**_stream("repo", []), "spec": {"dockerImageRepository": "quay.io/a/b:1"}},
    )
    # --- resolution inside the write
    yield Exchange(
        "pins from a tag, an image and a tag without image; an alias in the same stream",
        "POST",
        streams,
        _stream(
            "pins",
            [
                _tag("from-tag", "ImageStreamTag", "web:a"),
                _tag("from-image", "ImageStreamImage", "web@{short:app:1}"),
                _tag("from-unimported", "ImageStreamTag", "web:b"),
                _tag("alias", "ImageStreamTag", "from-tag"),
            ],
        ),
    )
    yield Exchange(
        "a tag pointed elsewhere by a spec update",
        "PATCH",
        f"{streams}/pins",
        {"spec": {"tags": [_tag("from-tag", "ImageStreamTag", "imp:2")]}},
        content_type="application/strategic-merge-patch+json",
    )
    yield Exchange("the pins after the update", "GET", f"{streams}/pins")
    yield Exchange("the pinned tag's view", "GET", f"{IMAGE_API}/namespaces/{{a}}/imagestreamtags/pins:from-image")
    yield Exchange(
        "a local reference policy gives the internal registry's pull spec",
        "POST",
        streams,
        _stream("local", [{**_tag("1", "ImageStreamTag", "web:a"), "referencePolicy": {"type": "Local"}}]),
    )
    yield Exchange("the local tag's view", "GET", f"{IMAGE_API}/namespaces/{{a}}/imagestreamtags/local:1")
    # --- status subresource
    yield Exchange("get status", "GET", f"{streams}/web/status")
    yield Exchange(
        "a status write adds a history and keeps the spec",
        "PATCH",
        f"{streams}/web/status",
        {
            "spec": {"tags": []},
            "status": {
                "tags": [
                    {
                        "tag": "x",
                        "items": [
                            {
                                "dockerImageReference": "quay.io/a/x:1",
                                "image": "",
                                "generation": 0,
                                "created": "2026-01-01T00:00:00Z",
                            }
                        ],
                    }
                ]
            },
        },
        content_type="application/strategic-merge-patch+json",
    )
    # --- users holding OpenShift's roles
    for namespace, role in (("a", "edit"), ("b", "view"), ("c", "admin"), ("d", "none")):
        base = f"{IMAGE_API}/namespaces/{{{namespace}}}"
        yield Exchange(f"{role}: list streams", "GET", f"{base}/imagestreams", as_user="user")
        yield Exchange(f"{role}: get a stream", "GET", f"{base}/imagestreams/shared", as_user="user")
        yield Exchange(f"{role}: get a tag", "GET", f"{base}/imagestreamtags/shared:1", as_user="user")
        yield Exchange(
            f"{role}: create a stream",
            "POST",
            f"{base}/imagestreams",
            _stream("mine", [_tag("x", "DockerImage", "quay.io/example/x:1", reference=True)]),
            as_user="user",
        )
        yield Exchange(
            f"{role}: import",
            "POST",
            f"{base}/imagestreamimports",
            _isi("imported", [(f"{reg}/lib:1", "1")]),
            as_user="user",
        )
        yield Exchange(f"{role}: delete a tag", "DELETE", f"{base}/imagestreamtags/shared:1", as_user="user")
    yield Exchange("a user reads a cluster-scoped image", "GET", f"{IMAGE_API}/images/{{digest:lib:1}}", as_user="user")
    # --- the TagVerifier: a source in another namespace needs get imagestreams/layers there
    c_streams = f"{IMAGE_API}/namespaces/{{c}}/imagestreams"
    for source_namespace, role in (("a", "edit"), ("b", "view"), ("d", "none")):
        for kind, source in (("ImageStreamTag", "shared:2"), ("ImageStreamImage", "shared@{short:lib:1}")):
            yield Exchange(
                f"admin in C tags from {role} in {source_namespace.upper()} ({kind})",
                "POST",
                c_streams,
                _stream(
                    f"from-{source_namespace}-{kind.lower()}",
                    [{"name": "1", "from": {"kind": kind, "name": source, "namespace": f"{{{source_namespace}}}"}}],
                ),
                as_user="user",
            )
    # --- the openshift.io/ImageStream LimitRange (2 distinct references per stream in C)
    yield Exchange(
        "a stream within the limit",
        "POST",
        c_streams,
        _stream("limited", [_tag(str(i), "DockerImage", f"quay.io/o/t:{i}", reference=True) for i in (1, 2)]),
    )
    yield Exchange(
        "an update past the limit",
        "PATCH",
        f"{c_streams}/limited",
        {"spec": {"tags": [_tag("3", "DockerImage", "quay.io/o/t:3", reference=True)]}},
        content_type="application/strategic-merge-patch+json",
    )
    yield Exchange(
        "a create past the limit",
        "POST",
        c_streams,
        _stream("over", [_tag(str(i), "DockerImage", f"quay.io/o/t:{i}", reference=True) for i in (1, 2, 3)]),
    )
    # --- what the controllers set up in every namespace
    yield Exchange("service account builder", "GET", "/api/v1/namespaces/{d}/serviceaccounts/builder")
    yield Exchange("service account default", "GET", "/api/v1/namespaces/{d}/serviceaccounts/default")
    yield Exchange(
        "RoleBinding system:image-pullers", "GET", f"{RBAC_API}/namespaces/{{d}}/rolebindings/system:image-pullers"
    )
    yield Exchange(
        "the managed pull secrets",
        "GET",
        "/api/v1/namespaces/{d}/secrets?fieldSelector=type%3Dkubernetes.io%2Fdockercfg",
    )
    # --- OpenShift's roles
    for role in (
        "system:image-puller",
        "system:image-pusher",
        "system:image-builder",
        "registry-viewer",
        "view",
        "edit",
        "admin",
    ):
        yield Exchange(f"ClusterRole {role}: its image rules", "GET", f"{RBAC_API}/clusterroles/{role}")
    # --- deletecollection
    yield Exchange("delete every stream of a namespace", "DELETE", f"{IMAGE_API}/namespaces/{{b}}/imagestreams")
    yield Exchange("none left", "GET", f"{IMAGE_API}/namespaces/{{b}}/imagestreams")


# --------------------------------------------------------------------------------------------------------------------
# Running


@dataclass
class Run:
    """A run of the corpus against the sandbox that is up."""

    sandbox: Sandbox
    kube: Kube
    user: Kube
    namespaces: dict[str, str]
    digests: dict[str, str]

    def fill(self, text: str) -> str:
        for key, namespace in self.namespaces.items():
            text = text.replace(f"{{{key}}}", namespace)
        text = text.replace("{registry}", self.sandbox.registry)
        for image, digest in self.digests.items():
            text = text.replace(f"{{digest:{image}}}", digest).replace(f"{{short:{image}}}", digest[7:19])
        return text

    def normalise(self, value: Any) -> Any:
        """Placeholders for what differs between runs; the structure and every other value are kept."""
        text = json.dumps(value, sort_keys=True)
        for key, namespace in sorted(self.namespaces.items(), key=lambda item: -len(item[1])):
            text = text.replace(namespace, f"<ns-{key}>")
        for registry, name in (
            (self.sandbox.registry, "<registry>"),
            (self.sandbox.token_registry, "<token-registry>"),
        ):
            text = text.replace(registry, name)
        text = re.sub(r"-dockercfg-[a-z0-9]{5}\b", "-dockercfg-<suffix>", text)
        return _drop_volatile(json.loads(text))

    def send(self, exchange: Exchange) -> dict[str, Any]:
        client = self.user if exchange.as_user == "user" else self.kube
        body = json.loads(self.fill(json.dumps(exchange.body))) if exchange.body is not None else None
        path = self.fill(exchange.path)
        deadline = time.monotonic() + 60
        while True:
            status, answer = client.send(exchange.method, path, body, content_type=exchange.content_type)
            if exchange.until is None or exchange.until(answer) or time.monotonic() > deadline:
                return {"status": status, "body": self.normalise(_without_secrets(answer))}
            time.sleep(0.5)


def _without_secrets(answer: Any) -> Any:
    """Tokens in managed pull secrets become <token>: the corpus never holds a credential."""
    if isinstance(answer, dict) and answer.get("kind") == "SecretList":
        for secret in answer.get("items") or []:
            for key in list(secret.get("data") or {}):
                secret["data"][key] = "<data>"
    return answer


def _drop_volatile(value: Any) -> Any:
    # resourceVersion goes altogether: whether an import answers with the stored image (which has one) depends on
    # whether an earlier run on the same cluster created that image already.
    if isinstance(value, dict):
        return {
            key: ("<volatile>" if key in VOLATILE_KEYS else _drop_volatile(item))
            for key, item in value.items()
            if key not in ("managedFields", "resourceVersion")
        }
    if isinstance(value, list):
        return [_drop_volatile(item) for item in value]
    return value


def prepare(sandbox: Sandbox) -> Run:
    """Namespaces A-D with sandbox-user's roles, a pull secret for the sandbox registry in each, the images pushed,
    and a stream ``shared`` (tags 1 and 2) in A, B and D."""
    kube = Kube(sandbox.kubeconfig, user_agent="contract-corpus")
    user = Kube(sandbox.user_kubeconfig, user_agent="contract-corpus")
    suffix = secrets.token_hex(3)
    namespaces = {key: f"contract-{key}-{suffix}" for key in "abcd"}
    for key, namespace in namespaces.items():
        kube.create("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
        wait_for_project_setup(kube, namespace)
        role = ROLES.get(key)
        if role:
            kube.create(
                f"{RBAC_API}/namespaces/{namespace}/rolebindings",
                {
                    "apiVersion": "rbac.authorization.k8s.io/v1",
                    "kind": "RoleBinding",
                    "metadata": {"name": f"contract-{role}"},
                    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
                    "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "sandbox-user"}],
                },
            )
        credential = base64.b64encode(f"{sandbox.registry_user}:{sandbox.registry_password}".encode()).decode()
        document = json.dumps({"auths": {sandbox.registry: {"auth": credential}}})
        kube.create(
            f"/api/v1/namespaces/{namespace}/secrets",
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "type": "kubernetes.io/dockerconfigjson",
                "metadata": {"name": "contract-registry"},
                "data": {".dockerconfigjson": base64.b64encode(document.encode()).decode()},
            },
        )
    images = Images(sandbox, kube, run_module=None)
    digests = {}
    for image, text in IMAGES.items():
        repository, _colon, tag = image.partition(":")
        digests[image] = images.push(f"contract/{repository}", tag, text=text)
    kube.create(
        f"/api/v1/namespaces/{namespaces['c']}/limitranges",
        {
            "apiVersion": "v1",
            "kind": "LimitRange",
            "metadata": {"name": "image-streams"},
            "spec": {"limits": [{"type": "openshift.io/ImageStream", "max": {"openshift.io/image-tags": "2"}}]},
        },
    )
    run = Run(sandbox, kube, user, namespaces, digests)
    for key in "abd":
        answer = kube.create(
            f"{IMAGE_API}/namespaces/{namespaces[key]}/imagestreamimports",
            json.loads(
                run.fill(
                    json.dumps(_isi("shared", [("{registry}/contract/app:1", "1"), ("{registry}/contract/lib:1", "2")]))
                )
            ),
        )
        assert all(image["status"]["status"] == "Success" for image in answer["status"]["images"]), answer["status"]
    return run


def cleanup(run: Run) -> None:
    for namespace in run.namespaces.values():
        run.kube.delete(f"/api/v1/namespaces/{namespace}")


def record_all(sandbox: Sandbox) -> list[dict[str, Any]]:
    run = prepare(sandbox)
    try:
        return [
            {
                "name": exchange.name,
                "method": exchange.method,
                "path": exchange.path,
                "as": exchange.as_user,
                **run.send(exchange),
            }
            for exchange in exchanges()
        ]
    finally:
        cleanup(run)


def main(argv: list[str]) -> int:
    sandbox = load_sandbox()
    if argv[1:] == ["record"]:
        if not runs_real_openshift(sandbox):
            print("record only against real OpenShift binaries (SANDBOX_OPENSHIFT_BIN)", file=sys.stderr)
            return 2
        recorded = record_all(sandbox)
        CORPUS.parent.mkdir(exist_ok=True)
        CORPUS.write_text(json.dumps({"exchanges": recorded}, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        print(f"{len(recorded)} exchanges in {CORPUS}")
        return 0
    if argv[1:] == ["compare"]:
        expected = {entry["name"]: entry for entry in json.loads(CORPUS.read_text(encoding="utf-8"))["exchanges"]}
        differing = 0
        for entry in record_all(sandbox):
            want = expected.get(entry["name"])
            if want is None or (want["status"], want["body"]) != (entry["status"], entry["body"]):
                differing += 1
                print(f"DIFFERS: {entry['name']}: {want and want['status']} vs {entry['status']}")
        print(f"{differing} of {len(expected)} exchanges differ")
        return 1 if differing else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
