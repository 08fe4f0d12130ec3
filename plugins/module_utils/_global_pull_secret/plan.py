# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cluster-wide pull secret (``openshift-config/pull-secret``, openshift-semantics.md §6.2, §8): pure planning of
the new document (merge, remove, replace), the Telemetry guard (§8.3) and the refusals that keep a broken read from
turning into a fail-open write.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any, NamedTuple

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import ClusterStateError, InvalidInputError
from ansible_collections.openshift_ops.images.plugins.module_utils._registry.auth_document import (
    diff_entries,
    documents_equal,
    dump_document,
    load_auth_document,
    merge_entries,
    remove_entries,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._registry.pull_secret_data import (
    DOCKERCONFIGJSON_KEY,
    DOCKERCONFIGJSON_TYPE,
    SECRET_DATA_LIMIT,
    secret_data_size,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._registry.redaction import (
    document_secret_values,
    registry_usernames,
    summarize_document,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._registry.registry_keys import validate_registry_key

DATA_KEY = DOCKERCONFIGJSON_KEY
# The cluster-monitoring-operator reads auths["cloud.openshift.com"].auth, key matched exactly (§8.3).
TELEMETRY_KEY = "cloud.openshift.com"

NOTHING_WRITTEN = "nothing was written"


class DocumentChange(NamedTuple):
    """What the task asks of the document: entries to merge in, keys to remove, or a full replacement."""

    entries: Mapping[str, Mapping[str, Any]]
    remove: tuple[str, ...] = ()
    replace: bool = False
    allow_telemetry_change: bool = False


class DocumentPlan(NamedTuple):
    """The document before and after the change; ``changed`` is False when they are equal as JSON."""

    before: dict[str, Any]
    after: dict[str, Any]
    changed: bool
    added: list[str]
    updated: list[str]
    removed: list[str]
    telemetry_changed: bool
    warnings: tuple[str, ...] = ()


def missing_secret_error(where: str) -> ClusterStateError:
    return ClusterStateError(
        f"the secret {where} does not exist; {NOTHING_WRITTEN}. The global pull secret is created by the installer: "
        "check name and namespace (hosted control planes keep it elsewhere)"
    )


def read_stored_content(secret: Mapping[str, Any], *, where: str) -> bytes:
    """The bytes of ``.dockerconfigjson`` as stored, or ClusterStateError when the secret cannot be edited safely."""
    secret_type = secret.get("type") or "Opaque"
    if secret_type != DOCKERCONFIGJSON_TYPE:
        raise ClusterStateError(
            f"the secret {where} has type {secret_type}, not {DOCKERCONFIGJSON_TYPE}; the Machine Config Operator "
            f"renders only {DOCKERCONFIGJSON_TYPE}, so {NOTHING_WRITTEN}. Fix the secret by hand first"
        )
    encoded = (secret.get("data") or {}).get(DATA_KEY)
    if not isinstance(encoded, str) or not encoded:
        raise ClusterStateError(f"the secret {where} has no {DATA_KEY} data; {NOTHING_WRITTEN}")
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ClusterStateError(f"the {DATA_KEY} data of the secret {where} is not base64; {NOTHING_WRITTEN}") from None


def parse_stored_document(content: bytes, *, where: str) -> dict[str, Any]:
    """The stored document as a JSON object; lenient beyond that so a broken entry can still be removed."""
    try:
        document = json.loads(content.decode("utf-8"))
    except UnicodeDecodeError:
        raise ClusterStateError(f"the {DATA_KEY} of the secret {where} is not UTF-8 text; {NOTHING_WRITTEN}") from None
    except json.JSONDecodeError as error:
        # The decoder's message gives a position, never the content.
        raise ClusterStateError(
            f"the {DATA_KEY} of the secret {where} is not valid JSON ({error.msg} at line {error.lineno} column "
            f"{error.colno}); {NOTHING_WRITTEN}. Merging into it could drop every credential it holds"
        ) from None
    if not isinstance(document, dict):
        raise ClusterStateError(
            f"the {DATA_KEY} of the secret {where} is JSON {type(document).__name__}, not an object; {NOTHING_WRITTEN}"
        )
    if not isinstance(document.get("auths", {}), dict):
        raise ClusterStateError(f"the auths field of the secret {where} is not an object; {NOTHING_WRITTEN}")
    return document


def _telemetry_entry(document: Mapping[str, Any]) -> Any:
    return (document.get("auths") or {}).get(TELEMETRY_KEY)


def check_telemetry_guard(before: Mapping[str, Any], after: Mapping[str, Any], *, allowed: bool, where: str) -> bool:
    """Whether the ``cloud.openshift.com`` entry changes; InvalidInputError when it does and that is not allowed.

    Any difference counts (auth, email, removal, addition): its ``auth`` is the cluster's Telemetry token (§8.3).
    """
    old, new = _telemetry_entry(before), _telemetry_entry(after)
    if documents_equal(old, new):
        return False
    if allowed:
        return True
    if new is None:
        what = f"remove the {TELEMETRY_KEY} entry from"
    elif old is None:
        what = f"add a {TELEMETRY_KEY} entry to"
    else:
        what = f"change the {TELEMETRY_KEY} entry in"
    raise InvalidInputError(
        f"this task would {what} the secret {where}; {NOTHING_WRITTEN}. That entry's auth is the cluster's "
        "Telemetry token: removing or changing it makes Telemetry and the Insights Operator stop reporting to Red Hat "
        "(or report under another account). Set allow_telemetry_change: true if this is intended (opting out of "
        "remote health reporting, or a cluster ownership transfer started in OpenShift Cluster Manager). To keep it, "
        f"name {TELEMETRY_KEY} neither in the entries nor in the keys to remove, or with replace: true give its "
        "current entry unchanged"
    )


def _stored_document_problem(before: Mapping[str, Any], *, where: str) -> str | None:
    try:
        load_auth_document(before, source=f"the secret {where}")
    except InvalidInputError as error:
        return str(error)
    return None


def _check_result(document: Mapping[str, Any], before: Mapping[str, Any], *, where: str) -> None:
    """Refuse a result that fails our schema, saying whether the fault is in the cluster's copy or in the input."""
    try:
        load_auth_document(document, source=f"the new content for the secret {where}")
    except InvalidInputError as error:
        problem = _stored_document_problem(before, where=where)
        if problem is not None:
            raise ClusterStateError(
                f"{problem}; {NOTHING_WRITTEN}. The document stored in the cluster is already invalid (a bad auth "
                "breaks every pull on the nodes): remove or replace that entry, e.g. with remove_registries"
            ) from None
        raise InvalidInputError(f"{error}; {NOTHING_WRITTEN}") from None


def plan_document(before: Mapping[str, Any], change: DocumentChange, *, where: str) -> DocumentPlan:
    """The new document for ``change`` applied to ``before``; every entry, field and top-level key not named by the
    change is kept as it was. Raises when the Telemetry guard refuses or a changed result fails the schema."""
    base: Mapping[str, Any] = {"auths": {}} if change.replace else before
    document = remove_entries(base, change.remove)[0]
    document = merge_entries(document, change.entries)
    telemetry_changed = check_telemetry_guard(before, document, allowed=change.allow_telemetry_change, where=where)
    changed = not documents_equal(before, document)
    warnings: tuple[str, ...] = ()
    if changed:
        _check_result(document, before, where=where)
    elif (problem := _stored_document_problem(before, where=where)) is not None:
        # Nothing is written, so nothing can get worse; still say what the nodes will trip over.
        warnings = (f"{problem}; a bad entry breaks pulls on the nodes: remove or replace it",)
    changes = diff_entries(before, document)
    return DocumentPlan(
        before=copy.deepcopy(dict(before)),
        after=document,
        changed=changed,
        added=list(changes.added),
        updated=list(changes.updated),
        removed=list(changes.removed),
        telemetry_changed=telemetry_changed,
        warnings=warnings,
    )


def updated_secret(secret: Mapping[str, Any], document: Mapping[str, Any]) -> dict[str, Any]:
    """The secret to PUT: a copy of ``secret`` (resourceVersion, labels, other data keys) with only
    ``.dockerconfigjson`` replaced by the compact JSON of ``document``."""
    new = copy.deepcopy(dict(secret))
    new["data"] = dict(new.get("data") or {})
    new["data"][DATA_KEY] = base64.b64encode(dump_document(document).encode("utf-8")).decode("ascii")
    return new


def removal_keys(servers: Iterable[str], remove_registries: Iterable[str]) -> tuple[str, ...]:
    """The registry keys to remove, validated, in order, without duplicates."""
    keys: list[str] = []
    for key in (*servers, *remove_registries):
        checked = validate_registry_key(key)
        if checked not in keys:
            keys.append(checked)
    return tuple(keys)


def registries_result(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Each registry key of ``document`` with its user name: nothing else, and never a credential."""
    return [{"server": key, "username": username} for key, username in registry_usernames(document).items()]


def redacted_view(document: Mapping[str, Any]) -> dict[str, Any]:
    """What the diff shows of a document: per key the user name, email and a fingerprint; other top-level names."""
    view: dict[str, Any] = {"auths": summarize_document(document)}
    others = sorted(key for key in document if key != "auths")
    if others:
        view["other_fields"] = others
    return view


def redacted_diff(plan: DocumentPlan, *, where: str) -> dict[str, Any]:
    header = f"secret {where} ({DATA_KEY}, credentials shown as fingerprints)"
    return {
        "before_header": header,
        "after_header": header,
        "before": redacted_view(plan.before),
        "after": redacted_view(plan.after),
    }


class SecretWrite(NamedTuple):
    """The plan for one read of the secret: the document change, the Secret to PUT (None: no change), the bytes it
    replaces (for the backup) and every secret value met on the way."""

    document: DocumentPlan
    stored: bytes
    write: dict[str, Any] | None
    secret_values: frozenset[str]


def plan_secret_write(
    current: dict[str, Any] | None,
    *,
    where: str,
    change: DocumentChange,
    ensure_possible: Callable[[DocumentPlan], None],
) -> SecretWrite:
    """Plan the write from the secret as read (again after every 409: the change is re-applied to the fresh
    document, never the old result). ``ensure_possible(plan)`` raises when a write is due but must not happen."""
    if current is None:
        raise missing_secret_error(where)
    content = read_stored_content(current, where=where)
    before = parse_stored_document(content, where=where)
    plan = plan_document(before, change, where=where)
    values = {content.decode("utf-8", errors="replace")}
    values |= document_secret_values(before) | document_secret_values(plan.after)
    if plan.changed:
        ensure_possible(plan)
    wanted = updated_secret(current, plan.after) if plan.changed else None
    if wanted is not None and (size := secret_data_size(wanted)) > SECRET_DATA_LIMIT:
        raise InvalidInputError(
            f"the new content for the secret {where} is {size:,} bytes, more than the {SECRET_DATA_LIMIT:,} bytes "
            f"the API server allows in one Secret; {NOTHING_WRITTEN}. The cluster has one global pull secret: remove "
            "entries the nodes do not need (project pull secrets, made with pull_secret, can hold the others)"
        )
    return SecretWrite(plan, content, wanted, frozenset(values))
