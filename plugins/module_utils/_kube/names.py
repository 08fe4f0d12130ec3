# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The API server's name rules and the API paths of the objects the modules touch: one definition of each.

Names are checked before any connection is made, with the rule the API server would apply, so a bad name fails
with a message that says the rule instead of a 422 (or a request to the wrong path).
"""

from __future__ import annotations

import re
from urllib.parse import quote

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import InvalidInputError

_DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
DNS1123_LABEL_MAX = 63
DNS1123_SUBDOMAIN_MAX = 253

CORE_V1 = "/api/v1"
IMAGE_V1 = "/apis/image.openshift.io/v1"
RBAC_V1 = "/apis/rbac.authorization.k8s.io/v1"
AUTHORIZATION_V1 = "/apis/authorization.k8s.io/v1"


def is_dns1123_label(value: str) -> bool:
    """Namespaces: at most 63 lower-case letters, digits and '-', a letter or digit at both ends."""
    return isinstance(value, str) and len(value) <= DNS1123_LABEL_MAX and bool(_DNS1123_LABEL.fullmatch(value))


def is_dns1123_subdomain(value: str) -> bool:
    """Secrets and service accounts: DNS-1123 labels joined by '.', at most 253 characters."""
    return isinstance(value, str) and len(value) <= DNS1123_SUBDOMAIN_MAX and bool(_DNS1123_SUBDOMAIN.fullmatch(value))


def is_path_segment_name(value: str) -> bool:
    """RBAC objects and user or group names: anything that is one path segment (not '.', '..', no '/' or '%')."""
    return isinstance(value, str) and bool(value) and value not in {".", ".."} and not {"/", "%"} & set(value)


def validate_namespace_name(value: str, *, what: str = "namespace") -> str:
    if not is_dns1123_label(value):
        raise InvalidInputError(
            f"{what}: {value!r} is not a valid namespace name; it must be at most 63 characters of lower-case "
            "letters, digits and '-', starting and ending with a letter or digit (DNS-1123 label)"
        )
    return value


def validate_dns_subdomain_name(value: str, *, what: str, kind: str) -> str:
    """A Secret or ServiceAccount name (``kind`` says which, for the message)."""
    if not is_dns1123_subdomain(value):
        raise InvalidInputError(
            f"{what}: {value!r} is not a valid {kind} name; it must be non-empty, at most 253 characters of "
            "lower-case letters, digits, '-' and '.', starting and ending with a letter or digit (DNS-1123 subdomain)"
        )
    return value


def validate_path_segment_name(value: str, *, what: str) -> str:
    """The API server's rule for RBAC object names (a path segment), also held to no leading or trailing space."""
    if not is_path_segment_name(value) or value != value.strip():
        raise InvalidInputError(
            f"{what}: {value!r} is not a valid name; it must not be empty, '.' or '..', contain '/' or '%', "
            "or start or end with white space"
        )
    return value


def _path(base: str, namespace: str, resource: str, name: str | None) -> str:
    # Valid names need no escaping; the quoting keeps any other string from reaching another path.
    collection = f"{base}/namespaces/{quote(namespace, safe='')}/{resource}"
    return collection if name is None else f"{collection}/{quote(name, safe=':@')}"


def secret_path(namespace: str, name: str | None = None) -> str:
    return _path(CORE_V1, namespace, "secrets", name)


def service_account_path(namespace: str, name: str | None = None) -> str:
    return _path(CORE_V1, namespace, "serviceaccounts", name)


def image_stream_path(namespace: str, name: str | None = None) -> str:
    return _path(IMAGE_V1, namespace, "imagestreams", name)


def all_image_streams_path() -> str:
    """The image streams of every namespace (a cluster-wide list or watch)."""
    return _cluster_path(IMAGE_V1, "imagestreams", None)


def image_stream_tag_path(namespace: str, stream: str, tag: str) -> str:
    return _path(IMAGE_V1, namespace, "imagestreamtags", f"{stream}:{tag}")


def role_binding_path(namespace: str, name: str | None = None) -> str:
    return _path(RBAC_V1, namespace, "rolebindings", name)


def role_path(namespace: str, name: str | None = None) -> str:
    return _path(RBAC_V1, namespace, "roles", name)


def _cluster_path(base: str, resource: str, name: str | None) -> str:
    collection = f"{base}/{resource}"
    return collection if name is None else f"{collection}/{quote(name, safe=':@')}"


def cluster_role_path(name: str | None = None) -> str:
    return _cluster_path(RBAC_V1, "clusterroles", name)


def cluster_role_binding_path(name: str | None = None) -> str:
    return _cluster_path(RBAC_V1, "clusterrolebindings", name)


def namespace_path(name: str | None = None) -> str:
    return _cluster_path(CORE_V1, "namespaces", name)


def subject_access_review_path() -> str:
    return f"{AUTHORIZATION_V1}/subjectaccessreviews"


def local_subject_access_review_path(namespace: str) -> str:
    return _path(AUTHORIZATION_V1, namespace, "localsubjectaccessreviews", None)


def self_subject_access_review_path() -> str:
    return f"{AUTHORIZATION_V1}/selfsubjectaccessreviews"
