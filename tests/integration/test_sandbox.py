# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The sandbox cluster itself: the real control plane, the registries and the test fixtures behave as promised."""

from __future__ import annotations

import base64
import json
import shlex
import shutil
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from ansible_collections.openshift_ops.images.plugins.module_utils._global_pull_secret.rollout import rendered_file

from .mco_stand_in import (
    CONTROLLER_CONFIG_PATH,
    MC_PATH,
    MachineConfigOperator,
    pause_pool,
    template_file_contents,
    unpause_pool,
)
from .sandbox_support import (
    MCP_PATH,
    PULL_SECRET_PATH,
    Images,
    Kube,
    KubeTestError,
    ModuleCrashError,
    Sandbox,
    imagestream_path,
    parse_env_file,
    parse_module_output,
    read_kubeconfig,
    registry_authfile,
    runs_real_openshift,
    skopeo_inspect,
    temporary_role_binding,
)

# --------------------------------------------------------------------------------------------------------------------
# The control plane


def test_readyz_and_version(kube: Kube) -> None:
    assert kube.request("GET", "/readyz") == "ok"
    version = kube.request("GET", "/version")
    # The launcher stamps the version into the binaries; unstamped builds report v0.0.0 and kubectl warns.
    assert version["gitVersion"].startswith("v1.") and version["gitVersion"] != "v0.0.0"


def test_admin_kubeconfig_shape(sandbox: Sandbox) -> None:
    admin = read_kubeconfig(sandbox.kubeconfig)
    assert admin.server == sandbox.api and admin.namespace == "default"
    assert admin.cert_data and admin.key_data and admin.ca_data
    assert sandbox.env["K8S_AUTH_KUBECONFIG"] == sandbox.kubeconfig
    assert Path(sandbox.ca).read_bytes().strip() == admin.ca_data.strip()


def test_namespace_deletion_completes(kube: Kube) -> None:
    name = f"it-deletion-{time.monotonic_ns() % 100000}"
    kube.create("/api/v1/namespaces", {"metadata": {"name": name}})
    kube.create(f"/api/v1/namespaces/{name}/configmaps", {"metadata": {"name": "content"}, "data": {"a": "b"}})
    kube.delete(f"/api/v1/namespaces/{name}")
    # Without the namespace controller the namespace stays Terminating forever.
    kube.wait_for(lambda: kube.get(f"/api/v1/namespaces/{name}") is None, timeout=90, what=f"namespace {name} gone")


def test_default_service_account_appears(kube: Kube, namespace: str) -> None:
    sa = kube.wait_for(
        lambda: kube.get(f"/api/v1/namespaces/{namespace}/serviceaccounts/default"),
        timeout=30,
        what="the default ServiceAccount",
    )
    assert sa["metadata"]["name"] == "default"
    kube.wait_for(
        lambda: kube.get(f"/api/v1/namespaces/{namespace}/configmaps/kube-root-ca.crt"),
        timeout=30,
        what="kube-root-ca.crt (root-ca-certificate-publisher-controller)",
    )


def test_sandbox_user_is_only_authenticated(user_kube: Kube) -> None:
    review = user_kube.create(
        "/apis/authentication.k8s.io/v1/selfsubjectreviews",
        {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"},
    )
    user = review["status"]["userInfo"]
    assert user["username"] == "sandbox-user"
    assert user["groups"] == ["system:authenticated"]


def test_sandbox_user_forbidden_on_global_pull_secret(user_kube: Kube) -> None:
    for path in ("/api/v1/namespaces/openshift-config/secrets", PULL_SECRET_PATH):
        with pytest.raises(KubeTestError) as caught:
            user_kube.request("GET", path)
        assert caught.value.status == 403


def test_admin_reads_seeded_pull_secret(kube: Kube) -> None:
    secret = kube.get(PULL_SECRET_PATH)
    assert secret["type"] == "kubernetes.io/dockerconfigjson"
    auths = json.loads(base64.b64decode(secret["data"][".dockerconfigjson"]))["auths"]
    assert set(auths) == {"cloud.openshift.com", "quay.io", "registry.redhat.io", "registry.connect.redhat.com"}
    assert auths["cloud.openshift.com"]["email"] and auths["registry.redhat.io"]["email"]
    for entry in auths.values():
        user, _sep, password = base64.b64decode(entry["auth"]).decode().partition(":")
        assert user and password


def test_api_server_validates_dockerconfigjson(kube: Kube, namespace: str) -> None:
    bad = {
        "metadata": {"name": "bad"},
        "type": "kubernetes.io/dockerconfigjson",
        "data": {".dockerconfigjson": base64.b64encode(b"not json").decode()},
    }
    with pytest.raises(KubeTestError) as caught:
        kube.create(f"/api/v1/namespaces/{namespace}/secrets", bad)
    assert caught.value.status == 422


def _can_i(
    sandbox: Sandbox, user_kube: Kube, verb: str, resource: str, namespace: str, *, subresource: str = ""
) -> bool:
    """Ask the real RBAC authorizer as sandbox-user: through kubectl when present, else a SelfSubjectAccessReview."""
    kubectl = shutil.which("kubectl")
    if kubectl:
        command = [kubectl, "--kubeconfig", sandbox.user_kubeconfig, "auth", "can-i", verb, resource, "-n", namespace]
        if subresource:
            command.append(f"--subresource={subresource}")
        completed = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
        assert completed.stdout.strip() in ("yes", "no"), completed.stderr
        return completed.stdout.strip() == "yes"
    plural, _sep, group = resource.partition(".")
    attributes = {"verb": verb, "resource": plural, "group": group, "subresource": subresource, "namespace": namespace}
    review = user_kube.create(
        "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", {"spec": {"resourceAttributes": attributes}}
    )
    return bool(review["status"]["allowed"])


def test_can_i_answers_from_rbac(sandbox: Sandbox, kube: Kube, user_kube: Kube, namespace: str) -> None:
    assert not _can_i(sandbox, user_kube, "get", "secrets", namespace)
    assert not _can_i(sandbox, user_kube, "get", "imagestreams.image.openshift.io", namespace)
    with temporary_role_binding(kube, namespace, role="edit"):
        # The aggregated edit role is filled in by the clusterrole-aggregation-controller.
        kube.wait_for(lambda: _can_i(sandbox, user_kube, "get", "secrets", namespace), timeout=30, what="edit to apply")
        assert not _can_i(sandbox, user_kube, "get", "secrets", "openshift-config")
    assert not _can_i(sandbox, user_kube, "get", "secrets", namespace)


def test_image_roles_are_openshifts_own(kube: Kube) -> None:
    # created by openshift-apiserver's bootstrap policy at start (bootstrappolicy.Policy()), not by the sandbox
    for name, verbs in (("system:image-puller", ["get"]), ("system:image-pusher", ["get", "update"])):
        role = kube.get(f"/apis/rbac.authorization.k8s.io/v1/clusterroles/{name}")
        assert role["metadata"]["annotations"]["rbac.authorization.kubernetes.io/autoupdate"] == "true"
        assert role["rules"] == [
            {"apiGroups": ["", "image.openshift.io"], "resources": ["imagestreams/layers"], "verbs": verbs}
        ]
    edit = kube.get("/apis/rbac.authorization.k8s.io/v1/clusterroles/edit")
    image_rules = [r for r in edit["rules"] if "image.openshift.io" in r.get("apiGroups", [])]
    status = [r for r in image_rules if "imagestreams/status" in r["resources"]]
    # edit may read, never write, an image stream's status; it may delete image stream tags
    assert status and all(set(r["verbs"]) <= {"get", "list", "watch"} for r in status)
    assert any("imagestreamtags" in r["resources"] and "delete" in r["verbs"] for r in image_rules)


def test_image_puller_grants_layers_for_real(sandbox: Sandbox, kube: Kube, user_kube: Kube, namespace: str) -> None:
    streams = "imagestreams.image.openshift.io"
    assert not _can_i(sandbox, user_kube, "get", streams, namespace, subresource="layers")
    with temporary_role_binding(kube, namespace, role="system:image-puller"):
        kube.wait_for(
            lambda: _can_i(sandbox, user_kube, "get", streams, namespace, subresource="layers"),
            timeout=15,
            what="the RoleBinding to apply",
        )
        assert not _can_i(sandbox, user_kube, "update", streams, namespace, subresource="layers")
        assert not _can_i(sandbox, user_kube, "get", streams, namespace)  # layers only, not the streams


# --------------------------------------------------------------------------------------------------------------------
# The registries


def _registry_get(sandbox: Sandbox, url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], Any]:
    context = ssl.create_default_context(cafile=sandbox.registry_ca)
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 (https to the sandbox)
    try:
        with urllib.request.urlopen(request, context=context, timeout=10) as response:  # noqa: S310
            body = response.read()
            return response.status, dict(response.headers), json.loads(body) if body else None
    except urllib.error.HTTPError as error:
        body = error.read()
        return error.code, dict(error.headers), json.loads(body) if body else None


def _basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_basic_registry_checks_credentials(sandbox: Sandbox) -> None:
    url = f"https://{sandbox.registry}/v2/"
    status, headers, _body = _registry_get(sandbox, url)
    assert status == 401 and headers["Www-Authenticate"].startswith("Basic realm=")
    assert _registry_get(sandbox, url, _basic(sandbox.registry_user, "wrong"))[0] == 401
    assert _registry_get(sandbox, url, _basic("nobody", sandbox.registry_password))[0] == 401
    assert _registry_get(sandbox, url, _basic(sandbox.registry_user, sandbox.registry_password))[0] == 200


def _parse_challenge(header: str) -> dict[str, str]:
    scheme, _sep, params = header.partition(" ")
    assert scheme == "Bearer"
    return dict(
        (key.strip(), value.strip().strip('"'))
        for key, _sep, value in (part.partition("=") for part in params.split(","))
    )


def test_token_registry_flow(sandbox: Sandbox) -> None:
    url = f"https://{sandbox.token_registry}/v2/"
    status, headers, _body = _registry_get(sandbox, url)
    assert status == 401
    challenge = _parse_challenge(headers["Www-Authenticate"])
    assert challenge["realm"].startswith("https://127.0.0.1:") and challenge["service"]
    token_url = f"{challenge['realm']}?service={challenge['service']}&scope=repository:sandbox/hello:pull"

    assert _registry_get(sandbox, token_url)[0] == 401
    assert _registry_get(sandbox, token_url, _basic(sandbox.registry_user, "wrong"))[0] == 401
    status, _sep, answer = _registry_get(sandbox, token_url, _basic(sandbox.registry_user, sandbox.registry_password))
    assert status == 200 and answer["token"] == answer["access_token"] and answer["expires_in"] > 0
    claims = json.loads(base64.urlsafe_b64decode(answer["token"].split(".")[1] + "=="))
    assert claims["access"] == [{"type": "repository", "name": "sandbox/hello", "actions": ["pull"]}]
    assert claims["aud"] == challenge["service"] and claims["sub"] == sandbox.registry_user

    bearer = {"Authorization": f"Bearer {answer['token']}"}
    assert _registry_get(sandbox, url, bearer)[0] == 200
    status, _sep, tags = _registry_get(sandbox, f"https://{sandbox.token_registry}/v2/sandbox/hello/tags/list", bearer)
    assert status == 200 and {"1.0", "latest"} <= set(tags["tags"])
    # The token's scope is enforced: another repository needs another token.
    assert _registry_get(sandbox, f"https://{sandbox.token_registry}/v2/other/tags/list", bearer)[0] == 401
    forged = answer["token"][:-4] + ("AAAA" if not answer["token"].endswith("AAAA") else "BBBB")
    assert _registry_get(sandbox, url, {"Authorization": f"Bearer {forged}"})[0] == 401


@pytest.mark.parametrize("which", ["registry", "token_registry"])
def test_skopeo_reads_test_image(sandbox: Sandbox, tmp_path: Path, which: str) -> None:
    server = getattr(sandbox, which)
    good = registry_authfile(tmp_path / "good.json", server, sandbox.registry_user, sandbox.registry_password)
    result = skopeo_inspect(f"{server}/sandbox/hello:1.0", good, sandbox.registry_ca)
    assert result.returncode == 0, result.stderr
    inspected = json.loads(result.stdout)
    assert inspected["Digest"].startswith("sha256:") and {"1.0", "latest"} <= set(inspected["RepoTags"])
    latest = json.loads(skopeo_inspect(f"{server}/sandbox/hello:latest", good, sandbox.registry_ca).stdout)
    assert latest["Digest"] == inspected["Digest"]

    bad = registry_authfile(tmp_path / "bad.json", server, sandbox.registry_user, "wrong")
    refused = skopeo_inspect(f"{server}/sandbox/hello:1.0", bad, sandbox.registry_ca)
    assert refused.returncode != 0
    assert "unauthorized" in refused.stderr.lower() or "401" in refused.stderr


# --------------------------------------------------------------------------------------------------------------------
# The real image API: openshift-apiserver aggregated behind kube-apiserver


def _stream(namespace: str, name: str, tags: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "apiVersion": "image.openshift.io/v1",
        "kind": "ImageStream",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"lookupPolicy": {"local": False}, "tags": tags},
    }


def test_image_api_is_served_by_the_aggregated_image_api_server(kube: Kube, sandbox: Sandbox) -> None:
    service = kube.get("/apis/apiregistration.k8s.io/v1/apiservices/v1.image.openshift.io")
    assert service["spec"]["service"] == {
        "namespace": "openshift-apiserver",
        "name": "api",
        "port": service["spec"]["service"]["port"],
    }
    assert {c["type"]: c["status"] for c in service["status"]["conditions"]}["Available"] == "True"
    resources = {r["name"]: r for r in kube.get("/apis/image.openshift.io/v1")["resources"]}
    assert {"imagestreams", "imagestreamtags", "imagestreamimports", "imagestreamimages", "images"} <= set(resources)
    assert resources["imagestreams"]["shortNames"] == ["is"]
    assert resources["imagestreamtags"]["shortNames"] == ["istag"]
    # no CRD plays the image API
    assert kube.get("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/imagestreams.image.openshift.io") is None


def test_kubectl_lists_the_image_resources_from_the_apiservice(sandbox: Sandbox) -> None:
    listed = subprocess.run(
        [
            "kubectl",
            "--kubeconfig",
            sandbox.kubeconfig,
            "api-resources",
            "--api-group=image.openshift.io",
            "-o",
            "name",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert listed.returncode == 0, listed.stderr
    ours = [
        f"{resource}.image.openshift.io"
        for resource in ("images", "imagestreamimages", "imagestreamimports", "imagestreams", "imagestreamtags")
    ]
    # real openshift-apiserver (SANDBOX_OPENSHIFT_BIN) serves imagesignatures, imagestreammappings and imagetags too
    if runs_real_openshift(sandbox):
        assert set(ours) <= set(listed.stdout.split())
    else:
        assert sorted(listed.stdout.split()) == ours


def test_server_defaults_validates_and_sorts(kube: Kube, namespace: str) -> None:
    tags = [
        {"name": "b", "from": {"kind": "DockerImage", "name": "quay.io/example/app:1.0"}},
        {"name": "a", "from": {"kind": "DockerImage", "name": "quay.io/example/app:2.0"}},
    ]
    created = kube.create(imagestream_path(namespace), _stream(namespace, "app", tags))
    stored = created["spec"]["tags"]
    assert [t["name"] for t in stored] == ["a", "b"]  # the server keeps spec tags sorted by name
    assert stored[0]["referencePolicy"] == {"type": "Source"}
    assert stored[0]["importPolicy"]["importMode"] == "Legacy"
    assert all(isinstance(t["generation"], int) and t["generation"] > 0 for t in stored)
    for bad_tag in (
        {"name": "x", "from": {"kind": "Bogus", "name": "a"}},
        {"name": "x", "from": {"kind": "DockerImage"}},
        {"name": "x", "referencePolicy": {"type": "Nope"}},
    ):
        with pytest.raises(KubeTestError) as caught:
            kube.create(imagestream_path(namespace), _stream(namespace, "bad", [bad_tag]))
        assert caught.value.status == 422, bad_tag


def test_real_import_needs_the_namespaces_pull_secret(
    images: Images, sandbox: Sandbox, kube: Kube, namespace: str
) -> None:
    source = f"{sandbox.registry}/sandbox/hello:1.0"
    kube.create(
        imagestream_path(namespace),
        _stream(namespace, "hello", [{"name": "1.0", "from": {"kind": "DockerImage", "name": source}}]),
    )

    def import_condition() -> dict[str, Any] | None:
        entries = (kube.get(imagestream_path(namespace, "hello")).get("status") or {}).get("tags") or []
        conditions = [c for entry in entries for c in entry.get("conditions") or []]
        return conditions[0] if conditions else None

    # openshift-controller-manager imports the new spec tag at once; the registry refuses it without credentials
    refused = kube.wait_for(import_condition, timeout=60, what="the import to be refused")
    assert (refused["type"], refused["status"], refused["reason"]) == ("ImportSuccess", "False", "Unauthorized")

    images.ensure_pull_secret(namespace)  # our pull_secret module
    digest = images.import_tag(namespace, "hello", "1.0", image="sandbox/hello:1.0")
    inspected = skopeo_inspect(source, None, sandbox.registry_ca)
    assert inspected.returncode != 0  # anonymous pulls are refused: the import used the secret
    assert images.wait_for_tag(namespace, "hello", "1.0") == digest
    assert import_condition() is None


def test_server_tracks_aliases_and_keeps_pins(images: Images, kube: Kube, namespace: str) -> None:
    first = images.import_tag(namespace, "app", "1.0")
    tags = kube.get(imagestream_path(namespace, "app"))["spec"]["tags"]
    tags += [
        {"name": "alias", "from": {"kind": "ImageStreamTag", "name": "app:1.0"}},
        {"name": "pinned", "from": {"kind": "ImageStreamImage", "name": f"app@{first}"}},
    ]
    kube.update_with_retry(
        imagestream_path(namespace, "app"), lambda current: bool(current["spec"].update(tags=tags)) or True
    )
    assert images.wait_for_tag(namespace, "app", "alias") == first
    assert images.wait_for_tag(namespace, "app", "pinned") == first
    moved = images.import_tag(namespace, "app", "1.0")
    assert moved != first
    kube.wait_for(lambda: images.wait_for_tag(namespace, "app", "alias") == moved, timeout=30, what="alias to follow")
    assert images.wait_for_tag(namespace, "app", "pinned") == first


def test_tag_verifier_refuses_cross_namespace_sources_without_layers(
    images: Images, kube: Kube, user_kube: Kube, namespace: str
) -> None:
    source_namespace = f"{namespace}-src"
    kube.create("/api/v1/namespaces", {"metadata": {"name": source_namespace}})
    try:
        images.import_tag(source_namespace, "hello", "1.0")
        body = _stream(
            namespace,
            "copy",
            [{"name": "1.0", "from": {"kind": "ImageStreamTag", "namespace": source_namespace, "name": "hello:1.0"}}],
        )
        with temporary_role_binding(kube, namespace, role="edit"):
            with pytest.raises(KubeTestError) as caught:
                user_kube.create(imagestream_path(namespace), body)
            assert caught.value.status == 422
            assert f"Forbidden: {source_namespace}/hello" in json.dumps(caught.value.body)
            with temporary_role_binding(kube, source_namespace, role="system:image-puller"):
                kube.wait_for(
                    lambda: _try_create(user_kube, imagestream_path(namespace), body),
                    timeout=15,
                    what="the binding to apply",
                )
    finally:
        kube.delete(f"/api/v1/namespaces/{source_namespace}")


def _try_create(kube: Kube, path: str, body: dict[str, Any]) -> bool:
    try:
        kube.create(path, body)
    except KubeTestError as error:
        if error.status == 422:
            return False
        raise
    return True


# --------------------------------------------------------------------------------------------------------------------
# The audit log


def test_audit_sees_writes_and_only_writes(kube: Kube, namespace: str, audit: Any) -> None:
    mark = audit.mark()
    kube.create(imagestream_path(namespace), _stream(namespace, "audited", []))
    kube.get(imagestream_path(namespace, "audited"))
    kube.patch(imagestream_path(namespace, "audited"), {"metadata": {"labels": {"a": "b"}}})
    writes = audit.writes(since=mark, resource="imagestreams", namespace=namespace)
    assert [w["verb"] for w in writes] == ["create", "patch"]
    # kube-apiserver proxies the create to openshift-apiserver without decoding it: no name in objectRef
    assert writes[0]["requestURI"].endswith("/imagestreams") and writes[0]["responseStatus"]["code"] == 201
    assert writes[1]["objectRef"]["name"] == "audited"

    quiet = audit.mark()
    kube.get(imagestream_path(namespace, "audited"))
    kube.request("GET", imagestream_path(namespace))
    assert audit.writes(since=quiet, resource="imagestreams", namespace=namespace) == []

    dry = audit.mark()
    kube.request("POST", imagestream_path(namespace) + "?dryRun=All", _stream(namespace, "dry", []))
    assert audit.writes(since=dry, namespace=namespace) == []
    assert len(audit.writes(since=dry, namespace=namespace, include_dry_run=True)) == 1


def test_audit_leaves_out_control_plane_writes_unless_asked(kube: Kube, audit: Any) -> None:
    mark = audit.mark()
    name = f"it-audit-system-{time.monotonic_ns() % 100000}"
    kube.create("/api/v1/namespaces", {"metadata": {"name": name}})
    try:
        kube.wait_for(
            lambda: kube.get(f"/api/v1/namespaces/{name}/serviceaccounts/default"), timeout=30, what="default SA"
        )
        assert audit.writes(since=mark, resource="serviceaccounts", namespace=name) == []
        system = audit.writes(since=mark, resource="serviceaccounts", namespace=name, include_system=True)
        # kube-controller-manager creates default; openshift-controller-manager's controllers (service accounts
        # of openshift-infra) create builder and deployer and link their pull secrets
        assert ("create", "system:kube-controller-manager") in [(e["verb"], e["user"]["username"]) for e in system]
        assert {e["user"]["username"].rpartition(":")[0] for e in system} <= {
            "system",
            "system:serviceaccount:openshift-infra",
        }
        assert [e["verb"] for e in audit.writes(since=mark, resource="namespaces", name=name)] == ["create"]
    finally:
        kube.delete(f"/api/v1/namespaces/{name}")


# --------------------------------------------------------------------------------------------------------------------
# openshift-controller-manager's controllers, and the MCO stand-in


def test_service_accounts_get_managed_pull_secrets(kube: Kube, namespace: str) -> None:
    sa_path = f"/api/v1/namespaces/{namespace}/serviceaccounts"

    def managed(name: str) -> str | None:
        sa = kube.get(f"{sa_path}/{name}") or {}
        ref = (sa.get("metadata", {}).get("annotations") or {}).get("openshift.io/internal-registry-pull-secret-ref")
        return ref if ref and {"name": ref} in (sa.get("imagePullSecrets") or []) else None

    for name in ("default", "builder", "deployer"):  # builder and deployer are created by OCM too
        secret_name = kube.wait_for(lambda name=name: managed(name), timeout=60, what=f"{name}'s managed secret")
        assert secret_name.startswith(f"{name}-dockercfg-")

        def filled(secret_name: str = secret_name) -> dict[str, Any] | None:
            secret = kube.get(f"/api/v1/namespaces/{namespace}/secrets/{secret_name}") or {}
            document = json.loads(base64.b64decode((secret.get("data") or {}).get(".dockercfg", "") or "e30="))
            return secret if document else None

        secret = kube.wait_for(filled, timeout=60, what=f"{secret_name} to hold a token")
        assert secret["type"] == "kubernetes.io/dockercfg"
        annotations = secret["metadata"]["annotations"]
        assert annotations["openshift.io/internal-registry-auth-token.service-account"] == name
        assert annotations["openshift.io/internal-registry-auth-token.binding"] == "bound"
        assert "image-registry.openshift-image-registry.svc:5000" in json.loads(
            base64.b64decode(secret["data"][".dockercfg"])
        )
    bindings = "/apis/rbac.authorization.k8s.io/v1/namespaces/{}/rolebindings/system:image-pullers"
    pullers = kube.wait_for(lambda: kube.get(bindings.format(namespace)), timeout=60, what="system:image-pullers")
    assert pullers["roleRef"]["name"] == "system:image-puller"
    assert pullers["subjects"] == [
        {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": f"system:serviceaccounts:{namespace}"}
    ]


def _pool(kube: Kube, name: str) -> dict[str, Any]:
    return kube.get(f"{MCP_PATH}/{name}")


def _conditions(pool: dict[str, Any]) -> dict[str, str]:
    return {c["type"]: c["status"] for c in pool["status"]["conditions"]}


def _finished(pool: dict[str, Any]) -> bool:
    status = pool["status"]
    return (
        status["configuration"]["name"] == pool["spec"]["configuration"]["name"]
        and status["updatedMachineCount"] == status["machineCount"] == status["readyMachineCount"]
        and _conditions(pool) | {"Updated": "True", "Updating": "False", "Degraded": "False"} == _conditions(pool)
    )


def _finished_pool(kube: Kube, name: str) -> dict[str, Any] | None:
    pool = _pool(kube, name)
    return pool if _finished(pool) else None


def _set_pull_secret(kube: Kube, document: str) -> None:
    kube.patch(PULL_SECRET_PATH, {"data": {".dockerconfigjson": base64.b64encode(document.encode()).decode()}})


def _auth_file(kube: Kube, machine_config: str) -> bytes | None:
    return rendered_file(kube.get(f"{MC_PATH}/{machine_config}"))


@pytest.mark.usefixtures("restore_seed")
def test_machine_config_operator_renders_by_content_and_rolls_out_node_by_node(kube: Kube) -> None:
    pools = {name: _pool(kube, name) for name in ("master", "worker")}
    for pool in pools.values():
        assert _finished(pool), pool["status"]
    assert pools["master"]["status"]["machineCount"] == 3 and pools["worker"]["status"]["machineCount"] == 2
    before = {name: pool["spec"]["configuration"]["name"] for name, pool in pools.items()}
    raw = base64.b64decode(kube.get(PULL_SECRET_PATH)["data"][".dockerconfigjson"])
    document = json.loads(raw)
    # the seeded rendered configs hold the compacted secret, as the template controller writes it
    assert _auth_file(kube, before["worker"]) == json.dumps(document, separators=(",", ":")).encode() + b"\n"

    with MachineConfigOperator(kube, render_delay=0.5, node_delay=0.4) as mco:
        _set_pull_secret(kube, json.dumps(document, indent=8))  # whitespace only: json.Compact gives the same bytes
        time.sleep(1.5)
        assert mco.renders == 0
        assert all(_pool(kube, n)["spec"]["configuration"]["name"] == before[n] for n in before)

        reordered = {"auths": dict(reversed(list(document["auths"].items())))}
        _set_pull_secret(kube, json.dumps(reordered))  # key order: json.Compact keeps it, so this renders
        for name, old in before.items():
            kube.wait_for(
                lambda n=name, o=old: _pool(kube, n)["spec"]["configuration"]["name"] != o,
                timeout=30,
                what=f"pool {name} re-rendered for a key-order change",
            )
        seen: list[tuple[int, int, int]] = []

        def rolled_out() -> dict[str, Any] | None:
            pool = _pool(kube, "master")
            status = pool["status"]
            seen.append((status["updatedMachineCount"], status["unavailableMachineCount"], status["readyMachineCount"]))
            return pool if _finished(pool) else None

        kube.wait_for(rolled_out, timeout=30, interval=0.05, what="master rolled out")
        # node by node: never more than maxUnavailable (1) machine away, and every count in between seen
        assert max(unavailable for _updated, unavailable, _ready in seen) == 1
        assert {updated for updated, _unavailable, _ready in seen} >= {0, 1, 2, 3}
        assert all(ready == 3 - unavailable for _updated, unavailable, ready in seen)
        renders = mco.renders

        # back to the first content: the same content gets the same name again
        _set_pull_secret(kube, raw.decode())
        for name, old in before.items():
            kube.wait_for(
                lambda n=name, o=old: _finished_pool(kube, n) and _pool(kube, n)["spec"]["configuration"]["name"] == o,
                timeout=30,
                what=f"pool {name} back on {old}",
            )
        assert mco.renders == renders + 2


def test_template_controller_refuses_what_json_compact_rejects() -> None:
    secret = {"type": "kubernetes.io/dockerconfigjson", "data": {}}

    def render(raw: bytes) -> tuple[bytes | None, str | None]:
        return template_file_contents(secret | {"data": {".dockerconfigjson": base64.b64encode(raw).decode()}})

    assert render(b'{ "auths" : {"b": {}, "a": {"x": "\\u00e9 y"}} }\n') == (
        b'{"auths":{"b":{},"a":{"x":"\\u00e9 y"}}}\n',  # key order and escapes kept, whitespace in strings too
        None,
    )
    contents, failure = render(b'{"auths": {"r": {"auth": "c2VjcmV0"}')
    assert contents is None and failure is not None
    assert failure.startswith('couldn\'t compact pullsecret "{\\"auths\\": {\\"r\\"')
    assert render(b"")[1] == 'couldn\'t compact pullsecret "": unexpected end of JSON input'
    assert render(b'{"a": NaN}')[0] is None
    assert template_file_contents({"type": "Opaque", "data": {}}) == (
        None,
        "expected secret type kubernetes.io/dockerconfigjson found Opaque",
    )
    assert template_file_contents(None) == (None, None)


@pytest.mark.usefixtures("restore_seed")
def test_machine_config_operator_renders_nothing_for_a_secret_it_cannot_use(kube: Kube) -> None:
    before = {name: _pool(kube, name)["spec"]["configuration"]["name"] for name in ("master", "worker")}

    def failing() -> str | None:
        conditions = (kube.get(CONTROLLER_CONFIG_PATH).get("status") or {}).get("conditions") or []
        return next(
            (c["message"] for c in conditions if c["type"] == "TemplateControllerFailing" and c["status"] == "True"),
            None,
        )

    with MachineConfigOperator(kube, render_delay=0.2) as mco:
        assert failing() is None
        # Content json.Compact rejects cannot get here: kube-apiserver validates .dockerconfigjson itself (see
        # test_template_controller_refuses_what_json_compact_rejects for the stand-in's side of it)
        with pytest.raises(KubeTestError) as refused:
            _set_pull_secret(kube, '{"auths": {"broken.example.org": {"auth": "c2VjcmV0"}')
        assert refused.value.status == 422
        # the wrong type: refused before the content is looked at
        secret = kube.get(PULL_SECRET_PATH)
        kube.delete(PULL_SECRET_PATH)
        time.sleep(0.5)
        assert mco.failures == 0  # a deletion is not acted on
        assert failing() is None
        opaque = {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "Opaque",
            "metadata": {"name": "pull-secret", "namespace": "openshift-config"},
            "data": secret["data"] | {"other": "eA=="},
        }
        kube.create("/api/v1/namespaces/openshift-config/secrets", opaque)
        try:
            kube.wait_for(
                lambda: "expected secret type kubernetes.io/dockerconfigjson found Opaque" in (failing() or ""),
                timeout=30,
                what="the type to be refused",
            )
            time.sleep(0.5)
        finally:  # a Secret's type cannot change: put the seeded one back by re-creating it
            kube.delete(PULL_SECRET_PATH)
            secret["metadata"] = {"name": "pull-secret", "namespace": "openshift-config"}
            kube.create("/api/v1/namespaces/openshift-config/secrets", secret)
        assert mco.renders == 0
        assert all(
            _finished_pool(kube, n) and _pool(kube, n)["spec"]["configuration"]["name"] == before[n] for n in before
        )


@pytest.mark.usefixtures("restore_seed")
def test_paused_pool_never_rolls_out_until_unpaused(kube: Kube) -> None:
    before = _pool(kube, "worker")["spec"]["configuration"]["name"]
    document = json.loads(base64.b64decode(kube.get(PULL_SECRET_PATH)["data"][".dockerconfigjson"]))
    document["auths"]["paused.example.org"] = {"auth": base64.b64encode(b"u:p").decode()}
    pause_pool(kube, "worker")
    with MachineConfigOperator(kube, render_delay=0.3, node_delay=0.2):
        _set_pull_secret(kube, json.dumps(document))
        kube.wait_for(
            lambda: _finished_pool(kube, "master") and _pool(kube, "worker")["spec"]["configuration"]["name"] != before,
            timeout=30,
            what="master rolled out and worker rendered",
        )
        time.sleep(1.0)
        worker = _pool(kube, "worker")
        assert worker["status"]["configuration"]["name"] == before != worker["spec"]["configuration"]["name"]
        assert _conditions(worker)["Updated"] == "False" and _conditions(worker)["Updating"] == "False"
        assert worker["status"]["updatedMachineCount"] == 0
        updating = next(c for c in worker["status"]["conditions"] if c["type"] == "Updating")
        assert updating["message"].startswith("Pool is paused; will not update to rendered-worker-")
        unpause_pool(kube, "worker")
        kube.wait_for(lambda: _finished(_pool(kube, "worker")), timeout=30, what="worker rolled out after unpause")


# --------------------------------------------------------------------------------------------------------------------
# Running playbooks against the sandbox


def test_run_playbook_targets_the_sandbox(sandbox: Sandbox, run_playbook: Any) -> None:
    playbook = """
- hosts: localhost
  gather_facts: false
  tasks:
    - ansible.builtin.assert:
        that:
          - lookup('ansible.builtin.env', 'K8S_AUTH_KUBECONFIG') == expected
          - marker == 'from-extra-vars'
"""
    completed = run_playbook(playbook, extra_vars={"expected": sandbox.kubeconfig, "marker": "from-extra-vars"})
    assert completed.returncode == 0, completed.stdout + completed.stderr
    failing = run_playbook(playbook, extra_vars={"expected": "elsewhere", "marker": "from-extra-vars"})
    assert failing.returncode != 0


# --------------------------------------------------------------------------------------------------------------------
# The plumbing of the fixtures


def test_env_file_round_trip() -> None:
    values = {"SANDBOX_REGISTRY_PASSWORD": "a b'c\"$d", "KUBECONFIG": "/tmp/x y/kubeconfig"}
    text = "# comment\n" + "".join(f"export {k}={shlex.quote(v)}\n" for k, v in values.items())
    assert parse_env_file(text) == values


def test_module_crash_is_never_a_failure_result() -> None:
    crashed = subprocess.CompletedProcess(["m"], 1, stdout="", stderr="Traceback (most recent call last): ...")
    with pytest.raises(ModuleCrashError, match="without a JSON result"):
        parse_module_output("image_tag", crashed)
    ok = subprocess.CompletedProcess(["m"], 1, stdout='noise\n{"failed": true, "msg": "bad"}\n', stderr="")
    assert parse_module_output("image_tag", ok) == {"failed": True, "msg": "bad"}
