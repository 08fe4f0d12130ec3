# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the ``pull_secret`` module was asked to do: its request, built and checked from the options before
anything connects."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import (
    InvalidInputError,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.names import (
    validate_dns_subdomain_name,
    validate_namespace_name,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._pull_secret.plan import DOCKERCONFIGJSON
from ansible_collections.openshift_ops.images.plugins.module_utils._registry.credential_options import (
    RegistryCredentials,
    RegistryTls,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._registry.registry_keys import validate_registry_key


class PullSecretRequest(NamedTuple):
    """What the ``pull_secret`` module was asked to do."""

    name: str
    namespace: str | None
    state: str
    requested_type: str
    merge: bool
    remove_registries: tuple[str, ...]
    link_service_accounts: tuple[str, ...]
    validate_credentials: bool
    registry_tls: RegistryTls
    force: bool
    credentials: RegistryCredentials

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> PullSecretRequest:
        """The request, every option checked and the credential files read: nothing has connected yet."""
        accounts = []
        for account in params.get("link_service_accounts") or []:
            validate_dns_subdomain_name(account, what="link_service_accounts", kind="service account")
            if account not in accounts:
                accounts.append(account)
        present = (params.get("state") or "present") == "present"
        validate_credentials = bool(params.get("validate_credentials"))
        request = cls(
            name=validate_dns_subdomain_name(params["name"], what="name", kind="secret"),
            namespace=validate_namespace_name(params["namespace"]) if params.get("namespace") else None,
            state=params.get("state") or "present",
            requested_type=params.get("type") or DOCKERCONFIGJSON,
            merge=bool(params.get("merge")),
            remove_registries=tuple(
                _removal_key(key, index) for index, key in enumerate(params.get("remove_registries") or ())
            ),
            link_service_accounts=tuple(accounts),
            validate_credentials=validate_credentials,
            registry_tls=RegistryTls.from_params(params, used=present and validate_credentials),
            force=bool(params.get("force")),
            credentials=RegistryCredentials.from_params(params) if present else RegistryCredentials.none(),
        )
        request.credentials.refuse_removals(request.remove_registries)
        if present and not request.merge and not request.credentials.given:
            raise InvalidInputError(
                "no credentials given: set registries, auth_file or auth_content, or merge: true to edit the "
                "entries already in the secret (for example with remove_registries only)"
            )
        return request

    def secret_values(self) -> set[str]:
        return self.credentials.secret_values()


def _removal_key(key: str, index: int) -> str:
    try:
        return validate_registry_key(key)
    except InvalidInputError as error:
        raise InvalidInputError(f"remove_registries[{index}]: {error}") from None
