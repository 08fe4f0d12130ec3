# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The block-YAML subset that kubectl and oc write kubeconfigs in, read without the yaml package (whose import costs
a module run more than the rest of the connection layer). Anything outside the subset gives ``None``: then the
caller loads the text with PyYAML, so the result is always what ``yaml.safe_load`` would return.
"""

from __future__ import annotations

import re
from typing import Any

# A plain scalar PyYAML would not load as a string (YAML 1.1 implicit types: bool, int, float, null, timestamp,
# merge, value); the patterns are those of PyYAML's resolver, which only apply by the scalar's first character. The
# words are a set; the numbers and timestamps all start with a sign, a digit or a dot, and their pattern is compiled
# (and kept by re) only when a scalar does: a kubeconfig seldom has one, and compiling it costs a module run 2 ms.
_NOT_A_STRING_WORDS = frozenset(
    {
        *("yes", "Yes", "YES", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF"),
        *("true", "True", "TRUE", "false", "False", "FALSE", "~", "null", "Null", "NULL", "<<", "="),
    }
)
_NUMBER_STARTS = frozenset("-+.0123456789")
_NUMBER_OR_TIMESTAMP = r"""(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+
    |[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+
    |[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?
    |[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)
    |[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]
    |[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[\ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?
     (?:[\ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)"""
_CONTROL = re.compile(r"[\x00-\x09\x0b\x0c\x0e-\x1f\x7f]")  # tabs included: indentation by spaces only
_KEY_LINE = re.compile(r"([A-Za-z_][A-Za-z0-9_./-]*):(?: +(.*))?")
_CONSTANTS: dict[str, Any] = {
    **dict.fromkeys(("true", "True", "TRUE"), True),
    **dict.fromkeys(("false", "False", "FALSE"), False),
    **dict.fromkeys(("null", "Null", "NULL", "~"), None),
    "{}": {},
    "[]": [],
}


class _Unsupported(Exception):
    """The text leaves the subset; PyYAML decides."""


def read_block_yaml(text: str) -> dict[str, Any] | None:
    """The mapping ``text`` holds, or ``None`` when it is not in the subset (or not a mapping at the top)."""
    if not text.isascii() or _CONTROL.search(text):
        return None
    lines: list[list[Any]] = []  # [indent, content]
    for raw in text.splitlines():
        line = raw.rstrip(" ")
        content = line.lstrip(" ")
        if not content or content.startswith("#"):
            continue
        if not lines and line == "---":
            continue
        if " #" in line:
            return None
        lines.append([len(line) - len(content), content])
    if not lines or lines[0][0] != 0:
        return None
    try:
        document, end = _mapping(lines, 0, 0)
    except _Unsupported:
        return None
    return document if end == len(lines) else None


def _block(lines: list[list[Any]], index: int, indent: int) -> tuple[Any, int]:
    content: str = lines[index][1]
    if content == "-" or content.startswith("- "):
        return _sequence(lines, index, indent)
    return _mapping(lines, index, indent)


def _mapping(lines: list[list[Any]], index: int, indent: int) -> tuple[dict[str, Any], int]:
    result: dict[str, Any] = {}
    while index < len(lines):
        at, content = lines[index]
        if at < indent:
            break
        matched = _KEY_LINE.fullmatch(content) if at == indent else None
        if matched is None:
            raise _Unsupported
        key, rest = matched.group(1), matched.group(2)
        if key in result or _not_a_string(key):
            raise _Unsupported
        index += 1
        if rest is not None:
            result[key] = _scalar(rest)
        elif index < len(lines) and (
            lines[index][0] > indent or (lines[index][0] == indent and lines[index][1][:2] in ("- ", "-"))
        ):
            result[key], index = _block(lines, index, lines[index][0])
        else:
            result[key] = None
    return result, index


def _sequence(lines: list[list[Any]], index: int, indent: int) -> tuple[list[Any], int]:
    items: list[Any] = []
    while index < len(lines):
        at, content = lines[index]
        if at < indent or (at == indent and not content.startswith("- ")):
            break
        if at > indent:
            raise _Unsupported
        rest = content[2:].lstrip(" ")
        if rest == "-" or rest.startswith("- "):
            raise _Unsupported
        if _KEY_LINE.fullmatch(rest):
            lines[index] = [indent + len(content) - len(rest), rest]
            item, index = _mapping(lines, index, lines[index][0])
        else:
            item = _scalar(rest)
            index += 1
        items.append(item)
    return items, index


def _scalar(text: str) -> Any:
    if text in _CONSTANTS:
        value = _CONSTANTS[text]
        return value.copy() if isinstance(value, dict | list) else value
    first = text[0]
    if first == '"':
        inner = text[1:-1]
        if len(text) < 2 or text[-1] != '"' or '"' in inner or "\\" in inner:
            raise _Unsupported
        return inner
    if first == "'":
        inner = text[1:-1]
        if len(text) < 2 or text[-1] != "'" or "'" in inner.replace("''", ""):
            raise _Unsupported
        return inner.replace("''", "'")
    # "-x" is a plain scalar ("--login=azurecli"); "-" and "- x" are not.
    if (
        first in "[]{},#&*!|>%@`?:"
        or text == "-"
        or text.startswith("- ")
        or ": " in text
        or text.endswith(":")
        or _not_a_string(text)
    ):
        raise _Unsupported
    return text


def _not_a_string(text: str) -> bool:
    """Whether PyYAML would load this plain scalar as something other than a string."""
    if text in _NOT_A_STRING_WORDS:
        return True
    return text[:1] in _NUMBER_STARTS and re.fullmatch(_NUMBER_OR_TIMESTAMP, text, re.VERBOSE) is not None
