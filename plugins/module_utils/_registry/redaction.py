# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What of an auth document may be shown and what never: user names, e-mails and slow credential fingerprints for
results and diffs, and every secret value (with the decoded forms of ``auth``) to hide before anything prints.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from ansible_collections.openshift_ops.images.plugins.module_utils._registry.auth_document import document_entries
from ansible_collections.openshift_ops.images.plugins.module_utils._registry.auth_entries import entry_basic_credentials

_SECRET_FIELDS = ("password", "auth", "identitytoken", "registrytoken")
_FINGERPRINT_SALT = b"openshift_ops.images registry credential fingerprint v1"
# Slow on purpose: a fingerprint in a log must not make guessing a weak password cheap.
_FINGERPRINT_ROUNDS = 20_000


@lru_cache(maxsize=512)
def _fingerprint(material: str) -> str:
    digest = hashlib.pbkdf2_hmac(
        "sha256", material.encode("utf-8", "surrogatepass"), _FINGERPRINT_SALT, _FINGERPRINT_ROUNDS
    )
    return digest.hex()[:12]


def credential_fingerprint(entry: Mapping[str, Any]) -> str:
    """12 hex digits identifying the credential an entry holds (PBKDF2-HMAC-SHA256 of username, password and
    tokens): equal for the same credential written as docker ``username``/``password``/``auth`` or podman ``auth``."""
    return _fingerprint_of(entry, entry_basic_credentials(entry))


def _fingerprint_of(entry: Mapping[str, Any], basic: tuple[str, str] | None) -> str:
    material: tuple[str | None, str | None] | None = basic
    if material is None:
        auth = entry.get("auth")
        # An auth the kubelet cannot read still identifies what is stored.
        material = ("<undecodable auth>", auth) if isinstance(auth, str) and auth else (None, None)
    tokens = [
        entry.get(name) if isinstance(entry.get(name), str) else None for name in ("identitytoken", "registrytoken")
    ]
    return _fingerprint(json.dumps([*material, *tokens], ensure_ascii=False))


def entry_username(entry: Any) -> str | None:
    """The user name of an entry: from ``auth`` when it has one, else from its ``username`` field."""
    if not isinstance(entry, Mapping):
        return None
    return _username_of(entry, entry_basic_credentials(entry))


def _username_of(entry: Mapping[str, Any], basic: tuple[str, str] | None) -> str | None:
    if basic:
        return basic[0]
    username = entry.get("username")
    return username if isinstance(username, str) else None


def registry_usernames(document: Mapping[str, Any]) -> dict[str, str | None]:
    """``{key: username}`` for every entry, in order; no fingerprint (each costs a slow key derivation, and a
    global pull secret can hold thousands of entries)."""
    return {key: entry_username(entry) for key, entry in document_entries(document).items()}


def summarize_document(document: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """``{key: {"username", "email", "fingerprint"}}`` for every entry: safe for diff and return values (never a
    password, ``auth`` or token). ``username`` comes from ``auth`` when the entry has one, else from its field."""
    summary: dict[str, dict[str, Any]] = {}
    for key, entry in document_entries(document).items():
        if not isinstance(entry, Mapping):
            summary[key] = {"username": None, "email": None, "fingerprint": None}
            continue
        email = entry.get("email") if isinstance(entry.get("email"), str) else None
        basic = entry_basic_credentials(entry)  # decoded once for both
        summary[key] = {
            "username": _username_of(entry, basic),
            "email": email,
            "fingerprint": _fingerprint_of(entry, basic),
        }
    return summary


def document_secret_values(document: Mapping[str, Any]) -> set[str]:
    """Every secret string in the document (passwords, ``auth``, tokens and the decoded forms of ``auth``), to add
    to ``module.no_log_values`` before anything can print them."""
    values: set[str] = set()
    auths = document.get("auths")
    if not isinstance(auths, Mapping):
        return values
    for entry in auths.values():
        if not isinstance(entry, Mapping):
            continue
        for name in _SECRET_FIELDS:
            value = entry.get(name)
            if isinstance(value, str) and value:
                values.add(value)
        auth = entry.get("auth")
        if isinstance(auth, str) and auth:
            try:
                decoded = base64.b64decode(auth + "=" * (-len(auth) % 4)).decode("utf-8")
            except (binascii.Error, ValueError):
                continue
            if decoded:
                values.add(decoded)
            password = decoded.partition(":")[2]
            if password:
                values.add(password)
    return values
