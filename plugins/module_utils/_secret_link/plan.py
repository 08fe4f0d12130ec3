# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pure half of ``secret_link``: the secret names and purposes its options give, spelled as ``oc secrets link``
takes them. What a link changes on the ServiceAccount is ``_service_accounts/secret_links.py``.
"""

from __future__ import annotations

from collections.abc import Iterable

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import InvalidInputError
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.names import validate_dns_subdomain_name
from ansible_collections.openshift_ops.images.plugins.module_utils._service_accounts.secret_links import PURPOSE_FIELDS


def secret_name_from_reference(reference: str) -> str:
    """Accept ``NAME``, ``secret/NAME`` or ``secrets/NAME`` like ``oc secrets link``; return the validated NAME."""
    if not isinstance(reference, str):
        raise InvalidInputError(f"secret {reference!r} must be a string")
    name = reference
    if "/" in reference:
        kind, _slash, name = reference.partition("/")
        if kind not in ("secret", "secrets"):
            raise InvalidInputError(f"expected a secret, got {reference!r}: write NAME, secret/NAME or secrets/NAME")
    what = "secrets" if name == reference else f"secrets ({reference!r})"
    return validate_dns_subdomain_name(name, what=what, kind="secret")


def normalize_secret_names(references: Iterable[str]) -> list[str]:
    """Names from ``references`` in the order given, each once; at least one."""
    names: list[str] = []
    for reference in references:
        name = secret_name_from_reference(reference)
        if name not in names:
            names.append(name)
    if not names:
        raise InvalidInputError("secrets is empty: name at least one secret, as NAME, secret/NAME or secrets/NAME")
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
