# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""RoleBinding decisions for image pull grants, as pure functions (no I/O).

Parses the subjects users write and decides which RoleBinding gains or loses them, following ``oc policy`` (§5).
Reading bindings, rules and access reviews is RBAC's own concern: ``_rbac/authorization.py``.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import (
    ClusterStateError,
    InvalidInputError,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.names import (
    validate_dns_subdomain_name,
    validate_namespace_name,
    validate_path_segment_name,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._rbac.authorization import (
    CLUSTER_ROLE,
    GROUP,
    RBAC_API_GROUP,
    RBAC_API_VERSION,
    SERVICE_ACCOUNT,
    SERVICE_ACCOUNT_USER_PREFIX,
    SERVICE_ACCOUNTS_GROUP,
    USER,
    Subject,
    binding_name,
    binding_namespace,
    binding_subjects,
    describe_role_ref,
    grants_cluster_role,
    subject_from_rbac,
)

# OpenShift's per-project bindings: a controller re-creates them when deleted, so emptying is how to disable them.
DEFAULT_PROJECT_BINDINGS: Mapping[str, str] = {
    "system:image-pullers": "system:image-puller",
    "system:image-builders": "system:image-builder",
    "system:deployers": "system:deployer",
}
AUTOUPDATE_ANNOTATION = "rbac.authorization.kubernetes.io/autoupdate"


class Removal(NamedTuple):
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


def check_binding_role(binding: Mapping[str, Any] | None, *, role: str) -> None:
    """A binding we would edit must grant exactly ClusterRole ``role`` (roleRef cannot be changed)."""
    if binding is not None and not grants_cluster_role(binding, role):
        raise ClusterStateError(
            f"RoleBinding {binding_namespace(binding)}/{binding_name(binding)} grants "
            f"{describe_role_ref(binding)}, not ClusterRole {role}; a binding's role cannot be changed, so choose "
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
