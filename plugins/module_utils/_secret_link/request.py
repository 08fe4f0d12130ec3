# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the ``secret_link`` module was asked to do: its request, built and checked from the options before
anything connects."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import InvalidInputError
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.names import (
    validate_dns_subdomain_name,
    validate_namespace_name,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._secret_link.plan import (
    normalize_purposes,
    normalize_secret_names,
)


def default_purposes(state: str) -> list[str]:
    """Linking defaults to pull; unlinking to both lists, as ``oc secrets unlink`` removes from both."""
    return ["pull"] if state == "present" else ["pull", "mount"]


class SecretLinkRequest(NamedTuple):
    """What the ``secret_link`` module was asked to do, checked and normalised."""

    service_account: str
    namespace: str | None
    secrets: tuple[str, ...]
    purposes: tuple[str, ...]
    state: str = "present"
    allow_missing: bool = False
    wait_for_service_account: bool = False
    wait_timeout: float = 120.0

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> SecretLinkRequest:
        wait_timeout = params.get("wait_timeout", 120)
        state = params.get("state") or "present"
        if wait_timeout is None or wait_timeout < 0:
            raise InvalidInputError(f"wait_timeout must be zero or a positive number of seconds, got {wait_timeout!r}")
        return cls(
            service_account=validate_dns_subdomain_name(
                params["service_account"], what="service_account", kind="service account"
            ),
            namespace=validate_namespace_name(params["namespace"]) if params.get("namespace") else None,
            secrets=tuple(normalize_secret_names(params.get("secrets") or [])),
            purposes=tuple(normalize_purposes(params.get("purpose") or default_purposes(state))),
            state=state,
            allow_missing=bool(params.get("allow_missing")),
            wait_for_service_account=bool(params.get("wait_for_service_account")),
            wait_timeout=float(wait_timeout),
        )
