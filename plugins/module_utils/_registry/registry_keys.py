# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Registry keys, the names of an auth document's entries: their grammar (split, validate) and when two spellings
name the same registry as the kubelet and containers/image read them (normalize, equivalent). Pure functions.
"""

from __future__ import annotations

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import InvalidInputError

_SCHEMES = ("https://", "http://")
_DOCKER_HUB_HOSTS = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})
_KEY_FORM = "write only host[:port][/path], such as quay.io or quay.io/namespace"


def split_registry_key(key: str) -> tuple[str, str, str]:
    """``(scheme, host[:port], path)`` of a key; ``scheme`` is ``""``, ``http://`` or ``https://``; ``path`` keeps its
    leading ``/`` (``""`` when there is none)."""
    scheme = next((prefix for prefix in _SCHEMES if key.startswith(prefix)), "")
    rest = key[len(scheme) :]
    host, slash, path = rest.partition("/")
    return scheme, host, f"/{path}" if slash else ""


def validate_registry_key(key: str) -> str:
    """Return ``key`` unchanged if it can name a registry (optionally with a path), else raise.

    Refused: empty keys, whitespace, other schemes, tags (``:`` in the path) and digests (``@``), query strings,
    and upper-case paths (image paths are lower-case, so such a key could never match an image).
    """
    if not isinstance(key, str) or not key:
        raise InvalidInputError("a registry key (server) must be a non-empty string such as quay.io or quay.io/ns")
    if any(char.isspace() or ord(char) < 32 for char in key):
        raise InvalidInputError(
            f"registry key {key!r} contains whitespace or control characters; remove them ({_KEY_FORM})"
        )
    if "://" in key and not key.startswith(_SCHEMES):
        raise InvalidInputError(
            f"registry key {key!r}: only https:// or http:// may prefix a registry key; {_KEY_FORM}"
        )
    _scheme, host, path = split_registry_key(key)
    if not host:
        raise InvalidInputError(f"registry key {key!r} has no registry host; {_KEY_FORM}")
    if "@" in key:
        raise InvalidInputError(
            f"registry key {key!r} contains '@': a key names a registry or a repository path, not a digest "
            f"(or user@host); {_KEY_FORM}"
        )
    if "?" in key or "#" in key:
        raise InvalidInputError(f"registry key {key!r} contains '?' or '#'; {_KEY_FORM}")
    if ":" in path:
        raise InvalidInputError(
            f"registry key {key!r} has ':' in its path: a key names a registry or a repository path, not a tag; "
            f"drop the tag: {key.rpartition(':')[0]}"
        )
    if path.lower() != path:
        raise InvalidInputError(
            f"registry key {key!r} has upper-case letters in its path; image repository paths are lower-case, so "
            f"this key would never match an image: write it as {key[: len(key) - len(path)]}{path.lower()}"
        )
    if "//" in path:
        raise InvalidInputError(f"registry key {key!r} has an empty path component ('//'); {_KEY_FORM}")
    return key


def normalize_registry_key(key: str) -> str:
    """The identity of a key as the kubelet and containers/image see it (§3.4, §7): scheme stripped, a leading
    ``/v1/`` or ``/v2/`` stripped, trailing ``/`` dropped, host lower-cased, Docker Hub's three names as
    ``docker.io``; any other path is kept."""
    _scheme, host, path = split_registry_key(key)
    if path.startswith(("/v1/", "/v2/")):
        path = path[3:]
    host = host.lower()
    if host in _DOCKER_HUB_HOSTS:
        host = "docker.io"
    return host + path.rstrip("/")


def registry_keys_equivalent(a: str, b: str) -> bool:
    """True when two key spellings name the same registry (and path): ``https://index.docker.io/v1/`` ==
    ``docker.io``, ``https://quay.io`` == ``quay.io``, but ``quay.io/ns`` != ``quay.io``."""
    return a == b or normalize_registry_key(a) == normalize_registry_key(b)
