# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which secrets a ServiceAccount names for pulling (``imagePullSecrets``) and mounting (``secrets``), and how to add
or remove names there while keeping every other entry, OpenShift's managed registry pull secret included.

Pure functions; the reads and writes live in ``_service_accounts/linking.py``.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import InvalidInputError
from ansible_collections.openshift_ops.images.plugins.module_utils._registry.pull_secret_data import (
    managed_secret_owner,
)

# `oc secrets link --for=pull|mount` and the ServiceAccount field each purpose edits (§4).
PURPOSE_FIELDS: dict[str, str] = {"pull": "imagePullSecrets", "mount": "secrets"}


def linked_names(service_account: Mapping[str, Any], purpose: str) -> list[str]:
    """Secret names in the list of ``purpose``, in order, duplicates kept (entries without a name are skipped)."""
    entries = service_account.get(PURPOSE_FIELDS[purpose]) or []
    return [entry["name"] for entry in entries if isinstance(entry, Mapping) and entry.get("name")]


def service_account_lists(service_account: Mapping[str, Any] | None) -> dict[str, list[str]]:
    """The names in both lists, keyed by the field name the user sees in the API (for results and diffs)."""
    if service_account is None:
        return {field: [] for field in PURPOSE_FIELDS.values()}
    return {field: linked_names(service_account, purpose) for purpose, field in PURPOSE_FIELDS.items()}


# On the ServiceAccount, OpenShift's controller (4.16+) names its managed registry pull secret here
# (openshift-controller-manager, pkg/internalregistry/controllers); the secret names its service account.
PULL_REF_ANNOTATION = "openshift.io/internal-registry-pull-secret-ref"
_MANAGED_NAME_MAX = 58  # the controller's limit before the 5 random characters it appends


def _fnv32a_hex(text: str) -> str:
    value = 0x811C9DC5
    for byte in text.encode("utf-8"):
        value = ((value ^ byte) * 0x01000193) & 0xFFFFFFFF
    return f"{value:08x}"


def managed_secret_name_prefix(service_account: str) -> str:
    """The prefix of the managed pull secret's name, as the controller builds it (library-go ``naming.GetName(sa,
    "dockercfg-", 58)``): ``<sa>-dockercfg-`` when that fits in 58 characters, else the service account's name cut
    short, an FNV-1a hash of it and ``-dockercfg-`` (service accounts of 48 characters or more)."""
    suffix = "dockercfg-"
    name = f"{service_account}-{suffix}"
    if len(name) <= _MANAGED_NAME_MAX:
        return name
    base_length = _MANAGED_NAME_MAX - 10 - len(suffix)
    return f"{service_account[:base_length]}-{_fnv32a_hex(service_account)}-{suffix}"


def _is_generated_from(name: str, prefix: str) -> bool:
    # SimpleNameGenerator appends 5 random characters of [bcdfghjklmnpqrstvwxz2456789].
    return name.startswith(prefix) and len(name) == len(prefix) + 5


def managed_dockercfg_secret(service_account: Mapping[str, Any]) -> str | None:
    """Name of the managed registry pull secret OpenShift's controller listed in imagePullSecrets, if it did yet.

    The controller's annotation on the service account names it; without the annotation (clusters before 4.16, or
    the annotation removed), a listed name the controller's generator would make."""
    metadata = service_account.get("metadata") or {}
    pulls = linked_names(service_account, "pull")
    referenced = (metadata.get("annotations") or {}).get(PULL_REF_ANNOTATION)
    if referenced:
        return referenced if referenced in pulls else None
    prefix = managed_secret_name_prefix(str(metadata.get("name", "")))
    return next((name for name in pulls if _is_generated_from(name, prefix)), None)


def is_managed_secret_name(service_account: Mapping[str, Any], name: str) -> bool:
    metadata = service_account.get("metadata") or {}
    if (metadata.get("annotations") or {}).get(PULL_REF_ANNOTATION) == name:
        return True
    return _is_generated_from(name, managed_secret_name_prefix(str(metadata.get("name", ""))))


def managed_secret_ready(secret: Mapping[str, Any] | None, service_account: str) -> bool:
    """Whether the managed secret holds credentials yet. Since 4.16 the controller links the secret first, with
    ``.dockercfg`` ``{}``, and fills in a bound token afterwards; a pod created in between pulls without it."""
    if not secret or secret.get("type") != "kubernetes.io/dockercfg":
        return False
    owner = managed_secret_owner(secret)
    if owner is not None and owner != service_account:
        return False
    encoded = (secret.get("data") or {}).get(".dockercfg") or ""
    try:
        document = json.loads(base64.b64decode(encoded, validate=True) or b"{}")
    except (ValueError, binascii.Error):
        return False
    return isinstance(document, dict) and bool(document)


@dataclass(frozen=True)
class LinkPlan:
    """The ServiceAccount to write (``None`` when nothing changes) and the names added/removed per purpose."""

    service_account: dict[str, Any] | None
    added: dict[str, list[str]] = field(default_factory=dict)
    removed: dict[str, list[str]] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return self.service_account is not None

    @property
    def write(self) -> dict[str, Any] | None:
        return self.service_account


def plan_links(
    service_account: Mapping[str, Any], names: Sequence[str], purposes: Sequence[str], *, state: str
) -> LinkPlan:
    """Add (``present``) or remove (``absent``) ``names`` in the lists of ``purposes``.

    Adding appends the names not already listed, in the order given; names listed already (even twice) are left
    alone. Removing drops every entry with that name, duplicates included. Entries are matched by name only and
    every other entry, and every other field of the ServiceAccount, is kept as it is.
    """
    if state not in ("present", "absent"):
        raise InvalidInputError(f"state must be present or absent, got {state!r}")
    updated = copy.deepcopy(dict(service_account))
    added: dict[str, list[str]] = {}
    removed: dict[str, list[str]] = {}
    for purpose in purposes:
        list_field = PURPOSE_FIELDS[purpose]
        entries = list(updated.get(list_field) or [])
        present = set(linked_names(updated, purpose))
        if state == "present":
            new = [name for name in names if name not in present]
            if new:
                updated[list_field] = entries + [{"name": name} for name in new]
                added[purpose] = new
        else:
            gone = [name for name in names if name in present]
            if gone:
                updated[list_field] = [
                    entry for entry in entries if not (isinstance(entry, Mapping) and entry.get("name") in gone)
                ]
                removed[purpose] = gone
    if not added and not removed:
        return LinkPlan(service_account=None)
    return LinkPlan(service_account=updated, added=added, removed=removed)


def unlink_warnings(service_account: Mapping[str, Any], removed: Mapping[str, Sequence[str]]) -> list[str]:
    """Explain removals that will not last or will not do what a user may expect."""
    warnings = []
    # The controller puts its secret back in both lists (openshift-controller-manager still lists it in secrets).
    for name in dict.fromkeys(name for purpose in PURPOSE_FIELDS for name in removed.get(purpose, [])):
        if is_managed_secret_name(service_account, name):
            lists = " and ".join(field for purpose, field in PURPOSE_FIELDS.items() if name in removed.get(purpose, []))
            warnings.append(
                f"{name} is the service account's managed registry secret; OpenShift's controller adds it back to "
                f"{lists}"
            )
    return warnings
