# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which secrets a ServiceAccount names for pulling (``imagePullSecrets``) and mounting (``secrets``), and how to add
or remove names there while keeping every other entry, OpenShift's managed ``<sa>-dockercfg-*`` included.

Pure functions; the reads and writes live in ``_secret_link_apply.py``.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import InvalidInputError

# `oc secrets link --for=pull|mount` and the ServiceAccount field each purpose edits (§4).
PURPOSE_FIELDS: dict[str, str] = {"pull": "imagePullSecrets", "mount": "secrets"}

# RFC 1123 subdomain, the rule the API server applies to Secret and ServiceAccount names.
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_DNS_SUBDOMAIN_MAX = 253


def validate_object_name(name: str, *, what: str) -> str:
    """Return ``name`` when the API server would accept it as a Secret/ServiceAccount name, else explain why not."""
    if not isinstance(name, str) or not name:
        raise InvalidInputError(f"{what} name must be a non-empty string")
    if len(name) > _DNS_SUBDOMAIN_MAX or not _DNS_SUBDOMAIN.fullmatch(name):
        raise InvalidInputError(
            f"{what} name {name!r} is not valid: it must be lowercase letters, digits, '-' and '.', start and end "
            f"with a letter or digit, and be at most {_DNS_SUBDOMAIN_MAX} characters"
        )
    return name


def secret_name_from_reference(reference: str) -> str:
    """Accept ``NAME``, ``secret/NAME`` or ``secrets/NAME`` like ``oc secrets link``; return the validated NAME."""
    if not isinstance(reference, str):
        raise InvalidInputError(f"secret {reference!r} must be a string")
    name = reference
    if "/" in reference:
        kind, _slash, name = reference.partition("/")
        if kind not in ("secret", "secrets"):
            raise InvalidInputError(f"expected a secret, got {reference!r}: write NAME, secret/NAME or secrets/NAME")
    return validate_object_name(name, what="secret")


def normalize_secret_names(references: Iterable[str]) -> list[str]:
    """Names from ``references`` in the order given, each once."""
    names: list[str] = []
    for reference in references:
        name = secret_name_from_reference(reference)
        if name not in names:
            names.append(name)
    return names


def normalize_purposes(purposes: Iterable[str]) -> list[str]:
    """``pull``/``mount`` in the canonical order (pull first), each once; unknown values are an error."""
    wanted = set()
    for purpose in purposes:
        if purpose not in PURPOSE_FIELDS:
            raise InvalidInputError(f"unknown purpose {purpose!r}: use pull (imagePullSecrets) and/or mount (secrets)")
        wanted.add(purpose)
    if not wanted:
        raise InvalidInputError("purpose must name at least one of pull (imagePullSecrets) or mount (secrets)")
    return [purpose for purpose in PURPOSE_FIELDS if purpose in wanted]


def linked_names(service_account: Mapping[str, Any], purpose: str) -> list[str]:
    """Secret names in the list of ``purpose``, in order, duplicates kept (entries without a name are skipped)."""
    entries = service_account.get(PURPOSE_FIELDS[purpose]) or []
    return [entry["name"] for entry in entries if isinstance(entry, Mapping) and entry.get("name")]


def service_account_lists(service_account: Mapping[str, Any] | None) -> dict[str, list[str]]:
    """The names in both lists, keyed by the field name the user sees in the API (for results and diffs)."""
    if service_account is None:
        return {field: [] for field in PURPOSE_FIELDS.values()}
    return {field: linked_names(service_account, purpose) for purpose, field in PURPOSE_FIELDS.items()}


def managed_dockercfg_secret(service_account: Mapping[str, Any]) -> str | None:
    """Name of the ``<sa>-dockercfg-*`` secret OpenShift's controller put in imagePullSecrets, if it did yet (§3.5)."""
    prefix = f"{service_account.get('metadata', {}).get('name', '')}-dockercfg-"
    for name in linked_names(service_account, "pull"):
        if name.startswith(prefix) and len(name) > len(prefix):
            return name
    return None


@dataclass(frozen=True)
class LinkPlan:
    """The ServiceAccount to write (``None`` when nothing changes) and the names added/removed per purpose."""

    service_account: dict[str, Any] | None
    added: dict[str, list[str]] = field(default_factory=dict)
    removed: dict[str, list[str]] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return self.service_account is not None


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
    managed = f"{service_account.get('metadata', {}).get('name', '')}-dockercfg-"
    for name in removed.get("pull", []):
        if name.startswith(managed):
            warnings.append(
                f"{name} is the service account's managed registry secret; OpenShift's controller adds it back to "
                "imagePullSecrets"
            )
    return warnings
