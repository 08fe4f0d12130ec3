"""The registry credential check against the sandbox's real registries: a docker-registry with htpasswd (Basic
challenge) and one behind a token service (Bearer challenge), both on TLS with the sandbox CA. Also: a document
built by the auth core is read by a real containers/image client (skopeo)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from ansible_collections.openshift_ops.images.plugins.module_utils._registry.auth_document import dump_document
from ansible_collections.openshift_ops.images.plugins.module_utils._registry.auth_entries import (
    entry_from_auth,
    entry_from_credentials,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._registry.check import (
    ACCEPTED,
    REJECTED,
    UNCHECKED,
    UNREACHABLE,
    check_all,
    check_registry_credentials,
)
from ansible_collections.openshift_ops.images.tests.unit.support.ports import closed_port

from .sandbox_support import Sandbox, skopeo_inspect

WRONG_PASSWORD = "wrong-Pa55word-for-the-test"
TEST_IMAGE = "sandbox/hello"


def registry_ca_data(sandbox: Sandbox) -> str:
    return Path(sandbox.registry_ca).read_text(encoding="utf-8")


def good_entry(sandbox: Sandbox) -> dict[str, str]:
    return entry_from_credentials(username=sandbox.registry_user, password=sandbox.registry_password)


def bad_entry(sandbox: Sandbox) -> dict[str, str]:
    return entry_from_credentials(username=sandbox.registry_user, password=WRONG_PASSWORD)


def assert_no_secret(result, sandbox: Sandbox) -> None:
    for secret in (sandbox.registry_password, WRONG_PASSWORD):
        assert secret not in result.detail
        assert secret not in repr(result)
        assert base64.b64encode(f"{sandbox.registry_user}:{secret}".encode()).decode() not in result.detail


@pytest.fixture(params=["registry", "token_registry"])
def registry(request: pytest.FixtureRequest, sandbox: Sandbox) -> str:
    return getattr(sandbox, request.param)


def test_right_password_is_accepted(sandbox: Sandbox, registry: str) -> None:
    result = check_registry_credentials(registry, good_entry(sandbox), ca_data=registry_ca_data(sandbox))
    assert (result.ok, result.outcome) == (True, ACCEPTED), result.detail
    assert result.key == registry
    assert repr(sandbox.registry_user) in result.detail
    assert_no_secret(result, sandbox)


def test_wrong_password_is_rejected(sandbox: Sandbox, registry: str) -> None:
    result = check_registry_credentials(registry, bad_entry(sandbox), ca_data=registry_ca_data(sandbox))
    assert (result.ok, result.outcome) == (False, REJECTED), result.detail
    assert "rejected" in result.detail
    assert "401" in result.detail
    assert_no_secret(result, sandbox)


def test_basic_registry_says_basic_and_token_registry_says_token(sandbox: Sandbox) -> None:
    basic = check_registry_credentials(sandbox.registry, good_entry(sandbox), ca_data=registry_ca_data(sandbox))
    token = check_registry_credentials(sandbox.token_registry, good_entry(sandbox), ca_data=registry_ca_data(sandbox))
    assert "basic auth" in basic.detail
    assert "token service" in token.detail
    assert "/token" in token.detail


def test_podman_style_entry_and_scheme_key(sandbox: Sandbox, registry: str) -> None:
    auth = base64.b64encode(f"{sandbox.registry_user}:{sandbox.registry_password}".encode()).decode()
    result = check_registry_credentials(f"https://{registry}", entry_from_auth(auth), ca_data=registry_ca_data(sandbox))
    assert result.ok, result.detail


def test_path_scoped_key_asks_the_token_service_for_a_pull_scope(sandbox: Sandbox) -> None:
    key = f"{sandbox.token_registry}/{TEST_IMAGE}"
    good = check_registry_credentials(key, good_entry(sandbox), ca_data=registry_ca_data(sandbox))
    assert (good.ok, good.outcome) == (True, ACCEPTED), good.detail
    assert f"repository:{TEST_IMAGE}:pull" in good.detail
    bad = check_registry_credentials(key, bad_entry(sandbox), ca_data=registry_ca_data(sandbox))
    assert (bad.ok, bad.outcome) == (False, REJECTED), bad.detail
    assert f"repository:{TEST_IMAGE}:pull" in bad.detail


def test_path_scoped_key_on_the_basic_registry(sandbox: Sandbox) -> None:
    key = f"{sandbox.registry}/{TEST_IMAGE}"
    assert check_registry_credentials(key, good_entry(sandbox), ca_data=registry_ca_data(sandbox)).ok
    assert not check_registry_credentials(key, bad_entry(sandbox), ca_data=registry_ca_data(sandbox)).ok


def test_a_port_nobody_listens_on_is_a_clear_failure(sandbox: Sandbox) -> None:
    key = f"127.0.0.1:{closed_port()}"
    result = check_registry_credentials(key, good_entry(sandbox), ca_data=registry_ca_data(sandbox), timeout=5)
    assert (result.ok, result.outcome) == (False, UNREACHABLE)
    assert f"https://{key}" in result.detail
    assert "refused" in result.detail
    assert_no_secret(result, sandbox)


def test_untrusted_certificate_is_reported_and_validate_certs_false_gets_through(sandbox: Sandbox) -> None:
    strict = check_registry_credentials(sandbox.registry, good_entry(sandbox))  # system CAs only
    assert (strict.ok, strict.outcome) == (False, UNREACHABLE)
    assert "not trusted" in strict.detail
    assert "registry_ca_cert" in strict.detail
    assert "registry_validate_certs" in strict.detail
    relaxed = check_registry_credentials(sandbox.registry, good_entry(sandbox), validate_certs=False)
    assert relaxed.ok, relaxed.detail


def test_plain_http_key_against_a_tls_registry_fails_clearly(sandbox: Sandbox) -> None:
    result = check_registry_credentials(f"http://{sandbox.registry}", good_entry(sandbox), timeout=5)
    assert not result.ok
    assert result.outcome in (UNREACHABLE, "error"), result.detail
    assert f"http://{sandbox.registry}" in result.detail
    assert "HTTPS" in result.detail


def test_identity_token_only_entry_is_reported_as_unchecked(sandbox: Sandbox) -> None:
    # The sandbox token service, like many, has no OAuth2 refresh-token grant: the check must say so, not guess.
    result = check_registry_credentials(
        sandbox.token_registry, {"identitytoken": "not-a-real-refresh-token"}, ca_data=registry_ca_data(sandbox)
    )
    assert (result.ok, result.outcome) == (False, UNCHECKED), result.detail
    assert "identity tokens" in result.detail
    assert "not-a-real-refresh-token" not in result.detail
    basic = check_registry_credentials(sandbox.registry, {"identitytoken": "x"}, ca_data=registry_ca_data(sandbox))
    assert (basic.ok, basic.outcome) == (False, UNCHECKED), basic.detail


def test_check_all_reports_every_registry_in_order(sandbox: Sandbox) -> None:
    entries = {
        sandbox.registry: good_entry(sandbox),
        sandbox.token_registry: bad_entry(sandbox),
        f"127.0.0.1:{closed_port()}": good_entry(sandbox),
        "*.example.com": good_entry(sandbox),
    }
    results = check_all(entries, ca_data=registry_ca_data(sandbox), timeout=5)
    assert [result.key for result in results] == list(entries)
    assert [result.outcome for result in results] == [ACCEPTED, REJECTED, UNREACHABLE, UNCHECKED]


def test_skopeo_reads_a_document_built_by_the_auth_core(sandbox: Sandbox, tmp_path: Path) -> None:
    # A path-scoped key plus a wrong registry-wide entry: containers/image must pick the exact path key.
    document = {
        "auths": {
            sandbox.registry: bad_entry(sandbox),
            f"{sandbox.registry}/{TEST_IMAGE}": good_entry(sandbox),
        }
    }
    authfile = tmp_path / "auth.json"
    authfile.write_text(dump_document(document), encoding="utf-8")
    authfile.chmod(0o600)
    completed = skopeo_inspect(f"{sandbox.registry}/{TEST_IMAGE}:1.0", str(authfile), sandbox.registry_ca)
    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["Name"].endswith(TEST_IMAGE)
    # ... and without the path key only the wrong registry-wide one is left: the pull is refused.
    authfile.write_text(dump_document({"auths": {sandbox.registry: bad_entry(sandbox)}}), encoding="utf-8")
    refused = skopeo_inspect(f"{sandbox.registry}/{TEST_IMAGE}:1.0", str(authfile), sandbox.registry_ca)
    assert refused.returncode != 0
