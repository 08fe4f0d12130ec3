# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a pull Secret holds: the types that pullers read and their data keys, the size limit of its data, the auth
document under its type's key (read leniently), every value in it that must never be printed, and whose managed
registry secret it is. Pure functions, for every module that reads or writes a pull secret.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
from collections.abc import Mapping
from typing import Any

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import InvalidInputError

# The only Secret types the kubelet, CRI-O, image stream imports and builds read as pull secrets, and their data
# keys (semantics §3.3); one definition for every module that writes or reads one.
DOCKERCONFIGJSON_TYPE = "kubernetes.io/dockerconfigjson"
DOCKERCONFIGJSON_KEY = ".dockerconfigjson"
DOCKERCFG_TYPE = "kubernetes.io/dockercfg"
DOCKERCFG_KEY = ".dockercfg"
PULL_SECRET_DATA_KEYS = {DOCKERCONFIGJSON_TYPE: DOCKERCONFIGJSON_KEY, DOCKERCFG_TYPE: DOCKERCFG_KEY}
# podman's Secret type: no puller reads it, but its data is a pull secret's all the same.
PODMANCONFIGJSON_TYPE = "kubernetes.io/podmanconfigjson"
# The API server refuses a Secret whose data (decoded) exceeds 1 MiB (core/v1 MaxSecretSize).
SECRET_DATA_LIMIT = 1024 * 1024
# On the registry pull secret OpenShift's controller manages for a service account, the account it belongs to
# (openshift-controller-manager since 4.16, pkg/internalregistry/controllers; the legacy one before).
REGISTRY_AUTH_SA_ANNOTATION = "openshift.io/internal-registry-auth-token.service-account"
LEGACY_SA_ANNOTATION = "kubernetes.io/service-account.name"


def managed_secret_owner(secret: Mapping[str, Any]) -> str | None:
    """The service account whose registry pull secret this is, as openshift-controller-manager (or an older
    controller) annotates the secrets it manages; None for any other secret."""
    annotations = (secret.get("metadata") or {}).get("annotations") or {}
    return annotations.get(REGISTRY_AUTH_SA_ANNOTATION) or annotations.get(LEGACY_SA_ANNOTATION) or None


def secret_data_size(secret: Mapping[str, Any]) -> int:
    """The bytes the API server counts against :data:`SECRET_DATA_LIMIT`: every data value, base64-decoded."""
    return sum(len(value) * 3 // 4 - value[-2:].count("=") for value in (secret.get("data") or {}).values())


def secret_content(secret: Mapping[str, Any], secret_type: str) -> str | None:
    """The decoded text under the data key of ``secret_type``, or None when the key is missing or not base64/UTF-8."""
    encoded = (secret.get("data") or {}).get(PULL_SECRET_DATA_KEYS[secret_type])
    if not isinstance(encoded, str):
        return None
    try:
        return base64.b64decode(encoded, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None


def read_secret_document(secret: Mapping[str, Any]) -> dict[str, Any] | None:
    """The auth document an existing pull secret holds, as parsed JSON (dockercfg wrapped as ``{"auths": ...}``).

    Lenient on purpose: only JSON parsing and the object shape are checked here, so that a secret holding a broken
    entry can still be compared, replaced or cleaned with ``remove_registries``. None when the secret holds no
    readable document (another type, key missing, not JSON, not an object).
    """
    secret_type = secret.get("type")
    if secret_type not in PULL_SECRET_DATA_KEYS:
        return None
    text = secret_content(secret, secret_type)
    if text is None:
        return None
    try:
        parsed = json.loads(text)
    except ValueError:
        return None
    if not isinstance(parsed, dict):
        return None
    document = {"auths": parsed} if secret_type == DOCKERCFG_TYPE else parsed
    if not isinstance(document.get("auths", {}), dict):
        return None
    return document


def secret_data_values(secret: Mapping[str, Any] | None) -> set[str]:
    """Every value of an existing or desired Secret that must never be printed: the base64 data, the decoded
    document and the credentials inside it."""
    if not secret:
        return set()
    values: set[str] = set()
    pull_type = secret.get("type") in (*PULL_SECRET_DATA_KEYS, PODMANCONFIGJSON_TYPE)
    for encoded in (secret.get("data") or {}).values():
        if isinstance(encoded, str) and encoded:
            values.add(encoded)
            # Other secrets' data is never decoded or shown; their short values would only garble the output.
            if pull_type:
                with contextlib.suppress(binascii.Error, UnicodeDecodeError):
                    values.add(base64.b64decode(encoded).decode("utf-8"))
    document = read_secret_document(secret)
    if document is not None:
        # compiled only for a pull secret's document: secret_link reads this module for its type names alone
        from ansible_collections.openshift_ops.images.plugins.module_utils._registry.redaction import (  # noqa: PLC0415
            document_secret_values,
        )

        # A malformed entry has nothing well-formed to extract; its raw text is already registered above.
        with contextlib.suppress(InvalidInputError, AttributeError, TypeError, ValueError):
            values |= document_secret_values(document)
    return {value for value in values if value}
