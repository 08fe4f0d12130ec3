"""The credential flow pull_secret and global_pull_secret share."""

from __future__ import annotations

import base64
from typing import Any, NamedTuple

import pytest

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import InvalidInputError, RegistryCheckError
from ansible_collections.openshift_ops.images.plugins.module_utils._registry.check import check_all
from ansible_collections.openshift_ops.images.plugins.module_utils._registry.credential_flow import (
    check_credentials,
    given_entries,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._registry.credential_options import (
    collect_registry_entries,
)
from ansible_collections.openshift_ops.images.tests.unit.support.registry_server import (
    RecordingRegistry,
    basic_auth_registry,
)


class Check(NamedTuple):
    key: str
    ok: bool
    outcome: str
    detail: str


def no_file(path: str) -> str:
    raise AssertionError(f"no file is read here: {path}")


def test_given_entries_are_hidden_before_anything_else() -> None:
    hidden: list[str] = []
    params = {"registries": [{"server": "quay.io", "username": "robot", "password": "r0bot-Passw0rd"}]}
    entries = given_entries(params, remove=["other.io"], read_text=no_file, hide=hidden.extend)
    assert list(entries) == ["quay.io"]
    assert "r0bot-Passw0rd" in hidden
    assert base64.b64encode(b"robot:r0bot-Passw0rd").decode() in hidden


def test_nothing_given_is_no_entries() -> None:
    assert given_entries({"registries": None}, remove=["quay.io"], read_text=no_file, hide=lambda v: None) == {}


def test_a_key_both_given_and_removed_is_refused_in_any_spelling() -> None:
    params = {"registries": [{"server": "quay.io", "username": "u", "password": "Passw0rd-x1"}]}
    with pytest.raises(InvalidInputError, match=r"https://quay\.io is both given with credentials and listed"):
        given_entries(params, remove=["https://quay.io"], read_text=no_file, hide=lambda v: None)


def test_check_credentials_reports_each_and_warns_about_the_unchecked() -> None:
    seen: list[Any] = []

    def check(entries: Any, *, ca_file: str | None, validate_certs: bool) -> list[Check]:
        seen.append((sorted(entries), ca_file, validate_certs))
        return [Check("quay.io", True, "accepted", "basic"), Check("*.example.com", False, "unchecked", "wildcard")]

    checks, warnings = check_credentials(
        {"quay.io": {}, "*.example.com": {}}, check=check, ca_file="/ca", validate_certs=False
    )
    assert seen == [(["*.example.com", "quay.io"], "/ca", False)]
    assert checks[0] == {"registry": "quay.io", "ok": True, "outcome": "accepted", "detail": "basic"}
    assert warnings == ["validate_credentials: *.example.com: wildcard"]


def test_a_refused_credential_stops_everything() -> None:
    def check(entries: Any, **_options: Any) -> list[Check]:
        return [Check("quay.io", False, "rejected", "401 from https://quay.io/v2/")]

    with pytest.raises(RegistryCheckError, match=r"nothing was written:\n- quay\.io: 401"):
        check_credentials({"quay.io": {}}, check=check, ca_file=None, validate_certs=True)


def test_a_password_from_the_options_is_encoded_once_and_checked_without_decoding(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The entry kubectl's way holds the password and auth = base64(user:password), which is also what a Basic header
    # carries: the check sends that auth as it is, with no decode and re-encode on the way.
    pair = b"robot:0ptions-Passw0rd"
    basic = "Basic " + base64.b64encode(pair).decode()
    encoded: list[bytes] = []
    decoded: list[object] = []
    real_encode, real_decode = base64.b64encode, base64.b64decode

    def recording_encode(value: bytes, *args: Any) -> bytes:
        encoded.append(value)
        return real_encode(value, *args)

    def recording_decode(value: Any, *args: Any, **kwargs: Any) -> bytes:
        decoded.append(value)
        return real_decode(value, *args, **kwargs)

    with RecordingRegistry(basic_auth_registry(basic)) as registry:
        monkeypatch.setattr(base64, "b64encode", recording_encode)
        monkeypatch.setattr(base64, "b64decode", recording_decode)
        params = {"registries": [{"server": registry.base, "username": "robot", "password": "0ptions-Passw0rd"}]}
        entries = collect_registry_entries(params, read_text=no_file)
        checks, _warnings = check_credentials(entries, check=check_all, ca_file=None, validate_certs=False)
        monkeypatch.undo()
    assert checks[0]["outcome"] == "accepted", checks[0]["detail"]
    assert "user 'robot'" in checks[0]["detail"]
    assert registry.authorizations == [basic]
    assert encoded == [pair]
    assert decoded == []
