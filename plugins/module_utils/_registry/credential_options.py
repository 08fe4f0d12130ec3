# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The registry option groups as argument specs and as typed objects: the credentials (``registries``,
``auth_file``, ``auth_content``, documented by the doc fragment ``openshift_ops.images.registry_credentials``) and
the TLS settings of a check with the registries (``openshift_ops.images.registry_tls``). The objects are built from the
options before anything connects, so a bad option fails before a kubeconfig is read or an exec plugin runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, NamedTuple

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import InvalidInputError
from ansible_collections.openshift_ops.images.plugins.module_utils._registry.auth_document import (
    load_auth_document,
    merge_entries,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._registry.auth_entries import (
    entry_basic_credentials,
    entry_from_auth,
    entry_from_credentials,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._registry.auth_file import (
    read_auth_file,
    read_ca_file,
    read_text_file,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._registry.redaction import document_secret_values
from ansible_collections.openshift_ops.images.plugins.module_utils._registry.registry_keys import (
    registry_keys_equivalent,
    validate_registry_key,
)

# The options that give registry credentials, in the order their entries are applied (a later one wins per key).
CREDENTIAL_SOURCE_OPTIONS = ("auth_file", "auth_content", "registries")


def registry_credentials_argument_spec() -> dict[str, Any]:
    """``registries``, ``auth_file``, ``auth_content``; documented by ``openshift_ops.images.registry_credentials``."""
    return {
        "registries": {
            "type": "list",
            "elements": "dict",
            "options": {
                "server": {"type": "str", "required": True},
                "username": {"type": "str"},
                "password": {"type": "str", "no_log": True},
                "auth": {"type": "str", "no_log": True},
                "email": {"type": "str"},
            },
            "required_together": [["username", "password"]],
            "mutually_exclusive": [["auth", "username"], ["auth", "password"]],
        },
        "auth_file": {"type": "path"},
        "auth_content": {"type": "raw", "no_log": True},
    }


def registry_tls_argument_spec() -> dict[str, Any]:
    """``registry_ca_cert``, ``registry_validate_certs``; documented by ``openshift_ops.images.registry_tls``."""
    return {
        "registry_ca_cert": {"type": "path"},
        "registry_validate_certs": {"type": "bool", "default": True},
    }


def credential_check_argument_spec() -> dict[str, Any]:
    """``validate_credentials``, documented by ``openshift_ops.images.credential_check``, with the TLS options of
    the check."""
    return {"validate_credentials": {"type": "bool", "default": False}} | registry_tls_argument_spec()


def _entries_of_document(document: Mapping[str, Any], source: str) -> dict[str, dict[str, Any]]:
    """The entries of a loaded document, each checked to be a registry key with credentials the kubelet can use."""
    entries: dict[str, dict[str, Any]] = {}
    for key, entry in (document.get("auths") or {}).items():
        try:
            validate_registry_key(key)
        except InvalidInputError as error:
            raise InvalidInputError(f"{source}: {error}") from None
        if entry_basic_credentials(entry) is None:
            helpers = [name for name in ("credsStore", "credHelpers") if name in document]
            hint = (
                f" (this file keeps credentials in a docker credential helper, {' / '.join(helpers)}; export them "
                "with `podman login --authfile` or give username and password)"
                if helpers
                else "; give auth (base64 of user:password) or username and password"
            )
            raise InvalidInputError(
                f'{source}: entry "{key}" holds no username and password (or auth) that the kubelet could use{hint}'
            )
        entries[key] = entry
    return entries


def _entry_of_registry(item: Mapping[str, Any], where: str) -> tuple[str, dict[str, str]]:
    server = item.get("server") or ""
    try:
        key = validate_registry_key(server)
    except InvalidInputError as error:
        raise InvalidInputError(f"{where}: {error}") from None
    username, password, auth, email = (item.get(name) for name in ("username", "password", "auth", "email"))
    if auth and (username or password):
        raise InvalidInputError(f"{where} (server {key}): give either auth or username and password, not both")
    try:
        if auth:
            return key, entry_from_auth(auth, email=email)
        if username or password:
            return key, entry_from_credentials(username=username or "", password=password or "", email=email)
    except InvalidInputError as error:
        raise InvalidInputError(f"{where} (server {key}): {error}") from None
    raise InvalidInputError(f"{where} (server {key}) needs username and password, or auth")


def registry_entries_from_list(items: Iterable[Any], *, label: str = "registries") -> dict[str, dict[str, str]]:
    """Entries built from ``[{server, username, password, email} | {server, auth, email}, ...]`` as ``kubectl create
    secret docker-registry`` builds them; two items naming the same registry are refused. ``label`` names the list
    in messages."""
    entries: dict[str, dict[str, str]] = {}
    for index, item in enumerate(items):
        where = f"{label}[{index}]"
        if not isinstance(item, Mapping):
            raise InvalidInputError(f"{where} must be a mapping with server, username and password (or auth)")
        key, entry = _entry_of_registry(item, where)
        clash = next((other for other in entries if registry_keys_equivalent(other, key)), None)
        if clash is not None:
            raise InvalidInputError(
                f"{label}[{list(entries).index(clash)}] ({clash}) and {where} ({key}) name the same registry; keep one"
            )
        entries[key] = entry
    return entries


def collect_registry_entries(
    params: Mapping[str, Any], *, read_text: Callable[[str], str] = read_text_file
) -> dict[str, dict[str, Any]]:
    """Every entry the options describe: ``auth_file``, then ``auth_content``, then ``registries``; a later source
    wins for a key (or an equivalent spelling of it). ``read_text(path)`` reads the auth file.

    Entries from files are taken as written (podman's ``{"auth"}`` or docker's fields, unknown fields kept); entries
    from ``registries`` are built as ``kubectl create secret docker-registry`` does. Every key is checked, and every
    entry must hold credentials the kubelet can use. Returns ``{}`` when no option is set.
    """
    collected: dict[str, Any] = {"auths": {}}
    auth_file = params.get("auth_file")
    if auth_file:
        source = f"auth_file {auth_file}"
        document = load_auth_document(read_auth_file(auth_file, read_text=read_text), source=source)
        collected = merge_entries(collected, _entries_of_document(document, source))

    content = params.get("auth_content")
    if content is not None and content != "":
        if not isinstance(content, str | bytes | Mapping):
            raise InvalidInputError(
                f"auth_content must be JSON text or a mapping like {{'auths': {{...}}}}, not {type(content).__name__}"
            )
        document = load_auth_document(content, source="auth_content")
        collected = merge_entries(collected, _entries_of_document(document, "auth_content"))

    registries = params.get("registries")
    if registries:
        collected = merge_entries(collected, registry_entries_from_list(registries))
    return dict(collected["auths"])


class RegistryCredentials(NamedTuple):
    """The credentials the options give, as ``{registry key: entry}``, every key and entry checked."""

    entries: Mapping[str, Mapping[str, Any]]
    given: bool  # some credential option was set, even when it held no entry

    @classmethod
    def none(cls) -> RegistryCredentials:
        return cls(entries={}, given=False)

    @classmethod
    def from_params(
        cls, params: Mapping[str, Any], *, read_text: Callable[[str], str] = read_text_file
    ) -> RegistryCredentials:
        given = any(params.get(option) for option in CREDENTIAL_SOURCE_OPTIONS)
        entries = collect_registry_entries(params, read_text=read_text) if given else {}
        return cls(entries=entries, given=given)

    def secret_values(self) -> set[str]:
        """Every secret in the entries (passwords, ``auth`` strings, tokens), to be hidden from any output."""
        return document_secret_values({"auths": dict(self.entries)})

    def refuse_removals(self, remove_registries: Iterable[str]) -> None:
        """Refuse registry keys that are both given with credentials and asked to be removed (spellings compared
        like the kubelet and containers/image do)."""
        clashes = [
            key for key in remove_registries if any(registry_keys_equivalent(key, given) for given in self.entries)
        ]
        if clashes:
            raise InvalidInputError(
                f"registry {', '.join(clashes)} is both given with credentials and listed in remove_registries; "
                "keep one"
            )


class RegistryTls(NamedTuple):
    """How a check with the registries verifies them: the CA to trust (PEM text, read from ``registry_ca_cert``;
    ``None`` is the system trust store) and whether TLS is verified at all."""

    ca_data: str | None = None
    validate_certs: bool = True

    @classmethod
    def from_params(
        cls, params: Mapping[str, Any], *, used: bool, read_text: Callable[[str], str] = read_text_file
    ) -> RegistryTls:
        """The TLS settings; the CA file is read only when a check will use it (``used``) and TLS is verified."""
        validate_certs = params.get("registry_validate_certs", True) is not False
        ca_file = params.get("registry_ca_cert")
        if not (used and validate_certs and ca_file):
            return cls(validate_certs=validate_certs)
        return cls(ca_data=read_ca_file(ca_file, read_text=read_text), validate_certs=validate_certs)
