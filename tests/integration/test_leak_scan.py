# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The leak scan itself finds what it is meant to find (a scanner that cannot fail proves nothing)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from .leak_scan import LeakScan


def test_a_secret_in_options_is_found_in_output_and_files(tmp_path: Path) -> None:
    scan = LeakScan()
    scan.add_secrets_from(
        {
            "registries": [{"server": "quay.io", "username": "robot", "password": "s3cret-password-1"}],
            "auth_content": json.dumps(
                {"auths": {"r.example.com": {"auth": base64.b64encode(b"u:from-auth-42").decode()}}}
            ),
            "api_key": "sha256~tokentokentoken",
            "registry_onboarding_password": "role-password-77",
        }
    )
    assert {"s3cret-password-1", "from-auth-42", "sha256~tokentokentoken", "role-password-77"} <= scan.secrets
    scan.record("clean", "ok: changed=1 password=VALUE_SPECIFIED_IN_NO_LOG_PARAMETER")
    assert scan.hits() == []
    scan.record("stdout", "... from-auth-42 ...")
    (tmp_path / "written.json").write_text("role-password-77")
    scan.record_new_files("run", tmp_path, known=set())
    scan.record("jwt", "Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzYW5kYm94In0.c2lnbmF0dXJlc2lnbmF0dXJl")
    hits = scan.hits()
    assert len(hits) == 3, hits
    assert not any("from-auth-42" in hit or "role-password" in hit for hit in hits)  # the report leaks nothing


def test_a_secret_stored_in_a_secret_and_a_backup_mode(tmp_path: Path) -> None:
    scan = LeakScan()
    document = json.dumps({"auths": {"a.example.com": {"username": "x", "password": "stored-in-cluster-9"}}})
    scan.add_secrets_from({"data": {".dockerconfigjson": base64.b64encode(document.encode()).decode()}})
    assert "stored-in-cluster-9" in scan.secrets
    backups = tmp_path / "backups"
    backups.mkdir()
    (backups / "ok.json").write_text("stored-in-cluster-9")
    (backups / "ok.json").chmod(0o600)
    (backups / "open.json").write_text("{}")
    (backups / "open.json").chmod(0o644)
    scan.record_new_files("run", tmp_path, known=set(), backup_dirs=[str(backups)])
    assert scan.hits() == []  # backups hold the secret by design: their mode is checked instead
    assert scan.backups_checked == 2 and len(scan.bad_backup_modes) == 1


def test_public_values_and_short_values_are_not_searched() -> None:
    scan = LeakScan()
    scan.add_secrets_from({"username": "developer-account", "password": "developer-account", "auth": "bm8="})
    assert scan.searched() == []
    scan.add_secrets_from({"password": "p"})
    assert "p" in scan.too_short
