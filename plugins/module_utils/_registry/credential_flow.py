# Copyright: openshift_ops.images contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The check of given credentials with their registries that ``pull_secret`` and ``global_pull_secret`` share, and
how its answers become a failure, the ``credential_checks`` result and warnings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ansible_collections.openshift_ops.images.plugins.module_utils._errors import RegistryCheckError
from ansible_collections.openshift_ops.images.plugins.module_utils._registry.check import UNCHECKED
from ansible_collections.openshift_ops.images.plugins.module_utils._registry.credential_options import RegistryTls


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
    tls: RegistryTls,
) -> tuple[list[dict[str, Any]], list[str]]:
    """Check every entry with its registry before anything is written: (the ``credential_checks`` result, the
    warnings). A refused or unverifiable credential raises RegistryCheckError listing each."""
    results = check(entries, ca_data=tls.ca_data, validate_certs=tls.validate_certs)
    failure = registry_check_failure(results)
    if failure:
        raise RegistryCheckError(failure)
    checks = [
        {"registry": result.key, "ok": result.ok, "outcome": result.outcome, "detail": result.detail}
        for result in results
    ]
    return checks, registry_check_warnings(results)
