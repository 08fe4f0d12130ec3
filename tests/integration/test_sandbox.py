# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The sandbox cluster itself: the real control plane, the registries and the test fixtures behave as promised."""

from __future__ import annotations

import base64
import functools
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

from .sandbox_support import (
    MCP_PATH,
    PULL_SECRET_PATH,
    DockercfgController,
    Kube,
    KubeTestError,
    MachineConfigRollout,
    ModuleCrashError,
    Sandbox,
    imagestream_path,
    import_image,
    parse_env_file,
    parse_module_output,
    pause_pool,
    read_kubeconfig,
    registry_authfile,
    skopeo_inspect,
    temporary_role_binding,
    unpause_pool,
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


def test_image_roles_match_openshift(kube: Kube) -> None:
    for name, verbs in (("system:image-puller", ["get"]), ("system:image-pusher", ["get", "update"])):
        role = kube.get(f"/apis/rbac.authorization.k8s.io/v1/clusterroles/{name}")
        assert role["rules"] == [
            {"apiGroups": ["", "image.openshift.io"], "resources": ["imagestreams/layers"], "verbs": verbs}
        ]


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
# The ImageStream CRD and import_image


def _stream(namespace: str, name: str, tags: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "apiVersion": "image.openshift.io/v1",
        "kind": "ImageStream",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"lookupPolicy": {"local": False}, "tags": tags},
    }


def test_imagestream_crd_defaults_and_validation(kube: Kube, namespace: str) -> None:
    tag = {"name": "1.0", "from": {"kind": "DockerImage", "name": "quay.io/example/app:1.0"}, "annotations": None}
    created = kube.create(imagestream_path(namespace), _stream(namespace, "app", [tag]))
    stored = created["spec"]["tags"][0]
    # What openshift-apiserver fills in, too.
    assert stored["referencePolicy"] == {"type": "Source"}
    assert stored["importPolicy"] == {"importMode": "Legacy"}

    for bad_tag in (
        {"name": "x", "from": {"kind": "Bogus", "name": "a"}},
        {"name": "x", "from": {"kind": "DockerImage"}},
        {"name": "x", "referencePolicy": {"type": "Nope"}},
        {"name": "x", "importPolicy": {"importMode": "Sometimes"}},
        {"from": {"kind": "DockerImage", "name": "a"}},
    ):
        with pytest.raises(KubeTestError) as caught:
            kube.create(imagestream_path(namespace), _stream(namespace, "bad", [bad_tag]))
        assert caught.value.status == 422, bad_tag
    # spec.tags is a map keyed by name.
    duplicate = [{"name": "a"}, {"name": "a"}]
    with pytest.raises(KubeTestError) as caught:
        kube.create(imagestream_path(namespace), _stream(namespace, "dup", duplicate))
    assert caught.value.status == 422


def test_import_image_writes_status(kube: Kube, namespace: str) -> None:
    kube.create(
        imagestream_path(namespace),
        _stream(namespace, "ruby", [{"name": "3.3", "from": {"kind": "DockerImage", "name": "quay.io/x/ruby:3.3"}}]),
    )
    first = import_image(kube, namespace, "ruby", "3.3")
    stream = kube.get(imagestream_path(namespace, "ruby"))
    (entry,) = stream["status"]["tags"]
    assert entry["tag"] == "3.3" and entry["items"][0]["image"] == first
    assert entry["items"][0]["dockerImageReference"].endswith(f"/{namespace}/ruby@{first}")

    second = import_image(kube, namespace, "ruby", "3.3", docker_image_reference="quay.io/x/ruby@sha256:" + "a" * 64)
    items = kube.get(imagestream_path(namespace, "ruby"))["status"]["tags"][0]["items"]
    assert [item["image"] for item in items] == [second, first]  # a new event is prepended

    same_digest = import_image(kube, namespace, "ruby", "3.3", digest=second)
    items = kube.get(imagestream_path(namespace, "ruby"))["status"]["tags"][0]["items"]
    assert same_digest == second and len(items) == 2  # only the reference changed: updated in place

    # A stream that does not exist yet is created, as an import creates it.
    digest = import_image(kube, namespace, "fresh", "latest", digest="sha256:" + "b" * 64)
    assert digest == "sha256:" + "b" * 64
    assert kube.get(imagestream_path(namespace, "fresh"))["status"]["tags"][0]["items"][0]["image"] == digest


def test_status_rejects_events_without_reference(kube: Kube, namespace: str) -> None:
    import_image(kube, namespace, "app", "v1")
    stream = kube.get(imagestream_path(namespace, "app"))
    stream["status"]["tags"][0]["items"][0]["dockerImageReference"] = ""
    with pytest.raises(KubeTestError) as caught:
        kube.replace(imagestream_path(namespace, "app") + "/status", stream)
    assert caught.value.status == 422


# --------------------------------------------------------------------------------------------------------------------
# The audit log


def test_audit_sees_writes_and_only_writes(kube: Kube, namespace: str, audit: Any) -> None:
    mark = audit.mark()
    kube.create(imagestream_path(namespace), _stream(namespace, "audited", []))
    kube.get(imagestream_path(namespace, "audited"))
    import_image(kube, namespace, "audited", "v1")
    writes = audit.writes(since=mark, resource="imagestreams", namespace=namespace)
    assert [(w["verb"], w["objectRef"].get("subresource")) for w in writes] == [("create", None), ("update", "status")]
    assert writes[0]["objectRef"]["name"] == "audited" and writes[0]["responseStatus"]["code"] == 201
    assert audit.writes(since=mark, resource="imagestreams", namespace=namespace, subresource="status") == writes[1:]

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
        assert [(e["verb"], e["user"]["username"]) for e in system] == [("create", "system:kube-controller-manager")]
        assert [e["verb"] for e in audit.writes(since=mark, resource="namespaces", name=name)] == ["create"]
    finally:
        kube.delete(f"/api/v1/namespaces/{name}")


# --------------------------------------------------------------------------------------------------------------------
# The controller stand-ins


def test_dockercfg_controller(kube: Kube, namespace: str) -> None:
    sa_path = f"/api/v1/namespaces/{namespace}/serviceaccounts/builder"
    kube.create(f"/api/v1/namespaces/{namespace}/serviceaccounts", {"metadata": {"name": "builder"}})
    with DockercfgController(kube, namespace, "builder", delay=1.0) as controller:
        time.sleep(0.3)
        assert not controller.done.is_set()
        assert not (kube.get(sa_path).get("imagePullSecrets") or [])
        controller.wait(timeout=30)
    assert controller.secret_name.startswith("builder-dockercfg-")
    sa = kube.get(sa_path)
    assert {"name": controller.secret_name} in sa["imagePullSecrets"]
    secret = kube.get(f"/api/v1/namespaces/{namespace}/secrets/{controller.secret_name}")
    assert secret["type"] == "kubernetes.io/dockercfg"
    assert secret["metadata"]["annotations"]["kubernetes.io/service-account.name"] == "builder"


def test_dockercfg_controller_keeps_concurrent_changes(kube: Kube, namespace: str) -> None:
    sa_path = f"/api/v1/namespaces/{namespace}/serviceaccounts/default"
    kube.wait_for(lambda: kube.get(sa_path), timeout=30, what="the default ServiceAccount")
    with DockercfgController(kube, namespace, "default", delay=0.5) as controller:
        kube.patch(sa_path, {"imagePullSecrets": [{"name": "mine"}]})
        controller.wait(timeout=30)
    names = [ref["name"] for ref in kube.get(sa_path)["imagePullSecrets"]]
    assert names == ["mine", controller.secret_name]


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


@pytest.mark.usefixtures("restore_seed")
def test_machine_config_rollout(kube: Kube) -> None:
    pools = {name: _pool(kube, name) for name in ("master", "worker")}
    for pool in pools.values():
        assert _finished(pool), pool["status"]
    assert pools["master"]["status"]["machineCount"] == 3 and pools["worker"]["status"]["machineCount"] == 2
    before = {name: pool["spec"]["configuration"]["name"] for name, pool in pools.items()}
    document = json.loads(base64.b64decode(kube.get(PULL_SECRET_PATH)["data"][".dockerconfigjson"]))

    with MachineConfigRollout(kube, delay=0.5) as rollout:
        _set_pull_secret(kube, json.dumps(document, indent=8))  # whitespace only: the MCO renders nothing
        time.sleep(1.5)
        assert rollout.renders == 0
        assert all(_pool(kube, n)["spec"]["configuration"]["name"] == before[n] for n in before)

        document["auths"]["example.org"] = {"auth": base64.b64encode(b"u:p").decode()}
        _set_pull_secret(kube, json.dumps(document))
        seen_updating = kube.wait_for(
            lambda: _conditions(_pool(kube, "worker")).get("Updating") == "True", timeout=30, what="Updating=True"
        )
        assert seen_updating
        for name, old in before.items():
            pool = kube.wait_for(
                functools.partial(_finished_pool, kube, name), timeout=30, what=f"pool {name} rolled out"
            )
            assert pool["spec"]["configuration"]["name"] != old
            assert pool["spec"]["configuration"]["name"].startswith(f"rendered-{name}-")
        assert rollout.renders == 1


@pytest.mark.usefixtures("restore_seed")
def test_paused_pool_never_rolls_out_until_unpaused(kube: Kube) -> None:
    before = _pool(kube, "worker")["spec"]["configuration"]["name"]
    document = json.loads(base64.b64decode(kube.get(PULL_SECRET_PATH)["data"][".dockerconfigjson"]))
    document["auths"]["paused.example.org"] = {"auth": base64.b64encode(b"u:p").decode()}
    pause_pool(kube, "worker")
    with MachineConfigRollout(kube, delay=0.3):
        _set_pull_secret(kube, json.dumps(document))
        kube.wait_for(
            lambda: _finished_pool(kube, "master") and _pool(kube, "worker")["spec"]["configuration"]["name"] != before,
            timeout=30,
            what="master rolled out and worker rendered",
        )
        time.sleep(1.5)
        worker = _pool(kube, "worker")
        assert worker["status"]["configuration"]["name"] == before != worker["spec"]["configuration"]["name"]
        assert _conditions(worker)["Updated"] == "False" and _conditions(worker)["Updating"] == "False"
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
