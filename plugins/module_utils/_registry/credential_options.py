# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The registry-credential option group (``registries``, ``auth_file``, ``auth_content``): its argument spec, whose
documentation face is the doc fragment ``openshift_ops.images.registry_credentials``, and the collection of the
entries it describes into one ``{registry key: entry}`` map.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

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
from ansible_collections.openshift_ops.images.plugins.module_utils._registry.registry_keys import (
    registry_keys_equivalent,
    validate_registry_key,
)

_AUTH_FILE_FIX_MARK = "config.json"
_AUTH_FILE_FIX = (
    "auth_file must be the path of a readable docker config.json or podman auth.json file on the managed host "
    "(for example ~/.docker/config.json or ${XDG_RUNTIME_DIR}/containers/auth.json)"
)


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


def credential_check_argument_spec() -> dict[str, Any]:
    """``validate_credentials``, ``registry_ca_cert``, ``registry_validate_certs``; documented by
    ``openshift_ops.images.credential_check``."""
    return {
        "validate_credentials": {"type": "bool", "default": False},
        "registry_ca_cert": {"type": "path"},
        "registry_validate_certs": {"type": "bool", "default": True},
    }


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


def collect_registry_entries(params: Mapping[str, Any], *, read_text: Callable[[str], str]) -> dict[str, dict]:
    """Every entry the options describe: ``auth_file``, then ``auth_content``, then ``registries``; a later source
    wins for a key (or an equivalent spelling of it). ``read_text(path)`` reads the auth file (OSError is reported).

    Entries from files are taken as written (podman's ``{"auth"}`` or docker's fields, unknown fields kept); entries
    from ``registries`` are built as ``kubectl create secret docker-registry`` does. Every key is checked, and every
    entry must hold credentials the kubelet can use. Returns ``{}`` when no option is set.
    """
    collected: dict[str, Any] = {"auths": {}}
    auth_file = params.get("auth_file")
    if auth_file:
        source = f"auth_file {auth_file}"
        try:
            text = read_text(auth_file)
        except OSError as error:
            raise InvalidInputError(f"{source} cannot be read: {error.strerror or error}; {_AUTH_FILE_FIX}") from None
        except InvalidInputError as error:
            # read_text says what failed (missing, a directory, not text); the fix is the same for each
            if _AUTH_FILE_FIX_MARK in str(error):
                raise
            raise InvalidInputError(f"{error}; {_AUTH_FILE_FIX}") from None
        document = load_auth_document(text, source=source)
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
