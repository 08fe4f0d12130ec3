# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one write loop of every module: read the object, plan the change, write it with the ``resourceVersion`` it
was planned from, and on a conflict or a lost answer read and plan again. Built on ``KubeClient``'s contract only.
"""

from __future__ import annotations

import copy
import random
import time
from collections.abc import Callable, Mapping
from typing import Any, Generic, NamedTuple, Protocol, TypeVar, cast

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import (
    ConflictError,
    KubeApiError,
    KubeConnectionError,
    NotFoundError,
    UncertainWriteError,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.api import KubeApi

# Writes whose answers were lost, each read back and found not applied, before read_modify_write gives up.
LOST_WRITE_ATTEMPTS = 5


class Planned(Protocol):
    """What a plan function may return instead of the bare object: a plan that names the object to write."""

    @property
    def write(self) -> dict | None: ...


PlanT = TypeVar("PlanT")
_UNREAD: Any = object()
_UNPLANNED: Any = object()


class WriteOutcome(NamedTuple, Generic[PlanT]):
    """What ``read_modify_write`` did: the object before and after, and the plan it carried out (the one made from
    the last object read, after any conflicts)."""

    before: dict | None
    after: dict | None
    changed: bool
    conflicts: int = 0
    plan: PlanT | None = None


def read_modify_write(
    client: KubeApi,
    path: str,
    plan: Callable[[dict | None], PlanT],
    *,
    current: dict | None = _UNREAD,
    planned: PlanT = _UNPLANNED,
    create_path: str | None = None,
    check_mode: bool = False,
    attempts: int = 10,
    before_write: Callable[[PlanT, dict | None], None] | None = None,
) -> WriteOutcome[PlanT]:
    """Plan from the current object, write what the plan says, and on a 409 read again and plan again.

    ``plan(current)`` gets its own copy of the object (None when missing) and returns either the wanted object
    (``None``: no change) or a plan whose ``write`` is that object; it must not change anything outside itself.
    ``current`` is an object already read (the first GET is skipped). ``planned`` is a plan the caller already made
    from ``current`` without changing it: it is carried out as it is, and only an object read again (after a
    conflict or a lost write) goes to ``plan``. The wanted object is PUT with the current
    ``resourceVersion`` (POSTed to ``create_path`` when missing), so a concurrent change is detected, never
    overwritten. ``before_write(plan, current)`` runs before each write is sent (not in check mode): the place for
    a side effect that belongs to the write, such as a backup of what it replaces.

    A write whose answer was lost (``UncertainWriteError``) is never sent again as it was: the object is read
    again and planned again. When that plan wants nothing more, the lost write was applied (``changed``, with
    ``before`` the object it replaced); otherwise it was not, and the new plan is written with the new
    ``resourceVersion``.
    """
    conflicts = 0
    lost_writes = 0
    lost: UncertainWriteError | None = None
    # the latest lost write: the object it was planned from, and its plan
    replaced: dict | None = None
    lost_plan: PlanT | None = None
    if planned is not _UNPLANNED and current is _UNREAD:
        raise ValueError("read_modify_write: planned is the plan made from current, so current must be given too")
    while True:
        if current is _UNREAD:
            current = client.get(path, allow_missing=True) if lost is None else _read_after(lost, client, path)
        # a pass after the first follows a new read, which planned was not made from
        decided = plan(copy.deepcopy(current)) if planned is _UNPLANNED else planned
        planned = _UNPLANNED
        wanted = decided if decided is None or isinstance(decided, dict) else cast(Planned, decided).write
        if wanted is None or _same_object(current, wanted):
            if lost_writes:  # the lost write was applied: report it, not the plan that found nothing left to do
                return WriteOutcome(before=replaced, after=current, changed=True, conflicts=conflicts, plan=lost_plan)
            return WriteOutcome(before=current, after=current, changed=False, conflicts=conflicts, plan=decided)
        if lost is not None and lost_writes >= LOST_WRITE_ATTEMPTS:
            raise KubeConnectionError(
                f"{lost.message}. {lost_writes} writes of {path} were lost like this; it was read again after each "
                "and does not hold the change: nothing was changed. Run the task again once the connection to the "
                "API server is stable"
            )
        write, target, wanted = _write_for(client, path, create_path, current, wanted)
        if check_mode:
            return WriteOutcome(before=current, after=wanted, changed=True, conflicts=conflicts, plan=decided)
        if before_write is not None:
            before_write(decided, current)
        try:
            after = write(target, wanted)
        except ConflictError as error:
            conflicts += 1
            if conflicts >= attempts:
                raise ConflictError(
                    f"{error.message.rstrip('.')}; gave up after {conflicts} conflicting writes: something else "
                    "keeps changing the object",
                    status=409,
                    reason=error.reason,
                    method=error.method,
                    path=error.path,
                    details=error.details,
                ) from None
            # Exponential backoff with full jitter before reading again: 20 writers on one image stream (whose
            # writes pass through kube-apiserver to openshift-apiserver) spread out instead of colliding again.
            time.sleep(random.uniform(0, min(0.5, 0.02 * 2**conflicts)))  # noqa: S311 - jitter
            current = _UNREAD
            continue
        except UncertainWriteError as error:
            lost_writes += 1
            lost, replaced, lost_plan, current = error, current, decided, _UNREAD
            continue
        return WriteOutcome(before=current, after=after, changed=True, conflicts=conflicts, plan=decided)


def _write_for(
    client: KubeApi, path: str, create_path: str | None, current: dict | None, wanted: dict
) -> tuple[Callable[[str, Mapping[str, Any]], dict], str, dict]:
    """How ``wanted`` is written: PUT over ``current`` with its resourceVersion, or POST when there is none."""
    if current is not None:
        return client.replace, path, _with_resource_version(wanted, current)
    if create_path is not None:
        return client.create, create_path, wanted
    raise NotFoundError(
        f"GET {path}: the object does not exist and this task does not create it; create it first",
        status=404,
        reason="NotFound",
        method="GET",
        path=path,
    )


def _read_after(lost: UncertainWriteError, client: KubeApi, path: str) -> dict | None:
    """The object after a write whose answer was lost; when even that read fails, the error says both."""
    try:
        return client.get(path, allow_missing=True)
    except (KubeConnectionError, KubeApiError) as error:
        raise UncertainWriteError(
            f"{lost.message}, and reading {path} again to find out failed too ({error.message}). The object is "
            "either as it was before or as the task wanted it, never in between: run the task again, it writes "
            "only what is missing",
            method=lost.method,
            path=path,
        ) from None


def _same_object(current: dict | None, wanted: dict) -> bool:
    return current is not None and current == wanted


def _with_resource_version(wanted: dict, current: dict) -> dict:
    version = (current.get("metadata") or {}).get("resourceVersion")
    metadata = wanted.get("metadata") or {}
    if version is None or metadata.get("resourceVersion"):
        return wanted
    return {**wanted, "metadata": {**metadata, "resourceVersion": version}}
