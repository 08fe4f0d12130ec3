# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pure half of ``pull_secret``: the request checked from the module options, and the plan of the Secret to write
(type handling, document building, change detection, the delete + create of a type change). No I/O: the reads and
writes that carry a plan out are in ``apply.py``.
"""

from __future__ import annotations

import base64
import copy
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import (
    ClusterStateError,
    InvalidInputError,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._registry.auth_document import (
    diff_entries,
    documents_equal,
    dump_document,
    load_auth_document,
    merge_entries,
    remove_entries,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._registry.pull_secret_data import (
    DOCKERCFG_TYPE,
    DOCKERCONFIGJSON_TYPE,
    PODMANCONFIGJSON_TYPE,
    PULL_SECRET_DATA_KEYS,
    SECRET_DATA_LIMIT,
    managed_secret_owner,
    read_secret_document,
    secret_data_size,
    secret_data_values,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._registry.redaction import summarize_document

DOCKERCONFIGJSON = DOCKERCONFIGJSON_TYPE
DOCKERCFG = DOCKERCFG_TYPE
PODMANCONFIGJSON = PODMANCONFIGJSON_TYPE
SECRET_TYPE_CHOICES = (DOCKERCONFIGJSON, DOCKERCFG, PODMANCONFIGJSON)
DATA_KEYS = PULL_SECRET_DATA_KEYS
PODMAN_CONVERSION_WARNING = (
    "type kubernetes.io/podmanconfigjson was converted to kubernetes.io/dockerconfigjson (key .dockerconfigjson): "
    "the kubelet, CRI-O, image stream imports and builds read only dockerconfigjson and dockercfg secrets and "
    "silently ignore any other type, so a podmanconfigjson secret would never be used for a pull. A podman "
    "auth.json is valid .dockerconfigjson content as it is"
)


# ---------------------------------------------------------------------------------------------------------------
# Pure planning


def resolve_secret_type(requested: str) -> tuple[str, list[str]]:
    """The Secret type to write for the ``type`` option, and the warnings to show (§3.3)."""
    if requested in DATA_KEYS:
        return requested, []
    if requested == PODMANCONFIGJSON:
        return DOCKERCONFIGJSON, [PODMAN_CONVERSION_WARNING]
    raise InvalidInputError(
        f"unsupported secret type {requested!r}: a pull secret must be {DOCKERCONFIGJSON} (or the legacy {DOCKERCFG}); "
        "the kubelet ignores every other type for pulls"
    )


def encode_document(document: Mapping[str, Any], secret_type: str) -> tuple[str, list[str]]:
    """The text stored under the data key of ``secret_type``, and warnings about what that format cannot hold.

    dockerconfigjson holds the whole document; the legacy dockercfg holds only the bare ``auths`` map.
    """
    if secret_type == DOCKERCONFIGJSON:
        return dump_document(document), []
    if secret_type == DOCKERCFG:
        dropped = sorted(key for key in document if key != "auths")
        warnings = []
        if dropped:
            warnings.append(
                f"type {DOCKERCFG} holds only the registry entries; top-level field(s) {', '.join(dropped)} "
                "are not stored"
            )
        return dump_document(document.get("auths") or {}), warnings
    raise InvalidInputError(f"unsupported secret type {secret_type!r}")


def desired_secret(
    *,
    name: str,
    namespace: str,
    secret_type: str,
    content: str,
    existing: Mapping[str, Any] | None,
    recreate: bool = False,
) -> dict[str, Any]:
    """The Secret to send: the existing one with only our data key replaced, or a new one.

    Labels, annotations and ``immutable`` of an existing secret are kept, also when it is re-created; for an update
    everything else (other data keys, resourceVersion for the PUT) is kept too.
    """
    encoded = base64.b64encode(content.encode("utf-8")).decode("ascii")
    if existing is not None and not recreate:
        secret = copy.deepcopy(dict(existing))
        secret["data"] = dict(secret.get("data") or {})
        secret["data"][DATA_KEYS[secret_type]] = encoded
        return secret
    metadata: dict[str, Any] = {"name": name, "namespace": namespace}
    if existing is not None:
        for kept in ("labels", "annotations"):
            if existing.get("metadata", {}).get(kept):
                metadata[kept] = copy.deepcopy(existing["metadata"][kept])
    created: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": metadata,
        "type": secret_type,
        "data": {DATA_KEYS[secret_type]: encoded},
    }
    if existing is not None and existing.get("immutable"):
        created["immutable"] = True  # the owner's choice outlives the re-creation
    return created


class PullSecretPlan(NamedTuple):
    """What to do with the Secret: ``create``, ``update``, ``recreate`` (delete + create) or ``none``."""

    action: str
    secret: dict[str, Any] | None
    before: dict[str, Any] | None
    after: dict[str, Any]
    added: Sequence[str] = ()
    updated: Sequence[str] = ()
    removed: Sequence[str] = ()
    warnings: Sequence[str] = ()

    secret_values: frozenset[str] = frozenset()  # every secret in the Secret read and in the one to write

    @property
    def changed(self) -> bool:
        return self.action != "none"

    @property
    def write(self) -> dict[str, Any] | None:
        """What a PUT or POST sends; a type change cannot be one (it is a delete + create) and sends nothing."""
        return self.secret if self.action in ("create", "update") else None


def plan_pull_secret(
    existing: Mapping[str, Any] | None,
    *,
    name: str,
    namespace: str,
    secret_type: str,
    entries: Mapping[str, Mapping[str, Any]],
    merge: bool,
    remove_registries: Iterable[str] = (),
    force: bool = False,
) -> PullSecretPlan:
    """Decide the Secret to write from the current one (None when missing) and the wanted entries.

    ``merge=False``: the document holds exactly ``entries``. ``merge=True``: ``entries`` are merged into the current
    document (every other entry and field kept). Then ``remove_registries`` are removed. Equal documents (JSON-level)
    mean no write, so the stored bytes stay as they are. The plan names every secret value of both Secrets.
    """
    where = f"{namespace}/{name}"
    before = read_secret_document(existing) if existing is not None else None
    # A pull-type secret whose content cannot be read: replaced when merge is false, an error when merging.
    if merge and existing is not None and before is None and existing.get("type") in DATA_KEYS:
        raise ClusterStateError(
            f"the secret {where} does not hold a readable {DATA_KEYS[existing['type']]} JSON object, so there is "
            "nothing to merge into; use merge: false to replace its content"
        )

    same_type = existing is not None and existing.get("type") == secret_type
    base: Mapping[str, Any] = before if (merge and before is not None) else {"auths": {}}
    document = merge_entries(base, entries)
    document = remove_entries(document, list(remove_registries))[0]
    if merge and before is not None:
        # Entries kept from the cluster were not checked yet; a broken `auth` would break every pull (§3.4).
        try:
            document = load_auth_document(document, source=f"the secret {where}")
        except InvalidInputError as error:
            raise InvalidInputError(
                f"{error}; remove that entry with remove_registries or replace the whole secret with merge: false"
            ) from None
    content, warnings = encode_document(document, secret_type)
    changes = diff_entries(before or {"auths": {}}, document)
    unchanged = PullSecretPlan(
        action="none",
        secret=None,
        before=before,
        after=document,
        added=list(changes.added),
        updated=list(changes.updated),
        removed=list(changes.removed),
        warnings=warnings,
    )

    def new_secret(*, recreate: bool) -> dict[str, Any]:
        return desired_secret(
            name=name,
            namespace=namespace,
            secret_type=secret_type,
            content=content,
            existing=existing,
            recreate=recreate,
        )

    if existing is None:
        return _with_secret_values(existing, unchanged._replace(action="create", secret=new_secret(recreate=False)))

    owner = _someone_elses(existing)
    if owner:
        raise ClusterStateError(
            f"the secret {where} {owner}; nothing was written. Use another name for this pull secret"
        )

    if not same_type:
        if not force:
            raise ClusterStateError(_type_conflict_message(where, existing.get("type"), secret_type))
        return _with_secret_values(existing, unchanged._replace(action="recreate", secret=new_secret(recreate=True)))

    if before is not None and documents_equal(before, _stored_form(document, secret_type)):
        return _with_secret_values(existing, unchanged)

    if existing.get("immutable"):
        if not force:
            raise ClusterStateError(
                f"the secret {where} is immutable, so its content cannot be changed; set force: true to delete and "
                "re-create it"
            )
        return _with_secret_values(existing, unchanged._replace(action="recreate", secret=new_secret(recreate=True)))

    return _with_secret_values(existing, unchanged._replace(action="update", secret=new_secret(recreate=False)))


def _someone_elses(existing: Mapping[str, Any]) -> str | None:
    """Why a Secret is not this task's to write (what manages or owns it), or None."""
    metadata = existing.get("metadata") or {}
    # a registry pull secret openshift-controller-manager manages is the controller's, never one to write
    account = managed_secret_owner(existing)
    if account:
        return (
            f"is managed by OpenShift: it holds the registry token of the service account {account}, which "
            "openshift-controller-manager writes and rotates, so what this task wrote would be lost (and the "
            "service account's pulls from the integrated registry broken); give your credentials a secret of their "
            "own and link it with link_service_accounts"
        )
    owners = [
        f"{owner.get('kind', '?')} {owner.get('name', '?')}"
        for owner in metadata.get("ownerReferences") or []
        if isinstance(owner, Mapping)
    ]
    if owners:
        return (
            f"is owned by {', '.join(owners)} (metadata.ownerReferences): it is deleted with its owner, and what "
            "manages the owner may write it too"
        )
    return None


def _with_secret_values(existing: Mapping[str, Any] | None, plan: PullSecretPlan) -> PullSecretPlan:
    if plan.secret is not None and (size := secret_data_size(plan.secret)) > SECRET_DATA_LIMIT:
        where = f"{plan.secret['metadata'].get('namespace')}/{plan.secret['metadata'].get('name')}"
        raise InvalidInputError(
            f"the secret {where} would hold {size:,} bytes of data, more than the {SECRET_DATA_LIMIT:,} bytes the "
            "API server allows in one Secret; nothing was written. Split the registries over several pull secrets "
            "(link_service_accounts can link each of them)"
        )
    values = secret_data_values(existing) | secret_data_values(plan.secret)
    return plan._replace(secret_values=frozenset(values))


def _stored_form(document: Mapping[str, Any], secret_type: str) -> Mapping[str, Any]:
    # dockercfg cannot hold top-level fields besides the entries; compare what would be stored.
    return {"auths": document.get("auths") or {}} if secret_type == DOCKERCFG else document


def _type_conflict_message(where: str, current: Any, wanted: str) -> str:
    current = current or "Opaque"
    hint = ""
    if current == PODMANCONFIGJSON:
        hint = " (a podmanconfigjson secret is ignored for pulls anyway)"
    elif current not in DATA_KEYS:
        hint = " (the kubelet ignores that type for pulls)"
    return (
        f"the secret {where} exists with type {current}{hint}, but this task writes {wanted}; the type of a Secret "
        "cannot be changed. Set force: true to delete and re-create it, or use another name"
    )


# ---------------------------------------------------------------------------------------------------------------
# Reads and writes


def summary(secret_type: str | None, document: Mapping[str, Any] | None) -> dict[str, Any]:
    if document is None:
        return {}
    return {"type": secret_type, "registries": summarize_document(document)}


def as_new_object(secret: Mapping[str, Any]) -> dict[str, Any]:
    """``secret`` without the fields the server assigns, ready to be created again."""
    metadata = secret.get("metadata") or {}
    kept = {key: metadata[key] for key in ("name", "namespace", "labels", "annotations") if metadata.get(key)}
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": kept,
        **{key: secret[key] for key in ("type", "data", "immutable") if key in secret},
    }
