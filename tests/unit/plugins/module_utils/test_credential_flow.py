"""The credential checks pull_secret and global_pull_secret share: each entry a run writes, checked once."""

from __future__ import annotations

import base64
from typing import Any, NamedTuple

import pytest

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import RegistryCheckError
from ansible_collections.openshift_ops.images.plugins.module_utils._registry.check import check_all
from ansible_collections.openshift_ops.images.plugins.module_utils._registry.credential_flow import CredentialChecks
from ansible_collections.openshift_ops.images.plugins.module_utils._registry.credential_options import (
    RegistryCredentials,
    RegistryTls,
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


def test_the_checks_report_each_and_warn_about_the_unchecked() -> None:
    seen: list[Any] = []

    def check(entries: Any, *, ca_data: str | None, validate_certs: bool) -> list[Check]:
        seen.append((sorted(entries), ca_data, validate_certs))
        return [Check("quay.io", True, "accepted", "basic"), Check("*.example.com", False, "unchecked", "wildcard")]

    checks = CredentialChecks(check=check, tls=RegistryTls(ca_data="PEM", validate_certs=False))
    checks.ensure_checked({"quay.io": {}, "*.example.com": {}})
    results, warnings = checks.report()
    assert seen == [(["*.example.com", "quay.io"], "PEM", False)]
    assert results[0] == {"registry": "quay.io", "ok": True, "outcome": "accepted", "detail": "basic"}
    assert warnings == ["validate_credentials: *.example.com: wildcard"]


def test_nothing_checked_reports_nothing() -> None:
    def check(entries: Any, **_options: Any) -> list[Check]:
        raise AssertionError(f"no registry may be asked, {sorted(entries)} were")

    checks = CredentialChecks(check=check, tls=RegistryTls())
    checks.ensure_checked({})
    assert checks.report() == ([], [])


def test_each_registry_key_is_checked_once_in_a_run() -> None:
    asked: list[list[str]] = []

    def check(entries: Any, **_options: Any) -> list[Check]:
        asked.append(list(entries))
        return [Check(key, True, "accepted", "basic") for key in entries]

    checks = CredentialChecks(check=check, tls=RegistryTls())
    checks.ensure_checked({"quay.io": {}})
    # a plan made again after a conflict writes quay.io and, now, registry.redhat.io
    checks.ensure_checked({"quay.io": {}, "registry.redhat.io": {}})
    checks.ensure_checked({"registry.redhat.io": {}})
    assert asked == [["quay.io"], ["registry.redhat.io"]]
    assert [result["registry"] for result in checks.report()[0]] == ["quay.io", "registry.redhat.io"]


def test_a_refused_credential_stops_everything() -> None:
    def check(entries: Any, **_options: Any) -> list[Check]:
        return [Check("quay.io", False, "rejected", "401 from https://quay.io/v2/")]

    with pytest.raises(RegistryCheckError, match=r"nothing was written:\n- quay\.io: 401"):
        CredentialChecks(check=check, tls=RegistryTls()).ensure_checked({"quay.io": {}})


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
        entries = RegistryCredentials.from_params(params).entries
        checks = CredentialChecks(check=check_all, tls=RegistryTls(validate_certs=False))
        checks.ensure_checked(entries)
        monkeypatch.undo()
    [result], _warnings = checks.report()
    assert result["outcome"] == "accepted", result["detail"]
    assert "user 'robot'" in result["detail"]
    assert registry.authorizations == [basic]
    assert encoded == [pair]
    assert decoded == []
