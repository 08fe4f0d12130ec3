# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Docker ``config.json`` / podman ``auth.json`` documents (the content of a ``.dockerconfigjson``): parse and
validate, build entries exactly as ``kubectl create secret docker-registry`` does, merge, remove, compare, summarise.

Pure functions. Every error names the document's source and the offending key, never a secret value.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import json
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import InvalidInputError

# --- the schema -----------------------------------------------------------------------------------------------------
_STRING = {"type": "string"}
_STRING_MAP = {"type": "object", "additionalProperties": _STRING}

# The only Secret types the kubelet, CRI-O, image stream imports and builds read as pull secrets, and their data
# keys (semantics §3.3); one definition for every module that writes or reads one.
DOCKERCONFIGJSON_TYPE = "kubernetes.io/dockerconfigjson"
DOCKERCONFIGJSON_KEY = ".dockerconfigjson"
DOCKERCFG_TYPE = "kubernetes.io/dockercfg"
DOCKERCFG_KEY = ".dockercfg"
PULL_SECRET_DATA_KEYS = {DOCKERCONFIGJSON_TYPE: DOCKERCONFIGJSON_KEY, DOCKERCFG_TYPE: DOCKERCFG_KEY}
# The API server refuses a Secret whose data (decoded) exceeds 1 MiB (core/v1 MaxSecretSize).
SECRET_DATA_LIMIT = 1024 * 1024


def secret_data_size(secret: Mapping[str, Any]) -> int:
    """The bytes the API server counts against :data:`SECRET_DATA_LIMIT`: every data value, base64-decoded."""
    return sum(len(value) * 3 // 4 - value[-2:].count("=") for value in (secret.get("data") or {}).values())


AUTH_DOCUMENT_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "docker config.json / podman auth.json",
    "description": (
        "Known fields must have these types; every other field is allowed and kept (docker's config.json holds "
        "many more top-level settings, and future entry fields must survive a merge)."
    ),
    "type": "object",
    "properties": {
        "auths": {"type": "object", "additionalProperties": {"$ref": "#/$defs/entry"}},
        "credHelpers": _STRING_MAP,
        "credsStore": _STRING,
        "HttpHeaders": _STRING_MAP,
    },
    "$defs": {
        "entry": {
            "type": "object",
            "properties": {
                "username": _STRING,
                "password": _STRING,
                "email": _STRING,
                "auth": _STRING,
                "identitytoken": _STRING,
                "registrytoken": _STRING,
            },
        }
    },
}

_SECRET_FIELDS = ("password", "auth", "identitytoken", "registrytoken")
_SCHEMES = ("https://", "http://")
_DOCKER_HUB_HOSTS = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})
_JSON_TYPE_NAMES = {dict: "object", list: "array", str: "string", bool: "boolean", int: "integer", float: "number"}


@dataclass(frozen=True, slots=True)
class SchemaViolation:
    """One place where a document breaks :data:`AUTH_DOCUMENT_SCHEMA`: where, which keyword, and what it wants."""

    path: tuple[str | int, ...]
    keyword: str
    expected: Any
    found: str  # the JSON type of the value found (never the value itself)


@dataclass(frozen=True, slots=True)
class EntryChanges:
    """Registry keys added, updated and removed between two documents (exact keys, document order)."""

    added: list[str]
    updated: list[str]
    removed: list[str]

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)


# --- small helpers --------------------------------------------------------------------------------------------------
def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    for kind, name in _JSON_TYPE_NAMES.items():
        if isinstance(value, kind):
            return name
    return type(value).__name__


_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def render_path(path: Iterable[str | int]) -> str:
    """``auths["quay.io"].auth`` style: readable, and unambiguous for keys holding dots or slashes."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif not text and _IDENTIFIER.fullmatch(part):
            text = part
        elif _IDENTIFIER.fullmatch(part):
            text += f".{part}"
        else:
            text += f"[{json.dumps(part, ensure_ascii=False)}]"
    return text or "the document"


def _plain_json(value: Any, path: tuple[str | int, ...], source: str) -> Any:
    """A deep copy of ``value`` made of plain dict/list/str/int/float/bool/None, or an error naming the path."""
    if isinstance(value, Mapping):
        copied: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidInputError(
                    f"{source}: {render_path(path)} has a key of type {type(key).__name__}; JSON object keys are "
                    "strings (quote the key)"
                )
            copied[str(key)] = _plain_json(item, (*path, str(key)), source)
        return copied
    if isinstance(value, list | tuple):
        return [_plain_json(item, (*path, index), source) for index, item in enumerate(value)]
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidInputError(
                f"{source}: {render_path(path)} holds text that cannot be encoded as UTF-8"
            ) from None
        return str(value)
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidInputError(f"{source}: {render_path(path)} is not a finite number; JSON has no NaN/Infinity")
        return float(value)
    raise InvalidInputError(
        f"{source}: {render_path(path)} is a {type(value).__name__}, which JSON cannot hold; use text, numbers, "
        "booleans, lists and mappings"
    )


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _parse_json(content: str | bytes, source: str) -> Any:
    if isinstance(content, bytes | bytearray):
        try:
            text = bytes(content).decode("utf-8")
        except UnicodeDecodeError as error:
            raise InvalidInputError(f"{source} is not UTF-8 text (bad byte at offset {error.start})") from None
    else:
        text = content
    if not text.strip():
        raise InvalidInputError(f'{source} is empty; an auth document is a JSON object such as {{"auths": {{}}}}')
    if text.startswith("\ufeff"):
        raise InvalidInputError(f"{source} starts with a byte order mark; save it as UTF-8 without BOM")
    try:
        return json.loads(text, object_pairs_hook=_reject_duplicates, parse_constant=_reject_constant)
    except _DuplicateKey as error:
        raise InvalidInputError(
            f'{source}: the key "{error.key}" appears twice in one JSON object; readers would silently keep only '
            "one of them, so remove the other"
        ) from None
    except json.JSONDecodeError as error:
        # error.msg and the position never contain document text.
        raise InvalidInputError(
            f"{source} is not valid JSON{_looks_like_yaml(text)}: {error.msg} at line {error.lineno} column "
            f"{error.colno}; {_JSON_FIX}"
        ) from None
    except ValueError as error:
        raise InvalidInputError(f"{source} is not valid JSON: {error}; {_JSON_FIX}") from None


_JSON_FIX = (
    "write it as JSON, with keys and strings in double quotes, such as "
    '{"auths": {"registry.example.com": {"auth": "<base64 of user:password>"}}}'
)
_YAML_KEY_LINE = re.compile(r"""^\s*(?:[\w.\-/:]+|"[^"]*"|'[^']*')\s*:(?:\s|$)""", re.MULTILINE)


def _looks_like_yaml(text: str) -> str:
    """A hint when the text reads as YAML (``auths:`` lines) rather than JSON; never any of the text itself."""
    if text.lstrip()[:1] in "{[" or not _YAML_KEY_LINE.search(text):
        return ""
    return " (it looks like YAML; convert it, for example with the to_json filter)"


# --- schema validation: direct checks for the subset of JSON Schema the schema uses -----------------------------------
def _resolve_ref(root: Mapping[str, Any], ref: str) -> Mapping[str, Any]:
    if not ref.startswith("#/"):
        raise ValueError(f"only local $ref values are supported, not {ref!r}")
    node: Any = root
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


_TYPE_CHECKS: dict[str, Callable[[Any], bool]] = {
    "object": lambda value: isinstance(value, dict),
    "array": lambda value: isinstance(value, list),
    "string": lambda value: isinstance(value, str),
    "boolean": lambda value: isinstance(value, bool),
    "null": lambda value: value is None,
    # JSON Schema counts 1.0 as an integer; booleans are never numbers.
    "integer": lambda value: (
        not isinstance(value, bool) and (isinstance(value, int) or (isinstance(value, float) and value.is_integer()))
    ),
    "number": lambda value: not isinstance(value, bool) and isinstance(value, int | float),
}


def _type_matches(value: Any, wanted: str) -> bool:
    if wanted not in _TYPE_CHECKS:
        raise ValueError(f"unknown JSON Schema type {wanted!r}")
    return _TYPE_CHECKS[wanted](value)


def _builtin_violations(
    value: Any, schema: Mapping[str, Any], root: Mapping[str, Any], path: tuple[str | int, ...]
) -> Iterator[SchemaViolation]:
    """Draft 2020-12 semantics for: type, properties, additionalProperties, required, $ref, $defs (annotations
    such as title/description are ignored). Enough for AUTH_DOCUMENT_SCHEMA; anything else is refused loudly."""
    supported = {"$schema", "$id", "$defs", "$ref", "title", "description", "type", "properties"}
    supported |= {"additionalProperties", "required"}
    unknown = set(schema) - supported
    if unknown:
        raise ValueError(f"the built-in validator does not implement {sorted(unknown)}")
    if "$ref" in schema:
        yield from _builtin_violations(value, _resolve_ref(root, schema["$ref"]), root, path)
    if "type" in schema:
        wanted = schema["type"]
        options = wanted if isinstance(wanted, list) else [wanted]
        if not any(_type_matches(value, option) for option in options):
            yield SchemaViolation(path, "type", wanted, _json_type(value))
    if not isinstance(value, dict):
        return
    properties: Mapping[str, Any] = schema.get("properties", {})
    for name in schema.get("required", []):
        if name not in value:
            yield SchemaViolation(path, "required", name, "missing")
    for name, item in value.items():
        if name in properties:
            yield from _builtin_violations(item, properties[name], root, (*path, name))
        elif "additionalProperties" in schema:
            extra = schema["additionalProperties"]
            if extra is False:
                yield SchemaViolation((*path, name), "additionalProperties", False, _json_type(item))
            elif isinstance(extra, Mapping):
                yield from _builtin_violations(item, extra, root, (*path, name))


def schema_violations(document: Any, *, schema: Mapping[str, Any] | None = None) -> list[SchemaViolation]:
    """Every place ``document`` breaks the schema (default :data:`AUTH_DOCUMENT_SCHEMA`), sorted by path.

    Always these direct checks, never jsonschema even where it is installed: the same document gets the same answer
    on every host, and the modules need no third-party package. The unit tests hold them to jsonschema's answers.
    """
    schema = AUTH_DOCUMENT_SCHEMA if schema is None else schema
    found = list(_builtin_violations(document, schema, schema, ()))
    found = [replace(v, expected=tuple(v.expected)) if isinstance(v.expected, list) else v for v in found]
    return sorted(set(found), key=lambda v: ([str(p) for p in v.path], v.keyword, str(v.expected)))


def _violation_message(violation: SchemaViolation) -> str:
    where = render_path(violation.path)
    if violation.keyword == "type":
        wanted = violation.expected if isinstance(violation.expected, str) else " or ".join(violation.expected)
        article = "an" if wanted[0] in "aeiou" else "a"
        return f"{where} must be {article} {wanted}, not {violation.found}"
    if violation.keyword == "required":
        return f'{where} must have the field "{violation.expected}"'
    return f"{where} breaks the schema rule {violation.keyword}"


# --- auth fields ------------------------------------------------------------------------------------------------------
def _auth_problem(auth: str) -> str | None:
    """Why ``auth`` is not standard padded base64 of ``user:password``, or None. Never mentions the value."""
    if any(char.isspace() for char in auth):
        return "holds whitespace or line breaks (encode with `base64 -w0`)"
    try:
        decoded = base64.b64decode(auth, validate=True)
    except (binascii.Error, ValueError):
        return "is not standard base64 with padding"
    if b":" not in decoded:
        return 'does not decode to "user:password" (no colon)'
    return None


def decode_auth(auth: str, *, where: str = "auth") -> tuple[str, str]:
    """``(username, password)`` from an ``auth`` value, split at the first colon as the kubelet does.

    Bytes that are not UTF-8 are replaced (U+FFFD) in the returned text; the check itself works on bytes.
    """
    problem = _auth_problem(auth)
    if problem:
        raise InvalidInputError(
            f'{where} {problem}; it must be base64 of "user:password" or the kubelet fails every pull that uses '
            'this pull secret ("unable to parse auth field")'
        )
    user, _colon, password = base64.b64decode(auth, validate=True).partition(b":")
    return user.decode("utf-8", "replace"), password.decode("utf-8", "replace")


def entry_basic_credentials(entry: Mapping[str, Any]) -> tuple[str, str] | None:
    """The username and password the kubelet takes from an entry (``auth`` wins over the fields), or None."""
    auth = entry.get("auth")
    if isinstance(auth, str) and auth:
        if _auth_problem(auth):
            return None
        return decode_auth(auth)
    username, password = entry.get("username"), entry.get("password")
    if isinstance(username, str) and isinstance(password, str) and (username or password):
        return username, password
    return None


def entry_from_credentials(*, username: str, password: str, email: str | None = None) -> dict[str, str]:
    """The entry ``kubectl create secret docker-registry`` writes: username, password, email (when not empty), auth."""
    if not username:
        raise InvalidInputError("a registry username is required (or give auth instead of username and password)")
    if not password:
        raise InvalidInputError(
            f"the password for registry user {username!r} is empty; set the password (or token) of that user"
        )
    if ":" in username:
        raise InvalidInputError(
            f"registry username {username!r} contains ':'; the kubelet and containers/image split the credential at "
            "the first ':' so this user could never log in: use a user name without ':' (a robot account or token "
            "user of the registry)"
        )
    try:
        raw = f"{username}:{password}".encode()
    except UnicodeEncodeError:
        raise InvalidInputError(f"the credentials for registry user {username!r} are not valid UTF-8 text") from None
    entry = {"username": username, "password": password}
    if email:
        entry["email"] = email
    entry["auth"] = base64.b64encode(raw).decode("ascii")
    return entry


def entry_from_auth(auth: str, *, email: str | None = None) -> dict[str, str]:
    """A podman-style entry from a ready ``auth`` value (checked to be base64 of ``user:password``)."""
    decode_auth(auth)
    entry = {"email": email} if email else {}
    entry["auth"] = auth
    return entry


# --- registry keys ----------------------------------------------------------------------------------------------------
def split_registry_key(key: str) -> tuple[str, str, str]:
    """``(scheme, host[:port], path)`` of a key; ``scheme`` is ``""``, ``http://`` or ``https://``; ``path`` keeps its
    leading ``/`` (``""`` when there is none)."""
    scheme = next((prefix for prefix in _SCHEMES if key.startswith(prefix)), "")
    rest = key[len(scheme) :]
    host, slash, path = rest.partition("/")
    return scheme, host, f"/{path}" if slash else ""


_KEY_FORM = "write only host[:port][/path], such as quay.io or quay.io/namespace"


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


# --- loading --------------------------------------------------------------------------------------------------------
def _looks_like_legacy_dockercfg(document: Mapping[str, Any]) -> bool:
    if "auths" in document or not document:
        return False
    values = list(document.values())
    return all(isinstance(value, dict) for value in values) and any(
        "auth" in value or "username" in value for value in values
    )


def load_auth_document(
    content: str | bytes | Mapping[str, Any], *, source: str, check_auth: bool = True
) -> dict[str, Any]:
    """Parse JSON text or copy a mapping, and validate it as a docker config.json / podman auth.json.

    Checks: a JSON object without duplicate keys; known fields of the right type (:data:`AUTH_DOCUMENT_SCHEMA`);
    not the legacy ``.dockercfg`` layout; and, unless ``check_auth`` is False, every non-empty ``auth`` is standard
    base64 of ``user:password`` (a bad one breaks every pull through the kubelet). Unknown fields are kept.
    Errors name ``source`` (e.g. ``auth_file /x/auth.json``, ``the secret ns/name``) and the key, never a value.
    """
    if isinstance(content, Mapping):
        document: Any = _plain_json(content, (), source)
    elif isinstance(content, str | bytes | bytearray):
        document = _parse_json(content, source)
    else:
        raise InvalidInputError(f"{source} must be JSON text or a mapping, not {type(content).__name__}")
    if not isinstance(document, dict):
        raise InvalidInputError(
            f'{source} must hold a JSON object such as {{"auths": {{...}}}}, not {_json_type(document)}'
        )
    violations = schema_violations(document)
    if violations:
        details = "; ".join(_violation_message(violation) for violation in violations[:5])
        more = f" (and {len(violations) - 5} more)" if len(violations) > 5 else ""
        raise InvalidInputError(
            f"{source} is not a valid auth document: {details}{more}; a docker config.json or podman auth.json "
            'has the layout: {"auths": {"<registry>": {"auth": "<base64 of user:password>"}}}'
        )
    if _looks_like_legacy_dockercfg(document):
        raise InvalidInputError(
            f"{source} looks like the legacy .dockercfg layout (registries at the top level); a config.json or "
            f'auth.json keeps them under "auths": wrap it as {{"auths": <this content>}}'
        )
    if check_auth:
        for key, entry in document.get("auths", {}).items():
            auth = entry.get("auth")
            if auth:
                problem = _auth_problem(auth)
                if problem:
                    raise InvalidInputError(
                        f"{source}: {render_path(('auths', key, 'auth'))} {problem}; it must be base64 of "
                        '"user:password" or the kubelet fails every pull that uses this pull secret ("unable to parse '
                        'auth field")'
                    )
    return document


# --- changing documents -----------------------------------------------------------------------------------------------
def _auths_of(document: Mapping[str, Any]) -> dict[str, Any]:
    auths = document.get("auths")
    if auths is None:
        return {}
    if not isinstance(auths, Mapping):
        raise InvalidInputError(f"the auth document's auths field must be an object, not {_json_type(auths)}")
    return dict(auths)


def merge_entries(document: Mapping[str, Any], entries: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """A new document with ``entries`` set. Every other entry, field and top-level key is kept untouched and in
    place; an entry whose key is an equivalent spelling of an existing key takes that key's place (the existing
    spelling is replaced, and further equivalent spellings are dropped so the two readers cannot disagree);
    new keys go at the end. ``auths`` is added at the end when missing."""
    result = copy.deepcopy(dict(document))
    # Slots in document order, indexed by normalised key: linear in the size of the document, not quadratic.
    slots: list[tuple[str, Any] | None] = list(_auths_of(result).items())
    by_key: dict[str, list[int]] = {}
    for index, slot in enumerate(slots):
        by_key.setdefault(normalize_registry_key(slot[0]) if slot else "", []).append(index)
    for key, entry in entries.items():
        normalized = normalize_registry_key(key)
        same = by_key.get(normalized)
        if not same:
            by_key[normalized] = [len(slots)]
            slots.append((key, copy.deepcopy(dict(entry))))
            continue
        first, *others = same
        slots[first] = (key, copy.deepcopy(dict(entry)))
        for index in others:
            slots[index] = None
        by_key[normalized] = [first]
    result["auths"] = dict(slot for slot in slots if slot is not None)
    return result


def remove_entries(document: Mapping[str, Any], keys: Iterable[str]) -> tuple[dict[str, Any], list[str]]:
    """A new document without the entries under ``keys`` or any equivalent spelling, and the keys removed (in
    document order). ``auths`` stays, even when empty; a document without ``auths`` is returned as it is."""
    result = copy.deepcopy(dict(document))
    if "auths" not in result:
        return result, []
    wanted = list(keys)
    auths = _auths_of(result)
    removed = [key for key in auths if any(registry_keys_equivalent(key, other) for other in wanted)]
    result["auths"] = {key: value for key, value in auths.items() if key not in removed}
    return result, removed


# --- serialising and comparing ----------------------------------------------------------------------------------------
# Go's encoding/json escapes these even in compact output; kubectl writes the bytes Go produces.
_GO_ESCAPES = str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"})


def dump_document(document: Mapping[str, Any]) -> str:
    """Compact JSON with insertion order kept and Go's escaping: for a new document these are exactly the bytes of
    ``kubectl create secret docker-registry`` (and what the MCO's ``json.Compact`` leaves unchanged)."""
    try:
        text = json.dumps(document, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as error:
        raise InvalidInputError(f"the auth document cannot be written as JSON: {error}") from None
    # The escaped characters cannot appear outside strings in JSON, so translating the whole text is safe.
    return text.translate(_GO_ESCAPES)


def documents_equal(a: Any, b: Any) -> bool:
    """JSON-level equality: whitespace and key order are ignored, but ``1`` and ``true`` or ``1.0`` differ."""
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(documents_equal(a[key], b[key]) for key in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(documents_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, Mapping | list | tuple) or isinstance(b, Mapping | list | tuple):
        return False
    return type(a) is type(b) and a == b  # the exact JSON type matters: 1, 1.0 and true differ


def diff_entries(before: Mapping[str, Any], after: Mapping[str, Any]) -> EntryChanges:
    """Registry keys added, updated (any field differs) and removed from ``before`` to ``after``."""
    old, new = _auths_of(before), _auths_of(after)
    return EntryChanges(
        added=[key for key in new if key not in old],
        updated=[key for key in new if key in old and not documents_equal(old[key], new[key])],
        removed=[key for key in old if key not in new],
    )


# --- redaction ------------------------------------------------------------------------------------------------------
_FINGERPRINT_SALT = b"openshift_ops.images registry credential fingerprint v1"
# Slow on purpose: a fingerprint in a log must not make guessing a weak password cheap.
_FINGERPRINT_ROUNDS = 20_000


@lru_cache(maxsize=512)
def _fingerprint(material: str) -> str:
    digest = hashlib.pbkdf2_hmac(
        "sha256", material.encode("utf-8", "surrogatepass"), _FINGERPRINT_SALT, _FINGERPRINT_ROUNDS
    )
    return digest.hex()[:12]


def credential_fingerprint(entry: Mapping[str, Any]) -> str:
    """12 hex digits identifying the credential an entry holds (PBKDF2-HMAC-SHA256 of username, password and
    tokens): equal for the same credential written as docker ``username``/``password``/``auth`` or podman ``auth``."""
    basic: tuple[str | None, str | None] | None = entry_basic_credentials(entry)
    if basic is None:
        auth = entry.get("auth")
        # An auth the kubelet cannot read still identifies what is stored.
        basic = ("<undecodable auth>", auth) if isinstance(auth, str) and auth else (None, None)
    tokens = [
        entry.get(name) if isinstance(entry.get(name), str) else None for name in ("identitytoken", "registrytoken")
    ]
    return _fingerprint(json.dumps([*basic, *tokens], ensure_ascii=False))


def entry_username(entry: Any) -> str | None:
    """The user name of an entry: from ``auth`` when it has one, else from its ``username`` field."""
    if not isinstance(entry, Mapping):
        return None
    basic = entry_basic_credentials(entry)
    if basic:
        return basic[0]
    username = entry.get("username")
    return username if isinstance(username, str) else None


def registry_usernames(document: Mapping[str, Any]) -> dict[str, str | None]:
    """``{key: username}`` for every entry, in order; no fingerprint (each costs a slow key derivation, and a
    global pull secret can hold thousands of entries)."""
    return {key: entry_username(entry) for key, entry in _auths_of(document).items()}


def summarize_document(document: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """``{key: {"username", "email", "fingerprint"}}`` for every entry: safe for diff and return values (never a
    password, ``auth`` or token). ``username`` comes from ``auth`` when the entry has one, else from its field."""
    summary: dict[str, dict[str, Any]] = {}
    for key, entry in _auths_of(document).items():
        if not isinstance(entry, Mapping):
            summary[key] = {"username": None, "email": None, "fingerprint": None}
            continue
        email = entry.get("email") if isinstance(entry.get("email"), str) else None
        summary[key] = {
            "username": entry_username(entry),
            "email": email,
            "fingerprint": credential_fingerprint(entry),
        }
    return summary


def document_secret_values(document: Mapping[str, Any]) -> set[str]:
    """Every secret string in the document (passwords, ``auth``, tokens and the decoded forms of ``auth``), to add
    to ``module.no_log_values`` before anything can print them."""
    values: set[str] = set()
    auths = document.get("auths")
    if not isinstance(auths, Mapping):
        return values
    for entry in auths.values():
        if not isinstance(entry, Mapping):
            continue
        for name in _SECRET_FIELDS:
            value = entry.get(name)
            if isinstance(value, str) and value:
                values.add(value)
        auth = entry.get("auth")
        if isinstance(auth, str) and auth:
            try:
                decoded = base64.b64decode(auth + "=" * (-len(auth) % 4)).decode("utf-8")
            except (binascii.Error, ValueError):
                continue
            if decoded:
                values.add(decoded)
            password = decoded.partition(":")[2]
            if password:
                values.add(password)
    return values


def document_warnings(document: Mapping[str, Any]) -> list[str]:
    """Things in a valid document that the kubelet or containers/image (CRI-O, podman) will not use as it seems."""
    warnings: list[str] = []
    helpers = [name for name in ("credsStore", "credHelpers") if name in document]
    if helpers:
        warnings.append(
            f"the document sets {' and '.join(helpers)}: the kubelet ignores credential helpers (and containers/image "
            "ignores credsStore), so registries whose credentials live in a helper get none from this pull secret"
        )
    for key, entry in _auths_of(document).items():
        if not isinstance(entry, Mapping):
            continue
        auth = entry.get("auth")
        has_basic = bool(entry.get("username") or entry.get("password"))
        if auth:
            continue
        if has_basic:
            warnings.append(
                f'entry "{key}" has username/password but no auth: containers/image (CRI-O, podman) reads only auth, '
                "so it sees no credentials there"
            )
        elif entry.get("identitytoken") or entry.get("registrytoken"):
            warnings.append(
                f'entry "{key}" holds only a token: the kubelet ignores identitytoken and registrytoken in pull secrets'
            )
        else:
            warnings.append(
                f'entry "{key}" holds no credentials (a docker credential-helper placeholder?): it gives no access, '
                "and containers/image stops at it instead of trying less specific keys"
            )
    return warnings
