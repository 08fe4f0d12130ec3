# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which entry of an auth document is used for an image: by the kubelet (pull secrets, §3.4) and by
containers/image (CRI-O's global auth file, podman, skopeo; §7), and warnings for keys the two read differently.

Pure functions, following kubernetes ``pkg/credentialprovider`` and containers/image ``pkg/docker/config``.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from ansible_collections.openshift_ops.images.plugins.module_utils._registry.registry_keys import (
    normalize_registry_key,
    split_registry_key,
)

_KUBELET_DEFAULT_REGISTRY = "index.docker.io"
_CONTAINERS_DOCKER_HUB = frozenset({"docker.io", "registry-1.docker.io"})
_GLOB_CHARS = frozenset("*?[")


# --- the kubelet ------------------------------------------------------------------------------------------------------
def kubelet_key(key: str) -> str | None:
    """The keyring index of a document key (``BasicDockerKeyring.Add``): scheme stripped, a leading ``/v1/`` or
    ``/v2/`` stripped, host plus the rest of the path; None when Go's URL parser would reject it (ignored)."""
    value = key if key.startswith(("https://", "http://")) else f"https://{key}"
    rest = value.split("://", 1)[1]
    authority, slash, tail = rest.partition("/")
    path = f"/{tail}" if slash else ""
    authority = authority.rsplit("@", 1)[-1]  # userinfo is not part of the URL's host
    path = re.split(r"[?#]", path, maxsplit=1)[0]
    if any(char.isspace() or ord(char) < 32 or char in "%/\\" for char in authority):
        return None
    if path.startswith(("/v2/", "/v1/")):
        path = path[3:]
    return authority + path if path and path != "/" else authority


def _split_host_port(hostport: str) -> tuple[str, str]:
    """Go's ``net.SplitHostPort``, falling back to ``(hostport, "")`` where Go reports an error."""
    if hostport.startswith("["):
        end = hostport.find("]")
        if end == -1 or end + 1 == len(hostport) or hostport[end + 1] != ":":
            return hostport, ""
        return hostport[1:end], hostport[end + 2 :]
    host, colon, port = hostport.rpartition(":")
    if not colon or ":" in host or "[" in host or "]" in host:
        return hostport, ""
    return host, port


def _go_glob_to_regex(pattern: str) -> re.Pattern[str] | None:
    """Go's ``path/filepath.Match`` pattern as a regex; None for a malformed pattern (Go returns ErrBadPattern)."""
    out, index = [], 0
    while index < len(pattern):
        char = pattern[index]
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "\\":
            index += 1
            if index == len(pattern):
                return None
            out.append(re.escape(pattern[index]))
        elif char == "[":
            end = index + 1
            negate = end < len(pattern) and pattern[end] == "^"
            end += negate
            body = []
            while end < len(pattern) and pattern[end] != "]":
                if pattern[end] == "\\":
                    end += 1
                    if end == len(pattern):
                        return None
                body.append(re.escape(pattern[end]) if pattern[end] != "-" else "-")
                end += 1
            if end == len(pattern) or not body or body[0] == "-" or body[-1] == "-":
                return None
            out.append(f"[{'^' if negate else ''}{''.join(body)}]")
            index = end
        else:
            out.append(re.escape(char))
        index += 1
    try:
        return re.compile("".join(out))
    except re.error:
        return None


def _glob_match(pattern: str, name: str) -> bool:
    regex = _go_glob_to_regex(pattern)
    return regex is not None and regex.fullmatch(name) is not None


def _url_parts(schemeless: str) -> tuple[list[str], str, str]:
    authority, slash, path = schemeless.partition("/")
    host, port = _split_host_port(authority)
    return host.split("."), port, f"/{path}" if slash else ""


def kubelet_key_matches(key: str, image_name: str) -> bool:
    """``URLsMatchStr``: each host label a glob, equal label count, equal port, and the key's path a plain string
    prefix of the image's path. ``key`` is a keyring index (see :func:`kubelet_key`)."""
    key_labels, key_port, key_path = _url_parts(key)
    image_labels, image_port, image_path = _url_parts(image_name)
    if key_port != image_port or len(key_labels) != len(image_labels):
        return False
    if not image_path.startswith(key_path):
        return False
    return all(_glob_match(glob, label) for glob, label in zip(key_labels, image_labels, strict=True))


def _is_default_registry_match(image_name: str) -> bool:
    first, slash, _rest = image_name.partition("/")
    if not first:
        return False
    if not slash or first in ("docker.io", "index.docker.io"):
        return True
    return not any(char in first for char in ".:") and first != "localhost"


def _auths(document: Mapping[str, Any]) -> Mapping[str, Any]:
    auths = document.get("auths")
    return auths if isinstance(auths, Mapping) else {}


def kubelet_keyring_lookup(documents: Sequence[Mapping[str, Any]], image: str) -> list[tuple[int, str]]:
    """``(document index, key)`` of the credentials the kubelet tries for ``image`` from one keyring built from
    ``documents`` in order (the pod's pull secrets, ``MakeDockerKeyring``): every matching key of every document,
    most specific first (reverse-sorted keyring index, then document order); ``index.docker.io`` only as the Docker
    Hub fallback when nothing matched. Raises InvalidInputError for an image the kubelet cannot parse."""
    # image references are parsed only by the lookups, which pull_secret and global_pull_secret never run
    from ansible_collections.openshift_ops.images.plugins.module_utils._images.reference import normalize_image  # noqa: PLC0415

    name = normalize_image(image).name
    by_index: dict[str, list[tuple[int, str]]] = {}
    for position, document in enumerate(documents):
        for key in _auths(document):
            index = kubelet_key(key)
            if index is not None:
                by_index.setdefault(index, []).append((position, key))
    matched = [
        found
        for index in sorted(by_index, reverse=True)
        if kubelet_key_matches(index, name)
        for found in by_index[index]
    ]
    if matched:
        return matched
    if _is_default_registry_match(name):
        return list(by_index.get(_KUBELET_DEFAULT_REGISTRY, []))
    return []


def kubelet_credentials_for(document: Mapping[str, Any], image: str) -> list[str]:
    """The document keys whose credentials the kubelet tries for ``image``, in its order (see
    :func:`kubelet_keyring_lookup`). Keys that are spellings of one index (``quay.io``, ``https://quay.io``) come in
    document order; the kubelet's order between them is not fixed."""
    return [key for _position, key in kubelet_keyring_lookup([document], image)]


# --- containers/image -------------------------------------------------------------------------------------------------
class ContainersImageLookup(NamedTuple):
    """What containers/image does for an image with one auth file.

    ``helper``: the ``credHelpers`` entry that takes precedence (no ``auths`` key is read then); ``key``: the
    ``auths`` key used; ``usable``: whether that entry yields credentials (an entry with an empty or colon-less
    ``auth`` yields none, and still stops the search)."""

    key: str | None
    helper: str | None
    usable: bool


def _normalize_containers_registry(registry: str) -> str:
    return "index.docker.io" if registry in _CONTAINERS_DOCKER_HUB else registry


def _normalize_auth_file_key(key: str) -> str:
    stripped = key.removeprefix("http://").removeprefix("https://")
    if stripped != key:
        stripped = stripped.split("/", 1)[0]
    return _normalize_containers_registry(stripped)


def _yields_credentials(entry: Any) -> bool:
    if not isinstance(entry, Mapping):
        return False
    auth = entry.get("auth")
    if not isinstance(auth, str) or not auth:
        return False
    try:
        return b":" in base64.b64decode(auth, validate=True)
    except (binascii.Error, ValueError):
        return False


def containers_image_lookup(document: Mapping[str, Any], image: str) -> ContainersImageLookup:
    """containers/image's ``findCredentialsInFile`` for ``image``: ``credHelpers[registry]``; else the exact keys
    ``reg/ns/sub/repo``, ``reg/ns/sub``, ``reg/ns``, ``reg``; else any key that normalises to the registry
    (scheme stripped, then cut at the first ``/``; Docker Hub names mapped to ``index.docker.io``)."""
    from ansible_collections.openshift_ops.images.plugins.module_utils._images.reference import normalize_image  # noqa: PLC0415

    normalized = normalize_image(image)
    registry, key = normalized.registry, normalized.name
    helpers = document.get("credHelpers")
    if isinstance(helpers, Mapping) and registry in helpers:
        return ContainersImageLookup(key=None, helper=str(helpers[registry]), usable=True)
    auths = _auths(document)
    candidate = key
    while True:
        if candidate in auths:
            return ContainersImageLookup(key=candidate, helper=None, usable=_yields_credentials(auths[candidate]))
        if "/" not in candidate:
            break
        candidate = candidate.rsplit("/", 1)[0]
    wanted = _normalize_containers_registry(registry)
    for existing in auths:
        if _normalize_auth_file_key(existing) == wanted:
            return ContainersImageLookup(key=existing, helper=None, usable=_yields_credentials(auths[existing]))
    return ContainersImageLookup(key=None, helper=None, usable=False)


def containers_image_credential_for(document: Mapping[str, Any], image: str) -> str | None:
    """The ``auths`` key containers/image uses for ``image``; None when none matches or a ``credHelpers`` entry for
    the registry takes precedence (see :func:`containers_image_lookup` for that detail)."""
    return containers_image_lookup(document, image).key


# --- keys the two read differently ------------------------------------------------------------------------------------
def _key_warnings(key: str) -> list[str]:
    scheme, host, path = split_registry_key(key)
    index = kubelet_key(key)
    kubelet_path = (index or "").partition("/")[2]
    warnings = []
    bare_name = _split_host_port(host)[0]
    if bare_name.startswith("[") and bare_name.endswith("]"):
        bare_name = ""  # an IPv6 literal, not a glob class
    if _GLOB_CHARS & set(bare_name):
        warnings.append(
            f'key "{key}" has a wildcard host: only the kubelet expands it; containers/image (CRI-O, podman) never '
            "uses it"
        )
    if host != host.lower():
        warnings.append(
            f'key "{key}" has upper-case letters in its host: the kubelet and containers/image compare hosts '
            f'case-sensitively, so write "{host.lower()}"'
        )
    bare_host = host.lower()
    if scheme and kubelet_path:
        warnings.append(
            f'key "{key}" has a scheme and a path: the kubelet scopes it to {host}/{kubelet_path}, containers/image '
            f'uses it for all of {host}; write "{host}/{kubelet_path}" (scoped) or "{host}" (whole registry)'
        )
    elif not scheme and path:
        if path.startswith(("/v1/", "/v2/")) or path in ("/v1", "/v2"):
            warnings.append(
                f'key "{key}": the kubelet drops the API path and uses it for all of {host}, containers/image never '
                f'uses it; write "{host}"'
            )
        elif path.endswith("/"):
            warnings.append(
                f'key "{key}" ends with "/": containers/image matches path keys exactly and never uses it; write '
                f'"{key.rstrip("/")}"'
            )
        elif bare_host == "index.docker.io":
            warnings.append(
                f'key "{key}" is never used by the kubelet nor by containers/image for Docker Hub images; write '
                f'"docker.io{path}"'
            )
        else:
            warnings.append(
                f'key "{key}" is path-scoped: the kubelet matches the path as a string prefix, so it also applies to '
                f"{key}-other/... and {key}2/..., while containers/image applies it only to {key}/... (whole path "
                "components)"
            )
    if bare_host == "registry-1.docker.io":
        warnings.append(
            f'key "{key}": the kubelet never uses registry-1.docker.io for Docker Hub images; write "docker.io"'
        )
    return warnings


def key_reading_warnings(keys: Iterable[str]) -> list[str]:
    """Warnings for keys the kubelet and containers/image read differently (§7): wildcard hosts, a scheme with a
    path, path prefixes that also match sibling paths in the kubelet, Docker Hub spellings one of them ignores, and
    several spellings of one registry (the kubelet then tries them in no fixed order)."""
    keys = list(keys)
    warnings = [warning for key in keys for warning in _key_warnings(key)]
    seen: dict[str, str] = {}
    for key in keys:
        identity = normalize_registry_key(key)
        if identity in seen:
            warnings.append(
                f'keys "{seen[identity]}" and "{key}" name the same registry: the kubelet tries both in no fixed '
                "order and containers/image prefers the one matching the image exactly; keep one"
            )
        else:
            seen[identity] = key
    return warnings
