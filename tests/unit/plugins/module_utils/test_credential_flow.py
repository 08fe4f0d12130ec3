"""The credential flow pull_secret and global_pull_secret share."""

from __future__ import annotations

from typing import Any, NamedTuple

import pytest

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import RegistryCheckError
from ansible_collections.openshift_ops.images.plugins.module_utils._registry.credential_flow import check_credentials
from ansible_collections.openshift_ops.images.plugins.module_utils._registry.credential_options import RegistryTls


class Check(NamedTuple):
    key: str
    ok: bool
    outcome: str
    detail: str


def test_check_credentials_reports_each_and_warns_about_the_unchecked() -> None:
    seen: list[Any] = []

    def check(entries: Any, *, ca_data: str | None, validate_certs: bool) -> list[Check]:
        seen.append((sorted(entries), ca_data, validate_certs))
        return [Check("quay.io", True, "accepted", "basic"), Check("*.example.com", False, "unchecked", "wildcard")]

    checks, warnings = check_credentials(
        {"quay.io": {}, "*.example.com": {}}, check=check, tls=RegistryTls(ca_data="PEM", validate_certs=False)
    )
    assert seen == [(["*.example.com", "quay.io"], "PEM", False)]
    assert checks[0] == {"registry": "quay.io", "ok": True, "outcome": "accepted", "detail": "basic"}
    assert warnings == ["validate_credentials: *.example.com: wildcard"]


def test_a_refused_credential_stops_everything() -> None:
    def check(entries: Any, **_options: Any) -> list[Check]:
        return [Check("quay.io", False, "rejected", "401 from https://quay.io/v2/")]

    with pytest.raises(RegistryCheckError, match=r"nothing was written:\n- quay\.io: 401"):
        check_credentials({"quay.io": {}}, check=check, tls=RegistryTls())
