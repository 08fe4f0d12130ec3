# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""RBAC subjects and RoleBinding decisions for image pull grants, as pure functions (no I/O).

Parses the subjects users write, decides which RoleBinding gains or loses them, and builds and reads the
SubjectAccessReviews that prove who may pull (``get imagestreams/layers``), following ``oc policy`` (§5).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import (
    ClusterStateError,
    InvalidInputError,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.names import (
    validate_dns_subdomain_name,
    validate_namespace_name,
    validate_path_segment_name,
)

RBAC_API_GROUP = "rbac.authorization.k8s.io"
RBAC_API_VERSION = f"{RBAC_API_GROUP}/v1"
SERVICE_ACCOUNT = "ServiceAccount"
GROUP = "Group"
USER = "User"
CLUSTER_ROLE = "ClusterRole"

SERVICE_ACCOUNT_USER_PREFIX = "system:serviceaccount:"
SERVICE_ACCOUNTS_GROUP = "system:serviceaccounts"
AUTHENTICATED_GROUP = "system:authenticated"
# A user name no person or service account can have, so a group probe is granted only through its groups.
GROUP_PROBE_USER = "system:openshift-ops-images:group-member-probe"

# What pulling an image from an image stream needs (the registry and the TagVerifier both ask this, §2.3, §5.4).
PULL_ATTRIBUTES: Mapping[str, str] = {
    "verb": "get",
    "group": "image.openshift.io",
    "resource": "imagestreams",
    "subresource": "layers",
}

# OpenShift's per-project bindings: a controller re-creates them when deleted, so emptying is how to disable them.
DEFAULT_PROJECT_BINDINGS: Mapping[str, str] = {
    "system:image-pullers": "system:image-puller",
    "system:image-builders": "system:image-builder",
    "system:deployers": "system:deployer",
}
AUTOUPDATE_ANNOTATION = "rbac.authorization.kubernetes.io/autoupdate"


@dataclass(frozen=True)
class Subject:
    """One RBAC subject; ``namespace`` is set for service accounts only."""

    kind: str
    name: str
    namespace: str = ""

    @property
    def reference(self) -> str:
        """The name the authorizer sees: a service account's user name, or the group or user name."""
        if self.kind == SERVICE_ACCOUNT:
            return f"{SERVICE_ACCOUNT_USER_PREFIX}{self.namespace}:{self.name}"
        return self.name

    def describe(self) -> str:
        if self.kind == SERVICE_ACCOUNT:
            return f"service account {self.namespace}/{self.name}"
        return f"{self.kind.lower()} {self.name}"

    def as_rbac(self) -> dict[str, str]:
        """The entry of a RoleBinding's ``subjects`` list, written as ``oc policy`` writes it."""
        if self.kind == SERVICE_ACCOUNT:
            return {"kind": SERVICE_ACCOUNT, "name": self.name, "namespace": self.namespace}
        return {"apiGroup": RBAC_API_GROUP, "kind": self.kind, "name": self.name}

    def as_result(self) -> dict[str, Any]:
        result: dict[str, Any] = {"kind": self.kind, "name": self.name, "subject": self.reference}
        if self.kind == SERVICE_ACCOUNT:
            result["namespace"] = self.namespace
        return result


@dataclass(frozen=True)
class Removal:
    """A binding after subjects were taken out; ``delete`` when nothing is left and it may go."""

    binding: dict[str, Any]
    delete: bool


# ---------------------------------------------------------------------------------------------------------------
# Names and subjects from module options


def validate_service_account_name(value: str, *, what: str) -> str:
    return validate_dns_subdomain_name(value, what=what, kind="service account")


def _service_account_from_parts(namespace: str, name: str, *, original: str) -> Subject:
    what = f"service account {original!r}"
    if not namespace or not name:
        raise InvalidInputError(
            f"{what} has an empty namespace or name; write 'NAMESPACE:NAME', "
            "'system:serviceaccount:NAMESPACE:NAME' or {namespace: NAMESPACE, name: NAME}"
        )
    validate_namespace_name(namespace, what=what)
    validate_service_account_name(name, what=what)
    return Subject(SERVICE_ACCOUNT, name, namespace)


def parse_service_account(value: object) -> Subject:
    """``"ns:name"``, ``"system:serviceaccount:ns:name"`` or ``{namespace, name}`` → a ServiceAccount subject."""
    if isinstance(value, Mapping):
        extra = sorted(str(key) for key in value if key not in {"namespace", "name"})
        if extra:
            raise InvalidInputError(
                f"service account {dict(value)!r} has unknown keys {', '.join(extra)}; only namespace and name"
            )
        namespace, name = value.get("namespace"), value.get("name")
        if not isinstance(namespace, str) or not isinstance(name, str):
            raise InvalidInputError(f"service account {dict(value)!r} needs both namespace and name, as strings")
        return _service_account_from_parts(namespace, name, original=f"{namespace}:{name}")
    if not isinstance(value, str):
        raise InvalidInputError(
            f"service account {value!r} must be a string 'NAMESPACE:NAME' or a dict with namespace and name"
        )
    if value.startswith(f"{SERVICE_ACCOUNTS_GROUP}:"):
        raise InvalidInputError(
            f"service account {value!r} is the group of every service account of a project; "
            f"put the project in from_namespaces instead"
        )
    if value.startswith(SERVICE_ACCOUNT_USER_PREFIX):
        parts = value[len(SERVICE_ACCOUNT_USER_PREFIX) :].split(":")
    else:
        parts = value.split(":")
    if len(parts) != 2:
        raise InvalidInputError(
            f"service account {value!r} is not of the form 'NAMESPACE:NAME' or "
            "'system:serviceaccount:NAMESPACE:NAME' (exactly one namespace and one name, separated by ':')"
        )
    return _service_account_from_parts(parts[0], parts[1], original=value)


def service_accounts_of_namespace(namespace: str) -> Subject:
    """Every service account of a project: the group ``system:serviceaccounts:<ns>``."""
    validate_namespace_name(namespace, what="from_namespaces")
    return Subject(GROUP, f"{SERVICE_ACCOUNTS_GROUP}:{namespace}")


def parse_group(name: object) -> Subject:
    if not isinstance(name, str):
        raise InvalidInputError(f"groups: {name!r} must be a string")
    validate_path_segment_name(name, what="groups")
    if name.startswith(f"{SERVICE_ACCOUNTS_GROUP}:"):
        validate_namespace_name(name[len(SERVICE_ACCOUNTS_GROUP) + 1 :], what=f"group {name!r}")
    return Subject(GROUP, name)


def parse_user(name: object) -> Subject:
    """A user name; ``system:serviceaccount:ns:name`` becomes a ServiceAccount subject, as ``oc policy`` does.

    Unlike oc, a malformed service-account user name is an error rather than a User nobody can be.
    """
    if not isinstance(name, str):
        raise InvalidInputError(f"users: {name!r} must be a string")
    validate_path_segment_name(name, what="users")
    if name.startswith(SERVICE_ACCOUNT_USER_PREFIX):
        return parse_service_account(name)
    return Subject(USER, name)


def requested_subjects(
    *,
    service_accounts: Iterable[object] = (),
    from_namespaces: Iterable[object] = (),
    groups: Iterable[object] = (),
    users: Iterable[object] = (),
) -> tuple[Subject, ...]:
    """All subjects the options name, in order, without duplicates; at least one is required."""
    subjects: list[Subject] = [parse_service_account(value) for value in service_accounts]
    for namespace in from_namespaces:
        if not isinstance(namespace, str):
            raise InvalidInputError(f"from_namespaces: {namespace!r} must be a string")
        subjects.append(service_accounts_of_namespace(namespace))
    subjects.extend(parse_group(value) for value in groups)
    subjects.extend(parse_user(value) for value in users)
    if not subjects:
        raise InvalidInputError(
            "no subject given: set at least one of service_accounts, from_namespaces, groups or users"
        )
    return tuple(dict.fromkeys(subjects))


# ---------------------------------------------------------------------------------------------------------------
# RoleBindings


def subject_from_rbac(entry: Mapping[str, Any], *, binding_namespace: str) -> Subject | None:
    """What a RoleBinding subject entry means to the authorizer; None for kinds it does not know.

    A ServiceAccount with no namespace is one of the binding's own namespace, and a User named
    ``system:serviceaccount:ns:name`` is that service account, so both compare equal to the canonical form.
    """
    kind, name = entry.get("kind"), entry.get("name")
    if not isinstance(name, str) or not name:
        return None
    if kind == SERVICE_ACCOUNT:
        return Subject(SERVICE_ACCOUNT, name, entry.get("namespace") or binding_namespace)
    if kind == USER:
        if name.startswith(SERVICE_ACCOUNT_USER_PREFIX):
            parts = name[len(SERVICE_ACCOUNT_USER_PREFIX) :].split(":")
            if len(parts) == 2 and all(parts):
                return Subject(SERVICE_ACCOUNT, parts[1], parts[0])
        return Subject(USER, name)
    if kind == GROUP:
        return Subject(GROUP, name)
    return None


def binding_name(binding: Mapping[str, Any]) -> str:
    return str(binding.get("metadata", {}).get("name", ""))


def binding_namespace(binding: Mapping[str, Any]) -> str:
    return str(binding.get("metadata", {}).get("namespace", ""))


def binding_subjects(binding: Mapping[str, Any]) -> list[Subject]:
    namespace = binding_namespace(binding)
    found = (subject_from_rbac(entry, binding_namespace=namespace) for entry in binding.get("subjects") or [])
    return [subject for subject in found if subject is not None]


def grants_cluster_role(binding: Mapping[str, Any], role: str) -> bool:
    ref = binding.get("roleRef") or {}
    return ref.get("kind") == CLUSTER_ROLE and ref.get("name") == role and ref.get("apiGroup") == RBAC_API_GROUP


def bindings_for_role(bindings: Iterable[Mapping[str, Any]], role: str) -> list[Mapping[str, Any]]:
    return [binding for binding in bindings if grants_cluster_role(binding, role)]


def holding_bindings(bindings: Iterable[Mapping[str, Any]], subject: Subject) -> list[str]:
    """Names of the bindings (already filtered by role) that hold the subject."""
    return [binding_name(binding) for binding in bindings if subject in binding_subjects(binding)]


def _describe_role_ref(binding: Mapping[str, Any]) -> str:
    ref = binding.get("roleRef") or {}
    return f"{ref.get('kind', '?')} {ref.get('name', '?')}"


def check_binding_role(binding: Mapping[str, Any] | None, *, role: str) -> None:
    """A binding we would edit must grant exactly ClusterRole ``role`` (roleRef cannot be changed)."""
    if binding is not None and not grants_cluster_role(binding, role):
        raise ClusterStateError(
            f"RoleBinding {binding_namespace(binding)}/{binding_name(binding)} grants "
            f"{_describe_role_ref(binding)}, not ClusterRole {role}; a binding's role cannot be changed, so choose "
            "another binding_name (or leave it empty to use the binding named after the role)"
        )


def target_binding_name(bindings: Iterable[Mapping[str, Any]], *, role: str, wanted_name: str | None) -> str:
    """The one binding new subjects go to: ``wanted_name``, else the one named after the role.

    Never oc's ``ROLE-N`` series: re-running must converge on one binding. Raises when the named binding exists
    for another role.
    """
    name = wanted_name or role
    existing = next((binding for binding in bindings if binding_name(binding) == name), None)
    check_binding_role(existing, role=role)
    return name


def new_binding(*, namespace: str, name: str, role: str) -> dict[str, Any]:
    return {
        "apiVersion": RBAC_API_VERSION,
        "kind": "RoleBinding",
        "metadata": {"name": name, "namespace": namespace},
        "roleRef": {"apiGroup": RBAC_API_GROUP, "kind": CLUSTER_ROLE, "name": role},
        "subjects": [],
    }


def add_subjects(
    current: Mapping[str, Any] | None,
    *,
    namespace: str,
    name: str,
    role: str,
    subjects: Sequence[Subject],
) -> dict[str, Any] | None:
    """The binding with ``subjects`` appended (created when ``current`` is None), or None if it holds them all."""
    check_binding_role(current, role=role)
    wanted = (
        copy.deepcopy(dict(current)) if current is not None else new_binding(namespace=namespace, name=name, role=role)
    )
    held = set(binding_subjects(wanted))
    missing = [subject for subject in dict.fromkeys(subjects) if subject not in held]
    if current is not None and not missing:
        return None
    wanted["subjects"] = list(wanted.get("subjects") or []) + [subject.as_rbac() for subject in missing]
    return wanted


def keeps_empty_binding(binding: Mapping[str, Any]) -> bool:
    """Whether a binding left without subjects stays (with ``subjects: []``) instead of being deleted.

    OpenShift's default project bindings come back when deleted (their controller only creates), and ``oc policy``
    keeps bindings annotated ``rbac.authorization.kubernetes.io/autoupdate: "false"``.
    """
    name = binding_name(binding)
    if name in DEFAULT_PROJECT_BINDINGS and grants_cluster_role(binding, DEFAULT_PROJECT_BINDINGS[name]):
        return True
    annotations = binding.get("metadata", {}).get("annotations") or {}
    return annotations.get(AUTOUPDATE_ANNOTATION) == "false"


def remove_subjects(current: Mapping[str, Any] | None, *, subjects: Sequence[Subject]) -> Removal | None:
    """The binding without ``subjects``, and whether to delete it; None when it holds none of them."""
    if current is None:
        return None
    namespace = binding_namespace(current)
    unwanted = set(subjects)
    entries = list(current.get("subjects") or [])
    kept = [entry for entry in entries if subject_from_rbac(entry, binding_namespace=namespace) not in unwanted]
    if len(kept) == len(entries):
        return None
    wanted = copy.deepcopy(dict(current))
    wanted["subjects"] = kept
    return Removal(wanted, delete=not kept and not keeps_empty_binding(current))


def binding_summary(binding: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """What a diff shows of a binding: its role and subjects (no server-managed metadata)."""
    if binding is None:
        return None
    return {
        "roleRef": dict(binding.get("roleRef") or {}),
        "subjects": [dict(entry) for entry in binding.get("subjects") or []],
    }


def is_autoupdated(binding: Mapping[str, Any]) -> bool:
    annotations = binding.get("metadata", {}).get("annotations") or {}
    return annotations.get(AUTOUPDATE_ANNOTATION) == "true"


# ---------------------------------------------------------------------------------------------------------------
# Access reviews and RBAC rule matching


def access_identity(subject: Subject) -> tuple[str, tuple[str, ...]]:
    """The user and groups an authorizer sees for the subject (for a group: a synthetic member of it)."""
    if subject.kind == SERVICE_ACCOUNT:
        return subject.reference, (
            SERVICE_ACCOUNTS_GROUP,
            f"{SERVICE_ACCOUNTS_GROUP}:{subject.namespace}",
            AUTHENTICATED_GROUP,
        )
    if subject.kind == GROUP:
        groups = [subject.name]
        if subject.name.startswith(f"{SERVICE_ACCOUNTS_GROUP}:"):
            # every member of system:serviceaccounts:<ns> is also in system:serviceaccounts
            groups.append(SERVICE_ACCOUNTS_GROUP)
        if subject.name != AUTHENTICATED_GROUP:
            groups.append(AUTHENTICATED_GROUP)
        return GROUP_PROBE_USER, tuple(groups)
    return subject.name, (AUTHENTICATED_GROUP,)


def image_pull_review(subject: Subject, namespace: str, *, local: bool = False) -> dict[str, Any]:
    """A (Local)SubjectAccessReview asking whether the subject may pull images from ``namespace``."""
    user, groups = access_identity(subject)
    review: dict[str, Any] = {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "LocalSubjectAccessReview" if local else "SubjectAccessReview",
        "spec": {
            "user": user,
            "groups": list(groups),
            "resourceAttributes": {"namespace": namespace, **PULL_ATTRIBUTES},
        },
    }
    if local:
        review["metadata"] = {"namespace": namespace}
    return review


def review_outcome(response: Mapping[str, Any]) -> tuple[bool, str]:
    """``(allowed, reason)`` from an access review response; the reason says why when the authorizer did not."""
    status = response.get("status") or {}
    allowed = bool(status.get("allowed")) and not status.get("denied")
    reason = str(status.get("reason") or "")
    error = str(status.get("evaluationError") or "")
    if error:
        reason = f"{reason}; evaluation error: {error}" if reason else f"evaluation error: {error}"
    if not reason:
        reason = "allowed" if allowed else "no RoleBinding or ClusterRoleBinding grants it"
    return allowed, reason


def _rule_has(values: Iterable[str] | None, wanted: str) -> bool:
    values = list(values or [])
    return "*" in values or wanted in values


def _resource_matches(resources: Iterable[str] | None, resource: str, subresource: str) -> bool:
    combined = f"{resource}/{subresource}" if subresource else resource
    for candidate in resources or []:
        if candidate in {"*", combined}:
            return True
        if subresource and candidate == f"*/{subresource}":
            return True
    return False


def rules_allow(
    rules: Iterable[Mapping[str, Any]] | None,
    *,
    verb: str,
    group: str,
    resource: str,
    subresource: str = "",
) -> bool:
    """Whether RBAC policy rules allow the request on any object (the authorizer's matching rules)."""
    for rule in rules or []:
        if rule.get("resourceNames"):
            continue  # limited to named objects; pulls ask for any stream
        if (
            _rule_has(rule.get("verbs"), verb)
            and _rule_has(rule.get("apiGroups"), group)
            and _resource_matches(rule.get("resources"), resource, subresource)
        ):
            return True
    return False


def rules_allow_pull(rules: Iterable[Mapping[str, Any]] | None) -> bool:
    return rules_allow(rules, **PULL_ATTRIBUTES)


def identity_matches(entry: Mapping[str, Any], *, user: str, groups: Iterable[str], binding_namespace: str) -> bool:
    """Whether a binding's subject entry applies to a request by ``user`` in ``groups`` (the RBAC authorizer's rule)."""
    kind, name = entry.get("kind"), entry.get("name")
    if kind == USER:
        return name == user
    if kind == GROUP:
        return name in set(groups)
    if kind == SERVICE_ACCOUNT:
        namespace = entry.get("namespace") or binding_namespace
        return bool(namespace) and user == f"{SERVICE_ACCOUNT_USER_PREFIX}{namespace}:{name}"
    return False


def bindings_reaching(bindings: Iterable[Mapping[str, Any]], subject: Subject) -> list[Mapping[str, Any]]:
    """The bindings (Role- or ClusterRoleBindings) with a subject entry that applies to the subject's identity."""
    user, groups = access_identity(subject)
    return [
        binding
        for binding in bindings
        if any(
            identity_matches(entry, user=user, groups=groups, binding_namespace=binding_namespace(binding))
            for entry in binding.get("subjects") or []
        )
    ]


def describe_binding(binding: Mapping[str, Any]) -> str:
    namespace = binding_namespace(binding)
    kind = "RoleBinding" if namespace else "ClusterRoleBinding"
    where = f"{namespace}/{binding_name(binding)}" if namespace else binding_name(binding)
    return f"{kind} {where} ({_describe_role_ref(binding)})"
