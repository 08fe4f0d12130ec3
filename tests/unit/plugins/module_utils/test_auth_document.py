"""Unit tests of the auth-document core: parsing, schema, kubectl-exact entries, merge/remove, redaction."""

from __future__ import annotations

import base64
import builtins
import contextlib
import json
import shutil
import subprocess
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import InvalidInputError
from ansible_collections.openshift_ops.images.plugins.module_utils._registry import auth_document as ad

KUBECTL = shutil.which("kubectl") or "/usr/bin/kubectl"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


# ---------------------------------------------------------------------------------------------------------------------
# §3.1: entries exactly as `kubectl create secret docker-registry` writes them, compared byte for byte with kubectl


def kubectl_dockerconfigjson(server: str | None, username: str, password: str, email: str | None) -> bytes:
    args = [KUBECTL, "create", "secret", "docker-registry", "x", f"--docker-username={username}"]
    args.append(f"--docker-password={password}")
    if server is not None:
        args.append(f"--docker-server={server}")
    if email is not None:
        args.append(f"--docker-email={email}")
    args += ["--dry-run=client", "-o", "json"]
    completed = subprocess.run(args, capture_output=True, check=True, timeout=60, env={"HOME": "/nonexistent"})
    secret = json.loads(completed.stdout)
    assert secret["type"] == "kubernetes.io/dockerconfigjson"
    return base64.b64decode(secret["data"][".dockerconfigjson"])


KUBECTL_CASES = [
    ("quay.io", "robot", "s3cret", None),
    ("quay.io", "robot", "s3cret", "ops@example.com"),
    ("quay.io", "robot", "s3cret", ""),  # an empty email is left out
    ("registry.example.com:5000/team/app", "u", "pa:ss:word", None),  # ':' in the password
    ("https://index.docker.io/v1/", "user", "quo\"te's and \\back", "e@x"),
    ("localhost:5000", "ünïcødé", "пароль-密码-🔑", "ü@example.com"),
    ("quay.io", "u", "<html>&amp;</html>", None),  # Go escapes <, > and & even in compact JSON
    ("quay.io", "u", "line\nbreak\ttab\b\f\x01\x7f", None),  # control characters
    ("quay.io", "u", "sep\u2028\u2029", None),  # Go escapes U+2028/U+2029
    ("http://insecure.example.com", "u", "p", None),
    ("quay.io", "u", " leading and trailing spaces ", None),
]


@pytest.mark.parametrize(("server", "username", "password", "email"), KUBECTL_CASES)
def test_entry_from_credentials_is_byte_for_byte_kubectl(server, username, password, email):
    entry = ad.entry_from_credentials(username=username, password=password, email=email)
    ours = ad.dump_document({"auths": {server: entry}}).encode("utf-8")
    assert ours == kubectl_dockerconfigjson(server, username, password, email)


def test_kubectl_default_server_is_docker_hub_v1_key():
    entry = ad.entry_from_credentials(username="u", password="p")
    ours = ad.dump_document({"auths": {"https://index.docker.io/v1/": entry}}).encode()
    assert ours == kubectl_dockerconfigjson(None, "u", "p", None)


def test_entry_field_order_and_auth():
    entry = ad.entry_from_credentials(username="u", password="p:q", email="e")
    assert list(entry) == ["username", "password", "email", "auth"]
    assert entry["auth"] == b64("u:p:q")
    assert list(ad.entry_from_credentials(username="u", password="p")) == ["username", "password", "auth"]


_ARG_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), min_size=1, max_size=20
)


@settings(max_examples=25)
@given(
    server=st.sampled_from(["quay.io", "docker.io", "https://index.docker.io/v1/", "r.example.com:5000/ns"]),
    username=_ARG_TEXT.filter(lambda text: ":" not in text),
    password=_ARG_TEXT,
    email=st.none() | _ARG_TEXT,
)
def test_entry_from_credentials_matches_kubectl_on_generated_input(server, username, password, email):
    entry = ad.entry_from_credentials(username=username, password=password, email=email)
    assert ad.dump_document({"auths": {server: entry}}).encode() == kubectl_dockerconfigjson(
        server, username, password, email
    )


@pytest.mark.parametrize(
    ("username", "password", "needle"),
    [("", "pw-SECRET-9", "username is required"), ("u", "", "is empty"), ("a:b", "pw-SECRET-9", "contains ':'")],
)
def test_entry_from_credentials_refuses_what_no_reader_can_use(username, password, needle):
    with pytest.raises(InvalidInputError, match=needle) as caught:
        ad.entry_from_credentials(username=username, password=password)
    assert "SECRET" not in str(caught.value)


def test_entry_from_auth():
    assert ad.entry_from_auth(b64("u:p")) == {"auth": b64("u:p")}
    assert ad.entry_from_auth(b64("u:p"), email="e") == {"email": "e", "auth": b64("u:p")}
    assert ad.entry_from_auth(b64("u:p"), email="") == {"auth": b64("u:p")}


@pytest.mark.parametrize(
    ("auth", "needle"),
    [
        (b64("no-colon-here"), "no colon"),
        ("%%%not-base64%%%", "not standard base64"),
        (b64("u:pw").rstrip("="), "not standard base64"),  # unpadded: containers/image and old kubelets fail
        (b64("user:password") + "\n", "whitespace"),
        ("", "no colon"),
    ],
)
def test_entry_from_auth_refuses_bad_auth_without_showing_it(auth, needle):
    with pytest.raises(InvalidInputError, match=needle) as caught:
        ad.entry_from_auth(auth)
    if auth.strip():
        assert auth.strip() not in str(caught.value)
    assert "unable to parse auth field" in str(caught.value)


def test_decode_auth_splits_at_first_colon():
    assert ad.decode_auth(b64("u:p:a:ss")) == ("u", "p:a:ss")
    assert ad.decode_auth(b64("u:")) == ("u", "")


# ---------------------------------------------------------------------------------------------------------------------
# Loading documents

DOCKER_CONFIG = {
    "auths": {
        "https://index.docker.io/v1/": {"auth": b64("hub:pw"), "email": "hub@example.com"},
        "quay.io": {},
        "ghcr.io": {"identitytoken": "refresh-token"},
        "registry.example.com": {"username": "u", "password": "p", "auth": b64("u:p"), "serveraddress": "x"},
    },
    "credsStore": "desktop",
    "credHelpers": {"gcr.io": "gcloud"},
    "HttpHeaders": {"User-Agent": "Docker-Client"},
    "psFormat": "table {{.ID}}",
    "plugins": {"x": {"enabled": True, "level": 3, "ratio": 0.5, "tags": ["a", None]}},
}
PODMAN_AUTH = {"auths": {"quay.io/ns": {"auth": b64("robot:tok")}, "docker.io": {"auth": b64("u:p")}}}


@pytest.mark.parametrize("document", [DOCKER_CONFIG, PODMAN_AUTH, {}, {"auths": {}}, {"credsStore": "pass"}])
def test_load_accepts_docker_and_podman_documents_from_text_bytes_and_mapping(document):
    text = json.dumps(document, indent=4)
    for content in (text, text.encode(), document):
        loaded = ad.load_auth_document(content, source="auth_file /x/auth.json")
        assert loaded == document
        assert ad.documents_equal(loaded, document)
    assert ad.load_auth_document(document, source="s") is not document  # a copy


def test_load_keeps_key_order():
    auth = b64("u:p")
    text = '{"z": 1, "auths": {"b": {"auth": "' + auth + '"}, "a": {"auth": "' + auth + '"}}, "a": 2}'
    loaded = ad.load_auth_document(text, source="s")
    assert list(loaded) == ["z", "auths", "a"]
    assert list(loaded["auths"]) == ["b", "a"]


SECRET = "hunter2-SECRET-VALUE"


@pytest.mark.parametrize(
    ("content", "needles"),
    [
        ("", ["auth_file /x is empty"]),
        ("   \n", ["is empty"]),
        ("not json", ["is not valid JSON", "line 1 column 1"]),
        ('{"auths": {"q": {"password": "' + SECRET + '"}', ["is not valid JSON"]),
        ("null", ["must hold a JSON object", "not null"]),
        ("[1, 2]", ["not array"]),
        ('"text"', ["not string"]),
        ('{"auths": []}', ["auths must be an object, not array"]),
        ('{"auths": {"q": "' + SECRET + '"}}', ["auths.q must be an object, not string"]),
        ('{"auths": {"quay.io": {"password": 12345}}}', ['auths["quay.io"].password must be a string, not integer']),
        ('{"auths": {"quay.io": {"auth": true}}}', ["auth must be a string, not boolean"]),
        ('{"credHelpers": {"gcr.io": 1}}', ['credHelpers["gcr.io"] must be a string']),
        ('{"credsStore": ["x"]}', ["credsStore must be a string, not array"]),
        ('{"auths": {"q": {"auth": "' + b64("u:p") + '"}, "q": {}}}', ['the key "q" appears twice']),
        ('{"a": NaN}', ["NaN is not valid JSON"]),
        ('{"a": Infinity}', ["Infinity is not valid JSON"]),
        ("\ufeff{}", ["byte order mark"]),
        (b"\xff\xfe{}", ["not UTF-8 text"]),
        ('{"q.example.com": {"auth": "' + b64("u:p") + '"}}', ["legacy .dockercfg layout", '"auths"']),
        ('{"auths": {"quay.io": {"auth": "' + b64(SECRET) + '"}}}', ["no colon", 'auths["quay.io"].auth']),
        ('{"auths": {"quay.io": {"auth": "' + SECRET + '!"}}}', ["not standard base64"]),
    ],
)
def test_load_errors_are_actionable_and_never_show_values(content, needles):
    with pytest.raises(InvalidInputError) as caught:
        ad.load_auth_document(content, source="auth_file /x")
    message = str(caught.value)
    for needle in needles:
        assert needle in message
    assert SECRET not in message
    assert b64(SECRET) not in message
    assert "12345" not in message


def test_load_reports_several_schema_problems_at_once():
    document = {"auths": {"a": {"password": 1, "username": 2}}, "credsStore": 3}
    with pytest.raises(InvalidInputError) as caught:
        ad.load_auth_document(document, source="s")
    assert str(caught.value).count("must be a string") == 3


def test_load_without_auth_check_keeps_a_broken_entry_so_it_can_be_removed():
    text = '{"auths": {"broken": {"auth": "bm9jb2xvbg=="}, "ok": {"auth": "' + b64("u:p") + '"}}}'
    with pytest.raises(InvalidInputError):
        ad.load_auth_document(text, source="the secret ns/x")
    loaded = ad.load_auth_document(text, source="the secret ns/x", check_auth=False)
    cleaned, removed = ad.remove_entries(loaded, ["broken"])
    assert removed == ["broken"]
    assert ad.load_auth_document(ad.dump_document(cleaned), source="s") == {"auths": {"ok": {"auth": b64("u:p")}}}


def test_load_accepts_empty_auth_like_the_kubelet():
    loaded = ad.load_auth_document({"auths": {"q": {"auth": "", "username": "u", "password": "p"}}}, source="s")
    assert ad.entry_basic_credentials(loaded["auths"]["q"]) == ("u", "p")


@pytest.mark.parametrize(
    ("mapping", "needle"),
    [
        ({"auths": {1: {}}}, "key of type int"),
        ({"auths": {"q": {"auth": b"bytes"}}}, "is a bytes"),
        ({"x": float("nan")}, "not a finite number"),
        ({"x": "\ud800"}, "cannot be encoded as UTF-8"),
    ],
)
def test_load_mapping_refuses_what_json_cannot_hold(mapping, needle):
    with pytest.raises(InvalidInputError, match=needle):
        ad.load_auth_document(mapping, source="auth_content")


def test_load_refuses_other_types():
    with pytest.raises(InvalidInputError, match="JSON text or a mapping"):
        ad.load_auth_document(42, source="auth_content")  # type: ignore[arg-type]


def test_load_converts_tuples_and_str_subclasses_to_plain_json():
    class Unsafe(str):
        pass

    loaded = ad.load_auth_document({"auths": {}, "x": (Unsafe("a"), 1)}, source="s")
    assert loaded == {"auths": {}, "x": ["a", 1]}
    assert loaded["x"][0].__class__ is str


# ---------------------------------------------------------------------------------------------------------------------
# Registry keys (§3.4, §6.1, §7)


@pytest.mark.parametrize(
    "key",
    [
        "quay.io",
        "quay.io/ns",
        "quay.io/ns/repo",
        "localhost:5000",
        "localhost:5000/foo",
        "https://index.docker.io/v1/",
        "http://insecure.example.com",
        "docker.io/library",
        "*.example.com",
        "[::1]:5000",
        "registry.example.com:443/Team".lower(),
    ],
)
def test_validate_registry_key_accepts(key):
    assert ad.validate_registry_key(key) == key


@pytest.mark.parametrize(
    ("key", "needle"),
    [
        ("", "non-empty"),
        ("quay.io/ns/repo:tag", "not a tag"),
        ("quay.io/ns/repo@sha256:" + "a" * 64, "not a digest"),
        ("user@quay.io", "contains '@'"),
        ("quay.io/MyOrg", "upper-case"),
        ("ftp://quay.io", "only https:// or http://"),
        ("https://", "no registry host"),
        ("/ns", "no registry host"),
        ("quay.io /ns", "whitespace"),
        ("quay.io?x=1", "'?' or '#'"),
        ("quay.io//ns", "empty path component"),
    ],
)
def test_validate_registry_key_refuses(key, needle):
    with pytest.raises(InvalidInputError, match=needle):
        ad.validate_registry_key(key)


def test_validate_registry_key_refuses_non_strings():
    with pytest.raises(InvalidInputError):
        ad.validate_registry_key(None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("a", "b", "equivalent"),
    [
        ("https://index.docker.io/v1/", "docker.io", True),
        ("https://index.docker.io/v1/", "index.docker.io", True),
        ("registry-1.docker.io", "docker.io", True),
        ("docker.io/library", "index.docker.io/library", True),
        ("https://quay.io", "quay.io", True),
        ("http://quay.io/", "quay.io", True),
        ("https://quay.io/v2/", "quay.io", True),
        ("quay.io/v1/ns", "quay.io/ns", True),
        ("Quay.IO", "quay.io", True),
        ("quay.io/ns/", "quay.io/ns", True),
        ("https://quay.io/ns", "quay.io/ns", True),  # the kubelet keeps a scheme key's path
        ("quay.io/ns", "quay.io", False),  # path kept
        ("quay.io/ns", "quay.io/ns-other", False),
        ("quay.io:443", "quay.io", False),  # the kubelet wants equal ports
        ("quay.io/v2", "quay.io", False),  # only "/v2/" is the API path
        ("docker.io", "quay.io", False),
    ],
)
def test_registry_keys_equivalent(a, b, equivalent):
    assert ad.registry_keys_equivalent(a, b) is equivalent
    first, second = b, a
    assert ad.registry_keys_equivalent(first, second) is equivalent  # symmetric


# ---------------------------------------------------------------------------------------------------------------------
# Merge, remove, diff


BASE: dict[str, Any] = {
    "auths": {
        "cloud.openshift.com": {"auth": b64("telemetry:tok"), "email": "me@example.com"},
        "https://index.docker.io/v1/": {"auth": b64("hub:pw"), "x-unknown": {"keep": True}},
        "quay.io": {"auth": b64("q:pw")},
    },
    "credHelpers": {"gcr.io": "gcloud"},
}


def test_merge_adds_at_end_and_keeps_everything_else_in_place():
    entry = ad.entry_from_credentials(username="u", password="p")
    merged = ad.merge_entries(BASE, {"registry.example.com": entry})
    assert list(merged) == ["auths", "credHelpers"]
    assert list(merged["auths"]) == [*BASE["auths"], "registry.example.com"]
    assert merged["auths"]["cloud.openshift.com"] == BASE["auths"]["cloud.openshift.com"]
    assert merged["credHelpers"] == BASE["credHelpers"]
    assert BASE["auths"].get("registry.example.com") is None  # the input is not changed


def test_merge_replaces_an_equivalent_spelling_in_place():
    entry = {"auth": b64("new:pw")}
    merged = ad.merge_entries(BASE, {"docker.io": entry})
    assert list(merged["auths"]) == ["cloud.openshift.com", "docker.io", "quay.io"]
    assert merged["auths"]["docker.io"] == entry


def test_merge_drops_further_equivalent_spellings():
    document = {"auths": {"quay.io": {"auth": "a"}, "x.io": {}, "https://quay.io": {"auth": "b"}}}
    merged = ad.merge_entries(document, {"quay.io": {"auth": "c"}})
    assert merged["auths"] == {"quay.io": {"auth": "c"}, "x.io": {}}


def test_merge_creates_auths_when_missing():
    assert ad.merge_entries({"credsStore": "x"}, {"q": {"auth": "a"}}) == {
        "credsStore": "x",
        "auths": {"q": {"auth": "a"}},
    }
    assert ad.merge_entries({"auths": None}, {"q": {}}) == {"auths": {"q": {}}}


def test_merge_refuses_non_object_auths():
    with pytest.raises(InvalidInputError, match="auths field must be an object"):
        ad.merge_entries({"auths": []}, {"q": {}})


def test_remove_removes_every_equivalent_spelling_and_reports_it():
    document, removed = ad.remove_entries(BASE, ["docker.io", "nothing.example.com"])
    assert removed == ["https://index.docker.io/v1/"]
    assert list(document["auths"]) == ["cloud.openshift.com", "quay.io"]
    assert document["credHelpers"] == BASE["credHelpers"]


def test_remove_keeps_empty_auths_and_leaves_documents_without_auths_alone():
    document, removed = ad.remove_entries({"auths": {"q": {}}}, ["q"])
    assert (document, removed) == ({"auths": {}}, ["q"])
    assert ad.remove_entries({"credsStore": "x"}, ["q"]) == ({"credsStore": "x"}, [])


def test_diff_entries():
    after = ad.merge_entries(BASE, {"quay.io": {"auth": b64("q:new")}, "new.io": {"auth": b64("n:p")}})
    after, _removed = ad.remove_entries(after, ["cloud.openshift.com"])
    changes = ad.diff_entries(BASE, after)
    assert (changes.added, changes.updated, changes.removed) == (["new.io"], ["quay.io"], ["cloud.openshift.com"])
    assert changes.changed
    assert not ad.diff_entries(BASE, json.loads(json.dumps(BASE))).changed
    assert ad.diff_entries({}, {"auths": {"a": {}}}).added == ["a"]


# ---------------------------------------------------------------------------------------------------------------------
# Serialising and comparing


def test_dump_is_compact_ordered_and_go_escaped():
    document = {"b": "<&>\u2028", "a": {"z": 1, "y": [True, None, 1.5]}}
    assert ad.dump_document(document) == '{"b":"\\u003c\\u0026\\u003e\\u2028","a":{"z":1,"y":[true,null,1.5]}}'


def test_dump_refuses_what_json_cannot_hold():
    with pytest.raises(InvalidInputError):
        ad.dump_document({"x": float("nan")})
    with pytest.raises(InvalidInputError):
        ad.dump_document({"x": object()})


@pytest.mark.parametrize(
    ("a", "b", "equal"),
    [
        ({"a": 1, "b": [1, {"c": "d"}]}, {"b": [1, {"c": "d"}], "a": 1}, True),
        ({"a": 1}, {"a": True}, False),
        ({"a": 1}, {"a": 1.0}, False),
        ({"a": [1, 2]}, {"a": [2, 1]}, False),
        ({"a": [1]}, {"a": [1, 1]}, False),
        ({"a": {}}, {"a": []}, False),
        ({"a": None}, {}, False),
        ({"a": "x"}, {"a": "x"}, True),
    ],
)
def test_documents_equal(a, b, equal):
    assert ad.documents_equal(a, b) is equal


# ---------------------------------------------------------------------------------------------------------------------
# Redaction


def test_summary_holds_no_secret_and_identifies_credentials():
    document = {
        "auths": {
            "docker-style": ad.entry_from_credentials(username="robot", password=SECRET, email="r@example.com"),
            "podman-style": {"auth": b64(f"robot:{SECRET}")},
            "other-password": {"auth": b64("robot:S3cond-pw")},
            "token-only": {"identitytoken": SECRET},
            "fields-only": {"username": "u", "password": SECRET},
            "empty": {},
            "not-an-object": "x",
        }
    }
    summary = ad.summarize_document(document)
    text = json.dumps(summary)
    for secret in ad.document_secret_values(document):
        assert secret not in text
    assert summary["docker-style"]["username"] == "robot"
    assert summary["docker-style"]["email"] == "r@example.com"
    assert summary["podman-style"]["email"] is None
    assert summary["docker-style"]["fingerprint"] == summary["podman-style"]["fingerprint"]
    assert summary["other-password"]["fingerprint"] != summary["podman-style"]["fingerprint"]
    assert summary["token-only"]["username"] is None
    assert summary["fields-only"]["username"] == "u"
    assert len({value["fingerprint"] for value in summary.values()}) == len(summary) - 1  # docker- and podman-style
    assert all(len(value["fingerprint"] or "x" * 12) == 12 for value in summary.values())


def test_fingerprint_of_an_undecodable_auth_still_follows_the_value():
    one = ad.credential_fingerprint({"auth": "bm9jb2xvbg=="})
    assert one != ad.credential_fingerprint({"auth": "b3RoZXI="})
    assert one == ad.credential_fingerprint({"auth": "bm9jb2xvbg=="})


def test_document_secret_values_include_decoded_forms():
    document = {
        "auths": {
            "a": {"username": "u", "password": "pw1", "auth": b64("u:pw2")},
            "b": {"identitytoken": "tok", "registrytoken": "rtok", "auth": b64("u:p").rstrip("=")},
            "c": {"auth": "%%%"},
            "d": "not an entry",
        }
    }
    values = ad.document_secret_values(document)
    assert {"pw1", b64("u:pw2"), "u:pw2", "pw2", "tok", "rtok", "u:p", "p", "%%%"} <= values
    assert "u" not in values
    assert "" not in values
    assert ad.document_secret_values({"auths": []}) == set()


def test_document_warnings():
    warnings = ad.document_warnings(DOCKER_CONFIG)
    text = "\n".join(warnings)
    assert "credsStore and credHelpers" in text
    assert 'entry "quay.io" holds no credentials' in text
    assert 'entry "ghcr.io" holds only a token' in text
    assert not any("registry.example.com" in warning for warning in warnings)
    fields_only = ad.document_warnings({"auths": {"q": {"username": "u", "password": "p"}, "x": "y"}})
    assert fields_only == [
        'entry "q" has username/password but no auth: containers/image (CRI-O, podman) reads only '
        "auth, so it sees no credentials there"
    ]
    assert ad.document_warnings(PODMAN_AUTH) == []


# ---------------------------------------------------------------------------------------------------------------------
# The schema: jsonschema and the built-in validator agree


def test_schema_is_valid_draft_2020_12():
    Draft202012Validator.check_schema(ad.AUTH_DOCUMENT_SCHEMA)


JSON_LEAF = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text()
JSON_VALUE = st.recursive(
    JSON_LEAF,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(), children, max_size=3),
    max_leaves=8,
)
KNOWN_ENTRY_FIELDS = ["username", "password", "email", "auth", "identitytoken", "registrytoken"]
ENTRY = st.dictionaries(st.sampled_from(KNOWN_ENTRY_FIELDS) | st.text(max_size=5), JSON_VALUE, max_size=4) | JSON_VALUE
CORPUS = (
    st.fixed_dictionaries(
        {},
        optional={
            "auths": st.dictionaries(st.text(max_size=8), ENTRY, max_size=3) | JSON_VALUE,
            "credHelpers": st.dictionaries(st.text(max_size=5), JSON_VALUE, max_size=3) | JSON_VALUE,
            "credsStore": JSON_VALUE,
            "HttpHeaders": st.dictionaries(st.text(max_size=5), JSON_VALUE, max_size=2),
            "other": JSON_VALUE,
        },
    )
    | JSON_VALUE
)


def jsonschema_violations(document: Any, schema: dict[str, Any] | None = None) -> list[ad.SchemaViolation]:
    """jsonschema's answer, in the shape of ``ad.schema_violations``: the reference the modules' direct checks are
    held to (the modules never import jsonschema)."""
    schema = ad.AUTH_DOCUMENT_SCHEMA if schema is None else schema
    found: list[ad.SchemaViolation] = []
    for error in Draft202012Validator(schema).iter_errors(document):
        if error.validator == "required":
            # jsonschema names the missing field only inside its message
            missing = [name for name in error.validator_value if name not in error.instance]
            found.extend(ad.SchemaViolation(tuple(error.absolute_path), "required", n, "missing") for n in missing)
            continue
        if error.validator == "additionalProperties" and error.validator_value is False:
            known = error.schema.get("properties", {})
            found.extend(
                ad.SchemaViolation(
                    (*error.absolute_path, name), "additionalProperties", False, ad._json_type(error.instance[name])
                )
                for name in error.instance
                if name not in known
            )
            continue
        expected = error.validator_value
        found.append(
            ad.SchemaViolation(
                tuple(error.absolute_path),
                str(error.validator),
                tuple(expected) if isinstance(expected, list) else expected,
                ad._json_type(error.instance),
            )
        )
    return sorted(set(found), key=lambda v: ([str(p) for p in v.path], v.keyword, str(v.expected)))


@given(CORPUS)
def test_direct_checks_agree_with_jsonschema(document):
    assert ad.schema_violations(document) == jsonschema_violations(document)


SUBSET_SCHEMAS = [
    {"type": ["string", "null"]},
    {"type": "integer"},
    {"type": "number"},
    {"type": "array"},
    {"type": "boolean"},
    {"type": "object", "required": ["a", "b"], "additionalProperties": False, "properties": {"a": {"type": "string"}}},
    {"$defs": {"n": {"type": "number"}}, "type": "object", "additionalProperties": {"$ref": "#/$defs/n"}},
]


@given(schema=st.sampled_from(SUBSET_SCHEMAS), value=JSON_VALUE | st.dictionaries(st.sampled_from("abc"), JSON_VALUE))
def test_direct_checks_agree_on_every_keyword_they_implement(schema, value):
    assert ad.schema_violations(value, schema=schema) == jsonschema_violations(value, schema)


def test_direct_checks_refuse_keywords_they_do_not_implement():
    with pytest.raises(ValueError, match="does not implement"):
        ad.schema_violations({}, schema={"minProperties": 1})
    with pytest.raises(ValueError, match="only local"):
        ad.schema_violations({}, schema={"$ref": "http://x"})
    with pytest.raises(ValueError, match="unknown JSON Schema type"):
        ad.schema_violations({}, schema={"type": "date"})


def test_the_same_answer_with_or_without_jsonschema_installed(monkeypatch):
    real_import = builtins.__import__
    imported: list[str] = []

    def no_jsonschema(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "jsonschema" or name.startswith("jsonschema."):
            imported.append(name)
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    document = {"auths": {"q": {"password": 1}}, "credsStore": 2}
    with_it = ad.schema_violations(document)
    monkeypatch.setattr(builtins, "__import__", no_jsonschema)
    assert ad.schema_violations(document) == with_it
    with pytest.raises(InvalidInputError, match="password must be a string"):
        ad.load_auth_document({"auths": {"q": {"password": 1}}}, source="s")
    assert imported == []  # never even tried


# ---------------------------------------------------------------------------------------------------------------------
# Properties of parse/dump and merge/remove


REGISTRY_KEY = st.builds(
    lambda host, path: host + path,
    st.sampled_from(["quay.io", "docker.io", "r.example.com:5000", "localhost", "ghcr.io", "https://registry.io"]),
    st.sampled_from(["", "/ns", "/ns/app", "/other", "/ns-other"]),
)
CREDENTIAL_TEXT = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), min_size=1, max_size=12)
VALID_AUTH = st.builds(
    lambda user, password: base64.b64encode(f"{user}:{password}".encode()).decode(),
    CREDENTIAL_TEXT.filter(lambda text: ":" not in text),
    CREDENTIAL_TEXT,
)
VALID_ENTRY = st.fixed_dictionaries(
    {},
    optional={
        "username": st.text(max_size=8),
        "password": st.text(max_size=8),
        "email": st.text(max_size=8),
        "auth": VALID_AUTH,
        "identitytoken": st.text(max_size=8),
        "x-extra": JSON_VALUE,
    },
)
VALID_DOCUMENT = st.fixed_dictionaries(
    {"auths": st.dictionaries(REGISTRY_KEY, VALID_ENTRY, max_size=4)},
    optional={
        "credHelpers": st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=2),
        "credsStore": st.text(max_size=5),
        "x-top": JSON_VALUE,
    },
)


@given(VALID_DOCUMENT)
def test_parse_of_dump_is_identity(document):
    dumped = ad.dump_document(document)
    parsed = ad.load_auth_document(dumped, source="s")
    assert parsed == document
    assert ad.documents_equal(parsed, document)
    assert list(parsed) == list(document)
    assert list(parsed["auths"]) == list(document["auths"])
    assert ad.dump_document(parsed) == dumped


@given(VALID_DOCUMENT, st.dictionaries(REGISTRY_KEY, VALID_ENTRY, max_size=3))
def test_merge_never_loses_an_unrelated_entry_or_field(document, entries):
    merged = ad.merge_entries(document, entries)
    for key, value in document["auths"].items():
        if not any(ad.registry_keys_equivalent(key, new) for new in entries):
            assert merged["auths"][key] == value
    for key, value in document.items():
        if key != "auths":
            assert merged[key] == value
    for key, value in entries.items():
        assert merged["auths"][key] == value
    assert list(merged) == list(document)


@given(VALID_DOCUMENT, st.dictionaries(REGISTRY_KEY, VALID_ENTRY, min_size=1, max_size=3))
def test_remove_of_merge_restores_the_document(document, entries):
    assume(not any(ad.registry_keys_equivalent(a, b) for a in document["auths"] for b in entries))
    assume(not any(ad.registry_keys_equivalent(a, b) for a in entries for b in entries if a != b))
    merged = ad.merge_entries(document, entries)
    restored, removed = ad.remove_entries(merged, list(entries))
    assert restored == document
    assert list(restored["auths"]) == list(document["auths"])
    assert sorted(removed) == sorted(entries)


@given(VALID_DOCUMENT, st.dictionaries(REGISTRY_KEY, VALID_ENTRY, max_size=3))
def test_merge_is_idempotent(document, entries):
    once = ad.merge_entries(document, entries)
    assert ad.merge_entries(once, entries) == once
    assert not ad.diff_entries(once, ad.merge_entries(once, entries)).changed


@given(st.text(max_size=40))
def test_load_never_crashes_on_text(text):
    with contextlib.suppress(InvalidInputError):
        ad.load_auth_document(text, source="s")


@given(st.binary(max_size=40))
def test_load_never_crashes_on_bytes(data):
    with contextlib.suppress(InvalidInputError):
        ad.load_auth_document(data, source="s")


@given(st.text(max_size=30))
def test_auth_check_agrees_with_a_strict_decoder(auth):
    try:
        decoded = base64.b64decode(auth.encode("ascii"), validate=True)
        strict_ok = b":" in decoded and auth.isascii() and not any(c.isspace() for c in auth)
    except (ValueError, UnicodeEncodeError):
        strict_ok = False
    assert (ad._auth_problem(auth) is None) is strict_ok


def test_render_path():
    assert ad.render_path(()) == "the document"
    assert ad.render_path(("auths", "quay.io", "auth")) == 'auths["quay.io"].auth'
    assert ad.render_path(("x", 0, "y")) == "x[0].y"
    assert ad.render_path(("a b",)) == '["a b"]'


def _merge_one_pass_per_entry(document: dict[str, Any], entries: dict[str, Any]) -> dict[str, Any]:
    """The plain definition of merge_entries (one pass over the document per entry), to check the indexed one."""
    auths = dict(document.get("auths") or {})
    for key, entry in entries.items():
        merged: dict[str, Any] = {}
        placed = False
        for existing, value in auths.items():
            if ad.registry_keys_equivalent(existing, key):
                if not placed:
                    merged[key] = entry
                    placed = True
                continue
            merged[existing] = value
        if not placed:
            merged[key] = entry
        auths = merged
    return {**document, "auths": auths}


_SPELLINGS = st.sampled_from(
    [
        "docker.io",
        "index.docker.io",
        "https://index.docker.io/v1/",
        "quay.io",
        "https://quay.io",
        "quay.io/ns",
        "QUAY.io",
        "registry.example.com:5000",
        "http://registry.example.com:5000/",
        "r.example.com/a/b",
    ]
)


@settings(max_examples=300, deadline=None)
@given(
    existing=st.lists(st.tuples(_SPELLINGS, st.integers(0, 9)), max_size=8),
    added=st.lists(st.tuples(_SPELLINGS, st.integers(10, 19)), max_size=5),
)
def test_merge_entries_equals_its_plain_definition(
    existing: list[tuple[str, int]], added: list[tuple[str, int]]
) -> None:
    document = {"auths": {key: {"auth": str(n)} for key, n in existing}}
    entries = {key: {"auth": str(n)} for key, n in added}
    assert ad.merge_entries(document, entries) == _merge_one_pass_per_entry(document, entries)
    assert list(ad.merge_entries(document, entries)["auths"]) == list(
        _merge_one_pass_per_entry(document, entries)["auths"]
    )
