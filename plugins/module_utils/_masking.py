# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which secrets can change a result when ``remove_values`` masks it.

``remove_values`` (what ``exit_json`` applies) replaces, in every string of a result, every no_log value: it
costs (strings in the result) x (no_log values). A global pull secret of 2,000 registries registers about 6,000
secrets (each ``auth``, its decoded form, each password) and returns some 4,000 strings: 24 million replacements,
over a second. Only the secrets that occur in the result can change it, so masking with those alone gives the
same output:

- a string none of them occurs in stays as it is, so no later replacement can match either;
- where one does occur, a later match either was in the original string already (so that secret is kept), or
  overlaps the ``********`` a replacement put in, and every secret containing ``*`` is kept.

The secrets kept are returned in the order given, so that ``remove_values``' longest-first sort breaks ties the
same way. ``masked`` goes one step further for a whole result: only its entries where one of them occurs are masked.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from ansible.module_utils.common.parameters import remove_values


def _texts(data: Any) -> Iterator[str]:
    """Every string ``remove_values`` looks at: strings, bytes, and numbers as text (dict keys too: harmless);
    booleans and ``None`` too, which ansible-core before 2.19 masks as text (a secret ``a`` masks ``False``)."""
    pending = [data]
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            yield value
        elif isinstance(value, bytes):
            yield value.decode("utf-8", "surrogateescape")
        elif isinstance(value, int | float) or value is None:
            yield str(value)
        elif isinstance(value, Mapping):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list | tuple | set | frozenset):
            pending.extend(value)
        else:
            yield str(value)


def secrets_in(data: Any, secrets: Iterable[Any]) -> list[Any]:
    """The secrets, in the order given, that masking ``data`` could need: those occurring in one of its strings,
    those containing ``*``, and any that is empty or not a string."""
    ordered = list(secrets)
    found: set[Any] = set()
    by_length: dict[int, set[str]] = {}
    for secret in ordered:
        if not isinstance(secret, str) or "*" in secret or not secret:
            found.add(secret)
        else:
            by_length.setdefault(len(secret), set()).add(secret)
    lengths = sorted(by_length)
    # each piece of each string, of each length a secret has, looked up in a set: (total length) x (distinct
    # secret lengths) lookups instead of (strings) x (secrets) replacements
    for text in _texts(data):
        for length in lengths:
            if length > len(text):
                break
            wanted = by_length[length]
            found.update(
                piece for start in range(len(text) - length + 1) if (piece := text[start : start + length]) in wanted
            )
    return [secret for secret in ordered if secret in found]


def masked(result: Mapping[str, Any], secrets: Iterable[Any]) -> dict[str, Any]:
    """``remove_values(result, secrets)`` as JSON carries it, at the cost of the entries a secret can change.

    An entry none of the secrets found occurs in is kept as it is, where ``remove_values`` would copy it unchanged
    (lists for tuples: the same JSON); a result of 500 image stream tags is not walked again because the task's token
    is in ``invocation``. The other entries are masked with the secrets found, as the whole result would be."""
    found = secrets_in(result, secrets)
    if not found:
        return dict(result)
    return {key: remove_values(value, found) if secrets_in(value, found) else value for key, value in result.items()}
