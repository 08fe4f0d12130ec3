# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""`oc` is the reference: the real `oc` does an operation in one namespace, the module does the same in a twin
namespace, and the cluster objects are compared field by field. Every difference that remains is a deliberate one,
asserted here and documented (docs/image_tag.md, docs/pull_secrets.md).

oc's side comes from golden files recorded once from real oc against the real OpenShift servers
(``golden/oc_parity.json``); with real binaries and oc supplied (SANDBOX_OPENSHIFT_BIN) it runs live and is checked
against them (oc_reference.py)."""

from __future__ import annotations

import base64
import json
import os
import secrets
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from .oc_reference import GoldenStore, OcReference, oc_side_key, reference_mode
from .sandbox_support import Images, Kube, ModuleRunner, Sandbox, imagestream_path, wait_for_project_setup


@pytest.fixture(scope="session")
def golden() -> Iterator[GoldenStore]:
    store = GoldenStore()
    yield store
    store.save()  # only when recording


@pytest.fixture
def twin(kube: Kube, namespace: str) -> Iterator[str]:
    """A second namespace, set up as OpenShift sets up a project: where `oc` acts while the module acts in
    ``namespace``."""
    name = f"{namespace[:50]}-oc"
    kube.create("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    wait_for_project_setup(kube, name)
    yield name
    kube.delete(f"/api/v1/namespaces/{name}")


@pytest.fixture
def oc(request: pytest.FixtureRequest, sandbox: Sandbox, golden: GoldenStore, namespace: str, twin: str) -> OcReference:
    reference = OcReference(
        key=oc_side_key(request.node.nodeid),
        mode=reference_mode(sandbox.env),
        store=golden,
        binary=sandbox.env.get("SANDBOX_OC"),
        kubeconfig=sandbox.kubeconfig,
    )
    reference.substitute(twin, "<oc-namespace>")
    reference.substitute(namespace, "<module-namespace>")
    reference.substitute_credentials(sandbox.registry, sandbox.registry_user, sandbox.registry_password)
    return reference


def spec_tags(kube: Kube, namespace: str, stream: str) -> dict[str, dict[str, Any]]:
    """name -> spec tag, with the namespace names made comparable across the twins and the generation (a counter
    of each stream's own history) left out."""
    current = kube.get(imagestream_path(namespace, stream)) or {}
    tags = {}
    for stored in (current.get("spec") or {}).get("tags") or []:
        entry = {key: value for key, value in stored.items() if key != "generation"}
        source = dict(entry.get("from") or {})
        # oc writes the stream's own namespace into a pin's `from`, the module leaves it out: the same reference
        # to the server (an empty namespace is the stream's), and the module takes oc's form as unchanged
        if (
            source.get("kind") in ("ImageStreamTag", "ImageStreamImage")
            and source.get("namespace", namespace) == namespace
        ):
            source["namespace"] = "<self>"
        if source:
            entry["from"] = source
        tags[entry["name"]] = entry
    return tags


def materialize_spec_tags(kube: Kube, namespace: str, stream: str, tags: dict[str, dict[str, Any]]) -> None:
    """Write oc's recorded spec tags (as spec_tags() reads them) into ``namespace/stream``: what oc left there."""
    wanted = []
    for tag in tags.values():
        entry = json.loads(json.dumps(tag))
        if (entry.get("from") or {}).get("namespace") == "<self>":
            entry["from"]["namespace"] = namespace
        wanted.append(entry)
    path = imagestream_path(namespace, stream)
    if kube.get(path) is None:
        kube.create(
            imagestream_path(namespace),
            {"apiVersion": "image.openshift.io/v1", "kind": "ImageStream", "metadata": {"name": stream}},
        )
    kube.update_with_retry(path, lambda current: current["spec"].update(tags=wanted) is None)


def status_images(kube: Kube, namespace: str, stream: str) -> dict[str, str | None]:
    current = kube.get(imagestream_path(namespace, stream)) or {}
    return {
        entry["tag"]: (entry.get("items") or [{}])[0].get("image")
        for entry in (current.get("status") or {}).get("tags") or []
    }


def ok(result: dict[str, Any]) -> dict[str, Any]:
    assert not result.get("failed"), result.get("msg")
    return result


# --------------------------------------------------------------------------------------------------------------------
# oc tag


@pytest.fixture
def ruby(images: Images, namespace: str, twin: str, oc: OcReference) -> str:
    """The same image imported as ruby:2.0 into both twins; returns its digest."""
    repository = f"parity/ruby-{secrets.token_hex(3)}"
    digest = images.push(repository, "2.0")
    oc.substitute(digest, "<digest>")
    oc.substitute(repository, "<repository>")
    for ns in (namespace, twin):
        assert images.import_tag(ns, "ruby", "2.0", image=f"{repository}:2.0") == digest
    return digest


# (module parameters, oc tag arguments): each pair means the same operation.
TAG_SCENARIOS: list[tuple[str, dict[str, Any], list[str]]] = [
    ("pin", {"source": "ruby:2.0", "dest": "ruby:static"}, ["{ns}/ruby:2.0", "{ns}/ruby:static"]),
    ("alias", {"source": "ruby:2.0", "dest": "ruby:latest", "alias": True}, ["--alias", "ruby:2.0", "ruby:latest"]),
    (
        "several destinations",
        {"source": "ruby:2.0", "dest": ["ruby:a", "other:b"]},
        ["{ns}/ruby:2.0", "{ns}/ruby:a", "{ns}/other:b"],
    ),
    (
        "container image",
        {"source": "quay.io/org/app:1", "dest": "ruby:ext"},
        ["--source=docker", "quay.io/org/app:1", "{ns}/ruby:ext"],
    ),
    (
        "scheduled",
        {"source": "quay.io/org/app:1", "dest": "ruby:sched", "scheduled": True},
        ["--scheduled", "--source=docker", "quay.io/org/app:1", "{ns}/ruby:sched"],
    ),
    (
        "insecure",
        {"source": "quay.io/org/app:1", "dest": "ruby:insecure", "insecure": True},
        ["--insecure", "--source=docker", "quay.io/org/app:1", "{ns}/ruby:insecure"],
    ),
    (
        "reference",
        {"source": "quay.io/org/app:1", "dest": "ruby:ref", "reference": True},
        ["--reference", "--source=docker", "quay.io/org/app:1", "{ns}/ruby:ref"],
    ),
    (
        "reference policy local",
        {"source": "ruby:2.0", "dest": "ruby:local", "reference_policy": "local"},
        ["--reference-policy=local", "{ns}/ruby:2.0", "{ns}/ruby:local"],
    ),
    (
        "import mode PreserveOriginal",
        {"source": "quay.io/org/app:1", "dest": "ruby:all", "import_mode": "PreserveOriginal"},
        ["--import-mode=PreserveOriginal", "--source=docker", "quay.io/org/app:1", "{ns}/ruby:all"],
    ),
    (
        "pin from an image stream image",
        {"source": "ruby@{digest}", "dest": "ruby:by-digest"},
        ["{ns}/ruby@{digest}", "{ns}/ruby:by-digest"],
    ),
]


@pytest.mark.parametrize(("params", "oc_args"), [pytest.param(p, a, id=name) for name, p, a in TAG_SCENARIOS])
def test_oc_tag_parity(
    kube: Kube,
    *,
    namespace: str,
    twin: str,
    ruby: str,
    oc: OcReference,
    run_module: ModuleRunner,
    params: dict[str, Any],
    oc_args: Sequence[str],
) -> None:
    oc.oc("-n", twin, "tag", *(arg.format(ns=twin, digest=ruby) for arg in oc_args))
    module_params = {
        key: (
            [v.format(digest=ruby) for v in value]
            if isinstance(value, list)
            else value.format(digest=ruby)
            if isinstance(value, str)
            else value
        )
        for key, value in params.items()
    }
    result = ok(run_module("image_tag", {**module_params, "namespace": namespace}))
    assert result["changed"] is True
    streams = sorted(
        {dest.partition(":")[0] for dest in ([params["dest"]] if isinstance(params["dest"], str) else params["dest"])}
    )
    theirs_by_stream = {
        stream: oc.observe(f"spec tags of {stream}", lambda stream=stream: spec_tags(kube, twin, stream))
        for stream in streams
    }
    for stream in streams:
        assert spec_tags(kube, namespace, stream) == theirs_by_stream[stream], stream
    # and the server resolved both the same way, during the write (imports of quay.io, unreachable here, fail in
    # the background at their own pace: left out)
    resolved = [name for name, tag in theirs_by_stream["ruby"].items() if tag["from"]["kind"] != "DockerImage"]
    ours, theirs = (
        status_images(kube, namespace, "ruby"),
        oc.observe("status of ruby", lambda: status_images(kube, twin, "ruby")),
    )
    assert {name: ours.get(name) for name in resolved} == {name: theirs.get(name) for name in resolved}
    # the deliberate difference: the module is idempotent, `oc tag` writes again (and reports it) every time
    again = ok(run_module("image_tag", {**module_params, "namespace": namespace}))
    assert again["changed"] is False
    # and what oc made is what the module wants: run in oc's twin, it changes nothing
    if not oc.live:
        for stream, tags in theirs_by_stream.items():
            materialize_spec_tags(kube, twin, stream, tags)
    assert ok(run_module("image_tag", {**module_params, "namespace": twin}))["changed"] is False


def test_oc_tag_cross_namespace_parity(
    images: Images, kube: Kube, *, namespace: str, twin: str, ruby: str, oc: OcReference, run_module: ModuleRunner
) -> None:
    # both take the source from the other twin: ours from the twin's ruby:2.0, oc's from ours
    oc.oc("tag", f"{namespace}/ruby:2.0", f"{twin}/copy:prod")
    ok(run_module("image_tag", {"source": f"{twin}/ruby:2.0", "dest": f"{namespace}/copy:prod"}))
    ours = spec_tags(kube, namespace, "copy")["prod"]
    theirs = oc.observe("spec tags of copy", lambda: spec_tags(kube, twin, "copy"))["prod"]
    assert ours["from"] == {"kind": "ImageStreamImage", "name": f"ruby@{ruby}", "namespace": twin}
    assert theirs["from"] == {"kind": "ImageStreamImage", "name": f"ruby@{ruby}", "namespace": namespace}
    assert {k: v for k, v in ours.items() if k != "from"} == {k: v for k, v in theirs.items() if k != "from"}


def test_oc_tag_delete_parity(
    kube: Kube, *, namespace: str, twin: str, ruby: str, oc: OcReference, run_module: ModuleRunner
) -> None:
    oc.oc("-n", twin, "tag", "-d", "ruby:2.0")
    ok(run_module("image_tag", {"dest": "ruby:2.0", "namespace": namespace, "state": "absent"}))
    assert spec_tags(kube, namespace, "ruby") == oc.observe("spec tags", lambda: spec_tags(kube, twin, "ruby")) == {}
    assert (
        status_images(kube, namespace, "ruby") == oc.observe("status", lambda: status_images(kube, twin, "ruby")) == {}
    )
    # the deliberate difference: deleting again is no change for the module, an error for oc
    assert (
        ok(run_module("image_tag", {"dest": "ruby:2.0", "namespace": namespace, "state": "absent"}))["changed"] is False
    )
    assert oc.oc("-n", twin, "tag", "-d", "ruby:2.0", check=False).returncode != 0


def test_oc_tag_retag_keeps_annotations_where_oc_wipes_them(
    images: Images, kube: Kube, *, namespace: str, twin: str, ruby: str, oc: OcReference, run_module: ModuleRunner
) -> None:
    oc.oc("-n", twin, "tag", f"{twin}/ruby:2.0", f"{twin}/ruby:static")
    ok(run_module("image_tag", {"source": "ruby:2.0", "dest": "ruby:static", "namespace": namespace}))
    for ns in (namespace, twin) if oc.live else (namespace,):
        kube.update_with_retry(
            imagestream_path(ns, "ruby"),
            lambda current: all(
                t.update(annotations={"description": "Ruby"}) is None
                for t in current["spec"]["tags"]
                if t["name"] == "static"
            ),
        )
    oc.oc("-n", twin, "tag", f"{twin}/ruby:2.0", f"{twin}/ruby:static")
    ok(run_module("image_tag", {"source": "ruby:2.0", "dest": "ruby:static", "namespace": namespace}))
    ours = spec_tags(kube, namespace, "ruby")["static"]
    theirs = oc.observe("spec tags", lambda: spec_tags(kube, twin, "ruby"))["static"]
    # the deliberate difference: oc replaces the whole tag, annotations gone; the module keeps them
    assert ours.pop("annotations") == {"description": "Ruby"}
    assert not theirs.pop("annotations", None)
    assert ours == theirs


# --------------------------------------------------------------------------------------------------------------------
# pull secrets


def secret(kube: Kube, namespace: str, name: str) -> dict[str, Any]:
    return kube.get(f"/api/v1/namespaces/{namespace}/secrets/{name}")


def decoded(secret_object: dict[str, Any], key: str) -> Any:
    return json.loads(base64.b64decode(secret_object["data"][key]))


def test_create_secret_docker_registry_parity(
    kube: Kube, *, namespace: str, twin: str, oc: OcReference, run_module: ModuleRunner
) -> None:
    oc.oc(
        "-n",
        twin,
        "create",
        "secret",
        "docker-registry",
        "robot",
        "--docker-server=quay.io",
        "--docker-username=robot",
        "--docker-password=s3cr3t-Passw0rd",
        "--docker-email=robot@example.org",
    )
    registries = [
        {"server": "quay.io", "username": "robot", "password": "s3cr3t-Passw0rd", "email": "robot@example.org"}
    ]
    ok(run_module("pull_secret", {"name": "robot", "namespace": namespace, "registries": registries}))
    ours, theirs = secret(kube, namespace, "robot"), oc.observe("secret", lambda: secret(kube, twin, "robot"))
    assert ours["type"] == theirs["type"] == "kubernetes.io/dockerconfigjson"
    assert decoded(ours, ".dockerconfigjson") == decoded(theirs, ".dockerconfigjson")
    assert (
        ok(run_module("pull_secret", {"name": "robot", "namespace": namespace, "registries": registries}))["changed"]
        is False
    )


def test_create_secret_generic_from_auth_file_parity(
    kube: Kube, tmp_path: Any, *, namespace: str, twin: str, oc: OcReference, run_module: ModuleRunner
) -> None:
    document = {
        "auths": {
            "quay.io": {"auth": base64.b64encode(b"robot:s3cr3t-Passw0rd").decode(), "email": "robot@example.org"},
            "registry.example.com:5000": {"auth": base64.b64encode(b"dev:an0ther-Passw0rd").decode()},
        }
    }
    auth_file = tmp_path / "auth.json"
    auth_file.write_text(json.dumps(document), encoding="utf-8")
    oc.substitute(str(auth_file), "<auth-file>")
    oc.oc(
        "-n",
        twin,
        "create",
        "secret",
        "generic",
        "from-file",
        f"--from-file=.dockerconfigjson={auth_file}",
        "--type=kubernetes.io/dockerconfigjson",
    )
    ok(run_module("pull_secret", {"name": "from-file", "namespace": namespace, "auth_file": str(auth_file)}))
    ours, theirs = secret(kube, namespace, "from-file"), oc.observe("secret", lambda: secret(kube, twin, "from-file"))
    assert ours["type"] == theirs["type"]
    assert decoded(ours, ".dockerconfigjson") == decoded(theirs, ".dockerconfigjson")


# --------------------------------------------------------------------------------------------------------------------
# oc secrets link / unlink


def sa_lists(kube: Kube, namespace: str, name: str) -> list[list[str]]:
    sa = kube.get(f"/api/v1/namespaces/{namespace}/serviceaccounts/{name}")
    managed = (sa["metadata"].get("annotations") or {})["openshift.io/internal-registry-pull-secret-ref"]

    def names(field: str) -> list[str]:
        return ["<managed>" if ref["name"] == managed else ref["name"] for ref in sa.get(field) or []]

    return [names("imagePullSecrets"), names("secrets")]


@pytest.mark.parametrize(
    ("purpose", "oc_for"), [(["pull"], "pull"), (["mount"], "mount"), (["pull", "mount"], "pull,mount")]
)
def test_secrets_link_and_unlink_parity(
    kube: Kube,
    *,
    namespace: str,
    twin: str,
    oc: OcReference,
    run_module: ModuleRunner,
    purpose: list[str],
    oc_for: str,
) -> None:
    for ns in (namespace, twin):
        ok(
            run_module(
                "pull_secret",
                {
                    "name": "robot",
                    "namespace": ns,
                    "registries": [{"server": "quay.io", "username": "r", "password": "p-Passw0rd1"}],
                },
            )
        )
    oc.oc("-n", twin, "secrets", "link", "default", "robot", f"--for={oc_for}")
    ok(
        run_module(
            "secret_link",
            {"service_account": "default", "namespace": namespace, "secrets": ["robot"], "purpose": purpose},
        )
    )
    assert sa_lists(kube, namespace, "default") == oc.observe("linked", lambda: sa_lists(kube, twin, "default"))
    # unlink: oc secrets unlink removes from both lists; so does the module when purpose is not given
    oc.oc("-n", twin, "secrets", "unlink", "default", "robot")
    ok(
        run_module(
            "secret_link",
            {"service_account": "default", "namespace": namespace, "secrets": ["robot"], "state": "absent"},
        )
    )
    assert sa_lists(kube, namespace, "default") == oc.observe("unlinked", lambda: sa_lists(kube, twin, "default"))
    assert "robot" not in sa_lists(kube, namespace, "default")[0] + sa_lists(kube, namespace, "default")[1]


# --------------------------------------------------------------------------------------------------------------------
# oc policy add-role-to-* / remove-role-from-*


def puller_subjects(kube: Kube, namespace: str) -> list[dict[str, Any]]:
    listing = kube.get(f"/apis/rbac.authorization.k8s.io/v1/namespaces/{namespace}/rolebindings")
    subjects = []
    for item in listing["items"]:
        if item["roleRef"]["name"] == "system:image-puller" and item["metadata"]["name"] != "system:image-pullers":
            for stored in item.get("subjects") or []:
                subject = dict(stored)
                if subject.get("namespace"):
                    subject["namespace"] = "<ns>"
                subject["name"] = subject["name"].replace(namespace, "<ns>")
                subjects.append(subject)
    return sorted(subjects, key=json.dumps)


@pytest.mark.parametrize(
    ("params", "oc_args"),
    [
        pytest.param(
            {"service_accounts": ["{src}:default"]},
            ["add-role-to-user", "system:image-puller", "system:serviceaccount:{src}:default"],
            id="one service account",
        ),
        pytest.param(
            {"from_namespaces": ["{src}"]},
            ["add-role-to-group", "system:image-puller", "system:serviceaccounts:{src}"],
            id="a whole project",
        ),
    ],
)
def test_policy_add_and_remove_role_parity(
    kube: Kube,
    *,
    namespace: str,
    twin: str,
    oc: OcReference,
    run_module: ModuleRunner,
    params: dict[str, Any],
    oc_args: list[str],
) -> None:
    source = "parity-source"

    def fill(value: Any) -> Any:
        return [v.format(src=source) for v in value] if isinstance(value, list) else value

    oc.oc("-n", twin, "policy", *(arg.format(src=source) for arg in oc_args))
    module_params = {key: fill(value) for key, value in params.items()}
    ok(run_module("image_puller_binding", {**module_params, "namespace": namespace, "verify": False}))
    assert puller_subjects(kube, namespace) == oc.observe("added", lambda: puller_subjects(kube, twin)) != []
    remove = ["remove-role-from-user" if oc_args[0] == "add-role-to-user" else "remove-role-from-group", *oc_args[1:]]
    oc.oc("-n", twin, "policy", *(arg.format(src=source) for arg in remove))
    ok(
        run_module(
            "image_puller_binding", {**module_params, "namespace": namespace, "state": "absent", "verify": False}
        )
    )
    assert puller_subjects(kube, namespace) == oc.observe("removed", lambda: puller_subjects(kube, twin)) == []


def test_policy_add_role_image_pusher_parity(
    kube: Kube, *, namespace: str, twin: str, oc: OcReference, run_module: ModuleRunner
) -> None:
    oc.oc("-n", twin, "policy", "add-role-to-user", "system:image-pusher", "system:serviceaccount:parity-ci:builder")
    params = {"namespace": namespace, "service_accounts": ["parity-ci:builder"], "role": "system:image-pusher"}
    ok(run_module("image_puller_binding", {**params, "verify": False}))

    def pushers(ns: str) -> list[dict[str, Any]]:
        listing = kube.get(f"/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/rolebindings")
        return [
            s for item in listing["items"] if item["roleRef"]["name"] == "system:image-pusher" for s in item["subjects"]
        ]

    assert pushers(namespace) == oc.observe("pushers", lambda: pushers(twin)) != []


# --------------------------------------------------------------------------------------------------------------------
# Refused the same way: nothing written by either


@pytest.mark.parametrize(
    ("params", "oc_args", "oc_message"),
    [
        pytest.param(
            {"source": "other:1", "dest": "ruby:x", "alias": True},
            ["--alias", "other:1", "ruby:x"],
            "cannot set alias across different Image Streams",
            id="alias across streams",
        ),
        pytest.param(
            {"source": "ruby:2.0", "dest": "ruby:x", "scheduled": True},
            ["--scheduled", "ruby:2.0", "ruby:x"],
            "only container images can have importing flags set",
            id="scheduled from an image stream tag",
        ),
    ],
)
def test_both_refuse(
    kube: Kube,
    *,
    namespace: str,
    twin: str,
    ruby: str,
    oc: OcReference,
    run_module: ModuleRunner,
    params: dict[str, Any],
    oc_args: list[str],
    oc_message: str,
) -> None:
    before = (spec_tags(kube, namespace, "ruby"), oc.observe("before", lambda: spec_tags(kube, twin, "ruby")))
    refused = oc.oc("-n", twin, "tag", *oc_args, check=False)
    assert refused.returncode != 0
    assert oc_message.lower() in (refused.stdout + refused.stderr).lower()
    result = run_module("image_tag", {**params, "namespace": namespace})
    assert result.get("failed") is True
    assert oc_message.lower() in result["msg"].lower()
    assert (spec_tags(kube, namespace, "ruby"), oc.observe("after", lambda: spec_tags(kube, twin, "ruby"))) == before


def test_create_secret_docker_registry_with_port_and_no_email_parity(
    kube: Kube, *, namespace: str, twin: str, oc: OcReference, run_module: ModuleRunner
) -> None:
    oc.oc(
        "-n",
        twin,
        "create",
        "secret",
        "docker-registry",
        "internal",
        "--docker-server=registry.example.com:5000",
        "--docker-username=dev",
        "--docker-password=an0ther-Passw0rd",
    )
    registries = [{"server": "registry.example.com:5000", "username": "dev", "password": "an0ther-Passw0rd"}]
    ok(run_module("pull_secret", {"name": "internal", "namespace": namespace, "registries": registries}))
    ours, theirs = secret(kube, namespace, "internal"), oc.observe("secret", lambda: secret(kube, twin, "internal"))
    assert ours["type"] == theirs["type"]
    assert decoded(ours, ".dockerconfigjson") == decoded(theirs, ".dockerconfigjson")


def test_secrets_link_two_secrets_parity(
    kube: Kube, *, namespace: str, twin: str, oc: OcReference, run_module: ModuleRunner
) -> None:
    for ns in (namespace, twin):
        for name in ("first", "second"):
            registry = {"server": f"{name}.example.com", "username": "r", "password": "p-Passw0rd1"}
            ok(run_module("pull_secret", {"name": name, "namespace": ns, "registries": [registry]}))
    oc.oc("-n", twin, "secrets", "link", "builder", "first", "second", "--for=pull")
    params = {"service_account": "builder", "namespace": namespace, "secrets": ["first", "second"], "purpose": ["pull"]}
    ok(run_module("secret_link", params))
    assert sa_lists(kube, namespace, "builder") == oc.observe("linked", lambda: sa_lists(kube, twin, "builder"))
    assert sa_lists(kube, namespace, "builder")[0][-2:] == ["first", "second"]


# --------------------------------------------------------------------------------------------------------------------
# The global pull secret: `oc get secret` + `oc registry login --to` + `oc set data`, the documented procedure


def test_registry_login_and_set_data_parity(
    kube: Kube, tmp_path: Any, sandbox: Sandbox, *, namespace: str, twin: str, oc: OcReference, run_module: ModuleRunner
) -> None:
    # Twins of openshift-config/pull-secret (the real one is shared by the suite): the seeded document, as stored
    seeded = secret(kube, "openshift-config", "pull-secret")
    for ns in (namespace, twin):
        body = {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "kubernetes.io/dockerconfigjson",
            "metadata": {"name": "pull-secret", "namespace": ns},
            "data": {".dockerconfigjson": seeded["data"][".dockerconfigjson"]},
        }
        kube.create(f"/api/v1/namespaces/{ns}/secrets", body)
    document = tmp_path / "pull-secret.json"
    oc.substitute(str(document), "<document>")
    shown = oc.oc(
        "get", "secret/pull-secret", "-n", twin, "--template", '{{index .data ".dockerconfigjson" | base64decode}}'
    )
    document.write_text(shown.stdout, encoding="utf-8")
    login = oc.oc(
        "registry",
        "login",
        f"--registry={sandbox.registry}",
        f"--auth-basic={sandbox.registry_user}:{sandbox.registry_password}",
        f"--to={document}",
        check=False,
        env={**os.environ, "SSL_CERT_FILE": sandbox.registry_ca},
    )
    assert login.returncode == 0, login.stdout + login.stderr
    oc.oc("set", "data", "secret/pull-secret", "-n", twin, f"--from-file=.dockerconfigjson={document}")

    params = {
        "name": "pull-secret",
        "namespace": namespace,
        "registries": [
            {"server": sandbox.registry, "username": sandbox.registry_user, "password": sandbox.registry_password}
        ],
        "validate_credentials": True,  # oc registry login checks the credentials with the registry too
        "registry_ca_cert": sandbox.registry_ca,
    }
    result = ok(run_module("global_pull_secret", params))
    assert result["added"] == [sandbox.registry]
    ours, theirs = (
        decoded(secret(kube, namespace, "pull-secret"), ".dockerconfigjson"),
        oc.observe("pull secret", lambda: decoded(secret(kube, twin, "pull-secret"), ".dockerconfigjson")),
    )
    # the entry both added is the same credential; oc registry login writes `auth` alone, the module the entry
    # `oc create secret docker-registry` writes (username, password, auth): nodes read both the same
    assert ours["auths"][sandbox.registry]["auth"] == theirs["auths"][sandbox.registry]["auth"]
    assert theirs["auths"][sandbox.registry] == {"auth": ours["auths"][sandbox.registry]["auth"]}
    assert ours["auths"][sandbox.registry] == {
        "username": sandbox.registry_user,
        "password": sandbox.registry_password,
        "auth": theirs["auths"][sandbox.registry]["auth"],
    }
    assert set(ours["auths"]) == set(theirs["auths"])
    # the one deliberate difference: oc registry login rewrites the whole file through containers/image and drops
    # every `email`; the module leaves every entry it was not asked to touch exactly as it was
    seeded_auths = decoded(seeded, ".dockerconfigjson")["auths"]
    assert {key: entry for key, entry in ours["auths"].items() if key != sandbox.registry} == seeded_auths
    emails = {key for key, entry in seeded_auths.items() if "email" in entry}
    assert emails and all("email" not in theirs["auths"][key] for key in emails)
    others = [key for key in seeded_auths if key != sandbox.registry]
    assert {key: {f: v for f, v in ours["auths"][key].items() if f != "email"} for key in others} == {
        key: theirs["auths"][key] for key in others
    }
    assert ok(run_module("global_pull_secret", params))["changed"] is False
