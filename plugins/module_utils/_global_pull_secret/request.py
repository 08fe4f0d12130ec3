# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the ``global_pull_secret`` module was asked to do: its request, built and checked from the options before
anything connects."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import (
    InvalidInputError,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._global_pull_secret.plan import (
    removal_keys,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._kube.names import (
    secret_path,
    validate_dns_subdomain_name,
    validate_namespace_name,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._registry.credential_options import (
    CREDENTIAL_SOURCE_OPTIONS,
    RegistryCredentials,
    RegistryTls,
)

DEFAULT_BACKUP_DIR = "~/.ansible/backups/openshift_ops.images"


class GlobalPullSecretRequest(NamedTuple):
    """What the ``global_pull_secret`` module was asked to do, checked for contradictions."""

    name: str
    namespace: str
    state: str
    credentials: RegistryCredentials
    remove: tuple[str, ...]
    replace: bool
    allow_telemetry_change: bool
    backup: bool
    backup_dir: str
    validate_credentials: bool
    registry_tls: RegistryTls
    wait: bool
    wait_timeout: float

    @property
    def where(self) -> str:
        return f"{self.namespace}/{self.name}"

    def secret_values(self) -> set[str]:
        return self.credentials.secret_values()

    @property
    def path(self) -> str:
        return secret_path(self.namespace, self.name)

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> GlobalPullSecretRequest:
        """The request, every option checked and the credential files read: nothing has connected yet."""
        state = params.get("state") or "present"
        remove_registries = list(params.get("remove_registries") or [])
        replace = bool(params.get("replace"))
        servers: list[str] = []
        if state == "absent":
            if params.get("auth_file") or params.get("auth_content") or replace:
                raise InvalidInputError(
                    "state: absent removes registry keys and takes them from registries[].server and "
                    "remove_registries; auth_file, auth_content and replace are not used with it"
                )
            servers = [entry["server"] for entry in params.get("registries") or []]
            if not servers and not remove_registries:
                raise InvalidInputError(
                    "state: absent needs the registry keys to remove in registries[].server or remove_registries"
                )
        elif not any(params.get(option) for option in CREDENTIAL_SOURCE_OPTIONS) and not remove_registries:
            raise InvalidInputError(
                "nothing to do: give registries, auth_file or auth_content to add or update entries, or "
                "remove_registries to remove some"
            )
        if replace and remove_registries:
            raise InvalidInputError(
                "remove_registries has no effect with replace: true (the given entries become the whole document); "
                "leave the registries to drop out of the entries instead"
            )
        timeout = params.get("wait_timeout")
        if timeout is None or timeout <= 0:
            raise InvalidInputError(f"wait_timeout must be a positive number of seconds, got {timeout!r}")
        remove = removal_keys(servers, remove_registries)
        credentials = RegistryCredentials.from_params(params) if state == "present" else RegistryCredentials.none()
        credentials.refuse_removals(remove)
        if replace and not credentials.entries:
            raise InvalidInputError(
                "replace: true with no entries would empty the global pull secret; give the entries"
            )
        validate_credentials = bool(params.get("validate_credentials"))
        return cls(
            name=validate_dns_subdomain_name(params.get("name") or "pull-secret", what="name", kind="secret"),
            namespace=validate_namespace_name(params.get("namespace") or "openshift-config"),
            state=state,
            credentials=credentials,
            remove=remove,
            replace=replace,
            allow_telemetry_change=bool(params.get("allow_telemetry_change")),
            backup=bool(params.get("backup")),
            backup_dir=params.get("backup_dir") or DEFAULT_BACKUP_DIR,
            validate_credentials=validate_credentials,
            registry_tls=RegistryTls.from_params(params, used=validate_credentials and bool(credentials.entries)),
            wait=bool(params.get("wait")),
            wait_timeout=float(timeout),
        )
