# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The credential flow ``pull_secret`` and ``global_pull_secret`` share: the entries the options give (hidden at
once), the keys that may not be both given and removed, and the check of the credentials with the registries.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import InvalidInputError, RegistryCheckError
from ansible_collections.openshift_ops.images.plugins.module_utils._registry.check import UNCHECKED
from ansible_collections.openshift_ops.images.plugins.module_utils._registry.credential_options import (
    collect_registry_entries,
)
from ansible_collections.openshift_ops.images.plugins.module_utils._registry.redaction import document_secret_values
from ansible_collections.openshift_ops.images.plugins.module_utils._registry.registry_keys import (
    registry_keys_equivalent,
)


def conflicting_removals(entries: Iterable[str], remove_registries: Iterable[str]) -> list[str]:
    """Registry keys that are both given with credentials and asked to be removed (spellings compared like the
    kubelet and containers/image do)."""
    given = list(entries)
    return [key for key in remove_registries if any(registry_keys_equivalent(key, other) for other in given)]


def given_entries(
    credential_params: Mapping[str, Any],
    *,
    remove: Iterable[str],
    read_text: Callable[[str], str],
    hide: Callable[[Iterable[str]], None],
) -> dict[str, dict[str, Any]]:
    """The entries of ``registries`` / ``auth_file`` / ``auth_content``, every secret in them hidden before anything
    else happens; refused when a key is also to be removed."""
    entries: dict[str, dict[str, Any]] = {}
    if any(credential_params.get(option) for option in ("registries", "auth_file", "auth_content")):
        entries = collect_registry_entries(credential_params, read_text=read_text)
        hide(document_secret_values({"auths": entries}))
    clashes = conflicting_removals(entries, remove)
    if clashes:
        raise InvalidInputError(
            f"registry {', '.join(clashes)} is both given with credentials and listed in remove_registries; keep one"
        )
    return entries


def registry_check_failure(results: Iterable[Any]) -> str | None:
    """One line per credential that was refused or could not be checked because of the registry (unreachable, not
    a v2 answer), or None. Entries that hold nothing checkable (``unchecked``) are left to
    :func:`registry_check_warnings`."""
    failed = [result for result in results if not result.ok and result.outcome != UNCHECKED]
    if not failed:
        return None
    lines = "\n".join(f"- {result.key}: {result.detail}" for result in failed)
    return f"validate_credentials: {len(failed)} credential(s) refused or not verifiable; nothing was written:\n{lines}"


def registry_check_warnings(results: Iterable[Any]) -> list[str]:
    """Entries that were not checked (wildcard keys, token-only entries) and why."""
    return [f"validate_credentials: {result.key}: {result.detail}" for result in results if result.outcome == UNCHECKED]


def check_credentials(
    entries: Mapping[str, Mapping[str, Any]],
    *,
    check: Callable[..., list[Any]],
    ca_file: str | None,
    validate_certs: bool,
) -> tuple[list[dict[str, Any]], list[str]]:
    """Check every entry with its registry before anything is written: (the ``credential_checks`` result, the
    warnings). A refused or unverifiable credential raises RegistryCheckError listing each."""
    results = check(entries, ca_file=ca_file, validate_certs=validate_certs)
    failure = registry_check_failure(results)
    if failure:
        raise RegistryCheckError(failure)
    checks = [
        {"registry": result.key, "ok": result.ok, "outcome": result.outcome, "detail": result.detail}
        for result in results
    ]
    return checks, registry_check_warnings(results)
