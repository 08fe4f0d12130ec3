"""Unit tests for _image_pull_access_info/diagnose: which secrets a pod uses, the kubelet's order of credentials,
containers/image's fallback, the checks, image stream rights, problems with their fixes, and that no secret leaks."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import InvalidInputError
from ansible_collections.openshift_ops.images.plugins.module_utils._image_pull_access_info import diagnose as dx
from ansible_collections.openshift_ops.images.plugins.module_utils._image_pull_access_info.read import (
    parse_image_stream,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._image_pull_access_info.request import (
    PullAccessRequest,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._images.reference import normalize_image
from ansible_collections.openshift_ops.images.plugins.module_utils._rbac import authorization as rbac
from ansible_collections.openshift_ops.images.plugins.module_utils._rbac.authorization import Subject

NS = "project-a"
DOCKERCONFIGJSON = "kubernetes.io/dockerconfigjson"


def entry(user: str, password: str = "s3cret-pass") -> dict[str, str]:  # noqa: S107
    return {"auth": base64.b64encode(f"{user}:{password}".encode()).decode()}


def secret(auths: dict[str, Any], *, secret_type: str = DOCKERCONFIGJSON, raw: str | None = None) -> dict[str, Any]:
    if secret_type == "kubernetes.io/dockercfg":
        text, key = json.dumps(auths), ".dockercfg"
    else:
        text, key = json.dumps({"auths": auths}), ".dockerconfigjson"
    data = base64.b64encode((raw if raw is not None else text).encode()).decode()
    return {"type": secret_type, "data": {key: data}}


def evaluated(name: str, auths: dict[str, Any] | None, *, source: str = dx.SERVICE_ACCOUNT, **kw: Any):
    body = secret(auths, **kw) if auths is not None else None
    return dx.evaluate_secret(dx.SecretReading(NS, name, source, body))


def node(auths: dict[str, Any] | None = None, *, forbidden: bool = False) -> dx.SecretEvaluation:
    body = secret(auths) if auths is not None else None
    return dx.evaluate_secret(dx.SecretReading("openshift-config", "pull-secret", dx.NODE, body, forbidden))


def observe(image: str, secrets: list[dx.SecretEvaluation], global_secret: dx.SecretEvaluation, **kw: Any):
    kw.setdefault("pull_secrets_from", dx.SERVICE_ACCOUNT if secrets else "none")
    return dx.Observations(
        image=image,
        namespace=NS,
        service_account="default",
        service_account_exists=kw.pop("exists", True),
        secrets=secrets,
        global_secret=global_secret,
        **kw,
    )


def report(image: str, secrets: list[dx.SecretEvaluation], global_secret: dx.SecretEvaluation, **kw: Any):
    candidates = dx.kubelet_candidates(secrets, global_secret, image)
    return dx.diagnose(observe(image, secrets, global_secret, **kw), candidates), candidates


# ---------------------------------------------------------------------------------------------------------------
# Which pull secrets a pod uses (§3.5)


@pytest.mark.parametrize(
    ("pod_names", "account", "expected"),
    [
        (["own"], {"imagePullSecrets": [{"name": "sa-one"}]}, (["own"], dx.POD)),
        (
            [],
            {"imagePullSecrets": [{"name": "sa-one"}, {"name": ""}, {"name": "sa-two"}]},
            (["sa-one", "sa-two"], "service_account"),
        ),
        ([], {"imagePullSecrets": []}, ([], "none")),
        ([], None, ([], "none")),
    ],
)
def test_the_pods_own_list_wins_else_the_service_accounts(pod_names, account, expected) -> None:
    assert dx.pull_secret_names(pod_names, account) == expected


def test_an_unreadable_service_account_leaves_the_secrets_unknown() -> None:
    assert dx.pull_secret_names([], None, account_readable=False) == ([], dx.UNKNOWN)
    assert dx.pull_secret_names(["own"], None, account_readable=False) == (["own"], dx.POD)
    result, _candidates = report("quay.io/a/b", [], node(forbidden=True), pull_secrets_from=dx.UNKNOWN, exists=None)
    assert result["problems"] == []
    assert any("could not be read" in note and "are unknown" in note for note in result["notes"])
    forbidden = dx.evaluate_secret(dx.SecretReading(NS, "hidden", dx.SERVICE_ACCOUNT, None, forbidden=True))
    result, _candidates = report("quay.io/a/b", [forbidden], node({}))
    assert result["problems"] == []
    assert any("unreadable ones may" in note for note in result["notes"])


def test_pod_spec_service_account_and_secret_names() -> None:
    pod = {"spec": {"serviceAccountName": "builder", "imagePullSecrets": [{"name": "a"}, {}, {"name": "b"}]}}
    spec = dx.pod_spec_of(pod)
    assert dx.pod_pull_secret_names(spec) == ["a", "b"]
    assert dx.pod_service_account(spec, "default") == "builder"
    assert dx.pod_service_account({"serviceAccount": "legacy"}, "default") == "legacy"
    assert dx.pod_service_account({}, "default") == "default"
    with pytest.raises(InvalidInputError, match="list"):
        dx.pod_pull_secret_names({"imagePullSecrets": "a"})
    with pytest.raises(InvalidInputError, match="string name"):
        dx.pod_pull_secret_names({"imagePullSecrets": [{"name": 3}]})


# ---------------------------------------------------------------------------------------------------------------
# Secrets as the kubelet reads them


@pytest.mark.parametrize(
    ("reading", "status"),
    [
        (dx.SecretReading(NS, "x", dx.POD, None), dx.MISSING),
        (dx.SecretReading(NS, "x", dx.POD, None, forbidden=True), dx.FORBIDDEN),
        (dx.SecretReading(NS, "x", dx.POD, {"type": "Opaque", "data": {}}), dx.WRONG_TYPE),
        (dx.SecretReading(NS, "x", dx.POD, secret({}, raw="not json")), dx.UNPARSABLE),
        (dx.SecretReading(NS, "x", dx.POD, secret({"quay.io": {"auth": "bad!"}})), dx.UNPARSABLE),
        (dx.SecretReading(NS, "x", dx.POD, secret({"quay.io": entry("u")})), dx.OK),
        (
            dx.SecretReading(NS, "x", dx.POD, secret({"quay.io": entry("u")}, secret_type="kubernetes.io/dockercfg")),
            dx.OK,
        ),
    ],
)
def test_secret_status(reading: dx.SecretReading, status: str) -> None:
    assert dx.evaluate_secret(reading).status == status


def test_a_dockercfg_secret_is_read_as_its_auths() -> None:
    evaluation = evaluated("legacy", {"quay.io": entry("u")}, secret_type="kubernetes.io/dockercfg")
    assert evaluation.as_result()["keys"] == ["quay.io"]


# ---------------------------------------------------------------------------------------------------------------
# The kubelet's order (§3.4)


def keys_of(candidates: list[dx.Candidate]) -> list[tuple[str, str]]:
    return [(c.reading.name, c.key) for c in candidates]


def test_path_scoped_key_wins_over_host_key_across_secrets() -> None:
    host = evaluated("host", {"quay.io": entry("wide")})
    scoped = evaluated("scoped", {"quay.io/org": entry("narrow")})
    candidates = dx.kubelet_candidates([host, scoped], node({"quay.io": entry("node")}), "quay.io/org/app:1")
    assert keys_of(candidates) == [("scoped", "quay.io/org"), ("host", "quay.io"), ("pull-secret", "quay.io")]
    assert candidates[-1].reading.source == dx.NODE


@pytest.mark.parametrize(
    ("keys", "image", "expected"),
    [
        (["quay.io:443", "quay.io"], "quay.io/org/app", ["quay.io"]),  # the port must be equal
        (["registry:5000"], "registry:5000/a/b", ["registry:5000"]),
        (["quay.io/org"], "quay.io/org-other/app", ["quay.io/org"]),  # plain string prefix
        (["*.example.com"], "r.example.com/a/b", ["*.example.com"]),
        (["https://index.docker.io/v1/"], "nginx", ["https://index.docker.io/v1/"]),  # Docker Hub fallback
        (["docker.io", "https://index.docker.io/v1/"], "nginx", ["docker.io"]),
        (["quay.io"], "nginx", []),
    ],
)
def test_kubelet_matching(keys: list[str], image: str, expected: list[str]) -> None:
    secrets = [evaluated("s", {key: entry("u") for key in keys})]
    assert [c.key for c in dx.kubelet_candidates(secrets, node(None), image)] == expected


def test_unreadable_secrets_contribute_nothing() -> None:
    broken = evaluated("broken", {"quay.io": {"auth": "bad!"}})
    assert dx.kubelet_candidates([broken], node(forbidden=True), "quay.io/a/b") == []


# ---------------------------------------------------------------------------------------------------------------
# The report and its problems


def test_service_account_secret_used_and_no_secret_in_the_result() -> None:
    result, _candidates = report("quay.io/org/app:1.0", [evaluated("quay", {"quay.io": entry("robot")})], node({}))
    assert result["credential"]["secret"] == f"{NS}/quay"
    assert result["credential"]["username"] == "robot"
    assert len(result["credential"]["fingerprint"]) == 12
    assert result["chosen_by"] == "kubelet"
    assert result["problems"] == []
    assert result["default_pull_policy"] == "IfNotPresent"
    assert "s3cret-pass" not in json.dumps(result)


def test_no_credential_names_the_fix() -> None:
    result, _candidates = report("quay.io/org/app", [], node({"registry.redhat.io": entry("rh")}))
    [problem] = result["problems"]
    assert "no pull secret" in problem["problem"] and "quay.io" in problem["problem"]
    assert "openshift_ops.images.pull_secret" in problem["fix"]
    assert "openshift_ops.images.secret_link with purpose: pull" in problem["fix"]
    assert "registry_onboarding" in problem["fix"]
    assert result["default_pull_policy"] == "Always"


def test_unreadable_global_pull_secret_is_unknown_not_empty() -> None:
    result, _candidates = report("quay.io/org/app", [], node(forbidden=True))
    assert result["global_pull_secret"]["status"] == dx.FORBIDDEN
    assert result["containers_image"] is None
    assert any("could not be read (forbidden)" in note for note in result["notes"])
    [problem] = result["problems"]
    assert "unknown" in problem["problem"]


def test_pods_own_list_gets_a_pod_fix() -> None:
    own = evaluated("own", {"other.io": entry("u")}, source=dx.POD)
    result, _candidates = report("quay.io/org/app", [own], node({}), pull_secrets_from=dx.POD)
    assert "pod's own imagePullSecrets" in result["problems"][0]["fix"]


@pytest.mark.parametrize(
    ("evaluation", "words", "fix"),
    [
        (evaluated("gone", None), "does not exist", "openshift_ops.images.pull_secret"),
        (dx.evaluate_secret(dx.SecretReading(NS, "opaque", dx.POD, {"type": "Opaque"})), "type Opaque", "pull_secret"),
        (evaluated("bad", {"quay.io": {"auth": "bad!"}}), "every pull of the pod", "pull_secret"),
    ],
)
def test_secret_problems(evaluation: dx.SecretEvaluation, words: str, fix: str) -> None:
    result, _candidates = report("quay.io/a/b", [evaluation, evaluated("ok", {"quay.io": entry("u")})], node({}))
    assert len(result["problems"]) == 1
    assert words in result["problems"][0]["problem"]
    assert fix in result["problems"][0]["fix"]


def test_missing_service_account_is_a_problem() -> None:
    result, _candidates = report("quay.io/a/b", [], node({"quay.io": entry("n")}), exists=False)
    assert "does not exist" in result["problems"][0]["problem"]
    assert result["credential"]["source"] == dx.NODE


def test_containers_image_takes_a_key_the_kubelet_scopes_elsewhere() -> None:
    # A scheme with a path: the kubelet scopes it to quay.io/other, containers/image uses it for all of quay.io.
    result, candidates = report("quay.io/org/app", [], node({"https://quay.io/other": entry("n")}))
    assert candidates == []
    assert result["chosen_by"] == "containers/image"
    assert result["credential"]["key"] == "https://quay.io/other"
    assert result["problems"] == []


def test_containers_image_disagreement_is_noted() -> None:
    result, _candidates = report("quay.io/org-x/app", [], node({"quay.io/org": entry("a"), "quay.io": entry("b")}))
    assert result["credential"]["key"] == "quay.io/org"  # the kubelet's string prefix
    assert result["containers_image"]["key"] == "quay.io"
    assert any("containers/image" in note and "'quay.io'" in note for note in result["notes"])


def answer(outcome: str) -> dx.CheckAnswer:
    return dx.CheckAnswer(outcome, outcome == "accepted", f"it was {outcome}")


def test_every_credential_rejected_is_a_problem() -> None:
    secrets = [evaluated("a", {"quay.io/org": entry("x")}), evaluated("b", {"quay.io": entry("y")})]
    result, _candidates = report(
        "quay.io/org/app", secrets, node({}), checks={0: answer("rejected"), 1: answer("rejected")}
    )
    assert [c["check"]["outcome"] for c in result["candidates"]] == ["rejected", "rejected"]
    [problem] = result["problems"]
    assert "rejected every credential" in problem["problem"]
    assert "validate_credentials" in problem["fix"]


def test_a_later_credential_accepted_is_a_note() -> None:
    secrets = [evaluated("a", {"quay.io/org": entry("x")}), evaluated("b", {"quay.io": entry("y")})]
    result, _candidates = report(
        "quay.io/org/app", secrets, node({}), checks={0: answer("rejected"), 1: answer("accepted")}
    )
    assert result["problems"] == []
    assert any("tries each in turn" in note for note in result["notes"])


def test_a_missing_secret_beside_an_accepted_credential_is_a_note() -> None:
    # Held against the kubelet (tests/integration/test_pull_diagnostics_node.py): it pulls with the other secret
    # and gives no FailedToRetrieveImagePullSecret event, which it gives only when a pull fails.
    secrets = [evaluated("gone", None, source=dx.POD), evaluated("ok", {"quay.io": entry("u")}, source=dx.POD)]
    checked, _candidates = report(
        "quay.io/org/app", secrets, node({}), pull_secrets_from=dx.POD, checks={0: answer("accepted")}
    )
    assert checked["problems"] == []
    assert any("gone does not exist" in note and "no event" in note for note in checked["notes"])

    unchecked, _candidates = report("quay.io/org/app", secrets, node({}), pull_secrets_from=dx.POD)
    [problem] = unchecked["problems"]
    assert "warns FailedToRetrieveImagePullSecret when that pull fails" in problem["problem"]

    rejected, _candidates = report(
        "quay.io/org/app", secrets, node({}), pull_secrets_from=dx.POD, checks={0: answer("rejected")}
    )
    assert any("gone" in problem["problem"] for problem in rejected["problems"])


def test_unreachable_registry_is_a_note_not_a_rejection() -> None:
    secrets = [evaluated("a", {"quay.io": entry("x")})]
    result, _candidates = report("quay.io/org/app", secrets, node({}), checks={0: answer("unreachable")})
    assert result["problems"] == []
    assert any("unreachable" in note for note in result["notes"])


# ---------------------------------------------------------------------------------------------------------------
# The integrated registry and image stream rights (§5.4)

HOSTS = dx.DEFAULT_INTERNAL_REGISTRY_HOSTS


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        (f"{HOSTS[0]}/project-b/app:1", dx.StreamRef("project-b", "app", "1")),
        (f"{HOSTS[1]}/project-b/app", dx.StreamRef("project-b", "app", "latest")),
        (f"{HOSTS[0]}/a/b/c", None),
        ("quay.io/project-b/app", None),
    ],
)
def test_internal_stream(image: str, expected: dx.StreamRef | None) -> None:
    assert dx.internal_stream(normalize_image(image), HOSTS) == expected


def rolebinding(name: str, role: str, subjects: list[dict[str, str]], *, kind: str = "ClusterRole") -> dict:
    return {
        "metadata": {"name": name, "namespace": "project-b"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": role},
        "subjects": subjects,
    }


SA = Subject("ServiceAccount", "default", NS)
PULL_RULES = [{"apiGroups": ["image.openshift.io"], "resources": ["imagestreams/layers"], "verbs": ["get"]}]


def test_granting_bindings() -> None:
    bindings = [
        rolebinding("direct", "system:image-puller", [{"kind": "ServiceAccount", "name": "default", "namespace": NS}]),
        rolebinding("group", "custom", [{"kind": "Group", "name": f"system:serviceaccounts:{NS}"}]),
        rolebinding("everyone", "view", [{"kind": "Group", "name": "system:authenticated"}]),
        rolebinding("other", "edit", [{"kind": "Group", "name": "system:serviceaccounts:project-c"}]),
        rolebinding("local", "pull", [{"kind": "Group", "name": "system:serviceaccounts"}], kind="Role"),
    ]
    rules = {"ClusterRole/custom": PULL_RULES, "ClusterRole/view": [], "Role/project-b/pull": PULL_RULES}
    assert rbac.granting_bindings(bindings, SA, rules) == [
        "RoleBinding project-b/direct (ClusterRole system:image-puller)",
        "RoleBinding project-b/group (ClusterRole custom)",
        "RoleBinding project-b/local (Role pull)",
    ]
    # an unreadable custom role is not claimed; a known one is
    assert rbac.granting_bindings(bindings[:2], SA, {}) == [
        "RoleBinding project-b/direct (ClusterRole system:image-puller)"
    ]


def test_stream_denied_names_the_binding_module() -> None:
    stream = dx.StreamRef("project-b", "app", "latest")
    access = dx.StreamAccess(False, "no RoleBinding grants it", ())
    image = f"{HOSTS[0]}/project-b/app:latest"
    secrets = [evaluated("default-dockercfg-x", {HOSTS[0]: entry("sa")})]
    result, _candidates = report(image, secrets, node({}), stream=stream, stream_access=access)
    [problem] = result["problems"]
    assert "may not pull from project project-b" in problem["problem"]
    assert "openshift_ops.images.image_puller_binding" in problem["fix"]
    assert f"{NS}:default" in problem["fix"]
    assert result["image_stream"]["allowed"] is False


def test_stream_allowed_and_unknowns() -> None:
    stream = dx.StreamRef("project-b", "app", "latest")
    image = f"{HOSTS[0]}/project-b/app:latest"
    secrets = [evaluated("default-dockercfg-x", {HOSTS[0]: entry("sa")})]
    allowed = dx.StreamAccess(True, "RBAC: allowed", ("RoleBinding project-b/x (ClusterRole system:image-puller)",))
    result, _candidates = report(image, secrets, node({}), stream=stream, stream_access=allowed)
    assert result["problems"] == []
    assert result["image_stream"]["granted_by"] == ["RoleBinding project-b/x (ClusterRole system:image-puller)"]
    unknown = dx.StreamAccess(None, "forbidden", None)
    result, _candidates = report(image, secrets, node({}), stream=stream, stream_access=unknown, stream_exists=False)
    assert "does not exist" in result["problems"][0]["problem"]
    assert any("unknown" in note for note in result["notes"])
    assert any("could not be listed" in note for note in result["notes"])


# ---------------------------------------------------------------------------------------------------------------
# Options


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("app", dx.StreamRef(NS, "app", "latest")),
        ("project-b/app:1.0", dx.StreamRef("project-b", "app", "1.0")),
        (f"project-b/app@sha256:{'a' * 64}", dx.StreamRef("project-b", "app", None, f"sha256:{'a' * 64}")),
    ],
)
def test_parse_image_stream(value: str, expected: dx.StreamRef) -> None:
    assert parse_image_stream(value, default_namespace=NS) == expected


@pytest.mark.parametrize("value", ["a/b/c:1", "Project/app", "app:bad tag", "app@sha256:12"])
def test_parse_image_stream_refuses(value: str) -> None:
    with pytest.raises(InvalidInputError):
        parse_image_stream(value, default_namespace=NS)


@pytest.mark.parametrize(
    "params",
    [{}, {"image": "a", "image_stream": "b"}, {"image": "quay.io/Upper:1"}, {"image": "a", "pod": "x"}],
)
def test_request_refuses(params: dict[str, Any]) -> None:
    with pytest.raises(InvalidInputError):
        PullAccessRequest.from_params(params)


def test_request_defaults() -> None:
    request = PullAccessRequest.from_params({"image": "nginx"})
    assert (request.namespace, request.service_account, request.check_credentials) == ("", "default", False)


# ---------------------------------------------------------------------------------------------------------------
# Property: whatever the secrets hold, the result shows none of it, and the first candidate is the credential

# a marker no result text holds, so a hit can only be a leak
passwords = st.text(alphabet=st.characters(min_codepoint=48, max_codepoint=122), min_size=8, max_size=30).map(
    lambda text: f"pw#{text}"
)
key_choices = st.sampled_from(["quay.io", "quay.io/org", "quay.io/org/app", "https://quay.io", "*.io", "docker.io"])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(key_choices, passwords), min_size=0, max_size=4), passwords)
def test_no_password_in_any_result(entries: list[tuple[str, str]], node_password: str) -> None:
    secrets = [evaluated(f"s{i}", {key: entry(f"user{i}", pw)}) for i, (key, pw) in enumerate(entries)]
    result, candidates = report("quay.io/org/app:1", secrets, node({"quay.io": entry("n", node_password)}))
    text = json.dumps(result)
    for _key, password in [*entries, ("", node_password)]:
        assert password not in text
    assert result["credential"] == candidates[0].as_result()
    # the kubelet's order: never a less specific key of the pod before a more specific one
    indexes = [c.key.removeprefix("https://") for c in candidates if c.reading.source != dx.NODE]
    assert indexes == sorted(indexes, reverse=True)
