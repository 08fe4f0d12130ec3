# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The I/O half of ``pull_secret``: read the Secret, write what ``plan.py`` decided (with the conflict retry, the
preconditioned delete and the delete + create of a type change), check the credentials each plan writes with their
registries before it is carried out, and link service accounts.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import (
    ClusterStateError,
    ConflictError,
    ImagesError,
    NotFoundError,
    PartialChangeError,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.api import KubeApi
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.names import secret_path
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.read_modify_write import read_modify_write
from ansible_collections.openshift_ops.images.plugins.module_utils._operation import Outcome, RunContext
from ansible_collections.openshift_ops.images.plugins.module_utils._pull_secret.plan import (
    DATA_KEYS,
    PODMANCONFIGJSON,
    PullSecretPlan,
    as_new_object,
    plan_pull_secret,
    resolve_secret_type,
    summary,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._pull_secret.request import PullSecretRequest
from ansible_collections.openshift_ops.images.plugins.module_utils._registry.auth_document import (
    document_warnings,
    entries_written,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._registry.credential_lookup import (
    key_reading_warnings,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._registry.pull_secret_data import (
    read_secret_document,
    secret_data_values,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._registry.redaction import summarize_document

if TYPE_CHECKING:
    from ansible_collections.openshift_ops.images.plugins.module_utils._registry.credential_flow import (
        CredentialChecks,
    )
    from ansible_collections.openshift_ops.images.plugins.module_utils._service_accounts.linking import LinkOutcome


def _delete_unchanged(client: KubeApi, path: str, existing: Mapping[str, Any]) -> None:
    # Preconditions: never delete a secret that changed since it was read.
    metadata = existing.get("metadata", {})
    body = {
        "apiVersion": "v1",
        "kind": "DeleteOptions",
        "preconditions": {"uid": metadata.get("uid"), "resourceVersion": metadata.get("resourceVersion")},
    }
    client.request("DELETE", path, body=body)


def _create_after_delete(
    client: KubeApi, collection: str, secret: Mapping[str, Any], *, sleep: Callable[[float], None], attempts: int = 20
) -> dict[str, Any]:
    # A deleted Secret with finalizers lingers for a moment: AlreadyExists (409) until it is gone.
    for _attempt in range(attempts - 1):
        try:
            return client.create(collection, secret)
        except ConflictError:
            sleep(0.5)
    return client.create(collection, secret)


class _Context(NamedTuple):
    """What every step of one run shares."""

    client: KubeApi
    request: PullSecretRequest
    namespace: str
    check_mode: bool
    register_secret_values: Callable[[Iterable[str]], None]
    sleep: Callable[[float], None]

    @property
    def path(self) -> str:
        return secret_path(self.namespace, self.request.name)

    @property
    def collection(self) -> str:
        return secret_path(self.namespace)

    @property
    def header(self) -> str:
        return f"secret {self.namespace}/{self.request.name}"


def _write_secret(
    ctx: _Context, secret_type: str, entries: Mapping[str, Mapping[str, Any]], checks: CredentialChecks | None
) -> tuple[PullSecretPlan, dict[str, Any] | None]:
    """Plan against the current secret, check the credentials the plan writes, and write it; return (the plan
    carried out, the secret as it was)."""
    request = ctx.request
    plan_secret = functools.partial(
        plan_pull_secret,
        name=request.name,
        namespace=ctx.namespace,
        secret_type=secret_type,
        entries=entries,
        merge=request.merge,
        remove_registries=request.remove_registries,
        force=request.force,
    )

    def plan_and_check(current: dict[str, Any] | None) -> PullSecretPlan:
        plan = plan_secret(current)
        if checks is not None:
            # every plan, also one made again after a conflict, is checked before it is carried out
            checks.ensure_checked(entries_written(entries, plan.before, plan.after))
        return plan

    outcome = read_modify_write(
        ctx.client,
        ctx.path,
        plan_and_check,
        create_path=ctx.collection,
        check_mode=ctx.check_mode,
    )
    plan = outcome.plan
    if plan is None:  # the plan function always returns one; for the type checker
        raise AssertionError("read_modify_write returned no plan")
    ctx.register_secret_values(plan.secret_values)
    if plan.action == "recreate" and not ctx.check_mode and plan.secret is not None and outcome.before is not None:
        _recreate(ctx, outcome.before, plan.secret)
    return plan, outcome.before


def _recreate(ctx: _Context, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
    """A type change: delete exactly the secret that was read, create the new one; if that fails, put the old one
    back. Every failure says what the namespace holds now."""
    where = f"{ctx.namespace}/{ctx.request.name}"
    change = f"to change its type from {old.get('type') or 'Opaque'} to {new.get('type')}"
    try:
        _delete_unchanged(ctx.client, ctx.path, old)
    except ConflictError:
        raise ClusterStateError(
            f"the secret {where} changed since it was read, so it was not deleted {change}; nothing was changed. "
            "Run the task again"
        ) from None
    try:
        _create_after_delete(ctx.client, ctx.collection, new, sleep=ctx.sleep)
    except ImagesError as error:
        try:
            _create_after_delete(ctx.client, ctx.collection, as_new_object(old), sleep=ctx.sleep, attempts=3)
        except ImagesError as restore_error:
            raise PartialChangeError(
                f"the secret {where} was deleted {change}, but creating the new one failed ({error}) and putting the "
                f"old one back failed too ({restore_error}): the namespace has no secret {ctx.request.name} now. "
                "Run the task again to create it",
                result={"changed": True, "action": "deleted"},
            ) from None
        raise PartialChangeError(
            f"the secret {where} was deleted {change}, but creating the new one failed ({error}); the old secret was "
            "put back with the same data, type, labels and annotations (a new uid). Fix the cause and run the task "
            "again",
            result={"changed": True, "action": "restored"},
        ) from None


def _link_accounts(ctx: _Context, state: str) -> list[LinkOutcome]:
    if not ctx.request.link_service_accounts:
        return []
    # the service account reads and writes are compiled only for a task that links
    from ansible_collections.openshift_ops.images.plugins.module_utils._service_accounts.linking import (  # noqa: PLC0415
        link_secrets,
    )

    return [
        link_secrets(
            ctx.client,
            namespace=ctx.namespace,
            service_account=account,
            names=[ctx.request.name],
            purposes=["pull"],
            state=state,
            check_mode=ctx.check_mode,
            # The secret was just written (or, in check mode, would be).
            check_secrets=False,
        )
        for account in ctx.request.link_service_accounts
    ]


def _add_links(result: dict[str, Any], diff: dict[str, Any], links: list[LinkOutcome], warnings: list[str]) -> None:
    result["service_accounts"] = [link.as_result() for link in links]
    result["changed"] = result["changed"] or any(link.changed for link in links)
    for link in links:
        warnings.extend(link.warnings)
    if links:
        diff["before"]["service_accounts"] = {link.service_account: link.lists_before for link in links}
        diff["after"]["service_accounts"] = {link.service_account: link.lists_after for link in links}


_ACTIONS = {"create": "created", "update": "updated", "recreate": "replaced", "none": "unchanged"}


def apply_pull_secret(
    client: KubeApi,
    request: PullSecretRequest,
    run: RunContext,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> Outcome:
    """Run the ``pull_secret`` module's request. The request's own secrets were hidden when it was built; every
    secret value met in the cluster goes to ``run.hide`` before anything could print it."""
    ctx = _Context(
        client=client,
        request=request,
        namespace=request.namespace or client.default_namespace,
        check_mode=run.check_mode,
        register_secret_values=run.hide,
        sleep=sleep,
    )
    secret_type, warnings = resolve_secret_type(request.requested_type)
    if request.state == "absent":
        result, diff = _apply_absent(ctx)
    else:
        result, diff = _apply_present(ctx, secret_type, warnings)
    _add_links(result, diff, _link_accounts(ctx, request.state), warnings)
    if run.want_diff:
        result["diff"] = diff
    return Outcome(result, warnings)


def _apply_present(ctx: _Context, secret_type: str, warnings: list[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    result: dict[str, Any] = {}
    checks = None
    if ctx.request.validate_credentials:
        # the registry check (its HTTP, challenges and proxies) is compiled only for a task that asks for it
        from ansible_collections.openshift_ops.images.plugins.module_utils._registry.check import check_all  # noqa: PLC0415
        from ansible_collections.openshift_ops.images.plugins.module_utils._registry.credential_flow import (  # noqa: PLC0415
            CredentialChecks,
        )

        checks = CredentialChecks(check=check_all, tls=ctx.request.registry_tls)
    plan, before_secret = _write_secret(ctx, secret_type, ctx.request.credentials.entries, checks)
    if checks is not None:
        result["credential_checks"], check_warnings = checks.report()
        warnings.extend(check_warnings)
    warnings.extend(plan.warnings)
    warnings.extend(document_warnings(plan.after))
    warnings.extend(key_reading_warnings(plan.after.get("auths") or {}))
    result.update(
        {
            "changed": plan.changed,
            "action": _ACTIONS[plan.action],
            "secret": {
                "name": ctx.request.name,
                "namespace": ctx.namespace,
                "type": secret_type,
                "registries": summarize_document(plan.after),
            },
            "registries_added": plan.added,
            "registries_updated": plan.updated,
            "registries_removed": plan.removed,
        }
    )
    before: dict[str, Any] = {}
    if before_secret is not None:
        before = summary(before_secret.get("type"), plan.before) or {
            "type": before_secret.get("type"),
            "registries": "(content not readable as a pull secret)",
        }
    diff = {
        "before_header": ctx.header,
        "after_header": ctx.header,
        "before": before,
        "after": summary(secret_type, plan.after),
    }
    return result, diff


def _delete_what_was_checked(ctx: _Context, *, attempts: int = 5) -> dict[str, Any] | None:
    """Read the secret, check it is a pull secret, delete exactly that one (uid and resourceVersion as
    preconditions); when it changed in between (409), read and check again. Returns what was deleted, or None."""
    for attempt in range(1, attempts + 1):
        existing = ctx.client.get(ctx.path, allow_missing=True)
        ctx.register_secret_values(secret_data_values(existing))
        if existing is None:
            return None
        if existing.get("type") not in (*DATA_KEYS, PODMANCONFIGJSON) and not ctx.request.force:
            raise ClusterStateError(
                f"the secret {ctx.namespace}/{ctx.request.name} has type {existing.get('type') or 'Opaque'}, which "
                "is not a pull secret; it was not deleted. Set force: true to delete it anyway"
            )
        if ctx.check_mode:
            return existing
        try:
            _delete_unchanged(ctx.client, ctx.path, existing)
        except NotFoundError:
            return None  # someone else deleted it meanwhile: nothing left for this task to do
        except ConflictError:
            if attempt == attempts:
                raise
            continue  # changed since it was read: decide again on what is there now
        return existing
    return None


def _apply_absent(ctx: _Context) -> tuple[dict[str, Any], dict[str, Any]]:
    existing = _delete_what_was_checked(ctx)
    before_document = read_secret_document(existing) if existing is not None else None
    result: dict[str, Any] = {
        "changed": existing is not None,
        "action": "deleted" if existing is not None else "unchanged",
        "secret": {"name": ctx.request.name, "namespace": ctx.namespace, "type": None, "registries": {}},
        "registries_added": [],
        "registries_updated": [],
        "registries_removed": sorted((before_document or {}).get("auths") or {}),
    }
    before: dict[str, Any] = {}
    if existing is not None:
        before = summary(existing.get("type"), before_document) or {"type": existing.get("type")}
    diff = {"before_header": ctx.header, "after_header": ctx.header, "before": before, "after": {}}
    return result, diff
