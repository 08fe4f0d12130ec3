"""Unit tests of redaction: summaries that identify credentials without showing them, and every secret value of a
document to hide."""

from __future__ import annotations

import json

import pytest

from ansible_collections.openshift_ops.images.plugins.module_utils._registry import redaction
from ansible_collections.openshift_ops.images.plugins.module_utils._registry.auth_entries import entry_from_credentials
from ansible_collections.openshift_ops.images.plugins.module_utils._registry.redaction import (
    credential_fingerprint,
    document_secret_values,
    entry_username,
    registry_usernames,
    summarize_document,
)
from ansible_collections.openshift_ops.images.tests.unit.support.encoding import b64, count_decodes

SECRET = "hunter2-SECRET-VALUE"


def test_summary_holds_no_secret_and_identifies_credentials():
    document = {
        "auths": {
            "docker-style": entry_from_credentials(username="robot", password=SECRET, email="r@example.com"),
            "podman-style": {"auth": b64(f"robot:{SECRET}")},
            "other-password": {"auth": b64("robot:S3cond-pw")},
            "token-only": {"identitytoken": SECRET},
            "fields-only": {"username": "u", "password": SECRET},
            "empty": {},
            "not-an-object": "x",
        }
    }
    summary = summarize_document(document)
    text = json.dumps(summary)
    for secret in document_secret_values(document):
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
    one = credential_fingerprint({"auth": "bm9jb2xvbg=="})
    assert one != credential_fingerprint({"auth": "b3RoZXI="})
    assert one == credential_fingerprint({"auth": "bm9jb2xvbg=="})


def test_document_secret_values_include_decoded_forms():
    document = {
        "auths": {
            "a": {"username": "u", "password": "pw1", "auth": b64("u:pw2")},
            "b": {"identitytoken": "tok", "registrytoken": "rtok", "auth": b64("u:p").rstrip("=")},
            "c": {"auth": "%%%"},
            "d": "not an entry",
        }
    }
    values = document_secret_values(document)
    assert {"pw1", b64("u:pw2"), "u:pw2", "pw2", "tok", "rtok", "u:p", "p", "%%%"} <= values
    assert "u" not in values
    assert "" not in values
    assert document_secret_values({"auths": []}) == set()


def test_usernames_come_from_auth_first():
    document = {"auths": {"a": {"auth": b64("from-auth:p"), "username": "field"}, "b": {"username": "u"}, "c": 1}}
    assert registry_usernames(document) == {"a": "from-auth", "b": "u", "c": None}
    assert entry_username("not an entry") is None


def test_a_summary_decodes_each_auth_once(monkeypatch: pytest.MonkeyPatch) -> None:
    decoded = count_decodes(monkeypatch)
    monkeypatch.setattr(redaction, "_fingerprint", lambda material: "f" * 12)
    summarize_document({"auths": {"q": {"auth": b64("u:p")}}})
    assert decoded == [b64("u:p")]
