"""Unit tests of single entries: built byte for byte as kubectl builds them, read as the kubelet reads them, and
their ``auth`` encoded once and decoded only when a reader needs the user and password."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import InvalidInputError
from ansible_collections.openshift_ops.images.plugins.module_utils._registry.auth_document import dump_document
from ansible_collections.openshift_ops.images.plugins.module_utils._registry.auth_entries import (
    BasicAuth,
    decode_auth,
    entry_basic_auth,
    entry_basic_credentials,
    entry_from_auth,
    entry_from_credentials,
)
from ansible_collections.openshift_ops.images.tests.unit.support.encoding import b64, count_decodes

KUBECTL = shutil.which("kubectl") or "/usr/bin/kubectl"


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
    entry = entry_from_credentials(username=username, password=password, email=email)
    ours = dump_document({"auths": {server: entry}}).encode("utf-8")
    assert ours == kubectl_dockerconfigjson(server, username, password, email)


def test_kubectl_default_server_is_docker_hub_v1_key():
    entry = entry_from_credentials(username="u", password="p")
    ours = dump_document({"auths": {"https://index.docker.io/v1/": entry}}).encode()
    assert ours == kubectl_dockerconfigjson(None, "u", "p", None)


def test_entry_field_order_and_auth():
    entry = entry_from_credentials(username="u", password="p:q", email="e")
    assert list(entry) == ["username", "password", "email", "auth"]
    assert entry["auth"] == b64("u:p:q")
    assert list(entry_from_credentials(username="u", password="p")) == ["username", "password", "auth"]


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
    entry = entry_from_credentials(username=username, password=password, email=email)
    assert dump_document({"auths": {server: entry}}).encode() == kubectl_dockerconfigjson(
        server, username, password, email
    )


@pytest.mark.parametrize(
    ("username", "password", "needle"),
    [("", "pw-SECRET-9", "username is required"), ("u", "", "is empty"), ("a:b", "pw-SECRET-9", "contains ':'")],
)
def test_entry_from_credentials_refuses_what_no_reader_can_use(username, password, needle):
    with pytest.raises(InvalidInputError, match=needle) as caught:
        entry_from_credentials(username=username, password=password)
    assert "SECRET" not in str(caught.value)


def test_entry_from_auth():
    assert entry_from_auth(b64("u:p")) == {"auth": b64("u:p")}
    assert entry_from_auth(b64("u:p"), email="e") == {"email": "e", "auth": b64("u:p")}
    assert entry_from_auth(b64("u:p"), email="") == {"auth": b64("u:p")}


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
        entry_from_auth(auth)
    if auth.strip():
        assert auth.strip() not in str(caught.value)
    assert "unable to parse auth field" in str(caught.value)


def test_decode_auth_splits_at_first_colon():
    assert decode_auth(b64("u:p:a:ss")) == ("u", "p:a:ss")
    assert decode_auth(b64("u:")) == ("u", "")


@given(st.text(max_size=30))
def test_auth_check_agrees_with_a_strict_decoder(auth):
    try:
        decoded = base64.b64decode(auth.encode("ascii"), validate=True)
        strict_ok = b":" in decoded and auth.isascii() and not any(c.isspace() for c in auth)
    except (ValueError, UnicodeEncodeError):
        strict_ok = False
    try:
        decode_auth(auth)
        accepted = True
    except InvalidInputError:
        accepted = False
    assert accepted is strict_ok
    assert (entry_basic_credentials({"auth": auth}) is not None) is strict_ok


# ---------------------------------------------------------------------------------------------------------------------
# Reading an entry: one decode at most, none for an entry that carries its user and password


def test_reading_an_entry_decodes_its_auth_once(monkeypatch: pytest.MonkeyPatch) -> None:
    decoded = count_decodes(monkeypatch)
    assert entry_basic_credentials({"auth": b64("robot:pw")}) == ("robot", "pw")
    assert decoded == [b64("robot:pw")]


def test_an_entry_built_from_credentials_is_sent_as_it_is(monkeypatch: pytest.MonkeyPatch) -> None:
    entry = entry_from_credentials(username="robot", password="pa:ss")
    decoded = count_decodes(monkeypatch)
    assert entry_basic_auth(entry) == BasicAuth("robot", entry["auth"])
    assert decoded == []


def test_basic_auth_of_docker_podman_and_field_entries() -> None:
    # podman and docker write only auth: decoded to name the user, sent as it is
    assert entry_basic_auth({"auth": b64("robot:pw")}) == BasicAuth("robot", b64("robot:pw"))
    # fields without auth (the kubelet reads them; containers/image does not): encoded for the header
    assert entry_basic_auth({"username": "u", "password": "p"}) == BasicAuth("u", b64("u:p"))
    assert entry_basic_auth({"auth": "", "username": "u", "password": "p"}) == BasicAuth("u", b64("u:p"))
    assert entry_basic_auth({"auth": "bm9jb2xvbg=="}) is None  # no colon: the kubelet cannot use it
    assert entry_basic_auth({"identitytoken": "t"}) is None
    assert entry_basic_auth({}) is None
    assert "pw" not in repr(entry_basic_auth({"auth": b64("robot:pw")}))


def test_basic_auth_sends_the_bytes_of_auth_even_when_they_are_not_utf8() -> None:
    auth = base64.b64encode(b"robot:\xffpw").decode()
    assert entry_basic_auth({"auth": auth}) == BasicAuth("robot", auth)


@given(username=_ARG_TEXT.filter(lambda text: ":" not in text), password=_ARG_TEXT, email=st.none() | _ARG_TEXT)
def test_built_entries_read_back_as_given(username, password, email):
    entry = entry_from_credentials(username=username, password=password, email=email)
    assert entry_basic_credentials(entry) == (username, password)
    assert entry_basic_auth(entry) == BasicAuth(username, b64(f"{username}:{password}"))
    podman = entry_from_auth(entry["auth"])
    assert entry_basic_auth(podman) == entry_basic_auth(entry)
