# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""I/O for ``image_puller_binding``: read RoleBindings, write the decisions ``plan`` makes, and prove the result with
access reviews. All decisions are in ``_image_puller_binding/plan.py`` and ``_rbac/authorization.py``; this file only
talks to the API server.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeAlias

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import (
    ClusterStateError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    PartialChangeError,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._image_puller_binding import plan
from ansible_collections.openshift_ops.images.plugins.module_utils._image_puller_binding.request import (
    PullerBindingRequest,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.api import KubeApi
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.names import (
    cluster_role_binding_path,
    cluster_role_path,
    namespace_path,
    role_binding_path,
    role_path,
    service_account_path,
    validate_namespace_name,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.read_modify_write import read_modify_write
from ansible_collections.openshift_ops.images.plugins.module_utils._operation import Outcome, RunContext
from ansible_collections.openshift_ops.images.plugins.module_utils._rbac import authorization as rbac
from ansible_collections.openshift_ops.images.plugins.module_utils._rbac.authorization import Subject
from ansible_collections.openshift_ops.images.plugins.module_utils._rbac.reviews import PullAccessReviewer

# The RBAC authorizer works from a watch cache: a binding just written takes a moment to count.
VERIFY_SETTLE_SECONDS = 15.0
POLL_SECONDS = 0.5
WRITE_ATTEMPTS = 5


class _SubjectReport:
    """What became of one subject, filled in as the run goes (a plain class: a dataclass is compiled on every run
    of the shipped module)."""

    __slots__ = ("action", "allowed", "bindings", "exists", "granted_by", "reason", "subject")

    def __init__(self, subject: Subject) -> None:
        self.subject = subject
        self.action = ""
        self.bindings: list[str] = []
        self.exists: bool | None = None
        self.allowed: bool | None = None
        self.reason: str | None = None
        self.granted_by: list[str] | None = None

    def as_result(self) -> dict[str, Any]:
        result = self.subject.as_result() | {"action": self.action, "bindings": self.bindings}
        if self.exists is not None:
            result["exists"] = self.exists
        if self.allowed is not None:
            result["allowed"] = self.allowed
            result["reason"] = self.reason
        if self.granted_by is not None:
            result["granted_by"] = self.granted_by
        return result


def _items(client: KubeApi, path: str) -> list[dict]:
    listing = client.get(path) or {}
    return list(listing.get("items") or [])


def _role_bindings(client: KubeApi, namespace: str) -> list[dict]:
    items = _items(client, role_binding_path(namespace))
    for item in items:  # list items may omit it; decisions read the binding's namespace
        item.setdefault("metadata", {}).setdefault("namespace", namespace)
    return items


# ---------------------------------------------------------------------------------------------------------------
# Checks before any write


def _check_role(client: KubeApi, request: PullerBindingRequest, warn: Callable[[str], None]) -> None:
    try:
        role = client.get(cluster_role_path(request.role), allow_missing=True)
    except ForbiddenError:
        if request.verify and request.state == "present":
            warn(
                f"cannot read ClusterRole {request.role} (forbidden) to check that it exists and grants pulls; "
                "the access review after the change still proves the result"
            )
        return
    if role is None:
        message = f"ClusterRole {request.role} does not exist"
        if request.verify and request.state == "present":
            raise ClusterStateError(
                f"{message}, so binding it grants nothing; check the role name (image pulls need "
                "system:image-puller, pushes system:image-pusher) or set verify: false to bind it anyway"
            )
        warn(message)
        return
    if request.verify and request.state == "present" and not rbac.rules_allow_pull(role.get("rules")):
        raise ClusterStateError(
            f"ClusterRole {request.role} does not grant get on imagestreams/layers (image.openshift.io), which "
            "pulling images needs; use system:image-puller (or system:image-pusher, edit, admin), or set "
            "verify: false if the role is meant for something else"
        )


def _namespace_exists(client: KubeApi, namespace: str) -> bool | None:
    try:
        return client.get(namespace_path(namespace), allow_missing=True) is not None
    except ForbiddenError:
        return None


def _subject_presence(client: KubeApi, subject: Subject) -> tuple[bool | None, str]:
    """Whether the service accounts behind a subject exist yet, and what is missing (None: cannot tell)."""
    if subject.kind == rbac.SERVICE_ACCOUNT:
        try:
            account = client.get(service_account_path(subject.namespace, subject.name), allow_missing=True)
        except ForbiddenError:
            return None, ""
        if account is not None:
            return True, ""
        if _namespace_exists(client, subject.namespace) is False:
            return False, f"namespace {subject.namespace} does not exist"
        return False, f"service account {subject.namespace}/{subject.name} does not exist"
    prefix = f"{rbac.SERVICE_ACCOUNTS_GROUP}:"
    if subject.kind == rbac.GROUP and subject.name.startswith(prefix):
        namespace = subject.name[len(prefix) :]
        exists = _namespace_exists(client, namespace)
        return exists, "" if exists is not False else f"namespace {namespace} does not exist"
    return None, ""


def _check_subjects_exist(
    client: KubeApi,
    request: PullerBindingRequest,
    reports: Sequence[_SubjectReport],
    warn: Callable[[str], None],
) -> None:
    deadline = time.monotonic() + request.wait_timeout
    for report in reports:
        exists, missing = _subject_presence(client, report.subject)
        while exists is False and request.wait_for_service_accounts and time.monotonic() < deadline:
            time.sleep(POLL_SECONDS)
            exists, missing = _subject_presence(client, report.subject)
        report.exists = exists
        if exists is False and request.wait_for_service_accounts:
            raise ClusterStateError(
                f"{missing} after waiting {request.wait_timeout:g} s (wait_for_service_accounts); create it, "
                "or raise wait_timeout; nothing was changed"
            )
        if exists is None and request.wait_for_service_accounts:
            raise ClusterStateError(
                f"cannot wait for {report.subject.describe()}: reading it is forbidden; grant get on "
                "serviceaccounts and namespaces, or set wait_for_service_accounts: false; nothing was changed"
            )
        if exists is False:
            warn(f"{missing}; the grant takes effect once it is created")


# ---------------------------------------------------------------------------------------------------------------
# Access reviews


class _Reviewer:
    """Reviews subjects' pull access for ``verify``, waiting out the authorizer's cache."""

    def __init__(self, client: KubeApi, namespace: str) -> None:
        self._reviewer = PullAccessReviewer(client, namespace)
        self._namespace = namespace

    def review(self, subject: Subject) -> tuple[bool, str]:
        try:
            return self._reviewer.review(subject)
        except ForbiddenError as error:
            raise ClusterStateError(
                "verify: creating subjectaccessreviews and localsubjectaccessreviews in namespace "
                f"{self._namespace} are both forbidden for this user, so access cannot be proven; grant one of "
                "them (a project admin has the local one) or set verify: false"
            ) from error

    def settle(self, subject: Subject, *, want: bool) -> tuple[bool, str]:
        """Review until the answer is ``want`` or the authorizer's cache has had time to catch up."""
        deadline = time.monotonic() + VERIFY_SETTLE_SECONDS
        allowed, reason = self.review(subject)
        while allowed != want and time.monotonic() < deadline:
            time.sleep(POLL_SECONDS)
            allowed, reason = self.review(subject)
        return allowed, reason


def _role_grants_pull(client: KubeApi, binding: Mapping[str, Any], cache: dict[tuple[str, str], bool]) -> bool:
    ref = binding.get("roleRef") or {}
    namespace = rbac.binding_namespace(binding)
    key = (
        ref.get("kind", ""),
        f"{namespace}/{ref.get('name', '')}" if ref.get("kind") == "Role" else ref.get("name", ""),
    )
    if key not in cache:
        name = str(ref.get("name", ""))
        path = role_path(namespace, name) if ref.get("kind") == "Role" else cluster_role_path(name)
        try:
            role = client.get(path, allow_missing=True)
            cache[key] = role is not None and rbac.rules_allow_pull(role.get("rules"))
        except ForbiddenError:
            cache[key] = True  # cannot read the role: name the binding rather than hide it
    return cache[key]


def _bindings_granting(
    client: KubeApi, subject: Subject, role_bindings: Iterable[Mapping[str, Any]]
) -> tuple[list[str], bool]:
    """Role- and ClusterRoleBindings through which the subject (or a group it is in) may still pull, and whether
    ClusterRoleBindings could be read."""
    candidates = list(role_bindings)
    complete = True
    try:
        candidates += _items(client, cluster_role_binding_path())
    except ForbiddenError:
        complete = False
    cache: dict[tuple[str, str], bool] = {}
    found = [
        rbac.describe_binding(binding)
        for binding in rbac.bindings_reaching(candidates, subject)
        if _role_grants_pull(client, binding, cache)
    ]
    return found, complete


# ---------------------------------------------------------------------------------------------------------------
# Writes


def _remove_from_binding(
    client: KubeApi, path: str, subjects: Sequence[Subject], *, check_mode: bool
) -> tuple[dict | None, dict | None, bool]:
    """Take subjects out of one binding, deleting it when left empty: (before, after, changed), after None if gone.

    Not ``read_modify_write``: a delete must carry the resourceVersion precondition so that a subject someone
    added meanwhile is never deleted with it.
    """
    for _attempt in range(WRITE_ATTEMPTS):
        current = client.get(path, allow_missing=True)
        removal = plan.remove_subjects(current, subjects=subjects)
        if removal is None:
            return current, current, False
        if check_mode:
            return current, None if removal.delete else removal.binding, True
        metadata = (current or {}).get("metadata", {})
        try:
            if removal.delete:
                preconditions = {"resourceVersion": metadata.get("resourceVersion"), "uid": metadata.get("uid")}
                # allow_missing: deleted by someone else meanwhile, the subjects are gone either way
                client.delete(
                    path,
                    allow_missing=True,
                    body={"apiVersion": "v1", "kind": "DeleteOptions", "preconditions": preconditions},
                )
                return current, None, True
            return current, client.replace(path, removal.binding), True
        except ConflictError:
            continue
    raise ClusterStateError(
        f"{path} kept changing while subjects were removed ({WRITE_ATTEMPTS} conflicts in a row); run again"
    )


# binding name -> (before, after); None is "no binding"
Changes: TypeAlias = "dict[str, tuple[dict | None, dict | None]]"


def _present(
    client: KubeApi,
    request: PullerBindingRequest,
    reports: Sequence[_SubjectReport],
    bindings: list[dict],
    *,
    check_mode: bool,
) -> Changes:
    role_bindings = rbac.bindings_for_role(bindings, request.role)
    target = plan.target_binding_name(bindings, role=request.role, wanted_name=request.binding_name)
    missing: list[Subject] = []
    for report in reports:
        report.bindings = rbac.holding_bindings(role_bindings, report.subject)
        if report.bindings:
            report.action = "already_bound"
        else:
            missing.append(report.subject)
    if not missing:
        return {}
    try:
        outcome = read_modify_write(
            client,
            role_binding_path(request.namespace, target),
            lambda current: plan.add_subjects(
                current, namespace=request.namespace, name=target, role=request.role, subjects=missing
            ),
            create_path=role_binding_path(request.namespace),
            check_mode=check_mode,
        )
    except NotFoundError as error:
        raise ClusterStateError(
            f"namespace {request.namespace} does not exist (creating RoleBinding {target} failed); "
            "create the project first"
        ) from error
    held_before = set(rbac.binding_subjects(outcome.before)) if outcome.before else set()
    for report in reports:
        if report.subject in missing:
            # someone may have added it to the target between our list and our write
            report.action = "already_bound" if report.subject in held_before else "added"
            report.bindings = [target]
    return {target: (outcome.before, outcome.after)} if outcome.changed else {}


def _absent(
    client: KubeApi,
    request: PullerBindingRequest,
    reports: Sequence[_SubjectReport],
    bindings: list[dict],
    *,
    check_mode: bool,
) -> Changes:
    candidates: list[Mapping[str, Any]]
    if request.binding_name:
        candidates = [binding for binding in bindings if rbac.binding_name(binding) == request.binding_name]
        for binding in candidates:
            plan.check_binding_role(binding, role=request.role)
    else:
        candidates = rbac.bindings_for_role(bindings, request.role)
    subjects = [report.subject for report in reports]
    changes: Changes = {}
    for binding in candidates:
        if set(subjects).isdisjoint(rbac.binding_subjects(binding)):
            continue
        name = rbac.binding_name(binding)
        before, after, changed = _remove_from_binding(
            client, role_binding_path(request.namespace, name), subjects, check_mode=check_mode
        )
        if changed:
            changes[name] = (before, after)
    for report in reports:
        report.bindings = [
            name
            for name, (before, _after) in changes.items()
            if before is not None and report.subject in rbac.binding_subjects(before)
        ]
        report.action = "removed" if report.bindings else "not_bound"
    return changes


def _predicted_bindings(bindings: Iterable[dict], changes: Changes) -> list[dict]:
    """The namespace's RoleBindings as they will be once ``changes`` are written."""
    predicted = []
    for binding in bindings:
        name = rbac.binding_name(binding)
        after = changes[name][1] if name in changes else binding
        if after is not None:
            predicted.append(after)
    return predicted


def _verify(
    client: KubeApi,
    request: PullerBindingRequest,
    reports: Sequence[_SubjectReport],
    *,
    bindings: list[dict],
    changes: Changes,
    reviewer: _Reviewer,
    reviewed_before: Mapping[Subject, tuple[bool, str]],
    warn: Callable[[str], None],
    check_mode: bool,
) -> list[_SubjectReport]:
    """Review every subject; return those refused although access is wanted and this run cannot fix it.

    In check mode the reviews see the cluster as it is, so a subject the run would add is not held against it,
    and for state=absent the bindings that would remain are predicted from the listing. When the run wrote
    nothing, a subject reviewed before the writes is not reviewed again: the answer would be the same.
    """
    wrote = bool(changes) and not check_mode
    refused: list[_SubjectReport] = []
    for report in reports:
        answer = None if wrote else reviewed_before.get(report.subject)
        report.allowed, report.reason = answer if answer is not None else reviewer.review(report.subject)
        if request.state == "present":
            if wrote and not report.allowed:
                report.allowed, report.reason = reviewer.settle(report.subject, want=True)
            if not report.allowed and not (check_mode and report.action == "added"):
                refused.append(report)
            continue
        if not report.allowed:
            continue
        after = _predicted_bindings(bindings, changes) if check_mode else _role_bindings(client, request.namespace)
        report.granted_by, complete = _bindings_granting(client, report.subject, after)
        if wrote and not report.granted_by:
            # nothing we can see grants it: most likely the authorizer has not seen the removal yet
            report.allowed, report.reason = reviewer.settle(report.subject, want=False)
            if not report.allowed:
                report.granted_by = None
                continue
        if check_mode and not report.granted_by:
            continue  # allowed now only through what this run removes
        where = ", ".join(report.granted_by) or "a binding this user cannot see"
        if not complete:
            where += " (ClusterRoleBindings could not be listed)"
        tense = "would still be able to" if check_mode else "can still"
        warn(f"{report.subject.describe()} {tense} pull images from {request.namespace} through {where}")
    return refused


# ---------------------------------------------------------------------------------------------------------------
# Entry point


def apply_image_puller_binding(client: KubeApi, request: PullerBindingRequest, run: RunContext) -> Outcome:
    """Make ``request.subjects`` hold (or no longer hold) ``request.role`` in ``request.namespace``.

    Raises ``PartialChangeError`` (carrying the result: what the run did before finding out) when verification
    finds a subject still unable to pull.
    """
    namespace = validate_namespace_name(request.namespace or client.default_namespace, what="namespace")
    request = request._replace(namespace=namespace)
    check_mode = run.check_mode
    warnings: list[str] = []
    warn = warnings.append
    reports = [_SubjectReport(subject) for subject in request.subjects]
    reviewer = _Reviewer(client, request.namespace)
    # answers from before any write, which still stand when the run writes nothing
    reviewed_before: dict[Subject, tuple[bool, str]] = {}
    _check_role(client, request, warn)
    if request.state == "present":
        if _namespace_exists(client, request.namespace) is False:
            raise ClusterStateError(f"namespace {request.namespace} does not exist; create the project first")
        _check_subjects_exist(client, request, reports, warn)
        if request.verify and not check_mode:
            first = request.subjects[0]
            reviewed_before[first] = reviewer.review(first)  # fails here, before any write, when reviews are forbidden
    bindings = _role_bindings(client, request.namespace)
    act = _present if request.state == "present" else _absent
    changes = act(client, request, reports, bindings, check_mode=check_mode)
    for name, (_before, after) in changes.items():
        if after is not None and plan.is_autoupdated(after):
            warn(f'RoleBinding {request.namespace}/{name} is annotated autoupdate: "true"; a reconciler may undo this')
    refused = []
    if request.verify:
        refused = _verify(
            client,
            request,
            reports,
            bindings=bindings,
            changes=changes,
            reviewer=reviewer,
            reviewed_before=reviewed_before,
            warn=warn,
            check_mode=check_mode,
        )
    result: dict[str, Any] = {
        "changed": bool(changes),
        "bindings": sorted(changes),
        "subjects": [report.as_result() for report in reports],
    }
    if run.want_diff:
        result["diff"] = {
            "before": {name: plan.binding_summary(before) for name, (before, _after) in changes.items() if before},
            "after": {name: plan.binding_summary(after) for name, (_before, after) in changes.items() if after},
        }
    if refused:
        names = "; ".join(f"{report.subject.describe()}: {report.reason}" for report in refused)
        when = "is already bound but" if check_mode else "after the change,"
        raise PartialChangeError(
            f"access review in namespace {request.namespace}: {when} still not allowed to get imagestreams/layers "
            f"({names}); check the rules of ClusterRole {request.role} and any authorization webhook",
            result=result,
        )
    return Outcome(result, warnings)
