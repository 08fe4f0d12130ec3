"""Unit tests of auth documents: loading and its checks, merge/remove/diff, kubectl's bytes, comparison, warnings."""

from __future__ import annotations

import base64
import contextlib
import json
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import InvalidInputError
from ansible_collections.openshift_ops.images.plugins.module_utils._registry import auth_document as ad
from ansible_collections.openshift_ops.images.plugins.module_utils._registry.auth_entries import (
    entry_basic_credentials,
    entry_from_credentials,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._registry.registry_keys import (
    registry_keys_equivalent,
)
from ansible_collections.openshift_ops.images.tests.unit.support.encoding import b64

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
    assert entry_basic_credentials(loaded["auths"]["q"]) == ("u", "p")


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
    entry = entry_from_credentials(username="u", password="p")
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


QUAY = {"username": "q", "password": "pw", "auth": b64("q:pw")}
REDHAT = {"username": "r", "password": "pw", "auth": b64("r:pw")}


@pytest.mark.parametrize(
    ("stored", "given", "written"),
    [
        pytest.param(None, {"quay.io": QUAY}, ["quay.io"], id="nothing-stored"),
        pytest.param({"auths": {"quay.io": QUAY}}, {"quay.io": QUAY}, [], id="stored-as-given"),
        pytest.param(
            {"auths": {"quay.io": dict(reversed(QUAY.items()))}}, {"quay.io": QUAY}, [], id="other-field-order"
        ),
        pytest.param(
            {"auths": {"quay.io": QUAY | {"password": "old", "auth": b64("q:old")}}},
            {"quay.io": QUAY},
            ["quay.io"],
            id="other-password",
        ),
        pytest.param(
            {"auths": {"quay.io": QUAY | {"email": "q@example.com"}}},
            {"quay.io": QUAY},
            ["quay.io"],
            id="stored-with-a-field-more",
        ),
        pytest.param(
            {"auths": {"quay.io": QUAY}},
            {"quay.io": QUAY, "registry.redhat.io": REDHAT},
            ["registry.redhat.io"],
            id="one-new-among-stored",
        ),
        pytest.param({"auths": {"https://quay.io": QUAY}}, {"quay.io": QUAY}, ["quay.io"], id="another-spelling"),
        pytest.param({"credsStore": "desktop"}, {"quay.io": QUAY}, ["quay.io"], id="no-auths"),
        pytest.param({"auths": {"quay.io": QUAY}}, {}, [], id="nothing-given"),
    ],
)
def test_entries_written_are_the_given_ones_not_stored_as_they_would_be_written(
    stored: dict[str, Any] | None, given: dict[str, Any], written: list[str]
) -> None:
    after = ad.merge_entries(stored or {"auths": {}}, given)
    assert list(ad.entries_written(given, stored, after)) == written


def test_an_entry_the_new_document_does_not_hold_is_not_written() -> None:
    assert ad.entries_written({"quay.io": QUAY}, None, {"auths": {}}) == {}


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
# What readers will not use as it seems


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
# Field types: the direct checks give the answer of the format's JSON Schema

KNOWN_ENTRY_FIELDS = ["username", "password", "email", "auth", "identitytoken", "registrytoken"]
_STRING = {"type": "string"}
_STRING_MAP = {"type": "object", "additionalProperties": _STRING}
# The reference the direct checks are held to (the modules never import jsonschema): known fields have these types,
# every other field is allowed.
REFERENCE_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "auths": {
            "type": "object",
            "additionalProperties": {"type": "object", "properties": dict.fromkeys(KNOWN_ENTRY_FIELDS, _STRING)},
        },
        "credHelpers": _STRING_MAP,
        "credsStore": _STRING,
        "HttpHeaders": _STRING_MAP,
    },
}
JSON_TYPES = {
    type(None): "null",
    dict: "object",
    list: "array",
    str: "string",
    bool: "boolean",
    int: "integer",
    float: "number",
}
LAYOUT = (
    'a docker config.json or podman auth.json has the layout: {"auths": {"<registry>": {"auth": "<base64 of '
    'user:password>"}}}'
)


def jsonschema_message(document: dict[str, Any], source: str) -> str | None:
    """The message load_auth_document must give for ``document``'s type errors, built from jsonschema's answer."""
    errors = sorted(Draft202012Validator(REFERENCE_SCHEMA).iter_errors(document), key=lambda e: list(e.absolute_path))
    if not errors:
        return None
    problems = [
        f"{ad.render_path(error.absolute_path)} must be {'an' if error.validator_value == 'object' else 'a'} "
        f"{error.validator_value}, not {JSON_TYPES[type(error.instance)]}"
        for error in errors
    ]
    more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
    return f"{source} is not a valid auth document: {'; '.join(problems[:5])}{more}; {LAYOUT}"


JSON_LEAF = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text()
JSON_VALUE = st.recursive(
    JSON_LEAF,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(), children, max_size=3),
    max_leaves=8,
)
ENTRY = st.dictionaries(st.sampled_from(KNOWN_ENTRY_FIELDS) | st.text(max_size=5), JSON_VALUE, max_size=4) | JSON_VALUE
CORPUS = st.fixed_dictionaries(
    {},
    optional={
        "auths": st.dictionaries(st.text(max_size=8), ENTRY, max_size=5) | JSON_VALUE,
        "credHelpers": st.dictionaries(st.text(max_size=5), JSON_VALUE, max_size=3) | JSON_VALUE,
        "credsStore": JSON_VALUE,
        "HttpHeaders": st.dictionaries(st.text(max_size=5), JSON_VALUE, max_size=2) | JSON_VALUE,
        "other": JSON_VALUE,
    },
)


def test_the_reference_schema_is_valid_draft_2020_12():
    Draft202012Validator.check_schema(REFERENCE_SCHEMA)


@given(CORPUS)
def test_type_checks_agree_with_the_json_schema(document):
    expected = jsonschema_message(document, "s")
    try:
        ad.load_auth_document(document, source="s", check_auth=False)
    except InvalidInputError as error:
        if expected is not None or "is not a valid auth document" in str(error):
            assert str(error) == expected
    else:
        assert expected is None


def test_type_problems_come_in_path_order_five_at_most():
    document = {
        "credsStore": 3,
        "auths": {"b.io": {"password": None, "auth": 1.5}, "a.io": [], "c.io": "x"},
        "credHelpers": {"gcr.io": True},
        "HttpHeaders": {"X": {}},
    }
    with pytest.raises(InvalidInputError) as caught:
        ad.load_auth_document(document, source="auth_content")
    assert str(caught.value) == (
        "auth_content is not a valid auth document: HttpHeaders.X must be a string, not object; "
        'auths["a.io"] must be an object, not array; auths["b.io"].auth must be a string, not number; '
        'auths["b.io"].password must be a string, not null; auths["c.io"] must be an object, not string '
        f"(and 2 more); {LAYOUT}"
    )


def test_a_container_of_the_wrong_type_is_one_problem():
    with pytest.raises(InvalidInputError) as caught:
        ad.load_auth_document(
            {"auths": {"quay.io": {"username": 7}}, "HttpHeaders": [], "credHelpers": None}, source="s"
        )
    assert str(caught.value) == (
        "s is not a valid auth document: HttpHeaders must be an object, not array; "
        'auths["quay.io"].username must be a string, not integer; credHelpers must be an object, not null; '
        f"{LAYOUT}"
    )


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
        if not any(registry_keys_equivalent(key, new) for new in entries):
            assert merged["auths"][key] == value
    for key, value in document.items():
        if key != "auths":
            assert merged[key] == value
    for key, value in entries.items():
        assert merged["auths"][key] == value
    assert list(merged) == list(document)


@given(VALID_DOCUMENT, st.dictionaries(REGISTRY_KEY, VALID_ENTRY, min_size=1, max_size=3))
def test_remove_of_merge_restores_the_document(document, entries):
    assume(not any(registry_keys_equivalent(a, b) for a in document["auths"] for b in entries))
    assume(not any(registry_keys_equivalent(a, b) for a in entries for b in entries if a != b))
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
            if registry_keys_equivalent(existing, key):
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
