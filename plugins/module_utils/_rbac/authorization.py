# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""RBAC as the authorizer reads it, as pure functions (no I/O): subjects and the identity they stand for, what a
RoleBinding or ClusterRoleBinding grants and whom it reaches, the rules that allow image pulls (``get
imagestreams/layers``, §5.4) and the SubjectAccessReviews that ask. Shared by ``image_puller_binding`` and
``image_pull_access_info``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

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

# ClusterRoles known to allow pulls (§5.4), for when a binding's role cannot be read.
KNOWN_PULL_ROLES = frozenset(
    {"system:image-puller", "system:image-pusher", "system:image-builder", "edit", "admin", "cluster-admin"}
)


class Subject(NamedTuple):
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


# ---------------------------------------------------------------------------------------------------------------
# Bindings


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


def describe_role_ref(binding: Mapping[str, Any]) -> str:
    ref = binding.get("roleRef") or {}
    return f"{ref.get('kind', '?')} {ref.get('name', '?')}"


def describe_binding(binding: Mapping[str, Any]) -> str:
    namespace = binding_namespace(binding)
    kind = "RoleBinding" if namespace else "ClusterRoleBinding"
    where = f"{namespace}/{binding_name(binding)}" if namespace else binding_name(binding)
    return f"{kind} {where} ({describe_role_ref(binding)})"


def role_key(binding: Mapping[str, Any]) -> str:
    """``ClusterRole/<name>`` or ``Role/<namespace>/<name>``: how :func:`granting_bindings` looks a role up."""
    ref = binding.get("roleRef") or {}
    if ref.get("kind") == "Role":
        return f"Role/{binding_namespace(binding)}/{ref.get('name', '')}"
    return f"ClusterRole/{ref.get('name', '')}"


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


def granting_bindings(
    bindings: Iterable[Mapping[str, Any]],
    subject: Subject,
    role_rules: Mapping[str, Sequence[Mapping[str, Any]] | None],
) -> list[str]:
    """The bindings that reach the subject (itself, ``system:serviceaccounts[:<ns>]``, ``system:authenticated``)
    with a role that allows pulls; a role whose rules could not be read (None or absent) counts when it is one of
    :data:`KNOWN_PULL_ROLES`."""
    found = []
    for binding in bindings_reaching(bindings, subject):
        key = role_key(binding)
        rules = role_rules.get(key)
        ref = binding.get("roleRef") or {}
        if rules is None:
            grants = ref.get("kind") == "ClusterRole" and ref.get("name") in KNOWN_PULL_ROLES
        else:
            grants = rules_allow_pull(rules)
        if grants:
            found.append(describe_binding(binding))
    return found
