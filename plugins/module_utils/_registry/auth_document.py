# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Docker ``config.json`` / podman ``auth.json`` documents (the content of a ``.dockerconfigjson``): load and check
them, merge, remove and compare entries, write them as kubectl does, and say what readers will not use as it seems.

Pure functions. Every error names the document's source and the offending key, never a secret value.
"""

from __future__ import annotations

import copy
import json
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, NamedTuple

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import InvalidInputError
from ansible_collections.openshift_ops.images.plugins.module_utils._registry.auth_entries import decode_auth
from ansible_collections.openshift_ops.images.plugins.module_utils._registry.registry_keys import (
    normalize_registry_key,
    registry_keys_equivalent,
)

_JSON_TYPE_NAMES = {dict: "object", list: "array", str: "string", bool: "boolean", int: "integer", float: "number"}
# The fields docker, podman and the kubelet read, and their types; every other field is allowed and kept (docker's
# config.json holds many more top-level settings, and future entry fields must survive a merge).
_ENTRY_STRING_FIELDS = ("username", "password", "email", "auth", "identitytoken", "registrytoken")
_STRING_MAP_FIELDS = ("credHelpers", "HttpHeaders")


class EntryChanges(NamedTuple):
    """Registry keys added, updated and removed between two documents (exact keys, document order)."""

    added: list[str]
    updated: list[str]
    removed: list[str]

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)


# --- reading JSON -----------------------------------------------------------------------------------------------------
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


# --- field types ------------------------------------------------------------------------------------------------------
def _wrong_types(document: Mapping[str, Any]) -> Iterator[tuple[tuple[str, ...], str, Any]]:
    """``(path, type wanted, value found)`` for every known field of the wrong type; a field whose container has the
    wrong type is not looked into."""
    auths = document.get("auths", {})
    if not isinstance(auths, dict):
        yield ("auths",), "object", auths
    else:
        for key, entry in auths.items():
            yield from _wrong_entry_types(key, entry)
    for name in _STRING_MAP_FIELDS:
        mapping = document.get(name, {})
        if not isinstance(mapping, dict):
            yield (name,), "object", mapping
            continue
        yield from (((name, key), "string", value) for key, value in mapping.items() if not isinstance(value, str))
    if not isinstance(document.get("credsStore", ""), str):
        yield ("credsStore",), "string", document["credsStore"]


def _wrong_entry_types(key: str, entry: Any) -> Iterator[tuple[tuple[str, ...], str, Any]]:
    if not isinstance(entry, dict):
        yield ("auths", key), "object", entry
        return
    for name in _ENTRY_STRING_FIELDS:
        if name in entry and not isinstance(entry[name], str):
            yield ("auths", key, name), "string", entry[name]


def _type_problems(document: Mapping[str, Any]) -> list[str]:
    """One line per known field of the wrong type, in path order (never the value, only its JSON type)."""
    return [
        f"{render_path(path)} must be {'an' if wanted == 'object' else 'a'} {wanted}, not {_json_type(value)}"
        for path, wanted, value in sorted(_wrong_types(document), key=lambda problem: problem[0])
    ]


# --- loading ----------------------------------------------------------------------------------------------------------
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

    Checks: a JSON object without duplicate keys; known fields of the right type (``auths`` an object of entry
    objects whose known fields are strings, ``credHelpers`` and ``HttpHeaders`` objects of strings, ``credsStore`` a
    string); not the legacy ``.dockercfg`` layout; and, unless ``check_auth`` is False, every non-empty ``auth`` is
    standard base64 of ``user:password`` (a bad one breaks every pull through the kubelet). Unknown fields are kept.
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
    problems = _type_problems(document)
    if problems:
        details = "; ".join(problems[:5])
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
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
                decode_auth(auth, where=f"{source}: {render_path(('auths', key, 'auth'))}")
    return document


# --- changing documents -----------------------------------------------------------------------------------------------
def document_entries(document: Mapping[str, Any]) -> dict[str, Any]:
    """The ``auths`` of a document, ``{}`` when it has none."""
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
    slots: list[tuple[str, Any] | None] = list(document_entries(result).items())
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
    auths = document_entries(result)
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
    old, new = document_entries(before), document_entries(after)
    return EntryChanges(
        added=[key for key in new if key not in old],
        updated=[key for key in new if key in old and not documents_equal(old[key], new[key])],
        removed=[key for key in old if key not in new],
    )


def entries_written(
    entries: Mapping[str, Mapping[str, Any]], before: Mapping[str, Any] | None, after: Mapping[str, Any]
) -> dict[str, Mapping[str, Any]]:
    """The given ``entries`` that storing ``after`` in place of ``before`` (None: nothing readable is stored)
    writes: those ``after`` holds under their key while ``before`` holds nothing equal there. An entry already
    stored exactly as it would be written, or one ``after`` does not hold, is not written."""
    old = document_entries(before) if before is not None else {}
    new = document_entries(after)
    return {
        key: entry
        for key, entry in entries.items()
        if key in new and not (key in old and documents_equal(old[key], new[key]))
    }


# --- what readers will not use as it seems ----------------------------------------------------------------------------
def document_warnings(document: Mapping[str, Any]) -> list[str]:
    """Things in a valid document that the kubelet or containers/image (CRI-O, podman) will not use as it seems."""
    warnings: list[str] = []
    helpers = [name for name in ("credsStore", "credHelpers") if name in document]
    if helpers:
        warnings.append(
            f"the document sets {' and '.join(helpers)}: the kubelet ignores credential helpers (and containers/image "
            "ignores credsStore), so registries whose credentials live in a helper get none from this pull secret"
        )
    for key, entry in document_entries(document).items():
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
