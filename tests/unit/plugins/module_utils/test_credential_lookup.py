"""Unit tests of credential lookup: the kubelet's keyring (§3.4) and containers/image's auth.json rules (§7)."""

from __future__ import annotations

import base64
import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import InvalidInputError
from ansible_collections.openshift_ops.images.plugins.module_utils._registry import credential_lookup as cl

AUTH = base64.b64encode(b"u:p").decode()


def doc(*keys: str, **extra) -> dict:
    return {"auths": {key: {"auth": AUTH} for key in keys}, **extra}


# --- §3.4: the kubelet ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "index"),
    [
        ("https://index.docker.io/v1/", "index.docker.io"),
        ("http://quay.io", "quay.io"),
        ("quay.io", "quay.io"),
        ("quay.io/", "quay.io"),
        ("quay.io/ns", "quay.io/ns"),
        ("https://quay.io/ns/app", "quay.io/ns/app"),  # the kubelet keeps a scheme key's path
        ("https://r.io/v2/", "r.io"),
        ("r.io/v1/ns", "r.io/ns"),
        ("r.io/v2", "r.io/v2"),  # only "/v2/" is stripped
        ("r.io:5000/ns/", "r.io:5000/ns/"),
        ("https://user@r.io/ns", "r.io/ns"),  # userinfo is not part of Go's URL host
        ("r.io/ns?q=1#f", "r.io/ns"),
        ("bad host", None),  # Go's url.Parse refuses it: the kubelet ignores the entry
        ("r%zz.io", None),
    ],
)
def test_kubelet_key(key, index):
    assert cl.kubelet_key(key) == index


@pytest.mark.parametrize(
    ("key", "image", "matches"),
    [
        ("quay.io", "quay.io/ns/img", True),
        ("quay.io/ns", "quay.io/ns/img", True),
        ("quay.io/ns", "quay.io/ns-other/img", True),  # plain string prefix, not by segment
        ("quay.io/ns/img", "quay.io/ns/img", True),
        ("quay.io/ns/img2", "quay.io/ns/img", False),
        ("quay.io/other", "quay.io/ns/img", False),
        ("*.example.com", "a.example.com/x", True),  # each host label a glob
        ("*.example.com", "a.b.example.com/x", False),  # label counts must be equal
        ("*.example.com", "example.com/x", False),
        ("*.*.com", "a.b.com/x", True),
        ("reg?.example.com", "reg1.example.com/x", True),
        ("reg[0-9].example.com", "rega.example.com/x", False),
        ("r.io:5000", "r.io:5000/x", True),  # ports must be equal
        ("r.io:5000", "r.io/x", False),
        ("r.io", "r.io:5000/x", False),
        ("*.io:5000", "r.io:5000/x", True),
        ("docker.io", "docker.io/library/nginx", True),
        ("index.docker.io", "docker.io/library/nginx", False),  # different label count: fallback only
        ("[::1]:5000", "[::1]:5000/x", True),
        ("Quay.io", "quay.io/x", False),  # case-sensitive
    ],
)
def test_kubelet_key_matches(key, image, matches):
    assert cl.kubelet_key_matches(key, image) is matches


@pytest.mark.parametrize(
    ("keys", "image", "expected"),
    [
        # every match, most specific first (reverse-sorted index)
        (["quay.io", "quay.io/ns", "quay.io/ns/app"], "quay.io/ns/app:v1", ["quay.io/ns/app", "quay.io/ns", "quay.io"]),
        (["quay.io/ns", "quay.io/ns-other"], "quay.io/ns-other/img", ["quay.io/ns-other", "quay.io/ns"]),
        (["quay.io/ns"], "quay.io/ns-other/img", ["quay.io/ns"]),
        (["quay.io/ns"], "quay.io/other/img", []),
        (["*.example.com", "a.example.com"], "a.example.com/x", ["a.example.com", "*.example.com"]),
        # Docker Hub: the image is normalised to docker.io/library/x
        (["docker.io"], "nginx", ["docker.io"]),
        (["https://index.docker.io/v1/"], "nginx", ["https://index.docker.io/v1/"]),
        (["index.docker.io"], "library/nginx:1.25", ["index.docker.io"]),
        (["index.docker.io"], "index.docker.io/library/nginx", ["index.docker.io"]),
        # index.docker.io is used only when nothing else matched
        (["https://index.docker.io/v1/", "docker.io"], "nginx", ["docker.io"]),
        (["https://index.docker.io/v1/", "docker.io/library"], "nginx", ["docker.io/library"]),
        (["https://index.docker.io/v1/", "docker.io/other"], "nginx", ["https://index.docker.io/v1/"]),
        (["registry-1.docker.io"], "nginx", []),
        (["index.docker.io/library"], "nginx", []),
        (["index.docker.io"], "quay.io/x", []),
        # spellings of one index are all returned; their order is not fixed in the kubelet (document order here)
        (["https://quay.io", "quay.io"], "quay.io/x", ["https://quay.io", "quay.io"]),
        (["r.io:5000"], "r.io:5000/x@sha256:" + "a" * 64, ["r.io:5000"]),
        (["localhost:5000/ns"], "localhost:5000/ns/app", ["localhost:5000/ns"]),
        (["bad host"], "quay.io/x", []),
    ],
)
def test_kubelet_credentials_for(keys, image, expected):
    assert cl.kubelet_credentials_for(doc(*keys), image) == expected


def test_kubelet_credentials_for_refuses_an_image_the_kubelet_cannot_parse():
    with pytest.raises(InvalidInputError):
        cl.kubelet_credentials_for(doc("quay.io"), "quay.io/UPPER/x")
    assert cl.kubelet_credentials_for({"auths": "broken"}, "nginx") == []


@pytest.mark.parametrize(
    ("pattern", "name", "matches"),
    [
        ("*", "anything", True),
        ("a?c", "abc", True),
        ("a?c", "ac", False),
        ("[a-c]x", "bx", True),
        ("[^a-c]x", "bx", False),
        ("[^a-c]x", "dx", True),
        ("\\*", "*", True),
        ("\\*", "a", False),
        ("[", "[", False),  # malformed: Go's ErrBadPattern, no match
        ("a\\", "a", False),
        ("[]", "x", False),
        ("[a-]", "a", False),
        ("[\\]]", "]", True),
        ("[\\", "x", False),
        ("a.b", "axb", False),
    ],
)
def test_go_glob(pattern, name, matches):
    assert cl._glob_match(pattern, name) is matches


@pytest.mark.parametrize(
    ("hostport", "split"),
    [
        ("quay.io", ("quay.io", "")),
        ("quay.io:5000", ("quay.io", "5000")),
        ("quay.io:", ("quay.io", "")),
        ("[::1]:5000", ("::1", "5000")),
        ("[::1]", ("[::1]", "")),
        ("[::1", ("[::1", "")),
        ("a:b:c", ("a:b:c", "")),
    ],
)
def test_split_host_port(hostport, split):
    assert cl._split_host_port(hostport) == split


# --- §7: containers/image -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "image", "key", "helper", "usable"),
    [
        # exact keys, most to least specific by path segment
        (
            doc("reg.io", "reg.io/ns", "reg.io/ns/sub", "reg.io/ns/sub/repo"),
            "reg.io/ns/sub/repo",
            "reg.io/ns/sub/repo",
            None,
            True,
        ),
        (doc("reg.io", "reg.io/ns", "reg.io/ns/sub"), "reg.io/ns/sub/repo:tag", "reg.io/ns/sub", None, True),
        (doc("reg.io", "reg.io/ns"), "reg.io/ns/sub/repo", "reg.io/ns", None, True),
        (doc("reg.io"), "reg.io/ns/sub/repo", "reg.io", None, True),
        # segment matching: quay.io/ns does not apply to quay.io/ns-other
        (doc("quay.io/ns"), "quay.io/ns-other/img", None, None, False),
        (doc("quay.io/ns", "quay.io"), "quay.io/ns-other/img", "quay.io", None, True),
        # credHelpers first (registry-wide)
        (doc("quay.io/ns", credHelpers={"quay.io": "secretservice"}), "quay.io/ns/x", None, "secretservice", True),
        (doc("quay.io", credHelpers={"gcr.io": "gcloud"}), "quay.io/x", "quay.io", None, True),
        # normalised fallback: scheme stripped and cut at the first "/"; Docker Hub names as index.docker.io
        (doc("https://index.docker.io/v1/"), "nginx", "https://index.docker.io/v1/", None, True),
        (doc("index.docker.io"), "nginx", "index.docker.io", None, True),
        (doc("registry-1.docker.io"), "nginx", "registry-1.docker.io", None, True),
        (doc("docker.io"), "busybox:1.36", "docker.io", None, True),
        (doc("docker.io/library"), "nginx", "docker.io/library", None, True),
        (doc("index.docker.io/library"), "nginx", None, None, False),  # path-scoped Docker Hub must be docker.io/<ns>
        (doc("https://quay.io/ns"), "quay.io/other/img", "https://quay.io/ns", None, True),  # scheme key: registry-wide
        (doc("http://quay.io"), "quay.io/x", "http://quay.io", None, True),
        (doc("quay.io/"), "quay.io/x", None, None, False),  # no scheme: not normalised, never equal
        # an entry without usable credentials still stops the search (shadowing)
        ({"auths": {"quay.io/ns": {}, "quay.io": {"auth": AUTH}}}, "quay.io/ns/x", "quay.io/ns", None, False),
        ({"auths": {"quay.io/ns": {"auth": ""}, "quay.io": {"auth": AUTH}}}, "quay.io/ns/x", "quay.io/ns", None, False),
        ({"auths": {"q.io": {"auth": base64.b64encode(b"nocolon").decode()}}}, "q.io/x", "q.io", None, False),
        ({"auths": {"q.io": {"auth": "%%"}}}, "q.io/x", "q.io", None, False),
        ({"auths": {"q.io": "not-an-entry"}}, "q.io/x", "q.io", None, False),
        ({"auths": {"q.io": {"username": "u", "password": "p"}}}, "q.io/x", "q.io", None, False),  # fields not read
        ({}, "q.io/x", None, None, False),
    ],
)
def test_containers_image_lookup(document, image, key, helper, usable):
    assert cl.containers_image_lookup(document, image) == cl.ContainersImageLookup(
        key=key, helper=helper, usable=usable
    )
    assert cl.containers_image_credential_for(document, image) == key


# --- keys the two read differently -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("keys", "needles"),
    [
        (["quay.io", "docker.io", "https://index.docker.io/v1/x".replace("/x", "/")], ["name the same registry"]),
        (["*.example.com"], ["wildcard host", "containers/image (CRI-O, podman) never uses it"]),
        (["https://quay.io/ns"], ["has a scheme and a path", 'write "quay.io/ns" (scoped) or "quay.io"']),
        (["quay.io/ns"], ["path-scoped", "quay.io/ns-other/", "whole path components"]),
        (["quay.io/ns/"], ['ends with "/"', 'write "quay.io/ns"']),
        (["index.docker.io/ns"], ['write "docker.io/ns"']),
        (["registry-1.docker.io"], ["the kubelet never uses registry-1.docker.io", 'write "docker.io"']),
        (["index.docker.io/v1/"], ["drops the API path", 'write "index.docker.io"']),
        (["Quay.io"], ['write "quay.io"']),
        (["quay.io", "https://quay.io"], ['keys "quay.io" and "https://quay.io" name the same registry']),
    ],
)
def test_key_reading_warnings(keys, needles):
    text = "\n".join(cl.key_reading_warnings(keys))
    for needle in needles:
        assert needle in text


@pytest.mark.parametrize(
    "keys",
    [
        ["quay.io", "registry.redhat.io", "cloud.openshift.com", "registry.connect.redhat.com"],
        ["https://index.docker.io/v1/", "localhost:5000", "[::1]:5000", "https://quay.io/", "quay.io:443"],
    ],
)
def test_no_warning_for_keys_both_read_alike(keys):
    assert cl.key_reading_warnings(keys) == []


def test_warnings_accept_an_auths_mapping():
    assert cl.key_reading_warnings({"*.x.io": {}}) == cl.key_reading_warnings(["*.x.io"])


# --- properties -----------------------------------------------------------------------------------------------------

HOSTS = st.sampled_from(["quay.io", "docker.io", "index.docker.io", "r.io:5000", "*.example.com", "a.example.com"])
PATHS = st.sampled_from(["", "/ns", "/ns/app", "/ns-other", "/library", "/"])
SCHEMES = st.sampled_from(["", "https://", "http://"])
KEYS = st.builds(lambda scheme, host, path: scheme + host + path, SCHEMES, HOSTS, PATHS)
IMAGES = st.builds(
    lambda host, path, tag: f"{host}{path}{tag}",
    st.sampled_from(["quay.io", "docker.io", "r.io:5000", "a.example.com", "localhost"]),
    st.sampled_from(["/ns/app", "/ns-other/x", "/library/nginx", "/x"]),
    st.sampled_from(["", ":latest", ":1.0"]),
) | st.sampled_from(["nginx", "library/busybox:1", "ns/app"])


@given(st.lists(KEYS, max_size=6, unique=True), IMAGES)
def test_kubelet_order_is_most_specific_first_and_only_document_keys(keys, image):
    document = doc(*keys)
    found = cl.kubelet_credentials_for(document, image)
    assert set(found) <= set(keys)
    assert len(found) == len(set(found))
    indexes = [cl.kubelet_key(key) or "" for key in found]
    assert indexes == sorted(indexes, reverse=True) or set(indexes) == {"index.docker.io"}


@given(st.lists(KEYS, max_size=6, unique=True), IMAGES)
def test_containers_image_picks_a_document_key_or_nothing(keys, image):
    found = cl.containers_image_credential_for(doc(*keys), image)
    assert found is None or found in keys


@given(st.text(max_size=30))
def test_lookup_never_crashes_on_any_image_string(image):
    for lookup in (cl.kubelet_credentials_for, cl.containers_image_credential_for):
        with contextlib.suppress(InvalidInputError):
            lookup(doc("quay.io", "*.x.io", "docker.io/library"), image)


@given(st.text(max_size=20))
def test_warnings_never_crash(key):
    assert isinstance(cl.key_reading_warnings([key]), list)
