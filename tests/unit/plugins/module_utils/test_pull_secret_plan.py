"""The pure parts of pull_secret: type handling, podmanconfigjson conversion, the Secret to write, change detection;
and what it reads through _registry (a pull secret's data, the auth file)."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import ClusterStateError, InvalidInputError
from ansible_collections.openshift_ops.images.plugins.module_utils._pull_secret.plan import (
    DOCKERCFG,
    DOCKERCONFIGJSON,
    PODMANCONFIGJSON,
    desired_secret,
    encode_document,
    plan_pull_secret,
    resolve_secret_type,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._pull_secret.request import PullSecretRequest
from ansible_collections.openshift_ops.images.plugins.module_utils._registry.auth_entries import (
    entry_from_auth,
    entry_from_credentials,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._registry.auth_file import read_auth_file
from ansible_collections.openshift_ops.images.plugins.module_utils._registry.credential_flow import (
    registry_check_failure,
    registry_check_warnings,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._registry.pull_secret_data import (
    read_secret_document,
    secret_content,
    secret_data_values,
)
from ansible_collections.openshift_ops.images.tests.unit.support.encoding import b64

NS, NAME = "project-a", "private-registry"


def auth(user: str, password: str) -> str:
    return b64(f"{user}:{password}")


def stored(secret_type: str, content: str, **extra) -> dict:
    """A Secret as the API server returns it."""
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": NAME,
            "namespace": NS,
            "uid": "0b5e-uid",
            "resourceVersion": "1234",
            "labels": {"team": "a"},
            "annotations": {"owner": "ops"},
        },
        "type": secret_type,
        "data": {
            {DOCKERCONFIGJSON: ".dockerconfigjson", DOCKERCFG: ".dockercfg"}.get(secret_type, "auth.json"): b64(content)
        },
    }
    secret.update(extra)
    return secret


def plan(existing, entries, **options):
    options.setdefault("merge", False)
    options.setdefault("secret_type", DOCKERCONFIGJSON)
    return plan_pull_secret(existing, name=NAME, namespace=NS, entries=entries, **options)


def content_of(secret: dict, key: str = ".dockerconfigjson") -> str:
    return base64.b64decode(secret["data"][key]).decode()


# --- type handling --------------------------------------------------------------------------------------------------


def test_resolve_secret_type() -> None:
    assert resolve_secret_type(DOCKERCONFIGJSON) == (DOCKERCONFIGJSON, [])
    assert resolve_secret_type(DOCKERCFG) == (DOCKERCFG, [])
    secret_type, [warning] = resolve_secret_type(PODMANCONFIGJSON)
    assert secret_type == DOCKERCONFIGJSON
    # The warning explains why, not only what.
    assert "ignore" in warning
    assert ".dockerconfigjson" in warning


@pytest.mark.parametrize("requested", ["Opaque", "kubernetes.io/basic-auth", "", "dockerconfigjson"])
def test_resolve_secret_type_refuses_other_types(requested: str) -> None:
    with pytest.raises(InvalidInputError, match=r"unsupported secret type .*kubelet ignores"):
        resolve_secret_type(requested)


def test_encode_document_dockerconfigjson_is_the_whole_document() -> None:
    document = {"auths": {"quay.io": {"auth": auth("u", "p")}}, "HttpHeaders": {"X": "y"}}
    content, warnings = encode_document(document, DOCKERCONFIGJSON)
    assert json.loads(content) == document
    assert warnings == []


def test_encode_document_dockercfg_is_the_bare_map_and_says_what_it_drops() -> None:
    document = {"auths": {"quay.io": {"auth": auth("u", "p")}}, "credHelpers": {"x": "y"}}
    content, [warning] = encode_document(document, DOCKERCFG)
    assert content == '{"quay.io":{"auth":"' + auth("u", "p") + '"}}'
    assert "credHelpers" in warning
    assert encode_document({"auths": {}}, DOCKERCFG) == ("{}", [])


def test_encode_document_refuses_unknown_types() -> None:
    with pytest.raises(InvalidInputError):
        encode_document({"auths": {}}, PODMANCONFIGJSON)


# --- the bytes of kubectl -------------------------------------------------------------------------------------------

# `kubectl create secret docker-registry x --docker-server=S --docker-username=U --docker-password=P
# [--docker-email=E] --dry-run=client -o jsonpath='{.data.\.dockerconfigjson}' | base64 -d` (kubectl v1.32).
KUBECTL_CASES = [
    (
        ("quay.io/ns", "robot", 'p@ss:w"rd', "you@example.com"),
        '{"auths":{"quay.io/ns":{"username":"robot","password":"p@ss:w\\"rd","email":"you@example.com",'
        '"auth":"cm9ib3Q6cEBzczp3InJk"}}}',
    ),
    (
        ("reg.example.com:5000", "ü<r>", "a&b<c>é\\u2028", None),
        '{"auths":{"reg.example.com:5000":{"username":"ü\\u003cr\\u003e","password":"a\\u0026b\\u003cc\\u003eé\\\\u2028",'
        '"auth":"w7w8cj46YSZiPGM+w6lcdTIwMjg="}}}',
    ),
]


@pytest.mark.parametrize(("options", "expected"), KUBECTL_CASES)
def test_new_secret_from_credentials_holds_the_bytes_kubectl_writes(options, expected: str) -> None:
    server, username, password, email = options
    result = plan(None, {server: entry_from_credentials(username=username, password=password, email=email)})
    assert result.action == "create"
    assert result.secret is not None
    assert content_of(result.secret) == expected
    assert result.secret["type"] == DOCKERCONFIGJSON
    assert result.secret["metadata"] == {"name": NAME, "namespace": NS}
    assert result.added == [server]


# --- reading an existing secret -------------------------------------------------------------------------------------


def test_read_secret_document() -> None:
    document = {"auths": {"quay.io": {"auth": auth("u", "p")}}}
    assert read_secret_document(stored(DOCKERCONFIGJSON, json.dumps(document, indent=2))) == document
    assert read_secret_document(stored(DOCKERCFG, json.dumps(document["auths"]))) == document


@pytest.mark.parametrize(
    "secret",
    [
        stored("Opaque", '{"auths": {}}'),
        stored(PODMANCONFIGJSON, '{"auths": {}}'),
        stored(DOCKERCONFIGJSON, "not json"),
        stored(DOCKERCONFIGJSON, "[1, 2]"),
        stored(DOCKERCONFIGJSON, '{"auths": []}'),
        stored(DOCKERCFG, "null"),
        {"type": DOCKERCONFIGJSON, "data": {".dockerconfigjson": "%%% not base64"}},
        {"type": DOCKERCONFIGJSON, "data": {".dockerconfigjson": base64.b64encode(b"\xff\xfe").decode()}},
        {"type": DOCKERCONFIGJSON, "data": {}},
        {"type": DOCKERCONFIGJSON},
    ],
)
def test_read_secret_document_is_none_for_unreadable_content(secret: dict) -> None:
    assert read_secret_document(secret) is None


def test_secret_content() -> None:
    assert secret_content(stored(DOCKERCFG, "{}"), DOCKERCFG) == "{}"
    assert secret_content(stored(DOCKERCFG, "{}"), DOCKERCONFIGJSON) is None


def test_secret_data_values_cover_encoded_decoded_and_credentials() -> None:
    text = json.dumps({"auths": {"quay.io": {"username": "u", "password": "s3cret", "auth": auth("u", "s3cret")}}})
    secret = stored(DOCKERCONFIGJSON, text)
    values = secret_data_values(secret)
    assert {b64(text), text, "s3cret", auth("u", "s3cret"), "u:s3cret"} <= values
    assert "u" not in values  # user names are not secret
    assert secret_data_values(None) == set()
    # Garbage is still registered as it is.
    assert secret_data_values({"type": DOCKERCONFIGJSON, "data": {".dockerconfigjson": "%%%"}}) == {"%%%"}
    # Data of other types is registered only in its stored (base64) form: it is never decoded or shown.
    assert secret_data_values({"type": "Opaque", "data": {"k": b64("v")}}) == {b64("v")}


# --- the Secret object ----------------------------------------------------------------------------------------------


def test_desired_secret_update_changes_only_our_key() -> None:
    existing = stored(DOCKERCONFIGJSON, "{}")
    existing["data"]["extra"] = b64("kept")
    secret = desired_secret(
        name=NAME, namespace=NS, secret_type=DOCKERCONFIGJSON, content='{"auths":{}}', existing=existing
    )
    assert secret["metadata"] == existing["metadata"]  # resourceVersion for the PUT, labels, annotations
    assert secret["data"] == {".dockerconfigjson": b64('{"auths":{}}'), "extra": b64("kept")}
    assert existing["data"][".dockerconfigjson"] == b64("{}")  # the input is not changed


def test_desired_secret_recreate_keeps_labels_annotations_and_immutability_only() -> None:
    existing = stored("Opaque", "x", immutable=True)
    secret = desired_secret(
        name=NAME, namespace=NS, secret_type=DOCKERCFG, content="{}", existing=existing, recreate=True
    )
    assert secret == {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": NAME, "namespace": NS, "labels": {"team": "a"}, "annotations": {"owner": "ops"}},
        "type": DOCKERCFG,
        "data": {".dockercfg": b64("{}")},
        "immutable": True,
    }
    plain = desired_secret(
        name=NAME, namespace=NS, secret_type=DOCKERCFG, content="{}", existing=stored("Opaque", "x"), recreate=True
    )
    assert "immutable" not in plain


# --- change detection -----------------------------------------------------------------------------------------------

QUAY = {"quay.io": entry_from_credentials(username="robot", password="pw")}


def test_equal_content_in_other_formatting_is_no_change() -> None:
    # Same JSON, written pretty-printed with another key order: no write, so the stored bytes stay.
    entry = QUAY["quay.io"]
    text = json.dumps({"auths": {"quay.io": {k: entry[k] for k in reversed(list(entry))}}}, indent=4)
    result = plan(stored(DOCKERCONFIGJSON, text), QUAY)
    assert result.action == "none"
    assert not result.changed
    assert result.secret is None
    assert (result.added, result.updated, result.removed) == ([], [], [])


def test_replace_drops_entries_not_given() -> None:
    existing = stored(DOCKERCONFIGJSON, json.dumps({"auths": {"old.example.com": {"auth": auth("a", "b")}}}))
    result = plan(existing, QUAY)
    assert result.action == "update"
    assert result.secret is not None
    assert json.loads(content_of(result.secret)) == {"auths": QUAY}
    assert (result.added, result.removed) == (["quay.io"], ["old.example.com"])
    assert result.secret["metadata"]["resourceVersion"] == "1234"


def test_merge_keeps_other_entries_fields_and_order_and_replaces_equivalent_spelling() -> None:
    document: dict[str, dict] = {
        "auths": {
            "cloud.openshift.com": {"auth": auth("c", "d"), "email": "me@example.com"},
            "https://quay.io": {"auth": auth("old", "old")},
            "registry.example.com": {"identitytoken": "tok"},
        },
        "HttpHeaders": {"User-Agent": "x"},
    }
    result = plan(stored(DOCKERCONFIGJSON, json.dumps(document)), QUAY, merge=True)
    assert result.action == "update"
    assert result.secret is not None
    after = json.loads(content_of(result.secret))
    assert list(after["auths"]) == ["cloud.openshift.com", "quay.io", "registry.example.com"]
    assert after["auths"]["cloud.openshift.com"] == document["auths"]["cloud.openshift.com"]
    assert after["auths"]["registry.example.com"] == {"identitytoken": "tok"}
    assert after["HttpHeaders"] == {"User-Agent": "x"}
    assert after["auths"]["quay.io"] == QUAY["quay.io"]
    assert result.added == ["quay.io"]
    assert result.removed == ["https://quay.io"]


def test_merge_of_what_is_there_already_is_no_change() -> None:
    document = {"auths": {"a.example.com": {"auth": auth("a", "b")}, **QUAY}}
    assert plan(stored(DOCKERCONFIGJSON, json.dumps(document)), QUAY, merge=True).action == "none"


def test_remove_registries_with_merge() -> None:
    document = {
        "auths": {"old.example.com": {"auth": auth("a", "b")}, "https://kept.example.com": {"auth": auth("c", "d")}}
    }
    result = plan(
        stored(DOCKERCONFIGJSON, json.dumps(document)), {}, merge=True, remove_registries=["https://old.example.com/"]
    )
    assert result.secret is not None
    assert json.loads(content_of(result.secret)) == {"auths": {"https://kept.example.com": {"auth": auth("c", "d")}}}
    assert result.removed == ["old.example.com"]
    # Removing what is not there is no change.
    again = stored(DOCKERCONFIGJSON, content_of(result.secret))
    assert plan(again, {}, merge=True, remove_registries=["old.example.com"]).action == "none"


def test_merge_refuses_to_keep_a_broken_auth_but_can_remove_it() -> None:
    document = {"auths": {"broken.example.com": {"auth": b64("no-colon")}, "ok.example.com": {"auth": auth("a", "b")}}}
    existing = stored(DOCKERCONFIGJSON, json.dumps(document))
    with pytest.raises(InvalidInputError) as error:
        plan(existing, QUAY, merge=True)
    message = str(error.value)
    assert f"the secret {NS}/{NAME}" in message
    assert "broken.example.com" in message
    assert "remove_registries" in message
    assert b64("no-colon") not in message
    fixed = plan(existing, QUAY, merge=True, remove_registries=["broken.example.com"])
    assert fixed.secret is not None
    assert list(json.loads(content_of(fixed.secret))["auths"]) == ["ok.example.com", "quay.io"]
    # Without merge the broken entry is simply replaced.
    assert plan(existing, QUAY).action == "update"


def test_unreadable_content_is_replaced_but_not_merged() -> None:
    existing = stored(DOCKERCONFIGJSON, "{not json")
    result = plan(existing, QUAY)
    assert result.action == "update"
    assert result.before is None
    with pytest.raises(ClusterStateError, match="merge: false"):
        plan(existing, QUAY, merge=True)


@pytest.mark.parametrize(
    ("current", "fragment"), [("Opaque", "ignores that type"), (PODMANCONFIGJSON, "ignored for pulls"), (DOCKERCFG, "")]
)
def test_other_type_is_never_replaced_silently(current: str, fragment: str) -> None:
    existing = stored(current, json.dumps({"auths": {}}))
    with pytest.raises(ClusterStateError) as error:
        plan(existing, QUAY)
    message = str(error.value)
    assert f"exists with type {current}" in message
    assert "force: true" in message
    assert fragment in message
    forced = plan(existing, QUAY, force=True)
    assert forced.action == "recreate"
    assert forced.secret is not None
    assert forced.secret["type"] == DOCKERCONFIGJSON
    assert "resourceVersion" not in forced.secret["metadata"]
    assert forced.secret["metadata"]["labels"] == {"team": "a"}


def test_forced_conversion_from_dockercfg_can_merge_its_entries() -> None:
    existing = stored(DOCKERCFG, json.dumps({"old.example.com": {"auth": auth("a", "b")}}))
    result = plan(existing, QUAY, merge=True, force=True)
    assert result.action == "recreate"
    assert result.secret is not None
    assert list(json.loads(content_of(result.secret))["auths"]) == ["old.example.com", "quay.io"]


def test_dockercfg_type_round_trip() -> None:
    result = plan(None, QUAY, secret_type=DOCKERCFG)
    assert result.secret is not None
    text = content_of(result.secret, ".dockercfg")
    assert json.loads(text) == QUAY
    assert plan(stored(DOCKERCFG, text), QUAY, secret_type=DOCKERCFG).action == "none"
    # A dockercfg secret keeps no top-level fields, so merging into it compares what it can hold.
    assert plan(stored(DOCKERCFG, text), {}, merge=True, secret_type=DOCKERCFG).action == "none"


def test_immutable_secret() -> None:
    same = stored(DOCKERCONFIGJSON, json.dumps({"auths": QUAY}), immutable=True)
    assert plan(same, QUAY).action == "none"
    other = stored(DOCKERCONFIGJSON, json.dumps({"auths": {}}), immutable=True)
    with pytest.raises(ClusterStateError, match=r"immutable.*force: true"):
        plan(other, QUAY)
    assert plan(other, QUAY, force=True).action == "recreate"


def test_podman_auth_json_entries_are_kept_as_they_are() -> None:
    entries = {
        "registry.example.com/team": entry_from_auth(auth("a", "b")),
        "docker.io": {"auth": auth("c", "d"), "identitytoken": "t"},
    }
    result = plan(None, entries)
    assert result.secret is not None
    assert json.loads(content_of(result.secret)) == {"auths": entries}


@dataclass
class Check:
    key: str
    ok: bool
    detail: str
    outcome: str


def test_registry_check_failure_lists_one_line_per_refused_registry() -> None:
    assert registry_check_failure([Check("a", True, "ok", "accepted")]) is None
    assert registry_check_failure([]) is None
    message = registry_check_failure(
        [
            Check("a.example.com", False, "401 unauthorized", "rejected"),
            Check("b", True, "ok", "accepted"),
            Check("*.example.com", False, "a wildcard key names no single registry", "unchecked"),
            Check("c.example.com/x", False, "connection refused", "unreachable"),
        ]
    )
    assert message is not None
    assert message.splitlines()[1:] == ["- a.example.com: 401 unauthorized", "- c.example.com/x: connection refused"]
    assert "nothing was written" in message


def test_registry_check_warnings_name_what_was_not_checked() -> None:
    checks = [Check("*.example.com", False, "wildcard; not checked", "unchecked"), Check("b", False, "no", "rejected")]
    assert registry_check_warnings(checks) == ["validate_credentials: *.example.com: wildcard; not checked"]
    # Unchecked entries alone do not fail the task.
    assert registry_check_failure(checks[:1]) is None


# --- the request ----------------------------------------------------------------------------------------------------


def params(**overrides) -> dict:
    base = {
        "name": NAME,
        "namespace": None,
        "state": "present",
        "type": DOCKERCONFIGJSON,
        "merge": False,
        "remove_registries": [],
        "link_service_accounts": [],
        "validate_credentials": False,
        "registry_ca_cert": None,
        "registry_validate_certs": True,
        "force": False,
        "registries": [{"server": "quay.io", "username": "u", "password": "p"}],
        "auth_file": None,
        "auth_content": None,
    }
    base.update(overrides)
    return base


def test_request_from_params() -> None:
    request = PullSecretRequest.from_params(params(link_service_accounts=["default", "builder", "default"]))
    assert request.link_service_accounts == ("default", "builder")
    assert request.credentials.given
    assert request.credentials.entries == {"quay.io": {"username": "u", "password": "p", "auth": b64("u:p")}}
    assert {"p", b64("u:p")} <= request.secret_values()


def test_request_checks_the_credentials_before_anything_connects() -> None:
    with pytest.raises(InvalidInputError, match=r"registries\[0\] \(server q\.io\)"):
        PullSecretRequest.from_params(params(registries=[{"server": "q.io", "auth": "not-base64!"}]))
    with pytest.raises(InvalidInputError, match="both given with credentials and listed in remove_registries"):
        PullSecretRequest.from_params(params(remove_registries=["https://quay.io"]))
    with pytest.raises(InvalidInputError, match=r"registry_ca_cert /nowhere/ca\.pem does not exist"):
        PullSecretRequest.from_params(params(validate_credentials=True, registry_ca_cert="/nowhere/ca.pem"))


def test_request_without_credentials_needs_merge() -> None:
    with pytest.raises(InvalidInputError, match="no credentials given"):
        PullSecretRequest.from_params(params(registries=None, remove_registries=["old.io"]))
    request = PullSecretRequest.from_params(params(registries=None, merge=True, remove_registries=["old.io"]))
    assert not request.credentials.given
    # Deleting needs no credentials.
    PullSecretRequest.from_params(params(registries=None, state="absent"))


@pytest.mark.parametrize(
    ("override", "fragment"),
    [({"name": "Bad_Name"}, "secret name"), ({"link_service_accounts": ["ok", "No"]}, "service account name")],
)
def test_request_rejects_invalid_names(override: dict, fragment: str) -> None:
    with pytest.raises(InvalidInputError, match=fragment):
        PullSecretRequest.from_params(params(**override))


def test_reading_the_auth_file_names_the_option_and_the_fix(tmp_path: Path) -> None:
    good = tmp_path / "auth.json"
    good.write_text('{"auths": {}}', encoding="utf-8")
    assert read_auth_file(str(good)) == '{"auths": {}}'
    with pytest.raises(InvalidInputError, match="does not exist on the managed host; auth_file must be the path"):
        read_auth_file(str(tmp_path / "missing.json"))
    binary = tmp_path / "binary"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(InvalidInputError, match=r"not UTF-8 text; give a docker config\.json or podman auth\.json"):
        read_auth_file(str(binary))
    with pytest.raises(InvalidInputError, match="cannot be read: Is a directory; auth_file must be the path"):
        read_auth_file(str(tmp_path))


# --- properties -----------------------------------------------------------------------------------------------------

_keys = st.sampled_from(
    ["quay.io", "quay.io/ns", "registry.example.com:5000", "docker.io", "https://index.docker.io/v1/"]
)
_text = st.text(alphabet=st.characters(exclude_categories=["Cs"], exclude_characters=":"), min_size=1, max_size=12)
_entries = st.dictionaries(
    _keys,
    st.builds(lambda u, p: entry_from_credentials(username=u, password=p), _text, _text),
    max_size=4,
).filter(lambda entries: not {"docker.io", "https://index.docker.io/v1/"} <= set(entries))  # one spelling per registry


@given(first=_entries, second=_entries, merge=st.booleans(), secret_type=st.sampled_from([DOCKERCONFIGJSON, DOCKERCFG]))
def test_second_run_is_no_change(first: dict, second: dict, merge: bool, secret_type: str) -> None:
    created = plan(None, first, secret_type=secret_type)
    assert created.secret is not None
    after_first = {**created.secret, "metadata": {**created.secret["metadata"], "resourceVersion": "1"}}
    result = plan(after_first, second, merge=merge, secret_type=secret_type)
    current = result.secret or after_first
    assert plan(current, second, merge=merge, secret_type=secret_type).action == "none"
    # What is stored holds the wanted entries (under the given spelling).
    stored_document = read_secret_document(current)
    assert stored_document is not None
    for key, entry in second.items():
        assert stored_document["auths"][key] == entry


def test_the_plan_names_every_secret_of_both_secrets() -> None:
    old = json.dumps({"auths": {"old.example.com": {"auth": auth("u", "old-Passw0rd")}}})
    new = {"quay.io": entry_from_credentials(username="robot", password="new-Passw0rd")}
    changed = plan(stored(DOCKERCONFIGJSON, old), new)
    assert changed.action == "update" and changed.write is changed.secret
    assert {"old-Passw0rd", "new-Passw0rd", auth("u", "old-Passw0rd")} <= changed.secret_values
    assert secret_data_values(stored(DOCKERCONFIGJSON, old)) <= changed.secret_values
    same = plan(changed.secret, new)
    assert same.action == "none" and same.write is None
    assert "new-Passw0rd" in same.secret_values
    recreated = plan(stored(DOCKERCFG, json.dumps({"q": {"auth": auth("a", "cfg-Passw0rd")}})), new, force=True)
    assert recreated.action == "recreate" and recreated.write is None  # a delete + create, not a PUT
    assert "cfg-Passw0rd" in recreated.secret_values and "new-Passw0rd" in recreated.secret_values


@pytest.mark.parametrize(
    ("metadata", "message"),
    [
        (
            {"annotations": {"openshift.io/internal-registry-auth-token.service-account": "builder"}},
            "is managed by OpenShift: it holds the registry token of the service account builder",
        ),
        ({"annotations": {"kubernetes.io/service-account.name": "default"}}, "service account default"),
        (
            {"ownerReferences": [{"apiVersion": "v1", "kind": "ConfigMap", "name": "app", "uid": "u"}]},
            "is owned by ConfigMap app (metadata.ownerReferences)",
        ),
    ],
)
def test_a_secret_someone_else_manages_is_never_written(metadata: dict, message: str) -> None:
    existing = stored(DOCKERCONFIGJSON, json.dumps({"auths": {}}))
    existing["metadata"].update(metadata)
    entries = {"quay.io": entry_from_credentials(username="u", password="p-secret")}
    with pytest.raises(ClusterStateError) as raised:
        plan(existing, entries, force=True)
    assert message in str(raised.value)
    assert "nothing was written. Use another name" in str(raised.value)


def test_a_secret_over_the_api_servers_limit_is_refused_before_any_write() -> None:
    entry = entry_from_credentials(username="u", password="p-secret", email="x" * 4096 + "@example.com")
    entries = {f"r{index}.example.com": entry for index in range(300)}
    with pytest.raises(InvalidInputError) as raised:
        plan(None, entries)
    assert "more than the 1,048,576 bytes the API server allows in one Secret" in str(raised.value)
    assert "Split the registries over several pull secrets" in str(raised.value)
    assert plan(None, dict(list(entries.items())[:100])).action == "create"  # about 450 KB: fine


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"remove_registries": ["ftp://quay.io"]}, "remove_registries[0]: registry key 'ftp://quay.io'"),
        ({"namespace": "Project A"}, "namespace: 'Project A' is not a valid namespace name"),
    ],
)
def test_request_refuses_bad_keys_and_namespaces(options: dict, message: str) -> None:
    with pytest.raises(InvalidInputError) as raised:
        PullSecretRequest.from_params(params(**options))
    assert message in str(raised.value)
